//! End-to-end: priority and preemption with PodDisruptionBudgets.

mod common;
use common::{entry, fixture, kubesched};

fn schedule(extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["schedule", "-o", "json"];
    let files: Vec<String> = ["preemption/full-cluster.yaml", "preemption/critical-pod.yaml"]
        .iter()
        .chain(extra.iter())
        .map(|f| fixture(f))
        .collect();
    for f in &files {
        args.push("-f");
        args.push(f);
    }
    let run = kubesched(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

#[test]
fn a_system_node_critical_pod_preempts_the_newest_batch_pods() {
    let doc = schedule(&[]);
    let agent = entry(&doc, "kube-system/node-agent");
    assert_eq!(agent["outcome"], "Scheduled");
    // Every other criterion ties; the node whose highest-priority victims started last wins.
    assert_eq!(agent["node"], "n1");
    assert_eq!(agent["nominatedNode"], "n1");
    // The pods that started last are the victims; the others are reprieved.
    assert_eq!(agent["preempted"], serde_json::json!(["batch/batch-a-2", "batch/batch-a-3"]));
    for victim in ["batch/batch-a-2", "batch/batch-a-3"] {
        let v = entry(&doc, victim);
        assert_eq!(v["outcome"], "Preempted");
        assert_eq!(v["preemptedBy"], "kube-system/node-agent");
        assert_eq!(v["node"], "n1");
    }
}

#[test]
fn a_pdb_steers_preemption_to_another_node() {
    let doc = schedule(&["preemption/pdb.yaml"]);
    let agent = entry(&doc, "kube-system/node-agent");
    assert_eq!(agent["node"], "n2");
    assert_eq!(agent["preempted"], serde_json::json!(["batch/batch-b-2", "batch/batch-b-3"]));
}
