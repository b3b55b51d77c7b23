//! The simulator's output contract (`-o json|yaml`) and the tables people read.
//!
//! `SimulationReport` — one run:
//! ```text
//! apiVersion: kubesched.io/v1alpha1
//! kind: SimulationReport
//! scenario, configuration, seed, end, endSeconds
//! summary:        counts, scheduling latency (queue → bind) percentiles, allocation at the end
//! fragmentation:  how many pods of 1/2/4/8 GPUs and 1/2/4/8 CPUs the free capacity still holds
//! events:         the log, in order: {at, time, event, …}; scheduling decisions carry the
//!                 `kubesched schedule` PodEntry fields (pod, profile, outcome, node, message,
//!                 feasibleNodes, examinedNodes, nominatedNode, preempted, preemptedBy) plus attempt
//! pods:           every pod's final state
//! nodes:          every node's final state and utilization
//! series:         samples every `sampleInterval`: pending, unschedulable, gated, running,
//!                 allocation %, GPU/CPU slots
//! warnings
//! ```
//! `SimulationComparison` (`--compare`): both reports, the same metrics side by side, and the
//! pods whose final placement differs. Fields are only ever added.

use kubesched_report::schedule::PodEntry;
use serde::Serialize;
use std::collections::BTreeMap;

pub const REPORT_KIND: &str = "SimulationReport";
pub const COMPARISON_KIND: &str = "SimulationComparison";

/// One entry of the event log.
#[derive(Serialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// Seconds since the start.
    pub at: f64,
    /// The same, as a duration (`5m30s`).
    pub time: String,
    /// `Scheduling` for scheduling decisions; `PodCreated`, `PodEvicted`, `NodeFailed`… otherwise.
    pub event: String,
    /// A scheduling decision, in the `kubesched schedule` contract's shape.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub decision: Option<PodEntry>,
    /// Which attempt of this pod the decision was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The controller or object concerned (`Deployment default/web`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The plugged-in actor that acted (autoscaler, serverless scheduler…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

impl LogEntry {
    /// The pod a log entry concerns, decision or not.
    pub fn pod_key(&self) -> Option<&str> {
        self.decision.as_ref().map(|d| d.pod.as_str()).or(self.pod.as_deref())
    }

    /// The node, decision or not.
    pub fn node_name(&self) -> Option<&str> {
        self.decision.as_ref().and_then(|d| d.node.as_deref()).or(self.node.as_deref())
    }

    /// The outcome of a decision (`Scheduled`, `Unschedulable`, `Gated`, `Preempted`, `Rejected`).
    pub fn outcome(&self) -> Option<&str> {
        self.decision.as_ref().map(|d| d.outcome.as_str())
    }
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    /// Pods bound.
    pub count: usize,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub resource: String,
    /// Sum of requests on Ready nodes, in the resource's unit (cores for cpu, GiB for memory).
    pub requested: f64,
    pub allocatable: f64,
    pub percent: f64,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub pods_created: usize,
    /// Bindings made (a pod re-created after an eviction counts again).
    pub pods_scheduled: usize,
    pub scheduling_attempts: usize,
    pub unschedulable_attempts: usize,
    pub pods_running: usize,
    /// Not bound at the end (unschedulable, backing off, gated or waiting for another scheduler).
    pub pods_pending: usize,
    pub pods_unschedulable: usize,
    pub pods_gated: usize,
    pub pods_succeeded: usize,
    pub pods_evicted: usize,
    pub pods_preempted: usize,
    pub pods_deleted: usize,
    /// Pending pods at the end by whole GPUs requested (`"0"` for none).
    pub pending_by_gpus: BTreeMap<String, usize>,
    pub nodes: usize,
    pub nodes_ready: usize,
    pub nodes_cordoned: usize,
    /// Queue (or gate removal) to bind, in seconds.
    pub latency: Latency,
    pub allocation: Vec<Allocation>,
    /// Mean GPU allocation over the samples, in %.
    pub mean_gpu_allocation: f64,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Fragmentation {
    pub free_gpus: i64,
    /// Pods of `size` whole GPUs that the free GPUs of Ready, schedulable nodes can still hold.
    pub gpu_slots: BTreeMap<String, i64>,
    pub free_cpu_cores: f64,
    /// Pods of `size` cores that the free CPU can still hold.
    pub cpu_slots: BTreeMap<String, i64>,
    /// GPU nodes by free GPUs: `{"0": 5, "2": 3}`.
    pub gpu_nodes_by_free: BTreeMap<String, usize>,
    /// The FGD paper's fragmentation at the end (only when the cluster has GPUs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuFragmentation>,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodState {
    pub pod: String,
    /// `Pending` | `Running` | `Succeeded` | `Failed` | `Deleted`.
    pub phase: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The last scheduling message (why it is pending).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub attempts: u32,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeState {
    pub node: String,
    /// `Ready` | `NotReady` | `Unreachable` | `Deleted`.
    pub status: String,
    pub cordoned: bool,
    pub pods: usize,
    pub cpu_percent: f64,
    pub memory_percent: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus_used: Option<i64>,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    pub at: f64,
    pub time: String,
    pub pending: usize,
    pub unschedulable: usize,
    pub gated: usize,
    pub running: usize,
    pub succeeded: usize,
    pub nodes_ready: usize,
    /// Requested / allocatable on Ready nodes, in %.
    pub allocation: BTreeMap<String, f64>,
    pub gpu_slots: BTreeMap<String, i64>,
    pub cpu_slots: BTreeMap<String, i64>,
    /// $/hour of the nodes the autoscaler launched and the Fargate pods at that instant (only
    /// when an autoscaler or Fargate takes part).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hourly_cost: Option<f64>,
    /// Nodes the autoscaler launched that exist at that instant (in flight included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_nodes: Option<usize>,
    /// The FGD paper's GPU fragmentation at that instant (only when the cluster has GPUs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_fragmentation: Option<GpuFragmentation>,
}

/// Idle GPUs and the part of them the workload's typical pods cannot use (Weng et al., ATC'23:
/// node fragmentation against the popularity-weighted typical task shapes, summed).
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GpuFragmentation {
    pub unallocated_gpus: f64,
    pub fragmented_gpus: f64,
    /// `fragmentedGpus / unallocatedGpus` (0 when nothing is idle).
    pub fragmentation_rate: f64,
}

/// What the run cost: the autoscaler's nodes (from launch to deletion, per second) and the
/// Fargate pods (per second, one-minute minimum), in dollars.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CostSummary {
    pub total: f64,
    pub hourly_at_end: f64,
    pub peak_hourly: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fargate: Option<f64>,
}

/// One NodeClaim of the run.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeClaimState {
    pub name: String,
    pub node_pool: String,
    pub instance_type: String,
    pub capacity_type: String,
    pub zone: String,
    pub hourly_price: f64,
    /// When the provisioner (or a consolidation replacement) created it, and the lifecycle.
    pub created: String,
    pub launched: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
    /// Why it went: `emptiness`, `single-node consolidation`, `expired`…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_because: Option<String>,
    /// Pods planned onto it when it was created.
    pub planned_pods: usize,
    /// Why this instance type (the launch decision over the candidates).
    pub reason: String,
    /// The candidates sent to the launch, cheapest first (at most 10 shown).
    pub instance_type_options: Vec<String>,
    pub cost: f64,
}

/// A disruption decision and what became of it.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DisruptionRecord {
    pub at: f64,
    pub time: String,
    pub method: String,
    pub candidates: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    pub savings_per_hour: f64,
    /// `executed`, or why validation dropped it.
    pub outcome: String,
}

/// The autoscaler's part of the report.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalingReport {
    pub node_pools: Vec<String>,
    pub auto_mode: bool,
    pub nodes_launched: usize,
    pub nodes_deleted: usize,
    pub nodes_at_end: usize,
    pub peak_nodes: usize,
    pub hourly_cost_at_end: f64,
    pub total_cost: f64,
    /// Launched instance types, most frequent first.
    pub instance_types: Vec<TypeCount>,
    pub node_claims: Vec<NodeClaimState>,
    pub disruptions: Vec<DisruptionRecord>,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TypeCount {
    pub instance_type: String,
    pub count: usize,
}

/// One Fargate pod's node and bill.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FargatePodState {
    pub pod: String,
    pub profile: String,
    pub capacity_provisioned: String,
    pub node: String,
    pub zone: String,
    pub created: String,
    /// When its node registered and the pod was bound (after the provisioning delay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
    pub billed_seconds: u64,
    pub hourly_cost: f64,
    pub cost: f64,
}

/// A pod fargate-scheduler refused (it stays Pending).
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FargateRefusal {
    pub pod: String,
    pub profile: String,
    pub reason: String,
    pub message: String,
}

/// Fargate's part of the report.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FargateReport {
    pub region: String,
    pub pods: Vec<FargatePodState>,
    pub refused: Vec<FargateRefusal>,
    pub total_cost: f64,
}

#[derive(Serialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub api_version: String,
    pub kind: String,
    pub scenario: String,
    pub configuration: String,
    pub seed: u64,
    pub end: String,
    pub end_seconds: f64,
    pub summary: Summary,
    pub fragmentation: Fragmentation,
    pub events: Vec<LogEntry>,
    pub pods: Vec<PodState>,
    pub nodes: Vec<NodeState>,
    pub series: Vec<Sample>,
    /// Every node's state at the scenario's `checkpoints`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<Checkpoint>,
    /// With an autoscaler or Fargate: what the run cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<AutoscalingReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fargate: Option<FargateReport>,
    pub warnings: Vec<String>,
}

/// The nodes at one of the scenario's checkpoints (after everything due at that instant).
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    pub at: f64,
    pub time: String,
    pub nodes: Vec<NodeState>,
}

/// A metric side by side.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub metric: String,
    pub a: serde_json::Value,
    pub b: serde_json::Value,
}

/// A pod whose final state differs between the two runs.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct PlacementDiff {
    pub pod: String,
    /// The node, or the phase when the pod is not on a node (`Pending`, `Succeeded`, `absent`).
    pub a: String,
    pub b: String,
}

#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub api_version: String,
    pub kind: String,
    pub scenario: String,
    pub seed: u64,
    pub configurations: [String; 2],
    pub metrics: Vec<MetricRow>,
    pub placed_differently: Vec<PlacementDiff>,
    pub a: Report,
    pub b: Report,
}

fn where_is(p: &PodState) -> String {
    match (&p.node, p.phase.as_str()) {
        (Some(n), "Running") => n.clone(),
        // A deleted pod: how it ended (Completed, Preempted, TaintManagerEviction…).
        (node, "Deleted") => {
            let how = p.reason.clone().unwrap_or_else(|| "Deleted".into());
            match node {
                Some(n) => format!("{how} ({n})"),
                None => how,
            }
        }
        (Some(n), phase) => format!("{phase} ({n})"),
        (None, phase) => phase.to_string(),
    }
}

/// The rows both tables and the comparison document show.
pub fn metric_rows(r: &Report) -> Vec<(String, serde_json::Value)> {
    let s = &r.summary;
    let mut rows: Vec<(String, serde_json::Value)> = vec![
        ("pods created".into(), s.pods_created.into()),
        ("pods scheduled (bindings)".into(), s.pods_scheduled.into()),
        ("running at end".into(), s.pods_running.into()),
        ("pending at end".into(), s.pods_pending.into()),
        ("  unschedulable".into(), s.pods_unschedulable.into()),
        ("  gated".into(), s.pods_gated.into()),
    ];
    for (gpus, n) in &s.pending_by_gpus {
        if gpus != "0" {
            rows.push((format!("  pending {gpus}-GPU pods"), (*n).into()));
        }
    }
    rows.extend([
        ("succeeded".into(), s.pods_succeeded.into()),
        ("evicted".into(), s.pods_evicted.into()),
        ("preempted".into(), s.pods_preempted.into()),
        ("scheduling attempts".into(), s.scheduling_attempts.into()),
        ("  unschedulable attempts".into(), s.unschedulable_attempts.into()),
        ("latency p50 (s)".into(), s.latency.p50.into()),
        ("latency p99 (s)".into(), s.latency.p99.into()),
        ("latency max (s)".into(), s.latency.max.into()),
    ]);
    for a in &s.allocation {
        rows.push((format!("{} allocated at end (%)", a.resource), a.percent.into()));
    }
    if r.fragmentation.gpu_slots.values().any(|&v| v > 0)
        || r.summary.allocation.iter().any(|a| a.resource == "nvidia.com/gpu")
    {
        rows.push(("mean GPU allocation (%)".into(), s.mean_gpu_allocation.into()));
        rows.push(("free GPUs at end".into(), r.fragmentation.free_gpus.into()));
        if let Some(g) = &r.fragmentation.gpu {
            rows.push(("  of them fragmented (FGD metric)".into(), g.fragmented_gpus.into()));
            rows.push(("  fragmentation rate (%)".into(), ((g.fragmentation_rate * 1000.0).round() / 10.0).into()));
        }
        for (size, n) in sorted_sizes(&r.fragmentation.gpu_slots) {
            rows.push((format!("  room for {size}-GPU pods"), n.into()));
        }
    }
    rows.push(("free CPU cores at end".into(), r.fragmentation.free_cpu_cores.into()));
    for (size, n) in sorted_sizes(&r.fragmentation.cpu_slots) {
        rows.push((format!("  room for {size}-CPU pods"), n.into()));
    }
    rows.push(("nodes Ready / total".into(), format!("{}/{}", s.nodes_ready, s.nodes).into()));
    if let Some(a) = &r.autoscaling {
        rows.push(("nodes launched by the autoscaler".into(), a.nodes_launched.into()));
        rows.push(("  deleted (consolidated, expired)".into(), a.nodes_deleted.into()));
        rows.push(("  at end".into(), a.nodes_at_end.into()));
        rows.push(("  peak".into(), a.peak_nodes.into()));
    }
    if let Some(f) = &r.fargate {
        rows.push(("Fargate pods (nodes)".into(), f.pods.len().into()));
        rows.push(("  refused by Fargate".into(), f.refused.len().into()));
    }
    if let Some(c) = &r.cost {
        rows.push(("cost ($)".into(), dollars(c.total).into()));
        rows.push(("$/hour at end".into(), dollars(c.hourly_at_end).into()));
        rows.push(("peak $/hour".into(), dollars(c.peak_hourly).into()));
    }
    rows
}

/// Dollars as text with four decimals (`12.3456`).
fn dollars(x: f64) -> String {
    format!("{x:.4}")
}

fn sorted_sizes(m: &BTreeMap<String, i64>) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
    v.sort_by_key(|(k, _)| k.parse::<u64>().unwrap_or(u64::MAX));
    v
}

/// Builds the comparison of two runs of the same scenario.
pub fn compare(a: Report, b: Report) -> Comparison {
    let ra = metric_rows(&a);
    let rb = metric_rows(&b);
    let mut metrics = Vec::new();
    for (name, va) in &ra {
        let vb = rb.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or(serde_json::Value::Null);
        metrics.push(MetricRow { metric: name.trim().to_string(), a: va.clone(), b: vb });
    }
    for (name, vb) in &rb {
        if !ra.iter().any(|(n, _)| n == name) {
            metrics.push(MetricRow { metric: name.trim().to_string(), a: serde_json::Value::Null, b: vb.clone() });
        }
    }
    let pa: BTreeMap<&str, &PodState> = a.pods.iter().map(|p| (p.pod.as_str(), p)).collect();
    let pb: BTreeMap<&str, &PodState> = b.pods.iter().map(|p| (p.pod.as_str(), p)).collect();
    let mut keys: Vec<&str> = pa.keys().chain(pb.keys()).copied().collect();
    keys.sort();
    keys.dedup();
    let mut placed_differently = Vec::new();
    for k in keys {
        let wa = pa.get(k).map(|p| where_is(p)).unwrap_or_else(|| "absent".into());
        let wb = pb.get(k).map(|p| where_is(p)).unwrap_or_else(|| "absent".into());
        // Pods deleted in both runs (evicted, replaced) are history, not placement.
        let gone = |r: &BTreeMap<&str, &PodState>| r.get(k).is_none_or(|p| p.phase == "Deleted");
        if wa != wb && !(gone(&pa) && gone(&pb)) {
            placed_differently.push(PlacementDiff { pod: k.to_string(), a: wa, b: wb });
        }
    }
    // Pods placed in one run and pending in the other first, then those present in only one
    // run, then those on different nodes.
    placed_differently.sort_by_key(|d| {
        let pending = |w: &str| w == "Pending";
        let running = |r: &BTreeMap<&str, &PodState>| r.get(d.pod.as_str()).is_some_and(|p| p.phase == "Running");
        let rank = if pending(&d.a) != pending(&d.b) {
            0
        } else if !running(&pa) || !running(&pb) {
            1
        } else {
            2
        };
        (rank, d.pod.clone())
    });
    Comparison {
        api_version: crate::scenario::API_VERSION.into(),
        kind: COMPARISON_KIND.into(),
        scenario: a.scenario.clone(),
        seed: a.seed,
        configurations: [a.configuration.clone(), b.configuration.clone()],
        metrics,
        placed_differently,
        a,
        b,
    }
}

mod tables {
    use comfy_table::presets::NOTHING;
    use comfy_table::{CellAlignment, ContentArrangement, Table};

    pub fn table(header: &[&str]) -> Table {
        let mut t = Table::new();
        t.load_style(NOTHING)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(150)
            .set_header(header.to_vec());
        t
    }

    pub fn right(t: &mut Table, columns: &[usize]) {
        for &c in columns {
            if let Some(col) = t.column_mut(c) {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "-".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.1}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// The events worth a line in a person's timeline: everything but individual successful
/// bindings, which are summed up per instant.
fn timeline_lines(r: &Report, limit: usize) -> (Vec<[String; 4]>, usize) {
    let mut lines: Vec<[String; 4]> = Vec::new();
    let mut i = 0;
    let events = &r.events;
    while i < events.len() {
        let e = &events[i];
        if e.outcome() == Some("Scheduled") {
            // Group consecutive bindings at the same instant.
            let mut j = i;
            let mut by_node: BTreeMap<&str, usize> = BTreeMap::new();
            while j < events.len() && events[j].outcome() == Some("Scheduled") && events[j].time == e.time {
                *by_node.entry(events[j].node_name().unwrap_or("?")).or_default() += 1;
                j += 1;
            }
            let n = j - i;
            let (object, details) = if n == 1 {
                (e.pod_key().unwrap_or_default().to_string(), format!("→ {}", e.node_name().unwrap_or_default()))
            } else {
                let nodes: Vec<String> = by_node.iter().take(6).map(|(k, v)| format!("{k} ×{v}")).collect();
                let more =
                    if by_node.len() > 6 { format!(", … {} more nodes", by_node.len() - 6) } else { String::new() };
                (format!("{n} pods"), format!("→ {}{more}", nodes.join(", ")))
            };
            lines.push([e.time.clone(), "Scheduled".into(), object, details]);
            i = j;
            continue;
        }
        if e.event == "PodCreated" && e.object.is_some() {
            let mut j = i;
            while j < events.len()
                && events[j].event == "PodCreated"
                && events[j].object == e.object
                && events[j].time == e.time
            {
                j += 1;
            }
            if j - i > 1 {
                let details = format!("{} pods created", j - i);
                lines.push([e.time.clone(), "PodCreated".into(), e.object.clone().unwrap_or_default(), details]);
                i = j;
                continue;
            }
        }
        let (event, object, details) = match &e.decision {
            Some(d) => {
                let mut details = d.message.clone().unwrap_or_default();
                if let Some(by) = &d.preempted_by {
                    details = format!("preempted on {} by {by}", d.node.clone().unwrap_or_default());
                } else if let Some(n) = &d.nominated_node {
                    details = format!("{details} (nominated {n})");
                }
                (d.outcome.clone(), d.pod.clone(), details)
            }
            None => {
                let object = e.pod.clone().or_else(|| e.object.clone()).or_else(|| e.node.clone()).unwrap_or_default();
                let mut details = Vec::new();
                if (e.pod.is_some() || e.object.is_some())
                    && let Some(n) = &e.node
                {
                    details.push(format!("node {n}"));
                }
                if let Some(reason) = &e.reason {
                    details.push(reason.clone());
                }
                if let Some(m) = &e.message {
                    details.push(m.clone());
                }
                if let Some(a) = &e.actor {
                    details.push(format!("by {a}"));
                }
                (e.event.clone(), object, details.join(": "))
            }
        };
        // The same thing happening to several pods at once (three pods failing with the same
        // message, a node's pods evicted together) is one line.
        match lines.last_mut() {
            Some(last) if last[0] == e.time && last[1] == event && last[3] == details && !details.is_empty() => {
                let (first, n) = match last[2].rsplit_once(" +") {
                    Some((first, n)) => (first.to_string(), n.parse::<usize>().unwrap_or(1)),
                    None => (last[2].clone(), 0),
                };
                last[2] = format!("{first} +{}", n + 1);
            }
            _ => lines.push([e.time.clone(), event, object, details]),
        }
        i += 1;
    }
    let total = lines.len();
    if total > limit {
        lines.truncate(limit);
    }
    (lines, total)
}

/// The timeline of a run for people, bindings and pod creations grouped per instant.
pub fn timeline_table(r: &Report, limit: usize) -> String {
    let (lines, total) = timeline_lines(r, limit);
    let mut t = tables::table(&["TIME", "EVENT", "OBJECT", "DETAILS"]);
    for l in lines {
        t.add_row(l.to_vec());
    }
    let mut out = format!("TIMELINE ({})\n{t}\n", r.configuration);
    if total > limit {
        out.push_str(&format!("… {} more timeline lines (-o json has every event)\n", total - limit));
    }
    out
}

/// The report for people.
pub fn table(r: &Report, timeline_limit: usize) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Scenario {} — configuration {}, seed {}, simulated until {}\n\n",
        r.scenario, r.configuration, r.seed, r.end
    ));
    out.push_str(&timeline_table(r, timeline_limit));
    let mut t = tables::table(&["METRIC", "VALUE"]);
    for (name, v) in metric_rows(r) {
        t.add_row(vec![name, value_text(&v)]);
    }
    tables::right(&mut t, &[1]);
    out.push_str(&format!("\nSUMMARY\n{t}\n"));
    out.push_str(&nodes_table(&r.nodes, 30));
    out.push_str(&cloud_tables(r, 30));
    let pending: Vec<&PodState> = r.pods.iter().filter(|p| p.phase == "Pending").collect();
    if !pending.is_empty() {
        let mut t = tables::table(&["PENDING POD", "ATTEMPTS", "WHY"]);
        for p in pending.iter().take(20) {
            t.add_row(vec![p.pod.clone(), p.attempts.to_string(), p.message.clone().unwrap_or_default()]);
        }
        out.push_str(&format!("\nPENDING AT END ({})\n{t}\n", pending.len()));
        if pending.len() > 20 {
            out.push_str(&format!("… {} more\n", pending.len() - 20));
        }
    }
    for w in &r.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

/// The autoscaler's NodeClaims, the Fargate pods, and $/hour over time (the samples where it
/// changed).
pub fn cloud_tables(r: &Report, limit: usize) -> String {
    let mut out = String::new();
    if let Some(a) = &r.autoscaling {
        let mut t = tables::table(&[
            "NODECLAIM",
            "NODEPOOL",
            "INSTANCE TYPE",
            "CAPACITY",
            "ZONE",
            "$/HOUR",
            "PODS",
            "CREATED",
            "READY",
            "DELETED",
        ]);
        for c in a.node_claims.iter().take(limit) {
            let deleted = match (&c.deleted, &c.deleted_because) {
                (Some(t), Some(why)) => format!("{t} ({why})"),
                (Some(t), None) => t.clone(),
                _ => String::new(),
            };
            t.add_row(vec![
                c.name.clone(),
                c.node_pool.clone(),
                c.instance_type.clone(),
                c.capacity_type.clone(),
                c.zone.clone(),
                format!("{:.4}", c.hourly_price),
                c.planned_pods.to_string(),
                c.created.clone(),
                c.ready.clone().unwrap_or_default(),
                deleted,
            ]);
        }
        tables::right(&mut t, &[5, 6]);
        out.push_str(&format!(
            "\nNODECLAIMS ({} launched, {} deleted, {} at end; pools: {})\n{t}\n",
            a.nodes_launched,
            a.nodes_deleted,
            a.nodes_at_end,
            a.node_pools.join(", ")
        ));
        if a.node_claims.len() > limit {
            out.push_str(&format!("… {} more NodeClaims\n", a.node_claims.len() - limit));
        }
        for c in a.node_claims.iter().take(10) {
            out.push_str(&format!("why {} for {}: {}\n", c.instance_type, c.name, c.reason));
        }
        if !a.disruptions.is_empty() {
            let mut t = tables::table(&["TIME", "METHOD", "CANDIDATES", "REPLACEMENT", "SAVES $/H", "OUTCOME"]);
            for d in a.disruptions.iter().take(limit) {
                t.add_row(vec![
                    d.time.clone(),
                    d.method.clone(),
                    d.candidates.join(", "),
                    d.replacement.clone().unwrap_or_default(),
                    format!("{:.4}", d.savings_per_hour),
                    d.outcome.clone(),
                ]);
            }
            out.push_str(&format!("\nDISRUPTIONS ({})\n{t}\n", a.disruptions.len()));
        }
    }
    if let Some(f) = &r.fargate {
        let mut t = tables::table(&["FARGATE POD", "SIZE", "NODE", "BOUND", "DELETED", "BILLED S", "COST $"]);
        for p in f.pods.iter().take(limit) {
            t.add_row(vec![
                p.pod.clone(),
                p.capacity_provisioned.clone(),
                p.node.clone(),
                p.bound.clone().unwrap_or_default(),
                p.deleted.clone().unwrap_or_default(),
                p.billed_seconds.to_string(),
                format!("{:.6}", p.cost),
            ]);
        }
        tables::right(&mut t, &[5, 6]);
        out.push_str(&format!("\nFARGATE PODS ({}, region {})\n{t}\n", f.pods.len(), f.region));
        for x in &f.refused {
            out.push_str(&format!("refused by Fargate: {}: {}\n", x.pod, x.message));
        }
    }
    if let Some(c) = &r.cost {
        let mut t = tables::table(&["TIME", "PENDING", "RUNNING", "MANAGED NODES", "$/HOUR"]);
        let mut last: Option<(f64, Option<usize>)> = None;
        let mut rows = 0;
        for s in &r.series {
            let key = (s.hourly_cost.unwrap_or(0.0), s.managed_nodes);
            if last == Some(key) {
                continue;
            }
            last = Some(key);
            rows += 1;
            if rows > limit {
                continue;
            }
            t.add_row(vec![
                s.time.clone(),
                s.pending.to_string(),
                s.running.to_string(),
                s.managed_nodes.map(|n| n.to_string()).unwrap_or_default(),
                format!("{:.4}", key.0),
            ]);
        }
        tables::right(&mut t, &[1, 2, 3, 4]);
        out.push_str(&format!(
            "\nCOST OVER TIME (total ${:.4}, ${:.4}/hour at end, peak ${:.4}/hour)\n{t}\n",
            c.total, c.hourly_at_end, c.peak_hourly
        ));
    }
    out
}

fn nodes_table(nodes: &[NodeState], limit: usize) -> String {
    let gpus = nodes.iter().any(|n| n.gpus.is_some());
    let mut header = vec!["NODE", "STATUS", "PODS", "CPU %", "MEM %"];
    if gpus {
        header.push("GPUS USED");
    }
    let mut t = tables::table(&header);
    for n in nodes.iter().filter(|n| n.status != "Deleted").take(limit) {
        let mut status = n.status.clone();
        if n.cordoned {
            status.push_str(",Cordoned");
        }
        let mut row = vec![
            n.node.clone(),
            status,
            n.pods.to_string(),
            format!("{:.1}", n.cpu_percent),
            format!("{:.1}", n.memory_percent),
        ];
        if gpus {
            row.push(match (n.gpus_used, n.gpus) {
                (Some(u), Some(t)) => format!("{u}/{t}"),
                _ => String::new(),
            });
        }
        t.add_row(row);
    }
    tables::right(&mut t, &[2, 3, 4, 5]);
    let live = nodes.iter().filter(|n| n.status != "Deleted").count();
    let mut out = format!("\nNODES AT END\n{t}\n");
    if live > limit {
        out.push_str(&format!("… {} more nodes\n", live - limit));
    }
    out
}

/// GPU nodes side by side, used/total, with their status when not Ready.
fn gpu_table(title: &str, a: &[NodeState], b: &[NodeState], configs: &[String; 2]) -> String {
    let gpu_nodes: Vec<&NodeState> = a.iter().filter(|n| n.gpus.is_some_and(|g| g > 0)).collect();
    if gpu_nodes.is_empty() || gpu_nodes.len() > 40 {
        return String::new();
    }
    let mut t =
        tables::table(&["GPU NODE", &format!("{} (used/total)", configs[0]), &format!("{} (used/total)", configs[1])]);
    let cell = |s: &NodeState| {
        let mut v = format!("{}/{}", s.gpus_used.unwrap_or(0), s.gpus.unwrap_or(0));
        if s.status != "Ready" {
            v.push_str(&format!(" {}", s.status));
        }
        v
    };
    for n in gpu_nodes {
        let other = b.iter().find(|m| m.node == n.node);
        t.add_row(vec![n.node.clone(), cell(n), other.map(cell).unwrap_or_default()]);
    }
    tables::right(&mut t, &[1, 2]);
    format!("\n{title}\n{t}\n")
}

/// The comparison for people: one table, A vs B, then the pods placed differently.
pub fn comparison_table(c: &Comparison, diff_limit: usize) -> String {
    let mut out = format!("Scenario {} — seed {}, simulated until {}\n\n", c.scenario, c.seed, c.a.end);
    let mut t = tables::table(&["METRIC", &c.configurations[0], &c.configurations[1]]);
    for m in &c.metrics {
        t.add_row(vec![m.metric.clone(), value_text(&m.a), value_text(&m.b)]);
    }
    tables::right(&mut t, &[1, 2]);
    out.push_str(&format!("{t}\n"));
    // GPU nodes side by side: at each checkpoint, then at the end.
    let mut views: Vec<(String, &[NodeState], &[NodeState])> =
        c.a.checkpoints
            .iter()
            .zip(&c.b.checkpoints)
            .map(|(x, y)| (format!("GPUS AT {}", x.time), x.nodes.as_slice(), y.nodes.as_slice()))
            .collect();
    views.push(("GPUS AT END".to_string(), c.a.nodes.as_slice(), c.b.nodes.as_slice()));
    for (title, a_nodes, b_nodes) in views {
        out.push_str(&gpu_table(&title, a_nodes, b_nodes, &c.configurations));
    }
    out.push_str(&format!("\nPODS PLACED DIFFERENTLY ({})\n", c.placed_differently.len()));
    if !c.placed_differently.is_empty() {
        let mut t = tables::table(&["POD", &c.configurations[0], &c.configurations[1]]);
        for d in c.placed_differently.iter().take(diff_limit) {
            t.add_row(vec![d.pod.clone(), d.a.clone(), d.b.clone()]);
        }
        out.push_str(&format!("{t}\n"));
        if c.placed_differently.len() > diff_limit {
            out.push_str(&format!("… {} more (-o json lists them all)\n", c.placed_differently.len() - diff_limit));
        }
    }
    for w in c.a.warnings.iter() {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, phase: &str, node: Option<&str>) -> PodState {
        PodState { pod: name.into(), phase: phase.into(), node: node.map(Into::into), ..Default::default() }
    }

    #[test]
    fn comparison_lists_pods_placed_differently_but_not_shared_history() {
        let mut a = Report { configuration: "spread".into(), ..Default::default() };
        let mut b = Report { configuration: "pack".into(), ..Default::default() };
        a.pods = vec![
            pod("default/same", "Running", Some("n1")),
            pod("default/moved", "Running", Some("n1")),
            pod("default/train", "Pending", None),
            pod("default/old", "Deleted", Some("n3")),
        ];
        b.pods = vec![
            pod("default/same", "Running", Some("n1")),
            pod("default/moved", "Running", Some("n2")),
            pod("default/train", "Running", Some("n4")),
            pod("default/only-b", "Running", Some("n4")),
        ];
        let c = compare(a, b);
        let diffs: Vec<(&str, &str, &str)> =
            c.placed_differently.iter().map(|d| (d.pod.as_str(), d.a.as_str(), d.b.as_str())).collect();
        assert_eq!(
            diffs,
            [("default/train", "Pending", "n4"), ("default/only-b", "absent", "n4"), ("default/moved", "n1", "n2"),]
        );
        assert_eq!(c.configurations, ["spread".to_string(), "pack".to_string()]);
        assert!(c.metrics.iter().any(|m| m.metric == "pods created"));
    }

    #[test]
    fn decisions_serialize_in_the_schedule_contract_shape_with_a_timestamp() {
        let e = LogEntry {
            at: 90.5,
            time: "1m30.5s".into(),
            event: "Scheduling".into(),
            decision: Some(PodEntry {
                pod: "default/p".into(),
                profile: "default-scheduler".into(),
                outcome: "Scheduled".into(),
                node: Some("n1".into()),
                feasible_nodes: 2,
                examined_nodes: 3,
                ..Default::default()
            }),
            attempt: Some(1),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"at":90.5,"time":"1m30.5s","event":"Scheduling","pod":"default/p","profile":"default-scheduler","outcome":"Scheduled","node":"n1","feasibleNodes":2,"examinedNodes":3,"attempt":1}"#
        );
    }
}
