//! SchedulingPodAntiAffinity/5000Nodes_2000Pods: every pod carries `color: green` and requires
//! anti-affinity to `color: green` pods on `kubernetes.io/hostname` in namespaces sched-0 and
//! sched-1 (`pod-with-pod-anti-affinity.yaml`). 1000 initial pods in sched-0 are bound one per
//! node, then 2000 pods in sched-1 are measured.

use super::{default_node, default_pod};
use crate::{Prepared, Workload, scheduler};
use kubesched_core::builders::PodBuilder;
use kubesched_core::config::SchedulerConfig;
use kubesched_core::intern::Sym;
use kubesched_core::model::{Affinity, PodAffinity, PodAffinityTerm, WeightedPodAffinityTerm};
use kubesched_core::selector::LabelSelector;
use kubesched_core::snapshot::{NodeId, Snapshot};
use std::sync::Arc;

pub const WORKLOAD: Workload = Workload {
    name: "pod-anti-affinity",
    description: "5000 nodes, 1000 bound + 2000 pods with required anti-affinity on hostname (SchedulingPodAntiAffinity)",
    kube_threshold: Some(60.0),
    prepare,
};

/// scheduler_perf's namespaces for the affinity workloads.
pub(crate) const NAMESPACES: [&str; 2] = ["sched-1", "sched-0"];

/// A term selecting `color: <color>` pods in sched-0 and sched-1 over `key`.
pub(crate) fn color_term(color: &str, key: Sym) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(LabelSelector::from_match_labels([("color", color)])),
        namespaces: NAMESPACES.iter().map(|n| Sym::new(n)).collect(),
        namespace_selector: None,
        topology_key: key,
        match_label_keys: Vec::new(),
        mismatch_label_keys: Vec::new(),
    }
}

/// Required terms only.
pub(crate) fn required(terms: Vec<PodAffinityTerm>) -> PodAffinity {
    PodAffinity { required: terms, preferred: Vec::new() }
}

/// One preferred term of weight 1.
pub(crate) fn preferred(term: PodAffinityTerm) -> PodAffinity {
    PodAffinity { required: Vec::new(), preferred: vec![WeightedPodAffinityTerm { weight: 1, term }] }
}

/// `pod-with-pod-anti-affinity.yaml`.
pub(crate) fn anti_affinity_pod(namespace: &str, i: usize) -> PodBuilder {
    let affinity =
        Affinity { pod_anti_affinity: Some(required(vec![color_term("green", Sym::HOSTNAME)])), ..Default::default() };
    default_pod(namespace, i).label("color", "green").affinity(affinity)
}

/// Binds `pods` directly, pod `i` on node `i mod nodes` (what the scheduler would do for pods
/// spreading one per node), as scheduler_perf's initial pods are already running when it measures.
pub(crate) fn bind_round_robin(snapshot: &mut Snapshot, pods: impl IntoIterator<Item = kubesched_core::model::Pod>) {
    let order: Vec<NodeId> = snapshot.nodes_in_insertion_order().map(|n| n.id).collect();
    for (i, mut pod) in pods.into_iter().enumerate() {
        let node = order[i % order.len()];
        pod.node_name = Some(snapshot.node(node).name());
        snapshot.add_pod(Arc::new(pod), node);
    }
}

fn prepare(seed: u64) -> Prepared {
    let mut snapshot = Snapshot::new();
    for i in 0..5000 {
        snapshot.add_node(default_node(i).build());
    }
    bind_round_robin(&mut snapshot, (0..1000).map(|i| anti_affinity_pod("sched-0", i).build()));
    let pods = (0..2000).map(|i| Arc::new(anti_affinity_pod("sched-1", i).build())).collect();
    Prepared { snapshot, scheduler: scheduler(&SchedulerConfig::default(), seed), pods }
}
