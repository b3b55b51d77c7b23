//! The cloud side of an input: NodePools and node classes (Karpenter / EKS Auto Mode) and
//! Fargate profiles, read from the loader's raw documents with errors naming the file, the
//! document, the line and the field; and the DaemonSets' pod templates as pods, the overhead
//! the autoscaler adds to every new node. Shared by `kubesched schedule` and the simulator.

use k8s_openapi::api::apps::v1::DaemonSet;
use kubesched_autoscale::catalog::Catalog;
use kubesched_autoscale::{AutoscaleError, Autoscaler, Documents, Options};
use kubesched_core::framework::Profile;
use kubesched_core::model::Pod;
use kubesched_fargate::{FargateError, FargateProfile, LoggingConfig, is_profile_document, profiles_from_value};
use kubesched_k8s::admission::{AdmissionChain, PriorityClasses};
use kubesched_k8s::controllers::{NameGenerator, controller_owner_ref, daemonset::daemon_pod_tolerations};
use kubesched_k8s::decode::{Decoded, RawDocument};
use kubesched_k8s::tree::FieldPath;
use kubesched_k8s::{ErrorKind, LoadError};
use std::sync::Arc;

/// Kinds the cloud readers take from the raw documents (the aws CLI's Fargate JSON has no kind):
/// no "unsupported kind" warning for them.
pub const CLAIMED_KINDS: &[&str] = &["NodePool", "EC2NodeClass", "NodeClass", "ClusterConfig", "FargateProfile", ""];

/// True for a raw document an autoscaling reader takes.
pub fn is_autoscaling(doc: &RawDocument) -> bool {
    kubesched_autoscale::is_autoscaling_document(&doc.value)
}

/// An autoscaling error at its document's line. Locations are indices into `raw` (as
/// [`read_autoscaling`] hands them to the library); anything else is shown as it is.
pub fn locate(e: &AutoscaleError, raw: &[RawDocument]) -> LoadError {
    match e.location.parse::<usize>().ok().and_then(|i| raw.get(i)) {
        Some(doc) => doc.error(ErrorKind::Invalid, &FieldPath::parse_kube(&e.field), e.message.clone()),
        None => LoadError::file(ErrorKind::Invalid, &e.location, format!("{}: {}", e.field, e.message)),
    }
}

/// Reads every NodePool, EC2NodeClass and Auto Mode NodeClass of `raw` (other documents are
/// skipped). Pools remember their document's index in `raw` as their location, so that later
/// errors (a missing node class) can be located with [`locate`].
pub fn read_autoscaling(raw: &[RawDocument]) -> (Documents, Vec<LoadError>) {
    let labels: Vec<String> = (0..raw.len()).map(|i| i.to_string()).collect();
    let docs = raw.iter().zip(&labels).filter(|(d, _)| is_autoscaling(d)).map(|(d, l)| (l.as_str(), &d.value));
    match kubesched_autoscale::read_documents(docs) {
        Ok(d) => (d, Vec::new()),
        Err(errs) => (Documents::default(), errs.iter().map(|e| locate(e, raw)).collect()),
    }
}

/// Resolves the pools against their classes and the embedded catalog.
pub fn autoscaler(
    docs: &Documents,
    raw: &[RawDocument],
    profile: Profile,
    options: Options,
) -> Result<Autoscaler, Vec<LoadError>> {
    Autoscaler::new(Catalog::embedded(), docs.node_classes.clone(), docs.node_pools.clone(), profile, options)
        .map_err(|errs| errs.iter().map(|e| locate(e, raw)).collect())
}

/// Fargate profiles and the logging configuration they apply.
#[derive(Clone, Debug)]
pub struct FargateSetup {
    pub profiles: Vec<FargateProfile>,
    pub logging: LoggingConfig,
}

impl FargateSetup {
    /// The mutating webhook for an admission chain.
    pub fn webhook(&self) -> Arc<kubesched_fargate::FargateWebhook> {
        Arc::new(kubesched_fargate::FargateWebhook { profiles: self.profiles.clone(), logging: self.logging.clone() })
    }
}

fn locate_fargate(e: &FargateError, doc: &RawDocument) -> LoadError {
    // The field is relative to the document (`fargateProfiles[0].selectors`).
    let path = FieldPath::parse_kube(&e.field);
    doc.error(ErrorKind::Invalid, &path, e.message.clone())
}

/// Fargate profiles (eksctl ClusterConfig, ACK FargateProfile, `aws eks describe-fargate-profile`
/// JSON) and the `aws-observability/aws-logging` ConfigMap, when the input has any profile.
pub fn fargate_setup(decoded: &Decoded) -> (Option<FargateSetup>, Vec<LoadError>) {
    let mut profiles = Vec::new();
    let mut errors = Vec::new();
    for doc in decoded.raw.iter().filter(|d| is_profile_document(&d.value)) {
        match profiles_from_value(&doc.value, &doc.source.to_string()) {
            Ok(mut p) => profiles.append(&mut p),
            Err(e) => errors.push(locate_fargate(&e, doc)),
        }
    }
    if profiles.is_empty() {
        return (None, errors);
    }
    let configmaps: Vec<k8s_openapi::api::core::v1::ConfigMap> = decoded
        .raw
        .iter()
        .filter(|d| d.kind == "ConfigMap")
        .filter_map(|d| serde_json::from_value(d.value.clone()).ok())
        .collect();
    let namespaces: Vec<k8s_openapi::api::core::v1::Namespace> = decoded
        .objects
        .iter()
        .filter_map(|o| match &o.object {
            kubesched_k8s::Object::Namespace(ns) => Some((**ns).clone()),
            _ => None,
        })
        .collect();
    let logging = LoggingConfig::find(&configmaps, &namespaces);
    (Some(FargateSetup { profiles, logging }), errors)
}

/// One pod per DaemonSet: its template as the DaemonSet controller creates it (the default
/// tolerations added), through API defaulting and Priority admission, named after the
/// DaemonSet and not bound. What the autoscaler adds to every node it plans. Templates that do
/// not admit are skipped (the loader reports them with the DaemonSet).
pub fn daemonset_pods(daemon_sets: &[&DaemonSet], priority_classes: &PriorityClasses) -> Vec<Arc<Pod>> {
    let chain = AdmissionChain::standard();
    let mut names = NameGenerator::new(0);
    let mut out = Vec::new();
    for ds in daemon_sets {
        let Some(spec) = ds.spec.as_ref() else { continue };
        let mut template = spec.template.clone();
        let Some(pod_spec) = template.spec.as_mut() else { continue };
        daemon_pod_tolerations(pod_spec);
        let namespace = ds.metadata.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default");
        let mut pod = kubesched_k8s::controllers::pod_from_template(
            &template,
            namespace,
            controller_owner_ref("apps/v1", "DaemonSet", &ds.metadata),
        );
        pod.metadata.name = ds.metadata.name.clone();
        if let Ok(model) = kubesched_k8s::admit_and_convert(&mut pod, &chain, priority_classes, &mut names) {
            out.push(Arc::new(model));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubesched_k8s::input::{Input, read_sources};

    fn decoded(text: &str) -> Decoded {
        let (sources, _) = read_sources(&[Input::text("in.yaml", text)]);
        kubesched_k8s::decode::decode_sources(&sources)
    }

    #[test]
    fn autoscaling_errors_name_the_line_and_field() {
        let d = decoded(
            "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}\n      requirements:\n      - {key: kubernetes.io/arch, operator: Sometimes, values: [amd64]}\n",
        );
        let (_, errs) = read_autoscaling(&d.raw);
        assert_eq!(errs.len(), 1, "{errs:?}");
        let text = errs[0].to_string();
        assert!(
            text.starts_with("in.yaml: document 1 (NodePool a), line 9: spec.template.spec.requirements[0]"),
            "{text}"
        );
        // The pool reads, but its EC2NodeClass is missing: located at the pool's document.
        let d = decoded(
            "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: nope}\n      requirements: []\n",
        );
        let (docs, errs) = read_autoscaling(&d.raw);
        assert!(errs.is_empty(), "{errs:?}");
        let errs = autoscaler(&docs, &d.raw, kubesched_autoscale::default_profile(), Options::default()).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "in.yaml: document 1 (NodePool a), line 7: spec.template.spec.nodeClassRef.name: EC2NodeClass \"nope\" not found"
        );
    }

    #[test]
    fn daemonset_templates_become_unbound_daemon_pods_with_the_controller_tolerations() {
        let d = decoded(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: kube-system}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      containers: [{name: a, image: x, resources: {requests: {cpu: 100m, memory: 128Mi}}}]\n",
        );
        let cluster = kubesched_k8s::build(d, &Default::default());
        let dss: Vec<&DaemonSet> = cluster.daemon_sets.iter().map(|d| &*d.object).collect();
        let pods = daemonset_pods(&dss, &cluster.priority_classes);
        assert_eq!(pods.len(), 1);
        assert_eq!(pods[0].key(), "kube-system/agent");
        assert!(pods[0].is_daemonset_pod() && pods[0].node_name.is_none());
        assert_eq!(pods[0].requests().cpu, 100);
        assert!(pods[0].tolerations.iter().any(|t| t.key.as_str() == "node.kubernetes.io/not-ready"));
    }
}
