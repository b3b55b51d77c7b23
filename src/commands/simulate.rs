//! `kubesched simulate [scenario.yaml]`: run a what-if scenario (or the embedded demo) through
//! the discrete-event simulator, with one configuration or two side by side.

use anyhow::{Result, bail};
use kubesched_report::Format;
use kubesched_sim::scenario::{ConfigChoice, config_label};
use kubesched_sim::time::{Millis, format_duration, parse_duration};
use kubesched_sim::{Outcome, report};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// A `kubesched.io/v1alpha1` Scenario. Without it, the embedded demo runs: a GPU cluster
    /// under LeastAllocated and MostAllocated, side by side.
    scenario: Option<PathBuf>,
    /// Output format: table, json or yaml.
    #[arg(short = 'o', long = "output", default_value = "table")]
    output: String,
    /// Seed for tie-breaking and generated names (overrides the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Stop at this simulated time (`30m`, `2h`), overriding the scenario's duration.
    #[arg(long)]
    until: Option<String>,
    /// Run the scenario again with this KubeSchedulerConfiguration and compare side by side.
    #[arg(long)]
    compare: Option<PathBuf>,
    /// Timeline lines shown in table output.
    #[arg(long, default_value_t = 80)]
    timeline: usize,
    /// Without a scenario: run only this embedded demo (gpu, autoscaling, fargate). Table output
    /// shows all three by default; -o json/yaml the gpu demo unless one is named.
    #[arg(long, value_name = "NAME")]
    demo: Option<String>,
    /// EKS Auto Mode: the built-in `general-purpose` and `system` NodePools provision nodes
    /// (the scenario's `spec.autoMode: true`).
    #[arg(long)]
    auto_mode: bool,
    /// The autoscaler repacks its plan for cost after Karpenter's solve (the scenario's
    /// `spec.autoscaling.repack: true`).
    #[arg(long)]
    repack: bool,
}

fn print_errors(errs: &[kubesched_k8s::LoadError]) -> ExitCode {
    for e in errs {
        eprintln!("error: {e}");
    }
    ExitCode::from(2)
}

pub fn run(args: Args) -> Result<ExitCode> {
    let format: Format = args.output.parse().map_err(anyhow::Error::msg)?;
    let until: Option<Millis> = match &args.until {
        Some(u) => Some(parse_duration(u).map_err(|e| anyhow::anyhow!("--until: {e}"))?),
        None => None,
    };
    if args.scenario.is_none() && args.demo.is_none() && format == Format::Table {
        // All the demos, one section each.
        let mut out = String::new();
        for (i, (name, _, _)) in kubesched_sim::demo::DEMOS.iter().enumerate() {
            if i > 0 {
                out.push_str(&format!("\n{}\n\n", "=".repeat(100)));
            }
            match run_one(&args, format, until, Some(name))? {
                Ok(text) => out.push_str(&text),
                Err(code) => return Ok(code),
            }
        }
        return write_out(&out);
    }
    match run_one(&args, format, until, args.demo.as_deref())? {
        Ok(text) => write_out(&text),
        Err(code) => Ok(code),
    }
}

fn write_out(text: &str) -> Result<ExitCode> {
    // A closed pipe (`| head`) is not an error worth a panic.
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        bail!("writing the report: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the scenario file, or the named demo (the gpu demo without a name); the rendered
/// report, or the exit code for bad input.
fn run_one(
    args: &Args,
    format: Format,
    until: Option<Millis>,
    demo: Option<&str>,
) -> Result<std::result::Result<String, ExitCode>> {
    let scenario = match (&args.scenario, demo) {
        (Some(path), _) => kubesched_sim::load_file(path, args.seed),
        (None, None) => kubesched_sim::demo::scenario(args.seed),
        (None, Some(name)) => match kubesched_sim::demo::named(name, args.seed) {
            Some(s) => s,
            None => {
                let names: Vec<&str> = kubesched_sim::demo::DEMOS.iter().map(|(n, _, _)| *n).collect();
                bail!("--demo: unknown demo {name:?} (one of: {})", names.join(", "))
            }
        },
    };
    let mut scenario = match scenario {
        Ok(s) => s,
        Err(errs) => return Ok(Err(print_errors(&errs))),
    };
    scenario.auto_mode |= args.auto_mode;
    scenario.autoscaling.repack |= args.repack;
    let compare = match &args.compare {
        None => None,
        Some(path) => {
            let loaded = match kubesched_k8s::load_scheduler_config(path) {
                Ok(c) => c,
                Err(errs) => return Ok(Err(print_errors(&errs))),
            };
            if let Err(errs) =
                kubesched_core::framework::build_profiles(&loaded.config, &kubesched_core::plugins::registry())
            {
                let located: Vec<_> = errs.iter().map(|e| loaded.locate(e)).collect();
                return Ok(Err(print_errors(&located)));
            }
            Some(ConfigChoice { label: config_label(&path.display().to_string()), config: loaded.config })
        }
    };
    let bar =
        (format == Format::Table && std::io::stderr().is_terminal()).then(|| progress_bar(until.or(scenario.duration)));
    let runs = if compare.is_some() || scenario.compare.is_some() { 2 } else { 1 };
    let mut progress = |run: usize, now: Millis, end: Option<Millis>| {
        if let Some(b) = &bar {
            if let Some(end) = end {
                b.set_length(end * runs as u64);
                b.set_position(end * run as u64 + now.min(end));
            } else {
                b.set_position(now);
            }
            b.set_message(format!("run {}/{runs} at {}", run + 1, format_duration(now)));
        }
    };
    let outcome = kubesched_sim::simulate(&scenario, compare.as_ref(), until, &mut progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => bail!(e),
    };
    let text = match (&outcome, format) {
        (Outcome::Single(r), Format::Table) => report::table(r, args.timeline),
        (Outcome::Compare(c), Format::Table) => comparison_text(c, args.timeline),
        (Outcome::Single(r), Format::Json) => kubesched_report::to_json(r),
        (Outcome::Compare(c), Format::Json) => kubesched_report::to_json(c),
        (Outcome::Single(r), Format::Yaml) => kubesched_report::to_yaml(r),
        (Outcome::Compare(c), Format::Yaml) => kubesched_report::to_yaml(c),
    };
    Ok(Ok(text))
}

/// The comparison, then each run's timeline for the story.
fn comparison_text(c: &report::Comparison, timeline: usize) -> String {
    let mut out = report::comparison_table(c, 40);
    for r in [&c.a, &c.b] {
        out.push('\n');
        out.push_str(&report::timeline_table(r, timeline));
    }
    out
}

fn progress_bar(end: Option<Millis>) -> indicatif::ProgressBar {
    let bar = match end {
        Some(e) => indicatif::ProgressBar::new(e),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:40}] {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(10));
    bar
}

/// `kubesched bench --list`'s line for the simulator workload.
pub const BENCH_DESCRIPTION: &str =
    "simulated hour: 5000 nodes, 50,000 pods arriving (Deployments, Jobs), 5% of nodes failing";

/// `kubesched bench simulate`: the best of `repeat` runs.
pub fn bench(seed: u64, repeat: usize) -> Result<()> {
    let mut best: Option<kubesched_sim::bench::BenchReport> = None;
    for _ in 0..repeat.max(1) {
        let r = kubesched_sim::bench::run(seed, kubesched_sim::bench::DEFAULT).map_err(anyhow::Error::msg)?;
        if best.as_ref().is_none_or(|b| r.wall < b.wall) {
            best = Some(r);
        }
    }
    let Some(r) = best else { return Ok(()) };
    println!(
        "simulate: {} of simulated time in {:.2}s ({:.0}x real time), {:.0} scheduling cycles/s",
        format_duration(r.simulated),
        r.wall.as_secs_f64(),
        r.speedup(),
        r.attempts_per_second()
    );
    println!(
        "  {} nodes ({} failed), {} pods created, {} bindings, {} evicted, {} succeeded, {} pending at the end, {} log events",
        r.shape.nodes, r.shape.failures, r.created, r.bound, r.evicted, r.succeeded, r.pending_at_end, r.events
    );
    Ok(())
}
