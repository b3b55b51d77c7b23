//! The embedded demo scenario (`kubesched simulate` without a file): a GPU cluster under
//! LeastAllocated and MostAllocated side by side, with multi-GPU training pods arriving after
//! many one-GPU pods, a node failure with evictions after 300 s, and a gated pod released later.
//! The files are in `crates/sim/demo/`.

use crate::scenario::{EmbeddedFiles, Scenario, parse};
use kubesched_k8s::LoadError;

pub const SCENARIO: &str = include_str!("../demo/scenario.yaml");

pub const FILES: &[(&str, &str)] = &[
    ("cluster.yaml", include_str!("../demo/cluster.yaml")),
    ("inference.yaml", include_str!("../demo/inference.yaml")),
    ("training.yaml", include_str!("../demo/training.yaml")),
    ("least-allocated.yaml", include_str!("../demo/least-allocated.yaml")),
    ("most-allocated.yaml", include_str!("../demo/most-allocated.yaml")),
];

/// The demo, validated; `seed` overrides its seed.
pub fn scenario(seed: Option<u64>) -> Result<Scenario, Vec<LoadError>> {
    parse("demo/scenario.yaml", SCENARIO, &EmbeddedFiles { files: FILES }, seed)
}
