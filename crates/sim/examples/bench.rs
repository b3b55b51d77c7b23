//! The `kubesched bench simulate` workload, standalone: `cargo run --release -p kubesched-sim --example bench`.

fn main() {
    let seed = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    match kubesched_sim::bench::run(seed, kubesched_sim::bench::DEFAULT) {
        Ok(r) => {
            println!("{r:#?}\n{:.0}x real time, {:.0} scheduling attempts/s", r.speedup(), r.attempts_per_second())
        }
        Err(e) => eprintln!("error: {e}"),
    }
}
