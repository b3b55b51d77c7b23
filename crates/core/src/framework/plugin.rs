//! The plugin interface: one trait with a default for every extension point, so a plugin
//! implements only what it uses and declares which points it implements in [`Plugin::points`]
//! (what `multiPoint` expands to).

use super::status::Status;
use crate::intern::Sym;
use crate::model::Pod;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use std::any::Any;
use std::fmt;
use std::ops::BitOr;

/// A set of extension points.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Hash)]
pub struct Points(u16);

impl Points {
    pub const NONE: Points = Points(0);
    pub const QUEUE_SORT: Points = Points(1);
    pub const PRE_ENQUEUE: Points = Points(1 << 1);
    pub const PRE_FILTER: Points = Points(1 << 2);
    pub const FILTER: Points = Points(1 << 3);
    pub const POST_FILTER: Points = Points(1 << 4);
    pub const PRE_SCORE: Points = Points(1 << 5);
    pub const SCORE: Points = Points(1 << 6);
    pub const RESERVE: Points = Points(1 << 7);
    pub const PERMIT: Points = Points(1 << 8);
    pub const PRE_BIND: Points = Points(1 << 9);
    pub const BIND: Points = Points(1 << 10);
    pub const POST_BIND: Points = Points(1 << 11);
    /// Score plugins with a NormalizeScore extension.
    pub const NORMALIZE: Points = Points(1 << 12);
    /// PreFilter plugins with AddPod/RemovePod extensions.
    pub const PRE_FILTER_EXTENSIONS: Points = Points(1 << 13);

    pub fn contains(self, other: Points) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Points {
    type Output = Points;
    fn bitor(self, rhs: Points) -> Points {
        Points(self.0 | rhs.0)
    }
}

/// Per-pod, per-plugin state computed in PreFilter/PreScore and read in Filter/Score
/// (kube-scheduler's `CycleState` entries). Must be cloneable: preemption clones it to try
/// removing pods from a node.
pub trait StateData: Any + Send + Sync {
    fn clone_box(&self) -> Box<dyn StateData>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Clone + Send + Sync> StateData for T {
    fn clone_box(&self) -> Box<dyn StateData> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// One plugin's slot in the cycle state.
#[derive(Default)]
pub struct PluginState(Option<Box<dyn StateData>>);

impl PluginState {
    pub fn set<T: StateData>(&mut self, value: T) {
        self.0 = Some(Box::new(value));
    }

    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.0.as_ref().and_then(|b| (**b).as_any().downcast_ref())
    }

    pub fn get_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.0.as_mut().and_then(|b| (**b).as_any_mut().downcast_mut())
    }

    pub fn clear(&mut self) {
        self.0 = None;
    }
}

impl Clone for PluginState {
    fn clone(&self) -> Self {
        PluginState(self.0.as_ref().map(|b| (**b).clone_box()))
    }
}

impl fmt::Debug for PluginState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "PluginState(..)" } else { "PluginState(empty)" })
    }
}

/// What a plugin sees of the pod being scheduled.
#[derive(Clone, Copy)]
pub struct PodCx<'a> {
    pub pod: &'a Pod,
    pub snapshot: &'a Snapshot,
}

/// The result of PreFilter: a status and, optionally, the only nodes worth filtering.
#[derive(Clone, Debug)]
pub struct PreFilterResult {
    pub status: Status,
    /// `Some` restricts filtering to these node names (kube's `PreFilterResult.NodeNames`).
    pub node_names: Option<Vec<Sym>>,
}

impl PreFilterResult {
    pub fn success() -> PreFilterResult {
        PreFilterResult { status: Status::success(), node_names: None }
    }
    pub fn skip() -> PreFilterResult {
        PreFilterResult { status: Status::skip(), node_names: None }
    }
    pub fn status(status: Status) -> PreFilterResult {
        PreFilterResult { status, node_names: None }
    }
}

/// A PostFilter decision: the node to nominate and the pods to evict there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostFilterResult {
    pub nominated_node: NodeId,
    pub victims: Vec<PodId>,
}

/// What a PostFilter plugin (preemption) gets: everything needed to re-run the filters.
pub struct PostFilterCx<'a> {
    pub pod: &'a Pod,
    pub snapshot: &'a Snapshot,
    pub profile: &'a super::Profile,
    pub state: &'a super::CycleState,
    /// The status of every node that was examined and failed.
    pub statuses: &'a [(NodeId, Status)],
    pub rng: &'a mut crate::rng::Rng,
}

pub trait Plugin: Send + Sync + 'static {
    /// The name used in configuration and output (`NodeResourcesFit`).
    fn name(&self) -> &'static str;

    /// The extension points this plugin implements.
    fn points(&self) -> Points;

    /// QueueSort: true when `a` should be scheduled before `b`.
    fn less(&self, a: &Pod, a_seq: u64, b: &Pod, b_seq: u64) -> bool {
        let _ = (a, b);
        a_seq < b_seq
    }

    /// PreEnqueue: a non-success status keeps the pod out of the active queue (gated).
    fn pre_enqueue(&self, pod: &Pod) -> Status {
        let _ = pod;
        Status::success()
    }

    fn pre_filter(&self, cx: PodCx<'_>, state: &mut PluginState) -> PreFilterResult {
        let _ = (cx, state);
        PreFilterResult::success()
    }

    fn filter(&self, cx: PodCx<'_>, state: &PluginState, node: &NodeInfo) -> Status {
        let _ = (cx, state, node);
        Status::success()
    }

    /// PreFilterExtensions.AddPod: update the PreFilter state as if `other` ran on `node`.
    fn add_pod(&self, cx: PodCx<'_>, state: &mut PluginState, other: &Pod, node: &NodeInfo) {
        let _ = (cx, state, other, node);
    }

    /// PreFilterExtensions.RemovePod.
    fn remove_pod(&self, cx: PodCx<'_>, state: &mut PluginState, other: &Pod, node: &NodeInfo) {
        let _ = (cx, state, other, node);
    }

    fn post_filter(&self, cx: &mut PostFilterCx<'_>) -> (Option<PostFilterResult>, Status) {
        let _ = cx;
        (None, Status::unschedulable(""))
    }

    /// PreScore over the feasible nodes; `Skip` means Score is not called and scores 0.
    fn pre_score(&self, cx: PodCx<'_>, state: &mut PluginState, feasible: &[&NodeInfo]) -> Status {
        let _ = (cx, state, feasible);
        Status::success()
    }

    fn score(&self, cx: PodCx<'_>, state: &PluginState, node: &NodeInfo) -> i64 {
        let _ = (cx, state, node);
        0
    }

    /// Score for every feasible node at once (`scores[i]` for `nodes[i]`). The default calls
    /// [`Plugin::score`] per node; hot plugins override it to read their state once.
    fn score_nodes(&self, cx: PodCx<'_>, state: &PluginState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        for (s, node) in scores.iter_mut().zip(nodes) {
            *s = self.score(cx, state, node);
        }
    }

    /// NormalizeScore over the scores of the feasible nodes (same order as `nodes`).
    fn normalize_scores(&self, cx: PodCx<'_>, state: &PluginState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        let _ = (cx, state, nodes, scores);
    }

    /// Reserve: the pod has been assumed on `node` in `snapshot`; plugins that hold per-node
    /// state (device assignment) record it here.
    fn reserve(&self, pod: &Pod, state: &PluginState, snapshot: &mut Snapshot, node: NodeId, pod_id: PodId) -> Status {
        let _ = (pod, state, snapshot, node, pod_id);
        Status::success()
    }

    fn unreserve(&self, pod: &Pod, snapshot: &mut Snapshot, node: NodeId, pod_id: PodId) {
        let _ = (pod, snapshot, node, pod_id);
    }
}
