//! Output of replays: the JSON contract, a table of means over seeds, and an SVG chart.
//!
//! JSON (tools outside this repository read it; keep it exactly so):
//!
//! ```json
//! {"runs": [{"policy": "fgd", "seed": 0, "points": [{"arrivedGpuPercent": 130,
//!   "allocatedGpus": 5926.5, "unallocatedGpus": 285.5, "fragmentationRate": 0.12,
//!   "failedPods": 17}]}]}
//! ```

use crate::replay::{Policy, Run};
use serde_json::{Value, json};
use std::fmt::Write;

fn gpus(milli: u64) -> f64 {
    milli as f64 / 1000.0
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// The JSON document of `runs`.
pub fn json(runs: &[Run]) -> String {
    let runs: Vec<Value> = runs
        .iter()
        .map(|r| {
            let points: Vec<Value> = r
                .points
                .iter()
                .map(|p| {
                    json!({
                        "arrivedGpuPercent": p.arrived_gpu_percent,
                        "allocatedGpus": gpus(p.allocated_milli),
                        "unallocatedGpus": gpus(p.unallocated_milli),
                        "fragmentationRate": round(p.fragmentation_rate, 4),
                        "failedPods": p.failed_pods,
                    })
                })
                .collect();
            json!({"policy": r.policy.name(), "seed": r.seed, "points": points})
        })
        .collect();
    let doc = json!({ "runs": runs });
    doc.to_string()
}

/// Policies in first-seen order with their runs.
fn by_policy(runs: &[Run]) -> Vec<(Policy, Vec<&Run>)> {
    let mut out: Vec<(Policy, Vec<&Run>)> = Vec::new();
    for r in runs {
        match out.iter_mut().find(|(p, _)| *p == r.policy) {
            Some((_, v)) => v.push(r),
            None => out.push((r.policy, vec![r])),
        }
    }
    out
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut n, mut s) = (0usize, 0.0);
    for x in xs {
        n += 1;
        s += x;
    }
    if n == 0 { 0.0 } else { s / n as f64 }
}

/// The sample standard deviation (`None` for fewer than two values).
fn sample_sd(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs.iter().copied());
    Some((xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt())
}

/// A table: one row per policy, the mean over its seeds of unallocated GPUs (and the GPU
/// allocation ratio) at every level, the fragmentation rate and failed pods at the last level,
/// the standard deviation over seeds of the unallocated GPUs at the last level (`sd`, sample
/// standard deviation; `-` for one seed), and the mean run time.
pub fn table(runs: &[Run]) -> String {
    let groups = by_policy(runs);
    let Some(first) = runs.first() else { return "no runs\n".into() };
    let levels: Vec<u32> = first.points.iter().map(|p| p.arrived_gpu_percent).collect();
    let cap = first.capacity_milli as f64;
    let mut header = vec!["policy".to_string(), "seeds".to_string()];
    for l in &levels {
        header.push(format!("unalloc@{l}%"));
        header.push(format!("alloc@{l}%"));
    }
    if let Some(l) = levels.last() {
        header.push(format!("frag@{l}%"));
        header.push(format!("failed@{l}%"));
        header.push(format!("sd@{l}%"));
    }
    header.push("s/run".into());
    let mut rows = vec![header];
    for (policy, rs) in &groups {
        let mut row = vec![policy.name().to_string(), rs.len().to_string()];
        for i in 0..levels.len() {
            let un = mean(rs.iter().filter_map(|r| r.points.get(i)).map(|p| gpus(p.unallocated_milli)));
            let al = mean(rs.iter().filter_map(|r| r.points.get(i)).map(|p| p.allocated_milli as f64));
            row.push(format!("{un:.1}"));
            row.push(format!("{:.2}%", 100.0 * al / cap));
        }
        if !levels.is_empty() {
            let last = levels.len() - 1;
            let fr = mean(rs.iter().filter_map(|r| r.points.get(last)).map(|p| p.fragmentation_rate));
            let fp = mean(rs.iter().filter_map(|r| r.points.get(last)).map(|p| p.failed_pods as f64));
            row.push(format!("{:.1}%", 100.0 * fr));
            row.push(format!("{fp:.1}"));
            let un: Vec<f64> =
                rs.iter().filter_map(|r| r.points.get(last)).map(|p| gpus(p.unallocated_milli)).collect();
            row.push(match sample_sd(&un) {
                Some(sd) => format!("{sd:.1}"),
                None => "-".to_string(),
            });
        }
        row.push(format!("{:.2}", mean(rs.iter().map(|r| r.elapsed.as_secs_f64()))));
        rows.push(row);
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.len())).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (k, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| if c == 0 { format!("{s:<w$}", w = widths[c]) } else { format!("{s:>w$}", w = widths[c]) })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        if k == 0 {
            let _ = writeln!(out, "{}", "-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
        }
    }
    let _ = writeln!(
        out,
        "GPU capacity {:.0}; unalloc = unallocated GPUs, alloc = GPU allocation ratio, means over seeds",
        cap / 1000.0
    );
    out
}

const COLORS: &[&str] = &["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"];

/// An SVG line chart of unallocated GPUs (mean over seeds) against arrived GPU demand, one line
/// per policy, with the ideal (everything that arrived is allocated) dashed.
pub fn svg(runs: &[Run]) -> String {
    let groups = by_policy(runs);
    let (w, h) = (760.0f64, 460.0f64);
    let (left, right, top, bottom) = (70.0, 170.0, 30.0, 50.0);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let cap = runs.first().map_or(1.0, |r| r.capacity_milli as f64 / 1000.0);
    let max_pct = runs.iter().flat_map(|r| r.curve.iter().map(|c| c.0)).max().unwrap_or(100).max(1) as f64;
    let x = |pct: f64| left + pct / max_pct * pw;
    let y = |g: f64| top + ph - (g / cap).clamp(0.0, 1.0) * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="18" text-anchor="middle" font-size="14">Unallocated GPUs vs arrived GPU demand</text>"#,
        left + pw / 2.0
    );
    for i in 0..=5 {
        let g = cap * i as f64 / 5.0;
        let yy = y(g);
        let _ = writeln!(s, r##"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/>"##, left + pw);
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{g:.0}</text>"#, left - 6.0, yy + 4.0);
    }
    let mut pct = 0.0;
    while pct <= max_pct + 1e-9 {
        let xx = x(pct);
        let _ = writeln!(s, r##"<line x1="{xx:.1}" y1="{top}" x2="{xx:.1}" y2="{:.1}" stroke="#eee"/>"##, top + ph);
        let _ = writeln!(s, r#"<text x="{xx:.1}" y="{:.1}" text-anchor="middle">{pct:.0}%</text>"#, top + ph + 16.0);
        pct += 10.0;
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">arrived GPU demand (% of capacity)</text>"#,
        left + pw / 2.0,
        h - 10.0
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">unallocated GPUs</text>"#,
        top + ph / 2.0,
        top + ph / 2.0
    );
    let _ = writeln!(s, r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##);
    // Ideal: unallocated = capacity − arrived.
    let _ = writeln!(
        s,
        r##"<polyline fill="none" stroke="#999" stroke-dasharray="4 4" points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}"/>"##,
        x(0.0),
        y(cap),
        x(100.0_f64.min(max_pct)),
        y(cap * (1.0 - 100.0_f64.min(max_pct) / 100.0)),
        x(max_pct),
        y(cap * (1.0 - 100.0_f64.min(max_pct) / 100.0))
    );
    for (k, (policy, rs)) in groups.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let n = rs.iter().map(|r| r.curve.len()).min().unwrap_or(0);
        let pts: Vec<String> = (0..n)
            .map(|i| {
                let pct = rs[0].curve[i].0 as f64;
                let g = mean(rs.iter().map(|r| r.curve[i].1 as f64 / 1000.0));
                format!("{:.1},{:.1}", x(pct), y(g))
            })
            .collect();
        let _ = writeln!(s, r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#, pts.join(" "));
        let end = rs.iter().filter_map(|r| r.curve.last()).map(|c| c.1 as f64 / 1000.0);
        let ly = top + 14.0 + 20.0 * k as f64;
        let lx = left + pw + 12.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{} ({:.0})</text>"#,
            lx + 18.0,
            lx + 24.0,
            ly + 4.0,
            policy.name(),
            mean(end)
        );
    }
    let ly = top + 14.0 + 20.0 * groups.len() as f64;
    let lx = left + pw + 12.0;
    let _ = writeln!(
        s,
        r##"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="#999" stroke-dasharray="4 4"/><text x="{:.1}" y="{:.1}">ideal</text>"##,
        lx + 18.0,
        lx + 24.0,
        ly + 4.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::Point;
    use std::time::Duration;

    fn run(policy: Policy, seed: u64, unalloc: u64) -> Run {
        Run {
            policy,
            seed,
            points: vec![Point {
                arrived_gpu_percent: 130,
                arrived_milli: 13_000,
                allocated_milli: 10_000 - unalloc,
                unallocated_milli: unalloc,
                fragmentation_rate: 0.123456,
                failed_pods: 3,
            }],
            curve: vec![(0, 10_000), (130, unalloc)],
            capacity_milli: 10_000,
            pods: 10,
            failed: 3,
            elapsed: Duration::from_millis(1500),
        }
    }

    #[test]
    fn json_follows_the_contract() {
        let out = json(&[run(Policy::Fgd, 0, 2855)]);
        assert_eq!(
            out,
            r#"{"runs":[{"policy":"fgd","seed":0,"points":[{"arrivedGpuPercent":130,"allocatedGpus":7.145,"unallocatedGpus":2.855,"fragmentationRate":0.1235,"failedPods":3}]}]}"#
        );
    }

    #[test]
    fn table_shows_means_per_policy() {
        let t = table(&[run(Policy::Fgd, 0, 2000), run(Policy::Fgd, 1, 3000), run(Policy::BestFit, 0, 4000)]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("policy") && lines[0].contains("unalloc@130%"), "{t}");
        // fgd: mean 2.5 GPUs unallocated, 75 % allocated.
        assert!(lines[2].starts_with("fgd") && lines[2].contains(" 2.5 ") && lines[2].contains("75.00%"), "{t}");
        assert!(lines[3].starts_with("bestfit") && lines[3].contains(" 4.0 ") && lines[3].contains("60.00%"), "{t}");
        // sd over seeds of 2.0 and 3.0: √0.5 = 0.7; one seed has none.
        assert!(lines[0].contains("sd@130%"), "{t}");
        assert!(lines[2].contains(" 0.7 ") && lines[3].contains(" - "), "{t}");
    }

    #[test]
    fn svg_has_one_line_per_policy() {
        let s = svg(&[run(Policy::Fgd, 0, 2000), run(Policy::BestFit, 0, 4000)]);
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert_eq!(s.matches("stroke-width=\"2\" points=").count(), 2);
        assert!(s.contains(">fgd (2)<") && s.contains(">bestfit (4)<"), "{s}");
    }
}
