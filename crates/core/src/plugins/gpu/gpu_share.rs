//! GpuShare: places GPU pods on individual devices. Filter: a share must fit on one device,
//! whole GPUs need that many devices nobody uses. Reserve: assigns the device indices (best fit,
//! as open-gpu-share does, unless a device-choosing score plugin already did); Unreserve frees
//! them.

use super::request;
use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, PreFilterResult, Status};
use crate::gpu::{GpuRequest, MILLI, device_count, select_best_fit};
use crate::model::Pod;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use std::sync::Arc;

pub const NAME: &str = "GpuShare";

pub(crate) const REASON_NO_DEVICES: &str = "node(s) had no GPU devices";
const REASON_SHARE: &str = "node(s) had no GPU device with enough free share";
const REASON_WHOLE: &str = "node(s) had too few free GPU devices";

pub(crate) fn insufficient_reason(req: GpuRequest) -> &'static str {
    if req.is_share() { REASON_SHARE } else { REASON_WHOLE }
}

pub struct GpuShare;

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    super::super::no_args(args, path)?;
    Ok(Arc::new(GpuShare))
}

#[derive(Clone)]
struct PreFilterState(GpuRequest);

impl Plugin for GpuShare {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::PRE_FILTER | Points::FILTER | Points::RESERVE
    }

    fn pre_filter(&self, cx: PodCx<'_>, state: &mut PluginState) -> PreFilterResult {
        match GpuRequest::of(cx.pod) {
            Ok(None) => PreFilterResult::skip(),
            Ok(Some(req)) => {
                state.set(PreFilterState(req));
                PreFilterResult::success()
            }
            Err(e) => PreFilterResult::status(Status::unresolvable(e)),
        }
    }

    #[inline]
    fn filter(&self, cx: PodCx<'_>, state: &PluginState, node: &NodeInfo) -> Status {
        let req = match state.get::<PreFilterState>() {
            Some(s) => s.0,
            None => match request(cx.pod) {
                Some(r) => r,
                None => return Status::success(),
            },
        };
        let count = device_count(node);
        if count == 0 {
            return Status::unresolvable(REASON_NO_DEVICES);
        }
        if req.count as usize > count {
            return Status::unresolvable(REASON_WHOLE);
        }
        let fitting = (0..count).filter(|&i| MILLI.saturating_sub(node.gpu_used.used(i)) >= req.milli).count();
        if fitting >= req.count as usize { Status::success() } else { Status::unschedulable(insufficient_reason(req)) }
    }

    fn reserve(&self, pod: &Pod, _state: &PluginState, snapshot: &mut Snapshot, node: NodeId, pod_id: PodId) -> Status {
        if snapshot.get_pod(pod_id).is_some_and(|b| !b.gpus.is_empty()) {
            return Status::success();
        }
        super::reserve_devices(pod, snapshot, node, pod_id, select_best_fit)
    }

    fn unreserve(&self, _pod: &Pod, snapshot: &mut Snapshot, _node: NodeId, pod_id: PodId) {
        snapshot.release_gpus(pod_id);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use crate::framework::Code;

    fn filter(s: &Snapshot, pod: &Pod, node: NodeId) -> Status {
        let cx = PodCx { pod, snapshot: s };
        let mut st = PluginState::default();
        let r = GpuShare.pre_filter(cx, &mut st);
        if r.status.is_skip() {
            return Status::success();
        }
        assert!(r.status.is_success(), "{:?}", r.status);
        GpuShare.filter(cx, &st, s.node(node))
    }

    #[test]
    fn shares_must_fit_one_device_and_whole_gpus_need_free_devices() {
        let mut s = Snapshot::new();
        let n = s.add_node(gpu_node("n", 32_000, 2, "T4"));
        place(&mut s, n, share_pod("a", 1000, 600), &[0]);
        place(&mut s, n, share_pod("b", 1000, 600), &[1]);
        // 800 milli free in total, but 400 per device: a 500 share does not fit.
        let st = filter(&s, &share_pod("c", 1000, 500), n);
        assert_eq!((st.code, st.message()), (Code::Unschedulable, REASON_SHARE.to_string()));
        assert!(filter(&s, &share_pod("d", 1000, 400), n).is_success());
        let st = filter(&s, &whole_pod("e", 1000, 1), n);
        assert_eq!(st.message(), REASON_WHOLE);
        let st = filter(&s, &whole_pod("f", 1000, 4), n);
        assert_eq!(st.code, Code::UnschedulableAndUnresolvable, "4 GPUs never fit a 2-GPU node");
        let cpu_only = s.add_node(crate::builders::NodeBuilder::new("cpu").cpu_milli(8000).build());
        assert_eq!(filter(&s, &share_pod("g", 1000, 100), cpu_only).message(), REASON_NO_DEVICES);
        assert!(filter(&s, &cpu_pod("h", 1000), cpu_only).is_success());
    }

    #[test]
    fn invalid_requests_are_rejected_at_prefilter() {
        let s = Snapshot::new();
        let pod = crate::builders::PodBuilder::new("d", "x").scalar(crate::gpu::GPU_MILLI_RESOURCE, 1500).build();
        let r = GpuShare.pre_filter(PodCx { pod: &pod, snapshot: &s }, &mut PluginState::default());
        assert_eq!(r.status.code, Code::UnschedulableAndUnresolvable);
    }

    #[test]
    fn reserve_assigns_best_fit_and_unreserve_frees() {
        let mut s = Snapshot::new();
        let n = s.add_node(gpu_node("n", 32_000, 4, "T4"));
        place(&mut s, n, share_pod("a", 1000, 300), &[1]);
        place(&mut s, n, share_pod("b", 1000, 500), &[3]);
        // Free [1000, 700, 1000, 500]: a 450 share best-fits device 3.
        let pod = Arc::new(share_pod("c", 1000, 450));
        let id = s.add_pod(pod.clone(), n);
        assert!(GpuShare.reserve(&pod, &PluginState::default(), &mut s, n, id).is_success());
        assert_eq!(s.pod(id).gpus.devices.as_slice(), [3]);
        GpuShare.unreserve(&pod, &mut s, n, id);
        assert!(s.pod(id).gpus.is_empty());
        assert_eq!(crate::gpu::free_devices(s.node(n)).as_slice(), [1000, 700, 1000, 500]);
        let whole = Arc::new(whole_pod("w", 1000, 2));
        let wid = s.add_pod(whole.clone(), n);
        assert!(GpuShare.reserve(&whole, &PluginState::default(), &mut s, n, wid).is_success());
        assert_eq!(s.pod(wid).gpus.devices.as_slice(), [0, 2]);
        assert_eq!(s.pod(wid).gpus.index_annotation(), "0-2");
        s.remove_pod(wid);
        assert_eq!(crate::gpu::free_devices(s.node(n)).as_slice(), [1000, 700, 1000, 500]);
    }
}
