//! SchedulingWithExtendedResource-shaped: 8-GPU nodes, pods asking for 1, 2 or 4 GPUs, scored
//! with MostAllocated over cpu, memory and nvidia.com/gpu as GPU clusters are configured.

use super::{default_node, default_pod};
use crate::{Prepared, Workload, scheduler};
use kubesched_core::args::ArgValue;
use kubesched_core::config::{PluginArgs, SchedulerConfig};
use kubesched_core::snapshot::Snapshot;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const WORKLOAD: Workload = Workload {
    name: "gpu",
    description: "5000 nodes with 8 nvidia.com/gpu each, 10000 pods requesting 1/2/4 GPUs, MostAllocated",
    kube_threshold: Some(180.0),
    prepare,
};

fn map(pairs: Vec<(&str, ArgValue)>) -> ArgValue {
    ArgValue::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>())
}

fn prepare(seed: u64) -> Prepared {
    let mut snapshot = Snapshot::new();
    for i in 0..5000 {
        snapshot
            .add_node(default_node(i).cpu_milli(64_000).memory(512 * super::GI).scalar("nvidia.com/gpu", 8).build());
    }
    let pods = (0..10_000)
        .map(|i| Arc::new(default_pod("default", i).scalar("nvidia.com/gpu", [1, 1, 2, 4][i % 4]).build()))
        .collect();
    let resource =
        |name: &str, weight: i64| map(vec![("name", ArgValue::String(name.into())), ("weight", ArgValue::Int(weight))]);
    let mut config = SchedulerConfig::default();
    config.profiles[0].plugin_config.push(PluginArgs {
        name: "NodeResourcesFit".into(),
        args: map(vec![(
            "scoringStrategy",
            map(vec![
                ("type", ArgValue::String("MostAllocated".into())),
                (
                    "resources",
                    ArgValue::List(vec![resource("cpu", 1), resource("memory", 1), resource("nvidia.com/gpu", 3)]),
                ),
            ]),
        )]),
    });
    Prepared { snapshot, scheduler: scheduler(&config, seed), pods }
}
