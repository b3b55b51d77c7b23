//! kubesched-fargate: EKS Fargate-style serverless placement.
//!
//! The pieces, in the order a pod meets them (reference: `shared/docs/fargate.md`, cited as
//! "doc §n" throughout):
//!
//! - [`profile`]: Fargate profiles from eksctl `ClusterConfig`, the ACK `FargateProfile`
//!   resource and `aws eks describe-fargate-profile` JSON, validated against the quotas;
//! - [`admission`]: the mutating webhook — which profile takes a pod ([`admission::match_profile`])
//!   and what it writes into it ([`admission::admit`]);
//! - [`validate`]: `Pod not supported on Fargate: …`, every failing check in Fargate's order;
//! - [`sizing`]: requests → vCPU/memory combination, ephemeral storage, `CapacityProvisioned`;
//! - [`placement`]: the per-pod node (a `kubesched_core` `Node`), subnets, zones, addresses;
//! - [`scheduler`]: `fargate-scheduler` tying validation, node constraints, sizing and
//!   placement together for the simulator and `schedule`;
//! - [`lifecycle`]: provisioning delay and event texts;
//! - [`cost`]: per-second billing with a one-minute minimum, hourly and monthly figures;
//! - [`logging`]: the `aws-observability/aws-logging` ConfigMap and the `Logging` annotation;
//! - [`report`]: the data behind `kubesched fargate check`.
//!
//! Inputs are `k8s-openapi` objects and, for profiles, raw `serde_json::Value` documents with
//! a source label. No IO. Integer arithmetic throughout (quantities via
//! `kubesched_core::quantity`, money in pico-dollars). Deterministic for a given seed.

pub mod admission;
pub mod cost;
pub mod error;
pub mod glob;
pub mod lifecycle;
pub mod logging;
pub mod net;
pub mod placement;
pub mod profile;
pub mod reason;
pub mod report;
pub mod scheduler;
pub mod sizing;
pub mod validate;
pub mod webhook;

pub use admission::{Admission, ProfileMatch, admit, match_profile};
pub use cost::{FargatePrices, Money, PodCost, pod_cost};
pub use error::FargateError;
pub use logging::LoggingConfig;
pub use placement::{Placement, Placer, fargate_node};
pub use profile::{
    FargateProfile, ProfileLimits, ProfileSelector, ProfileStatus, Subnet, is_profile_document, profiles_from_value,
    validate_profiles,
};
pub use reason::Rejection;
pub use report::{CheckOptions, CheckReport, PodReport, check};
pub use scheduler::{Binding, FargateScheduler, ScheduleOutcome, is_fargate_pod};
pub use sizing::{EphemeralStorage, FargateSize, PodSizing, size_pod};
pub use validate::{ValidationOptions, VolumeCatalog, validate_pod};
pub use webhook::FargateWebhook;
