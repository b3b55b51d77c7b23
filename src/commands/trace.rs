//! `kubesched trace openb …`: replay the Alibaba OpenB GPU trace as the FGD paper does, through
//! the scheduling core, for one policy or all of them, and report allocation, unallocated GPUs
//! and fragmentation at the chosen load levels.

use anyhow::{Context, Result, bail};
use kubesched_trace::replay::{Policy, Trace, run_all};
use kubesched_trace::{openb, report};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    trace: TraceKind,
}

#[derive(clap::Subcommand)]
enum TraceKind {
    /// The Alibaba OpenB trace (cluster-trace-gpu-v2023, the FGD paper's data).
    Openb(OpenbArgs),
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Output {
    Table,
    Json,
}

#[derive(clap::Args)]
struct OpenbArgs {
    /// Node list CSV (`openb_node_list_gpu_node.csv` or `openb_node_list_all_node.csv`).
    #[arg(long)]
    nodes: PathBuf,
    /// Pod list CSV (`openb_pod_list_*.csv`, either column layout).
    #[arg(long)]
    pods: PathBuf,
    /// fgd, bestfit, dotproduct, gpupacking, gpuclustering, random, fgdstrand (ours: FGD with
    /// CPU stranding), a comma-separated list of them, or all.
    #[arg(long, default_value = "fgd")]
    policy: String,
    /// Number of seeds: runs seeds 0..N-1 (each seed shuffles and samples the trace).
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Load levels to report, in % of the cluster's GPU capacity.
    #[arg(long, value_delimiter = ',', default_value = "50,100,130")]
    levels: Vec<u32>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    output: Output,
    /// Write an SVG chart of unallocated GPUs vs arrived GPU demand here.
    #[arg(long)]
    chart: Option<PathBuf>,
    /// Replays run in parallel on this many threads (default: the available cores).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.trace {
        TraceKind::Openb(a) => openb_cmd(a),
    }
}

fn openb_cmd(a: OpenbArgs) -> Result<ExitCode> {
    let policies: Vec<Policy> = if a.policy.eq_ignore_ascii_case("all") {
        Policy::ALL.to_vec()
    } else {
        let mut v = Vec::new();
        for name in a.policy.split(',') {
            match Policy::parse(name.trim()) {
                Some(p) if !v.contains(&p) => v.push(p),
                Some(_) => {}
                None => bail!(
                    "unknown policy {name:?}: expected one of {}, or all",
                    Policy::ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
                ),
            }
        }
        v
    };
    if a.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    if a.levels.is_empty() || a.levels.iter().any(|&l| l == 0 || l > 1000) {
        bail!("--levels must be percentages in 1..=1000");
    }
    let nodes = openb::load_nodes(&a.nodes)?;
    let pods = openb::load_pods(&a.pods)?;
    let trace = Trace::new(nodes, pods)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("replaying {} on {}", a.pods.display(), a.nodes.display()))?;
    let seeds: Vec<u64> = (0..a.seeds).collect();
    let threads = a.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let start = std::time::Instant::now();
    let runs = run_all(&trace, &policies, &seeds, &a.levels, threads).map_err(anyhow::Error::msg)?;
    let wall = start.elapsed();
    match a.output {
        Output::Json => println!("{}", report::json(&runs)),
        Output::Table => {
            print!("{}", report::table(&runs));
            println!(
                "{} run(s) of {} pods on {} nodes in {:.2}s wall time on {threads} thread(s)",
                runs.len(),
                runs.first().map_or(0, |r| r.pods),
                trace.nodes.len(),
                wall.as_secs_f64()
            );
        }
    }
    if let Some(path) = &a.chart {
        std::fs::write(path, report::svg(&runs)).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
