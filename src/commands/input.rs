//! Loading what every cluster-reading command needs: manifests (or the embedded example) and
//! the scheduler configuration, with every error reported before anything runs.

use anyhow::Result;
use kubesched_core::framework::build_profiles;
use kubesched_core::plugins::registry;
use kubesched_core::schedule::Scheduler;
use kubesched_fargate::{FargateProfile, FargateWebhook, LoggingConfig, is_profile_document, profiles_from_value};
use kubesched_k8s::admission::AdmissionChain;
use kubesched_k8s::{Cluster, Input, LoadOptions};
use std::sync::Arc;

/// The embedded example: a small cluster and pending pods showing the main constraints.
pub const DEMO: &[(&str, &str)] = &[
    ("examples/demo/cluster.yaml", include_str!("../../examples/demo/cluster.yaml")),
    ("examples/demo/pending.yaml", include_str!("../../examples/demo/pending.yaml")),
];

pub struct Loaded {
    pub cluster: Cluster,
    pub scheduler: Scheduler,
    /// Fargate profiles found in the input, with the logging configuration they apply.
    pub fargate: Option<Fargate>,
}

pub struct Fargate {
    pub profiles: Vec<FargateProfile>,
    pub logging: LoggingConfig,
}

/// Kinds other crates take from the loader's raw documents (the aws CLI JSON has no kind).
const CLAIMED_KINDS: &[&str] = &["ClusterConfig", "FargateProfile", ""];

/// Loads `files` (or the demo) and `config`. Prints every error to stderr and returns `None`
/// when there were any; prints warnings and carries on otherwise.
pub fn load(files: &[String], config: Option<&str>, seed: u64) -> Result<Option<Loaded>> {
    load_with(files, config, seed, true)
}

/// Like [`load`], but pods are left as created: `fargate check` admits copies itself.
pub fn load_for_fargate_check(files: &[String]) -> Result<Option<Loaded>> {
    load_with(files, None, 0, false)
}

fn load_with(files: &[String], config: Option<&str>, seed: u64, fargate_webhook: bool) -> Result<Option<Loaded>> {
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
    let fargate = fargate_setup(&decoded, &mut errors);
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
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!("{} error(s); nothing was scheduled", errors.len());
        return Ok(None);
    }
    for w in cluster.warnings.iter().chain(cluster.unclaimed_kind_warnings(CLAIMED_KINDS).iter()) {
        eprintln!("warning: {w}");
    }
    let Some(profiles) = profiles else { return Ok(None) };
    let scheduler = Scheduler::new(profiles, config.percentage_of_nodes_to_score.unwrap_or(0), seed);
    Ok(Some(Loaded { cluster, scheduler, fargate }))
}

/// Fargate profiles (eksctl ClusterConfig, ACK FargateProfile, `aws eks describe-fargate-profile`
/// JSON) and the `aws-observability/aws-logging` ConfigMap, if the input has any profile.
fn fargate_setup(decoded: &kubesched_k8s::Decoded, errors: &mut Vec<String>) -> Option<Fargate> {
    let mut profiles = Vec::new();
    for doc in decoded.raw.iter().filter(|d| is_profile_document(&d.value)) {
        match profiles_from_value(&doc.value, &doc.source.to_string()) {
            Ok(mut p) => profiles.append(&mut p),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if profiles.is_empty() {
        return None;
    }
    let configmaps: Vec<k8s_openapi::api::core::v1::ConfigMap> = decoded
        .raw
        .iter()
        .filter(|d| d.kind == "ConfigMap")
        .filter_map(|d| serde_json::from_value(d.value.clone()).ok())
        .collect();
    let namespaces: Vec<k8s_openapi::api::core::v1::Namespace> = decoded
        .objects
        .iter()
        .filter_map(|o| match &o.object {
            kubesched_k8s::Object::Namespace(ns) => Some((**ns).clone()),
            _ => None,
        })
        .collect();
    let logging = LoggingConfig::find(&configmaps, &namespaces);
    Some(Fargate { profiles, logging })
}
