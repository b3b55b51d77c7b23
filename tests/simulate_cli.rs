//! End-to-end tests of `kubesched simulate`: the embedded demo, scenarios from
//! `tests/fixtures/simulate/` checked through their event log, bad input, and determinism.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/simulate").join(name).display().to_string()
}

/// (exit code, stdout, stderr)
fn kubesched(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubesched")).args(args).output().expect("run kubesched");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn simulate_json(scenario: &str, extra: &[&str]) -> Value {
    let path = fixture(scenario);
    let mut args = vec!["simulate", path.as_str(), "-o", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = kubesched(&args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("valid JSON")
}

fn events<'a>(doc: &'a Value, event: &str) -> Vec<&'a Value> {
    doc["events"].as_array().expect("events").iter().filter(|e| e["event"] == event).collect()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

#[test]
fn the_demo_runs_both_configurations_side_by_side() {
    let (code, out, err) = kubesched(&["simulate"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "no progress bar when stderr is not a terminal: {err}");
    assert!(out.starts_with("Scenario gpu-fragmentation — seed 0, simulated until 1h\n"), "{out}");
    let row = out.lines().find(|l| l.trim_start().starts_with("pending 4-GPU pods")).expect("row");
    assert_eq!(row.split_whitespace().collect::<Vec<_>>(), ["pending", "4-GPU", "pods", "3", "-"]);
    let row = out.lines().find(|l| l.trim_start().starts_with("room for 4-GPU pods")).expect("row");
    assert_eq!(row.split_whitespace().nth(4), Some("0"), "{row}");
    for needle in [
        "LeastAllocated",
        "MostAllocated",
        "PODS PLACED DIFFERENTLY",
        "GPUS AT END",
        "TIMELINE (LeastAllocated)",
        "UpdateRejected",
    ] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
}

#[test]
fn the_evicted_pod_of_a_failed_node_comes_back_on_another_node_after_300s_not_before() {
    let doc = simulate_json("node-failure.yaml", &[]);
    assert_eq!((s(&doc["kind"]), s(&doc["end"])), ("SimulationReport", "15m"));
    let nodes: Vec<(&str, &str)> = doc["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| s(&e["event"]).starts_with("Node"))
        .map(|e| (s(&e["time"]), s(&e["event"])))
        .collect();
    assert_eq!(nodes, [("2m", "NodeNotReady"), ("2m50s", "NodeNoExecute"), ("3m", "NodeAdded")]);
    let evicted = events(&doc, "PodEvicted");
    assert_eq!(evicted.len(), 1);
    assert_eq!((s(&evicted[0]["time"]), s(&evicted[0]["node"])), ("7m50s", "n1"));
    assert_eq!(evicted[0]["at"], 470.0);
    // Scheduling decisions after the start: only the replacement, at the eviction, on n3.
    let later: Vec<(&str, &str, &str)> = events(&doc, "Scheduling")
        .into_iter()
        .filter(|e| e["at"].as_f64() > Some(0.0))
        .map(|e| (s(&e["time"]), s(&e["outcome"]), s(&e["node"])))
        .collect();
    assert_eq!(later, [("7m50s", "Scheduled", "n3")]);
    let replacement = events(&doc, "Scheduling").into_iter().find(|e| e["time"] == "7m50s").expect("decision");
    // The decision is in the `schedule` contract's shape, plus time and attempt.
    assert_eq!(replacement["profile"], "default-scheduler");
    assert_eq!(replacement["feasibleNodes"], 1);
    assert_eq!(replacement["examinedNodes"], 3, "n1 (not-ready taint) and n2 (full) rejected");
    assert_eq!(replacement["attempt"], 1);
    let summary = &doc["summary"];
    assert_eq!((summary["podsEvicted"].as_u64(), summary["podsRunning"].as_u64()), (Some(1), Some(2)));
    assert_eq!(summary["nodesReady"], 2);
    let series = doc["series"].as_array().expect("series");
    assert_eq!(series.len(), 16, "a sample a minute, 0 to 15m");
    let ready: Vec<u64> = series.iter().take(5).filter_map(|p| p["nodesReady"].as_u64()).collect();
    assert_eq!(ready, [2, 2, 1, 2, 2], "n1 fails at 2m, n3 joins at 3m");
}

#[test]
fn a_drain_is_refused_while_the_budget_allows_no_disruption_then_completes() {
    let doc = simulate_json("drain.yaml", &[]);
    let refused = events(&doc, "EvictionRefused");
    assert_eq!(refused.len(), 13);
    assert_eq!(s(&refused[0]["time"]), "1m");
    assert_eq!(s(&refused[0]["message"]), "Cannot evict pod as it would violate the pod's disruption budget.");
    assert_eq!(s(&refused[12]["time"]), "2m");
    let done = events(&doc, "DrainCompleted");
    assert_eq!((s(&done[0]["time"]), s(&done[0]["message"])), ("2m5s", "in 1m5s"));
    assert_eq!(s(&events(&doc, "PodEvicted")[0]["reason"]), "Drained");
    assert_eq!(doc["summary"]["nodesCordoned"], 1);
}

#[test]
fn a_gated_pods_node_selector_change_is_refused_with_kube_apiservers_text() {
    let doc = simulate_json("gated.yaml", &[]);
    let rejected = events(&doc, "UpdateRejected");
    assert_eq!(rejected.len(), 1);
    assert_eq!(s(&rejected[0]["time"]), "1m");
    assert_eq!(
        s(&rejected[0]["message"]),
        "Pod \"report\" is invalid: spec.nodeSelector: Invalid value: {\"disk\":\"hdd\"}: only additions to spec.nodeSelector are allowed (no mutations or deletions)"
    );
    let decisions: Vec<(&str, &str, &str)> = events(&doc, "Scheduling")
        .into_iter()
        .filter(|e| e["pod"] == "default/report")
        .map(|e| (s(&e["time"]), s(&e["outcome"]), if e["node"].is_null() { s(&e["message"]) } else { s(&e["node"]) }))
        .collect();
    assert_eq!(
        decisions,
        [("0s", "Gated", "waiting for scheduling gates: [example.com/data-ready]"), ("2m", "Scheduled", "n1")]
    );
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let path = fixture("node-failure.yaml");
    let run = |args: &[&str]| {
        let mut all = vec!["simulate", path.as_str()];
        all.extend_from_slice(args);
        let (code, out, err) = kubesched(&all);
        assert_eq!(code, 0, "{err}");
        out
    };
    assert_eq!(run(&["-o", "json", "--seed", "7"]), run(&["-o", "json", "--seed", "7"]));
    assert_eq!(run(&["-o", "yaml", "--seed", "7"]), run(&["-o", "yaml", "--seed", "7"]));
    assert_ne!(run(&["-o", "json", "--seed", "7"]), run(&["-o", "json", "--seed", "8"]), "names come from the seed");
    let (code, a, _) = kubesched(&["simulate", "-o", "json"]);
    let (_, b, _) = kubesched(&["simulate", "-o", "json"]);
    assert_eq!(code, 0);
    assert_eq!(a, b, "the demo too");
}

#[test]
fn compare_runs_a_second_configuration_and_until_stops_early() {
    let doc = simulate_json("node-failure.yaml", &["--compare", &fixture("most-allocated.yaml"), "--until", "5m"]);
    assert_eq!(s(&doc["kind"]), "SimulationComparison");
    assert_eq!(doc["configurations"], serde_json::json!(["default", "most-allocated"]));
    assert_eq!((s(&doc["a"]["end"]), s(&doc["b"]["end"])), ("5m", "5m"));
    let created =
        doc["metrics"].as_array().expect("metrics").iter().find(|m| m["metric"] == "pods created").expect("row");
    assert_eq!((created["a"].as_u64(), created["b"].as_u64()), (Some(2), Some(2)));
    let (code, out, err) =
        kubesched(&["simulate", &fixture("node-failure.yaml"), "--compare", &fixture("most-allocated.yaml")]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(" METRIC ") && out.contains("most-allocated") && out.contains("PODS PLACED DIFFERENTLY"),
        "{out}"
    );
}

#[test]
fn bad_scenarios_are_refused_before_running_with_file_line_and_field() {
    let path = fixture("bad.yaml");
    let (code, out, err) = kubesched(&["simulate", &path]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert_eq!(
        lines[0],
        format!(
            "error: {path}: document 1 (Scenario bad), line 10: spec.events[0].explode: unknown event type \"explode\" (expected one of: apply, delete, scale, removeSchedulingGates, updatePod, cordon, uncordon, drain, taint, untaint, failNode, recoverNode)"
        )
    );
    assert_eq!(
        lines[1],
        format!(
            "error: {path}: document 1 (Scenario bad), line 11: spec.events[1].at: invalid duration \"5 min\": expected a duration such as 30s, 5m, 1h30m or 250ms"
        )
    );
    assert_eq!(
        lines[2],
        format!(
            "error: {path}: document 1 (Scenario bad), line 14: spec.events[2].drain: Node n9 does not exist at 10m"
        )
    );
    let (code, _, err) = kubesched(&["simulate", &fixture("missing.yaml")]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.yaml: No such file or directory"), "{err}");
    let (code, _, err) = kubesched(&["simulate", &fixture("node-failure.yaml"), "--until", "soon"]);
    assert_eq!(code, 2);
    assert!(err.contains("--until: invalid duration \"soon\""), "{err}");
}
