//! PreFilter, Filter and the AddPod/RemovePod extensions (`filtering.go`, kube-scheduler.md
//! §4.11 "PreFilter" and "Filter").

use super::common::{SpreadConstraint, keys_of, node_has_keys};
use super::{ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH, PodTopologySpread};
use crate::framework::{PodCx, Status};
use crate::intern::Sym;
use crate::model::{Pod, WhenUnsatisfiable};
use crate::snapshot::NodeInfo;
use crate::snapshot_index::{DomainCounts, TableSpec};
use std::sync::Arc;

/// One `DoNotSchedule` constraint with its counts (kube's `TpValueToMatchNum[i]` and the global
/// minimum its `CriticalPaths[i]` track).
#[derive(Clone, Debug)]
struct HardConstraint {
    c: SpreadConstraint,
    /// The incoming pod matches the constraint's selector.
    self_match: i64,
    /// Matching pods per eligible domain.
    counts: Arc<DomainCounts>,
    /// AddPod/RemovePod adjustments per domain.
    delta: Vec<(Sym, i64)>,
    /// The global minimum, 0 when there are fewer eligible domains than `minDomains`.
    min_match: i64,
    /// Even the fullest domain is within the skew: Filter only checks that the key exists.
    all_pass: bool,
}

impl HardConstraint {
    #[inline]
    fn match_num(&self, value: Sym) -> i64 {
        let mut n = self.counts.get(value) as i64;
        if !self.delta.is_empty() {
            n += self.delta.iter().filter(|(v, _)| *v == value).map(|&(_, d)| d).sum::<i64>();
        }
        n
    }

    /// `minMatchNum`: the smallest count over eligible domains (those with entries), or 0 when
    /// the number of domains is below `minDomains`. With no domain at all it is kube's
    /// `MaxInt32` sentinel.
    fn compute_min(&mut self) {
        let mut domains = self.counts.num_domains();
        let (min, max) = if self.delta.is_empty() {
            (self.counts.min(), self.counts.histogram().and_then(|h| h.keys().next_back().copied()))
        } else {
            // The counts with the adjustments applied: exact, where kube's two critical paths are
            // exact for the single-node changes AddPod/RemovePod make.
            let mut hist = self.counts.histogram().cloned().unwrap_or_default();
            for &(v, d) in &self.delta {
                let base = self.counts.get(v);
                if self.counts.contains(v) {
                    if let Some(n) = hist.get_mut(&base) {
                        *n -= 1;
                        if *n == 0 {
                            hist.remove(&base);
                        }
                    }
                } else {
                    domains += 1;
                }
                *hist.entry(base + d as i32).or_insert(0) += 1;
            }
            (hist.keys().next().copied(), hist.keys().next_back().copied())
        };
        self.min_match =
            if (domains as i64) < self.c.min_domains as i64 { 0 } else { min.map_or(i32::MAX as i64, |m| m as i64) };
        // Domains without an entry count 0, never more than the fullest one.
        let max = max.map_or(0, |m| (m as i64).max(0));
        self.all_pass = max + self.self_match - self.min_match <= self.c.max_skew as i64;
    }
}

#[derive(Clone, Debug)]
pub(super) struct PreFilterState {
    constraints: Vec<HardConstraint>,
    /// Every hard constraint's key: only nodes carrying all of them count.
    keys: Vec<Sym>,
}

/// PreFilter: `None` means Skip (no `DoNotSchedule` constraint).
pub(super) fn pre_filter(pl: &PodTopologySpread, cx: PodCx<'_>) -> Option<PreFilterState> {
    let pod = cx.pod;
    let constraints = pl.constraints(pod, cx.snapshot, WhenUnsatisfiable::DoNotSchedule);
    if constraints.is_empty() {
        return None;
    }
    let keys = keys_of(&constraints);
    let mut index = cx.snapshot.index();
    let constraints = constraints
        .into_iter()
        .map(|c| {
            let spec =
                TableSpec { key: c.topology_key, filter: Some(c.node_filter(pod, &keys)), missing_as_empty: false };
            let counts = index.domain_counts(&c.query(pod.namespace), &spec);
            let mut hc = HardConstraint {
                self_match: c.selects(&pod.labels) as i64,
                c,
                counts,
                delta: Vec::new(),
                min_match: 0,
                all_pass: false,
            };
            hc.compute_min();
            hc
        })
        .collect();
    Some(PreFilterState { constraints, keys })
}

impl PreFilterState {
    /// Filter: for each constraint in order, the node must carry the key, and
    /// `count(domain) + self − min ≤ maxSkew`.
    #[inline]
    pub(super) fn filter(&self, node: &NodeInfo) -> Status {
        let labels = node.labels();
        for hc in &self.constraints {
            let Some(value) = labels.get(hc.c.topology_key) else {
                return Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
            };
            if hc.all_pass {
                continue;
            }
            let skew = hc.match_num(value) + hc.self_match - hc.min_match;
            if skew > hc.c.max_skew as i64 {
                return Status::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
            }
        }
        Status::success()
    }

    /// `updateWithPod`: counts `other` on `node` in (+1) or out (−1). Like kube, it does not
    /// look at whether `other` is terminating.
    pub(super) fn update_with_pod(&mut self, pod: &Pod, other: &Pod, node: &NodeInfo, delta: i64) {
        if other.namespace != pod.namespace {
            return;
        }
        let labels = node.labels();
        if !node_has_keys(labels, &self.keys) {
            return;
        }
        for hc in &mut self.constraints {
            if !hc.c.selects(&other.labels) || !hc.c.node_passes_policies(pod, node) {
                continue;
            }
            let Some(value) = labels.get(hc.c.topology_key) else { continue };
            match hc.delta.iter_mut().find(|(v, _)| *v == value) {
                Some(e) => e.1 += delta,
                None => hc.delta.push((value, delta)),
            }
            hc.compute_min();
        }
    }
}
