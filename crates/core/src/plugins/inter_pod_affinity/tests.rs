//! InterPodAffinity: rules on hand-built clusters (cases after kube-scheduler's
//! `filtering_test.go` and `scoring_test.go`), then randomized clusters checked against a literal
//! port of kube's algorithm (`reference.rs`) and the index against a recomputation.

use super::*;
use crate::builders::{NodeBuilder, PodBuilder};
use crate::framework::{Code, PluginState, PodCx};
use crate::intern::Sym;
use crate::model::{Affinity, Namespace, PodAffinity, PodAffinityTerm, WeightedPodAffinityTerm};
use crate::rng::Rng;
use crate::selector::{LabelOp, LabelRequirement, LabelSelector};
use crate::snapshot::{PodId, Snapshot};
use smallvec::smallvec;

const REGION: &str = "region";

fn sel(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector::from_match_labels(pairs.iter().copied())
}

fn term(pairs: &[(&str, &str)], key: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(sel(pairs)),
        namespaces: vec![],
        namespace_selector: None,
        topology_key: Sym::new(key),
        match_label_keys: vec![],
        mismatch_label_keys: vec![],
    }
}

fn weighted(weight: i32, t: PodAffinityTerm) -> WeightedPodAffinityTerm {
    WeightedPodAffinityTerm { weight, term: t }
}

#[derive(Default)]
struct Terms {
    affinity: Vec<PodAffinityTerm>,
    anti: Vec<PodAffinityTerm>,
    pref_affinity: Vec<WeightedPodAffinityTerm>,
    pref_anti: Vec<WeightedPodAffinityTerm>,
}

impl Terms {
    fn affinity(self) -> Affinity {
        let pa = |req: Vec<PodAffinityTerm>, pref: Vec<WeightedPodAffinityTerm>| {
            (!req.is_empty() || !pref.is_empty()).then_some(PodAffinity { required: req, preferred: pref })
        };
        Affinity {
            node_affinity: None,
            pod_affinity: pa(self.affinity, self.pref_affinity),
            pod_anti_affinity: pa(self.anti, self.pref_anti),
        }
    }
}

fn pod(ns: &str, name: &str, labels: &[(&str, &str)], terms: Terms) -> Pod {
    let mut b = PodBuilder::new(ns, name);
    for &(k, v) in labels {
        b = b.label(k, v);
    }
    b.affinity(terms.affinity()).build()
}

/// Nodes `(name, region, zone)`; empty values leave the label out.
fn cluster(nodes: &[(&str, &str, &str)]) -> Snapshot {
    let mut s = Snapshot::new();
    for &(name, region, zone) in nodes {
        let mut b = NodeBuilder::new(name);
        if !region.is_empty() {
            b = b.label(REGION, region);
        }
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

/// PreFilter then Filter on every node in insertion order: `None` when PreFilter skips.
fn filter_all(pl: &InterPodAffinity, s: &Snapshot, p: &Pod) -> Option<Vec<(Code, String)>> {
    let cx = PodCx { pod: p, snapshot: s };
    let mut st = PluginState::default();
    if pl.pre_filter(cx, &mut st).status.is_skip() {
        return None;
    }
    Some(
        s.nodes_in_insertion_order()
            .map(|n| {
                let r = pl.filter(cx, &st, n);
                (r.code, r.message())
            })
            .collect(),
    )
}

fn ok() -> (Code, String) {
    (Code::Success, String::new())
}
fn aff() -> (Code, String) {
    (Code::UnschedulableAndUnresolvable, ERR_REASON_AFFINITY.into())
}
fn anti() -> (Code, String) {
    (Code::Unschedulable, ERR_REASON_ANTI_AFFINITY.into())
}
fn existing() -> (Code, String) {
    (Code::Unschedulable, ERR_REASON_EXISTING_ANTI_AFFINITY.into())
}

/// PreScore, Score and NormalizeScore over all nodes: `(raw, normalized)`, `None` on Skip.
fn score_all(pl: &InterPodAffinity, s: &Snapshot, p: &Pod) -> Option<(Vec<i64>, Vec<i64>)> {
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

fn three_nodes() -> Snapshot {
    cluster(&[("n1", "r1", "z1"), ("n2", "r1", "z2"), ("n3", "r2", "z3")])
}

#[test]
fn no_terms_and_no_matching_anti_affinity_skips() {
    let mut s = three_nodes();
    place(&mut s, pod("default", "e", &[("app", "db")], Terms::default()), "n1");
    let p = pod("default", "p", &[("app", "web")], Terms::default());
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), None);
}

#[test]
fn required_affinity_counts_the_terms_topology_domain() {
    // "satisfies with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using In
    // operator that matches the existing pod".
    let mut s = three_nodes();
    place(&mut s, pod("default", "e", &[("service", "securityscan")], Terms::default()), "n1");
    let mut t = term(&[], REGION);
    t.label_selector = Some(LabelSelector {
        requirements: vec![
            LabelRequirement::new(
                Sym::new("service"),
                LabelOp::In,
                smallvec![Sym::new("securityscan"), Sym::new("value2")],
            )
            .unwrap(),
        ],
    });
    let p = pod("default", "p", &[], Terms { affinity: vec![t], ..Default::default() });
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), Some(vec![ok(), ok(), aff()]));
}

#[test]
fn affinity_terms_of_another_namespace_do_not_match() {
    let mut s = three_nodes();
    place(&mut s, pod("default", "e", &[("service", "securityscan")], Terms::default()), "n1");
    let mut t = term(&[("service", "securityscan")], REGION);
    t.namespaces = vec![Sym::new("DiffNameSpace")];
    let p = pod("default", "p", &[("service", "securityscan")], Terms { affinity: vec![t], ..Default::default() });
    // No pod in DiffNameSpace matches, and the pod itself is not in DiffNameSpace.
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), Some(vec![aff(), aff(), aff()]));
}

#[test]
fn first_pod_of_a_group_may_schedule_where_the_keys_exist() {
    let s = cluster(&[("n1", "r1", "z1"), ("n2", "", "z2")]);
    let t = term(&[("app", "web")], REGION);
    let p = pod("default", "p", &[("app", "web")], Terms { affinity: vec![t.clone()], ..Default::default() });
    // Nothing matches anywhere and the pod matches its own term: any node with the key.
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), Some(vec![ok(), aff()]));
    // A pod that does not match its own term gets no such pass.
    let other = pod("default", "q", &[("app", "api")], Terms { affinity: vec![t], ..Default::default() });
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &other), Some(vec![aff(), aff()]));
}

#[test]
fn first_pod_rule_does_not_apply_once_a_match_exists() {
    let mut s = three_nodes();
    place(&mut s, pod("default", "e", &[("app", "web")], Terms::default()), "n3");
    let t = term(&[("app", "web")], REGION);
    let p = pod("default", "p", &[("app", "web")], Terms { affinity: vec![t], ..Default::default() });
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), Some(vec![aff(), aff(), ok()]));
}

#[test]
fn all_affinity_terms_must_match_the_same_pod() {
    // "Test incoming pod's affinity: firstly check if all affinityTerms match, and then check if
    // all topologyKeys match, and the match logic should be satisfied on the same pod".
    let mut s = three_nodes();
    place(&mut s, pod("default", "a", &[("app", "a")], Terms::default()), "n1");
    place(&mut s, pod("default", "b", &[("tier", "t")], Terms::default()), "n1");
    let terms = vec![term(&[("app", "a")], REGION), term(&[("tier", "t")], Sym::ZONE.as_str())];
    let p = pod("default", "p", &[("app", "x")], Terms { affinity: terms.clone(), ..Default::default() });
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), Some(vec![aff(), aff(), aff()]));
    // One pod matching both terms on n1: region r1 and zone z1 are both required, so only n1.
    place(&mut s, pod("default", "ab", &[("app", "a"), ("tier", "t")], Terms::default()), "n1");
    let p = pod("default", "p", &[], Terms { affinity: terms, ..Default::default() });
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), Some(vec![ok(), aff(), aff()]));
}

#[test]
fn required_anti_affinity_blocks_the_domain() {
    let mut s = cluster(&[("n1", "r1", "z1"), ("n2", "r1", "z1"), ("n3", "r1", "z2"), ("n4", "r1", "")]);
    place(&mut s, pod("default", "db", &[("app", "db")], Terms::default()), "n1");
    let host = pod(
        "default",
        "p",
        &[],
        Terms { anti: vec![term(&[("app", "db")], "kubernetes.io/hostname")], ..Default::default() },
    );
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &host), Some(vec![anti(), ok(), ok(), ok()]));
    let zone = pod(
        "default",
        "p",
        &[],
        Terms { anti: vec![term(&[("app", "db")], Sym::ZONE.as_str())], ..Default::default() },
    );
    // A node without the zone label is not in the pod's zone.
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &zone), Some(vec![anti(), anti(), ok(), ok()]));
}

#[test]
fn existing_pods_anti_affinity_is_symmetric() {
    let mut s = three_nodes();
    let e = pod("default", "e", &[], Terms { anti: vec![term(&[("app", "web")], REGION)], ..Default::default() });
    place(&mut s, e, "n1");
    let web = pod("default", "web", &[("app", "web")], Terms::default());
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &web), Some(vec![existing(), existing(), ok()]));
    // The existing pod's term defaults to its own namespace: a pod elsewhere is not selected.
    let other_ns = pod("other", "web", &[("app", "web")], Terms::default());
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &other_ns), None);
    // Anti-affinity of the incoming pod is checked before the existing pods'.
    let both = pod(
        "default",
        "both",
        &[("app", "web")],
        Terms { anti: vec![term(&[("app", "web")], "kubernetes.io/hostname")], ..Default::default() },
    );
    place(&mut s, pod("default", "w2", &[("app", "web")], Terms::default()), "n1");
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &both), Some(vec![anti(), existing(), ok()]));
}

#[test]
fn namespace_selectors_use_namespace_labels() {
    let mut s = three_nodes();
    let labelled = |name: &str, team: &str| Namespace {
        name: Sym::new(name),
        labels: [("team", team), ("kubernetes.io/metadata.name", name)].into_iter().collect(),
    };
    s.add_namespace(labelled("blue-ns", "blue"));
    s.add_namespace(labelled("red-ns", "red"));
    place(&mut s, pod("red-ns", "r", &[("app", "db")], Terms::default()), "n1");
    place(&mut s, pod("blue-ns", "b", &[("app", "db")], Terms::default()), "n3");
    let mut t = term(&[("app", "db")], REGION);
    t.namespace_selector = Some(sel(&[("team", "blue")]));
    let p = pod("default", "p", &[], Terms { affinity: vec![t.clone()], ..Default::default() });
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), Some(vec![aff(), aff(), ok()]));
    // An empty selector selects every namespace.
    t.namespace_selector = Some(LabelSelector::everything());
    let p = pod("default", "p", &[], Terms { affinity: vec![t.clone()], ..Default::default() });
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), Some(vec![ok(), ok(), ok()]));
    // namespaces ∪ selector.
    t.namespace_selector = Some(sel(&[("team", "blue")]));
    t.namespaces = vec![Sym::new("red-ns")];
    let p = pod("default", "p", &[], Terms { anti: vec![t], ..Default::default() });
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), Some(vec![anti(), anti(), anti()]));
    // An existing pod's selector is matched against the incoming pod's namespace labels.
    let mut et = term(&[("app", "web")], REGION);
    et.namespace_selector = Some(sel(&[("team", "red")]));
    place(&mut s, pod("default", "guard", &[], Terms { anti: vec![et], ..Default::default() }), "n3");
    let red_web = pod("red-ns", "w", &[("app", "web")], Terms::default());
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &red_web), Some(vec![ok(), ok(), existing()]));
    let blue_web = pod("blue-ns", "w", &[("app", "web")], Terms::default());
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &blue_web), None);
}

#[test]
fn nil_selectors_match_nothing_and_terminating_pods_still_count() {
    let mut s = three_nodes();
    let mut nil = term(&[], REGION);
    nil.label_selector = None;
    place(&mut s, pod("default", "e", &[("app", "db")], Terms::default()), "n1");
    let p = pod("default", "p", &[], Terms { anti: vec![nil], ..Default::default() });
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), Some(vec![ok(), ok(), ok()]));
    // InterPodAffinity has no notion of terminating pods: they keep blocking.
    let mut dying = pod("default", "dying", &[("app", "cache")], Terms::default());
    dying.terminating = true;
    place(&mut s, dying, "n3");
    let p = pod("default", "p", &[], Terms { anti: vec![term(&[("app", "cache")], REGION)], ..Default::default() });
    assert_eq!(filter_all(&InterPodAffinity::default(), &s, &p), Some(vec![ok(), ok(), anti()]));
}

#[test]
fn add_and_remove_pod_update_the_cycle_state() {
    let mut s = three_nodes();
    let e = place(&mut s, pod("default", "e", &[("app", "db")], Terms::default()), "n1");
    let p = pod(
        "default",
        "p",
        &[("app", "web")],
        Terms { anti: vec![term(&[("app", "db")], REGION)], ..Default::default() },
    );
    let pl = InterPodAffinity::default();
    let cx = PodCx { pod: &p, snapshot: &s };
    let mut st = PluginState::default();
    assert!(pl.pre_filter(cx, &mut st).status.is_success());
    let n1 = s.node_by_name(Sym::new("n1")).unwrap();
    let n3 = s.node_by_name(Sym::new("n3")).unwrap();
    assert_eq!(pl.filter(cx, &st, n1).code, Code::Unschedulable);
    // RemovePod of the db pod (preemption trying a victim) unblocks region r1.
    let db = s.pod(e).pod.clone();
    let mut without = st.clone();
    pl.remove_pod(cx, &mut without, &db, n1);
    assert!(pl.filter(cx, &without, n1).is_success());
    assert!(pl.filter(cx, &st, n1).code == Code::Unschedulable, "the original state is untouched");
    // AddPod of a nominated db pod on n3 blocks region r2; of a pod guarding app=web, symmetric.
    pl.add_pod(cx, &mut without, &db, n3);
    assert_eq!(pl.filter(cx, &without, n3).message(), ERR_REASON_ANTI_AFFINITY);
    let guard = pod("default", "g", &[], Terms { anti: vec![term(&[("app", "web")], REGION)], ..Default::default() });
    pl.add_pod(cx, &mut without, &guard, n1);
    assert_eq!(pl.filter(cx, &without, n1).message(), ERR_REASON_EXISTING_ANTI_AFFINITY);
    pl.remove_pod(cx, &mut without, &guard, n1);
    assert!(pl.filter(cx, &without, n1).is_success());
}

#[test]
fn affinity_add_pod_enables_the_domain() {
    let s = three_nodes();
    let p = pod(
        "default",
        "p",
        &[("app", "api")],
        Terms { affinity: vec![term(&[("app", "db")], REGION)], ..Default::default() },
    );
    let pl = InterPodAffinity::default();
    let cx = PodCx { pod: &p, snapshot: &s };
    let mut st = PluginState::default();
    assert!(pl.pre_filter(cx, &mut st).status.is_success());
    let n2 = s.node_by_name(Sym::new("n2")).unwrap();
    assert_eq!(pl.filter(cx, &st, n2).code, Code::UnschedulableAndUnresolvable);
    let db = pod("default", "db", &[("app", "db")], Terms::default());
    pl.add_pod(cx, &mut st, &db, s.node_by_name(Sym::new("n1")).unwrap());
    assert!(pl.filter(cx, &st, n2).is_success(), "n2 shares region r1 with n1");
    assert!(!pl.filter(cx, &st, s.node_by_name(Sym::new("n3")).unwrap()).is_success());
}

#[test]
fn preferred_terms_score_by_weight_and_normalize() {
    let mut s = three_nodes();
    place(&mut s, pod("default", "w", &[("app", "web")], Terms::default()), "n1");
    place(&mut s, pod("default", "c", &[("app", "cache")], Terms::default()), "n2");
    let p = pod(
        "default",
        "p",
        &[],
        Terms {
            pref_affinity: vec![weighted(5, term(&[("app", "web")], REGION))],
            pref_anti: vec![weighted(3, term(&[("app", "cache")], "kubernetes.io/hostname"))],
            ..Default::default()
        },
    );
    // n1: +5 (region r1); n2: +5 − 3; n3: 0. min 0, max 5.
    let (raw, norm) = score_all(&InterPodAffinity::default(), &s, &p).unwrap();
    assert_eq!(raw, [5, 2, 0]);
    assert_eq!(norm, [100, 40, 0]);
}

#[test]
fn existing_pods_terms_score_the_incoming_pod() {
    let mut s = three_nodes();
    // Existing required affinity to app=web counts hardPodAffinityWeight.
    let e = pod(
        "default",
        "e",
        &[],
        Terms { affinity: vec![term(&[("app", "web")], "kubernetes.io/hostname")], ..Default::default() },
    );
    place(&mut s, e, "n1");
    let web = pod("default", "web", &[("app", "web")], Terms::default());
    assert_eq!(score_all(&InterPodAffinity::default(), &s, &web), Some((vec![1, 0, 0], vec![100, 0, 0])));
    let heavy = InterPodAffinity { hard_pod_affinity_weight: 5, ..Default::default() };
    assert_eq!(score_all(&heavy, &s, &web), Some((vec![5, 0, 0], vec![100, 0, 0])));
    let zero = InterPodAffinity { hard_pod_affinity_weight: 0, ..Default::default() };
    assert_eq!(score_all(&zero, &s, &web), None, "weight 0 ignores required terms: nothing to score");
    // Existing preferred anti-affinity subtracts; preferred affinity adds.
    let repel = pod(
        "default",
        "r",
        &[],
        Terms { pref_anti: vec![weighted(4, term(&[("app", "web")], REGION))], ..Default::default() },
    );
    place(&mut s, repel, "n3");
    assert_eq!(score_all(&zero, &s, &web), Some((vec![0, 0, -4], vec![100, 100, 0])));
    let attract = pod(
        "default",
        "a",
        &[],
        Terms { pref_affinity: vec![weighted(2, term(&[("app", "web")], REGION))], ..Default::default() },
    );
    place(&mut s, attract, "n2");
    // n1: 1 (hard) + 2 (r1); n2: 2; n3: −4. min −4, max 3: (7/7, 6/7, 0) × 100.
    assert_eq!(score_all(&InterPodAffinity::default(), &s, &web), Some((vec![3, 2, -4], vec![100, 85, 0])));
    // ignorePreferredTermsOfExistingPods skips when the incoming pod has no preferred terms.
    let ignore = InterPodAffinity { ignore_preferred_terms_of_existing_pods: true, ..Default::default() };
    assert_eq!(score_all(&ignore, &s, &web), None);
    let web_pref = pod(
        "default",
        "wp",
        &[("app", "web")],
        Terms { pref_affinity: vec![weighted(1, term(&[("app", "none")], REGION))], ..Default::default() },
    );
    // ...but still counts existing pods' terms once the pod has some of its own (weights as above).
    assert_eq!(score_all(&ignore, &s, &web_pref), Some((vec![3, 2, -4], vec![100, 85, 0])));
}

#[test]
fn cancelling_weights_still_normalize_to_zero() {
    let mut s = three_nodes();
    place(&mut s, pod("default", "w", &[("app", "web")], Terms::default()), "n1");
    let p = pod(
        "default",
        "p",
        &[],
        Terms {
            pref_affinity: vec![weighted(2, term(&[("app", "web")], REGION))],
            pref_anti: vec![weighted(2, term(&[("app", "web")], REGION))],
            ..Default::default()
        },
    );
    // The map is not empty (terms matched), so PreScore does not skip; max == min gives 0s.
    assert_eq!(score_all(&InterPodAffinity::default(), &s, &p), Some((vec![0, 0, 0], vec![0, 0, 0])));
}

#[test]
fn normalize_is_min_max_in_float() {
    let mut v = [-2, 3, 7];
    scoring::normalize(&mut v);
    // (5 / 9) × 100 = 55.55… truncated.
    assert_eq!(v, [0, 55, 100]);
    let mut same = [4, 4];
    scoring::normalize(&mut same);
    assert_eq!(same, [0, 0]);
}

#[test]
fn args_parse_and_validate() {
    use std::collections::BTreeMap;
    let map = |pairs: Vec<(&str, ArgValue)>| {
        ArgValue::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>())
    };
    assert_eq!(parse_args(&ArgValue::Null, "args").unwrap(), InterPodAffinity::default());
    let p = parse_args(
        &map(vec![
            ("hardPodAffinityWeight", ArgValue::Int(0)),
            ("ignorePreferredTermsOfExistingPods", ArgValue::Bool(true)),
        ]),
        "args",
    )
    .unwrap();
    assert_eq!(p, InterPodAffinity { hard_pod_affinity_weight: 0, ignore_preferred_terms_of_existing_pods: true });
    let e = parse_args(&map(vec![("hardPodAffinityWeight", ArgValue::Int(101))]), "args").unwrap_err();
    assert_eq!(e.to_string(), "args.hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100]");
    let e = parse_args(&map(vec![("hardPodAffinityWeight", ArgValue::Int(-1))]), "args").unwrap_err();
    assert_eq!(e.to_string(), "args.hardPodAffinityWeight: Invalid value: -1: not in valid range [0, 100]");
    assert!(parse_args(&map(vec![("bogus", ArgValue::Int(1))]), "args").is_err());
}

// ---------------------------------------------------------------------------------------------
// kube-scheduler's TestPreferredAffinity cases
// ---------------------------------------------------------------------------------------------

fn req(key: &str, op: LabelOp, values: &[&str]) -> LabelRequirement {
    LabelRequirement::new(Sym::new(key), op, values.iter().map(|v| Sym::new(v)).collect()).unwrap()
}

fn expr_term(reqs: Vec<LabelRequirement>, key: &str) -> PodAffinityTerm {
    let mut t = term(&[], key);
    t.label_selector = Some(LabelSelector { requirements: reqs });
    t
}

fn security(value: &str, key: &str) -> PodAffinityTerm {
    expr_term(vec![req("security", LabelOp::In, &[value])], key)
}

fn exists_security(key: &str) -> PodAffinityTerm {
    expr_term(vec![req("security", LabelOp::Exists, &[]), req("wrongkey", LabelOp::DoesNotExist, &[])], key)
}

/// `(node, namespace, labels, terms)`.
type ExistingPod = (&'static str, &'static str, &'static [(&'static str, &'static str)], Terms);

struct KubeScoreCase {
    name: &'static str,
    pod_ns: &'static str,
    pod_labels: &'static [(&'static str, &'static str)],
    pod_terms: fn() -> Terms,
    /// `(node, namespace, labels, terms)` of existing pods.
    pods: Vec<ExistingPod>,
    nodes: &'static [(&'static str, &'static [(&'static str, &'static str)])],
    /// `None`: PreScore skips.
    want: Option<&'static [i64]>,
}

fn no_terms() -> Terms {
    Terms::default()
}
fn stay_with_s1_in_region() -> Terms {
    Terms { pref_affinity: vec![weighted(5, security("S1", "region"))], ..Default::default() }
}
fn stay_with_s2_in_region() -> Terms {
    Terms { pref_affinity: vec![weighted(6, security("S2", "region"))], ..Default::default() }
}
fn affinity3() -> Terms {
    Terms {
        pref_affinity: vec![
            weighted(
                8,
                expr_term(
                    vec![req("security", LabelOp::NotIn, &["S1"]), req("security", LabelOp::In, &["S2"])],
                    "region",
                ),
            ),
            weighted(2, exists_security("region")),
        ],
        ..Default::default()
    }
}
fn hard_affinity() -> Terms {
    Terms {
        affinity: vec![
            expr_term(vec![req("security", LabelOp::In, &["S1", "value2"])], "region"),
            exists_security("region"),
        ],
        ..Default::default()
    }
}
fn away_from_s1_in_az() -> Terms {
    Terms { pref_anti: vec![weighted(5, security("S1", "az"))], ..Default::default() }
}
fn away_from_s2_in_az() -> Terms {
    Terms { pref_anti: vec![weighted(5, security("S2", "az"))], ..Default::default() }
}
fn stay_with_s1_away_from_s2() -> Terms {
    Terms {
        pref_affinity: vec![weighted(8, security("S1", "region"))],
        pref_anti: vec![weighted(5, security("S2", "az"))],
        ..Default::default()
    }
}
fn with_ns_selector(mut t: PodAffinityTerm) -> PodAffinityTerm {
    t.namespaces = vec![Sym::new("subteam2.team2")];
    t.namespace_selector = Some(LabelSelector { requirements: vec![req("team", LabelOp::In, &["team1"])] });
    t
}
fn affinity_ns_selector() -> Terms {
    Terms { pref_affinity: vec![weighted(5, with_ns_selector(security("S1", "region")))], ..Default::default() }
}
fn anti_affinity_ns_selector() -> Terms {
    Terms { pref_anti: vec![weighted(5, with_ns_selector(security("S1", "region")))], ..Default::default() }
}

const CHINA: &[(&str, &str)] = &[("region", "China")];
const INDIA: &[(&str, &str)] = &[("region", "India")];
const AZ1: &[(&str, &str)] = &[("az", "az1")];
const AZ2: &[(&str, &str)] = &[("az", "az2")];
const CHINA_AZ1: &[(&str, &str)] = &[("region", "China"), ("az", "az1")];
const S1: &[(&str, &str)] = &[("security", "S1")];
const S2: &[(&str, &str)] = &[("security", "S2")];
const D: &str = "default";

fn kube_score_cases() -> Vec<KubeScoreCase> {
    let three = &[("node1", CHINA), ("node2", INDIA), ("node3", AZ1)][..];
    vec![
        KubeScoreCase {
            name: "all nodes are same priority as Affinity is nil",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: no_terms,
            pods: vec![],
            nodes: &[("node1", CHINA), ("node2", INDIA), ("node3", AZ1)],
            want: None,
        },
        KubeScoreCase {
            name: "Affinity: pod that matches topology key & pods in nodes will get high score",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: stay_with_s1_in_region,
            pods: vec![("node1", D, S1, no_terms()), ("node2", D, S2, no_terms()), ("node3", D, S1, no_terms())],
            nodes: &[("node1", CHINA), ("node2", INDIA), ("node3", AZ1)],
            want: Some(&[100, 0, 0]),
        },
        KubeScoreCase {
            name: "nodes with the same topology value get the same score",
            pod_ns: D,
            pod_labels: &[],
            pod_terms: stay_with_s1_in_region,
            pods: vec![("node1", D, S1, no_terms())],
            nodes: &[("node1", CHINA), ("node2", CHINA_AZ1), ("node3", INDIA)],
            want: Some(&[100, 100, 0]),
        },
        KubeScoreCase {
            name: "Affinity: the region with more matching pods gets the high score",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: stay_with_s2_in_region,
            pods: vec![
                ("node1", D, S2, no_terms()),
                ("node1", D, S2, no_terms()),
                ("node2", D, S2, no_terms()),
                ("node3", D, S2, no_terms()),
                ("node4", D, S2, no_terms()),
                ("node5", D, S2, no_terms()),
            ],
            nodes: &[("node1", CHINA), ("node2", INDIA), ("node3", CHINA), ("node4", CHINA), ("node5", INDIA)],
            want: Some(&[100, 0, 100, 100, 0]),
        },
        KubeScoreCase {
            name: "Affinity: different Label operators and values, including some match failures",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: affinity3,
            pods: vec![("node1", D, S1, no_terms()), ("node2", D, S2, no_terms()), ("node3", D, S1, no_terms())],
            nodes: &[("node1", CHINA), ("node2", INDIA), ("node3", AZ1)],
            want: Some(&[20, 100, 0]),
        },
        KubeScoreCase {
            name: "Affinity symmetry: preferred terms of existing pods",
            pod_ns: D,
            pod_labels: S2,
            pod_terms: no_terms,
            pods: vec![("node1", D, S1, stay_with_s1_in_region()), ("node2", D, S2, stay_with_s2_in_region())],
            nodes: &[("node1", CHINA), ("node2", INDIA), ("node3", AZ1)],
            want: Some(&[0, 100, 0]),
        },
        KubeScoreCase {
            name: "Affinity symmetry with namespace selector",
            pod_ns: "subteam1.team1",
            pod_labels: S1,
            pod_terms: no_terms,
            pods: vec![("node1", D, S1, affinity_ns_selector()), ("node2", D, S2, stay_with_s2_in_region())],
            nodes: &[("node1", CHINA), ("node2", INDIA), ("node3", AZ1)],
            want: Some(&[100, 0, 0]),
        },
        KubeScoreCase {
            name: "AntiAffinity symmetry with namespace selector",
            pod_ns: "subteam1.team1",
            pod_labels: S1,
            pod_terms: no_terms,
            pods: vec![("node1", D, S1, anti_affinity_ns_selector()), ("node2", D, S2, stay_with_s2_in_region())],
            nodes: &[("node1", CHINA), ("node2", INDIA), ("node3", AZ1)],
            want: Some(&[0, 100, 100]),
        },
        KubeScoreCase {
            name: "Affinity symmetry: required terms of existing pods count hardPodAffinityWeight",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: no_terms,
            pods: vec![("node1", D, S1, hard_affinity()), ("node2", D, S2, hard_affinity())],
            nodes: &[("node1", CHINA), ("node2", INDIA), ("node3", AZ1)],
            want: Some(&[100, 100, 0]),
        },
        KubeScoreCase {
            name: "Anti Affinity: pod that does not match existing pods in node will get high score",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: away_from_s1_in_az,
            pods: vec![("node1", D, S1, no_terms()), ("node2", D, S2, no_terms())],
            nodes: &[("node1", AZ1), ("node2", CHINA)],
            want: Some(&[0, 100]),
        },
        KubeScoreCase {
            name: "Anti Affinity: pod that does not match topology key & match the pods in nodes gets higher score",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: away_from_s1_in_az,
            pods: vec![("node1", D, S1, no_terms()), ("node2", D, S1, no_terms())],
            nodes: &[("node1", AZ1), ("node2", CHINA)],
            want: Some(&[0, 100]),
        },
        KubeScoreCase {
            name: "Anti Affinity: the node with more matching pods gets the low score",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: away_from_s1_in_az,
            pods: vec![("node1", D, S1, no_terms()), ("node1", D, S1, no_terms()), ("node2", D, S2, no_terms())],
            nodes: &[("node1", AZ1), ("node2", INDIA)],
            want: Some(&[0, 100]),
        },
        KubeScoreCase {
            name: "Anti Affinity symmetry: the existing pods in node which has anti affinity match will get high score",
            pod_ns: D,
            pod_labels: S2,
            pod_terms: no_terms,
            pods: vec![("node1", D, S1, away_from_s2_in_az()), ("node2", D, S2, away_from_s1_in_az())],
            nodes: &[("node1", AZ1), ("node2", AZ2)],
            want: Some(&[0, 100]),
        },
        KubeScoreCase {
            name: "Affinity and Anti Affinity: preferred terms of both",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: stay_with_s1_away_from_s2,
            pods: vec![("node1", D, S1, no_terms()), ("node2", D, S1, no_terms())],
            nodes: &[("node1", CHINA), ("node2", AZ1)],
            want: Some(&[100, 0]),
        },
        KubeScoreCase {
            name: "Affinity and Anti Affinity: pods of the same service keep together by region, apart by az",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: stay_with_s1_away_from_s2,
            pods: vec![
                ("node1", D, S1, no_terms()),
                ("node1", D, S1, no_terms()),
                ("node2", D, S1, no_terms()),
                ("node3", D, S1, no_terms()),
                ("node3", D, S1, no_terms()),
                ("node4", D, S1, no_terms()),
                ("node5", D, S1, no_terms()),
            ],
            nodes: &[("node1", CHINA_AZ1), ("node2", INDIA), ("node3", CHINA), ("node4", CHINA), ("node5", INDIA)],
            want: Some(&[100, 0, 100, 100, 0]),
        },
        KubeScoreCase {
            name: "Affinity and Anti Affinity and symmetry",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: stay_with_s1_away_from_s2,
            pods: vec![
                ("node1", D, S1, no_terms()),
                ("node2", D, S2, no_terms()),
                ("node3", D, &[], stay_with_s1_away_from_s2()),
                ("node4", D, &[], away_from_s1_in_az()),
            ],
            nodes: &[("node1", CHINA), ("node2", AZ1), ("node3", INDIA), ("node4", AZ2)],
            want: Some(&[100, 0, 100, 0]),
        },
        KubeScoreCase {
            name: "Avoid panic when partial nodes in a topology don't have pods with affinity",
            pod_ns: D,
            pod_labels: S1,
            pod_terms: no_terms,
            pods: vec![("node1", D, S1, no_terms()), ("node2", D, &[], stay_with_s1_away_from_s2())],
            nodes: &[("node1", CHINA), ("node2", CHINA)],
            want: Some(&[0, 0]),
        },
    ]
    .into_iter()
    .chain(std::iter::once(KubeScoreCase {
        name: "three nodes, nothing matches: skip",
        pod_ns: D,
        pod_labels: S2,
        pod_terms: stay_with_s1_in_region,
        pods: vec![],
        nodes: three,
        want: None,
    }))
    .collect()
}

#[test]
fn kube_scheduler_preferred_affinity_cases() {
    for c in kube_score_cases() {
        let mut s = Snapshot::new();
        for (name, team) in [
            ("subteam1.team1", "team1"),
            ("subteam2.team1", "team1"),
            ("subteam1.team2", "team2"),
            ("subteam2.team2", "team2"),
        ] {
            s.add_namespace(Namespace { name: Sym::new(name), labels: [("team", team)].into_iter().collect() });
        }
        for &(name, labels) in c.nodes {
            let mut n = NodeBuilder::new(name).build();
            n.labels = labels.iter().map(|&(k, v)| (k, v)).collect();
            s.add_node(n);
        }
        for (i, (node, ns, labels, terms)) in c.pods.into_iter().enumerate() {
            place(&mut s, pod(ns, &format!("existing-{i}"), labels, terms), node);
        }
        let p = pod(c.pod_ns, "incoming", c.pod_labels, (c.pod_terms)());
        let got = score_all(&InterPodAffinity::default(), &s, &p).map(|(_, norm)| norm);
        assert_eq!(got.as_deref(), c.want, "{}", c.name);
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

    fn selector(&mut self) -> Option<LabelSelector> {
        match self.0.below(10) {
            0 => None,
            1 => Some(LabelSelector::everything()),
            2 => Some(LabelSelector {
                requirements: vec![
                    LabelRequirement::new(Sym::new("app"), LabelOp::NotIn, smallvec![Sym::new(self.pick(&["a", "b"]))])
                        .unwrap(),
                ],
            }),
            3 => Some(LabelSelector {
                requirements: vec![LabelRequirement::new(Sym::new("tier"), LabelOp::Exists, smallvec![]).unwrap()],
            }),
            4 => Some(sel(&[("app", self.pick(&["a", "b", "c"])), ("tier", self.pick(&["x", "y"]))])),
            _ => Some(sel(&[("app", self.pick(&["a", "b", "c"]))])),
        }
    }

    fn term(&mut self) -> PodAffinityTerm {
        let mut t = term(&[], self.pick(&["kubernetes.io/hostname", "topology.kubernetes.io/zone", REGION]));
        t.label_selector = self.selector();
        match self.0.below(6) {
            0 => t.namespaces = vec![Sym::new(self.pick(&["ns1", "ns2"]))],
            1 => t.namespace_selector = Some(LabelSelector::everything()),
            2 => t.namespace_selector = Some(sel(&[("team", self.pick(&["red", "blue"]))])),
            3 => {
                t.namespaces = vec![Sym::new("ns2")];
                t.namespace_selector = Some(sel(&[("team", "red")]));
            }
            _ => {}
        }
        t
    }

    fn terms(&mut self, percent: u64) -> Terms {
        let mut t = Terms::default();
        let n = |g: &mut Gen| if g.chance(percent) { 1 + g.0.below(2) as usize } else { 0 };
        for _ in 0..n(self) {
            t.affinity.push(self.term());
        }
        for _ in 0..n(self) {
            t.anti.push(self.term());
        }
        for _ in 0..n(self) {
            let w = 1 + self.0.below(100) as i32;
            t.pref_affinity.push(weighted(w, self.term()));
        }
        for _ in 0..n(self) {
            let w = 1 + self.0.below(100) as i32;
            t.pref_anti.push(weighted(w, self.term()));
        }
        t
    }

    fn pod(&mut self, name: &str, percent: u64) -> Pod {
        let ns = self.pick(&["ns1", "ns2", "ns3"]);
        let mut labels = vec![("app", self.pick(&["a", "b", "c"]))];
        if self.chance(50) {
            labels.push(("tier", self.pick(&["x", "y"])));
        }
        let terms = self.terms(percent);
        let mut p = pod(ns, name, &labels, terms);
        p.terminating = self.chance(10);
        p
    }
}

fn random_cluster(g: &mut Gen) -> Snapshot {
    let mut s = Snapshot::new();
    s.add_namespace(Namespace {
        name: Sym::new("ns1"),
        labels: [("team", "red"), ("kubernetes.io/metadata.name", "ns1")].into_iter().collect(),
    });
    s.add_namespace(Namespace {
        name: Sym::new("ns2"),
        labels: [("team", "blue"), ("kubernetes.io/metadata.name", "ns2")].into_iter().collect(),
    });
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
            b = b.label(REGION, g.pick(&["r1", "r2"]));
        }
        s.add_node(b.build());
    }
    s
}

fn check_against_reference(pl: &InterPodAffinity, s: &Snapshot, p: &Pod, g: &mut Gen) {
    let cx = PodCx { pod: p, snapshot: s };
    let mut st = PluginState::default();
    let fast_skip = pl.pre_filter(cx, &mut st).status.is_skip();
    let reference = reference::pre_filter(s, p);
    assert_eq!(fast_skip, reference.is_none(), "PreFilter skip differs for {p:?}");
    if let Some(mut r) = reference {
        for n in s.nodes() {
            assert_eq!(pl.filter(cx, &st, n), r.filter(s, p, n), "Filter on {} for {p:?}", n.name());
        }
        // AddPod / RemovePod of random pods on a random node.
        let node = s.node(s.order()[g.0.below(s.order().len() as u64) as usize]);
        for k in 0..3 {
            let other = g.pod(&format!("extra{k}"), 60);
            let m = if k == 2 { -1 } else { 1 };
            if m > 0 {
                pl.add_pod(cx, &mut st, &other, node);
            } else {
                pl.remove_pod(cx, &mut st, &other, node);
            }
            r.update_with_pod(s, p, &other, node, m);
            for n in s.nodes() {
                assert_eq!(pl.filter(cx, &st, n), r.filter(s, p, n), "Filter after AddPod/RemovePod on {}", n.name());
            }
        }
    }
    let nodes: Vec<&NodeInfo> = s.nodes().collect();
    let mut st = PluginState::default();
    let skip = pl.pre_score(cx, &mut st, &nodes).is_skip();
    let reference = reference::pre_score(pl, s, p);
    assert_eq!(skip, reference.is_none(), "PreScore skip differs for {p:?}");
    if let Some(r) = reference {
        let fast: Vec<i64> = nodes.iter().map(|n| pl.score(cx, &st, n)).collect();
        let mut batch = vec![0; nodes.len()];
        pl.score_nodes(cx, &st, &nodes, &mut batch);
        assert_eq!(batch, fast, "score_nodes agrees with score");
        let slow: Vec<i64> = nodes.iter().map(|n| reference::score(&r, n)).collect();
        assert_eq!(fast, slow, "raw scores for {p:?}");
        let mut fast_n = fast;
        pl.normalize_scores(cx, &st, &nodes, &mut fast_n);
        let mut slow_n = slow;
        reference::normalize(&mut slow_n);
        assert_eq!(fast_n, slow_n);
    }
}

#[test]
fn randomized_clusters_match_the_reference_algorithm() {
    for seed in 0..300u64 {
        let mut g = Gen(Rng::new(seed));
        let mut s = random_cluster(&mut g);
        let mut placed: Vec<PodId> = Vec::new();
        let pl = InterPodAffinity {
            hard_pod_affinity_weight: g.pick(&[0, 1, 7]),
            ignore_preferred_terms_of_existing_pods: g.chance(20),
        };
        for step in 0..40 {
            if !placed.is_empty() && g.chance(25) {
                let i = g.0.below(placed.len() as u64) as usize;
                s.remove_pod(placed.swap_remove(i));
            } else {
                let p = g.pod(&format!("p{step}"), 30);
                let node = s.order()[g.0.below(s.order().len() as u64) as usize];
                placed.push(s.add_pod(Arc::new(p), node));
            }
            if step % 8 == 7 {
                let incoming = g.pod("incoming", 60);
                check_against_reference(&pl, &s, &incoming, &mut g);
                s.index().verify().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            }
            if step == 20 {
                // Relabel a node: tables are rebuilt.
                let id = s.order()[0];
                let name = s.node(id).name().as_str().to_string();
                s.update_node(id, NodeBuilder::new(&name).zone("z9").label(REGION, "r1").build());
            }
        }
    }
}
