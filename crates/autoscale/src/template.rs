//! A NodePool resolved against its node class and the catalog (Karpenter's
//! `NodeClaimTemplate`, doc §3.3): template requirements, the instance types the pool can
//! launch with their capacity, allocatable and labels, and the Node a launch produces.

use crate::allocatable::NodeSettings;
use crate::catalog::{CapacityType, Catalog, InstanceType, Offering};
use crate::labels::{self, Flavor};
use crate::money::Money;
use crate::nodeclass::NodeClass;
use crate::nodepool::NodePool;
use crate::requirements::{Requirement, Requirements};
use kubesched_core::Sym;
use kubesched_core::labels::Labels;
use kubesched_core::model::{Node, Taint, TaintEffect, first_untolerated};
use kubesched_core::resources::Resources;

/// One instance type as a pool sees it.
#[derive(Clone, Debug)]
pub struct PreparedType {
    /// Index into the catalog's types.
    pub catalog_index: usize,
    pub name: Sym,
    /// Label state of every instance-level well-known key: `Some(value)` or `None` (the type
    /// does not have it, e.g. a GPU name on a CPU type).
    pub labels: Vec<(Sym, Option<Sym>)>,
    pub capacity: Resources,
    pub allocatable: Resources,
    pub exotic: bool,
    pub offerings: Vec<Offering>,
}

impl PreparedType {
    /// Whether the type's labels satisfy `reqs` (Karpenter's `it.Requirements.Intersects`).
    #[inline]
    pub fn admitted_by(&self, reqs: &Requirements) -> bool {
        self.labels.iter().all(|&(k, v)| reqs.admits(k, v))
    }

    /// The label value of `key`, if the type defines one.
    pub fn label(&self, key: Sym) -> Option<Sym> {
        self.labels.iter().find(|(k, _)| *k == key).and_then(|(_, v)| *v)
    }

    /// Available offerings allowed by `reqs` (zone and capacity type), optionally in one zone.
    pub fn offerings_for<'a>(
        &'a self,
        reqs: &'a Requirements,
        zone: Option<Sym>,
    ) -> impl Iterator<Item = &'a Offering> + 'a {
        let (zone_key, ct_key) = (labels::syms().zone, labels::syms().capacity_type);
        self.offerings.iter().filter(move |o| {
            o.available
                && zone.is_none_or(|z| z == o.zone)
                && reqs.admits(zone_key, Some(o.zone))
                && reqs.admits(ct_key, Some(o.capacity_type.sym()))
        })
    }
}

/// A NodePool ready for scheduling.
#[derive(Clone, Debug)]
pub struct PreparedPool {
    pub pool: NodePool,
    pub name: Sym,
    pub class: NodeClass,
    /// Pool requirements + template labels (`In`) + `karpenter.sh/nodepool In [name]` + the
    /// node-class label.
    pub requirements: Requirements,
    /// Types whose labels and offerings can satisfy the pool, in catalog order.
    pub types: Vec<PreparedType>,
    /// Labels every node of the pool carries regardless of type: template labels, nodepool,
    /// node class, registered/initialized, Auto Mode's compute type.
    pub fixed_labels: Vec<(Sym, Sym)>,
}

impl PreparedPool {
    pub fn flavor(&self) -> Flavor {
        self.class.flavor()
    }

    pub fn settings(&self) -> &NodeSettings {
        &self.class.settings
    }

    pub fn is_well_known(&self, key: &str) -> bool {
        self.flavor().is_well_known(key)
    }

    /// The first pool taint (NoSchedule/NoExecute, and PreferNoSchedule unless
    /// `tolerate_prefer_no_schedule`) `tolerations` do not tolerate. Karpenter treats
    /// PreferNoSchedule as NoSchedule until preference relaxation adds a toleration (doc §3.4).
    pub fn untolerated_taint(&self, tolerations: &[kubesched_core::model::Toleration]) -> Option<&Taint> {
        first_untolerated(
            &self.pool.taints,
            tolerations,
            &[TaintEffect::NoSchedule, TaintEffect::NoExecute, TaintEffect::PreferNoSchedule],
        )
    }
}

/// The label state of every instance-level key `flavor` knows, for `it`.
pub fn type_labels(flavor: Flavor, it: &InstanceType) -> Vec<(Sym, Option<Sym>)> {
    let k = |a: &str| Sym::new(&flavor.key(a));
    let v = |s: &str| Some(Sym::new(s));
    let mut out = vec![
        (Sym::new(labels::INSTANCE_TYPE), v(&it.name)),
        (Sym::new(labels::ARCH), v(it.arch.as_str())),
        (Sym::new(labels::OS), v("linux")),
        (k("instance-category"), v(&it.category)),
        (k("instance-generation"), v(&it.generation.to_string())),
        (k("instance-family"), v(&it.family)),
        (k("instance-size"), v(&it.size)),
        (k("instance-cpu"), v(&it.vcpu.to_string())),
        (k("instance-memory"), v(&it.memory_mib.to_string())),
    ];
    let gpu = it.gpu.as_ref();
    out.push((k("instance-gpu-name"), gpu.and_then(|g| v(&g.name))));
    out.push((k("instance-gpu-manufacturer"), gpu.and_then(|g| v(&g.manufacturer))));
    out.push((k("instance-gpu-count"), gpu.and_then(|g| v(&g.count.to_string()))));
    out.push((k("instance-gpu-memory"), gpu.and_then(|g| v(&g.memory_mib.to_string()))));
    if flavor == Flavor::KarpenterAws {
        let acc = it.accelerator.as_ref();
        out.push((k("instance-accelerator-name"), acc.and_then(|a| v(&a.name))));
        out.push((k("instance-accelerator-manufacturer"), acc.and_then(|a| v(&a.manufacturer))));
        out.push((k("instance-accelerator-count"), acc.and_then(|a| v(&a.count.to_string()))));
    }
    out
}

/// Resolves `pool` against `class` and `catalog`: template requirements and the types that can
/// satisfy them (pre-filtered with an empty pod, as Karpenter does).
pub fn prepare_pool(pool: &NodePool, class: &NodeClass, catalog: &Catalog) -> PreparedPool {
    let flavor = class.flavor();
    let mut reqs = pool.requirement_set();
    for (k, v) in &pool.template_labels {
        reqs.add(Requirement::is_value(Sym::new(labels::normalize(k)), Sym::new(v)));
    }
    reqs.add(Requirement::is_value(Sym::new(labels::NODEPOOL), Sym::new(&pool.name)));
    reqs.add(Requirement::is_value(Sym::new(flavor.node_class_label()), Sym::new(&class.name)));
    if flavor == Flavor::AutoMode {
        reqs.add(Requirement::is_value(Sym::new(labels::COMPUTE_TYPE), Sym::new("auto")));
    }
    let mut types = Vec::new();
    for (i, it) in catalog.types().iter().enumerate() {
        let t = PreparedType {
            catalog_index: i,
            name: Sym::new(&it.name),
            labels: type_labels(flavor, it),
            capacity: class.settings.capacity(it),
            allocatable: class.settings.allocatable(it),
            exotic: it.is_exotic(),
            offerings: catalog.offerings(it),
        };
        if t.admitted_by(&reqs) && t.offerings_for(&reqs, None).next().is_some() {
            types.push(t);
        }
    }
    let s = labels::syms();
    let mut fixed_labels: Vec<(Sym, Sym)> =
        pool.template_labels.iter().map(|(k, v)| (Sym::new(k), Sym::new(v))).collect();
    fixed_labels.push((s.nodepool, Sym::new(&pool.name)));
    fixed_labels.push((Sym::new(flavor.node_class_label()), Sym::new(&class.name)));
    fixed_labels.push((s.registered, s.r#true));
    fixed_labels.push((s.initialized, s.r#true));
    fixed_labels.push((s.os, s.linux));
    fixed_labels.push((s.beta_os, s.linux));
    if flavor == Flavor::AutoMode {
        fixed_labels.push((s.compute_type, s.auto));
    }
    PreparedPool {
        pool: pool.clone(),
        name: Sym::new(&pool.name),
        class: class.clone(),
        requirements: reqs,
        types,
        fixed_labels,
    }
}

/// What the cloud would launch for a set of options: one type, capacity type and price in a
/// zone.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Launch {
    /// Index into the pool's `types`.
    pub type_index: usize,
    pub capacity_type: CapacityType,
    pub price: Money,
}

/// The AWS launch decision over `options` (indices into `pool.types`) in `zone` (doc §3.9):
/// the exotic filter (GPU/accelerator/metal types only when nothing else is left, or when
/// minValues is used), capacity type = spot if any option has an allowed available spot
/// offering, else on-demand (reserved capacity is not modelled); when both are allowed the
/// spot offerings priced above the cheapest on-demand offering are dropped; then the
/// cheapest offering (`lowest-price`; spot's `price-capacity-optimized` is modelled as the
/// cheapest too). Ties go to the type listed first.
pub fn launch_choice(
    pool: &PreparedPool,
    options: &[usize],
    reqs: &Requirements,
    zone: Sym,
    min_values: bool,
) -> Option<Launch> {
    let non_exotic = options.iter().any(|&i| !pool.types[i].exotic);
    let eligible = |i: usize| min_values || !non_exotic || !pool.types[i].exotic;
    let cheapest = |ct: CapacityType, cap: Option<Money>| -> Option<Launch> {
        let mut best: Option<Launch> = None;
        for &i in options.iter().filter(|&&i| eligible(i)) {
            for o in pool.types[i].offerings_for(reqs, Some(zone)).filter(|o| o.capacity_type == ct) {
                if cap.is_some_and(|c| o.price > c) {
                    continue;
                }
                if best.is_none_or(|b| o.price < b.price) {
                    best = Some(Launch { type_index: i, capacity_type: ct, price: o.price });
                }
            }
        }
        best
    };
    let od = cheapest(CapacityType::OnDemand, None);
    let spot_cap = if min_values { None } else { od.map(|l| l.price) };
    cheapest(CapacityType::Spot, spot_cap).or(od).or_else(|| cheapest(CapacityType::Spot, None))
}

/// Everything that makes up a node's identity at launch.
pub struct NodeSpec<'a> {
    pub pool: &'a PreparedPool,
    pub type_index: usize,
    pub zone: Sym,
    pub capacity_type: CapacityType,
    pub name: &'a str,
    /// The NodeClaim's requirements: custom keys with `In` values become labels.
    pub requirements: &'a Requirements,
    pub region: Sym,
}

/// The Node as it runs pods: labels Karpenter/Auto Mode, kubelet and the cloud controller set,
/// the pool's taints, capacity and allocatable. Startup taints are not included: pods need not
/// tolerate them and Karpenter ignores them when simulating (doc §1.7, §3.5).
pub fn node_for(spec: &NodeSpec<'_>) -> Node {
    let s = labels::syms();
    let pool = spec.pool;
    let t = &pool.types[spec.type_index];
    let mut node = Node::new(spec.name);
    let mut l = Labels::new();
    for &(k, v) in &pool.fixed_labels {
        l.insert(k, v);
    }
    for &(k, v) in &t.labels {
        if let Some(v) = v {
            l.insert(k, v);
        }
    }
    let arch = t.label(s.arch).unwrap_or(s.amd64);
    l.insert(s.beta_instance_type, t.name);
    l.insert(s.beta_arch, arch);
    l.insert(s.zone, spec.zone);
    l.insert(s.beta_zone, spec.zone);
    l.insert(s.region, spec.region);
    l.insert(s.beta_region, spec.region);
    l.insert(s.capacity_type, spec.capacity_type.sym());
    l.insert(s.hostname, node.name);
    // Resolvable custom labels of the NodeClaim's requirements (doc §3.8).
    for r in spec.requirements.iter() {
        if l.contains_key(r.key) {
            continue;
        }
        let key = r.key.as_str();
        if pool.is_well_known(key) || pool.flavor().restricted_reason(key).is_some() {
            continue;
        }
        if let Some(v) = r.in_values().and_then(|values| values.min_by_key(|v| v.as_str())) {
            l.insert(r.key, v);
        }
    }
    node.labels = l;
    node.taints = pool.pool.taints.clone();
    node.capacity = t.capacity.clone();
    node.allocatable = t.allocatable.clone();
    node
}

/// Karpenter's resource check for a pod set on a type: every requested amount (pods counted)
/// fits the type's allocatable.
#[inline]
pub fn fits(requests: &Resources, allocatable: &Resources) -> bool {
    requests.cpu <= allocatable.cpu
        && requests.memory <= allocatable.memory
        && requests.ephemeral_storage <= allocatable.ephemeral_storage
        && requests.pods <= allocatable.pods
        && requests.scalars.iter().all(|&(n, v)| v <= 0 || v <= allocatable.scalar(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nodepool::auto_mode_builtin_pools;
    use crate::requirements::Operator;

    fn gp() -> PreparedPool {
        let catalog = Catalog::embedded();
        prepare_pool(&auto_mode_builtin_pools()[0], &NodeClass::auto_mode_default(), &catalog)
    }

    #[test]
    fn builtin_general_purpose_types() {
        let pool = gp();
        let names: Vec<&str> = pool.types.iter().map(|t| t.name.as_str()).collect();
        // amd64 c/m/r generation ≥ 5 only.
        assert!(names.contains(&"m5.large") && names.contains(&"c7a.48xlarge") && names.contains(&"r7i.metal-48xl"));
        assert!(!names.iter().any(|n| n.starts_with("c6g") || n.starts_with("t3") || n.starts_with("g5")));
        let families: std::collections::BTreeSet<&str> = names.iter().map(|n| n.split('.').next().unwrap()).collect();
        assert_eq!(
            families.into_iter().collect::<Vec<_>>(),
            ["c5", "c6a", "c6i", "c7a", "c7i", "m5", "m6a", "m6i", "m7a", "m7i", "r5", "r6i", "r7i"]
        );
        assert_eq!(pool.types.len(), 9 + 11 + 10 + 12 + 11 + 9 + 11 + 10 + 12 + 11 + 9 + 10 + 11);
    }

    #[test]
    fn launch_prefers_spot_and_skips_exotic() {
        let catalog = Catalog::embedded();
        let class = NodeClass::ec2("default");
        let pool = NodePool::new("p", Flavor::KarpenterAws, "default").require(
            "karpenter.k8s.aws/instance-family",
            Operator::In,
            &["m5"],
        );
        let pool = prepare_pool(&pool, &class, &catalog);
        let idx = |n: &str| pool.types.iter().position(|t| t.name.as_str() == n).unwrap();
        let zone = Sym::new("us-east-1a");
        let options = vec![idx("m5.metal"), idx("m5.24xlarge"), idx("m5.xlarge")];
        let l = launch_choice(&pool, &options, &pool.requirements, zone, false).unwrap();
        assert_eq!(
            (pool.types[l.type_index].name.as_str(), l.capacity_type, l.price),
            ("m5.xlarge", CapacityType::Spot, Money(76_800))
        );
        // Only metal left: it is launched.
        let l = launch_choice(&pool, &[idx("m5.metal")], &pool.requirements, zone, false).unwrap();
        assert_eq!(pool.types[l.type_index].name.as_str(), "m5.metal");
        // On-demand only.
        let mut od = pool.requirements.clone();
        od.add(Requirement::new(labels::CAPACITY_TYPE, Operator::In, &["on-demand"]).unwrap());
        let l = launch_choice(&pool, &options, &od, zone, false).unwrap();
        assert_eq!((l.capacity_type, l.price), (CapacityType::OnDemand, Money(192_000)));
    }

    #[test]
    fn node_labels_as_auto_mode_sets_them() {
        let pool = gp();
        let i = pool.types.iter().position(|t| t.name.as_str() == "m5.large").unwrap();
        let node = node_for(&NodeSpec {
            pool: &pool,
            type_index: i,
            zone: Sym::new("us-east-1b"),
            capacity_type: CapacityType::OnDemand,
            name: "general-purpose-abcde",
            requirements: &pool.requirements,
            region: Sym::new("us-east-1"),
        });
        let labels: Vec<(&str, &str)> = node.labels.to_sorted_strings();
        let want = [
            ("beta.kubernetes.io/arch", "amd64"),
            ("beta.kubernetes.io/instance-type", "m5.large"),
            ("beta.kubernetes.io/os", "linux"),
            ("eks.amazonaws.com/compute-type", "auto"),
            ("eks.amazonaws.com/instance-category", "m"),
            ("eks.amazonaws.com/instance-cpu", "2"),
            ("eks.amazonaws.com/instance-family", "m5"),
            ("eks.amazonaws.com/instance-generation", "5"),
            ("eks.amazonaws.com/instance-memory", "8192"),
            ("eks.amazonaws.com/instance-size", "large"),
            ("eks.amazonaws.com/nodeclass", "default"),
            ("failure-domain.beta.kubernetes.io/region", "us-east-1"),
            ("failure-domain.beta.kubernetes.io/zone", "us-east-1b"),
            ("karpenter.sh/capacity-type", "on-demand"),
            ("karpenter.sh/initialized", "true"),
            ("karpenter.sh/nodepool", "general-purpose"),
            ("karpenter.sh/registered", "true"),
            ("kubernetes.io/arch", "amd64"),
            ("kubernetes.io/hostname", "general-purpose-abcde"),
            ("kubernetes.io/os", "linux"),
            ("node.kubernetes.io/instance-type", "m5.large"),
            ("topology.kubernetes.io/region", "us-east-1"),
            ("topology.kubernetes.io/zone", "us-east-1b"),
        ];
        assert_eq!(labels, want);
        // Auto Mode: 29 ENI pods, kube-reserved 11·29+255.
        assert_eq!((node.allocatable.cpu, node.allocatable.pods), (1930, 29));
    }

    #[test]
    fn resource_fit_counts_pods_and_scalars() {
        let alloc = Resources { cpu: 1000, memory: 100, pods: 2, ..Default::default() };
        let mut req = Resources { cpu: 1000, memory: 100, pods: 2, ..Default::default() };
        assert!(fits(&req, &alloc));
        req.pods = 3;
        assert!(!fits(&req, &alloc));
        req.pods = 1;
        req.set(Sym::new("nvidia.com/gpu"), 1);
        assert!(!fits(&req, &alloc));
    }
}
