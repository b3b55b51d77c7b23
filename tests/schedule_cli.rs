//! End-to-end: `kubesched schedule` on YAML fixtures, checking the JSON contract.

mod common;
use common::{entry, fixture, kubesched, kubesched_stdin};

#[test]
fn embedded_example_runs_without_input() {
    let run = kubesched(&["schedule", "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let canary = entry(&doc, "shop/canary");
    assert_eq!(canary["outcome"], "Gated");
    assert_eq!(canary["message"], "waiting for scheduling gates: [example.com/quota-check]");
    assert_eq!(entry(&doc, "shop/train-llm")["node"], "gpu-b-1");
    assert_eq!(entry(&doc, "shop/cache")["outcome"], "Scheduled");
    let analytics = entry(&doc, "shop/analytics");
    assert_eq!(analytics["outcome"], "Unschedulable");
    assert_eq!(
        analytics["message"],
        "0/5 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint \
         {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. no new claims to deallocate, preemption: 0/5 nodes are available: 5 Preemption \
         is not helpful for scheduling."
    );
    // Required anti-affinity on the hostname: the three web replicas land on three nodes.
    let mut web_nodes: Vec<String> = doc["pods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["pod"].as_str().unwrap().starts_with("shop/web-"))
        .map(|p| p["node"].as_str().unwrap().to_string())
        .collect();
    web_nodes.sort();
    assert_eq!(web_nodes, ["cpu-a-1", "cpu-a-2", "cpu-b-1"]);
}

#[test]
fn fit_error_counts_reasons_over_all_nodes_with_kube_text() {
    let run = kubesched(&["schedule", "-f", &fixture("schedule/taints-and-cpu.yaml"), "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let p = entry(&doc, "default/newcomer");
    assert_eq!(p["outcome"], "Unschedulable");
    assert_eq!(
        p["message"],
        "0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu. no new claims to deallocate, preemption: 0/5 nodes \
         are available: 2 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod."
    );
    assert_eq!(p["feasibleNodes"], 0);
    assert_eq!(p["examinedNodes"], 5);
    assert!(p.get("node").is_none());
}

#[test]
fn explain_lists_every_examined_node_with_scores_or_reasons() {
    let run = kubesched(&["schedule", "-f", &fixture("schedule/taints-and-cpu.yaml"), "-o", "json", "--explain"]);
    let doc = run.json();
    let nodes = entry(&doc, "default/newcomer")["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 5);
    let gpu = nodes.iter().find(|n| n["node"] == "gpu-1").unwrap();
    assert_eq!(gpu["feasible"], false);
    assert_eq!(gpu["plugin"], "TaintToleration");
    assert_eq!(gpu["code"], "UnschedulableAndUnresolvable");
    assert_eq!(gpu["reasons"], serde_json::json!(["node(s) had untolerated taint {dedicated: gpu}"]));
    let n1 = nodes.iter().find(|n| n["node"] == "n1").unwrap();
    assert_eq!(n1["plugin"], "NodeResourcesFit");
    assert_eq!(n1["code"], "Unschedulable");
    assert_eq!(n1["reasons"], serde_json::json!(["Insufficient cpu"]));
}

#[test]
fn profiles_by_scheduler_name_and_scores_per_plugin() {
    let run = kubesched(&[
        "schedule",
        "-f",
        &fixture("schedule/packing.yaml"),
        "--config",
        &fixture("schedule/most-allocated-config.yaml"),
        "-o",
        "json",
        "--explain",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    // LeastAllocated prefers the empty nodes; MostAllocated the half-full one.
    let spread = entry(&doc, "default/spread-me");
    assert_eq!(spread["profile"], "default-scheduler");
    assert!(spread["node"] == "empty-1" || spread["node"] == "empty-2", "{spread:#}");
    let pack = entry(&doc, "default/pack-me");
    assert_eq!(pack["profile"], "bin-packing-scheduler");
    assert_eq!(pack["node"], "half-full");
    let half = pack["nodes"].as_array().unwrap().iter().find(|n| n["node"] == "half-full").unwrap();
    // (2+1)/4 cpu and (8+4)/16 memory = 75 with MostAllocated; BalancedAllocation disabled.
    assert_eq!(half["scores"]["NodeResourcesFit"], 75);
    assert!(half["scores"].get("NodeResourcesBalancedAllocation").is_none());
    assert_eq!(half["scores"]["TaintToleration"], 100);
    // total = 3×100 (TaintToleration) + 1×75 (Fit) + 0 from the others.
    assert_eq!(half["total"], 375);
    // Pods of other schedulers are not considered.
    assert!(doc["pods"].as_array().unwrap().iter().all(|p| p["pod"] != "default/someone-elses"));
    assert!(run.stderr.contains("1 pending pod(s) name a schedulerName no profile has"), "{}", run.stderr);
}

#[test]
fn bad_input_reports_every_error_with_file_line_and_field() {
    let run = kubesched(&["schedule", "-f", &fixture("schedule/bad-input.yaml")]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty(), "nothing is scheduled: {}", run.stdout);
    let e = &run.stderr;
    assert!(e.contains(
        "bad-input.yaml: document 2 (Pod default/bad-quantity), line 18: spec.containers[0].resources.requests.cpu: \
         quantities must match the regular expression"
    ), "{e}");
    assert!(e.contains("document 3 (Pod default/no-class), line 25: spec.priorityClassName: pods \"no-class\" is forbidden: no PriorityClass with name does-not-exist was found"), "{e}");
    assert!(e.contains("document 4 (Node no-allocatable)"), "{e}");
    assert!(e.contains("status.allocatable"), "{e}");
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn bound_pods_go_through_kubelet_admission() {
    let run = kubesched(&["schedule", "-f", &fixture("schedule/kubelet-admission.yaml"), "-o", "json"]);
    let doc = run.json();
    let big = entry(&doc, "default/pinned-too-big");
    assert_eq!(big["outcome"], "Rejected");
    assert_eq!(big["reason"], "OutOfcpu");
    assert_eq!(big["message"], "Node didn't have enough resource: cpu, requested: 600, used: 600, capacity: 1000");
    assert_eq!(entry(&doc, "default/pinned-to-nowhere")["reason"], "NodeNotFound");
    // The NoSchedule taint does not stop a pod created with spec.nodeName.
    assert!(doc["pods"].as_array().unwrap().iter().all(|p| p["pod"] != "default/pinned-fits"));
}

#[test]
fn stdin_yaml_and_output_is_deterministic() {
    let input = std::fs::read_to_string(fixture("schedule/packing.yaml")).unwrap();
    let a = kubesched_stdin(&["schedule", "-f", "-", "-o", "yaml", "--seed", "7"], &input);
    let b = kubesched_stdin(&["schedule", "-f", "-", "-o", "yaml", "--seed", "7"], &input);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout);
    assert!(a.stdout.contains("pod: default/spread-me"), "{}", a.stdout);
}

#[test]
fn invalid_configuration_names_the_field() {
    let dir = std::env::temp_dir().join(format!("kubesched-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad-config.yaml");
    std::fs::write(
        &path,
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 120\nprofiles:\n- schedulerName: default-scheduler\n  pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: Fastest\n",
    )
    .unwrap();
    let run = kubesched(&["schedule", "-f", &fixture("schedule/packing.yaml"), "--config", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("percentageOfNodesToScore: Invalid value: 120: not in valid range [0-100]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("profiles[0].pluginConfig[0].args.scoringStrategy.type: Unsupported value: \"Fastest\""),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_kubectl_dump_loads_as_the_cluster_it_describes() {
    // Deployment, ReplicaSet and its three pods (one still pending), a DaemonSet with a pod per
    // node (one pinned but unbound): nothing is created twice.
    let run = kubesched(&["schedule", "-f", &fixture("schedule/kubectl-dump.yaml"), "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let keys: Vec<&str> = doc["pods"].as_array().unwrap().iter().map(|p| p["pod"].as_str().unwrap()).collect();
    assert_eq!(keys, ["kube-system/kube-proxy-r8d5w", "default/batch-runner", "shop/web-7d4b9c8f5-q9wmd"]);
    // The DaemonSet pod is pinned by matchFields on metadata.name: only its node is examined.
    let proxy = entry(&doc, "kube-system/kube-proxy-r8d5w");
    assert_eq!(proxy["node"], "worker-2");
    assert_eq!(proxy["examinedNodes"], 1);
}

#[test]
fn percentage_of_nodes_to_score_stops_the_search_early() {
    let mut yaml = String::new();
    for i in 0..150 {
        yaml.push_str(&format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: n{i:03}}}\nstatus: {{allocatable: {{cpu: \"4\", memory: 8Gi, pods: \"110\"}}}}\n---\n"
        ));
    }
    yaml.push_str("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n  containers: [{name: c, image: app}]\n");
    let dir = std::env::temp_dir().join(format!("kubesched-pct-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 80\n",
    )
    .unwrap();
    let run = kubesched_stdin(&["schedule", "-f", "-", "--config", config.to_str().unwrap(), "-o", "json"], &yaml);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let p = entry(&doc, "default/p");
    // 150 nodes × 80% = 120 feasible nodes, then the search stops.
    assert_eq!(p["feasibleNodes"], 120);
    assert_eq!(p["examinedNodes"], 120);
    // Adaptive default: 50 − 150/125 = 49% of 150 = 73, raised to the minimum of 100.
    let run = kubesched_stdin(&["schedule", "-f", "-", "-o", "json"], &yaml);
    assert_eq!(entry(&run.json(), "default/p")["examinedNodes"], 100);
    std::fs::remove_dir_all(&dir).ok();
}
