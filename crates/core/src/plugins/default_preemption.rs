//! DefaultPreemption (PostFilter): when a pod fits nowhere, find a node where evicting pods of
//! lower priority makes it fit, pick the node whose eviction hurts least, and nominate the pod
//! there. kube-scheduler.md §4.13; kube's `defaultpreemption/default_preemption.go` and
//! `framework/preemption/preemption.go` (v1.34).
//!
//! The steps, in kube's order:
//! 1. eligibility (`PodEligibleToPreemptOthers`);
//! 2. candidate nodes: only those whose filter status is `Unschedulable` (§1.5);
//! 3. the dry run (`DryRunPreemption`) from a random offset (the scheduler's seeded RNG), one
//!    node at a time, stopping once enough candidates are found;
//! 4. per node, `SelectVictimsOnNode`: remove every lower-priority pod, check the pod fits
//!    (filters with nominated pods), then reprieve pods greedily by importance, PDB-violating
//!    pods first;
//! 5. `pickOneNodeForPreemption`;
//! 6. with no candidate, the `preemption: 0/N nodes are available: …` message (§1.10).
//!
//! Deliberate differences, all for determinism: kube lists the candidate nodes from a map
//! (random order) and dry-runs them in parallel; here they are taken in node-tree order from the
//! random offset, sequentially, and the final tie goes to the first candidate in that order.

use crate::args::{ArgValue, FieldError, read};
use crate::fit_error::FitError;
use crate::framework::{Code, CycleState, Plugin, PodCx, Points, PostFilterCx, PostFilterResult, Profile, Status};
use crate::intern::Sym;
use crate::model::{Pod, PodDisruptionBudget, PreemptionPolicy};
use crate::pdb;
use crate::schedule::run_filters_with_nominated_pods;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use std::cmp::Ordering;
use std::sync::Arc;

pub const NAME: &str = "DefaultPreemption";

/// `PodEligibleToPreemptOthers` reasons.
pub const NOT_ELIGIBLE_NEVER: &str = "not eligible due to preemptionPolicy=Never.";
pub const NOT_ELIGIBLE_TERMINATING: &str = "not eligible due to a terminating pod on the nominated node.";
/// `SelectVictimsOnNode` when the node has no pod of lower priority.
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
/// The status of every node preemption did not (or could not usefully) try.
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";

/// `DefaultPreemptionArgs` v1 defaults.
pub const DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE: i32 = 10;
pub const DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE: i32 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultPreemption {
    pub min_candidate_nodes_percentage: i32,
    pub min_candidate_nodes_absolute: i32,
}

impl Default for DefaultPreemption {
    fn default() -> Self {
        DefaultPreemption {
            min_candidate_nodes_percentage: DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE,
            min_candidate_nodes_absolute: DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE,
        }
    }
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    Ok(Arc::new(parse_args(args, path)?))
}

/// Parses `DefaultPreemptionArgs` with v1 defaulting (absent → 10 / 100; an explicit 0 stays
/// 0) and `ValidateDefaultPreemptionArgs`. kube aggregates every error; the first is returned.
pub fn parse_args(args: &ArgValue, path: &str) -> Result<DefaultPreemption, FieldError> {
    read::known_keys(args, &["minCandidateNodesPercentage", "minCandidateNodesAbsolute", "apiVersion", "kind"], path)?;
    let int32 = |key: &str, default: i32| -> Result<i32, FieldError> {
        let p = format!("{path}.{key}");
        match read::int(args.get(key), &p)? {
            None => Ok(default),
            Some(v) => i32::try_from(v).map_err(|_| FieldError::invalid(p, v, "expected a 32-bit integer")),
        }
    };
    let pct = int32("minCandidateNodesPercentage", DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE)?;
    let abs = int32("minCandidateNodesAbsolute", DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE)?;
    let pct_path = format!("{path}.minCandidateNodesPercentage");
    let abs_path = format!("{path}.minCandidateNodesAbsolute");
    if !(0..=100).contains(&pct) {
        return Err(FieldError::invalid(pct_path, pct, "not in valid range [0, 100]"));
    }
    if abs < 0 {
        return Err(FieldError::invalid(abs_path, abs, "not in valid range [0, inf)"));
    }
    if pct == 0 && abs == 0 {
        return Err(FieldError::invalid(pct_path, pct, "cannot be zero at the same time as minCandidateNodesAbsolute"));
    }
    Ok(DefaultPreemption { min_candidate_nodes_percentage: pct, min_candidate_nodes_absolute: abs })
}

/// One pod the preemptor would evict, with what the node choice compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Victim {
    pub id: PodId,
    pub priority: i32,
    pub start_time: Option<i64>,
}

/// A node where preemption would work, and what it would cost (kube's `Candidate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub node: NodeId,
    /// From most to least important (the first has the highest priority).
    pub victims: Vec<Victim>,
    pub pdb_violations: usize,
}

/// The outcome of the dry run over the potential nodes.
#[derive(Clone, Debug, Default)]
pub struct DryRun {
    /// Candidates that violate no budget first, then the violating ones, each in dry-run order.
    pub candidates: Vec<Candidate>,
    /// Every node examined that did not yield a candidate, with its status.
    pub failed: Vec<(NodeId, Status)>,
    /// Error statuses among `failed`, as messages.
    pub errors: Vec<String>,
    /// Nodes examined before the early stop.
    pub examined: usize,
}

/// `MoreImportantPod`: higher priority first, then the earlier start time. A pod that has not
/// started counts as starting now, after every pod that has.
pub fn importance(a: &Pod, b: &Pod) -> Ordering {
    b.priority.cmp(&a.priority).then_with(|| start_key(a.start_time).cmp(&start_key(b.start_time)))
}

#[inline]
fn start_key(t: Option<i64>) -> i64 {
    t.unwrap_or(i64::MAX)
}

impl DefaultPreemption {
    /// `calculateNumCandidates`: `max(n × percentage / 100, absolute)`, at most `n`.
    pub fn num_candidates(&self, num_nodes: usize) -> usize {
        let n = num_nodes as i64;
        let by_pct = n * self.min_candidate_nodes_percentage as i64 / 100;
        by_pct.max(self.min_candidate_nodes_absolute as i64).min(n).max(0) as usize
    }

    /// The whole of kube's `Evaluator.Preempt` minus the API calls; the status message is the
    /// bare one (the plugin prefixes `preemption: `).
    pub fn preempt(&self, cx: &mut PostFilterCx<'_>) -> (Option<PostFilterResult>, Status) {
        let (pod, snapshot) = (cx.pod, cx.snapshot);
        if let Err(reason) = eligible(pod, snapshot, cx.statuses) {
            return (None, Status::unschedulable(reason));
        }
        let num_all = snapshot.num_nodes();
        if num_all == 0 {
            return (None, Status::error("no nodes available"));
        }
        // Nodes that failed with Unschedulable only, in node-tree order.
        let mut code_of: Vec<Option<Code>> = Vec::new();
        for (id, s) in cx.statuses {
            let i = id.0 as usize;
            if code_of.len() <= i {
                code_of.resize(i + 1, None);
            }
            code_of[i] = Some(s.code);
        }
        let potential: Vec<NodeId> = snapshot
            .order()
            .iter()
            .copied()
            .filter(|id| code_of.get(id.0 as usize).copied().flatten() == Some(Code::Unschedulable))
            .collect();
        let run = if potential.is_empty() {
            DryRun::default()
        } else {
            let allowed = pdb::disruptions_allowed(snapshot);
            let offset = cx.rng.below(potential.len() as u64) as usize;
            let want = self.num_candidates(potential.len());
            dry_run(cx.profile, cx.state, pod, snapshot, &potential, snapshot.pdbs(), &allowed, offset, want)
        };
        if run.candidates.is_empty() {
            if !run.errors.is_empty() {
                return (None, Status::error(aggregate(&run.errors)));
            }
            return (None, Status::unschedulable(no_candidate_message(num_all, run.failed)));
        }
        let Some(best) = pick_one_node(&run.candidates) else {
            return (None, Status::unschedulable("no candidate node for preemption"));
        };
        let chosen = &run.candidates[best];
        let result =
            PostFilterResult { nominated_node: chosen.node, victims: chosen.victims.iter().map(|v| v.id).collect() };
        (Some(result), Status::success())
    }
}

impl Plugin for DefaultPreemption {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::POST_FILTER
    }

    fn post_filter(&self, cx: &mut PostFilterCx<'_>) -> (Option<PostFilterResult>, Status) {
        let (result, mut status) = self.preempt(cx);
        // DefaultPreemption.PostFilter: a non-empty message gets the `preemption: ` prefix.
        let msg = status.message();
        if !msg.is_empty() {
            status = Status::new(status.code, format!("preemption: {msg}"));
        }
        (result, status)
    }
}

/// `PodEligibleToPreemptOthers`: `Err(reason)` when the pod may not preempt.
///
/// - `preemptionPolicy: Never`;
/// - a pod nominated to a node where a lower-priority pod is terminating is waiting for that
///   preemption to finish — unless its nominated node is now `UnschedulableAndUnresolvable`
///   (a node missing from `statuses` counts as such, as kube's absent-nodes status does).
///
/// kube also requires the terminating pod to carry the `DisruptionTarget` condition set by the
/// scheduler; the model keeps only `terminating`, so any terminating lower-priority pod counts.
pub fn eligible(pod: &Pod, snapshot: &Snapshot, statuses: &[(NodeId, Status)]) -> Result<(), &'static str> {
    if pod.preemption_policy == PreemptionPolicy::Never {
        return Err(NOT_ELIGIBLE_NEVER);
    }
    let Some(nominated) = pod.nominated_node_name else { return Ok(()) };
    let Some(id) = snapshot.node_id(nominated) else { return Ok(()) };
    let code = statuses.iter().find(|(n, _)| *n == id).map(|(_, s)| s.code);
    if code.is_none_or(|c| c == Code::UnschedulableAndUnresolvable) {
        return Ok(());
    }
    let terminating = snapshot.node(id).pods.iter().filter_map(|&p| snapshot.get_pod(p)).any(|b| {
        let other = &b.pod;
        other.priority < pod.priority && other.terminating
    });
    if terminating { Err(NOT_ELIGIBLE_TERMINATING) } else { Ok(()) }
}

/// `DryRunPreemption`: `SelectVictimsOnNode` on each potential node from `offset`, wrapping
/// around, until at least one candidate violates no budget and there are `want` candidates in
/// all. Each list keeps at most `want` candidates, as kube's fixed-size candidate lists do.
#[allow(clippy::too_many_arguments)]
pub fn dry_run(
    profile: &Profile,
    state: &CycleState,
    pod: &Pod,
    snapshot: &Snapshot,
    potential: &[NodeId],
    pdbs: &[PodDisruptionBudget],
    allowed: &[i32],
    offset: usize,
    want: usize,
) -> DryRun {
    let n = potential.len();
    let mut non_violating: Vec<Candidate> = Vec::new();
    let mut violating: Vec<Candidate> = Vec::new();
    let mut run = DryRun::default();
    for i in 0..n {
        let id = potential[(offset + i) % n];
        run.examined += 1;
        let mut node = snapshot.node(id).clone();
        let mut state = state.clone();
        match select_victims_on_node(profile, &mut state, pod, snapshot, &mut node, pdbs, allowed) {
            Ok((victims, violations)) if !victims.is_empty() => {
                let victims = victims
                    .into_iter()
                    .map(|pid| {
                        let p = &snapshot.pod(pid).pod;
                        Victim { id: pid, priority: p.priority, start_time: p.start_time }
                    })
                    .collect();
                let c = Candidate { node: id, victims, pdb_violations: violations };
                let list = if violations == 0 { &mut non_violating } else { &mut violating };
                if list.len() < want {
                    list.push(c);
                }
                if !non_violating.is_empty() && non_violating.len() + violating.len() >= want {
                    break;
                }
            }
            Ok(_) => {
                let msg = format!("expected at least one victim pod on node {:?}", node.name().as_str());
                run.errors.push(msg.clone());
                run.failed.push((id, Status::error(msg)));
            }
            Err(status) => {
                if status.code == Code::Error {
                    run.errors.push(status.message());
                }
                run.failed.push((id, status));
            }
        }
    }
    run.candidates = non_violating;
    run.candidates.append(&mut violating);
    run
}

/// Removes `victim` from `node` and lets every PreFilter plugin update its state
/// (`RunPreFilterExtensionRemovePod`).
fn remove_pod(profile: &Profile, state: &mut CycleState, cx: PodCx<'_>, node: &mut NodeInfo, id: PodId, victim: &Pod) {
    node.unaccount_pod(id, victim);
    for &p in &profile.pre_filter {
        if !state.skip_filter[p] {
            profile.plugin(p).remove_pod(cx, &mut state.slots[p], victim, node);
        }
    }
}

/// Puts `victim` back on `node` (`AddPodInfo` + `RunPreFilterExtensionAddPod`).
fn add_pod(profile: &Profile, state: &mut CycleState, cx: PodCx<'_>, node: &mut NodeInfo, id: PodId, victim: &Pod) {
    node.account_pod(id, victim);
    for &p in &profile.pre_filter {
        if !state.skip_filter[p] {
            profile.plugin(p).add_pod(cx, &mut state.slots[p], victim, node);
        }
    }
}

/// The filters with nominated pods, an Error wrapped as `RunFilterPlugins` wraps it.
fn fits(profile: &Profile, state: &CycleState, pod: &Pod, snapshot: &Snapshot, node: &NodeInfo) -> Status {
    let s = run_filters_with_nominated_pods(profile, state, pod, snapshot, node);
    if s.code == Code::Error {
        return Status::error(format!("running {:?} filter plugin: {}", s.plugin, s.message())).with_plugin(s.plugin);
    }
    s
}

/// `SelectVictimsOnNode` on `node` (a copy the caller owns) with `state` (likewise): the fewest
/// pods to evict so that `pod` fits, most important pods reprieved first, pods whose eviction
/// would violate a budget before the others. Returns the victims (most important first) and how
/// many of them violate a budget; `Err` is the node's status when preemption cannot help there.
pub fn select_victims_on_node(
    profile: &Profile,
    state: &mut CycleState,
    pod: &Pod,
    snapshot: &Snapshot,
    node: &mut NodeInfo,
    pdbs: &[PodDisruptionBudget],
    allowed: &[i32],
) -> Result<(Vec<PodId>, usize), Status> {
    let cx = PodCx { pod, snapshot };
    let mut potential: Vec<(PodId, &Pod)> = node
        .pods
        .iter()
        .filter_map(|&id| snapshot.get_pod(id).map(|b| (id, &*b.pod)))
        .filter(|(_, p)| p.priority < pod.priority)
        .collect();
    for &(id, victim) in &potential {
        remove_pod(profile, state, cx, node, id, victim);
    }
    if potential.is_empty() {
        return Err(Status::unresolvable(NO_VICTIMS));
    }
    // Not even without every lower-priority pod: this node cannot help.
    let s = fits(profile, state, pod, snapshot, node);
    if !s.is_success() {
        return Err(s);
    }
    potential.sort_by(|a, b| importance(a.1, b.1));
    let (violating, non_violating) = pdb::split_by_violation(&potential, |(_, p)| p, pdbs, allowed);
    let mut victims: Vec<(PodId, &Pod)> = Vec::new();
    let mut num_violating = 0;
    for (group, is_violating) in [(&violating, true), (&non_violating, false)] {
        for &(id, victim) in group {
            add_pod(profile, state, cx, node, id, victim);
            if !fits(profile, state, pod, snapshot, node).is_success() {
                remove_pod(profile, state, cx, node, id, victim);
                victims.push((id, victim));
                if is_violating {
                    num_violating += 1;
                }
            }
        }
    }
    if !violating.is_empty() && !non_violating.is_empty() {
        victims.sort_by(|a, b| importance(a.1, b.1));
    }
    Ok((victims.into_iter().map(|(id, _)| id).collect(), num_violating))
}

/// `pickOneNodeForPreemption`: the index of the chosen candidate. Lexicographically:
/// 0. a candidate without victims (older kube-schedulers' first rule; v1.34's dry run never
///    produces one);
/// 1. fewest PDB violations;
/// 2. lowest priority of the most important victim;
/// 3. smallest sum of victim priorities, each offset by MaxInt32+1 so negative priorities sum up
///    as costs too;
/// 4. fewest victims;
/// 5. latest start time among each candidate's highest-priority victims (not started = now);
/// 6. the first remaining candidate.
pub fn pick_one_node(candidates: &[Candidate]) -> Option<usize> {
    if candidates.is_empty() {
        return None;
    }
    if let Some(i) = candidates.iter().position(|c| c.victims.is_empty()) {
        return Some(i);
    }
    let scores: [fn(&Candidate) -> i64; 5] = [
        |c| -(c.pdb_violations as i64),
        |c| -(c.victims.first().map_or(0, |v| v.priority) as i64),
        |c| -c.victims.iter().map(|v| v.priority as i64 + i32::MAX as i64 + 1).sum::<i64>(),
        |c| -(c.victims.len() as i64),
        |c| {
            let top = c.victims.iter().map(|v| v.priority).max().unwrap_or(0);
            c.victims.iter().filter(|v| v.priority == top).map(|v| start_key(v.start_time)).min().unwrap_or(i64::MIN)
        },
    ];
    let mut left: Vec<usize> = (0..candidates.len()).collect();
    for score in scores {
        let best = left.iter().map(|&i| score(&candidates[i])).max().unwrap_or(i64::MIN);
        left.retain(|&i| score(&candidates[i]) == best);
        if left.len() == 1 {
            break;
        }
    }
    left.first().copied()
}

/// The message when no node can be made to fit: kube builds a FitError over the dry run's
/// statuses, every other node counting as "Preemption is not helpful for scheduling".
fn no_candidate_message(num_all: usize, failed: Vec<(NodeId, Status)>) -> String {
    let absent = num_all.saturating_sub(failed.len());
    FitError {
        num_all_nodes: num_all,
        pre_filter_msg: None,
        statuses: failed,
        absent: (absent > 0).then(|| (absent, Status::unresolvable(NOT_HELPFUL))),
        post_filter_msg: None,
    }
    .to_string()
}

/// `utilerrors.NewAggregate(errs).Error()`: one error as is, several as `[a, b]`.
fn aggregate(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// kube's `prepareCandidate` beyond deleting the victims (which the caller does): the pods of
/// lower priority nominated to `node` lose their nomination (they may no longer fit there), and
/// budgets whose status came from the input are charged for the `evicted` pods as the disruption
/// controller's next sync would. Returns the `(namespace, name)` of the pods whose nomination was
/// cleared.
pub fn after_preemption(
    snapshot: &mut Snapshot,
    preemptor: &Pod,
    node: NodeId,
    evicted: &[Arc<Pod>],
) -> Vec<(Sym, Sym)> {
    let cleared: Vec<(Sym, Sym)> = snapshot
        .nominated_pods(node)
        .iter()
        .filter(|p| p.priority < preemptor.priority)
        .map(|p| (p.namespace, p.name))
        .collect();
    for &(ns, name) in &cleared {
        snapshot.clear_nomination(ns, name);
    }
    if !evicted.is_empty() && snapshot.pdbs().iter().any(|p| p.status_disruptions_allowed.is_some()) {
        let mut pdbs = snapshot.pdbs().to_vec();
        let gone: Vec<&Pod> = evicted.iter().map(|p| &**p).collect();
        pdb::record_evictions(&mut pdbs, &gone);
        snapshot.set_pdbs(pdbs);
    }
    cleared
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builders::{NodeBuilder, PodBuilder};
    use crate::config::{PluginArgs, PluginRef, SchedulerConfig};
    use crate::framework::{PluginState, PreFilterResult, Registry, build_profiles};
    use crate::model::{IntOrPercent, PodPhase};
    use crate::plugins::registry;
    use crate::schedule::{Outcome, Scheduler};
    use crate::selector::LabelSelector;
    use std::collections::BTreeMap;

    const GI: i64 = 1 << 30;

    /// The default profile; plugins not registered yet in this tree (being added elsewhere) are
    /// disabled so the tests run either way.
    fn config(args: Option<ArgValue>, registry: &Registry) -> SchedulerConfig {
        let mut c = SchedulerConfig::default();
        for name in ["PodTopologySpread", "InterPodAffinity"] {
            if registry.get(name).is_none() {
                c.profiles[0].plugins.multi_point.disabled.push(name.into());
            }
        }
        if let Some(args) = args {
            c.profiles[0].plugin_config.push(PluginArgs { name: NAME.into(), args });
        }
        c
    }

    fn scheduler_with(registry: &Registry, config: &SchedulerConfig, seed: u64) -> Scheduler {
        let profiles = build_profiles(config, registry).expect("test configuration is valid");
        Scheduler::new(profiles, 0, seed)
    }

    fn scheduler(seed: u64) -> Scheduler {
        let r = registry();
        scheduler_with(&r, &config(None, &r), seed)
    }

    fn node(name: &str, cpu: i64) -> crate::model::Node {
        NodeBuilder::new(name).cpu_milli(cpu).memory(32 * GI).build()
    }

    /// A running pod with a start time.
    fn running(name: &str, cpu: i64, priority: i32, start: Option<i64>) -> Arc<Pod> {
        Arc::new(
            PodBuilder::new("default", name)
                .cpu_milli(cpu)
                .priority(priority)
                .with(|p| {
                    p.phase = PodPhase::Running;
                    p.start_time = start;
                })
                .build(),
        )
    }

    fn pending(name: &str, cpu: i64, priority: i32) -> Pod {
        PodBuilder::new("default", name).cpu_milli(cpu).priority(priority).build()
    }

    /// Runs one cycle that must end unschedulable; returns the PostFilter result and message.
    fn unschedulable(s: &mut Scheduler, snap: &Snapshot, pod: &Pod) -> (Option<PostFilterResult>, String) {
        let r = s.schedule(snap, 0, pod);
        match r.outcome {
            Outcome::Unschedulable { fit_error, post_filter } => (post_filter, fit_error.to_string()),
            other => panic!("expected unschedulable, got {other:?}"),
        }
    }

    /// The cycle state after PreFilter, as the scheduling cycle hands it to PostFilter.
    fn prefiltered(profile: &Profile, pod: &Pod, snap: &Snapshot) -> CycleState {
        let mut state = profile.new_cycle_state();
        for &p in &profile.pre_filter {
            let r = profile.plugin(p).pre_filter(PodCx { pod, snapshot: snap }, &mut state.slots[p]);
            assert!(r.status.is_success() || r.status.is_skip(), "{}: {:?}", profile.plugin(p).name(), r.status);
            state.skip_filter[p] = r.status.is_skip();
        }
        state
    }

    fn names(snap: &Snapshot, ids: &[PodId]) -> Vec<&'static str> {
        ids.iter().map(|&id| snap.pod(id).pod.name.as_str()).collect()
    }

    fn map(pairs: &[(&str, ArgValue)]) -> ArgValue {
        ArgValue::Map(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>())
    }

    #[test]
    fn args_default_and_validate_as_kube_does() {
        assert_eq!(parse_args(&ArgValue::Null, "a").unwrap(), DefaultPreemption::default());
        assert_eq!(DefaultPreemption::default().min_candidate_nodes_percentage, 10);
        assert_eq!(DefaultPreemption::default().min_candidate_nodes_absolute, 100);
        let only_abs = parse_args(&map(&[("minCandidateNodesAbsolute", ArgValue::Int(0))]), "a").unwrap();
        assert_eq!((only_abs.min_candidate_nodes_percentage, only_abs.min_candidate_nodes_absolute), (10, 0));
        let err = |args: ArgValue| parse_args(&args, "p").unwrap_err().to_string();
        assert_eq!(
            err(map(&[("minCandidateNodesPercentage", ArgValue::Int(101))])),
            "p.minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]"
        );
        assert_eq!(
            err(map(&[("minCandidateNodesAbsolute", ArgValue::Int(-1))])),
            "p.minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)"
        );
        assert_eq!(
            err(map(&[
                ("minCandidateNodesPercentage", ArgValue::Int(0)),
                ("minCandidateNodesAbsolute", ArgValue::Int(0))
            ])),
            "p.minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same time as minCandidateNodesAbsolute"
        );
        assert_eq!(err(map(&[("minCandidateNodes", ArgValue::Int(1))])), "p.minCandidateNodes: unknown field");
        // Through the configuration, with the field path of the pluginConfig entry.
        let r = registry();
        let bad = config(Some(map(&[("minCandidateNodesPercentage", ArgValue::Int(-5))])), &r);
        let errs = build_profiles(&bad, &r).unwrap_err();
        assert_eq!(
            errs.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            [
                "profiles[0].pluginConfig[0].args.minCandidateNodesPercentage: Invalid value: -5: not in valid range [0, 100]"
            ]
        );
    }

    #[test]
    fn number_of_candidates() {
        let dp =
            |pct, abs| DefaultPreemption { min_candidate_nodes_percentage: pct, min_candidate_nodes_absolute: abs };
        assert_eq!(dp(10, 100).num_candidates(10), 10, "capped at the node count");
        assert_eq!(dp(10, 100).num_candidates(1000), 100);
        assert_eq!(dp(10, 100).num_candidates(5000), 500);
        assert_eq!(dp(40, 100).num_candidates(1000), 400);
        assert_eq!(dp(10, 0).num_candidates(5), 0, "10% of 5 truncates to 0");
        assert_eq!(dp(0, 3).num_candidates(10), 3);
    }

    #[test]
    fn victims_are_the_fewest_lower_priority_pods_reprieving_the_most_important() {
        let mut snap = Snapshot::new();
        let n = snap.add_node(node("n1", 4000));
        snap.add_pod(running("low1", 1000, 1, Some(10)), n);
        snap.add_pod(running("low2", 1000, 2, Some(10)), n);
        snap.add_pod(running("mid", 1000, 5, Some(10)), n);
        snap.add_pod(running("high", 1000, 100, Some(10)), n);
        let (pf, _) = unschedulable(&mut scheduler(1), &snap, &pending("p", 2000, 50));
        let pf = pf.expect("a candidate");
        assert_eq!(pf.nominated_node, n);
        // mid is reprieved first and fits; low2 then low1 must go. `high` outranks the preemptor.
        assert_eq!(names(&snap, &pf.victims), ["low2", "low1"]);
    }

    #[test]
    fn equal_priorities_reprieve_the_earliest_started_and_unstarted_pods_count_as_newest() {
        let mut snap = Snapshot::new();
        let n = snap.add_node(node("n1", 4000));
        snap.add_pod(running("a", 1000, 1, Some(100)), n);
        snap.add_pod(running("b", 1000, 1, None), n);
        snap.add_pod(running("c", 1000, 1, Some(200)), n);
        let (pf, _) = unschedulable(&mut scheduler(1), &snap, &pending("p", 2000, 50));
        // 1000m free: after removing all three, a (t=100) and c (t=200) are reprieved; b goes.
        assert_eq!(names(&snap, &pf.unwrap().victims), ["b"]);
    }

    fn pdb_for(app: &str, allowed: Option<i32>) -> PodDisruptionBudget {
        PodDisruptionBudget {
            namespace: Sym::new("default"),
            name: Sym::new(&format!("{app}-pdb")),
            selector: Some(LabelSelector::from_match_labels([("app", app)])),
            min_available: Some(IntOrPercent::Int(1)),
            max_unavailable: None,
            status_disruptions_allowed: allowed,
        }
    }

    fn labelled(name: &str, app: &str, cpu: i64, priority: i32) -> Arc<Pod> {
        let mut p = (*running(name, cpu, priority, Some(100))).clone();
        p.labels.insert(Sym::new("app"), Sym::new(app));
        Arc::new(p)
    }

    #[test]
    fn pdb_violating_pods_are_reprieved_first() {
        let mut snap = Snapshot::new();
        let n = snap.add_node(node("n1", 3000));
        snap.add_pod(labelled("guarded", "db", 1000, 1), n);
        snap.add_pod(labelled("free", "web", 1000, 5), n);
        snap.add_pod(running("big", 1000, 100, Some(1)), n);
        let pod = pending("p", 1000, 50);
        // Without a budget the more important `free` is reprieved and `guarded` goes.
        let (pf, _) = unschedulable(&mut scheduler(1), &snap, &pod);
        assert_eq!(names(&snap, &pf.unwrap().victims), ["guarded"]);
        // With a budget allowing no disruption of `db`, `guarded` is reprieved first.
        snap.set_pdbs(vec![pdb_for("db", Some(0))]);
        let (pf, _) = unschedulable(&mut scheduler(1), &snap, &pod);
        assert_eq!(names(&snap, &pf.unwrap().victims), ["free"]);
    }

    #[test]
    fn violations_are_counted_and_victims_resorted_by_importance() {
        let mut snap = Snapshot::new();
        let n = snap.add_node(node("n1", 2000));
        snap.add_pod(labelled("guarded", "db", 1000, 1), n);
        snap.add_pod(labelled("free", "web", 1000, 5), n);
        snap.set_pdbs(vec![pdb_for("db", Some(0))]);
        let s = scheduler(1);
        let profile = &s.profiles[0];
        let pod = pending("p", 2000, 50);
        let mut info = snap.node(n).clone();
        let mut state = prefiltered(profile, &pod, &snap);
        let allowed = pdb::disruptions_allowed(&snap);
        let (victims, violations) =
            select_victims_on_node(profile, &mut state, &pod, &snap, &mut info, snap.pdbs(), &allowed).unwrap();
        assert_eq!(names(&snap, &victims), ["free", "guarded"]);
        assert_eq!(violations, 1);
        // The copy ends without the victims; the snapshot itself is untouched.
        assert!(info.pods.is_empty());
        assert_eq!(snap.node(n).pods.len(), 2);
    }

    #[test]
    fn computed_budget_counts_healthy_pods() {
        // No status: minAvailable 1 over two healthy `db` pods allows one disruption.
        let mut snap = Snapshot::new();
        let n = snap.add_node(node("n1", 2000));
        snap.add_pod(labelled("db-0", "db", 1000, 1), n);
        snap.add_pod(labelled("db-1", "db", 1000, 1), n);
        snap.set_pdbs(vec![pdb_for("db", None)]);
        let s = scheduler(1);
        let allowed = pdb::disruptions_allowed(&snap);
        assert_eq!(allowed, [1]);
        let mut info = snap.node(n).clone();
        let pod = pending("p", 2000, 50);
        let mut state = prefiltered(&s.profiles[0], &pod, &snap);
        let (victims, violations) =
            select_victims_on_node(&s.profiles[0], &mut state, &pod, &snap, &mut info, snap.pdbs(), &allowed).unwrap();
        assert_eq!((victims.len(), violations), (2, 1));
    }

    fn cand(node: u32, violations: usize, victims: &[(i32, Option<i64>)]) -> Candidate {
        Candidate {
            node: NodeId(node),
            victims: victims
                .iter()
                .enumerate()
                .map(|(i, &(priority, start_time))| Victim { id: PodId(i as u32), priority, start_time })
                .collect(),
            pdb_violations: violations,
        }
    }

    #[test]
    fn node_choice_follows_kubes_order() {
        assert_eq!(pick_one_node(&[]), None);
        // 0. no victims at all.
        assert_eq!(pick_one_node(&[cand(0, 0, &[(1, None)]), cand(1, 5, &[])]), Some(1));
        // 1. fewest PDB violations, even with higher-priority victims.
        assert_eq!(pick_one_node(&[cand(0, 1, &[(1, None)]), cand(1, 0, &[(9, None)])]), Some(1));
        // 2. lowest priority of the most important victim.
        assert_eq!(pick_one_node(&[cand(0, 0, &[(9, None)]), cand(1, 0, &[(5, None), (5, None), (5, None)])]), Some(1));
        // 3. smallest priority sum, offset by MaxInt32+1: two pods of -10 cost more than one.
        assert_eq!(pick_one_node(&[cand(0, 0, &[(-10, None), (-10, None)]), cand(1, 0, &[(-10, None)])]), Some(1));
        assert_eq!(pick_one_node(&[cand(0, 0, &[(5, None), (3, None)]), cand(1, 0, &[(5, None), (1, None)])]), Some(1));
        // 4. fewest victims: equal highest priority and equal offset sums with 2 vs 3 victims.
        let (x, y) = (-(1 << 30) - 3, -(1 << 30) - 2);
        assert_eq!(
            pick_one_node(&[cand(0, 0, &[(5, None), (x, None), (y, None)]), cand(1, 0, &[(5, None), (-5, None)])]),
            Some(1)
        );
        // 5. latest start among the highest-priority victims (earliest of those per node).
        assert_eq!(
            pick_one_node(&[
                cand(0, 0, &[(5, Some(100)), (5, Some(300))]),
                cand(1, 0, &[(5, Some(200)), (5, Some(250))])
            ]),
            Some(1)
        );
        // Lower-priority victims' start times do not count; unstarted pods count as now.
        assert_eq!(
            pick_one_node(&[cand(0, 0, &[(5, Some(500)), (1, Some(1))]), cand(1, 0, &[(5, None), (1, Some(900))])]),
            Some(1)
        );
        // 6. the first remaining.
        assert_eq!(pick_one_node(&[cand(0, 0, &[(5, Some(1))]), cand(1, 0, &[(5, Some(1))])]), Some(0));
    }

    #[test]
    fn preemption_policy_never_is_not_eligible() {
        let mut snap = Snapshot::new();
        let n = snap.add_node(node("n1", 1000));
        snap.add_pod(running("low", 1000, 0, Some(1)), n);
        let mut pod = pending("p", 1000, 50);
        pod.preemption_policy = PreemptionPolicy::Never;
        let (pf, msg) = unschedulable(&mut scheduler(1), &snap, &pod);
        assert_eq!(pf, None);
        assert_eq!(
            msg,
            "0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, preemption: not eligible due to preemptionPolicy=Never."
        );
    }

    #[test]
    fn terminating_lower_priority_pod_on_the_nominated_node_blocks_preemption() {
        let mut snap = Snapshot::new();
        let n1 = snap.add_node(node("n1", 1000));
        let n2 = snap.add_node(node("n2", 1000));
        let mut leaving = (*running("leaving", 1000, 0, Some(1))).clone();
        leaving.terminating = true;
        snap.add_pod(Arc::new(leaving), n1);
        snap.add_pod(running("other", 1000, 0, Some(1)), n2);
        let mut pod = pending("p", 1000, 50);
        pod.nominated_node_name = Some(Sym::new("n1"));
        let (pf, msg) = unschedulable(&mut scheduler(1), &snap, &pod);
        assert_eq!(pf, None);
        assert_eq!(
            msg,
            "0/2 nodes are available: 2 Insufficient cpu. no new claims to deallocate, preemption: not eligible due to a terminating pod on the nominated node."
        );
        // A terminating pod of higher priority does not count.
        pod.priority = -1;
        let (_, msg) = unschedulable(&mut scheduler(1), &snap, &pod);
        assert!(
            msg.ends_with("preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."),
            "{msg}"
        );
    }

    #[test]
    fn unresolvable_nominated_node_makes_the_pod_eligible_again() {
        let mut snap = Snapshot::new();
        let n1 = snap.add_node(NodeBuilder::new("n1").cpu_milli(1000).memory(32 * GI).unschedulable().build());
        let n2 = snap.add_node(node("n2", 1000));
        let mut leaving = (*running("leaving", 1000, 0, Some(1))).clone();
        leaving.terminating = true;
        snap.add_pod(Arc::new(leaving), n1);
        snap.add_pod(running("other", 1000, 0, Some(1)), n2);
        let mut pod = pending("p", 1000, 50);
        pod.nominated_node_name = Some(Sym::new("n1"));
        let (pf, _) = unschedulable(&mut scheduler(1), &snap, &pod);
        let pf = pf.expect("preempts on n2");
        assert_eq!((pf.nominated_node, names(&snap, &pf.victims)), (n2, vec!["other"]));
    }

    #[test]
    fn message_counts_nodes_without_victims_and_nodes_where_preemption_cannot_help() {
        let mut snap = Snapshot::new();
        let n1 = snap.add_node(node("n1", 1000));
        snap.add_node(NodeBuilder::new("n2").cpu_milli(1000).memory(32 * GI).unschedulable().build());
        snap.add_node(NodeBuilder::new("n3").cpu_milli(1000).memory(32 * GI).unschedulable().build());
        snap.add_pod(running("peer", 1000, 50, Some(1)), n1);
        let (pf, msg) = unschedulable(&mut scheduler(1), &snap, &pending("p", 1000, 50));
        assert_eq!(pf, None);
        assert_eq!(
            msg,
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable. no new claims to deallocate, preemption: 0/3 nodes are available: \
             1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn message_counts_nodes_that_do_not_fit_even_when_emptied() {
        let mut snap = Snapshot::new();
        let n1 = snap.add_node(node("n1", 1000));
        snap.add_pod(running("low", 500, 0, Some(1)), n1);
        // A successful preemption adds nothing to the message.
        let (pf, msg) = unschedulable(&mut scheduler(1), &snap, &pending("p", 800, 50));
        assert_eq!(names(&snap, &pf.unwrap().victims), ["low"]);
        assert_eq!(msg, "0/1 nodes are available: 1 Insufficient cpu.");
        // With 400m more held by a pod of equal priority, even evicting `low` leaves 600m < 800m.
        snap.add_pod(running("peer", 400, 50, Some(1)), n1);
        let (pf, msg) = unschedulable(&mut scheduler(1), &snap, &pending("p", 800, 50));
        assert_eq!(pf, None);
        assert_eq!(
            msg,
            "0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, preemption: 0/1 nodes are available: 1 Insufficient cpu."
        );
    }

    #[test]
    fn no_unschedulable_node_means_preemption_is_not_helpful_anywhere() {
        let mut snap = Snapshot::new();
        snap.add_node(node("n1", 1000));
        snap.add_node(node("n2", 1000));
        // 2000m exceeds every node's allocatable: UnschedulableAndUnresolvable everywhere.
        let (pf, msg) = unschedulable(&mut scheduler(1), &snap, &pending("p", 2000, 50));
        assert_eq!(pf, None);
        assert_eq!(
            msg,
            "0/2 nodes are available: 2 Insufficient cpu. no new claims to deallocate, preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn nominated_pods_of_higher_priority_count_in_the_dry_run() {
        let mut snap = Snapshot::new();
        let n1 = snap.add_node(node("n1", 4000));
        snap.add_pod(running("low", 1000, 0, Some(1)), n1);
        let mut nominated = pending("first", 3000, 100);
        nominated.nominated_node_name = Some(Sym::new("n1"));
        snap.nominate(Arc::new(nominated), n1);
        // Evicting `low` would free 1000m, but 3000m are promised to `first`.
        let (pf, msg) = unschedulable(&mut scheduler(1), &snap, &pending("p", 2000, 50));
        assert_eq!(pf, None);
        assert_eq!(
            msg,
            "0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, preemption: 0/1 nodes are available: 1 Insufficient cpu."
        );
        // A nominated pod of lower priority than the preemptor does not count.
        let (pf, _) = unschedulable(&mut scheduler(1), &snap, &pending("p", 3500, 200));
        assert_eq!(names(&snap, &pf.unwrap().victims), ["low"]);
    }

    #[test]
    fn dry_run_stops_once_enough_candidates_and_starts_at_the_offset() {
        let mut snap = Snapshot::new();
        let mut ids = Vec::new();
        for i in 0..10 {
            let n = snap.add_node(node(&format!("n{i}"), 1000));
            // Nodes 0-4 hold pods guarded by a budget that allows no disruption.
            let victim = if i < 5 {
                labelled(&format!("v{i}"), "db", 1000, 0)
            } else {
                running(&format!("v{i}"), 1000, 0, Some(1))
            };
            snap.add_pod(victim, n);
            ids.push(n);
        }
        snap.set_pdbs(vec![pdb_for("db", Some(0))]);
        let s = scheduler(1);
        let profile = &s.profiles[0];
        let pod = pending("p", 1000, 50);
        let state = prefiltered(profile, &pod, &snap);
        let allowed = pdb::disruptions_allowed(&snap);
        let nodes_of = |run: &DryRun| run.candidates.iter().map(|c| c.node.0).collect::<Vec<_>>();
        // From node 6, two wanted: 6 and 7 violate nothing → stop after two.
        let run = dry_run(profile, &state, &pod, &snap, &ids, snap.pdbs(), &allowed, 6, 2);
        assert_eq!((nodes_of(&run), run.examined), (vec![6, 7], 2));
        // From node 0: violating candidates fill up to two and the run goes on until node 5.
        let run = dry_run(profile, &state, &pod, &snap, &ids, snap.pdbs(), &allowed, 0, 2);
        assert_eq!((nodes_of(&run), run.examined), (vec![5, 0, 1], 6));
        assert_eq!(run.candidates[1].pdb_violations, 1);
        // From node 8 wanting all ten: wraps around, non-violating first.
        let run = dry_run(profile, &state, &pod, &snap, &ids, snap.pdbs(), &allowed, 8, 10);
        assert_eq!((nodes_of(&run), run.examined), (vec![8, 9, 5, 6, 7, 0, 1, 2, 3, 4], 10));
    }

    #[test]
    fn the_random_offset_comes_from_the_seed() {
        let mut snap = Snapshot::new();
        for i in 0..8 {
            let n = snap.add_node(node(&format!("n{i}"), 1000));
            snap.add_pod(running(&format!("v{i}"), 1000, 0, Some(1)), n);
        }
        let pod = pending("p", 1000, 50);
        let pick = |seed| unschedulable(&mut scheduler(seed), &snap, &pod).0.unwrap().nominated_node;
        assert_eq!(pick(7), pick(7));
        let distinct: std::collections::BTreeSet<NodeId> = (0..32).map(pick).collect();
        assert!(distinct.len() > 1, "all 32 seeds chose {distinct:?}");
    }

    /// A PreFilter/Filter plugin whose state counts `blocker` pods cluster-wide and whose Filter
    /// rejects while any remains: preemption can only succeed if RemovePod updates the state.
    struct NoBlockers;

    #[derive(Clone)]
    struct Blockers(usize);

    fn is_blocker(p: &Pod) -> bool {
        p.labels.get(Sym::new("role")) == Some(Sym::new("blocker"))
    }

    impl Plugin for NoBlockers {
        fn name(&self) -> &'static str {
            "NoBlockers"
        }
        fn points(&self) -> Points {
            Points::PRE_FILTER | Points::FILTER | Points::PRE_FILTER_EXTENSIONS
        }
        fn pre_filter(&self, cx: PodCx<'_>, state: &mut PluginState) -> PreFilterResult {
            state.set(Blockers(cx.snapshot.pods().filter(|(_, b)| is_blocker(&b.pod)).count()));
            PreFilterResult::success()
        }
        fn filter(&self, _cx: PodCx<'_>, state: &PluginState, _node: &NodeInfo) -> Status {
            match state.get::<Blockers>() {
                Some(Blockers(0)) => Status::success(),
                _ => Status::unschedulable("a blocker is running"),
            }
        }
        fn add_pod(&self, _cx: PodCx<'_>, state: &mut PluginState, other: &Pod, _node: &NodeInfo) {
            if let (true, Some(b)) = (is_blocker(other), state.get_mut::<Blockers>()) {
                b.0 += 1;
            }
        }
        fn remove_pod(&self, _cx: PodCx<'_>, state: &mut PluginState, other: &Pod, _node: &NodeInfo) {
            if let (true, Some(b)) = (is_blocker(other), state.get_mut::<Blockers>()) {
                b.0 -= 1;
            }
        }
    }

    #[test]
    fn removing_victims_updates_the_prefilter_state() {
        let mut r = registry();
        r.register("NoBlockers", |_, _| Ok(Arc::new(NoBlockers)));
        let mut c = config(None, &r);
        c.profiles[0].plugins.multi_point.enabled.push(PluginRef { name: "NoBlockers".into(), weight: None });
        let mut snap = Snapshot::new();
        let n1 = snap.add_node(node("n1", 4000));
        let mut blocker = (*running("blocker", 100, 0, Some(1))).clone();
        blocker.labels.insert(Sym::new("role"), Sym::new("blocker"));
        snap.add_pod(Arc::new(blocker), n1);
        snap.add_pod(running("bystander", 100, 0, Some(1)), n1);
        let mut s = scheduler_with(&r, &c, 1);
        let (pf, msg) = unschedulable(&mut s, &snap, &pending("p", 100, 50));
        assert_eq!(msg, "0/1 nodes are available: 1 a blocker is running.");
        // Only the blocker goes; the bystander is reprieved.
        assert_eq!(names(&snap, &pf.unwrap().victims), ["blocker"]);
    }

    #[test]
    fn after_preemption_clears_lower_priority_nominations_and_charges_budgets() {
        let mut snap = Snapshot::new();
        let n1 = snap.add_node(node("n1", 4000));
        let n2 = snap.add_node(node("n2", 4000));
        snap.nominate(Arc::new(pending("lower", 100, 5)), n1);
        snap.nominate(Arc::new(pending("higher", 100, 50)), n1);
        snap.nominate(Arc::new(pending("elsewhere", 100, 5)), n2);
        snap.set_pdbs(vec![pdb_for("db", Some(2)), pdb_for("web", None)]);
        let evicted = [labelled("db-0", "db", 100, 0)];
        let cleared = after_preemption(&mut snap, &pending("p", 100, 10), n1, &evicted);
        assert_eq!(cleared, [(Sym::new("default"), Sym::new("lower"))]);
        let left: Vec<&str> = snap.nominated_pods(n1).iter().map(|p| p.name.as_str()).collect();
        assert_eq!(left, ["higher"]);
        assert_eq!(snap.nominated_pods(n2).len(), 1);
        assert_eq!(snap.pdbs()[0].status_disruptions_allowed, Some(1));
        assert_eq!(snap.pdbs()[1].status_disruptions_allowed, None);
    }
}
