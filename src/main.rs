//! `kubesched`: the command-line front end. Thin: every command parses its flags, calls the
//! library crates, and renders their results.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kubesched",
    version,
    about = "Kubernetes scheduling, explained and simulated: kube-scheduler's decisions, offline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Place pending pods on a cluster exactly as kube-scheduler would.
    Schedule(commands::schedule::Args),
    /// EKS Fargate: which pods profiles take, which Fargate refuses, sizes and costs.
    #[command(subcommand)]
    Fargate(commands::fargate::Command),
    /// Run an in-memory scheduler_perf-style workload and report pods/s.
    Bench(commands::bench::Args),
    /// Replay a GPU cluster trace (the FGD paper's OpenB) and report allocation and fragmentation.
    Trace(commands::trace::Args),
    /// What-if: run a timeline of cluster events through the scheduler (no file: the embedded demo).
    Simulate(commands::simulate::Args),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KUBESCHED_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Schedule(args) => commands::schedule::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Fargate(command) => commands::fargate::run(command),
        Command::Trace(args) => commands::trace::run(args),
        Command::Simulate(args) => commands::simulate::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
