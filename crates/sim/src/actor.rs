//! Plugging other actors into the timeline: an autoscaler that provisions nodes after a delay, a
//! serverless scheduler that binds the pods of its own `schedulerName`, a chaos monkey.
//!
//! An [`Actor`] hears about what happens ([`Notice`]s, delivered after each batch of changes at
//! an instant), may set timers, and acts through [`ActorCx`]: add or remove nodes (now or after a
//! delay), bind pods the default scheduler does not handle, and write to the event log. Every
//! placement it makes goes through kubelet admission; it never re-implements scheduling — an
//! actor that wants a placement decision calls the core like everyone else.

use crate::engine::{Engine, Ev, Phase};
use crate::time::Millis;
use kubesched_core::Sym;
use kubesched_core::model::{Node, Pod};
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

/// Something that happened, for actors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A pod was created; `queued` is false when no profile of the scheduler serves its
    /// `schedulerName` (it waits for another scheduler).
    PodCreated {
        pod: String,
        scheduler_name: String,
        queued: bool,
    },
    /// A scheduling cycle failed for the pod.
    PodUnschedulable {
        pod: String,
        message: String,
    },
    PodBound {
        pod: String,
        node: String,
    },
    PodDeleted {
        pod: String,
    },
    NodeAdded {
        node: String,
    },
    NodeRemoved {
        node: String,
    },
    NodeFailed {
        node: String,
    },
    NodeRecovered {
        node: String,
    },
}

/// A participant of the simulation besides the scheduler and the built-in controllers.
pub trait Actor {
    fn name(&self) -> &str;
    /// Called once before the first event.
    fn start(&mut self, cx: &mut ActorCx<'_, '_>) {
        let _ = cx;
    }
    fn notice(&mut self, cx: &mut ActorCx<'_, '_>, notice: &Notice) {
        let _ = (cx, notice);
    }
    /// A timer set with [`ActorCx::set_timer`] fired.
    fn timer(&mut self, cx: &mut ActorCx<'_, '_>, token: u64) {
        let _ = (cx, token);
    }
}

/// What an actor sees of a pod.
#[derive(Clone, Debug)]
pub struct PodView {
    pub key: String,
    pub model: Arc<Pod>,
    pub bound: bool,
    pub node: Option<String>,
    /// Served by a profile of the simulated scheduler.
    pub queued: bool,
    /// The last scheduling failure, if any.
    pub message: Option<String>,
}

/// An actor's handle on the simulation.
pub struct ActorCx<'a, 's> {
    engine: &'a mut Engine<'s>,
    actor: usize,
}

impl<'a, 's> ActorCx<'a, 's> {
    pub(crate) fn new(engine: &'a mut Engine<'s>, actor: usize) -> ActorCx<'a, 's> {
        ActorCx { engine, actor }
    }

    pub fn now(&self) -> Millis {
        self.engine.now
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.engine.snapshot
    }

    fn view(&self, i: usize) -> PodView {
        let p = &self.engine.pods[i];
        PodView {
            key: p.key.clone(),
            model: p.model.clone(),
            bound: p.node.is_some(),
            node: p.node.map(|n| n.to_string()),
            queued: p.profile.is_some(),
            message: p.last_message.clone(),
        }
    }

    pub fn pod(&self, key: &str) -> Option<PodView> {
        self.engine.find_pod(key).map(|i| self.view(i as usize))
    }

    /// Live pods not bound to a node, in creation order.
    pub fn pending_pods(&self) -> Vec<PodView> {
        (0..self.engine.pods.len())
            .filter(|&i| {
                let p = &self.engine.pods[i];
                p.is_live() && p.phase == Phase::Pending
            })
            .map(|i| self.view(i))
            .collect()
    }

    /// Calls [`Actor::timer`] with `token` after `after`.
    pub fn set_timer(&mut self, after: Millis, token: u64) {
        let at = self.engine.now + after;
        self.engine.push(at, Ev::ActorTimer { actor: self.actor, token });
    }

    /// Adds (or updates) a node now.
    pub fn add_node(&mut self, node: Node) {
        self.engine.add_node_model(node, true);
        let name = self.engine.actor_name(self.actor);
        if let Some(last) =
            self.engine.log.iter_mut().rev().find(|e| e.event == "NodeAdded" || e.event == "NodeUpdated")
        {
            last.actor = Some(name);
        }
    }

    /// Adds a node after `after` (a cloud provider booting an instance).
    pub fn add_node_after(&mut self, after: Millis, node: Node) {
        let at = self.engine.now + after;
        self.engine.push(at, Ev::ActorAddNode { actor: self.actor, node: Box::new(node) });
    }

    /// Deletes a node (its pods are deleted with it). False when there is no such node.
    pub fn remove_node(&mut self, name: &str) -> bool {
        let Some(s) = Sym::lookup(name) else { return false };
        let Some(ni) = self.engine.nodes.iter().position(|n| n.name == s && n.id.is_some()) else { return false };
        self.engine.remove_node_at(ni);
        true
    }

    /// Binds a pending pod that the simulated scheduler does not serve (another
    /// `schedulerName`) to a node; the kubelet's admission decides as for any bound pod.
    pub fn bind(&mut self, pod: &str, node: &str) -> Result<(), String> {
        let Some(i) = self.engine.find_pod(pod) else { return Err(format!("pod {pod} not found")) };
        let rec = &self.engine.pods[i as usize];
        if rec.node.is_some() || !rec.is_live() {
            return Err(format!("pod {pod} is not pending"));
        }
        if rec.profile.is_some() {
            return Err(format!("pod {pod} is served by the simulated scheduler"));
        }
        let name = self.engine.actor_name(self.actor);
        self.engine.bind_direct(i, Sym::new(node), Some(name))
    }

    /// Writes an entry to the event log under the actor's name.
    pub fn record(&mut self, event: &str, message: impl Into<String>) {
        let mut e = self.engine.entry(event);
        e.actor = Some(self.engine.actor_name(self.actor));
        e.message = Some(message.into());
        self.engine.log.push(e);
    }
}
