//! Scheduling a batch of pods the way `kubesched schedule` presents them: pods already bound are
//! accounted first (with kubelet admission for those not yet running), gated pods are held at
//! PreEnqueue, and the rest are scheduled one at a time in queue order, each decision visible
//! to the next. Preemption evicts its victims and retries the preemptor on its nominated node.

use crate::admission::kubelet_admit;
use crate::framework::Status;
use crate::intern::Sym;
use crate::model::{Pod, PodPhase};
use crate::plugins::default_preemption::after_preemption;
use crate::schedule::{NodeVerdict, Outcome, Scheduler};
use crate::snapshot::Snapshot;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub enum DecisionKind {
    Scheduled {
        node: Sym,
    },
    /// No node fits (the FitError text), or the cycle failed (its error text).
    Unschedulable {
        message: String,
    },
    /// Held by a PreEnqueue plugin (`waiting for scheduling gates: [...]`).
    Gated {
        message: String,
    },
    /// Evicted by preemption to make room for `by` (`namespace/name`).
    Preempted {
        node: Sym,
        by: String,
    },
    /// A pod bound in the input that the kubelet refuses (`OutOfcpu`, `NodeAffinity`…).
    Rejected {
        node: Sym,
        reason: String,
        message: String,
    },
}

impl DecisionKind {
    /// The `outcome` field of the output contract.
    pub fn outcome(&self) -> &'static str {
        match self {
            DecisionKind::Scheduled { .. } => "Scheduled",
            DecisionKind::Unschedulable { .. } => "Unschedulable",
            DecisionKind::Gated { .. } => "Gated",
            DecisionKind::Preempted { .. } => "Preempted",
            DecisionKind::Rejected { .. } => "Rejected",
        }
    }
}

/// One pod's outcome.
#[derive(Clone, Debug)]
pub struct Decision {
    pub pod: Arc<Pod>,
    /// The profile (schedulerName) that decided.
    pub profile: Sym,
    pub kind: DecisionKind,
    pub feasible_nodes: usize,
    pub examined_nodes: usize,
    /// Per examined node, when the scheduler explains.
    pub explanation: Option<Vec<NodeVerdict>>,
    /// The node preemption nominated for this pod.
    pub nominated_node: Option<Sym>,
    /// Pods evicted for this pod (`namespace/name`).
    pub preempted: Vec<String>,
}

impl Decision {
    /// A decision with nothing examined yet (filled in by the caller).
    pub fn new(pod: Arc<Pod>, profile: Sym, kind: DecisionKind) -> Decision {
        Decision {
            pod,
            profile,
            kind,
            feasible_nodes: 0,
            examined_nodes: 0,
            explanation: None,
            nominated_node: None,
            preempted: Vec::new(),
        }
    }
}

/// Accounts pods that already have `spec.nodeName`. Running pods are taken as they are; pods
/// the kubelet has not admitted yet are checked as it would. Returns the rejections.
pub fn account_bound_pods(snapshot: &mut Snapshot, pods: impl IntoIterator<Item = Arc<Pod>>) -> Vec<Decision> {
    let mut rejected = Vec::new();
    for pod in pods {
        let Some(node_name) = pod.node_name else { continue };
        if pod.phase.is_terminal() {
            continue;
        }
        let Some(node) = snapshot.node_id(node_name) else {
            let kind = DecisionKind::Rejected {
                node: node_name,
                reason: "NodeNotFound".into(),
                message: format!("node {:?} not found", node_name.as_str()),
            };
            rejected.push(Decision::new(pod.clone(), pod.scheduler_name, kind));
            continue;
        };
        if pod.phase == PodPhase::Pending
            && let Err(r) = kubelet_admit(&pod, snapshot.node(node))
        {
            let kind = DecisionKind::Rejected { node: node_name, reason: r.reason, message: r.message };
            rejected.push(Decision::new(pod.clone(), pod.scheduler_name, kind));
            continue;
        }
        let id = snapshot.add_pod(pod, node);
        crate::gpu::allocate_like_device_manager(snapshot, id);
    }
    rejected
}

/// Schedules `pending` (pods without `spec.nodeName`) whose schedulerName matches a profile;
/// pods for other schedulers are left alone. Returns the decisions in the order they were made.
pub fn schedule_pending(scheduler: &mut Scheduler, snapshot: &mut Snapshot, pending: Vec<Arc<Pod>>) -> Vec<Decision> {
    let mut decisions = Vec::new();
    let mut queue: Vec<Queued> = Vec::new();
    for (seq, pod) in pending.into_iter().enumerate() {
        if pod.node_name.is_some() || pod.phase.is_terminal() {
            continue;
        }
        let Some(profile) = scheduler.profile_index(pod.scheduler_name) else { continue };
        if let Err(status) = scheduler.pre_enqueue(profile, &pod) {
            decisions.push(Decision::new(
                pod.clone(),
                pod.scheduler_name,
                DecisionKind::Gated { message: status.message() },
            ));
            continue;
        }
        queue.push(Queued { pod, profile, seq: seq as u64, preempted: None });
    }
    sort_queue(scheduler, &mut queue);
    let mut next = 0;
    while next < queue.len() {
        let Queued { pod, profile, seq, preempted } = queue[next].clone();
        next += 1;
        let result = scheduler.schedule(snapshot, profile, &pod);
        let mut decision =
            Decision::new(pod.clone(), pod.scheduler_name, DecisionKind::Unschedulable { message: String::new() });
        decision.feasible_nodes = result.feasible_nodes;
        decision.examined_nodes = result.examined_nodes;
        decision.nominated_node = pod.nominated_node_name;
        decision.preempted = preempted.clone().unwrap_or_default();
        match &result.outcome {
            Outcome::Scheduled { node } => match scheduler.assume(snapshot, profile, pod.clone(), *node, &result.state)
            {
                Ok(id) => {
                    crate::gpu::allocate_like_device_manager(snapshot, id);
                    decision.kind = DecisionKind::Scheduled { node: snapshot.node(*node).name() };
                }
                Err(status) => decision.kind = DecisionKind::Unschedulable { message: reserve_failure(&status) },
            },
            // One preemption per pod: kube-scheduler would keep retrying; a batch decides once.
            Outcome::Unschedulable { post_filter: Some(pf), .. } if preempted.is_none() => {
                let node_name = snapshot.node(pf.nominated_node).name();
                let mut evicted = Vec::new();
                let mut evicted_pods = Vec::new();
                for &victim in &pf.victims {
                    if let Some(v) = snapshot.remove_pod(victim) {
                        evicted.push(v.key());
                        evicted_pods.push(v.clone());
                        decisions.push(Decision::new(
                            v.clone(),
                            v.scheduler_name,
                            DecisionKind::Preempted { node: node_name, by: pod.key() },
                        ));
                    }
                }
                let mut nominated = (*pod).clone();
                nominated.nominated_node_name = Some(node_name);
                let nominated = Arc::new(nominated);
                snapshot.nominate(nominated.clone(), pf.nominated_node);
                // Lower-priority pods nominated there lose their nomination; input PDB statuses
                // are charged for the evictions (kube's prepareCandidate).
                let cleared = after_preemption(snapshot, &pod, pf.nominated_node, &evicted_pods);
                for q in queue[next..].iter_mut().filter(|q| cleared.contains(&(q.pod.namespace, q.pod.name))) {
                    let mut p = (*q.pod).clone();
                    p.nominated_node_name = None;
                    q.pod = Arc::new(p);
                }
                // Back into the queue at its place: it is retried before anything it outranks.
                let entry = Queued { pod: nominated, profile, seq, preempted: Some(evicted) };
                let at = (next..queue.len())
                    .find(|&i| scheduler.queue_less(&entry.pod, entry.seq, &queue[i].pod, queue[i].seq))
                    .unwrap_or(queue.len());
                queue.insert(at, entry);
                continue;
            }
            _ => decision.kind = DecisionKind::Unschedulable { message: result.message().unwrap_or_default() },
        }
        decision.explanation = result.explanation;
        decisions.push(decision);
    }
    decisions
}

fn reserve_failure(status: &Status) -> String {
    format!("running Reserve plugin {:?}: {}", status.plugin, status.message())
}

/// A pod waiting in the active queue.
#[derive(Clone)]
struct Queued {
    pod: Arc<Pod>,
    profile: usize,
    /// Order of arrival (PrioritySort's tie-breaker).
    seq: u64,
    /// `Some` once preemption ran for this pod: the pods it evicted.
    preempted: Option<Vec<String>>,
}

fn sort_queue(scheduler: &Scheduler, queue: &mut [Queued]) {
    queue.sort_by(|a, b| {
        if scheduler.queue_less(&a.pod, a.seq, &b.pod, b.seq) {
            std::cmp::Ordering::Less
        } else if scheduler.queue_less(&b.pod, b.seq, &a.pod, a.seq) {
            std::cmp::Ordering::Greater
        } else {
            a.seq.cmp(&b.seq)
        }
    });
}
