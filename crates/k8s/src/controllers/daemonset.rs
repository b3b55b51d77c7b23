//! DaemonSet: one pod per eligible node, pinned with a `metadata.name` matchFields node
//! affinity and carrying the controller's default tolerations.

use super::{NameGenerator, controller_owner_ref, pod_from_template, pod_template_hash};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{
    Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, Toleration,
};
use kubesched_core::model::{self, TaintEffect, first_untolerated};
use std::collections::{BTreeMap, BTreeSet};

pub const CONTROLLER_REVISION_HASH: &str = "controller-revision-hash";
pub const TEMPLATE_GENERATION: &str = "pod-template-generation";

fn toleration(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        value: None,
        toleration_seconds: None,
    }
}

/// `Toleration.MatchToleration`: same key, operator, value and effect.
fn same_toleration(a: &Toleration, b: &Toleration) -> bool {
    a.key == b.key && a.operator == b.operator && a.value == b.value && a.effect == b.effect
}

/// `AddOrUpdateTolerationInPodSpec`: replaces a matching toleration (dropping its
/// `tolerationSeconds`), or appends.
fn add_or_update(spec: &mut PodSpec, t: Toleration) {
    let list = spec.tolerations.get_or_insert_with(Vec::new);
    match list.iter_mut().find(|old| same_toleration(old, &t)) {
        Some(old) => *old = t,
        None => list.push(t),
    }
}

/// `AddOrUpdateDaemonPodTolerations` (kube-scheduler.md §5): not-ready and unreachable
/// NoExecute without `tolerationSeconds`; disk-pressure, memory-pressure, pid-pressure and
/// unschedulable NoSchedule; network-unavailable NoSchedule for `hostNetwork` pods.
pub fn daemon_pod_tolerations(spec: &mut PodSpec) {
    add_or_update(spec, toleration("node.kubernetes.io/not-ready", "NoExecute"));
    add_or_update(spec, toleration("node.kubernetes.io/unreachable", "NoExecute"));
    add_or_update(spec, toleration("node.kubernetes.io/disk-pressure", "NoSchedule"));
    add_or_update(spec, toleration("node.kubernetes.io/memory-pressure", "NoSchedule"));
    add_or_update(spec, toleration("node.kubernetes.io/pid-pressure", "NoSchedule"));
    add_or_update(spec, toleration("node.kubernetes.io/unschedulable", "NoSchedule"));
    if spec.host_network == Some(true) {
        add_or_update(spec, toleration("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
}

/// `ReplaceDaemonSetPodNodeNameNodeAffinity`: the required node affinity becomes the single
/// term `matchFields metadata.name In [node]` (the node was already checked against the
/// original terms); preferred terms and pod (anti-)affinity are kept.
pub fn pin_to_node(affinity: Option<Affinity>, node: &str) -> Affinity {
    let selector = NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![NodeSelectorRequirement {
                key: "metadata.name".into(),
                operator: "In".into(),
                values: Some(vec![node.to_string()]),
            }]),
        }],
    };
    let mut affinity = affinity.unwrap_or_default();
    let na = affinity.node_affinity.get_or_insert_with(NodeAffinity::default);
    na.required_during_scheduling_ignored_during_execution = Some(selector);
    affinity
}

/// `GetTargetNodeName`: `spec.nodeName`, or the node a DaemonSet pod is pinned to through its
/// `metadata.name` matchFields.
pub fn target_node_name(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(n.to_string());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms.iter().flat_map(|t| t.match_fields.iter().flatten()).find_map(|f| {
        let values = f.values.as_deref().unwrap_or_default();
        (f.key == "metadata.name" && f.operator == "In" && values.len() == 1).then(|| values[0].clone())
    })
}

/// The pod template as the controller creates it: default tolerations added.
fn daemon_template_spec(ds: &DaemonSet) -> Option<PodSpec> {
    let mut spec = ds.spec.as_ref()?.template.spec.clone()?;
    daemon_pod_tolerations(&mut spec);
    Some(spec)
}

fn should_run(spec: &PodSpec, node: &model::Node) -> bool {
    if let Some(n) = spec.node_name.as_deref().filter(|n| !n.is_empty())
        && n != node.name.as_str()
    {
        return false;
    }
    let selector = crate::convert::labels(&spec.node_selector.clone().unwrap_or_default());
    if !node.labels.contains_all(&selector) {
        return false;
    }
    if let Some(required) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| na.required_during_scheduling_ignored_during_execution.as_ref())
        && !crate::convert::node_selector(required).matches(node.name, &node.labels)
    {
        return false;
    }
    // Invalid tolerations are reported when the pods are converted; here they tolerate nothing.
    let mut ignored = Vec::new();
    let tolerations = crate::convert::tolerations(
        spec.tolerations.as_deref().unwrap_or_default(),
        &crate::tree::FieldPath::root(),
        &mut ignored,
    );
    first_untolerated(&node.taints, &tolerations, &[TaintEffect::NoSchedule, TaintEffect::NoExecute]).is_none()
}

/// `NodeShouldRunDaemonPod`: the node passes the template's `nodeName`, `nodeSelector` and
/// required node affinity, and its NoSchedule/NoExecute taints are tolerated (the DaemonSet
/// default tolerations included).
pub fn node_should_run_daemon_pod(ds: &DaemonSet, node: &model::Node) -> bool {
    daemon_template_spec(ds).is_some_and(|spec| should_run(&spec, node))
}

/// The pods the DaemonSet controller creates: one for every node in `nodes` that should run
/// one and has none among `existing_owned_pods` (matched by [`target_node_name`]; Succeeded
/// and Failed pods do not count, the controller replaces them). Pods are named
/// `<ds>-<5 chars>`, pinned to their node, in node order.
pub fn daemonset_pods_to_create(
    ds: &DaemonSet,
    nodes: &[&model::Node],
    existing_owned_pods: &[&Pod],
    names: &mut NameGenerator,
) -> Vec<Pod> {
    let Some(ds_spec) = ds.spec.as_ref() else { return Vec::new() };
    let Some(spec) = daemon_template_spec(ds) else { return Vec::new() };
    if ds.metadata.deletion_timestamp.is_some() {
        return Vec::new();
    }
    let covered: BTreeSet<String> = existing_owned_pods
        .iter()
        .filter(|p| {
            let phase = p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default();
            phase != "Succeeded" && phase != "Failed"
        })
        .filter_map(|p| target_node_name(p))
        .collect();
    let name = ds.metadata.name.as_deref().unwrap_or_default();
    let namespace = ds.metadata.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default");
    let base = format!("{name}-");
    let revision = pod_template_hash(&ds_spec.template, ds.status.as_ref().and_then(|s| s.collision_count));
    let generation = ds.metadata.generation.unwrap_or(1).to_string();
    let mut template = ds_spec.template.clone();
    template.spec = Some(spec.clone());
    let mut out = Vec::new();
    for node in nodes {
        if covered.contains(node.name.as_str()) || !should_run(&spec, node) {
            continue;
        }
        let mut pod =
            pod_from_template(&template, namespace, controller_owner_ref("apps/v1", "DaemonSet", &ds.metadata));
        let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
        labels.insert(CONTROLLER_REVISION_HASH.into(), revision.clone());
        labels.insert(TEMPLATE_GENERATION.into(), generation.clone());
        if let Some(pspec) = pod.spec.as_mut() {
            pspec.affinity = Some(pin_to_node(pspec.affinity.take(), node.name.as_str()));
        }
        pod.metadata.name = Some(names.generate(namespace, &base));
        pod.metadata.generate_name = Some(base.clone());
        out.push(pod);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::decode;
    use kubesched_core::builders::NodeBuilder;
    use kubesched_core::model::Taint;

    fn node(name: &str, labels: &[(&str, &str)], taints: &[(&str, TaintEffect)]) -> model::Node {
        let mut n = NodeBuilder::new(name).build();
        for (k, v) in labels {
            n.labels.insert(kubesched_core::Sym::new(k), kubesched_core::Sym::new(v));
        }
        n.taints = taints.iter().map(|(k, e)| Taint::new(k, "", *e)).collect();
        n
    }

    const DS: &str = r#"
metadata: {name: agent, namespace: kube-system, uid: ds-uid}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      containers: [{name: c}]
      tolerations:
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 30}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions: [{key: pool, operator: NotIn, values: [gpu]}]
"#;

    #[test]
    fn one_pod_per_eligible_node_pinned_with_default_tolerations() {
        let ds: DaemonSet = decode(DS);
        let nodes = [
            node("a", &[("kubernetes.io/os", "linux")], &[]),
            node("b", &[("kubernetes.io/os", "windows")], &[]),
            node("c", &[("kubernetes.io/os", "linux"), ("pool", "gpu")], &[]),
            node("d", &[("kubernetes.io/os", "linux")], &[("dedicated", TaintEffect::NoSchedule)]),
            node("e", &[("kubernetes.io/os", "linux")], &[("dedicated", TaintEffect::PreferNoSchedule)]),
            node(
                "f",
                &[("kubernetes.io/os", "linux")],
                &[
                    ("node.kubernetes.io/unschedulable", TaintEffect::NoSchedule),
                    ("node.kubernetes.io/not-ready", TaintEffect::NoExecute),
                ],
            ),
            node(
                "g",
                &[("kubernetes.io/os", "linux")],
                &[("node.kubernetes.io/network-unavailable", TaintEffect::NoSchedule)],
            ),
        ];
        let refs: Vec<&model::Node> = nodes.iter().collect();
        let pods = daemonset_pods_to_create(&ds, &refs, &[], &mut NameGenerator::new(0));
        let targets: Vec<String> = pods.iter().filter_map(target_node_name).collect();
        assert_eq!(targets, ["a", "e", "f"]);
        let spec = pods[0].spec.as_ref().expect("spec");
        let terms = &spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref())
            .expect("required")
            .node_selector_terms;
        assert_eq!(terms.len(), 1, "existing terms are replaced");
        assert_eq!(terms[0].match_expressions, None);
        let tols: Vec<(String, String, Option<i64>)> = spec
            .tolerations
            .iter()
            .flatten()
            .map(|t| (t.key.clone().unwrap_or_default(), t.effect.clone().unwrap_or_default(), t.toleration_seconds))
            .collect();
        assert_eq!(
            tols,
            [
                ("node.kubernetes.io/not-ready".into(), "NoExecute".into(), None),
                ("node.kubernetes.io/unreachable".into(), "NoExecute".into(), None),
                ("node.kubernetes.io/disk-pressure".into(), "NoSchedule".into(), None),
                ("node.kubernetes.io/memory-pressure".into(), "NoSchedule".into(), None),
                ("node.kubernetes.io/pid-pressure".into(), "NoSchedule".into(), None),
                ("node.kubernetes.io/unschedulable".into(), "NoSchedule".into(), None),
            ]
        );
        let labels = pods[0].metadata.labels.as_ref().expect("labels");
        assert!(labels.contains_key(CONTROLLER_REVISION_HASH) && labels.contains_key(TEMPLATE_GENERATION));
        assert!(pods[0].metadata.name.as_deref().is_some_and(|n| n.starts_with("agent-")));
        assert_eq!(pods[0].metadata.owner_references.as_ref().map(|r| r[0].kind.as_str()), Some("DaemonSet"));
    }

    #[test]
    fn host_network_pods_tolerate_network_unavailable_and_existing_pods_count() {
        let mut ds: DaemonSet = decode(DS);
        if let Some(s) = ds.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
            s.host_network = Some(true);
        }
        let nodes = [
            node("a", &[("kubernetes.io/os", "linux")], &[]),
            node(
                "g",
                &[("kubernetes.io/os", "linux")],
                &[("node.kubernetes.io/network-unavailable", TaintEffect::NoSchedule)],
            ),
        ];
        let refs: Vec<&model::Node> = nodes.iter().collect();
        let existing: Pod = decode(
            "metadata: {name: agent-x, namespace: kube-system}\nspec: {nodeName: a, containers: [{name: c}]}\nstatus: {phase: Running}\n",
        );
        let pods = daemonset_pods_to_create(&ds, &refs, &[&existing], &mut NameGenerator::new(0));
        let targets: Vec<String> = pods.iter().filter_map(target_node_name).collect();
        assert_eq!(targets, ["g"]);
        assert!(node_should_run_daemon_pod(&ds, &nodes[1]));
    }

    #[test]
    fn matching_tolerations_are_replaced_not_duplicated() {
        let mut spec = PodSpec {
            tolerations: Some(vec![Toleration {
                key: Some("node.kubernetes.io/unreachable".into()),
                operator: Some("Exists".into()),
                effect: Some("NoExecute".into()),
                toleration_seconds: Some(300),
                value: None,
            }]),
            ..Default::default()
        };
        daemon_pod_tolerations(&mut spec);
        daemon_pod_tolerations(&mut spec);
        let tols = spec.tolerations.unwrap_or_default();
        assert_eq!(tols.len(), 6);
        assert_eq!(tols[0].key.as_deref(), Some("node.kubernetes.io/unreachable"));
        assert_eq!(tols[0].toleration_seconds, None);
    }
}
