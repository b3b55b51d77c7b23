//! kubesched-autoscale: node autoscaling the way Karpenter and EKS Auto Mode do it.
//!
//! Reference: `shared/docs/karpenter-automode.md`, cited as "doc §n" throughout.
pub mod allocatable;
pub mod catalog;
pub mod cron;
pub mod duration;
pub mod error;
mod json;
pub mod labels;
pub mod money;
pub mod nodeclass;
pub mod nodepool;
pub mod requirements;

pub use error::AutoscaleError;
pub use money::Money;
