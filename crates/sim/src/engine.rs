//! The discrete-event engine: simulated time, the event heap, pods and nodes, the scheduler loop
//! around `kubesched_core::schedule::Scheduler`, node lifecycle and taint-based eviction, drains.
//!
//! ## How an instant is processed
//! 1. every event due at this instant runs (timeline events in file order, timers in the order
//!    they were set);
//! 2. the controllers reconcile whatever changed (Deployments, ReplicaSets, StatefulSets, Jobs,
//!    DaemonSets), the disruption controller recomputes budgets, plugged-in actors are notified;
//! 3. the scheduler pops pods from activeQ and runs one cycle each, through the one core;
//! 4. steps 1–3 repeat until nothing is left at this instant.
//!
//! Scheduling cycles and bindings take `timing.schedulingCycle` / `timing.binding` of
//! simulated time (0 by default: the scheduler keeps up with everything). Deletions are
//! immediate (no termination grace period), and controllers react at the same instant.

use crate::actor::{Actor, ActorCx, Notice};
use crate::controllers::{Controllers, OwnerId};
use crate::queue::{ClusterEvent, Place, Plugins, PodIdx, QueueConfig, SchedulingQueue};
use crate::report::{LogEntry, Report};
use crate::scenario::{Action, ConfigChoice, DEFAULT_DRAIN_RETRY, DURATION_ANNOTATION, Kind, ObjRef, Scenario};
use crate::time::{Millis, SECOND, format_duration, parse_duration, seconds};
use k8s_openapi::api::core::v1::Pod as K8sPod;
use kubesched_core::Sym;
use kubesched_core::admission::kubelet_admit;
use kubesched_core::batch::{Decision, DecisionKind};
use kubesched_core::framework::build_profiles;
use kubesched_core::model::{Node, Pod, PodDisruptionBudget, PodPhase, Readiness, Taint, TaintEffect};
use kubesched_core::pdb;
use kubesched_core::plugins::default_preemption::after_preemption;
use kubesched_core::schedule::{Outcome, Scheduler};
use kubesched_core::snapshot::{NodeId, PodId, Snapshot};
use kubesched_k8s::admission::{AdmissionChain, PriorityClasses};
use kubesched_k8s::controllers::NameGenerator;
use kubesched_k8s::decode::Object;
use kubesched_report::schedule::PodEntry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// A run without a duration stops at the latest this long after the last timeline event.
pub const HORIZON_AFTER_LAST_EVENT: Millis = 60 * 60 * SECOND;

/// A pod's lifecycle phase in the simulation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    Pending,
    /// Assumed on a node, the binding cycle still running.
    Binding,
    Running,
    Succeeded,
    Failed,
}

impl Phase {
    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

/// Everything the simulation knows about one pod (one per pod ever created).
#[derive(Clone, Debug)]
pub struct PodRec {
    pub key: String,
    pub object: Arc<K8sPod>,
    pub model: Arc<Pod>,
    pub owner: Option<OwnerId>,
    pub profile: Option<usize>,
    pub phase: Phase,
    pub deleted: bool,
    pub node: Option<Sym>,
    pub snap_id: Option<PodId>,
    pub created_at: Millis,
    /// When the pod first became schedulable (created without gates, or its gates removed).
    pub queued_at: Option<Millis>,
    pub bound_at: Option<Millis>,
    pub started_at: Option<Millis>,
    pub ended_at: Option<Millis>,
    pub end_reason: Option<String>,
    pub last_message: Option<String>,
    pub duration: Option<Millis>,
    /// The pod's time ran out while its node was down: it completes when the node is back.
    pub completion_due: bool,
    /// Taint-based eviction: (timer created, fires at).
    pub eviction: Option<(Millis, Millis)>,
    pub evict_gen: u32,
    pub run_gen: u32,
}

impl PodRec {
    pub fn is_live(&self) -> bool {
        !self.deleted && !self.phase.is_terminal()
    }
}

#[derive(Clone, Debug)]
pub struct Drain {
    pub started: Millis,
    pub timeout: Option<Millis>,
    pub epoch: u32,
}

#[derive(Clone, Debug)]
pub struct NodeRec {
    pub name: Sym,
    pub id: Option<NodeId>,
    pub failed: Option<Readiness>,
    pub fail_gen: u32,
    pub drain: Option<Drain>,
    pub drain_gen: u32,
}

#[derive(Clone, Debug)]
pub struct PdbRec {
    pub model: PodDisruptionBudget,
    pub deleted: bool,
}

/// Scheduled work.
#[derive(Clone, Debug)]
pub enum Ev {
    Timeline(usize),
    PodComplete {
        pod: PodIdx,
        epoch: u32,
    },
    BindDone {
        pod: PodIdx,
        epoch: u32,
    },
    Evict {
        pod: PodIdx,
        epoch: u32,
    },
    NoExecute {
        node: usize,
        epoch: u32,
    },
    DrainRetry {
        node: usize,
        epoch: u32,
    },
    JobTtl {
        job: u32,
    },
    BackoffFlush,
    LeftoverFlush,
    SchedulerFree,
    Sample,
    Checkpoint,
    ActorTimer {
        actor: usize,
        token: u64,
    },
    /// A periodic actor timer: does not keep a run going.
    ActorBackground {
        actor: usize,
        token: u64,
    },
    ActorAddNode {
        actor: usize,
        node: Box<Node>,
    },
}

impl Ev {
    /// Events that keep a run without a duration going. Queue flushes, drain retries and samples
    /// do not: a pod unschedulable forever must not keep the clock running.
    fn is_real(&self) -> bool {
        !matches!(
            self,
            Ev::BackoffFlush
                | Ev::LeftoverFlush
                | Ev::DrainRetry { .. }
                | Ev::Sample
                | Ev::SchedulerFree
                | Ev::Checkpoint
                | Ev::ActorBackground { .. }
        )
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub created: usize,
    pub bound: usize,
    pub attempts: usize,
    pub unschedulable_attempts: usize,
    pub succeeded: usize,
    pub evicted: usize,
    pub preempted: usize,
    pub deleted: usize,
    pub running: usize,
}

/// One run of a scenario with one configuration.
pub struct Engine<'s> {
    pub scenario: &'s Scenario,
    pub config: ConfigChoice,
    pub now: Millis,
    pub until: Option<Millis>,
    events: BTreeMap<(Millis, u64), Ev>,
    ev_seq: u64,
    real_pending: usize,
    pub snapshot: Snapshot,
    pub scheduler: Scheduler,
    pub queue: SchedulingQueue,
    pub pods: Vec<PodRec>,
    pub pod_by_key: HashMap<(Sym, Sym), PodIdx>,
    pub nodes: Vec<NodeRec>,
    node_by_name: HashMap<Sym, usize>,
    pub ctrl: Controllers,
    pub pdbs: Vec<PdbRec>,
    pub pdb_dirty: bool,
    /// Services, for PodTopologySpread's default constraints (with the controllers' selectors).
    pub services: Vec<k8s_openapi::api::core::v1::Service>,
    pub selectors_dirty: bool,
    pub chain: AdmissionChain,
    pub priority_classes: PriorityClasses,
    pub names: NameGenerator,
    pub log: Vec<LogEntry>,
    pub counters: Counters,
    pub latencies: Vec<Millis>,
    pub samples: Vec<crate::report::Sample>,
    pub checkpoints: Vec<crate::report::Checkpoint>,
    checkpoint_due: bool,
    scheduler_free_at: Millis,
    scheduler_wake: Option<Millis>,
    backoff_flushes: BTreeSet<Millis>,
    leftover_flushes: BTreeSet<Millis>,
    actors: Vec<Box<dyn Actor>>,
    actor_names: Vec<String>,
    notices: Vec<Notice>,
    pub warnings: Vec<String>,
    processed: u64,
}

/// QueueSort of the profiles, as a closure the queue can call.
pub fn less_of(s: &Scheduler) -> impl Fn(&Pod, u64, &Pod, u64) -> bool + '_ {
    |a: &Pod, sa: u64, b: &Pod, sb: u64| s.queue_less(a, sa, b, sb)
}

/// The pod's `namespace/name` key symbols.
fn pod_key(p: &Pod) -> (Sym, Sym) {
    (p.namespace, p.name)
}

impl<'s> Engine<'s> {
    /// Builds the starting state: nodes, namespaces, budgets, controllers and pods of the
    /// scenario's cluster, the timeline, and the first sample.
    pub fn new(
        scenario: &'s Scenario,
        config: &ConfigChoice,
        until: Option<Millis>,
        actors: Vec<Box<dyn Actor>>,
    ) -> Result<Engine<'s>, String> {
        let profiles = build_profiles(&config.config, &kubesched_core::plugins::registry()).map_err(|errs| {
            let texts: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            format!("configuration {}: {}", config.label, texts.join("; "))
        })?;
        let scheduler =
            Scheduler::new(profiles, config.config.percentage_of_nodes_to_score.unwrap_or(0), scenario.seed);
        let queue = SchedulingQueue::new(QueueConfig {
            initial_backoff: config.config.pod_initial_backoff_seconds.max(0) as Millis * SECOND,
            max_backoff: config.config.pod_max_backoff_seconds.max(0) as Millis * SECOND,
            pop_from_backoff: scenario.pop_from_backoff_q,
        });
        let mut e = Engine {
            scenario,
            config: config.clone(),
            now: 0,
            until: until.or(scenario.duration),
            events: BTreeMap::new(),
            ev_seq: 0,
            real_pending: 0,
            snapshot: Snapshot::new(),
            scheduler,
            queue,
            pods: Vec::new(),
            pod_by_key: HashMap::new(),
            nodes: Vec::new(),
            node_by_name: HashMap::new(),
            ctrl: Controllers::default(),
            pdbs: Vec::new(),
            pdb_dirty: true,
            services: scenario.cluster.services.iter().map(|s| (*s.object).clone()).collect(),
            selectors_dirty: false,
            chain: scenario.admission.clone(),
            priority_classes: scenario.cluster.priority_classes.clone(),
            names: NameGenerator::new(scenario.seed),
            log: Vec::new(),
            counters: Counters::default(),
            latencies: Vec::new(),
            samples: Vec::new(),
            checkpoints: Vec::new(),
            checkpoint_due: false,
            scheduler_free_at: 0,
            scheduler_wake: None,
            backoff_flushes: BTreeSet::new(),
            leftover_flushes: BTreeSet::new(),
            actor_names: actors.iter().map(|a| a.name().to_string()).collect(),
            actors,
            notices: Vec::new(),
            warnings: scenario.warnings.clone(),
            processed: 0,
        };
        e.init();
        Ok(e)
    }

    fn init(&mut self) {
        let c = &self.scenario.cluster;
        for n in &c.nodes {
            self.add_node_model(n.model.clone(), false);
        }
        for ns in &c.namespaces {
            self.snapshot.add_namespace(ns.clone());
        }
        self.pdbs = c.pdbs.iter().map(|p| PdbRec { model: p.clone(), deleted: false }).collect();
        self.snapshot.set_workload_selectors(c.workload_selectors.clone());
        for p in &c.pods {
            self.names.reserve(p.model.namespace.as_str(), p.model.name.as_str());
        }
        self.register_cluster_controllers();
        // Bound pods first (they hold their resources before anything is scheduled), then the
        // rest in input order.
        let pods: Vec<(Arc<K8sPod>, Pod)> = c.pods.iter().map(|p| (p.object.clone(), p.model.clone())).collect();
        let (bound, pending): (Vec<_>, Vec<_>) = pods.into_iter().partition(|(_, m)| m.node_name.is_some());
        for (object, model) in bound.into_iter().chain(pending) {
            let owner = self.find_owner(&object);
            self.admit_pod(object, model, owner, false);
        }
        for (i, ev) in self.scenario.events.iter().enumerate() {
            self.push(ev.at, Ev::Timeline(i));
        }
        self.push(0, Ev::Sample);
        for &at in &self.scenario.checkpoints {
            self.push(at, Ev::Checkpoint);
        }
        self.start_actors();
    }

    // ---- the clock ----

    pub fn push(&mut self, at: Millis, ev: Ev) {
        if ev.is_real() {
            self.real_pending += 1;
        }
        self.ev_seq += 1;
        self.events.insert((at.max(self.now), self.ev_seq), ev);
    }

    /// Runs to the end; `progress` is called now and then with (now, until).
    pub fn run(mut self, progress: &mut dyn FnMut(Millis, Option<Millis>)) -> Report {
        // Without a duration: until nothing is left to happen, and at most one hour after the
        // last timeline event (a drain blocked by a budget would otherwise retry forever).
        let horizon = self.scenario.events.last().map_or(0, |e| e.at) + HORIZON_AFTER_LAST_EVENT;
        while let Some((&(t, _), _)) = self.events.first_key_value() {
            match self.until {
                Some(u) if t > u => break,
                Some(_) => {}
                None => {
                    let draining = self.nodes.iter().any(|n| n.drain.is_some());
                    let busy =
                        self.real_pending > 0 || self.queue.has_active() || self.queue.has_backoff_retry() || draining;
                    if !busy || t > horizon {
                        break;
                    }
                }
            }
            self.now = t;
            self.process_instant();
            self.processed += 1;
            if self.processed.is_multiple_of(64) {
                progress(self.now, self.until);
            }
        }
        if let Some(u) = self.until {
            self.now = self.now.max(u);
        }
        progress(self.now, self.until);
        self.sample();
        let out = self.finish_actors();
        let end = self.now;
        let mut report = self.report();
        merge_actor_output(&mut report, out, end);
        report
    }

    fn process_instant(&mut self) {
        let now = self.now;
        for _ in 0..1_000_000 {
            let mut progressed = false;
            while let Some(entry) = self.events.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let ev = entry.remove();
                if ev.is_real() {
                    self.real_pending -= 1;
                }
                self.handle(ev);
                progressed = true;
            }
            if self.settle() {
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        self.arm_flushes();
        if std::mem::take(&mut self.checkpoint_due) {
            let nodes = self.node_states();
            self.checkpoints.push(crate::report::Checkpoint { at: seconds(now), time: format_duration(now), nodes });
        }
    }

    /// Controllers, budgets, actors, then the scheduler. True when anything happened.
    fn settle(&mut self) -> bool {
        let mut any = false;
        for _ in 0..10_000 {
            let mut progressed = self.reconcile_controllers();
            if self.pdb_dirty && !self.pdbs.is_empty() {
                self.recompute_pdbs();
            }
            if std::mem::take(&mut self.selectors_dirty) {
                self.refresh_workload_selectors();
            }
            if self.dispatch_notices() {
                progressed = true;
            }
            if self.run_scheduler() {
                progressed = true;
            }
            if !progressed {
                break;
            }
            any = true;
        }
        any
    }

    /// Arms the queue's flush loops for the earliest pod that needs them.
    fn arm_flushes(&mut self) {
        if let Some(t) = self.queue.next_backoff_flush()
            && self.backoff_flushes.insert(t)
        {
            self.push(t, Ev::BackoffFlush);
        }
        if let Some(t) = self.queue.next_leftover_flush()
            && self.leftover_flushes.insert(t)
        {
            self.push(t, Ev::LeftoverFlush);
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Timeline(i) => self.timeline(i),
            Ev::PodComplete { pod, epoch } => {
                let p = &self.pods[pod as usize];
                if p.run_gen != epoch || p.phase != Phase::Running || p.deleted {
                    return;
                }
                let down =
                    p.node.and_then(|n| self.node_by_name.get(&n)).is_some_and(|&ni| self.nodes[ni].failed.is_some());
                if down {
                    self.pods[pod as usize].completion_due = true;
                } else {
                    self.succeed(pod);
                }
            }
            Ev::BindDone { pod, epoch } => {
                let p = &self.pods[pod as usize];
                if p.run_gen == epoch && p.phase == Phase::Binding && !p.deleted {
                    self.start(pod);
                }
            }
            Ev::Evict { pod, epoch } => {
                let p = &self.pods[pod as usize];
                if p.evict_gen == epoch && p.is_live() {
                    let node = p.node.map(|n| n.to_string()).unwrap_or_default();
                    let taints = self.no_execute_taints_text(pod);
                    self.counters.evicted += 1;
                    self.delete_pod(
                        pod,
                        "PodEvicted",
                        "TaintManagerEviction",
                        Some(format!("Taint manager: deleting due to NoExecute taint {taints} on node {node}")),
                    );
                }
            }
            Ev::NoExecute { node, epoch } => {
                let n = &self.nodes[node];
                if n.fail_gen == epoch
                    && let Some(readiness) = n.failed
                {
                    let key = taint_key(readiness);
                    let now = self.now;
                    self.log_node(
                        "NodeNoExecute",
                        node,
                        Some(format!("{key}:NoExecute added after the node-monitor grace period")),
                    );
                    self.modify_node(node, |m| {
                        m.taints.push(Taint {
                            key: Sym::new(key),
                            value: Sym::EMPTY,
                            effect: TaintEffect::NoExecute,
                            time_added: Some((now / SECOND) as i64),
                        })
                    });
                }
            }
            Ev::DrainRetry { node, epoch } => {
                if self.nodes[node].drain.as_ref().is_some_and(|d| d.epoch == epoch) {
                    self.drain_step(node);
                }
            }
            Ev::JobTtl { job } => self.job_ttl(job),
            Ev::BackoffFlush => {
                self.backoff_flushes.remove(&self.now);
                self.queue.flush_backoff(self.now, &less_of(&self.scheduler));
            }
            Ev::LeftoverFlush => {
                self.leftover_flushes.remove(&self.now);
                self.queue.flush_leftover(self.now, &less_of(&self.scheduler));
            }
            Ev::SchedulerFree => self.scheduler_wake = None,
            Ev::Checkpoint => self.checkpoint_due = true,
            Ev::Sample => {
                self.sample();
                let next = self.now + self.scenario.sample_interval;
                self.push(next, Ev::Sample);
            }
            Ev::ActorTimer { actor, token } | Ev::ActorBackground { actor, token } => self.actor_timer(actor, token),
            Ev::ActorAddNode { actor, node } => {
                let name = self.actor_name(actor);
                self.add_node_model(*node, true);
                if let Some(last) = self.log.last_mut() {
                    last.actor = Some(name);
                }
            }
        }
    }

    // ---- the log ----

    pub fn entry(&self, event: &str) -> LogEntry {
        LogEntry { at: seconds(self.now), time: format_duration(self.now), event: event.into(), ..Default::default() }
    }

    pub fn log_node(&mut self, event: &str, node: usize, message: Option<String>) {
        let mut e = self.entry(event);
        e.node = Some(self.nodes[node].name.to_string());
        e.message = message;
        self.log.push(e);
    }

    fn log_decision(&mut self, d: &Decision, attempt: Option<u32>) {
        let mut e = self.entry("Scheduling");
        e.decision = Some(PodEntry::from_decision(d));
        e.attempt = attempt;
        self.log.push(e);
    }

    fn decision(pod: Arc<Pod>, kind: DecisionKind) -> Decision {
        let profile = pod.scheduler_name;
        Decision::new(pod, profile, kind)
    }

    // ---- timeline events ----

    fn not_found(&mut self, what: &str) {
        let mut e = self.entry("NotFound");
        e.message = Some(format!("{what} no longer exists; the event was skipped"));
        self.log.push(e);
    }

    fn node_index(&self, name: &str) -> Option<usize> {
        Sym::lookup(name).and_then(|s| self.node_by_name.get(&s).copied()).filter(|&i| self.nodes[i].id.is_some())
    }

    fn pod_index(&self, namespace: &str, name: &str) -> Option<PodIdx> {
        let key = (Sym::lookup(namespace)?, Sym::lookup(name)?);
        self.pod_by_key.get(&key).copied().filter(|&i| !self.pods[i as usize].deleted)
    }

    fn timeline(&mut self, i: usize) {
        let cloud = self.scenario.events[i].cloud.clone();
        if !cloud.is_empty() {
            for &d in &cloud {
                let mut e = self.entry("Applied");
                e.object = Some(self.scenario.cloud[d].describe());
                self.log.push(e);
            }
            self.notices.push(Notice::CloudApplied { documents: cloud });
        }
        let action = self.scenario.events[i].action.clone();
        match action {
            Action::Apply(objects) => {
                for o in objects {
                    self.apply(o.object.clone());
                }
            }
            Action::Delete(r) => self.delete_object(&r),
            Action::Scale { target, replicas } => {
                if !self.scale(&target, replicas) {
                    self.not_found(&target.to_string());
                }
            }
            Action::RemoveSchedulingGates { pod, gates } => {
                let Some(idx) = self.pod_index(&pod.namespace, &pod.name) else {
                    return self.not_found(&pod.to_string());
                };
                let mut new = (*self.pods[idx as usize].object).clone();
                if let Some(spec) = new.spec.as_mut() {
                    let current = spec.scheduling_gates.take().unwrap_or_default();
                    let kept: Vec<_> = match &gates {
                        None => Vec::new(),
                        Some(names) => current.into_iter().filter(|g| !names.contains(&g.name)).collect(),
                    };
                    spec.scheduling_gates = (!kept.is_empty()).then_some(kept);
                }
                self.update_pod(idx, new, "SchedulingGatesRemoved");
            }
            Action::UpdatePod { pod, node_selector, required_node_affinity, scheduling_gates } => {
                let Some(idx) = self.pod_index(&pod.namespace, &pod.name) else {
                    return self.not_found(&pod.to_string());
                };
                let mut new = (*self.pods[idx as usize].object).clone();
                let spec = new.spec.get_or_insert_with(Default::default);
                if let Some(sel) = node_selector {
                    spec.node_selector = sel;
                }
                if let Some(req) = required_node_affinity {
                    let affinity = spec.affinity.get_or_insert_with(Default::default);
                    let na = affinity.node_affinity.get_or_insert_with(Default::default);
                    na.required_during_scheduling_ignored_during_execution = req;
                }
                if let Some(gates) = scheduling_gates {
                    spec.scheduling_gates = (!gates.is_empty()).then(|| {
                        gates.into_iter().map(|name| k8s_openapi::api::core::v1::PodSchedulingGate { name }).collect()
                    });
                }
                self.update_pod(idx, new, "PodUpdated");
            }
            Action::Cordon(n) => {
                let Some(ni) = self.node_index(&n) else { return self.not_found(&format!("Node {n}")) };
                self.cordon(ni, true);
            }
            Action::Uncordon(n) => {
                let Some(ni) = self.node_index(&n) else { return self.not_found(&format!("Node {n}")) };
                if self.nodes[ni].drain.take().is_some() {
                    self.log_node("DrainCancelled", ni, Some("uncordoned while draining".into()));
                }
                self.cordon(ni, false);
            }
            Action::Drain { node, timeout } => {
                let Some(ni) = self.node_index(&node) else { return self.not_found(&format!("Node {node}")) };
                self.start_drain(ni, timeout, None, None);
            }
            Action::Taint { node, key, value, effect } => {
                let Some(ni) = self.node_index(&node) else { return self.not_found(&format!("Node {node}")) };
                let now = self.now;
                self.log_node("NodeTainted", ni, Some(format!("{key}={value}:{}", effect.as_str())));
                self.modify_node(ni, |m| {
                    m.taints.retain(|t| !(t.key.as_str() == key && t.effect == effect));
                    m.taints.push(Taint {
                        key: Sym::new(&key),
                        value: Sym::new(&value),
                        effect,
                        time_added: (effect == TaintEffect::NoExecute).then_some((now / SECOND) as i64),
                    });
                });
            }
            Action::Untaint { node, key, effect } => {
                let Some(ni) = self.node_index(&node) else { return self.not_found(&format!("Node {node}")) };
                let text = match effect {
                    Some(e) => format!("{key}:{}", e.as_str()),
                    None => key.clone(),
                };
                self.log_node("NodeUntainted", ni, Some(text));
                self.modify_node(ni, |m| {
                    m.taints.retain(|t| !(t.key.as_str() == key && effect.is_none_or(|e| e == t.effect)))
                });
            }
            Action::FailNode { node, condition } => {
                let Some(ni) = self.node_index(&node) else { return self.not_found(&format!("Node {node}")) };
                self.fail_node(ni, condition);
            }
            Action::RecoverNode(node) => {
                let Some(ni) = self.node_index(&node) else { return self.not_found(&format!("Node {node}")) };
                self.recover_node(ni);
            }
        }
    }

    /// `kubectl apply` of one object: create it, or update the existing one.
    pub fn apply(&mut self, object: Object) {
        match object {
            Object::Node(n) => match kubesched_k8s::convert::node(&n) {
                Ok(model) => self.add_node_model(model, true),
                Err(errs) => self.warnings.push(format!("node {:?} not applied: {:?}", n.metadata.name, errs)),
            },
            Object::Pod(p) => {
                let ns = p.metadata.namespace.clone().unwrap_or_else(|| "default".into());
                let name = p.metadata.name.clone().unwrap_or_default();
                match self.pod_index(&ns, &name) {
                    Some(idx) => {
                        // An update: the manifest goes through the same defaulting as on create.
                        let mut new = (*p).clone();
                        let cx = kubesched_k8s::admission::AdmissionContext {
                            priority_classes: &self.priority_classes,
                            already_admitted: false,
                        };
                        if let Err(e) = self.chain.admit(&mut new, &cx) {
                            let mut entry = self.entry("UpdateRejected");
                            entry.pod = Some(format!("{ns}/{name}"));
                            entry.message = Some(e.message);
                            self.log.push(entry);
                            return;
                        }
                        new.metadata.uid = self.pods[idx as usize].object.metadata.uid.clone();
                        self.update_pod(idx, new, "PodUpdated");
                    }
                    None => {
                        let mut e = self.entry("PodCreated");
                        e.pod = Some(format!("{ns}/{name}"));
                        self.log.push(e);
                        self.create_pod(*p, None);
                    }
                }
            }
            Object::Namespace(ns) => self.snapshot.add_namespace(kubesched_k8s::convert::namespace(&ns)),
            Object::PriorityClass(pc) => {
                if let Err(e) = self.priority_classes.add(&pc) {
                    self.warnings.push(e);
                }
            }
            Object::PodDisruptionBudget(p) => {
                if let Ok(mut model) = kubesched_k8s::convert::pdb(&p) {
                    // The disruption controller owns the status from now on.
                    model.status_disruptions_allowed = None;
                    let mut e = self.entry("Applied");
                    e.object = Some(format!("PodDisruptionBudget {}/{}", model.namespace, model.name));
                    self.log.push(e);
                    match self
                        .pdbs
                        .iter_mut()
                        .find(|r| !r.deleted && r.model.namespace == model.namespace && r.model.name == model.name)
                    {
                        Some(r) => r.model = model,
                        None => self.pdbs.push(PdbRec { model, deleted: false }),
                    }
                    self.pdb_dirty = true;
                }
            }
            Object::Service(svc) => {
                let key = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
                    (m.namespace.clone(), m.name.clone())
                };
                self.services.retain(|s| key(&s.metadata) != key(&svc.metadata));
                self.services.push(*svc);
                self.selectors_dirty = true;
            }
            other => {
                self.apply_controller(other);
                self.selectors_dirty = true;
            }
        }
    }

    fn delete_object(&mut self, r: &ObjRef) {
        match r.kind {
            Kind::Node => {
                let Some(ni) = self.node_index(&r.name) else { return self.not_found(&r.to_string()) };
                self.remove_node_at(ni);
            }
            Kind::Pod => {
                let Some(idx) = self.pod_index(&r.namespace, &r.name) else { return self.not_found(&r.to_string()) };
                self.delete_pod(idx, "PodDeleted", "Deleted", None);
            }
            Kind::PodDisruptionBudget => {
                let found = self.pdbs.iter_mut().find(|p| {
                    !p.deleted && p.model.namespace.as_str() == r.namespace && p.model.name.as_str() == r.name
                });
                match found {
                    Some(p) => {
                        p.deleted = true;
                        self.pdb_dirty = true;
                        let mut e = self.entry("Deleted");
                        e.object = Some(r.to_string());
                        self.log.push(e);
                    }
                    None => self.not_found(&r.to_string()),
                }
            }
            Kind::Service => {
                let before = self.services.len();
                self.services.retain(|s| {
                    !(s.metadata.name.as_deref() == Some(r.name.as_str())
                        && s.metadata.namespace.as_deref().unwrap_or("default") == r.namespace)
                });
                if self.services.len() == before {
                    return self.not_found(&r.to_string());
                }
                self.selectors_dirty = true;
                let mut e = self.entry("Deleted");
                e.object = Some(r.to_string());
                self.log.push(e);
            }
            Kind::Namespace | Kind::PriorityClass => {
                let mut e = self.entry("Deleted");
                e.object = Some(r.to_string());
                self.log.push(e);
            }
            _ => {
                if !self.delete_controller(r) {
                    self.not_found(&r.to_string());
                }
                self.selectors_dirty = true;
            }
        }
    }

    // ---- pods ----

    /// Creates a pod through admission (a controller's or an applied manifest).
    pub fn create_pod(&mut self, mut obj: K8sPod, owner: Option<OwnerId>) -> Option<PodIdx> {
        let name = obj.metadata.name.clone().unwrap_or_default();
        match kubesched_k8s::admit_and_convert(&mut obj, &self.chain, &self.priority_classes, &mut self.names) {
            Ok(model) => Some(self.admit_pod(Arc::new(obj), model, owner, true)),
            Err(e) => {
                let mut entry = self.entry("PodRejected");
                entry.pod = Some(format!("{}/{name}", obj.metadata.namespace.as_deref().unwrap_or("default")));
                entry.message = Some(e.to_string());
                self.log.push(entry);
                None
            }
        }
    }

    /// Registers an admitted pod: bound (kubelet admission), queued, gated, or left to another
    /// scheduler.
    pub fn admit_pod(&mut self, object: Arc<K8sPod>, model: Pod, owner: Option<OwnerId>, new: bool) -> PodIdx {
        let idx = self.pods.len() as PodIdx;
        let duration = model.annotations.get(DURATION_ANNOTATION).and_then(|d| parse_duration(d).ok());
        let profile = self.scheduler.profile_index(model.scheduler_name);
        let key = pod_key(&model);
        let phase = match model.phase {
            PodPhase::Succeeded => Phase::Succeeded,
            PodPhase::Failed => Phase::Failed,
            _ => Phase::Pending,
        };
        let rec = PodRec {
            key: model.key(),
            object,
            model: Arc::new(model),
            owner,
            profile,
            phase,
            deleted: false,
            node: None,
            snap_id: None,
            created_at: self.now,
            queued_at: None,
            bound_at: None,
            started_at: None,
            ended_at: None,
            end_reason: None,
            last_message: None,
            duration,
            completion_due: false,
            eviction: None,
            evict_gen: 0,
            run_gen: 0,
        };
        self.pods.push(rec);
        self.pod_by_key.insert(key, idx);
        self.counters.created += 1;
        if let Some(o) = owner {
            self.ctrl.adopt(o, idx);
        }
        self.pdb_dirty = true;
        if phase.is_terminal() {
            return idx;
        }
        let model = self.pods[idx as usize].model.clone();
        if let Some(node_name) = model.node_name {
            let _ = self.bind_direct(idx, node_name, None);
        } else if let Some(profile) = profile {
            match self.scheduler.pre_enqueue(profile, &model) {
                Err(status) => {
                    self.queue.add(idx, model.clone(), true, &less_of(&self.scheduler));
                    let message = status.message();
                    self.pods[idx as usize].last_message = Some(message.clone());
                    self.log_decision(&Self::decision(model.clone(), DecisionKind::Gated { message }), None);
                }
                Ok(()) => self.enqueue(idx),
            }
        }
        if profile.is_none() && model.node_name.is_none() {
            self.pods[idx as usize].last_message = Some(format!(
                "waiting for another scheduler: no profile serves schedulerName {:?}",
                model.scheduler_name.as_str()
            ));
        }
        if new || profile.is_none() {
            self.notices.push(Notice::PodCreated {
                pod: self.pods[idx as usize].key.clone(),
                scheduler_name: self.pods[idx as usize].model.scheduler_name.to_string(),
                queued: profile.is_some(),
            });
        }
        idx
    }

    fn enqueue(&mut self, idx: PodIdx) {
        let model = self.pods[idx as usize].model.clone();
        self.pods[idx as usize].queued_at.get_or_insert(self.now);
        self.queue.add(idx, model, false, &less_of(&self.scheduler));
    }

    /// A pod bound without the scheduler (`spec.nodeName` set, or bound by an actor): the
    /// kubelet's admission decides.
    pub fn bind_direct(&mut self, idx: PodIdx, node_name: Sym, actor: Option<String>) -> Result<(), String> {
        let model = self.pods[idx as usize].model.clone();
        let Some(id) = self.snapshot.node_id(node_name) else {
            let message = format!("node {:?} not found", node_name.as_str());
            self.reject(idx, node_name, "NodeNotFound".into(), message.clone());
            return Err(message);
        };
        let running = model.phase == PodPhase::Running;
        if !running && let Err(r) = kubelet_admit(&model, self.snapshot.node(id)) {
            self.reject(idx, node_name, r.reason.clone(), r.message.clone());
            return Err(r.message);
        }
        let mut m = (*model).clone();
        m.node_name = Some(node_name);
        m.phase = PodPhase::Running;
        m.start_time.get_or_insert((self.now / SECOND) as i64);
        let arc = Arc::new(m);
        let pid = self.snapshot.add_pod(arc.clone(), id);
        kubesched_core::gpu::allocate_like_device_manager(&mut self.snapshot, pid);
        self.queue.remove(idx);
        let rec = &mut self.pods[idx as usize];
        rec.model = arc;
        rec.snap_id = Some(pid);
        rec.node = Some(node_name);
        rec.bound_at = Some(self.now);
        if let Some(a) = actor {
            let mut e = self.entry("PodBound");
            e.pod = Some(self.pods[idx as usize].key.clone());
            e.node = Some(node_name.to_string());
            e.actor = Some(a);
            self.log.push(e);
            self.counters.bound += 1;
        }
        self.start(idx);
        Ok(())
    }

    fn reject(&mut self, idx: PodIdx, node: Sym, reason: String, message: String) {
        let rec = &mut self.pods[idx as usize];
        rec.phase = Phase::Failed;
        rec.ended_at = Some(self.now);
        rec.end_reason = Some(reason.clone());
        rec.last_message = Some(message.clone());
        let model = rec.model.clone();
        self.queue.remove(idx);
        self.log_decision(&Self::decision(model, DecisionKind::Rejected { node, reason, message }), None);
        self.owner_changed(idx);
    }

    /// The pod runs: its duration starts, its controller hears of it.
    fn start(&mut self, idx: PodIdx) {
        let now = self.now;
        let rec = &mut self.pods[idx as usize];
        rec.phase = Phase::Running;
        rec.started_at = Some(now);
        rec.run_gen += 1;
        let epoch = rec.run_gen;
        let duration = rec.duration;
        if let Some(q) = rec.queued_at
            && rec.bound_at.is_some()
            && rec.profile.is_some()
        {
            self.latencies.push(now.saturating_sub(q));
        }
        self.counters.running += 1;
        if let Some(d) = duration {
            self.push(now + d, Ev::PodComplete { pod: idx, epoch });
        }
        self.owner_changed(idx);
        self.pdb_dirty = true;
        self.queue.move_all(ClusterEvent::AssignedPodAdd, now, &less_of(&self.scheduler));
        // Taint-based eviction applies to pods arriving on a NoExecute-tainted node too.
        if let Some(node) = self.pods[idx as usize].node
            && let Some(id) = self.snapshot.node_id(node)
            && self.snapshot.node(id).node.taints.iter().any(|t| t.effect == TaintEffect::NoExecute)
        {
            self.evaluate_eviction(idx);
        }
        let rec = &self.pods[idx as usize];
        self.notices
            .push(Notice::PodBound { pod: rec.key.clone(), node: rec.node.map(|n| n.to_string()).unwrap_or_default() });
    }

    fn succeed(&mut self, idx: PodIdx) {
        let rec = &mut self.pods[idx as usize];
        rec.phase = Phase::Succeeded;
        rec.ended_at = Some(self.now);
        rec.end_reason = Some("Completed".into());
        let mut obj = (*rec.object).clone();
        obj.status.get_or_insert_with(Default::default).phase = Some("Succeeded".into());
        rec.object = Arc::new(obj);
        let node = rec.node;
        let key = rec.key.clone();
        let snap = rec.snap_id.take();
        self.counters.succeeded += 1;
        self.counters.running = self.counters.running.saturating_sub(1);
        self.ctrl.pod_succeeded(self.pods[idx as usize].owner);
        if let Some(pid) = snap {
            self.snapshot.remove_pod(pid);
            self.pod_left_node();
        }
        let mut e = self.entry("PodSucceeded");
        e.pod = Some(key);
        e.node = node.map(|n| n.to_string());
        self.log.push(e);
        self.owner_changed(idx);
        self.pdb_dirty = true;
    }

    fn pod_left_node(&mut self) {
        self.queue.move_all(ClusterEvent::AssignedPodDelete, self.now, &less_of(&self.scheduler));
    }

    /// Deletes a pod (preemption, eviction, scale-down, a scenario `delete`…).
    pub fn delete_pod(&mut self, idx: PodIdx, event: &str, reason: &str, message: Option<String>) {
        let rec = &mut self.pods[idx as usize];
        if rec.deleted {
            return;
        }
        let was_running = rec.phase == Phase::Running || rec.phase == Phase::Binding;
        let was_terminal = rec.phase.is_terminal();
        rec.deleted = true;
        if !rec.phase.is_terminal() {
            rec.ended_at = Some(self.now);
            rec.end_reason = Some(reason.to_string());
        }
        rec.run_gen += 1;
        rec.evict_gen += 1;
        let key = rec.key.clone();
        let node = rec.node;
        let model = rec.model.clone();
        let snap = rec.snap_id.take();
        self.queue.remove(idx);
        self.snapshot.clear_nomination(model.namespace, model.name);
        if let Some(pid) = snap {
            self.snapshot.remove_pod(pid);
            self.pod_left_node();
        }
        if was_running {
            self.counters.running = self.counters.running.saturating_sub(1);
        }
        self.counters.deleted += 1;
        if self.pod_by_key.get(&pod_key(&model)) == Some(&idx) {
            self.pod_by_key.remove(&pod_key(&model));
        }
        if !event.is_empty() {
            let mut e = self.entry(event);
            e.pod = Some(key.clone());
            e.node = node.map(|n| n.to_string());
            e.reason = Some(reason.to_string());
            e.message = message;
            self.log.push(e);
        }
        // A pod that did not finish counts as failed for its Job (evicted, preempted, deleted).
        let failure =
            !was_terminal && !matches!(reason, "ScaledDown" | "ControllerDeleted" | "JobFailed" | "TTLAfterFinished");
        self.ctrl.pod_deleted(idx, self.pods[idx as usize].owner, failure);
        self.owner_changed(idx);
        self.pdb_dirty = true;
        self.notices.push(Notice::PodDeleted { pod: key });
    }

    /// A pod update through the API server's validation (§6): refused with kube's text, or
    /// applied (model re-converted; the queue told).
    fn update_pod(&mut self, idx: PodIdx, new: K8sPod, event: &str) {
        let old = self.pods[idx as usize].object.clone();
        let name = old.metadata.name.clone().unwrap_or_default();
        let key = self.pods[idx as usize].key.clone();
        let errs = crate::podupdate::validate_pod_update(&old, &new);
        if !errs.is_empty() {
            let mut e = self.entry("UpdateRejected");
            e.pod = Some(key);
            e.reason = Some("Invalid".into());
            e.message = Some(crate::podupdate::invalid_message(&name, &errs));
            self.log.push(e);
            return;
        }
        let model = match kubesched_k8s::convert::pod(&new) {
            Ok(m) => m,
            Err(errs) => {
                let mut e = self.entry("UpdateRejected");
                e.pod = Some(key);
                e.message = Some(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "));
                self.log.push(e);
                return;
            }
        };
        let rec = &mut self.pods[idx as usize];
        let mut m = model;
        // Runtime state is the simulation's, not the manifest's.
        m.node_name = rec.model.node_name;
        m.phase = rec.model.phase;
        m.start_time = rec.model.start_time;
        m.nominated_node_name = rec.model.nominated_node_name;
        let gates_before = rec.model.is_gated();
        let arc = Arc::new(m);
        rec.model = arc.clone();
        rec.object = Arc::new(new);
        let mut e = self.entry(event);
        e.pod = Some(key);
        e.message = Some(describe_update(&old, &self.pods[idx as usize].object));
        self.log.push(e);
        let place = self.queue.place(idx);
        if gates_before && !arc.is_gated() && place == Place::Gated {
            if let Some(profile) = self.pods[idx as usize].profile
                && self.scheduler.pre_enqueue(profile, &arc).is_ok()
            {
                self.enqueue(idx);
            }
        } else if place != Place::Out {
            self.queue.update(idx, arc, self.now, &less_of(&self.scheduler));
        }
    }

    // ---- scheduling ----

    /// Pops and schedules pods while the scheduler is free. True when a cycle ran.
    fn run_scheduler(&mut self) -> bool {
        let mut any = false;
        loop {
            if self.scheduler_free_at > self.now {
                if self.scheduler_wake.is_none() {
                    self.scheduler_wake = Some(self.scheduler_free_at);
                    self.push(self.scheduler_free_at, Ev::SchedulerFree);
                }
                return any;
            }
            let idx = self.queue.pop(self.now, &less_of(&self.scheduler));
            let Some(idx) = idx else { return any };
            any = true;
            self.schedule_one(idx);
            let cycle = self.scenario.timing.scheduling_cycle;
            if cycle > 0 {
                self.scheduler_free_at = self.now + cycle;
            }
        }
    }

    fn schedule_one(&mut self, idx: PodIdx) {
        let rec = &self.pods[idx as usize];
        let Some(profile) = rec.profile else { return };
        if !rec.is_live() || rec.snap_id.is_some() {
            self.queue.remove(idx);
            return;
        }
        let pod = rec.model.clone();
        let attempt = self.queue.attempts(idx);
        self.counters.attempts += 1;
        let result = self.scheduler.schedule(&self.snapshot, profile, &pod);
        let mut d = Self::decision(pod.clone(), DecisionKind::Unschedulable { message: String::new() });
        d.feasible_nodes = result.feasible_nodes;
        d.examined_nodes = result.examined_nodes;
        d.nominated_node = pod.nominated_node_name;
        match &result.outcome {
            Outcome::Scheduled { node } => {
                let node = *node;
                let node_name = self.snapshot.node(node).name();
                let mut m = (*pod).clone();
                m.node_name = Some(node_name);
                m.phase = PodPhase::Running;
                m.start_time = Some((self.now / SECOND) as i64);
                m.nominated_node_name = None;
                let arc = Arc::new(m);
                match self.scheduler.assume(&mut self.snapshot, profile, arc.clone(), node, &result.state) {
                    Ok(pid) => {
                        // Device indices, as the kubelet's device manager would pick them when
                        // no GPU plugin in the profile did.
                        kubesched_core::gpu::allocate_like_device_manager(&mut self.snapshot, pid);
                        self.queue.done_scheduled(idx);
                        d.kind = DecisionKind::Scheduled { node: node_name };
                        d.nominated_node = None;
                        self.log_decision(&d, Some(attempt));
                        self.counters.bound += 1;
                        let binding = self.scenario.timing.binding;
                        let rec = &mut self.pods[idx as usize];
                        rec.model = arc;
                        rec.snap_id = Some(pid);
                        rec.node = Some(node_name);
                        rec.bound_at = Some(self.now + binding);
                        rec.last_message = None;
                        if binding == 0 {
                            self.start(idx);
                        } else {
                            rec.phase = Phase::Binding;
                            rec.run_gen += 1;
                            let epoch = rec.run_gen;
                            self.push(self.now + binding, Ev::BindDone { pod: idx, epoch });
                        }
                    }
                    Err(status) => {
                        let message = format!("running Reserve plugin {:?}: {}", status.plugin, status.message());
                        self.failed_cycle(idx, pod, d, message, None, attempt);
                    }
                }
            }
            Outcome::Unschedulable { fit_error, post_filter } => {
                let mut rejectors = Plugins::NONE;
                for (_, s) in &fit_error.statuses {
                    rejectors = rejectors.union(Plugins::of(s.plugin));
                }
                if fit_error.absent.is_some() {
                    rejectors = rejectors.union(Plugins::OTHER);
                }
                let message = fit_error.to_string();
                match post_filter {
                    Some(pf) => {
                        let pf = pf.clone();
                        self.preempt(idx, pod.clone(), &pf, &mut d);
                        let nominated = self.pods[idx as usize].model.clone();
                        self.failed_cycle(idx, nominated, d, message, Some(rejectors), attempt);
                    }
                    None => self.failed_cycle(idx, pod, d, message, Some(rejectors), attempt),
                }
            }
            Outcome::Error { message } => {
                let message = message.clone();
                self.failed_cycle(idx, pod, d, message, None, attempt);
            }
        }
    }

    /// Records a failed cycle and hands the pod back to the queue: unschedulable with its
    /// rejecting plugins, or an error (`rejectors: None`).
    fn failed_cycle(
        &mut self,
        idx: PodIdx,
        pod: Arc<Pod>,
        mut d: Decision,
        message: String,
        rejectors: Option<Plugins>,
        attempt: u32,
    ) {
        self.counters.unschedulable_attempts += 1;
        d.kind = DecisionKind::Unschedulable { message: message.clone() };
        if d.nominated_node.is_none() {
            d.nominated_node = pod.nominated_node_name;
        }
        self.log_decision(&d, Some(attempt));
        self.pods[idx as usize].last_message = Some(message.clone());
        match rejectors {
            Some(r) => self.queue.done_unschedulable(idx, pod, self.now, r),
            None => self.queue.done_error(idx, pod, self.now),
        }
        self.notices.push(Notice::PodUnschedulable { pod: self.pods[idx as usize].key.clone(), message });
    }

    /// Preemption chose a node: the victims are deleted, the preemptor nominated there.
    fn preempt(
        &mut self,
        idx: PodIdx,
        pod: Arc<Pod>,
        pf: &kubesched_core::framework::PostFilterResult,
        d: &mut Decision,
    ) {
        let node = pf.nominated_node;
        let node_name = self.snapshot.node(node).name();
        let mut evicted: Vec<Arc<Pod>> = Vec::new();
        let mut victims: Vec<PodIdx> = Vec::new();
        for &v in &pf.victims {
            if let Some(b) = self.snapshot.get_pod(v) {
                evicted.push(b.pod.clone());
                if let Some(&vi) = self.pod_by_key.get(&pod_key(&b.pod)) {
                    victims.push(vi);
                }
            }
        }
        for &vi in &victims {
            let vmodel = self.pods[vi as usize].model.clone();
            self.log_decision(
                &Self::decision(vmodel, DecisionKind::Preempted { node: node_name, by: pod.key() }),
                None,
            );
            self.counters.preempted += 1;
            self.delete_pod(vi, "", "Preempted", None);
        }
        let mut m = (*pod).clone();
        m.nominated_node_name = Some(node_name);
        let nominated = Arc::new(m);
        self.snapshot.nominate(nominated.clone(), node);
        self.pods[idx as usize].model = nominated.clone();
        let cleared = after_preemption(&mut self.snapshot, &nominated, node, &evicted);
        for (ns, name) in cleared {
            if let Some(&ci) = self.pod_by_key.get(&(ns, name)) {
                let mut m = (*self.pods[ci as usize].model).clone();
                m.nominated_node_name = None;
                let arc = Arc::new(m);
                self.pods[ci as usize].model = arc.clone();
                self.queue.update(ci, arc, self.now, &less_of(&self.scheduler));
            }
        }
        d.nominated_node = Some(node_name);
        d.preempted = evicted.iter().map(|p| p.key()).collect();
        self.pdb_dirty = true;
    }

    // ---- nodes ----

    /// `kubectl drain` (cordon), or an autoscaler's (a NoSchedule `taint` instead of the
    /// cordon): then evict every pod but DaemonSet pods, retrying refused evictions.
    pub(crate) fn start_drain(
        &mut self,
        ni: usize,
        timeout: Option<Millis>,
        taint: Option<Taint>,
        actor: Option<String>,
    ) {
        self.nodes[ni].drain_gen += 1;
        let epoch = self.nodes[ni].drain_gen;
        self.nodes[ni].drain = Some(crate::engine::Drain { started: self.now, timeout, epoch });
        self.log_node("DrainStarted", ni, timeout.map(|t| format!("timeout {}", format_duration(t))));
        if let Some(a) = &actor
            && let Some(last) = self.log.last_mut()
        {
            last.actor = Some(a.clone());
        }
        match taint {
            None => self.cordon(ni, true),
            Some(t) => {
                self.log_node("NodeTainted", ni, Some(format!("{}:{}", t.key, t.effect.as_str())));
                if let Some(last) = self.log.last_mut() {
                    last.actor = actor;
                }
                self.modify_node(ni, |m| {
                    m.taints.retain(|x| !(x.key == t.key && x.effect == t.effect));
                    m.taints.push(t);
                });
            }
        }
        if self.pdb_dirty && !self.pdbs.is_empty() {
            self.recompute_pdbs();
        }
        self.drain_step(ni);
    }

    /// The index of a node that exists.
    pub(crate) fn live_node_index(&self, name: Sym) -> Option<usize> {
        self.node_by_name.get(&name).copied().filter(|&i| self.nodes[i].id.is_some())
    }

    /// A node registered NotReady becomes Ready with the object `node`.
    pub(crate) fn mark_ready(&mut self, ni: usize, node: Node) {
        self.nodes[ni].failed = None;
        self.nodes[ni].fail_gen += 1;
        self.log_node("NodeReady", ni, None);
        self.modify_node(ni, move |m| *m = node);
    }

    /// Adds a node (or updates an existing one of that name).
    pub fn add_node_model(&mut self, model: Node, log: bool) {
        let name = model.name;
        if let Some(&ni) = self.node_by_name.get(&name)
            && self.nodes[ni].id.is_some()
        {
            if log {
                self.log_node("NodeUpdated", ni, None);
            }
            // The node lifecycle controller's state survives a manifest update.
            let failed = self.nodes[ni].failed;
            self.modify_node(ni, move |m| {
                let lifecycle: Vec<Taint> = m
                    .taints
                    .iter()
                    .filter(|t| failed.is_some() && (t.key == Sym::TAINT_NOT_READY || t.key == Sym::TAINT_UNREACHABLE))
                    .cloned()
                    .collect();
                let readiness = m.readiness;
                *m = model;
                if failed.is_some() {
                    m.readiness = readiness;
                    m.taints.retain(|t| t.key != Sym::TAINT_NOT_READY && t.key != Sym::TAINT_UNREACHABLE);
                    m.taints.extend(lifecycle);
                }
                m.taints.retain(|t| t.key != Sym::TAINT_UNSCHEDULABLE);
                if m.unschedulable {
                    m.taints.push(Taint {
                        key: Sym::TAINT_UNSCHEDULABLE,
                        value: Sym::EMPTY,
                        effect: TaintEffect::NoSchedule,
                        time_added: None,
                    });
                }
            });
            return;
        }
        let failed = (model.readiness != Readiness::Ready).then_some(model.readiness);
        let id = self.snapshot.add_node(model);
        let ni = match self.node_by_name.get(&name) {
            Some(&ni) => {
                self.nodes[ni].id = Some(id);
                self.nodes[ni].failed = failed;
                ni
            }
            None => {
                self.nodes.push(NodeRec { name, id: Some(id), failed, fail_gen: 0, drain: None, drain_gen: 0 });
                self.node_by_name.insert(name, self.nodes.len() - 1);
                self.nodes.len() - 1
            }
        };
        if log {
            self.log_node("NodeAdded", ni, None);
            self.queue.move_all(ClusterEvent::NodeAdd, self.now, &less_of(&self.scheduler));
        }
        self.ctrl.mark_daemonsets_dirty();
        self.notices.push(Notice::NodeAdded { node: name.to_string() });
    }

    /// Changes a node's object, tells the queue which rejections the change may lift, and
    /// re-evaluates taint-based eviction when its NoExecute taints changed.
    pub fn modify_node(&mut self, ni: usize, f: impl FnOnce(&mut Node)) {
        let Some(id) = self.nodes[ni].id else { return };
        let old = self.snapshot.node(id).node.clone();
        let mut n = (*old).clone();
        f(&mut n);
        let mut helps = Plugins::NONE;
        if old.unschedulable && !n.unschedulable {
            helps = helps.union(Plugins::NODE_UNSCHEDULABLE).union(Plugins::TAINT_TOLERATION);
        }
        if old
            .taints
            .iter()
            .any(|t| !n.taints.iter().any(|u| u.key == t.key && u.value == t.value && u.effect == t.effect))
        {
            helps = helps.union(Plugins::TAINT_TOLERATION);
        }
        if old.labels != n.labels {
            helps = helps
                .union(Plugins::NODE_AFFINITY)
                .union(Plugins::POD_TOPOLOGY_SPREAD)
                .union(Plugins::INTER_POD_AFFINITY);
        }
        if n.allocatable.iter().any(|(r, v)| v > old.allocatable.get(r)) {
            helps = helps.union(Plugins::NODE_RESOURCES_FIT);
        }
        let no_exec = |m: &Node| -> Vec<(Sym, Sym)> {
            m.taints.iter().filter(|t| t.effect == TaintEffect::NoExecute).map(|t| (t.key, t.value)).collect()
        };
        let exec_changed = no_exec(&old) != no_exec(&n);
        self.snapshot.update_node(id, n);
        if !helps.is_empty() {
            self.queue.move_all(ClusterEvent::NodeUpdate(helps), self.now, &less_of(&self.scheduler));
        }
        if exec_changed {
            let pods = self.pods_on(ni);
            for p in pods {
                self.evaluate_eviction(p);
            }
        }
        self.ctrl.mark_daemonsets_dirty();
    }

    /// Live pods on a node, in the order they were accounted there.
    pub fn pods_on(&self, ni: usize) -> Vec<PodIdx> {
        let Some(id) = self.nodes[ni].id else { return Vec::new() };
        self.snapshot
            .node(id)
            .pods
            .iter()
            .filter_map(|&pid| self.snapshot.get_pod(pid))
            .filter_map(|b| self.pod_by_key.get(&pod_key(&b.pod)).copied())
            .collect()
    }

    fn cordon(&mut self, ni: usize, on: bool) {
        self.log_node(if on { "NodeCordoned" } else { "NodeUncordoned" }, ni, None);
        // The node lifecycle controller mirrors spec.unschedulable as a taint (§5).
        self.modify_node(ni, |m| {
            m.unschedulable = on;
            m.taints.retain(|t| t.key != Sym::TAINT_UNSCHEDULABLE);
            if on {
                m.taints.push(Taint {
                    key: Sym::TAINT_UNSCHEDULABLE,
                    value: Sym::EMPTY,
                    effect: TaintEffect::NoSchedule,
                    time_added: None,
                });
            }
        });
    }

    pub(crate) fn remove_node_at(&mut self, ni: usize) {
        let Some(id) = self.nodes[ni].id else { return };
        let pods = self.pods_on(ni);
        self.log_node("NodeDeleted", ni, None);
        // Pod garbage collection deletes the pods of a node that is gone.
        for p in pods {
            self.delete_pod(p, "PodDeleted", "NodeDeleted", None);
        }
        self.snapshot.remove_node(id);
        self.nodes[ni].id = None;
        self.nodes[ni].fail_gen += 1;
        self.nodes[ni].drain = None;
        self.queue.move_all(ClusterEvent::NodeDelete, self.now, &less_of(&self.scheduler));
        self.notices.push(Notice::NodeRemoved { node: self.nodes[ni].name.to_string() });
    }

    /// The node stops being Ready: the NoSchedule taint at once, NoExecute after the
    /// node-monitor grace period (§5).
    fn fail_node(&mut self, ni: usize, condition: Readiness) {
        if self.nodes[ni].failed.is_some() {
            self.log_node("NodeFailed", ni, Some("already not ready".into()));
            return;
        }
        self.nodes[ni].failed = Some(condition);
        self.nodes[ni].fail_gen += 1;
        let epoch = self.nodes[ni].fail_gen;
        let key = taint_key(condition);
        let event = if condition == Readiness::Unreachable { "NodeUnreachable" } else { "NodeNotReady" };
        self.log_node(event, ni, Some(format!("{key}:NoSchedule added")));
        self.modify_node(ni, |m| {
            m.readiness = condition;
            m.taints.push(Taint {
                key: Sym::new(key),
                value: Sym::EMPTY,
                effect: TaintEffect::NoSchedule,
                time_added: None,
            });
        });
        let at = self.now + self.scenario.node_monitor_grace_period;
        self.push(at, Ev::NoExecute { node: ni, epoch });
        self.notices.push(Notice::NodeFailed { node: self.nodes[ni].name.to_string() });
    }

    fn recover_node(&mut self, ni: usize) {
        if self.nodes[ni].failed.is_none() {
            self.log_node("NodeRecovered", ni, Some("was Ready already".into()));
            return;
        }
        self.nodes[ni].failed = None;
        self.nodes[ni].fail_gen += 1;
        self.log_node("NodeRecovered", ni, None);
        self.modify_node(ni, |m| {
            m.readiness = Readiness::Ready;
            m.taints.retain(|t| t.key != Sym::TAINT_NOT_READY && t.key != Sym::TAINT_UNREACHABLE);
        });
        for p in self.pods_on(ni) {
            if self.pods[p as usize].completion_due && self.pods[p as usize].is_live() {
                self.succeed(p);
            }
        }
        self.notices.push(Notice::NodeRecovered { node: self.nodes[ni].name.to_string() });
    }

    fn no_execute_taints_text(&self, idx: PodIdx) -> String {
        let Some(node) = self.pods[idx as usize].node.and_then(|n| self.snapshot.node_by_name(n)) else {
            return String::new();
        };
        let t: Vec<String> =
            node.node.taints.iter().filter(|t| t.effect == TaintEffect::NoExecute).map(|t| t.key.to_string()).collect();
        t.join(", ")
    }

    /// The taint eviction controller's `processPodOnNode`: a pod that does not tolerate every
    /// NoExecute taint goes at once; otherwise after the smallest `tolerationSeconds` of the
    /// tolerations used (kept from the first time it was scheduled); never without one.
    fn evaluate_eviction(&mut self, idx: PodIdx) {
        let rec = &self.pods[idx as usize];
        if !rec.is_live() {
            return;
        }
        let Some(node) = rec.node.and_then(|n| self.snapshot.node_by_name(n)) else { return };
        let taints: Vec<&Taint> = node.node.taints.iter().filter(|t| t.effect == TaintEffect::NoExecute).collect();
        if taints.is_empty() {
            let rec = &mut self.pods[idx as usize];
            if rec.eviction.take().is_some() {
                rec.evict_gen += 1;
            }
            return;
        }
        let mut used: Vec<Option<i64>> = Vec::new();
        for t in &taints {
            match rec.model.tolerations.iter().find(|tol| tol.tolerates(t)) {
                Some(tol) => used.push(tol.toleration_seconds),
                None => {
                    let node = node.name().to_string();
                    let taint = t.key.to_string();
                    self.counters.evicted += 1;
                    self.delete_pod(
                        idx,
                        "PodEvicted",
                        "TaintManagerEviction",
                        Some(format!("Taint manager: deleting due to NoExecute taint {taint} on node {node}, which the pod does not tolerate")),
                    );
                    return;
                }
            }
        }
        let secs: Vec<i64> = used.into_iter().flatten().collect();
        let now = self.now;
        let rec = &mut self.pods[idx as usize];
        if secs.is_empty() {
            if rec.eviction.take().is_some() {
                rec.evict_gen += 1;
            }
            return;
        }
        let min = secs.iter().copied().min().unwrap_or(0).max(0) as Millis * SECOND;
        if rec.eviction.is_some() {
            return;
        }
        let at = now + min;
        rec.eviction = Some((now, at));
        rec.evict_gen += 1;
        let epoch = rec.evict_gen;
        self.push(at, Ev::Evict { pod: idx, epoch });
    }

    /// One pass of `kubectl drain`: evict every pod but DaemonSet pods through the eviction
    /// API, which refuses while a budget allows no disruption; retry every 5 seconds.
    fn drain_step(&mut self, ni: usize) {
        let Some(drain) = self.nodes[ni].drain.clone() else { return };
        if let Some(t) = drain.timeout
            && self.now >= drain.started + t
        {
            self.nodes[ni].drain = None;
            self.log_node("DrainTimedOut", ni, Some(format!("after {}", format_duration(t))));
            return;
        }
        if self.pdb_dirty && !self.pdbs.is_empty() {
            self.recompute_pdbs();
        }
        let mut refused = 0;
        for p in self.pods_on(ni) {
            let rec = &self.pods[p as usize];
            if !rec.is_live() || rec.model.is_daemonset_pod() {
                continue;
            }
            let model = rec.model.clone();
            let covering: Vec<usize> = (0..self.pdbs.len())
                .filter(|&i| !self.pdbs[i].deleted && pdb::covers(&self.pdbs[i].model, &model))
                .collect();
            let refusal = match covering.as_slice() {
                [] => None,
                [one] => {
                    let allowed = self.pdbs[*one].model.status_disruptions_allowed.unwrap_or(0);
                    if allowed <= 0 {
                        Some("Cannot evict pod as it would violate the pod's disruption budget.".to_string())
                    } else {
                        self.pdbs[*one].model.status_disruptions_allowed = Some(allowed - 1);
                        None
                    }
                }
                _ => Some(
                    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
                        .to_string(),
                ),
            };
            match refusal {
                Some(message) => {
                    refused += 1;
                    let mut e = self.entry("EvictionRefused");
                    e.pod = Some(model.key());
                    e.node = Some(self.nodes[ni].name.to_string());
                    e.reason = Some(if covering.len() > 1 { "InternalError".into() } else { "TooManyRequests".into() });
                    e.message = Some(message);
                    self.log.push(e);
                }
                None => {
                    self.counters.evicted += 1;
                    let node = self.nodes[ni].name.to_string();
                    self.delete_pod(p, "PodEvicted", "Drained", Some(format!("evicted by the drain of node {node}")));
                }
            }
        }
        if refused > 0 {
            let epoch = drain.epoch;
            self.push(self.now + DEFAULT_DRAIN_RETRY, Ev::DrainRetry { node: ni, epoch });
        } else {
            self.nodes[ni].drain = None;
            let took = format_duration(self.now - drain.started);
            self.log_node("DrainCompleted", ni, Some(format!("in {took}")));
            self.notices.push(Notice::DrainCompleted { node: self.nodes[ni].name.to_string() });
        }
    }

    // ---- budgets ----

    /// The disruption controller: `disruptionsAllowed` of every budget from the live pods.
    pub fn recompute_pdbs(&mut self) {
        self.pdb_dirty = false;
        let live: Vec<&Pod> = self.pods.iter().filter(|p| p.is_live()).map(|p| &*p.model).collect();
        let mut models = Vec::new();
        for r in self.pdbs.iter().filter(|r| !r.deleted) {
            let covered: Vec<&Pod> = live.iter().copied().filter(|p| pdb::covers(&r.model, p)).collect();
            let allowed = pdb::compute(&r.model, &covered, |p, o| self.ctrl.scale_of(p, o))
                .map(|s| s.disruptions_allowed)
                .unwrap_or(0);
            let mut m = r.model.clone();
            m.status_disruptions_allowed = Some(allowed);
            models.push(m);
        }
        let mut it = models.iter();
        for r in self.pdbs.iter_mut().filter(|r| !r.deleted) {
            if let Some(m) = it.next() {
                r.model = m.clone();
            }
        }
        self.snapshot.set_pdbs(models);
    }

    /// The selectors of Services, ReplicationControllers, ReplicaSets and StatefulSets, for
    /// PodTopologySpread's default constraints, as they are now.
    fn refresh_workload_selectors(&mut self) {
        use crate::controllers::RsObject;
        use kubesched_core::model::WorkloadKind;
        let mut out: Vec<kubesched_core::model::WorkloadSelector> =
            self.services.iter().filter_map(kubesched_k8s::convert::service_selector).collect();
        for r in self.ctrl.rss.iter().filter(|r| !r.deleted) {
            let sel = match &r.obj {
                RsObject::Rc(rc) => kubesched_k8s::convert::replication_controller_selector(rc),
                RsObject::Rs(rs) => rs.spec.as_ref().and_then(|spec| {
                    kubesched_k8s::convert::workload_selector(WorkloadKind::ReplicaSet, &rs.metadata, &spec.selector)
                        .ok()
                }),
            };
            out.extend(sel);
        }
        for ss in self.ctrl.sss.iter().filter(|s| !s.deleted) {
            if let Some(spec) = ss.obj.spec.as_ref()
                && let Ok(sel) = kubesched_k8s::convert::workload_selector(
                    WorkloadKind::StatefulSet,
                    &ss.obj.metadata,
                    &spec.selector,
                )
            {
                out.push(sel);
            }
        }
        self.snapshot.set_workload_selectors(out);
    }

    // ---- actors ----

    fn start_actors(&mut self) {
        let mut actors = std::mem::take(&mut self.actors);
        for (i, a) in actors.iter_mut().enumerate() {
            let mut cx = ActorCx::new(self, i);
            a.start(&mut cx);
        }
        self.actors = actors;
    }

    fn dispatch_notices(&mut self) -> bool {
        if self.actors.is_empty() {
            self.notices.clear();
            return false;
        }
        if self.notices.is_empty() {
            return false;
        }
        let notices = std::mem::take(&mut self.notices);
        let mut actors = std::mem::take(&mut self.actors);
        for n in &notices {
            for (i, a) in actors.iter_mut().enumerate() {
                let mut cx = ActorCx::new(self, i);
                a.notice(&mut cx, n);
            }
        }
        self.actors = actors;
        true
    }

    fn actor_timer(&mut self, actor: usize, token: u64) {
        let mut actors = std::mem::take(&mut self.actors);
        if let Some(a) = actors.get_mut(actor) {
            let mut cx = ActorCx::new(self, actor);
            a.timer(&mut cx, token);
        }
        self.actors = actors;
    }

    /// Each actor's contribution to the report.
    fn finish_actors(&mut self) -> Vec<crate::actor::ActorOutput> {
        let mut actors = std::mem::take(&mut self.actors);
        let mut out = Vec::new();
        for (i, a) in actors.iter_mut().enumerate() {
            let mut o = crate::actor::ActorOutput::default();
            let mut cx = ActorCx::new(self, i);
            a.finish(&mut cx, &mut o);
            out.push(o);
        }
        self.actors = actors;
        out
    }

    pub fn actor_name(&self, actor: usize) -> String {
        self.actor_names.get(actor).cloned().unwrap_or_else(|| format!("actor {actor}"))
    }

    /// Pod index by `namespace/name`.
    pub fn find_pod(&self, key: &str) -> Option<PodIdx> {
        let (ns, name) = key.split_once('/')?;
        self.pod_index(ns, name)
    }
}

/// The actors' sections, the cost series (each sample's $/hour and managed nodes) and the
/// cost summary.
fn merge_actor_output(report: &mut Report, outputs: Vec<crate::actor::ActorOutput>, end: Millis) {
    let mut charges = Vec::new();
    let mut by_part: (Option<f64>, Option<f64>) = (None, None);
    for o in outputs {
        if let Some(a) = o.autoscaling {
            *by_part.0.get_or_insert(0.0) += a.total_cost;
            report.autoscaling = Some(a);
        }
        if let Some(f) = o.fargate {
            *by_part.1.get_or_insert(0.0) += f.total_cost;
            report.fargate = Some(f);
        }
        charges.extend(o.charges);
    }
    if report.autoscaling.is_none() && report.fargate.is_none() {
        return;
    }
    let at = |t: Millis| -> (f64, usize) {
        let live = charges.iter().filter(|c| c.start <= t && c.end.is_none_or(|e| e > t));
        let (mut hourly, mut nodes) = (0.0, 0);
        for c in live {
            hourly += c.hourly;
            nodes += usize::from(c.managed_node);
        }
        (round6(hourly), nodes)
    };
    let mut peak: f64 = 0.0;
    for s in &mut report.series {
        let (h, n) = at((s.at * 1000.0).round() as Millis);
        s.hourly_cost = Some(h);
        s.managed_nodes = report.autoscaling.as_ref().map(|_| n);
        peak = peak.max(h);
    }
    // Every instant something started counts for the peak, not only the samples.
    for c in &charges {
        peak = peak.max(at(c.start).0);
    }
    let (hourly_at_end, _) = at(end);
    report.cost = Some(crate::report::CostSummary {
        total: round6(by_part.0.unwrap_or(0.0) + by_part.1.unwrap_or(0.0)),
        hourly_at_end,
        peak_hourly: round6(peak),
        autoscaling: by_part.0.map(round6),
        fargate: by_part.1.map(round6),
    });
}

/// Dollars to the micro-dollar.
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// What an update changed, for the log: `nodeSelector {"disk":"ssd"}; schedulingGates []`.
fn describe_update(old: &K8sPod, new: &K8sPod) -> String {
    let (o, n) = (old.spec.clone().unwrap_or_default(), new.spec.clone().unwrap_or_default());
    let json = |v: serde_json::Value| serde_json::to_string(&v).unwrap_or_default();
    let mut parts = Vec::new();
    if o.node_selector != n.node_selector {
        parts.push(format!("nodeSelector {}", json(serde_json::to_value(&n.node_selector).unwrap_or_default())));
    }
    let req = |s: &k8s_openapi::api::core::v1::PodSpec| {
        s.affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| na.required_during_scheduling_ignored_during_execution.clone())
    };
    if req(&o) != req(&n) {
        parts.push(format!("requiredNodeAffinity {}", json(serde_json::to_value(req(&n)).unwrap_or_default())));
    }
    if o.scheduling_gates != n.scheduling_gates {
        let gates: Vec<String> = n.scheduling_gates.iter().flatten().map(|g| g.name.clone()).collect();
        parts.push(format!("schedulingGates [{}]", gates.join(" ")));
    }
    if o.tolerations != n.tolerations {
        parts.push("tolerations".to_string());
    }
    if parts.is_empty() { "no change".into() } else { parts.join("; ") }
}

/// The node lifecycle taint of a readiness condition.
pub fn taint_key(r: Readiness) -> &'static str {
    match r {
        Readiness::Unreachable => kubesched_k8s::admission::TAINT_UNREACHABLE,
        _ => kubesched_k8s::admission::TAINT_NOT_READY,
    }
}
