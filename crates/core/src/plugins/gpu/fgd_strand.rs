//! FGDStrand (ours, not in the FGD paper): FGD's fragmentation gradient with two changes that
//! beat FGD on every OpenB pod list we replay (`crates/trace/docs/fgd-strand.md` has the
//! results, the ablations and what did not work).
//!
//! 1. **CPU stranding.** FGD's quadrants look at CPU one task at a time: a node with 8 idle GPUs
//!    and 40 free cores is "not fragmented" for an 11-core GPU task, because *one* such task
//!    fits — yet only three do, and the other five GPUs are stranded. So a CPU-only pod that
//!    leaves a GPU node short of CPU costs nothing in FGD, and ties with a placement on a node
//!    with CPU to spare. FGDStrand adds the node's CPU-stranded GPU
//!    `S_n = max(0, idle_n − cpu_left_n / ρ)`, where `ρ` is the target workload's CPU per GPU
//!    (`Σ p_m·cpu_m / Σ p_m·gpu_m` over its GPU shapes): the idle GPU the node's free CPU
//!    cannot feed at the workload's ratio. It is in milli-GPU like `F_n` and weighs the same
//!    (`strandWeight`, default 1).
//! 2. **Fragments counted per task.** Each shape's fragment is divided by the shape's GPU
//!    request, `w_m ∝ p_m / gpu_m` (a CPU-only shape counts as one GPU), renormalized to sum
//!    to 1: `F̃_n = Σ_m w_m · F_n(m)`. A 0.19-GPU fragment turns away one 0.16-GPU task but only
//!    a fifth of a whole-GPU task. With plain popularity the whole-GPU shapes (half of the
//!    tasks) dominate `F_n` and add the same amount wherever a share goes, so FGD barely tells
//!    a tight hole from a loose one (`shapeWeights: Popularity` restores FGD's weights).
//!
//! The score is the artifact's, `⌊sigmoid((C_before − C_after) / 1000) × 100⌋` with
//! `C_n = F̃_n + strandWeight · S_n`, and ties among the best nodes follow the seeded node order
//! (`nodeOrderSeed`), as for FGD: the coarse score plus a fixed order packs nodes one after the
//! other, which exact comparisons lose. A share goes to the device FGD would pick under `F̃`
//! (the stranding term does not depend on the device).
//!
//! ```yaml
//! - name: FGDStrand
//!   args:
//!     targetWorkload: [...]        # as FGD's (required)
//!     strandWeight: 1              # weight of S_n; 0 leaves F̃ alone
//!     shapeWeights: PerRequest     # or Popularity (FGD's)
//! ```

use super::fgd::{Fgd, fgd_score, parse_target_workload};
use crate::args::{ArgValue, FieldError, read};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::gpu::frag::TargetWorkload;
use crate::gpu::{MILLI, free_devices, node_model};
use crate::model::Pod;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use smallvec::SmallVec;
use std::sync::Arc;

pub const NAME: &str = "FGDStrand";

/// How the target workload's shapes are weighted in the fragmentation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ShapeWeights {
    /// `p_m / gpu_m`: fragments counted in tasks of each shape.
    PerRequest,
    /// `p_m`: FGD's weights.
    Popularity,
}

pub struct FgdStrand {
    /// FGD over the reweighted workload: the fragmentation change, its memo, the device choice.
    fgd: Fgd,
    /// Weight of the CPU-stranding term.
    strand_weight: f64,
    /// `ρ`: the workload's CPU (milli) per milli-GPU; 0 when it has no GPU shape.
    cpu_per_gpu: f64,
    /// Ties among the best nodes follow this seeded node order (`nodeOrderSeed`).
    pub node_order: Option<super::NodeOrder>,
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    let seed = super::parse_node_order_seed(args, path, &["targetWorkload", "strandWeight", "shapeWeights"])?;
    let weights = match read::string(args.get("shapeWeights"), &format!("{path}.shapeWeights"))?.as_deref() {
        None | Some("PerRequest") => ShapeWeights::PerRequest,
        Some("Popularity") => ShapeWeights::Popularity,
        Some(other) => {
            return Err(FieldError::not_supported(
                format!("{path}.shapeWeights"),
                other,
                &["PerRequest", "Popularity"],
            ));
        }
    };
    let wpath = format!("{path}.strandWeight");
    let strand_weight = match args.get("strandWeight") {
        None | Some(ArgValue::Null) => 1.0,
        Some(ArgValue::Int(n)) => *n as f64,
        Some(ArgValue::Float(f)) => *f,
        Some(other) => return Err(FieldError::invalid(wpath, other, "expected a number")),
    };
    if !strand_weight.is_finite() || strand_weight < 0.0 {
        return Err(FieldError::invalid(wpath, strand_weight, "must be a non-negative number"));
    }
    let workload = parse_target_workload(args, path)?;
    let mut plugin = FgdStrand::new(&workload, weights, strand_weight);
    plugin.node_order = seed.map(super::NodeOrder::new);
    Ok(Arc::new(plugin))
}

/// `ρ` of a workload: CPU milli per milli-GPU over its GPU shapes, weighted by popularity.
pub fn cpu_per_gpu(workload: &TargetWorkload) -> f64 {
    let (mut cpu, mut gpu) = (0.0, 0.0);
    for (s, p) in workload.shapes() {
        if let Some(g) = s.gpu {
            cpu += p * s.cpu_milli as f64;
            gpu += p * g.total_milli() as f64;
        }
    }
    if gpu > 0.0 { cpu / gpu } else { 0.0 }
}

/// The workload with each shape's weight divided by its GPU request in GPUs (one for a
/// CPU-only shape), renormalized to sum to 1.
pub fn per_request(workload: &TargetWorkload) -> TargetWorkload {
    let mut shapes: Vec<_> = workload
        .shapes()
        .iter()
        .map(|(s, p)| {
            let gpus = s.gpu.map_or(1.0, |g| g.total_milli() as f64 / MILLI as f64);
            (s.clone(), p / gpus)
        })
        .collect();
    let total: f64 = shapes.iter().map(|s| s.1).sum();
    if total > 0.0 {
        for s in shapes.iter_mut() {
            s.1 /= total;
        }
    }
    TargetWorkload::new(shapes)
}

impl FgdStrand {
    pub fn new(workload: &TargetWorkload, weights: ShapeWeights, strand_weight: f64) -> FgdStrand {
        let weighted = match weights {
            ShapeWeights::PerRequest => per_request(workload),
            ShapeWeights::Popularity => workload.clone(),
        };
        FgdStrand { fgd: Fgd::new(weighted), strand_weight, cpu_per_gpu: cpu_per_gpu(workload), node_order: None }
    }

    /// The workload the fragmentation is measured against (after reweighting).
    pub fn workload(&self) -> &TargetWorkload {
        self.fgd.workload()
    }

    /// `S_n`: idle milli-GPU that `cpu_left` cannot feed at the workload's CPU per GPU.
    pub fn stranded(&self, idle_milli: u32, cpu_left: i64) -> f64 {
        if self.cpu_per_gpu <= 0.0 {
            return 0.0;
        }
        (idle_milli as f64 - cpu_left.max(0) as f64 / self.cpu_per_gpu).max(0.0)
    }

    /// `C_before − C_after` of placing `pod` on a node with `cpu_left` and devices `free`, and
    /// the devices a GPU pod gets.
    fn evaluate(
        &self,
        memo: &mut super::fgd::Memo,
        pod: &Pod,
        node: &NodeInfo,
        cpu_left: i64,
        free: &[u16],
    ) -> (f64, Option<SmallVec<[u8; 8]>>) {
        let (frag, devices) = self.fgd.evaluate(memo, pod, node_model(node), cpu_left, free);
        if !frag.is_finite() || self.strand_weight == 0.0 {
            return (frag, devices);
        }
        let idle: u32 = free.iter().map(|&f| f as u32).sum();
        let used = super::request(pod).map_or(0, |r| r.total_milli());
        let before = self.stranded(idle, cpu_left);
        let after = self.stranded(idle.saturating_sub(used), cpu_left - pod.non_zero_cpu());
        (frag + self.strand_weight * (before - after), devices)
    }
}

/// `C_before − C_after` of the feasible nodes, by node id, computed once per cycle in PreScore.
#[derive(Clone)]
struct Deltas(Vec<f64>);

impl Plugin for FgdStrand {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::PRE_SCORE | Points::SCORE | Points::NORMALIZE | Points::RESERVE
    }

    fn pre_score(&self, cx: PodCx<'_>, state: &mut PluginState, feasible: &[&NodeInfo]) -> Status {
        let max_id = feasible.iter().map(|n| n.id.0 as usize).max().unwrap_or(0);
        let mut deltas = vec![f64::NEG_INFINITY; max_id + 1];
        let mut memo = self.fgd.lock();
        for node in feasible {
            let cpu_left = node.node.allocatable.cpu - node.requested.cpu;
            deltas[node.id.0 as usize] = self.evaluate(&mut memo, cx.pod, node, cpu_left, &free_devices(node)).0;
        }
        state.set(Deltas(deltas));
        Status::success()
    }

    fn score(&self, cx: PodCx<'_>, state: &PluginState, node: &NodeInfo) -> i64 {
        if let Some(d) = state.get::<Deltas>().and_then(|s| s.0.get(node.id.0 as usize)) {
            return fgd_score(*d);
        }
        let cpu_left = node.node.allocatable.cpu - node.requested.cpu;
        fgd_score(self.evaluate(&mut self.fgd.lock(), cx.pod, node, cpu_left, &free_devices(node)).0)
    }

    fn normalize_scores(&self, _cx: PodCx<'_>, _state: &PluginState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        super::break_ties(self.node_order.as_ref(), nodes, scores);
    }

    fn reserve(&self, pod: &Pod, _state: &PluginState, snapshot: &mut Snapshot, node: NodeId, pod_id: PodId) -> Status {
        let Some(req) = super::request(pod) else { return Status::success() };
        snapshot.release_gpus(pod_id);
        let Some(info) = snapshot.get_node(node) else { return Status::error("node not found") };
        // Reserve runs after assume: judge the node as it was before this pod, as Score did.
        let cpu_left = info.node.allocatable.cpu - info.requested.cpu + pod.requests().cpu;
        let free = free_devices(info);
        let (_, devices) = self.evaluate(&mut self.fgd.lock(), pod, info, cpu_left, &free);
        let Some(devices) = devices else {
            return Status::unschedulable(super::gpu_share::insufficient_reason(req));
        };
        match snapshot.assign_gpus(pod_id, &devices, req.milli) {
            Ok(()) => Status::success(),
            Err(e) => Status::error(e),
        }
    }

    fn unreserve(&self, _pod: &Pod, snapshot: &mut Snapshot, _node: NodeId, pod_id: PodId) {
        snapshot.release_gpus(pod_id);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use crate::gpu::GpuRequest;
    use crate::gpu::frag::{NodeGpuState, TaskShape, node_fragmentation};

    /// A 0.5-GPU share with 2 cores and a whole GPU with 4 cores, equally popular:
    /// `ρ = (0.5·2000 + 0.5·4000) / (0.5·500 + 0.5·1000) = 4` CPU milli per milli-GPU.
    fn workload() -> TargetWorkload {
        TargetWorkload::new(vec![
            (TaskShape::new(2000, Some(GpuRequest::share(500)), []), 0.5),
            (TaskShape::new(4000, Some(GpuRequest::whole(1)), []), 0.5),
        ])
    }

    fn plugin() -> FgdStrand {
        FgdStrand::new(&workload(), ShapeWeights::PerRequest, 1.0)
    }

    fn scores(f: &FgdStrand, s: &Snapshot, pod: &Pod) -> Vec<i64> {
        let cx = PodCx { pod, snapshot: s };
        let nodes: Vec<&NodeInfo> = s.nodes().collect();
        let mut st = PluginState::default();
        assert!(f.pre_score(cx, &mut st, &nodes).is_success());
        nodes.iter().map(|n| f.score(cx, &st, n)).collect()
    }

    #[test]
    fn weights_per_request_and_cpu_per_gpu() {
        let w = TargetWorkload::new(vec![
            (TaskShape::new(2000, Some(GpuRequest::share(500)), []), 0.5),
            (TaskShape::new(4000, Some(GpuRequest::whole(1)), []), 0.25),
            (TaskShape::new(8000, None, []), 0.25),
        ]);
        // ρ over the GPU shapes: (0.5·2000 + 0.25·4000) / (0.5·500 + 0.25·1000) = 2000 / 500.
        assert_eq!(cpu_per_gpu(&w), 4.0);
        // p / GPUs: 0.5/0.5 = 1, 0.25/1, 0.25/1 (CPU-only as one GPU) → /1.5 → 2/3, 1/6, 1/6.
        let got: Vec<f64> = per_request(&w).shapes().iter().map(|(_, p)| *p).collect();
        let want = [2.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0];
        assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-12), "{got:?}");
        assert_eq!(cpu_per_gpu(&TargetWorkload::new(vec![(TaskShape::new(8000, None, []), 1.0)])), 0.0);
    }

    #[test]
    fn stranded_gpu_is_idle_gpu_the_free_cpu_cannot_feed() {
        let f = plugin();
        // 6 cores feed 1500 milli-GPU at ρ = 4: 500 of 2000 idle are stranded.
        assert_eq!(f.stranded(2000, 6000), 500.0);
        assert_eq!(f.stranded(2000, 10_000), 0.0);
        assert_eq!(f.stranded(1000, -5), 1000.0);
        assert_eq!(f.stranded(0, 0), 0.0);
    }

    #[test]
    fn a_cpu_pod_goes_where_it_strands_no_gpu_where_fgd_ties() {
        let mut s = Snapshot::new();
        s.add_node(gpu_node("tight", 16_000, 2, "T4"));
        s.add_node(gpu_node("roomy", 64_000, 2, "T4"));
        let pod = cpu_pod("c", 10_000);
        // FGD: both shapes still fit on either node (6 and 54 cores left) → Δ = 0 → 50 and 50.
        let fgd = Fgd::new(workload());
        let cx = PodCx { pod: &pod, snapshot: &s };
        let nodes: Vec<&NodeInfo> = s.nodes().collect();
        let mut st = PluginState::default();
        assert!(fgd.pre_score(cx, &mut st, &nodes).is_success());
        assert_eq!(nodes.iter().map(|n| fgd.score(cx, &st, n)).collect::<Vec<_>>(), [50, 50]);
        // FGDStrand: on `tight`, 6 cores feed 1500 of the 2000 idle milli-GPU → S goes 0 → 500,
        // Δ = −500 → ⌊sigmoid(−0.5)·100⌋ = 37; on `roomy` nothing is stranded → 50.
        assert_eq!(scores(&plugin(), &s, &pod), [37, 50]);
        // Without the stranding term it ties like FGD.
        assert_eq!(scores(&FgdStrand::new(&workload(), ShapeWeights::PerRequest, 0.0), &s, &pod), [50, 50]);
    }

    #[test]
    fn shares_are_scored_with_per_request_weights() {
        let mut s = Snapshot::new();
        let n = s.add_node(gpu_node("n", 32_000, 2, "T4"));
        place(&mut s, n, share_pod("a", 1000, 500), &[0]);
        let f = plugin();
        // Weights 0.5/0.5 and 0.5/1 → 2/3 (share) and 1/3 (whole GPU). Free [500, 1000]: the
        // share fits (fragment 0), the whole GPU fits with device 0 as fragment → 500/3.
        let before = node_fragmentation(&NodeGpuState::of(s.node(n)), f.workload());
        assert!((before - 500.0 / 3.0).abs() < 1e-9, "{before}");
        // A 500 share on device 0 → [0, 1000]: F̃ = 0, Δ = 166.7 (nothing stranded: 31 cores
        // feed 7750) → ⌊sigmoid(0.1667)·100⌋ = 54. On device 1 → [500, 500]: the whole GPU no
        // longer fits → 1000/3, Δ = −166.7. Device 0 wins.
        let pod = share_pod("p", 1000, 500);
        assert_eq!(scores(&f, &s, &pod), [54]);
        let id = s.add_pod(Arc::new(pod.clone()), n);
        assert!(f.reserve(&pod, &PluginState::default(), &mut s, n, id).is_success());
        assert_eq!(s.pod(id).gpus.devices.as_slice(), [0]);
        // FGD's popularity weights score the same move Δ = 250 → 56.
        let popular = FgdStrand::new(&workload(), ShapeWeights::Popularity, 1.0);
        s.remove_pod(id);
        assert_eq!(scores(&popular, &s, &pod), [56]);
    }

    #[test]
    fn a_gpu_pod_with_heavy_cpu_avoids_the_node_it_would_strand() {
        let mut s = Snapshot::new();
        s.add_node(gpu_node("lean", 16_000, 4, "G2"));
        s.add_node(gpu_node("rich", 104_000, 4, "G2"));
        // One whole GPU with 8 cores. Both shapes still fit on both nodes afterwards (8 and 96
        // cores left, whole devices free), so F̃ does not change: FGD alone would tie.
        // lean: before 16 cores feed 4000 = the 4000 idle → S = 0; after, 8 cores feed 2000 of
        // the 3000 idle → S = 1000 → Δ = −1000 → ⌊sigmoid(−1)·100⌋ = 26. rich: S stays 0 → 50.
        let pod = whole_pod("w", 8000, 1);
        assert_eq!(scores(&plugin(), &s, &pod), [26, 50]);
        assert_eq!(scores(&FgdStrand::new(&workload(), ShapeWeights::PerRequest, 0.0), &s, &pod), [50, 50]);
        // Half the weight halves the change: Δ = −500 → 37.
        assert_eq!(scores(&FgdStrand::new(&workload(), ShapeWeights::PerRequest, 0.5), &s, &pod), [37, 50]);
        // With 13 cores the lean node keeps 3, too few for the whole-GPU shape (4 cores): its
        // weight 1/3 times the 3000 idle becomes fragment (Q4), F̃ 0 → 1000; and 3 cores feed
        // 750 of the 3000 idle, S 0 → 2250. Δ = −3250 → ⌊sigmoid(−3.25)·100⌋ = 3.
        assert_eq!(scores(&plugin(), &s, &whole_pod("h", 13_000, 1)), [3, 50]);
    }

    #[test]
    fn args_are_parsed_and_validated() {
        use std::collections::BTreeMap;
        let map = |pairs: Vec<(&str, ArgValue)>| {
            ArgValue::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>())
        };
        let shapes = || {
            ArgValue::List(vec![map(vec![
                ("cpuMilli", ArgValue::Int(2000)),
                ("gpuMilli", ArgValue::Int(500)),
                ("weight", ArgValue::Int(1)),
            ])])
        };
        let ok = map(vec![
            ("targetWorkload", shapes()),
            ("strandWeight", ArgValue::Float(0.5)),
            ("shapeWeights", ArgValue::String("Popularity".into())),
            ("nodeOrderSeed", ArgValue::Int(3)),
        ]);
        assert!(new(&ok, "args").is_ok());
        let err = |args: ArgValue| new(&args, "args").err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err(ArgValue::Null), "args.targetWorkload: Required value");
        assert_eq!(
            err(map(vec![("targetWorkload", shapes()), ("strandWeight", ArgValue::Int(-1))])),
            "args.strandWeight: Invalid value: -1: must be a non-negative number"
        );
        assert_eq!(
            err(map(vec![("targetWorkload", shapes()), ("strandWeight", ArgValue::String("x".into()))])),
            "args.strandWeight: Invalid value: \"x\": expected a number"
        );
        assert_eq!(
            err(map(vec![("targetWorkload", shapes()), ("shapeWeights", ArgValue::String("Tasks".into()))])),
            "args.shapeWeights: Unsupported value: \"Tasks\": supported values: \"PerRequest\", \"Popularity\""
        );
        assert_eq!(
            err(map(vec![("targetWorkload", shapes()), ("tieBreak", ArgValue::Null)])),
            "args.tieBreak: unknown field"
        );
    }
}
