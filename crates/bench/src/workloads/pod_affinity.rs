//! SchedulingPodAffinity/5000Nodes_5000Pods: every pod carries `color: blue` and requires
//! affinity to `color: blue` pods in the same `topology.kubernetes.io/zone`, in sched-0 or
//! sched-1 (`pod-with-pod-affinity.yaml`). The nodes are labelled `zone1` (scheduler_perf's
//! `labelNodePrepareStrategy`); 5000 initial pods in sched-0 are bound, 5000 pods in sched-1 are
//! measured.

use super::pod_anti_affinity::{bind_round_robin, color_term, required};
use super::{default_node, default_pod};
use crate::{Prepared, Workload, scheduler};
use kubesched_core::builders::PodBuilder;
use kubesched_core::config::SchedulerConfig;
use kubesched_core::intern::Sym;
use kubesched_core::model::Affinity;
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

pub const WORKLOAD: Workload = Workload {
    name: "pod-affinity",
    description: "5000 nodes in zone1, 5000 bound + 5000 pods with required affinity on zone (SchedulingPodAffinity)",
    kube_threshold: Some(35.0),
    prepare,
};

/// `pod-with-pod-affinity.yaml`.
pub(crate) fn affinity_pod(namespace: &str, i: usize) -> PodBuilder {
    let affinity = Affinity { pod_affinity: Some(required(vec![color_term("blue", Sym::ZONE)])), ..Default::default() };
    default_pod(namespace, i).label("color", "blue").affinity(affinity)
}

fn prepare(seed: u64) -> Prepared {
    let mut snapshot = Snapshot::new();
    for i in 0..5000 {
        snapshot.add_node(default_node(i).zone("zone1").build());
    }
    bind_round_robin(&mut snapshot, (0..5000).map(|i| affinity_pod("sched-0", i).build()));
    let pods = (0..5000).map(|i| Arc::new(affinity_pod("sched-1", i).build())).collect();
    Prepared { snapshot, scheduler: scheduler(&SchedulerConfig::default(), seed), pods }
}
