//! Constraints as the plugin uses them (`common.go`): selectors merged with `matchLabelKeys`,
//! policy defaults, default constraints and their selector (`helper.DefaultSelector`).

use super::PodTopologySpread;
use crate::intern::Sym;
use crate::labels::Labels;
use crate::model::{
    InclusionPolicy, Pod, TaintEffect, TopologySpreadConstraint, WhenUnsatisfiable, WorkloadKind, first_untolerated,
};
use crate::selector::{LabelOp, LabelRequirement, LabelSelector};
use crate::snapshot::{NodeInfo, Snapshot};
use crate::snapshot_index::{NamespaceFilter, NodeFilterSpec, PodQuery, QueryTerm, RequiredNodeAffinity};

/// kube's internal `topologySpreadConstraint`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpreadConstraint {
    pub max_skew: i32,
    pub topology_key: Sym,
    /// `None` is a nil selector (matches nothing).
    pub selector: Option<LabelSelector>,
    /// Default 1.
    pub min_domains: i32,
    /// Default Honor.
    pub node_affinity_policy: InclusionPolicy,
    /// Default Ignore.
    pub node_taints_policy: InclusionPolicy,
}

impl SpreadConstraint {
    /// The constraint's selector matches `labels` (the incoming pod's "self match").
    #[inline]
    pub fn selects(&self, labels: &Labels) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }

    /// The pods it counts: same namespace as the incoming pod, matching the selector, not
    /// terminating (`countPodsMatchSelector`).
    pub fn query(&self, namespace: Sym) -> PodQuery {
        PodQuery {
            terms: vec![QueryTerm { selector: self.selector.clone(), namespaces: NamespaceFilter::single(namespace) }],
            skip_terminating: true,
        }
    }

    /// The nodes it counts on: carrying `required_keys` and passing the inclusion policies.
    pub fn node_filter(&self, pod: &Pod, required_keys: &[Sym]) -> NodeFilterSpec {
        NodeFilterSpec {
            required_keys: required_keys.to_vec(),
            node_affinity: match self.node_affinity_policy {
                InclusionPolicy::Honor => RequiredNodeAffinity::of(pod),
                InclusionPolicy::Ignore => None,
            },
            tolerations: match self.node_taints_policy {
                InclusionPolicy::Honor => Some(pod.tolerations.clone()),
                InclusionPolicy::Ignore => None,
            },
        }
    }

    /// `matchNodeInclusionPolicies`.
    pub fn node_passes_policies(&self, pod: &Pod, node: &NodeInfo) -> bool {
        if self.node_affinity_policy == InclusionPolicy::Honor
            && let Some(a) = RequiredNodeAffinity::of(pod)
            && !a.matches(node)
        {
            return false;
        }
        if self.node_taints_policy == InclusionPolicy::Honor
            && first_untolerated(
                &node.node.taints,
                &pod.tolerations,
                &[TaintEffect::NoSchedule, TaintEffect::NoExecute],
            )
            .is_some()
        {
            return false;
        }
        true
    }
}

/// The distinct topology keys of `constraints`, sorted by symbol id.
pub fn keys_of(constraints: &[SpreadConstraint]) -> Vec<Sym> {
    let mut keys: Vec<Sym> = constraints.iter().map(|c| c.topology_key).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// `nodeLabelsMatchSpreadConstraints`: the node carries every key.
#[inline]
pub fn node_has_keys(labels: &Labels, keys: &[Sym]) -> bool {
    keys.iter().all(|&k| labels.contains_key(k))
}

/// Pushes `req` unless an identical requirement is already there (merging label sets, as
/// `labels.Merge` does, never changes what a selector matches).
fn push_unique(sel: &mut LabelSelector, req: LabelRequirement) {
    if !sel.requirements.contains(&req) {
        sel.push(req);
    }
}

/// `filterTopologySpreadConstraints`: the constraints with `action`, their selectors merged
/// with `key In (pod's value)` for each `matchLabelKeys` key the pod carries (kube-scheduler.md
/// §4.11). When the API server already merged them (v1.34), merging again changes nothing.
pub fn filter_constraints(
    constraints: &[TopologySpreadConstraint],
    pod_labels: &Labels,
    action: WhenUnsatisfiable,
) -> Vec<SpreadConstraint> {
    constraints
        .iter()
        .filter(|c| c.when_unsatisfiable == action)
        .map(|c| {
            let mut selector = c.label_selector.clone();
            let match_labels: Vec<(Sym, Sym)> =
                c.match_label_keys.iter().filter_map(|&k| pod_labels.get(k).map(|v| (k, v))).collect();
            if !match_labels.is_empty() {
                // `mergeLabelSetWithSelector`: a nil selector contributes no requirements, so
                // the merged selector is the label set alone.
                let mut merged = LabelSelector::everything();
                for (k, v) in match_labels {
                    push_unique(
                        &mut merged,
                        LabelRequirement { key: k, op: LabelOp::In, values: smallvec::smallvec![v] },
                    );
                }
                for r in selector.iter().flat_map(|s| s.requirements.iter()) {
                    push_unique(&mut merged, r.clone());
                }
                selector = Some(merged);
            }
            SpreadConstraint {
                max_skew: c.max_skew,
                topology_key: c.topology_key,
                selector,
                min_domains: c.min_domains.unwrap_or(1),
                node_affinity_policy: c.node_affinity_policy.unwrap_or(InclusionPolicy::Honor),
                node_taints_policy: c.node_taints_policy.unwrap_or(InclusionPolicy::Ignore),
            }
        })
        .collect()
}

/// `helper.DefaultSelector`: the selectors of the Services in the pod's namespace that select it,
/// and of the ReplicationController, ReplicaSet or StatefulSet that controls it, ANDed. `None`
/// when that is empty.
pub fn default_selector(pod: &Pod, snapshot: &Snapshot) -> Option<LabelSelector> {
    let mut selector = LabelSelector::everything();
    let workloads = snapshot.workload_selectors();
    for w in workloads {
        if w.kind == WorkloadKind::Service && w.namespace == pod.namespace && w.selector.matches(&pod.labels) {
            for r in &w.selector.requirements {
                push_unique(&mut selector, r.clone());
            }
        }
    }
    if let Some(owner) = &pod.owner {
        let kind = match owner.kind.as_str() {
            "ReplicationController" => Some(WorkloadKind::ReplicationController),
            "ReplicaSet" => Some(WorkloadKind::ReplicaSet),
            "StatefulSet" => Some(WorkloadKind::StatefulSet),
            _ => None,
        };
        if let Some(kind) = kind
            && let Some(w) =
                workloads.iter().find(|w| w.kind == kind && w.namespace == pod.namespace && w.name == owner.name)
        {
            for r in &w.selector.requirements {
                push_unique(&mut selector, r.clone());
            }
        }
    }
    (!selector.is_empty()).then_some(selector)
}

impl PodTopologySpread {
    /// `getConstraints` (PreFilter, `DoNotSchedule`) and the constraint part of
    /// `initPreScoreState` (`ScheduleAnyway`): the pod's own constraints, or the defaults with
    /// the default selector when it has none.
    pub fn constraints(&self, pod: &Pod, snapshot: &Snapshot, action: WhenUnsatisfiable) -> Vec<SpreadConstraint> {
        if !pod.topology_spread_constraints.is_empty() {
            return filter_constraints(&pod.topology_spread_constraints, &pod.labels, action);
        }
        // `buildDefaultConstraints`.
        let mut constraints = filter_constraints(&self.default_constraints, &pod.labels, action);
        if constraints.is_empty() {
            return constraints;
        }
        let Some(selector) = default_selector(pod, snapshot) else {
            return Vec::new();
        };
        for c in &mut constraints {
            c.selector = Some(selector.clone());
        }
        constraints
    }
}
