//! PreFilter, Filter and the AddPod/RemovePod extensions (`filtering.go`, kube-scheduler.md
//! §4.10 "PreFilter" and "Filter").

use super::{ERR_REASON_AFFINITY, ERR_REASON_ANTI_AFFINITY, ERR_REASON_EXISTING_ANTI_AFFINITY};
use crate::framework::{PodCx, Status};
use crate::intern::Sym;
use crate::labels::Labels;
use crate::model::{Pod, PodAffinityTerm};
use crate::snapshot::NodeInfo;
use crate::snapshot_index::{KeyCounts, PodQuery, QueryTerm, TermKind};
use smallvec::SmallVec;
use std::sync::Arc;

/// The tables whose counts add up for one topology key.
type KeyTables = (Sym, SmallVec<[KeyCounts; 1]>);

/// kube-scheduler's `topologyToMatchedTermCount`: a count per (topology key, value), here the sum
/// of shared per-domain tables plus the adjustments AddPod/RemovePod made to this cycle's copy.
#[derive(Clone, Default, Debug)]
pub(super) struct TopologyCounts {
    /// Tables by key, in order of first appearance.
    keys: SmallVec<[KeyTables; 2]>,
    /// `(key, value, delta)` from AddPod/RemovePod.
    delta: Vec<(Sym, Sym, i64)>,
}

impl TopologyCounts {
    fn push(&mut self, key: Sym, table: KeyCounts) {
        match self.keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, tables)) => tables.push(table),
            None => self.keys.push((key, smallvec::smallvec![table])),
        }
    }

    /// Whether every count is 0 (kube deletes entries that drop to 0, so this is its
    /// `len(map) == 0`). Table entries are positive; adjusted pairs are checked one by one.
    pub(super) fn is_empty(&self) -> bool {
        if self.delta.is_empty() {
            return self.total() == 0;
        }
        if self.delta.iter().any(|&(k, v, _)| self.get(k, v) != 0) {
            return false;
        }
        // Pairs without adjustments: positive unless every table entry of the key was adjusted.
        self.keys.iter().all(|(key, tables)| {
            let total: i64 = tables.iter().map(|t| t.total()).sum();
            let adjusted: i64 = self
                .delta
                .iter()
                .filter(|(k, _, _)| k == key)
                .map(|&(_, v, _)| tables.iter().map(|t| t.get(v) as i64).sum::<i64>())
                .sum();
            total == adjusted
        })
    }

    /// The count of `(key, value)`.
    pub(super) fn get(&self, key: Sym, value: Sym) -> i64 {
        let mut n: i64 = 0;
        if let Some((_, tables)) = self.keys.iter().find(|(k, _)| *k == key) {
            n = tables.iter().map(|t| t.get(value) as i64).sum();
        }
        n + self.delta_of(key, value)
    }

    #[inline]
    fn delta_of(&self, key: Sym, value: Sym) -> i64 {
        if self.delta.is_empty() {
            return 0;
        }
        self.delta.iter().filter(|&&(k, v, _)| k == key && v == value).map(|&(_, _, d)| d).sum::<i64>()
    }

    /// The count of `(key, value)` where `value` is `node`'s value of `key`.
    #[inline]
    pub(super) fn get_on(&self, key: Sym, node: &NodeInfo, value: Sym) -> i64 {
        let mut n: i64 = 0;
        if let Some((_, tables)) = self.keys.iter().find(|(k, _)| *k == key) {
            n = tables.iter().map(|t| t.on_node(node, value) as i64).sum();
        }
        n + self.delta_of(key, value)
    }

    /// Σ of all counts (0 exactly when kube's map would be empty: counts never go negative).
    pub(super) fn total(&self) -> i64 {
        self.keys.iter().flat_map(|(_, t)| t.iter()).map(|t| t.total()).sum::<i64>()
            + self.delta.iter().map(|&(_, _, d)| d).sum::<i64>()
    }

    /// True when some `(key, value)` of the node's labels has a positive count (the loops of
    /// `satisfyPodAntiAffinity` and `satisfyExistingPodsAntiAffinity`).
    #[inline]
    pub(super) fn any_positive(&self, node: &NodeInfo) -> bool {
        let labels = node.labels();
        for (key, tables) in &self.keys {
            let n: i64 = if self.delta.is_empty() && tables.iter().all(KeyCounts::is_per_node) {
                // Hostname domains are nodes, and every node has a hostname: no label lookup.
                tables.iter().map(|t| t.on_node(node, Sym::EMPTY) as i64).sum()
            } else {
                let Some(v) = labels.get(*key) else { continue };
                tables.iter().map(|t| t.on_node(node, v) as i64).sum::<i64>() + self.delta_of(*key, v)
            };
            if n > 0 {
                return true;
            }
        }
        self.delta.iter().any(|&(k, v, _)| labels.get(k) == Some(v) && self.get(k, v) > 0)
    }

    /// `m[(key, node's value)] += delta` when the node carries `key` (`topologyToMatchedTermCount.update`).
    fn adjust(&mut self, key: Sym, labels: &Labels, delta: i64) {
        let Some(value) = labels.get(key) else { return };
        match self.delta.iter_mut().find(|(k, v, _)| *k == key && *v == value) {
            Some(e) => e.2 += delta,
            None => self.delta.push((key, value, delta)),
        }
    }
}

/// The incoming pod's required terms, compiled once per cycle.
#[derive(Debug)]
pub(super) struct IncomingTerms {
    pub affinity: Vec<(QueryTerm, Sym)>,
    pub anti_affinity: Vec<(QueryTerm, Sym)>,
    /// Labels of the incoming pod's namespace, against which existing pods' namespace selectors
    /// are evaluated (`GetNamespaceLabelsSnapshot`).
    pub ns_labels: Labels,
}

fn compile(terms: Option<&[PodAffinityTerm]>, ns: Sym) -> Vec<(QueryTerm, Sym)> {
    terms.unwrap_or(&[]).iter().map(|t| (QueryTerm::of_affinity_term(t, ns), t.topology_key)).collect()
}

impl IncomingTerms {
    pub fn of(pod: &Pod, ns_labels: Labels) -> IncomingTerms {
        IncomingTerms {
            affinity: compile(pod.affinity.pod_affinity.as_ref().map(|a| a.required.as_slice()), pod.namespace),
            anti_affinity: compile(
                pod.affinity.pod_anti_affinity.as_ref().map(|a| a.required.as_slice()),
                pod.namespace,
            ),
            ns_labels,
        }
    }

    /// `podMatchesAllAffinityTerms`: false when there are no terms.
    fn all_affinity_match(&self, pod: &Pod, ns_labels: impl Fn() -> Labels) -> bool {
        !self.affinity.is_empty() && self.affinity.iter().all(|(t, _)| t.matches(pod, &ns_labels))
    }
}

/// What PreFilter computed for Filter (kube's `preFilterState`).
#[derive(Clone, Debug)]
pub(super) struct PreFilterState {
    /// Existing pods matching all of the incoming pod's affinity terms, once per term.
    affinity: TopologyCounts,
    /// Existing pods matching each of the incoming pod's anti-affinity terms.
    anti_affinity: TopologyCounts,
    /// Existing pods' required anti-affinity terms that match the incoming pod.
    existing_anti_affinity: TopologyCounts,
    /// The incoming pod matches all of its own affinity terms ("first pod of a group").
    self_match: bool,
    terms: Arc<IncomingTerms>,
}

/// PreFilter: `None` means Skip (no existing pod's anti-affinity matches the pod and the pod has
/// no required terms).
pub(super) fn pre_filter(cx: PodCx<'_>) -> Option<PreFilterState> {
    let pod = cx.pod;
    let snapshot = cx.snapshot;
    let terms = IncomingTerms::of(pod, snapshot.namespace_labels(pod.namespace));
    let mut index = snapshot.index();

    let mut existing = TopologyCounts::default();
    index.for_each_group(&[TermKind::RequiredAntiAffinity], |group, table| {
        if table.total() > 0 && group.term.matches(pod, || terms.ns_labels.clone()) {
            existing.push(group.topology_key, table.clone());
        }
    });
    if existing.keys.is_empty() && terms.affinity.is_empty() && terms.anti_affinity.is_empty() {
        return None;
    }

    let mut affinity = TopologyCounts::default();
    if !terms.affinity.is_empty() {
        let query =
            PodQuery { terms: terms.affinity.iter().map(|(t, _)| t.clone()).collect(), skip_terminating: false };
        for &(_, key) in &terms.affinity {
            affinity.push(key, index.key_counts(&query, key));
        }
    }
    let mut anti_affinity = TopologyCounts::default();
    for (term, key) in &terms.anti_affinity {
        let query = PodQuery { terms: vec![term.clone()], skip_terminating: false };
        anti_affinity.push(*key, index.key_counts(&query, *key));
    }
    drop(index);
    let self_match = terms.all_affinity_match(pod, || terms.ns_labels.clone());
    Some(PreFilterState {
        affinity,
        anti_affinity,
        existing_anti_affinity: existing,
        self_match,
        terms: Arc::new(terms),
    })
}

impl PreFilterState {
    /// `satisfyPodAffinity`: every term's key on the node, and matching pods in each term's
    /// domain, unless no pod anywhere matches and the pod matches its own terms.
    #[inline]
    fn satisfies_affinity(&self, node: &NodeInfo) -> bool {
        let labels = node.labels();
        let mut pods_exist = true;
        for &(_, key) in &self.terms.affinity {
            match labels.get(key) {
                None => return false,
                Some(v) => {
                    if self.affinity.get_on(key, node, v) <= 0 {
                        pods_exist = false;
                    }
                }
            }
        }
        pods_exist || (self.affinity.is_empty() && self.self_match)
    }

    #[inline]
    pub(super) fn filter(&self, node: &NodeInfo) -> Status {
        if !self.terms.affinity.is_empty() && !self.satisfies_affinity(node) {
            return Status::unresolvable(ERR_REASON_AFFINITY);
        }
        if self.anti_affinity.any_positive(node) {
            return Status::unschedulable(ERR_REASON_ANTI_AFFINITY);
        }
        if self.existing_anti_affinity.any_positive(node) {
            return Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
        }
        Status::success()
    }

    /// `updateWithPod`: counts `other` on `node` in (`multiplier` 1) or out (−1).
    pub(super) fn update_with_pod(&mut self, cx: PodCx<'_>, other: &Pod, node: &NodeInfo, multiplier: i64) {
        let labels = node.labels();
        let incoming = cx.pod;
        let terms = self.terms.clone();
        if let Some(anti) = &other.affinity.pod_anti_affinity {
            for t in &anti.required {
                if QueryTerm::of_affinity_term(t, other.namespace).matches(incoming, || terms.ns_labels.clone()) {
                    self.existing_anti_affinity.adjust(t.topology_key, labels, multiplier);
                }
            }
        }
        let other_ns_labels = || cx.snapshot.namespace_labels(other.namespace);
        if terms.all_affinity_match(other, other_ns_labels) {
            for &(_, key) in &terms.affinity {
                self.affinity.adjust(key, labels, multiplier);
            }
        }
        for (t, key) in &terms.anti_affinity {
            if t.matches(other, other_ns_labels) {
                self.anti_affinity.adjust(*key, labels, multiplier);
            }
        }
    }
}
