//! SchedulingNodeAffinity/5000Nodes_10000Pods: every pod requires a zone by node affinity.
//! Nodes spread over three zones; pods require zone1 or zone2, so a third of the nodes fail.

use super::{default_node, default_pod};
use crate::{Prepared, Workload, scheduler};
use kubesched_core::config::SchedulerConfig;
use kubesched_core::intern::Sym;
use kubesched_core::selector::{NodeSelector, NodeSelectorOp, NodeSelectorRequirement, NodeSelectorTerm};
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

pub const WORKLOAD: Workload = Workload {
    name: "node-affinity",
    description: "5000 nodes in 3 zones, 10000 pods requiring zone1|zone2 (SchedulingNodeAffinity)",
    kube_threshold: Some(220.0),
    prepare,
};

fn prepare(seed: u64) -> Prepared {
    let mut snapshot = Snapshot::new();
    for i in 0..5000 {
        snapshot.add_node(default_node(i).zone(&format!("zone{}", i % 3 + 1)).build());
    }
    let requirement = NodeSelectorRequirement::new(
        Sym::ZONE,
        NodeSelectorOp::In,
        [Sym::new("zone1"), Sym::new("zone2")].into_iter().collect(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let selector = NodeSelector { terms: vec![NodeSelectorTerm::new(vec![requirement], vec![])] };
    let pods = (0..10_000)
        .map(|i| Arc::new(default_pod("default", i).required_node_affinity(selector.clone()).build()))
        .collect();
    Prepared { snapshot, scheduler: scheduler(&SchedulerConfig::default(), seed), pods }
}
