//! The mutating admission step (doc §1, webhook `0500-amazon-eks-fargate-mutation.amazonaws.com`):
//! which profile takes a pod, and what the webhook writes into it.

use crate::error::FargateError;
use crate::glob::glob_match;
use crate::logging::LoggingConfig;
use crate::profile::{FargateProfile, ProfileSelector, ProfileStatus};
use crate::sizing::{PodSizing, size_pod};
use crate::validate::FARGATE_SCHEDULER_NAME;
use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;
use std::collections::BTreeMap;

/// Pod label naming the profile; set by the webhook, or by users to choose one (doc §1.4).
pub const PROFILE_LABEL: &str = "eks.amazonaws.com/fargate-profile";
/// Pod annotation that keeps a pod off Fargate when set to `ec2` (doc §1.6).
pub const COMPUTE_TYPE_ANNOTATION: &str = "eks.amazonaws.com/compute-type";
pub const COMPUTE_TYPE_EC2: &str = "ec2";
/// Annotation with the chosen size (doc §1.5).
pub const CAPACITY_PROVISIONED_ANNOTATION: &str = "CapacityProvisioned";
/// Annotation with the logging state (doc §1.5, §6).
pub const LOGGING_ANNOTATION: &str = "Logging";

/// True when the pod is in `sel`'s namespace and carries every label of `sel`: each selector
/// pair `(kp, vp)` needs some pod label `(k, v)` with `glob(kp, k) && glob(vp, v)` (doc §1.3).
pub fn selector_matches(sel: &ProfileSelector, namespace: &str, labels: &BTreeMap<String, String>) -> bool {
    glob_match(&sel.namespace, namespace)
        && sel.labels.iter().all(|(kp, vp)| labels.iter().any(|(k, v)| glob_match(kp, k) && glob_match(vp, v)))
}

/// True when any selector of the profile matches (selectors are ORed, doc §1.3).
pub fn profile_matches(profile: &FargateProfile, namespace: &str, labels: &BTreeMap<String, String>) -> bool {
    profile.selectors.iter().any(|s| selector_matches(s, namespace, labels))
}

/// Where admission sends a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "outcome")]
pub enum ProfileMatch {
    /// Annotation `eks.amazonaws.com/compute-type: ec2` (doc §1.6).
    OptedOut,
    /// Owned by a DaemonSet: never mutated (doc §1.6).
    DaemonSet,
    /// No `ACTIVE` profile selects the pod.
    NoMatch,
    /// The pod's `eks.amazonaws.com/fargate-profile` label names a profile that does not
    /// select it (or does not exist). What EKS does then is not documented (doc §1.4, §10);
    /// here the pod stays with its own scheduler, like an unmatched pod.
    RequestedProfileNotMatched { requested: String },
    /// The profile that takes the pod.
    Matched { profile: String },
}

/// Chooses the profile (doc §9): opt-out annotation, DaemonSet owner, then the `ACTIVE`
/// profiles with a matching selector, narrowed to the one the pod's profile label names, the
/// first by name in byte order ("alphanumeric sort, first match wins", doc §1.4).
pub fn match_profile(pod: &Pod, profiles: &[FargateProfile]) -> ProfileMatch {
    let meta = &pod.metadata;
    if meta.annotations.as_ref().and_then(|a| a.get(COMPUTE_TYPE_ANNOTATION)).map(String::as_str)
        == Some(COMPUTE_TYPE_EC2)
    {
        return ProfileMatch::OptedOut;
    }
    if meta.owner_references.iter().flatten().any(|o| o.kind == "DaemonSet") {
        return ProfileMatch::DaemonSet;
    }
    let namespace = meta.namespace.as_deref().unwrap_or("default");
    let empty = BTreeMap::new();
    let labels = meta.labels.as_ref().unwrap_or(&empty);
    let requested = labels.get(PROFILE_LABEL);
    let winner = profiles
        .iter()
        .filter(|p| p.status == ProfileStatus::Active)
        .filter(|p| requested.is_none_or(|r| *r == p.name))
        .filter(|p| profile_matches(p, namespace, labels))
        .min_by(|a, b| a.name.cmp(&b.name));
    match (winner, requested) {
        (Some(p), _) => ProfileMatch::Matched { profile: p.name.clone() },
        (None, Some(r)) => ProfileMatch::RequestedProfileNotMatched { requested: r.clone() },
        (None, None) => ProfileMatch::NoMatch,
    }
}

/// What admission did to a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Admission {
    pub profile: String,
    pub sizing: PodSizing,
    /// The `CapacityProvisioned` value written, `None` when the pod is too big for Fargate.
    pub capacity_provisioned: Option<String>,
    /// The `Logging` value written.
    pub logging: String,
}

/// The webhook: when a profile takes the pod, sets `spec.schedulerName: fargate-scheduler`,
/// the `eks.amazonaws.com/fargate-profile` label, and the `CapacityProvisioned` (when the pod
/// fits a Fargate size) and `Logging` annotations, exactly as EKS writes them (doc §1.5).
/// `Ok(None)` leaves the pod untouched.
///
/// Not done: the `system-node-critical` priority seen in 2022–2023 pod dumps (doc §1.5; not
/// documented and not seen since).
pub fn admit(
    pod: &mut Pod,
    profiles: &[FargateProfile],
    logging: &LoggingConfig,
) -> Result<Option<Admission>, FargateError> {
    let ProfileMatch::Matched { profile } = match_profile(pod, profiles) else {
        return Ok(None);
    };
    let location = format!(
        "pod {}/{}",
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or("")
    );
    let sizing = size_pod(pod, &location)?;
    let capacity_provisioned = sizing.capacity_provisioned();
    let logging_value = logging.annotation().to_string();
    pod.spec.get_or_insert_with(Default::default).scheduler_name = Some(FARGATE_SCHEDULER_NAME.to_string());
    pod.metadata.labels.get_or_insert_with(BTreeMap::new).insert(PROFILE_LABEL.to_string(), profile.clone());
    let annotations = pod.metadata.annotations.get_or_insert_with(BTreeMap::new);
    match &capacity_provisioned {
        Some(c) => annotations.insert(CAPACITY_PROVISIONED_ANNOTATION.to_string(), c.clone()),
        // A user-set value is output only and means nothing (doc §1.5, CR#1309).
        None => annotations.remove(CAPACITY_PROVISIONED_ANNOTATION),
    };
    annotations.insert(LOGGING_ANNOTATION.to_string(), logging_value.clone());
    Ok(Some(Admission { profile, sizing, capacity_provisioned, logging: logging_value }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pod(ns: &str, labels: Value, annotations: Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web-1", "namespace": ns, "labels": labels, "annotations": annotations},
            "spec": {"containers": [{"name": "app", "image": "nginx",
                                      "resources": {"requests": {"cpu": "500m", "memory": "500Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}}}]}
        }))
        .unwrap()
    }

    fn profile(name: &str, selectors: Vec<ProfileSelector>) -> FargateProfile {
        FargateProfile::new(name, selectors)
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn selectors_and_of_labels_or_of_selectors() {
        let sel = ProfileSelector::new("prod", &[("app", "web"), ("tier", "front")]);
        assert!(selector_matches(&sel, "prod", &labels(&[("app", "web"), ("tier", "front"), ("x", "y")])));
        assert!(!selector_matches(&sel, "prod", &labels(&[("app", "web")])));
        assert!(!selector_matches(&sel, "dev", &labels(&[("app", "web"), ("tier", "front")])));
        // A namespace-only selector takes every pod of the namespace.
        assert!(selector_matches(&ProfileSelector::new("kube-system", &[]), "kube-system", &labels(&[])));
        let p = profile("p", vec![ProfileSelector::new("a", &[("x", "1")]), ProfileSelector::new("b", &[])]);
        assert!(profile_matches(&p, "b", &labels(&[])));
        assert!(profile_matches(&p, "a", &labels(&[("x", "1")])));
        assert!(!profile_matches(&p, "a", &labels(&[("x", "2")])));
    }

    #[test]
    fn wildcards_in_namespace_keys_and_values() {
        // UG/profile: `key?: value?` matches `keya: valuea` and `keyb: valueb`.
        let sel = ProfileSelector::new("prod*", &[("key?", "value?")]);
        assert!(selector_matches(&sel, "prod-metrics", &labels(&[("keya", "valuea")])));
        assert!(selector_matches(&sel, "prod", &labels(&[("keyb", "valueb")])));
        assert!(!selector_matches(&sel, "prod", &labels(&[("keya", "value")])));
        assert!(!selector_matches(&sel, "staging", &labels(&[("keya", "valuea")])));
        let any = ProfileSelector::new("*", &[]);
        assert!(selector_matches(&any, "longhorn-system", &labels(&[])));
    }

    #[test]
    fn first_profile_in_name_order_wins() {
        // UG/profile: beta-workload and prod-workload both match → beta-workload.
        let profiles = vec![
            profile("prod-workload", vec![ProfileSelector::new("prod", &[])]),
            profile("beta-workload", vec![ProfileSelector::new("prod*", &[])]),
        ];
        let mut p = pod("prod", json!({"app": "web"}), json!({}));
        let a = admit(&mut p, &profiles, &LoggingConfig::NotFound).unwrap().unwrap();
        assert_eq!(a.profile, "beta-workload");
        assert_eq!(p.metadata.labels.as_ref().unwrap().get(PROFILE_LABEL).map(String::as_str), Some("beta-workload"));
        // Byte order: uppercase sorts before lowercase, digits before letters.
        let names = vec![
            profile("b", vec![ProfileSelector::new("*", &[])]),
            profile("B", vec![ProfileSelector::new("*", &[])]),
            profile("1", vec![ProfileSelector::new("*", &[])]),
        ];
        assert_eq!(
            match_profile(&pod("x", json!({}), json!({})), &names),
            ProfileMatch::Matched { profile: "1".into() }
        );
    }

    #[test]
    fn the_profile_label_chooses() {
        let profiles = vec![
            profile("alpha", vec![ProfileSelector::new("prod", &[])]),
            profile("omega", vec![ProfileSelector::new("prod", &[])]),
            profile("other", vec![ProfileSelector::new("dev", &[])]),
        ];
        let chosen = pod("prod", json!({PROFILE_LABEL: "omega"}), json!({}));
        assert_eq!(match_profile(&chosen, &profiles), ProfileMatch::Matched { profile: "omega".into() });
        // The pod must still match a selector of that profile.
        let wrong = pod("prod", json!({PROFILE_LABEL: "other"}), json!({}));
        assert_eq!(
            match_profile(&wrong, &profiles),
            ProfileMatch::RequestedProfileNotMatched { requested: "other".into() }
        );
        let missing = pod("prod", json!({PROFILE_LABEL: "nope"}), json!({}));
        assert_eq!(
            match_profile(&missing, &profiles),
            ProfileMatch::RequestedProfileNotMatched { requested: "nope".into() }
        );
    }

    #[test]
    fn opt_out_daemonsets_and_inactive_profiles() {
        let profiles = vec![profile("fp-default", vec![ProfileSelector::new("kube-system", &[])])];
        let coredns = pod("kube-system", json!({"k8s-app": "kube-dns"}), json!({COMPUTE_TYPE_ANNOTATION: "ec2"}));
        assert_eq!(match_profile(&coredns, &profiles), ProfileMatch::OptedOut);
        // Only the value `ec2` opts out.
        let other = pod("kube-system", json!({}), json!({COMPUTE_TYPE_ANNOTATION: "fargate"}));
        assert!(matches!(match_profile(&other, &profiles), ProfileMatch::Matched { .. }));
        let mut ds = pod("kube-system", json!({}), json!({}));
        ds.metadata.owner_references = Some(vec![serde_json::from_value(
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "kube-proxy", "uid": "1", "controller": true}),
        )
        .unwrap()]);
        assert_eq!(match_profile(&ds, &profiles), ProfileMatch::DaemonSet);
        let mut creating = profiles.clone();
        creating[0].status = ProfileStatus::Creating;
        assert_eq!(match_profile(&pod("kube-system", json!({}), json!({})), &creating), ProfileMatch::NoMatch);
        assert_eq!(match_profile(&pod("default", json!({}), json!({})), &profiles), ProfileMatch::NoMatch);
    }

    #[test]
    fn admission_writes_what_eks_writes() {
        let profiles = vec![profile("fp-default", vec![ProfileSelector::new("default", &[])])];
        let mut p = pod("default", json!({"app": "web"}), json!({}));
        let logging = LoggingConfig::NotFound;
        let a = admit(&mut p, &profiles, &logging).unwrap().unwrap();
        assert_eq!(a.capacity_provisioned.as_deref(), Some("0.5vCPU 1GB"));
        assert_eq!(p.spec.as_ref().unwrap().scheduler_name.as_deref(), Some("fargate-scheduler"));
        let ann = p.metadata.annotations.as_ref().unwrap();
        assert_eq!(ann.get("CapacityProvisioned").map(String::as_str), Some("0.5vCPU 1GB"));
        assert_eq!(ann.get("Logging").map(String::as_str), Some("LoggingDisabled: LOGGING_CONFIGMAP_NOT_FOUND"));
        let l = p.metadata.labels.as_ref().unwrap();
        assert_eq!(l.get("eks.amazonaws.com/fargate-profile").map(String::as_str), Some("fp-default"));
        assert_eq!(l.get("app").map(String::as_str), Some("web"));
        // Unmatched pods are left alone.
        let mut q = pod("other", json!({}), json!({}));
        let before = q.clone();
        assert_eq!(admit(&mut q, &profiles, &logging).unwrap(), None);
        assert_eq!(q, before);
    }

    #[test]
    fn too_big_pods_get_no_capacity_annotation() {
        let profiles = vec![profile("fp", vec![ProfileSelector::new("default", &[])])];
        let mut p: Pod = serde_json::from_value(json!({
            "metadata": {"name": "huge", "annotations": {"CapacityProvisioned": "16vCPU 120GB"}},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "16", "memory": "120Gi"}}}]}
        }))
        .unwrap();
        let a = admit(&mut p, &profiles, &LoggingConfig::NotFound).unwrap().unwrap();
        assert_eq!(a.capacity_provisioned, None);
        assert_eq!(a.sizing.rejections()[0].reason, "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE");
        assert!(!p.metadata.annotations.as_ref().unwrap().contains_key("CapacityProvisioned"));
        assert_eq!(p.spec.as_ref().unwrap().scheduler_name.as_deref(), Some("fargate-scheduler"));
    }

    #[test]
    fn bad_quantities_are_errors_not_panics() {
        let profiles = vec![profile("fp", vec![ProfileSelector::new("default", &[])])];
        let mut p: Pod = serde_json::from_value(json!({
            "metadata": {"name": "bad", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"memory": "1GB"}}}]}
        }))
        .unwrap();
        let e = admit(&mut p, &profiles, &LoggingConfig::NotFound).unwrap_err();
        assert_eq!(e.location, "pod default/bad");
        assert_eq!(e.field, "spec.containers[0].resources.requests.memory");
    }
}
