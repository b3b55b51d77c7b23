//! Taints: half the nodes carry a NoSchedule taint the pods do not tolerate, a quarter carry a
//! PreferNoSchedule taint, so filtering rejects half the nodes and scoring separates the rest.

use super::{default_node, default_pod};
use crate::{Prepared, Workload, scheduler};
use kubesched_core::config::SchedulerConfig;
use kubesched_core::model::TaintEffect;
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

pub const WORKLOAD: Workload = Workload {
    name: "taints",
    description: "5000 nodes (50% NoSchedule-tainted, 25% PreferNoSchedule), 10000 pods",
    kube_threshold: None,
    prepare,
};

fn prepare(seed: u64) -> Prepared {
    let mut snapshot = Snapshot::new();
    for i in 0..5000 {
        let mut node = default_node(i);
        if i % 2 == 0 {
            node = node.taint("dedicated", "batch", TaintEffect::NoSchedule);
        } else if i % 4 == 1 {
            node = node.taint("spot", "true", TaintEffect::PreferNoSchedule);
        }
        snapshot.add_node(node.build());
    }
    let pods = (0..10_000).map(|i| Arc::new(default_pod("default", i).build())).collect();
    Prepared { snapshot, scheduler: scheduler(&SchedulerConfig::default(), seed), pods }
}
