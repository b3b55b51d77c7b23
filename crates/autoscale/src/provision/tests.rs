use super::*;
use crate::autoscaler::Options;
use crate::catalog::Catalog;
use crate::labels::Flavor;
use crate::nodeclass::NodeClass;
use crate::nodepool::NodePool;
use crate::requirements::Operator;
use kubesched_core::builders::{NodeBuilder, PodBuilder};
use kubesched_core::model::{
    Affinity, NodeAffinity, PodAffinity, PodAffinityTerm, Taint, TaintEffect, TopologySpreadConstraint,
    WhenUnsatisfiable,
};
use kubesched_core::selector::{
    LabelSelector, NodeSelectorOp, NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm,
};
use kubesched_core::snapshot::Snapshot;

fn auto_mode() -> Autoscaler {
    let options = Options { auto_mode_builtins: true, ..Options::default() };
    Autoscaler::new(Catalog::embedded(), vec![], vec![], crate::default_profile(), options).unwrap()
}

fn karpenter(pools: Vec<NodePool>) -> Autoscaler {
    Autoscaler::new(
        Catalog::embedded(),
        vec![NodeClass::ec2("default")],
        pools,
        crate::default_profile(),
        Options::default(),
    )
    .unwrap()
}

fn pool(name: &str) -> NodePool {
    NodePool::new(name, Flavor::KarpenterAws, "default")
}

fn pod(name: &str, cpu: i64, mem_mib: i64) -> PodBuilder {
    PodBuilder::new("default", name).cpu_milli(cpu).memory(mem_mib << 20)
}

fn auto_pods(prefix: &str, n: usize, cpu: i64, mem_mib: i64) -> Vec<Arc<Pod>> {
    (0..n)
        .map(|i| {
            Arc::new(
                pod(&format!("{prefix}-{i}"), cpu, mem_mib)
                    .label("app", prefix)
                    .node_selector("eks.amazonaws.com/compute-type", "auto")
                    .build(),
            )
        })
        .collect()
}

/// (instance type, capacity type, zone, pods) per claim.
fn summary(p: &Provisioning) -> Vec<(&str, &str, &str, usize)> {
    p.node_claims
        .iter()
        .map(|c| (c.instance_type.as_str(), c.capacity_type.as_str(), c.zone.as_str(), c.pods.len()))
        .collect()
}

fn spread(key: &str, when: WhenUnsatisfiable, app: &str) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew: 1,
        topology_key: Sym::new(key),
        when_unsatisfiable: when,
        label_selector: Some(LabelSelector::from_match_labels([("app", app)])),
        min_domains: None,
        node_affinity_policy: None,
        node_taints_policy: None,
        match_label_keys: vec![],
    }
}

fn with_spread(pods: Vec<Arc<Pod>>, c: TopologySpreadConstraint) -> Vec<Arc<Pod>> {
    pods.into_iter()
        .map(|p| {
            let mut p = (*p).clone();
            p.topology_spread_constraints = vec![c.clone()];
            Arc::new(p)
        })
        .collect()
}

#[test]
fn ten_one_cpu_pods_fit_one_c6a_4xlarge() {
    let a = auto_mode();
    let snap = Snapshot::new();
    let p = a.provision(&ClusterView::new(&snap), auto_pods("web", 10, 1000, 0));
    assert_eq!(summary(&p), [("c6a.4xlarge", "on-demand", "us-east-1a", 10)]);
    let c = &p.node_claims[0];
    assert_eq!(c.node_pool, "general-purpose");
    assert_eq!(c.hourly_price, Money(612_000));
    assert!(c.name.starts_with("general-purpose-") && c.name.len() == "general-purpose-".len() + 5);
    // Options: cheapest first, 60 at most, all amd64 c/m/r gen ≥ 5 that fit 10 vCPU.
    assert_eq!(c.instance_type_options.len(), 60);
    assert_eq!(c.instance_type_options[0], "c6a.4xlarge");
    assert!(!c.instance_type_options.iter().any(|t| t.ends_with(".2xlarge") || t.starts_with("t3")));
    assert_eq!(c.node.labels.get(Sym::new("node.kubernetes.io/instance-type")), Some(Sym::new("c6a.4xlarge")));
    assert_eq!(c.node.labels.get(Sym::new("eks.amazonaws.com/compute-type")), Some(Sym::new("auto")));
    assert_eq!((c.requests.cpu, c.requests.pods), (10_000, 10));
    assert!(p.errors.is_empty() && p.existing.is_empty());
    assert_eq!(p.hourly_cost(), Money(612_000));
    let json = c.to_json();
    assert_eq!(json["hourlyPrice"], "0.612000");
    assert_eq!(json["pods"][0], "default/web-0");
}

#[test]
fn two_hundred_pods_follow_the_auto_mode_pod_cap() {
    let a = auto_mode();
    let snap = Snapshot::new();
    let p = a.provision(&ClusterView::new(&snap), auto_pods("web", 200, 1000, 0));
    // 110 pods per node at most; the first claim grows to the cheapest type for 110 vCPU, the
    // second takes the remaining 90 on a 96-vCPU type in the next zone.
    assert_eq!(
        summary(&p),
        [("c6a.32xlarge", "on-demand", "us-east-1a", 110), ("c6a.24xlarge", "on-demand", "us-east-1b", 90)]
    );
    assert_eq!(p.hourly_cost(), Money(4_896_000 + 3_672_000));
}

#[test]
fn graviton_spot_pool_picks_c6g() {
    let graviton = pool("graviton")
        .require("kubernetes.io/arch", Operator::In, &["arm64"])
        .require("karpenter.sh/capacity-type", Operator::In, &["spot"])
        .require("karpenter.k8s.aws/instance-category", Operator::In, &["c", "m", "r"]);
    let a = karpenter(vec![graviton]);
    let snap = Snapshot::new();
    let pods: Vec<Arc<Pod>> = (0..4)
        .map(|i| Arc::new(pod(&format!("arm-{i}"), 1000, 1024).node_selector("kubernetes.io/arch", "arm64").build()))
        .collect();
    let p = a.provision(&ClusterView::new(&snap), pods);
    // 4 vCPU types allocate 3920m < 4000m: the cheapest arm64 spot type with 8 vCPU is c6g
    // ($0.272 on demand, 60% off).
    assert_eq!(summary(&p), [("c6g.2xlarge", "spot", "us-east-1a", 4)]);
    assert_eq!(p.node_claims[0].hourly_price, Money(108_800));
    let labels = &p.node_claims[0].node.labels;
    assert_eq!(labels.get(Sym::new("karpenter.k8s.aws/instance-family")), Some(Sym::new("c6g")));
    assert_eq!(labels.get(Sym::new("karpenter.k8s.aws/ec2nodeclass")), Some(Sym::new("default")));
    assert_eq!(labels.get(Sym::new("karpenter.sh/capacity-type")), Some(Sym::new("spot")));
}

#[test]
fn existing_nodes_are_tried_first() {
    let a = auto_mode();
    let mut snap = Snapshot::new();
    snap.add_node(NodeBuilder::new("n1").cpu_milli(4000).memory(8 << 30).zone("us-east-1a").build());
    let pods: Vec<Arc<Pod>> = (0..5).map(|i| Arc::new(pod(&format!("p-{i}"), 1000, 256).build())).collect();
    let p = a.provision(&ClusterView::new(&snap), pods);
    assert_eq!(p.existing.len(), 4);
    assert!(p.existing.iter().all(|e| e.node == "n1" && e.initialized));
    assert_eq!(summary(&p), [("c6a.large", "on-demand", "us-east-1a", 1)]);
}

#[test]
fn in_flight_nodes_ignore_startup_and_ephemeral_taints() {
    let mut np = pool("default").require("karpenter.k8s.aws/instance-family", Operator::In, &["c6a"]);
    np.startup_taints.push(Taint::new("example.com/agent-not-ready", "", TaintEffect::NoExecute));
    let a = karpenter(vec![np]);
    let mut snap = Snapshot::new();
    let node = NodeBuilder::new("default-inflight")
        .cpu_milli(3920)
        .memory(6 << 30)
        .zone("us-east-1a")
        .label("karpenter.sh/nodepool", "default")
        .taint("example.com/agent-not-ready", "", TaintEffect::NoExecute)
        .taint("node.kubernetes.io/not-ready", "", TaintEffect::NoSchedule)
        .build();
    snap.add_node(node);
    let managed = vec![ManagedNode {
        node_name: "default-inflight".into(),
        node_pool: "default".into(),
        instance_type: "c6a.xlarge".into(),
        capacity_type: CapacityType::OnDemand,
        zone: "us-east-1a".into(),
        hourly_price: Money(153_000),
        launched_at: 0,
        initialized_at: None,
        last_pod_event_at: None,
        nominated_until: None,
        deleting: false,
        do_not_disrupt: false,
    }];
    let view = ClusterView { snapshot: &snap, managed: &managed, daemonsets: &[] };
    let pods: Vec<Arc<Pod>> = (0..3).map(|i| Arc::new(pod(&format!("p-{i}"), 1000, 256).build())).collect();
    let p = a.provision(&view, pods);
    assert_eq!(p.existing.len(), 3);
    assert!(p.existing.iter().all(|e| e.node == "default-inflight" && !e.initialized));
    assert!(p.node_claims.is_empty());
}

#[test]
fn preferred_zone_spread_is_honoured_across_new_nodes() {
    let a = auto_mode();
    let snap = Snapshot::new();
    let pods = with_spread(
        auto_pods("web", 6, 1000, 0),
        spread("topology.kubernetes.io/zone", WhenUnsatisfiable::ScheduleAnyway, "web"),
    );
    let p = a.provision(&ClusterView::new(&snap), pods);
    assert_eq!(
        summary(&p),
        [
            ("c6a.xlarge", "on-demand", "us-east-1a", 2),
            ("c6a.xlarge", "on-demand", "us-east-1b", 2),
            ("c6a.xlarge", "on-demand", "us-east-1c", 2)
        ]
    );
    assert!(p.relaxed.is_empty());
}

#[test]
fn hostname_spread_gets_a_node_per_pod_as_karpenter_does() {
    let a = auto_mode();
    let snap = Snapshot::new();
    let pods = with_spread(
        auto_pods("db", 3, 1000, 0),
        spread("kubernetes.io/hostname", WhenUnsatisfiable::DoNotSchedule, "db"),
    );
    let p = a.provision(&ClusterView::new(&snap), pods);
    assert_eq!(p.node_claims.len(), 3);
    assert!(p.node_claims.iter().all(|c| c.pods.len() == 1 && c.instance_type == "c6a.large"));
}

#[test]
fn required_anti_affinity_separates_pods() {
    let a = auto_mode();
    let snap = Snapshot::new();
    let term = PodAffinityTerm {
        label_selector: Some(LabelSelector::from_match_labels([("app", "db")])),
        namespaces: vec![],
        namespace_selector: None,
        topology_key: Sym::new("kubernetes.io/hostname"),
        match_label_keys: vec![],
        mismatch_label_keys: vec![],
    };
    let pods: Vec<Arc<Pod>> = auto_pods("db", 3, 500, 0)
        .into_iter()
        .map(|p| {
            let mut p = (*p).clone();
            p.affinity.pod_anti_affinity = Some(PodAffinity { required: vec![term.clone()], preferred: vec![] });
            Arc::new(p)
        })
        .collect();
    let p = a.provision(&ClusterView::new(&snap), pods);
    assert_eq!(p.node_claims.iter().map(|c| c.pods.len()).collect::<Vec<_>>(), [1, 1, 1]);
    // Zones rotate among equally priced offerings.
    let zones: Vec<&str> = p.node_claims.iter().map(|c| c.zone.as_str()).collect();
    assert_eq!(zones, ["us-east-1a", "us-east-1b", "us-east-1c"]);
}

#[test]
fn daemonset_overhead_sizes_the_node() {
    let a =
        karpenter(vec![pool("default").require("karpenter.k8s.aws/instance-family", Operator::In, &["c6a", "c6g"])]);
    let snap = Snapshot::new();
    let agent = Arc::new(
        pod("agent", 500, 512)
            .with(|p| {
                p.owner = Some(kubesched_core::model::OwnerRef {
                    kind: Sym::new("DaemonSet"),
                    name: Sym::new("agent"),
                    uid: Sym::new("u1"),
                })
            })
            .build(),
    );
    let arm_only = Arc::new(pod("arm-agent", 4000, 0).node_selector("kubernetes.io/arch", "arm64").build());
    let daemonsets = vec![agent, arm_only];
    let view = ClusterView { snapshot: &snap, managed: &[], daemonsets: &daemonsets };
    let p =
        a.provision(&view, vec![Arc::new(pod("app", 1500, 1024).node_selector("kubernetes.io/arch", "amd64").build())]);
    // 1500m + 500m = 2000m > c6a.large's 1930m.
    assert_eq!(summary(&p), [("c6a.xlarge", "spot", "us-east-1a", 1)]);
    let c = &p.node_claims[0];
    assert_eq!(c.daemonset_pods.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["agent"]);
    assert_eq!((c.requests.cpu, c.requests.pods), (2000, 2));
}

#[test]
fn pools_are_tried_by_weight_and_limits_hold() {
    let od = |p: NodePool| p.require("karpenter.sh/capacity-type", Operator::In, &["on-demand"]);
    let mut limited = od(pool("limited").require("karpenter.k8s.aws/instance-family", Operator::In, &["c6a"]));
    limited.weight = 100;
    limited.limits.resources.push((Sym::CPU, 4_000));
    let fallback = od(pool("fallback").require("karpenter.k8s.aws/instance-family", Operator::In, &["c6a"]));
    let a = karpenter(vec![fallback, limited]);
    assert_eq!(a.pools().iter().map(|p| p.pool.name.as_str()).collect::<Vec<_>>(), ["limited", "fallback"]);
    let snap = Snapshot::new();
    let pods: Vec<Arc<Pod>> = (0..5).map(|i| Arc::new(pod(&format!("p-{i}"), 1000, 256).build())).collect();
    let p = a.provision(&ClusterView::new(&snap), pods);
    let pools: Vec<(&str, &str, usize)> =
        p.node_claims.iter().map(|c| (c.node_pool.as_str(), c.instance_type.as_str(), c.pods.len())).collect();
    // The limited pool's first claim may only use types of at most 4 vCPU and uses up the
    // limit pessimistically (doc §3.5), so the fourth pod goes to the fallback pool.
    assert_eq!(pools, [("limited", "c6a.xlarge", 3), ("fallback", "c6a.xlarge", 2)]);
}

#[test]
fn taints_keep_pods_off_pools_they_do_not_tolerate() {
    let mut gpu = pool("gpu").require("karpenter.k8s.aws/instance-family", Operator::In, &["g5"]);
    gpu.weight = 100;
    gpu.taints.push(Taint::new("nvidia.com/gpu", "true", TaintEffect::NoSchedule));
    let cpu = pool("cpu").require("karpenter.k8s.aws/instance-family", Operator::In, &["c6a"]);
    let a = karpenter(vec![gpu, cpu]);
    let snap = Snapshot::new();
    let web = Arc::new(pod("web", 1000, 1024).build());
    let train = Arc::new(
        pod("train", 2000, 8192)
            .scalar("nvidia.com/gpu", 1)
            .toleration("nvidia.com/gpu", "true", Some(TaintEffect::NoSchedule))
            .build(),
    );
    let p = a.provision(&ClusterView::new(&snap), vec![web, train]);
    let got: Vec<(&str, &str, &str)> = p
        .node_claims
        .iter()
        .map(|c| (c.node_pool.as_str(), c.instance_type.as_str(), c.pods[0].name.as_str()))
        .collect();
    assert_eq!(got, [("gpu", "g5.xlarge", "train"), ("cpu", "c6a.large", "web")]);
    assert!(p.node_claims[0].node.taints.iter().any(|t| t.key.as_str() == "nvidia.com/gpu"));
}

#[test]
fn preferences_are_relaxed_when_they_cannot_be_met() {
    let a = auto_mode();
    let snap = Snapshot::new();
    let impossible = NodeSelectorRequirement::new(
        Sym::new("node.kubernetes.io/instance-type"),
        NodeSelectorOp::In,
        [Sym::new("x9.mega")].into_iter().collect(),
    )
    .unwrap();
    let p0 = pod("picky", 1000, 256)
        .affinity(Affinity {
            node_affinity: Some(NodeAffinity {
                required: None,
                preferred: vec![PreferredSchedulingTerm {
                    weight: 100,
                    preference: NodeSelectorTerm::new(vec![impossible], vec![]),
                }],
            }),
            ..Default::default()
        })
        .build();
    let p = a.provision(&ClusterView::new(&snap), vec![Arc::new(p0)]);
    assert_eq!(summary(&p), [("c6a.large", "on-demand", "us-east-1a", 1)]);
    assert_eq!(p.relaxed.len(), 1);
    assert_eq!(p.relaxed[0].1, ["dropped preferred node affinity term (weight 100)"]);
}

#[test]
fn prefer_no_schedule_pools_are_a_last_resort() {
    let mut tainted = pool("tainted").require("karpenter.k8s.aws/instance-family", Operator::In, &["c6a"]);
    tainted.weight = 100;
    tainted.taints.push(Taint::new("spare", "", TaintEffect::PreferNoSchedule));
    let plain = pool("plain").require("karpenter.k8s.aws/instance-family", Operator::In, &["m5"]);
    let a = karpenter(vec![tainted.clone(), plain]);
    let snap = Snapshot::new();
    let p = a.provision(&ClusterView::new(&snap), vec![Arc::new(pod("x", 500, 256).build())]);
    assert_eq!(p.node_claims[0].node_pool, "plain");
    assert!(p.relaxed.is_empty());
    let only = karpenter(vec![tainted]);
    let p = only.provision(&ClusterView::new(&snap), vec![Arc::new(pod("x", 500, 256).build())]);
    assert_eq!(p.node_claims[0].node_pool, "tainted");
    assert_eq!(p.relaxed[0].1, ["tolerating PreferNoSchedule taints"]);
}

#[test]
fn min_values_keeps_enough_families() {
    let mut np = pool("flex").require("karpenter.k8s.aws/instance-family", Operator::In, &["c6a", "c6i", "c7i", "m6a"]);
    np.requirements[0].min_values = Some(3);
    let a = karpenter(vec![np.require("karpenter.sh/capacity-type", Operator::In, &["on-demand"])]);
    let snap = Snapshot::new();
    let p = a.provision(&ClusterView::new(&snap), vec![Arc::new(pod("x", 1000, 256).build())]);
    let c = &p.node_claims[0];
    assert_eq!(c.instance_type, "c6a.large");
    let mut families: Vec<&str> = c.instance_type_options.iter().map(|t| t.split('.').next().unwrap_or("")).collect();
    families.sort();
    families.dedup();
    assert_eq!(families, ["c6a", "c6i", "c7i", "m6a"]);
    // A pod that only one family can hold violates minValues: no NodeClaim.
    let big = Arc::new(pod("big", 1000, 256).node_selector("karpenter.k8s.aws/instance-family", "c7i").build());
    let p = a.provision(&ClusterView::new(&snap), vec![big]);
    assert!(p.node_claims.is_empty());
    assert!(
        p.errors[0]
            .1
            .ends_with("minValues: karpenter.k8s.aws/instance-family needs 3 values, the fitting types have 1"),
        "{}",
        p.errors[0].1
    );
}

#[test]
fn unschedulable_pods_are_reported() {
    let a = auto_mode();
    let snap = Snapshot::new();
    let huge = Arc::new(pod("huge", 1_000_000, 1024).build());
    let pinned = Arc::new(pod("pinned", 100, 10).node_selector("kubernetes.io/hostname", "n1").build());
    let p = a.provision(&ClusterView::new(&snap), vec![huge, pinned]);
    assert!(p.node_claims.is_empty());
    let msgs: Vec<(&str, &str)> = p.errors.iter().map(|(p, m)| (p.name.as_str(), m.as_str())).collect();
    assert_eq!(msgs[0].0, "huge");
    assert!(
        msgs[0].1.contains("nodepool \"system\": did not tolerate taint {CriticalAddonsOnly: }:NoSchedule")
            && msgs[0]
                .1
                .contains("nodepool \"general-purpose\": no instance type fits cpu 1000000m, memory 1024Mi, pods 1"),
        "{}",
        msgs[0].1
    );
    assert_eq!(msgs[1], ("pinned", "label \"kubernetes.io/hostname\" is restricted (pod selects it)"));
}

#[test]
fn system_pool_takes_critical_addons() {
    let a = auto_mode();
    let snap = Snapshot::new();
    let coredns = Arc::new(
        pod("coredns", 1000, 256)
            .node_selector("karpenter.sh/nodepool", "system")
            .toleration("CriticalAddonsOnly", "", None)
            .build(),
    );
    let p = a.provision(&ClusterView::new(&snap), vec![coredns]);
    // system allows arm64: c6g.large is the cheapest on-demand c/m/r gen ≥ 5 type for 1 vCPU.
    assert_eq!(summary(&p), [("c6g.large", "on-demand", "us-east-1a", 1)]);
    assert_eq!(p.node_claims[0].node_pool, "system");
}

#[test]
fn planning_is_deterministic() {
    let a = auto_mode();
    let snap = Snapshot::new();
    let run = || {
        let p = a.provision(&ClusterView::new(&snap), auto_pods("web", 150, 700, 900));
        p.node_claims.iter().map(|c| (c.name.clone(), c.instance_type.clone(), c.pods.len())).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn nodeclaim_optimization_splits_an_oversized_claim() {
    let np = || {
        pool("default").require("karpenter.k8s.aws/instance-family", Operator::In, &["c6a"]).require(
            "karpenter.sh/capacity-type",
            Operator::In,
            &["on-demand"],
        )
    };
    let mut pods: Vec<Arc<Pod>> = (0..8).map(|i| Arc::new(pod(&format!("big-{i}"), 1900, 256).build())).collect();
    pods.push(Arc::new(pod("last", 1000, 256).build()));
    let snap = Snapshot::new();
    // Gate off (Karpenter's default): 16.2 vCPU on one c6a.8xlarge.
    let plain = karpenter(vec![np()]);
    let p = plain.provision(&ClusterView::new(&snap), pods.clone());
    assert_eq!(summary(&p), [("c6a.8xlarge", "on-demand", "us-east-1a", 9)]);
    // Gate on: back to the 8 pods on c6a.4xlarge, the last pod on its own c6a.large.
    let mut opt = karpenter(vec![np()]);
    opt.options.nodeclaim_optimization = true;
    let p = opt.provision(&ClusterView::new(&snap), pods);
    assert_eq!(
        summary(&p),
        [("c6a.4xlarge", "on-demand", "us-east-1a", 8), ("c6a.large", "on-demand", "us-east-1b", 1)]
    );
    assert_eq!(p.hourly_cost(), Money(612_000 + 76_500));
    assert!(p.errors.is_empty());
    // The displaced pod's node really holds it: the split claim's node only has the 8 pods.
    assert_eq!(p.node_claims[0].requests.cpu, 8 * 1900);
}

#[test]
fn nodeclaim_optimization_never_costs_more() {
    // Mixed shapes, several sizes: the optimized plan is never dearer than the default one.
    let shapes = [(250, 512), (1900, 256), (700, 4096), (3000, 1024), (100, 100)];
    for seed in 0..6u64 {
        let mut rng = kubesched_core::rng::Rng::new(seed);
        let pods: Vec<Arc<Pod>> = (0..60)
            .map(|i| {
                let (cpu, mem) = shapes[rng.below(shapes.len() as u64) as usize];
                Arc::new(pod(&format!("p{i}"), cpu, mem).build())
            })
            .collect();
        let a = auto_mode();
        let mut o = auto_mode();
        o.options.nodeclaim_optimization = true;
        let snap = Snapshot::new();
        let base = a.provision(&ClusterView::new(&snap), pods.clone());
        let opt = o.provision(&ClusterView::new(&snap), pods);
        assert!(base.errors.is_empty() && opt.errors.is_empty());
        assert!(opt.hourly_cost() <= base.hourly_cost(), "seed {seed}: {} > {}", opt.hourly_cost(), base.hourly_cost());
        assert_eq!(opt.node_claims.iter().map(|c| c.pods.len()).sum::<usize>(), 60);
    }
}

#[test]
fn in_flight_claims_are_counted_by_the_next_pass() {
    let mut np = pool("default").require("karpenter.k8s.aws/instance-family", Operator::In, &["c6a"]);
    np.startup_taints.push(Taint::new("example.com/agent-not-ready", "", TaintEffect::NoExecute));
    let a = karpenter(vec![np]);
    let mut snap = Snapshot::new();
    let first = a.provision(
        &ClusterView::new(&snap),
        (0..3).map(|i| Arc::new(pod(&format!("a-{i}"), 1000, 256).build())).collect(),
    );
    let claim = &first.node_claims[0];
    assert_eq!(claim.instance_type, "c6a.xlarge");
    // The registered node carries the startup taint and no initialized label.
    assert!(claim.node.taints.iter().any(|t| t.key.as_str() == "example.com/agent-not-ready"));
    assert_eq!(claim.node.labels.get(Sym::new("karpenter.sh/initialized")), None);
    assert_eq!(claim.initialized_node().labels.get(Sym::new("karpenter.sh/initialized")), Some(Sym::new("true")));
    assert!(claim.initialized_node().taints.is_empty());
    // Launched but not Ready: the same pods (still pending) and one more go to it, no new claim.
    snap.add_node(claim.in_flight_node());
    let managed = vec![claim.managed(0)];
    let view = ClusterView { snapshot: &snap, managed: &managed, daemonsets: &[] };
    let pods: Vec<Arc<Pod>> = (0..3).map(|i| Arc::new(pod(&format!("a-{i}"), 1000, 256).build())).collect();
    let again = a.provision(&view, pods);
    assert!(again.node_claims.is_empty());
    assert_eq!(again.existing.iter().filter(|e| e.node == claim.name && !e.initialized).count(), 3);
}
