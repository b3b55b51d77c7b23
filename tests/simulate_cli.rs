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

#[test]
fn auto_mode_scenario_reports_node_claims_cost_and_compares_cost_and_nodes() {
    let doc = simulate_json("automode-scale.yaml", &[]);
    let a = &doc["autoscaling"];
    assert_eq!(a["nodesLaunched"], 4);
    assert_eq!(a["nodesAtEnd"], 1);
    assert_eq!(a["nodeClaims"][3]["instanceType"], "c6a.16xlarge");
    assert_eq!(doc["cost"]["hourlyAtEnd"], 2.448);
    assert_eq!(doc["cost"]["total"], 3.107621);
    let series = doc["series"].as_array().expect("series");
    assert!(series.iter().all(|s| s["hourlyCost"].is_number() && s["managedNodes"].is_number()));
    // --compare: the same scenario under MostAllocated; cost and node counts side by side.
    let path = fixture("automode-scale.yaml");
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/sim/demo/most-allocated.yaml");
    let (code, out, err) =
        kubesched(&["simulate", &path, "-o", "json", "--compare", config.to_str().expect("utf-8 path")]);
    assert_eq!(code, 0, "{err}");
    let c: Value = serde_json::from_str(&out).expect("valid JSON");
    let metric = |name: &str| {
        c["metrics"]
            .as_array()
            .and_then(|m| m.iter().find(|r| r["metric"] == name))
            .unwrap_or_else(|| panic!("no metric {name}"))
            .clone()
    };
    assert_eq!(metric("nodes launched by the autoscaler")["a"], 4);
    assert_eq!(metric("cost ($)")["a"], "3.1076");
    assert!(metric("$/hour at end")["b"].is_string());
}

#[test]
fn auto_mode_flag_turns_on_the_built_in_pools() {
    // The Fargate scenario has no NodePool; with --auto-mode the autoscaler takes part (no pod
    // needs one of its nodes: it reports an empty section).
    let doc = simulate_json("fargate.yaml", &["--auto-mode"]);
    assert_eq!(doc["autoscaling"]["nodePools"], serde_json::json!(["system", "general-purpose"]));
    assert_eq!(doc["autoscaling"]["nodesLaunched"], 0);
}

#[test]
fn fargate_scenario_shows_sizes_delays_refusals_and_bills() {
    let doc = simulate_json("fargate.yaml", &[]);
    let f = &doc["fargate"];
    let sizes: Vec<&str> = f["pods"].as_array().expect("pods").iter().map(|p| s(&p["capacityProvisioned"])).collect();
    assert_eq!(sizes, ["0.25vCPU 0.5GB", "0.5vCPU 1GB", "1vCPU 3GB"]);
    assert_eq!(f["pods"][0]["bound"], "40s");
    assert_eq!(f["pods"][0]["deleted"], "5m");
    assert_eq!(f["pods"][0]["billedSeconds"], 260);
    assert_eq!(f["pods"][2]["deleted"], "13m40s");
    assert_eq!(f["refused"][0]["pod"], "serverless/debug");
    let failed = events(&doc, "FailedScheduling");
    assert_eq!(failed.len(), 1);
    assert_eq!(
        s(&failed[0]["message"]),
        "Pod not supported on Fargate: fields not supported: HostNetwork, invalid SecurityContext fields: Privileged"
    );
    // The demo's Fargate section reads the same way.
    let (code, out, err) = kubesched(&["simulate", "--demo", "fargate"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("FARGATE PODS (3, region us-east-1)"), "{out}");
    assert!(out.contains("0.25vCPU 0.5GB") && out.contains("0.5vCPU 1GB"), "{out}");
    assert!(out.contains("refused by Fargate: serverless/debug"), "{out}");
}

#[test]
fn the_demo_tells_the_auto_mode_story_with_a_graviton_node() {
    let (code, out, err) = kubesched(&["simulate", "--demo", "autoscaling", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("valid JSON");
    let claims = doc["autoscaling"]["nodeClaims"].as_array().expect("claims");
    let graviton: Vec<&Value> = claims.iter().filter(|c| c["nodePool"] == "graviton-spot").collect();
    assert_eq!(graviton.len(), 1);
    assert!(s(&graviton[0]["instanceType"]).starts_with("c6g."), "{:?}", graviton[0]);
    assert_eq!(graviton[0]["capacityType"], "spot");
    let general: Vec<&str> =
        claims.iter().filter(|c| c["nodePool"] == "general-purpose").map(|c| s(&c["instanceType"])).collect();
    assert_eq!(general, ["c6a.large", "c6a.32xlarge", "c6a.24xlarge", "c6a.16xlarge"]);
    assert_eq!(doc["summary"]["podsRunning"], 57);
}

#[test]
fn gpu_fragmentation_is_tracked_over_time_with_the_fgd_metric() {
    let (code, out, err) = kubesched(&["simulate", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("JSON");
    let a = &doc["a"];
    let series = a["series"].as_array().expect("series");
    assert!(series.iter().all(|s| s["gpuFragmentation"]["fragmentationRate"].is_f64()), "every sample carries it");
    // Unallocated GPUs in a sample equal the free whole GPUs of Ready nodes (no shares here).
    for s in series {
        let slots_1 = s["gpuSlots"]["1"].as_f64().expect("1-GPU slots");
        assert_eq!(s["gpuFragmentation"]["unallocatedGpus"].as_f64(), Some(slots_1), "{s}");
        let rate = s["gpuFragmentation"]["fragmentationRate"].as_f64().expect("rate");
        assert!((0.0..=1.0).contains(&rate));
    }
    let end = &a["fragmentation"]["gpu"];
    assert_eq!(end["unallocatedGpus"].as_f64(), a["fragmentation"]["freeGpus"].as_f64());
    assert!(end["fragmentedGpus"].as_f64().expect("fragmented") <= end["unallocatedGpus"].as_f64().expect("idle"));
}
