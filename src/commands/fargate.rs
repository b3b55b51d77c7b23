//! `kubesched fargate check`: which pods EKS Fargate would take, refuse, size and bill.

use super::input;
use anyhow::{Result, bail};
use comfy_table::Table;
use comfy_table::presets::NOTHING;
use kubesched_fargate::report::Outcome;
use kubesched_fargate::{CheckOptions, check};
use kubesched_report::{Format, to_json, to_yaml};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// For each pod: the profile that takes it, whether Fargate accepts it (every reason if
    /// not), its size and what it costs.
    Check(CheckArgs),
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Manifests with pods or workloads and Fargate profiles (eksctl ClusterConfig, ACK
    /// FargateProfile, or `aws eks describe-fargate-profile` JSON).
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    files: Vec<String>,
    #[arg(short = 'o', long, default_value = "table")]
    output: Format,
    /// Region of profiles whose input names none.
    #[arg(long, default_value = "us-east-1")]
    region: String,
}

pub fn run(command: Command) -> Result<ExitCode> {
    let Command::Check(args) = command;
    let Some(loaded) = input::load_for_fargate_check(&args.files)? else {
        return Ok(ExitCode::from(2));
    };
    let Some(fargate) = loaded.fargate else {
        bail!(
            "no Fargate profile in the input (eksctl ClusterConfig fargateProfiles, FargateProfile, or describe-fargate-profile JSON)"
        );
    };
    let pods: Vec<_> = loaded
        .cluster
        .pods
        .iter()
        .filter(|p| !kubesched_k8s::admission::is_admitted(&p.object))
        .map(|p| (*p.object).clone())
        .collect();
    let report = check(&pods, &fargate.profiles, &fargate.logging, None, &CheckOptions::new(&args.region))?;
    let out = match args.output {
        Format::Json => to_json(&report),
        Format::Yaml => to_yaml(&report),
        Format::Table => {
            let mut t = Table::new();
            t.load_style(NOTHING).set_header(vec!["POD", "PROFILE", "OUTCOME", "SIZE", "$/HOUR", "$/MONTH", "REASONS"]);
            for p in &report.pods {
                t.add_row(vec![
                    format!("{}/{}", p.namespace, p.name),
                    p.profile.clone().unwrap_or_default(),
                    outcome_text(p.outcome).to_string(),
                    p.capacity_provisioned.clone().unwrap_or_default(),
                    p.hourly_cost.map(|c| c.to_string()).unwrap_or_default(),
                    p.monthly_cost.map(|c| c.to_string()).unwrap_or_default(),
                    p.reasons.iter().map(|r| r.message.clone()).collect::<Vec<_>>().join("; "),
                ]);
            }
            let totals = &report.totals;
            let mut s = format!("{t}\n");
            s.push_str(&format!(
                "{} pods: {} on Fargate, {} refused, {} not for Fargate; Fargate total ${}/hour, ${}/month\n",
                totals.pods,
                totals.fargate,
                totals.rejected,
                totals.not_fargate,
                totals.hourly_cost,
                totals.monthly_cost
            ));
            for w in &report.warnings {
                s.push_str(&format!("warning: {w}\n"));
            }
            s
        }
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn outcome_text(o: Outcome) -> &'static str {
    match o {
        Outcome::Fargate => "Fargate",
        Outcome::Rejected => "Refused",
        Outcome::NotMatched => "NotMatched",
        Outcome::OptedOut => "OptedOut",
        Outcome::DaemonSet => "DaemonSet",
        Outcome::ProfileLabelMismatch => "ProfileLabelMismatch",
        Outcome::Stranded => "Stranded",
    }
}
