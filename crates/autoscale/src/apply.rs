//! Applying decisions to a snapshot at once, without the lifecycle delays: for `kubesched
//! schedule` (placements on planned NodeClaims) and for tests; the simulator applies the same
//! steps on its timeline.

use crate::autoscaler::ManagedNode;
use crate::disruption::Command;
use crate::provision::{PlannedNodeClaim, Provisioning};
use kubesched_core::Sym;
use kubesched_core::model::Pod;
use kubesched_core::snapshot::{NodeId, Snapshot};
use std::sync::Arc;

fn bind(pod: &Pod, node: Sym) -> Arc<Pod> {
    let mut p = pod.clone();
    p.node_name = Some(node);
    p.nominated_node_name = None;
    Arc::new(p)
}

impl PlannedNodeClaim {
    /// Adds the node, initialized (startup taints gone), with its pods and DaemonSet pods bound.
    pub fn launch_into(&self, snapshot: &mut Snapshot) -> NodeId {
        let id = snapshot.add_node(self.initialized_node());
        let name = Sym::new(&self.name);
        for p in &self.pods {
            snapshot.add_pod(bind(p, name), id);
        }
        for ds in &self.daemonset_pods {
            let mut p = (**ds).clone();
            p.name = Sym::new(&format!("{}-{}", ds.name, self.name));
            snapshot.add_pod(bind(&p, name), id);
        }
        id
    }
}

impl Provisioning {
    /// Binds the pods placed on existing nodes and launches every planned NodeClaim
    /// (initialized at `now`); returns the new nodes' metadata.
    pub fn apply(&self, snapshot: &mut Snapshot, now: i64) -> Vec<ManagedNode> {
        for e in &self.existing {
            if let Some(id) = snapshot.node_id(Sym::new(&e.node)) {
                snapshot.add_pod(bind(&e.pod, Sym::new(&e.node)), id);
            }
        }
        self.node_claims
            .iter()
            .map(|c| {
                c.launch_into(snapshot);
                let mut m = c.managed(now);
                m.initialized_at = Some(now);
                m.last_pod_event_at = Some(now);
                m
            })
            .collect()
    }
}

impl Command {
    /// Executes the command at once: launches the replacement (initialized at `now`), moves
    /// the candidates' pods where the simulation put them, removes the candidates and their
    /// metadata. Destinations' `lastPodEvent` becomes `now`.
    pub fn apply(&self, snapshot: &mut Snapshot, managed: &mut Vec<ManagedNode>, now: i64) {
        if let Some(r) = &self.replacement {
            let mut bare = r.clone();
            bare.pods.clear();
            bare.launch_into(snapshot);
            let mut m = r.managed(now);
            m.initialized_at = Some(now);
            managed.push(m);
        }
        for (key, dest) in &self.destinations {
            let Some((ns, name)) = key.split_once('/') else { continue };
            let Some(pid) = snapshot.pod_id(Sym::new(ns), Sym::new(name)) else { continue };
            let Some(pod) = snapshot.remove_pod(pid) else { continue };
            if let Some(to) = snapshot.node_id(Sym::new(dest)) {
                snapshot.add_pod(bind(&pod, Sym::new(dest)), to);
            }
            if let Some(m) = managed.iter_mut().find(|m| &m.node_name == dest) {
                m.last_pod_event_at = Some(now);
            }
        }
        for c in &self.candidates {
            if let Some(id) = snapshot.node_id(Sym::new(c)) {
                snapshot.remove_node(id);
            }
            managed.retain(|m| &m.node_name != c);
        }
    }
}
