//! Fargate profiles in the three forms users have, validated against the documented limits.
//!
//! - eksctl `ClusterConfig` (`apiVersion: eksctl.io/v1alpha5`) with `fargateProfiles:`; the
//!   cluster's `metadata.region` and `vpc.subnets.private` give region, zones and CIDRs;
//! - AWS Controllers for Kubernetes (`apiVersion: eks.services.k8s.aws/v1alpha1`,
//!   `kind: FargateProfile`);
//! - the JSON `aws eks describe-fargate-profile` (and `create-fargate-profile`) prints:
//!   `{"fargateProfile": {...}}`, no `kind`.
//!
//! Limits and rules: doc §1.1 (fields, statuses, tags) and §1.2 (default quotas).

use crate::error::FargateError;
use crate::glob::has_wildcard;
use crate::net::Ipv4Cidr;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Fargate profiles per cluster (default quota, adjustable; doc §1.2).
pub const DEFAULT_MAX_PROFILES_PER_CLUSTER: usize = 10;
/// Selectors per Fargate profile (default quota, adjustable; doc §1.2).
pub const DEFAULT_MAX_SELECTORS_PER_PROFILE: usize = 5;
/// Label pairs per Fargate profile selector (default quota, adjustable; doc §1.2).
pub const DEFAULT_MAX_LABELS_PER_SELECTOR: usize = 5;
/// Tags per profile (doc §1.1).
pub const MAX_TAGS_PER_PROFILE: usize = 50;
/// eksctl refuses profile names with this prefix, reserved for AWS (doc §1.1).
pub const RESERVED_PROFILE_NAME_PREFIX: &str = "eks-";
/// Label-key domains a 2020 edit of the user guide forbade in selectors (doc §1.3; low
/// confidence that it is still enforced, so only a warning).
pub const RESERVED_LABEL_KEY_DOMAINS: [&str; 3] = ["kubernetes.io", "k8s.io", "eks.amazonaws.com"];

/// Adjustable quotas (doc §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileLimits {
    pub max_profiles_per_cluster: usize,
    pub max_selectors_per_profile: usize,
    pub max_labels_per_selector: usize,
}

impl Default for ProfileLimits {
    fn default() -> Self {
        ProfileLimits {
            max_profiles_per_cluster: DEFAULT_MAX_PROFILES_PER_CLUSTER,
            max_selectors_per_profile: DEFAULT_MAX_SELECTORS_PER_PROFILE,
            max_labels_per_selector: DEFAULT_MAX_LABELS_PER_SELECTOR,
        }
    }
}

/// EKS API `FargateProfile.status` (doc §1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProfileStatus {
    Creating,
    Active,
    Deleting,
    CreateFailed,
    DeleteFailed,
}

impl ProfileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileStatus::Creating => "CREATING",
            ProfileStatus::Active => "ACTIVE",
            ProfileStatus::Deleting => "DELETING",
            ProfileStatus::CreateFailed => "CREATE_FAILED",
            ProfileStatus::DeleteFailed => "DELETE_FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<ProfileStatus> {
        Some(match s {
            "CREATING" => ProfileStatus::Creating,
            "ACTIVE" => ProfileStatus::Active,
            "DELETING" => ProfileStatus::Deleting,
            "CREATE_FAILED" => ProfileStatus::CreateFailed,
            "DELETE_FAILED" => ProfileStatus::DeleteFailed,
            _ => return None,
        })
    }
}

impl fmt::Display for ProfileStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which form a profile was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ProfileFormat {
    /// eksctl `ClusterConfig.fargateProfiles[]`.
    Eksctl,
    /// ACK `eks.services.k8s.aws/v1alpha1 FargateProfile`.
    Ack,
    /// `aws eks describe-fargate-profile` output.
    AwsCli,
}

/// One `FargateProfileSelector`: a namespace and 0..5 labels, all ANDed (doc §1.3).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct ProfileSelector {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
}

/// A subnet of a profile. Zone and CIDR are known when the input says so (eksctl's
/// `vpc.subnets.private`) or when the caller fills them in with [`apply_subnet_catalog`].
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subnet {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_cidr")]
    pub cidr: Option<Ipv4Cidr>,
}

fn serialize_cidr<S: serde::Serializer>(cidr: &Option<Ipv4Cidr>, s: S) -> Result<S::Ok, S::Error> {
    match cidr {
        Some(c) => s.serialize_str(&c.to_string()),
        None => s.serialize_none(),
    }
}

/// A Fargate profile, whatever form it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FargateProfile {
    pub name: String,
    pub format: ProfileFormat,
    /// The source label and field path it was read from, for messages.
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_execution_role_arn: Option<String>,
    pub selectors: Vec<ProfileSelector>,
    pub subnets: Vec<Subnet>,
    pub tags: BTreeMap<String, String>,
    /// `ACTIVE` when the input does not say (a profile being declared is taken as created).
    pub status: ProfileStatus,
    /// Findings that do not make the profile invalid.
    pub warnings: Vec<String>,
}

impl FargateProfile {
    /// A bare, valid-looking profile (for tests and programmatic use).
    pub fn new(name: &str, selectors: Vec<ProfileSelector>) -> FargateProfile {
        FargateProfile {
            name: name.to_string(),
            format: ProfileFormat::AwsCli,
            location: String::new(),
            cluster_name: None,
            region: None,
            arn: None,
            pod_execution_role_arn: None,
            selectors,
            subnets: Vec::new(),
            tags: BTreeMap::new(),
            status: ProfileStatus::Active,
            warnings: Vec::new(),
        }
    }
}

impl ProfileSelector {
    pub fn new(namespace: &str, labels: &[(&str, &str)]) -> ProfileSelector {
        ProfileSelector {
            namespace: namespace.to_string(),
            labels: labels.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }
}

/// True for the documents this module reads: eksctl `ClusterConfig`, ACK `FargateProfile`,
/// and `{"fargateProfile": {...}}` without a `kind`.
pub fn is_profile_document(doc: &Value) -> bool {
    detect(doc).is_some()
}

fn detect(doc: &Value) -> Option<ProfileFormat> {
    let api_version = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    match doc.get("kind").and_then(Value::as_str) {
        Some("ClusterConfig") if api_version.starts_with("eksctl.io/") => Some(ProfileFormat::Eksctl),
        Some("FargateProfile") if api_version.starts_with("eks.services.k8s.aws/") => Some(ProfileFormat::Ack),
        None if doc.get("fargateProfile").is_some_and(Value::is_object) => Some(ProfileFormat::AwsCli),
        _ => None,
    }
}

/// Reads the profiles of one document with the default limits. See
/// [`profiles_from_value_with_limits`].
pub fn profiles_from_value(doc: &Value, source: &str) -> Result<Vec<FargateProfile>, FargateError> {
    profiles_from_value_with_limits(doc, source, &ProfileLimits::default())
}

/// Reads the profiles of one document (an eksctl `ClusterConfig` may hold several, or none)
/// and validates each against `limits`. `source` is the caller's label for messages
/// (`"cluster.yaml:12"`).
pub fn profiles_from_value_with_limits(
    doc: &Value,
    source: &str,
    limits: &ProfileLimits,
) -> Result<Vec<FargateProfile>, FargateError> {
    let r = Reader { source };
    match detect(doc) {
        Some(ProfileFormat::Eksctl) => r.eksctl(doc, limits),
        Some(ProfileFormat::Ack) => r.ack(doc, limits).map(|p| vec![p]),
        Some(ProfileFormat::AwsCli) => r.aws_cli(doc, limits).map(|p| vec![p]),
        None => Err(r.err(
            "kind",
            "not a Fargate profile document (want eksctl.io ClusterConfig, eks.services.k8s.aws FargateProfile, \
             or {\"fargateProfile\": {...}})",
        )),
    }
}

/// Cluster-wide rules (doc §1.1, §1.2): names unique per cluster, at most
/// `max_profiles_per_cluster` profiles per cluster, at most one `DELETING` at a time.
/// Profiles without a cluster name count as one cluster.
pub fn validate_profiles(profiles: &[FargateProfile], limits: &ProfileLimits) -> Result<(), FargateError> {
    let mut clusters: BTreeMap<Option<&str>, Vec<&FargateProfile>> = BTreeMap::new();
    for p in profiles {
        clusters.entry(p.cluster_name.as_deref()).or_default().push(p);
    }
    for (cluster, members) in clusters {
        let cluster_label = cluster.map(|c| format!("cluster {c:?}")).unwrap_or_else(|| "the cluster".to_string());
        let mut seen: BTreeMap<&str, &FargateProfile> = BTreeMap::new();
        let mut deleting: Option<&FargateProfile> = None;
        for (i, p) in members.iter().enumerate() {
            if let Some(first) = seen.get(p.name.as_str()) {
                return Err(FargateError::new(
                    &p.location,
                    "name",
                    format!(
                        "duplicate Fargate profile name {:?} in {cluster_label} (also at {})",
                        p.name, first.location
                    ),
                ));
            }
            seen.insert(&p.name, p);
            if i == limits.max_profiles_per_cluster {
                return Err(FargateError::new(
                    &p.location,
                    "name",
                    format!(
                        "{} Fargate profiles in {cluster_label}; the quota is {} per cluster",
                        members.len(),
                        limits.max_profiles_per_cluster
                    ),
                ));
            }
            if p.status == ProfileStatus::Deleting {
                if let Some(other) = deleting {
                    return Err(FargateError::new(
                        &p.location,
                        "status",
                        format!(
                            "profiles {:?} and {:?} are both DELETING; only one profile per cluster can be deleted at a time",
                            other.name, p.name
                        ),
                    ));
                }
                deleting = Some(p);
            }
        }
    }
    Ok(())
}

/// Fills in zone and CIDR of profile subnets from a catalog (e.g. from `aws ec2
/// describe-subnets` or user flags), matching by subnet id. Known values are kept.
pub fn apply_subnet_catalog(profiles: &mut [FargateProfile], catalog: &[Subnet]) {
    for p in profiles {
        for s in &mut p.subnets {
            if let Some(c) = catalog.iter().find(|c| c.id == s.id) {
                if s.zone.is_none() {
                    s.zone.clone_from(&c.zone);
                }
                if s.cidr.is_none() {
                    s.cidr = c.cidr;
                }
            }
        }
    }
}

/// Field names of one form.
struct Form {
    format: ProfileFormat,
    name: &'static str,
    role: &'static str,
}

const EKSCTL: Form = Form { format: ProfileFormat::Eksctl, name: "name", role: "podExecutionRoleARN" };
const ACK: Form = Form { format: ProfileFormat::Ack, name: "name", role: "podExecutionRoleARN" };
const AWS_CLI: Form = Form { format: ProfileFormat::AwsCli, name: "fargateProfileName", role: "podExecutionRoleArn" };

struct Reader<'a> {
    source: &'a str,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

impl Reader<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> FargateError {
        FargateError::new(self.source, field, message)
    }

    fn object<'v>(&self, v: &'v Value, path: &str) -> Result<&'v Map<String, Value>, FargateError> {
        v.as_object().ok_or_else(|| self.err(path, format!("must be a mapping, got {}", kind_of(v))))
    }

    fn opt_str(&self, obj: &Map<String, Value>, path: &str, key: &str) -> Result<Option<String>, FargateError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.err(&join(path, key), format!("must be a string, got {}", kind_of(other)))),
        }
    }

    fn str_list(&self, obj: &Map<String, Value>, path: &str, key: &str) -> Result<Vec<String>, FargateError> {
        let field = join(path, key);
        match obj.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) if !s.is_empty() => Ok(s.clone()),
                    Value::String(_) => Err(self.err(&format!("{field}[{i}]"), "must not be empty")),
                    other => {
                        Err(self.err(&format!("{field}[{i}]"), format!("must be a string, got {}", kind_of(other))))
                    }
                })
                .collect(),
            Some(other) => Err(self.err(&field, format!("must be a list, got {}", kind_of(other)))),
        }
    }

    fn str_map(
        &self,
        obj: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Result<BTreeMap<String, String>, FargateError> {
        let field = join(path, key);
        match obj.get(key) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    other => {
                        Err(self.err(&format!("{field}.{k}"), format!("must be a string, got {}", kind_of(other))))
                    }
                })
                .collect(),
            Some(other) => Err(self.err(&field, format!("must be a mapping, got {}", kind_of(other)))),
        }
    }

    /// The fields shared by all three forms: name, role, selectors, subnets, tags, status.
    fn body(
        &self,
        obj: &Map<String, Value>,
        path: &str,
        form: &Form,
        status: Option<String>,
        status_field: &str,
        limits: &ProfileLimits,
    ) -> Result<FargateProfile, FargateError> {
        let name_field = join(path, form.name);
        let name = self.opt_str(obj, path, form.name)?.unwrap_or_default();
        if name.is_empty() {
            return Err(self.err(&name_field, "a Fargate profile needs a name"));
        }
        // eksctl refuses the prefix client-side and expects the API to refuse it too; an
        // existing profile (describe output) is reported as it is.
        if form.format != ProfileFormat::AwsCli && name.starts_with(RESERVED_PROFILE_NAME_PREFIX) {
            return Err(self.err(
                &name_field,
                format!(
                    "invalid Fargate profile {name:?}: name should NOT start with {RESERVED_PROFILE_NAME_PREFIX:?}"
                ),
            ));
        }
        let mut warnings = Vec::new();
        let role = self.opt_str(obj, path, form.role)?;
        if let Some(arn) = &role {
            check_role_arn(arn).map_err(|m| self.err(&join(path, form.role), m))?;
        }
        let selectors = self.selectors(obj, path, &name, limits, &mut warnings)?;
        let subnets =
            self.str_list(obj, path, "subnets")?.into_iter().map(|id| Subnet { id, ..Default::default() }).collect();
        let tags = self.str_map(obj, path, "tags")?;
        if tags.len() > MAX_TAGS_PER_PROFILE {
            return Err(self.err(
                &join(path, "tags"),
                format!("{} tags; a Fargate profile takes at most {MAX_TAGS_PER_PROFILE}", tags.len()),
            ));
        }
        let status = match status {
            None => ProfileStatus::Active,
            Some(s) => ProfileStatus::parse(&s).ok_or_else(|| {
                self.err(
                    status_field,
                    format!("unknown Fargate profile status {s:?} (CREATING, ACTIVE, DELETING, CREATE_FAILED, DELETE_FAILED)"),
                )
            })?,
        };
        Ok(FargateProfile {
            name,
            format: form.format,
            location: if path.is_empty() { self.source.to_string() } else { format!("{}: {path}", self.source) },
            cluster_name: None,
            region: None,
            arn: None,
            pod_execution_role_arn: role,
            selectors,
            subnets,
            tags,
            status,
            warnings,
        })
    }

    fn selectors(
        &self,
        obj: &Map<String, Value>,
        path: &str,
        name: &str,
        limits: &ProfileLimits,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<ProfileSelector>, FargateError> {
        let field = join(path, "selectors");
        let items = match obj.get("selectors") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(items)) => items.as_slice(),
            Some(other) => return Err(self.err(&field, format!("must be a list, got {}", kind_of(other)))),
        };
        if items.is_empty() {
            return Err(self.err(&field, format!("invalid Fargate profile {name:?}: no profile selector")));
        }
        if items.len() > limits.max_selectors_per_profile {
            return Err(self.err(
                &field,
                format!(
                    "{} selectors; a Fargate profile takes at most {} (quota \"Selectors per Fargate profile\")",
                    items.len(),
                    limits.max_selectors_per_profile
                ),
            ));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let sel_path = format!("{field}[{i}]");
            let sel = self.object(item, &sel_path)?;
            let namespace = self.opt_str(sel, &sel_path, "namespace")?.unwrap_or_default();
            if namespace.is_empty() {
                return Err(self.err(&join(&sel_path, "namespace"), "a selector needs a namespace"));
            }
            let labels = self.str_map(sel, &sel_path, "labels")?;
            if labels.len() > limits.max_labels_per_selector {
                return Err(self.err(
                    &join(&sel_path, "labels"),
                    format!(
                        "{} labels; a selector takes at most {} (quota \"Label pairs per Fargate profile selector\")",
                        labels.len(),
                        limits.max_labels_per_selector
                    ),
                ));
            }
            for key in labels.keys() {
                if !has_wildcard(key) && reserved_domain(key) {
                    warnings.push(format!(
                        "{sel_path}.labels: key {key:?} uses a domain ({}) that selector labels were once documented \
                         not to allow",
                        RESERVED_LABEL_KEY_DOMAINS.join(", ")
                    ));
                }
            }
            out.push(ProfileSelector { namespace, labels });
        }
        Ok(out)
    }

    fn eksctl(&self, doc: &Value, limits: &ProfileLimits) -> Result<Vec<FargateProfile>, FargateError> {
        let root = self.object(doc, "")?;
        let (cluster, region) = match root.get("metadata") {
            Some(m) => {
                let m = self.object(m, "metadata")?;
                (self.opt_str(m, "metadata", "name")?, self.opt_str(m, "metadata", "region")?)
            }
            None => (None, None),
        };
        let private = self.eksctl_private_subnets(root)?;
        let items = match root.get("fargateProfiles") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(self.err("fargateProfiles", format!("must be a list, got {}", kind_of(other))));
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("fargateProfiles[{i}]");
            let obj = self.object(item, &path)?;
            let status = self.opt_str(obj, &path, "status")?;
            let mut p = self.body(obj, &path, &EKSCTL, status, &join(&path, "status"), limits)?;
            p.cluster_name.clone_from(&cluster);
            p.region.clone_from(&region);
            if p.subnets.is_empty() {
                // eksctl: "If none provided, all subnets for the cluster will be used" — Fargate
                // takes private subnets only (doc §1.1).
                p.subnets = private.iter().map(|(_, s)| s.clone()).collect();
            } else {
                for s in &mut p.subnets {
                    if let Some((_, known)) = private.iter().find(|(alias, k)| k.id == s.id || *alias == s.id) {
                        *s = known.clone();
                    }
                }
            }
            out.push(p);
        }
        Ok(out)
    }

    /// `vpc.subnets.private`: `{<az or alias>: {id, cidr, az}}`, in document order.
    fn eksctl_private_subnets(&self, root: &Map<String, Value>) -> Result<Vec<(String, Subnet)>, FargateError> {
        let Some(private) = root.get("vpc").and_then(|v| v.get("subnets")).and_then(|s| s.get("private")) else {
            return Ok(Vec::new());
        };
        let path = "vpc.subnets.private";
        let map = self.object(private, path)?;
        let mut out = Vec::with_capacity(map.len());
        for (alias, spec) in map {
            let spath = format!("{path}.{alias}");
            let spec = self.object(spec, &spath)?;
            let id = self.opt_str(spec, &spath, "id")?.unwrap_or_else(|| alias.clone());
            let zone = self.opt_str(spec, &spath, "az")?.or_else(|| Some(alias.clone()));
            let cidr = match self.opt_str(spec, &spath, "cidr")? {
                Some(c) => Some(c.parse::<Ipv4Cidr>().map_err(|m| self.err(&join(&spath, "cidr"), m))?),
                None => None,
            };
            out.push((alias.clone(), Subnet { id, zone, cidr }));
        }
        Ok(out)
    }

    fn ack(&self, doc: &Value, limits: &ProfileLimits) -> Result<FargateProfile, FargateError> {
        let root = self.object(doc, "")?;
        let spec = self.object(root.get("spec").unwrap_or(&Value::Null), "spec")?;
        let status_obj = match root.get("status") {
            Some(s @ Value::Object(_)) => Some(self.object(s, "status")?),
            _ => None,
        };
        let status = match status_obj {
            Some(s) => self.opt_str(s, "status", "status")?,
            None => None,
        };
        let mut p = self.body(spec, "spec", &ACK, status, "status.status", limits)?;
        p.cluster_name = self.opt_str(spec, "spec", "clusterName")?;
        if p.cluster_name.is_none() {
            // `clusterRef: {from: {name: <ACK Cluster resource>}}`.
            p.cluster_name = spec
                .get("clusterRef")
                .and_then(|r| r.get("from"))
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        if p.pod_execution_role_arn.is_none() && spec.get("podExecutionRoleRef").is_none_or(Value::is_null) {
            // The CRD marks podExecutionRoleARN required; a reference to an ACK Role is the
            // other way to give it.
            return Err(self.err("spec.podExecutionRoleARN", "required (or spec.podExecutionRoleRef)"));
        }
        if let Some(refs) = spec.get("subnetRefs").and_then(Value::as_array) {
            for r in refs {
                if let Some(name) = r.get("from").and_then(|f| f.get("name")).and_then(Value::as_str) {
                    p.subnets.push(Subnet { id: format!("ref:{name}"), ..Default::default() });
                }
            }
        }
        if let Some(meta) = status_obj.and_then(|s| s.get("ackResourceMetadata")).and_then(Value::as_object) {
            p.arn = self.opt_str(meta, "status.ackResourceMetadata", "arn")?;
            p.region = self.opt_str(meta, "status.ackResourceMetadata", "region")?;
        }
        if p.region.is_none() {
            p.region = p.arn.as_deref().and_then(region_from_arn);
        }
        Ok(p)
    }

    fn aws_cli(&self, doc: &Value, limits: &ProfileLimits) -> Result<FargateProfile, FargateError> {
        let path = "fargateProfile";
        let obj = self.object(doc.get(path).unwrap_or(&Value::Null), path)?;
        let status = self.opt_str(obj, path, "status")?;
        let mut p = self.body(obj, path, &AWS_CLI, status, &join(path, "status"), limits)?;
        p.cluster_name = self.opt_str(obj, path, "clusterName")?;
        p.arn = self.opt_str(obj, path, "fargateProfileArn")?;
        p.region = p.arn.as_deref().and_then(region_from_arn);
        Ok(p)
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn reserved_domain(key: &str) -> bool {
    let Some((prefix, _)) = key.split_once('/') else { return false };
    RESERVED_LABEL_KEY_DOMAINS.iter().any(|d| prefix == *d || prefix.ends_with(&format!(".{d}")))
}

/// `arn:<partition>:iam::<12-digit account>:role/<name>`; the role path must be `/` only
/// (doc §1.1, UG/getting-started).
fn check_role_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let shape_ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit());
    if !shape_ok {
        return Err(format!("{arn:?} is not an IAM role ARN (arn:aws:iam::111122223333:role/role-name)"));
    }
    let Some(resource) = parts[5].strip_prefix("role/") else {
        return Err(format!("{arn:?} is not an IAM role ARN (arn:aws:iam::111122223333:role/role-name)"));
    };
    if resource.is_empty() {
        return Err(format!("{arn:?} has no role name"));
    }
    if resource.contains('/') {
        return Err(format!(
            "{arn:?}: the pod execution role's path must be \"/\" only (arn:aws:iam::111122223333:role/role-name)"
        ));
    }
    Ok(())
}

/// The region of an EKS ARN: `arn:aws:eks:us-east-1:111122223333:fargateprofile/…`.
pub fn region_from_arn(arn: &str) -> Option<String> {
    let mut parts = arn.split(':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let _service = parts.next()?;
    let region = parts.next()?;
    (!region.is_empty()).then(|| region.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eksctl_doc() -> Value {
        json!({
            "apiVersion": "eksctl.io/v1alpha5",
            "kind": "ClusterConfig",
            "metadata": {"name": "demo", "region": "ap-northeast-2"},
            "vpc": {"subnets": {"private": {
                "ap-northeast-2a": {"id": "subnet-0a", "cidr": "192.168.96.0/19"},
                "ap-northeast-2c": {"id": "subnet-0c", "cidr": "192.168.128.0/19"}
            }}},
            "fargateProfiles": [
                {"name": "fp-default", "selectors": [{"namespace": "default"}, {"namespace": "kube-system"}]},
                {"name": "fp-dev", "selectors": [{"namespace": "dev", "labels": {"env": "dev", "checks": "passed"}}],
                 "subnets": ["subnet-0c"], "podExecutionRoleARN": "arn:aws:iam::111122223333:role/fargate-pods",
                 "tags": {"team": "platform"}}
            ]
        })
    }

    #[test]
    fn eksctl_cluster_config() {
        let doc = eksctl_doc();
        assert!(is_profile_document(&doc));
        let profiles = profiles_from_value(&doc, "cluster.yaml").unwrap();
        assert_eq!(profiles.len(), 2);
        let fp = &profiles[0];
        assert_eq!(fp.name, "fp-default");
        assert_eq!(fp.format, ProfileFormat::Eksctl);
        assert_eq!(fp.location, "cluster.yaml: fargateProfiles[0]");
        assert_eq!(fp.cluster_name.as_deref(), Some("demo"));
        assert_eq!(fp.region.as_deref(), Some("ap-northeast-2"));
        assert_eq!(fp.status, ProfileStatus::Active);
        assert_eq!(fp.selectors, vec![ProfileSelector::new("default", &[]), ProfileSelector::new("kube-system", &[])]);
        // No subnets given: all private subnets of the cluster, in document order.
        let ids: Vec<_> = fp.subnets.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["subnet-0a", "subnet-0c"]);
        assert_eq!(fp.subnets[0].zone.as_deref(), Some("ap-northeast-2a"));
        assert_eq!(fp.subnets[1].cidr.map(|c| c.to_string()).as_deref(), Some("192.168.128.0/19"));
        let dev = &profiles[1];
        assert_eq!(dev.selectors[0].labels.get("env").map(String::as_str), Some("dev"));
        assert_eq!(dev.subnets.len(), 1);
        assert_eq!(dev.subnets[0].zone.as_deref(), Some("ap-northeast-2c"));
        assert_eq!(dev.pod_execution_role_arn.as_deref(), Some("arn:aws:iam::111122223333:role/fargate-pods"));
        assert_eq!(dev.tags.get("team").map(String::as_str), Some("platform"));
    }

    #[test]
    fn eksctl_without_profiles_is_empty() {
        let doc = json!({"apiVersion": "eksctl.io/v1alpha5", "kind": "ClusterConfig", "metadata": {"name": "x"}});
        assert_eq!(profiles_from_value(&doc, "c.yaml").unwrap(), vec![]);
    }

    #[test]
    fn ack_resource() {
        let doc = json!({
            "apiVersion": "eks.services.k8s.aws/v1alpha1",
            "kind": "FargateProfile",
            "metadata": {"name": "my-fp", "namespace": "infra"},
            "spec": {
                "name": "my-fp",
                "clusterName": "prod",
                "podExecutionRoleARN": "arn:aws:iam::111122223333:role/AmazonEKSFargatePodExecutionRole",
                "subnets": ["subnet-1", "subnet-2"],
                "selectors": [{"namespace": "prod-*", "labels": {"app?": "web*"}}]
            },
            "status": {"status": "CREATING",
                       "ackResourceMetadata": {"arn": "arn:aws:eks:us-east-1:111122223333:fargateprofile/prod/my-fp/abc",
                                               "ownerAccountID": "111122223333", "region": "us-east-1"}}
        });
        let p = profiles_from_value(&doc, "ack.yaml").unwrap().remove(0);
        assert_eq!(p.format, ProfileFormat::Ack);
        assert_eq!(p.name, "my-fp");
        assert_eq!(p.cluster_name.as_deref(), Some("prod"));
        assert_eq!(p.status, ProfileStatus::Creating);
        assert_eq!(p.region.as_deref(), Some("us-east-1"));
        assert_eq!(p.subnets.len(), 2);
        assert_eq!(p.selectors[0].namespace, "prod-*");
    }

    #[test]
    fn ack_requires_a_role() {
        let doc = json!({
            "apiVersion": "eks.services.k8s.aws/v1alpha1", "kind": "FargateProfile",
            "spec": {"name": "fp", "clusterName": "c", "selectors": [{"namespace": "a"}]}
        });
        let e = profiles_from_value(&doc, "ack.yaml").unwrap_err();
        assert_eq!(e.field, "spec.podExecutionRoleARN");
    }

    #[test]
    fn describe_fargate_profile_output() {
        let doc = json!({"fargateProfile": {
            "fargateProfileName": "fp-default",
            "fargateProfileArn": "arn:aws:eks:ap-northeast-2:111122223333:fargateprofile/demo/fp-default/12c1",
            "clusterName": "demo",
            "createdAt": "2024-05-01T10:00:00.000000+09:00",
            "podExecutionRoleArn": "arn:aws:iam::111122223333:role/eksctl-demo-FargatePodExecutionRole-X",
            "subnets": ["subnet-0a", "subnet-0c"],
            "selectors": [{"namespace": "default"}, {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}}],
            "status": "ACTIVE",
            "tags": {},
            "health": {"issues": []}
        }});
        assert!(is_profile_document(&doc));
        let p = profiles_from_value(&doc, "describe.json").unwrap().remove(0);
        assert_eq!(p.format, ProfileFormat::AwsCli);
        assert_eq!(p.name, "fp-default");
        assert_eq!(p.region.as_deref(), Some("ap-northeast-2"));
        assert_eq!(p.cluster_name.as_deref(), Some("demo"));
        assert_eq!(p.selectors[1].labels.get("k8s-app").map(String::as_str), Some("kube-dns"));
    }

    #[test]
    fn other_documents_are_not_profiles() {
        assert!(!is_profile_document(&json!({"apiVersion": "v1", "kind": "Pod"})));
        assert!(!is_profile_document(&json!({"apiVersion": "v1", "kind": "FargateProfile"})));
        assert!(!is_profile_document(&json!({"kind": "Pod", "fargateProfile": {}})));
        let e = profiles_from_value(&json!({"kind": "Pod"}), "x.yaml").unwrap_err();
        assert_eq!(e.field, "kind");
    }

    fn with_profile(p: Value) -> Value {
        json!({"apiVersion": "eksctl.io/v1alpha5", "kind": "ClusterConfig", "metadata": {"name": "c"},
               "fargateProfiles": [p]})
    }

    #[test]
    fn limits_and_rules_name_the_field() {
        let cases: Vec<(Value, &str, &str)> = vec![
            (json!({"selectors": [{"namespace": "a"}]}), "fargateProfiles[0].name", "needs a name"),
            (
                json!({"name": "eks-x", "selectors": [{"namespace": "a"}]}),
                "fargateProfiles[0].name",
                "should NOT start",
            ),
            (json!({"name": "p"}), "fargateProfiles[0].selectors", "no profile selector"),
            (json!({"name": "p", "selectors": []}), "fargateProfiles[0].selectors", "no profile selector"),
            (
                json!({"name": "p", "selectors": (0..6).map(|i| json!({"namespace": format!("n{i}")})).collect::<Vec<_>>()}),
                "fargateProfiles[0].selectors",
                "6 selectors; a Fargate profile takes at most 5",
            ),
            (
                json!({"name": "p", "selectors": [{"labels": {"a": "b"}}]}),
                "fargateProfiles[0].selectors[0].namespace",
                "needs a namespace",
            ),
            (
                json!({"name": "p", "selectors": [{"namespace": "a", "labels": {"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6"}}]}),
                "fargateProfiles[0].selectors[0].labels",
                "6 labels; a selector takes at most 5",
            ),
            (
                json!({"name": "p", "selectors": [{"namespace": "a", "labels": {"tier": 1}}]}),
                "fargateProfiles[0].selectors[0].labels.tier",
                "must be a string",
            ),
            (
                json!({"name": "p", "selectors": [{"namespace": "a"}], "podExecutionRoleARN": "arn:aws:iam::111122223333:role/path/r"}),
                "fargateProfiles[0].podExecutionRoleARN",
                "path must be \"/\" only",
            ),
            (
                json!({"name": "p", "selectors": [{"namespace": "a"}], "podExecutionRoleARN": "arn:aws:iam::1:role/r"}),
                "fargateProfiles[0].podExecutionRoleARN",
                "is not an IAM role ARN",
            ),
            (
                json!({"name": "p", "selectors": [{"namespace": "a"}],
                       "tags": (0..51).map(|i| (format!("t{i}"), json!("v"))).collect::<serde_json::Map<_, _>>()}),
                "fargateProfiles[0].tags",
                "51 tags",
            ),
            (
                json!({"name": "p", "selectors": [{"namespace": "a"}], "status": "READY"}),
                "fargateProfiles[0].status",
                "unknown Fargate profile status",
            ),
            (
                json!({"name": "p", "selectors": [{"namespace": "a"}], "subnets": "subnet-1"}),
                "fargateProfiles[0].subnets",
                "must be a list",
            ),
        ];
        for (profile, field, message) in cases {
            let e = profiles_from_value(&with_profile(profile.clone()), "c.yaml").unwrap_err();
            assert_eq!(e.location, "c.yaml");
            assert_eq!(e.field, field, "{profile}");
            assert!(e.message.contains(message), "{profile}: {e}");
        }
    }

    #[test]
    fn adjusted_quotas_are_honoured() {
        let doc = with_profile(
            json!({"name": "p", "selectors": (0..6).map(|i| json!({"namespace": format!("n{i}")})).collect::<Vec<_>>()}),
        );
        let limits = ProfileLimits { max_selectors_per_profile: 10, ..Default::default() };
        assert_eq!(profiles_from_value_with_limits(&doc, "c.yaml", &limits).unwrap()[0].selectors.len(), 6);
    }

    #[test]
    fn describe_output_keeps_reserved_names() {
        let doc = json!({"fargateProfile": {"fargateProfileName": "eks-managed", "selectors": [{"namespace": "x"}]}});
        assert_eq!(profiles_from_value(&doc, "d.json").unwrap()[0].name, "eks-managed");
    }

    #[test]
    fn reserved_label_domains_only_warn() {
        let doc = with_profile(
            json!({"name": "p", "selectors": [{"namespace": "a", "labels": {"eks.amazonaws.com/x": "y", "app": "z"}}]}),
        );
        let p = profiles_from_value(&doc, "c.yaml").unwrap().remove(0);
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].contains("eks.amazonaws.com/x"), "{:?}", p.warnings);
    }

    #[test]
    fn cluster_wide_rules() {
        let mk = |name: &str, cluster: &str| {
            let mut p = FargateProfile::new(name, vec![ProfileSelector::new("a", &[])]);
            p.cluster_name = Some(cluster.to_string());
            p.location = format!("{name}.yaml");
            p
        };
        let limits = ProfileLimits::default();
        let ten: Vec<_> = (0..10).map(|i| mk(&format!("p{i}"), "c")).collect();
        assert!(validate_profiles(&ten, &limits).is_ok());
        let mut eleven = ten.clone();
        eleven.push(mk("p10", "c"));
        let e = validate_profiles(&eleven, &limits).unwrap_err();
        assert!(e.message.contains("11 Fargate profiles in cluster \"c\"; the quota is 10"), "{e}");
        // Another cluster has its own quota.
        let mut two_clusters = ten.clone();
        two_clusters.push(mk("p0", "other"));
        assert!(validate_profiles(&two_clusters, &limits).is_ok());
        let dup = vec![mk("a", "c"), mk("a", "c")];
        let e = validate_profiles(&dup, &limits).unwrap_err();
        assert_eq!(e.location, "a.yaml");
        assert!(e.message.contains("duplicate Fargate profile name \"a\""));
        let mut deleting = vec![mk("a", "c"), mk("b", "c")];
        deleting[0].status = ProfileStatus::Deleting;
        deleting[1].status = ProfileStatus::Deleting;
        assert_eq!(validate_profiles(&deleting, &limits).unwrap_err().field, "status");
    }

    #[test]
    fn subnet_catalog_fills_zones() {
        let mut p = FargateProfile::new("p", vec![ProfileSelector::new("a", &[])]);
        p.subnets = vec![Subnet { id: "subnet-1".into(), ..Default::default() }];
        let catalog = vec![Subnet {
            id: "subnet-1".into(),
            zone: Some("us-east-1b".into()),
            cidr: Some("10.0.32.0/19".parse().unwrap()),
        }];
        let mut ps = vec![p];
        apply_subnet_catalog(&mut ps, &catalog);
        assert_eq!(ps[0].subnets[0].zone.as_deref(), Some("us-east-1b"));
    }

    #[test]
    fn arn_region() {
        assert_eq!(region_from_arn("arn:aws:eks:us-east-1:1:fargateprofile/c/p/x").as_deref(), Some("us-east-1"));
        assert_eq!(region_from_arn("not-an-arn"), None);
    }
}
