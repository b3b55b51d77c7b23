//! Benchmark workloads in the shape of kube-scheduler's `scheduler_perf`, generated in memory
//! (no YAML, no API server), one file per workload under `workloads/`.
//!
//! A workload builds a cluster (the snapshot, with its initial pods already bound), the
//! scheduler, and the pods to measure; [`run`] schedules the measured pods through the real
//! batch path and reports pods per second.

pub mod workloads;

use kubesched_core::batch::{DecisionKind, schedule_pending};
use kubesched_core::config::SchedulerConfig;
use kubesched_core::framework::build_profiles;
use kubesched_core::model::Pod;
use kubesched_core::plugins::registry;
use kubesched_core::schedule::Scheduler;
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A prepared benchmark: the cluster, the scheduler and the pods to schedule.
pub struct Prepared {
    pub snapshot: Snapshot,
    pub scheduler: Scheduler,
    pub pods: Vec<Arc<Pod>>,
}

/// A named workload.
pub struct Workload {
    pub name: &'static str,
    pub description: &'static str,
    /// kube-scheduler's own scheduler_perf threshold for the closest workload (pods/s), if any.
    pub kube_threshold: Option<f64>,
    pub prepare: fn(seed: u64) -> Prepared,
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct Report {
    pub workload: &'static str,
    pub nodes: usize,
    pub pods: usize,
    pub scheduled: usize,
    pub unschedulable: usize,
    pub elapsed: Duration,
}

impl Report {
    pub fn pods_per_second(&self) -> f64 {
        self.pods as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A scheduler with kube-scheduler's default configuration (or `config`).
pub fn scheduler(config: &SchedulerConfig, seed: u64) -> Scheduler {
    let profiles = build_profiles(config, &registry()).unwrap_or_else(|errs| {
        panic!("benchmark configuration is invalid: {errs:?}");
    });
    Scheduler::new(profiles, config.percentage_of_nodes_to_score.unwrap_or(0), seed)
}

/// Runs a prepared workload once and reports.
pub fn run(workload: &Workload, seed: u64) -> Report {
    let Prepared { mut snapshot, mut scheduler, pods } = (workload.prepare)(seed);
    let nodes = snapshot.num_nodes();
    let count = pods.len();
    let start = Instant::now();
    let decisions = schedule_pending(&mut scheduler, &mut snapshot, pods);
    let elapsed = start.elapsed();
    let scheduled = decisions.iter().filter(|d| matches!(d.kind, DecisionKind::Scheduled { .. })).count();
    let unschedulable = decisions.iter().filter(|d| matches!(d.kind, DecisionKind::Unschedulable { .. })).count();
    Report { workload: workload.name, nodes, pods: count, scheduled, unschedulable, elapsed }
}

pub fn find(name: &str) -> Option<&'static Workload> {
    workloads::ALL.iter().find(|w| w.name == name)
}
