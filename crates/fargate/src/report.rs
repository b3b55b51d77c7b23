//! Data for `kubesched fargate check`: per pod, which profile takes it, whether Fargate
//! accepts it (every reason if not), its size and its cost. Plain structs with stable
//! camelCase field names; the CLI serializes them.

use crate::admission::{ProfileMatch, admit, match_profile};
use crate::cost::{FargatePrices, Money, PodCost, pod_cost};
use crate::error::FargateError;
use crate::logging::LoggingConfig;
use crate::placement::Placer;
use crate::profile::FargateProfile;
use crate::reason::Rejection;
use crate::scheduler::{is_fargate_pod, rejections};
use crate::sizing::{FargateSize, PodRequests};
use crate::validate::{ValidationOptions, VolumeCatalog};
use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

/// How `check` judges pods.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Region of profiles whose input names none.
    pub default_region: String,
    /// Prices that replace or add to the built-in ones, one entry per region.
    pub prices: Vec<FargatePrices>,
    pub validation: ValidationOptions,
}

impl CheckOptions {
    pub fn new(default_region: &str) -> CheckOptions {
        CheckOptions { default_region: default_region.to_string(), prices: Vec::new(), validation: Default::default() }
    }

    /// Given prices for `region`, else the built-in ones.
    pub fn prices_for(&self, region: &str) -> Option<FargatePrices> {
        self.prices.iter().find(|p| p.region == region).cloned().or_else(|| FargatePrices::for_region(region))
    }
}

/// What happens to one pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// A profile takes it and Fargate runs it.
    Fargate,
    /// A profile takes it and Fargate refuses it: Pending forever.
    Rejected,
    /// No profile selects it: the default scheduler's business.
    NotMatched,
    /// `eks.amazonaws.com/compute-type: ec2`.
    OptedOut,
    /// DaemonSet pods never go to Fargate.
    DaemonSet,
    /// Its `eks.amazonaws.com/fargate-profile` label names a profile that does not select it.
    ProfileLabelMismatch,
    /// `schedulerName: fargate-scheduler` set by hand, but no profile selects it: Pending
    /// forever, "not authorized to run on Fargate" (doc §1.5).
    Stranded,
}

/// kubesched's code for [`Outcome::Stranded`] (Fargate emits no event for it, doc §9).
pub const REASON_NO_MATCHING_PROFILE: &str = "NoMatchingProfile";

/// One pod's line of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodReport {
    pub namespace: String,
    pub name: String,
    pub outcome: Outcome,
    pub accepted: bool,
    pub profile: Option<String>,
    /// Every reason Fargate refuses the pod, the first being the event it would emit.
    pub reasons: Vec<Rejection>,
    pub requests: Option<PodRequests>,
    /// The `CapacityProvisioned` annotation, e.g. `0.5vCPU 1GB`.
    pub capacity_provisioned: Option<String>,
    pub size: Option<FargateSize>,
    pub ephemeral_storage_gib: Option<i64>,
    /// The `Logging` annotation.
    pub logging: Option<String>,
    pub region: Option<String>,
    /// Zones the pod can land in (the profile's subnets that satisfy its node constraints).
    pub zones: Vec<String>,
    pub hourly_cost: Option<Money>,
    pub monthly_cost: Option<Money>,
}

/// Sums over the pods Fargate runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub pods: usize,
    pub fargate: usize,
    pub rejected: usize,
    pub not_fargate: usize,
    pub vcpu_milli: i64,
    pub memory_mib: i64,
    pub hourly_cost: Money,
    pub monthly_cost: Money,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub pods: Vec<PodReport>,
    pub totals: Totals,
    pub logging: LoggingConfig,
    /// Profile warnings and pricing gaps.
    pub warnings: Vec<String>,
}

/// Judges every pod against the profiles, in input order. Pods are not modified: each is
/// admitted on a copy. Errors only for malformed pods (bad quantities).
pub fn check(
    pods: &[Pod],
    profiles: &[FargateProfile],
    logging: &LoggingConfig,
    volumes: Option<&VolumeCatalog>,
    opts: &CheckOptions,
) -> Result<CheckReport, FargateError> {
    let mut warnings: Vec<String> =
        profiles.iter().flat_map(|p| p.warnings.iter().map(move |w| format!("{}: {w}", p.location))).collect();
    let mut report_pods = Vec::with_capacity(pods.len());
    let mut totals = Totals::default();
    // Only used to resolve regions and feasible zones; nothing is allocated.
    let placer = Placer::new(&opts.default_region, 0);
    for pod in pods {
        let namespace = pod.metadata.namespace.clone().unwrap_or_else(|| "default".to_string());
        let name = pod.metadata.name.clone().unwrap_or_default();
        let mut line = PodReport {
            namespace,
            name,
            outcome: Outcome::NotMatched,
            accepted: false,
            profile: None,
            reasons: Vec::new(),
            requests: None,
            capacity_provisioned: None,
            size: None,
            ephemeral_storage_gib: None,
            logging: None,
            region: None,
            zones: Vec::new(),
            hourly_cost: None,
            monthly_cost: None,
        };
        totals.pods += 1;
        match match_profile(pod, profiles) {
            ProfileMatch::Matched { .. } => {}
            other => {
                line.outcome = match other {
                    ProfileMatch::OptedOut => Outcome::OptedOut,
                    ProfileMatch::DaemonSet => Outcome::DaemonSet,
                    ProfileMatch::RequestedProfileNotMatched { .. } => Outcome::ProfileLabelMismatch,
                    _ => Outcome::NotMatched,
                };
                if is_fargate_pod(pod) && line.outcome != Outcome::DaemonSet {
                    line.outcome = Outcome::Stranded;
                    line.reasons.push(Rejection::new(
                        REASON_NO_MATCHING_PROFILE,
                        "schedulerName is fargate-scheduler but no active Fargate profile selects the pod; it stays \
                         Pending",
                    ));
                    totals.rejected += 1;
                } else {
                    totals.not_fargate += 1;
                }
                report_pods.push(line);
                continue;
            }
        }
        let mut admitted = pod.clone();
        let Some(admission) = admit(&mut admitted, profiles, logging)? else {
            totals.not_fargate += 1;
            report_pods.push(line);
            continue;
        };
        let Some(profile) = profiles.iter().find(|p| p.name == admission.profile) else {
            totals.not_fargate += 1;
            report_pods.push(line);
            continue;
        };
        let region = placer.region_for(profile).to_string();
        let sizing = &admission.sizing;
        line.profile = Some(admission.profile.clone());
        line.requests = Some(sizing.requests);
        line.capacity_provisioned.clone_from(&admission.capacity_provisioned);
        line.size = sizing.size;
        line.ephemeral_storage_gib = sizing.ephemeral_storage.map(|s| s.provisioned_gib);
        line.logging = Some(admission.logging.clone());
        line.zones =
            crate::placement::feasible_subnets(&admitted, profile, &region).into_iter().map(|s| s.zone).collect();
        line.zones.dedup();
        line.reasons = rejections(&admitted, profile, sizing, &region, volumes, &opts.validation);
        line.accepted = line.reasons.is_empty();
        if line.accepted {
            line.outcome = Outcome::Fargate;
            totals.fargate += 1;
            if let (Some(size), Some(storage)) = (sizing.size, sizing.ephemeral_storage) {
                totals.vcpu_milli += size.vcpu_milli;
                totals.memory_mib += size.memory_mib;
                match opts.prices_for(&region) {
                    Some(prices) => {
                        let PodCost { hourly, monthly, storage_priced, .. } = pod_cost(size, &storage, &prices);
                        if !storage_priced {
                            warnings.push(format!(
                                "{}/{}: {} GiB of billable ephemeral storage not priced: no storage price for {region}",
                                line.namespace, line.name, storage.billed_gib
                            ));
                        }
                        totals.hourly_cost = totals.hourly_cost.saturating_add(hourly);
                        totals.monthly_cost = totals.monthly_cost.saturating_add(monthly);
                        line.hourly_cost = Some(hourly);
                        line.monthly_cost = Some(monthly);
                    }
                    None => warnings.push(format!(
                        "{}/{}: no Fargate prices for region {region}; give them explicitly",
                        line.namespace, line.name
                    )),
                }
            }
        } else {
            line.outcome = Outcome::Rejected;
            totals.rejected += 1;
        }
        line.region = Some(region);
        report_pods.push(line);
    }
    warnings.dedup();
    Ok(CheckReport { pods: report_pods, totals, logging: logging.clone(), warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileSelector;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_small_report() {
        let mut fp = FargateProfile::new("fp-default", vec![ProfileSelector::new("default", &[])]);
        fp.region = Some("us-east-1".into());
        let pods = vec![
            pod(json!({"metadata": {"name": "be", "namespace": "default"}, "spec": {"containers": [{"name": "c"}]}})),
            pod(json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"containers": [{"name": "c",
                "resources": {"requests": {"cpu": "500m", "memory": "500Mi"}}}]}})),
            pod(json!({"metadata": {"name": "priv", "namespace": "default"}, "spec": {"hostNetwork": true,
                "containers": [{"name": "c", "securityContext": {"privileged": true}}]}})),
            pod(
                json!({"metadata": {"name": "elsewhere", "namespace": "prod"}, "spec": {"containers": [{"name": "c"}]}}),
            ),
            pod(json!({"metadata": {"name": "by-hand", "namespace": "prod"},
                       "spec": {"schedulerName": "fargate-scheduler", "containers": [{"name": "c"}]}})),
        ];
        let r = check(&pods, &[fp], &LoggingConfig::NotFound, None, &CheckOptions::new("us-east-1")).unwrap();
        let outcomes: Vec<_> = r.pods.iter().map(|p| p.outcome).collect();
        assert_eq!(
            outcomes,
            [Outcome::Fargate, Outcome::Fargate, Outcome::Rejected, Outcome::NotMatched, Outcome::Stranded]
        );
        assert_eq!(r.pods[4].reasons[0].reason, "NoMatchingProfile");
        assert_eq!(r.pods[0].capacity_provisioned.as_deref(), Some("0.25vCPU 0.5GB"));
        assert_eq!(r.pods[0].hourly_cost.map(|m| m.to_decimal_string()).as_deref(), Some("0.0123425"));
        assert_eq!(r.pods[0].zones, ["us-east-1a", "us-east-1b", "us-east-1c"]);
        assert_eq!(r.pods[1].capacity_provisioned.as_deref(), Some("0.5vCPU 1GB"));
        // 0.5 × 0.04048 + 1 × 0.004445 = 0.024685; × 730 = 18.02005.
        assert_eq!(r.pods[1].monthly_cost.map(|m| m.to_decimal_string()).as_deref(), Some("18.02005"));
        assert_eq!(
            r.pods[2].reasons[0].message,
            "Pod not supported on Fargate: fields not supported: HostNetwork, invalid SecurityContext fields: Privileged"
        );
        assert_eq!(r.pods[2].hourly_cost, None);
        assert_eq!((r.totals.pods, r.totals.fargate, r.totals.rejected, r.totals.not_fargate), (5, 2, 2, 1));
        assert_eq!(r.totals.hourly_cost.to_decimal_string(), "0.0370275");
        assert_eq!(r.totals.monthly_cost.to_decimal_string(), "27.030075");
        let js = serde_json::to_value(&r).unwrap();
        assert_eq!(js["pods"][1]["capacityProvisioned"], "0.5vCPU 1GB");
        assert_eq!(js["pods"][1]["outcome"], "fargate");
        assert_eq!(js["pods"][3]["outcome"], "notMatched");
        assert_eq!(js["logging"]["state"], "notFound");
        assert_eq!(js["totals"]["hourlyCost"], 0.0370275);
    }

    #[test]
    fn unknown_regions_warn_instead_of_guessing() {
        let fp = FargateProfile::new("fp", vec![ProfileSelector::new("default", &[])]);
        let pods = vec![pod(json!({"metadata": {"name": "a"}, "spec": {"containers": [{"name": "c"}]}}))];
        let r =
            check(&pods, std::slice::from_ref(&fp), &LoggingConfig::NotFound, None, &CheckOptions::new("eu-west-1"))
                .unwrap();
        assert_eq!(r.pods[0].outcome, Outcome::Fargate);
        assert_eq!(r.pods[0].hourly_cost, None);
        assert_eq!(r.warnings, ["default/a: no Fargate prices for region eu-west-1; give them explicitly"]);
        let mut opts = CheckOptions::new("eu-west-1");
        opts.prices.push(FargatePrices::parse("eu-west-1", "0.04456", "0.004865", Some("0.000122")).unwrap());
        let r = check(&pods, &[fp], &LoggingConfig::NotFound, None, &opts).unwrap();
        // 0.25 × 0.04456 + 0.5 × 0.004865 = 0.0135725.
        assert_eq!(r.pods[0].hourly_cost.map(|m| m.to_decimal_string()).as_deref(), Some("0.0135725"));
        assert!(r.warnings.is_empty());
    }
}
