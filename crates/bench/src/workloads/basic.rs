//! SchedulingBasic/5000Nodes_10000Pods: no constraints at all.

use super::{default_node, default_pod};
use crate::{Prepared, Workload, scheduler};
use kubesched_core::config::SchedulerConfig;
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

pub const WORKLOAD: Workload = Workload {
    name: "basic",
    description: "5000 nodes, 10000 pods, no constraints (SchedulingBasic/5000Nodes_10000Pods)",
    kube_threshold: Some(680.0),
    prepare,
};

fn prepare(seed: u64) -> Prepared {
    let mut snapshot = Snapshot::new();
    for i in 0..5000 {
        snapshot.add_node(default_node(i).build());
    }
    let pods = (0..10_000).map(|i| Arc::new(default_pod("default", i).build())).collect();
    Prepared { snapshot, scheduler: scheduler(&SchedulerConfig::default(), seed), pods }
}
