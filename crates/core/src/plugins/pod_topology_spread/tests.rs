//! PodTopologySpread: rules on hand-built clusters (after kube-scheduler's `filtering_test.go`
//! and `scoring_test.go`), hand-computed scores, then randomized clusters checked against a
//! literal port of kube's counting (`reference.rs`) and the index against a recomputation.

use super::*;
use crate::builders::{NodeBuilder, PodBuilder};
use crate::framework::{Code, PluginState, PodCx};
use crate::intern::Sym;
use crate::model::{InclusionPolicy, OwnerRef, TaintEffect, WhenUnsatisfiable, WorkloadKind, WorkloadSelector};
use crate::rng::Rng;
use crate::selector::{LabelOp, LabelRequirement, LabelSelector};
use crate::snapshot::{PodId, Snapshot};
use smallvec::smallvec;

fn sel(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector::from_match_labels(pairs.iter().copied())
}

fn constraint(
    skew: i32,
    key: Sym,
    when: WhenUnsatisfiable,
    selector: Option<LabelSelector>,
) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew: skew,
        topology_key: key,
        when_unsatisfiable: when,
        label_selector: selector,
        min_domains: None,
        node_affinity_policy: None,
        node_taints_policy: None,
        match_label_keys: vec![],
    }
}

fn hard(skew: i32, key: Sym) -> TopologySpreadConstraint {
    constraint(skew, key, WhenUnsatisfiable::DoNotSchedule, Some(sel(&[("foo", "")])))
}

fn soft(skew: i32, key: Sym) -> TopologySpreadConstraint {
    constraint(skew, key, WhenUnsatisfiable::ScheduleAnyway, Some(sel(&[("foo", "")])))
}

fn spread_pod(name: &str, constraints: Vec<TopologySpreadConstraint>) -> Pod {
    PodBuilder::new("default", name).label("foo", "").with(|p| p.topology_spread_constraints = constraints).build()
}

fn foo_pod(name: &str) -> Pod {
    PodBuilder::new("default", name).label("foo", "").build()
}

/// Nodes `(name, zone)`, zone empty for none.
fn cluster(nodes: &[(&str, &str)]) -> Snapshot {
    let mut s = Snapshot::new();
    for &(name, zone) in nodes {
        let mut b = NodeBuilder::new(name);
        if !zone.is_empty() {
            b = b.zone(zone);
        }
        s.add_node(b.build());
    }
    s
}

fn place(s: &mut Snapshot, p: Pod, node: &str) -> PodId {
    let id = s.node_id(Sym::new(node)).unwrap();
    s.add_pod(Arc::new(p), id)
}

/// Places `counts[i]` matching pods on node `i` (insertion order).
fn fill(s: &mut Snapshot, counts: &[usize]) {
    let names: Vec<String> = s.nodes_in_insertion_order().map(|n| n.name().as_str().to_string()).collect();
    for (name, &c) in names.iter().zip(counts) {
        for k in 0..c {
            place(s, foo_pod(&format!("{name}-{k}")), name);
        }
    }
}

fn filter_all(pl: &PodTopologySpread, s: &Snapshot, p: &Pod) -> Option<Vec<Code>> {
    let cx = PodCx { pod: p, snapshot: s };
    let mut st = PluginState::default();
    if pl.pre_filter(cx, &mut st).status.is_skip() {
        return None;
    }
    Some(s.nodes_in_insertion_order().map(|n| pl.filter(cx, &st, n).code).collect())
}

fn score_all(pl: &PodTopologySpread, s: &Snapshot, p: &Pod) -> Option<(Vec<i64>, Vec<i64>)> {
    let cx = PodCx { pod: p, snapshot: s };
    let nodes: Vec<&NodeInfo> = s.nodes_in_insertion_order().collect();
    let mut st = PluginState::default();
    if pl.pre_score(cx, &mut st, &nodes).is_skip() {
        return None;
    }
    let raw: Vec<i64> = nodes.iter().map(|n| pl.score(cx, &st, n)).collect();
    let mut norm = raw.clone();
    pl.normalize_scores(cx, &st, &nodes, &mut norm);
    Some((raw, norm))
}

const OK: Code = Code::Success;
const SKEW: Code = Code::Unschedulable;
const LABEL: Code = Code::UnschedulableAndUnresolvable;

fn zones_ab() -> Snapshot {
    cluster(&[("node-a", "zone1"), ("node-b", "zone1"), ("node-x", "zone2"), ("node-y", "zone2")])
}

#[test]
fn no_constraints_skip_and_no_pods_fit_everywhere() {
    let s = zones_ab();
    let pl = PodTopologySpread::default();
    assert_eq!(filter_all(&pl, &s, &foo_pod("p")), None);
    let p = spread_pod("p", vec![hard(1, Sym::ZONE)]);
    assert_eq!(filter_all(&pl, &s, &p), Some(vec![OK, OK, OK, OK]));
    // Soft constraints only: PreFilter skips.
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![soft(1, Sym::ZONE)])), None);
}

#[test]
fn skew_over_zones_and_hostnames() {
    // "pods spread across zones as 3/3, all nodes fit" / "... as 1/2 due to absence of label".
    let mut s = zones_ab();
    fill(&mut s, &[2, 1, 2, 0]);
    let pl = PodTopologySpread::default();
    // zone1 = 3, zone2 = 2, min 2: zone1 3+1−2 = 2 > 1, zone2 2+1−2 = 1.
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![hard(1, Sym::ZONE)])), Some(vec![SKEW, SKEW, OK, OK]));
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![hard(2, Sym::ZONE)])), Some(vec![OK, OK, OK, OK]));
    // Per node: min 0 on node-y, so only node-y fits (node-b: 1 + 1 − 0 = 2).
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![hard(1, Sym::HOSTNAME)])), Some(vec![SKEW, SKEW, SKEW, OK]));
    // Both constraints must hold.
    assert_eq!(
        filter_all(&pl, &s, &spread_pod("p", vec![hard(1, Sym::ZONE), hard(1, Sym::HOSTNAME)])),
        Some(vec![SKEW, SKEW, SKEW, OK])
    );
    // A pod not matching its own selector adds 0.
    let other =
        PodBuilder::new("default", "p").with(|p| p.topology_spread_constraints = vec![hard(1, Sym::ZONE)]).build();
    assert_eq!(filter_all(&pl, &s, &other), Some(vec![OK, OK, OK, OK]));
}

#[test]
fn nodes_missing_the_key_are_unresolvable_and_not_counted() {
    let mut s = cluster(&[("node-a", "zone1"), ("node-b", ""), ("node-x", "zone2")]);
    fill(&mut s, &[1, 5, 0]);
    let pl = PodTopologySpread::default();
    // node-b's pods are not counted: zone1 = 1, zone2 = 0.
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![hard(1, Sym::ZONE)])), Some(vec![SKEW, LABEL, OK]));
    // With a hostname constraint too, only nodes carrying both keys count (node-b excluded).
    assert_eq!(
        filter_all(&pl, &s, &spread_pod("p", vec![hard(1, Sym::HOSTNAME), hard(5, Sym::ZONE)])),
        Some(vec![SKEW, LABEL, OK])
    );
}

#[test]
fn only_same_namespace_non_terminating_matching_pods_count() {
    let mut s = zones_ab();
    place(&mut s, PodBuilder::new("other", "o1").label("foo", "").build(), "node-a");
    let mut dying = foo_pod("dying");
    dying.terminating = true;
    place(&mut s, dying, "node-a");
    place(&mut s, PodBuilder::new("default", "bar").label("bar", "").build(), "node-a");
    let pl = PodTopologySpread::default();
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![hard(1, Sym::ZONE)])), Some(vec![OK, OK, OK, OK]));
    place(&mut s, foo_pod("live"), "node-a");
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![hard(1, Sym::ZONE)])), Some(vec![SKEW, SKEW, OK, OK]));
}

#[test]
fn min_domains_zeroes_the_global_minimum() {
    let mut s = zones_ab();
    fill(&mut s, &[1, 0, 1, 0]);
    let pl = PodTopologySpread::default();
    let mut c = hard(1, Sym::ZONE);
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![c.clone()])), Some(vec![OK, OK, OK, OK]));
    // Two domains < minDomains 3: min 0, so 1 + 1 − 0 = 2 > 1 everywhere.
    c.min_domains = Some(3);
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![c.clone()])), Some(vec![SKEW, SKEW, SKEW, SKEW]));
    c.min_domains = Some(2);
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![c])), Some(vec![OK, OK, OK, OK]));
}

#[test]
fn node_affinity_policy_decides_which_domains_count() {
    // zone1 holds 3 pods; zone2's nodes do not match the pod's node selector.
    let mut s = zones_ab();
    fill(&mut s, &[2, 1, 0, 0]);
    let pl = PodTopologySpread::default();
    let with_selector = |c: TopologySpreadConstraint| {
        PodBuilder::new("default", "p")
            .label("foo", "")
            .node_selector("topology.kubernetes.io/zone", "zone1")
            .with(move |p| p.topology_spread_constraints = vec![c])
            .build()
    };
    // Honor (default): only zone1 is a domain, min 3: 3 + 1 − 3 = 1.
    assert_eq!(filter_all(&pl, &s, &with_selector(hard(1, Sym::ZONE))), Some(vec![OK, OK, OK, OK]));
    // Ignore: zone2 counts with 0: zone1 4 > 1.
    let mut c = hard(1, Sym::ZONE);
    c.node_affinity_policy = Some(InclusionPolicy::Ignore);
    assert_eq!(filter_all(&pl, &s, &with_selector(c)), Some(vec![SKEW, SKEW, OK, OK]));
}

#[test]
fn node_taints_policy_decides_which_domains_count() {
    let mut s = Snapshot::new();
    for (name, zone, tainted) in [("a", "zone1", false), ("x", "zone2", true)] {
        let mut b = NodeBuilder::new(name).zone(zone);
        if tainted {
            b = b.taint("dedicated", "x", TaintEffect::NoSchedule);
        }
        s.add_node(b.build());
    }
    fill(&mut s, &[2, 0]);
    let pl = PodTopologySpread::default();
    // Ignore (default): zone2 is a domain with 0 pods: zone1 2 + 1 − 0 > 1.
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![hard(1, Sym::ZONE)])), Some(vec![SKEW, OK]));
    // Honor: the untolerated taint removes zone2: min 2.
    let mut c = hard(1, Sym::ZONE);
    c.node_taints_policy = Some(InclusionPolicy::Honor);
    assert_eq!(filter_all(&pl, &s, &spread_pod("p", vec![c.clone()])), Some(vec![OK, OK]));
    // ...unless the pod tolerates it.
    let tolerant = PodBuilder::new("default", "p")
        .label("foo", "")
        .toleration("dedicated", "x", Some(TaintEffect::NoSchedule))
        .with(move |p| p.topology_spread_constraints = vec![c])
        .build();
    assert_eq!(filter_all(&pl, &s, &tolerant), Some(vec![SKEW, OK]));
}

#[test]
fn match_label_keys_narrow_the_selector() {
    let mut s = zones_ab();
    for (name, hash, node) in [("old1", "v1", "node-a"), ("old2", "v1", "node-b"), ("new1", "v2", "node-x")] {
        place(
            &mut s,
            PodBuilder::new("default", name).label("app", "web").label("pod-template-hash", hash).build(),
            node,
        );
    }
    let mut c = constraint(1, Sym::ZONE, WhenUnsatisfiable::DoNotSchedule, Some(sel(&[("app", "web")])));
    let pod = |c: TopologySpreadConstraint| {
        PodBuilder::new("default", "p")
            .label("app", "web")
            .label("pod-template-hash", "v2")
            .with(move |p| p.topology_spread_constraints = vec![c])
            .build()
    };
    let pl = PodTopologySpread::default();
    // Without matchLabelKeys: zone1 2, zone2 1 → zone1 2+1−1 = 2 > 1.
    assert_eq!(filter_all(&pl, &s, &pod(c.clone())), Some(vec![SKEW, SKEW, OK, OK]));
    // Only v2 pods count: zone1 0, zone2 1 → zone2 1+1−0 = 2 > 1.
    c.match_label_keys = vec![Sym::new("pod-template-hash")];
    assert_eq!(filter_all(&pl, &s, &pod(c)), Some(vec![OK, OK, SKEW, SKEW]));
}

#[test]
fn add_and_remove_pod_update_counts_and_minimum() {
    let mut s = zones_ab();
    fill(&mut s, &[1, 0, 1, 0]);
    let p = spread_pod("p", vec![hard(1, Sym::ZONE)]);
    let pl = PodTopologySpread::default();
    let cx = PodCx { pod: &p, snapshot: &s };
    let mut st = PluginState::default();
    assert!(pl.pre_filter(cx, &mut st).status.is_success());
    let a = s.node_by_name(Sym::new("node-a")).unwrap();
    let x = s.node_by_name(Sym::new("node-x")).unwrap();
    assert!(pl.filter(cx, &st, a).is_success());
    // A nominated pod in zone1: zone1 2, zone2 1 → zone1 fails.
    let mut with = st.clone();
    pl.add_pod(cx, &mut with, &foo_pod("nominated"), a);
    assert_eq!(pl.filter(cx, &with, a).code, SKEW);
    assert!(pl.filter(cx, &with, x).is_success());
    assert!(pl.filter(cx, &st, a).is_success(), "the original state is untouched");
    // Removing the zone2 pod lowers the minimum to 0: zone1 2 + 1 − 0 > 1 still, zone2 fine.
    pl.remove_pod(cx, &mut with, &foo_pod("gone"), x);
    assert_eq!(pl.filter(cx, &with, a).code, SKEW);
    // Pods of other namespaces or selectors are ignored.
    let mut st2 = st.clone();
    pl.add_pod(cx, &mut st2, &PodBuilder::new("other", "o").label("foo", "").build(), a);
    pl.add_pod(cx, &mut st2, &PodBuilder::new("default", "o").build(), a);
    assert!(pl.filter(cx, &st2, a).is_success());
}

#[test]
fn zone_scores_weight_counts_by_log_of_domains() {
    let mut s = cluster(&[("n1", "a"), ("n2", "a"), ("n3", "b")]);
    fill(&mut s, &[2, 0, 1]);
    let pl = PodTopologySpread::default();
    // 2 zones: weight ln 4 = 1.386…; zone a 2 → 2.77 → 3; zone b 1 → 1.39 → 1.
    // Normalized: max 3, min 1: 100 × (4 − s) / 3.
    let (raw, norm) = score_all(&pl, &s, &spread_pod("p", vec![soft(1, Sym::ZONE)])).unwrap();
    assert_eq!(raw, [3, 3, 1]);
    assert_eq!(norm, [33, 33, 100]);
}

#[test]
fn hostname_scores_count_the_nodes_own_pods() {
    let mut s = cluster(&[("n1", "a"), ("n2", "a"), ("n3", "b")]);
    fill(&mut s, &[2, 0, 1]);
    let pl = PodTopologySpread::default();
    // 3 nodes: weight ln 5 = 1.609…, maxSkew 2 adds 1: n1 4.22 → 4, n2 1, n3 2.61 → 3.
    // Normalized: max 4, min 1: 100 × (5 − s) / 4 = 25, 100, 50.
    let (raw, norm) = score_all(&pl, &s, &spread_pod("p", vec![soft(2, Sym::HOSTNAME)])).unwrap();
    assert_eq!(raw, [4, 1, 3]);
    assert_eq!(norm, [25, 100, 50]);
}

#[test]
fn nodes_missing_keys_are_ignored_in_scoring() {
    let mut s = cluster(&[("n1", "a"), ("n2", ""), ("n3", "b")]);
    fill(&mut s, &[1, 3, 0]);
    let pl = PodTopologySpread::default();
    // n2 is ignored (0) and its pods are not counted; 2 domains among n1, n3: ln 4.
    // n1: 1.386 → 1; n3: 0 → 0. max 1, min 0: n1 100 × 0 / 1 = 0, n3 100.
    let (raw, norm) = score_all(&pl, &s, &spread_pod("p", vec![soft(1, Sym::ZONE)])).unwrap();
    assert_eq!(raw, [1, 0, 0]);
    assert_eq!(norm, [0, 0, 100]);
}

#[test]
fn all_zero_scores_normalize_to_100() {
    let s = cluster(&[("n1", "a"), ("n2", "b")]);
    let pl = PodTopologySpread::default();
    let (raw, norm) = score_all(&pl, &s, &spread_pod("p", vec![soft(1, Sym::ZONE)])).unwrap();
    assert_eq!(raw, [0, 0]);
    assert_eq!(norm, [100, 100]);
}

fn replica_set_pod(name: &str) -> Pod {
    PodBuilder::new("default", name)
        .label("app", "web")
        .with(|p| {
            p.owner = Some(OwnerRef { kind: Sym::new("ReplicaSet"), name: Sym::new("web-rs"), uid: Sym::new("u1") })
        })
        .build()
}

#[test]
fn system_default_constraints_follow_owning_workloads() {
    let mut s = cluster(&[("n1", "a"), ("n2", "a"), ("n3", "")]);
    let pl = PodTopologySpread::default();
    place(&mut s, replica_set_pod("w1"), "n1");
    place(&mut s, replica_set_pod("w2"), "n1");
    // No selecting workload: no default constraints, PreScore skips.
    assert_eq!(score_all(&pl, &s, &replica_set_pod("p")), None);
    s.set_workload_selectors(vec![WorkloadSelector {
        kind: WorkloadKind::ReplicaSet,
        namespace: Sym::new("default"),
        name: Sym::new("web-rs"),
        selector: sel(&[("app", "web")]),
    }]);
    // hostname skew 3 (weight ln(3 + 2), all three nodes scored), zone skew 5 (domains a and
    // "" for n3, which lacks the label but is not ignored: weight ln 4).
    // n1: 2 × 1.609 + 2 + 2 × 1.386 + 4 = 11.99 → 12; n2: 0 + 2 + 2.77 + 4 = 8.77 → 9;
    // n3: hostname only: 0 + 2 = 2. max 12, min 2: 100 × (14 − s) / 12.
    assert_eq!(score_all(&pl, &s, &replica_set_pod("p")), Some((vec![12, 9, 2], vec![16, 41, 100])));
    // The defaults never filter.
    assert_eq!(filter_all(&pl, &s, &replica_set_pod("p")), None);
    // defaultingType: List with no constraints: nothing.
    let list = PodTopologySpread { default_constraints: vec![], system_defaulted: false };
    assert_eq!(score_all(&list, &s, &replica_set_pod("p")), None);
}

#[test]
fn default_selector_merges_services_and_controller() {
    let mut s = cluster(&[("n1", "a")]);
    let svc = |name: &str, pairs: &[(&str, &str)]| WorkloadSelector {
        kind: WorkloadKind::Service,
        namespace: Sym::new("default"),
        name: Sym::new(name),
        selector: sel(pairs),
    };
    s.set_workload_selectors(vec![
        svc("web", &[("app", "web")]),
        svc("other", &[("app", "db")]),
        WorkloadSelector {
            kind: WorkloadKind::ReplicaSet,
            namespace: Sym::new("default"),
            name: Sym::new("web-rs"),
            selector: LabelSelector {
                requirements: vec![
                    LabelRequirement::new(Sym::new("tier"), LabelOp::In, smallvec![Sym::new("front")]).unwrap(),
                ],
            },
        },
    ]);
    let mut p = replica_set_pod("p");
    p.labels.insert(Sym::new("tier"), Sym::new("front"));
    let got = default_selector(&p, &s).unwrap();
    let want = sel(&[("app", "web")]);
    assert!(got.requirements.contains(&want.requirements[0]));
    assert_eq!(got.requirements.len(), 2, "service app=web and the ReplicaSet's tier In (front)");
    // A pod nothing selects gets no default selector.
    assert_eq!(default_selector(&PodBuilder::new("default", "lonely").build(), &s), None);
}

#[test]
fn list_default_constraints_can_filter() {
    let mut s = zones_ab();
    s.set_workload_selectors(vec![WorkloadSelector {
        kind: WorkloadKind::Service,
        namespace: Sym::new("default"),
        name: Sym::new("svc"),
        selector: sel(&[("foo", "")]),
    }]);
    fill(&mut s, &[2, 0, 0, 0]);
    let pl = PodTopologySpread {
        default_constraints: vec![constraint(1, Sym::ZONE, WhenUnsatisfiable::DoNotSchedule, None)],
        system_defaulted: false,
    };
    assert_eq!(filter_all(&pl, &s, &foo_pod("p")), Some(vec![SKEW, SKEW, OK, OK]));
}

/// One case of kube-scheduler's `TestPodTopologySpreadScore`.
struct KubeCase<'a> {
    name: &'a str,
    /// Candidate nodes `(name, labels)`, then nodes that exist but failed filtering.
    nodes: &'a [(&'a str, &'a [(&'a str, &'a str)])],
    failed: &'a [(&'a str, &'a [(&'a str, &'a str)])],
    /// Existing pods `(node, labels)`; a `ns1` label puts the pod in namespace ns1, `terminating`
    /// marks it terminating.
    pods: &'a [(&'a str, &'a [&'a str])],
    /// The incoming pod's labels and constraints `(maxSkew, key, selector label)`; `None`
    /// constraints mean system defaulting with a Service selecting `foo`.
    labels: &'a [&'a str],
    constraints: Option<&'a [(i32, &'a str, Option<&'a str>)]>,
    want: &'a [i64],
}

const H: &str = "kubernetes.io/hostname";

fn run_kube_case(c: &KubeCase<'_>) {
    let mut s = Snapshot::new();
    for &(name, labels) in c.nodes.iter().chain(c.failed) {
        let mut n = NodeBuilder::new(name).build();
        n.labels = labels.iter().map(|&(k, v)| (k, v)).collect();
        s.add_node(n);
    }
    for (i, &(node, labels)) in c.pods.iter().enumerate() {
        let ns = if labels.contains(&"ns1") { "ns1" } else { "default" };
        let mut p = PodBuilder::new(ns, &format!("existing-{i}")).build();
        for &l in labels.iter().filter(|&&l| l != "ns1" && l != "terminating") {
            p.labels.insert(Sym::new(l), Sym::EMPTY);
        }
        p.terminating = labels.contains(&"terminating");
        place(&mut s, p, node);
    }
    let mut pod = PodBuilder::new("default", "p").build();
    for &l in c.labels {
        pod.labels.insert(Sym::new(l), Sym::EMPTY);
    }
    let pl = match c.constraints {
        Some(cs) => {
            pod.topology_spread_constraints = cs
                .iter()
                .map(|&(skew, key, sel_label)| {
                    constraint(
                        skew,
                        Sym::new(key),
                        WhenUnsatisfiable::ScheduleAnyway,
                        sel_label.map(|l| sel(&[(l, "")])),
                    )
                })
                .collect();
            PodTopologySpread { default_constraints: vec![], system_defaulted: false }
        }
        None => {
            s.set_workload_selectors(vec![WorkloadSelector {
                kind: WorkloadKind::Service,
                namespace: Sym::new("default"),
                name: Sym::new("svc"),
                selector: sel(&[("foo", "")]),
            }]);
            PodTopologySpread::default()
        }
    };
    let cx = PodCx { pod: &pod, snapshot: &s };
    let feasible: Vec<&NodeInfo> = c.nodes.iter().map(|&(n, _)| s.node_by_name(Sym::new(n)).unwrap()).collect();
    let mut st = PluginState::default();
    assert!(!pl.pre_score(cx, &mut st, &feasible).is_skip(), "{}", c.name);
    let mut scores: Vec<i64> = feasible.iter().map(|n| pl.score(cx, &st, n)).collect();
    pl.normalize_scores(cx, &st, &feasible, &mut scores);
    assert_eq!(scores, c.want, "{}", c.name);
}

#[test]
fn kube_scheduler_score_cases() {
    let four: &[(&str, &[(&str, &str)])] = &[
        ("node-a", &[(H, "node-a")]),
        ("node-b", &[(H, "node-b")]),
        ("node-c", &[(H, "node-c")]),
        ("node-d", &[(H, "node-d")]),
    ];
    let zoned: &[(&str, &[(&str, &str)])] = &[
        ("node-a", &[("zone", "zone1"), (H, "node-a")]),
        ("node-b", &[("zone", "zone1"), (H, "node-b")]),
        ("node-x", &[("zone", "zone2"), (H, "node-x")]),
        ("node-y", &[("zone", "zone2"), (H, "node-y")]),
    ];
    let foo = &["foo"][..];
    let spread_2103: &[(&str, &[&str])] =
        &[("node-a", foo), ("node-a", foo), ("node-b", foo), ("node-d", foo), ("node-d", foo), ("node-d", foo)];
    let spread_4321: &[(&str, &[&str])] = &[
        ("node-a", foo),
        ("node-a", foo),
        ("node-a", foo),
        ("node-a", foo),
        ("node-b", foo),
        ("node-b", foo),
        ("node-b", foo),
        ("node-c", foo),
        ("node-c", foo),
        ("node-d", foo),
    ];
    let spread_4213: &[(&str, &[&str])] = &[
        ("node-a", foo),
        ("node-a", foo),
        ("node-a", foo),
        ("node-a", foo),
        ("node-b", foo),
        ("node-b", foo),
        ("node-x", foo),
        ("node-y", foo),
        ("node-y", foo),
        ("node-y", foo),
    ];
    let cases = [
        KubeCase {
            name: "one constraint on node, no existing pods",
            nodes: &four[..2],
            failed: &[],
            pods: &[],
            labels: foo,
            constraints: Some(&[(1, H, Some("foo"))]),
            want: &[100, 100],
        },
        KubeCase {
            name: "one constraint on node, only one node is candidate",
            nodes: &four[..1],
            failed: &four[1..2],
            pods: &[("node-a", foo), ("node-a", foo), ("node-b", foo)],
            labels: foo,
            constraints: Some(&[(1, H, Some("foo"))]),
            want: &[100],
        },
        KubeCase {
            name: "one constraint on node, all 4 nodes are candidates",
            nodes: four,
            failed: &[],
            pods: spread_2103,
            labels: foo,
            constraints: Some(&[(1, H, Some("foo"))]),
            want: &[20, 60, 100, 0],
        },
        KubeCase {
            name: "one constraint on node, null selector",
            nodes: four,
            failed: &[],
            pods: spread_2103,
            labels: foo,
            constraints: Some(&[(1, H, None)]),
            want: &[100, 100, 100, 100],
        },
        KubeCase {
            name: "one constraint on node, all 4 nodes are candidates, maxSkew=2",
            nodes: four,
            failed: &[],
            pods: spread_2103,
            labels: foo,
            constraints: Some(&[(2, H, Some("foo"))]),
            want: &[33, 66, 100, 16],
        },
        KubeCase {
            name: "one constraint on node, all 4 nodes are candidates, maxSkew=3",
            nodes: four,
            failed: &[],
            pods: spread_4321,
            labels: foo,
            constraints: Some(&[(3, H, Some("foo"))]),
            want: &[44, 66, 77, 100],
        },
        KubeCase {
            name: "system defaulting, nodes don't have zone, pods match service",
            nodes: four,
            failed: &[],
            pods: spread_4321,
            labels: foo,
            constraints: None,
            want: &[44, 66, 77, 100],
        },
        KubeCase {
            name: "one constraint on node, 3 out of 4 nodes are candidates",
            nodes: &[("node-a", &[(H, "node-a")]), ("node-b", &[(H, "node-b")]), ("node-x", &[(H, "node-x")])],
            failed: &[("node-y", &[(H, "node-y")])],
            pods: spread_4213,
            labels: foo,
            constraints: Some(&[(1, H, Some("foo"))]),
            want: &[33, 83, 100],
        },
        KubeCase {
            name: "one constraint on node, 3 out of 4 nodes are candidates, one node doesn't match topology key",
            nodes: &[("node-a", &[(H, "node-a")]), ("node-b", &[("n", "node-b")]), ("node-x", &[(H, "node-x")])],
            failed: &[("node-y", &[(H, "node-y")])],
            pods: spread_4213,
            labels: foo,
            constraints: Some(&[(1, H, Some("foo"))]),
            want: &[16, 0, 100],
        },
        KubeCase {
            name: "one constraint on zone, 3 out of 4 nodes are candidates",
            nodes: &zoned[..3],
            failed: &zoned[3..],
            pods: spread_4213,
            labels: foo,
            constraints: Some(&[(1, "zone", Some("foo"))]),
            want: &[75, 75, 100],
        },
        KubeCase {
            name: "two Constraints on zone and node, 2 out of 4 nodes are candidates",
            nodes: &[zoned[0], zoned[2]],
            failed: &[zoned[1], zoned[3]],
            pods: &[
                ("node-a", foo),
                ("node-a", foo),
                ("node-b", foo),
                ("node-x", foo),
                ("node-x", foo),
                ("node-y", foo),
                ("node-y", foo),
                ("node-y", foo),
                ("node-y", foo),
            ],
            labels: foo,
            constraints: Some(&[(1, "zone", Some("foo")), (1, H, Some("foo"))]),
            want: &[100, 63],
        },
        KubeCase {
            name: "two Constraints on zone, 2 out of 4 nodes are candidates",
            nodes: &[("node-a", &[("zone", "zone1")]), ("node-x", &[("zone", "zone2")])],
            failed: &[("node-b", &[("zone", "zone1")]), ("node-y", &[("zone", "zone2")])],
            pods: &[
                ("node-a", &["foo", "bar"]),
                ("node-a", foo),
                ("node-b", &["foo", "bar"]),
                ("node-y", foo),
                ("node-y", &["foo", "bar"]),
                ("node-y", foo),
            ],
            labels: &["foo", "bar"],
            constraints: Some(&[(1, "zone", Some("foo")), (1, "zone", Some("bar"))]),
            want: &[85, 100],
        },
        KubeCase {
            name: "two Constraints on zone and node, with different labelSelectors",
            nodes: zoned,
            failed: &[],
            pods: &[("node-a", foo), ("node-b", &["foo", "bar"]), ("node-y", foo), ("node-y", &["bar"])],
            labels: &["foo", "bar"],
            constraints: Some(&[(1, "zone", Some("foo")), (1, H, Some("bar"))]),
            want: &[60, 20, 100, 60],
        },
        KubeCase {
            name: "two Constraints on zone and node, with different labelSelectors, some nodes have 0 pods",
            nodes: zoned,
            failed: &[],
            pods: &[("node-b", &["bar"]), ("node-x", foo), ("node-y", &["foo", "bar"])],
            labels: &["foo", "bar"],
            constraints: Some(&[(1, "zone", Some("foo")), (1, H, Some("bar"))]),
            want: &[100, 60, 40, 0],
        },
        KubeCase {
            name: "two Constraints on zone and node, with different labelSelectors, 3 out of 4 nodes are candidates",
            nodes: &zoned[..3],
            failed: &zoned[3..],
            pods: &[("node-a", foo), ("node-b", &["foo", "bar"]), ("node-y", foo), ("node-y", &["bar"])],
            labels: &["foo", "bar"],
            constraints: Some(&[(1, "zone", Some("foo")), (1, H, Some("bar"))]),
            want: &[50, 25, 100],
        },
        KubeCase {
            name: "existing pods in a different namespace do not count",
            nodes: &four[..2],
            failed: &[],
            pods: &[("node-a", &["foo", "ns1"]), ("node-a", foo), ("node-b", foo), ("node-b", foo)],
            labels: foo,
            constraints: Some(&[(1, H, Some("foo"))]),
            want: &[100, 33],
        },
        KubeCase {
            name: "terminating Pods should be excluded",
            nodes: &four[..2],
            failed: &[],
            pods: &[("node-a", &["foo", "terminating"]), ("node-b", foo)],
            labels: foo,
            constraints: Some(&[(1, H, Some("foo"))]),
            want: &[100, 0],
        },
    ];
    for c in &cases {
        run_kube_case(c);
    }
}

// ---------------------------------------------------------------------------------------------
// Randomized: indexed plugin vs. literal port, and index vs. recomputation
// ---------------------------------------------------------------------------------------------

struct Gen(Rng);

impl Gen {
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.0.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.0.below(100) < percent
    }

    fn constraint(&mut self) -> TopologySpreadConstraint {
        let key = self.pick(&[Sym::HOSTNAME, Sym::ZONE, Sym::new("rack")]);
        let when = if self.chance(50) { WhenUnsatisfiable::DoNotSchedule } else { WhenUnsatisfiable::ScheduleAnyway };
        let selector = match self.0.below(8) {
            0 => None,
            1 => Some(LabelSelector::everything()),
            2 => Some(sel(&[("app", self.pick(&["a", "b"])), ("tier", "x")])),
            _ => Some(sel(&[("app", self.pick(&["a", "b", "c"]))])),
        };
        let mut c = constraint(1 + self.0.below(3) as i32, key, when, selector);
        if self.chance(25) {
            c.min_domains = Some(1 + self.0.below(4) as i32);
        }
        if self.chance(25) {
            c.node_affinity_policy = Some(self.pick(&[InclusionPolicy::Honor, InclusionPolicy::Ignore]));
        }
        if self.chance(25) {
            c.node_taints_policy = Some(self.pick(&[InclusionPolicy::Honor, InclusionPolicy::Ignore]));
        }
        if self.chance(20) {
            c.match_label_keys = vec![Sym::new("tier")];
        }
        c
    }

    fn pod(&mut self, name: &str, with_constraints: bool) -> Pod {
        let mut b = PodBuilder::new(self.pick(&["ns1", "ns2"]), name).label("app", self.pick(&["a", "b", "c"]));
        if self.chance(50) {
            b = b.label("tier", self.pick(&["x", "y"]));
        }
        if self.chance(20) {
            b = b.node_selector("topology.kubernetes.io/zone", self.pick(&["z1", "z2"]));
        }
        if self.chance(30) {
            b = b.toleration("dedicated", "", Some(TaintEffect::NoSchedule));
        }
        if self.chance(30) {
            b = b.with(|p| {
                p.owner = Some(OwnerRef { kind: Sym::new("ReplicaSet"), name: Sym::new("rs"), uid: Sym::new("u") })
            });
        }
        let mut p = b.build();
        if with_constraints {
            let n = self.0.below(3) as usize;
            p.topology_spread_constraints = (0..n).map(|_| self.constraint()).collect();
        }
        p.terminating = self.chance(10);
        p
    }
}

fn random_cluster(g: &mut Gen) -> Snapshot {
    let mut s = Snapshot::new();
    // Sometimes two nodes share a hostname label (the hostname is then a two-node domain).
    let shared_hostname = g.chance(30);
    for i in 0..8 {
        let mut b = NodeBuilder::new(&format!("n{i}"));
        if shared_hostname && i == 7 {
            b = b.label("kubernetes.io/hostname", "n6");
        }
        if g.chance(85) {
            b = b.zone(g.pick(&["z1", "z2", "z3"]));
        }
        if g.chance(70) {
            b = b.label("rack", g.pick(&["r1", "r2"]));
        }
        if g.chance(20) {
            b = b.taint("dedicated", "x", TaintEffect::NoSchedule);
        }
        s.add_node(b.build());
    }
    let svc = |ns: &str, app: &str| WorkloadSelector {
        kind: WorkloadKind::Service,
        namespace: Sym::new(ns),
        name: Sym::new(app),
        selector: sel(&[("app", app)]),
    };
    s.set_workload_selectors(vec![
        svc("ns1", "a"),
        svc("ns2", "b"),
        WorkloadSelector {
            kind: WorkloadKind::ReplicaSet,
            namespace: Sym::new("ns1"),
            name: Sym::new("rs"),
            selector: sel(&[("tier", "x")]),
        },
    ]);
    s
}

fn check_against_reference(pl: &PodTopologySpread, s: &Snapshot, p: &Pod, g: &mut Gen) {
    let cx = PodCx { pod: p, snapshot: s };
    let mut st = PluginState::default();
    let skip = pl.pre_filter(cx, &mut st).status.is_skip();
    let reference = reference::pre_filter(pl, s, p);
    assert_eq!(skip, reference.is_none(), "PreFilter skip differs for {p:?}");
    if let Some(mut r) = reference {
        for n in s.nodes() {
            assert_eq!(pl.filter(cx, &st, n), r.filter(p, n), "Filter on {} for {p:?}", n.name());
        }
        // AddPod/RemovePod on one node (what nominated pods and preemption do).
        let node = s.node(s.order()[g.0.below(s.order().len() as u64) as usize]);
        for k in 0..3 {
            let mut other = g.pod(&format!("extra{k}"), false);
            other.namespace = p.namespace;
            let d = if k == 1 { -1 } else { 1 };
            if d > 0 {
                pl.add_pod(cx, &mut st, &other, node);
            } else {
                pl.remove_pod(cx, &mut st, &other, node);
            }
            r.update_with_pod(p, &other, node, d);
            for n in s.nodes() {
                assert_eq!(pl.filter(cx, &st, n), r.filter(p, n), "Filter after AddPod/RemovePod on {}", n.name());
            }
        }
    }
    // Score over a random subset of nodes (the feasible ones).
    let nodes: Vec<&NodeInfo> = s.nodes().filter(|_| g.chance(80)).collect();
    if nodes.is_empty() {
        return;
    }
    let mut st = PluginState::default();
    let skip = pl.pre_score(cx, &mut st, &nodes).is_skip();
    let reference = reference::scores(pl, s, p, &nodes);
    assert_eq!(skip, reference.is_none(), "PreScore skip differs for {p:?}");
    if let Some((raw, norm)) = reference {
        let fast: Vec<i64> = nodes.iter().map(|n| pl.score(cx, &st, n)).collect();
        let mut batch = vec![0; nodes.len()];
        pl.score_nodes(cx, &st, &nodes, &mut batch);
        assert_eq!(batch, fast, "score_nodes agrees with score");
        assert_eq!(fast, raw, "raw scores for {p:?}");
        let mut fast_n = fast;
        pl.normalize_scores(cx, &st, &nodes, &mut fast_n);
        assert_eq!(fast_n, norm);
    }
}

#[test]
fn randomized_clusters_match_the_reference_algorithm() {
    for seed in 0..300u64 {
        let mut g = Gen(Rng::new(seed));
        let mut s = random_cluster(&mut g);
        let pl = if g.chance(70) {
            PodTopologySpread::default()
        } else {
            PodTopologySpread {
                default_constraints: vec![
                    constraint(2, Sym::ZONE, WhenUnsatisfiable::DoNotSchedule, None),
                    constraint(1, Sym::HOSTNAME, WhenUnsatisfiable::ScheduleAnyway, None),
                ],
                system_defaulted: false,
            }
        };
        let mut placed: Vec<PodId> = Vec::new();
        for step in 0..48 {
            if !placed.is_empty() && g.chance(25) {
                let i = g.0.below(placed.len() as u64) as usize;
                s.remove_pod(placed.swap_remove(i));
            } else {
                let p = g.pod(&format!("p{step}"), false);
                let node = s.order()[g.0.below(s.order().len() as u64) as usize];
                placed.push(s.add_pod(Arc::new(p), node));
            }
            if step % 6 == 5 {
                let incoming = g.pod("incoming", true);
                check_against_reference(&pl, &s, &incoming, &mut g);
                s.index().verify().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            }
            if step == 24 {
                let id = s.order()[1];
                let name = s.node(id).name().as_str().to_string();
                s.update_node(id, NodeBuilder::new(&name).zone("z1").build());
            }
        }
    }
}
