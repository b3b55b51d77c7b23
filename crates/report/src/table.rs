//! Tables for people.

use crate::schedule::ScheduleDocument;
use comfy_table::presets::NOTHING;
use comfy_table::{ContentArrangement, Table};

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(NOTHING).set_content_arrangement(ContentArrangement::Disabled).set_header(header.to_vec());
    t
}

/// The decisions, one row per pod, then the per-node explanation when present.
pub fn schedule(doc: &ScheduleDocument) -> String {
    let mut t = table(&["POD", "PROFILE", "OUTCOME", "NODE", "FEASIBLE/EXAMINED", "MESSAGE"]);
    for p in &doc.pods {
        let mut message = p.message.clone().unwrap_or_default();
        if let Some(by) = &p.preempted_by {
            message = format!("preempted by {by}");
        }
        if let Some(victims) = &p.preempted {
            message = format!("preempted {}", victims.join(", "));
        }
        t.add_row(vec![
            p.pod.clone(),
            p.profile.clone(),
            p.outcome.clone(),
            p.node
                .clone()
                .unwrap_or_else(|| p.nominated_node.clone().map(|n| format!("(nominated {n})")).unwrap_or_default()),
            format!("{}/{}", p.feasible_nodes, p.examined_nodes),
            message,
        ]);
    }
    let mut out = format!("{t}\n");
    let scheduled = doc.pods.iter().filter(|p| p.outcome == "Scheduled").count();
    out.push_str(&format!(
        "{} pods: {} scheduled, {} not scheduled\n",
        doc.pods.len(),
        scheduled,
        doc.pods.len() - scheduled
    ));
    if let Some(g) = &doc.gpu {
        let fits: Vec<String> = g.free_capacity_in_pods.iter().map(|(k, v)| format!("{v}×{k}-GPU")).collect();
        out.push_str(&format!(
            "GPUs: {} of {} allocated on {} nodes; {} idle, {:.1} of them fragmented ({:.0}%); free devices still fit {}\n",
            g.allocated_gpus,
            g.total_gpus,
            g.gpu_nodes,
            g.unallocated_gpus,
            g.fragmented_gpus,
            g.fragmentation_rate * 100.0,
            fits.join(", ")
        ));
    }
    for p in doc.pods.iter().filter(|p| p.nodes.is_some()) {
        let nodes = p.nodes.as_deref().unwrap_or(&[]);
        let plugins: Vec<String> = nodes.iter().filter_map(|n| n.scores.as_ref()).flat_map(|s| s.keys().cloned()).fold(
            Vec::new(),
            |mut acc, k| {
                if !acc.contains(&k) {
                    acc.push(k);
                }
                acc
            },
        );
        let mut header: Vec<&str> = vec!["NODE", "FEASIBLE"];
        header.extend(plugins.iter().map(|s| s.as_str()));
        header.extend(["TOTAL", "REASON"]);
        let mut t = table(&header);
        for n in nodes {
            let mut row = vec![n.node.clone(), if n.feasible { "yes".into() } else { "no".into() }];
            for plugin in &plugins {
                row.push(n.scores.as_ref().and_then(|s| s.get(plugin)).map(|v| v.to_string()).unwrap_or_default());
            }
            row.push(n.total.map(|t| t.to_string()).unwrap_or_default());
            row.push(match (&n.plugin, &n.reasons) {
                (Some(plugin), Some(reasons)) => format!("{plugin}: {}", reasons.join(", ")),
                _ => String::new(),
            });
            t.add_row(row);
        }
        out.push_str(&format!("\n{} ({}):\n{t}\n", p.pod, p.outcome));
    }
    out
}
