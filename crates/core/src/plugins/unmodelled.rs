//! Plugins of kube-scheduler's default profile whose objects kubesched does not model:
//! the volume plugins (PersistentVolumes, CSI limits, volume zones) and DynamicResources (DRA
//! ResourceClaims). They are registered so that real configurations naming them load; for a
//! pod that uses none of those objects kube-scheduler's own versions return Skip from
//! PreFilter, which is exactly what these do. Pods that do use them are reported by the loader.
//!
//! DynamicResources also runs at PostFilter in v1.34, before preemption, and for a pod without
//! claims says so: every FitError of the default profile then reads
//! `… no new claims to deallocate, preemption: …`.

use crate::args::{ArgValue, FieldError};
use crate::framework::{
    Plugin, PluginState, PodCx, Points, PostFilterCx, PostFilterResult, PreFilterResult, Registry, Status,
};
use std::sync::Arc;

struct Unmodelled {
    name: &'static str,
    points: Points,
}

impl Plugin for Unmodelled {
    fn name(&self) -> &'static str {
        self.name
    }

    fn points(&self) -> Points {
        self.points
    }

    fn pre_filter(&self, _cx: PodCx<'_>, _state: &mut PluginState) -> PreFilterResult {
        PreFilterResult::skip()
    }
}

macro_rules! unmodelled {
    ($fn_name:ident, $name:literal, $points:expr) => {
        fn $fn_name(_args: &ArgValue, _path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
            // Args are accepted as given (bindTimeoutSeconds, shape, …): nothing reads them.
            Ok(Arc::new(Unmodelled { name: $name, points: $points }))
        }
    };
}

unmodelled!(volume_restrictions, "VolumeRestrictions", Points::PRE_FILTER | Points::FILTER);
unmodelled!(node_volume_limits, "NodeVolumeLimits", Points::PRE_FILTER | Points::FILTER);
unmodelled!(volume_binding, "VolumeBinding", Points::PRE_FILTER | Points::FILTER | Points::RESERVE | Points::PRE_BIND);
unmodelled!(volume_zone, "VolumeZone", Points::PRE_FILTER | Points::FILTER);

pub const DYNAMIC_RESOURCES: &str = "DynamicResources";

/// DynamicResources for pods without ResourceClaims (the only pods kubesched models).
struct DynamicResources;

/// Written by PreFilter: the pod references no claim.
#[derive(Clone)]
struct NoClaims;

impl Plugin for DynamicResources {
    fn name(&self) -> &'static str {
        DYNAMIC_RESOURCES
    }

    fn points(&self) -> Points {
        Points::PRE_ENQUEUE
            | Points::PRE_FILTER
            | Points::FILTER
            | Points::POST_FILTER
            | Points::RESERVE
            | Points::PRE_BIND
    }

    fn pre_filter(&self, _cx: PodCx<'_>, state: &mut PluginState) -> PreFilterResult {
        state.set(NoClaims);
        PreFilterResult::skip()
    }

    fn post_filter(&self, cx: &mut PostFilterCx<'_>) -> (Option<PostFilterResult>, Status) {
        let slot = cx.profile.plugin_index(DYNAMIC_RESOURCES).map(|i| &cx.state.slots[i]);
        match slot.and_then(|s| s.get::<NoClaims>()) {
            Some(_) => (None, Status::unschedulable("no new claims to deallocate")),
            // PreFilter never ran (an earlier PreFilter rejected the pod): kube-scheduler fails
            // reading its cycle state, and that error text is what the FitError ends with.
            None => (None, Status::error("not found")),
        }
    }
}

fn dynamic_resources(_args: &ArgValue, _path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    Ok(Arc::new(DynamicResources))
}

pub fn register(r: &mut Registry) {
    r.register("VolumeRestrictions", volume_restrictions);
    r.register("NodeVolumeLimits", node_volume_limits);
    r.register("VolumeBinding", volume_binding);
    r.register("VolumeZone", volume_zone);
    r.register(DYNAMIC_RESOURCES, dynamic_resources);
}
