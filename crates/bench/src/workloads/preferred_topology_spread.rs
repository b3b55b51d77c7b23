//! PreferredTopologySpreading/5000Nodes_5000Pods: as `topology-spread`, with the constraint
//! ScheduleAnyway (`pod-with-preferred-topology-spreading.yaml`), so it scores instead of filtering.

use super::topology_spread::{cluster, spreading_pod};
use crate::{Prepared, Workload, scheduler};
use kubesched_core::config::SchedulerConfig;
use kubesched_core::model::WhenUnsatisfiable;
use std::sync::Arc;

pub const WORKLOAD: Workload = Workload {
    name: "preferred-topology-spread",
    description: "5000 nodes in 3 zones, 5000 bound + 5000 pods with a soft zone spread, maxSkew 5 (PreferredTopologySpreading)",
    kube_threshold: Some(340.0),
    prepare,
};

fn prepare(seed: u64) -> Prepared {
    let snapshot = cluster();
    let pods = (0..5000).map(|i| Arc::new(spreading_pod(i, WhenUnsatisfiable::ScheduleAnyway).build())).collect();
    Prepared { snapshot, scheduler: scheduler(&SchedulerConfig::default(), seed), pods }
}
