//! kubesched-autoscale: node autoscaling the way Karpenter and EKS Auto Mode do it.
//!
//! Reference: `shared/docs/karpenter-automode.md`, cited as "doc §n" throughout.
pub mod allocatable;
pub mod apply;
pub mod autoscaler;
pub mod bench;
pub mod catalog;
pub mod cost;
pub mod cron;
pub mod disruption;
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
pub use error::AutoscaleError;
pub use money::Money;
pub use provision::{ExistingPlacement, PlannedNodeClaim, Provisioning};
