//! Runs the embedded demo and prints the comparison table (the same as `kubesched simulate`).

fn main() {
    let scenario = match kubesched_sim::demo::scenario(None) {
        Ok(s) => s,
        Err(errs) => {
            for e in errs {
                eprintln!("error: {e}");
            }
            std::process::exit(2);
        }
    };
    let start = std::time::Instant::now();
    match kubesched_sim::simulate(&scenario, None, None, &mut |_, _, _| {}) {
        Ok(kubesched_sim::Outcome::Compare(c)) => {
            print!("{}", kubesched_sim::report::comparison_table(&c, 40));
            for r in [&c.a, &c.b] {
                print!("\n{}", kubesched_sim::report::timeline_table(r, 200));
            }
        }
        Ok(kubesched_sim::Outcome::Single(r)) => print!("{}", kubesched_sim::report::table(&r, 200)),
        Err(e) => eprintln!("error: {e}"),
    }
    eprintln!("wall {:?}", start.elapsed());
}
