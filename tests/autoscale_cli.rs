//! End-to-end tests of `kubesched schedule` with NodePools in the input and with `--auto-mode`:
//! the `nodeClaims` contract, placements on the claims' nodes by the real scheduler, DaemonSet
//! overhead, errors naming the line and field, and no unknown-kind warnings for the
//! autoscaling kinds.

mod common;

use common::{entry, fixture, kubesched};
use serde_json::Value;

fn claims(doc: &Value) -> &Vec<Value> {
    doc["nodeClaims"].as_array().unwrap_or_else(|| panic!("no nodeClaims in {doc:#}"))
}

#[test]
fn pods_that_fit_nowhere_get_a_node_claim_and_the_scheduler_places_them_there() {
    let run = kubesched(&["schedule", "-f", &fixture("autoscale/cluster.yaml"), "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("unsupported kind"), "{}", run.stderr);
    let doc = run.json();
    let claims = claims(&doc);
    assert_eq!(claims.len(), 1, "{doc:#}");
    let c = &claims[0];
    // 5 pods of 1 CPU/1Gi + the 100m/128Mi agent: c6a.2xlarge (8 vCPU) is the cheapest c/m
    // gen>5 amd64 on-demand type that holds them.
    assert_eq!(c["nodePool"], "default");
    assert_eq!(c["instanceType"], "c6a.2xlarge");
    assert_eq!(c["capacityType"], "on-demand");
    assert_eq!(c["zone"], "us-east-1a");
    assert_eq!(c["hourlyPrice"], 0.306);
    assert_eq!(c["daemonSetPods"], serde_json::json!(["kube-system/node-agent"]));
    let name = c["name"].as_str().expect("name");
    assert!(name.starts_with("default-"), "{name}");
    let pods = c["pods"].as_array().expect("pods");
    assert_eq!(pods.len(), 5);
    for p in pods {
        let e = entry(&doc, p.as_str().expect("pod key"));
        assert_eq!(e["outcome"], "Scheduled");
        assert_eq!(e["node"], name);
        assert_eq!(e["nodeClaim"], name);
    }
    // The sixth web pod went to the existing node, without a claim.
    let on_base: Vec<&Value> = doc["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .filter(|p| p["node"] == "base-1" && p["pod"].as_str().is_some_and(|k| k.starts_with("default/web-")))
        .collect();
    assert_eq!(on_base.len(), 1);
    assert!(on_base[0].get("nodeClaim").is_none());
}

#[test]
fn the_table_shows_the_claims_and_their_total_price() {
    let run = kubesched(&["schedule", "-f", &fixture("autoscale/cluster.yaml")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("NODECLAIMS (1, $0.306000/hour)"), "{}", run.stdout);
    assert!(run.stdout.contains("c6a.2xlarge"), "{}", run.stdout);
}

#[test]
fn auto_mode_adds_the_built_in_pools_and_explains_pods_no_pool_can_take() {
    let path = fixture("autoscale/auto-mode.yaml");
    let run = kubesched(&["schedule", "-f", &path, "-o", "json", "--auto-mode"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let claims = claims(&doc);
    let pools: Vec<&str> = claims.iter().filter_map(|c| c["nodePool"].as_str()).collect();
    assert_eq!(pools, ["general-purpose", "system"]);
    // Ten 1-CPU pods on one c6a.4xlarge (16 vCPU); the CriticalAddonsOnly pod on the system pool.
    assert_eq!(claims[0]["instanceType"], "c6a.4xlarge");
    assert_eq!(claims[0]["pods"].as_array().map(Vec::len), Some(10));
    assert_eq!(claims[1]["pods"], serde_json::json!(["kube-system/coredns-like"]));
    let huge = entry(&doc, "default/huge");
    assert_eq!(huge["outcome"], "Unschedulable");
    let why = huge["autoscaler"].as_str().expect("autoscaler message");
    assert!(why.contains("nodepool \"general-purpose\": no instance type fits cpu 900000m"), "{why}");
    // Without the flag there is no pool: everything stays pending, no claims.
    let plain = kubesched(&["schedule", "-f", &path, "-o", "json"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let doc = plain.json();
    assert!(doc.get("nodeClaims").is_none());
    assert!(doc["pods"].as_array().expect("pods").iter().all(|p| p["outcome"] == "Unschedulable"));
}

#[test]
fn bad_node_pools_are_errors_naming_the_line_and_field() {
    let run = kubesched(&["schedule", "-f", &fixture("autoscale/bad-pool.yaml")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "bad-pool.yaml: document 2 (NodePool broken), line 15: spec.template.spec.requirements[0].operator: Unsupported value: \"Sometimes\""
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn same_input_and_seed_same_claims() {
    let path = fixture("autoscale/cluster.yaml");
    let a = kubesched(&["schedule", "-f", &path, "-o", "json", "--seed", "4"]);
    let b = kubesched(&["schedule", "-f", &path, "-o", "json", "--seed", "4"]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn repack_plans_cheaper_claims_and_every_pod_still_lands() {
    let path = fixture("autoscale/auto-mode.yaml");
    let price = |doc: &Value| -> f64 { claims(doc).iter().map(|c| c["hourlyPrice"].as_f64().unwrap_or(0.0)).sum() };
    let scheduled =
        |doc: &Value| doc["pods"].as_array().map_or(0, |p| p.iter().filter(|e| e["outcome"] == "Scheduled").count());
    let karpenter = kubesched(&["schedule", "-f", &path, "--auto-mode", "-o", "json"]).json();
    let repacked = kubesched(&["schedule", "-f", &path, "--auto-mode", "--repack", "-o", "json"]).json();
    assert!(price(&repacked) < price(&karpenter), "{} vs {}", price(&repacked), price(&karpenter));
    assert_eq!(scheduled(&repacked), scheduled(&karpenter));
    // The scheduler fills each claim with as many pods as the plan put there (identical
    // replicas may trade places).
    for c in claims(&repacked) {
        let len = |k: &str| c[k].as_array().map_or(0, Vec::len);
        assert_eq!(len("pods"), len("plannedPods"), "{c:#}");
    }
}
