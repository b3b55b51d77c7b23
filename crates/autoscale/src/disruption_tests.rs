use super::*;
use crate::autoscaler::Options;
use crate::catalog::Catalog;
use crate::labels::Flavor;
use crate::nodeclass::NodeClass;
use crate::nodepool::{Budget, NodePool};
use crate::requirements::Operator;
use kubesched_core::builders::PodBuilder;
use kubesched_core::model::{IntOrPercent, PodDisruptionBudget};
use kubesched_core::selector::LabelSelector;
use kubesched_core::snapshot::Snapshot;

/// A cluster the tests mutate: snapshot + NodeClaim metadata.
struct World {
    a: Autoscaler,
    snap: Snapshot,
    managed: Vec<ManagedNode>,
}

impl World {
    fn new(a: Autoscaler) -> World {
        World { a, snap: Snapshot::new(), managed: Vec::new() }
    }

    fn view(&self) -> ClusterView<'_> {
        ClusterView { snapshot: &self.snap, managed: &self.managed, daemonsets: &[] }
    }

    /// Provisions for `pods` and launches the plan at `now`; returns the new node names.
    fn launch(&mut self, pods: Vec<Arc<Pod>>, now: i64) -> Vec<String> {
        let plan = self.a.provision(&self.view(), pods);
        let errors: Vec<(String, &str)> = plan.errors.iter().map(|(p, m)| (p.key(), m.as_str())).collect();
        assert!(errors.is_empty(), "{errors:?}");
        let new = plan.apply(&mut self.snap, now);
        let names = new.iter().map(|m| m.node_name.clone()).collect();
        self.managed.extend(new);
        names
    }

    fn delete_pods(&mut self, names: &[String], now: i64) {
        for n in names {
            let Some(id) = self.snap.pod_id(Sym::new("default"), Sym::new(n)) else { continue };
            let node = self.snap.pod(id).node;
            let node_name = self.snap.node(node).name().as_str().to_string();
            self.snap.remove_pod(id);
            if let Some(m) = self.managed.iter_mut().find(|m| m.node_name == node_name) {
                m.last_pod_event_at = Some(now);
            }
        }
    }

    fn pods_on(&self, node: &str) -> usize {
        self.snap.node_by_name(Sym::new(node)).map_or(0, |n| n.pods.len())
    }

    fn types(&self) -> Vec<String> {
        let mut v: Vec<String> = self.managed.iter().map(|m| m.instance_type.clone()).collect();
        v.sort();
        v
    }
}

fn auto_mode() -> Autoscaler {
    Autoscaler::new(
        Catalog::embedded(),
        vec![],
        vec![],
        crate::default_profile(),
        Options { auto_mode_builtins: true, ..Options::default() },
    )
    .unwrap()
}

fn karpenter(p: NodePool, options: Options) -> Autoscaler {
    Autoscaler::new(Catalog::embedded(), vec![NodeClass::ec2("default")], vec![p], crate::default_profile(), options)
        .unwrap()
}

fn c6a_pool() -> NodePool {
    NodePool::new("default", Flavor::KarpenterAws, "default")
        .require("karpenter.k8s.aws/instance-family", Operator::In, &["c6a"])
        .require("karpenter.sh/capacity-type", Operator::In, &["on-demand"])
}

fn deployment(prefix: &str, range: std::ops::Range<usize>, cpu: i64) -> Vec<Arc<Pod>> {
    range
        .map(|i| {
            Arc::new(
                PodBuilder::new("default", &format!("{prefix}-{i}"))
                    .cpu_milli(cpu)
                    .label("app", prefix)
                    .with(|p| p.creation_time = Some(i as i64))
                    .build(),
            )
        })
        .collect()
}

/// The issue's Deployment: selects `eks.amazonaws.com/compute-type: auto`.
fn auto_deployment(prefix: &str, range: std::ops::Range<usize>, cpu: i64) -> Vec<Arc<Pod>> {
    deployment(prefix, range, cpu)
        .into_iter()
        .map(|p| {
            let mut p = (*p).clone();
            p.node_selector.insert(Sym::new("eks.amazonaws.com/compute-type"), Sym::new("auto"));
            Arc::new(p)
        })
        .collect()
}

fn names(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}-{i}")).collect()
}

#[test]
fn eviction_cost_and_candidate_order() {
    let p = PodBuilder::new("default", "p").priority(1 << 23).build();
    assert_eq!(eviction_cost(&p), EVICTION_UNIT + (1 << 25), "priority 2^23 adds 2^23/2^25 = 0.25");
    let mut high = p.clone();
    high.priority = i32::MAX;
    assert_eq!(eviction_cost(&high), 10 * EVICTION_UNIT, "clamped at 10");
    let mut cheap = PodBuilder::new("default", "q").build();
    cheap.annotations.insert(labels::POD_DELETION_COST.into(), "-2147483648".into());
    assert_eq!(eviction_cost(&cheap), -10 * EVICTION_UNIT, "1 − 2^31/2^27 = −15, clamped at −10");
}

#[test]
fn emptiness_waits_for_consolidate_after_and_respects_budgets() {
    let mut w = World::new(auto_mode());
    // Two full c6a.4xlarge (15 one-CPU pods each).
    w.launch(auto_deployment("a", 0..15, 1000), 0);
    w.launch(auto_deployment("b", 0..15, 1000), 0);
    assert_eq!(w.types(), ["c6a.4xlarge", "c6a.4xlarge"]);
    let (b_node, a_node) = (w.managed[1].node_name.clone(), w.managed[0].node_name.clone());
    w.delete_pods(&names("b", 0..15), 100);
    // The other node changed at 110 too, so it is not consolidatable either.
    w.managed[0].last_pod_event_at = Some(110);
    assert!(w.a.compute_disruption(&w.view(), &[], 129).is_none(), "consolidateAfter is 30s");
    let cmd = w.a.compute_disruption(&w.view(), &[], 130).unwrap();
    assert_eq!((cmd.method, cmd.candidates.clone(), cmd.is_delete()), (Method::Emptiness, vec![b_node.clone()], true));
    assert_eq!(cmd.savings, Money(612_000));
    assert!(w.a.validate_disruption(&cmd, &w.view(), &[], 145).is_ok());
    // A pod lands on it before validation: the command is dropped.
    let mut w2 = World { a: w.a.clone(), snap: w.snap.clone(), managed: w.managed.clone() };
    let id = w2.snap.node_id(Sym::new(&b_node)).unwrap();
    w2.snap.add_pod(auto_deployment("late", 0..1, 100)[0].clone(), id);
    assert_eq!(
        w2.a.validate_disruption(&cmd, &w2.view(), &[], 145).unwrap_err(),
        format!("{b_node} is no longer empty")
    );
    assert_eq!(w.pods_on(&a_node), 15);
}

#[test]
fn budgets_limit_emptiness() {
    let mut w = World::new(karpenter(c6a_pool(), Options::default()));
    // Ten single-pod nodes (required anti-affinity would do too; here: separate batches).
    for i in 0..10 {
        let pod = Arc::new(PodBuilder::new("default", &format!("p-{i}")).cpu_milli(1500).build());
        w.launch(vec![pod], 0);
    }
    assert_eq!(w.managed.len(), 10);
    w.delete_pods(&names("p", 0..10), 0);
    let cmd = w.a.compute_disruption(&w.view(), &[], 100).unwrap();
    assert_eq!((cmd.method, cmd.candidates.len()), (Method::Emptiness, 1), "10% of 10 nodes");
    let mut pool = c6a_pool();
    pool.budgets = vec![Budget::percent(50), Budget { nodes: IntOrPercent::Int(3), ..Budget::percent(0) }];
    let w2 = World { a: karpenter(pool, Options::default()), snap: w.snap.clone(), managed: w.managed.clone() };
    let cmd = w2.a.compute_disruption(&w2.view(), &[], 100).unwrap();
    assert_eq!(cmd.candidates.len(), 3, "the smallest budget wins");
    // A node already being deleted uses up budget.
    let mut w3 = World { a: w2.a.clone(), snap: w.snap.clone(), managed: w.managed.clone() };
    w3.managed[0].deleting = true;
    assert_eq!(w3.a.disruption_budgets(&w3.view(), DisruptionReason::Empty, 100)["default"], 2);
}

/// A c6a.xlarge with 3 one-CPU pods (small-0, small-1, big-0) and a c6a.4xlarge with 9.
fn small_and_big() -> World {
    let mut w = World::new(karpenter(c6a_pool(), Options::default()));
    w.launch(deployment("small", 0..2, 1000), 0);
    w.launch(deployment("big", 0..10, 1000), 0);
    assert_eq!(w.types(), ["c6a.4xlarge", "c6a.xlarge"]);
    assert_eq!((w.pods_on(&w.managed[0].node_name.clone()), w.pods_on(&w.managed[1].node_name.clone())), (3, 9));
    w
}

#[test]
fn single_node_consolidation_deletes_when_pods_fit_elsewhere() {
    let mut w = small_and_big();
    let (small, big) = (w.managed[0].node_name.clone(), w.managed[1].node_name.clone());
    let cmd = w.a.compute_disruption(&w.view(), &[], 1_000).unwrap();
    assert_eq!(cmd.method, Method::SingleNodeConsolidation);
    assert_eq!((cmd.candidates.clone(), cmd.is_delete(), cmd.savings), (vec![small.clone()], true, Money(153_000)));
    let moved: Vec<(&str, &str)> = cmd.destinations.iter().map(|(p, n)| (p.as_str(), n.as_str())).collect();
    assert_eq!(
        moved,
        [("default/big-0", big.as_str()), ("default/small-0", big.as_str()), ("default/small-1", big.as_str())]
    );
    cmd.apply(&mut w.snap, &mut w.managed, 1_000);
    assert_eq!((w.pods_on(&big), w.managed.len()), (12, 1));
    assert!(w.a.compute_disruption(&w.view(), &[], 2_000).is_none(), "nothing left to do");
}

#[test]
fn single_node_consolidation_replaces_with_a_cheaper_node() {
    let mut w = World::new(karpenter(c6a_pool(), Options::default()));
    w.launch(deployment("web", 0..30, 1000), 0);
    assert_eq!(w.types(), ["c6a.8xlarge"]);
    w.delete_pods(&names("web", 3..30), 10);
    let cmd = w.a.compute_disruption(&w.view(), &[], 1_000).unwrap();
    let r = cmd.replacement.as_ref().unwrap();
    assert_eq!(
        (cmd.method, r.instance_type.as_str(), r.hourly_price),
        (Method::SingleNodeConsolidation, "c6a.xlarge", Money(153_000))
    );
    assert_eq!(cmd.savings, Money(1_224_000 - 153_000));
    // Every replacement option is strictly cheaper than the candidate.
    assert!(r.instance_type_options.iter().all(|t| !t.ends_with("8xlarge") && !t.ends_with("12xlarge")));
    cmd.apply(&mut w.snap, &mut w.managed, 1_000);
    assert_eq!(w.types(), ["c6a.xlarge"]);
    assert_eq!(w.pods_on(&w.managed[0].node_name.clone()), 3);
}

#[test]
fn multi_node_consolidation_takes_the_largest_valid_prefix() {
    let mut pool = c6a_pool();
    pool.budgets = vec![Budget::percent(100)];
    let mut w = World::new(karpenter(pool, Options::default()));
    // Three full c6a.xlarge (3 × 1300m of 3920m), then two pods leave each.
    for i in 0..3 {
        w.launch(deployment(&format!("g{i}"), 0..3, 1300), 0);
    }
    for i in 0..3 {
        w.delete_pods(&names(&format!("g{i}"), 1..3), 10);
    }
    assert_eq!(w.types(), ["c6a.xlarge", "c6a.xlarge", "c6a.xlarge"]);
    let cmd = w.a.compute_disruption(&w.view(), &[], 1_000).unwrap();
    // Prefix of 2: their pods fit the third node → delete both. Prefix of 3: one new node of
    // the same type is not allowed (filterOutSameInstanceType) and nothing cheaper fits 3900m.
    assert_eq!((cmd.method, cmd.candidates.len(), cmd.is_delete()), (Method::MultiNodeConsolidation, 2, true));
    assert_eq!(cmd.savings, Money(306_000));
    let third = w.managed.iter().find(|m| !cmd.candidates.contains(&m.node_name)).unwrap().node_name.clone();
    assert!(cmd.destinations.iter().all(|(_, n)| *n == third));
    cmd.apply(&mut w.snap, &mut w.managed, 1_000);
    assert_eq!(w.pods_on(&third), 3);
}

#[test]
fn do_not_disrupt_pdbs_and_policies_block() {
    let w = small_and_big();
    let small = w.managed[0].node_name.clone();
    let now = 1_000;
    // Pod annotation.
    let mut blocked = World { a: w.a.clone(), snap: w.snap.clone(), managed: w.managed.clone() };
    let id = blocked.snap.pod_id(Sym::new("default"), Sym::new("small-0")).unwrap();
    let mut p = (*blocked.snap.pod(id).pod).clone();
    let node = blocked.snap.pod(id).node;
    blocked.snap.remove_pod(id);
    p.annotations.insert(labels::DO_NOT_DISRUPT.into(), "true".into());
    blocked.snap.add_pod(Arc::new(p.clone()), node);
    let (_, not) = blocked.a.disruption_candidates(&blocked.view(), now);
    assert!(not.iter().any(|n| n.node == small && n.reason == "pod default/small-0 has karpenter.sh/do-not-disrupt"));
    // A duration annotation expires.
    let id = blocked.snap.pod_id(Sym::new("default"), Sym::new("small-0")).unwrap();
    blocked.snap.remove_pod(id);
    p.annotations.insert(labels::DO_NOT_DISRUPT.into(), "10m".into());
    p.start_time = Some(0);
    blocked.snap.add_pod(Arc::new(p), node);
    assert!(blocked.a.disruption_candidates(&blocked.view(), 599).1.iter().any(|n| n.node == small));
    assert!(!blocked.a.disruption_candidates(&blocked.view(), 600).1.iter().any(|n| n.node == small));
    // Node annotation.
    let mut pinned = World { a: w.a.clone(), snap: w.snap.clone(), managed: w.managed.clone() };
    pinned.managed[0].do_not_disrupt = true;
    assert!(pinned.a.disruption_candidates(&pinned.view(), now).1.iter().any(|n| n.node == small));
    // A PDB that allows no disruption.
    let mut pdb = World { a: w.a.clone(), snap: w.snap.clone(), managed: w.managed.clone() };
    pdb.snap.set_pdbs(vec![PodDisruptionBudget {
        namespace: Sym::new("default"),
        name: Sym::new("small-pdb"),
        selector: Some(LabelSelector::from_match_labels([("app", "small")])),
        min_available: None,
        max_unavailable: None,
        status_disruptions_allowed: Some(0),
    }]);
    let (_, not) = pdb.a.disruption_candidates(&pdb.view(), now);
    assert!(not.iter().any(|n| n.node == small && n.reason.contains("PodDisruptionBudget small-pdb")));
    assert!(pdb.a.compute_disruption(&pdb.view(), &[], now).is_none());
    // WhenEmpty: underutilized nodes stay.
    let mut when_empty = c6a_pool();
    when_empty.consolidation_policy = ConsolidationPolicy::WhenEmpty;
    let we = World { a: karpenter(when_empty, Options::default()), snap: w.snap.clone(), managed: w.managed.clone() };
    assert!(we.a.compute_disruption(&we.view(), &[], now).is_none());
    // consolidateAfter: Never disables consolidation entirely.
    let mut never = c6a_pool();
    never.consolidate_after = crate::duration::MaybeNever::Never;
    let nv = World { a: karpenter(never, Options::default()), snap: w.snap.clone(), managed: w.managed.clone() };
    assert!(nv.a.compute_disruption(&nv.view(), &[], now).is_none());
    // The unblocked cluster does consolidate.
    assert!(w.a.compute_disruption(&w.view(), &[], now).is_some());
}

#[test]
fn spot_nodes_are_only_deleted_unless_spot_to_spot_is_enabled() {
    let spot = || {
        NodePool::new("spot", Flavor::KarpenterAws, "default")
            .require("karpenter.k8s.aws/instance-category", Operator::In, &["c", "m", "r"])
            .require("karpenter.sh/capacity-type", Operator::In, &["spot"])
    };
    let mut w = World::new(karpenter(spot(), Options::default()));
    w.launch(deployment("web", 0..30, 1000), 0);
    assert_eq!(w.managed[0].capacity_type, CapacityType::Spot);
    w.delete_pods(&names("web", 3..30), 10);
    assert!(w.a.compute_disruption(&w.view(), &[], 1_000).is_none(), "spot-to-spot is off by default");
    let on = Options { spot_to_spot_consolidation: true, ..Options::default() };
    let w2 = World { a: karpenter(spot(), on), snap: w.snap.clone(), managed: w.managed.clone() };
    let cmd = w2.a.compute_disruption(&w2.view(), &[], 1_000).unwrap();
    let r = cmd.replacement.as_ref().unwrap();
    assert_eq!(r.capacity_type, CapacityType::Spot);
    assert_eq!(r.instance_type_options.len(), SPOT_TO_SPOT_MIN_TYPES, "launch among the 15 cheapest");
    // A single-family spot pool has fewer than 15 cheaper types: no replacement.
    let narrow = spot().require("karpenter.k8s.aws/instance-family", Operator::In, &["c6a"]);
    let w3 = World {
        a: karpenter(narrow, Options { spot_to_spot_consolidation: true, ..Options::default() }),
        snap: w.snap.clone(),
        managed: w.managed.clone(),
    };
    assert!(w3.a.compute_disruption(&w3.view(), &[], 1_000).is_none());
}

#[test]
fn expiration_is_forceful() {
    let mut w = World::new(auto_mode());
    w.launch(auto_deployment("web", 0..2, 1000), 0);
    assert!(w.a.expired_nodes(&w.view(), 336 * 3_600 - 1).is_empty());
    assert_eq!(w.a.expired_nodes(&w.view(), 336 * 3_600), vec![w.managed[0].node_name.clone()]);
}

/// The issue's story: a 1-CPU pause Deployment selecting `eks.amazonaws.com/compute-type: auto`
/// scaled 1 → 100 → 200 → 50 replicas on EKS Auto Mode, then consolidated.
#[test]
fn scale_up_and_down_story() {
    let mut w = World::new(auto_mode());
    let mut now = 0;
    w.launch(auto_deployment("pause", 0..1, 1000), now);
    assert_eq!(w.types(), ["c6a.large"]);
    now += 60;
    w.launch(auto_deployment("pause", 1..100, 1000), now);
    assert_eq!(w.types(), ["c6a.32xlarge", "c6a.large"]);
    now += 60;
    // 11 fit the 110-pod c6a.32xlarge, 89 need a new node.
    let plan = w.a.provision(&w.view(), auto_deployment("pause", 100..200, 1000));
    assert_eq!((plan.existing.len(), plan.node_claims.len()), (11, 1));
    assert_eq!(plan.node_claims[0].instance_type, "c6a.24xlarge");
    let new = plan.apply(&mut w.snap, now);
    w.managed.extend(new);
    let cost: Money = w.managed.iter().map(|m| m.hourly_price).sum();
    assert_eq!(cost, Money(76_500 + 4_896_000 + 3_672_000));
    // Scale to 50: the newest pods go.
    now += 600;
    w.delete_pods(&names("pause", 50..200), now);
    let mut steps = Vec::new();
    for _ in 0..10 {
        now += 60;
        let Some(cmd) = w.a.compute_disruption(&w.view(), &[], now) else { break };
        assert!(w.a.validate_disruption(&cmd, &w.view(), &[], now + 15).is_ok());
        steps.push((
            cmd.method,
            cmd.candidates
                .iter()
                .map(|c| w.managed.iter().find(|m| &m.node_name == c).map_or("?".into(), |m| m.instance_type.clone()))
                .collect::<Vec<_>>(),
            cmd.replacement.as_ref().map(|r| r.instance_type.clone()),
        ));
        cmd.apply(&mut w.snap, &mut w.managed, now + 15);
    }
    assert_eq!(
        steps,
        vec![
            (Method::Emptiness, vec!["c6a.24xlarge".to_string()], None),
            (Method::SingleNodeConsolidation, vec!["c6a.32xlarge".to_string()], Some("c6a.16xlarge".to_string())),
            (Method::SingleNodeConsolidation, vec!["c6a.large".to_string()], None),
        ]
    );
    assert_eq!(w.types(), ["c6a.16xlarge"]);
    assert_eq!(w.pods_on(&w.managed[0].node_name.clone()), 50);
    assert_eq!(w.managed[0].hourly_price, Money(2_448_000));
}
