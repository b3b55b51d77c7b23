//! GPU plugins (not part of kube-scheduler): `GpuShare` places pods on individual GPU devices
//! (filter, reserve), and the score plugins compared by the FGD paper choose among the nodes
//! and, for shares, among the devices; `FGDStrand` is our own improvement on FGD
//! ([`fgd_strand`]). See [`crate::gpu`] for the resource conventions.
//!
//! A score plugin that also picks devices implements Reserve: it releases whatever device
//! choice an earlier Reserve made and assigns its own, so its choice wins whatever the order of
//! the Reserve plugins; `GpuShare` alone assigns best fit.

pub mod best_fit;
pub mod dot_product;
pub mod fgd;
pub mod fgd_strand;
pub mod gpu_clustering;
pub mod gpu_packing;
pub mod gpu_share;
pub mod random;

use crate::framework::{Registry, Status};
use crate::gpu::{GpuRequest, MILLI, device_count, free_devices};
use crate::model::Pod;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use smallvec::SmallVec;

pub fn register(r: &mut Registry) {
    r.register(gpu_share::NAME, gpu_share::new);
    r.register(best_fit::NAME, best_fit::new);
    r.register(dot_product::NAME, dot_product::new);
    r.register(gpu_packing::NAME, gpu_packing::new);
    r.register(gpu_clustering::NAME, gpu_clustering::new);
    r.register(random::NAME, random::new);
    r.register(fgd::NAME, fgd::new);
    r.register(fgd_strand::NAME, fgd_strand::new);
}

/// `MaxSpecCpu` / `MaxSpecGpu` of the FGD artifact: the largest node it normalizes by.
pub(crate) const MAX_SPEC_CPU: f64 = 128_000.0;
pub(crate) const MAX_SPEC_GPU: f64 = 8_000.0;

/// What the artifact's scores read of a node: CPU left (allocatable minus requests) and the
/// free milli-GPU of each device.
pub(crate) struct NodeView {
    pub cpu_left: i64,
    pub free: SmallVec<[u16; 8]>,
}

impl NodeView {
    pub fn of(node: &NodeInfo) -> NodeView {
        NodeView { cpu_left: node.node.allocatable.cpu - node.requested.cpu, free: free_devices(node) }
    }

    pub fn idle_milli(&self) -> i64 {
        self.free.iter().map(|&f| f as i64).sum()
    }

    pub fn fully_free(&self) -> usize {
        self.free.iter().filter(|&&f| f == MILLI).count()
    }
}

/// The pod's GPU request, treating an invalid one (rejected at PreFilter) as none.
#[inline]
pub(crate) fn request(pod: &Pod) -> Option<GpuRequest> {
    GpuRequest::of(pod).ok().flatten()
}

/// Reserve for a device-choosing score plugin: drops any earlier choice for the pod, then
/// assigns `choose(request, free devices)`.
pub(crate) fn reserve_devices(
    pod: &Pod,
    snapshot: &mut Snapshot,
    node: NodeId,
    pod_id: PodId,
    choose: impl FnOnce(GpuRequest, &[u16]) -> Option<SmallVec<[u8; 8]>>,
) -> Status {
    let Some(req) = request(pod) else { return Status::success() };
    snapshot.release_gpus(pod_id);
    let Some(info) = snapshot.get_node(node) else { return Status::error("node not found") };
    if device_count(info) == 0 {
        return Status::unschedulable(gpu_share::REASON_NO_DEVICES);
    }
    let free = free_devices(info);
    let Some(devices) = choose(req, &free) else {
        return Status::unschedulable(gpu_share::insufficient_reason(req));
    };
    match snapshot.assign_gpus(pod_id, &devices, req.milli) {
        Ok(()) => Status::success(),
        Err(e) => Status::error(e),
    }
}

/// The optional `nodeOrderSeed` argument every GPU score plugin takes (see [`break_ties`]).
pub(crate) fn parse_node_order_seed(
    args: &crate::args::ArgValue,
    path: &str,
    other_keys: &[&str],
) -> Result<Option<u64>, crate::args::FieldError> {
    use crate::args::{FieldError, read};
    let mut keys = vec!["nodeOrderSeed", "apiVersion", "kind"];
    keys.extend_from_slice(other_keys);
    read::known_keys(args, &keys, path)?;
    match read::int(args.get("nodeOrderSeed"), &format!("{path}.nodeOrderSeed"))? {
        None => Ok(None),
        Some(s) if s >= 0 => Ok(Some(s as u64)),
        Some(s) => Err(FieldError::invalid(format!("{path}.nodeOrderSeed"), s, "must be non-negative")),
    }
}

/// A node's place in the seeded pseudo-random order of node names.
pub(crate) fn node_rank(seed: u64, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded pseudo-random order of nodes (by name), with each node's rank cached by node id.
pub struct NodeOrder {
    seed: u64,
    ranks: std::sync::Mutex<Vec<Option<(crate::intern::Sym, u64)>>>,
}

impl NodeOrder {
    pub fn new(seed: u64) -> NodeOrder {
        NodeOrder { seed, ranks: std::sync::Mutex::new(Vec::new()) }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The node's rank: lower comes first.
    pub fn rank(&self, node: &NodeInfo) -> u64 {
        let i = node.id.0 as usize;
        let mut ranks = match self.ranks.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(Some((name, r))) = ranks.get(i)
            && *name == node.name()
        {
            return *r;
        }
        let r = node_rank(self.seed, node.name().as_str());
        if ranks.len() <= i {
            ranks.resize(i + 1, None);
        }
        ranks[i] = Some((node.name(), r));
        r
    }
}

/// With a `nodeOrderSeed`, the best-scoring node that comes first in the seeded order of node
/// names gets 100 and every other node at most 99, so that the choice among equal best scores
/// is that order's, not kube-scheduler's random one. This is the FGD artifact's rule: it
/// prefixes node names with a seeded permutation and breaks ties by the smallest name. Without
/// a seed the scores are left alone.
pub(crate) fn break_ties(order: Option<&NodeOrder>, nodes: &[&NodeInfo], scores: &mut [i64]) {
    let Some(order) = order else { return };
    let Some(&max) = scores.iter().max() else { return };
    let mut winner: Option<(u64, usize)> = None;
    for (i, (&s, n)) in scores.iter().zip(nodes).enumerate() {
        if s == max {
            let r = order.rank(n);
            if winner.is_none_or(|(wr, _)| r < wr) {
                winner = Some((r, i));
            }
        }
    }
    let top = crate::schedule::MAX_NODE_SCORE;
    for s in scores.iter_mut() {
        *s = (*s).min(top - 1);
    }
    if let Some((_, i)) = winner {
        scores[i] = top;
    }
}

/// The artifact's `NormalizeScore`: min-max scaling to `0..=100` (all 0 when all equal).
pub(crate) fn min_max_normalize(scores: &mut [i64]) {
    let (Some(&lo), Some(&hi)) = (scores.iter().min(), scores.iter().max()) else { return };
    let range = hi - lo;
    for s in scores.iter_mut() {
        *s = if range == 0 { 0 } else { (*s - lo) * crate::schedule::MAX_NODE_SCORE / range };
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;

    #[test]
    fn ties_follow_the_seeded_node_order() {
        let mut s = Snapshot::new();
        for i in 0..6 {
            s.add_node(gpu_node(&format!("n{i}"), 8000, 1, "T4"));
        }
        let nodes: Vec<&NodeInfo> = s.nodes().collect();
        let ranks: Vec<u64> = nodes.iter().map(|n| node_rank(5, n.name().as_str())).collect();
        // Nodes 1, 3, 4 tie at 70; the winner is the one first in the seeded order.
        let tied = [1usize, 3, 4];
        let first = *tied.iter().min_by_key(|&&i| ranks[i]).unwrap();
        let mut scores = [10, 70, 20, 70, 70, 69];
        break_ties(Some(&NodeOrder::new(5)), &nodes, &mut scores);
        let mut expected = [10, 70, 20, 70, 70, 69];
        expected[first] = 100;
        assert_eq!(scores, expected);
        // 100s that lose the tie drop to 99; without a seed nothing changes.
        let mut scores = [100, 100, 0, 0, 0, 0];
        break_ties(Some(&NodeOrder::new(5)), &nodes, &mut scores);
        assert_eq!(scores.iter().filter(|&&x| x == 100).count(), 1);
        assert_eq!(scores.iter().filter(|&&x| x == 99).count(), 1);
        let mut scores = [100, 100, 0, 0, 0, 0];
        break_ties(None, &nodes, &mut scores);
        assert_eq!(scores, [100, 100, 0, 0, 0, 0]);
        // The order depends on the seed.
        let other: Vec<u64> = nodes.iter().map(|n| node_rank(6, n.name().as_str())).collect();
        assert_ne!(ranks, other);
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::builders::{NodeBuilder, PodBuilder};
    use crate::gpu::{GPU_MILLI_RESOURCE, GPU_MODEL_LABEL};
    use crate::model::{Node, Pod};
    use crate::snapshot::{NodeId, Snapshot};
    use std::sync::Arc;

    pub fn gpu_node(name: &str, cpu: i64, gpus: i64, model: &str) -> Node {
        NodeBuilder::new(name)
            .cpu_milli(cpu)
            .memory(512 << 30)
            .scalar("nvidia.com/gpu", gpus)
            .scalar(GPU_MILLI_RESOURCE, gpus * 1000)
            .label(GPU_MODEL_LABEL, model)
            .build()
    }

    pub fn share_pod(name: &str, cpu: i64, milli: i64) -> Pod {
        PodBuilder::new("default", name).cpu_milli(cpu).scalar(GPU_MILLI_RESOURCE, milli).build()
    }

    pub fn whole_pod(name: &str, cpu: i64, gpus: i64) -> Pod {
        PodBuilder::new("default", name).cpu_milli(cpu).scalar("nvidia.com/gpu", gpus).build()
    }

    pub fn cpu_pod(name: &str, cpu: i64) -> Pod {
        PodBuilder::new("default", name).cpu_milli(cpu).build()
    }

    /// Places `pod` on `node` with the given devices, as Reserve would.
    pub fn place(s: &mut Snapshot, node: NodeId, pod: Pod, devices: &[u8]) {
        let req = crate::gpu::GpuRequest::of(&pod).unwrap();
        let id = s.add_pod(Arc::new(pod), node);
        if let Some(r) = req {
            s.assign_gpus(id, devices, r.milli).unwrap();
        }
    }
}
