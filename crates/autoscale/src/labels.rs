//! Label keys Karpenter and EKS Auto Mode put on nodes, which keys are well-known (a pod may
//! select them and they are launch-time choices), which are restricted, and the deprecated
//! aliases Karpenter normalizes (doc §1.1, §1.3).

use kubesched_core::Sym;

/// `karpenter.sh/nodepool`.
pub const NODEPOOL: &str = "karpenter.sh/nodepool";
/// `karpenter.sh/capacity-type`: `on-demand`, `spot` or `reserved`.
pub const CAPACITY_TYPE: &str = "karpenter.sh/capacity-type";
pub const ZONE: &str = "topology.kubernetes.io/zone";
pub const REGION: &str = "topology.kubernetes.io/region";
pub const INSTANCE_TYPE: &str = "node.kubernetes.io/instance-type";
pub const ARCH: &str = "kubernetes.io/arch";
pub const OS: &str = "kubernetes.io/os";
pub const HOSTNAME: &str = "kubernetes.io/hostname";
pub const WINDOWS_BUILD: &str = "node.kubernetes.io/windows-build";
/// Set by Karpenter once the Node registered / initialized.
pub const REGISTERED: &str = "karpenter.sh/registered";
pub const INITIALIZED: &str = "karpenter.sh/initialized";
/// Pod and node annotation that blocks voluntary disruption.
pub const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";
/// Auto Mode: on every Auto Mode node (`auto`).
pub const COMPUTE_TYPE: &str = "eks.amazonaws.com/compute-type";
/// Pod annotation read by the ReplicaSet controller and by Karpenter's eviction cost.
pub const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// Taint Karpenter puts on nodes it disrupts.
pub const TAINT_DISRUPTED: &str = "karpenter.sh/disrupted";
/// Taint a Karpenter node registers with, removed once labels and taints are synced.
pub const TAINT_UNREGISTERED: &str = "karpenter.sh/unregistered";

/// Interned forms of the keys and values the hot paths compare, computed once.
pub struct Syms {
    pub zone: Sym,
    pub region: Sym,
    pub capacity_type: Sym,
    pub instance_type: Sym,
    pub arch: Sym,
    pub os: Sym,
    pub nodepool: Sym,
    pub hostname: Sym,
    pub registered: Sym,
    pub initialized: Sym,
    pub compute_type: Sym,
    pub beta_instance_type: Sym,
    pub beta_arch: Sym,
    pub beta_os: Sym,
    pub beta_zone: Sym,
    pub beta_region: Sym,
    pub on_demand: Sym,
    pub spot: Sym,
    pub reserved: Sym,
    pub linux: Sym,
    pub amd64: Sym,
    pub r#true: Sym,
    pub auto: Sym,
}

/// The interned well-known strings.
pub fn syms() -> &'static Syms {
    static SYMS: std::sync::OnceLock<Syms> = std::sync::OnceLock::new();
    SYMS.get_or_init(|| Syms {
        zone: Sym::new(ZONE),
        region: Sym::new(REGION),
        capacity_type: Sym::new(CAPACITY_TYPE),
        instance_type: Sym::new(INSTANCE_TYPE),
        arch: Sym::new(ARCH),
        os: Sym::new(OS),
        nodepool: Sym::new(NODEPOOL),
        hostname: Sym::new(HOSTNAME),
        registered: Sym::new(REGISTERED),
        initialized: Sym::new(INITIALIZED),
        compute_type: Sym::new(COMPUTE_TYPE),
        beta_instance_type: Sym::new("beta.kubernetes.io/instance-type"),
        beta_arch: Sym::new("beta.kubernetes.io/arch"),
        beta_os: Sym::new("beta.kubernetes.io/os"),
        beta_zone: Sym::new("failure-domain.beta.kubernetes.io/zone"),
        beta_region: Sym::new("failure-domain.beta.kubernetes.io/region"),
        on_demand: Sym::new("on-demand"),
        spot: Sym::new("spot"),
        reserved: Sym::new("reserved"),
        linux: Sym::new("linux"),
        amd64: Sym::new("amd64"),
        r#true: Sym::new("true"),
        auto: Sym::new("auto"),
    })
}

/// Core well-known labels (`pkg/apis/v1/labels.go WellKnownLabels`).
pub const CORE_WELL_KNOWN: [&str; 8] = [NODEPOOL, ZONE, REGION, INSTANCE_TYPE, ARCH, OS, CAPACITY_TYPE, WINDOWS_BUILD];

/// Deprecated keys and the stable keys Karpenter reads them as (`NormalizedLabels`).
pub const NORMALIZED: [(&str, &str); 5] = [
    ("failure-domain.beta.kubernetes.io/zone", ZONE),
    ("failure-domain.beta.kubernetes.io/region", REGION),
    ("beta.kubernetes.io/arch", ARCH),
    ("beta.kubernetes.io/os", OS),
    ("beta.kubernetes.io/instance-type", INSTANCE_TYPE),
];

/// The stable key for `key` (deprecated aliases mapped, everything else unchanged).
pub fn normalize(key: &str) -> &str {
    NORMALIZED.iter().find(|(old, _)| *old == key).map_or(key, |(_, new)| new)
}

/// Which provider's label vocabulary a node class speaks.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum Flavor {
    /// Karpenter's AWS provider: `EC2NodeClass` (`karpenter.k8s.aws/v1`), labels
    /// `karpenter.k8s.aws/instance-*`.
    KarpenterAws,
    /// EKS Auto Mode: `NodeClass` (`eks.amazonaws.com/v1`), labels `eks.amazonaws.com/instance-*`
    /// plus `eks.amazonaws.com/compute-type: auto`.
    AutoMode,
}

/// Instance attributes both providers label, by suffix (`<prefix>/instance-<suffix>`). Only the
/// ones the catalog knows are given values; the rest are still well-known keys.
pub const INSTANCE_ATTRIBUTES: [&str; 17] = [
    "instance-category",
    "instance-generation",
    "instance-family",
    "instance-size",
    "instance-cpu",
    "instance-cpu-manufacturer",
    "instance-memory",
    "instance-hypervisor",
    "instance-encryption-in-transit-supported",
    "instance-ebs-bandwidth",
    "instance-network-bandwidth",
    "instance-gpu-name",
    "instance-gpu-manufacturer",
    "instance-gpu-count",
    "instance-gpu-memory",
    "instance-local-nvme",
    "instance-cpu-sustained-clock-speed-mhz",
];

/// AWS-provider-only well-known keys beyond the instance attributes (doc §1.3).
const KARPENTER_AWS_EXTRA: [&str; 10] = [
    "karpenter.k8s.aws/instance-accelerator-name",
    "karpenter.k8s.aws/instance-accelerator-manufacturer",
    "karpenter.k8s.aws/instance-accelerator-count",
    "karpenter.k8s.aws/instance-capability-flex",
    "karpenter.k8s.aws/instance-tenancy",
    "karpenter.k8s.aws/capacity-reservation-id",
    "karpenter.k8s.aws/capacity-reservation-type",
    "karpenter.k8s.aws/capacity-reservation-interruptible",
    "topology.k8s.aws/zone-id",
    "karpenter.k8s.aws/ec2nodeclass",
];

impl Flavor {
    /// The domain of the provider's instance labels.
    pub fn prefix(self) -> &'static str {
        match self {
            Flavor::KarpenterAws => "karpenter.k8s.aws",
            Flavor::AutoMode => "eks.amazonaws.com",
        }
    }

    /// `<prefix>/instance-<suffix>`.
    pub fn key(self, attribute: &str) -> String {
        format!("{}/{attribute}", self.prefix())
    }

    /// The node-class label key `<group>/<lower(kind)>` (doc §1.3).
    pub fn node_class_label(self) -> &'static str {
        match self {
            Flavor::KarpenterAws => "karpenter.k8s.aws/ec2nodeclass",
            Flavor::AutoMode => "eks.amazonaws.com/nodeclass",
        }
    }

    /// Every well-known key for this flavor: a pod may select it without the NodePool
    /// defining it, and it is a launch-time choice.
    pub fn well_known(self) -> Vec<String> {
        let mut v: Vec<String> = CORE_WELL_KNOWN.iter().map(|s| s.to_string()).collect();
        v.extend(INSTANCE_ATTRIBUTES.iter().map(|a| self.key(a)));
        match self {
            Flavor::KarpenterAws => v.extend(KARPENTER_AWS_EXTRA.iter().map(|s| s.to_string())),
            Flavor::AutoMode => {
                v.push(COMPUTE_TYPE.to_string());
                v.push(self.node_class_label().to_string());
            }
        }
        v
    }

    pub fn is_well_known(self, key: &str) -> bool {
        if CORE_WELL_KNOWN.contains(&key) {
            return true;
        }
        match self {
            Flavor::KarpenterAws => {
                KARPENTER_AWS_EXTRA.contains(&key)
                    || key.strip_prefix("karpenter.k8s.aws/").is_some_and(|a| INSTANCE_ATTRIBUTES.contains(&a))
            }
            Flavor::AutoMode => {
                key == COMPUTE_TYPE
                    || key == self.node_class_label()
                    || key.strip_prefix("eks.amazonaws.com/").is_some_and(|a| INSTANCE_ATTRIBUTES.contains(&a))
            }
        }
    }

    /// `IsRestrictedLabel`: a key a NodePool may not set or require, and a pod may not select for
    /// provisioning. Well-known keys are allowed; otherwise the `kubernetes.io`, `k8s.io` and
    /// `karpenter.sh` domains (and the provider's own domain) are restricted except
    /// `node.kubernetes.io`, `node-restriction.kubernetes.io` and `kops.k8s.io`; and
    /// `kubernetes.io/hostname` always is.
    pub fn restricted_reason(self, key: &str) -> Option<String> {
        if self.is_well_known(key) {
            return None;
        }
        if key == HOSTNAME {
            return Some(format!("label {key:?} is restricted"));
        }
        let domain = key.split_once('/').map_or("", |(d, _)| d);
        const EXCEPTIONS: [&str; 3] = ["kops.k8s.io", "node.kubernetes.io", "node-restriction.kubernetes.io"];
        if EXCEPTIONS.iter().any(|e| domain.ends_with(e)) {
            return None;
        }
        let provider = self.prefix();
        let restricted = ["kubernetes.io", "k8s.io", "karpenter.sh", provider];
        if restricted.iter().any(|r| domain == *r || domain.ends_with(&format!(".{r}"))) {
            return Some(format!(
                "label {key:?} is restricted; specify a well known label or a custom label that does not use a restricted domain"
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_and_restricted_keys() {
        let k = Flavor::KarpenterAws;
        let a = Flavor::AutoMode;
        assert!(k.is_well_known("karpenter.k8s.aws/instance-family"));
        assert!(!a.is_well_known("karpenter.k8s.aws/instance-family"));
        assert!(a.is_well_known("eks.amazonaws.com/instance-family"));
        assert!(a.is_well_known(COMPUTE_TYPE));
        assert!(k.is_well_known(ZONE) && a.is_well_known(CAPACITY_TYPE));
        assert_eq!(k.restricted_reason("team"), None);
        assert_eq!(k.restricted_reason("node.kubernetes.io/custom"), None);
        assert!(k.restricted_reason(HOSTNAME).is_some());
        assert!(k.restricted_reason("karpenter.sh/custom").is_some());
        assert!(k.restricted_reason("karpenter.k8s.aws/custom").is_some());
        assert!(k.restricted_reason("node-role.kubernetes.io/worker").is_some());
        assert!(a.restricted_reason("karpenter.k8s.aws/instance-family").is_none(), "not Auto Mode's domain");
        assert!(a.restricted_reason("eks.amazonaws.com/whatever").is_some());
        assert_eq!(normalize("beta.kubernetes.io/arch"), ARCH);
        assert_eq!(normalize("team"), "team");
    }
}
