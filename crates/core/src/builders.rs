//! Concise builders for nodes and pods, for tests, benchmarks and generated workloads.
//!
//! ```
//! use kubesched_core::builders::{NodeBuilder, PodBuilder};
//! let node = NodeBuilder::new("n1").cpu_milli(4000).memory(8 << 30).zone("a").build();
//! let pod = PodBuilder::new("default", "web-1").cpu_milli(500).memory(1 << 30).label("app", "web").build();
//! assert_eq!(pod.requests().cpu, 500);
//! assert_eq!(node.allocatable.pods, 110);
//! ```

use crate::intern::Sym;
use crate::model::{
    Affinity, Container, HostPort, Node, NodeAffinity, Pod, Taint, TaintEffect, Toleration, TolerationOp,
};
use crate::resources::Resources;
use crate::selector::NodeSelector;

pub struct NodeBuilder(Node);

impl NodeBuilder {
    /// A node with 110 allocatable pods and nothing else.
    pub fn new(name: &str) -> NodeBuilder {
        let mut n = Node::new(name);
        n.allocatable.pods = 110;
        NodeBuilder(n)
    }
    pub fn cpu_milli(mut self, v: i64) -> Self {
        self.0.allocatable.cpu = v;
        self
    }
    pub fn memory(mut self, bytes: i64) -> Self {
        self.0.allocatable.memory = bytes;
        self
    }
    pub fn pods(mut self, n: i64) -> Self {
        self.0.allocatable.pods = n;
        self
    }
    pub fn scalar(mut self, name: &str, v: i64) -> Self {
        self.0.allocatable.set(Sym::new(name), v);
        self
    }
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.0.labels.insert(Sym::new(k), Sym::new(v));
        self
    }
    pub fn zone(self, zone: &str) -> Self {
        self.label("topology.kubernetes.io/zone", zone)
    }
    pub fn taint(mut self, key: &str, value: &str, effect: TaintEffect) -> Self {
        self.0.taints.push(Taint::new(key, value, effect));
        self
    }
    pub fn unschedulable(mut self) -> Self {
        self.0.unschedulable = true;
        self
    }
    pub fn build(mut self) -> Node {
        self.0.capacity = self.0.allocatable.clone();
        self.0
    }
}

pub struct PodBuilder {
    pod: Pod,
    container: Container,
}

impl PodBuilder {
    pub fn new(namespace: &str, name: &str) -> PodBuilder {
        PodBuilder {
            pod: Pod::new(namespace, name),
            container: Container { name: Sym::new("main"), ..Default::default() },
        }
    }
    pub fn cpu_milli(mut self, v: i64) -> Self {
        self.container.requests.cpu = v;
        self.container.has_cpu_request = true;
        self
    }
    pub fn memory(mut self, bytes: i64) -> Self {
        self.container.requests.memory = bytes;
        self.container.has_memory_request = true;
        self
    }
    pub fn scalar(mut self, name: &str, v: i64) -> Self {
        self.container.requests.set(Sym::new(name), v);
        self
    }
    pub fn image(mut self, image: &str) -> Self {
        self.container.image = Sym::new(image);
        self
    }
    pub fn host_port(mut self, port: i32) -> Self {
        self.container.host_ports.push(HostPort { ip: HostPort::any_ip(), protocol: Sym::new("TCP"), port });
        self
    }
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.pod.labels.insert(Sym::new(k), Sym::new(v));
        self
    }
    pub fn priority(mut self, p: i32) -> Self {
        self.pod.priority = p;
        self
    }
    pub fn node_name(mut self, node: &str) -> Self {
        self.pod.node_name = Some(Sym::new(node));
        self
    }
    pub fn scheduler(mut self, name: &str) -> Self {
        self.pod.scheduler_name = Sym::new(name);
        self
    }
    pub fn node_selector(mut self, k: &str, v: &str) -> Self {
        self.pod.node_selector.insert(Sym::new(k), Sym::new(v));
        self
    }
    pub fn required_node_affinity(mut self, selector: NodeSelector) -> Self {
        let na = self.pod.affinity.node_affinity.get_or_insert_with(NodeAffinity::default);
        na.required = Some(selector);
        self
    }
    pub fn affinity(mut self, affinity: Affinity) -> Self {
        self.pod.affinity = affinity;
        self
    }
    pub fn toleration(mut self, key: &str, value: &str, effect: Option<TaintEffect>) -> Self {
        let operator = if value.is_empty() { TolerationOp::Exists } else { TolerationOp::Equal };
        self.pod.tolerations.push(Toleration {
            key: Sym::new(key),
            operator,
            value: Sym::new(value),
            effect,
            toleration_seconds: None,
        });
        self
    }
    pub fn gate(mut self, name: &str) -> Self {
        self.pod.scheduling_gates.push(Sym::new(name));
        self
    }
    /// Escape hatch for anything else.
    pub fn with(mut self, f: impl FnOnce(&mut Pod)) -> Self {
        f(&mut self.pod);
        self
    }
    pub fn build(mut self) -> Pod {
        self.pod.containers.push(self.container);
        self.pod.finish();
        self.pod
    }
}

/// `Resources` from cpu millicores and memory bytes.
pub fn resources(cpu_milli: i64, memory: i64) -> Resources {
    Resources { cpu: cpu_milli, memory, ..Default::default() }
}
