//! PodDisruptionBudgets: which pods a budget covers, how many disruptions it allows, and how
//! preemption spends that allowance while it picks victims.
//!
//! Two views of "the pods a budget covers" exist in Kubernetes and they differ:
//! - the disruption controller (`pkg/controller/disruption`, `getPodsForPdb`) lists the pods of
//!   the budget's namespace with `LabelSelectorAsSelector(spec.selector)`: a nil selector selects
//!   nothing, an empty one (`{}`) every pod of the namespace ([`covers`]);
//! - preemption (`filterPodsWithPDBViolation`, kube-scheduler.md §4.13) never matches a pod
//!   without labels, and treats both a nil and an empty selector as matching nothing
//!   ([`matches_for_preemption`]).
//!
//! `status.disruptionsAllowed` is taken from the input when it carried a status; otherwise it
//! is computed from the pods of the snapshot as the disruption controller's `trySync` would
//! ([`compute`], [`disruptions_allowed`]).

use crate::intern::Sym;
use crate::model::{IntOrPercent, OwnerRef, Pod, PodDisruptionBudget, PodPhase};
use crate::snapshot::Snapshot;
use std::collections::HashMap;

/// The disruption controller's selection (`getPodsForPdb`): same namespace, and the selector
/// matches (nil selects nothing, empty selects every pod of the namespace).
pub fn covers(pdb: &PodDisruptionBudget, pod: &Pod) -> bool {
    pod.namespace == pdb.namespace && pdb.selector.as_ref().is_some_and(|s| s.matches(&pod.labels))
}

/// Preemption's matching (`filterPodsWithPDBViolation`): a pod without labels matches no
/// budget, and a nil or empty selector matches nothing.
pub fn matches_for_preemption(pdb: &PodDisruptionBudget, pod: &Pod) -> bool {
    !pod.labels.is_empty()
        && pod.namespace == pdb.namespace
        && pdb.selector.as_ref().is_some_and(|s| !s.is_empty() && s.matches(&pod.labels))
}

/// `countHealthyPods`: a pod counts when it is not being deleted and is Ready. The model has no
/// Ready condition; a Running pod that is not terminating stands for a Ready one.
pub fn is_healthy(pod: &Pod) -> bool {
    !pod.terminating && pod.phase == PodPhase::Running
}

/// A pod's controller as the disruption controller's finders resolve it: the controller's
/// identity (pods of one controller are counted once) and its desired replicas.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct ControllerScale {
    pub controller: Sym,
    pub replicas: i32,
}

/// What the disruption controller writes into `status`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BudgetStatus {
    pub expected_pods: i32,
    pub desired_healthy: i32,
    pub current_healthy: i32,
    pub disruptions_allowed: i32,
}

/// The disruption controller's `getExpectedPodCount` + `countHealthyPods` + `updatePdbStatus`
/// over `pods` (the pods [`covers`] selects). `scale_of` resolves a pod's controller
/// (`getExpectedScale`'s finders); pods without a controller are "unmanaged" and add nothing to
/// the expected count. A pod whose controller cannot be resolved fails the sync, and the
/// controller's fail-safe allows no disruption: `Err` carries the sync error.
pub fn compute(
    pdb: &PodDisruptionBudget,
    pods: &[&Pod],
    scale_of: impl Fn(&Pod, &OwnerRef) -> Option<ControllerScale>,
) -> Result<BudgetStatus, String> {
    let expected_scale = || -> Result<i32, String> {
        let mut seen: Vec<ControllerScale> = Vec::new();
        for pod in pods {
            let Some(owner) = &pod.owner else { continue };
            if seen.iter().any(|c| c.controller == owner.uid && !owner.uid.as_str().is_empty()) {
                continue;
            }
            let Some(scale) = scale_of(pod, owner) else {
                return Err(format!("found no controllers for pod {:?}", pod.name.as_str()));
            };
            if !seen.iter().any(|c| c.controller == scale.controller) {
                seen.push(scale);
            }
        }
        Ok(seen.iter().fold(0i32, |acc, c| acc.saturating_add(c.replicas)))
    };
    let (expected, desired) = match (pdb.max_unavailable, pdb.min_available) {
        (Some(max_unavailable), _) => {
            let expected = expected_scale()?;
            let max_unavailable = max_unavailable.scaled(expected, true);
            (expected, expected.saturating_sub(max_unavailable).max(0))
        }
        (None, Some(IntOrPercent::Int(min))) => (pods.len() as i32, min),
        (None, Some(min @ IntOrPercent::Percent(_))) => {
            let expected = expected_scale()?;
            (expected, min.scaled(expected, true))
        }
        (None, None) => (0, 0),
    };
    let healthy = pods.iter().filter(|p| is_healthy(p)).count() as i32;
    let mut allowed = healthy.saturating_sub(desired);
    // "We require expectedCount to be > 0 so that PDBs which currently match no pods are in a
    // safe state when their first pods appear."
    if expected <= 0 || allowed <= 0 {
        allowed = 0;
    }
    Ok(BudgetStatus {
        expected_pods: expected,
        desired_healthy: desired,
        current_healthy: healthy,
        disruptions_allowed: allowed,
    })
}

/// Controller scales as seen in a snapshot that holds every pod of the cluster: a controller is
/// taken to want as many replicas as it has pods here. Used only when the input carried no
/// `status` for a budget that needs the expected scale (`maxUnavailable`, or a percentage
/// `minAvailable`).
pub struct SnapshotScales(HashMap<(Sym, Sym, Sym), i32>);

impl SnapshotScales {
    pub fn new(snapshot: &Snapshot) -> SnapshotScales {
        let mut counts: HashMap<(Sym, Sym, Sym), i32> = HashMap::new();
        for (_, bound) in snapshot.pods() {
            if let Some(o) = &bound.pod.owner {
                *counts.entry((bound.pod.namespace, o.kind, o.name)).or_default() += 1;
            }
        }
        SnapshotScales(counts)
    }

    pub fn scale_of(&self, pod: &Pod, owner: &OwnerRef) -> Option<ControllerScale> {
        let replicas = *self.0.get(&(pod.namespace, owner.kind, owner.name))?;
        let controller = if owner.uid.as_str().is_empty() {
            Sym::new(&format!("{}/{}/{}", pod.namespace, owner.kind, owner.name))
        } else {
            owner.uid
        };
        Some(ControllerScale { controller, replicas })
    }
}

/// `status.disruptionsAllowed` of every budget of the snapshot, in `snapshot.pdbs()` order: the
/// input's status when it carried one, otherwise computed from the snapshot's pods.
pub fn disruptions_allowed(snapshot: &Snapshot) -> Vec<i32> {
    let pdbs = snapshot.pdbs();
    let mut scales: Option<SnapshotScales> = None;
    pdbs.iter()
        .map(|pdb| {
            if let Some(n) = pdb.status_disruptions_allowed {
                return n;
            }
            let pods: Vec<&Pod> = snapshot.pods().map(|(_, b)| &*b.pod).filter(|p| covers(pdb, p)).collect();
            let scales = scales.get_or_insert_with(|| SnapshotScales::new(snapshot));
            compute(pdb, &pods, |p, o| scales.scale_of(p, o)).map(|s| s.disruptions_allowed).unwrap_or(0)
        })
        .collect()
}

/// `filterPodsWithPDBViolation`: splits `pods` (in the given order, which is kept) into those
/// whose eviction would take a matching budget below zero and the others. Every matching budget
/// is decremented for every pod, in order, so the first pods spend the allowance.
pub fn split_by_violation<'a, T: Copy>(
    pods: &[T],
    pod_of: impl Fn(T) -> &'a Pod,
    pdbs: &[PodDisruptionBudget],
    allowed: &[i32],
) -> (Vec<T>, Vec<T>) {
    let mut left: Vec<i32> = allowed.to_vec();
    left.resize(pdbs.len(), 0);
    let mut violating = Vec::new();
    let mut non_violating = Vec::new();
    for &t in pods {
        let pod = pod_of(t);
        let mut violated = false;
        for (i, pdb) in pdbs.iter().enumerate() {
            if matches_for_preemption(pdb, pod) {
                left[i] -= 1;
                if left[i] < 0 {
                    violated = true;
                }
            }
        }
        if violated {
            violating.push(t);
        } else {
            non_violating.push(t);
        }
    }
    (violating, non_violating)
}

/// After preemption deleted `evicted`, what the disruption controller's next sync would write
/// into a budget whose status came from the input: every healthy covered pod that is gone takes
/// one disruption off (never below zero). Budgets without an input status are recomputed from
/// the snapshot anyway.
pub fn record_evictions(pdbs: &mut [PodDisruptionBudget], evicted: &[&Pod]) {
    for pdb in pdbs.iter_mut() {
        let Some(allowed) = pdb.status_disruptions_allowed else { continue };
        let gone = evicted.iter().filter(|p| is_healthy(p) && covers(pdb, p)).count() as i32;
        if gone > 0 {
            pdb.status_disruptions_allowed = Some(allowed.saturating_sub(gone).max(0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builders::{NodeBuilder, PodBuilder};
    use crate::selector::LabelSelector;
    use std::sync::Arc;

    fn budget(selector: Option<LabelSelector>) -> PodDisruptionBudget {
        PodDisruptionBudget {
            namespace: Sym::new("default"),
            name: Sym::new("pdb"),
            selector,
            min_available: None,
            max_unavailable: None,
            status_disruptions_allowed: None,
        }
    }

    fn app() -> Option<LabelSelector> {
        Some(LabelSelector::from_match_labels([("app", "web")]))
    }

    fn pod(name: &str, running: bool, owner: Option<&str>) -> Pod {
        PodBuilder::new("default", name)
            .label("app", "web")
            .with(|p| {
                if running {
                    p.phase = PodPhase::Running;
                }
                p.owner = owner.map(|o| OwnerRef { kind: Sym::new("ReplicaSet"), name: Sym::new(o), uid: Sym::new(o) });
            })
            .build()
    }

    fn rs_scale(replicas: i32) -> impl Fn(&Pod, &OwnerRef) -> Option<ControllerScale> {
        move |_, o| Some(ControllerScale { controller: o.uid, replicas })
    }

    #[test]
    fn nil_selects_nothing_and_empty_selects_the_namespace() {
        let p = pod("a", true, None);
        assert!(!covers(&budget(None), &p));
        assert!(covers(&budget(Some(LabelSelector::everything())), &p));
        let mut other_ns = p.clone();
        other_ns.namespace = Sym::new("other");
        assert!(!covers(&budget(Some(LabelSelector::everything())), &other_ns));
        // Preemption matches neither nil nor empty selectors, nor unlabelled pods.
        assert!(!matches_for_preemption(&budget(None), &p));
        assert!(!matches_for_preemption(&budget(Some(LabelSelector::everything())), &p));
        assert!(matches_for_preemption(&budget(app()), &p));
        let bare = PodBuilder::new("default", "bare").build();
        assert!(!matches_for_preemption(&budget(Some(LabelSelector::from_match_labels([]))), &bare));
    }

    #[test]
    fn int_min_available_counts_healthy_pods() {
        let pods = [pod("a", true, None), pod("b", true, None), pod("c", false, None)];
        let refs: Vec<&Pod> = pods.iter().collect();
        let mut pdb = budget(app());
        pdb.min_available = Some(IntOrPercent::Int(1));
        let s = compute(&pdb, &refs, |_, _| None).unwrap();
        assert_eq!(
            s,
            BudgetStatus { expected_pods: 3, desired_healthy: 1, current_healthy: 2, disruptions_allowed: 1 }
        );
        pdb.min_available = Some(IntOrPercent::Int(3));
        assert_eq!(compute(&pdb, &refs, |_, _| None).unwrap().disruptions_allowed, 0, "never negative");
    }

    #[test]
    fn percent_min_available_rounds_up_over_the_controller_scale() {
        // 5 replicas, 50% → ceil(2.5) = 3 must stay; 4 healthy → 1 disruption.
        let pods: Vec<Pod> = (0..5).map(|i| pod(&format!("p{i}"), i < 4, Some("rs"))).collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let mut pdb = budget(app());
        pdb.min_available = Some(IntOrPercent::Percent(50));
        let s = compute(&pdb, &refs, rs_scale(5)).unwrap();
        assert_eq!((s.expected_pods, s.desired_healthy, s.current_healthy, s.disruptions_allowed), (5, 3, 4, 1));
    }

    #[test]
    fn max_unavailable_rounds_up_and_uses_the_scale_not_the_pod_count() {
        // Controller wants 10, 4 pods exist and are healthy; 25% of 10 → ceil(2.5) = 3 may be
        // unavailable, so 7 must be healthy: 4 - 7 < 0 → 0.
        let pods: Vec<Pod> = (0..4).map(|i| pod(&format!("p{i}"), true, Some("rs"))).collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let mut pdb = budget(app());
        pdb.max_unavailable = Some(IntOrPercent::Percent(25));
        let s = compute(&pdb, &refs, rs_scale(10)).unwrap();
        assert_eq!((s.expected_pods, s.desired_healthy, s.disruptions_allowed), (10, 7, 0));
        // Scale 4, maxUnavailable 1 → desired 3, 4 healthy → 1.
        pdb.max_unavailable = Some(IntOrPercent::Int(1));
        assert_eq!(compute(&pdb, &refs, rs_scale(4)).unwrap().disruptions_allowed, 1);
        // maxUnavailable larger than the scale: desired clamps at 0, all 4 may go.
        pdb.max_unavailable = Some(IntOrPercent::Int(9));
        assert_eq!(compute(&pdb, &refs, rs_scale(4)).unwrap().disruptions_allowed, 4);
    }

    #[test]
    fn unmanaged_pods_add_nothing_to_the_expected_count() {
        // Only unmanaged pods: expected 0 → no disruption allowed whatever the health.
        let pods: Vec<Pod> = (0..3).map(|i| pod(&format!("p{i}"), true, None)).collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let mut pdb = budget(app());
        pdb.max_unavailable = Some(IntOrPercent::Int(1));
        let s = compute(&pdb, &refs, rs_scale(3)).unwrap();
        assert_eq!((s.expected_pods, s.disruptions_allowed), (0, 0));
    }

    #[test]
    fn unresolvable_controller_fails_safe() {
        let pods = [pod("a", true, Some("gone"))];
        let refs: Vec<&Pod> = pods.iter().collect();
        let mut pdb = budget(app());
        pdb.max_unavailable = Some(IntOrPercent::Int(1));
        assert_eq!(compute(&pdb, &refs, |_, _| None), Err("found no controllers for pod \"a\"".to_string()));
        // Int minAvailable never looks for controllers.
        pdb.max_unavailable = None;
        pdb.min_available = Some(IntOrPercent::Int(0));
        assert_eq!(compute(&pdb, &refs, |_, _| None).unwrap().disruptions_allowed, 1);
    }

    #[test]
    fn neither_field_allows_nothing() {
        let pods = [pod("a", true, None)];
        let refs: Vec<&Pod> = pods.iter().collect();
        assert_eq!(compute(&budget(app()), &refs, |_, _| None).unwrap().disruptions_allowed, 0);
    }

    #[test]
    fn snapshot_status_wins_and_otherwise_is_computed() {
        let mut s = Snapshot::new();
        let n = s.add_node(NodeBuilder::new("n1").cpu_milli(1000).build());
        for i in 0..3 {
            s.add_pod(Arc::new(pod(&format!("p{i}"), true, Some("rs"))), n);
        }
        let mut given = budget(app());
        given.min_available = Some(IntOrPercent::Int(1));
        given.status_disruptions_allowed = Some(7);
        let mut computed = budget(app());
        computed.max_unavailable = Some(IntOrPercent::Percent(50));
        s.set_pdbs(vec![given, computed]);
        // 3 pods of one ReplicaSet: 50% of 3 rounds up to 2 unavailable, 1 must stay → 2.
        assert_eq!(disruptions_allowed(&s), vec![7, 2]);
    }

    #[test]
    fn split_spends_the_allowance_in_order() {
        let pods: Vec<Pod> = (0..3).map(|i| pod(&format!("p{i}"), true, None)).collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let mut pdb = budget(app());
        pdb.min_available = Some(IntOrPercent::Int(1));
        let (violating, ok) = split_by_violation(&refs, |p| p, &[pdb.clone()], &[1]);
        let names = |v: &[&Pod]| v.iter().map(|p| p.name.as_str()).collect::<Vec<_>>();
        assert_eq!(names(&ok), ["p0"]);
        assert_eq!(names(&violating), ["p1", "p2"]);
        // A pod matching two budgets violates if either goes below zero.
        let (violating, ok) = split_by_violation(&refs, |p| p, &[pdb.clone(), pdb], &[5, 0]);
        assert_eq!((names(&ok).len(), names(&violating).len()), (0, 3));
    }

    #[test]
    fn evictions_spend_a_given_status() {
        let mut pdb = budget(app());
        pdb.status_disruptions_allowed = Some(1);
        let mut untouched = budget(app());
        untouched.namespace = Sym::new("other");
        untouched.status_disruptions_allowed = Some(1);
        let mut pdbs = vec![pdb, untouched];
        let gone = [pod("a", true, None), pod("b", true, None), pod("c", false, None)];
        record_evictions(&mut pdbs, &gone.iter().collect::<Vec<_>>());
        assert_eq!(pdbs[0].status_disruptions_allowed, Some(0));
        assert_eq!(pdbs[1].status_disruptions_allowed, Some(1));
    }
}
