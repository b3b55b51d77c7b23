//! BestFit (FGD artifact baseline): prefer the node whose CPU and GPU left after placing the
//! pod are smallest, each normalized by the largest node spec (128 cores, 8 GPUs) and weighted
//! ½: `score = (1 − Σ ½·(free − request)/maxSpec) × 100`, truncated, then min-max normalized
//! over the feasible nodes. Shares go to the tightest device (best fit).

use super::{MAX_SPEC_CPU, MAX_SPEC_GPU, NodeView, min_max_normalize, request, reserve_devices};
use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::gpu::select_best_fit;
use crate::model::Pod;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use std::sync::Arc;

pub const NAME: &str = "BestFit";

#[derive(Default)]
pub struct BestFit {
    /// Ties among the best nodes follow this seeded node order (`nodeOrderSeed`).
    pub node_order: Option<super::NodeOrder>,
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    Ok(Arc::new(BestFit { node_order: super::parse_node_order_seed(args, path, &[])?.map(super::NodeOrder::new) }))
}

/// The raw (pre-normalization) score.
pub fn raw_score(pod: &Pod, node: &NodeInfo) -> i64 {
    let v = NodeView::of(node);
    let cpu_req = pod.non_zero_cpu();
    let gpu_req = request(pod).map_or(0, |r| r.total_milli() as i64);
    let gpu_free = v.idle_milli();
    if v.cpu_left < cpu_req || gpu_free < gpu_req {
        return 0;
    }
    let x = (v.cpu_left - cpu_req) as f64 / MAX_SPEC_CPU * 0.5 + (gpu_free - gpu_req) as f64 / MAX_SPEC_GPU * 0.5;
    ((1.0 - x) * crate::schedule::MAX_NODE_SCORE as f64) as i64
}

impl Plugin for BestFit {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::SCORE | Points::NORMALIZE | Points::RESERVE
    }

    fn score(&self, cx: PodCx<'_>, _state: &PluginState, node: &NodeInfo) -> i64 {
        raw_score(cx.pod, node)
    }

    fn normalize_scores(&self, _cx: PodCx<'_>, _state: &PluginState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        min_max_normalize(scores);
        super::break_ties(self.node_order.as_ref(), nodes, scores);
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
    fn tighter_nodes_score_higher() {
        let mut s = Snapshot::new();
        let a = s.add_node(gpu_node("a", 64_000, 8, "G2"));
        let b = s.add_node(gpu_node("b", 64_000, 8, "G2"));
        place(&mut s, b, whole_pod("x", 32_000, 4), &[0, 1, 2, 3]);
        let pod = share_pod("p", 16_000, 500);
        // a: cpu (64000−16000)/128000·½ = 0.1875, gpu (8000−500)/8000·½ = 0.46875 → (1−0.65625)·100 = 34.
        assert_eq!(raw_score(&pod, s.node(a)), 34);
        // b: cpu 16000/128000·½ = 0.0625, gpu 3500/8000·½ = 0.21875 → 71.875 → 71.
        assert_eq!(raw_score(&pod, s.node(b)), 71);
        let mut scores = [34, 71, 50];
        BestFit::default().normalize_scores(
            PodCx { pod: &pod, snapshot: &s },
            &PluginState::default(),
            &[],
            &mut scores,
        );
        // (50 − 34)·100/37 = 43.
        assert_eq!(scores, [0, 100, 43]);
    }
}
