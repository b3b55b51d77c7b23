//! Runs one benchmark workload and prints `<workload>: <N> pods/s`.
//!
//! `cargo run --release -p kubesched-bench --example run -- <workload> [seed] [runs]`
//! With several runs, each run's figure is printed and then the median.

use kubesched_bench::{find, run, workloads};

fn main() {
    let mut args = std::env::args().skip(1);
    let names: Vec<&str> = workloads::ALL.iter().map(|w| w.name).collect();
    let Some(name) = args.next() else {
        eprintln!("usage: run <workload> [seed] [runs]; workloads: {}", names.join(", "));
        std::process::exit(2);
    };
    let Some(workload) = find(&name) else {
        eprintln!("unknown workload {name:?}; workloads: {}", names.join(", "));
        std::process::exit(2);
    };
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let report = run(workload, seed);
        let rate = report.pods_per_second();
        if runs > 1 {
            eprintln!(
                "  run: {} pods on {} nodes, {} scheduled, {} unschedulable, {:.3}s",
                report.pods,
                report.nodes,
                report.scheduled,
                report.unschedulable,
                report.elapsed.as_secs_f64()
            );
        }
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!("{}: {:.0} pods/s", workload.name, rates[rates.len() / 2]);
}
