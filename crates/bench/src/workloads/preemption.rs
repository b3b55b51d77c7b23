//! PreemptionBasic/500Nodes (scheduler_perf): 500 nodes each filled with four low-priority pods
//! (`pod-low-priority.yaml`: 900m / 500Mi, priority 0, 3600m of 4000m), then 500 pods of
//! priority 10 (`pod-high-priority.yaml`: 3000m / 500Mi) that fit nowhere until three of a
//! node's four low-priority pods are preempted. Every measured pod goes through a full failed
//! filter pass, the preemption dry run, eviction, nomination and a second cycle on its
//! nominated node. No start times are set, as in scheduler_perf where no kubelet runs.

use super::{MI, default_node, nodes};
use crate::{Prepared, Workload, scheduler};
use kubesched_core::builders::PodBuilder;
use kubesched_core::config::SchedulerConfig;
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

pub const WORKLOAD: Workload = Workload {
    name: "preemption",
    description: "500 nodes full of low-priority pods, 500 high-priority pods that must preempt (PreemptionBasic/500Nodes)",
    // scheduler_perf sets no threshold for PreemptionBasic.
    kube_threshold: None,
    prepare,
};

pub const NODES: usize = 500;
pub const LOW_PODS_PER_NODE: usize = 4;
pub const HIGH_PODS: usize = 500;

fn prepare(seed: u64) -> Prepared {
    let mut snapshot = Snapshot::new();
    for (n, node) in nodes(NODES, |i| default_node(i).build()).into_iter().enumerate() {
        let id = snapshot.add_node(node);
        for k in 0..LOW_PODS_PER_NODE {
            let i = n * LOW_PODS_PER_NODE + k;
            let name = format!("low-{i}");
            let node_name = format!("scheduler-perf-{n}");
            let pod = PodBuilder::new("default", &name)
                .cpu_milli(900)
                .memory(500 * MI)
                .image("registry.k8s.io/pause:3.10")
                .node_name(&node_name)
                .build();
            snapshot.add_pod(Arc::new(pod), id);
        }
    }
    let pods = (0..HIGH_PODS)
        .map(|i| {
            Arc::new(
                PodBuilder::new("default", &format!("high-{i}"))
                    .cpu_milli(3000)
                    .memory(500 * MI)
                    .image("registry.k8s.io/pause:3.10")
                    .priority(10)
                    .build(),
            )
        })
        .collect();
    Prepared { snapshot, scheduler: scheduler(&SchedulerConfig::default(), seed), pods }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubesched_core::batch::{DecisionKind, schedule_pending};

    #[test]
    fn every_high_priority_pod_preempts_three_low_priority_pods() {
        let Prepared { mut snapshot, mut scheduler, pods } = prepare(1);
        let decisions = schedule_pending(&mut scheduler, &mut snapshot, pods);
        let scheduled = decisions.iter().filter(|d| matches!(d.kind, DecisionKind::Scheduled { .. })).count();
        let preempted = decisions.iter().filter(|d| matches!(d.kind, DecisionKind::Preempted { .. })).count();
        assert_eq!((scheduled, preempted), (HIGH_PODS, 3 * HIGH_PODS));
        for info in snapshot.nodes() {
            assert_eq!((info.pods.len(), info.requested.cpu), (2, 3900), "{}", info.name());
        }
    }
}
