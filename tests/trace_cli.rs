//! End-to-end tests of `kubesched trace openb` on tiny hand-made traces whose outcome does not
//! depend on the policy or the seed, so every number below is computed by hand.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name).display().to_string()
}

fn kubesched(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubesched")).args(args).output().expect("run kubesched");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn openb(nodes: &str, pods: &str, extra: &[&str]) -> (bool, String, String) {
    let (n, p) = (fixture(nodes), fixture(pods));
    let mut args = vec!["trace", "openb", "--nodes", n.as_str(), "--pods", p.as_str()];
    args.extend_from_slice(extra);
    kubesched(&args)
}

/// Two 2-GPU nodes, three 1-GPU pods. Tuned to 130 % of 4 GPUs (5.2): five pods arrive. At
/// 50 % two have arrived and run; at 100 % four; at the end the fifth fails. Whole free
/// devices are never fragmented for a 1-GPU workload, so the rate stays 0.
#[test]
fn json_contract_on_whole_gpus() {
    let (ok, out, err) =
        openb("openb_tiny_nodes.csv", "openb_tiny_pods_whole.csv", &["--policy", "bestfit", "-o", "json"]);
    assert!(ok, "{err}");
    assert_eq!(
        out.trim_end(),
        r#"{"runs":[{"policy":"bestfit","seed":0,"points":[{"arrivedGpuPercent":50,"allocatedGpus":2.0,"unallocatedGpus":2.0,"fragmentationRate":0.0,"failedPods":0},{"arrivedGpuPercent":100,"allocatedGpus":4.0,"unallocatedGpus":0.0,"fragmentationRate":0.0,"failedPods":0},{"arrivedGpuPercent":130,"allocatedGpus":4.0,"unallocatedGpus":0.0,"fragmentationRate":0.0,"failedPods":1}]}]}"#
    );
}

/// One node with two GPUs; 0.6-GPU shares. Tuned to 2.6 GPUs: four shares arrive. The first
/// two take one device each (0.4 left on each, too little for a third), so at 50 % (one
/// arrived) 0.6 is allocated and the free [0.4, 1.0] is 0.4/1.4 fragmented; from 100 % on
/// 1.2 is allocated, the 0.8 left is all fragment, and the third and fourth shares fail.
#[test]
fn every_policy_and_seed_packs_shares_per_device() {
    let (ok, out, err) = openb(
        "openb_tiny_share_node.csv",
        "openb_tiny_pods_share.csv",
        &["--policy", "all", "--seeds", "2", "--levels", "50,100,130", "-o", "json"],
    );
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 7 * 2);
    let mut policies: Vec<&str> = runs.iter().map(|r| r["policy"].as_str().unwrap_or("")).collect();
    policies.dedup();
    assert_eq!(policies, ["fgd", "bestfit", "gpupacking", "gpuclustering", "dotproduct", "random", "fgdstrand"]);
    for r in runs {
        let seed = r["seed"].as_u64().expect("seed");
        assert!(seed < 2);
        let pts = r["points"].as_array().expect("points");
        let got: Vec<(u64, f64, f64, f64, u64)> = pts
            .iter()
            .map(|p| {
                (
                    p["arrivedGpuPercent"].as_u64().unwrap_or(0),
                    p["allocatedGpus"].as_f64().unwrap_or(-1.0),
                    p["unallocatedGpus"].as_f64().unwrap_or(-1.0),
                    p["fragmentationRate"].as_f64().unwrap_or(-1.0),
                    p["failedPods"].as_u64().unwrap_or(99),
                )
            })
            .collect();
        assert_eq!(
            got,
            [(50, 0.6, 1.4, 0.2857, 0), (100, 1.2, 0.8, 1.0, 1), (130, 1.2, 0.8, 1.0, 2)],
            "{} seed {seed}",
            r["policy"]
        );
        let keys: Vec<&String> = pts[0].as_object().expect("point").keys().collect();
        assert_eq!(keys, ["arrivedGpuPercent", "allocatedGpus", "unallocatedGpus", "fragmentationRate", "failedPods"]);
    }
}

#[test]
fn output_is_deterministic_and_the_table_and_chart_render() {
    let args = ["--policy", "fgd,random", "--seeds", "3", "-o", "json"];
    let a = openb("openb_tiny_nodes.csv", "openb_tiny_pods_whole.csv", &args);
    let b = openb("openb_tiny_nodes.csv", "openb_tiny_pods_whole.csv", &args);
    assert!(a.0 && b.0);
    assert_eq!(a.1, b.1);
    let chart = std::env::temp_dir().join(format!("kubesched-trace-chart-{}.svg", std::process::id()));
    let c = chart.display().to_string();
    let (ok, out, err) =
        openb("openb_tiny_nodes.csv", "openb_tiny_pods_whole.csv", &["--policy", "all", "--chart", &c]);
    assert!(ok, "{err}");
    assert!(out.starts_with("policy") && out.contains("unalloc@130%"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("fgd ") && l.contains(" 0.0 ")), "{out}");
    let svg = std::fs::read_to_string(&chart).expect("chart written");
    let _ = std::fs::remove_file(&chart);
    assert!(svg.starts_with("<svg") && svg.contains(">gpuclustering ("), "{svg}");
}

#[test]
fn bad_input_names_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("kubesched-trace-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad_pods.csv");
    std::fs::write(&bad, "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,1,1,500\np1,lots,1,1,500\n")
        .expect("write");
    let n = fixture("openb_tiny_nodes.csv");
    let b = bad.display().to_string();
    let (ok, _, err) = kubesched(&["trace", "openb", "--nodes", &n, "--pods", &b]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!ok);
    assert!(err.contains("bad_pods.csv:3: column 2 (cpu_milli): invalid value \"lots\": expected an integer"), "{err}");
    let (ok, _, err) = openb("openb_tiny_nodes.csv", "openb_tiny_pods_whole.csv", &["--policy", "tetris"]);
    assert!(!ok && err.contains("unknown policy \"tetris\""), "{err}");
}
