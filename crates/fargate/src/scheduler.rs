//! `fargate-scheduler` (doc §0, §9): for each admitted pod, validate, check the node
//! constraints against the profile's subnets, size, and bind to a fresh per-pod node.

use crate::admission::PROFILE_LABEL;
use crate::cost::{FargatePrices, PodCost, pod_cost};
use crate::error::FargateError;
use crate::placement::{Placement, Placer, feasible_subnets, match_node_selector_rejection};
use crate::profile::{FargateProfile, ProfileStatus};
use crate::reason::Rejection;
use crate::sizing::{EphemeralStorage, FargateSize, PodSizing, size_pod};
use crate::validate::{FARGATE_SCHEDULER_NAME, ValidationOptions, VolumeCatalog, validate_pod};
use k8s_openapi::api::core::v1::Pod;

/// True for pods the webhook handed to fargate-scheduler.
pub fn is_fargate_pod(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.scheduler_name.as_deref()) == Some(FARGATE_SCHEDULER_NAME)
}

/// Every reason fargate-scheduler refuses an admitted pod, in the order it would meet them:
/// the `Pod not supported on Fargate` validation (doc §3), the node selector / affinity
/// check against the profile's subnets (doc §1.3), then sizing (doc §2). Fargate itself stops
/// at the first; all are listed so that users see everything to fix.
pub fn rejections(
    pod: &Pod,
    profile: &FargateProfile,
    sizing: &PodSizing,
    region: &str,
    volumes: Option<&VolumeCatalog>,
    validation: &ValidationOptions,
) -> Vec<Rejection> {
    let mut out = Vec::new();
    out.extend(validate_pod(pod, volumes, validation));
    if feasible_subnets(pod, profile, region).is_empty() {
        out.push(match_node_selector_rejection(&profile.name));
    }
    out.extend(sizing.rejections());
    out
}

/// What fargate-scheduler does with one pod.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleOutcome {
    /// Bound to its own node.
    Bound(Box<Binding>),
    /// `FailedScheduling`; the pod stays Pending (no fallback to EC2, doc §1.6; failures are
    /// sticky, doc §1.7). The first rejection is the event Fargate emits.
    Unschedulable { profile: String, rejections: Vec<Rejection> },
    /// `schedulerName: fargate-scheduler` but no active profile by the pod's label selects
    /// it: Pending forever without an event (doc §1.5, §9).
    NoProfile,
}

/// A bound Fargate pod.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub profile: String,
    /// The profile's region (or the scheduler's default), for prices.
    pub region: String,
    pub placement: Placement,
    pub size: FargateSize,
    pub storage: EphemeralStorage,
    pub capacity_provisioned: String,
}

impl Binding {
    /// Hourly and monthly cost at `prices` (see [`FargatePrices::for_region`] with
    /// [`Binding::region`]).
    pub fn cost(&self, prices: &FargatePrices) -> PodCost {
        pod_cost(self.size, &self.storage, prices)
    }
}

/// fargate-scheduler with its own deterministic address allocation.
#[derive(Clone, Debug)]
pub struct FargateScheduler {
    placer: Placer,
    volumes: Option<VolumeCatalog>,
    validation: ValidationOptions,
}

impl FargateScheduler {
    /// `default_region` for profiles whose input names none; `seed` drives subnet and
    /// address choice.
    pub fn new(default_region: &str, seed: u64) -> FargateScheduler {
        FargateScheduler { placer: Placer::new(default_region, seed), volumes: None, validation: Default::default() }
    }

    pub fn with_volumes(mut self, volumes: VolumeCatalog) -> FargateScheduler {
        self.volumes = Some(volumes);
        self
    }

    pub fn with_validation(mut self, validation: ValidationOptions) -> FargateScheduler {
        self.validation = validation;
        self
    }

    pub fn placer_mut(&mut self) -> &mut Placer {
        &mut self.placer
    }

    /// Schedules an admitted pod (see [`crate::admission::admit`]). Pods of other schedulers
    /// are a caller error and come back as `NoProfile`.
    pub fn schedule(&mut self, pod: &Pod, profiles: &[FargateProfile]) -> Result<ScheduleOutcome, FargateError> {
        if !is_fargate_pod(pod) {
            return Ok(ScheduleOutcome::NoProfile);
        }
        let label = pod.metadata.labels.as_ref().and_then(|l| l.get(PROFILE_LABEL));
        let Some(profile) = profiles.iter().find(|p| Some(&p.name) == label && p.status == ProfileStatus::Active)
        else {
            return Ok(ScheduleOutcome::NoProfile);
        };
        let location = format!(
            "pod {}/{}",
            pod.metadata.namespace.as_deref().unwrap_or("default"),
            pod.metadata.name.as_deref().unwrap_or("")
        );
        let sizing = size_pod(pod, &location)?;
        let region = self.placer.region_for(profile).to_string();
        let refused = rejections(pod, profile, &sizing, &region, self.volumes.as_ref(), &self.validation);
        let (Some(size), Some(storage), true) = (sizing.size, sizing.ephemeral_storage, refused.is_empty()) else {
            return Ok(ScheduleOutcome::Unschedulable { profile: profile.name.clone(), rejections: refused });
        };
        match self.placer.place(pod, profile, size, &storage) {
            Ok(placement) => Ok(ScheduleOutcome::Bound(Box::new(Binding {
                profile: profile.name.clone(),
                region,
                placement,
                size,
                storage,
                capacity_provisioned: size.capacity_provisioned(),
            }))),
            Err(r) => Ok(ScheduleOutcome::Unschedulable { profile: profile.name.clone(), rejections: vec![r] }),
        }
    }

    /// The pod object was deleted: its node goes away and its address is free again. Call it
    /// on deletion, not on completion: Completed and Failed pods (Jobs) keep their node, and
    /// their cost, until the pod object is deleted (doc §4.4).
    pub fn release(&mut self, binding: &Binding) {
        self.placer.release(binding.placement.ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::admit;
    use crate::logging::LoggingConfig;
    use crate::profile::{ProfileSelector, Subnet};
    use serde_json::{Value, json};

    fn profiles() -> Vec<FargateProfile> {
        let mut p = FargateProfile::new("fp-default", vec![ProfileSelector::new("default", &[])]);
        p.region = Some("ap-northeast-2".into());
        p.subnets = vec![Subnet {
            id: "subnet-a".into(),
            zone: Some("ap-northeast-2a".into()),
            cidr: Some("10.1.0.0/20".parse().unwrap()),
        }];
        vec![p]
    }

    fn admitted(spec: Value) -> Pod {
        let mut pod: Pod =
            serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "default"}, "spec": spec})).unwrap();
        admit(&mut pod, &profiles(), &LoggingConfig::NotFound).unwrap().unwrap();
        pod
    }

    #[test]
    fn the_three_seed_cases() {
        let mut s = FargateScheduler::new("us-east-1", 1);
        // BestEffort → 0.25vCPU 0.5GB.
        let be = admitted(json!({"containers": [{"name": "c", "image": "nginx"}]}));
        let ScheduleOutcome::Bound(b) = s.schedule(&be, &profiles()).unwrap() else { panic!() };
        assert_eq!(b.capacity_provisioned, "0.25vCPU 0.5GB");
        assert!(b.placement.node_name.starts_with("fargate-ip-10-1-"));
        assert!(b.placement.node_name.ends_with(".ap-northeast-2.compute.internal"));
        assert_eq!(b.placement.zone, "ap-northeast-2a");
        assert_eq!(b.region, "ap-northeast-2");
        let seoul = FargatePrices::for_region(&b.region).unwrap();
        // 0.25 × 0.04656 + 0.5 × 0.00511.
        assert_eq!(b.cost(&seoul).hourly.to_decimal_string(), "0.014195");
        // 500m/500Mi → 0.5vCPU 1GB.
        let small = admitted(
            json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "500m", "memory": "500Mi"}}}]}),
        );
        let ScheduleOutcome::Bound(b2) = s.schedule(&small, &profiles()).unwrap() else { panic!() };
        assert_eq!(b2.capacity_provisioned, "0.5vCPU 1GB");
        assert_ne!(b.placement.ip, b2.placement.ip);
        // Privileged + hostNetwork → refused.
        let priv_ = admitted(
            json!({"hostNetwork": true, "containers": [{"name": "c", "securityContext": {"privileged": true}}]}),
        );
        assert_eq!(
            s.schedule(&priv_, &profiles()).unwrap(),
            ScheduleOutcome::Unschedulable {
                profile: "fp-default".into(),
                rejections: vec![Rejection::new(
                    "POD_UNSUPPORTED_ON_FARGATE",
                    "Pod not supported on Fargate: fields not supported: HostNetwork, invalid SecurityContext fields: Privileged"
                )]
            }
        );
    }

    #[test]
    fn every_reason_is_listed() {
        let mut s = FargateScheduler::new("us-east-1", 1);
        let pod = admitted(json!({
            "nodeSelector": {"topology.kubernetes.io/zone": "ap-northeast-2c"},
            "containers": [{"name": "c", "securityContext": {"allowPrivilegeEscalation": true},
                            "resources": {"requests": {"cpu": "32", "memory": "1Gi"}}}]
        }));
        let ScheduleOutcome::Unschedulable { rejections, .. } = s.schedule(&pod, &profiles()).unwrap() else {
            panic!()
        };
        let reasons: Vec<&str> = rejections.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(
            reasons,
            ["POD_UNSUPPORTED_ON_FARGATE", "MatchNodeSelector", "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE"]
        );
    }

    #[test]
    fn pods_without_an_active_profile_wait_silently() {
        let mut s = FargateScheduler::new("us-east-1", 1);
        let pod = admitted(json!({"containers": [{"name": "c"}]}));
        let mut gone = profiles();
        gone[0].status = ProfileStatus::Deleting;
        assert_eq!(s.schedule(&pod, &gone).unwrap(), ScheduleOutcome::NoProfile);
        let plain: Pod =
            serde_json::from_value(json!({"metadata": {"name": "x"}, "spec": {"containers": [{"name": "c"}]}}))
                .unwrap();
        assert_eq!(s.schedule(&plain, &profiles()).unwrap(), ScheduleOutcome::NoProfile);
    }

    #[test]
    fn release_frees_the_address() {
        let mut p = profiles();
        p[0].subnets[0].cidr = Some("10.1.0.0/29".parse().unwrap());
        let pod = admitted(json!({"containers": [{"name": "c"}]}));
        let mut s = FargateScheduler::new("us-east-1", 9);
        let bound: Vec<_> = (0..3)
            .map(|_| match s.schedule(&pod, &p).unwrap() {
                ScheduleOutcome::Bound(b) => b,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(matches!(s.schedule(&pod, &p).unwrap(), ScheduleOutcome::Unschedulable { .. }));
        s.release(&bound[1]);
        let ScheduleOutcome::Bound(again) = s.schedule(&pod, &p).unwrap() else { panic!() };
        assert_eq!(again.placement.ip, bound[1].placement.ip);
    }
}
