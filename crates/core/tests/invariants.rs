//! Property tests for the scheduler's invariants on random clusters: a pod is never bound to a
//! node it does not fit (resources, pod count, node selector, untolerated taints, anti-affinity),
//! and the same input and seed always give the same decisions.

use kubesched_core::batch::{Decision, DecisionKind, schedule_pending};
use kubesched_core::builders::{NodeBuilder, PodBuilder};
use kubesched_core::config::SchedulerConfig;
use kubesched_core::framework::build_profiles;
use kubesched_core::intern::Sym;
use kubesched_core::model::{Affinity, PodAffinity, PodAffinityTerm, TaintEffect, first_untolerated};
use kubesched_core::plugins::registry;
use kubesched_core::schedule::Scheduler;
use kubesched_core::selector::LabelSelector;
use kubesched_core::snapshot::Snapshot;
use proptest::prelude::*;
use std::sync::Arc;

#[derive(Clone, Debug)]
struct NodeSpec {
    cpu: i64,
    mem_gi: i64,
    pods: i64,
    zone: u8,
    tainted: bool,
    ssd: bool,
}

#[derive(Clone, Debug)]
struct PodSpec {
    cpu: i64,
    mem_mi: i64,
    priority: i32,
    wants_ssd: bool,
    tolerates: bool,
    anti_affinity: bool,
    app: u8,
}

fn node_spec() -> impl Strategy<Value = NodeSpec> {
    (500i64..8000, 1i64..32, 1i64..20, 0u8..3, any::<bool>(), any::<bool>())
        .prop_map(|(cpu, mem_gi, pods, zone, tainted, ssd)| NodeSpec { cpu, mem_gi, pods, zone, tainted, ssd })
}

fn pod_spec() -> impl Strategy<Value = PodSpec> {
    (0i64..3000, 0i64..4096, 0i32..3, prop::bool::weighted(0.2), any::<bool>(), prop::bool::weighted(0.3), 0u8..3)
        .prop_map(|(cpu, mem_mi, priority, wants_ssd, tolerates, anti_affinity, app)| PodSpec {
            cpu,
            mem_mi,
            priority: priority * 100,
            wants_ssd,
            tolerates,
            anti_affinity,
            app,
        })
}

fn build(nodes: &[NodeSpec], pods: &[PodSpec]) -> (Snapshot, Vec<Arc<kubesched_core::model::Pod>>) {
    let mut snapshot = Snapshot::new();
    for (i, n) in nodes.iter().enumerate() {
        let mut b = NodeBuilder::new(&format!("n{i}"))
            .cpu_milli(n.cpu)
            .memory(n.mem_gi << 30)
            .pods(n.pods)
            .zone(&format!("z{}", n.zone));
        if n.tainted {
            b = b.taint("dedicated", "batch", TaintEffect::NoSchedule);
        }
        if n.ssd {
            b = b.label("disk", "ssd");
        }
        snapshot.add_node(b.build());
    }
    let pods = pods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let app = format!("app{}", p.app);
            let mut b = PodBuilder::new("default", &format!("p{i}"))
                .cpu_milli(p.cpu)
                .memory(p.mem_mi << 20)
                .priority(p.priority)
                .label("app", &app);
            if p.wants_ssd {
                b = b.node_selector("disk", "ssd");
            }
            if p.tolerates {
                b = b.toleration("dedicated", "batch", Some(TaintEffect::NoSchedule));
            }
            if p.anti_affinity {
                let term = PodAffinityTerm {
                    label_selector: Some(LabelSelector::from_match_labels([("app", app.as_str())])),
                    namespaces: vec![],
                    namespace_selector: None,
                    topology_key: Sym::HOSTNAME,
                    match_label_keys: vec![],
                    mismatch_label_keys: vec![],
                };
                b = b.affinity(Affinity {
                    pod_anti_affinity: Some(PodAffinity { required: vec![term], preferred: vec![] }),
                    ..Default::default()
                });
            }
            Arc::new(b.build())
        })
        .collect();
    (snapshot, pods)
}

fn run(nodes: &[NodeSpec], pods: &[PodSpec], seed: u64) -> (Snapshot, Vec<Decision>) {
    let (mut snapshot, pods) = build(nodes, pods);
    let profiles =
        build_profiles(&SchedulerConfig::default(), &registry()).expect("the default configuration is valid");
    let mut scheduler = Scheduler::new(profiles, 0, seed);
    let decisions = schedule_pending(&mut scheduler, &mut snapshot, pods);
    (snapshot, decisions)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_node_is_ever_overcommitted_or_given_a_pod_it_refuses(
        nodes in prop::collection::vec(node_spec(), 1..8),
        pods in prop::collection::vec(pod_spec(), 0..40),
        seed in 0u64..1000,
    ) {
        let (snapshot, decisions) = run(&nodes, &pods, seed);
        for node in snapshot.nodes() {
            let alloc = &node.node.allocatable;
            prop_assert!(node.requested.cpu <= alloc.cpu, "cpu over on {}", node.name());
            prop_assert!(node.requested.memory <= alloc.memory, "memory over on {}", node.name());
            prop_assert!(node.pods.len() as i64 <= alloc.pods, "pods over on {}", node.name());
            let mut apps_with_anti_affinity = Vec::new();
            for &id in &node.pods {
                let pod = &snapshot.pod(id).pod;
                prop_assert!(node.labels().contains_all(&pod.node_selector), "{} ignores its nodeSelector", pod.key());
                prop_assert!(
                    first_untolerated(&node.node.taints, &pod.tolerations, &[TaintEffect::NoSchedule, TaintEffect::NoExecute]).is_none(),
                    "{} is on a node whose taint it does not tolerate", pod.key()
                );
                if pod.has_required_anti_affinity() {
                    apps_with_anti_affinity.push(pod.labels.get(Sym::new("app")));
                }
            }
            // Required anti-affinity on the hostname: no two pods of one app when one of them has it.
            for app in &apps_with_anti_affinity {
                let same = node.pods.iter().filter(|&&id| snapshot.pod(id).pod.labels.get(Sym::new("app")) == *app).count();
                prop_assert!(same <= 1, "two pods of {:?} share {} despite anti-affinity", app, node.name());
            }
        }
        // Every decision is accounted: scheduled pods are on the node the decision names.
        for d in &decisions {
            if let DecisionKind::Scheduled { node } = &d.kind {
                let id = snapshot.pod_id(d.pod.namespace, d.pod.name);
                prop_assert!(id.is_some_and(|id| snapshot.node(snapshot.pod(id).node).name() == *node));
            }
        }
    }

    #[test]
    fn same_input_and_seed_give_the_same_decisions(
        nodes in prop::collection::vec(node_spec(), 1..6),
        pods in prop::collection::vec(pod_spec(), 0..25),
        seed in 0u64..1000,
    ) {
        let summary = |d: &[Decision]| d.iter().map(|d| format!("{} {:?}", d.pod.key(), d.kind)).collect::<Vec<_>>();
        let (_, a) = run(&nodes, &pods, seed);
        let (_, b) = run(&nodes, &pods, seed);
        prop_assert_eq!(summary(&a), summary(&b));
    }
}
