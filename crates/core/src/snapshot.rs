//! The cluster as the scheduler sees it: nodes with their accounted pods (kube-scheduler's
//! `NodeInfo`), in node-tree order, plus namespaces and image spread.
//!
//! The snapshot is the only mutable state the scheduling core touches, and only through
//! [`Snapshot::add_pod`] (assume/bind), [`Snapshot::remove_pod`], and the node mutators. Filter
//! and score read it.

use crate::intern::Sym;
use crate::labels::Labels;
use crate::model::{HostPort, Namespace, Node, Pod, PodDisruptionBudget, WorkloadSelector};
use crate::resources::Resources;
use crate::snapshot_index::{IndexView, SnapshotIndex, namespace_labels_in};
use std::collections::HashMap;
use std::sync::Arc;

/// Index of a node in the snapshot. Stable for the life of the node.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// Index of an accounted (bound or assumed) pod in the snapshot.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct PodId(pub u32);

/// A node and everything accounted on it.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub id: NodeId,
    pub node: Arc<Node>,
    /// Sum of the real requests of the pods on the node.
    pub requested: Resources,
    /// Sum of the non-zero (100m / 200Mi defaulted) CPU and memory requests.
    pub non_zero_cpu: i64,
    pub non_zero_memory: i64,
    pub pods: Vec<PodId>,
    /// Pods with any pod affinity or anti-affinity.
    pub pods_with_affinity: Vec<PodId>,
    /// Pods with required anti-affinity.
    pub pods_with_required_anti_affinity: Vec<PodId>,
    pub used_ports: Vec<HostPort>,
    /// Used milli-GPU per GPU device (see [`crate::gpu`]).
    pub gpu_used: crate::gpu::DeviceUsage,
    /// Bumped on every change of the node or its pods.
    pub generation: u64,
}

impl NodeInfo {
    fn new(id: NodeId, node: Arc<Node>) -> NodeInfo {
        NodeInfo {
            id,
            node,
            requested: Resources::new(),
            non_zero_cpu: 0,
            non_zero_memory: 0,
            pods: Vec::new(),
            pods_with_affinity: Vec::new(),
            pods_with_required_anti_affinity: Vec::new(),
            used_ports: Vec::new(),
            gpu_used: crate::gpu::DeviceUsage::default(),
            generation: 0,
        }
    }

    #[inline]
    pub fn name(&self) -> Sym {
        self.node.name
    }

    #[inline]
    pub fn labels(&self) -> &Labels {
        &self.node.labels
    }

    /// Accounts `pod` (already stored under `id`) on this node.
    pub fn account_pod(&mut self, id: PodId, pod: &Pod) {
        self.requested.add(pod.requests());
        self.non_zero_cpu += pod.non_zero_cpu();
        self.non_zero_memory += pod.non_zero_memory();
        self.pods.push(id);
        if pod.has_pod_affinity() {
            self.pods_with_affinity.push(id);
        }
        if pod.has_required_anti_affinity() {
            self.pods_with_required_anti_affinity.push(id);
        }
        self.used_ports.extend_from_slice(pod.host_ports());
        self.generation += 1;
    }

    /// Removes `pod` (stored under `id`) from this node's accounting.
    pub fn unaccount_pod(&mut self, id: PodId, pod: &Pod) {
        self.requested.sub(pod.requests());
        self.non_zero_cpu -= pod.non_zero_cpu();
        self.non_zero_memory -= pod.non_zero_memory();
        self.pods.retain(|p| *p != id);
        self.pods_with_affinity.retain(|p| *p != id);
        self.pods_with_required_anti_affinity.retain(|p| *p != id);
        for port in pod.host_ports() {
            if let Some(i) = self.used_ports.iter().position(|p| p == port) {
                self.used_ports.swap_remove(i);
            }
        }
        self.generation += 1;
    }

    /// What is left of `allocatable` after the pods' requests.
    pub fn free(&self) -> Resources {
        let mut free = self.node.allocatable.clone();
        free.sub(&self.requested);
        free
    }
}

/// An accounted pod and the node it is on.
#[derive(Clone, Debug)]
pub struct BoundPod {
    pub pod: Arc<Pod>,
    pub node: NodeId,
    /// The GPU devices assigned at Reserve (empty for pods without GPUs).
    pub gpus: crate::gpu::GpuAssignment,
}

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    nodes: Vec<Option<NodeInfo>>,
    node_by_name: HashMap<Sym, NodeId>,
    /// kube-scheduler's node tree: zones in order of creation, nodes in insertion order.
    zones: Vec<((Sym, Sym), Vec<NodeId>)>,
    /// Live nodes in kube-scheduler's node-tree order (derived from `zones`).
    order: Vec<NodeId>,
    pods: Vec<Option<BoundPod>>,
    free_pod_slots: Vec<u32>,
    pod_by_key: HashMap<(Sym, Sym), PodId>,
    namespaces: HashMap<Sym, Namespace>,
    /// How many nodes have each image name (ImageLocality's spread factor).
    image_nodes: HashMap<Sym, u32>,
    /// Pods nominated to nodes by preemption, not yet bound.
    nominated: HashMap<NodeId, Vec<Arc<Pod>>>,
    pdbs: Vec<PodDisruptionBudget>,
    workload_selectors: Vec<WorkloadSelector>,
    /// Pod counts per selector and topology domain, kept up to date by the mutators below
    /// (InterPodAffinity, PodTopologySpread).
    index: SnapshotIndex,
}

impl Snapshot {
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    // ---- nodes ----

    /// Adds a node at the end of its zone. Returns the existing id if a node of that name exists
    /// (after replacing it, as an update).
    pub fn add_node(&mut self, node: Node) -> NodeId {
        if let Some(&id) = self.node_by_name.get(&node.name) {
            self.update_node(id, node);
            return id;
        }
        let id = NodeId(self.nodes.len() as u32);
        self.count_images(&node, 1);
        self.node_by_name.insert(node.name, id);
        self.tree_add(node.zone_key(), id);
        self.nodes.push(Some(NodeInfo::new(id, Arc::new(node))));
        self.rebuild_order();
        self.index.nodes_changed();
        id
    }

    /// Replaces a node's object (labels, taints, allocatable, unschedulable…), keeping its pods.
    pub fn update_node(&mut self, id: NodeId, node: Node) {
        let old = self.node(id).node.clone();
        self.count_images(&old, -1);
        self.count_images(&node, 1);
        let (old_zone, new_zone) = (old.zone_key(), node.zone_key());
        // The index depends on labels (domains, node affinity) and taints (inclusion policies).
        let relabelled = old.labels != node.labels || old.taints != node.taints;
        if let Some(info) = self.nodes[id.0 as usize].as_mut() {
            info.node = Arc::new(node);
            info.generation += 1;
        }
        if relabelled {
            self.index.nodes_changed();
        }
        if old_zone != new_zone {
            // kube's nodeTree.updateNode: remove from the old zone, append to the new one.
            self.tree_remove(old_zone, id);
            self.tree_add(new_zone, id);
            self.rebuild_order();
        }
    }

    /// Removes a node and every pod accounted on it; returns those pods.
    pub fn remove_node(&mut self, id: NodeId) -> Vec<Arc<Pod>> {
        let pods: Vec<PodId> = self.node(id).pods.clone();
        let removed = pods.into_iter().filter_map(|p| self.remove_pod(p)).collect();
        if let Some(info) = self.nodes[id.0 as usize].take() {
            self.count_images(&info.node, -1);
            self.node_by_name.remove(&info.node.name);
            self.tree_remove(info.node.zone_key(), id);
        }
        self.nominated.remove(&id);
        self.rebuild_order();
        self.index.nodes_changed();
        removed
    }

    fn count_images(&mut self, node: &Node, delta: i32) {
        for image in &node.images {
            for name in &image.names {
                let e = self.image_nodes.entry(*name).or_insert(0);
                *e = (*e as i32 + delta).max(0) as u32;
            }
        }
    }

    fn tree_add(&mut self, zone: (Sym, Sym), id: NodeId) {
        match self.zones.iter_mut().find(|(z, _)| *z == zone) {
            Some((_, ids)) => ids.push(id),
            None => self.zones.push((zone, vec![id])),
        }
    }

    fn tree_remove(&mut self, zone: (Sym, Sym), id: NodeId) {
        if let Some(i) = self.zones.iter().position(|(z, _)| *z == zone) {
            self.zones[i].1.retain(|n| *n != id);
            if self.zones[i].1.is_empty() {
                self.zones.remove(i);
            }
        }
    }

    /// The node-tree listing: one node from each zone in turn.
    fn rebuild_order(&mut self) {
        self.order.clear();
        let longest = self.zones.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
        for round in 0..longest {
            for (_, ids) in &self.zones {
                if let Some(&id) = ids.get(round) {
                    self.order.push(id);
                }
            }
        }
    }

    /// Live nodes in node-tree order.
    #[inline]
    pub fn order(&self) -> &[NodeId] {
        &self.order
    }

    pub fn num_nodes(&self) -> usize {
        self.order.len()
    }

    /// The node with `id`. Panics on a removed node: ids come from this snapshot.
    #[inline]
    pub fn node(&self, id: NodeId) -> &NodeInfo {
        self.nodes[id.0 as usize].as_ref().expect("node id of a removed node")
    }

    pub fn get_node(&self, id: NodeId) -> Option<&NodeInfo> {
        self.nodes.get(id.0 as usize).and_then(|n| n.as_ref())
    }

    pub fn node_id(&self, name: Sym) -> Option<NodeId> {
        self.node_by_name.get(&name).copied()
    }

    pub fn node_by_name(&self, name: Sym) -> Option<&NodeInfo> {
        self.node_id(name).map(|id| self.node(id))
    }

    /// Live nodes in node-tree order.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeInfo> + '_ {
        self.order.iter().map(|&id| self.node(id))
    }

    /// Live nodes in the order they were added.
    pub fn nodes_in_insertion_order(&self) -> impl Iterator<Item = &NodeInfo> + '_ {
        self.nodes.iter().flatten()
    }

    pub fn nodes_having_image(&self, name: Sym) -> u32 {
        self.image_nodes.get(&name).copied().unwrap_or(0)
    }

    // ---- pods ----

    /// Accounts `pod` on `node` (kube-scheduler's assume, or a pod already bound in the input).
    pub fn add_pod(&mut self, pod: Arc<Pod>, node: NodeId) -> PodId {
        let id = match self.free_pod_slots.pop() {
            Some(slot) => PodId(slot),
            None => {
                self.pods.push(None);
                PodId(self.pods.len() as u32 - 1)
            }
        };
        if let Some(info) = self.nodes[node.0 as usize].as_mut() {
            info.account_pod(id, &pod);
            self.index.pod_added(&pod, info, &self.namespaces);
        }
        self.pod_by_key.insert((pod.namespace, pod.name), id);
        self.pods[id.0 as usize] = Some(BoundPod { pod, node, gpus: Default::default() });
        id
    }

    /// Removes an accounted pod; returns it.
    pub fn remove_pod(&mut self, id: PodId) -> Option<Arc<Pod>> {
        self.release_gpus(id);
        let bound = self.pods.get_mut(id.0 as usize)?.take()?;
        if let Some(info) = self.nodes[bound.node.0 as usize].as_mut() {
            info.unaccount_pod(id, &bound.pod);
            self.index.pod_removed(&bound.pod, info, &self.namespaces);
        }
        if self.pod_by_key.get(&(bound.pod.namespace, bound.pod.name)) == Some(&id) {
            self.pod_by_key.remove(&(bound.pod.namespace, bound.pod.name));
        }
        self.free_pod_slots.push(id.0);
        Some(bound.pod)
    }

    /// Records that pod `id` uses `milli` on each of `devices` of its node. Fails, changing
    /// nothing, when a device does not exist or lacks the capacity.
    pub fn assign_gpus(&mut self, id: PodId, devices: &[u8], milli: u16) -> Result<(), String> {
        let Some(Some(bound)) = self.pods.get(id.0 as usize) else {
            return Err(format!("pod id {} is not accounted", id.0));
        };
        let Some(info) = self.nodes.get_mut(bound.node.0 as usize).and_then(|n| n.as_mut()) else {
            return Err("the pod's node is gone".into());
        };
        let count = crate::gpu::device_count(info);
        for (k, &d) in devices.iter().enumerate() {
            let d = d as usize;
            if d >= count || devices[..k].contains(&(d as u8)) {
                return Err(format!("device {d} does not exist on node {} or is listed twice", info.name()));
            }
            let free = crate::gpu::MILLI.saturating_sub(info.gpu_used.used(d));
            if free < milli {
                return Err(format!("device {d} of node {} has {free} milli-GPU free, {milli} requested", info.name()));
            }
        }
        for &d in devices {
            info.gpu_used.add(d as usize, milli);
        }
        info.generation += 1;
        if let Some(Some(bound)) = self.pods.get_mut(id.0 as usize) {
            bound.gpus = crate::gpu::GpuAssignment { devices: devices.iter().copied().collect(), milli };
        }
        Ok(())
    }

    /// Frees the GPU devices assigned to pod `id` (Unreserve; also done by [`Self::remove_pod`]).
    pub fn release_gpus(&mut self, id: PodId) {
        let Some(Some(bound)) = self.pods.get_mut(id.0 as usize) else { return };
        if bound.gpus.is_empty() {
            return;
        }
        let gpus = std::mem::take(&mut bound.gpus);
        if let Some(info) = self.nodes.get_mut(bound.node.0 as usize).and_then(|n| n.as_mut()) {
            for &d in &gpus.devices {
                info.gpu_used.sub(d as usize, gpus.milli);
            }
            info.generation += 1;
        }
    }

    #[inline]
    pub fn pod(&self, id: PodId) -> &BoundPod {
        self.pods[id.0 as usize].as_ref().expect("pod id of a removed pod")
    }

    pub fn get_pod(&self, id: PodId) -> Option<&BoundPod> {
        self.pods.get(id.0 as usize).and_then(|p| p.as_ref())
    }

    pub fn pod_id(&self, namespace: Sym, name: Sym) -> Option<PodId> {
        self.pod_by_key.get(&(namespace, name)).copied()
    }

    /// All accounted pods.
    pub fn pods(&self) -> impl Iterator<Item = (PodId, &BoundPod)> + '_ {
        self.pods.iter().enumerate().filter_map(|(i, p)| p.as_ref().map(|p| (PodId(i as u32), p)))
    }

    pub fn num_pods(&self) -> usize {
        self.pod_by_key.len()
    }

    // ---- namespaces ----

    pub fn add_namespace(&mut self, ns: Namespace) {
        self.namespaces.insert(ns.name, ns);
        self.index.namespaces_changed();
    }

    pub fn namespace(&self, name: Sym) -> Option<&Namespace> {
        self.namespaces.get(&name)
    }

    /// Labels of a namespace; a namespace that was never declared has none (plus the
    /// `kubernetes.io/metadata.name` label the API server always sets).
    pub fn namespace_labels(&self, name: Sym) -> Labels {
        namespace_labels_in(&self.namespaces, name)
    }

    /// Declared namespaces by name.
    pub fn namespaces_map(&self) -> &HashMap<Sym, Namespace> {
        &self.namespaces
    }

    /// Locked access to the pod-count index (see [`crate::snapshot_index`]).
    pub fn index(&self) -> IndexView<'_> {
        self.index.view(self)
    }

    pub fn namespaces(&self) -> impl Iterator<Item = &Namespace> + '_ {
        self.namespaces.values()
    }

    // ---- budgets and selectors ----

    pub fn set_pdbs(&mut self, pdbs: Vec<PodDisruptionBudget>) {
        self.pdbs = pdbs;
    }

    pub fn pdbs(&self) -> &[PodDisruptionBudget] {
        &self.pdbs
    }

    pub fn set_workload_selectors(&mut self, selectors: Vec<WorkloadSelector>) {
        self.workload_selectors = selectors;
    }

    /// Services, ReplicationControllers, ReplicaSets and StatefulSets, for default spreading.
    pub fn workload_selectors(&self) -> &[WorkloadSelector] {
        &self.workload_selectors
    }

    // ---- nominations (preemption) ----

    /// Records that `pod` is nominated to run on `node` (after preempting victims there).
    pub fn nominate(&mut self, pod: Arc<Pod>, node: NodeId) {
        self.clear_nomination(pod.namespace, pod.name);
        self.nominated.entry(node).or_default().push(pod);
    }

    pub fn clear_nomination(&mut self, namespace: Sym, name: Sym) {
        for pods in self.nominated.values_mut() {
            pods.retain(|p| !(p.namespace == namespace && p.name == name));
        }
    }

    /// Pods nominated to `node`.
    pub fn nominated_pods(&self, node: NodeId) -> &[Arc<Pod>] {
        self.nominated.get(&node).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn has_nominations(&self) -> bool {
        self.nominated.values().any(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, zone: &str) -> Node {
        let mut n = Node::new(name);
        if !zone.is_empty() {
            n.labels.insert(Sym::ZONE, Sym::new(zone));
        }
        n
    }

    #[test]
    fn node_tree_order_round_robins_zones() {
        let mut s = Snapshot::new();
        for (name, zone) in [("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("c1", "c"), ("b2", "b")] {
            s.add_node(node(name, zone));
        }
        let names: Vec<_> = s.nodes().map(|n| n.name().as_str()).collect();
        assert_eq!(names, ["a1", "b1", "c1", "a2", "b2", "a3"]);
        let id = s.node_id(Sym::new("b1")).unwrap();
        s.remove_node(id);
        let names: Vec<_> = s.nodes().map(|n| n.name().as_str()).collect();
        assert_eq!(names, ["a1", "b2", "c1", "a2", "a3"]);
    }

    #[test]
    fn pods_are_accounted_and_unaccounted() {
        let mut s = Snapshot::new();
        let n = s.add_node(node("n1", ""));
        let mut pod = Pod::new("default", "p");
        pod.containers.push(crate::model::Container {
            has_cpu_request: true,
            requests: Resources { cpu: 300, ..Default::default() },
            ..Default::default()
        });
        pod.finish();
        let id = s.add_pod(Arc::new(pod), n);
        assert_eq!(s.node(n).requested.cpu, 300);
        assert_eq!(s.node(n).non_zero_memory, crate::model::DEFAULT_MEMORY_REQUEST);
        assert_eq!(s.pod_id(Sym::new("default"), Sym::new("p")), Some(id));
        s.remove_pod(id);
        assert_eq!(s.node(n).requested.cpu, 0);
        assert!(s.node(n).pods.is_empty());
        assert_eq!(s.num_pods(), 0);
    }
}
