//! TopologySpreading/5000Nodes_5000Pods: nodes in zones moon-1, moon-2, moon-3; 5000 initial
//! default pods are bound, then 5000 `color: blue` pods with a hard spread over zones (maxSkew 5,
//! DoNotSchedule, `pod-with-topology-spreading.yaml`) are measured.

use super::pod_anti_affinity::bind_round_robin;
use super::{default_node, default_pod};
use crate::{Prepared, Workload, scheduler};
use kubesched_core::builders::PodBuilder;
use kubesched_core::config::SchedulerConfig;
use kubesched_core::intern::Sym;
use kubesched_core::model::{TopologySpreadConstraint, WhenUnsatisfiable};
use kubesched_core::selector::LabelSelector;
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

pub const WORKLOAD: Workload = Workload {
    name: "topology-spread",
    description: "5000 nodes in 3 zones, 5000 bound + 5000 pods with a hard zone spread, maxSkew 5 (TopologySpreading)",
    kube_threshold: Some(460.0),
    prepare,
};

/// 5000 nodes round-robin over moon-1..3 with 5000 default pods bound.
pub(crate) fn cluster() -> Snapshot {
    let mut snapshot = Snapshot::new();
    for i in 0..5000 {
        snapshot.add_node(default_node(i).zone(&format!("moon-{}", i % 3 + 1)).build());
    }
    bind_round_robin(&mut snapshot, (0..5000).map(|i| default_pod("default", 100_000 + i).build()));
    snapshot
}

/// A pod spreading `color: blue` pods over zones.
pub(crate) fn spreading_pod(i: usize, when: WhenUnsatisfiable) -> PodBuilder {
    let constraint = TopologySpreadConstraint {
        max_skew: 5,
        topology_key: Sym::ZONE,
        when_unsatisfiable: when,
        label_selector: Some(LabelSelector::from_match_labels([("color", "blue")])),
        min_domains: None,
        node_affinity_policy: None,
        node_taints_policy: None,
        match_label_keys: Vec::new(),
    };
    default_pod("default", i).label("color", "blue").with(|p| p.topology_spread_constraints = vec![constraint])
}

fn prepare(seed: u64) -> Prepared {
    let snapshot = cluster();
    let pods = (0..5000).map(|i| Arc::new(spreading_pod(i, WhenUnsatisfiable::DoNotSchedule).build())).collect();
    Prepared { snapshot, scheduler: scheduler(&SchedulerConfig::default(), seed), pods }
}
