//! The embedded demos (`kubesched simulate` without a file), files in `crates/sim/demo/`:
//!
//! - `gpu` ([`SCENARIO`]): a GPU cluster under LeastAllocated and MostAllocated side by side,
//!   with multi-GPU training pods arriving after many one-GPU pods, a node failure with
//!   evictions after 300 s, and a gated pod released later;
//! - `autoscaling` ([`AUTO_MODE`]): EKS Auto Mode scaling a Deployment of 1-CPU pause pods
//!   1 → 100 → 200 → 50, nodes launched then consolidated, cost over time, and a Graviton spot
//!   NodePool taking arm64 pods (a c6g node);
//! - `fargate` ([`FARGATE`]): Fargate's sizes for a BestEffort and a 500m/500Mi pod, a
//!   privileged hostNetwork pod refused, per-pod nodes going with their pods, per-second bills.

use crate::scenario::{EmbeddedFiles, Scenario, parse};
use kubesched_k8s::LoadError;

pub const SCENARIO: &str = include_str!("../demo/scenario.yaml");
pub const AUTO_MODE: &str = include_str!("../demo/automode.yaml");
pub const FARGATE: &str = include_str!("../demo/fargate.yaml");

pub const FILES: &[(&str, &str)] = &[
    ("cluster.yaml", include_str!("../demo/cluster.yaml")),
    ("inference.yaml", include_str!("../demo/inference.yaml")),
    ("training.yaml", include_str!("../demo/training.yaml")),
    ("least-allocated.yaml", include_str!("../demo/least-allocated.yaml")),
    ("most-allocated.yaml", include_str!("../demo/most-allocated.yaml")),
    ("automode-cluster.yaml", include_str!("../demo/automode-cluster.yaml")),
    ("fargate-cluster.yaml", include_str!("../demo/fargate-cluster.yaml")),
    ("fargate-job.yaml", include_str!("../demo/fargate-job.yaml")),
];

/// The demos by name, in the order `kubesched simulate` shows them.
pub const DEMOS: &[(&str, &str, &str)] = &[
    ("gpu", "demo/scenario.yaml", SCENARIO),
    ("autoscaling", "demo/automode.yaml", AUTO_MODE),
    ("fargate", "demo/fargate.yaml", FARGATE),
];

/// The GPU demo, validated; `seed` overrides its seed.
pub fn scenario(seed: Option<u64>) -> Result<Scenario, Vec<LoadError>> {
    parse("demo/scenario.yaml", SCENARIO, &EmbeddedFiles { files: FILES }, seed)
}

/// A demo by name (`gpu`, `autoscaling`, `fargate`), validated; `None` for an unknown name.
pub fn named(name: &str, seed: Option<u64>) -> Option<Result<Scenario, Vec<LoadError>>> {
    let (_, file, text) = DEMOS.iter().find(|(n, _, _)| *n == name)?;
    Some(parse(file, text, &EmbeddedFiles { files: FILES }, seed))
}
