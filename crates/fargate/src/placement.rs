//! Per-pod nodes (doc §4.3): one node per pod, in one of the profile's subnets, with the
//! pod's IP as the node's InternalIP.
//!
//! The node is a `kubesched_core::model::Node`, so the default scheduler sees it like any
//! other: its `eks.amazonaws.com/compute-type=fargate:NoSchedule` taint and `pods: 1` keep
//! other pods off with kube-scheduler's own messages.

use crate::net::Ipv4Cidr;
use crate::profile::FargateProfile;
use crate::reason::{REASON_MATCH_NODE_SELECTOR, Rejection};
use crate::sizing::{EphemeralStorage, FargateSize, GIB, MIB};
use k8s_openapi::api::core::v1::{NodeSelector as K8sNodeSelector, NodeSelectorTerm as K8sTerm, Pod};
use kubesched_core::intern::Sym;
use kubesched_core::labels::Labels;
use kubesched_core::model::{Node, Taint, TaintEffect};
use kubesched_core::resources::Resources;
use kubesched_core::rng::Rng;
use kubesched_core::selector::{
    NodeFieldRequirement, NodeSelector, NodeSelectorOp, NodeSelectorRequirement, NodeSelectorTerm,
};
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// Label and taint key (doc §4.3).
pub const COMPUTE_TYPE_KEY: &str = "eks.amazonaws.com/compute-type";
pub const COMPUTE_TYPE_FARGATE: &str = "fargate";
/// Fargate nodes are Linux/x86-64 only (doc §2.2, §4.3).
pub const NODE_ARCH: &str = "amd64";
pub const NODE_OS: &str = "linux";
/// Private subnets eksctl creates by default in its 192.168.0.0/16 VPC: the CIDR used for
/// the i-th subnet of a profile when the input gives none (third octet 96 + 32 i, /19).
pub const DEFAULT_SUBNET_THIRD_OCTETS: [u8; 5] = [96, 128, 160, 192, 224];

/// The taint every Fargate node carries (doc §4.3).
pub fn fargate_taint() -> Taint {
    Taint::new(COMPUTE_TYPE_KEY, COMPUTE_TYPE_FARGATE, TaintEffect::NoSchedule)
}

/// `ec2.internal` in us-east-1, `<region>.compute.internal` elsewhere (doc §4.3).
pub fn dns_suffix(region: &str) -> String {
    if region == "us-east-1" { "ec2.internal".to_string() } else { format!("{region}.compute.internal") }
}

/// `fargate-ip-10-42-11-96.us-west-2.compute.internal` (doc §4.3).
pub fn node_name(ip: Ipv4Addr, region: &str) -> String {
    format!("fargate-{}", hostname(ip, region))
}

/// The `kubernetes.io/hostname` label: the node name without `fargate-` (doc §4.3).
pub fn hostname(ip: Ipv4Addr, region: &str) -> String {
    let [a, b, c, d] = ip.octets();
    format!("ip-{a}-{b}-{c}-{d}.{}", dns_suffix(region))
}

/// The labels of a Fargate node (doc §4.3, from a 2022 node dump). No custom labels are
/// possible.
pub fn node_labels(region: &str, zone: &str, hostname: &str) -> Labels {
    [
        ("beta.kubernetes.io/arch", NODE_ARCH),
        ("beta.kubernetes.io/os", NODE_OS),
        (COMPUTE_TYPE_KEY, COMPUTE_TYPE_FARGATE),
        ("failure-domain.beta.kubernetes.io/region", region),
        ("failure-domain.beta.kubernetes.io/zone", zone),
        ("kubernetes.io/arch", NODE_ARCH),
        ("kubernetes.io/hostname", hostname),
        ("kubernetes.io/os", NODE_OS),
        ("topology.kubernetes.io/region", region),
        ("topology.kubernetes.io/zone", zone),
    ]
    .into_iter()
    .map(|(k, v)| (Sym::new(k), Sym::new(v)))
    .collect()
}

/// The per-pod node: labels and taint of doc §4.3, `pods: 1`, and the pod's provisioned size
/// as capacity and allocatable. The real node reports a larger instance (doc §2.5: "no
/// correlation"), but only `CapacityProvisioned` is enforced and billed, so that is what the
/// model offers; the one pod always fits, nothing else may.
pub fn fargate_node(ip: Ipv4Addr, region: &str, zone: &str, size: FargateSize, storage: &EphemeralStorage) -> Node {
    let name = node_name(ip, region);
    let mut node = Node::new(&name);
    node.labels = node_labels(region, zone, &hostname(ip, region));
    node.taints = vec![fargate_taint()];
    let mut r = Resources::new();
    r.cpu = size.vcpu_milli;
    r.memory = size.memory_mib * MIB;
    r.ephemeral_storage = storage.provisioned_gib * GIB;
    r.pods = 1;
    node.capacity = r.clone();
    node.allocatable = r;
    node
}

/// A profile subnet with everything placement needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedSubnet {
    pub id: String,
    pub zone: String,
    /// The input named no zone: `<region>` + `a`, `b`, `c`… by position in the profile.
    pub zone_inferred: bool,
    #[serde(serialize_with = "ser_cidr")]
    pub cidr: Ipv4Cidr,
    /// The input named no CIDR: eksctl's default private subnets by position.
    pub cidr_inferred: bool,
}

fn ser_cidr<S: serde::Serializer>(c: &Ipv4Cidr, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&c.to_string())
}

/// The profile's subnets with zones and CIDRs filled in. A profile listing no subnets gets
/// three (`<region>a`, `b`, `c`), as eksctl's default cluster has.
pub fn resolve_subnets(profile: &FargateProfile, region: &str) -> Vec<ResolvedSubnet> {
    let inferred_zone = |i: usize| format!("{region}{}", char::from(b'a' + (i % 26) as u8));
    let inferred_cidr = |i: usize| {
        let third = DEFAULT_SUBNET_THIRD_OCTETS[i % DEFAULT_SUBNET_THIRD_OCTETS.len()];
        Ipv4Cidr::clamped(Ipv4Addr::new(192, 168, third, 0), 19)
    };
    if profile.subnets.is_empty() {
        return (0..3)
            .map(|i| ResolvedSubnet {
                id: format!("subnet-default-{}", inferred_zone(i)),
                zone: inferred_zone(i),
                zone_inferred: true,
                cidr: inferred_cidr(i),
                cidr_inferred: true,
            })
            .collect();
    }
    profile
        .subnets
        .iter()
        .enumerate()
        .map(|(i, s)| ResolvedSubnet {
            id: s.id.clone(),
            zone: s.zone.clone().unwrap_or_else(|| inferred_zone(i)),
            zone_inferred: s.zone.is_none(),
            cidr: s.cidr.unwrap_or_else(|| inferred_cidr(i)),
            cidr_inferred: s.cidr.is_none(),
        })
        .collect()
}

/// `MatchNodeSelector failed: Fargate profile <name> cannot satisfy pod's node
/// selector/affinity requirements` (doc §1.3, verbatim).
pub fn match_node_selector_rejection(profile: &str) -> Rejection {
    Rejection::new(
        REASON_MATCH_NODE_SELECTOR,
        format!(
            "MatchNodeSelector failed: Fargate profile {profile} cannot satisfy pod's node selector/affinity requirements"
        ),
    )
}

/// The subnets whose node would satisfy the pod's `nodeSelector` and required node affinity.
/// Matching uses kubesched-core's node-selector semantics on the labels a node in that
/// subnet would carry; the node's name and hostname are not known before it exists, so
/// constraints on them fail (`In`) or pass (`NotIn`, `Exists`) as for any fresh node.
pub fn feasible_subnets(pod: &Pod, profile: &FargateProfile, region: &str) -> Vec<ResolvedSubnet> {
    let spec = pod.spec.as_ref();
    let selector = spec.and_then(|s| s.node_selector.as_ref());
    let required = spec
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref())
        .map(compile_node_selector);
    let placeholder_host = "ip-unknown.fargate.invalid";
    let placeholder_name = Sym::new("fargate-ip-unknown.fargate.invalid");
    resolve_subnets(profile, region)
        .into_iter()
        .filter(|s| {
            let labels = node_labels(region, &s.zone, placeholder_host);
            let selector_ok = selector
                .into_iter()
                .flatten()
                .all(|(k, v)| Sym::lookup(k).and_then(|k| labels.get(k)).is_some_and(|have| have.as_str() == v));
            selector_ok && required.as_ref().is_none_or(|r| r.matches(placeholder_name, &labels))
        })
        .collect()
}

/// `v1.NodeSelector` → kubesched-core's compiled form; a term that does not compile matches
/// nothing, as in kube-scheduler.
fn compile_node_selector(ns: &K8sNodeSelector) -> NodeSelector {
    NodeSelector { terms: ns.node_selector_terms.iter().map(compile_term).collect() }
}

fn compile_term(t: &K8sTerm) -> NodeSelectorTerm {
    let mut exprs = Vec::new();
    for r in t.match_expressions.iter().flatten() {
        let Some(op) = parse_op(&r.operator) else { return NodeSelectorTerm::invalid() };
        let values = r.values.iter().flatten().map(|v| Sym::new(v)).collect();
        match NodeSelectorRequirement::new(Sym::new(&r.key), op, values) {
            Ok(req) => exprs.push(req),
            Err(_) => return NodeSelectorTerm::invalid(),
        }
    }
    let mut fields = Vec::new();
    for r in t.match_fields.iter().flatten() {
        let Some(op) = parse_op(&r.operator) else { return NodeSelectorTerm::invalid() };
        let values: Vec<Sym> = r.values.iter().flatten().map(|v| Sym::new(v)).collect();
        match NodeFieldRequirement::new(&r.key, op, &values) {
            Ok(req) => fields.push(req),
            Err(_) => return NodeSelectorTerm::invalid(),
        }
    }
    NodeSelectorTerm::new(exprs, fields)
}

fn parse_op(s: &str) -> Option<NodeSelectorOp> {
    Some(match s {
        "In" => NodeSelectorOp::In,
        "NotIn" => NodeSelectorOp::NotIn,
        "Exists" => NodeSelectorOp::Exists,
        "DoesNotExist" => NodeSelectorOp::DoesNotExist,
        "Gt" => NodeSelectorOp::Gt,
        "Lt" => NodeSelectorOp::Lt,
        _ => return None,
    })
}

/// Where a pod landed.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    pub node: Node,
    pub node_name: String,
    /// Node InternalIP and pod IP alike (doc §4.3).
    pub ip: Ipv4Addr,
    pub subnet_id: String,
    pub zone: String,
    pub zone_inferred: bool,
}

/// The EC2 error code for a subnet without free addresses; kubesched reports it when every
/// feasible subnet of a profile is full.
pub const REASON_NO_FREE_ADDRESS: &str = "InsufficientFreeAddressesInSubnet";

/// Chooses subnets and addresses, deterministically for a seed.
#[derive(Clone, Debug)]
pub struct Placer {
    default_region: String,
    rng: Rng,
    used: BTreeSet<u32>,
}

impl Placer {
    /// `default_region` applies to profiles whose input named none.
    pub fn new(default_region: &str, seed: u64) -> Placer {
        Placer { default_region: default_region.to_string(), rng: Rng::new(seed), used: BTreeSet::new() }
    }

    pub fn region_for<'a>(&'a self, profile: &'a FargateProfile) -> &'a str {
        profile.region.as_deref().unwrap_or(&self.default_region)
    }

    /// Marks an address as taken (pods already running in the input).
    pub fn reserve(&mut self, ip: Ipv4Addr) {
        self.used.insert(u32::from(ip));
    }

    /// Frees the address of a deleted pod's node.
    pub fn release(&mut self, ip: Ipv4Addr) {
        self.used.remove(&u32::from(ip));
    }

    /// A node for `pod`: a random feasible subnet of the profile ("Fargate spreads pods
    /// across the profile's subnets… you might end up with an uneven spread", doc §4.3), a
    /// random free address in it (skipping the five AWS reserves), the node of
    /// [`fargate_node`].
    pub fn place(
        &mut self,
        pod: &Pod,
        profile: &FargateProfile,
        size: FargateSize,
        storage: &EphemeralStorage,
    ) -> Result<Placement, Rejection> {
        let region = self.region_for(profile).to_string();
        let mut subnets = feasible_subnets(pod, profile, &region);
        if subnets.is_empty() {
            return Err(match_node_selector_rejection(&profile.name));
        }
        let ids: Vec<String> = subnets.iter().map(|s| s.id.clone()).collect();
        while !subnets.is_empty() {
            let pick = self.rng.below(subnets.len() as u64) as usize;
            let subnet = subnets.remove(pick);
            if let Some(ip) = self.allocate(subnet.cidr) {
                let node = fargate_node(ip, &region, &subnet.zone, size, storage);
                return Ok(Placement {
                    node_name: node.name.as_str().to_string(),
                    node,
                    ip,
                    subnet_id: subnet.id,
                    zone: subnet.zone,
                    zone_inferred: subnet.zone_inferred,
                });
            }
        }
        Err(Rejection::new(
            REASON_NO_FREE_ADDRESS,
            format!("no free IP address in the subnets of Fargate profile {}: {}", profile.name, ids.join(", ")),
        ))
    }

    fn allocate(&mut self, cidr: Ipv4Cidr) -> Option<Ipv4Addr> {
        let (first, count) = cidr.aws_usable();
        if count == 0 {
            return None;
        }
        let start = self.rng.below(count);
        for k in 0..count {
            let ip = first.wrapping_add(((start + k) % count) as u32);
            if self.used.insert(ip) {
                return Some(Ipv4Addr::from(ip));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{ProfileSelector, Subnet};
    use crate::sizing::ephemeral_storage;
    use kubesched_core::model::first_untolerated;
    use serde_json::{Value, json};

    fn pod(spec: Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    fn plain() -> Pod {
        pod(json!({"containers": [{"name": "c", "image": "nginx"}]}))
    }

    fn profile(subnets: Vec<Subnet>) -> FargateProfile {
        let mut p = FargateProfile::new("fp-default", vec![ProfileSelector::new("default", &[])]);
        p.subnets = subnets;
        p
    }

    fn subnet(id: &str, zone: &str, cidr: &str) -> Subnet {
        Subnet { id: id.into(), zone: Some(zone.into()), cidr: Some(cidr.parse().unwrap()) }
    }

    fn storage() -> EphemeralStorage {
        ephemeral_storage(0).unwrap()
    }

    #[test]
    fn names_follow_the_region_domain() {
        let ip = Ipv4Addr::new(10, 42, 11, 96);
        assert_eq!(node_name(ip, "us-west-2"), "fargate-ip-10-42-11-96.us-west-2.compute.internal");
        assert_eq!(hostname(ip, "us-west-2"), "ip-10-42-11-96.us-west-2.compute.internal");
        assert_eq!(node_name(Ipv4Addr::new(172, 31, 192, 45), "us-east-1"), "fargate-ip-172-31-192-45.ec2.internal");
    }

    #[test]
    fn the_node_model() {
        let size = FargateSize { vcpu_milli: 500, memory_mib: 1024 };
        let n = fargate_node(Ipv4Addr::new(192, 168, 140, 92), "eu-west-1", "eu-west-1b", size, &storage());
        assert_eq!(n.name.as_str(), "fargate-ip-192-168-140-92.eu-west-1.compute.internal");
        let labels = n.labels.to_sorted_strings();
        assert_eq!(
            labels,
            vec![
                ("beta.kubernetes.io/arch", "amd64"),
                ("beta.kubernetes.io/os", "linux"),
                ("eks.amazonaws.com/compute-type", "fargate"),
                ("failure-domain.beta.kubernetes.io/region", "eu-west-1"),
                ("failure-domain.beta.kubernetes.io/zone", "eu-west-1b"),
                ("kubernetes.io/arch", "amd64"),
                ("kubernetes.io/hostname", "ip-192-168-140-92.eu-west-1.compute.internal"),
                ("kubernetes.io/os", "linux"),
                ("topology.kubernetes.io/region", "eu-west-1"),
                ("topology.kubernetes.io/zone", "eu-west-1b"),
            ]
        );
        assert_eq!(n.taints, vec![Taint::new("eks.amazonaws.com/compute-type", "fargate", TaintEffect::NoSchedule)]);
        assert_eq!(n.taints[0].describe(), "{eks.amazonaws.com/compute-type: fargate}");
        assert_eq!((n.allocatable.cpu, n.allocatable.memory, n.allocatable.pods), (500, 1024 * MIB, 1));
        assert_eq!(n.allocatable.ephemeral_storage, 20 * GIB);
        assert_eq!(n.capacity, n.allocatable);
        assert_eq!(n.zone_key(), (Sym::new("eu-west-1"), Sym::new("eu-west-1b")));
        // An ordinary pod without a toleration is kept off by the taint.
        assert!(first_untolerated(&n.taints, &[], &[TaintEffect::NoSchedule]).is_some());
    }

    #[test]
    fn placement_is_deterministic_and_inside_the_subnet() {
        let prof = profile(vec![
            subnet("subnet-a", "us-east-1a", "10.0.0.0/24"),
            subnet("subnet-b", "us-east-1b", "10.0.1.0/24"),
        ]);
        let size = FargateSize::SMALLEST;
        let run = |seed| {
            let mut placer = Placer::new("us-east-1", seed);
            (0..20).map(|_| placer.place(&plain(), &prof, size, &storage()).unwrap()).collect::<Vec<_>>()
        };
        let a = run(42);
        let b = run(42);
        assert_eq!(a, b);
        let mut ips = BTreeSet::new();
        for p in &a {
            assert!(ips.insert(p.ip), "address handed out twice");
            let cidr: Ipv4Cidr = if p.subnet_id == "subnet-a" { "10.0.0.0/24" } else { "10.0.1.0/24" }.parse().unwrap();
            assert!(cidr.contains(p.ip));
            let last = p.ip.octets()[3];
            assert!((4..=254).contains(&last), "AWS-reserved address {}", p.ip);
            assert_eq!(p.zone, if p.subnet_id == "subnet-a" { "us-east-1a" } else { "us-east-1b" });
            assert_eq!(p.node_name, node_name(p.ip, "us-east-1"));
        }
        // Both subnets get used over 20 pods.
        assert!(a.iter().any(|p| p.subnet_id == "subnet-a") && a.iter().any(|p| p.subnet_id == "subnet-b"));
        assert_ne!(run(1).iter().map(|p| p.ip).collect::<Vec<_>>(), a.iter().map(|p| p.ip).collect::<Vec<_>>());
    }

    #[test]
    fn full_subnets_are_reported() {
        // A /29 has 8 − 5 = 3 usable addresses.
        let prof = profile(vec![subnet("subnet-tiny", "us-east-1a", "10.0.0.0/29")]);
        let mut placer = Placer::new("us-east-1", 0);
        for _ in 0..3 {
            placer.place(&plain(), &prof, FargateSize::SMALLEST, &storage()).unwrap();
        }
        let e = placer.place(&plain(), &prof, FargateSize::SMALLEST, &storage()).unwrap_err();
        assert_eq!(e.reason, "InsufficientFreeAddressesInSubnet");
        // Releasing one makes room again.
        placer.release(Ipv4Addr::new(10, 0, 0, 5));
        assert_eq!(
            placer.place(&plain(), &prof, FargateSize::SMALLEST, &storage()).unwrap().ip,
            Ipv4Addr::new(10, 0, 0, 5)
        );
    }

    #[test]
    fn unknown_zones_and_cidrs_are_inferred() {
        let prof = profile(vec![
            Subnet { id: "subnet-1".into(), ..Default::default() },
            Subnet { id: "subnet-2".into(), ..Default::default() },
        ]);
        let r = resolve_subnets(&prof, "ap-northeast-2");
        assert_eq!(r[0].zone, "ap-northeast-2a");
        assert_eq!(r[1].zone, "ap-northeast-2b");
        assert!(r[0].zone_inferred && r[0].cidr_inferred);
        assert_eq!(r[0].cidr.to_string(), "192.168.96.0/19");
        assert_eq!(r[1].cidr.to_string(), "192.168.128.0/19");
        let none = resolve_subnets(&profile(vec![]), "us-east-1");
        assert_eq!(
            none.iter().map(|s| s.zone.as_str()).collect::<Vec<_>>(),
            ["us-east-1a", "us-east-1b", "us-east-1c"]
        );
    }

    #[test]
    fn zone_selectors_pick_subnets() {
        let prof = profile(vec![
            subnet("subnet-a", "us-east-1a", "10.0.0.0/24"),
            subnet("subnet-b", "us-east-1b", "10.0.1.0/24"),
        ]);
        let zoned =
            pod(json!({"containers": [{"name": "c"}], "nodeSelector": {"topology.kubernetes.io/zone": "us-east-1b"}}));
        let feasible = feasible_subnets(&zoned, &prof, "us-east-1");
        assert_eq!(feasible.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["subnet-b"]);
        let mut placer = Placer::new("us-east-1", 3);
        for _ in 0..5 {
            assert_eq!(placer.place(&zoned, &prof, FargateSize::SMALLEST, &storage()).unwrap().zone, "us-east-1b");
        }
        let beta = pod(
            json!({"containers": [{"name": "c"}], "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "failure-domain.beta.kubernetes.io/zone", "operator": "In", "values": ["us-east-1a"]}]}]}}}}),
        );
        assert_eq!(feasible_subnets(&beta, &prof, "us-east-1").len(), 1);
    }

    #[test]
    fn unsatisfiable_constraints_fail_with_match_node_selector() {
        let prof = profile(vec![subnet("subnet-a", "us-east-1a", "10.0.0.0/24")]);
        let cases = [
            // kubernetes-sigs/aws-efs-csi-driver#1068: an affinity keeping the pod off Fargate.
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "eks.amazonaws.com/compute-type", "operator": "NotIn", "values": ["fargate"]}]}]}}}}),
            json!({"nodeSelector": {"topology.kubernetes.io/zone": "us-east-1d"}}),
            json!({"nodeSelector": {"node.kubernetes.io/instance-type": "m5.large"}}),
            json!({"nodeSelector": {"kubernetes.io/arch": "arm64"}}),
            json!({"nodeSelector": {"kubernetes.io/hostname": "ip-10-0-0-9.ec2.internal"}}),
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "Bogus"}]}]}}}}),
        ];
        for extra in cases {
            let mut spec = json!({"containers": [{"name": "c"}]});
            if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
                s.extend(e.clone());
            }
            let p = pod(spec);
            let e = Placer::new("us-east-1", 0).place(&p, &prof, FargateSize::SMALLEST, &storage()).unwrap_err();
            assert_eq!(
                e.message,
                "MatchNodeSelector failed: Fargate profile fp-default cannot satisfy pod's node selector/affinity requirements",
                "{extra}"
            );
            assert_eq!(e.reason, "MatchNodeSelector");
        }
        // Constraints Fargate nodes do satisfy.
        let ok = pod(
            json!({"containers": [{"name": "c"}], "nodeSelector": {"eks.amazonaws.com/compute-type": "fargate", "kubernetes.io/os": "linux"},
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}}}}),
        );
        assert!(Placer::new("us-east-1", 0).place(&ok, &prof, FargateSize::SMALLEST, &storage()).is_ok());
    }
}
