//! End-to-end: Fargate profiles in `kubesched schedule` and `kubesched fargate check`.

mod common;
use common::{entry, fixture, kubesched};

#[test]
fn schedule_binds_fargate_pods_to_their_own_nodes() {
    let run = kubesched(&["schedule", "-f", &fixture("schedule/fargate.yaml"), "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let be = entry(&doc, "serverless/best-effort");
    assert_eq!(be["profile"], "fargate-scheduler");
    assert_eq!(be["outcome"], "Scheduled");
    assert!(be["node"].as_str().unwrap().starts_with("fargate-ip-"), "{be:#}");
    assert_eq!(be["fargate"]["profile"], "fp-default");
    assert_eq!(be["fargate"]["capacityProvisioned"], "0.25vCPU 0.5GB");
    // us-east-1: 0.25 vCPU × $0.04048 + 0.5 GB × $0.004445 per hour.
    assert_eq!(be["fargate"]["hourlyCost"], 0.0123425);
    assert_eq!(entry(&doc, "serverless/half-cpu")["fargate"]["capacityProvisioned"], "0.5vCPU 1GB");
    let debug = entry(&doc, "serverless/debug");
    assert_eq!(debug["outcome"], "Unschedulable");
    assert_eq!(
        debug["message"],
        "Pod not supported on Fargate: fields not supported: HostNetwork, HostPID, invalid SecurityContext fields: Privileged"
    );
    // Opted out and unmatched pods stay with the default scheduler, and the Fargate taint keeps
    // them off the Fargate nodes.
    for key in ["serverless/on-ec2-by-choice", "default/regular"] {
        let p = entry(&doc, key);
        assert_eq!(p["profile"], "default-scheduler");
        assert_eq!(p["node"], "ip-10-0-1-10.ec2.internal");
        assert_eq!(p["feasibleNodes"], 1);
        assert_eq!(p["examinedNodes"], 3);
    }
}

#[test]
fn fargate_check_reports_profiles_sizes_costs_and_reasons() {
    let run = kubesched(&["fargate", "check", "-f", &fixture("schedule/fargate.yaml"), "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let pods = doc["pods"].as_array().unwrap();
    let by_name = |n: &str| pods.iter().find(|p| p["name"] == n).unwrap_or_else(|| panic!("{n} missing"));
    assert_eq!(by_name("best-effort")["outcome"], "fargate");
    assert_eq!(by_name("half-cpu")["capacityProvisioned"], "0.5vCPU 1GB");
    assert_eq!(by_name("debug")["outcome"], "rejected");
    assert_eq!(by_name("on-ec2-by-choice")["outcome"], "optedOut");
    assert_eq!(by_name("regular")["outcome"], "notMatched");
    assert_eq!(doc["totals"]["fargate"], 2);
    assert_eq!(doc["totals"]["rejected"], 1);
}

#[test]
fn fargate_check_without_profiles_is_an_error() {
    let run = kubesched(&["fargate", "check", "-f", &fixture("schedule/packing.yaml")]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no Fargate profile in the input"), "{}", run.stderr);
}
