//! Studies of a policy on the OpenB trace, beyond `kubesched trace openb`:
//!
//! ```text
//! cargo run --release -p kubesched-trace --example study -- sweep NODES PODS POLICY SEEDS [key=value ...]
//! cargo run --release -p kubesched-trace --example study -- where NODES PODS POLICY SEED [key=value ...]
//! ```
//!
//! `key=value` pairs are added to the policy's plugin args (numbers, `true`/`false`, or
//! strings), e.g. `strandWeight=0` or `shapeWeights=Popularity` for `fgdstrand`;
//! `popularityThreshold=100` gives FGD or FGDStrand the typical shapes at another threshold.
//!
//! - `sweep` replays seeds `0..SEEDS` on two threads and prints the unallocated GPUs at 130 %:
//!   mean ± sample standard deviation, then every seed.
//! - `where` replays one seed and shows where the unallocated GPUs are at the end: per node
//!   type (free GPUs, on fully free devices, in partly used devices, on nodes with under 4 cores
//!   left, CPU left, CPU of CPU-only pods), then the devices holding shares grouped by their
//!   shares with the GPU they leave unused.

use kubesched_core::args::ArgValue;
use kubesched_core::config::SchedulerConfig;
use kubesched_core::gpu::frag::TargetWorkload;
use kubesched_core::gpu::{GpuRequest, MILLI, free_devices, node_model};
use kubesched_core::snapshot::Snapshot;
use kubesched_trace::openb;
use kubesched_trace::replay::{Policy, Trace, run_with_config, workload_list};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

fn value(v: &str) -> ArgValue {
    if let Ok(i) = v.parse::<i64>() {
        ArgValue::Int(i)
    } else if let Ok(f) = v.parse::<f64>() {
        ArgValue::Float(f)
    } else if v == "true" || v == "false" {
        ArgValue::Bool(v == "true")
    } else {
        ArgValue::String(v.to_string())
    }
}

fn config(trace: &Trace, policy: Policy, seed: u64, extra: &[String]) -> Result<SchedulerConfig, String> {
    let mut config = trace.scheduler_config(policy, seed);
    let args = config.profiles.first_mut().and_then(|p| p.plugin_config.first_mut()).map(|p| &mut p.args);
    let Some(ArgValue::Map(m)) = args else { return Err("the policy's plugin has no args map".into()) };
    for kv in extra {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("expected key=value, got {kv:?}"))?;
        if k == "popularityThreshold" {
            // The target workload's typical shapes at another threshold than the paper's 95 %.
            let pct: f64 = v.parse().map_err(|_| format!("not a number: {v:?}"))?;
            let w = TargetWorkload::typical(trace.pods.iter().map(|p| p.shape()), pct);
            m.insert("targetWorkload".to_string(), workload_list(&w));
            continue;
        }
        m.insert(k.to_string(), value(v));
    }
    Ok(config)
}

fn gpus(milli: u64) -> f64 {
    milli as f64 / MILLI as f64
}

fn sweep(trace: &Trace, policy: Policy, seeds: u64, extra: &[String]) -> Result<(), String> {
    let next = AtomicU64::new(0);
    let out = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= seeds {
                        break;
                    }
                    let r = config(trace, policy, seed, extra)
                        .and_then(|c| run_with_config(trace, policy, seed, &[130], &c).map(|(run, _)| run));
                    if let Ok(mut g) = out.lock() {
                        g.push((seed, r));
                    }
                }
            });
        }
    });
    let mut out = out.into_inner().map_err(|_| "a replay panicked")?;
    out.sort_by_key(|o| o.0);
    let mut xs = Vec::new();
    let mut secs = 0.0;
    for (_, r) in out {
        let r = r?;
        secs += r.elapsed.as_secs_f64();
        xs.push(r.points.first().map_or(0.0, |p| gpus(p.unallocated_milli)));
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    let per: Vec<String> = xs.iter().map(|x| format!("{x:.1}")).collect();
    println!(
        "{mean:>7.1} ±{sd:>5.1}  [{}]  {:.2}s/run  {} {}",
        per.join(" "),
        secs / n,
        policy.name(),
        extra.join(" ")
    );
    Ok(())
}

fn report_where(trace: &Trace, snap: &Snapshot) {
    // Per node type (model, devices, CPU): nodes, free GPUs, fully free devices, free GPUs in
    // partly used devices, free GPUs on nodes with < 4 cores left, cores left, CPU-only cores.
    let mut by: BTreeMap<(String, usize, i64), [f64; 7]> = BTreeMap::new();
    for n in snap.nodes() {
        let free = free_devices(n);
        if free.is_empty() {
            continue;
        }
        let cpu_left = n.node.allocatable.cpu - n.requested.cpu;
        let model = node_model(n).map_or("-".to_string(), |m| m.as_str().to_string());
        let e = by.entry((model, free.len(), n.node.allocatable.cpu)).or_default();
        let idle: u64 = free.iter().map(|&f| f as u64).sum();
        e[0] += 1.0;
        e[1] += gpus(idle);
        e[2] += free.iter().filter(|&&f| f == MILLI).count() as f64;
        e[3] += gpus(free.iter().filter(|&&f| f < MILLI).map(|&f| f as u64).sum());
        if cpu_left < 4000 {
            e[4] += gpus(idle);
        }
        e[5] += cpu_left as f64 / 1000.0;
        let cpu_pods = n.pods.iter().map(|&p| &snap.pod(p).pod).filter(|p| matches!(GpuRequest::of(p), Ok(None)));
        e[6] += cpu_pods.map(|p| p.non_zero_cpu() as f64 / 1000.0).sum::<f64>();
    }
    println!("model    GPUs     cpu  nodes  freeGPU  wholeFree  partFree  free@cpu<4  coresLeft  cpuPodCores");
    for ((model, devices, cpu), e) in &by {
        println!(
            "{model:<8} {devices:>4} {:>7} {:>6} {:>8.1} {:>10} {:>9.1} {:>11.1} {:>10.0} {:>12.0}",
            cpu / 1000,
            e[0],
            e[1],
            e[2],
            e[3],
            e[4],
            e[5],
            e[6]
        );
    }
    // Devices holding shares, by their shares: how many, and the GPU they leave unused.
    let mut devices: BTreeMap<(u32, u8), Vec<u16>> = BTreeMap::new();
    for (_, p) in snap.pods() {
        if p.gpus.milli < MILLI {
            for &d in &p.gpus.devices {
                devices.entry((p.node.0, d)).or_default().push(p.gpus.milli);
            }
        }
    }
    let mut combos: BTreeMap<Vec<u16>, (u32, u64)> = BTreeMap::new();
    for (_, mut shares) in devices {
        shares.sort_unstable_by(|a, b| b.cmp(a));
        let left = MILLI as u64 - shares.iter().map(|&x| x as u64).sum::<u64>();
        let e = combos.entry(shares).or_default();
        e.0 += 1;
        e.1 += left;
    }
    let mut combos: Vec<_> = combos.into_iter().collect();
    combos.sort_by_key(|c| std::cmp::Reverse(c.1.1));
    println!("shared devices by their shares (milli-GPU), with the GPUs left unused:");
    for (shares, (n, left)) in combos.iter().take(20) {
        println!("  {shares:?}: {n} devices, {:.1} GPUs unused", gpus(*left));
    }
    let total: u64 = snap.nodes().map(|n| free_devices(n).iter().map(|&f| f as u64).sum::<u64>()).sum();
    println!("unallocated {:.1} GPUs of {:.0}", gpus(total), gpus(trace.capacity_milli));
}

fn main() -> Result<(), String> {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 6 || !matches!(a[1].as_str(), "sweep" | "where") {
        return Err(
            "usage: study (sweep NODES PODS POLICY SEEDS | where NODES PODS POLICY SEED) [key=value ...]".into()
        );
    }
    let nodes = openb::load_nodes(Path::new(&a[2])).map_err(|e| e.to_string())?;
    let pods = openb::load_pods(Path::new(&a[3])).map_err(|e| e.to_string())?;
    let trace = Trace::new(nodes, pods)?;
    let policy = Policy::parse(&a[4]).ok_or_else(|| format!("unknown policy {:?}", a[4]))?;
    let n: u64 = a[5].parse().map_err(|_| format!("not a number: {:?}", a[5]))?;
    let extra = &a[6..];
    if a[1] == "sweep" {
        return sweep(&trace, policy, n, extra);
    }
    let (_, snap) = run_with_config(&trace, policy, n, &[130], &config(&trace, policy, n, extra)?)?;
    report_where(&trace, &snap);
    Ok(())
}
