//! Scenario-driven tests of the engine, the controllers and the queue together. Every scenario
//! is inline YAML; every expectation is a time, a node or a message from the event log.

use crate::actor::{Actor, ActorCx, Notice};
use crate::report::{LogEntry, Report};
use crate::scenario::{Files, parse};
use crate::time::{SECOND, format_duration};
use kubesched_k8s::input::Input;

struct NoFiles;

impl Files for NoFiles {
    fn input(&self, rel: &str) -> Result<Input, String> {
        Err(format!("{rel}: no files in tests"))
    }
    fn read(&self, rel: &str) -> Result<(String, String), String> {
        Err(format!("{rel}: no files in tests"))
    }
}

fn node(name: &str, cpu: u32) -> String {
    format!(
        "  - {{apiVersion: v1, kind: Node, metadata: {{name: {name}}}, status: {{allocatable: {{cpu: '{cpu}', memory: 64Gi, pods: '110'}}}}}}\n"
    )
}

fn scenario(spec: &str, objects: &str, events: &str) -> String {
    let objects: String = objects.lines().map(|l| format!("  {l}\n")).collect();
    format!(
        "apiVersion: kubesched.io/v1alpha1\nkind: Scenario\nmetadata: {{name: t}}\nspec:\n{spec}  cluster:\n    objects:\n{objects}  events:\n{events}"
    )
}

fn run_with(text: &str, actors: Vec<Box<dyn Actor>>) -> Report {
    let s = match parse("t.yaml", text, &NoFiles, None) {
        Ok(s) => s,
        Err(errs) => panic!("{}", errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")),
    };
    crate::run(&s, &s.scheduler, None, actors, &mut |_, _| {}).expect("runs")
}

fn run(text: &str) -> Report {
    run_with(text, Vec::new())
}

/// `(time, event, pod or object, node)` of every log entry matching `f`.
fn find(r: &Report, f: impl Fn(&LogEntry) -> bool) -> Vec<&LogEntry> {
    r.events.iter().filter(|e| f(e)).collect()
}

fn scheduled(r: &Report) -> Vec<(String, String, String)> {
    find(r, |e| e.outcome() == Some("Scheduled"))
        .iter()
        .map(|e| {
            (e.time.clone(), e.pod_key().unwrap_or_default().to_string(), e.node_name().unwrap_or_default().to_string())
        })
        .collect()
}

fn pod_state<'a>(r: &'a Report, key: &str) -> &'a crate::report::PodState {
    r.pods.iter().rev().find(|p| p.pod == key).unwrap_or_else(|| panic!("no pod {key}"))
}

const WEB: &str = "  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web}\n    spec:\n      replicas: 2\n      selector: {matchLabels: {app: web}}\n      template:\n        metadata: {labels: {app: web}}\n        spec: {containers: [{name: c, resources: {requests: {cpu: '3'}}}]}\n";

#[test]
fn a_failed_nodes_pods_are_evicted_after_the_grace_period_and_their_toleration_then_replaced() {
    let objects = format!(
        "{}{}{WEB}  - {{apiVersion: v1, kind: Pod, metadata: {{name: tolerant}}, spec: {{nodeName: n1, containers: [{{name: c}}], tolerations: [{{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 60}}]}}}}\n  - {{apiVersion: v1, kind: Pod, metadata: {{name: forever}}, spec: {{nodeName: n1, containers: [{{name: c}}], tolerations: [{{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}}]}}}}\n",
        node("n1", 4),
        node("n2", 4)
    );
    let events = "  - {at: 1m, failNode: n1}\n  - at: 5m\n    apply: {apiVersion: v1, kind: Node, metadata: {name: n3}, status: {allocatable: {cpu: '4', memory: 64Gi, pods: '110'}}}\n";
    let r = run(&scenario("  duration: 10m\n", &objects, events));
    let on_n1: Vec<&str> = r
        .pods
        .iter()
        .filter(|p| {
            p.pod.starts_with("default/web-") && p.scheduled.as_deref() == Some("0s") && p.node.as_deref() == Some("n1")
        })
        .map(|p| p.pod.as_str())
        .collect();
    assert_eq!(on_n1.len(), 1, "one web pod per node: {:?}", r.pods);
    let taints: Vec<(String, String)> =
        find(&r, |e| e.event.starts_with("Node")).iter().map(|e| (e.time.clone(), e.event.clone())).collect();
    assert_eq!(
        taints,
        [
            ("1m".into(), "NodeNotReady".into()),
            ("1m50s".into(), "NodeNoExecute".into()),
            ("5m".into(), "NodeAdded".into())
        ]
    );
    let evicted: Vec<(String, String)> = find(&r, |e| e.event == "PodEvicted")
        .iter()
        .map(|e| (e.time.clone(), e.pod.clone().unwrap_or_default()))
        .collect();
    // 60s after the NoExecute taint for the tolerant pod; 300s (DefaultTolerationSeconds) for the web pod.
    assert_eq!(evicted, [("2m50s".into(), "default/tolerant".into()), ("6m50s".into(), on_n1[0].to_string())]);
    // The replacement comes back on the new node at the eviction, not before.
    let after: Vec<(String, String, String)> = scheduled(&r).into_iter().filter(|(t, _, _)| t != "0s").collect();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!((after[0].0.as_str(), after[0].2.as_str()), ("6m50s", "n3"));
    assert!(after[0].1.starts_with("default/web-"));
    let forever = pod_state(&r, "default/forever");
    assert_eq!((forever.phase.as_str(), forever.node.as_deref()), ("Running", Some("n1")));
}

#[test]
fn untolerated_no_execute_taints_evict_at_once_and_unreachable_uses_its_own_taint() {
    let objects = format!(
        "{}  - {{apiVersion: v1, kind: Pod, metadata: {{name: p}}, spec: {{nodeName: n1, containers: [{{name: c}}]}}}}\n",
        node("n1", 4)
    );
    let events = "  - {at: 10s, taint: {node: n1, key: maintenance, effect: NoExecute}}\n";
    let r = run(&scenario("", &objects, events));
    let e = find(&r, |e| e.event == "PodEvicted");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].time, "10s");
    assert_eq!(
        e[0].message.as_deref(),
        Some("Taint manager: deleting due to NoExecute taint maintenance on node n1, which the pod does not tolerate")
    );
    let objects = format!(
        "{}  - {{apiVersion: v1, kind: Pod, metadata: {{name: p}}, spec: {{nodeName: n1, containers: [{{name: c}}]}}}}\n",
        node("n1", 4)
    );
    let events = "  - {at: 10s, failNode: {node: n1, condition: Unreachable}}\n  - {at: 3m, recoverNode: n1}\n";
    let r = run(&scenario("  nodeMonitorGracePeriod: 40s\n", &objects, events));
    let names: Vec<(String, String, String)> = find(&r, |e| e.event.starts_with("Node"))
        .iter()
        .map(|e| (e.time.clone(), e.event.clone(), e.message.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        names[0],
        ("10s".into(), "NodeUnreachable".into(), "node.kubernetes.io/unreachable:NoSchedule added".into())
    );
    assert_eq!(names[1].0, "50s");
    assert_eq!(names[2], ("3m".into(), "NodeRecovered".into(), String::new()));
    // Recovered before 50s + 300s: the eviction is cancelled.
    assert!(find(&r, |e| e.event == "PodEvicted").is_empty());
    assert_eq!(pod_state(&r, "default/p").phase, "Running");
}

#[test]
fn a_drain_waits_while_the_budget_allows_no_disruption() {
    let objects = format!(
        "{}{}{WEB}  - {{apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {{name: web}}, spec: {{minAvailable: 2, selector: {{matchLabels: {{app: web}}}}}}}}\n",
        node("n1", 4),
        node("n2", 4)
    );
    let events = "  - {at: 1m, drain: n1}\n  - at: 90s\n    apply: {apiVersion: v1, kind: Node, metadata: {name: n3}, status: {allocatable: {cpu: '8', memory: 64Gi, pods: '110'}}}\n  - {at: 2m, scale: {kind: Deployment, name: web, replicas: 3}}\n";
    let r = run(&scenario("", &objects, events));
    let refused = find(&r, |e| e.event == "EvictionRefused");
    assert_eq!(refused[0].time, "1m");
    assert_eq!(
        refused[0].message.as_deref(),
        Some("Cannot evict pod as it would violate the pod's disruption budget.")
    );
    assert_eq!(refused[0].reason.as_deref(), Some("TooManyRequests"));
    // Retried every 5s: 1m, 1m5s … 2m (the retry at 2m runs before the scale-up's pod does).
    assert_eq!(refused.len(), 13, "{:?}", refused.iter().map(|e| &e.time).collect::<Vec<_>>());
    assert_eq!(refused.last().map(|e| e.time.as_str()), Some("2m"));
    let done = find(&r, |e| e.event == "DrainCompleted");
    assert_eq!((done[0].time.as_str(), done[0].message.as_deref()), ("2m5s", Some("in 1m5s")));
    let evicted = find(&r, |e| e.event == "PodEvicted");
    assert_eq!((evicted.len(), evicted[0].time.as_str(), evicted[0].reason.as_deref()), (1, "2m5s", Some("Drained")));
    // The third replica and the evicted pod's replacement both land on n3.
    let late: Vec<String> =
        scheduled(&r).into_iter().filter(|(t, _, _)| t != "0s").map(|(t, _, n)| format!("{t} {n}")).collect();
    assert_eq!(late, ["2m n3", "2m5s n3"]);
}

#[test]
fn a_rolling_update_surges_one_pod_at_a_time_without_going_below_the_replicas() {
    let deploy = |image: &str| {
        format!(
            "apiVersion: apps/v1\n    kind: Deployment\n    metadata: {{name: web}}\n    spec:\n      replicas: 4\n      strategy: {{rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}}}\n      selector: {{matchLabels: {{app: web}}}}\n      template:\n        metadata: {{labels: {{app: web}}}}\n        spec: {{containers: [{{name: c, image: '{image}', resources: {{requests: {{cpu: 100m}}}}}}]}}\n"
        )
    };
    let objects = format!("{}  - {}", node("n1", 16), deploy("v1"));
    let events = format!("  - at: 1m\n    apply:\n      {}", deploy("v2").replace("\n    ", "\n      "));
    let r = run(&scenario("  timing: {binding: 10s}\n", &objects, &events));
    let scaling: Vec<(String, String)> = find(&r, |e| e.event == "ScalingReplicaSet")
        .iter()
        .map(|e| (e.time.clone(), e.message.clone().unwrap_or_default()))
        .collect();
    let new_rs =
        find(&r, |e| e.event == "ReplicaSetCreated").last().and_then(|e| e.message.clone()).unwrap_or_default();
    let new_rs = new_rs.split_whitespace().nth(2).unwrap_or_default().to_string();
    let old_rs = r.pods[0].owner.clone().unwrap_or_default().replace("ReplicaSet default/", "");
    assert_ne!(new_rs, old_rs);
    let expected: Vec<(String, String)> = vec![
        ("1m".into(), format!("Scaled up replica set {new_rs} from 0 to 1")),
        ("1m10s".into(), format!("Scaled down replica set {old_rs} from 4 to 3")),
        ("1m10s".into(), format!("Scaled up replica set {new_rs} from 1 to 2")),
        ("1m20s".into(), format!("Scaled down replica set {old_rs} from 3 to 2")),
        ("1m20s".into(), format!("Scaled up replica set {new_rs} from 2 to 3")),
        ("1m30s".into(), format!("Scaled down replica set {old_rs} from 2 to 1")),
        ("1m30s".into(), format!("Scaled up replica set {new_rs} from 3 to 4")),
        ("1m40s".into(), format!("Scaled down replica set {old_rs} from 1 to 0")),
    ];
    assert_eq!(scaling, expected);
    let running: Vec<&str> =
        r.pods.iter().filter(|p| p.phase == "Running").filter_map(|p| p.owner.as_deref()).collect();
    assert_eq!(running, vec![format!("ReplicaSet default/{new_rs}").as_str(); 4]);
    assert!(new_rs.starts_with("web-"));
}

#[test]
fn statefulsets_create_ordinals_in_order_and_scale_down_from_the_top() {
    // Created by the timeline: a StatefulSet of the starting cluster has all its pods already,
    // as the loader expands it.
    let apply = |policy: &str| {
        format!(
            "  - at: 1s\n    apply: {{apiVersion: apps/v1, kind: StatefulSet, metadata: {{name: db}}, spec: {{replicas: 3, podManagementPolicy: {policy}, serviceName: db, selector: {{matchLabels: {{app: db}}}}, template: {{metadata: {{labels: {{app: db}}}}, spec: {{containers: [{{name: c}}]}}}}}}}}\n"
        )
    };
    let events =
        format!("{}  - {{at: 1m, scale: {{kind: StatefulSet, name: db, replicas: 1}}}}\n", apply("OrderedReady"));
    let r = run(&scenario("  timing: {binding: 5s}\n", &node("n1", 8), &events));
    let created: Vec<(String, String)> = find(&r, |e| e.event == "PodCreated")
        .iter()
        .map(|e| (e.time.clone(), e.pod.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        created,
        [
            ("1s".into(), "default/db-0".into()),
            ("6s".into(), "default/db-1".into()),
            ("11s".into(), "default/db-2".into())
        ]
    );
    let deleted: Vec<(String, String)> = find(&r, |e| e.event == "PodDeleted")
        .iter()
        .map(|e| (e.time.clone(), e.pod.clone().unwrap_or_default()))
        .collect();
    assert_eq!(deleted, [("1m".into(), "default/db-2".into()), ("1m".into(), "default/db-1".into())]);
    let r = run(&scenario("  timing: {binding: 5s}\n", &node("n1", 8), &apply("Parallel")));
    assert_eq!(find(&r, |e| e.event == "PodCreated").iter().filter(|e| e.time == "1s").count(), 3);
}

#[test]
fn a_job_runs_its_completions_in_waves_then_its_ttl_deletes_it() {
    let job = "  - apiVersion: batch/v1\n    kind: Job\n    metadata: {name: batch}\n    spec:\n      completions: 4\n      parallelism: 2\n      ttlSecondsAfterFinished: 60\n      template:\n        metadata: {annotations: {kubesched.io/duration: 10m}}\n        spec: {restartPolicy: Never, containers: [{name: c}]}\n";
    let r = run(&scenario("", &format!("{}{job}", node("n1", 8)), ""));
    let succeeded: Vec<String> = find(&r, |e| e.event == "PodSucceeded").iter().map(|e| e.time.clone()).collect();
    assert_eq!(succeeded, ["10m", "10m", "20m", "20m"]);
    let job_events: Vec<(String, String)> =
        find(&r, |e| e.event.starts_with("Job")).iter().map(|e| (e.time.clone(), e.event.clone())).collect();
    assert_eq!(job_events, [("20m".into(), "JobCompleted".into()), ("21m".into(), "JobDeleted".into())]);
    assert!(r.pods.iter().all(|p| p.phase == "Deleted" && p.reason.as_deref() == Some("Completed")), "{:?}", r.pods);
    assert_eq!(r.summary.pods_succeeded, 4);
    assert_eq!(r.end, "21m", "the run ends when nothing is left to happen");
}

#[test]
fn a_job_fails_once_more_pods_fail_than_its_backoff_limit() {
    let job = "  - apiVersion: batch/v1\n    kind: Job\n    metadata: {name: flaky}\n    spec:\n      backoffLimit: 1\n      template:\n        spec: {restartPolicy: Never, containers: [{name: c}]}\n";
    // Each NoExecute taint evicts the running pod at once; the second failure exceeds the limit.
    let events = "  - {at: 1m, taint: {node: n1, key: a, effect: NoExecute}}\n  - {at: 2m, untaint: {node: n1, key: a}}\n  - {at: 3m, taint: {node: n1, key: b, effect: NoExecute}}\n";
    let r = run(&scenario("", &format!("{}{job}", node("n1", 8)), events));
    let failed = find(&r, |e| e.event == "JobFailed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].time, "3m");
    assert_eq!(failed[0].message.as_deref(), Some("BackoffLimitExceeded: 2 pod(s) failed, backoffLimit 1"));
}

#[test]
fn daemonsets_follow_nodes_in_and_out() {
    let ds = "  - apiVersion: apps/v1\n    kind: DaemonSet\n    metadata: {name: agent}\n    spec:\n      selector: {matchLabels: {app: agent}}\n      template:\n        metadata: {labels: {app: agent}}\n        spec: {containers: [{name: c}]}\n";
    let events = "  - at: 1m\n    apply: {apiVersion: v1, kind: Node, metadata: {name: n2}, status: {allocatable: {cpu: '4', memory: 8Gi, pods: '110'}}}\n  - {at: 2m, delete: node/n2}\n";
    let r = run(&scenario("", &format!("{}{ds}", node("n1", 4)), events));
    let placed: Vec<(String, String)> = scheduled(&r).into_iter().map(|(t, _, n)| (t, n)).collect();
    assert_eq!(placed, [("0s".into(), "n1".into()), ("1m".into(), "n2".into())]);
    let gone = find(&r, |e| e.event == "PodDeleted");
    assert_eq!((gone.len(), gone[0].time.as_str(), gone[0].reason.as_deref()), (1, "2m", Some("NodeDeleted")));
    assert_eq!(r.pods.iter().filter(|p| p.phase == "Running").count(), 1);
}

#[test]
fn preempted_pods_of_a_controller_come_back_as_new_pending_pods() {
    let low = "  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: low}\n    spec:\n      replicas: 2\n      selector: {matchLabels: {app: low}}\n      template:\n        metadata: {labels: {app: low}}\n        spec: {containers: [{name: c, resources: {requests: {cpu: '2'}}}]}\n";
    let events = "  - at: 1m\n    apply:\n    - {apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: high}, value: 1000}\n    - {apiVersion: v1, kind: Pod, metadata: {name: urgent}, spec: {priorityClassName: high, containers: [{name: c, resources: {requests: {cpu: '2'}}}]}}\n";
    let r = run(&scenario("", &format!("{}{low}", node("n1", 4)), events));
    let preempted = find(&r, |e| e.outcome() == Some("Preempted"));
    assert_eq!(preempted.len(), 1);
    let victim = preempted[0].pod_key().unwrap_or_default().to_string();
    assert_eq!(preempted[0].decision.as_ref().and_then(|d| d.preempted_by.as_deref()), Some("default/urgent"));
    let urgent: Vec<(String, String)> = find(&r, |e| e.pod_key() == Some("default/urgent") && e.decision.is_some())
        .iter()
        .map(|e| (e.time.clone(), e.outcome().unwrap_or_default().to_string()))
        .collect();
    assert_eq!(urgent, [("1m".into(), "Unschedulable".into()), ("1m".into(), "Scheduled".into())]);
    let first = find(&r, |e| e.pod_key() == Some("default/urgent") && e.decision.is_some())[0];
    let d = first.decision.as_ref().expect("decision");
    assert_eq!((d.nominated_node.as_deref(), d.preempted.clone()), (Some("n1"), Some(vec![victim.clone()])));
    assert_eq!(pod_state(&r, &victim).reason.as_deref(), Some("Preempted"));
    // The ReplicaSet replaced the victim; the replacement waits.
    let pending: Vec<&str> = r.pods.iter().filter(|p| p.phase == "Pending").map(|p| p.pod.as_str()).collect();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].starts_with("default/low-") && pending[0] != victim);
    assert_eq!(r.summary.pods_preempted, 1);
}

#[test]
fn gated_pods_follow_the_api_servers_update_rules() {
    let pod = "  - {apiVersion: v1, kind: Pod, metadata: {name: g}, spec: {schedulingGates: [{name: example.com/a}, {name: example.com/b}], nodeSelector: {zone: a}, containers: [{name: c}]}}\n";
    let n = "  - {apiVersion: v1, kind: Node, metadata: {name: n1, labels: {zone: a, disk: ssd}}, status: {allocatable: {cpu: '4', memory: 8Gi, pods: '110'}}}\n";
    let events = "  - {at: 1m, updatePod: {pod: g, nodeSelector: {zone: a, disk: ssd}}}\n  - {at: 2m, updatePod: {pod: g, nodeSelector: {zone: b}}}\n  - {at: 3m, updatePod: {pod: g, schedulingGates: [example.com/a, example.com/c]}}\n  - {at: 4m, removeSchedulingGates: {pod: g, gates: [example.com/a]}}\n  - {at: 5m, removeSchedulingGates: g}\n  - {at: 6m, updatePod: {pod: g, nodeSelector: {zone: a}}}\n";
    let r = run(&scenario("", &format!("{n}{pod}"), events));
    let log: Vec<(String, String, String)> = find(&r, |e| e.pod_key() == Some("default/g"))
        .iter()
        .map(|e| {
            let what = e.outcome().map(str::to_string).unwrap_or_else(|| e.event.clone());
            let msg = e
                .message
                .clone()
                .or_else(|| e.decision.as_ref().and_then(|d| d.message.clone().or(d.node.clone())))
                .unwrap_or_default();
            (e.time.clone(), what, msg)
        })
        .collect();
    let expected: Vec<(&str, &str, &str)> = vec![
        ("0s", "Gated", "waiting for scheduling gates: [example.com/a example.com/b]"),
        ("1m", "PodUpdated", "nodeSelector {\"disk\":\"ssd\",\"zone\":\"a\"}"),
        (
            "2m",
            "UpdateRejected",
            "Pod \"g\" is invalid: spec.nodeSelector: Invalid value: {\"zone\":\"b\"}: only additions to spec.nodeSelector are allowed (no mutations or deletions)",
        ),
        (
            "3m",
            "UpdateRejected",
            "Pod \"g\" is invalid: spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new scheduling gate 'example.com/c'",
        ),
        ("4m", "SchedulingGatesRemoved", "schedulingGates [example.com/b]"),
        ("5m", "SchedulingGatesRemoved", "schedulingGates []"),
        ("5m", "Scheduled", "n1"),
        (
            "6m",
            "UpdateRejected",
            "Pod \"g\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        ),
    ];
    let got: Vec<(&str, &str, &str)> = log.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    assert_eq!(got, expected);
    // Gated time does not count as scheduling latency.
    assert_eq!(r.summary.latency.max, 0.0);
}

#[test]
fn an_unschedulable_pod_moves_on_a_helpful_event_after_its_backoff() {
    let pods = "  - {apiVersion: v1, kind: Pod, metadata: {name: big1}, spec: {containers: [{name: c, resources: {requests: {cpu: '3'}}}]}}\n  - {apiVersion: v1, kind: Pod, metadata: {name: big2}, spec: {containers: [{name: c, resources: {requests: {cpu: '3'}}}]}}\n";
    let events = "  - {at: 500ms, delete: pod/big1}\n";
    for (pop, at) in [("false", "1s"), ("true", "500ms")] {
        let r = run(&scenario(
            &format!("  queue: {{popFromBackoffQ: {pop}}}\n"),
            &format!("{}{pods}", node("n1", 4)),
            events,
        ));
        let big2: Vec<(String, String)> = find(&r, |e| e.pod_key() == Some("default/big2") && e.decision.is_some())
            .iter()
            .map(|e| (e.time.clone(), e.outcome().unwrap_or_default().to_string()))
            .collect();
        assert_eq!(
            big2,
            [("0s".into(), "Unschedulable".into()), (at.into(), "Scheduled".into())],
            "popFromBackoffQ {pop}"
        );
    }
}

#[test]
fn only_helpful_events_move_a_pod_otherwise_the_leftover_flush_retries_it_every_five_minutes() {
    let pods = "  - {apiVersion: v1, kind: Pod, metadata: {name: big}, spec: {containers: [{name: c, resources: {requests: {cpu: '8'}}}]}}\n";
    // A new taint helps no rejected plugin; the pod is retried by the leftover flush only.
    let events = "  - {at: 1m, taint: {node: n1, key: k, effect: NoSchedule}}\n";
    let r = run(&scenario("  duration: 12m\n", &format!("{}{pods}", node("n1", 4)), events));
    let attempts: Vec<String> =
        find(&r, |e| e.pod_key() == Some("default/big")).iter().map(|e| e.time.clone()).collect();
    assert_eq!(attempts, ["0s", "5m30s", "11m"]);
    let p = pod_state(&r, "default/big");
    assert_eq!(p.attempts, 3);
    assert_eq!(
        p.message.as_deref(),
        Some(
            "0/1 nodes are available: 1 node(s) had untolerated taint {k: }. no new claims to deallocate, preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        )
    );
}

/// A serverless scheduler in miniature: binds the pods of its `schedulerName` after 5 seconds.
struct Binder {
    waiting: Vec<String>,
}

impl Actor for Binder {
    fn name(&self) -> &str {
        "test-binder"
    }
    fn notice(&mut self, cx: &mut ActorCx<'_, '_>, notice: &Notice) {
        if let Notice::PodCreated { pod, scheduler_name, queued: false } = notice
            && scheduler_name == "custom"
        {
            self.waiting.push(pod.clone());
            cx.set_timer(5 * SECOND, self.waiting.len() as u64 - 1);
        }
    }
    fn timer(&mut self, cx: &mut ActorCx<'_, '_>, token: u64) {
        if let Some(pod) = self.waiting.get(token as usize).cloned() {
            let result = cx.bind(&pod, "n1");
            cx.record("Bound", format!("{pod}: {result:?}"));
        }
    }
}

/// An autoscaler in miniature: a node 60 seconds after the first unschedulable pod.
struct Scaler {
    asked: bool,
}

impl Actor for Scaler {
    fn name(&self) -> &str {
        "test-scaler"
    }
    fn notice(&mut self, cx: &mut ActorCx<'_, '_>, notice: &Notice) {
        if matches!(notice, Notice::PodUnschedulable { .. }) && !self.asked {
            self.asked = true;
            let node = kubesched_core::builders::NodeBuilder::new("new-node").cpu_milli(8000).memory(8 << 30).build();
            cx.add_node_after(60 * SECOND, node);
        }
    }
}

#[test]
fn actors_plug_in_as_event_sources_and_binders() {
    let pods = "  - {apiVersion: v1, kind: Pod, metadata: {name: mine}, spec: {schedulerName: custom, containers: [{name: c}]}}\n  - {apiVersion: v1, kind: Pod, metadata: {name: big}, spec: {containers: [{name: c, resources: {requests: {cpu: '6'}}}]}}\n";
    let actors: Vec<Box<dyn Actor>> = vec![Box::new(Binder { waiting: Vec::new() }), Box::new(Scaler { asked: false })];
    let r = run_with(&scenario("", &format!("{}{pods}", node("n1", 4)), ""), actors);
    let bound = find(&r, |e| e.event == "PodBound");
    assert_eq!(bound.len(), 1);
    assert_eq!(
        (bound[0].time.as_str(), bound[0].actor.as_deref(), bound[0].node.as_deref()),
        ("5s", Some("test-binder"), Some("n1"))
    );
    let added = find(&r, |e| e.event == "NodeAdded");
    assert_eq!((added[0].time.as_str(), added[0].actor.as_deref()), ("1m", Some("test-scaler")));
    assert_eq!(scheduled(&r), [("1m".to_string(), "default/big".to_string(), "new-node".to_string())]);
    assert_eq!(pod_state(&r, "default/mine").node.as_deref(), Some("n1"));
    assert_eq!(r.summary.latency.max, 60.0);
}

#[test]
fn the_demo_tells_its_story_and_is_deterministic() {
    let s = crate::demo::scenario(None).expect("the demo is valid");
    let run_json = |s: &crate::Scenario| match crate::simulate(s, None, None, &mut |_, _, _| {}) {
        Ok(crate::Outcome::Compare(c)) => (kubesched_report::to_json(&c), c),
        other => panic!("the demo compares two configurations: {other:?}"),
    };
    let (json1, c) = run_json(&s);
    let (json2, _) = run_json(&s);
    assert_eq!(json1, json2, "same scenario and seed, same bytes");
    let spread = &c.a;
    let packed = &c.b;
    assert_eq!((spread.configuration.as_str(), packed.configuration.as_str()), ("LeastAllocated", "MostAllocated"));
    // Spreading: no Ready GPU node has 4 GPUs free, the three 4-GPU training pods stay pending.
    assert_eq!(spread.fragmentation.gpu_slots.get("4"), Some(&0));
    assert_eq!(spread.summary.pending_by_gpus.get("4"), Some(&3));
    // Packing: they run and succeed.
    assert_eq!(packed.summary.pending_by_gpus.get("4"), None);
    assert_eq!(packed.summary.pods_succeeded, 3);
    // The 5m checkpoint: spread, every GPU node has one or two free GPUs; packed, whole nodes.
    let free_at_5m = |r: &Report| -> Vec<i64> {
        r.checkpoints[0].nodes.iter().filter_map(|n| Some(n.gpus? - n.gpus_used?)).collect()
    };
    assert_eq!(spread.checkpoints[0].time, "5m");
    assert!(free_at_5m(spread).iter().all(|&f| f == 1 || f == 2), "{:?}", free_at_5m(spread));
    assert_eq!(free_at_5m(spread).iter().sum::<i64>(), 14);
    let mut packed_free = free_at_5m(packed);
    packed_free.sort_unstable();
    assert_eq!(packed_free, [0, 0, 0, 0, 0, 0, 6, 8]);
    // Before the training pods arrive (the 10m sample), every spread GPU node has one or two free.
    let at_10m = |r: &Report| r.series.iter().find(|s| s.time == "10m").map(|s| s.gpu_slots.clone()).expect("sample");
    assert_eq!(at_10m(spread).get("4"), Some(&0));
    assert!(at_10m(packed).get("4").is_some_and(|&n| n >= 3));
    // The failed node's pods were evicted 50s + 300s after the failure at 15m.
    for r in [spread, packed] {
        let evictions: Vec<&str> =
            r.events.iter().filter(|e| e.event == "PodEvicted").map(|e| e.time.as_str()).collect();
        assert!(!evictions.is_empty() && evictions.iter().all(|&t| t == "20m50s"), "{evictions:?}");
    }
    let gated = find(spread, |e| e.pod_key() == Some("default/analysis") && e.outcome() == Some("Scheduled"));
    assert_eq!(gated[0].time, "20m");
    assert!(c.placed_differently.iter().any(|d| d.pod.starts_with("default/train-") && d.a == "Pending"));
    let seeded = crate::demo::scenario(Some(1)).expect("valid");
    let (json3, _) = run_json(&seeded);
    assert_ne!(json1, json3, "another seed breaks ties and names pods differently");
    assert_eq!(format_duration(spread.end_seconds as u64 * SECOND), "1h");
}

#[test]
fn scheduling_cycles_take_their_simulated_time_one_pod_at_a_time() {
    let pods: String = (0..3)
        .map(|i| {
            format!(
                "  - {{apiVersion: v1, kind: Pod, metadata: {{name: p{i}}}, spec: {{containers: [{{name: c}}]}}}}\n"
            )
        })
        .collect();
    let r =
        run(&scenario("  timing: {schedulingCycle: 2s, binding: 500ms}\n", &format!("{}{pods}", node("n1", 4)), ""));
    let times: Vec<String> = scheduled(&r).into_iter().map(|(t, p, _)| format!("{t} {p}")).collect();
    assert_eq!(times, ["0s default/p0", "2s default/p1", "4s default/p2"]);
    // Queue to bind: 0.5s, 2.5s, 4.5s.
    assert_eq!((r.summary.latency.p50, r.summary.latency.max), (2.5, 4.5));
    let other = "  - {apiVersion: v1, kind: Pod, metadata: {name: elsewhere}, spec: {schedulerName: fargate-scheduler, containers: [{name: c}]}}\n";
    let r = run(&scenario("", &format!("{}{other}", node("n1", 4)), ""));
    let p = pod_state(&r, "default/elsewhere");
    assert_eq!(p.phase, "Pending");
    assert_eq!(
        p.message.as_deref(),
        Some("waiting for another scheduler: no profile serves schedulerName \"fargate-scheduler\"")
    );
}

#[test]
fn default_topology_spread_sees_the_replica_sets_created_during_the_run() {
    // Three zones, one node each; a Deployment created by the timeline spreads across them
    // through PodTopologySpread's system default constraints (its ReplicaSet's selector).
    let nodes: String = ["a", "b", "c"]
        .iter()
        .map(|z| format!("  - {{apiVersion: v1, kind: Node, metadata: {{name: n-{z}, labels: {{topology.kubernetes.io/zone: {z}}}}}, status: {{allocatable: {{cpu: '64', memory: 64Gi, pods: '110'}}}}}}\n"))
        .collect();
    let events = "  - at: 1s\n    apply: {apiVersion: apps/v1, kind: Deployment, metadata: {name: web}, spec: {replicas: 6, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, resources: {requests: {cpu: 100m}}}]}}}}\n";
    let r = run(&scenario("", &nodes, events));
    let mut per_node = std::collections::BTreeMap::new();
    for (_, _, n) in scheduled(&r) {
        *per_node.entry(n).or_insert(0) += 1;
    }
    assert_eq!(per_node.into_values().collect::<Vec<_>>(), [2, 2, 2]);
}
