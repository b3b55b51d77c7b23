//! `kubesched bench simulate`: an hour of a 5000-node cluster. 50,000 pods arrive over the hour
//! in 500 workloads of 100 pods (Deployments that keep running, Jobs whose pods run 5 to 30
//! minutes), and 5% of the nodes fail (NotReady) at random times; their pods are evicted 350 s
//! later (50 s grace period + 300 s DefaultTolerationSeconds) and replaced by their controllers.
//! Everything goes through the same engine, queue, controllers and scheduling core as
//! `kubesched simulate`, with kube-scheduler's default configuration.

use crate::scenario::{
    Action, ConfigChoice, DEFAULT_NODE_MONITOR_GRACE_PERIOD, DEFAULT_SAMPLE_INTERVAL, Scenario, TimedEvent, Timing,
};
use crate::time::{HOUR, Millis};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use kubesched_core::builders::NodeBuilder;
use kubesched_core::config::SchedulerConfig;
use kubesched_core::model::Readiness;
use kubesched_core::rng::Rng;
use kubesched_k8s::decode::{DecodedObject, Object};
use kubesched_k8s::error::Source;
use kubesched_k8s::tree::{Node, Value};
use kubesched_k8s::{Cluster, LoadedNode};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The shape of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub nodes: usize,
    pub pods: usize,
    /// Pods per workload (Deployment replicas, Job completions).
    pub per_workload: usize,
    pub failures: usize,
    pub duration: Millis,
}

/// 5000 nodes, 50,000 pods over an hour, 5% node failures.
pub const DEFAULT: Shape = Shape { nodes: 5000, pods: 50_000, per_workload: 100, failures: 250, duration: HOUR };

/// What one run measured.
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub shape: Shape,
    pub created: usize,
    pub bound: usize,
    pub attempts: usize,
    pub evicted: usize,
    pub succeeded: usize,
    pub pending_at_end: usize,
    pub events: usize,
    pub simulated: Millis,
    /// Loading the scenario (building objects, the starting cluster).
    pub setup: Duration,
    /// The run itself.
    pub wall: Duration,
}

impl BenchReport {
    /// Simulated seconds per wall-clock second.
    pub fn speedup(&self) -> f64 {
        self.simulated as f64 / 1000.0 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Scheduling attempts per wall-clock second.
    pub fn attempts_per_second(&self) -> f64 {
        self.attempts as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

fn decoded(seq: usize, object: Object) -> DecodedObject {
    DecodedObject {
        seq,
        source: Source::new("bench", seq + 1, None, 1),
        object,
        tree: Arc::new(Node::new(1, Value::Null)),
    }
}

fn workload(i: usize, rng: &mut Rng, per: usize) -> Result<Object, String> {
    let cpu = ["250m", "500m", "1", "2"][rng.below(4) as usize];
    let memory = ["512Mi", "1Gi", "2Gi", "4Gi"][rng.below(4) as usize];
    let name = format!("w{i:04}");
    let container = serde_json::json!({"name": "c", "image": "registry.k8s.io/pause:3.10", "resources": {"requests": {"cpu": cpu, "memory": memory}}});
    if rng.below(10) < 3 {
        let minutes = 5 + rng.below(26);
        let job = serde_json::json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"completions": per, "parallelism": per,
                "template": {"metadata": {"annotations": {crate::scenario::DURATION_ANNOTATION: format!("{minutes}m")}},
                    "spec": {"restartPolicy": "Never", "containers": [container]}}}
        });
        let mut j: Job = serde_json::from_value(job).map_err(|e| e.to_string())?;
        j.metadata.uid = Some(kubesched_k8s::controllers::deterministic_uid("Job", "default", &name));
        return Ok(Object::Job(Box::new(j)));
    }
    let d = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": per, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}
    });
    let mut d: Deployment = serde_json::from_value(d).map_err(|e| e.to_string())?;
    d.metadata.uid = Some(kubesched_k8s::controllers::deterministic_uid("Deployment", "default", &name));
    Ok(Object::Deployment(Box::new(d)))
}

/// The benchmark scenario, generated in memory (no YAML).
pub fn scenario(seed: u64, shape: Shape) -> Result<Scenario, String> {
    let mut rng = Rng::new(seed ^ 0x51u64);
    let mut cluster = Cluster::default();
    for i in 0..shape.nodes {
        let model = NodeBuilder::new(&format!("node-{i:05}"))
            .cpu_milli(16_000)
            .memory(64 << 30)
            .pods(110)
            .zone(["zone-a", "zone-b", "zone-c", "zone-d"][i % 4])
            .build();
        cluster.nodes.push(LoadedNode {
            object: Arc::new(Default::default()),
            model,
            source: Source::new("bench", 1, None, 1),
        });
    }
    let mut events = Vec::new();
    let workloads = shape.pods / shape.per_workload.max(1);
    for i in 0..workloads {
        let at = shape.duration * i as u64 / workloads.max(1) as u64;
        let object = workload(i, &mut rng, shape.per_workload)?;
        events.push(TimedEvent {
            at,
            index: events.len(),
            line: 0,
            action: Action::Apply(vec![decoded(i, object)]),
            cloud: Vec::new(),
        });
    }
    let mut failing: Vec<usize> = (0..shape.nodes).collect();
    rng.shuffle(&mut failing);
    for &n in failing.iter().take(shape.failures) {
        let at = 1 + rng.below(shape.duration.max(2) - 1);
        events.push(TimedEvent {
            at,
            index: events.len(),
            line: 0,
            action: Action::FailNode { node: format!("node-{n:05}"), condition: Readiness::NotReady },
            cloud: Vec::new(),
        });
    }
    events.sort_by_key(|e| (e.at, e.index));
    Ok(Scenario {
        name: "bench-simulate".into(),
        description: None,
        file: "bench".into(),
        seed,
        duration: Some(shape.duration),
        node_monitor_grace_period: DEFAULT_NODE_MONITOR_GRACE_PERIOD,
        sample_interval: DEFAULT_SAMPLE_INTERVAL,
        checkpoints: Vec::new(),
        timing: Timing::default(),
        pop_from_backoff_q: true,
        cluster,
        scheduler: ConfigChoice { label: "default".into(), config: SchedulerConfig::default() },
        compare: None,
        events,
        warnings: Vec::new(),
        cloud: Vec::new(),
        cloud_at_start: Vec::new(),
        auto_mode: false,
        autoscaling: Default::default(),
        fargate: None,
        fargate_settings: Default::default(),
        admission: Default::default(),
    })
}

/// Builds and runs the benchmark once.
pub fn run(seed: u64, shape: Shape) -> Result<BenchReport, String> {
    let start = Instant::now();
    let s = scenario(seed, shape)?;
    let setup = start.elapsed();
    let start = Instant::now();
    let r = crate::run(&s, &s.scheduler, None, Vec::new(), &mut |_, _| {})?;
    let wall = start.elapsed();
    Ok(BenchReport {
        shape,
        created: r.summary.pods_created,
        bound: r.summary.pods_scheduled,
        attempts: r.summary.scheduling_attempts,
        evicted: r.summary.pods_evicted,
        succeeded: r.summary.pods_succeeded,
        pending_at_end: r.summary.pods_pending,
        events: r.events.len(),
        simulated: (r.end_seconds * 1000.0) as Millis,
        setup,
        wall,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_has_the_shape_asked_for() {
        let shape = Shape { nodes: 50, pods: 500, per_workload: 50, failures: 5, duration: HOUR };
        let r = run(3, shape).expect("runs");
        assert!(r.created >= 500, "{r:?}");
        assert!(r.evicted > 0, "failed nodes' pods are evicted: {r:?}");
        assert_eq!(r.simulated, HOUR);
        let s = scenario(3, shape).expect("builds");
        let fails = s.events.iter().filter(|e| matches!(e.action, Action::FailNode { .. })).count();
        assert_eq!((s.cluster.nodes.len(), fails, s.events.len() - fails), (50, 5, 10));
    }
}
