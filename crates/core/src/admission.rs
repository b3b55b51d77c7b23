//! Kubelet admission for pods that arrive with `spec.nodeName` already set: they bypass the
//! scheduler, and the kubelet re-checks resources, node affinity, node name, host ports and
//! NoExecute taints (`generalFilter` / `AdmissionCheck`). The first failure rejects the pod.

use crate::model::{Pod, TaintEffect, first_untolerated};
use crate::plugins::node_affinity::{ERR_REASON_POD, required_matches};
use crate::plugins::node_name;
use crate::plugins::node_ports::{self, ports_fit};
use crate::plugins::node_resources_fit::fits_request;
use crate::resources::is_extended_resource;
use crate::snapshot::NodeInfo;

/// Why the kubelet refused a pod: `reason` is the pod's `status.reason` (`OutOfcpu`,
/// `NodeAffinity`…), `message` its `status.message` without the `Pod was rejected: ` prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub reason: String,
    pub message: String,
}

/// The kubelet's TaintToleration predicate description.
pub const TAINT_DESCRIPTION: &str = "node(s) had taints that the pod didn't tolerate";

/// Checks `pod` against `node` as the kubelet would before running it.
pub fn kubelet_admit(pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
    // Extended resources the node does not advertise are dropped before the fit check
    // (`removeMissingExtendedResources`): device plugins may register them later.
    let mut requests = pod.requests().clone();
    requests.scalars.retain(|(name, _)| !is_extended_resource(name.as_str()) || node.node.allocatable.has(*name));
    if let Some(first) = fits_request(&requests, node, &[], &[]).into_iter().next() {
        return Err(Rejection {
            reason: format!("OutOf{}", first.resource),
            message: format!(
                "Node didn't have enough resource: {}, requested: {}, used: {}, capacity: {}",
                first.resource, first.requested, first.used, first.capacity
            ),
        });
    }
    let predicate = |name: &str, desc: &str| Rejection {
        reason: name.to_string(),
        message: format!("Predicate {name} failed: {desc}"),
    };
    if !required_matches(pod, node) {
        return Err(predicate("NodeAffinity", ERR_REASON_POD));
    }
    if pod.node_name.is_some_and(|n| n != node.name()) {
        return Err(predicate(node_name::NAME, node_name::REASON));
    }
    if !ports_fit(pod.host_ports(), node) {
        return Err(predicate(node_ports::NAME, node_ports::REASON));
    }
    if first_untolerated(&node.node.taints, &pod.tolerations, &[TaintEffect::NoExecute]).is_some() {
        return Err(predicate("TaintToleration", TAINT_DESCRIPTION));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intern::Sym;
    use crate::model::{Container, Node, Taint};
    use crate::resources::Resources;
    use crate::snapshot::Snapshot;
    use std::sync::Arc;

    fn pod(cpu: i64) -> Pod {
        let mut p = Pod::new("default", "p");
        p.containers.push(Container {
            has_cpu_request: true,
            requests: Resources { cpu, ..Default::default() },
            ..Default::default()
        });
        p.finish();
        p
    }

    #[test]
    fn out_of_cpu_uses_the_kubelet_message() {
        let mut s = Snapshot::new();
        let mut n = Node::new("n1");
        n.allocatable = Resources { cpu: 1000, memory: 1 << 30, pods: 110, ..Default::default() };
        let id = s.add_node(n);
        s.add_pod(Arc::new(pod(800)), id);
        let r = kubelet_admit(&pod(500), s.node(id)).unwrap_err();
        assert_eq!(r.reason, "OutOfcpu");
        assert_eq!(r.message, "Node didn't have enough resource: cpu, requested: 500, used: 800, capacity: 1000");
    }

    #[test]
    fn no_schedule_taints_do_not_stop_bound_pods_but_no_execute_does() {
        let mut s = Snapshot::new();
        let mut n = Node::new("n1");
        n.allocatable = Resources { cpu: 1000, memory: 1 << 30, pods: 110, ..Default::default() };
        n.taints.push(Taint::new("dedicated", "gpu", TaintEffect::NoSchedule));
        let id = s.add_node(n.clone());
        assert!(kubelet_admit(&pod(100), s.node(id)).is_ok());
        n.taints.push(Taint::new("maintenance", "", TaintEffect::NoExecute));
        s.update_node(id, n);
        let r = kubelet_admit(&pod(100), s.node(id)).unwrap_err();
        assert_eq!(
            (r.reason.as_str(), r.message.as_str()),
            ("TaintToleration", "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate")
        );
    }

    #[test]
    fn unadvertised_extended_resources_are_ignored_and_affinity_checked() {
        let mut s = Snapshot::new();
        let mut n = Node::new("n1");
        n.allocatable = Resources { cpu: 1000, memory: 1 << 30, pods: 110, ..Default::default() };
        let id = s.add_node(n);
        let mut p = pod(100);
        p.containers[0].requests.set(Sym::NVIDIA_GPU, 1);
        p.finish();
        assert!(kubelet_admit(&p, s.node(id)).is_ok());
        p.node_selector.insert(Sym::new("disk"), Sym::new("ssd"));
        assert_eq!(
            kubelet_admit(&p, s.node(id)).unwrap_err().message,
            "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"
        );
    }
}
