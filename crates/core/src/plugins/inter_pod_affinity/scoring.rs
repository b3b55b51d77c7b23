//! PreScore, Score and NormalizeScore (`scoring.go`, kube-scheduler.md §4.10 "Scoring").

use super::InterPodAffinity;
use crate::framework::PodCx;
use crate::intern::Sym;
use crate::model::WeightedPodAffinityTerm;
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::NodeInfo;
use crate::snapshot_index::{KeyCounts, PodQuery, QueryTerm, TermKind};

/// kube's `topologyScore` as a list of weighted per-domain counts: the score of a node is
/// Σ weight × count(node's value of key) over the entries whose key the node carries.
#[derive(Clone, Debug)]
pub(super) struct PreScoreState {
    contributions: Vec<(Sym, i64, KeyCounts)>,
}

/// PreScore: `None` means Skip — `ignorePreferredTermsOfExistingPods` with no preferred terms
/// of the pod's own, or no term matched anything (kube's empty `topologyScore`).
pub(super) fn pre_score(pl: &InterPodAffinity, cx: PodCx<'_>) -> Option<PreScoreState> {
    let pod = cx.pod;
    let snapshot = cx.snapshot;
    let empty: &[WeightedPodAffinityTerm] = &[];
    let preferred_affinity = pod.affinity.pod_affinity.as_ref().map_or(empty, |a| a.preferred.as_slice());
    let preferred_anti = pod.affinity.pod_anti_affinity.as_ref().map_or(empty, |a| a.preferred.as_slice());
    let has_constraints = !preferred_affinity.is_empty() || !preferred_anti.is_empty();
    if pl.ignore_preferred_terms_of_existing_pods && !has_constraints {
        return None;
    }
    let ns_labels = snapshot.namespace_labels(pod.namespace);
    let mut index = snapshot.index();
    let mut contributions = Vec::new();
    // A term "touches" kube's map as soon as one pod matches it on a node carrying its key, even
    // when the weights cancel out.
    let mut touched = false;

    // The incoming pod's preferred terms, matched against existing pods.
    for (terms, sign) in [(preferred_affinity, 1i64), (preferred_anti, -1)] {
        for w in terms {
            let key = w.term.topology_key;
            let query =
                PodQuery { terms: vec![QueryTerm::of_affinity_term(&w.term, pod.namespace)], skip_terminating: false };
            let table = index.key_counts(&query, key);
            if table.total() > 0 {
                touched = true;
                contributions.push((key, sign * w.weight as i64, table));
            }
        }
    }

    // Existing pods' terms, matched against the incoming pod.
    let hard = pl.hard_pod_affinity_weight as i64;
    let kinds: &[TermKind] = if hard > 0 {
        &[TermKind::RequiredAffinity, TermKind::PreferredAffinity, TermKind::PreferredAntiAffinity]
    } else {
        &[TermKind::PreferredAffinity, TermKind::PreferredAntiAffinity]
    };
    index.for_each_group(kinds, |group, table| {
        if table.total() == 0 || !group.term.matches(pod, || ns_labels.clone()) {
            return;
        }
        let weight = match group.kind {
            TermKind::RequiredAffinity => hard,
            TermKind::PreferredAffinity => group.weight as i64,
            TermKind::PreferredAntiAffinity => -(group.weight as i64),
            TermKind::RequiredAntiAffinity => 0,
        };
        touched = true;
        contributions.push((group.topology_key, weight, table.clone()));
    });
    touched.then_some(PreScoreState { contributions })
}

impl PreScoreState {
    /// Score: Σ over entries whose key the node carries. May be negative.
    #[inline]
    pub(super) fn score(&self, node: &NodeInfo) -> i64 {
        let labels = node.labels();
        let mut score = 0i64;
        for (key, weight, table) in &self.contributions {
            if table.is_per_node() {
                // A hostname domain that is the node itself: no label lookup needed.
                score += weight * table.on_node(node, Sym::EMPTY) as i64;
            } else if let Some(v) = labels.get(*key) {
                score += weight * table.on_node(node, v) as i64;
            }
        }
        score
    }
}

/// NormalizeScore: `int(100 × (s − min) / (max − min))` in float64, all 0 when max == min.
pub(super) fn normalize(scores: &mut [i64]) {
    let (mut min, mut max) = (i64::MAX, i64::MIN);
    for &s in scores.iter() {
        min = min.min(s);
        max = max.max(s);
    }
    let diff = max.wrapping_sub(min);
    for s in scores.iter_mut() {
        let f = if diff > 0 { MAX_NODE_SCORE as f64 * ((*s - min) as f64 / diff as f64) } else { 0.0 };
        *s = f as i64;
    }
}
