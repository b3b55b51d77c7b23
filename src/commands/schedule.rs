//! `kubesched schedule`: place pending pods as kube-scheduler would.

use super::input::{self, Loaded};
use anyhow::Result;
use kubesched_core::batch::{account_bound_pods, schedule_pending};
use kubesched_report::schedule::ScheduleDocument;
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
    /// Seed for breaking ties between equally scored nodes and for generated pod names.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let Some(Loaded { cluster, mut scheduler }) = input::load(&args.files, args.config.as_deref(), args.seed)? else {
        return Ok(ExitCode::from(2));
    };
    scheduler.explain = args.explain;
    let mut snapshot = cluster.empty_snapshot();
    let models: Vec<Arc<kubesched_core::model::Pod>> = cluster.pods.iter().map(|p| Arc::new(p.model.clone())).collect();
    let mut decisions = account_bound_pods(&mut snapshot, models.iter().filter(|p| p.node_name.is_some()).cloned());
    let pending: Vec<_> = models.iter().filter(|p| p.node_name.is_none() && !p.phase.is_terminal()).cloned().collect();
    let others = pending.iter().filter(|p| scheduler.profile_index(p.scheduler_name).is_none()).count();
    if others > 0 {
        eprintln!("note: {others} pending pod(s) name a schedulerName no profile has; left to their scheduler");
    }
    decisions.extend(schedule_pending(&mut scheduler, &mut snapshot, pending));
    let doc = ScheduleDocument::from_decisions(&decisions);
    let out = match args.output {
        Format::Json => to_json(&doc),
        Format::Yaml => to_yaml(&doc),
        Format::Table => kubesched_report::table::schedule(&doc),
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
