//! A literal port of kube-scheduler's PodTopologySpread counting for tests: every pod on every
//! node is rescanned, the minimum is tracked with kube's two critical paths, scores are summed
//! as `scoring.go` does. Only the constraint list (`common.rs`) is shared with the plugin.

use super::common::{SpreadConstraint, node_has_keys};
use super::scoring::{score_for_count, topology_normalizing_weight};
use super::{ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH, PodTopologySpread};
use crate::framework::Status;
use crate::intern::Sym;
use crate::model::{Pod, WhenUnsatisfiable};
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::{NodeInfo, Snapshot};
use std::collections::{BTreeMap, BTreeSet};

fn count_pods(snapshot: &Snapshot, node: &NodeInfo, c: &SpreadConstraint, ns: Sym) -> i64 {
    node.pods
        .iter()
        .map(|&id| &snapshot.pod(id).pod)
        .filter(|p| !p.terminating && p.namespace == ns && c.selects(&p.labels))
        .count() as i64
}

fn keys(constraints: &[SpreadConstraint]) -> Vec<Sym> {
    constraints.iter().map(|c| c.topology_key).collect()
}

/// `criticalPaths`: `[(value, count); 2]`, index 0 holding the minimum.
type Paths = [(Sym, i64); 2];

fn update_paths(p: &mut Paths, value: Sym, num: i64) {
    let i = if value == p[0].0 {
        Some(0)
    } else if value == p[1].0 {
        Some(1)
    } else {
        None
    };
    match i {
        Some(i) => {
            p[i].1 = num;
            if p[0].1 > p[1].1 {
                p.swap(0, 1);
            }
        }
        None => {
            if num < p[0].1 {
                p[1] = p[0];
                p[0] = (value, num);
            } else if num < p[1].1 {
                p[1] = (value, num);
            }
        }
    }
}

pub(super) struct RefFilter {
    constraints: Vec<SpreadConstraint>,
    tp: Vec<BTreeMap<Sym, i64>>,
    paths: Vec<Paths>,
}

pub(super) fn pre_filter(pl: &PodTopologySpread, snapshot: &Snapshot, pod: &Pod) -> Option<RefFilter> {
    let constraints = pl.constraints(pod, snapshot, WhenUnsatisfiable::DoNotSchedule);
    if constraints.is_empty() {
        return None;
    }
    let all_keys = keys(&constraints);
    let mut tp: Vec<BTreeMap<Sym, i64>> = vec![BTreeMap::new(); constraints.len()];
    for node in snapshot.nodes() {
        if !node_has_keys(node.labels(), &all_keys) {
            continue;
        }
        for (i, c) in constraints.iter().enumerate() {
            if !c.node_passes_policies(pod, node) {
                continue;
            }
            let v = node.labels().get(c.topology_key).unwrap_or_default();
            *tp[i].entry(v).or_insert(0) += count_pods(snapshot, node, c, pod.namespace);
        }
    }
    let unset = (Sym::new("\u{0}unset"), i32::MAX as i64);
    let paths = tp
        .iter()
        .map(|m| {
            let mut p = [unset, unset];
            for (&v, &n) in m {
                update_paths(&mut p, v, n);
            }
            p
        })
        .collect();
    Some(RefFilter { constraints, tp, paths })
}

impl RefFilter {
    pub(super) fn filter(&self, pod: &Pod, node: &NodeInfo) -> Status {
        for (i, c) in self.constraints.iter().enumerate() {
            let Some(v) = node.labels().get(c.topology_key) else {
                return Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
            };
            let mut min = self.paths[i][0].1;
            if (self.tp[i].len() as i64) < c.min_domains as i64 {
                min = 0;
            }
            let self_match = c.selects(&pod.labels) as i64;
            let skew = self.tp[i].get(&v).copied().unwrap_or(0) + self_match - min;
            if skew > c.max_skew as i64 {
                return Status::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
            }
        }
        Status::success()
    }

    pub(super) fn update_with_pod(&mut self, pod: &Pod, other: &Pod, node: &NodeInfo, delta: i64) {
        if other.namespace != pod.namespace || !node_has_keys(node.labels(), &keys(&self.constraints)) {
            return;
        }
        for (i, c) in self.constraints.iter().enumerate() {
            if !c.selects(&other.labels) || !c.node_passes_policies(pod, node) {
                continue;
            }
            let v = node.labels().get(c.topology_key).unwrap_or_default();
            let n = self.tp[i].entry(v).or_insert(0);
            *n += delta;
            let n = *n;
            update_paths(&mut self.paths[i], v, n);
        }
    }
}

/// PreScore + Score + NormalizeScore over `filtered`, as `scoring.go`; `None` is Skip.
pub(super) fn scores(
    pl: &PodTopologySpread,
    snapshot: &Snapshot,
    pod: &Pod,
    filtered: &[&NodeInfo],
) -> Option<(Vec<i64>, Vec<i64>)> {
    let constraints = pl.constraints(pod, snapshot, WhenUnsatisfiable::ScheduleAnyway);
    if constraints.is_empty() {
        return None;
    }
    let require_all = !pod.topology_spread_constraints.is_empty() || !pl.system_defaulted;
    let all_keys = keys(&constraints);
    let mut ignored: BTreeSet<Sym> = BTreeSet::new();
    let mut counts: Vec<BTreeMap<Sym, i64>> = vec![BTreeMap::new(); constraints.len()];
    for node in filtered {
        if require_all && !node_has_keys(node.labels(), &all_keys) {
            ignored.insert(node.name());
            continue;
        }
        for (i, c) in constraints.iter().enumerate() {
            if c.topology_key == Sym::HOSTNAME {
                continue;
            }
            counts[i].entry(node.labels().get(c.topology_key).unwrap_or_default()).or_insert(0);
        }
    }
    let weights: Vec<f64> = constraints
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let size = if c.topology_key == Sym::HOSTNAME { filtered.len() - ignored.len() } else { counts[i].len() };
            topology_normalizing_weight(size)
        })
        .collect();
    for node in snapshot.nodes() {
        if require_all && !node_has_keys(node.labels(), &all_keys) {
            continue;
        }
        for (i, c) in constraints.iter().enumerate() {
            if !c.node_passes_policies(pod, node) {
                continue;
            }
            let v = node.labels().get(c.topology_key).unwrap_or_default();
            if let Some(n) = counts[i].get_mut(&v) {
                *n += count_pods(snapshot, node, c, pod.namespace);
            }
        }
    }
    let raw: Vec<i64> = filtered
        .iter()
        .map(|node| {
            if ignored.contains(&node.name()) {
                return 0;
            }
            let mut score = 0f64;
            for (i, c) in constraints.iter().enumerate() {
                if let Some(v) = node.labels().get(c.topology_key) {
                    let cnt = if c.topology_key == Sym::HOSTNAME {
                        count_pods(snapshot, node, c, pod.namespace)
                    } else {
                        counts[i][&v]
                    };
                    score += score_for_count(cnt, c.max_skew, weights[i]);
                }
            }
            score.round() as i64
        })
        .collect();
    let mut norm = raw.clone();
    let mut min = i64::MAX;
    let mut max = 0;
    for (node, &s) in filtered.iter().zip(&raw) {
        if !ignored.contains(&node.name()) {
            min = min.min(s);
            max = max.max(s);
        }
    }
    for (node, s) in filtered.iter().zip(norm.iter_mut()) {
        *s = if ignored.contains(&node.name()) {
            0
        } else if max == 0 {
            MAX_NODE_SCORE
        } else {
            MAX_NODE_SCORE * (max + min - *s) / max
        };
    }
    Some((raw, norm))
}
