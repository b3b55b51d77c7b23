//! NodeResourcesBalancedAllocation: prefer nodes whose resource fractions stay close to each
//! other after placing the pod (v1.30–v1.35 formula: `(1 − std) × 100`, truncated).

use super::helper::{ResourceSpec, parse_resources};
use super::node_resources_fit::{allocatable_and_requested, pod_request_list};
use crate::args::{ArgValue, FieldError, read};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::intern::Sym;
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::NodeInfo;
use std::sync::Arc;

pub const NAME: &str = "NodeResourcesBalancedAllocation";

pub struct BalancedAllocation {
    pub resources: Vec<ResourceSpec>,
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    read::known_keys(args, &["resources", "apiVersion", "kind"], path)?;
    let resources = parse_resources(args.get("resources"), &format!("{path}.resources"))?;
    for (i, r) in resources.iter().enumerate() {
        if r.weight != 1 {
            return Err(FieldError::invalid(format!("{path}.resources[{i}].weight"), r.weight, "must be 1"));
        }
    }
    Ok(Arc::new(BalancedAllocation { resources }))
}

#[derive(Clone)]
struct ScoreState(Vec<i64>);

/// `balancedResourceScorer` over (requested, allocatable) pairs; resources with allocatable 0
/// are skipped. Same floating-point operations, in the same order, as kube-scheduler.
#[inline]
pub fn balanced_score(pairs: impl IntoIterator<Item = (i64, i64)>) -> i64 {
    let mut fractions: smallvec::SmallVec<[f64; 8]> = smallvec::SmallVec::new();
    let mut total = 0.0;
    for (req, alloc) in pairs {
        if alloc == 0 {
            continue;
        }
        let f = (req as f64 / alloc as f64).min(1.0);
        total += f;
        fractions.push(f);
    }
    let std = match fractions.len() {
        2 => ((fractions[0] - fractions[1]) / 2.0).abs(),
        n if n > 2 => {
            let mean = total / n as f64;
            (fractions.iter().map(|f| (f - mean) * (f - mean)).sum::<f64>() / n as f64).sqrt()
        }
        _ => 0.0,
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

/// [`balanced_score`] for exactly two resources, without collecting the fractions.
#[inline]
fn balanced_score_two(req_a: i64, alloc_a: i64, req_b: i64, alloc_b: i64) -> i64 {
    if alloc_a == 0 || alloc_b == 0 {
        // One resource or none: the standard deviation is 0.
        return MAX_NODE_SCORE;
    }
    let fa = (req_a as f64 / alloc_a as f64).min(1.0);
    let fb = (req_b as f64 / alloc_b as f64).min(1.0);
    ((1.0 - ((fa - fb) / 2.0).abs()) * MAX_NODE_SCORE as f64) as i64
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::PRE_SCORE | Points::SCORE
    }

    fn pre_score(&self, cx: PodCx<'_>, state: &mut PluginState, _feasible: &[&NodeInfo]) -> Status {
        let requests = pod_request_list(cx.pod, &self.resources, true);
        // v1.33+: best-effort pods are not balanced (kubernetes#129138).
        if requests.iter().all(|&r| r == 0) {
            return Status::skip();
        }
        state.set(ScoreState(requests));
        Status::success()
    }

    fn score(&self, cx: PodCx<'_>, state: &PluginState, node: &NodeInfo) -> i64 {
        let mut score = [0];
        self.score_nodes(cx, state, &[node], &mut score);
        score[0]
    }

    fn score_nodes(&self, cx: PodCx<'_>, state: &PluginState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        let owned;
        let requests = match state.get::<ScoreState>() {
            Some(s) => &s.0,
            None => {
                owned = pod_request_list(cx.pod, &self.resources, true);
                &owned
            }
        };
        // The default resources, cpu and memory, without the generic per-resource lookups.
        if let ([cpu, memory], [c, m]) = (self.resources.as_slice(), requests.as_slice())
            && cpu.name == Sym::CPU
            && memory.name == Sym::MEMORY
        {
            for (s, node) in scores.iter_mut().zip(nodes) {
                let alloc = &node.node.allocatable;
                *s = balanced_score_two(node.requested.cpu + c, alloc.cpu, node.requested.memory + m, alloc.memory);
            }
            return;
        }
        for (s, node) in scores.iter_mut().zip(nodes) {
            let pairs: Vec<(i64, i64)> = self
                .resources
                .iter()
                .zip(requests)
                .map(|(spec, &req)| {
                    let (alloc, requested) = allocatable_and_requested(node, spec.name, req, true);
                    (requested, alloc)
                })
                .collect();
            *s = balanced_score(pairs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Container, Node, Pod};
    use crate::resources::Resources;
    use crate::snapshot::Snapshot;

    #[test]
    fn two_resources_use_half_the_difference() {
        // cpu 3000/4000 = 0.75, memory 5000/10000 = 0.5 → std 0.125 → 87.
        assert_eq!(balanced_score([(3000, 4000), (5000, 10000)]), 87);
        assert_eq!(balanced_score([(1, 2), (1, 2)]), 100);
        // Over-committed fractions are capped at 1.
        assert_eq!(balanced_score([(8000, 4000), (0, 10000)]), 50);
        // Resources a node does not have are skipped.
        assert_eq!(balanced_score([(3000, 4000), (5, 0), (5000, 10000)]), 87);
        // Three resources: population standard deviation.
        let s = balanced_score([(1, 4), (2, 4), (3, 4)]);
        assert_eq!(
            s,
            ((1.0 - (((0.25f64 - 0.5).powi(2) + 0.0 + (0.75f64 - 0.5).powi(2)) / 3.0).sqrt()) * 100.0) as i64
        );
    }

    #[test]
    fn the_two_resource_fast_path_agrees_with_the_general_formula() {
        for (ra, aa, rb, ab) in
            [(3000, 4000, 5000, 10000), (0, 0, 5, 10), (8000, 4000, 0, 10000), (1, 3, 2, 7), (7, 0, 0, 0)]
        {
            assert_eq!(balanced_score_two(ra, aa, rb, ab), balanced_score([(ra, aa), (rb, ab)]), "{ra}/{aa} {rb}/{ab}");
        }
    }

    #[test]
    fn best_effort_pods_skip() {
        let s = Snapshot::new();
        let p = Pod::new("default", "be").finish().clone();
        let plugin = BalancedAllocation { resources: super::super::helper::default_resources() };
        assert!(plugin.pre_score(PodCx { pod: &p, snapshot: &s }, &mut PluginState::default(), &[]).is_skip());
    }

    #[test]
    fn uses_real_requests_not_defaults() {
        let mut s = Snapshot::new();
        let mut n = Node::new("n1");
        n.allocatable = Resources { cpu: 4000, memory: 10000, pods: 110, ..Default::default() };
        let id = s.add_node(n);
        let mut p = Pod::new("default", "p");
        p.containers.push(Container {
            has_cpu_request: true,
            requests: Resources { cpu: 3000, ..Default::default() },
            ..Default::default()
        });
        p.finish();
        let plugin = BalancedAllocation { resources: super::super::helper::default_resources() };
        let cx = PodCx { pod: &p, snapshot: &s };
        let mut st = PluginState::default();
        plugin.pre_score(cx, &mut st, &[]);
        // cpu 0.75, memory 0 (no 200Mi default) → std 0.375 → 62.
        assert_eq!(plugin.score(cx, &st, s.node(id)), 62);
    }
}
