//! PreScore, Score and NormalizeScore (`scoring.go`, kube-scheduler.md §4.11 "PreScore",
//! "Score(node)", "NormalizeScore").

use super::PodTopologySpread;
use super::common::{keys_of, node_has_keys};
use crate::framework::PodCx;
use crate::intern::Sym;
use crate::model::WhenUnsatisfiable;
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::NodeInfo;
use crate::snapshot_index::{DomainCounts, NodeFilterSpec, SymMap, TableSpec};
use std::sync::Arc;

#[derive(Clone, Debug)]
enum Counts {
    /// Hostname constraints count the pods on the node itself.
    PerNode(Arc<Vec<i32>>),
    /// Other keys count the pods in the node's domain, over eligible nodes.
    PerDomain(Arc<DomainCounts>),
}

#[derive(Clone, Debug)]
struct SoftConstraint {
    key: Sym,
    max_skew: i32,
    /// `topologyNormalizingWeight`: ln(size + 2).
    weight: f64,
    counts: Counts,
}

#[derive(Clone, Debug)]
pub(super) struct PreScoreState {
    constraints: Vec<SoftConstraint>,
    /// Nodes missing one of `keys` are ignored (score 0) — unless the constraints are the
    /// system defaults.
    require_all: bool,
    keys: Vec<Sym>,
}

/// `topologyNormalizingWeight`.
pub(super) fn topology_normalizing_weight(size: usize) -> f64 {
    ((size + 2) as f64).ln()
}

/// `scoreForCount`: `cnt × weight + (maxSkew − 1)`.
pub(super) fn score_for_count(cnt: i64, max_skew: i32, weight: f64) -> f64 {
    cnt as f64 * weight + (max_skew - 1) as f64
}

/// PreScore: `None` means Skip (no `ScheduleAnyway` constraint).
pub(super) fn pre_score(pl: &PodTopologySpread, cx: PodCx<'_>, feasible: &[&NodeInfo]) -> Option<PreScoreState> {
    let pod = cx.pod;
    if cx.snapshot.num_nodes() == 0 {
        return None;
    }
    let constraints = pl.constraints(pod, cx.snapshot, WhenUnsatisfiable::ScheduleAnyway);
    if constraints.is_empty() {
        return None;
    }
    // Only non-system-default rules require every topology key on a node, so that nodes
    // without a zone label still get hostname spreading.
    let require_all = !pod.topology_spread_constraints.is_empty() || !pl.system_defaulted;
    let keys = keys_of(&constraints);

    // `initPreScoreState`: ignored nodes and, per constraint, the number of domains among the
    // filtered nodes (a node without the key counts as the empty value when keys are optional).
    let mut scored_nodes = 0usize;
    let mut domains: Vec<SymMap<()>> = vec![SymMap::default(); constraints.len()];
    for node in feasible {
        let labels = node.labels();
        if require_all && !node_has_keys(labels, &keys) {
            continue;
        }
        scored_nodes += 1;
        for (c, seen) in constraints.iter().zip(domains.iter_mut()) {
            if c.topology_key != Sym::HOSTNAME {
                seen.insert(labels.get(c.topology_key).unwrap_or(Sym::EMPTY), ());
            }
        }
    }

    let mut index = cx.snapshot.index();
    let constraints = constraints
        .iter()
        .zip(&domains)
        .map(|(c, seen)| {
            let query = c.query(pod.namespace);
            let (size, counts) = if c.topology_key == Sym::HOSTNAME {
                (scored_nodes, Counts::PerNode(index.node_counts(&query)))
            } else {
                let required: &[Sym] = if require_all { &keys } else { &[] };
                let filter: NodeFilterSpec = c.node_filter(pod, required);
                let spec = TableSpec { key: c.topology_key, filter: Some(filter), missing_as_empty: !require_all };
                (seen.len(), Counts::PerDomain(index.domain_counts(&query, &spec)))
            };
            SoftConstraint {
                key: c.topology_key,
                max_skew: c.max_skew,
                weight: topology_normalizing_weight(size),
                counts,
            }
        })
        .collect();
    Some(PreScoreState { constraints, require_all, keys })
}

impl PreScoreState {
    #[inline]
    fn ignored(&self, node: &NodeInfo) -> bool {
        self.require_all && !node_has_keys(node.labels(), &self.keys)
    }

    /// Score: Σ over constraints whose key the node carries of `scoreForCount`, rounded.
    #[inline]
    pub(super) fn score(&self, node: &NodeInfo) -> i64 {
        if self.ignored(node) {
            return 0;
        }
        let labels = node.labels();
        let mut score = 0f64;
        for c in &self.constraints {
            let Some(value) = labels.get(c.key) else { continue };
            let cnt = match &c.counts {
                Counts::PerNode(v) => v.get(node.id.0 as usize).copied().unwrap_or(0),
                Counts::PerDomain(d) => d.get(value),
            };
            score += score_for_count(cnt as i64, c.max_skew, c.weight);
        }
        // Go's math.Round: half away from zero, as f64::round.
        score.round() as i64
    }

    /// NormalizeScore: ignored nodes 0; with `max` and `min` over the rest, 100 each when
    /// `max == 0`, else `100 × (max + min − s) / max`.
    pub(super) fn normalize(&self, nodes: &[&NodeInfo], scores: &mut [i64]) {
        let mut min = i64::MAX;
        let mut max = 0i64;
        for (node, &s) in nodes.iter().zip(scores.iter()) {
            if self.ignored(node) {
                continue;
            }
            min = min.min(s);
            max = max.max(s);
        }
        for (node, s) in nodes.iter().zip(scores.iter_mut()) {
            if self.ignored(node) {
                *s = 0;
            } else if max == 0 {
                *s = MAX_NODE_SCORE;
            } else {
                *s = MAX_NODE_SCORE * (max + min - *s) / max;
            }
        }
    }
}
