//! One scheduling cycle, as kube-scheduler's `schedulePod`: PreFilter → Filter (with
//! nominated pods, stopping at `numFeasibleNodesToFind`) → PostFilter on failure → PreScore →
//! Score → NormalizeScore → weights → `selectHost`; then assume + Reserve.
//!
//! Everything here is a pure function of (snapshot, pod, profile) plus the two pieces of
//! scheduler state kube-scheduler carries between cycles: the round-robin start index and the
//! tie-breaking random source.

use crate::fit_error::FitError;
use crate::framework::{Code, CycleState, PodCx, PostFilterCx, PostFilterResult, Profile, Status};
use crate::intern::Sym;
use crate::model::Pod;
use crate::rng::Rng;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use std::sync::Arc;

/// `minFeasibleNodesToFind`.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// `minFeasibleNodesPercentageToFind`.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;
pub const MAX_NODE_SCORE: i64 = 100;

/// How many feasible nodes to look for before stopping (`numFeasibleNodesToFind`).
pub fn num_feasible_nodes_to_find(profile_pct: Option<i32>, global_pct: i32, num_all_nodes: usize) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let n = num_all_nodes as i64;
    let mut pct = profile_pct.unwrap_or(global_pct) as i64;
    if pct == 0 {
        pct = (50 - n / 125).max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
    }
    let num = (n * pct / 100) as usize;
    num.max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// What happened to one examined node, for `--explain`.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeVerdict {
    Feasible {
        node: NodeId,
        name: Sym,
        /// Normalized (pre-weight) score per plugin; `None` when scoring was skipped.
        scores: Option<Vec<(&'static str, i64)>>,
        total: i64,
    },
    Infeasible {
        node: NodeId,
        name: Sym,
        status: Status,
    },
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Scheduled {
        node: NodeId,
    },
    /// No node fits. `post_filter` is set when preemption found a node to nominate.
    Unschedulable {
        fit_error: FitError,
        post_filter: Option<PostFilterResult>,
    },
    /// An internal or plugin error (`running "X" filter plugin: …`), or no nodes at all.
    Error {
        message: String,
    },
}

/// The result of one scheduling cycle.
#[derive(Clone, Debug)]
pub struct ScheduleResult {
    pub outcome: Outcome,
    pub feasible_nodes: usize,
    pub examined_nodes: usize,
    /// Per examined node, when explaining.
    pub explanation: Option<Vec<NodeVerdict>>,
    /// The cycle state, needed by Reserve.
    pub state: CycleState,
}

impl NodeVerdict {
    pub fn name(&self) -> Sym {
        match self {
            NodeVerdict::Feasible { name, .. } | NodeVerdict::Infeasible { name, .. } => *name,
        }
    }
}

impl ScheduleResult {
    /// The kube-scheduler message for an unschedulable or failed pod.
    pub fn message(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Scheduled { .. } => None,
            Outcome::Unschedulable { fit_error, .. } => Some(fit_error.to_string()),
            Outcome::Error { message } => Some(message.clone()),
        }
    }
}

/// The profiles and the state kube-scheduler keeps between cycles.
#[derive(Clone, Debug)]
pub struct Scheduler {
    pub profiles: Vec<Profile>,
    /// Global `percentageOfNodesToScore` (0 = adaptive).
    pub percentage_of_nodes_to_score: i32,
    pub explain: bool,
    next_start_node_index: usize,
    rng: Rng,
}

impl Scheduler {
    pub fn new(profiles: Vec<Profile>, percentage_of_nodes_to_score: i32, seed: u64) -> Scheduler {
        Scheduler {
            profiles,
            percentage_of_nodes_to_score,
            explain: false,
            next_start_node_index: 0,
            rng: Rng::new(seed),
        }
    }

    /// The profile whose `schedulerName` is `name`.
    pub fn profile_index(&self, name: Sym) -> Option<usize> {
        self.profiles.iter().position(|p| p.scheduler_name == name)
    }

    pub fn profile_for(&self, pod: &Pod) -> Option<&Profile> {
        self.profile_index(pod.scheduler_name).map(|i| &self.profiles[i])
    }

    /// PreEnqueue: `Err(status)` when a plugin keeps the pod out of the queue (gated).
    pub fn pre_enqueue(&self, profile: usize, pod: &Pod) -> Result<(), Status> {
        let profile = &self.profiles[profile];
        for &p in &profile.pre_enqueue {
            let s = profile.plugin(p).pre_enqueue(pod);
            if !s.is_success() {
                return Err(s.with_plugin(profile.plugin(p).name()));
            }
        }
        Ok(())
    }

    /// QueueSort of the (shared) queue: true when `a` goes before `b`. `*_seq` is the order in
    /// which the pods entered the queue.
    pub fn queue_less(&self, a: &Pod, a_seq: u64, b: &Pod, b_seq: u64) -> bool {
        let profile = &self.profiles[0];
        match profile.queue_sort {
            Some(i) => profile.plugin(i).less(a, a_seq, b, b_seq),
            None => a_seq < b_seq,
        }
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Runs one scheduling cycle for `pod` with profile `profile`. Does not modify the snapshot.
    pub fn schedule(&mut self, snapshot: &Snapshot, profile: usize, pod: &Pod) -> ScheduleResult {
        let Scheduler { profiles, percentage_of_nodes_to_score, explain, next_start_node_index, rng } = self;
        let explain = *explain;
        let profile_ref = &profiles[profile];
        let mut state = profile_ref.new_cycle_state();
        let num_all = snapshot.num_nodes();
        let result = |outcome, feasible, examined, explanation, state| ScheduleResult {
            outcome,
            feasible_nodes: feasible,
            examined_nodes: examined,
            explanation,
            state,
        };
        if num_all == 0 {
            return result(Outcome::Error { message: "no nodes available to schedule pods".into() }, 0, 0, None, state);
        }
        let cx = PodCx { pod, snapshot };

        // ---- PreFilter ----
        let mut restrict: Option<Vec<Sym>> = None;
        let mut plugins_with_nodes: Vec<&'static str> = Vec::new();
        let mut pending_rejection: Option<Status> = None;
        for &p in &profile_ref.pre_filter {
            let plugin = profile_ref.plugin(p);
            let r = plugin.pre_filter(cx, &mut state.slots[p]);
            if r.status.is_skip() {
                state.skip_filter[p] = true;
                continue;
            }
            if !r.status.is_success() {
                let s = r.status.with_plugin(plugin.name());
                match s.code {
                    Code::UnschedulableAndUnresolvable => {
                        return prefilter_rejection(profile_ref, rng, explain, snapshot, pod, s, state);
                    }
                    Code::Unschedulable => {
                        pending_rejection = Some(s);
                        continue;
                    }
                    _ => {
                        let message = format!("running PreFilter plugin {:?}: {}", plugin.name(), s.message());
                        return result(Outcome::Error { message }, 0, 0, None, state);
                    }
                }
            }
            if let Some(names) = r.node_names {
                plugins_with_nodes.push(plugin.name());
                restrict = Some(match restrict {
                    None => names,
                    Some(prev) => prev.into_iter().filter(|n| names.contains(n)).collect(),
                });
                if restrict.as_ref().is_some_and(|v| v.is_empty()) {
                    plugins_with_nodes.sort();
                    let msg = if plugins_with_nodes.len() == 1 {
                        format!("node(s) didn't satisfy plugin {}", plugins_with_nodes[0])
                    } else {
                        format!("node(s) didn't satisfy plugin(s) [{}] simultaneously", plugins_with_nodes.join(" "))
                    };
                    return prefilter_rejection(
                        profile_ref,
                        rng,
                        explain,
                        snapshot,
                        pod,
                        Status::unresolvable(msg),
                        state,
                    );
                }
            }
        }
        if let Some(s) = pending_rejection {
            return prefilter_rejection(profile_ref, rng, explain, snapshot, pod, s, state);
        }

        // ---- Nominated node first ----
        if let Some(nominated) = pod.nominated_node_name.and_then(|n| snapshot.node_id(n)) {
            let info = snapshot.node(nominated);
            let status = run_filters_with_nominated_pods(profile_ref, &state, pod, snapshot, info);
            if status.is_success() {
                let explanation = explain.then(|| {
                    vec![NodeVerdict::Feasible { node: nominated, name: info.name(), scores: None, total: 0 }]
                });
                return result(Outcome::Scheduled { node: nominated }, 1, 1, explanation, state);
            }
        }

        // ---- Filter ----
        let all_order = snapshot.order();
        let restricted_order: Vec<crate::snapshot::NodeId>;
        let nodes: &[crate::snapshot::NodeId] = match &restrict {
            Some(names) => {
                restricted_order =
                    all_order.iter().copied().filter(|&id| names.contains(&snapshot.node(id).name())).collect();
                &restricted_order
            }
            None => all_order,
        };
        let absent = restrict.as_ref().map(|_| {
            plugins_with_nodes.sort();
            (
                num_all - nodes.len(),
                Status::unresolvable(format!("node(s) didn't satisfy plugin(s) [{}]", plugins_with_nodes.join(" "))),
            )
        });
        let mut num_to_find = num_feasible_nodes_to_find(
            profile_ref.percentage_of_nodes_to_score,
            *percentage_of_nodes_to_score,
            nodes.len(),
        );
        if profile_ref.score.is_empty() {
            num_to_find = 1;
        }
        let mut feasible: Vec<&NodeInfo> = Vec::with_capacity(num_to_find.min(nodes.len()));
        let mut failed: Vec<(NodeId, Status)> = Vec::new();
        let mut explanation: Option<Vec<NodeVerdict>> = explain.then(Vec::new);
        let n = nodes.len();
        let start = if n == 0 { 0 } else { *next_start_node_index % n };
        let use_nominated = snapshot.has_nominations();
        // The filters that run for this pod (PreFilter may have skipped some).
        let active: smallvec::SmallVec<[usize; 16]> =
            profile_ref.filter.iter().copied().filter(|&p| !state.skip_filter[p]).collect();
        for i in 0..n {
            let id = nodes[(start + i) % n];
            let info = snapshot.node(id);
            let status = if use_nominated {
                run_filters_with_nominated_pods(profile_ref, &state, pod, snapshot, info)
            } else {
                run_active_filters(profile_ref, &active, &state, PodCx { pod, snapshot }, info)
            };
            if status.is_success() {
                feasible.push(info);
                if feasible.len() >= num_to_find {
                    break;
                }
            } else if status.code == Code::Error {
                let message = format!("running {:?} filter plugin: {}", status.plugin, status.message());
                return result(Outcome::Error { message }, 0, i + 1, None, state);
            } else {
                failed.push((id, status));
            }
        }
        let examined = feasible.len() + failed.len();
        *next_start_node_index = (*next_start_node_index + examined) % num_all;
        if let Some(ex) = explanation.as_mut() {
            // Feasible entries are filled in after scoring; record failures now in examination order.
            ex.extend(failed.iter().map(|(id, s)| NodeVerdict::Infeasible {
                node: *id,
                name: snapshot.node(*id).name(),
                status: s.clone(),
            }));
        }

        if feasible.is_empty() {
            let mut fit_error = FitError {
                num_all_nodes: num_all,
                pre_filter_msg: None,
                statuses: failed,
                absent,
                post_filter_msg: None,
            };
            let post_filter = run_post_filter(profile_ref, rng, snapshot, pod, &state, &mut fit_error);
            return result(Outcome::Unschedulable { fit_error, post_filter }, 0, examined, explanation, state);
        }
        if feasible.len() == 1 {
            let node = feasible[0].id;
            if let Some(ex) = explanation.as_mut() {
                ex.insert(0, NodeVerdict::Feasible { node, name: feasible[0].name(), scores: None, total: 0 });
            }
            return result(Outcome::Scheduled { node }, 1, examined, explanation, state);
        }

        // ---- PreScore / Score / Normalize ----
        let mut totals = vec![0i64; feasible.len()];
        let mut per_plugin: Vec<(&'static str, Vec<i64>)> = Vec::new();
        for &p in &profile_ref.pre_score {
            let s = profile_ref.plugin(p).pre_score(cx, &mut state.slots[p], &feasible);
            if s.is_skip() {
                state.skip_score[p] = true;
            } else if !s.is_success() {
                let message = format!("running PreScore plugin {:?}: {}", profile_ref.plugin(p).name(), s.message());
                return result(Outcome::Error { message }, feasible.len(), examined, None, state);
            }
        }
        if profile_ref.score.is_empty() {
            totals.iter_mut().for_each(|t| *t = 1);
        }
        let mut scores = vec![0i64; feasible.len()];
        for &(p, weight) in &profile_ref.score {
            let plugin = profile_ref.plugin(p);
            if state.skip_score[p] {
                if explain {
                    per_plugin.push((plugin.name(), vec![0; feasible.len()]));
                }
                continue;
            }
            let slot = &state.slots[p];
            plugin.score_nodes(cx, slot, &feasible, &mut scores);
            if plugin.points().contains(crate::framework::Points::NORMALIZE) {
                plugin.normalize_scores(cx, slot, &feasible, &mut scores);
            }
            if let Some(bad) = scores.iter().find(|&&s| !(0..=MAX_NODE_SCORE).contains(&s)) {
                let message = format!(
                    "plugin {:?} returns an invalid score {bad}, it should in the range of [0, {MAX_NODE_SCORE}] after normalizing",
                    plugin.name()
                );
                return result(Outcome::Error { message }, feasible.len(), examined, None, state);
            }
            for (t, s) in totals.iter_mut().zip(&scores) {
                *t += s * weight;
            }
            if explain {
                per_plugin.push((plugin.name(), scores.clone()));
            }
        }

        // ---- selectHost: uniform among the top scores ----
        // kube-scheduler samples a reservoir over the tied nodes; drawing one index among them
        // gives the same uniform choice with one random number instead of one per tie.
        let max = totals.iter().copied().max().unwrap_or(0);
        let ties = totals.iter().filter(|&&t| t == max).count();
        let pick = rng.below(ties as u64) as usize;
        let best = totals.iter().enumerate().filter(|&(_, &t)| t == max).nth(pick).map_or(0, |(i, _)| i);
        let node = feasible[best].id;
        if let Some(ex) = explanation.as_mut() {
            let verdicts: Vec<NodeVerdict> = feasible
                .iter()
                .enumerate()
                .map(|(i, info)| NodeVerdict::Feasible {
                    node: info.id,
                    name: info.name(),
                    scores: Some(per_plugin.iter().map(|(name, v)| (*name, v[i])).collect()),
                    total: totals[i],
                })
                .collect();
            ex.splice(0..0, verdicts);
        }
        let feasible_count = feasible.len();
        result(Outcome::Scheduled { node }, feasible_count, examined, explanation, state)
    }

    /// Assumes `pod` on `node` (the snapshot now accounts it) and runs Reserve. On a Reserve
    /// failure the pod is forgotten again and the failing status returned.
    pub fn assume(
        &self,
        snapshot: &mut Snapshot,
        profile: usize,
        pod: Arc<Pod>,
        node: NodeId,
        state: &CycleState,
    ) -> Result<PodId, Status> {
        let profile = &self.profiles[profile];
        let pod_id = snapshot.add_pod(pod.clone(), node);
        for (k, &p) in profile.reserve.iter().enumerate() {
            let s = profile.plugin(p).reserve(&pod, &state.slots[p], snapshot, node, pod_id);
            if !s.is_success() {
                for &q in profile.reserve[..=k].iter().rev() {
                    profile.plugin(q).unreserve(&pod, snapshot, node, pod_id);
                }
                snapshot.remove_pod(pod_id);
                return Err(s.with_plugin(profile.plugin(p).name()));
            }
        }
        snapshot.clear_nomination(pod.namespace, pod.name);
        Ok(pod_id)
    }
}

fn prefilter_rejection(
    profile: &Profile,
    rng: &mut Rng,
    explain: bool,
    snapshot: &Snapshot,
    pod: &Pod,
    status: Status,
    state: CycleState,
) -> ScheduleResult {
    let num_all = snapshot.num_nodes();
    // Every node shares the PreFilter status, so preemption sees them all as rejected.
    let statuses: Vec<(NodeId, Status)> = snapshot.order().iter().map(|&id| (id, status.clone())).collect();
    let mut fit_error = FitError {
        num_all_nodes: num_all,
        pre_filter_msg: Some(status.message()),
        statuses,
        absent: None,
        post_filter_msg: None,
    };
    let post_filter = run_post_filter(profile, rng, snapshot, pod, &state, &mut fit_error);
    let explanation = explain.then(Vec::new);
    ScheduleResult {
        outcome: Outcome::Unschedulable { fit_error, post_filter },
        feasible_nodes: 0,
        examined_nodes: 0,
        explanation,
        state,
    }
}

/// PostFilter: stops at the first plugin that succeeds; joins the rejection reasons.
fn run_post_filter(
    profile_ref: &Profile,
    rng: &mut Rng,
    snapshot: &Snapshot,
    pod: &Pod,
    state: &CycleState,
    fit_error: &mut FitError,
) -> Option<PostFilterResult> {
    if profile_ref.post_filter.is_empty() {
        return None;
    }
    // `RunPostFilterPlugins`: the first success wins (and leaves no message); an
    // UnschedulableAndUnresolvable or an error ends the run with only its own message;
    // Unschedulable reasons accumulate.
    let mut reasons: Vec<String> = Vec::new();
    for &p in &profile_ref.post_filter {
        let mut cx = PostFilterCx { pod, snapshot, profile: profile_ref, state, statuses: &fit_error.statuses, rng };
        let (r, s) = profile_ref.plugin(p).post_filter(&mut cx);
        if s.is_success() {
            return r;
        }
        if s.code == Code::UnschedulableAndUnresolvable || !s.is_rejected() {
            fit_error.post_filter_msg = Some(s.message()).filter(|m| !m.is_empty());
            return None;
        }
        reasons.extend(s.reasons.iter().map(|r| r.to_string()));
    }
    fit_error.post_filter_msg = Some(reasons.join(", ")).filter(|m| !m.is_empty());
    None
}

/// `RunFilterPlugins` over a precomputed list of the filters that are not skipped.
#[inline]
fn run_active_filters(
    profile: &Profile,
    active: &[usize],
    state: &CycleState,
    cx: PodCx<'_>,
    node: &NodeInfo,
) -> Status {
    for &p in active {
        let plugin = profile.plugin(p);
        let s = plugin.filter(cx, &state.slots[p], node);
        if !s.is_success() {
            return s.with_plugin(plugin.name());
        }
    }
    Status::success()
}

/// `RunFilterPlugins`: in order, stopping at the first non-success.
#[inline]
pub fn run_filters(profile: &Profile, state: &CycleState, pod: &Pod, snapshot: &Snapshot, node: &NodeInfo) -> Status {
    let cx = PodCx { pod, snapshot };
    for &p in &profile.filter {
        if state.skip_filter[p] {
            continue;
        }
        let plugin = profile.plugin(p);
        let s = plugin.filter(cx, &state.slots[p], node);
        if !s.is_success() {
            return s.with_plugin(plugin.name());
        }
    }
    Status::success()
}

/// `RunFilterPluginsWithNominatedPods`: when pods of equal or higher priority are nominated to
/// the node, the pod must fit both with them (pass 1) and without them (pass 2).
pub fn run_filters_with_nominated_pods(
    profile: &Profile,
    state: &CycleState,
    pod: &Pod,
    snapshot: &Snapshot,
    node: &NodeInfo,
) -> Status {
    let nominated: Vec<&Arc<Pod>> = snapshot
        .nominated_pods(node.id)
        .iter()
        .filter(|np| np.priority >= pod.priority && !(np.namespace == pod.namespace && np.name == pod.name))
        .collect();
    if nominated.is_empty() {
        return run_filters(profile, state, pod, snapshot, node);
    }
    let mut state_with = state.clone();
    let mut node_with = node.clone();
    let cx = PodCx { pod, snapshot };
    for (k, np) in nominated.iter().enumerate() {
        // Ids outside the snapshot's range: nominated pods are not bound anywhere yet.
        node_with.account_pod(PodId(u32::MAX - k as u32), np);
        for &p in &profile.pre_filter {
            if !state_with.skip_filter[p] {
                profile.plugin(p).add_pod(cx, &mut state_with.slots[p], np, &node_with);
            }
        }
    }
    let s = run_filters(profile, &state_with, pod, snapshot, &node_with);
    if !s.is_success() {
        return s;
    }
    run_filters(profile, state, pod, snapshot, node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feasible_nodes_to_find_matches_kube_scheduler() {
        // TestNumFeasibleNodesToFind and the derived values in the reference.
        assert_eq!(num_feasible_nodes_to_find(None, 0, 10), 10);
        assert_eq!(num_feasible_nodes_to_find(Some(40), 0, 10), 10);
        assert_eq!(num_feasible_nodes_to_find(None, 0, 1000), 420);
        assert_eq!(num_feasible_nodes_to_find(Some(40), 0, 1000), 400);
        assert_eq!(num_feasible_nodes_to_find(None, 0, 6000), 300);
        assert_eq!(num_feasible_nodes_to_find(Some(40), 0, 6000), 2400);
        assert_eq!(num_feasible_nodes_to_find(None, 0, 100), 100);
        // 50 − 500/125 = 46% of 500 = 230 (the shared reference rounds this to 240 by mistake).
        assert_eq!(num_feasible_nodes_to_find(None, 0, 500), 230);
        assert_eq!(num_feasible_nodes_to_find(None, 0, 5000), 500);
        assert_eq!(num_feasible_nodes_to_find(None, 0, 15000), 750);
        assert_eq!(num_feasible_nodes_to_find(None, 40, 1000), 400, "global value applies");
        assert_eq!(num_feasible_nodes_to_find(Some(0), 40, 1000), 420, "profile 0 = adaptive");
    }
}
