//! The compact cluster model: nodes, pods, namespaces, taints, affinity.
//!
//! These are not Kubernetes API types: the edge layer converts `k8s-openapi` objects into them
//! once, interning strings and precomputing what the hot path reads (pod requests, host ports).

pub mod affinity;
pub mod node;
pub mod pod;
pub mod taint;
pub mod workload;

pub use affinity::*;
pub use node::*;
pub use pod::*;
pub use taint::*;
pub use workload::*;

use crate::intern::Sym;
use crate::labels::Labels;

/// A namespace and its labels (for `namespaceSelector`).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Namespace {
    pub name: Sym,
    pub labels: Labels,
}
