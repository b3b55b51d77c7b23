//! FGD, Fragmentation Gradient Descent (Weng et al., USENIX ATC '23): place each pod on the node,
//! and for a share on the device, whose fragmentation with respect to the target workload grows
//! least. The score is the artifact's: `⌊sigmoid((F_before − F_after) / 1000) × 100⌋`, with
//! `F` the node's fragmented milli-GPU ([`crate::gpu::frag`]).
//!
//! Args:
//!
//! ```yaml
//! - name: FGD
//!   args:
//!     targetWorkload:            # the typical task shapes and their popularity (required)
//!     - {cpuMilli: 6000, gpuMilli: 460, weight: 0.12}                  # a 0.46-GPU share
//!     - {cpuMilli: 12000, gpuMilli: 1000, gpuCount: 2, weight: 0.01}   # two whole GPUs
//!     - {cpuMilli: 4000, gpuMilli: 500, gpuModels: [T4, P100], weight: 0.02}
//!     - {cpuMilli: 8000, weight: 0.1}                                  # CPU only
//! ```
//!
//! Weights are normalized to sum to 1. `kubesched trace` derives the workload from the trace as
//! the paper does (typical shapes covering 95 % of the pods).
//!
//! Fragmentation depends on a node only through its GPU model, the free share of each device
//! and how its free CPU compares with the shapes' CPU requests, so scores are memoized per
//! distinct (state, pod request): nodes of one type in the same state are evaluated once.

use crate::args::{ArgValue, FieldError, read};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::gpu::frag::{CompiledWorkload, TargetWorkload, TaskShape};
use crate::gpu::{GpuRequest, MILLI, free_devices, node_model, select_whole};
use crate::intern::Sym;
use crate::model::Pod;
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use smallvec::SmallVec;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex};

pub const NAME: &str = "FGD";
/// Memoized states kept before the memo is cleared.
const MEMO_LIMIT: usize = 1 << 20;
/// Devices per node the memo handles; larger nodes are evaluated directly.
const KEY_DEVICES: usize = 8;

/// The order among nodes whose FGD scores are equal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TieBreak {
    /// The seeded node order alone (the artifact's rule).
    NodeOrder,
    /// The tighter node by [`super::best_fit`]'s score first, then the node order.
    BestFit,
}

pub struct Fgd {
    workload: TargetWorkload,
    /// Ties among the best nodes follow this seeded node order (`nodeOrderSeed`).
    pub node_order: Option<super::NodeOrder>,
    /// How nodes with equal scores are ordered before the node order (`tieBreak`).
    pub tie_break: TieBreak,
    /// Compare nodes by the exact fragmentation change rather than the artifact's integer
    /// sigmoid score (`resolution: Exact`).
    pub exact: bool,
    /// Distinct CPU requests of the shapes, ascending: free CPU matters only by its rank here.
    cpu_thresholds: Vec<i64>,
    memo: Mutex<Memo>,
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    let node_order_seed = super::parse_node_order_seed(args, path, &["targetWorkload", "tieBreak", "resolution"])?;
    let tie_break = match read::string(args.get("tieBreak"), &format!("{path}.tieBreak"))?.as_deref() {
        None | Some("NodeOrder") => TieBreak::NodeOrder,
        Some("BestFit") => TieBreak::BestFit,
        Some(other) => {
            return Err(FieldError::not_supported(format!("{path}.tieBreak"), other, &["NodeOrder", "BestFit"]));
        }
    };
    let exact = match read::string(args.get("resolution"), &format!("{path}.resolution"))?.as_deref() {
        None | Some("Sigmoid") => false,
        Some("Exact") => true,
        Some(other) => {
            return Err(FieldError::not_supported(format!("{path}.resolution"), other, &["Sigmoid", "Exact"]));
        }
    };
    let workload = parse_target_workload(args, path)?;
    let mut fgd = Fgd::new(workload);
    fgd.node_order = node_order_seed.map(super::NodeOrder::new);
    fgd.tie_break = tie_break;
    fgd.exact = exact;
    Ok(Arc::new(fgd))
}

/// The `targetWorkload` argument: typical task shapes with weights, normalized to sum to 1.
pub(crate) fn parse_target_workload(args: &ArgValue, path: &str) -> Result<TargetWorkload, FieldError> {
    let wpath = format!("{path}.targetWorkload");
    let items = read::list(args.get("targetWorkload"), &wpath)?;
    if items.is_empty() {
        return Err(FieldError::required(wpath));
    }
    let mut shapes = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let p = format!("{wpath}[{i}]");
        read::known_keys(item, &["cpuMilli", "gpuMilli", "gpuCount", "gpuModels", "weight"], &p)?;
        let cpu = read::int(item.get("cpuMilli"), &format!("{p}.cpuMilli"))?.unwrap_or(0);
        let milli = read::int(item.get("gpuMilli"), &format!("{p}.gpuMilli"))?.unwrap_or(0);
        let count = read::int(item.get("gpuCount"), &format!("{p}.gpuCount"))?.unwrap_or(if milli > 0 { 1 } else { 0 });
        let weight = match item.get("weight") {
            Some(ArgValue::Float(f)) => *f,
            Some(ArgValue::Int(n)) => *n as f64,
            None | Some(ArgValue::Null) => return Err(FieldError::required(format!("{p}.weight"))),
            Some(other) => return Err(FieldError::invalid(format!("{p}.weight"), other, "expected a number")),
        };
        if cpu < 0 {
            return Err(FieldError::invalid(format!("{p}.cpuMilli"), cpu, "must be non-negative"));
        }
        if !(0..=MILLI as i64).contains(&milli) {
            return Err(FieldError::invalid(format!("{p}.gpuMilli"), milli, "must be in [0, 1000]"));
        }
        if !(0..=crate::gpu::MAX_DEVICES as i64).contains(&count) || (milli < MILLI as i64 && count > 1) {
            return Err(FieldError::invalid(
                format!("{p}.gpuCount"),
                count,
                "must be in [0, 64], and 1 for a share below 1000",
            ));
        }
        if !weight.is_finite() || weight < 0.0 {
            return Err(FieldError::invalid(format!("{p}.weight"), weight, "must be a non-negative number"));
        }
        let models = read::strings(item.get("gpuModels"), &format!("{p}.gpuModels"))?;
        let gpu = (milli > 0 && count > 0).then_some(GpuRequest { count: count as u8, milli: milli as u16 });
        shapes.push((TaskShape::new(cpu, gpu, models.iter().map(|m| Sym::new(m))), weight));
    }
    let total: f64 = shapes.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return Err(FieldError::invalid(wpath, total, "the weights must not all be 0"));
    }
    for s in shapes.iter_mut() {
        s.1 /= total;
    }
    Ok(TargetWorkload::new(shapes))
}

impl Fgd {
    pub fn new(workload: TargetWorkload) -> Fgd {
        let mut cpu_thresholds: Vec<i64> = workload.shapes().iter().map(|(s, _)| s.cpu_milli).collect();
        cpu_thresholds.sort_unstable();
        cpu_thresholds.dedup();
        Fgd {
            workload,
            node_order: None,
            tie_break: TieBreak::NodeOrder,
            exact: false,
            cpu_thresholds,
            memo: Mutex::new(Memo::default()),
        }
    }

    pub fn workload(&self) -> &TargetWorkload {
        &self.workload
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Memo> {
        match self.memo.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn cpu_rank(&self, cpu_left: i64) -> u16 {
        self.cpu_thresholds.partition_point(|&c| c <= cpu_left) as u16
    }

    /// The node's fragmentation change `F_before − F_after` for the pod (`+∞` for a pod that
    /// requests nothing) and, for a GPU pod, the devices to use.
    pub(crate) fn evaluate(
        &self,
        memo: &mut Memo,
        pod: &Pod,
        model: Option<Sym>,
        cpu_left: i64,
        free: &[u16],
    ) -> (f64, Option<SmallVec<[u8; 8]>>) {
        let req = super::request(pod);
        if pod.requests().is_zero() {
            return (f64::INFINITY, None);
        }
        let cpu_after = cpu_left - pod.non_zero_cpu();
        let model_idx = memo.model_index(&self.workload, model);
        let key = (free.len() <= KEY_DEVICES).then(|| {
            let mut sorted = [0u16; KEY_DEVICES];
            sorted[..free.len()].copy_from_slice(free);
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            Key {
                free: sorted,
                model: model_idx as u16,
                rank_before: self.cpu_rank(cpu_left),
                rank_after: self.cpu_rank(cpu_after),
                req: req.unwrap_or(GpuRequest { count: 0, milli: 0 }),
            }
        });
        let scores = match key.as_ref().and_then(|k| memo.map.get(k)) {
            Some(e) => e.clone(),
            None => {
                let cw = &memo.models[model_idx].1;
                let e = score_entry(cw, req, cpu_left, cpu_after, free);
                if let Some(k) = key {
                    if memo.map.len() >= MEMO_LIMIT {
                        memo.map.clear();
                    }
                    memo.map.insert(k, e.clone());
                }
                e
            }
        };
        match req {
            None => (scores.first().map_or(f64::NEG_INFINITY, |s| s.1), None),
            Some(r) if !r.is_share() => (scores.first().map_or(f64::NEG_INFINITY, |s| s.1), select_whole(r, free)),
            Some(r) => {
                // The first device (by index) with the best score, as the artifact picks it
                // (or with the best exact change when `resolution: Exact`).
                let mut best: Option<(usize, f64)> = None;
                for (i, &f) in free.iter().enumerate() {
                    if f < r.milli {
                        continue;
                    }
                    let d = scores.iter().find(|e| e.0 == f).map_or(f64::NEG_INFINITY, |e| e.1);
                    let better = |b: f64| if self.exact { d.round() > b.round() } else { fgd_score(d) > fgd_score(b) };
                    if best.is_none_or(|(_, b)| better(b)) {
                        best = Some((i, d));
                    }
                }
                match best {
                    Some((i, d)) => (d, Some(SmallVec::from_slice(&[i as u8]))),
                    None => (f64::NEG_INFINITY, None),
                }
            }
        }
    }
}

/// The fragmentation change `F_before − F_after` per candidate free value (shares), or one
/// (whole GPUs, CPU-only pods).
type Entry = SmallVec<[(u16, f64); 4]>;

/// The artifact's score of a fragmentation change: `⌊sigmoid(Δ / 1000) × 100⌋`.
pub(crate) fn fgd_score(delta: f64) -> i64 {
    if delta == f64::INFINITY {
        return MAX_NODE_SCORE;
    }
    let x = delta / 1000.0;
    (1.0 / (1.0 + (-x).exp()) * MAX_NODE_SCORE as f64) as i64
}

fn score_entry(cw: &CompiledWorkload, req: Option<GpuRequest>, cpu_left: i64, cpu_after: i64, free: &[u16]) -> Entry {
    let before = cw.fragmentation(cpu_left, free);
    let mut out = Entry::new();
    let mut after_free: SmallVec<[u16; 8]> = SmallVec::from_slice(free);
    match req {
        None => out.push((0, before - cw.fragmentation(cpu_after, free))),
        Some(r) if !r.is_share() => {
            let mut left = r.count;
            for f in after_free.iter_mut() {
                if left > 0 && *f == MILLI {
                    *f = 0;
                    left -= 1;
                }
            }
            out.push((0, before - cw.fragmentation(cpu_after, &after_free)));
        }
        Some(r) => {
            for i in 0..free.len() {
                let f = free[i];
                if f < r.milli || out.iter().any(|e| e.0 == f) {
                    continue;
                }
                after_free[i] = f - r.milli;
                out.push((f, before - cw.fragmentation(cpu_after, &after_free)));
                after_free[i] = f;
            }
        }
    }
    out
}

/// Memoized fragmentation changes, per distinct (state, pod request).
#[derive(Default)]
pub(crate) struct Memo {
    models: Vec<(Option<Sym>, CompiledWorkload)>,
    map: HashMap<Key, Entry, BuildHasherDefault<FxHasher>>,
}

impl Memo {
    fn model_index(&mut self, workload: &TargetWorkload, model: Option<Sym>) -> usize {
        if let Some(i) = self.models.iter().position(|(m, _)| *m == model) {
            return i;
        }
        self.models.push((model, CompiledWorkload::new(workload, model)));
        self.models.len() - 1
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    free: [u16; KEY_DEVICES],
    model: u16,
    rank_before: u16,
    rank_after: u16,
    req: GpuRequest,
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut a = 0u64;
        let mut b = 0u64;
        for i in 0..4 {
            a = (a << 16) | self.free[i] as u64;
            b = (b << 16) | self.free[i + 4] as u64;
        }
        let c = (self.model as u64) << 48
            | (self.rank_before as u64) << 32
            | (self.rank_after as u64) << 16
            | (self.req.count as u64) << 11
            | self.req.milli as u64;
        state.write_u64(a);
        state.write_u64(b);
        state.write_u64(c);
    }
}

/// A small multiplicative hasher for the memo's integer keys.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// Fragmentation changes of the feasible nodes, by node id, computed once per cycle in PreScore.
#[derive(Clone)]
struct Scores(Vec<f64>);

impl Plugin for Fgd {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::PRE_SCORE | Points::SCORE | Points::NORMALIZE | Points::RESERVE
    }

    fn normalize_scores(&self, cx: PodCx<'_>, state: &PluginState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        if !self.exact && self.tie_break == TieBreak::NodeOrder {
            super::break_ties(self.node_order.as_ref(), nodes, scores);
            return;
        }
        // The winner by (score or exact change, BestFit score, node order); it alone gets 100.
        let deltas = state.get::<Scores>();
        let key = |i: usize| -> (f64, i64) {
            let primary = match deltas.and_then(|d| d.0.get(nodes[i].id.0 as usize)) {
                // Whole milli-GPU: float noise must not separate equal changes.
                Some(d) if self.exact => d.round(),
                _ => scores[i] as f64,
            };
            let secondary =
                if self.tie_break == TieBreak::BestFit { super::best_fit::raw_score(cx.pod, nodes[i]) } else { 0 };
            (primary, secondary)
        };
        let mut winner: Option<(f64, i64, u64, usize)> = None;
        for (i, node) in nodes.iter().enumerate() {
            let (p, b) = key(i);
            let r = self.node_order.as_ref().map_or(i as u64, |o| o.rank(node));
            let better = winner.is_none_or(|(wp, wb, wr, _)| (p, b) > (wp, wb) || ((p, b) == (wp, wb) && r < wr));
            if better {
                winner = Some((p, b, r, i));
            }
        }
        for s in scores.iter_mut() {
            *s = (*s).min(MAX_NODE_SCORE - 1);
        }
        if let Some((_, _, _, i)) = winner {
            scores[i] = MAX_NODE_SCORE;
        }
    }

    fn pre_score(&self, cx: PodCx<'_>, state: &mut PluginState, feasible: &[&NodeInfo]) -> Status {
        let max_id = feasible.iter().map(|n| n.id.0 as usize).max().unwrap_or(0);
        let mut scores = vec![f64::NEG_INFINITY; max_id + 1];
        let mut memo = self.lock();
        for node in feasible {
            let cpu_left = node.node.allocatable.cpu - node.requested.cpu;
            let (s, _) = self.evaluate(&mut memo, cx.pod, node_model(node), cpu_left, &free_devices(node));
            scores[node.id.0 as usize] = s;
        }
        state.set(Scores(scores));
        Status::success()
    }

    fn score(&self, cx: PodCx<'_>, state: &PluginState, node: &NodeInfo) -> i64 {
        if let Some(d) = state.get::<Scores>().and_then(|s| s.0.get(node.id.0 as usize)) {
            return fgd_score(*d);
        }
        let cpu_left = node.node.allocatable.cpu - node.requested.cpu;
        fgd_score(self.evaluate(&mut self.lock(), cx.pod, node_model(node), cpu_left, &free_devices(node)).0)
    }

    fn reserve(&self, pod: &Pod, _state: &PluginState, snapshot: &mut Snapshot, node: NodeId, pod_id: PodId) -> Status {
        let Some(req) = super::request(pod) else { return Status::success() };
        snapshot.release_gpus(pod_id);
        let Some(info) = snapshot.get_node(node) else { return Status::error("node not found") };
        // Reserve runs after assume: judge the node as it was before this pod, as Score did.
        let cpu_left = info.node.allocatable.cpu - info.requested.cpu + pod.requests().cpu;
        let free = free_devices(info);
        let (_, devices) = self.evaluate(&mut self.lock(), pod, node_model(info), cpu_left, &free);
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
    use crate::gpu::frag::{NodeGpuState, node_fragmentation};

    fn shape(cpu: i64, gpu: Option<GpuRequest>) -> TaskShape {
        TaskShape::new(cpu, gpu, [])
    }

    fn workload() -> TargetWorkload {
        TargetWorkload::new(vec![
            (shape(2000, Some(GpuRequest::share(500))), 0.5),
            (shape(4000, Some(GpuRequest::whole(1))), 0.5),
        ])
    }

    fn score_of(f: &Fgd, s: &Snapshot, pod: &Pod, node: NodeId) -> i64 {
        let cx = PodCx { pod, snapshot: s };
        let nodes: Vec<&NodeInfo> = s.nodes().collect();
        let mut st = PluginState::default();
        assert!(f.pre_score(cx, &mut st, &nodes).is_success());
        f.score(cx, &st, s.node(node))
    }

    #[test]
    fn share_goes_where_fragmentation_grows_least() {
        let mut s = Snapshot::new();
        let n = s.add_node(gpu_node("n", 32_000, 2, "T4"));
        place(&mut s, n, share_pod("a", 1000, 500), &[0]);
        let f = Fgd::new(workload());
        // Free [500, 1000]; F_before: the 500-share fits (Q3, fragment 0), the whole GPU fits
        // (fragment 500) → 0.5·0 + 0.5·500 = 250.
        let before = node_fragmentation(&NodeGpuState::of(s.node(n)), f.workload());
        assert_eq!(before, 250.0);
        // A 500 share on device 0 → [0, 1000]: F = 0 → Δ = +250 → ⌊sigmoid(0.25)·100⌋ = 56.
        // On device 1 → [500, 500]: the share fits (0), the whole GPU does not (1000·0.5) → F = 500,
        // Δ = −250 → 43. Device 0 wins.
        let pod = share_pod("p", 1000, 500);
        assert_eq!(score_of(&f, &s, &pod, n), 56);
        let id = s.add_pod(Arc::new(pod.clone()), n);
        assert!(f.reserve(&pod, &PluginState::default(), &mut s, n, id).is_success());
        assert_eq!(s.pod(id).gpus.devices.as_slice(), [0]);
    }

    #[test]
    fn nodes_compare_by_fragmentation_delta_and_memo_agrees() {
        let mut s = Snapshot::new();
        let idle = s.add_node(gpu_node("idle", 32_000, 2, "T4"));
        let half = s.add_node(gpu_node("half", 32_000, 2, "T4"));
        place(&mut s, half, share_pod("a", 1000, 500), &[0]);
        let f = Fgd::new(workload());
        let whole = whole_pod("w", 1000, 1);
        // Idle [1000, 1000] → F = 0; after one whole GPU [0, 1000] → F = 0.5·0 + 0.5·0 = 0 → 50.
        assert_eq!(score_of(&f, &s, &whole, idle), 50);
        // Half [500, 1000] → F = 250; after [500, 0]: share fits (0), whole does not (500·0.5)
        // → 250 → Δ = 0 → 50.
        assert_eq!(score_of(&f, &s, &whole, half), 50);
        // CPU-only pod that leaves too little CPU for both shapes: [1000, 1000] with 32000m −
        // 30000m = 2000m left: the share still fits (2000 ≥ 2000), the whole GPU lacks CPU
        // (all 2000 idle count) → F = 1000, Δ = −1000 → ⌊sigmoid(−1)·100⌋ = 26.
        assert_eq!(score_of(&f, &s, &cpu_pod("c", 30_000), idle), 26);
        // Same again (memoized) and on a second identical idle node.
        let idle2 = s.add_node(gpu_node("idle2", 32_000, 2, "T4"));
        assert_eq!(score_of(&f, &s, &cpu_pod("c", 30_000), idle2), 26);
        assert_eq!(f.lock().map.len(), 4, "idle and idle2 share one memo entry for the CPU pod");
    }

    #[test]
    fn best_fit_tie_break_prefers_the_tighter_node_among_equal_scores() {
        let mut s = Snapshot::new();
        let idle = s.add_node(gpu_node("idle", 32_000, 2, "T4"));
        let busy = s.add_node(gpu_node("busy", 32_000, 2, "T4"));
        // CPU only on `busy`: both nodes keep [1000, 1000] free and the same FGD score for a
        // whole GPU (Δ = 0 → 50), but `busy` has less CPU left, so BestFit prefers it.
        place(&mut s, busy, cpu_pod("c", 16_000), &[]);
        let mut f = Fgd::new(workload());
        f.tie_break = TieBreak::BestFit;
        let pod = whole_pod("w", 1000, 1);
        let cx = PodCx { pod: &pod, snapshot: &s };
        let nodes: Vec<&NodeInfo> = s.nodes().collect();
        let mut st = PluginState::default();
        assert!(f.pre_score(cx, &mut st, &nodes).is_success());
        let mut scores: Vec<i64> = nodes.iter().map(|n| f.score(cx, &st, n)).collect();
        assert_eq!(scores, [50, 50]);
        f.normalize_scores(cx, &st, &nodes, &mut scores);
        let winner = nodes[scores.iter().position(|&x| x == 100).unwrap()].id;
        assert_eq!(winner, busy);
        assert_ne!(winner, idle);
    }

    #[test]
    fn args_are_parsed_and_validated() {
        use std::collections::BTreeMap;
        let map = |pairs: Vec<(&str, ArgValue)>| {
            ArgValue::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>())
        };
        let args = map(vec![(
            "targetWorkload",
            ArgValue::List(vec![
                map(vec![
                    ("cpuMilli", ArgValue::Int(2000)),
                    ("gpuMilli", ArgValue::Int(500)),
                    ("weight", ArgValue::Int(3)),
                ]),
                map(vec![
                    ("cpuMilli", ArgValue::Int(4000)),
                    ("gpuMilli", ArgValue::Int(1000)),
                    ("gpuCount", ArgValue::Int(2)),
                    ("gpuModels", ArgValue::List(vec![ArgValue::String("T4".into())])),
                    ("weight", ArgValue::Float(1.0)),
                ]),
            ]),
        )]);
        assert!(new(&args, "args").is_ok());
        assert_eq!(new(&ArgValue::Null, "args").err().unwrap().to_string(), "args.targetWorkload: Required value");
        let bad = map(vec![(
            "targetWorkload",
            ArgValue::List(vec![map(vec![
                ("gpuMilli", ArgValue::Int(500)),
                ("gpuCount", ArgValue::Int(2)),
                ("weight", ArgValue::Int(1)),
            ])]),
        )]);
        assert_eq!(
            new(&bad, "args").err().unwrap().to_string(),
            "args.targetWorkload[0].gpuCount: Invalid value: 2: must be in [0, 64], and 1 for a share below 1000"
        );
    }
}
