//! Realistic manifests through the whole pipeline: profiles → admission → validation →
//! sizing → cost → per-pod nodes.

// Helpers outside `#[test]` functions load the fixtures; a panic there is a failed test.
#![allow(clippy::unwrap_used)]

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolume, PersistentVolumeClaim, Pod};
use kubesched_fargate::report::Outcome;
use kubesched_fargate::{
    CheckOptions, FargateProfile, FargateScheduler, LoggingConfig, ProfileStatus, ScheduleOutcome, VolumeCatalog,
    admit, check, is_profile_document, profiles_from_value, validate_profiles,
};
use serde_json::{Value, json};

#[derive(Default)]
struct Input {
    profiles: Vec<FargateProfile>,
    pods: Vec<Pod>,
    configmaps: Vec<ConfigMap>,
    namespaces: Vec<Namespace>,
    volumes: VolumeCatalog,
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A pod as the workload controller would create it from a pod template: name `<owner>-0`,
/// the template's labels and annotations, an owner reference.
fn pod_from_template(doc: &Value, owner_kind: &str) -> Pod {
    let meta = &doc["metadata"];
    let template = &doc["spec"]["template"];
    let mut pod_meta = template["metadata"].clone();
    pod_meta["name"] = json!(format!("{}-0", meta["name"].as_str().unwrap()));
    pod_meta["namespace"] = meta["namespace"].clone();
    let owner_kind = if owner_kind == "Deployment" { "ReplicaSet" } else { owner_kind };
    pod_meta["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": owner_kind, "name": meta["name"],
                                          "uid": "00000000-0000-0000-0000-000000000000", "controller": true}]);
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template["spec"]}))
        .unwrap()
}

fn load(files: &[&str]) -> Input {
    let mut input = Input::default();
    for file in files {
        let text = fixture(file);
        let docs: Vec<Value> = if file.ends_with(".json") {
            vec![serde_json::from_str(&text).unwrap()]
        } else {
            serde_saphyr::from_multiple(&text).unwrap()
        };
        for (i, doc) in docs.into_iter().enumerate() {
            if is_profile_document(&doc) {
                input.profiles.extend(profiles_from_value(&doc, &format!("{file}#{i}")).unwrap());
                continue;
            }
            match doc["kind"].as_str().unwrap_or("") {
                "Pod" => input.pods.push(serde_json::from_value(doc).unwrap()),
                kind @ ("Deployment" | "DaemonSet") => input.pods.push(pod_from_template(&doc, kind)),
                "ConfigMap" => input.configmaps.push(serde_json::from_value(doc).unwrap()),
                "Namespace" => input.namespaces.push(serde_json::from_value(doc).unwrap()),
                "PersistentVolumeClaim" => {
                    input.volumes.add_claim(serde_json::from_value::<PersistentVolumeClaim>(doc).unwrap())
                }
                "PersistentVolume" => {
                    input.volumes.add_volume(serde_json::from_value::<PersistentVolume>(doc).unwrap())
                }
                other => panic!("{file}: unexpected kind {other}"),
            }
        }
    }
    input
}

const ALL: [&str; 7] = [
    "cluster.yaml",
    "coredns.yaml",
    "kube-ops-view.yaml",
    "netshoot.yaml",
    "debug-privileged.yaml",
    "monitoring.yaml",
    "aws-logging.yaml",
];

#[test]
fn fargate_check_over_realistic_manifests() {
    let input = load(&ALL);
    validate_profiles(&input.profiles, &Default::default()).unwrap();
    let logging = LoggingConfig::find(&input.configmaps, &input.namespaces);
    assert!(logging.is_enabled(), "{logging:?}");
    let report =
        check(&input.pods, &input.profiles, &logging, Some(&input.volumes), &CheckOptions::new("us-east-1")).unwrap();

    let row = |name: &str| {
        report.pods.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no pod {name} in {:?}", report.pods))
    };
    let money = |m: Option<kubesched_fargate::Money>| m.map(|m| m.to_decimal_string());

    // CoreDNS as shipped: opted out by its annotation.
    assert_eq!(row("coredns-0").outcome, Outcome::OptedOut);
    // CoreDNS without the annotation: 100m / 70Mi + 256Mi → 0.25vCPU 0.5GB in Seoul:
    // 0.25 × 0.04656 + 0.5 × 0.00511 = 0.014195 $/h, × 730 = 10.36235 $/month.
    let dns = row("coredns-fargate-0");
    assert_eq!(dns.outcome, Outcome::Fargate);
    assert_eq!(dns.profile.as_deref(), Some("fp-default"));
    assert_eq!(dns.capacity_provisioned.as_deref(), Some("0.25vCPU 0.5GB"));
    assert_eq!(dns.logging.as_deref(), Some("LoggingEnabled"));
    assert_eq!(dns.region.as_deref(), Some("ap-northeast-2"));
    assert_eq!(dns.zones, ["ap-northeast-2a", "ap-northeast-2c"]);
    assert_eq!(money(dns.hourly_cost).as_deref(), Some("0.014195"));
    assert_eq!(money(dns.monthly_cost).as_deref(), Some("10.36235"));
    assert_eq!(row("kube-proxy-0").outcome, Outcome::DaemonSet);

    for name in ["kube-ops-view-0", "kube-ops-view-redis-0", "netshoot"] {
        let r = row(name);
        assert_eq!(r.outcome, Outcome::Fargate, "{name}: {:?}", r.reasons);
        assert_eq!(r.capacity_provisioned.as_deref(), Some("0.25vCPU 0.5GB"), "{name}");
        assert_eq!(r.ephemeral_storage_gib, Some(20));
    }

    let capture = row("netshoot-capture");
    assert_eq!(capture.outcome, Outcome::Rejected);
    assert_eq!(capture.reasons.len(), 1);
    assert_eq!(
        capture.reasons[0].message,
        "Pod not supported on Fargate: invalid SecurityContext fields: Capabilities added: NET_ADMIN"
    );

    let debugger = row("node-debugger");
    assert_eq!(debugger.outcome, Outcome::Rejected);
    assert_eq!(debugger.reasons[0].reason, "POD_UNSUPPORTED_ON_FARGATE");
    assert_eq!(
        debugger.reasons[0].message,
        "Pod not supported on Fargate: fields not supported: HostNetwork, HostPID, HostIPC, volumes not supported: \
         hostroot is of an unsupported volume Type, invalid SecurityContext fields: Privileged"
    );
    // It would still have been sized: BestEffort.
    assert_eq!(debugger.capacity_provisioned.as_deref(), Some("0.25vCPU 0.5GB"));
    assert_eq!(debugger.hourly_cost, None);

    // Prometheus: EBS-backed claim that is not bound, and a zone its profile's subnet is not in.
    let prom = row("prometheus-0");
    assert_eq!(prom.profile.as_deref(), Some("fp-monitoring"));
    assert_eq!(prom.outcome, Outcome::Rejected);
    let messages: Vec<&str> = prom.reasons.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "Pod not supported on Fargate: volumes not supported: data not supported because: PVC prometheus-data not bound",
            "MatchNodeSelector failed: Fargate profile fp-monitoring cannot satisfy pod's node selector/affinity requirements",
        ]
    );
    // 1 vCPU, 4 GiB + 256 MiB → 1vCPU 5GB; 100 GiB ephemeral → 115 GiB provisioned.
    assert_eq!(prom.capacity_provisioned.as_deref(), Some("1vCPU 5GB"));
    assert_eq!(prom.ephemeral_storage_gib, Some(115));
    assert!(prom.zones.is_empty());

    // Grafana: static EFS volume; 250m / 750M → 0.25vCPU 1GB (binary units), only in 2c.
    let grafana = row("grafana-0");
    assert_eq!(grafana.outcome, Outcome::Fargate, "{:?}", grafana.reasons);
    assert_eq!(grafana.capacity_provisioned.as_deref(), Some("0.25vCPU 1GB"));
    assert_eq!(grafana.zones, ["ap-northeast-2c"]);
    assert_eq!(money(grafana.hourly_cost).as_deref(), Some("0.01675"));
    assert_eq!(money(grafana.monthly_cost).as_deref(), Some("12.2275"));

    // The monitoring pod without fargate=true is not selected.
    assert_eq!(row("node-exporter-like-0").outcome, Outcome::NotMatched);

    let t = &report.totals;
    assert_eq!((t.pods, t.fargate, t.rejected, t.not_fargate), (11, 5, 3, 3));
    assert_eq!((t.vcpu_milli, t.memory_mib), (1250, 3072));
    assert_eq!(t.hourly_cost.to_decimal_string(), "0.07353");
    assert_eq!(t.monthly_cost.to_decimal_string(), "53.6769");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    // Stable JSON for the CLI, byte for byte across runs.
    let again =
        check(&input.pods, &input.profiles, &logging, Some(&input.volumes), &CheckOptions::new("us-east-1")).unwrap();
    assert_eq!(serde_json::to_string(&report).unwrap(), serde_json::to_string(&again).unwrap());
    let js = serde_json::to_value(&report).unwrap();
    assert_eq!(js["pods"][1]["name"], "coredns-fargate-0");
    assert_eq!(js["pods"][1]["hourlyCost"], 0.014195);
    assert_eq!(js["pods"][1]["size"], json!({"vcpuMilli": 250, "memoryMib": 512}));
    assert_eq!(
        js["logging"],
        json!({"state": "enabled", "outputs": ["cloudwatch_logs"], "flbLogCw": false, "warnings": []})
    );
}

#[test]
fn admitted_pods_bind_to_their_own_nodes() {
    let input = load(&ALL);
    let logging = LoggingConfig::find(&input.configmaps, &input.namespaces);
    let run = |seed: u64| {
        let mut scheduler = FargateScheduler::new("us-east-1", seed).with_volumes(input.volumes.clone());
        let mut bound = Vec::new();
        for pod in &input.pods {
            let mut pod = pod.clone();
            if admit(&mut pod, &input.profiles, &logging).unwrap().is_none() {
                continue;
            }
            let name = pod.metadata.name.clone().unwrap();
            match scheduler.schedule(&pod, &input.profiles).unwrap() {
                ScheduleOutcome::Bound(b) => bound.push((name, b)),
                ScheduleOutcome::Unschedulable { .. } => {}
                ScheduleOutcome::NoProfile => panic!("{name} lost its profile"),
            }
        }
        bound
    };
    let bound = run(2026);
    let names: Vec<&str> = bound.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["coredns-fargate-0", "kube-ops-view-0", "kube-ops-view-redis-0", "netshoot", "grafana-0"]);
    for (name, b) in &bound {
        let node = &b.placement.node;
        let [a, bb, c, d] = b.placement.ip.octets();
        assert_eq!(b.placement.node_name, format!("fargate-ip-{a}-{bb}-{c}-{d}.ap-northeast-2.compute.internal"));
        assert_eq!((a, bb), (192, 168), "{name}");
        // 2a is 192.168.96.0/19, 2c is 192.168.128.0/19.
        let want_zone = if (96..128).contains(&c) { "ap-northeast-2a" } else { "ap-northeast-2c" };
        assert_eq!(b.placement.zone, want_zone, "{name}");
        assert_eq!(node.allocatable.pods, 1);
        assert_eq!(node.allocatable.cpu, b.size.vcpu_milli);
        assert_eq!(node.taints.len(), 1);
    }
    let grafana = &bound[4].1;
    assert_eq!(grafana.profile, "fp-monitoring");
    assert_eq!(grafana.placement.zone, "ap-northeast-2c");
    assert_eq!(grafana.capacity_provisioned, "0.25vCPU 1GB");
    // Same seed, same nodes.
    let again = run(2026);
    assert_eq!(
        bound.iter().map(|(_, b)| b.placement.ip).collect::<Vec<_>>(),
        again.iter().map(|(_, b)| b.placement.ip).collect::<Vec<_>>()
    );
}

#[test]
fn aws_cli_and_ack_profiles() {
    let input = load(&["describe-fargate-profile.json", "ack-fargate-profile.yaml"]);
    assert_eq!(input.profiles.len(), 2);
    validate_profiles(&input.profiles, &Default::default()).unwrap();
    let fp = &input.profiles[0];
    assert_eq!(fp.name, "fp-default");
    assert_eq!(fp.region.as_deref(), Some("us-east-1"));
    assert_eq!(fp.status, ProfileStatus::Active);
    let batch = &input.profiles[1];
    assert_eq!(batch.name, "batch-jobs");
    assert_eq!(batch.cluster_name.as_deref(), Some("my-cluster"));

    let pod = |ns: &str, labels: Value| -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p", "namespace": ns, "labels": labels},
                                      "spec": {"containers": [{"name": "c", "image": "busybox"}]}}))
        .unwrap()
    };
    let pods = vec![
        pod("batch-nightly", json!({"workload": "job1"})),
        pod("batch-nightly", json!({"workload": "job12"})),
        pod("kube-system", json!({"k8s-app": "kube-dns"})),
        pod("kube-system", json!({"k8s-app": "metrics-server"})),
    ];
    let r = check(&pods, &input.profiles, &LoggingConfig::NotFound, None, &CheckOptions::new("us-east-1")).unwrap();
    let got: Vec<(Outcome, Option<&str>)> = r.pods.iter().map(|p| (p.outcome, p.profile.as_deref())).collect();
    assert_eq!(
        got,
        [
            (Outcome::Fargate, Some("batch-jobs")),
            (Outcome::NotMatched, None),
            (Outcome::Fargate, Some("fp-default")),
            (Outcome::NotMatched, None),
        ]
    );
    // us-east-1 has built-in prices; no subnet zones given, so they are inferred by position.
    assert_eq!(r.pods[0].hourly_cost.map(|m| m.to_decimal_string()).as_deref(), Some("0.0123425"));
    assert_eq!(r.pods[2].zones, ["us-east-1a", "us-east-1b"]);
    assert_eq!(r.pods[0].logging.as_deref(), Some("LoggingDisabled: LOGGING_CONFIGMAP_NOT_FOUND"));
}
