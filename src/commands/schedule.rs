//! `kubesched schedule`: place pending pods as kube-scheduler would. Pods that a Fargate profile
//! took go to fargate-scheduler instead, each onto its own node. With NodePools in the input (or
//! `--auto-mode`), pods the scheduler finds no room for get NodeClaims planned by the autoscaler
//! (Karpenter's provisioning over the core's filters); the claims' nodes join the cluster and the
//! scheduler places those pods again, onto them or wherever it prefers.

use super::input::{self, Fargate, Loaded};
use anyhow::Result;
use kubesched_autoscale::{Autoscaler, ClusterView, PlannedNodeClaim};
use kubesched_core::batch::{Decision, DecisionKind, account_bound_pods, schedule_pending};
use kubesched_core::gpu;
use kubesched_core::gpu::frag::{DEFAULT_POPULARITY_THRESHOLD, TargetWorkload, TaskShape, cluster_metrics};
use kubesched_core::intern::Sym;
use kubesched_core::model::Pod;
use kubesched_core::snapshot::Snapshot;
use kubesched_fargate::{FargatePrices, FargateScheduler, ScheduleOutcome};
use kubesched_k8s::LoadedPod;
use kubesched_report::schedule::{GpuSummary, PodEntry, ScheduleDocument};
use kubesched_report::{Format, to_json, to_yaml};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// Manifests: files, folders (recursively: *.yaml, *.yml, *.json) or `-` for stdin. Without
    /// any, an embedded example cluster is scheduled.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    files: Vec<String>,
    /// A KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1). Default: kube-scheduler's.
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// Output format: table, json or yaml.
    #[arg(short = 'o', long, default_value = "table")]
    output: Format,
    /// Show every examined node: the filter verdict or each plugin's normalized score.
    #[arg(long)]
    explain: bool,
    /// Seed for breaking ties between equally scored nodes and for generated names.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// AWS region of Fargate profiles whose input names none (for prices and node names).
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// EKS Auto Mode: add the built-in `general-purpose` and `system` NodePools (and the
    /// `default` NodeClass) to the input's own; pods that fit nowhere get planned NodeClaims.
    #[arg(long)]
    auto_mode: bool,
    /// Plan NodeClaims for cost rather than as Karpenter would: after Karpenter's solve, pods are
    /// repacked onto cheaper instance types when that costs strictly less (every placement
    /// still checked by the scheduler's filters).
    #[arg(long)]
    repack: bool,
}

/// The `schedule` document: the `{"pods": [...]}` contract, plus `nodeClaims` when the
/// autoscaler planned any.
fn document(doc: &ScheduleDocument, claims: &[Claim]) -> serde_json::Value {
    let mut v = serde_json::to_value(doc).unwrap_or(serde_json::Value::Null);
    if let Some(map) = v.as_object_mut()
        && !claims.is_empty()
    {
        map.insert("nodeClaims".into(), claims.iter().map(Claim::to_json).collect());
    }
    v
}

pub fn run(args: Args) -> Result<ExitCode> {
    let Some(Loaded { cluster, mut scheduler, fargate, autoscaler, daemonsets }) = input::load(
        &args.files,
        args.config.as_deref(),
        args.seed,
        input::AutoscaleFlags { auto_mode: args.auto_mode, repack: args.repack },
    )?
    else {
        return Ok(ExitCode::from(2));
    };
    scheduler.explain = args.explain;
    let mut snapshot = cluster.empty_snapshot();
    let models: Vec<Arc<Pod>> = cluster.pods.iter().map(|p| Arc::new(p.model.clone())).collect();
    let mut entries: Vec<PodEntry> = Vec::new();
    let rejected = account_bound_pods(&mut snapshot, models.iter().filter(|p| p.node_name.is_some()).cloned());
    entries.extend(rejected.iter().map(PodEntry::from_decision));

    let pending: Vec<(&LoadedPod, &Arc<Pod>)> =
        cluster.pods.iter().zip(&models).filter(|(_, m)| m.node_name.is_none() && !m.phase.is_terminal()).collect();
    let (for_fargate, for_kube): (Vec<_>, Vec<_>) =
        pending.into_iter().partition(|(p, _)| kubesched_fargate::is_fargate_pod(&p.object));
    if !for_fargate.is_empty() {
        // Without any profile, pods set to fargate-scheduler by hand are stranded.
        let none = Fargate { profiles: Vec::new(), logging: kubesched_fargate::LoggingConfig::NotFound };
        let fargate = fargate.as_ref().unwrap_or(&none);
        entries.extend(schedule_on_fargate(fargate, &for_fargate, &mut snapshot, &args.region, args.seed)?);
    }
    let others = for_kube.iter().filter(|(_, m)| scheduler.profile_index(m.scheduler_name).is_none()).count();
    if others > 0 {
        eprintln!("note: {others} pending pod(s) name a schedulerName no profile has; left to their scheduler");
    }
    let decisions =
        schedule_pending(&mut scheduler, &mut snapshot, for_kube.into_iter().map(|(_, m)| m.clone()).collect());
    let first = entries.len();
    entries.extend(decisions.iter().map(PodEntry::from_decision));
    let claims = match &autoscaler {
        Some(auto) => provision(auto, &daemonsets, &mut scheduler, &mut snapshot, &decisions, &mut entries[first..]),
        None => Vec::new(),
    };
    add_gpu_devices(&mut entries, &snapshot);

    let gpu = gpu_summary(&snapshot, &models);
    let doc = ScheduleDocument { pods: entries, gpu };
    let out = match args.output {
        Format::Json => to_json(&document(&doc, &claims)),
        Format::Yaml => to_yaml(&document(&doc, &claims)),
        Format::Table => {
            let mut t = kubesched_report::table::schedule(&doc);
            if autoscaler.is_some() {
                t.push_str(&claims_table(&claims));
            }
            t
        }
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// The device indices of scheduled GPU pods (`gpuDevices: [0, 1]`).
fn add_gpu_devices(entries: &mut [PodEntry], snapshot: &Snapshot) {
    for e in entries.iter_mut().filter(|e| e.outcome == "Scheduled") {
        let Some((ns, name)) = e.pod.split_once('/') else { continue };
        let Some(id) = snapshot.pod_id(Sym::new(ns), Sym::new(name)) else { continue };
        let gpus = &snapshot.pod(id).gpus;
        if !gpus.is_empty() {
            e.extra.insert("gpuDevices".into(), serde_json::json!(gpus.devices.to_vec()));
        }
    }
}

/// GPU allocation and fragmentation once everything is placed, against the typical shapes of
/// the input's own pods (the FGD paper's target workload).
fn gpu_summary(snapshot: &Snapshot, pods: &[Arc<Pod>]) -> Option<GpuSummary> {
    let gpu_nodes = snapshot.nodes().filter(|n| gpu::device_count(n) > 0).count();
    if gpu_nodes == 0 {
        return None;
    }
    let workload =
        TargetWorkload::typical(pods.iter().filter_map(|p| TaskShape::of_pod(p)), DEFAULT_POPULARITY_THRESHOLD);
    let m = cluster_metrics(snapshot, &workload);
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    Some(GpuSummary {
        gpu_nodes,
        total_gpus: round(m.capacity_milli as f64 / 1000.0),
        allocated_gpus: round(m.allocated_gpus()),
        unallocated_gpus: round(m.unallocated_gpus()),
        fragmented_gpus: round(m.fragmented_milli() / 1000.0),
        fragmentation_rate: round(m.fragmentation_rate()),
        free_capacity_in_pods: [1, 2, 4, 8]
            .iter()
            .map(|&k| (k.to_string(), gpu::whole_gpu_pods_that_fit(snapshot, k)))
            .collect(),
    })
}

/// fargate-scheduler: every pod a profile took is validated, sized and bound to a node of its
/// own, which joins the snapshot (tainted, `pods: 1`) so the default scheduler sees it too.
fn schedule_on_fargate(
    fargate: &Fargate,
    pods: &[(&LoadedPod, &Arc<Pod>)],
    snapshot: &mut Snapshot,
    region: &str,
    seed: u64,
) -> Result<Vec<PodEntry>> {
    let mut scheduler = FargateScheduler::new(region, seed);
    let mut entries = Vec::new();
    for (loaded, model) in pods {
        let mut entry = PodEntry {
            pod: model.key(),
            profile: kubesched_fargate::validate::FARGATE_SCHEDULER_NAME.to_string(),
            ..Default::default()
        };
        match scheduler.schedule(&loaded.object, &fargate.profiles)? {
            ScheduleOutcome::Bound(binding) => {
                let node = snapshot.add_node(binding.placement.node.clone());
                snapshot.add_pod((*model).clone(), node);
                entry.outcome = "Scheduled".into();
                entry.node = Some(binding.placement.node_name.clone());
                entry.feasible_nodes = 1;
                entry.examined_nodes = 1;
                let hourly = FargatePrices::for_region(&binding.region).map(|p| binding.cost(&p).hourly);
                entry.extra.insert(
                    "fargate".into(),
                    serde_json::json!({
                        "profile": binding.profile,
                        "capacityProvisioned": binding.capacity_provisioned,
                        "hourlyCost": hourly,
                        "zone": binding.placement.zone,
                        "podIP": binding.placement.ip.to_string(),
                    }),
                );
            }
            ScheduleOutcome::Unschedulable { profile, rejections } => {
                entry.outcome = "Unschedulable".into();
                // fargate-scheduler's FailedScheduling event carries the first reason.
                entry.message = rejections.first().map(|r| r.message.clone());
                let reasons: Vec<_> =
                    rejections.iter().map(|r| serde_json::json!({"reason": r.reason, "message": r.message})).collect();
                entry.extra.insert("fargate".into(), serde_json::json!({ "profile": profile, "reasons": reasons }));
            }
            ScheduleOutcome::NoProfile => {
                entry.outcome = "Unschedulable".into();
                entry.message = Some(
                    "no active Fargate profile selects this pod: it is not authorized to run on Fargate and stays Pending"
                        .into(),
                );
            }
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// A NodeClaim the autoscaler planned, and the pods the scheduler then put on its node.
struct Claim {
    planned: PlannedNodeClaim,
    pods: Vec<String>,
}

impl Claim {
    /// `{name, nodePool, instanceType, capacityType, zone, hourlyPrice, pods, plannedPods,
    /// daemonSetPods, instanceTypeOptions, requirements, reason}`; `pods` are the pods the
    /// scheduler placed on the claim's node, `plannedPods` those Karpenter planned there.
    fn to_json(&self) -> serde_json::Value {
        let c = &self.planned;
        let planned: Vec<String> = c.pods.iter().map(|p| p.key()).collect();
        let daemons: Vec<String> = c.daemonset_pods.iter().map(|p| p.key()).collect();
        serde_json::json!({
            "name": c.name,
            "nodePool": c.node_pool,
            "instanceType": c.instance_type,
            "capacityType": c.capacity_type.as_str(),
            "zone": c.zone,
            "hourlyPrice": money(c.hourly_price),
            "pods": self.pods,
            "plannedPods": planned,
            "daemonSetPods": daemons,
            "instanceTypeOptions": c.instance_type_options,
            "requirements": c.requirements,
            "reason": c.reason,
        })
    }
}

/// Dollars as a JSON number (exact to the micro-dollar).
fn money(m: kubesched_autoscale::Money) -> serde_json::Value {
    serde_json::Number::from_f64(m.micros() as f64 / 1e6).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// Karpenter's provisioning for the pods the scheduler found no room for (not those nominated
/// by preemption): NodeClaims are planned through the core's filters, their nodes join the
/// cluster initialized (with the DaemonSet pods the filters put there), and the scheduler
/// places the pods again. `entries` are the decisions' entries, in order; they are replaced by
/// the second pass's decisions.
fn provision(
    auto: &Autoscaler,
    daemonsets: &[Arc<Pod>],
    scheduler: &mut kubesched_core::schedule::Scheduler,
    snapshot: &mut Snapshot,
    decisions: &[Decision],
    entries: &mut [PodEntry],
) -> Vec<Claim> {
    let pending: Vec<Arc<Pod>> = decisions
        .iter()
        .filter(|d| matches!(d.kind, DecisionKind::Unschedulable { .. }) && d.nominated_node.is_none())
        .map(|d| d.pod.clone())
        .collect();
    if pending.is_empty() {
        return Vec::new();
    }
    let view = ClusterView { snapshot, managed: &[], daemonsets };
    let plan = auto.provision(&view, pending.clone());
    for c in &plan.node_claims {
        let mut bare = c.clone();
        bare.pods.clear();
        bare.launch_into(snapshot);
    }
    let again = schedule_pending(scheduler, snapshot, pending);
    let mut claims: Vec<Claim> =
        plan.node_claims.into_iter().map(|planned| Claim { planned, pods: Vec::new() }).collect();
    for d in &again {
        let key = d.pod.key();
        let Some(i) = entries.iter().position(|e| e.pod == key) else { continue };
        let mut entry = PodEntry::from_decision(d);
        if let DecisionKind::Scheduled { node } = &d.kind
            && let Some(c) = claims.iter_mut().find(|c| c.planned.name == node.as_str())
        {
            c.pods.push(key.clone());
            entry.extra.insert("nodeClaim".into(), serde_json::json!(c.planned.name));
        }
        if let Some((_, why)) = plan.errors.iter().find(|(p, _)| p.key() == key) {
            entry.extra.insert("autoscaler".into(), serde_json::json!(format!("no NodeClaim: {why}")));
        }
        entries[i] = entry;
    }
    claims
}

/// The planned NodeClaims for people, with the total $/hour.
fn claims_table(claims: &[Claim]) -> String {
    use comfy_table::presets::NOTHING;
    let mut t = comfy_table::Table::new();
    t.load_style(NOTHING).set_header(vec![
        "NODECLAIM",
        "NODEPOOL",
        "INSTANCE TYPE",
        "CAPACITY",
        "ZONE",
        "$/HOUR",
        "PODS",
    ]);
    for c in claims {
        let p = &c.planned;
        t.add_row(vec![
            p.name.clone(),
            p.node_pool.clone(),
            p.instance_type.clone(),
            p.capacity_type.as_str().to_string(),
            p.zone.clone(),
            p.hourly_price.to_string(),
            c.pods.len().to_string(),
        ]);
    }
    let total: kubesched_autoscale::Money = claims.iter().map(|c| c.planned.hourly_price).sum();
    if claims.is_empty() {
        return "\nNODECLAIMS: none needed\n".to_string();
    }
    format!("\nNODECLAIMS ({}, {total}/hour)\n{t}\n", claims.len())
}
