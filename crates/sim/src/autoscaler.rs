//! Karpenter / EKS Auto Mode on the timeline: an [`Actor`] driving `kubesched-autoscale`'s
//! decisions with Karpenter's timing (references: `shared/docs/karpenter-automode.md`, "doc §n").
//!
//! - **Provisioning** (doc §3.1): a pod the scheduler failed opens a batch that closes 1 s after
//!   the last such pod, at most 10 s after the first; then one pass of
//!   [`Autoscaler::provision`] over the pods still pending (not nominated, not DaemonSet pods,
//!   not gated), with the nodes in flight in the view so that their capacity is counted.
//! - **Node lifecycle** (doc §3.10, §5): NodeClaim created → instance launched 1 s later → Node
//!   registered 20 s after launch (NotReady, `node.kubernetes.io/not-ready:NoSchedule`, the
//!   pool's startup taints) → Ready 30 s after launch (90 s for GPU, accelerator and metal types),
//!   startup taints gone, `karpenter.sh/initialized=true`. The simulator's DaemonSet controller
//!   puts its pods on the node; the scheduler places the pending pods.
//! - **Disruption** (doc §4): every 10 s, expired nodes (`expireAfter`, forceful) are drained and
//!   deleted; then, when no decision awaits validation, [`Autoscaler::compute_disruption`]
//!   (emptiness, multi-node, single-node consolidation under `consolidateAfter`, budgets,
//!   do-not-disrupt, PDBs, the spot-to-spot rules); 15 s later [`Autoscaler::validate_disruption`];
//!   then a replacement is launched first and the candidates are drained (tainted
//!   `karpenter.sh/disrupted:NoSchedule`, evicted through the eviction API, PDBs respected) once
//!   it is initialized, and deleted when empty.
//! - **Cost**: every NodeClaim is billed from launch to deletion at its offering's price.
//!
//! Every placement stays the scheduler's: the autoscaler only adds and removes nodes.

use crate::actor::{Actor, ActorCx, ActorOutput, Charge, Notice};
use crate::report::{AutoscalingReport, DisruptionRecord, NodeClaimState, TypeCount};
use crate::scenario::{AutoscalingSettings, CloudDocument};
use crate::time::{Millis, SECOND, format_duration, seconds};
use kubesched_autoscale::disruption::Command;
use kubesched_autoscale::{Autoscaler, ClusterView, Documents, ManagedNode, Money, Options, PlannedNodeClaim, timing};
use kubesched_core::framework::Profile;
use kubesched_core::model::{Pod, Taint, TaintEffect};
use kubesched_core::snapshot::Snapshot;
use std::collections::HashMap;
use std::sync::Arc;

/// The taint Karpenter puts on nodes it disrupts (doc §1.7, §4.10).
pub const DISRUPTED_TAINT: &str = "karpenter.sh/disrupted";

const BATCH: u64 = 1;
const REGISTER: u64 = 2;
const READY: u64 = 3;
const POLL: u64 = 4;
const VALIDATE: u64 = 5;

fn token(kind: u64, value: u64) -> u64 {
    (kind << 40) | value
}

fn untoken(t: u64) -> (u64, u64) {
    (t >> 40, t & ((1 << 40) - 1))
}

/// The documents `current` (indices into `cloud`) after applying `step`: a document replaces
/// the one of the same kind and name.
pub fn merge_documents(cloud: &[CloudDocument], current: &[usize], step: &[usize]) -> Vec<usize> {
    let mut out: Vec<usize> = current.to_vec();
    for &i in step {
        let id = cloud[i].describe();
        out.retain(|&j| cloud[j].describe() != id);
        out.push(i);
    }
    out
}

/// The pools and classes of the documents `indices`.
pub fn documents_of(cloud: &[CloudDocument], indices: &[usize]) -> Documents {
    let mut d = Documents::default();
    for &i in indices {
        d.node_pools.extend(cloud[i].documents.node_pools.iter().cloned());
        d.node_classes.extend(cloud[i].documents.node_classes.iter().cloned());
    }
    d
}

/// One NodeClaim and its lifecycle, in simulated milliseconds.
#[derive(Clone, Debug)]
struct ClaimRec {
    planned: PlannedNodeClaim,
    managed: ManagedNode,
    created: Millis,
    launched: Millis,
    registered: Option<Millis>,
    ready: Option<Millis>,
    deleted: Option<Millis>,
    deleted_because: Option<String>,
}

impl ClaimRec {
    fn live(&self) -> bool {
        self.deleted.is_none()
    }
}

/// A disruption being carried out: the candidates go once the replacement (if any) is
/// initialized.
#[derive(Clone, Debug)]
struct Execution {
    method: String,
    replacement: Option<String>,
    candidates: Vec<String>,
    draining: bool,
}

/// The autoscaler actor.
pub struct AutoscalerActor {
    name: String,
    auto: Autoscaler,
    cloud: Vec<CloudDocument>,
    current: Vec<usize>,
    profile: Profile,
    options: Options,
    settings: AutoscalingSettings,
    claims: Vec<ClaimRec>,
    /// Open batch: (first trigger, last trigger).
    batch: Option<(Millis, Millis)>,
    batch_gen: u64,
    pending_command: Option<(Command, Millis)>,
    validate_gen: u64,
    executing: Vec<Execution>,
    pod_node: HashMap<String, String>,
    logged_failures: HashMap<String, String>,
    disruptions: Vec<DisruptionRecord>,
    peak_nodes: usize,
    /// Bumped by every pod or node change: consolidation is skipped while nothing changed since
    /// its last no-op, but at least every 5 minutes (`IsConsolidated`, doc §4.1).
    state_epoch: u64,
    consolidated: Option<(u64, Millis)>,
}

fn secs(t: Millis) -> i64 {
    (t / SECOND) as i64
}

fn dollars(m: Money) -> f64 {
    m.micros() as f64 / 1e6
}

impl AutoscalerActor {
    /// The autoscaler of `scenario` (its starting documents, `autoMode`, settings) judging
    /// placements with `profile`. Errors were reported when the scenario was validated; they
    /// come back as text here.
    pub fn new(scenario: &crate::Scenario, profile: Profile) -> Result<AutoscalerActor, String> {
        let options = Options {
            auto_mode_builtins: scenario.auto_mode,
            spot_to_spot_consolidation: scenario.autoscaling.spot_to_spot_consolidation,
            repack: scenario.autoscaling.repack,
            seed: scenario.seed,
            ..Options::default()
        };
        let current = scenario.cloud_at_start.clone();
        let docs = documents_of(&scenario.cloud, &current);
        let auto = crate::cloud::autoscaler(&docs, &scenario.cloud_raw(), profile.clone(), options.clone())
            .map_err(|errs| errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))?;
        Ok(AutoscalerActor {
            name: if scenario.auto_mode { "eks-auto-mode".into() } else { "karpenter".into() },
            auto,
            cloud: scenario.cloud.clone(),
            current,
            profile,
            options,
            settings: scenario.autoscaling.clone(),
            claims: Vec::new(),
            batch: None,
            batch_gen: 0,
            pending_command: None,
            validate_gen: 0,
            executing: Vec::new(),
            pod_node: HashMap::new(),
            logged_failures: HashMap::new(),
            disruptions: Vec::new(),
            peak_nodes: 0,
            state_epoch: 0,
            consolidated: None,
        })
    }

    fn claim_index(&self, node: &str) -> Option<usize> {
        self.claims.iter().position(|c| c.live() && c.planned.name == node)
    }

    /// Pods Karpenter would provision for (doc §3.1 `IsProvisionable`).
    fn provisionable(cx: &ActorCx<'_, '_>) -> Vec<Arc<Pod>> {
        cx.pending_pods()
            .into_iter()
            .filter(|v| {
                v.queued
                    && v.message.is_some()
                    && v.model.nominated_node_name.is_none()
                    && !v.model.is_daemonset_pod()
                    && !v.model.is_gated()
            })
            .map(|v| v.model)
            .collect()
    }

    /// The cluster with the NodeClaims in flight (launched, not registered) as nodes, and the
    /// managed nodes' metadata.
    fn view(&self, cx: &ActorCx<'_, '_>) -> (Snapshot, Vec<ManagedNode>) {
        let mut snap = cx.snapshot().clone();
        for c in self.claims.iter().filter(|c| c.live() && c.registered.is_none()) {
            snap.add_node(c.planned.in_flight_node());
        }
        let managed = self.claims.iter().filter(|c| c.live()).map(|c| c.managed.clone()).collect();
        (snap, managed)
    }

    fn trigger(&mut self, cx: &mut ActorCx<'_, '_>) {
        let now = cx.now();
        match &mut self.batch {
            Some((_, last)) => *last = now,
            None => {
                self.batch = Some((now, now));
                self.batch_gen += 1;
                cx.set_timer(timing::BATCH_IDLE as Millis * SECOND, token(BATCH, self.batch_gen));
            }
        }
    }

    fn batch_timer(&mut self, cx: &mut ActorCx<'_, '_>, generation: u64) {
        let Some((first, last)) = self.batch else { return };
        if generation != self.batch_gen {
            return;
        }
        let now = cx.now();
        let idle = timing::BATCH_IDLE as Millis * SECOND;
        let max = timing::BATCH_MAX as Millis * SECOND;
        if now < last + idle && now < first + max {
            let next = (last + idle).min(first + max);
            cx.set_timer(next - now, token(BATCH, generation));
            return;
        }
        self.batch = None;
        self.provision(cx);
    }

    fn provision(&mut self, cx: &mut ActorCx<'_, '_>) {
        let pending = Self::provisionable(cx);
        if pending.is_empty() {
            return;
        }
        let (snap, managed) = self.view(cx);
        let daemonsets = cx.daemonset_pods();
        let view = ClusterView { snapshot: &snap, managed: &managed, daemonsets: &daemonsets };
        let mut auto = self.auto.clone();
        auto.options.seed = self.options.seed ^ cx.now();
        let plan = auto.provision(&view, pending);
        let now_s = secs(cx.now());
        for e in &plan.existing {
            if let Some(i) = self.claim_index(&e.node) {
                self.claims[i].managed.nominated_until = Some(now_s + timing::NOMINATION_WINDOW);
            }
        }
        for c in plan.node_claims {
            self.launch(cx, c, "provisioning");
        }
        for (pod, why) in &plan.errors {
            let key = pod.key();
            if self.logged_failures.get(&key) != Some(why) {
                self.logged_failures.insert(key.clone(), why.clone());
                cx.record_about("NoNodeClaim", Some(&key), None, format!("could not schedule pod: {why}"));
            }
        }
    }

    /// Creates a NodeClaim: launched after 1 s, registered and Ready after the lifecycle delays.
    fn launch(&mut self, cx: &mut ActorCx<'_, '_>, planned: PlannedNodeClaim, why: &str) {
        let now = cx.now();
        let launched = now + timing::LAUNCH_DELAY as Millis * SECOND;
        let ready_after = match self.settings.ready_after_launch {
            Some(r) => r,
            None => {
                self.auto
                    .catalog
                    .get(&planned.instance_type)
                    .map_or(timing::READY_AFTER_LAUNCH, timing::ready_after_launch) as Millis
                    * SECOND
            }
        };
        let registered_after = self.settings.registered_after_launch.min(ready_after);
        let mut managed = planned.managed(secs(launched));
        managed.nominated_until = Some(secs(now) + timing::NOMINATION_WINDOW);
        cx.record_about(
            "NodeClaimCreated",
            None,
            Some(&planned.name),
            format!(
                "{why}: NodePool {}, {} {} in {} at ${}/hour for {} pods; {}",
                planned.node_pool,
                planned.instance_type,
                planned.capacity_type.as_str(),
                planned.zone,
                planned.hourly_price.to_string().trim_start_matches('$'),
                planned.pods.len(),
                planned.reason
            ),
        );
        let index = self.claims.len() as u64;
        self.claims.push(ClaimRec {
            planned,
            managed,
            created: now,
            launched,
            registered: None,
            ready: None,
            deleted: None,
            deleted_because: None,
        });
        let live = self.claims.iter().filter(|c| c.live()).count();
        self.peak_nodes = self.peak_nodes.max(live);
        cx.set_timer(launched + registered_after - now, token(REGISTER, index));
        cx.set_timer(launched + ready_after - now, token(READY, index));
    }

    fn register(&mut self, cx: &mut ActorCx<'_, '_>, i: usize) {
        let Some(c) = self.claims.get_mut(i).filter(|c| c.live()) else { return };
        c.registered = Some(cx.now());
        let node = c.planned.in_flight_node();
        cx.add_node(node);
    }

    fn ready(&mut self, cx: &mut ActorCx<'_, '_>, i: usize) {
        let Some(c) = self.claims.get_mut(i).filter(|c| c.live()) else { return };
        c.ready = Some(cx.now());
        c.managed.initialized_at = Some(secs(cx.now()));
        let node = c.planned.initialized_node();
        let name = c.planned.name.clone();
        cx.node_ready(node);
        // A replacement is up: its candidates can go (doc §4.10).
        let waiting: Vec<usize> = (0..self.executing.len())
            .filter(|&k| !self.executing[k].draining && self.executing[k].replacement.as_deref() == Some(name.as_str()))
            .collect();
        for k in waiting {
            self.drain_execution(cx, k);
        }
    }

    fn drain_execution(&mut self, cx: &mut ActorCx<'_, '_>, k: usize) {
        self.executing[k].draining = true;
        let candidates = self.executing[k].candidates.clone();
        let method = self.executing[k].method.clone();
        for name in candidates {
            self.drain(cx, &name, &method);
        }
    }

    fn drain(&mut self, cx: &mut ActorCx<'_, '_>, name: &str, because: &str) {
        let Some(i) = self.claim_index(name) else { return };
        self.claims[i].managed.deleting = true;
        self.claims[i].deleted_because = Some(because.to_string());
        if self.claims[i].registered.is_none() {
            // Never registered: the instance is terminated at once.
            self.delete(cx, i);
            return;
        }
        let taint = Taint::new(DISRUPTED_TAINT, "", TaintEffect::NoSchedule);
        if !cx.drain_node(name, Some(taint)) {
            self.delete(cx, i);
        }
    }

    fn delete(&mut self, cx: &mut ActorCx<'_, '_>, i: usize) {
        let c = &mut self.claims[i];
        if c.deleted.is_some() {
            return;
        }
        c.deleted = Some(cx.now());
        let name = c.planned.name.clone();
        let because = c.deleted_because.clone().unwrap_or_else(|| "deleted".into());
        cx.remove_node(&name);
        cx.record_about("NodeClaimDeleted", None, Some(&name), because);
        self.executing
            .retain(|e| e.candidates.iter().any(|n| self.claims.iter().any(|c| c.live() && &c.planned.name == n)));
    }

    fn poll(&mut self, cx: &mut ActorCx<'_, '_>) {
        cx.set_background_timer(timing::DISRUPTION_POLL as Millis * SECOND, token(POLL, 0));
        if !self.claims.iter().any(ClaimRec::live) {
            return;
        }
        let now_s = secs(cx.now());
        let (snap, managed) = self.view(cx);
        let daemonsets = cx.daemonset_pods();
        let view = ClusterView { snapshot: &snap, managed: &managed, daemonsets: &daemonsets };
        let expired = self.auto.expired_nodes(&view, now_s);
        for name in expired {
            cx.record_about("NodeClaimExpired", None, Some(&name), "expireAfter reached: forceful, no budget");
            self.drain(cx, &name, "expired");
        }
        if !self.settings.consolidation || self.pending_command.is_some() {
            return;
        }
        let reevaluate = timing::CONSOLIDATION_REEVALUATION as Millis * SECOND;
        // A node turning Consolidatable (consolidateAfter elapsed) is a change too.
        let turned = |since: Millis| {
            self.claims.iter().filter(|c| c.live()).any(|c| {
                let after = self.auto.pool(&c.managed.node_pool).and_then(|p| p.pool.consolidate_after.seconds());
                let last = c.managed.last_pod_event_at.or(c.managed.initialized_at);
                matches!((after, last), (Some(a), Some(l)) if (l + a) * 1000 > since as i64 && (l + a) * 1000 <= cx.now() as i64)
            })
        };
        if self
            .consolidated
            .is_some_and(|(epoch, at)| epoch == self.state_epoch && cx.now() < at + reevaluate && !turned(at))
        {
            return;
        }
        let (snap, managed) = self.view(cx);
        let view = ClusterView { snapshot: &snap, managed: &managed, daemonsets: &daemonsets };
        let pending = Self::provisionable(cx);
        if let Some(cmd) = self.auto.compute_disruption(&view, &pending, now_s) {
            cx.record("DisruptionDecided", format!("{}; validating in {}s", describe(&cmd), timing::VALIDATION_DELAY));
            self.pending_command = Some((cmd, cx.now()));
            self.validate_gen += 1;
            cx.set_timer(timing::VALIDATION_DELAY as Millis * SECOND, token(VALIDATE, self.validate_gen));
            self.consolidated = None;
        } else {
            self.consolidated = Some((self.state_epoch, cx.now()));
        }
    }

    fn validate(&mut self, cx: &mut ActorCx<'_, '_>, generation: u64) {
        if generation != self.validate_gen {
            return;
        }
        let Some((cmd, decided)) = self.pending_command.take() else { return };
        let (snap, managed) = self.view(cx);
        let daemonsets = cx.daemonset_pods();
        let view = ClusterView { snapshot: &snap, managed: &managed, daemonsets: &daemonsets };
        let pending = Self::provisionable(cx);
        let result = self.auto.validate_disruption(&cmd, &view, &pending, secs(cx.now()));
        let mut record = DisruptionRecord {
            at: seconds(decided),
            time: format_duration(decided),
            method: cmd.method.as_str().to_string(),
            candidates: cmd.candidates.clone(),
            replacement: cmd.replacement.as_ref().map(|r| r.instance_type.clone()),
            savings_per_hour: dollars(cmd.savings),
            outcome: "executed".into(),
        };
        match result {
            Err(why) => {
                cx.record("DisruptionCancelled", format!("{}: {why}", describe(&cmd)));
                record.outcome = format!("cancelled: {why}");
            }
            Ok(()) => {
                cx.record("DisruptionStarted", describe(&cmd));
                let method = cmd.method.as_str().to_string();
                for name in &cmd.candidates {
                    if let Some(i) = self.claim_index(name) {
                        self.claims[i].managed.deleting = true;
                        self.claims[i].deleted_because = Some(method.clone());
                    }
                }
                let replacement = cmd.replacement.as_ref().map(|r| r.name.clone());
                self.executing.push(Execution {
                    method: method.clone(),
                    replacement: replacement.clone(),
                    candidates: cmd.candidates.clone(),
                    draining: false,
                });
                match cmd.replacement {
                    Some(r) => self.launch(cx, r, &format!("replacement ({method})")),
                    None => {
                        let k = self.executing.len() - 1;
                        self.drain_execution(cx, k);
                    }
                }
            }
        }
        self.disruptions.push(record);
    }

    /// Swaps in the NodePools and classes applied on the timeline.
    fn apply_documents(&mut self, cx: &mut ActorCx<'_, '_>, documents: &[usize]) {
        self.current = merge_documents(&self.cloud, &self.current, documents);
        let docs = documents_of(&self.cloud, &self.current);
        let raw: Vec<_> = self.cloud.iter().map(|d| d.raw.clone()).collect();
        match crate::cloud::autoscaler(&docs, &raw, self.profile.clone(), self.options.clone()) {
            Ok(a) => self.auto = a,
            Err(errs) => {
                let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
                cx.record("NodePoolsRejected", text.join("; "));
            }
        }
    }

    fn pod_event(&mut self, node: &str, now: Millis) {
        if let Some(i) = self.claim_index(node) {
            self.claims[i].managed.last_pod_event_at = Some(secs(now));
        }
    }
}

/// `multi-node consolidation: delete default-abcde, default-fghij (saves $0.612/hour)`.
fn describe(cmd: &Command) -> String {
    let what = match &cmd.replacement {
        None => format!("delete {}", cmd.candidates.join(", ")),
        Some(r) => format!(
            "replace {} with {} {} (${}/hour)",
            cmd.candidates.join(", "),
            r.instance_type,
            r.capacity_type.as_str(),
            r.hourly_price.to_string().trim_start_matches('$')
        ),
    };
    format!("{}: {what}, saving ${}/hour", cmd.method.as_str(), cmd.savings.to_string().trim_start_matches('$'))
}

impl Actor for AutoscalerActor {
    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self, cx: &mut ActorCx<'_, '_>) {
        cx.set_background_timer(timing::DISRUPTION_POLL as Millis * SECOND, token(POLL, 0));
    }

    fn notice(&mut self, cx: &mut ActorCx<'_, '_>, notice: &Notice) {
        self.state_epoch += 1;
        match notice {
            Notice::PodUnschedulable { pod, .. } => {
                let provisionable = cx.pod(pod).is_some_and(|v| {
                    v.model.nominated_node_name.is_none() && !v.model.is_daemonset_pod() && !v.model.is_gated()
                });
                if provisionable {
                    self.trigger(cx);
                }
            }
            Notice::PodBound { pod, node } => {
                self.pod_node.insert(pod.clone(), node.clone());
                self.pod_event(node, cx.now());
            }
            Notice::PodDeleted { pod } => {
                if let Some(node) = self.pod_node.remove(pod) {
                    self.pod_event(&node, cx.now());
                }
            }
            Notice::DrainCompleted { node } => {
                if let Some(i) = self.claim_index(node)
                    && self.claims[i].managed.deleting
                {
                    self.delete(cx, i);
                }
            }
            Notice::NodeRemoved { node } => {
                if let Some(i) = self.claim_index(node) {
                    self.claims[i].deleted = Some(cx.now());
                    self.claims[i].deleted_because.get_or_insert_with(|| "node deleted".into());
                }
            }
            Notice::CloudApplied { documents } => self.apply_documents(cx, documents),
            _ => {}
        }
    }

    fn timer(&mut self, cx: &mut ActorCx<'_, '_>, t: u64) {
        let (kind, value) = untoken(t);
        match kind {
            BATCH => self.batch_timer(cx, value),
            REGISTER => self.register(cx, value as usize),
            READY => self.ready(cx, value as usize),
            POLL => self.poll(cx),
            VALIDATE => self.validate(cx, value),
            _ => {}
        }
    }

    fn finish(&mut self, cx: &mut ActorCx<'_, '_>, out: &mut ActorOutput) {
        let end = cx.now();
        let mut total = 0.0;
        let mut claims = Vec::new();
        let mut types: Vec<TypeCount> = Vec::new();
        for c in &self.claims {
            let p = &c.planned;
            let stop = c.deleted.unwrap_or(end).max(c.launched);
            let billed = if end > c.launched || c.deleted.is_some() { stop.saturating_sub(c.launched) } else { 0 };
            let cost = dollars(p.hourly_price) * billed as f64 / 3_600_000.0;
            total += cost;
            if c.launched <= end {
                out.charges.push(Charge {
                    start: c.launched,
                    end: c.deleted,
                    hourly: dollars(p.hourly_price),
                    managed_node: true,
                });
            }
            match types.iter_mut().find(|t| t.instance_type == p.instance_type) {
                Some(t) => t.count += 1,
                None => types.push(TypeCount { instance_type: p.instance_type.clone(), count: 1 }),
            }
            claims.push(NodeClaimState {
                name: p.name.clone(),
                node_pool: p.node_pool.clone(),
                instance_type: p.instance_type.clone(),
                capacity_type: p.capacity_type.as_str().to_string(),
                zone: p.zone.clone(),
                hourly_price: dollars(p.hourly_price),
                created: format_duration(c.created),
                launched: format_duration(c.launched),
                registered: c.registered.map(format_duration),
                ready: c.ready.map(format_duration),
                deleted: c.deleted.map(format_duration),
                deleted_because: c.deleted.and(c.deleted_because.clone()),
                planned_pods: p.pods.len(),
                reason: p.reason.clone(),
                instance_type_options: p.instance_type_options.iter().take(10).cloned().collect(),
                cost: crate::engine::round6(cost),
            });
        }
        types.sort_by(|a, b| b.count.cmp(&a.count).then(a.instance_type.cmp(&b.instance_type)));
        let live: Vec<&ClaimRec> = self.claims.iter().filter(|c| c.live()).collect();
        let hourly: Money = live.iter().filter(|c| c.launched <= end).map(|c| c.planned.hourly_price).sum();
        out.autoscaling = Some(AutoscalingReport {
            node_pools: self.auto.pools().iter().map(|p| p.pool.name.clone()).collect(),
            auto_mode: self.options.auto_mode_builtins,
            nodes_launched: self.claims.len(),
            nodes_deleted: self.claims.len() - live.len(),
            nodes_at_end: live.len(),
            peak_nodes: self.peak_nodes,
            hourly_cost_at_end: dollars(hourly),
            total_cost: crate::engine::round6(total),
            instance_types: types,
            node_claims: claims,
            disruptions: self.disruptions.clone(),
        });
    }
}
