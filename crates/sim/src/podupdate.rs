//! kube-apiserver's pod update validation for what a scenario can change on a live pod
//! (`ValidatePodUpdate`, kube-scheduler.md §6): scheduling gates may only be removed,
//! tolerations only added (or their `tolerationSeconds` changed); while the pod is gated its
//! `nodeSelector` and required node affinity may only be tightened; anything else in the spec is
//! immutable.
//!
//! Messages are kube's, including the value rendering of `field.Invalid` (the JSON of the
//! internal API types: `{"MatchExpressions":[{"Key":"b","Operator":"Exists","Values":null}],…}`).
//! One deliberate difference: kube appends a diff of the internal pod spec to the generic
//! `pod updates may not change fields other than …` error; it is omitted here.

use k8s_openapi::api::core::v1::{NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, Toleration};
use serde_json::Value;
use std::collections::BTreeMap;

const AFFINITY_TERMS: &str =
    "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms";

/// The generic refusal (`ValidatePodUpdate`), without kube's trailing spec diff.
pub const IMMUTABLE_SPEC: &str = "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// The API server's error for a refused update: `Pod "name" is invalid: …` (several field
/// errors are aggregated as `[a, b]`).
pub fn invalid_message(name: &str, errors: &[String]) -> String {
    let mut unique: Vec<&String> = Vec::new();
    for e in errors {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    let body = match unique.as_slice() {
        [one] => (*one).clone(),
        many => format!("[{}]", many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
    };
    format!("Pod {name:?} is invalid: {body}")
}

/// The field errors of updating `old` into `new`, in kube's order; empty when allowed.
pub fn validate_pod_update(old: &Pod, new: &Pod) -> Vec<String> {
    let empty = PodSpec::default();
    let old_spec = old.spec.as_ref().unwrap_or(&empty);
    let new_spec = new.spec.as_ref().unwrap_or(&empty);
    let mut errs = Vec::new();
    if old_spec.containers.len() != new_spec.containers.len() {
        errs.push("spec.containers: Forbidden: pod updates may not add or remove containers".to_string());
        return errs;
    }
    if old_spec.init_containers.as_ref().map_or(0, Vec::len) != new_spec.init_containers.as_ref().map_or(0, Vec::len) {
        errs.push("spec.initContainers: Forbidden: pod updates may not add or remove containers".to_string());
        return errs;
    }
    if let Some(e) = only_added_tolerations(
        new_spec.tolerations.as_deref().unwrap_or_default(),
        old_spec.tolerations.as_deref().unwrap_or_default(),
    ) {
        errs.push(e);
    }
    errs.extend(only_deleted_gates(new_spec, old_spec));
    if semantic(new_spec) == semantic(old_spec) {
        return errs;
    }
    // Munge the updatable fields back to their old values, then compare what is left.
    let mut munged = new_spec.clone();
    for (c, o) in munged.containers.iter_mut().zip(&old_spec.containers) {
        c.image = o.image.clone();
    }
    if let (Some(new_init), Some(old_init)) = (munged.init_containers.as_mut(), old_spec.init_containers.as_ref()) {
        for (c, o) in new_init.iter_mut().zip(old_init) {
            c.image = o.image.clone();
        }
    }
    munged.active_deadline_seconds = old_spec.active_deadline_seconds;
    munged.scheduling_gates = old_spec.scheduling_gates.clone();
    munged.tolerations = old_spec.tolerations.clone();
    if old_spec.termination_grace_period_seconds.is_some_and(|g| g < 0)
        && munged.termination_grace_period_seconds == Some(1)
    {
        munged.termination_grace_period_seconds = old_spec.termination_grace_period_seconds;
    }
    let gated = old_spec.scheduling_gates.as_ref().is_some_and(|g| !g.is_empty());
    if gated {
        if semantic(&munged.node_selector) != semantic(&old_spec.node_selector) {
            if let Some(e) = node_selector_mutation(munged.node_selector.as_ref(), old_spec.node_selector.as_ref()) {
                errs.push(e);
            }
            munged.node_selector = old_spec.node_selector.clone();
        }
        let old_na = old_spec.affinity.as_ref().and_then(|a| a.node_affinity.clone());
        let new_na = munged.affinity.as_ref().and_then(|a| a.node_affinity.clone());
        if semantic(&old_na) != semantic(&new_na) {
            errs.extend(node_affinity_mutation(new_na.as_ref(), old_na.as_ref()));
            match munged.affinity.as_mut() {
                None => {
                    munged.affinity =
                        Some(k8s_openapi::api::core::v1::Affinity { node_affinity: old_na, ..Default::default() })
                }
                Some(a) => a.node_affinity = old_na,
            }
        }
    }
    if semantic(&munged) != semantic(old_spec) {
        errs.push(IMMUTABLE_SPEC.to_string());
    }
    errs
}

/// `validateOnlyAddedTolerations`: every old toleration must still be there (its
/// `tolerationSeconds` may change).
fn only_added_tolerations(new: &[Toleration], old: &[Toleration]) -> Option<String> {
    for o in old {
        let found = new.iter().any(|n| {
            let mut clone = o.clone();
            clone.toleration_seconds = n.toleration_seconds;
            semantic(&clone) == semantic(n)
        });
        if !found {
            return Some(
                "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"
                    .into(),
            );
        }
    }
    None
}

/// `validateOnlyDeletedSchedulingGates`: a gate that was not there before is refused.
fn only_deleted_gates(new: &PodSpec, old: &PodSpec) -> Vec<String> {
    let old_names: Vec<&str> = old.scheduling_gates.iter().flatten().map(|g| g.name.as_str()).collect();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in new.scheduling_gates.iter().flatten().enumerate() {
        seen.insert(g.name.as_str(), i);
    }
    let mut added: Vec<(usize, &str)> =
        seen.into_iter().filter(|(name, _)| !old_names.contains(name)).map(|(n, i)| (i, n)).collect();
    added.sort();
    added
        .into_iter()
        .map(|(i, name)| {
            format!("spec.schedulingGates[{i}].name: Forbidden: only deletion is allowed, but found new scheduling gate '{name}'")
        })
        .collect()
}

/// `validateNodeSelectorMutation`: only additions of new keys.
fn node_selector_mutation(
    new: Option<&BTreeMap<String, String>>,
    old: Option<&BTreeMap<String, String>>,
) -> Option<String> {
    let empty = BTreeMap::new();
    let new_map = new.unwrap_or(&empty);
    for (k, v) in old.unwrap_or(&empty) {
        if new_map.get(k) != Some(v) {
            let value = if new_map.is_empty() {
                "null".to_string()
            } else {
                go_json(&serde_json::to_value(new_map).unwrap_or_default())
            };
            return Some(format!(
                "spec.nodeSelector: Invalid value: {value}: only additions to spec.nodeSelector are allowed (no mutations or deletions)"
            ));
        }
    }
    None
}

/// `validateNodeAffinityMutation` + `validateNodeSelectorTermHasOnlyAdditions`.
fn node_affinity_mutation(new: Option<&NodeAffinity>, old: Option<&NodeAffinity>) -> Vec<String> {
    let Some(old_required) = old.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref()) else {
        return Vec::new();
    };
    let old_terms = &old_required.node_selector_terms;
    if old_terms.is_empty() {
        return Vec::new();
    }
    let new_terms: Option<&Vec<NodeSelectorTerm>> = new
        .and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())
        .map(|r| &r.node_selector_terms);
    let new_list = new_terms.map(Vec::as_slice).unwrap_or_default();
    if old_terms.len() != new_list.len() {
        let value = match new_terms {
            None => "null".to_string(),
            Some(t) => format!("[{}]", t.iter().map(term_json).collect::<Vec<_>>().join(",")),
        };
        return vec![format!(
            "{AFFINITY_TERMS}: Invalid value: {value}: no additions/deletions to non-empty NodeSelectorTerms list are allowed"
        )];
    }
    old_terms
        .iter()
        .zip(new_list)
        .enumerate()
        .filter(|(_, (o, n))| !term_only_additions(n, o))
        .map(|(i, (_, n))| {
            format!(
                "{AFFINITY_TERMS}[{i}]: Invalid value: {}: only additions are allowed (no mutations or deletions)",
                term_json(n)
            )
        })
        .collect()
}

fn term_only_additions(new: &NodeSelectorTerm, old: &NodeSelectorTerm) -> bool {
    let old_exprs = old.match_expressions.as_deref().unwrap_or_default();
    let old_fields = old.match_fields.as_deref().unwrap_or_default();
    let new_exprs = new.match_expressions.as_deref().unwrap_or_default();
    let new_fields = new.match_fields.as_deref().unwrap_or_default();
    // An empty term matches nothing: adding requirements would loosen it.
    if old_exprs.is_empty() && old_fields.is_empty() && (!new_exprs.is_empty() || !new_fields.is_empty()) {
        return false;
    }
    let prefix = |old: &[NodeSelectorRequirement], new: &[NodeSelectorRequirement]| {
        new.len() >= old.len() && old.iter().zip(new).all(|(a, b)| semantic(a) == semantic(b))
    };
    prefix(old_exprs, new_exprs) && prefix(old_fields, new_fields)
}

/// A node selector term as Go's `json.Marshal` renders the internal type.
fn term_json(t: &NodeSelectorTerm) -> String {
    let reqs = |list: &Option<Vec<NodeSelectorRequirement>>| match list {
        None => "null".to_string(),
        Some(l) => format!(
            "[{}]",
            l.iter()
                .map(|r| {
                    let values = match &r.values {
                        None => "null".to_string(),
                        Some(v) => go_json(&serde_json::to_value(v).unwrap_or_default()),
                    };
                    format!(
                        "{{\"Key\":{},\"Operator\":{},\"Values\":{values}}}",
                        go_json(&Value::String(r.key.clone())),
                        go_json(&Value::String(r.operator.clone()))
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        ),
    };
    format!("{{\"MatchExpressions\":{},\"MatchFields\":{}}}", reqs(&t.match_expressions), reqs(&t.match_fields))
}

/// Compact JSON (what Go's encoder writes for these plain values).
fn go_json(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `Semantic.DeepEqual`'s view: nil and empty lists and maps are equal.
fn semantic<T: serde::Serialize>(v: &T) -> Option<Value> {
    normalize(serde_json::to_value(v).unwrap_or(Value::Null))
}

fn normalize(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => {
            let m: serde_json::Map<String, Value> =
                m.into_iter().filter_map(|(k, v)| normalize(v).map(|v| (k, v))).collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        Value::Array(a) => {
            let a: Vec<Value> = a.into_iter().map(|v| normalize(v).unwrap_or(Value::Null)).collect();
            (!a.is_empty()).then_some(Value::Array(a))
        }
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Affinity, Container, NodeSelector, PodSchedulingGate};

    fn req(key: &str, op: &str, values: Option<&[&str]>) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: values.map(|v| v.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn pod(gates: &[&str], selector: &[(&str, &str)], terms: Option<Vec<Vec<NodeSelectorRequirement>>>) -> Pod {
        Pod {
            metadata: Default::default(),
            spec: Some(PodSpec {
                containers: vec![Container { name: "c".into(), image: Some("busybox".into()), ..Default::default() }],
                scheduling_gates: (!gates.is_empty())
                    .then(|| gates.iter().map(|g| PodSchedulingGate { name: g.to_string() }).collect()),
                node_selector: (!selector.is_empty())
                    .then(|| selector.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
                affinity: terms.map(|terms| Affinity {
                    node_affinity: Some(NodeAffinity {
                        required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                            node_selector_terms: terms
                                .into_iter()
                                .map(|e| NodeSelectorTerm { match_expressions: Some(e), match_fields: None })
                                .collect(),
                        }),
                        preferred_during_scheduling_ignored_during_execution: None,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn gates_may_only_be_removed() {
        assert!(validate_pod_update(&pod(&["g1", "g2"], &[], None), &pod(&["g2"], &[], None)).is_empty());
        assert!(validate_pod_update(&pod(&["g1"], &[], None), &pod(&[], &[], None)).is_empty());
        assert_eq!(
            validate_pod_update(&pod(&["g1"], &[], None), &pod(&["g1", "g2"], &[], None)),
            ["spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new scheduling gate 'g2'"]
        );
    }

    #[test]
    fn gated_pods_may_add_node_selector_keys_only() {
        let old = pod(&["g"], &[("a", "b")], None);
        assert!(validate_pod_update(&old, &pod(&["g"], &[("a", "b"), ("c", "d")], None)).is_empty());
        let errs = validate_pod_update(&old, &pod(&["g"], &[("a", "z"), ("c", "d")], None));
        assert_eq!(
            errs,
            [
                "spec.nodeSelector: Invalid value: {\"a\":\"z\",\"c\":\"d\"}: only additions to spec.nodeSelector are allowed (no mutations or deletions)"
            ]
        );
        assert_eq!(
            invalid_message("p", &errs),
            "Pod \"p\" is invalid: spec.nodeSelector: Invalid value: {\"a\":\"z\",\"c\":\"d\"}: only additions to spec.nodeSelector are allowed (no mutations or deletions)"
        );
        // Ungated pods may not touch it at all.
        let plain = pod(&[], &[("a", "b")], None);
        assert_eq!(validate_pod_update(&plain, &pod(&[], &[("a", "b"), ("c", "d")], None)), [IMMUTABLE_SPEC]);
    }

    #[test]
    fn gated_pods_may_append_requirements_to_existing_terms() {
        let a = req("a", "In", Some(&["x"]));
        let b = req("b", "Exists", None);
        let old = pod(&["g"], &[], Some(vec![vec![a.clone()]]));
        assert!(validate_pod_update(&old, &pod(&["g"], &[], Some(vec![vec![a.clone(), b.clone()]]))).is_empty());
        assert_eq!(
            validate_pod_update(&old, &pod(&["g"], &[], Some(vec![vec![b.clone()]]))),
            [format!(
                "{AFFINITY_TERMS}[0]: Invalid value: {{\"MatchExpressions\":[{{\"Key\":\"b\",\"Operator\":\"Exists\",\"Values\":null}}],\"MatchFields\":null}}: only additions are allowed (no mutations or deletions)"
            )]
        );
        assert_eq!(
            validate_pod_update(&old, &pod(&["g"], &[], Some(vec![vec![a.clone()], vec![b.clone()]]))),
            [format!(
                "{AFFINITY_TERMS}: Invalid value: [{{\"MatchExpressions\":[{{\"Key\":\"a\",\"Operator\":\"In\",\"Values\":[\"x\"]}}],\"MatchFields\":null}},{{\"MatchExpressions\":[{{\"Key\":\"b\",\"Operator\":\"Exists\",\"Values\":null}}],\"MatchFields\":null}}]: no additions/deletions to non-empty NodeSelectorTerms list are allowed"
            )]
        );
        // No required affinity before: anything may be set.
        assert!(validate_pod_update(&pod(&["g"], &[], None), &pod(&["g"], &[], Some(vec![vec![b]]))).is_empty());
    }

    #[test]
    fn tolerations_may_only_be_added() {
        let tol = |v: &str, secs: Option<i64>| Toleration {
            key: Some("k".into()),
            operator: Some("Equal".into()),
            value: Some(v.into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: secs,
        };
        let mut old = pod(&[], &[], None);
        if let Some(s) = old.spec.as_mut() {
            s.tolerations = Some(vec![tol("v", Some(5))]);
        }
        let mut new = old.clone();
        if let Some(s) = new.spec.as_mut() {
            s.tolerations = Some(vec![tol("v", Some(9))]);
        }
        assert!(validate_pod_update(&old, &new).is_empty());
        if let Some(s) = new.spec.as_mut() {
            s.tolerations = Some(vec![tol("w", Some(5))]);
        }
        assert_eq!(
            validate_pod_update(&old, &new),
            ["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"]
        );
    }
}
