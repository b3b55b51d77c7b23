//! Node classes: Karpenter's `EC2NodeClass` (`karpenter.k8s.aws/v1`, doc §1.5) and EKS Auto
//! Mode's `NodeClass` (`eks.amazonaws.com/v1`, doc §1.6), read from raw documents and reduced to
//! what changes a node's capacity ([`NodeSettings`]).
//!
//! Networking, IAM, AMI selection and tags are validated for shape only: subnets and security
//! groups cannot be resolved without an AWS account, so the zones a node class can launch in are
//! the catalog's zones.

use crate::allocatable::{AmiFamily, GIB, KubeletConfig, NodeSettings, Reserved, Threshold};
use crate::error::AutoscaleError;
use crate::json::{Reader, join};
use crate::labels::Flavor;
use serde_json::Value;

pub const EC2_NODE_CLASS_GROUP: &str = "karpenter.k8s.aws";
pub const EC2_NODE_CLASS_KIND: &str = "EC2NodeClass";
pub const AUTO_MODE_GROUP: &str = "eks.amazonaws.com";
pub const AUTO_MODE_KIND: &str = "NodeClass";
/// The NodeClass EKS creates when a built-in NodePool is enabled (doc §2.1).
pub const AUTO_MODE_DEFAULT_CLASS: &str = "default";

/// A node class, either kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeClass {
    pub name: String,
    /// Source label of the document (empty for built-ins).
    pub location: String,
    pub settings: NodeSettings,
    /// EKS created it (the Auto Mode `default` class).
    pub built_in: bool,
}

impl NodeClass {
    pub fn flavor(&self) -> Flavor {
        self.settings.flavor
    }

    /// `(group, kind)` of this class as a `nodeClassRef` names it.
    pub fn group_kind(&self) -> (&'static str, &'static str) {
        match self.flavor() {
            Flavor::KarpenterAws => (EC2_NODE_CLASS_GROUP, EC2_NODE_CLASS_KIND),
            Flavor::AutoMode => (AUTO_MODE_GROUP, AUTO_MODE_KIND),
        }
    }

    /// EKS Auto Mode's `default` NodeClass (doc §1.6: 80Gi ephemeral storage).
    pub fn auto_mode_default() -> NodeClass {
        NodeClass {
            name: AUTO_MODE_DEFAULT_CLASS.to_string(),
            location: String::new(),
            settings: NodeSettings::auto_mode(),
            built_in: true,
        }
    }

    /// An `EC2NodeClass` with AL2023 defaults (for tests and programmatic use).
    pub fn ec2(name: &str) -> NodeClass {
        NodeClass {
            name: name.to_string(),
            location: String::new(),
            settings: NodeSettings::karpenter(),
            built_in: false,
        }
    }
}

/// True for the documents [`node_class_from_value`] reads.
pub fn is_node_class_document(doc: &Value) -> bool {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    (kind == EC2_NODE_CLASS_KIND && api.starts_with("karpenter.k8s.aws/"))
        || (kind == AUTO_MODE_KIND && api.starts_with("eks.amazonaws.com/"))
}

/// Reads an `EC2NodeClass` or Auto Mode `NodeClass`. Returns the class and warnings, or every
/// error found, each naming `source` and the field.
pub fn node_class_from_value(source: &str, doc: &Value) -> Result<(NodeClass, Vec<String>), Vec<AutoscaleError>> {
    let mut r = Reader::new(source);
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let flavor = match (api, kind) {
        ("karpenter.k8s.aws/v1", EC2_NODE_CLASS_KIND) => Flavor::KarpenterAws,
        ("eks.amazonaws.com/v1", AUTO_MODE_KIND) => Flavor::AutoMode,
        _ => {
            r.err(
                "apiVersion",
                format!(
                    "{api:?} {kind:?} is not a node class this tool reads (karpenter.k8s.aws/v1 EC2NodeClass, eks.amazonaws.com/v1 NodeClass)"
                ),
            );
            return Err(r.errors);
        }
    };
    let meta = r.object(doc.get("metadata"), "metadata");
    let name = r.required_string(meta.and_then(|m| m.get("name")), "metadata.name").unwrap_or("").to_string();
    let spec = r.object(doc.get("spec"), "spec");
    let settings = match (flavor, spec) {
        (_, None) => {
            r.err("spec", "Required value");
            NodeSettings::karpenter()
        }
        (Flavor::KarpenterAws, Some(spec)) => ec2_node_class(&mut r, spec),
        (Flavor::AutoMode, Some(spec)) => auto_mode_node_class(&mut r, spec),
    };
    r.finish(NodeClass { name, location: source.to_string(), settings, built_in: false })
}

fn selector_terms(r: &mut Reader<'_>, v: Option<&Value>, path: &str, allowed: &[&str], required: bool) {
    let terms = r.list(v, path);
    if terms.is_empty() && required {
        r.err(path, "Required value: at least one selector term");
    }
    if terms.len() > 30 {
        r.err(path, format!("Too many: {} items, must have at most 30", terms.len()));
    }
    for (i, t) in terms.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(m) = r.object(Some(t), &p) else { continue };
        if m.is_empty() {
            r.err(&p, format!("expected at least one of {allowed:?}"));
        }
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                r.err(join(&p, k), format!("Unsupported field; supported: {allowed:?}"));
            }
        }
    }
}

fn ec2_node_class(r: &mut Reader<'_>, spec: &serde_json::Map<String, Value>) -> NodeSettings {
    const KNOWN: [&str; 22] = [
        "amiFamily",
        "amiSelectorTerms",
        "role",
        "instanceProfile",
        "subnetSelectorTerms",
        "securityGroupSelectorTerms",
        "capacityReservationSelectorTerms",
        "placementGroupSelector",
        "userData",
        "tags",
        "kubelet",
        "blockDeviceMappings",
        "instanceStorePolicy",
        "networkInterfaces",
        "associatePublicIPAddress",
        "ipPrefixCount",
        "detailedMonitoring",
        "metadataOptions",
        "context",
        "cpuOptions",
        "ipv6",
        "connectionTracking",
    ];
    r.unknown_keys(spec, &KNOWN, "spec");
    let mut s = NodeSettings::karpenter();
    selector_terms(r, spec.get("subnetSelectorTerms"), "spec.subnetSelectorTerms", &["id", "tags"], true);
    selector_terms(
        r,
        spec.get("securityGroupSelectorTerms"),
        "spec.securityGroupSelectorTerms",
        &["id", "name", "tags"],
        true,
    );
    let role = r.string(spec.get("role"), "spec.role");
    let profile = r.string(spec.get("instanceProfile"), "spec.instanceProfile");
    if role.is_some() == profile.is_some() {
        r.err("spec", "must specify exactly one of ['role', 'instanceProfile']");
    }
    // AMI family: amiFamily if set, else the first alias.
    let mut family: Option<AmiFamily> = None;
    let terms = r.list(spec.get("amiSelectorTerms"), "spec.amiSelectorTerms");
    if terms.is_empty() {
        r.err("spec.amiSelectorTerms", "Required value: at least one AMI selector term");
    }
    for (i, t) in terms.iter().enumerate() {
        let p = format!("spec.amiSelectorTerms[{i}]");
        let Some(m) = r.object(Some(t), &p) else { continue };
        if let Some(alias) = r.string(m.get("alias"), &join(&p, "alias")) {
            match AmiFamily::from_alias(alias) {
                Some(f) => family = family.or(Some(f)),
                None => r.err(
                    join(&p, "alias"),
                    format!("{alias:?}: family must be one of al2023, al2, bottlerocket, windows2019, windows2022"),
                ),
            }
            if terms.len() > 1 {
                r.err(&p, "'alias' is mutually exclusive with other amiSelectorTerms");
            }
        }
    }
    if let Some(f) = r.string(spec.get("amiFamily"), "spec.amiFamily") {
        match AmiFamily::parse(f) {
            Some(f) => family = Some(f),
            None => r.err(
                "spec.amiFamily",
                format!("Unsupported value: {f:?}: supported values: AL2, AL2023, Bottlerocket, Windows2019, Windows2022, Custom"),
            ),
        }
    }
    if family.is_none() && !terms.is_empty() {
        r.err("spec.amiFamily", "Required value when amiSelectorTerms has no alias");
    }
    s.ami_family = family.unwrap_or(AmiFamily::AL2023);
    if let Some(k) = r.object(spec.get("kubelet"), "spec.kubelet") {
        s.kubelet = kubelet(r, k);
    }
    // The volume behind ephemeral storage: root (AL) or /dev/xvdb (Bottlerocket).
    let mappings = r.list(spec.get("blockDeviceMappings"), "spec.blockDeviceMappings");
    let mut roots = 0;
    for (i, m) in mappings.iter().enumerate() {
        let p = format!("spec.blockDeviceMappings[{i}]");
        let Some(m) = r.object(Some(m), &p) else { continue };
        let device = r.string(m.get("deviceName"), &join(&p, "deviceName")).unwrap_or("");
        let root = r.bool(m.get("rootVolume"), &join(&p, "rootVolume")).unwrap_or(false);
        roots += root as usize;
        let ebs = r.object(m.get("ebs"), &join(&p, "ebs"));
        let size = ebs.and_then(|e| {
            let sp = join(&join(&p, "ebs"), "volumeSize");
            r.quantity(e.get("volumeSize"), &sp).map(|q| q.value())
        });
        let backs_ephemeral = match s.ami_family {
            AmiFamily::Bottlerocket => device == "/dev/xvdb",
            _ => root || (roots == 0 && device == "/dev/xvda"),
        };
        if backs_ephemeral && let Some(size) = size {
            s.ephemeral_bytes = size;
        }
    }
    if roots > 1 {
        r.err("spec.blockDeviceMappings", "must have only one blockDeviceMappings with rootVolume");
    }
    if let Some(p) = r.string(spec.get("instanceStorePolicy"), "spec.instanceStorePolicy") {
        if p == "RAID0" {
            r.warn(
                "spec.instanceStorePolicy",
                "RAID0 instance store is not in the catalog; ephemeral storage stays the EBS volume",
            );
        } else {
            r.err("spec.instanceStorePolicy", format!("Unsupported value: {p:?}: supported values: \"RAID0\""));
        }
    }
    s
}

fn reserved(r: &mut Reader<'_>, v: Option<&Value>, path: &str) -> Reserved {
    let mut out = Reserved::default();
    let Some(m) = r.object(v, path) else { return out };
    for (k, val) in m {
        let p = join(path, k);
        let q = r.quantity(Some(val), &p);
        match k.as_str() {
            "cpu" => out.cpu_milli = q.map(|q| q.milli_value()),
            "memory" => out.memory = q.map(|q| q.value()),
            "ephemeral-storage" => out.ephemeral_storage = q.map(|q| q.value()),
            "pid" => {}
            _ => r.err(p, "Unsupported resource; supported: cpu, memory, ephemeral-storage, pid"),
        }
    }
    out
}

fn threshold(r: &mut Reader<'_>, v: &Value, path: &str) -> Option<Threshold> {
    let s = r.string(Some(v), path)?;
    if let Some(pct) = s.strip_suffix('%') {
        let parsed: Option<i64> = match pct.split_once('.') {
            None => pct.parse::<i64>().ok().map(|p| p * 100),
            Some((i, f)) if f.len() <= 2 && !f.is_empty() => {
                let frac: i64 = f.parse().ok()?;
                i.parse::<i64>().ok().map(|i| i * 100 + if f.len() == 1 { frac * 10 } else { frac })
            }
            _ => None,
        };
        match parsed.filter(|p| (0..=10_000).contains(p)) {
            Some(bps) => Some(Threshold::PercentBps(bps)),
            None => {
                r.err(path, format!("{s:?} is not a percentage between 0% and 100% (at most two decimals)"));
                None
            }
        }
    } else {
        r.quantity(Some(v), path).map(|q| Threshold::Bytes(q.value()))
    }
}

fn kubelet(r: &mut Reader<'_>, k: &serde_json::Map<String, Value>) -> KubeletConfig {
    let mut out = KubeletConfig::default();
    if let Some(n) = r.int(k.get("maxPods"), "spec.kubelet.maxPods") {
        match u32::try_from(n) {
            Ok(n) => out.max_pods = Some(n),
            Err(_) => r.err("spec.kubelet.maxPods", format!("{n} must be between 0 and {}", u32::MAX)),
        }
    }
    if let Some(n) = r.int(k.get("podsPerCore"), "spec.kubelet.podsPerCore") {
        match u32::try_from(n) {
            Ok(n) => out.pods_per_core = Some(n),
            Err(_) => r.err("spec.kubelet.podsPerCore", format!("{n} must be non-negative")),
        }
    }
    out.kube_reserved = reserved(r, k.get("kubeReserved"), "spec.kubelet.kubeReserved");
    out.system_reserved = reserved(r, k.get("systemReserved"), "spec.kubelet.systemReserved");
    if let Some(m) = r.object(k.get("evictionHard"), "spec.kubelet.evictionHard") {
        for (key, v) in m {
            let p = join("spec.kubelet.evictionHard", key);
            match key.as_str() {
                "memory.available" => out.eviction_memory = threshold(r, v, &p),
                "nodefs.available" => out.eviction_nodefs = threshold(r, v, &p),
                "nodefs.inodesFree" | "imagefs.available" | "imagefs.inodesFree" | "pid.available" => {
                    threshold(r, v, &p);
                }
                _ => r.err(
                    p,
                    "Unsupported signal; supported: memory.available, nodefs.available, nodefs.inodesFree, imagefs.available, imagefs.inodesFree, pid.available",
                ),
            }
        }
    }
    if k.contains_key("evictionSoft") {
        r.warn("spec.kubelet.evictionSoft", "ignored for capacity, as Karpenter does (doc §3.6)");
    }
    out
}

fn auto_mode_node_class(r: &mut Reader<'_>, spec: &serde_json::Map<String, Value>) -> NodeSettings {
    const KNOWN: [&str; 11] = [
        "role",
        "subnetSelectorTerms",
        "securityGroupSelectorTerms",
        "podSubnetSelectorTerms",
        "podSecurityGroupSelectorTerms",
        "snatPolicy",
        "networkPolicy",
        "networkPolicyEventLogs",
        "ephemeralStorage",
        "tags",
        "advancedNetworking",
    ];
    r.unknown_keys(spec, &KNOWN, "spec");
    let mut s = NodeSettings::auto_mode();
    r.string(spec.get("role"), "spec.role");
    selector_terms(r, spec.get("subnetSelectorTerms"), "spec.subnetSelectorTerms", &["id", "tags"], false);
    selector_terms(
        r,
        spec.get("securityGroupSelectorTerms"),
        "spec.securityGroupSelectorTerms",
        &["id", "name", "tags"],
        false,
    );
    let enums: [(&str, &[&str]); 3] = [
        ("snatPolicy", &["Random", "Disabled"]),
        ("networkPolicy", &["DefaultAllow", "DefaultDeny"]),
        ("networkPolicyEventLogs", &["Disabled", "Enabled"]),
    ];
    for (field, allowed) in enums {
        let p = join("spec", field);
        if let Some(v) = r.string(spec.get(field), &p)
            && !allowed.contains(&v)
        {
            r.err(p, format!("Unsupported value: {v:?}: supported values: {allowed:?}"));
        }
    }
    if let Some(e) = r.object(spec.get("ephemeralStorage"), "spec.ephemeralStorage") {
        if let Some(q) = r.quantity(e.get("size"), "spec.ephemeralStorage.size") {
            let size = q.value();
            if !(GIB..=59_000 * GIB).contains(&size) {
                r.err("spec.ephemeralStorage.size", "must be between 1Gi and 59000Gi");
            } else {
                s.ephemeral_bytes = size;
            }
        }
        if let Some(iops) = r.int(e.get("iops"), "spec.ephemeralStorage.iops")
            && !(3_000..=16_000).contains(&iops)
        {
            r.err("spec.ephemeralStorage.iops", format!("{iops} must be between 3000 and 16000"));
        }
        if let Some(t) = r.int(e.get("throughput"), "spec.ephemeralStorage.throughput")
            && !(125..=1_000).contains(&t)
        {
            r.err("spec.ephemeralStorage.throughput", format!("{t} must be between 125 and 1000"));
        }
    }
    s
}

/// Errors for node classes that share a kind and name.
pub fn check_unique(classes: &[NodeClass]) -> Vec<AutoscaleError> {
    let mut out = Vec::new();
    for (i, c) in classes.iter().enumerate() {
        if classes[..i].iter().any(|d| d.name == c.name && d.flavor() == c.flavor()) {
            out.push(AutoscaleError::new(&c.location, "metadata.name", format!("{:?} is defined twice", c.name)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocatable::MIB;
    use serde_json::json;

    #[test]
    fn ec2_node_class_with_overrides() {
        let doc = json!({
            "apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
            "metadata": {"name": "default"},
            "spec": {
                "role": "KarpenterNodeRole",
                "amiSelectorTerms": [{"alias": "bottlerocket@latest"}],
                "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "demo"}}],
                "securityGroupSelectorTerms": [{"id": "sg-1"}],
                "kubelet": {"maxPods": 50, "systemReserved": {"cpu": "100m", "memory": "200Mi"},
                            "evictionHard": {"memory.available": "5%"}},
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": "4Gi"}},
                                        {"deviceName": "/dev/xvdb", "ebs": {"volumeSize": "100Gi"}}]
            }
        });
        let (class, warnings) = node_class_from_value("nc.yaml", &doc).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(class.name, "default");
        assert_eq!(class.flavor(), Flavor::KarpenterAws);
        let s = &class.settings;
        assert_eq!(s.ami_family, AmiFamily::Bottlerocket);
        assert_eq!(s.ephemeral_bytes, 100 * GIB);
        assert_eq!(s.kubelet.max_pods, Some(50));
        assert_eq!(s.kubelet.system_reserved.cpu_milli, Some(100));
        assert_eq!(s.kubelet.system_reserved.memory, Some(200 * MIB));
        assert_eq!(s.kubelet.eviction_memory, Some(Threshold::PercentBps(500)));
    }

    #[test]
    fn ec2_node_class_errors_name_the_field() {
        let doc = json!({
            "apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
            "metadata": {"name": "bad"},
            "spec": {
                "amiSelectorTerms": [{"alias": "ubuntu@latest"}],
                "subnetSelectorTerms": [{"zone": "a"}],
                "kubelet": {"maxPods": -1, "evictionHard": {"memory.available": "150%"}}
            }
        });
        let errs = node_class_from_value("nc.yaml", &doc).unwrap_err();
        let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        let want = [
            "nc.yaml: spec.subnetSelectorTerms[0].zone: Unsupported field; supported: [\"id\", \"tags\"]",
            "nc.yaml: spec.securityGroupSelectorTerms: Required value: at least one selector term",
            "nc.yaml: spec: must specify exactly one of ['role', 'instanceProfile']",
            "nc.yaml: spec.amiSelectorTerms[0].alias: \"ubuntu@latest\": family must be one of al2023, al2, bottlerocket, windows2019, windows2022",
            "nc.yaml: spec.amiFamily: Required value when amiSelectorTerms has no alias",
            "nc.yaml: spec.kubelet.maxPods: -1 must be between 0 and 4294967295",
            "nc.yaml: spec.kubelet.evictionHard.memory.available: \"150%\" is not a percentage between 0% and 100% (at most two decimals)",
        ];
        assert_eq!(msgs, want);
    }

    #[test]
    fn auto_mode_node_class() {
        let doc = json!({
            "apiVersion": "eks.amazonaws.com/v1", "kind": "NodeClass",
            "metadata": {"name": "big-disk"},
            "spec": {"role": "MyNodeRole", "ephemeralStorage": {"size": "160Gi", "iops": 3000, "throughput": 125},
                     "snatPolicy": "Random", "networkPolicy": "DefaultDeny"}
        });
        let (class, _) = node_class_from_value("am.yaml", &doc).unwrap();
        assert_eq!(class.flavor(), Flavor::AutoMode);
        assert_eq!(class.settings.ephemeral_bytes, 160 * GIB);
        assert_eq!(class.settings.max_pods_cap, Some(110));
        let bad = json!({
            "apiVersion": "eks.amazonaws.com/v1", "kind": "NodeClass", "metadata": {"name": "x"},
            "spec": {"ephemeralStorage": {"size": "60000Gi", "iops": 100}, "snatPolicy": "Sometimes", "amiFamily": "AL2"}
        });
        let (errs, warnings): (Vec<String>, Vec<String>) = match node_class_from_value("am.yaml", &bad) {
            Err(e) => (e.iter().map(|e| e.to_string()).collect(), vec![]),
            Ok((_, w)) => (vec![], w),
        };
        assert!(warnings.is_empty());
        assert_eq!(
            errs,
            [
                "am.yaml: spec.snatPolicy: Unsupported value: \"Sometimes\": supported values: [\"Random\", \"Disabled\"]",
                "am.yaml: spec.ephemeralStorage.size: must be between 1Gi and 59000Gi",
                "am.yaml: spec.ephemeralStorage.iops: 100 must be between 3000 and 16000",
            ]
        );
        let wrong = json!({"apiVersion": "karpenter.k8s.aws/v1beta1", "kind": "EC2NodeClass"});
        assert!(node_class_from_value("x", &wrong).unwrap_err()[0].field == "apiVersion");
        assert!(is_node_class_document(&doc) && !is_node_class_document(&json!({"kind": "Pod"})));
    }
}
