//! GpuPacking (FGD artifact baseline): prefer, in this order, (1) nodes where the pod fits on
//! devices already in use (score 100 minus a tenth of the free percentage of the devices used,
//! at least 50), (2) nodes already in use where the pod needs idle devices (50 minus the idle
//! devices it takes, at least 33), (3) idle nodes (33 minus their device count). CPU-only pods
//! score 0 everywhere. Shares go to the tightest device.

use super::{NodeView, request, reserve_devices};
use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::gpu::{MILLI, select_best_fit};
use crate::model::Pod;
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use std::sync::Arc;

pub const NAME: &str = "GpuPacking";

#[derive(Default)]
pub struct GpuPacking {
    /// Ties among the best nodes follow this seeded node order (`nodeOrderSeed`).
    pub node_order: Option<super::NodeOrder>,
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    Ok(Arc::new(GpuPacking { node_order: super::parse_node_order_seed(args, path, &[])?.map(super::NodeOrder::new) }))
}

pub fn packing_score(pod: &Pod, node: &NodeInfo) -> i64 {
    let Some(req) = request(pod) else { return 0 };
    let v = NodeView::of(node);
    let fully_free = v.fully_free();
    if fully_free == v.free.len() {
        let n = fully_free as i64;
        return (MAX_NODE_SCORE / 3 - n).max(n);
    }
    // Devices by increasing free capacity (stable: lower index first on ties).
    let mut order: smallvec::SmallVec<[usize; 8]> = (0..v.free.len()).collect();
    order.sort_by_key(|&i| v.free[i]);
    let mut left = req.count as usize;
    let mut used_free = 0i64;
    let mut idle_used = 0i64;
    for i in order {
        if left == 0 {
            break;
        }
        if req.milli <= v.free[i] {
            left -= 1;
            used_free += v.free[i] as i64 * 100 / MILLI as i64;
            if v.free[i] == MILLI {
                idle_used += 1;
            }
        }
    }
    if left != 0 {
        return 0;
    }
    if idle_used > 0 {
        return (MAX_NODE_SCORE / 2 - idle_used).max(MAX_NODE_SCORE / 3);
    }
    (MAX_NODE_SCORE - used_free / 10).max(MAX_NODE_SCORE / 2)
}

impl Plugin for GpuPacking {
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
        packing_score(cx.pod, node)
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
    fn used_devices_beat_used_nodes_beat_idle_nodes() {
        let mut s = Snapshot::new();
        let idle = s.add_node(gpu_node("idle", 64_000, 8, "G2"));
        let used = s.add_node(gpu_node("used", 64_000, 4, "T4"));
        place(&mut s, used, share_pod("x", 1000, 700), &[0]);
        let share = share_pod("p", 1000, 200);
        // Idle 8-GPU node: 33 − 8 = 25.
        assert_eq!(packing_score(&share, s.node(idle)), 25);
        // Fits on device 0 (300 free = 30 %): 100 − 30/10 = 97.
        assert_eq!(packing_score(&share, s.node(used)), 97);
        // Two whole GPUs on the used node take two idle devices: 50 − 2 = 48.
        assert_eq!(packing_score(&whole_pod("w", 1000, 2), s.node(used)), 48);
        assert_eq!(packing_score(&cpu_pod("c", 1000), s.node(used)), 0);
    }
}
