//! The internal pod: what the scheduler needs, interned and precomputed.

use super::affinity::{Affinity, TopologySpreadConstraint};
use super::taint::Toleration;
use crate::intern::Sym;
use crate::labels::Labels;
use crate::resources::Resources;
use std::collections::BTreeMap;

/// kube-scheduler's `DefaultMilliCPURequest`: the CPU a container without a CPU request is
/// assumed to use when scoring.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// kube-scheduler's `DefaultMemoryRequest` (200 MiB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Hash)]
pub enum PodPhase {
    #[default]
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl PodPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
            PodPhase::Unknown => "Unknown",
        }
    }

    /// Succeeded and Failed pods hold no resources and are dropped from the scheduler's cache.
    pub fn is_terminal(self) -> bool {
        matches!(self, PodPhase::Succeeded | PodPhase::Failed)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Hash)]
pub enum PreemptionPolicy {
    #[default]
    PreemptLowerPriority,
    Never,
}

/// A host port a container asks for (`hostPort > 0`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct HostPort {
    /// `0.0.0.0` when unset.
    pub ip: Sym,
    /// `TCP` when unset.
    pub protocol: Sym,
    pub port: i32,
}

impl HostPort {
    pub fn any_ip() -> Sym {
        Sym::new("0.0.0.0")
    }

    /// Same protocol and port, and the same IP or either side on `0.0.0.0`.
    pub fn conflicts(&self, other: &HostPort) -> bool {
        if self.port != other.port || self.protocol != other.protocol {
            return false;
        }
        let any = HostPort::any_ip();
        self.ip == other.ip || self.ip == any || other.ip == any
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Default, Hash)]
pub struct Container {
    pub name: Sym,
    pub image: Sym,
    /// Requests after API defaulting (limits copied into missing requests).
    pub requests: Resources,
    /// Whether the `cpu` key is present in requests (an explicit 0 counts as present).
    pub has_cpu_request: bool,
    pub has_memory_request: bool,
    /// Init container with `restartPolicy: Always` (a sidecar).
    pub restartable: bool,
    pub host_ports: Vec<HostPort>,
}

/// The controller that owns a pod (`ownerReferences[controller=true]`).
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct OwnerRef {
    pub kind: Sym,
    pub name: Sym,
    pub uid: Sym,
}

#[derive(Clone, PartialEq, Debug, Default)]
pub struct Pod {
    pub namespace: Sym,
    pub name: Sym,
    pub uid: Sym,
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub owner: Option<OwnerRef>,
    /// `spec.nodeName` as given in the input (bound or pinned pods).
    pub node_name: Option<Sym>,
    pub scheduler_name: Sym,
    pub priority: i32,
    pub priority_class_name: Option<Sym>,
    pub preemption_policy: PreemptionPolicy,
    pub node_selector: Labels,
    pub affinity: Affinity,
    pub tolerations: Vec<Toleration>,
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    pub scheduling_gates: Vec<Sym>,
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
    pub overhead: Resources,
    pub phase: PodPhase,
    /// `metadata.deletionTimestamp` is set.
    pub terminating: bool,
    /// Seconds (Unix or simulated), used for preemption's "latest start time" and queue order.
    pub start_time: Option<i64>,
    pub creation_time: Option<i64>,
    pub nominated_node_name: Option<Sym>,
    requests: Resources,
    non_zero_cpu: i64,
    non_zero_memory: i64,
    host_ports: Vec<HostPort>,
}

impl Pod {
    /// A pod with API defaults: `default-scheduler`, priority 0, phase Pending.
    pub fn new(namespace: &str, name: &str) -> Pod {
        Pod {
            namespace: Sym::new(namespace),
            name: Sym::new(name),
            scheduler_name: Sym::DEFAULT_SCHEDULER,
            ..Default::default()
        }
    }

    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Recomputes everything derived from the containers. Call after editing containers,
    /// init containers or overhead.
    pub fn finish(&mut self) -> &mut Pod {
        self.requests = pod_requests(self, |c| c.requests.clone());
        let non_zero = pod_requests(self, |c| {
            let mut r = Resources::new();
            r.cpu = if c.has_cpu_request { c.requests.cpu } else { DEFAULT_MILLI_CPU_REQUEST };
            r.memory = if c.has_memory_request { c.requests.memory } else { DEFAULT_MEMORY_REQUEST };
            r
        });
        self.non_zero_cpu = non_zero.cpu;
        self.non_zero_memory = non_zero.memory;
        self.host_ports = self
            .init_containers
            .iter()
            .chain(self.containers.iter())
            .flat_map(|c| c.host_ports.iter().copied())
            .collect();
        self
    }

    /// Requests as Kubernetes computes them (`PodRequests`), including overhead.
    #[inline]
    pub fn requests(&self) -> &Resources {
        &self.requests
    }

    /// CPU for scoring, with 100m for every container that requests none.
    #[inline]
    pub fn non_zero_cpu(&self) -> i64 {
        self.non_zero_cpu
    }

    /// Memory for scoring, with 200Mi for every container that requests none.
    #[inline]
    pub fn non_zero_memory(&self) -> i64 {
        self.non_zero_memory
    }

    /// Every `hostPort > 0` of every container.
    #[inline]
    pub fn host_ports(&self) -> &[HostPort] {
        &self.host_ports
    }

    pub fn has_restartable_init_container(&self) -> bool {
        self.init_containers.iter().any(|c| c.restartable)
    }

    pub fn is_gated(&self) -> bool {
        !self.scheduling_gates.is_empty()
    }

    /// True when the pod has any pod affinity or anti-affinity (kube's `PodsWithAffinity`).
    pub fn has_pod_affinity(&self) -> bool {
        self.affinity.pod_affinity.as_ref().is_some_and(|a| !a.is_empty())
            || self.affinity.pod_anti_affinity.as_ref().is_some_and(|a| !a.is_empty())
    }

    pub fn has_required_anti_affinity(&self) -> bool {
        self.affinity.pod_anti_affinity.as_ref().is_some_and(|a| !a.required.is_empty())
    }

    /// A pod owned by a DaemonSet.
    pub fn is_daemonset_pod(&self) -> bool {
        self.owner.as_ref().is_some_and(|o| o.kind.as_str() == "DaemonSet")
    }
}

/// `PodRequests` (component-helpers): sum of containers vs. max over init containers, with
/// restartable (sidecar) init containers running alongside everything after them, plus
/// overhead. `container_requests` picks real or non-zero-defaulted requests.
fn pod_requests(pod: &Pod, container_requests: impl Fn(&Container) -> Resources) -> Resources {
    let mut reqs = Resources::new();
    for c in &pod.containers {
        reqs.add(&container_requests(c));
    }
    let mut sidecars = Resources::new();
    let mut init_max = Resources::new();
    for ic in &pod.init_containers {
        let mut r = container_requests(ic);
        if ic.restartable {
            reqs.add(&r);
            sidecars.add(&r);
            r = sidecars.clone();
        } else {
            r.add(&sidecars);
        }
        init_max.max_with(&r);
    }
    reqs.max_with(&init_max);
    reqs.add(&pod.overhead);
    reqs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(cpu: Option<i64>, mem: Option<i64>, restartable: bool) -> Container {
        let mut c = Container { restartable, ..Default::default() };
        if let Some(cpu) = cpu {
            c.requests.cpu = cpu;
            c.has_cpu_request = true;
        }
        if let Some(mem) = mem {
            c.requests.memory = mem;
            c.has_memory_request = true;
        }
        c
    }

    #[test]
    fn init_containers_take_the_max_not_the_sum() {
        let mut pod = Pod::new("default", "p");
        pod.containers = vec![container(Some(100), Some(100), false), container(Some(200), Some(50), false)];
        pod.init_containers = vec![container(Some(500), Some(10), false), container(Some(100), Some(400), false)];
        pod.finish();
        assert_eq!(pod.requests().cpu, 500);
        assert_eq!(pod.requests().memory, 400);
    }

    #[test]
    fn sidecars_add_to_the_sum_and_to_later_init_containers() {
        // From the KEP-753 example: sidecar 100m, then init 200m, containers 300m.
        let mut pod = Pod::new("default", "p");
        pod.init_containers = vec![container(Some(100), None, true), container(Some(200), None, false)];
        pod.containers = vec![container(Some(300), None, false)];
        pod.finish();
        // max(300 + 100, max(100, 200 + 100)) = 400
        assert_eq!(pod.requests().cpu, 400);
        let mut pod2 = Pod::new("default", "p2");
        pod2.init_containers = vec![container(Some(100), None, true), container(Some(1000), None, false)];
        pod2.containers = vec![container(Some(300), None, false)];
        pod2.finish();
        // max(400, 1000 + 100) = 1100
        assert_eq!(pod2.requests().cpu, 1100);
    }

    #[test]
    fn overhead_is_added_after_the_max() {
        let mut pod = Pod::new("default", "p");
        pod.containers = vec![container(Some(100), Some(100), false)];
        pod.overhead.cpu = 250;
        pod.finish();
        assert_eq!(pod.requests().cpu, 350);
    }

    #[test]
    fn non_zero_defaults_apply_per_container_without_a_key() {
        let mut pod = Pod::new("default", "p");
        pod.containers =
            vec![container(None, None, false), container(Some(0), Some(0), false), container(Some(50), None, false)];
        pod.finish();
        assert_eq!(pod.requests().cpu, 50);
        assert_eq!(pod.non_zero_cpu(), 150, "100m default + explicit 0 + 50m");
        assert_eq!(pod.non_zero_memory(), 2 * DEFAULT_MEMORY_REQUEST);
        let empty = Pod::new("default", "empty").finish().clone();
        assert_eq!((empty.non_zero_cpu(), empty.non_zero_memory()), (0, 0));
    }

    #[test]
    fn host_port_conflicts() {
        let tcp = Sym::new("TCP");
        let a = HostPort { ip: HostPort::any_ip(), protocol: tcp, port: 80 };
        let b = HostPort { ip: Sym::new("10.0.0.1"), protocol: tcp, port: 80 };
        let c = HostPort { ip: Sym::new("10.0.0.2"), protocol: tcp, port: 80 };
        let udp = HostPort { ip: HostPort::any_ip(), protocol: Sym::new("UDP"), port: 80 };
        assert!(a.conflicts(&b));
        assert!(!b.conflicts(&c));
        assert!(!a.conflicts(&udp));
    }
}
