//! Pods placed without a GPU plugin in the profile still get device indices, as the kubelet's
//! device manager assigns them, so fragmentation metrics see real device states.

use kubesched_core::batch::{account_bound_pods, schedule_pending};
use kubesched_core::builders::{NodeBuilder, PodBuilder};
use kubesched_core::config::SchedulerConfig;
use kubesched_core::framework::build_profiles;
use kubesched_core::intern::Sym;
use kubesched_core::plugins::registry;
use kubesched_core::schedule::Scheduler;
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

#[test]
fn default_profile_pods_get_the_lowest_free_devices() {
    let mut snapshot = Snapshot::new();
    snapshot
        .add_node(NodeBuilder::new("gpu-1").cpu_milli(64_000).memory(256 << 30).scalar("nvidia.com/gpu", 8).build());
    let bound =
        PodBuilder::new("default", "running").cpu_milli(100).scalar("nvidia.com/gpu", 3).node_name("gpu-1").build();
    assert!(account_bound_pods(&mut snapshot, [Arc::new(bound)]).is_empty());
    let profiles = build_profiles(&SchedulerConfig::default(), &registry()).unwrap();
    let mut scheduler = Scheduler::new(profiles, 0, 0);
    let pending =
        vec![Arc::new(PodBuilder::new("default", "train").cpu_milli(100).scalar("nvidia.com/gpu", 4).build())];
    schedule_pending(&mut scheduler, &mut snapshot, pending);
    let devices = |name: &str| {
        let id = snapshot.pod_id(Sym::new("default"), Sym::new(name)).unwrap();
        snapshot.pod(id).gpus.index_annotation()
    };
    assert_eq!(devices("running"), "0-1-2");
    assert_eq!(devices("train"), "3-4-5-6");
}

#[test]
fn free_capacity_counts_whole_free_devices_per_node() {
    let mut snapshot = Snapshot::new();
    for n in ["a", "b"] {
        snapshot.add_node(NodeBuilder::new(n).cpu_milli(64_000).memory(256 << 30).scalar("nvidia.com/gpu", 8).build());
    }
    let pods = [("p1", "a", 3), ("p2", "b", 7)].map(|(name, node, gpus)| {
        Arc::new(PodBuilder::new("default", name).scalar("nvidia.com/gpu", gpus).node_name(node).build())
    });
    account_bound_pods(&mut snapshot, pods);
    use kubesched_core::gpu::whole_gpu_pods_that_fit as fit;
    // Free devices: 5 on a, 1 on b.
    assert_eq!((fit(&snapshot, 1), fit(&snapshot, 2), fit(&snapshot, 4), fit(&snapshot, 8)), (6, 2, 1, 0));
}
