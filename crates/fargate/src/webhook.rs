//! The mutating webhook as a step of the loader's admission chain: pods created in the input
//! (not those of a cluster dump, which the real webhook already saw) are matched against the
//! profiles and rewritten for `fargate-scheduler`.

use crate::admission::admit;
use crate::logging::LoggingConfig;
use crate::profile::FargateProfile;
use k8s_openapi::api::core::v1::Pod;
use kubesched_k8s::admission::{AdmissionContext, AdmissionError, PodMutator};
use kubesched_k8s::tree::FieldPath;

/// `0500-amazon-eks-fargate-mutation.amazonaws.com` (doc §0).
pub struct FargateWebhook {
    pub profiles: Vec<FargateProfile>,
    pub logging: LoggingConfig,
}

impl PodMutator for FargateWebhook {
    fn name(&self) -> &str {
        "0500-amazon-eks-fargate-mutation.amazonaws.com"
    }

    fn admit(&self, pod: &mut Pod, cx: &AdmissionContext<'_>) -> Result<(), AdmissionError> {
        if cx.already_admitted || self.profiles.is_empty() {
            return Ok(());
        }
        admit(pod, &self.profiles, &self.logging)
            .map(|_| ())
            .map_err(|e| AdmissionError { path: FieldPath::root().key("spec"), message: e.to_string() })
    }
}
