//! Node affinity, inter-pod affinity and topology spread constraints, compiled.

use crate::intern::Sym;
use crate::selector::{LabelSelector, NodeSelector, PreferredSchedulingTerm};

#[derive(Clone, PartialEq, Eq, Debug, Default, Hash)]
pub struct NodeAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution`; `None` means no requirement.
    pub required: Option<NodeSelector>,
    pub preferred: Vec<PreferredSchedulingTerm>,
}

/// `v1.PodAffinityTerm`, with `matchLabelKeys`/`mismatchLabelKeys` already merged into
/// `label_selector` where the API server does so at creation.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct PodAffinityTerm {
    /// `None` is a nil selector: matches no pod.
    pub label_selector: Option<LabelSelector>,
    pub namespaces: Vec<Sym>,
    /// `None` = not set; `Some(empty)` = all namespaces.
    pub namespace_selector: Option<LabelSelector>,
    pub topology_key: Sym,
    pub match_label_keys: Vec<Sym>,
    pub mismatch_label_keys: Vec<Sym>,
}

#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct WeightedPodAffinityTerm {
    pub weight: i32,
    pub term: PodAffinityTerm,
}

#[derive(Clone, PartialEq, Eq, Debug, Default, Hash)]
pub struct PodAffinity {
    pub required: Vec<PodAffinityTerm>,
    pub preferred: Vec<WeightedPodAffinityTerm>,
}

impl PodAffinity {
    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.preferred.is_empty()
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Default, Hash)]
pub struct Affinity {
    pub node_affinity: Option<NodeAffinity>,
    pub pod_affinity: Option<PodAffinity>,
    pub pod_anti_affinity: Option<PodAffinity>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum WhenUnsatisfiable {
    DoNotSchedule,
    ScheduleAnyway,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum InclusionPolicy {
    Honor,
    Ignore,
}

/// `v1.TopologySpreadConstraint`.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct TopologySpreadConstraint {
    pub max_skew: i32,
    pub topology_key: Sym,
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// `None` is a nil selector: matches no pod.
    pub label_selector: Option<LabelSelector>,
    pub min_domains: Option<i32>,
    /// `None` = default (Honor).
    pub node_affinity_policy: Option<InclusionPolicy>,
    /// `None` = default (Ignore).
    pub node_taints_policy: Option<InclusionPolicy>,
    pub match_label_keys: Vec<Sym>,
}
