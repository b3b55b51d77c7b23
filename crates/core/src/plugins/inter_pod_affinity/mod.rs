//! InterPodAffinity (kube-scheduler.md §4.10; `interpodaffinity/{plugin,filtering,scoring}.go`):
//! required pod affinity and anti-affinity filter, including the symmetric rule (existing pods'
//! required anti-affinity), preferred terms and existing pods' terms score.
//!
//! kube-scheduler rebuilds its topology counters by scanning every pod on every node in every
//! PreFilter and PreScore. Here the counters come from the snapshot's incremental index
//! ([`crate::snapshot_index`]): per-domain counts of the pods matching each term, and per-domain
//! counts of existing pods' terms grouped by identical term. A cycle costs O(terms), and Filter
//! and Score are a label lookup and a hash probe per term.

mod filtering;
#[cfg(test)]
mod reference;
mod scoring;
#[cfg(test)]
mod tests;

use crate::args::{ArgValue, FieldError, read};
use crate::framework::{Plugin, PluginState, PodCx, Points, PreFilterResult, Status};
use crate::model::Pod;
use crate::snapshot::NodeInfo;
use std::sync::Arc;

pub const NAME: &str = "InterPodAffinity";
/// `ErrReasonAffinityRulesNotMatch` (UnschedulableAndUnresolvable).
pub const ERR_REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// `ErrReasonAntiAffinityRulesNotMatch` (Unschedulable).
pub const ERR_REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
/// `ErrReasonExistingAntiAffinityRulesNotMatch` (Unschedulable).
pub const ERR_REASON_EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
/// `InterPodAffinityArgs.hardPodAffinityWeight` default (v1 defaults).
pub const DEFAULT_HARD_POD_AFFINITY_WEIGHT: i32 = 1;
/// Valid range of `hardPodAffinityWeight` (`validateHardPodAffinityWeight`).
pub const MAX_HARD_POD_AFFINITY_WEIGHT: i64 = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterPodAffinity {
    /// Score weight of existing pods' required affinity terms that the incoming pod matches.
    pub hard_pod_affinity_weight: i32,
    /// Skip scoring when the incoming pod has no preferred terms of its own.
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinity {
    fn default() -> Self {
        InterPodAffinity {
            hard_pod_affinity_weight: DEFAULT_HARD_POD_AFFINITY_WEIGHT,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    Ok(Arc::new(parse_args(args, path)?))
}

/// Parses and validates `InterPodAffinityArgs` with v1 defaulting.
pub fn parse_args(args: &ArgValue, path: &str) -> Result<InterPodAffinity, FieldError> {
    read::known_keys(
        args,
        &["hardPodAffinityWeight", "ignorePreferredTermsOfExistingPods", "apiVersion", "kind"],
        path,
    )?;
    let weight_path = format!("{path}.hardPodAffinityWeight");
    let weight =
        read::int(args.get("hardPodAffinityWeight"), &weight_path)?.unwrap_or(DEFAULT_HARD_POD_AFFINITY_WEIGHT as i64);
    if !(0..=MAX_HARD_POD_AFFINITY_WEIGHT).contains(&weight) {
        return Err(FieldError::invalid(
            weight_path,
            weight,
            format!("not in valid range [0, {MAX_HARD_POD_AFFINITY_WEIGHT}]"),
        ));
    }
    let ignore = read::bool(
        args.get("ignorePreferredTermsOfExistingPods"),
        &format!("{path}.ignorePreferredTermsOfExistingPods"),
    )?
    .unwrap_or(false);
    Ok(InterPodAffinity { hard_pod_affinity_weight: weight as i32, ignore_preferred_terms_of_existing_pods: ignore })
}

/// The plugin's cycle state: PreFilter's counters, then PreScore's scores.
#[derive(Clone, Default)]
struct State {
    filter: Option<filtering::PreFilterState>,
    score: Option<scoring::PreScoreState>,
}

impl Plugin for InterPodAffinity {
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
        match filtering::pre_filter(cx) {
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
            None => Status::error(format!("reading {:?} from cycleState: not found", "PreFilterInterPodAffinity")),
        }
    }

    fn add_pod(&self, cx: PodCx<'_>, state: &mut PluginState, other: &Pod, node: &NodeInfo) {
        if let Some(s) = state.get_mut::<State>().and_then(|s| s.filter.as_mut()) {
            s.update_with_pod(cx, other, node, 1);
        }
    }

    fn remove_pod(&self, cx: PodCx<'_>, state: &mut PluginState, other: &Pod, node: &NodeInfo) {
        if let Some(s) = state.get_mut::<State>().and_then(|s| s.filter.as_mut()) {
            s.update_with_pod(cx, other, node, -1);
        }
    }

    fn pre_score(&self, cx: PodCx<'_>, state: &mut PluginState, _feasible: &[&NodeInfo]) -> Status {
        match scoring::pre_score(self, cx) {
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

    fn normalize_scores(&self, _cx: PodCx<'_>, state: &PluginState, _nodes: &[&NodeInfo], scores: &mut [i64]) {
        if state.get::<State>().and_then(|s| s.score.as_ref()).is_some() {
            scoring::normalize(scores);
        }
    }
}
