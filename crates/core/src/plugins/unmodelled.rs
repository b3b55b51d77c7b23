//! Plugins of kube-scheduler's default profile whose objects kubesched does not model:
//! the volume plugins (PersistentVolumes, CSI limits, volume zones) and DynamicResources (DRA
//! ResourceClaims). They are registered so that real configurations naming them load; for a
//! pod that uses none of those objects kube-scheduler's own versions return Skip from
//! PreFilter, which is exactly what these do. Pods that do use them are reported by the loader.

use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, PreFilterResult, Registry};
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
unmodelled!(
    dynamic_resources,
    "DynamicResources",
    Points::PRE_ENQUEUE | Points::PRE_FILTER | Points::FILTER | Points::RESERVE | Points::PRE_BIND
);

pub fn register(r: &mut Registry) {
    r.register("VolumeRestrictions", volume_restrictions);
    r.register("NodeVolumeLimits", node_volume_limits);
    r.register("VolumeBinding", volume_binding);
    r.register("VolumeZone", volume_zone);
    r.register("DynamicResources", dynamic_resources);
}
