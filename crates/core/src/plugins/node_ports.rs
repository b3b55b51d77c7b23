//! NodePorts: a pod's host ports must be free on the node.

use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, PreFilterResult, Status};
use crate::snapshot::NodeInfo;
use std::sync::Arc;

pub const NAME: &str = "NodePorts";
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

pub struct NodePorts;

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    super::no_args(args, path)?;
    Ok(Arc::new(NodePorts))
}

/// True when none of `wanted` conflicts with the node's used ports.
pub fn ports_fit(wanted: &[crate::model::HostPort], node: &NodeInfo) -> bool {
    !wanted.iter().any(|w| node.used_ports.iter().any(|u| w.conflicts(u)))
}

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::PRE_FILTER | Points::FILTER
    }

    fn pre_filter(&self, cx: PodCx<'_>, _state: &mut PluginState) -> PreFilterResult {
        if cx.pod.host_ports().is_empty() { PreFilterResult::skip() } else { PreFilterResult::success() }
    }

    fn filter(&self, cx: PodCx<'_>, _state: &PluginState, node: &NodeInfo) -> Status {
        if ports_fit(cx.pod.host_ports(), node) { Status::success() } else { Status::unschedulable(REASON) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intern::Sym;
    use crate::model::{Container, HostPort, Node, Pod};
    use crate::snapshot::Snapshot;

    fn pod_with_port(name: &str, ip: &str, port: i32) -> Pod {
        let mut p = Pod::new("default", name);
        p.containers.push(Container {
            host_ports: vec![HostPort { ip: Sym::new(ip), protocol: Sym::new("TCP"), port }],
            ..Default::default()
        });
        p.finish();
        p
    }

    #[test]
    fn conflicting_host_port_is_unschedulable() {
        let mut s = Snapshot::new();
        let n = s.add_node(Node::new("n1"));
        s.add_pod(Arc::new(pod_with_port("a", "0.0.0.0", 8080)), n);
        let same = pod_with_port("b", "10.0.0.1", 8080);
        let other = pod_with_port("c", "0.0.0.0", 8081);
        let st = NodePorts.filter(PodCx { pod: &same, snapshot: &s }, &PluginState::default(), s.node(n));
        assert_eq!(st.message(), REASON);
        assert_eq!(st.code, crate::framework::Code::Unschedulable);
        assert!(NodePorts.filter(PodCx { pod: &other, snapshot: &s }, &PluginState::default(), s.node(n)).is_success());
        let none = Pod::new("default", "d");
        assert!(NodePorts.pre_filter(PodCx { pod: &none, snapshot: &s }, &mut PluginState::default()).status.is_skip());
    }
}
