//! kubesched-sim: the what-if simulator. A scenario — a starting cluster, a scheduler
//! configuration and a timeline of events — runs through a discrete-event engine in which
//! kube-scheduler's queue, the workload controllers, the node lifecycle and taint-based eviction
//! act on simulated time, and every placement is made by the one scheduling core
//! (`kubesched_core::schedule::Scheduler`).
//!
//! # The scenario
//!
//! ```yaml
//! apiVersion: kubesched.io/v1alpha1
//! kind: Scenario
//! metadata:
//!   name: gpu-fragmentation            # shown in reports
//!   description: …                     # optional
//! spec:
//!   seed: 0                            # tie-breaking and generated names; --seed overrides
//!   duration: 2h                       # when the run stops; --until overrides. Without it the
//!                                      # run stops when nothing but retries is left to happen,
//!                                      # at the latest 1h after the last timeline event
//!   nodeMonitorGracePeriod: 50s        # NotReady → NoExecute taint delay (default 50s, v1.32+)
//!   sampleInterval: 1m                 # time series resolution (default 1m)
//!   checkpoints: [10m, 30m]            # record every node's state at these times
//!   timing:                            # simulated time the scheduler takes (default 0s each)
//!     schedulingCycle: 0s              # one cycle; the scheduler handles one pod at a time
//!     binding: 0s                      # assume → bound and running
//!   queue:
//!     popFromBackoffQ: true            # SchedulerPopFromBackoffQ (beta, on since v1.33)
//!   cluster:                           # the starting cluster, through the `schedule` loader
//!     manifests: [cluster.yaml, workloads/]   # files or folders, relative to this file
//!     objects: [ {apiVersion: v1, kind: Node, …} ]   # and/or inline objects
//!   scheduler:                         # KubeSchedulerConfiguration; default: kube's defaults
//!     name: spread                     # label in reports (default: the file name)
//!     config: least-allocated.yaml     # a file, or
//!     configuration: {apiVersion: kubescheduler.config.k8s.io/v1, kind: KubeSchedulerConfiguration, …}
//!   compare:                           # optional: run again with this configuration, side by side
//!     config: most-allocated.yaml
//!   events:                            # `at` + exactly one event type
//!   - {at: 30s, apply: inference.yaml}                     # path(s) or inline object(s)
//!   - {at: 1m, delete: deployment/web}                     # kind/name, kind/ns/name, or {kind, name, namespace}
//!   - {at: 2m, scale: {kind: Deployment, name: web, replicas: 10}}   # Deployment, ReplicaSet, StatefulSet
//!   - {at: 5m, removeSchedulingGates: {pod: analysis, gates: [example.com/data]}}   # all gates if none named
//!   - {at: 6m, updatePod: {pod: analysis, nodeSelector: {disk: ssd}, requiredNodeAffinity: {nodeSelectorTerms: […]}, schedulingGates: […]}}
//!   - {at: 10m, cordon: node-1}                            # and uncordon
//!   - {at: 11m, drain: {node: node-2, timeout: 10m}}       # respects PodDisruptionBudgets, retries every 5s
//!   - {at: 12m, taint: {node: node-3, key: k, value: v, effect: NoExecute}}
//!   - {at: 13m, untaint: {node: node-3, key: k}}           # effect optional
//!   - {at: 20m, failNode: {node: gpu-3, condition: NotReady}}   # or Unreachable; or just `failNode: gpu-3`
//!   - {at: 40m, recoverNode: gpu-3}
//! ```
//!
//! Pods (and pod templates) may carry `kubesched.io/duration: 10m`: the pod succeeds that long
//! after it starts (a Job counts it as a completion). Everything is validated before the run:
//! unknown fields and event types, malformed times, manifests that do not load, pods that
//! admission would refuse, and events naming objects that do not exist at that point of the
//! timeline are errors naming the file, the line and the field.
//!
//! # What runs
//! - [`queue`]: kube-scheduler's activeQ / backoffQ / unschedulablePods with its flush loops and
//!   a documented simplification of QueueingHints;
//! - [`engine`]: time, pods, nodes, node lifecycle (NoSchedule at once, NoExecute after the grace
//!   period), taint-based eviction after `tolerationSeconds` (300s from DefaultTolerationSeconds),
//!   drains through the eviction API, preemption acted on, scheduling and binding durations;
//! - [`controllers`]: Deployment (rolling updates), ReplicaSet, StatefulSet, Job, DaemonSet;
//! - [`podupdate`]: kube-apiserver's rules and messages for updates of gated pods;
//! - [`metrics`] and [`report`]: time series, latency, allocation, fragmentation, the JSON
//!   document and the tables;
//! - [`actor`]: the plug-in point for other actors (autoscalers, serverless schedulers).

pub mod actor;
pub mod autoscaler;
pub mod bench;
pub mod cloud;
pub mod controllers;
pub mod demo;
pub mod engine;
pub mod fargate;
pub mod metrics;
pub mod podupdate;
pub mod queue;
pub mod report;
pub mod scenario;
pub mod time;

#[cfg(test)]
mod cloud_tests;
#[cfg(test)]
mod tests;

pub use actor::{Actor, ActorCx, ActorOutput, Notice};
pub use report::{Comparison, Report};
pub use scenario::{ConfigChoice, Scenario, load_file, parse};

use time::Millis;

/// Runs `scenario` with one configuration until `until` (or the scenario's duration).
pub fn run(
    scenario: &Scenario,
    config: &ConfigChoice,
    until: Option<Millis>,
    actors: Vec<Box<dyn Actor>>,
    progress: &mut dyn FnMut(Millis, Option<Millis>),
) -> Result<Report, String> {
    let engine = engine::Engine::new(scenario, config, until, actors)?;
    Ok(engine.run(progress))
}

/// The actors a scenario brings: the autoscaler when it has NodePools (or `autoMode`), judging
/// placements with the configuration's default-scheduler profile; fargate-scheduler when it has
/// Fargate profiles.
pub fn scenario_actors(scenario: &Scenario, config: &ConfigChoice) -> Result<Vec<Box<dyn Actor>>, String> {
    let mut actors: Vec<Box<dyn Actor>> = Vec::new();
    if scenario.has_autoscaling() {
        let profiles = kubesched_core::framework::build_profiles(&config.config, &kubesched_core::plugins::registry())
            .map_err(|errs| format!("configuration {}: {}", config.label, errs.len()))?;
        let profile = profiles
            .iter()
            .find(|p| p.scheduler_name == kubesched_core::Sym::DEFAULT_SCHEDULER)
            .or(profiles.first())
            .cloned()
            .unwrap_or_else(kubesched_autoscale::default_profile);
        actors.push(Box::new(autoscaler::AutoscalerActor::new(scenario, profile)?));
    }
    if let Some(f) = &scenario.fargate {
        actors.push(Box::new(fargate::FargateActor::new(
            f.profiles.clone(),
            scenario.fargate_settings.clone(),
            scenario.seed,
        )));
    }
    Ok(actors)
}

/// What `kubesched simulate` produces.
#[derive(Debug, Clone)]
pub enum Outcome {
    Single(Box<Report>),
    Compare(Box<Comparison>),
}

/// Runs the scenario with its configuration, and again with `compare` (or the scenario's own
/// `compare`) when there is one.
pub fn simulate(
    scenario: &Scenario,
    compare: Option<&ConfigChoice>,
    until: Option<Millis>,
    progress: &mut dyn FnMut(usize, Millis, Option<Millis>),
) -> Result<Outcome, String> {
    let actors = scenario_actors(scenario, &scenario.scheduler)?;
    let a = run(scenario, &scenario.scheduler, until, actors, &mut |t, u| progress(0, t, u))?;
    let Some(b_config) = compare.or(scenario.compare.as_ref()) else { return Ok(Outcome::Single(Box::new(a))) };
    let mut b_config = b_config.clone();
    if b_config.label == scenario.scheduler.label {
        b_config.label = format!("{} (compare)", b_config.label);
    }
    let actors = scenario_actors(scenario, &b_config)?;
    let b = run(scenario, &b_config, until, actors, &mut |t, u| progress(1, t, u))?;
    Ok(Outcome::Compare(Box::new(report::compare(a, b))))
}
