//! Disruption decisions (doc §4) as pure functions of the cluster view, the NodeClaims'
//! metadata ([`ManagedNode`]) and a clock value (seconds): emptiness, multi-node and
//! single-node consolidation (delete, or replace with one cheaper node), `consolidationPolicy`
//! and `consolidateAfter`, disruption budgets, `karpenter.sh/do-not-disrupt`, PodDisruptionBudgets,
//! the spot-to-spot rules, and expiration. The simulator drives the timing (poll every 10 s,
//! validate after 15 s, drain, terminate) with the constants of [`crate::timing`].
//!
//! Rescheduling is simulated with the provisioner, so the core's filters decide where the pods
//! of a candidate would go.

use crate::autoscaler::{Autoscaler, ClusterView, ManagedNode};
use crate::catalog::CapacityType;
use crate::duration::parse_hms;
use crate::labels;
use crate::money::Money;
use crate::nodepool::{ConsolidationPolicy, DisruptionReason};
use crate::provision::solver::{Claim, Placed, Solver};
use crate::provision::{PlannedNodeClaim, planned_from};
use crate::template::launch_choice;
use kubesched_core::Sym;
use kubesched_core::model::{Pod, Readiness};
use kubesched_core::pdb;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Multi-node consolidation looks at this many candidates at most (doc §4.8).
pub const MULTI_NODE_MAX_CANDIDATES: usize = 100;
/// Spot-to-spot single-node replacement needs this many cheaper types (doc §4.7).
pub const SPOT_TO_SPOT_MIN_TYPES: usize = 15;

/// Which method produced a command.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Method {
    Emptiness,
    MultiNodeConsolidation,
    SingleNodeConsolidation,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Emptiness => "emptiness",
            Method::MultiNodeConsolidation => "multi-node consolidation",
            Method::SingleNodeConsolidation => "single-node consolidation",
        }
    }

    pub fn reason(self) -> DisruptionReason {
        match self {
            Method::Emptiness => DisruptionReason::Empty,
            _ => DisruptionReason::Underutilized,
        }
    }
}

/// A disruption the controller would start.
#[derive(Clone, Debug)]
pub struct Command {
    pub method: Method,
    pub reason: DisruptionReason,
    /// Node names, in candidate order.
    pub candidates: Vec<String>,
    /// `None`: delete; `Some`: replace the candidates with this NodeClaim (pre-spun first).
    pub replacement: Option<PlannedNodeClaim>,
    /// Sum of the candidates' prices.
    pub candidate_price: Money,
    /// $/hour saved (candidates − replacement).
    pub savings: Money,
    /// Where each rescheduled pod would go (`namespace/name`, node or replacement name).
    pub destinations: Vec<(String, String)>,
}

impl Command {
    pub fn is_delete(&self) -> bool {
        self.replacement.is_none()
    }
}

/// A node that may be disrupted, with what that would take.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub node: String,
    pub node_pool: String,
    pub price: Money,
    pub capacity_type: CapacityType,
    pub instance_type: String,
    /// Pods that would need a new home (not DaemonSet or static pods, not terminal).
    pub reschedulable: Vec<Arc<Pod>>,
    /// `1 + Σ max(0, EvictionCost)` in units of 2⁻²⁷ (v1.14 `RescheduleDisruptionCost`).
    pub disruption_cost: i128,
    /// `now − lastPodEvent ≥ consolidateAfter` (and consolidateAfter is not `Never`).
    pub consolidatable: bool,
    pub policy: ConsolidationPolicy,
}

impl Candidate {
    pub fn is_empty(&self) -> bool {
        self.reschedulable.is_empty()
    }
}

/// Why a node is not a candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ineligible {
    pub node: String,
    pub reason: String,
}

const EVICTION_UNIT: i128 = 1 << 27;

/// `EvictionCost(pod) = clamp(1 + deletionCost/2²⁷ + priority/2²⁵, −10, 10)`, in units of 2⁻²⁷.
pub fn eviction_cost(pod: &Pod) -> i128 {
    let deletion: i128 =
        pod.annotations.get(labels::POD_DELETION_COST).and_then(|v| v.trim().parse::<i32>().ok()).unwrap_or(0) as i128;
    (EVICTION_UNIT + deletion + pod.priority as i128 * 4).clamp(-10 * EVICTION_UNIT, 10 * EVICTION_UNIT)
}

fn is_reschedulable(pod: &Pod) -> bool {
    !pod.phase.is_terminal()
        && !pod.terminating
        && !pod.is_daemonset_pod()
        && pod.owner.as_ref().is_none_or(|o| o.kind.as_str() != "Node")
}

/// `karpenter.sh/do-not-disrupt` on a pod: `"true"`, or a duration not yet elapsed since the
/// pod started.
fn pod_blocks(pod: &Pod, now: i64) -> bool {
    match pod.annotations.get(labels::DO_NOT_DISRUPT).map(String::as_str) {
        Some("true") => true,
        Some(d) => match (parse_hms(d), pod.start_time) {
            (Some(secs), Some(start)) => now < start + secs,
            (Some(_), None) => true,
            _ => false,
        },
        None => false,
    }
}

impl Autoscaler {
    /// Disruption candidates (doc §4.2) and why the other managed nodes are not.
    pub fn disruption_candidates(&self, view: &ClusterView<'_>, now: i64) -> (Vec<Candidate>, Vec<Ineligible>) {
        let snap = view.snapshot;
        let allowed = pdb::disruptions_allowed(snap);
        let pdbs = snap.pdbs();
        let mut out = Vec::new();
        let mut not = Vec::new();
        let mut skip = |node: &str, reason: String| not.push(Ineligible { node: node.to_string(), reason });
        for m in view.managed {
            let Some(info) = snap.node_by_name(Sym::new(&m.node_name)) else {
                skip(&m.node_name, "no Node".into());
                continue;
            };
            let Some(pool) = self.pool(&m.node_pool) else {
                skip(&m.node_name, format!("NodePool {:?} is unknown or static", m.node_pool));
                continue;
            };
            if !m.is_initialized() {
                skip(&m.node_name, "not initialized".into());
                continue;
            }
            if m.deleting {
                skip(&m.node_name, "marked for deletion".into());
                continue;
            }
            if m.nominated_until.is_some_and(|t| now < t) {
                skip(&m.node_name, "nominated for pods".into());
                continue;
            }
            if m.do_not_disrupt {
                skip(&m.node_name, "node has karpenter.sh/do-not-disrupt".into());
                continue;
            }
            let pods: Vec<Arc<Pod>> = info.pods.iter().map(|&p| snap.pod(p).pod.clone()).collect();
            if let Some(p) = pods.iter().find(|p| !p.phase.is_terminal() && pod_blocks(p, now)) {
                skip(&m.node_name, format!("pod {} has karpenter.sh/do-not-disrupt", p.key()));
                continue;
            }
            let reschedulable: Vec<Arc<Pod>> = pods.into_iter().filter(|p| is_reschedulable(p)).collect();
            let blocked = reschedulable.iter().find_map(|p| {
                let covering: Vec<usize> =
                    pdbs.iter().enumerate().filter(|(_, b)| pdb::covers(b, p)).map(|(i, _)| i).collect();
                match covering.as_slice() {
                    [] => None,
                    [i] if allowed.get(*i).copied().unwrap_or(0) > 0 => None,
                    [i] => Some(format!("pod {} is protected by PodDisruptionBudget {}", p.key(), pdbs[*i].name)),
                    _ => Some(format!("pod {} is covered by more than one PodDisruptionBudget", p.key())),
                }
            });
            if let Some(reason) = blocked {
                skip(&m.node_name, reason);
                continue;
            }
            let disruption_cost = EVICTION_UNIT + reschedulable.iter().map(|p| eviction_cost(p).max(0)).sum::<i128>();
            let since = m.last_pod_event_at.or(m.initialized_at).unwrap_or(m.launched_at);
            let consolidatable = pool.pool.consolidate_after.seconds().is_some_and(|after| now - since >= after);
            out.push(Candidate {
                node: m.node_name.clone(),
                node_pool: m.node_pool.clone(),
                price: m.hourly_price,
                capacity_type: m.capacity_type,
                instance_type: m.instance_type.clone(),
                reschedulable,
                disruption_cost,
                consolidatable,
                policy: pool.pool.consolidation_policy,
            });
        }
        // v1.14: savings ratio (price / disruption cost) descending; then name.
        out.sort_by(|a, b| {
            let l = a.price.0 as i128 * b.disruption_cost;
            let r = b.price.0 as i128 * a.disruption_cost;
            r.cmp(&l).then_with(|| a.node.cmp(&b.node))
        });
        (out, not)
    }

    /// Allowed disruptions per NodePool for `reason` at `now` (doc §4.3):
    /// `max(min over active budgets that apply (ceil(% × nodes)) − disrupting, 0)`.
    pub fn disruption_budgets(
        &self,
        view: &ClusterView<'_>,
        reason: DisruptionReason,
        now: i64,
    ) -> BTreeMap<String, i32> {
        let mut out = BTreeMap::new();
        for p in self.pools() {
            let mine: Vec<&ManagedNode> = view.managed.iter().filter(|m| m.node_pool == p.pool.name).collect();
            let num = mine.iter().filter(|m| m.is_initialized()).count() as i32;
            let disrupting = mine
                .iter()
                .filter(|m| {
                    m.deleting
                        || view
                            .snapshot
                            .node_by_name(Sym::new(&m.node_name))
                            .is_some_and(|n| n.node.readiness != Readiness::Ready)
                })
                .count() as i32;
            let min = p
                .pool
                .budgets
                .iter()
                .filter(|b| b.applies_to(reason))
                .map(|b| b.allowed(num, now))
                .min()
                .unwrap_or(i32::MAX);
            out.insert(p.pool.name.clone(), (min.saturating_sub(disrupting)).max(0));
        }
        out
    }

    /// Nodes whose NodeClaim reached `expireAfter` (forceful: no budget, doc §4.11).
    pub fn expired_nodes(&self, view: &ClusterView<'_>, now: i64) -> Vec<String> {
        view.managed
            .iter()
            .filter(|m| !m.deleting)
            .filter(|m| {
                self.pool(&m.node_pool)
                    .and_then(|p| p.pool.expire_after.seconds())
                    .is_some_and(|e| now - m.launched_at >= e)
            })
            .map(|m| m.node_name.clone())
            .collect()
    }

    /// One pass of the disruption controller (doc §4.1): the first method that finds something
    /// — emptiness, then multi-node, then single-node consolidation — gives the command.
    /// Drift is not modelled. `pending` are the pods waiting for capacity (they take part in the
    /// simulation but may stay pending).
    pub fn compute_disruption(&self, view: &ClusterView<'_>, pending: &[Arc<Pod>], now: i64) -> Option<Command> {
        let (candidates, _) = self.disruption_candidates(view, now);
        self.emptiness(view, &candidates, now)
            .or_else(|| self.multi_node(view, pending, &candidates, now))
            .or_else(|| self.single_node(view, pending, &candidates, now))
    }

    fn emptiness(&self, view: &ClusterView<'_>, candidates: &[Candidate], now: i64) -> Option<Command> {
        let mut budgets = self.disruption_budgets(view, DisruptionReason::Empty, now);
        let mut chosen = Vec::new();
        for c in candidates.iter().filter(|c| c.is_empty() && c.consolidatable) {
            let left = budgets.entry(c.node_pool.clone()).or_insert(0);
            if *left > 0 {
                *left -= 1;
                chosen.push(c);
            }
        }
        if chosen.is_empty() {
            return None;
        }
        let price: Money = chosen.iter().map(|c| c.price).sum();
        Some(Command {
            method: Method::Emptiness,
            reason: DisruptionReason::Empty,
            candidates: chosen.iter().map(|c| c.node.clone()).collect(),
            replacement: None,
            candidate_price: price,
            savings: price,
            destinations: Vec::new(),
        })
    }

    fn consolidation_candidates<'c>(&self, candidates: &'c [Candidate]) -> Vec<&'c Candidate> {
        candidates.iter().filter(|c| c.consolidatable && c.policy != ConsolidationPolicy::WhenEmpty).collect()
    }

    fn multi_node(
        &self,
        view: &ClusterView<'_>,
        pending: &[Arc<Pod>],
        candidates: &[Candidate],
        now: i64,
    ) -> Option<Command> {
        let mut budgets = self.disruption_budgets(view, DisruptionReason::Underutilized, now);
        let mut list: Vec<&Candidate> = Vec::new();
        for c in self.consolidation_candidates(candidates) {
            let left = budgets.entry(c.node_pool.clone()).or_insert(0);
            if *left > 0 {
                *left -= 1;
                list.push(c);
            }
            if list.len() >= MULTI_NODE_MAX_CANDIDATES {
                break;
            }
        }
        if list.len() < 2 {
            return None;
        }
        let (mut lo, mut hi) = (1usize, list.len() - 1);
        let mut best: Option<Command> = None;
        while lo <= hi {
            let mid = (lo + hi) / 2;
            let cmd = self.consolidate(view, pending, &list[..=mid], Method::MultiNodeConsolidation);
            match cmd {
                Some(c) => {
                    best = Some(c);
                    lo = mid + 1;
                }
                None => {
                    if mid == 0 {
                        break;
                    }
                    hi = mid - 1;
                }
            }
        }
        best
    }

    fn single_node(
        &self,
        view: &ClusterView<'_>,
        pending: &[Arc<Pod>],
        candidates: &[Candidate],
        now: i64,
    ) -> Option<Command> {
        let budgets = self.disruption_budgets(view, DisruptionReason::Underutilized, now);
        // Interleave by NodePool (round-robin), keeping each pool's order.
        let list = self.consolidation_candidates(candidates);
        let mut pools: Vec<&str> = Vec::new();
        for c in &list {
            if !pools.contains(&c.node_pool.as_str()) {
                pools.push(&c.node_pool);
            }
        }
        let mut per_pool: Vec<Vec<&Candidate>> =
            pools.iter().map(|p| list.iter().copied().filter(|c| c.node_pool == *p).collect()).collect();
        let mut order = Vec::new();
        let mut i = 0;
        while per_pool.iter().any(|v| i < v.len()) {
            for v in &mut per_pool {
                if let Some(c) = v.get(i) {
                    order.push(*c);
                }
            }
            i += 1;
        }
        for c in order {
            if budgets.get(&c.node_pool).copied().unwrap_or(0) <= 0 {
                continue;
            }
            if let Some(cmd) = self.consolidate(view, pending, &[c], Method::SingleNodeConsolidation) {
                return Some(cmd);
            }
        }
        None
    }

    /// `computeConsolidation` (doc §4.5–§4.7): simulate the candidates away; all their pods must
    /// land; none → delete; exactly one new NodeClaim that is cheaper → replace.
    fn consolidate(
        &self,
        view: &ClusterView<'_>,
        pending: &[Arc<Pod>],
        cands: &[&Candidate],
        method: Method,
    ) -> Option<Command> {
        let mut remove: Vec<Sym> = cands.iter().map(|c| Sym::new(&c.node)).collect();
        let mut moving: Vec<Arc<Pod>> = cands.iter().flat_map(|c| c.reschedulable.iter().cloned()).collect();
        // Pods of nodes already being deleted need homes too.
        for m in view.managed.iter().filter(|m| m.deleting) {
            if let Some(info) = view.snapshot.node_by_name(Sym::new(&m.node_name)) {
                remove.push(info.name());
                moving.extend(
                    info.pods.iter().map(|&p| view.snapshot.pod(p).pod.clone()).filter(|p| is_reschedulable(p)),
                );
            }
        }
        // They are rescheduled: not bound anywhere any more.
        let moving: Vec<Arc<Pod>> = moving
            .into_iter()
            .map(|p| {
                let mut p = (*p).clone();
                p.node_name = None;
                p.nominated_node_name = None;
                Arc::new(p)
            })
            .collect();
        let (mut solver, _) = Solver::new(self, view, &remove, self.options.seed);
        solver.optimize = false;
        solver.repack = false;
        let mut pods = moving.clone();
        pods.extend(pending.iter().cloned());
        solver.solve(pods);
        let is_moving = |p: &Pod| moving.iter().any(|m| m.namespace == p.namespace && m.name == p.name);
        if solver.errors.iter().any(|(p, _)| is_moving(p)) {
            return None;
        }
        let mut destinations = Vec::new();
        for (p, placed) in &solver.placements {
            if !is_moving(p) {
                continue;
            }
            match placed {
                Placed::Existing { initialized: false, .. } => return None,
                Placed::Existing { node, .. } => {
                    destinations.push((p.key(), solver.snap.node(*node).name().as_str().to_string()))
                }
                Placed::Claim(i) => destinations.push((p.key(), solver.claims[*i].name.clone())),
            }
        }
        let candidate_price: Money = cands.iter().map(|c| c.price).sum();
        let names: Vec<String> = cands.iter().map(|c| c.node.clone()).collect();
        // Claims that only pending pods asked for do not count against the move.
        let used: Vec<&Claim> = solver.claims.iter().filter(|c| c.pods.iter().any(|p| is_moving(p))).collect();
        match used.as_slice() {
            [] => Some(Command {
                method,
                reason: method.reason(),
                candidates: names,
                replacement: None,
                candidate_price,
                savings: candidate_price,
                destinations,
            }),
            [claim] => {
                let replacement = self.cheaper_replacement(&solver, claim, cands, candidate_price, method)?;
                let savings = candidate_price - replacement.hourly_price;
                Some(Command {
                    method,
                    reason: method.reason(),
                    candidates: names,
                    replacement: Some(replacement),
                    candidate_price,
                    savings,
                    destinations,
                })
            }
            _ => None,
        }
    }

    /// The replacement, restricted to instance types strictly cheaper than the candidates
    /// (doc §4.6, §4.7); `None` when there is none or the spot rules forbid it.
    fn cheaper_replacement(
        &self,
        solver: &Solver<'_>,
        claim: &Claim,
        cands: &[&Candidate],
        candidate_price: Money,
        method: Method,
    ) -> Option<PlannedNodeClaim> {
        let pool = &self.pools()[claim.pool];
        let ct_key = Sym::new(labels::CAPACITY_TYPE);
        let allows = |ct: CapacityType| claim.reqs.admits(ct_key, Some(ct.sym()));
        let all_spot = cands.iter().all(|c| c.capacity_type == CapacityType::Spot);
        let mut reqs = claim.reqs.clone();
        let spot_to_spot = all_spot && allows(CapacityType::Spot);
        if spot_to_spot && !self.options.spot_to_spot_consolidation {
            return None;
        }
        // The capacity type the launch would use, and its worst price per option.
        let launch_ct = if pool.types.iter().enumerate().any(|(i, t)| {
            claim.options.contains(&i) && t.offerings_for(&reqs, None).any(|o| o.capacity_type == CapacityType::Spot)
        }) {
            CapacityType::Spot
        } else {
            CapacityType::OnDemand
        };
        let worst = |i: usize| {
            pool.types[i].offerings_for(&reqs, None).filter(|o| o.capacity_type == launch_ct).map(|o| o.price).max()
        };
        let mut options: Vec<usize> =
            claim.options.iter().copied().filter(|&i| worst(i).is_some_and(|w| w < candidate_price)).collect();
        if method == Method::MultiNodeConsolidation {
            // filterOutSameInstanceType: never replace with a type a candidate already is, unless cheaper.
            if let Some(min_same) = cands
                .iter()
                .filter(|c| options.iter().any(|&i| pool.types[i].name.as_str() == c.instance_type))
                .map(|c| c.price)
                .min()
            {
                options.retain(|&i| worst(i).is_some_and(|w| w < min_same));
            }
        }
        if options.is_empty() {
            return None;
        }
        if spot_to_spot {
            options.sort_by_key(|&i| (worst(i), pool.types[i].name));
            if cands.len() == 1 {
                if options.len() < SPOT_TO_SPOT_MIN_TYPES {
                    return None;
                }
                options.truncate(SPOT_TO_SPOT_MIN_TYPES);
            }
        }
        if allows(CapacityType::Spot) && allows(CapacityType::OnDemand) {
            // The price test assumed spot: do not fall back to a pricier on-demand launch.
            reqs.add(crate::requirements::Requirement::is_value(ct_key, CapacityType::Spot.sym()));
        }
        let has_min = reqs.with_min_values().next().is_some();
        let launch = launch_choice(pool, &options, &reqs, claim.zone, has_min)?;
        let mut replacement = claim.clone();
        replacement.options = options;
        replacement.reqs = reqs;
        replacement.launch = launch;
        Some(planned_from(self, solver, &replacement))
    }

    /// Re-checks a command after the validation delay (doc §4.9): every candidate is still a
    /// candidate within budget, and the simulation still gives the same decision (a replacement
    /// must offer at least the command's instance types).
    pub fn validate_disruption(
        &self,
        cmd: &Command,
        view: &ClusterView<'_>,
        pending: &[Arc<Pod>],
        now: i64,
    ) -> Result<(), String> {
        let (candidates, not) = self.disruption_candidates(view, now);
        let mut chosen = Vec::new();
        for name in &cmd.candidates {
            match candidates.iter().find(|c| &c.node == name) {
                Some(c) => chosen.push(c),
                None => {
                    let why = not.iter().find(|n| &n.node == name).map_or("gone".to_string(), |n| n.reason.clone());
                    return Err(format!("{name} is no longer a candidate: {why}"));
                }
            }
        }
        let budgets = self.disruption_budgets(view, cmd.reason, now);
        for c in &chosen {
            let n = chosen.iter().filter(|d| d.node_pool == c.node_pool).count() as i32;
            if budgets.get(&c.node_pool).copied().unwrap_or(0) < n {
                return Err(format!("the disruption budget of NodePool {:?} no longer allows it", c.node_pool));
            }
        }
        if cmd.method == Method::Emptiness {
            return match chosen.iter().find(|c| !c.is_empty()) {
                Some(c) => Err(format!("{} is no longer empty", c.node)),
                None => Ok(()),
            };
        }
        let again =
            self.consolidate(view, pending, &chosen, cmd.method).ok_or("consolidation is no longer possible")?;
        match (&cmd.replacement, &again.replacement) {
            (None, None) => Ok(()),
            (Some(old), Some(new))
                if old.instance_type_options.iter().all(|t| new.instance_type_options.contains(t)) =>
            {
                Ok(())
            }
            _ => Err("the simulation gives a different decision".into()),
        }
    }
}

#[cfg(test)]
#[path = "disruption_tests.rs"]
mod tests;
