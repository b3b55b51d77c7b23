//! Preemption through the batch driver: realistic clusters built with the builders, scheduled
//! with `schedule_pending` as `kubesched schedule` does (kube-scheduler.md §4.13).

use kubesched_core::Sym;
use kubesched_core::batch::{Decision, DecisionKind, schedule_pending};
use kubesched_core::builders::{NodeBuilder, PodBuilder};
use kubesched_core::config::SchedulerConfig;
use kubesched_core::framework::build_profiles;
use kubesched_core::model::{IntOrPercent, Pod, PodDisruptionBudget, PodPhase};
use kubesched_core::plugins::registry;
use kubesched_core::schedule::Scheduler;
use kubesched_core::selector::LabelSelector;
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

const GI: i64 = 1 << 30;
/// The built-in `system-node-critical` PriorityClass.
const SYSTEM_NODE_CRITICAL: i32 = 2_000_001_000;

fn scheduler(seed: u64) -> Scheduler {
    let r = registry();
    let mut config = SchedulerConfig::default();
    // Plugins of the default profile that may not be registered yet in this tree.
    for name in ["PodTopologySpread", "InterPodAffinity"] {
        if r.get(name).is_none() {
            config.profiles[0].plugins.multi_point.disabled.push(name.into());
        }
    }
    let profiles = build_profiles(&config, &r).expect("default configuration is valid");
    Scheduler::new(profiles, 0, seed)
}

fn batch_pod(ns: &str, name: &str, app: &str, cpu: i64, priority: i32, start: i64) -> Arc<Pod> {
    Arc::new(
        PodBuilder::new(ns, name)
            .cpu_milli(cpu)
            .memory(GI)
            .label("app", app)
            .priority(priority)
            .with(|p| {
                p.phase = PodPhase::Running;
                p.start_time = Some(start);
                p.priority_class_name = Some(Sym::new("batch-low"));
            })
            .build(),
    )
}

fn outcome(d: &Decision) -> (String, String) {
    let what = match &d.kind {
        DecisionKind::Scheduled { node } => format!("Scheduled {node}"),
        DecisionKind::Preempted { node, by } => format!("Preempted on {node} by {by}"),
        DecisionKind::Unschedulable { message } => format!("Unschedulable: {message}"),
        other => format!("{other:?}"),
    };
    (d.pod.key(), what)
}

#[test]
fn system_node_critical_pod_preempts_the_newest_batch_pods_on_a_full_cluster() {
    let mut snap = Snapshot::new();
    for (i, zone) in ["a", "b", "c"].iter().enumerate() {
        let node = format!("node-{zone}");
        let id = snap.add_node(NodeBuilder::new(&node).cpu_milli(4000).memory(16 * GI).zone(zone).build());
        for k in 0..4 {
            // node-a's pods started first, node-c's last.
            let start = 1_000 * (i as i64 + 1) + k;
            snap.add_pod(batch_pod("batch", &format!("job-{zone}-{k}"), "job", 1000, 1000, start), id);
        }
    }
    let agent = PodBuilder::new("kube-system", "node-agent")
        .cpu_milli(1500)
        .memory(GI)
        .priority(SYSTEM_NODE_CRITICAL)
        .with(|p| p.priority_class_name = Some(Sym::new("system-node-critical")))
        .build();
    let decisions = schedule_pending(&mut scheduler(42), &mut snap, vec![Arc::new(agent)]);
    let outcomes: Vec<(String, String)> = decisions.iter().map(outcome).collect();
    // Every node ties on violations, priorities, sums and counts (two 1000m pods each); the
    // node whose highest-priority victims started latest is node-c. Its two newest pods go.
    assert_eq!(
        outcomes,
        [
            ("batch/job-c-2".to_string(), "Preempted on node-c by kube-system/node-agent".to_string()),
            ("batch/job-c-3".to_string(), "Preempted on node-c by kube-system/node-agent".to_string()),
            ("kube-system/node-agent".to_string(), "Scheduled node-c".to_string()),
        ]
    );
    let agent = &decisions[2];
    assert_eq!(agent.nominated_node, Some(Sym::new("node-c")));
    assert_eq!(agent.preempted, ["batch/job-c-2", "batch/job-c-3"]);
    // node-c now holds two batch pods and the agent: 3500m of 4000m.
    let c = snap.node_by_name(Sym::new("node-c")).expect("node-c");
    assert_eq!((c.pods.len(), c.requested.cpu), (3, 3500));
    assert_eq!(snap.num_pods(), 11);
}

fn steering_cluster(pdb: Option<PodDisruptionBudget>) -> Snapshot {
    let mut snap = Snapshot::new();
    let a = snap.add_node(NodeBuilder::new("node-a").cpu_milli(2000).memory(16 * GI).build());
    let b = snap.add_node(NodeBuilder::new("node-b").cpu_milli(2000).memory(16 * GI).build());
    // node-a: the cheapest victims by priority (100), but a database under a budget.
    snap.add_pod(batch_pod("prod", "db-0", "db", 1000, 100, 10), a);
    snap.add_pod(batch_pod("prod", "db-1", "db", 1000, 100, 20), a);
    // node-b: web pods of higher priority (500), no budget.
    snap.add_pod(batch_pod("prod", "web-0", "web", 1000, 500, 10), b);
    snap.add_pod(batch_pod("prod", "web-1", "web", 1000, 500, 20), b);
    snap.set_pdbs(pdb.into_iter().collect());
    snap
}

fn db_budget(status: Option<i32>) -> PodDisruptionBudget {
    PodDisruptionBudget {
        namespace: Sym::new("prod"),
        name: Sym::new("db"),
        selector: Some(LabelSelector::from_match_labels([("app", "db")])),
        min_available: Some(IntOrPercent::Int(2)),
        max_unavailable: None,
        status_disruptions_allowed: status,
    }
}

fn preemptor() -> Arc<Pod> {
    Arc::new(PodBuilder::new("prod", "api").cpu_milli(1000).memory(GI).priority(1000).build())
}

#[test]
fn without_a_budget_the_lowest_priority_victim_is_chosen() {
    let mut snap = steering_cluster(None);
    let decisions = schedule_pending(&mut scheduler(1), &mut snap, vec![preemptor()]);
    let outcomes: Vec<(String, String)> = decisions.iter().map(outcome).collect();
    assert_eq!(
        outcomes,
        [
            ("prod/db-1".to_string(), "Preempted on node-a by prod/api".to_string()),
            ("prod/api".to_string(), "Scheduled node-a".to_string()),
        ]
    );
}

#[test]
fn a_budget_steers_preemption_to_another_node() {
    // minAvailable 2 over two healthy db pods: no disruption allowed, computed from the pods.
    for status in [None, Some(0)] {
        let mut snap = steering_cluster(Some(db_budget(status)));
        let decisions = schedule_pending(&mut scheduler(1), &mut snap, vec![preemptor()]);
        let outcomes: Vec<(String, String)> = decisions.iter().map(outcome).collect();
        assert_eq!(
            outcomes,
            [
                ("prod/web-1".to_string(), "Preempted on node-b by prod/api".to_string()),
                ("prod/api".to_string(), "Scheduled node-b".to_string()),
            ],
            "status {status:?}"
        );
    }
    // A budget that allows one disruption lets node-a win again. The allowance is spent in
    // importance order (db-0 started first), so db-1 is the pod that would violate it; it is
    // reprieved first and db-0, the older pod, is the victim.
    let mut snap = steering_cluster(Some(db_budget(Some(1))));
    let decisions = schedule_pending(&mut scheduler(1), &mut snap, vec![preemptor()]);
    assert_eq!(outcome(&decisions[0]), ("prod/db-0".to_string(), "Preempted on node-a by prod/api".to_string()));
}

#[test]
fn preemption_policy_never_waits_instead() {
    let mut snap = steering_cluster(None);
    let mut pod = (*preemptor()).clone();
    pod.preemption_policy = kubesched_core::model::PreemptionPolicy::Never;
    let decisions = schedule_pending(&mut scheduler(1), &mut snap, vec![Arc::new(pod)]);
    let outcomes: Vec<(String, String)> = decisions.iter().map(outcome).collect();
    assert_eq!(
        outcomes,
        [(
            "prod/api".to_string(),
            "Unschedulable: 0/2 nodes are available: 2 Insufficient cpu. no new claims to deallocate, preemption: not eligible due to preemptionPolicy=Never."
                .to_string()
        )]
    );
    assert_eq!(snap.num_pods(), 4);
}

#[test]
fn a_wave_of_high_priority_pods_preempts_one_node_each() {
    // PreemptionBasic in miniature: 4 low-priority 900m pods per 4-CPU node, 3000m preemptors.
    let mut snap = Snapshot::new();
    for n in 0..5 {
        let id = snap.add_node(NodeBuilder::new(&format!("n{n}")).cpu_milli(4000).memory(32 * GI).build());
        for k in 0..4 {
            snap.add_pod(batch_pod("default", &format!("low-{n}-{k}"), "low", 900, 0, 1), id);
        }
    }
    let high: Vec<Arc<Pod>> = (0..5)
        .map(|i| Arc::new(PodBuilder::new("default", &format!("high-{i}")).cpu_milli(3000).priority(10).build()))
        .collect();
    let decisions = schedule_pending(&mut scheduler(3), &mut snap, high);
    let scheduled: Vec<&Decision> =
        decisions.iter().filter(|d| matches!(d.kind, DecisionKind::Scheduled { .. })).collect();
    let preempted = decisions.iter().filter(|d| matches!(d.kind, DecisionKind::Preempted { .. })).count();
    assert_eq!((scheduled.len(), preempted), (5, 15));
    // Each node ends with one low pod and one high pod.
    for info in snap.nodes() {
        assert_eq!((info.pods.len(), info.requested.cpu), (2, 3900), "{}", info.name());
    }
    assert!(scheduled.iter().all(|d| d.preempted.len() == 3));
}

#[test]
fn evictions_charge_a_budget_given_in_the_input_for_the_next_preemption() {
    let mut snap = Snapshot::new();
    let a = snap.add_node(NodeBuilder::new("node-a").cpu_milli(1000).memory(16 * GI).build());
    let b = snap.add_node(NodeBuilder::new("node-b").cpu_milli(1000).memory(16 * GI).build());
    let c = snap.add_node(NodeBuilder::new("node-c").cpu_milli(1000).memory(16 * GI).build());
    snap.add_pod(batch_pod("prod", "db-0", "db", 1000, 0, 10), a);
    snap.add_pod(batch_pod("prod", "db-1", "db", 1000, 0, 20), b);
    snap.add_pod(batch_pod("prod", "web-0", "web", 1000, 50, 10), c);
    let mut budget = db_budget(Some(1));
    budget.min_available = Some(IntOrPercent::Int(1));
    snap.set_pdbs(vec![budget]);
    let pods: Vec<Arc<Pod>> = ["p1", "p2"]
        .iter()
        .map(|n| Arc::new(PodBuilder::new("prod", n).cpu_milli(1000).memory(GI).priority(100).build()))
        .collect();
    let decisions = schedule_pending(&mut scheduler(1), &mut snap, pods);
    let outcomes: Vec<(String, String)> = decisions.iter().map(outcome).collect();
    // p1 takes the budget's one disruption (db-1, the newer db pod); for p2 evicting db-0 would
    // now violate the budget, so the higher-priority web pod goes instead.
    assert_eq!(
        outcomes,
        [
            ("prod/db-1".to_string(), "Preempted on node-b by prod/p1".to_string()),
            ("prod/p1".to_string(), "Scheduled node-b".to_string()),
            ("prod/web-0".to_string(), "Preempted on node-c by prod/p2".to_string()),
            ("prod/p2".to_string(), "Scheduled node-c".to_string()),
        ]
    );
    assert_eq!(snap.pdbs()[0].status_disruptions_allowed, Some(0));
}

#[test]
fn preemption_clears_the_nomination_of_lower_priority_pods_on_the_node() {
    let mut snap = Snapshot::new();
    let a = snap.add_node(NodeBuilder::new("node-a").cpu_milli(2000).memory(16 * GI).build());
    snap.add_pod(batch_pod("prod", "low", "low", 2000, 0, 10), a);
    // `waiting` (priority 5) was nominated to node-a by an earlier preemption.
    let waiting = Arc::new(
        PodBuilder::new("prod", "waiting")
            .cpu_milli(1000)
            .memory(GI)
            .priority(5)
            .with(|p| p.nominated_node_name = Some(Sym::new("node-a")))
            .build(),
    );
    snap.nominate(waiting.clone(), a);
    let high = Arc::new(PodBuilder::new("prod", "high").cpu_milli(2000).memory(GI).priority(100).build());
    let decisions = schedule_pending(&mut scheduler(1), &mut snap, vec![waiting, high]);
    let outcomes: Vec<(String, String)> = decisions.iter().map(outcome).collect();
    assert_eq!(outcomes[0], ("prod/low".to_string(), "Preempted on node-a by prod/high".to_string()));
    assert_eq!(outcomes[1], ("prod/high".to_string(), "Scheduled node-a".to_string()));
    // `waiting` lost its nomination: it is no longer held for node-a and its decision shows none.
    assert_eq!(outcomes[2].0, "prod/waiting");
    assert_eq!(decisions[2].nominated_node, None);
    assert!(snap.nominated_pods(a).is_empty());
}
