//! The FGD paper's replay protocol, run through the scheduling core.
//!
//! 1. The pods are sorted by name, then shuffled with the run's seed.
//! 2. The workload is tuned to the target share of the cluster's GPU capacity (130 % by
//!    default, or the highest level asked for): pods sampled with replacement from the
//!    name-sorted list are appended (`<name>-tuned-<i>`) while the total GPU request stays
//!    within the target; a trace above the target loses random pods instead.
//! 3. Pods arrive one at a time and never leave. Each is scheduled by
//!    [`kubesched_core::schedule::Scheduler`] with a profile built from a
//!    `KubeSchedulerConfiguration` (the policy's score plugin alone, every node scored) and
//!    assumed on the chosen node; a pod that fits nowhere is recorded as failed and skipped.
//! 4. The point of level `L %` is the cluster just before the first GPU pod that would take the
//!    arrived GPU request above `L %` of capacity (for the last level, the end of the run).
//!
//! The target workload of the fragmentation metrics, of FGD and of FGDStrand is the trace's
//! typical task shapes (95 % popularity), computed from the trace before tuning, as the
//! artifact does.

use crate::openb::{TraceNode, TracePod};
use kubesched_core::args::ArgValue;
use kubesched_core::config::{PluginArgs, PluginRef, PluginSet, ProfileConfig, SchedulerConfig};
use kubesched_core::framework::build_profiles;
use kubesched_core::gpu::MILLI;
use kubesched_core::gpu::frag::{DEFAULT_POPULARITY_THRESHOLD, TargetWorkload, cluster_metrics};
use kubesched_core::plugins::registry;
use kubesched_core::rng::Rng;
use kubesched_core::schedule::{Outcome, Scheduler};
use kubesched_core::snapshot::Snapshot;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The lowest highest level: runs always replay at least to 130 % of capacity.
pub const DEFAULT_TARGET_PERCENT: u32 = 130;

/// A scheduling policy: the score plugin of the profile.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum Policy {
    Fgd,
    /// FGD with CPU stranding and per-request shape weights (ours).
    FgdStrand,
    BestFit,
    DotProduct,
    GpuPacking,
    GpuClustering,
    Random,
}

impl Policy {
    /// The paper's policies, in the order of its figures, then ours.
    pub const ALL: &'static [Policy] = &[
        Policy::Fgd,
        Policy::BestFit,
        Policy::GpuPacking,
        Policy::GpuClustering,
        Policy::DotProduct,
        Policy::Random,
        Policy::FgdStrand,
    ];

    /// The name used on the command line and in the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Fgd => "fgd",
            Policy::FgdStrand => "fgdstrand",
            Policy::BestFit => "bestfit",
            Policy::DotProduct => "dotproduct",
            Policy::GpuPacking => "gpupacking",
            Policy::GpuClustering => "gpuclustering",
            Policy::Random => "random",
        }
    }

    /// The registered score plugin.
    pub fn plugin(self) -> &'static str {
        use kubesched_core::plugins::gpu::*;
        match self {
            Policy::Fgd => fgd::NAME,
            Policy::FgdStrand => fgd_strand::NAME,
            Policy::BestFit => best_fit::NAME,
            Policy::DotProduct => dot_product::NAME,
            Policy::GpuPacking => gpu_packing::NAME,
            Policy::GpuClustering => gpu_clustering::NAME,
            Policy::Random => random::NAME,
        }
    }

    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL.iter().copied().find(|p| p.name().eq_ignore_ascii_case(s))
    }

    fn has_pre_score(self) -> bool {
        matches!(self, Policy::Fgd | Policy::FgdStrand | Policy::Random)
    }
}

/// A loaded trace: nodes, pods sorted by name, and the target workload.
#[derive(Clone, Debug)]
pub struct Trace {
    pub nodes: Vec<TraceNode>,
    pub pods: Vec<TracePod>,
    pub workload: TargetWorkload,
    /// Milli-GPU of all nodes.
    pub capacity_milli: u64,
}

impl Trace {
    pub fn new(nodes: Vec<TraceNode>, mut pods: Vec<TracePod>) -> Result<Trace, String> {
        let capacity_milli: u64 = nodes.iter().map(|n| n.gpus as u64 * MILLI as u64).sum();
        if capacity_milli == 0 {
            return Err("the node list has no GPUs".into());
        }
        if pods.is_empty() {
            return Err("the pod list is empty".into());
        }
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(w) = pods.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(format!("duplicate pod name {:?}", w[0].name));
        }
        if pods.iter().all(|p| p.gpu.is_none()) {
            return Err("the pod list has no GPU pods: there is no GPU demand to replay".into());
        }
        let workload = TargetWorkload::typical(pods.iter().map(|p| p.shape()), DEFAULT_POPULARITY_THRESHOLD);
        Ok(Trace { nodes, pods, workload, capacity_milli })
    }

    /// Total milli-GPU requested by the trace's pods.
    pub fn demand_milli(&self) -> u64 {
        self.pods.iter().map(|p| p.gpu_milli_total()).sum()
    }

    /// The arrival sequence for `seed`: indices into [`Trace::pods`], shuffled and tuned so that
    /// the total GPU request is at most `target_milli` and no sampled pod more fits.
    pub fn arrivals(&self, seed: u64, target_milli: u64) -> Vec<usize> {
        let mut rng = Rng::new(seed ^ 0x7ACE_5EED);
        let mut order: Vec<usize> = (0..self.pods.len()).collect();
        rng.shuffle(&mut order);
        let mut total = self.demand_milli();
        while total > target_milli && !order.is_empty() {
            let i = rng.below(order.len() as u64) as usize;
            total -= self.pods[order.remove(i)].gpu_milli_total();
        }
        loop {
            let i = rng.below(self.pods.len() as u64) as usize;
            let g = self.pods[i].gpu_milli_total();
            if total + g > target_milli {
                break;
            }
            total += g;
            order.push(i);
        }
        order
    }

    /// The `KubeSchedulerConfiguration` of a replay with `policy`: kube-scheduler's filters
    /// that apply to the trace, `GpuShare`, and the policy's score plugin alone, scoring every
    /// feasible node.
    pub fn scheduler_config(&self, policy: Policy, seed: u64) -> SchedulerConfig {
        let plugin = policy.plugin();
        let enabled = |names: &[&str]| -> Vec<PluginRef> {
            names.iter().map(|n| PluginRef { name: n.to_string(), weight: None }).collect()
        };
        let mut profile = ProfileConfig::new("default-scheduler");
        profile.percentage_of_nodes_to_score = Some(100);
        profile.plugins.multi_point = PluginSet {
            enabled: enabled(&[
                "PrioritySort",
                "NodeUnschedulable",
                "NodeName",
                "TaintToleration",
                "NodeAffinity",
                "NodeResourcesFit",
                "GpuShare",
                plugin,
                "DefaultBinder",
            ]),
            disabled: vec!["*".into()],
        };
        profile.plugins.score =
            PluginSet { enabled: vec![PluginRef { name: plugin.into(), weight: Some(1) }], disabled: vec!["*".into()] };
        profile.plugins.pre_score = PluginSet {
            enabled: if policy.has_pre_score() { enabled(&[plugin]) } else { Vec::new() },
            disabled: vec!["*".into()],
        };
        profile.plugins.post_filter = PluginSet { enabled: Vec::new(), disabled: vec!["*".into()] };
        // Ties among the best nodes follow a seeded node order, as in the FGD artifact.
        let seed_arg = ArgValue::Int((seed & (i64::MAX as u64)) as i64);
        let mut args = BTreeMap::new();
        match policy {
            Policy::Random => {
                args.insert("seed".to_string(), seed_arg);
            }
            Policy::Fgd | Policy::FgdStrand => {
                args.insert("nodeOrderSeed".to_string(), seed_arg);
                args.insert("targetWorkload".to_string(), workload_list(&self.workload));
            }
            _ => {
                args.insert("nodeOrderSeed".to_string(), seed_arg);
            }
        }
        profile.plugin_config.push(PluginArgs { name: plugin.into(), args: ArgValue::Map(args) });
        SchedulerConfig { percentage_of_nodes_to_score: Some(100), profiles: vec![profile], ..Default::default() }
    }
}

/// FGD's `targetWorkload` list for `workload`.
pub fn workload_list(workload: &TargetWorkload) -> ArgValue {
    let items = workload
        .shapes()
        .iter()
        .map(|(s, p)| {
            let mut m = BTreeMap::new();
            m.insert("cpuMilli".to_string(), ArgValue::Int(s.cpu_milli));
            if let Some(g) = s.gpu {
                m.insert("gpuMilli".to_string(), ArgValue::Int(g.milli as i64));
                m.insert("gpuCount".to_string(), ArgValue::Int(g.count as i64));
            }
            if !s.models.is_empty() {
                let models = s.models.iter().map(|m| ArgValue::String(m.as_str().to_string())).collect();
                m.insert("gpuModels".to_string(), ArgValue::List(models));
            }
            m.insert("weight".to_string(), ArgValue::Float(*p));
            ArgValue::Map(m)
        })
        .collect();
    ArgValue::List(items)
}

/// The cluster at one load level.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The level, in % of GPU capacity.
    pub arrived_gpu_percent: u32,
    /// GPU requested by the pods arrived so far, in milli-GPU.
    pub arrived_milli: u64,
    pub allocated_milli: u64,
    pub unallocated_milli: u64,
    pub fragmentation_rate: f64,
    /// Pods that failed so far.
    pub failed_pods: usize,
}

/// One replay.
#[derive(Clone, Debug)]
pub struct Run {
    pub policy: Policy,
    pub seed: u64,
    pub points: Vec<Point>,
    /// Unallocated milli-GPU at every whole percent of arrived demand, `(percent, milli)`.
    pub curve: Vec<(u32, u64)>,
    pub capacity_milli: u64,
    pub pods: usize,
    pub failed: usize,
    pub elapsed: Duration,
}

/// Replays `trace` with `policy` and `seed`, recording the points of `levels` (percent).
pub fn run(trace: &Trace, policy: Policy, seed: u64, levels: &[u32]) -> Result<Run, String> {
    run_with_config(trace, policy, seed, levels, &trace.scheduler_config(policy, seed)).map(|(run, _)| run)
}

/// [`run`] with a given scheduler configuration (`policy` only labels the run), returning the
/// final cluster too (for studies of where the unallocated GPUs are).
pub fn run_with_config(
    trace: &Trace,
    policy: Policy,
    seed: u64,
    levels: &[u32],
    config: &SchedulerConfig,
) -> Result<(Run, Snapshot), String> {
    let start = Instant::now();
    let mut levels: Vec<u32> = levels.to_vec();
    levels.sort_unstable();
    levels.dedup();
    let top = levels.last().copied().unwrap_or(0).max(DEFAULT_TARGET_PERCENT);
    let cap = trace.capacity_milli;
    let arrivals = trace.arrivals(seed, cap * top as u64 / 100);

    let mut snapshot = Snapshot::new();
    for n in &trace.nodes {
        snapshot.add_node(n.to_node());
    }
    let profiles = build_profiles(config, &registry())
        .map_err(|errs| errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))?;
    let mut scheduler = Scheduler::new(profiles, 100, seed);

    let mut points = Vec::with_capacity(levels.len());
    let mut curve = Vec::with_capacity(top as usize + 1);
    let mut next_level = 0usize;
    let mut next_pct = 1u32;
    let mut arrived = 0u64;
    let mut allocated = 0u64;
    let mut failed = 0usize;
    let record = |snapshot: &Snapshot, pct: u32, arrived: u64, failed: usize| -> Point {
        let m = cluster_metrics(snapshot, &trace.workload);
        Point {
            arrived_gpu_percent: pct,
            arrived_milli: arrived,
            allocated_milli: m.allocated_milli,
            unallocated_milli: m.unallocated_milli(),
            fragmentation_rate: m.fragmentation_rate(),
            failed_pods: failed,
        }
    };
    curve.push((0, cap));
    let originals = trace.pods.len();
    for (k, &idx) in arrivals.iter().enumerate() {
        let tp = &trace.pods[idx];
        let g = tp.gpu_milli_total();
        while next_level < levels.len() && arrived + g > cap * levels[next_level] as u64 / 100 {
            points.push(record(&snapshot, levels[next_level], arrived, failed));
            next_level += 1;
        }
        while next_pct <= top && arrived + g > cap * next_pct as u64 / 100 {
            curve.push((next_pct, cap - allocated));
            next_pct += 1;
        }
        arrived += g;
        let name = if k < originals { tp.name.clone() } else { format!("{}-tuned-{}", tp.name, k - originals) };
        let pod = Arc::new(tp.to_pod(&name));
        let result = scheduler.schedule(&snapshot, 0, &pod);
        let placed = match result.outcome {
            Outcome::Scheduled { node } => scheduler.assume(&mut snapshot, 0, pod, node, &result.state).is_ok(),
            _ => false,
        };
        if placed {
            allocated += g;
        } else {
            failed += 1;
        }
    }
    while next_level < levels.len() {
        points.push(record(&snapshot, levels[next_level], arrived, failed));
        next_level += 1;
    }
    while next_pct <= top {
        curve.push((next_pct, cap - allocated));
        next_pct += 1;
    }
    debug_assert_eq!(allocated, cluster_metrics(&snapshot, &TargetWorkload::default()).allocated_milli);
    let run = Run {
        policy,
        seed,
        points,
        curve,
        capacity_milli: cap,
        pods: arrivals.len(),
        failed,
        elapsed: start.elapsed(),
    };
    Ok((run, snapshot))
}

/// Runs every (policy, seed) pair on up to `threads` threads; results in (policy, seed) order.
pub fn run_all(
    trace: &Trace,
    policies: &[Policy],
    seeds: &[u64],
    levels: &[u32],
    threads: usize,
) -> Result<Vec<Run>, String> {
    let jobs: Vec<(Policy, u64)> = policies.iter().flat_map(|&p| seeds.iter().map(move |&s| (p, s))).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<Run, String>>>> =
        std::sync::Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, jobs.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(policy, seed)) = jobs.get(i) else { break };
                    let r = run(trace, policy, seed, levels);
                    if let Ok(mut guard) = results.lock() {
                        guard[i] = Some(r);
                    }
                }
            });
        }
    });
    let results = results.into_inner().map_err(|_| "a replay thread panicked".to_string())?;
    results.into_iter().map(|r| r.unwrap_or_else(|| Err("a replay did not finish".into()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openb::{parse_nodes, parse_pods};

    fn small_trace() -> Trace {
        let nodes = parse_nodes(
            "n.csv",
            "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,65536,2,T4\nn1,32000,65536,2,T4\nn2,16000,65536,1,P100\n",
        )
        .unwrap();
        let pods = parse_pods(
            "p.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,4000,1024,1,500\np1,4000,1024,1,1000\np2,8000,1024,2,1000\np3,2000,1024,0,0\n",
        )
        .unwrap();
        Trace::new(nodes, pods).unwrap()
    }

    #[test]
    fn arrivals_are_shuffled_then_tuned_to_the_target() {
        let t = small_trace();
        assert_eq!((t.capacity_milli, t.demand_milli()), (5000, 3500));
        let a = t.arrivals(0, 6500);
        // The four originals first, each once, then samples while the total stays ≤ 6500.
        let mut first: Vec<usize> = a[..4].to_vec();
        first.sort_unstable();
        assert_eq!(first, [0, 1, 2, 3]);
        let total: u64 = a.iter().map(|&i| t.pods[i].gpu_milli_total()).sum();
        assert!(total <= 6500 && total > 6500 - 2000, "{total}");
        assert_eq!(a, t.arrivals(0, 6500), "same seed, same sequence");
        // Above the target: random pods are dropped until it is met.
        let down = t.arrivals(3, 1500);
        let total: u64 = down.iter().map(|&i| t.pods[i].gpu_milli_total()).sum();
        assert!(total <= 1500, "{total}");
    }

    #[test]
    fn every_policy_replays_the_small_trace_deterministically() {
        let t = small_trace();
        for &p in Policy::ALL {
            let r = run(&t, p, 1, &[50, 100, 130]).unwrap();
            assert_eq!(r.points.len(), 3);
            let last = &r.points[2];
            assert_eq!(last.allocated_milli + last.unallocated_milli, 5000);
            assert!(last.arrived_milli <= 6500);
            assert!(r.points.windows(2).all(|w| w[0].allocated_milli <= w[1].allocated_milli));
            let again = run(&t, p, 1, &[50, 100, 130]).unwrap();
            assert_eq!(r.points, again.points, "{p:?}");
            assert_eq!(r.curve.len(), 131);
        }
    }

    #[test]
    fn profiles_use_the_policy_alone_for_scoring() {
        let t = small_trace();
        let profiles = build_profiles(&t.scheduler_config(Policy::Fgd, 0), &registry()).unwrap();
        let p = &profiles[0];
        let scores: Vec<&str> = p.score.iter().map(|&(i, _)| p.plugins[i].name()).collect();
        assert_eq!(scores, ["FGD"]);
        let filters: Vec<&str> = p.filter.iter().map(|&i| p.plugins[i].name()).collect();
        assert!(filters.contains(&"GpuShare") && filters.contains(&"NodeResourcesFit"), "{filters:?}");
        let reserve: Vec<&str> = p.reserve.iter().map(|&i| p.plugins[i].name()).collect();
        assert_eq!(reserve, ["GpuShare", "FGD"]);
        let profiles = build_profiles(&t.scheduler_config(Policy::FgdStrand, 0), &registry()).unwrap();
        let p = &profiles[0];
        let names = |idx: &[usize]| -> Vec<&str> { idx.iter().map(|&i| p.plugins[i].name()).collect() };
        assert_eq!(names(&p.pre_score), ["FGDStrand"]);
        assert_eq!(names(&p.reserve), ["GpuShare", "FGDStrand"]);
        assert_eq!(Policy::parse("FGDSTRAND"), Some(Policy::FgdStrand));
    }
}
