//! kubesched-k8s: the edge layer that turns ordinary Kubernetes YAML/JSON into the core model.
//!
//! - [`input`]: files, folders and stdin;
//! - [`yaml`], [`json`], [`tree`], [`de`]: parsing into trees that remember lines, and serde
//!   decoding into `k8s-openapi` types with field paths;
//! - [`decode`]: documents → typed objects or [`RawDocument`]s for other crates;
//! - [`admission`]: the pod mutating chain (defaults, Priority, DefaultTolerationSeconds);
//! - [`controllers`]: Deployment/ReplicaSet/StatefulSet/Job/DaemonSet expansion;
//! - [`convert`]: `k8s-openapi` → `kubesched_core::model`, one object at a time;
//! - [`config`]: `KubeSchedulerConfiguration` → `kubesched_core::config::SchedulerConfig`;
//! - [`cluster`]: the whole pipeline, [`load`] → [`Cluster`].

pub mod admission;
pub mod cluster;
pub mod config;
pub mod controllers;
pub mod convert;
pub mod de;
pub mod decode;
pub mod error;
pub mod input;
pub mod json;
pub mod tree;
pub mod yaml;

pub use cluster::{Cluster, LoadOptions, Loaded, LoadedNode, LoadedPod, PodError, admit_and_convert, build, load};
pub use config::{LoadedConfig, load_scheduler_config, parse_scheduler_config};
pub use decode::{Decoded, DecodedObject, Object, RawDocument, unclaimed_kind_warnings};
pub use error::{ErrorKind, LoadError, Source};
pub use input::Input;

/// Helpers shared by the crate's unit tests.
#[cfg(test)]
pub(crate) mod test_util {
    use crate::de::from_node;

    /// Decodes the first document of `yaml` into a k8s-openapi type.
    pub fn decode<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
        let (docs, errs) = crate::yaml::parse(yaml);
        assert!(errs.is_empty(), "{errs:?}");
        from_node(docs[0].root.as_ref().expect("root")).expect("decodes")
    }
}
