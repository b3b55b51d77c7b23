//! The `kubesched schedule` document: `{"pods": [ … ]}`, one entry per pod considered, in
//! decision order.

use kubesched_core::batch::{Decision, DecisionKind};
use kubesched_core::framework::Code;
use kubesched_core::schedule::NodeVerdict;
use serde::Serialize;

#[derive(Serialize, Debug, Clone, Default)]
pub struct ScheduleDocument {
    pub pods: Vec<PodEntry>,
    /// GPU allocation and fragmentation after scheduling, when the cluster has GPU nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuSummary>,
}

/// The cluster's GPUs after the decisions: what is allocated, what is idle, and how much of the
/// idle capacity the workload's typical pods cannot use (the FGD paper's fragmentation).
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GpuSummary {
    pub gpu_nodes: usize,
    pub total_gpus: f64,
    pub allocated_gpus: f64,
    pub unallocated_gpus: f64,
    /// Idle GPUs that the workload's typical pods could not use, weighted by popularity.
    pub fragmented_gpus: f64,
    /// `fragmentedGpus / unallocatedGpus` (0 when nothing is idle).
    pub fragmentation_rate: f64,
    /// How many more pods asking for 1, 2, 4 and 8 whole GPUs the free devices could hold
    /// (each size on its own).
    pub free_capacity_in_pods: std::collections::BTreeMap<String, u64>,
}

#[derive(Serialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodEntry {
    /// `namespace/name`.
    pub pod: String,
    /// The schedulerName of the profile that decided.
    pub profile: String,
    /// `Scheduled` | `Unschedulable` | `Gated` | `Preempted` | `Rejected`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// kube-scheduler's (or the kubelet's) text, when not scheduled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The kubelet's `status.reason` for a rejected bound pod (`OutOfcpu`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub feasible_nodes: usize,
    pub examined_nodes: usize,
    /// The node preemption nominated for this pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nominated_node: Option<String>,
    /// Pods evicted to make room for this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preempted: Option<Vec<String>>,
    /// On a victim: the pod it was evicted for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preempted_by: Option<String>,
    /// With `--explain`: every examined node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<NodeEntry>>,
    /// Extensions added by other consumers (Fargate sizing, planned NodeClaims…), flattened in.
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, Debug, Clone, Default)]
pub struct NodeEntry {
    pub node: String,
    pub feasible: bool,
    /// Normalized score per plugin (0–100, before weight). Absent when scoring was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<String>>,
}

impl NodeEntry {
    pub fn from_verdict(v: &NodeVerdict) -> NodeEntry {
        match v {
            NodeVerdict::Feasible { name, scores, total, .. } => NodeEntry {
                node: name.to_string(),
                feasible: true,
                scores: scores
                    .as_ref()
                    .map(|s| s.iter().map(|(p, v)| (p.to_string(), serde_json::Value::from(*v))).collect()),
                total: scores.as_ref().map(|_| *total),
                ..Default::default()
            },
            NodeVerdict::Infeasible { name, status, .. } => NodeEntry {
                node: name.to_string(),
                feasible: false,
                plugin: Some(status.plugin.to_string()),
                code: Some(
                    match status.code {
                        Code::UnschedulableAndUnresolvable => "UnschedulableAndUnresolvable",
                        Code::Unschedulable => "Unschedulable",
                        other => other.as_str(),
                    }
                    .to_string(),
                ),
                reasons: Some(status.reasons.iter().map(|r| r.to_string()).collect()),
                ..Default::default()
            },
        }
    }
}

impl PodEntry {
    pub fn from_decision(d: &Decision) -> PodEntry {
        let mut e = PodEntry {
            pod: d.pod.key(),
            profile: d.profile.to_string(),
            outcome: d.kind.outcome().to_string(),
            feasible_nodes: d.feasible_nodes,
            examined_nodes: d.examined_nodes,
            nominated_node: d.nominated_node.map(|n| n.to_string()),
            preempted: (!d.preempted.is_empty()).then(|| d.preempted.clone()),
            nodes: d.explanation.as_ref().map(|v| v.iter().map(NodeEntry::from_verdict).collect()),
            ..Default::default()
        };
        match &d.kind {
            DecisionKind::Scheduled { node } => e.node = Some(node.to_string()),
            DecisionKind::Unschedulable { message } | DecisionKind::Gated { message } => {
                e.message = Some(message.clone())
            }
            DecisionKind::Preempted { node, by } => {
                e.node = Some(node.to_string());
                e.preempted_by = Some(by.clone());
            }
            DecisionKind::Rejected { node, reason, message } => {
                e.node = Some(node.to_string());
                e.reason = Some(reason.clone());
                e.message = Some(message.clone());
            }
        }
        e
    }
}

impl ScheduleDocument {
    pub fn from_decisions(decisions: &[Decision]) -> ScheduleDocument {
        ScheduleDocument { pods: decisions.iter().map(PodEntry::from_decision).collect(), gpu: None }
    }
}
