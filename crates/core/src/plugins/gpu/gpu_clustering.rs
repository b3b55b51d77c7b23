//! GpuClustering (FGD artifact baseline): keep pods with the same GPU demand together. A GPU
//! pod's tag is `share` for a share or `k-gpu` for `k` whole GPUs; a node scores in
//! (75, 100] when every GPU pod on it has the pod's tag, (50, 75] when some do, (25, 50] when
//! it runs no GPU pod, (0, 25] otherwise; within a band, fuller nodes score higher
//! (`25 × (8000 − free milli-GPU) / 8000`, integer arithmetic). CPU-only pods score 0.

use super::{NodeView, request, reserve_devices};
use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::gpu::select_best_fit;
use crate::model::Pod;
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use std::sync::Arc;

pub const NAME: &str = "GpuClustering";
const MAX_SPEC_GPU: i64 = 8000;

#[derive(Default)]
pub struct GpuClustering {
    /// Ties among the best nodes follow this seeded node order (`nodeOrderSeed`).
    pub node_order: Option<super::NodeOrder>,
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    Ok(Arc::new(GpuClustering {
        node_order: super::parse_node_order_seed(args, path, &[])?.map(super::NodeOrder::new),
    }))
}

/// 0 for a share, `k` for `k` whole GPUs.
fn tag(assignment: &crate::gpu::GpuAssignment) -> usize {
    if assignment.milli < crate::gpu::MILLI { 0 } else { assignment.devices.len() }
}

pub fn clustering_score(pod: &Pod, snapshot: &Snapshot, node: &NodeInfo) -> i64 {
    let Some(req) = request(pod) else { return 0 };
    let mine = if req.is_share() { 0 } else { req.count as usize };
    let (mut same, mut other) = (false, false);
    for &id in &node.pods {
        let Some(b) = snapshot.get_pod(id) else { continue };
        if b.gpus.is_empty() {
            continue;
        }
        if tag(&b.gpus) == mine {
            same = true;
        } else {
            other = true;
        }
    }
    let fill = MAX_NODE_SCORE / 4 * (MAX_SPEC_GPU - NodeView::of(node).idle_milli()) / MAX_SPEC_GPU;
    let band = match (same, other) {
        (true, false) => 3,
        (true, true) => 2,
        (false, false) => 1,
        (false, true) => 0,
    };
    fill + MAX_NODE_SCORE * band / 4
}

impl Plugin for GpuClustering {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::SCORE | Points::NORMALIZE | Points::RESERVE
    }

    fn normalize_scores(&self, _cx: PodCx<'_>, _state: &PluginState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        super::break_ties(self.node_order.as_ref(), nodes, scores);
    }

    fn score(&self, cx: PodCx<'_>, _state: &PluginState, node: &NodeInfo) -> i64 {
        clustering_score(cx.pod, cx.snapshot, node)
    }

    fn reserve(&self, pod: &Pod, _state: &PluginState, snapshot: &mut Snapshot, node: NodeId, pod_id: PodId) -> Status {
        reserve_devices(pod, snapshot, node, pod_id, select_best_fit)
    }

    fn unreserve(&self, _pod: &Pod, snapshot: &mut Snapshot, _node: NodeId, pod_id: PodId) {
        snapshot.release_gpus(pod_id);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    #[test]
    fn bands_follow_the_tags_on_the_node() {
        let mut s = Snapshot::new();
        let empty = s.add_node(gpu_node("empty", 64_000, 8, "G2"));
        let shares = s.add_node(gpu_node("shares", 64_000, 8, "G2"));
        let mixed = s.add_node(gpu_node("mixed", 64_000, 8, "G2"));
        let wholes = s.add_node(gpu_node("wholes", 64_000, 2, "T4"));
        place(&mut s, shares, share_pod("a", 1000, 500), &[0]);
        place(&mut s, mixed, share_pod("b", 1000, 500), &[0]);
        place(&mut s, mixed, whole_pod("c", 1000, 2), &[1, 2]);
        place(&mut s, wholes, whole_pod("d", 1000, 1), &[0]);
        let pod = share_pod("p", 1000, 300);
        // Empty: 25·0/8000 = 0, band 1 → 25.
        assert_eq!(clustering_score(&pod, &s, s.node(empty)), 25);
        // Shares only: 25·500/8000 = 1 (integer), band 3 → 76.
        assert_eq!(clustering_score(&pod, &s, s.node(shares)), 76);
        // Mixed: 25·2500/8000 = 7, band 2 → 57.
        assert_eq!(clustering_score(&pod, &s, s.node(mixed)), 57);
        // Only 1-GPU pods: free 1000 → 25·7000/8000 = 21, band 0 → 21.
        assert_eq!(clustering_score(&pod, &s, s.node(wholes)), 21);
        assert_eq!(clustering_score(&whole_pod("q", 1000, 1), &s, s.node(wholes)), 96);
    }
}
