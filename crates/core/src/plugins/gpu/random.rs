//! Random (FGD artifact baseline): PreScore picks one feasible node uniformly at random; it
//! scores 100 and every other node 0. Shares go to a random device that fits. Seeded
//! (`args.seed`, default 0) and deterministic for a given sequence of pods.

use super::reserve_devices;
use crate::args::{ArgValue, FieldError, read};
use crate::framework::{Plugin, PluginState, PodCx, Points, Status};
use crate::gpu::select_random;
use crate::model::Pod;
use crate::rng::Rng;
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::{NodeId, NodeInfo, PodId, Snapshot};
use std::sync::{Arc, Mutex};

pub const NAME: &str = "Random";

pub struct Random {
    rng: Mutex<Rng>,
}

impl Random {
    pub fn new(seed: u64) -> Random {
        Random { rng: Mutex::new(Rng::new(seed)) }
    }

    fn with_rng<T>(&self, f: impl FnOnce(&mut Rng) -> T) -> T {
        let mut guard = match self.rng.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    read::known_keys(args, &["seed", "apiVersion", "kind"], path)?;
    let seed = read::int(args.get("seed"), &format!("{path}.seed"))?.unwrap_or(0);
    if seed < 0 {
        return Err(FieldError::invalid(format!("{path}.seed"), seed, "must be non-negative"));
    }
    Ok(Arc::new(Random::new(seed as u64)))
}

#[derive(Clone)]
struct Chosen(NodeId);

impl Plugin for Random {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::PRE_SCORE | Points::SCORE | Points::RESERVE
    }

    fn pre_score(&self, _cx: PodCx<'_>, state: &mut PluginState, feasible: &[&NodeInfo]) -> Status {
        if feasible.is_empty() {
            return Status::skip();
        }
        let i = self.with_rng(|r| r.below(feasible.len() as u64)) as usize;
        state.set(Chosen(feasible[i].id));
        Status::success()
    }

    fn score(&self, _cx: PodCx<'_>, state: &PluginState, node: &NodeInfo) -> i64 {
        match state.get::<Chosen>() {
            Some(c) if c.0 == node.id => MAX_NODE_SCORE,
            _ => 0,
        }
    }

    fn reserve(&self, pod: &Pod, _state: &PluginState, snapshot: &mut Snapshot, node: NodeId, pod_id: PodId) -> Status {
        reserve_devices(pod, snapshot, node, pod_id, |req, free| self.with_rng(|r| select_random(req, free, r)))
    }

    fn unreserve(&self, _pod: &Pod, snapshot: &mut Snapshot, _node: NodeId, pod_id: PodId) {
        snapshot.release_gpus(pod_id);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    #[test]
    fn one_random_node_scores_100_and_the_same_seed_repeats() {
        let mut s = Snapshot::new();
        for i in 0..5 {
            s.add_node(gpu_node(&format!("n{i}"), 8000, 1, "T4"));
        }
        let pod = cpu_pod("p", 100);
        let nodes: Vec<&NodeInfo> = s.nodes().collect();
        let picks = |seed: u64| -> Vec<NodeId> {
            let r = Random::new(seed);
            (0..20)
                .map(|_| {
                    let mut st = PluginState::default();
                    let cx = PodCx { pod: &pod, snapshot: &s };
                    assert!(r.pre_score(cx, &mut st, &nodes).is_success());
                    let scores: Vec<i64> = nodes.iter().map(|n| r.score(cx, &st, n)).collect();
                    assert_eq!(scores.iter().filter(|&&x| x == 100).count(), 1);
                    assert_eq!(scores.iter().sum::<i64>(), 100);
                    nodes[scores.iter().position(|&x| x == 100).unwrap()].id
                })
                .collect()
        };
        let a = picks(7);
        assert_eq!(a, picks(7));
        assert_ne!(a, picks(8));
        assert!(a.iter().collect::<std::collections::BTreeSet<_>>().len() >= 3, "{a:?}");
    }
}
