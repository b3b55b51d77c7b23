//! Inter-pod affinity and topology spread through the batch driver, with kube-scheduler's
//! default profile: clusters built with the builders, scheduled with `schedule_pending` as
//! `kubesched schedule` does (kube-scheduler.md §4.10, §4.11).

use kubesched_core::Sym;
use kubesched_core::batch::{Decision, DecisionKind, account_bound_pods, schedule_pending};
use kubesched_core::builders::{NodeBuilder, PodBuilder};
use kubesched_core::config::SchedulerConfig;
use kubesched_core::framework::build_profiles;
use kubesched_core::model::{
    Affinity, OwnerRef, Pod, PodAffinity, PodAffinityTerm, TopologySpreadConstraint, WhenUnsatisfiable, WorkloadKind,
    WorkloadSelector,
};
use kubesched_core::plugins::registry;
use kubesched_core::schedule::Scheduler;
use kubesched_core::selector::LabelSelector;
use kubesched_core::snapshot::Snapshot;
use std::collections::BTreeMap;
use std::sync::Arc;

const GI: i64 = 1 << 30;

fn scheduler(seed: u64) -> Scheduler {
    let profiles = build_profiles(&SchedulerConfig::default(), &registry()).expect("default configuration is valid");
    Scheduler::new(profiles, 0, seed)
}

fn cluster(nodes: &[(&str, &str)]) -> Snapshot {
    let mut s = Snapshot::new();
    for &(name, zone) in nodes {
        let mut b = NodeBuilder::new(name).cpu_milli(4000).memory(16 * GI);
        if !zone.is_empty() {
            b = b.zone(zone);
        }
        s.add_node(b.build());
    }
    s
}

fn term(app: &str, key: Sym) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(LabelSelector::from_match_labels([("app", app)])),
        namespaces: vec![],
        namespace_selector: None,
        topology_key: key,
        match_label_keys: vec![],
        mismatch_label_keys: vec![],
    }
}

fn replica(name: &str, app: &str) -> PodBuilder {
    PodBuilder::new("default", name).cpu_milli(100).memory(GI / 4).label("app", app)
}

fn placements(decisions: &[Decision]) -> Vec<(String, String)> {
    decisions
        .iter()
        .map(|d| {
            let what = match &d.kind {
                DecisionKind::Scheduled { node } => node.as_str().to_string(),
                DecisionKind::Unschedulable { message } => format!("Unschedulable: {message}"),
                other => format!("{other:?}"),
            };
            (d.pod.name.as_str().to_string(), what)
        })
        .collect()
}

/// How many scheduled pods each node (or zone, with `zone_of`) received.
fn spread(s: &Snapshot, decisions: &[Decision], by_zone: bool) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for d in decisions {
        if let DecisionKind::Scheduled { node } = &d.kind {
            let key = if by_zone {
                s.node_by_name(*node).and_then(|n| n.labels().get(Sym::ZONE)).map_or("-".into(), |z| z.to_string())
            } else {
                node.to_string()
            };
            *m.entry(key).or_insert(0) += 1;
        }
    }
    m
}

#[test]
fn web_deployment_with_hostname_anti_affinity_spreads_one_per_node() {
    let mut s = cluster(&[("node-1", "a"), ("node-2", "a"), ("node-3", "b")]);
    let anti = Affinity {
        pod_anti_affinity: Some(PodAffinity { required: vec![term("web", Sym::HOSTNAME)], preferred: vec![] }),
        ..Default::default()
    };
    let pods: Vec<Arc<Pod>> =
        (0..4).map(|i| Arc::new(replica(&format!("web-{i}"), "web").affinity(anti.clone()).build())).collect();
    let decisions = schedule_pending(&mut scheduler(1), &mut s, pods);
    let by_node = spread(&s, &decisions, false);
    assert_eq!(by_node.values().copied().collect::<Vec<_>>(), [1, 1, 1], "{:?}", placements(&decisions));
    let last = placements(&decisions).pop().unwrap();
    assert_eq!(last.0, "web-3");
    assert!(
        last.1.starts_with("Unschedulable: 0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."),
        "{}",
        last.1
    );
}

#[test]
fn existing_pods_anti_affinity_keeps_other_pods_away() {
    let mut s = cluster(&[("node-1", "a"), ("node-2", "a")]);
    // A running pod that refuses to share its node with app=batch.
    let guard = PodBuilder::new("default", "guard")
        .cpu_milli(100)
        .node_name("node-1")
        .affinity(Affinity {
            pod_anti_affinity: Some(PodAffinity { required: vec![term("batch", Sym::HOSTNAME)], preferred: vec![] }),
            ..Default::default()
        })
        .with(|p| p.phase = kubesched_core::model::PodPhase::Running)
        .build();
    assert!(account_bound_pods(&mut s, [Arc::new(guard)]).is_empty());
    let pods: Vec<Arc<Pod>> = (0..3).map(|i| Arc::new(replica(&format!("batch-{i}"), "batch").build())).collect();
    let decisions = schedule_pending(&mut scheduler(7), &mut s, pods);
    assert_eq!(
        placements(&decisions),
        [
            ("batch-0".to_string(), "node-2".to_string()),
            ("batch-1".to_string(), "node-2".to_string()),
            ("batch-2".to_string(), "node-2".to_string())
        ]
    );
}

#[test]
fn web_tier_follows_the_database_into_its_zone() {
    let mut s = cluster(&[("node-a1", "a"), ("node-a2", "a"), ("node-b1", "b"), ("node-b2", "b")]);
    let affinity = Affinity {
        pod_affinity: Some(PodAffinity { required: vec![term("db", Sym::ZONE)], preferred: vec![] }),
        ..Default::default()
    };
    let web = |i: usize| Arc::new(replica(&format!("web-{i}"), "web").affinity(affinity.clone()).build());
    // Before the database exists, no node qualifies (and the web pods do not match their own
    // term, so the first-pod exception does not apply).
    let decisions = schedule_pending(&mut scheduler(3), &mut s, vec![web(0)]);
    assert_eq!(
        placements(&decisions)[0].1.split(" no new claims to deallocate, preemption:").next().unwrap(),
        "Unschedulable: 0/4 nodes are available: 4 node(s) didn't match pod affinity rules."
    );
    let db = Arc::new(replica("db-0", "db").node_name("node-b2").build());
    assert!(account_bound_pods(&mut s, [db]).is_empty());
    let decisions = schedule_pending(&mut scheduler(3), &mut s, (1..7).map(web).collect());
    let zones = spread(&s, &decisions, true);
    assert_eq!(zones, BTreeMap::from([("b".to_string(), 6)]), "{:?}", placements(&decisions));
}

#[test]
fn first_replica_of_a_self_affine_group_may_start_anywhere() {
    let mut s = cluster(&[("node-a1", "a"), ("node-b1", "b"), ("node-c1", "c")]);
    let affinity = Affinity {
        pod_affinity: Some(PodAffinity { required: vec![term("cache", Sym::ZONE)], preferred: vec![] }),
        ..Default::default()
    };
    let pods: Vec<Arc<Pod>> =
        (0..5).map(|i| Arc::new(replica(&format!("cache-{i}"), "cache").affinity(affinity.clone()).build())).collect();
    let decisions = schedule_pending(&mut scheduler(11), &mut s, pods);
    let zones = spread(&s, &decisions, true);
    // The first replica picks a zone; every other one must follow it there.
    assert_eq!(zones.len(), 1, "{:?}", placements(&decisions));
    assert_eq!(zones.values().sum::<usize>(), 5);
}

fn zone_spread(skew: i32) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew: skew,
        topology_key: Sym::ZONE,
        when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
        label_selector: Some(LabelSelector::from_match_labels([("app", "api")])),
        min_domains: None,
        node_affinity_policy: None,
        node_taints_policy: None,
        match_label_keys: vec![],
    }
}

#[test]
fn zone_spread_with_max_skew_1_balances_zones() {
    let mut s = cluster(&[("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("c1", "c"), ("x1", "")]);
    // Three existing replicas crowd zone a.
    let existing: Vec<Arc<Pod>> = ["a1", "a2", "a3"]
        .iter()
        .enumerate()
        .map(|(i, n)| Arc::new(replica(&format!("old-{i}"), "api").node_name(n).build()))
        .collect();
    assert!(account_bound_pods(&mut s, existing).is_empty());
    let pods: Vec<Arc<Pod>> = (0..6)
        .map(|i| {
            Arc::new(
                replica(&format!("api-{i}"), "api")
                    .with(|p| p.topology_spread_constraints = vec![zone_spread(1)])
                    .build(),
            )
        })
        .collect();
    let decisions = schedule_pending(&mut scheduler(5), &mut s, pods);
    // Zone a holds 3 and may not grow while b or c is below 3 (3 + 1 − min > 1): the six new
    // replicas fill b and c to 3 each.
    let zones = spread(&s, &decisions, true);
    assert_eq!(zones, BTreeMap::from([("b".to_string(), 3), ("c".to_string(), 3)]), "{:?}", placements(&decisions));
    // At 3/3/3 the next replica may go to any zone, but never to x1, which has no zone label.
    let more = vec![Arc::new(
        replica("api-extra", "api").with(|p| p.topology_spread_constraints = vec![zone_spread(1)]).build(),
    )];
    let decisions = schedule_pending(&mut scheduler(5), &mut s, more);
    match &decisions[0].kind {
        DecisionKind::Scheduled { node } => assert_ne!(node.as_str(), "x1"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn zone_spread_reports_skew_and_missing_labels() {
    let mut s = cluster(&[("a1", "a"), ("x1", "")]);
    let existing: Vec<Arc<Pod>> =
        (0..2).map(|i| Arc::new(replica(&format!("old-{i}"), "api").node_name("a1").build())).collect();
    assert!(account_bound_pods(&mut s, existing).is_empty());
    // One zone, fewer than minDomains 2: the global minimum is 0, and a1 would have skew
    // 2 + 1 − 0 = 3 > 1; x1 has no zone label.
    let mut c = zone_spread(1);
    c.min_domains = Some(2);
    let pod = Arc::new(replica("api-new", "api").with(|p| p.topology_spread_constraints = vec![c]).build());
    let decisions = schedule_pending(&mut scheduler(2), &mut s, vec![pod]);
    assert_eq!(
        placements(&decisions)[0].1.split(" no new claims to deallocate, preemption:").next().unwrap(),
        "Unschedulable: 0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints, \
         1 node(s) didn't match pod topology spread constraints (missing required label)."
    );
}

#[test]
fn service_pods_get_system_default_spreading() {
    // Six identical nodes in three zones; a Service selects app=front. With default spreading
    // (hostname skew 3, zone skew 5, ScheduleAnyway) six replicas end up one per node.
    let mut s = cluster(&[("a1", "a"), ("a2", "a"), ("b1", "b"), ("b2", "b"), ("c1", "c"), ("c2", "c")]);
    s.set_workload_selectors(vec![WorkloadSelector {
        kind: WorkloadKind::Service,
        namespace: Sym::new("default"),
        name: Sym::new("front"),
        selector: LabelSelector::from_match_labels([("app", "front")]),
    }]);
    let pods: Vec<Arc<Pod>> = (0..6)
        .map(|i| {
            Arc::new(
                replica(&format!("front-{i}"), "front")
                    .with(|p| {
                        p.owner = Some(OwnerRef {
                            kind: Sym::new("ReplicaSet"),
                            name: Sym::new("front-abc"),
                            uid: Sym::new("uid-1"),
                        })
                    })
                    .build(),
            )
        })
        .collect();
    let decisions = schedule_pending(&mut scheduler(9), &mut s, pods);
    let by_node = spread(&s, &decisions, false);
    assert_eq!(by_node.len(), 6, "{:?}", placements(&decisions));
}
