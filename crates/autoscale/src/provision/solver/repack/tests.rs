use crate::autoscaler::{Autoscaler, ClusterView, Options};
use crate::catalog::Catalog;
use crate::labels::Flavor;
use crate::money::Money;
use crate::nodeclass::NodeClass;
use crate::nodepool::NodePool;
use crate::provision::Provisioning;
use crate::provision::solver::pre_filter;
use crate::requirements::Operator;
use kubesched_core::Sym;
use kubesched_core::builders::PodBuilder;
use kubesched_core::model::{
    NodeAffinity, OwnerRef, Pod, PodAffinity, PodAffinityTerm, Taint, TaintEffect, TopologySpreadConstraint,
    WhenUnsatisfiable,
};
use kubesched_core::schedule::run_filters_with_nominated_pods;
use kubesched_core::selector::{
    LabelSelector, NodeSelector, NodeSelectorOp, NodeSelectorRequirement, NodeSelectorTerm,
};
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

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

fn auto_mode() -> Autoscaler {
    let options = Options { auto_mode_builtins: true, ..Options::default() };
    Autoscaler::new(Catalog::embedded(), vec![], vec![], crate::default_profile(), options).unwrap()
}

fn repacking(a: &Autoscaler) -> Autoscaler {
    let mut r = a.clone();
    r.options.repack = true;
    r
}

fn on_demand(name: &str, families: &[&str]) -> NodePool {
    NodePool::new(name, Flavor::KarpenterAws, "default")
        .require("karpenter.k8s.aws/instance-family", Operator::In, families)
        .require("karpenter.sh/capacity-type", Operator::In, &["on-demand"])
}

fn gpu_pool() -> NodePool {
    let mut p = on_demand("gpu", &["g6"]);
    p.taints.push(Taint::new("nvidia.com/gpu", "true", TaintEffect::NoSchedule));
    p.weight = 10;
    p
}

fn pod(name: &str, app: &str, cpu: i64, mem_mib: i64) -> PodBuilder {
    PodBuilder::new("default", name).cpu_milli(cpu).memory(mem_mib << 20).label("app", app)
}

fn gpu_pod(name: &str, app: &str) -> PodBuilder {
    pod(name, app, 4000, 16 * 1024).scalar("nvidia.com/gpu", 1).toleration(
        "nvidia.com/gpu",
        "true",
        Some(TaintEffect::NoSchedule),
    )
}

fn term(app: &str, key: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(LabelSelector::from_match_labels([("app", app)])),
        namespaces: vec![],
        namespace_selector: None,
        topology_key: Sym::new(key),
        match_label_keys: vec![],
        mismatch_label_keys: vec![],
    }
}

fn in_zone(zone: &str) -> NodeAffinity {
    let key = Sym::new("topology.kubernetes.io/zone");
    let e = NodeSelectorRequirement::new(key, NodeSelectorOp::In, [Sym::new(zone)].into_iter().collect()).unwrap();
    NodeAffinity {
        required: Some(NodeSelector { terms: vec![NodeSelectorTerm::new(vec![e], vec![])] }),
        preferred: vec![],
    }
}

/// (instance type, zone, pods) per claim.
fn summary(p: &Provisioning) -> Vec<(&str, &str, usize)> {
    p.node_claims.iter().map(|c| (c.instance_type.as_str(), c.zone.as_str(), c.pods.len())).collect()
}

/// The plan, applied to an empty cluster, asked again pod by pod: each pod taken off its node
/// and judged by the core's PreFilter and Filter plugins with every other pod (and DaemonSet
/// pod) in place. Returns the refusals.
fn refusals(a: &Autoscaler, plan: &Provisioning) -> Vec<String> {
    let mut snap = Snapshot::new();
    plan.apply(&mut snap, 0);
    let mut out = Vec::new();
    for c in &plan.node_claims {
        let Some(node) = snap.node_id(Sym::new(&c.name)) else {
            out.push(format!("{}: no node", c.name));
            continue;
        };
        for p in &c.pods {
            let Some(id) = snap.pod_id(p.namespace, p.name) else { continue };
            let Some(bound) = snap.remove_pod(id) else { continue };
            let status = match pre_filter(&a.profile, p, &snap) {
                Ok((state, _)) => run_filters_with_nominated_pods(&a.profile, &state, p, &snap, snap.node(node)),
                Err(s) => s,
            };
            if !status.is_success() {
                out.push(format!("{} on {}: {}", p.key(), c.name, status.message()));
            }
            snap.add_pod(bound, node);
        }
    }
    out
}

#[test]
fn one_gpu_nodes_instead_of_an_eight_gpu_node() {
    // 8 pods of 4 CPU / 16 GiB / 1 GPU. Karpenter's claim keeps taking them while a type holds
    // all: g6.48xlarge (8 L4s, $13.3504). g6.xlarge allocates 3920m < 4000m, so the cheapest
    // home for one pod is g6.2xlarge ($0.9776): 8 × $0.9776 = $7.8208 (g6.12xlarge would be
    // $4.6016 per 4 pods = $1.1504 a pod).
    let a = karpenter(vec![gpu_pool()]);
    let pods: Vec<Arc<Pod>> = (0..8).map(|i| Arc::new(gpu_pod(&format!("train-{i}"), "train").build())).collect();
    let snap = Snapshot::new();
    let base = a.provision(&ClusterView::new(&snap), pods.clone());
    assert_eq!(summary(&base), [("g6.48xlarge", "us-east-1a", 8)]);
    assert_eq!(base.hourly_cost(), Money(13_350_400));
    let r = repacking(&a);
    let p = r.provision(&ClusterView::new(&snap), pods);
    assert_eq!(p.node_claims.len(), 8);
    assert!(p.node_claims.iter().all(|c| c.instance_type == "g6.2xlarge" && c.pods.len() == 1));
    assert_eq!(p.hourly_cost(), Money(8 * 977_600));
    assert!(p.errors.is_empty());
    assert_eq!(refusals(&r, &p), Vec::<String>::new());
    // The claims are what a launch needs: options cheapest first, the pod's node labels.
    let c = &p.node_claims[0];
    assert_eq!(c.instance_type_options[0], "g6.2xlarge");
    assert_eq!(c.node.labels.get(Sym::new("karpenter.sh/nodepool")), Some(Sym::new("gpu")));
    assert!(c.node.taints.iter().any(|t| t.key.as_str() == "nvidia.com/gpu"));
}

#[test]
fn memory_heavy_pods_split_over_cheaper_sizes() {
    // 80 pods of 500m / 8 GiB on r6i. Karpenter: one claim, the cheapest type holding all 80:
    // r6i.24xlarge, $6.048. Allocatable memory is MiB − ⌈7.5%⌉ − (11·ENI pods + 255) − 100:
    // r6i.12xlarge 393,216 − 29,492 − 2,829 − 100 = 360,795 MiB → 44 pods ($3.024);
    // r6i.8xlarge 262,144 − 19,661 − 2,829 − 100 = 239,554 → 29 pods ($2.016);
    // r6i.2xlarge 65,536 − 4,916 − 893 − 100 = 59,627 → 7 pods ($0.504). 44 + 29 + 7 = 80 for
    // $5.544, 8.3% less.
    let a = karpenter(vec![on_demand("default", &["r6i"])]);
    let pods: Vec<Arc<Pod>> =
        (0..80).map(|i| Arc::new(pod(&format!("cache-{i}"), "cache", 500, 8 * 1024).build())).collect();
    let snap = Snapshot::new();
    let base = a.provision(&ClusterView::new(&snap), pods.clone());
    assert_eq!(summary(&base), [("r6i.24xlarge", "us-east-1a", 80)]);
    assert_eq!(base.hourly_cost(), Money(6_048_000));
    let r = repacking(&a);
    let p = r.provision(&ClusterView::new(&snap), pods);
    let mut got: Vec<(&str, usize)> = p.node_claims.iter().map(|c| (c.instance_type.as_str(), c.pods.len())).collect();
    got.sort();
    assert_eq!(got, [("r6i.12xlarge", 44), ("r6i.2xlarge", 7), ("r6i.8xlarge", 29)]);
    assert_eq!(p.hourly_cost(), Money(3_024_000 + 2_016_000 + 504_000));
    assert_eq!(refusals(&r, &p), Vec::<String>::new());
}

#[test]
fn taints_zones_affinity_and_daemonsets_hold_after_repacking() {
    let a = karpenter(vec![gpu_pool(), on_demand("general", &["c6a", "r6i"])]);
    // A DaemonSet on every node (it tolerates everything).
    let agent = Arc::new(
        pod("agent", "agent", 200, 256)
            .with(|p| {
                p.owner = Some(OwnerRef { kind: Sym::new("DaemonSet"), name: Sym::new("agent"), uid: Sym::new("u") });
                p.tolerations.push(kubesched_core::model::Toleration {
                    key: Sym::EMPTY,
                    operator: kubesched_core::model::TolerationOp::Exists,
                    value: Sym::EMPTY,
                    effect: None,
                    toleration_seconds: None,
                });
            })
            .build(),
    );
    let mut pods: Vec<Arc<Pod>> = Vec::new();
    // GPU pods pinned to us-east-1b by node affinity.
    pods.extend((0..6).map(|i| {
        Arc::new(
            gpu_pod(&format!("train-{i}"), "train")
                .with(|p| p.affinity.node_affinity = Some(in_zone("us-east-1b")))
                .build(),
        )
    }));
    // GPU pods that must not share a node with each other.
    pods.extend((0..3).map(|i| {
        Arc::new(
            gpu_pod(&format!("solo-{i}"), "solo")
                .with(|p| {
                    p.affinity.pod_anti_affinity =
                        Some(PodAffinity { required: vec![term("solo", "kubernetes.io/hostname")], preferred: vec![] })
                })
                .build(),
        )
    }));
    // Pods without the GPU toleration, some of them required in the training pods' zone.
    pods.extend((0..40).map(|i| Arc::new(pod(&format!("web-{i}"), "web", 500, 1024).build())));
    pods.extend((0..4).map(|i| {
        Arc::new(
            pod(&format!("near-{i}"), "near", 1000, 8 * 1024)
                .with(|p| {
                    p.affinity.pod_affinity = Some(PodAffinity {
                        required: vec![term("train", "topology.kubernetes.io/zone")],
                        preferred: vec![],
                    })
                })
                .build(),
        )
    }));
    let daemonsets = vec![agent];
    let snap = Snapshot::new();
    let view = ClusterView { snapshot: &snap, managed: &[], daemonsets: &daemonsets };
    let base = a.provision(&view, pods.clone());
    let r = repacking(&a);
    let p = r.provision(&view, pods);
    assert!(base.errors.is_empty() && p.errors.is_empty(), "{:?}", p.errors);
    // Karpenter: solo-0 and solo-2 on g6.2xlarge in 1a and 1c, solo-1 and the six training
    // pods on one g6.48xlarge in 1b, everything else on one c6a.12xlarge in 1b:
    // 2 × 0.9776 + 13.3504 + 1.836 = $17.1416. Repacked: nine g6.2xlarge ($8.7984), and the 44
    // CPU pods on r6i.xlarge + 6 × c6a.xlarge + r6i.large + c6a.large ($1.3725) = $10.1709.
    assert_eq!(base.hourly_cost(), Money(17_141_600));
    assert_eq!(p.hourly_cost(), Money(10_170_900));
    assert_eq!(p.node_claims.iter().filter(|c| c.node_pool == "gpu").count(), 9);
    assert_eq!(p.node_claims.iter().map(|c| c.pods.len()).sum::<usize>(), 53);
    for c in &p.node_claims {
        let gpu_node = c.node_pool == "gpu";
        assert_eq!(gpu_node, c.node.taints.iter().any(|t| t.key.as_str() == "nvidia.com/gpu"));
        // Every node runs the DaemonSet and has room for it.
        assert_eq!(c.daemonset_pods.len(), 1, "{}", c.name);
        for p in &c.pods {
            let app = p.labels.get(Sym::new("app")).map(|v| v.as_str().to_string()).unwrap_or_default();
            match app.as_str() {
                "train" => assert!(gpu_node && c.zone == "us-east-1b", "{} in {}", p.name, c.zone),
                "solo" => assert!(gpu_node),
                "near" => assert!(!gpu_node && c.zone == "us-east-1b", "{} in {}", p.name, c.zone),
                _ => assert!(!gpu_node, "{} on a GPU node", p.name),
            }
        }
        let solos = c.pods.iter().filter(|p| p.name.as_str().starts_with("solo-")).count();
        assert!(solos <= 1, "{} holds {solos} solo pods", c.name);
    }
    assert_eq!(refusals(&r, &p), Vec::<String>::new());
}

fn host_spread() -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew: 1,
        topology_key: Sym::new("kubernetes.io/hostname"),
        when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
        label_selector: Some(LabelSelector::from_match_labels([("app", "hosts")])),
        min_domains: None,
        node_affinity_policy: None,
        node_taints_policy: None,
        match_label_keys: vec![],
    }
}

#[test]
fn a_packing_the_filters_forbid_is_given_up_and_the_state_restored() {
    // Preferred hostname spread, one zone: Karpenter treats it as required and new nodes as
    // empty hostname domains, so each pod gets its own node. The planner first sees 10 pods for
    // one c6a.2xlarge; the filters stop the first claim at one pod, the planner learns it, and
    // the attempt is abandoned: the same plan as without repacking, claim names included.
    let a = auto_mode();
    let pods: Vec<Arc<Pod>> = (0..10)
        .map(|i| {
            Arc::new(
                pod(&format!("hosts-{i}"), "hosts", 500, 1024)
                    .node_selector("eks.amazonaws.com/compute-type", "auto")
                    .with(|p| {
                        p.topology_spread_constraints = vec![host_spread()];
                        p.affinity.node_affinity = Some(in_zone("us-east-1a"));
                    })
                    .build(),
            )
        })
        .collect();
    let snap = Snapshot::new();
    let base = a.provision(&ClusterView::new(&snap), pods.clone());
    let p = repacking(&a).provision(&ClusterView::new(&snap), pods);
    assert_eq!(base.node_claims.len(), 10);
    assert_eq!(p.hourly_cost(), base.hourly_cost());
    assert_eq!(p.hourly_cost(), Money(10 * 51_320));
    let names = |p: &Provisioning| p.node_claims.iter().map(|c| (c.name.clone(), c.pods.len())).collect::<Vec<_>>();
    assert_eq!(names(&p), names(&base));
}

#[test]
fn zone_counts_of_spread_pods_are_kept() {
    // Preferred zone spread: each zone keeps its pods, the nodes in it are packed anew. Karpenter:
    // 100 pods per zone on c6a.16xlarge ($2.448). Repacked, per zone: c6a.12xlarge takes 87
    // (Auto Mode: 98,304 − 7,373 − (11·110 + 255) − 100 = 89,366 MiB) and c6a.2xlarge the other
    // 13 (16,384 − 1,229 − 893 − 100 = 14,162 MiB) for $1.836 + $0.306 = $2.142.
    let a = auto_mode();
    let spread = TopologySpreadConstraint { topology_key: Sym::new("topology.kubernetes.io/zone"), ..host_spread() };
    let pods: Vec<Arc<Pod>> = (0..300)
        .map(|i| {
            Arc::new(
                pod(&format!("hosts-{i}"), "hosts", 500, 1024)
                    .node_selector("eks.amazonaws.com/compute-type", "auto")
                    .with(|p| p.topology_spread_constraints = vec![spread.clone()])
                    .build(),
            )
        })
        .collect();
    let snap = Snapshot::new();
    let base = a.provision(&ClusterView::new(&snap), pods.clone());
    let r = repacking(&a);
    let p = r.provision(&ClusterView::new(&snap), pods);
    let per_zone = |p: &Provisioning| {
        let mut z = [0usize; 3];
        for c in &p.node_claims {
            let i = ["us-east-1a", "us-east-1b", "us-east-1c"].iter().position(|x| *x == c.zone).unwrap();
            z[i] += c.pods.len();
        }
        z
    };
    assert_eq!(per_zone(&base), [100, 100, 100]);
    assert_eq!(per_zone(&p), [100, 100, 100]);
    assert_eq!(base.hourly_cost(), Money(7_344_000));
    assert_eq!(p.hourly_cost(), Money(6_426_000));
    assert!(p.relaxed.is_empty());
    assert_eq!(refusals(&r, &p), Vec::<String>::new());
}

#[test]
fn limits_hold_after_repacking() {
    // At most 2 nodes: the 8 one-GPU nodes the planner wants do not fit the limit, so the
    // attempt is abandoned and Karpenter's single g6.48xlarge stays.
    let mut np = gpu_pool();
    np.limits.nodes = Some(2);
    let a = repacking(&karpenter(vec![np]));
    let pods: Vec<Arc<Pod>> = (0..8).map(|i| Arc::new(gpu_pod(&format!("train-{i}"), "train").build())).collect();
    let snap = Snapshot::new();
    let p = a.provision(&ClusterView::new(&snap), pods);
    assert!(p.node_claims.len() <= 2);
    assert!(p.errors.is_empty());
    assert_eq!(p.hourly_cost(), Money(13_350_400));
}

#[test]
fn repacking_never_costs_more_and_every_pod_still_fits() {
    let shapes = [(250, 512), (1900, 256), (700, 4096), (3000, 1024), (100, 100), (500, 8192)];
    let mut costs = Vec::new();
    for seed in 0..6u64 {
        let mut rng = kubesched_core::rng::Rng::new(seed);
        let pods: Vec<Arc<Pod>> = (0..80)
            .map(|i| {
                let (cpu, mem) = shapes[rng.below(shapes.len() as u64) as usize];
                Arc::new(
                    pod(&format!("p{i}"), &format!("app{}", i % 3), cpu, mem)
                        .node_selector("eks.amazonaws.com/compute-type", "auto")
                        .build(),
                )
            })
            .collect();
        let a = auto_mode();
        let r = repacking(&a);
        let snap = Snapshot::new();
        let base = a.provision(&ClusterView::new(&snap), pods.clone());
        let p = r.provision(&ClusterView::new(&snap), pods);
        assert!(base.errors.is_empty() && p.errors.is_empty());
        assert!(p.hourly_cost() <= base.hourly_cost(), "seed {seed}: {} > {}", p.hourly_cost(), base.hourly_cost());
        costs.push((base.hourly_cost().0, p.hourly_cost().0));
        assert_eq!(p.node_claims.iter().map(|c| c.pods.len()).sum::<usize>(), 80);
        assert_eq!(refusals(&r, &p), Vec::<String>::new(), "seed {seed}");
    }
    // Karpenter's plans against the repacked ones, µ$/hour: cheaper for every mix.
    assert_eq!(
        costs,
        [
            (4_896_000, 3_921_300),
            (4_147_200, 3_970_800),
            (4_147_200, 4_050_000),
            (4_147_200, 4_050_000),
            (4_147_200, 3_982_520),
            (4_896_000, 3_921_300)
        ]
    );
}
