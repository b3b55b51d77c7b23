//! A literal port of kube-scheduler's InterPodAffinity algorithms for tests: it rescans every pod
//! on every node, as kube does, and shares no code with the indexed implementation (not even
//! term matching), so the randomized tests compare two independent readings of the reference.

use super::{ERR_REASON_AFFINITY, ERR_REASON_ANTI_AFFINITY, ERR_REASON_EXISTING_ANTI_AFFINITY, InterPodAffinity};
use crate::framework::Status;
use crate::intern::Sym;
use crate::labels::Labels;
use crate::model::{Pod, PodAffinityTerm};
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::{NodeInfo, Snapshot};
use std::collections::HashMap;

type Pairs = HashMap<(Sym, Sym), i64>;

/// `AffinityTerm.Matches` for a term owned by a pod in `owner_ns`, against `target` whose
/// namespace has labels `target_ns_labels`.
pub(super) fn term_matches(term: &PodAffinityTerm, owner_ns: Sym, target: &Pod, target_ns_labels: &Labels) -> bool {
    let in_names = if term.namespaces.is_empty() && term.namespace_selector.is_none() {
        target.namespace == owner_ns
    } else {
        term.namespaces.contains(&target.namespace)
    };
    let ns_ok = in_names || term.namespace_selector.as_ref().is_some_and(|s| s.matches(target_ns_labels));
    ns_ok && term.label_selector.as_ref().is_some_and(|s| s.matches(&target.labels))
}

fn update(m: &mut Pairs, node: &NodeInfo, key: Sym, value: i64) {
    if let Some(v) = node.labels().get(key) {
        let e = m.entry((key, v)).or_insert(0);
        *e += value;
        if *e == 0 {
            m.remove(&(key, v));
        }
    }
}

pub(super) struct RefFilterState {
    existing: Pairs,
    affinity: Pairs,
    anti: Pairs,
    affinity_terms: Vec<PodAffinityTerm>,
    anti_terms: Vec<PodAffinityTerm>,
}

fn required(pod: &Pod) -> (Vec<PodAffinityTerm>, Vec<PodAffinityTerm>) {
    (
        pod.affinity.pod_affinity.as_ref().map(|a| a.required.clone()).unwrap_or_default(),
        pod.affinity.pod_anti_affinity.as_ref().map(|a| a.required.clone()).unwrap_or_default(),
    )
}

fn all_match(terms: &[PodAffinityTerm], owner_ns: Sym, target: &Pod, target_ns_labels: &Labels) -> bool {
    !terms.is_empty() && terms.iter().all(|t| term_matches(t, owner_ns, target, target_ns_labels))
}

/// PreFilter; `None` is Skip.
pub(super) fn pre_filter(snapshot: &Snapshot, pod: &Pod) -> Option<RefFilterState> {
    let ns_labels = snapshot.namespace_labels(pod.namespace);
    let (affinity_terms, anti_terms) = required(pod);
    let mut existing = Pairs::new();
    for node in snapshot.nodes() {
        for &pid in &node.pods_with_required_anti_affinity {
            let p = &snapshot.pod(pid).pod;
            for t in required(p).1 {
                if term_matches(&t, p.namespace, pod, &ns_labels) {
                    update(&mut existing, node, t.topology_key, 1);
                }
            }
        }
    }
    let mut affinity = Pairs::new();
    let mut anti = Pairs::new();
    for node in snapshot.nodes() {
        for &pid in &node.pods {
            let p = &snapshot.pod(pid).pod;
            let p_ns = snapshot.namespace_labels(p.namespace);
            if all_match(&affinity_terms, pod.namespace, p, &p_ns) {
                for t in &affinity_terms {
                    update(&mut affinity, node, t.topology_key, 1);
                }
            }
            for t in &anti_terms {
                if term_matches(t, pod.namespace, p, &p_ns) {
                    update(&mut anti, node, t.topology_key, 1);
                }
            }
        }
    }
    if existing.is_empty() && affinity_terms.is_empty() && anti_terms.is_empty() {
        return None;
    }
    Some(RefFilterState { existing, affinity, anti, affinity_terms, anti_terms })
}

impl RefFilterState {
    /// AddPod (+1) / RemovePod (−1).
    pub(super) fn update_with_pod(&mut self, snapshot: &Snapshot, pod: &Pod, other: &Pod, node: &NodeInfo, m: i64) {
        let ns_labels = snapshot.namespace_labels(pod.namespace);
        for t in required(other).1 {
            if term_matches(&t, other.namespace, pod, &ns_labels) {
                update(&mut self.existing, node, t.topology_key, m);
            }
        }
        let other_ns = snapshot.namespace_labels(other.namespace);
        if all_match(&self.affinity_terms, pod.namespace, other, &other_ns) {
            for t in &self.affinity_terms {
                update(&mut self.affinity, node, t.topology_key, m);
            }
        }
        for t in &self.anti_terms {
            if term_matches(t, pod.namespace, other, &other_ns) {
                update(&mut self.anti, node, t.topology_key, m);
            }
        }
    }

    pub(super) fn filter(&self, snapshot: &Snapshot, pod: &Pod, node: &NodeInfo) -> Status {
        let labels = node.labels();
        // satisfyPodAffinity
        let mut pods_exist = true;
        let mut ok = true;
        for t in &self.affinity_terms {
            match labels.get(t.topology_key) {
                Some(v) => {
                    if self.affinity.get(&(t.topology_key, v)).copied().unwrap_or(0) <= 0 {
                        pods_exist = false;
                    }
                }
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok && !pods_exist {
            let ns = snapshot.namespace_labels(pod.namespace);
            ok = self.affinity.is_empty() && all_match(&self.affinity_terms, pod.namespace, pod, &ns);
        }
        if !ok {
            return Status::unresolvable(ERR_REASON_AFFINITY);
        }
        for t in &self.anti_terms {
            if let Some(v) = labels.get(t.topology_key)
                && self.anti.get(&(t.topology_key, v)).copied().unwrap_or(0) > 0
            {
                return Status::unschedulable(ERR_REASON_ANTI_AFFINITY);
            }
        }
        for (k, v) in labels.iter() {
            if self.existing.get(&(k, v)).copied().unwrap_or(0) > 0 {
                return Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
            }
        }
        Status::success()
    }
}

pub(super) type TopologyScore = HashMap<Sym, HashMap<Sym, i64>>;

/// PreScore over all nodes; `None` is Skip.
pub(super) fn pre_score(pl: &InterPodAffinity, snapshot: &Snapshot, pod: &Pod) -> Option<TopologyScore> {
    let pref_aff = pod.affinity.pod_affinity.as_ref().map(|a| a.preferred.clone()).unwrap_or_default();
    let pref_anti = pod.affinity.pod_anti_affinity.as_ref().map(|a| a.preferred.clone()).unwrap_or_default();
    let has_constraints = !pref_aff.is_empty() || !pref_anti.is_empty();
    if pl.ignore_preferred_terms_of_existing_pods && !has_constraints {
        return None;
    }
    let ns_labels = snapshot.namespace_labels(pod.namespace);
    let mut score = TopologyScore::new();
    let mut process =
        |term: &PodAffinityTerm, owner_ns: Sym, target: &Pod, target_ns: &Labels, weight: i64, node: &NodeInfo| {
            if term_matches(term, owner_ns, target, target_ns)
                && let Some(v) = node.labels().get(term.topology_key)
            {
                *score.entry(term.topology_key).or_default().entry(v).or_insert(0) += weight;
            }
        };
    for node in snapshot.nodes() {
        if node.labels().is_empty() {
            continue;
        }
        let pods: &[crate::snapshot::PodId] = if has_constraints { &node.pods } else { &node.pods_with_affinity };
        for &pid in pods {
            let e = &snapshot.pod(pid).pod;
            let e_ns = snapshot.namespace_labels(e.namespace);
            for w in &pref_aff {
                process(&w.term, pod.namespace, e, &e_ns, w.weight as i64, node);
            }
            for w in &pref_anti {
                process(&w.term, pod.namespace, e, &e_ns, -(w.weight as i64), node);
            }
            if pl.hard_pod_affinity_weight > 0 {
                for t in e.affinity.pod_affinity.iter().flat_map(|a| a.required.iter()) {
                    process(t, e.namespace, pod, &ns_labels, pl.hard_pod_affinity_weight as i64, node);
                }
            }
            for w in e.affinity.pod_affinity.iter().flat_map(|a| a.preferred.iter()) {
                process(&w.term, e.namespace, pod, &ns_labels, w.weight as i64, node);
            }
            for w in e.affinity.pod_anti_affinity.iter().flat_map(|a| a.preferred.iter()) {
                process(&w.term, e.namespace, pod, &ns_labels, -(w.weight as i64), node);
            }
        }
    }
    (!score.is_empty()).then_some(score)
}

pub(super) fn score(s: &TopologyScore, node: &NodeInfo) -> i64 {
    let mut total = 0;
    for (key, values) in s {
        if let Some(v) = node.labels().get(*key) {
            total += values.get(&v).copied().unwrap_or(0);
        }
    }
    total
}

pub(super) fn normalize(scores: &mut [i64]) {
    let min = scores.iter().copied().min().unwrap_or(0);
    let max = scores.iter().copied().max().unwrap_or(0);
    for s in scores.iter_mut() {
        let f = if max > min { MAX_NODE_SCORE as f64 * ((*s - min) as f64 / (max - min) as f64) } else { 0.0 };
        *s = f as i64;
    }
}
