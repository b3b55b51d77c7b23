//! Loading what every cluster-reading command needs: manifests (or the embedded example) and
//! the scheduler configuration, with every error reported before anything runs.

use anyhow::Result;
use kubesched_core::framework::build_profiles;
use kubesched_core::plugins::registry;
use kubesched_core::schedule::Scheduler;
use kubesched_k8s::admission::AdmissionChain;
use kubesched_k8s::{Cluster, Input, LoadOptions};

/// The embedded example: a small cluster and pending pods showing the main constraints.
pub const DEMO: &[(&str, &str)] = &[
    ("examples/demo/cluster.yaml", include_str!("../../examples/demo/cluster.yaml")),
    ("examples/demo/pending.yaml", include_str!("../../examples/demo/pending.yaml")),
];

pub struct Loaded {
    pub cluster: Cluster,
    pub scheduler: Scheduler,
}

/// Loads `files` (or the demo) and `config`. Prints every error to stderr and returns `None`
/// when there were any; prints warnings and carries on otherwise.
pub fn load(files: &[String], config: Option<&str>, seed: u64) -> Result<Option<Loaded>> {
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
    let cluster = kubesched_k8s::load(&inputs, &LoadOptions { seed, admission: AdmissionChain::standard() });
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
    for w in cluster.warnings.iter().chain(cluster.unclaimed_kind_warnings(&[]).iter()) {
        eprintln!("warning: {w}");
    }
    let Some(profiles) = profiles else { return Ok(None) };
    let scheduler = Scheduler::new(profiles, config.percentage_of_nodes_to_score.unwrap_or(0), seed);
    Ok(Some(Loaded { cluster, scheduler }))
}
