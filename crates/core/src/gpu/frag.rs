//! GPU fragmentation, as defined by the FGD paper (Weng et al., "Beware of Fragmentation:
//! Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent", USENIX ATC '23).
//!
//! The fragmentation of a node is measured against a *target workload* `M`: the task shapes
//! expected to arrive, each with its popularity `p_m`. For one shape `m`, the node's idle GPU
//! capacity falls into one class:
//!
//! | class | when | idle GPU counted as fragment |
//! |---|---|---|
//! | Q1 | lacks GPU and CPU | all |
//! | Q2 | lacks GPU | all |
//! | Q3 | fits | only devices whose free share is below the task's per-GPU request |
//! | Q4 | lacks CPU | all |
//! | XL | CPU-only task that fits | all (a CPU task cannot use GPUs) |
//! | XR | CPU-only task that lacks CPU | all |
//! | no access | the node's GPU model is not one the task accepts | all |
//!
//! `F_n(M) = Σ_m p_m · F_n(m)`, the cluster's fragmentation is `Σ_n F_n(M)`, and the
//! fragmentation rate is fragmented idle GPU over all idle GPU. The typical shapes are the most
//! frequent ones, taken in decreasing count until they cover 95 % of the workload's tasks, then
//! renormalized ([`TargetWorkload::typical`]).
//!
//! Everything here is a pure function of its inputs; CPU is compared in millicores against the
//! node's allocatable minus its pods' requests, GPU is in milli-GPU per device.

use super::{GpuRequest, MILLI, free_devices, node_model};
use crate::intern::Sym;
use crate::snapshot::{NodeInfo, Snapshot};
use smallvec::SmallVec;
use std::cmp::Ordering;
use std::collections::HashMap;

/// The popularity threshold of typical task shapes, in percent of the workload's tasks.
pub const DEFAULT_POPULARITY_THRESHOLD: f64 = 95.0;

/// One task shape of a target workload.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TaskShape {
    /// CPU request in millicores.
    pub cpu_milli: i64,
    /// `None` for a CPU-only task.
    pub gpu: Option<GpuRequest>,
    /// GPU models the task accepts, sorted by name; empty means any.
    pub models: SmallVec<[Sym; 2]>,
}

impl TaskShape {
    pub fn new(cpu_milli: i64, gpu: Option<GpuRequest>, models: impl IntoIterator<Item = Sym>) -> TaskShape {
        let mut models: SmallVec<[Sym; 2]> = models.into_iter().collect();
        models.sort_by_key(|s| s.as_str());
        models.dedup();
        TaskShape { cpu_milli, gpu, models }
    }

    /// The shape of a pod: its non-zero CPU request, GPU request and GPU model constraint.
    /// `None` when its GPU request is invalid.
    pub fn of_pod(pod: &crate::model::Pod) -> Option<TaskShape> {
        let gpu = GpuRequest::of(pod).ok()?;
        let models = if gpu.is_some() { super::model_constraint(pod).unwrap_or_default() } else { SmallVec::new() };
        Some(TaskShape::new(pod.non_zero_cpu(), gpu, models))
    }

    /// Whether a node of GPU model `model` is one this task accepts.
    #[inline]
    pub fn accepts(&self, model: Option<Sym>) -> bool {
        self.models.is_empty() || model.is_some_and(|m| self.models.contains(&m))
    }

    /// The artifact's tie-break order (cpu, per-GPU milli, GPU count, models), ascending.
    fn cmp_key(&self, other: &TaskShape) -> Ordering {
        let g = |s: &TaskShape| s.gpu.map(|g| (g.milli, g.count)).unwrap_or((0, 0));
        let (am, ac) = g(self);
        let (bm, bc) = g(other);
        self.cpu_milli
            .cmp(&other.cpu_milli)
            .then(am.cmp(&bm))
            .then(ac.cmp(&bc))
            .then_with(|| self.models_text().cmp(&other.models_text()))
    }

    /// The models joined with `|` (the trace's `gpu_spec` form).
    pub fn models_text(&self) -> String {
        self.models.iter().map(|m| m.as_str()).collect::<Vec<_>>().join("|")
    }
}

/// Task shapes with their popularity (summing to 1 for a typical workload).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetWorkload {
    shapes: Vec<(TaskShape, f64)>,
}

impl TargetWorkload {
    /// A workload given directly as weighted shapes (weights are used as given).
    pub fn new(shapes: Vec<(TaskShape, f64)>) -> TargetWorkload {
        TargetWorkload { shapes }
    }

    /// The typical shapes of `tasks`: counted, sorted by decreasing count (ties: larger CPU,
    /// then larger GPU share, count, models first), taken until they cover `threshold_pct` % of
    /// the tasks, and renormalized to sum to 1.
    pub fn typical(tasks: impl IntoIterator<Item = TaskShape>, threshold_pct: f64) -> TargetWorkload {
        let mut counts: HashMap<TaskShape, u64> = HashMap::new();
        let mut total = 0u64;
        for t in tasks {
            *counts.entry(t).or_insert(0) += 1;
            total += 1;
        }
        if total == 0 {
            return TargetWorkload::default();
        }
        let mut list: Vec<(TaskShape, u64)> = counts.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp_key(&a.0)));
        let expected = threshold_pct * total as f64 / 100.0;
        let mut cum = 0u64;
        let mut take = 0usize;
        while (cum as f64) < expected && take < list.len() {
            cum += list[take].1;
            take += 1;
        }
        let take = take.max(1);
        let cum: u64 = list[..take].iter().map(|(_, c)| c).sum();
        let shapes = list.into_iter().take(take).map(|(s, c)| (s, c as f64 / cum as f64)).collect();
        TargetWorkload { shapes }
    }

    pub fn shapes(&self) -> &[(TaskShape, f64)] {
        &self.shapes
    }

    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }
}

/// Idle GPU of a node (or cluster) by class, in milli-GPU weighted by popularity.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FragBreakdown {
    pub q1_lack_both: f64,
    pub q2_lack_gpu: f64,
    pub q3_satisfied: f64,
    pub q4_lack_cpu: f64,
    pub xl_satisfied: f64,
    pub xr_lack_cpu: f64,
    pub no_access: f64,
}

impl FragBreakdown {
    /// The fragmented part: everything but Q3's usable share.
    pub fn fragmented(&self) -> f64 {
        self.q1_lack_both + self.q2_lack_gpu + self.q4_lack_cpu + self.xl_satisfied + self.xr_lack_cpu + self.no_access
    }

    /// All idle GPU the breakdown accounts (equals the idle milli-GPU when weights sum to 1).
    pub fn idle(&self) -> f64 {
        self.fragmented() + self.q3_satisfied
    }

    pub fn add(&mut self, o: &FragBreakdown) {
        self.q1_lack_both += o.q1_lack_both;
        self.q2_lack_gpu += o.q2_lack_gpu;
        self.q3_satisfied += o.q3_satisfied;
        self.q4_lack_cpu += o.q4_lack_cpu;
        self.xl_satisfied += o.xl_satisfied;
        self.xr_lack_cpu += o.xr_lack_cpu;
        self.no_access += o.no_access;
    }
}

/// The state of a node that fragmentation depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeGpuState {
    pub model: Option<Sym>,
    /// Allocatable CPU minus the pods' requests, in millicores.
    pub cpu_left: i64,
    /// Free milli-GPU per device.
    pub free: SmallVec<[u16; 8]>,
}

impl NodeGpuState {
    pub fn of(node: &NodeInfo) -> NodeGpuState {
        NodeGpuState {
            model: node_model(node),
            cpu_left: node.node.allocatable.cpu - node.requested.cpu,
            free: free_devices(node),
        }
    }

    pub fn idle_milli(&self) -> u32 {
        self.free.iter().map(|&f| f as u32).sum()
    }
}

/// `F_n(m)` by class for every shape of `workload`: the fragmentation of one node.
pub fn node_breakdown(state: &NodeGpuState, workload: &TargetWorkload) -> FragBreakdown {
    let idle = state.idle_milli() as f64;
    let mut out = FragBreakdown::default();
    for (shape, p) in workload.shapes() {
        let Some(gpu) = shape.gpu else {
            if state.cpu_left >= shape.cpu_milli {
                out.xl_satisfied += p * idle;
            } else {
                out.xr_lack_cpu += p * idle;
            }
            continue;
        };
        if !shape.accepts(state.model) {
            out.no_access += p * idle;
            continue;
        }
        let gpu_ok = super::fits(gpu, &state.free);
        let cpu_ok = state.cpu_left >= shape.cpu_milli;
        match (gpu_ok, cpu_ok) {
            (true, true) => {
                let frag: u32 = state.free.iter().filter(|&&f| f < gpu.milli).map(|&f| f as u32).sum();
                out.q2_lack_gpu += p * frag as f64;
                out.q3_satisfied += p * (idle - frag as f64);
            }
            (true, false) => out.q4_lack_cpu += p * idle,
            (false, true) => out.q2_lack_gpu += p * idle,
            (false, false) => out.q1_lack_both += p * idle,
        }
    }
    out
}

/// `F_n(M)`: the node's fragmented milli-GPU with respect to `workload`.
pub fn node_fragmentation(state: &NodeGpuState, workload: &TargetWorkload) -> f64 {
    node_breakdown(state, workload).fragmented()
}

/// Cluster-wide GPU figures at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClusterGpuMetrics {
    /// Milli-GPU of all devices.
    pub capacity_milli: u64,
    /// Milli-GPU assigned to pods.
    pub allocated_milli: u64,
    /// `Σ_n F_n(M)` by class.
    pub breakdown: FragBreakdown,
}

impl ClusterGpuMetrics {
    pub fn unallocated_milli(&self) -> u64 {
        self.capacity_milli - self.allocated_milli
    }

    /// Unallocated GPUs (milli / 1000).
    pub fn unallocated_gpus(&self) -> f64 {
        self.unallocated_milli() as f64 / MILLI as f64
    }

    pub fn allocated_gpus(&self) -> f64 {
        self.allocated_milli as f64 / MILLI as f64
    }

    /// Cluster fragmentation `Σ_n F_n(M)` in milli-GPU.
    pub fn fragmented_milli(&self) -> f64 {
        self.breakdown.fragmented()
    }

    /// Fragmented idle GPU over all idle GPU (0 when nothing is idle).
    pub fn fragmentation_rate(&self) -> f64 {
        let idle = self.breakdown.idle();
        if idle <= 0.0 { 0.0 } else { self.breakdown.fragmented() / idle }
    }
}

/// The cluster's GPU capacity, allocation and fragmentation with respect to `workload`.
pub fn cluster_metrics(snapshot: &Snapshot, workload: &TargetWorkload) -> ClusterGpuMetrics {
    nodes_metrics(snapshot.nodes(), workload)
}

/// [`cluster_metrics`] over a subset of the nodes (e.g. only Ready, schedulable ones).
pub fn nodes_metrics<'a>(nodes: impl Iterator<Item = &'a NodeInfo>, workload: &TargetWorkload) -> ClusterGpuMetrics {
    let mut m = ClusterGpuMetrics::default();
    for node in nodes {
        let state = NodeGpuState::of(node);
        m.capacity_milli += state.free.len() as u64 * MILLI as u64;
        m.allocated_milli += state.free.iter().map(|&f| (MILLI - f) as u64).sum::<u64>();
        m.breakdown.add(&node_breakdown(&state, workload));
    }
    m
}

/// A workload compiled for fast evaluation on nodes of one GPU model: the weight of the shapes
/// that count every idle GPU whatever the node's state, and the GPU shapes the model accepts.
#[derive(Clone, Debug)]
pub struct CompiledWorkload {
    /// CPU-only shapes and shapes that do not accept this model.
    all_idle_weight: f64,
    /// The GPU shapes this model accepts.
    gpu_shapes: Vec<CompiledShape>,
}

#[derive(Clone, Copy, Debug)]
struct CompiledShape {
    cpu: i64,
    milli: u16,
    count: u8,
    p: f64,
}

impl CompiledWorkload {
    pub fn new(workload: &TargetWorkload, model: Option<Sym>) -> CompiledWorkload {
        let mut all_idle_weight = 0.0;
        let mut gpu_shapes = Vec::new();
        for (shape, p) in workload.shapes() {
            match shape.gpu {
                Some(g) if shape.accepts(model) => {
                    gpu_shapes.push(CompiledShape { cpu: shape.cpu_milli, milli: g.milli, count: g.count, p: *p })
                }
                _ => all_idle_weight += p,
            }
        }
        CompiledWorkload { all_idle_weight, gpu_shapes }
    }

    /// `F_n(M)` of a node with `cpu_left` and free devices `free` (any order), equal to
    /// [`node_fragmentation`] for a node of this model, without allocating.
    pub fn fragmentation(&self, cpu_left: i64, free: &[u16]) -> f64 {
        let mut sorted: [u16; super::MAX_DEVICES] = [0; super::MAX_DEVICES];
        let n = free.len().min(super::MAX_DEVICES);
        sorted[..n].copy_from_slice(&free[..n]);
        let sorted = &mut sorted[..n];
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let idle: u32 = sorted.iter().map(|&f| f as u32).sum();
        let idle_f = idle as f64;
        let mut frag = self.all_idle_weight * idle_f;
        for s in &self.gpu_shapes {
            // Devices with at least `milli` free are a prefix of the descending list.
            let fitting = sorted.iter().take_while(|&&f| f >= s.milli).count();
            if cpu_left >= s.cpu && fitting >= s.count as usize {
                let usable: u32 = sorted[..fitting].iter().map(|&f| f as u32).sum();
                frag += s.p * (idle - usable) as f64;
            } else {
                frag += s.p * idle_f;
            }
        }
        frag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(cpu: i64, gpu: Option<GpuRequest>, models: &[&str]) -> TaskShape {
        TaskShape::new(cpu, gpu, models.iter().map(|m| Sym::new(m)))
    }

    fn state(model: &str, cpu_left: i64, free: &[u16]) -> NodeGpuState {
        NodeGpuState {
            model: (!model.is_empty()).then(|| Sym::new(model)),
            cpu_left,
            free: free.iter().copied().collect(),
        }
    }

    #[test]
    fn quadrants_on_a_hand_computed_node() {
        // Node: 8000m CPU left, devices free [1000, 500, 200, 0] → 1700 idle.
        let st = state("T4", 8000, &[1000, 500, 200, 0]);
        let w = TargetWorkload::new(vec![
            // Q3: a 400m share fits (devices 0 and 1); the 200 on device 2 is fragment.
            (shape(4000, Some(GpuRequest::share(400)), &[]), 0.4),
            // Q2: two whole GPUs do not fit (only one device is free) → all 1700.
            (shape(2000, Some(GpuRequest::whole(2)), &[]), 0.2),
            // Q4: the share fits but 16 cores do not → all 1700.
            (shape(16000, Some(GpuRequest::share(100)), &[]), 0.1),
            // XL: a CPU-only task → all 1700.
            (shape(1000, None, &[]), 0.2),
            // No access: wants V100M16 only → all 1700.
            (shape(1000, Some(GpuRequest::share(100)), &["V100M16"]), 0.1),
        ]);
        let b = node_breakdown(&st, &w);
        assert!((b.q2_lack_gpu - (0.4 * 200.0 + 0.2 * 1700.0)).abs() < 1e-9, "{b:?}");
        assert!((b.q3_satisfied - 0.4 * 1500.0).abs() < 1e-9);
        assert!((b.q4_lack_cpu - 170.0).abs() < 1e-9);
        assert!((b.xl_satisfied - 340.0).abs() < 1e-9);
        assert!((b.no_access - 170.0).abs() < 1e-9);
        // F = 80 + 340 + 170 + 340 + 170 = 1100; idle = 1700.
        assert!((b.fragmented() - 1100.0).abs() < 1e-9);
        assert!((b.idle() - 1700.0).abs() < 1e-9);
        let fast = CompiledWorkload::new(&w, st.model).fragmentation(st.cpu_left, &st.free);
        assert!((fast - 1100.0).abs() < 1e-9, "{fast}");
        // Q1: both lacking on a node with 1000m CPU and [300] free for the 400m share.
        let tiny = state("T4", 1000, &[300]);
        let b =
            node_breakdown(&tiny, &TargetWorkload::new(vec![(shape(4000, Some(GpuRequest::share(400)), &[]), 1.0)]));
        assert_eq!(b.q1_lack_both, 300.0);
        // XR: a CPU task that does not fit.
        let b = node_breakdown(&tiny, &TargetWorkload::new(vec![(shape(2000, None, &[]), 1.0)]));
        assert_eq!(b.xr_lack_cpu, 300.0);
    }

    #[test]
    fn compiled_matches_reference_on_many_states() {
        let w = TargetWorkload::new(vec![
            (shape(4000, Some(GpuRequest::share(460)), &[]), 0.3),
            (shape(8000, Some(GpuRequest::whole(1)), &[]), 0.3),
            (shape(12000, Some(GpuRequest::whole(4)), &["T4", "P100"]), 0.1),
            (shape(6000, None, &[]), 0.2),
            (shape(3000, Some(GpuRequest::share(250)), &["G2"]), 0.1),
        ]);
        let mut rng = crate::rng::Rng::new(3);
        for _ in 0..500 {
            let n = 1 + rng.below(8) as usize;
            let free: Vec<u16> = (0..n).map(|_| [0, 120, 250, 460, 540, 750, 1000][rng.below(7) as usize]).collect();
            let model = ["T4", "G2", ""][rng.below(3) as usize];
            let st = state(model, rng.below(16000) as i64, &free);
            let slow = node_fragmentation(&st, &w);
            let fast = CompiledWorkload::new(&w, st.model).fragmentation(st.cpu_left, &st.free);
            assert!((slow - fast).abs() < 1e-6, "{st:?}: {slow} vs {fast}");
        }
    }

    #[test]
    fn typical_shapes_cover_the_threshold_and_renormalize() {
        let a = shape(1000, None, &[]);
        let b = shape(2000, Some(GpuRequest::share(500)), &[]);
        let c = shape(3000, Some(GpuRequest::whole(1)), &[]);
        let d = shape(4000, Some(GpuRequest::whole(8)), &[]);
        // 10 tasks: a×5, b×3, c×1, d×1. 95 % = 9.5 tasks → a, b, and one of the count-1 shapes.
        let tasks = [vec![a.clone(); 5], vec![b.clone(); 3], vec![c.clone()], vec![d.clone()]].concat();
        let w = TargetWorkload::typical(tasks, 95.0);
        let got: Vec<(i64, f64)> = w.shapes().iter().map(|(s, p)| (s.cpu_milli, *p)).collect();
        // Ties at count 1 go to the larger CPU first (the artifact's reversed order): d.
        assert_eq!(got.len(), 4, "9 < 9.5, so the fourth shape is taken too: {got:?}");
        let w = TargetWorkload::typical([vec![a.clone(); 5], vec![b.clone(); 3], vec![d.clone()]].concat(), 80.0);
        // 80 % of 9 = 7.2 → a (5), b (8): renormalized 5/8 and 3/8.
        let got: Vec<(i64, f64)> = w.shapes().iter().map(|(s, p)| (s.cpu_milli, *p)).collect();
        assert_eq!(got, [(1000, 0.625), (2000, 0.375)]);
        let w = TargetWorkload::typical([vec![c.clone()], vec![d.clone()], vec![a.clone(); 2]].concat(), 60.0);
        // 60 % of 4 = 2.4 → a (2), then the larger-CPU of c/d: d → 3 tasks.
        let got: Vec<(i64, f64)> = w.shapes().iter().map(|(s, _)| s.cpu_milli).map(|c| (c, 0.0)).collect();
        assert_eq!(got, [(1000, 0.0), (4000, 0.0)]);
    }

    #[test]
    fn cluster_metrics_sum_nodes() {
        use crate::builders::{NodeBuilder, PodBuilder};
        use std::sync::Arc;
        let mut s = Snapshot::new();
        let n1 = s.add_node(
            NodeBuilder::new("a")
                .cpu_milli(8000)
                .scalar("nvidia.com/gpu", 2)
                .label(super::super::GPU_MODEL_LABEL, "T4")
                .build(),
        );
        s.add_node(NodeBuilder::new("cpu").cpu_milli(8000).build());
        let p = s.add_pod(Arc::new(PodBuilder::new("d", "p").cpu_milli(2000).build()), n1);
        s.assign_gpus(p, &[1], 700).unwrap();
        // Workload: one 500m share with 1000m CPU. Node a: free [1000, 300], idle 1300, Q3 with
        // fragment 300. The CPU-only node has no GPU: contributes nothing.
        let w = TargetWorkload::new(vec![(shape(1000, Some(GpuRequest::share(500)), &[]), 1.0)]);
        let m = cluster_metrics(&s, &w);
        assert_eq!((m.capacity_milli, m.allocated_milli, m.unallocated_milli()), (2000, 700, 1300));
        assert_eq!(m.fragmented_milli(), 300.0);
        assert!((m.fragmentation_rate() - 300.0 / 1300.0).abs() < 1e-12);
        assert_eq!(m.unallocated_gpus(), 1.3);
    }
}
