//! Per-device GPU accounting: GPU sharing and whole-GPU placement on individual devices.
//!
//! kube-scheduler sees `nvidia.com/gpu` as one integer per node. That cannot express a pod that
//! needs *part* of one GPU, nor tell a node whose four free GPUs are whole from one whose free
//! capacity is four half-used devices. This module models each device.
//!
//! ## Conventions (what a manifest says)
//!
//! - **Node devices**: a node has `N` devices, `N` = allocatable `nvidia.com/gpu` (the NVIDIA
//!   device plugin), indexed `0..N`. At most [`MAX_DEVICES`] are modelled.
//! - **GPU model**: the node label `nvidia.com/gpu.product` (set by NVIDIA GPU feature
//!   discovery), e.g. `T4`, `V100M16`.
//! - **Whole GPUs**: a pod requests `nvidia.com/gpu: k`; it gets `k` devices nobody uses.
//! - **A share of one GPU**: a pod requests the extended resource
//!   `alibabacloud.com/gpu-milli: m` with `0 < m < 1000` (thousandths of one GPU, the unit of
//!   Alibaba's open-gpu-share and of the OpenB trace's `gpu_milli`). The share must fit on one
//!   device. Nodes that accept shares advertise `alibabacloud.com/gpu-milli: N×1000` (as a
//!   GPU-sharing device plugin does) so that NodeResourcesFit's aggregate check passes; the exact
//!   per-device check is the `GpuShare` plugin's. Requesting both resources, or `m ≥ 1000`, is
//!   rejected (use `nvidia.com/gpu` for whole GPUs).
//! - **GPU model constraint** (the trace's `gpu_spec`): required node affinity
//!   `nvidia.com/gpu.product In [V100M16, V100M32]`, enforced by NodeAffinity like any other
//!   label. [`model_constraint`] reads it back for the fragmentation metrics.
//! - **Assigned devices**: chosen at Reserve and recorded on the snapshot's pod entry
//!   ([`crate::snapshot::BoundPod::gpus`]); `alibabacloud.com/gpu-index` is the annotation
//!   name open-gpu-share uses to publish them (`"2"`, `"0-1-2-3"`), see [`GpuAssignment::index_annotation`].
//!   Removing the pod from the snapshot frees them.
//!
//! Fragmentation metrics (the FGD paper's) are in [`frag`].

pub mod frag;

use crate::intern::Sym;
use crate::model::Pod;
use crate::selector::NodeSelectorOp;
use crate::snapshot::NodeInfo;
use smallvec::SmallVec;
use std::sync::OnceLock;

/// One whole GPU in milli-GPU.
pub const MILLI: u16 = 1000;
/// Devices modelled per node; a node advertising more is treated as having this many.
pub const MAX_DEVICES: usize = 64;
/// The extended resource of a GPU share, in thousandths of one GPU.
pub const GPU_MILLI_RESOURCE: &str = "alibabacloud.com/gpu-milli";
/// The node label naming the GPU model.
pub const GPU_MODEL_LABEL: &str = "nvidia.com/gpu.product";
/// The annotation open-gpu-share uses for assigned device indices.
pub const GPU_INDEX_ANNOTATION: &str = "alibabacloud.com/gpu-index";

/// `alibabacloud.com/gpu-milli`, interned once.
pub fn gpu_milli_resource() -> Sym {
    static S: OnceLock<Sym> = OnceLock::new();
    *S.get_or_init(|| Sym::new(GPU_MILLI_RESOURCE))
}

/// `nvidia.com/gpu.product`, interned once.
pub fn gpu_model_label() -> Sym {
    static S: OnceLock<Sym> = OnceLock::new();
    *S.get_or_init(|| Sym::new(GPU_MODEL_LABEL))
}

/// What a pod asks of the GPUs: `count` devices with `milli` free each. A share is
/// `count == 1, milli < 1000`; whole GPUs are `milli == 1000`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct GpuRequest {
    pub count: u8,
    pub milli: u16,
}

impl GpuRequest {
    pub fn whole(count: u8) -> GpuRequest {
        GpuRequest { count, milli: MILLI }
    }

    pub fn share(milli: u16) -> GpuRequest {
        GpuRequest { count: 1, milli }
    }

    #[inline]
    pub fn is_share(self) -> bool {
        self.milli < MILLI
    }

    /// Total milli-GPU requested.
    #[inline]
    pub fn total_milli(self) -> u32 {
        self.count as u32 * self.milli as u32
    }

    /// The pod's GPU request, `None` for a pod that uses no GPU. An `Err` is a request the
    /// scheduler cannot satisfy by construction (both resources, a share of 1000 or more, or
    /// more devices than modelled), with the reason.
    pub fn of(pod: &Pod) -> Result<Option<GpuRequest>, String> {
        let req = pod.requests();
        if req.scalars.is_empty() {
            return Ok(None);
        }
        let whole = req.scalar(Sym::NVIDIA_GPU);
        let milli = req.scalar(gpu_milli_resource());
        match (whole, milli) {
            (0, 0) => Ok(None),
            (w, 0) if w > 0 => {
                if w as usize > MAX_DEVICES {
                    return Err(format!("nvidia.com/gpu request of {w} exceeds {MAX_DEVICES} devices per node"));
                }
                Ok(Some(GpuRequest::whole(w as u8)))
            }
            (0, m) if m > 0 && m < MILLI as i64 => Ok(Some(GpuRequest::share(m as u16))),
            (0, m) if m >= MILLI as i64 => Err(format!(
                "{GPU_MILLI_RESOURCE} request of {m} is not a share of one GPU (below 1000); request whole GPUs with nvidia.com/gpu"
            )),
            (w, m) if w > 0 && m > 0 => {
                Err(format!("pod requests both nvidia.com/gpu and {GPU_MILLI_RESOURCE}; request one of them"))
            }
            _ => Err("negative GPU request".to_string()),
        }
    }
}

/// Used milli-GPU per device index, on a [`NodeInfo`]. Devices past the end are unused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DeviceUsage(SmallVec<[u16; 8]>);

impl DeviceUsage {
    #[inline]
    pub fn used(&self, device: usize) -> u16 {
        self.0.get(device).copied().unwrap_or(0)
    }

    /// True when no device is in use.
    pub fn is_idle(&self) -> bool {
        self.0.iter().all(|&u| u == 0)
    }

    pub(crate) fn add(&mut self, device: usize, milli: u16) {
        if self.0.len() <= device {
            self.0.resize(device + 1, 0);
        }
        self.0[device] = self.0[device].saturating_add(milli);
    }

    pub(crate) fn sub(&mut self, device: usize, milli: u16) {
        if let Some(u) = self.0.get_mut(device) {
            *u = u.saturating_sub(milli);
        }
    }
}

/// The devices assigned to an accounted pod and the milli-GPU it takes on each.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GpuAssignment {
    pub devices: SmallVec<[u8; 8]>,
    pub milli: u16,
}

impl GpuAssignment {
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// The open-gpu-share annotation value: indices joined by `-` (`"0-1-2-3"`).
    pub fn index_annotation(&self) -> String {
        let parts: Vec<String> = self.devices.iter().map(|d| d.to_string()).collect();
        parts.join("-")
    }
}

/// Number of GPU devices of a node (allocatable `nvidia.com/gpu`, capped at [`MAX_DEVICES`]).
#[inline]
pub fn device_count(node: &NodeInfo) -> usize {
    node.node.allocatable.scalar(Sym::NVIDIA_GPU).clamp(0, MAX_DEVICES as i64) as usize
}

/// Free milli-GPU of each device, by index.
pub fn free_devices(node: &NodeInfo) -> SmallVec<[u16; 8]> {
    (0..device_count(node)).map(|i| MILLI.saturating_sub(node.gpu_used.used(i))).collect()
}

/// The node's GPU model label, if any.
#[inline]
pub fn node_model(node: &NodeInfo) -> Option<Sym> {
    node.node.labels.get(gpu_model_label())
}

/// The GPU models a pod is restricted to by required node affinity: the values of an `In`
/// requirement on `nvidia.com/gpu.product` present in every term (`None`: any model).
pub fn model_constraint(pod: &Pod) -> Option<SmallVec<[Sym; 2]>> {
    let label = gpu_model_label();
    let selector = pod.affinity.node_affinity.as_ref()?.required.as_ref()?;
    let mut out: Option<SmallVec<[Sym; 2]>> = None;
    for term in &selector.terms {
        let req = term.match_expressions.iter().find(|r| r.key == label && r.op == NodeSelectorOp::In)?;
        let acc = out.get_or_insert_with(SmallVec::new);
        for v in &req.values {
            if !acc.contains(v) {
                acc.push(*v);
            }
        }
    }
    if let Some(acc) = out.as_mut() {
        acc.sort_by_key(|s| s.as_str());
    }
    out
}

/// Whether `free` can host `req` at all.
pub fn fits(req: GpuRequest, free: &[u16]) -> bool {
    free.iter().filter(|&&f| f >= req.milli).count() >= req.count as usize
}

/// open-gpu-share's default choice: a share goes to the device with the least free capacity
/// that still fits it (lowest index on ties); whole GPUs take the lowest-indexed free devices.
pub fn select_best_fit(req: GpuRequest, free: &[u16]) -> Option<SmallVec<[u8; 8]>> {
    if !req.is_share() {
        return select_whole(req, free);
    }
    let mut best: Option<usize> = None;
    for (i, &f) in free.iter().enumerate() {
        if f >= req.milli && best.is_none_or(|b| f < free[b]) {
            best = Some(i);
        }
    }
    best.map(|b| SmallVec::from_slice(&[b as u8]))
}

/// A share goes to the device with the most free capacity (lowest index on ties).
pub fn select_worst_fit(req: GpuRequest, free: &[u16]) -> Option<SmallVec<[u8; 8]>> {
    if !req.is_share() {
        return select_whole(req, free);
    }
    let mut best: Option<usize> = None;
    for (i, &f) in free.iter().enumerate() {
        if f >= req.milli && best.is_none_or(|b| f > free[b]) {
            best = Some(i);
        }
    }
    best.map(|b| SmallVec::from_slice(&[b as u8]))
}

/// A share goes to a uniformly random device that fits it.
pub fn select_random(req: GpuRequest, free: &[u16], rng: &mut crate::rng::Rng) -> Option<SmallVec<[u8; 8]>> {
    if !req.is_share() {
        return select_whole(req, free);
    }
    let mut chosen = None;
    let mut seen = 0u64;
    for (i, &f) in free.iter().enumerate() {
        if f >= req.milli {
            seen += 1;
            if rng.below(seen) == 0 {
                chosen = Some(i);
            }
        }
    }
    chosen.map(|b| SmallVec::from_slice(&[b as u8]))
}

/// Whole GPUs: the `count` lowest-indexed devices that nobody uses. Shares: the
/// lowest-indexed device that fits.
pub fn select_whole(req: GpuRequest, free: &[u16]) -> Option<SmallVec<[u8; 8]>> {
    let mut out = SmallVec::new();
    for (i, &f) in free.iter().enumerate() {
        if out.len() == req.count as usize {
            break;
        }
        if f >= req.milli {
            out.push(i as u8);
        }
    }
    (out.len() == req.count as usize).then_some(out)
}

/// What the kubelet's device manager does for a pod bound without device indices (no GPU
/// plugin in the profile, or a pod bound in the input): whole GPUs take the lowest-indexed free
/// devices, a share the best-fitting device. Returns false when the node cannot host it, in
/// which case nothing is recorded.
pub fn allocate_like_device_manager(snapshot: &mut crate::snapshot::Snapshot, pod_id: crate::snapshot::PodId) -> bool {
    let Some(bound) = snapshot.get_pod(pod_id) else { return false };
    if !bound.gpus.is_empty() {
        return true;
    }
    let Ok(Some(req)) = GpuRequest::of(&bound.pod) else { return true };
    let Some(node) = snapshot.get_node(bound.node) else { return false };
    if device_count(node) == 0 {
        return false;
    }
    let Some(devices) = select_best_fit(req, &free_devices(node)) else { return false };
    snapshot.assign_gpus(pod_id, &devices, req.milli).is_ok()
}

/// How many more pods asking for `count` whole GPUs the idle devices could hold: per node,
/// its completely free devices divided by `count`, summed (CPU and memory not considered).
pub fn whole_gpu_pods_that_fit(snapshot: &crate::snapshot::Snapshot, count: usize) -> u64 {
    if count == 0 {
        return 0;
    }
    snapshot.nodes().map(|n| (free_devices(n).iter().filter(|&&f| f == MILLI).count() / count) as u64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builders::{NodeBuilder, PodBuilder};
    use crate::snapshot::Snapshot;
    use std::sync::Arc;

    fn gpu_node(name: &str, gpus: i64) -> crate::model::Node {
        NodeBuilder::new(name)
            .cpu_milli(64_000)
            .memory(256 << 30)
            .scalar("nvidia.com/gpu", gpus)
            .scalar(GPU_MILLI_RESOURCE, gpus * 1000)
            .label(GPU_MODEL_LABEL, "T4")
            .build()
    }

    #[test]
    fn requests_are_parsed_from_resources() {
        let whole = PodBuilder::new("d", "w").cpu_milli(100).scalar("nvidia.com/gpu", 4).build();
        assert_eq!(GpuRequest::of(&whole), Ok(Some(GpuRequest { count: 4, milli: 1000 })));
        let share = PodBuilder::new("d", "s").scalar(GPU_MILLI_RESOURCE, 460).build();
        assert_eq!(GpuRequest::of(&share), Ok(Some(GpuRequest { count: 1, milli: 460 })));
        assert_eq!(GpuRequest::of(&PodBuilder::new("d", "c").cpu_milli(5).build()), Ok(None));
        let both = PodBuilder::new("d", "b").scalar("nvidia.com/gpu", 1).scalar(GPU_MILLI_RESOURCE, 500).build();
        assert!(GpuRequest::of(&both).unwrap_err().contains("both"));
        let big = PodBuilder::new("d", "b").scalar(GPU_MILLI_RESOURCE, 1000).build();
        assert!(GpuRequest::of(&big).unwrap_err().contains("below 1000"));
    }

    #[test]
    fn best_worst_and_whole_selection() {
        let free = [1000, 300, 540, 1000];
        assert_eq!(select_best_fit(GpuRequest::share(500), &free).unwrap().as_slice(), [2]);
        assert_eq!(select_best_fit(GpuRequest::share(200), &free).unwrap().as_slice(), [1]);
        assert_eq!(select_worst_fit(GpuRequest::share(200), &free).unwrap().as_slice(), [0]);
        assert_eq!(select_best_fit(GpuRequest::whole(2), &free).unwrap().as_slice(), [0, 3]);
        assert_eq!(select_best_fit(GpuRequest::whole(3), &free), None);
        assert_eq!(select_best_fit(GpuRequest::share(600), &[500, 599]), None);
        assert!(fits(GpuRequest::whole(2), &free));
        assert!(!fits(GpuRequest::share(1000), &[999, 999]));
        let mut rng = crate::rng::Rng::new(1);
        for _ in 0..20 {
            let d = select_random(GpuRequest::share(500), &free, &mut rng).unwrap()[0];
            assert!([0, 2, 3].contains(&d), "{d}");
        }
    }

    #[test]
    fn assignment_is_accounted_and_freed_with_the_pod() {
        let mut s = Snapshot::new();
        let n = s.add_node(gpu_node("n1", 4));
        let share = Arc::new(PodBuilder::new("d", "s").scalar(GPU_MILLI_RESOURCE, 300).build());
        let p1 = s.add_pod(share.clone(), n);
        s.assign_gpus(p1, &[2], 300).unwrap();
        let p2 = s.add_pod(Arc::new(PodBuilder::new("d", "s2").scalar(GPU_MILLI_RESOURCE, 700).build()), n);
        s.assign_gpus(p2, &[2], 700).unwrap();
        assert_eq!(free_devices(s.node(n)).as_slice(), [1000, 1000, 0, 1000]);
        let p3 = s.add_pod(Arc::new(PodBuilder::new("d", "s3").scalar(GPU_MILLI_RESOURCE, 10).build()), n);
        assert!(s.assign_gpus(p3, &[2], 10).unwrap_err().contains("device 2"));
        assert!(s.pod(p3).gpus.is_empty());
        assert_eq!(s.pod(p2).gpus.index_annotation(), "2");
        s.remove_pod(p1);
        assert_eq!(free_devices(s.node(n)).as_slice(), [1000, 1000, 300, 1000]);
        s.release_gpus(p2);
        s.release_gpus(p2);
        assert_eq!(free_devices(s.node(n)).as_slice(), [1000, 1000, 1000, 1000]);
        assert!(s.node(n).gpu_used.is_idle());
    }

    #[test]
    fn model_constraint_reads_required_node_affinity() {
        use crate::selector::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};
        let req = NodeSelectorRequirement::new(
            gpu_model_label(),
            NodeSelectorOp::In,
            [Sym::new("V100M32"), Sym::new("V100M16")].into_iter().collect(),
        )
        .unwrap();
        let sel = NodeSelector { terms: vec![NodeSelectorTerm::new(vec![req], vec![])] };
        let pod = PodBuilder::new("d", "p").required_node_affinity(sel).build();
        let models: Vec<&str> = model_constraint(&pod).unwrap().iter().map(|s| s.as_str()).collect();
        assert_eq!(models, ["V100M16", "V100M32"]);
        assert_eq!(model_constraint(&PodBuilder::new("d", "q").build()), None);
    }
}
