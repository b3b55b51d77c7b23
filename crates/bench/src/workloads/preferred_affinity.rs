//! SchedulingPreferredPodAffinity and SchedulingPreferredPodAntiAffinity (5000Nodes_5000Pods)
//! together: half the pods are `color: red` with a preferred affinity (weight 1) to red pods on
//! the same hostname (`pod-with-preferred-pod-affinity.yaml`), half are `color: yellow` with a
//! preferred anti-affinity to yellow pods (`pod-with-preferred-pod-anti-affinity.yaml`). 5000
//! initial pods in sched-0 are bound, 5000 pods in sched-1 are measured.

use super::pod_anti_affinity::{bind_round_robin, color_term, preferred};
use super::{default_node, default_pod};
use crate::{Prepared, Workload, scheduler};
use kubesched_core::builders::PodBuilder;
use kubesched_core::config::SchedulerConfig;
use kubesched_core::intern::Sym;
use kubesched_core::model::Affinity;
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

pub const WORKLOAD: Workload = Workload {
    name: "preferred-affinity",
    description: "5000 nodes, 5000 bound + 5000 pods with preferred affinity / anti-affinity on hostname (SchedulingPreferredPod(Anti)Affinity)",
    kube_threshold: Some(90.0),
    prepare,
};

/// `pod-with-preferred-pod-affinity.yaml`.
pub(crate) fn preferred_affinity_pod(namespace: &str, i: usize) -> PodBuilder {
    let affinity = Affinity { pod_affinity: Some(preferred(color_term("red", Sym::HOSTNAME))), ..Default::default() };
    default_pod(namespace, i).label("color", "red").affinity(affinity)
}

/// `pod-with-preferred-pod-anti-affinity.yaml`.
pub(crate) fn preferred_anti_affinity_pod(namespace: &str, i: usize) -> PodBuilder {
    let affinity =
        Affinity { pod_anti_affinity: Some(preferred(color_term("yellow", Sym::HOSTNAME))), ..Default::default() };
    default_pod(namespace, i).label("color", "yellow").affinity(affinity)
}

fn pod(namespace: &str, i: usize) -> PodBuilder {
    if i.is_multiple_of(2) { preferred_affinity_pod(namespace, i) } else { preferred_anti_affinity_pod(namespace, i) }
}

fn prepare(seed: u64) -> Prepared {
    let mut snapshot = Snapshot::new();
    for i in 0..5000 {
        snapshot.add_node(default_node(i).build());
    }
    bind_round_robin(&mut snapshot, (0..5000).map(|i| pod("sched-0", i).build()));
    let pods = (0..5000).map(|i| Arc::new(pod("sched-1", i).build())).collect();
    Prepared { snapshot, scheduler: scheduler(&SchedulerConfig::default(), seed), pods }
}
