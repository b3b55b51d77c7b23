//! TaintToleration: NoSchedule/NoExecute taints filter, PreferNoSchedule taints score.

use super::helper::default_normalize_score;
use crate::args::{ArgValue, FieldError};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::intern::Sym;
use crate::model::{TaintEffect, Toleration, first_untolerated, tolerated};
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::NodeInfo;
use std::sync::Arc;

pub const NAME: &str = "TaintToleration";

pub struct TaintToleration;

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    super::no_args(args, path)?;
    Ok(Arc::new(TaintToleration))
}

/// The pod's tolerations that can tolerate PreferNoSchedule taints (effect empty or PNS).
#[derive(Clone)]
struct PreScoreState(Vec<Toleration>);

/// `node(s) had untolerated taint {key: value}` (v1.30–v1.34 wording).
///
/// Rejected nodes are the hot path of a filter pass over a tainted cluster, so each distinct
/// text is built once and kept (interned: the set of taints is bounded by the input).
pub fn untolerated_reason(taint: &crate::model::Taint) -> &'static str {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<(Sym, Sym), &'static str>> = Default::default();
    }
    CACHE.with(|c| {
        *c.borrow_mut()
            .entry((taint.key, taint.value))
            .or_insert_with(|| Sym::new(&format!("node(s) had untolerated taint {}", taint.describe())).as_str())
    })
}

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::FILTER | Points::PRE_SCORE | Points::SCORE | Points::NORMALIZE
    }

    fn filter(&self, cx: PodCx<'_>, _state: &PluginState, node: &NodeInfo) -> Status {
        let taints = &node.node.taints;
        if taints.is_empty() {
            return Status::success();
        }
        match first_untolerated(taints, &cx.pod.tolerations, &[TaintEffect::NoSchedule, TaintEffect::NoExecute]) {
            None => Status::success(),
            Some(t) => Status::unresolvable(untolerated_reason(t)),
        }
    }

    fn pre_score(&self, cx: PodCx<'_>, state: &mut PluginState, _feasible: &[&NodeInfo]) -> Status {
        let tolerations = cx
            .pod
            .tolerations
            .iter()
            .filter(|t| t.effect.is_none_or(|e| e == TaintEffect::PreferNoSchedule))
            .cloned()
            .collect();
        state.set(PreScoreState(tolerations));
        Status::success()
    }

    fn score(&self, _cx: PodCx<'_>, state: &PluginState, node: &NodeInfo) -> i64 {
        let tolerations = state.get::<PreScoreState>().map(|s| s.0.as_slice()).unwrap_or(&[]);
        node.node
            .taints
            .iter()
            .filter(|t| t.effect == TaintEffect::PreferNoSchedule && !tolerated(tolerations, t))
            .count() as i64
    }

    fn normalize_scores(&self, _cx: PodCx<'_>, _state: &PluginState, _nodes: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize_score(MAX_NODE_SCORE, true, scores);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::intern::Sym;
    use crate::model::{Node, Pod, Taint, TolerationOp};
    use crate::snapshot::Snapshot;

    fn setup(taints: Vec<Taint>) -> (Snapshot, crate::snapshot::NodeId) {
        let mut s = Snapshot::new();
        let mut n = Node::new("n1");
        n.taints = taints;
        let id = s.add_node(n);
        (s, id)
    }

    fn toleration(key: &str, value: &str, effect: Option<TaintEffect>) -> Toleration {
        Toleration {
            key: Sym::new(key),
            operator: TolerationOp::Equal,
            value: Sym::new(value),
            effect,
            toleration_seconds: None,
        }
    }

    #[test]
    fn untolerated_no_schedule_taint_is_unresolvable_with_kube_text() {
        let (s, id) = setup(vec![Taint::new("dedicated", "gpu", TaintEffect::NoSchedule)]);
        let pod = Pod::new("default", "p");
        let st = TaintToleration.filter(PodCx { pod: &pod, snapshot: &s }, &PluginState::default(), s.node(id));
        assert_eq!(st.code, Code::UnschedulableAndUnresolvable);
        assert_eq!(st.message(), "node(s) had untolerated taint {dedicated: gpu}");
    }

    #[test]
    fn toleration_without_effect_tolerates_any_effect() {
        let (s, id) = setup(vec![Taint::new("dedicated", "gpu", TaintEffect::NoExecute)]);
        let mut pod = Pod::new("default", "p");
        pod.tolerations.push(toleration("dedicated", "gpu", None));
        assert!(
            TaintToleration.filter(PodCx { pod: &pod, snapshot: &s }, &PluginState::default(), s.node(id)).is_success()
        );
    }

    #[test]
    fn prefer_no_schedule_never_filters_but_scores() {
        let (s, id) = setup(vec![
            Taint::new("a", "1", TaintEffect::PreferNoSchedule),
            Taint::new("b", "1", TaintEffect::PreferNoSchedule),
        ]);
        let mut pod = Pod::new("default", "p");
        let cx = PodCx { pod: &pod, snapshot: &s };
        assert!(TaintToleration.filter(cx, &PluginState::default(), s.node(id)).is_success());
        let mut state = PluginState::default();
        TaintToleration.pre_score(cx, &mut state, &[]);
        assert_eq!(TaintToleration.score(cx, &state, s.node(id)), 2);
        // A NoSchedule-only toleration does not count for PreferNoSchedule scoring.
        pod.tolerations.push(toleration("a", "1", Some(TaintEffect::NoSchedule)));
        pod.tolerations.push(toleration("b", "1", Some(TaintEffect::PreferNoSchedule)));
        let cx = PodCx { pod: &pod, snapshot: &s };
        TaintToleration.pre_score(cx, &mut state, &[]);
        assert_eq!(TaintToleration.score(cx, &state, s.node(id)), 1);
        let mut scores = [1, 0, 2];
        TaintToleration.normalize_scores(cx, &state, &[], &mut scores);
        assert_eq!(scores, [50, 100, 0]);
    }
}
