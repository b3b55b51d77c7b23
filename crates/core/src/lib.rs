//! kubesched-core: the one scheduling core.
//!
//! - [`model`]: the compact cluster model (interned labels, resource vectors);
//! - [`snapshot`]: nodes with their accounted pods, in kube-scheduler's node-tree order;
//! - [`framework`]: the plugin trait, profiles, cycle state, registry;
//! - [`plugins`]: kube-scheduler's plugins, one file each;
//! - [`schedule`]: one scheduling cycle (filter → score → select → assume);
//! - [`config`]: `KubeSchedulerConfiguration` as typed data with kube-scheduler's defaults.
//!
//! No IO, no YAML, no kube-rs: every function here is a pure function of its inputs (the
//! scheduler's round-robin index and seeded RNG included).

pub mod admission;
pub mod args;
pub mod batch;
pub mod builders;
pub mod config;
pub mod fit_error;
pub mod framework;
pub mod gpu;
pub mod intern;
pub mod labels;
pub mod model;
pub mod pdb;
pub mod plugins;
pub mod quantity;
pub mod resources;
pub mod rng;
pub mod schedule;
pub mod selector;
pub mod snapshot;
pub mod snapshot_index;

pub use intern::Sym;
