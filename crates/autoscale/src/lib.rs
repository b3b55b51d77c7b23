//! kubesched-autoscale: node autoscaling the way Karpenter and EKS Auto Mode do it.
//!
//! Reference: `shared/docs/karpenter-automode.md`, cited as "doc §n" throughout. Karpenter's and
//! the AWS provider's behaviour is reproduced from that description and their public sources;
//! the code is our own.
//!
//! # The one rule
//!
//! The autoscaler never re-implements a filter or a score. Whether a pod fits a node — an
//! existing one, a planned NodeClaim, or a candidate new node — is decided by the PreFilter and
//! Filter plugins of a [`kubesched_core::framework::Profile`] on a concrete
//! [`kubesched_core::model::Node`] (labels, taints, allocatable of the instance type) in a
//! scratch [`kubesched_core::snapshot::Snapshot`] that accounts the pods already planned there.
//! Karpenter's requirement algebra ([`requirements`]) only narrows the instance types a
//! NodeClaim may launch as.
//!
//! # Pieces
//!
//! - inputs: [`nodepool`] (`karpenter.sh/v1` NodePool, Auto Mode built-ins), [`nodeclass`]
//!   (`EC2NodeClass`, Auto Mode `NodeClass`), [`documents`] (raw documents → both);
//! - [`catalog`]: instance types (embedded, generated from the shared CSV; or a CSV at run time),
//!   offerings and prices; [`allocatable`]: Karpenter's capacity and overhead formulas;
//!   [`template`]: a pool resolved against its class and the catalog, node labels, the launch
//!   decision;
//! - [`Autoscaler`]: everything resolved; [`Autoscaler::provision`] plans NodeClaims
//!   ([`provision`]; with [`Options::repack`], kubesched's cost-aware repacking of the planned
//!   claims, off by default); [`Autoscaler::compute_disruption`], [`Autoscaler::validate_disruption`],
//!   [`Autoscaler::expired_nodes`], [`Autoscaler::disruption_budgets`] decide disruption
//!   ([`disruption`]); [`apply`] applies decisions to a snapshot at once;
//! - [`cost`]: $/hour and lower bounds; [`bench`](mod@bench): the quality benchmark; [`timing`]: the
//!   lifecycle delays and controller periods for the simulator.
//!
//! Money is integer micro-dollars ([`Money`]); nothing random except NodeClaim names, drawn from
//! `kubesched_core::rng::Rng` with [`Options::seed`]; no hash-map order reaches a result.
pub mod allocatable;
pub mod apply;
pub mod autoscaler;
pub mod bench;
pub mod catalog;
pub mod cost;
pub mod cron;
pub mod disruption;
pub mod documents;
pub mod duration;
pub mod error;
mod json;
pub mod labels;
pub mod money;
pub mod nodeclass;
pub mod nodepool;
pub mod provision;
pub mod requirements;
pub mod template;
pub mod timing;

pub use autoscaler::{Autoscaler, ClusterView, ManagedNode, MinValuesPolicy, Options, default_profile};
pub use documents::{Documents, is_autoscaling_document, read_documents};
pub use error::AutoscaleError;
pub use money::Money;
pub use provision::{ExistingPlacement, PlannedNodeClaim, Provisioning};
