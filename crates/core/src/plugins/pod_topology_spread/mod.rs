//! PodTopologySpread (kube-scheduler.md §4.11; `podtopologyspread/{common,filtering,scoring,
//! plugin}.go`): `DoNotSchedule` constraints filter on skew, `ScheduleAnyway` constraints score,
//! and pods without constraints get the configured default constraints.
//!
//! kube-scheduler counts matching pods per topology domain by scanning every pod on every node in
//! each PreFilter and PreScore. Here the counts come from the snapshot's incremental index
//! ([`crate::snapshot_index`]): per (namespace + selector, topology key, node eligibility) table
//! of counts per domain, maintained as pods are assumed and removed.

pub mod args;
mod common;
mod filtering;
#[cfg(test)]
mod reference;
mod scoring;
#[cfg(test)]
mod tests;

pub use args::{SYSTEM_DEFAULT_CONSTRAINTS, parse_args};
pub use common::{SpreadConstraint, default_selector};

use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, PreFilterResult, Status};
use crate::model::{Pod, TopologySpreadConstraint};
use crate::snapshot::NodeInfo;
use std::sync::Arc;

pub const NAME: &str = "PodTopologySpread";
/// `ErrReasonConstraintsNotMatch` (Unschedulable).
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints";
/// `ErrReasonNodeLabelNotMatch` (UnschedulableAndUnresolvable).
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodTopologySpread {
    /// Constraints for pods that have none (`defaultConstraints`, or the system defaults).
    pub default_constraints: Vec<TopologySpreadConstraint>,
    /// `defaultingType: System`: soft scoring then tolerates nodes missing some topology keys.
    pub system_defaulted: bool,
}

impl Default for PodTopologySpread {
    /// `defaultingType: System`.
    fn default() -> Self {
        PodTopologySpread { default_constraints: SYSTEM_DEFAULT_CONSTRAINTS.to_vec(), system_defaulted: true }
    }
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    Ok(Arc::new(parse_args(args, path)?))
}

#[derive(Clone, Default)]
struct State {
    filter: Option<filtering::PreFilterState>,
    score: Option<scoring::PreScoreState>,
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::PRE_FILTER
            | Points::FILTER
            | Points::PRE_FILTER_EXTENSIONS
            | Points::PRE_SCORE
            | Points::SCORE
            | Points::NORMALIZE
    }

    fn pre_filter(&self, cx: PodCx<'_>, state: &mut PluginState) -> PreFilterResult {
        match filtering::pre_filter(self, cx) {
            None => PreFilterResult::skip(),
            Some(s) => {
                state.set(State { filter: Some(s), score: None });
                PreFilterResult::success()
            }
        }
    }

    #[inline]
    fn filter(&self, _cx: PodCx<'_>, state: &PluginState, node: &NodeInfo) -> Status {
        match state.get::<State>().and_then(|s| s.filter.as_ref()) {
            Some(s) => s.filter(node),
            None => Status::error(format!("reading {:?} from cycleState: not found", "PreFilterPodTopologySpread")),
        }
    }

    fn add_pod(&self, cx: PodCx<'_>, state: &mut PluginState, other: &Pod, node: &NodeInfo) {
        if let Some(s) = state.get_mut::<State>().and_then(|s| s.filter.as_mut()) {
            s.update_with_pod(cx.pod, other, node, 1);
        }
    }

    fn remove_pod(&self, cx: PodCx<'_>, state: &mut PluginState, other: &Pod, node: &NodeInfo) {
        if let Some(s) = state.get_mut::<State>().and_then(|s| s.filter.as_mut()) {
            s.update_with_pod(cx.pod, other, node, -1);
        }
    }

    fn pre_score(&self, cx: PodCx<'_>, state: &mut PluginState, feasible: &[&NodeInfo]) -> Status {
        match scoring::pre_score(self, cx, feasible) {
            None => Status::skip(),
            Some(s) => {
                match state.get_mut::<State>() {
                    Some(st) => st.score = Some(s),
                    None => state.set(State { filter: None, score: Some(s) }),
                }
                Status::success()
            }
        }
    }

    #[inline]
    fn score(&self, _cx: PodCx<'_>, state: &PluginState, node: &NodeInfo) -> i64 {
        state.get::<State>().and_then(|s| s.score.as_ref()).map_or(0, |s| s.score(node))
    }

    fn score_nodes(&self, _cx: PodCx<'_>, state: &PluginState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        match state.get::<State>().and_then(|s| s.score.as_ref()) {
            Some(s) => scores.iter_mut().zip(nodes).for_each(|(out, node)| *out = s.score(node)),
            None => scores.iter_mut().for_each(|out| *out = 0),
        }
    }

    fn normalize_scores(&self, _cx: PodCx<'_>, state: &PluginState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        if let Some(s) = state.get::<State>().and_then(|s| s.score.as_ref()) {
            s.normalize(nodes, scores);
        }
    }
}
