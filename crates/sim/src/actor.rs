//! Plugging other actors into the timeline: an autoscaler that provisions nodes after a delay, a
//! serverless scheduler that binds the pods of its own `schedulerName`, a chaos monkey.
//!
//! An [`Actor`] hears about what happens ([`Notice`]s, delivered after each batch of changes at
//! an instant), may set timers, and acts through [`ActorCx`]: add or remove nodes (now or after a
//! delay), bind pods the default scheduler does not handle, and write to the event log. Every
//! placement it makes goes through kubelet admission; it never re-implements scheduling — an
//! actor that wants a placement decision calls the core like everyone else.

use crate::engine::{Engine, Ev, Phase};
use crate::report::{AutoscalingReport, FargateReport};
use crate::time::Millis;
use k8s_openapi::api::core::v1::Pod as K8sPod;
use kubesched_core::Sym;
use kubesched_core::model::{Node, Pod, Taint};
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
    /// A drain (a scenario `drain` or an actor's [`ActorCx::drain_node`]) evicted every pod.
    DrainCompleted {
        node: String,
    },
    /// NodePools or node classes were applied on the timeline: indices into
    /// [`crate::Scenario::cloud`].
    CloudApplied {
        documents: Vec<usize>,
    },
}

/// A span during which something was billed at `hourly` dollars (a node from launch to
/// deletion, a Fargate pod's micro-VM), for the cost series.
#[derive(Clone, Debug, PartialEq)]
pub struct Charge {
    pub start: Millis,
    /// `None`: still running at the end.
    pub end: Option<Millis>,
    pub hourly: f64,
    /// Counts as a node the autoscaler manages (for `managedNodes` in the series).
    pub managed_node: bool,
}

/// What an actor adds to the report at the end of a run.
#[derive(Clone, Debug, Default)]
pub struct ActorOutput {
    pub autoscaling: Option<AutoscalingReport>,
    pub fargate: Option<FargateReport>,
    pub charges: Vec<Charge>,
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
    /// A timer set with [`ActorCx::set_timer`] or [`ActorCx::set_background_timer`] fired.
    fn timer(&mut self, cx: &mut ActorCx<'_, '_>, token: u64) {
        let _ = (cx, token);
    }
    /// The run is over: what the actor adds to the report.
    fn finish(&mut self, cx: &mut ActorCx<'_, '_>, out: &mut ActorOutput) {
        let _ = (cx, out);
    }
}

/// What an actor sees of a pod.
#[derive(Clone, Debug)]
pub struct PodView {
    pub key: String,
    /// The API object, as admitted.
    pub object: Arc<K8sPod>,
    pub model: Arc<Pod>,
    pub created_at: Millis,
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
            object: p.object.clone(),
            model: p.model.clone(),
            created_at: p.created_at,
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

    /// Like [`Self::set_timer`], for periodic work (a controller's poll loop): such a timer does
    /// not keep a run without a duration going.
    pub fn set_background_timer(&mut self, after: Millis, token: u64) {
        let at = self.engine.now + after;
        self.engine.push(at, Ev::ActorBackground { actor: self.actor, token });
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &crate::Scenario {
        self.engine.scenario
    }

    /// One pod per live DaemonSet: its template as the DaemonSet controller creates it, not
    /// bound (see [`crate::cloud::daemonset_pods`]).
    pub fn daemonset_pods(&self) -> Vec<Arc<Pod>> {
        let dss: Vec<&k8s_openapi::api::apps::v1::DaemonSet> =
            self.engine.ctrl.dss.iter().filter(|d| !d.deleted).map(|d| &d.obj).collect();
        crate::cloud::daemonset_pods(&dss, &self.engine.priority_classes)
    }

    /// A registered node becomes Ready: its object is replaced by `node` (whose readiness is
    /// Ready, the kubelet's not-ready taint and startup taints gone) and the node lifecycle
    /// state is cleared. False when there is no such node.
    pub fn node_ready(&mut self, node: Node) -> bool {
        let Some(ni) = self.engine.live_node_index(node.name) else { return false };
        let name = self.engine.actor_name(self.actor);
        self.engine.mark_ready(ni, node);
        if let Some(last) = self.engine.log.last_mut() {
            last.actor = Some(name);
        }
        true
    }

    /// Taints the node (`taint`, e.g. `karpenter.sh/disrupted:NoSchedule`) and drains it through
    /// the eviction API, PodDisruptionBudgets respected and refused evictions retried every 5 s,
    /// DaemonSet pods left; [`Notice::DrainCompleted`] follows. False when there is no such node.
    pub fn drain_node(&mut self, name: &str, taint: Option<Taint>) -> bool {
        let Some(ni) = Sym::lookup(name).and_then(|s| self.engine.live_node_index(s)) else { return false };
        let actor = self.engine.actor_name(self.actor);
        self.engine.start_drain(ni, None, taint, Some(actor));
        true
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

    /// Why a pending pod that the actor serves waits (shown as the pod's message in reports).
    pub fn set_pod_message(&mut self, pod: &str, message: &str) {
        if let Some(i) = self.engine.find_pod(pod) {
            self.engine.pods[i as usize].last_message = Some(message.to_string());
        }
    }

    /// Writes an entry to the event log under the actor's name.
    pub fn record(&mut self, event: &str, message: impl Into<String>) {
        self.record_about(event, None, None, message);
    }

    /// Writes an entry about a pod and/or a node to the event log under the actor's name.
    pub fn record_about(&mut self, event: &str, pod: Option<&str>, node: Option<&str>, message: impl Into<String>) {
        let mut e = self.engine.entry(event);
        e.actor = Some(self.engine.actor_name(self.actor));
        e.pod = pod.map(str::to_string);
        e.node = node.map(str::to_string);
        e.message = Some(message.into());
        self.engine.log.push(e);
    }
}
