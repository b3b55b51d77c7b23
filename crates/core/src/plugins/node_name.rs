//! NodeName (Filter): a pod with `spec.nodeName` fits only that node.

use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::snapshot::NodeInfo;
use std::sync::Arc;

pub const NAME: &str = "NodeName";
pub const REASON: &str = "node(s) didn't match the requested node name";

pub struct NodeName;

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    super::no_args(args, path)?;
    Ok(Arc::new(NodeName))
}

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::FILTER
    }

    fn filter(&self, cx: PodCx<'_>, _state: &PluginState, node: &NodeInfo) -> Status {
        match cx.pod.node_name {
            Some(name) if name != node.name() => Status::unresolvable(REASON),
            _ => Status::success(),
        }
    }
}
