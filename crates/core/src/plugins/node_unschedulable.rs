//! NodeUnschedulable (Filter): cordoned nodes (`spec.unschedulable`) take only pods that
//! tolerate `node.kubernetes.io/unschedulable:NoSchedule`.

use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::intern::Sym;
use crate::model::{Taint, TaintEffect, tolerated};
use crate::snapshot::NodeInfo;
use std::sync::Arc;

pub const NAME: &str = "NodeUnschedulable";
pub const REASON: &str = "node(s) were unschedulable";

pub struct NodeUnschedulable;

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    super::no_args(args, path)?;
    Ok(Arc::new(NodeUnschedulable))
}

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::FILTER
    }

    fn filter(&self, cx: PodCx<'_>, _state: &PluginState, node: &NodeInfo) -> Status {
        if !node.node.unschedulable {
            return Status::success();
        }
        let taint = Taint {
            key: Sym::TAINT_UNSCHEDULABLE,
            value: Sym::EMPTY,
            effect: TaintEffect::NoSchedule,
            time_added: None,
        };
        if tolerated(&cx.pod.tolerations, &taint) { Status::success() } else { Status::unresolvable(REASON) }
    }
}
