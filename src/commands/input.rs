//! Loading what every cluster-reading command needs: manifests (or the embedded example) and
//! the scheduler configuration, with every error reported before anything runs.

use anyhow::Result;
use kubesched_autoscale::{Autoscaler, Options as AutoscaleOptions};
use kubesched_core::framework::build_profiles;
use kubesched_core::model::Pod;
use kubesched_core::plugins::registry;
use kubesched_core::schedule::Scheduler;
use kubesched_fargate::{FargateProfile, FargateWebhook, LoggingConfig};
use kubesched_k8s::admission::AdmissionChain;
use kubesched_k8s::{Cluster, Input, LoadOptions};
use kubesched_sim::cloud;
use std::sync::Arc;

/// The embedded example: a small cluster and pending pods showing the main constraints.
pub const DEMO: &[(&str, &str)] = &[
    ("examples/demo/cluster.yaml", include_str!("../../examples/demo/cluster.yaml")),
    ("examples/demo/pending.yaml", include_str!("../../examples/demo/pending.yaml")),
];

/// How the autoscaler plans, from the command line.
#[derive(Clone, Copy, Debug, Default)]
pub struct AutoscaleFlags {
    /// EKS Auto Mode's built-in NodePools.
    pub auto_mode: bool,
    /// kubesched's cost repacking after Karpenter's solve.
    pub repack: bool,
}

pub struct Loaded {
    pub cluster: Cluster,
    pub scheduler: Scheduler,
    /// Fargate profiles found in the input, with the logging configuration they apply.
    pub fargate: Option<Fargate>,
    /// NodePools in the input (or `--auto-mode`): the autoscaler, with the profile of the
    /// default scheduler as its filters.
    pub autoscaler: Option<Autoscaler>,
    /// One pod per DaemonSet of the input (the overhead of every new node).
    pub daemonsets: Vec<Arc<Pod>>,
}

pub struct Fargate {
    pub profiles: Vec<FargateProfile>,
    pub logging: LoggingConfig,
}

/// Loads `files` (or the demo) and `config`. Prints every error to stderr and returns `None`
/// when there were any; prints warnings and carries on otherwise.
pub fn load(files: &[String], config: Option<&str>, seed: u64, autoscale: AutoscaleFlags) -> Result<Option<Loaded>> {
    load_with(files, config, seed, true, autoscale)
}

/// Like [`load`], but pods are left as created: `fargate check` admits copies itself.
pub fn load_for_fargate_check(files: &[String]) -> Result<Option<Loaded>> {
    load_with(files, None, 0, false, AutoscaleFlags::default())
}

fn load_with(
    files: &[String],
    config: Option<&str>,
    seed: u64,
    fargate_webhook: bool,
    autoscale: AutoscaleFlags,
) -> Result<Option<Loaded>> {
    let mut errors: Vec<String> = Vec::new();
    let mut inputs = Vec::new();
    if files.is_empty() {
        inputs.extend(DEMO.iter().map(|(name, text)| Input::text(name, text)));
    }
    for f in files {
        match Input::from_arg(f, || std::io::read_to_string(std::io::stdin())) {
            Ok(i) => inputs.push(i),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let (sources, io_errors) = kubesched_k8s::input::read_sources(&inputs);
    errors.extend(io_errors.iter().map(|e| e.to_string()));
    let decoded = kubesched_k8s::decode::decode_sources(&sources);
    let (fargate, fargate_errors) = cloud::fargate_setup(&decoded);
    errors.extend(fargate_errors.iter().map(|e| e.to_string()));
    let fargate = fargate.map(|f| Fargate { profiles: f.profiles, logging: f.logging });
    let (autoscaling, autoscaling_errors) = cloud::read_autoscaling(&decoded.raw);
    errors.extend(autoscaling_errors.iter().map(|e| e.to_string()));
    let mut admission = AdmissionChain::standard();
    if let Some(f) = fargate.as_ref().filter(|_| fargate_webhook) {
        admission.push(Arc::new(FargateWebhook { profiles: f.profiles.clone(), logging: f.logging.clone() }));
    }
    let cluster = kubesched_k8s::build(decoded, &LoadOptions { seed, admission });
    errors.extend(cluster.errors.iter().map(|e| e.to_string()));

    let loaded_config = match config {
        Some(path) => match kubesched_k8s::load_scheduler_config(std::path::Path::new(path)) {
            Ok(c) => Some(c),
            Err(errs) => {
                errors.extend(errs.iter().map(|e| e.to_string()));
                None
            }
        },
        None => None,
    };
    let config = loaded_config.as_ref().map(|c| c.config.clone()).unwrap_or_default();
    let profiles = match build_profiles(&config, &registry()) {
        Ok(p) => Some(p),
        Err(errs) => {
            for e in &errs {
                errors.push(match &loaded_config {
                    Some(c) => c.locate(e).to_string(),
                    None => e.to_string(),
                });
            }
            None
        }
    };
    let mut autoscaler = None;
    if let Some(profiles) = &profiles
        && (autoscale.auto_mode || !autoscaling.node_pools.is_empty())
        && errors.is_empty()
    {
        let default = profiles
            .iter()
            .find(|p| p.scheduler_name == kubesched_core::Sym::DEFAULT_SCHEDULER)
            .or(profiles.first())
            .cloned()
            .unwrap_or_else(kubesched_autoscale::default_profile);
        let options = AutoscaleOptions {
            auto_mode_builtins: autoscale.auto_mode,
            repack: autoscale.repack,
            seed,
            ..AutoscaleOptions::default()
        };
        match cloud::autoscaler(&autoscaling, &cluster.raw, default, options) {
            Ok(a) => autoscaler = Some(a),
            Err(errs) => errors.extend(errs.iter().map(|e| e.to_string())),
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!("{} error(s); nothing was scheduled", errors.len());
        return Ok(None);
    }
    let autoscaler_warnings = autoscaler.iter().flat_map(|a| a.warnings.iter().cloned());
    let warnings: Vec<String> = cluster
        .warnings
        .iter()
        .cloned()
        .chain(autoscaling.warnings.iter().cloned())
        .chain(autoscaler_warnings)
        .chain(cluster.unclaimed_kind_warnings(cloud::CLAIMED_KINDS))
        .collect();
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let Some(profiles) = profiles else { return Ok(None) };
    let scheduler = Scheduler::new(profiles, config.percentage_of_nodes_to_score.unwrap_or(0), seed);
    let daemonsets = if autoscaler.is_some() {
        let dss: Vec<&k8s_openapi::api::apps::v1::DaemonSet> = cluster.daemon_sets.iter().map(|d| &*d.object).collect();
        cloud::daemonset_pods(&dss, &cluster.priority_classes)
    } else {
        Vec::new()
    };
    Ok(Some(Loaded { cluster, scheduler, fargate, autoscaler, daemonsets }))
}
