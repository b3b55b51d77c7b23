//! MixedSchedulingBasePod/5000Nodes_5000Pods: nodes in zone1; 2000 initial pods of each of
//! five templates (default, required affinity, required anti-affinity, preferred affinity,
//! preferred anti-affinity) are bound in sched-0; then 5000 pods are measured. scheduler_perf
//! measures default pods only; here the measured pods cycle through the five templates too, so
//! that every path (filters, symmetric anti-affinity, scoring of existing terms) is exercised.

use super::pod_affinity::affinity_pod;
use super::pod_anti_affinity::{anti_affinity_pod, bind_round_robin};
use super::preferred_affinity::{preferred_affinity_pod, preferred_anti_affinity_pod};
use super::{default_node, default_pod};
use crate::{Prepared, Workload, scheduler};
use kubesched_core::builders::PodBuilder;
use kubesched_core::config::SchedulerConfig;
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

pub const WORKLOAD: Workload = Workload {
    name: "mixed",
    description: "5000 nodes, 10000 bound + 5000 pods mixing default, (anti-)affinity and preferred pods (MixedSchedulingBasePod)",
    kube_threshold: Some(140.0),
    prepare,
};

fn template(kind: usize, namespace: &str, i: usize) -> PodBuilder {
    match kind % 5 {
        0 => default_pod(namespace, i),
        1 => affinity_pod(namespace, i),
        2 => anti_affinity_pod(namespace, i),
        3 => preferred_affinity_pod(namespace, i),
        _ => preferred_anti_affinity_pod(namespace, i),
    }
}

fn prepare(seed: u64) -> Prepared {
    let mut snapshot = Snapshot::new();
    for i in 0..5000 {
        snapshot.add_node(default_node(i).zone("zone1").build());
    }
    // Template by template, as scheduler_perf creates them; each template's pods spread one per node.
    for kind in 0..5 {
        bind_round_robin(&mut snapshot, (0..2000).map(|i| template(kind, "sched-0", kind * 2000 + i).build()));
    }
    let pods = (0..5000).map(|i| Arc::new(template(i, "sched-1", i).build())).collect();
    Prepared { snapshot, scheduler: scheduler(&SchedulerConfig::default(), seed), pods }
}
