//! DotProduct (FGD artifact baseline, Tetris-style): the dot product of the node's free
//! `[cpu, gpu]` and the pod's request, both normalized by the largest node spec (128 cores,
//! 8 GPUs), averaged over the two dimensions; `score = (1 − dot/2) × 100`, truncated. The GPU
//! dimension is the node's total free milli-GPU (the artifact's `merge` method). Shares go to
//! the tightest device.

use super::{MAX_SPEC_CPU, MAX_SPEC_GPU, NodeView, request, reserve_devices};
use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::gpu::select_best_fit;
use crate::model::Pod;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use std::sync::Arc;

pub const NAME: &str = "DotProduct";

#[derive(Default)]
pub struct DotProduct {
    /// Ties among the best nodes follow this seeded node order (`nodeOrderSeed`).
    pub node_order: Option<super::NodeOrder>,
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    Ok(Arc::new(DotProduct { node_order: super::parse_node_order_seed(args, path, &[])?.map(super::NodeOrder::new) }))
}

pub fn dot_product_score(pod: &Pod, node: &NodeInfo) -> i64 {
    let v = NodeView::of(node);
    let cpu_req = pod.non_zero_cpu();
    if v.cpu_left < cpu_req {
        return 0;
    }
    let gpu_req = request(pod).map_or(0.0, |r| r.total_milli() as f64);
    let dot = (v.cpu_left as f64 / MAX_SPEC_CPU) * (cpu_req as f64 / MAX_SPEC_CPU)
        + (v.idle_milli() as f64 / MAX_SPEC_GPU) * (gpu_req / MAX_SPEC_GPU);
    ((1.0 - dot / 2.0) * crate::schedule::MAX_NODE_SCORE as f64) as i64
}

impl Plugin for DotProduct {
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
        dot_product_score(cx.pod, node)
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
    fn smaller_alignment_scores_higher() {
        let mut s = Snapshot::new();
        let a = s.add_node(gpu_node("a", 128_000, 8, "G2"));
        let b = s.add_node(gpu_node("b", 128_000, 8, "G2"));
        place(&mut s, b, whole_pod("x", 96_000, 6), &[0, 1, 2, 3, 4, 5]);
        let pod = whole_pod("p", 32_000, 2);
        // a: 1·0.25 + 1·0.25 = 0.5 → (1 − 0.25)·100 = 75.
        assert_eq!(dot_product_score(&pod, s.node(a)), 75);
        // b: 0.25·0.25 + 0.25·0.25 = 0.125 → (1 − 0.0625)·100 = 93.75 → 93.
        assert_eq!(dot_product_score(&pod, s.node(b)), 93);
        // Not enough CPU left: the artifact's minimum score.
        assert_eq!(dot_product_score(&whole_pod("q", 64_000, 1), s.node(b)), 0);
    }
}
