//! The workloads, one per file. Node and pod shapes follow scheduler_perf's templates
//! (`node-default.yaml`: 4 CPU, 32Gi, 110 pods; `pod-default.yaml`: 100m / 500Mi).

use crate::Workload;
use kubesched_core::builders::{NodeBuilder, PodBuilder};
use kubesched_core::model::{Node, Pod};

pub mod basic;
pub mod gpu;
pub mod mixed;
pub mod node_affinity;
pub mod pod_affinity;
pub mod pod_anti_affinity;
pub mod preemption;
pub mod preferred_affinity;
pub mod preferred_topology_spread;
pub mod taints;
pub mod topology_spread;

pub static ALL: &[Workload] = &[
    basic::WORKLOAD,
    node_affinity::WORKLOAD,
    taints::WORKLOAD,
    gpu::WORKLOAD,
    preemption::WORKLOAD,
    pod_anti_affinity::WORKLOAD,
    pod_affinity::WORKLOAD,
    preferred_affinity::WORKLOAD,
    topology_spread::WORKLOAD,
    preferred_topology_spread::WORKLOAD,
    mixed::WORKLOAD,
];

pub const GI: i64 = 1 << 30;
pub const MI: i64 = 1 << 20;

/// scheduler_perf's `node-default.yaml`.
pub fn default_node(i: usize) -> NodeBuilder {
    NodeBuilder::new(&format!("scheduler-perf-{i}")).cpu_milli(4000).memory(32 * GI).pods(110)
}

/// scheduler_perf's `pod-default.yaml`.
pub fn default_pod(namespace: &str, i: usize) -> PodBuilder {
    PodBuilder::new(namespace, &format!("pod-{i}")).cpu_milli(100).memory(500 * MI).image("registry.k8s.io/pause:3.10")
}

/// Builds `n` nodes with `f`.
pub fn nodes(n: usize, f: impl Fn(usize) -> Node) -> Vec<Node> {
    (0..n).map(f).collect()
}

/// Builds `n` pods with `f`.
pub fn pods(n: usize, f: impl Fn(usize) -> Pod) -> Vec<Pod> {
    (0..n).map(f).collect()
}
