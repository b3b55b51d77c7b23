//! Prints the autoscaling benchmark table: `cargo run --release -p kubesched-autoscale --example bench_autoscale`.

fn main() {
    let results = kubesched_autoscale::bench::run_all();
    print!("{}", kubesched_autoscale::bench::table(&results));
}
