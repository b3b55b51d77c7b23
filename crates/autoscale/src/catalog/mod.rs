//! The instance-type catalog: what each EC2 type offers, what it costs, where it can launch.
//!
//! The built-in catalog ([`Catalog::embedded`]) is a compact Rust table ([`embedded`]) generated
//! from the shared `instance-types.csv` (doc §9: 291 types; vCPU, memory, GPUs, ENI-limited
//! max pods and us-east-1 on-demand prices, transcribed from the Karpenter AWS provider's
//! generated docs and pricing table). Family, category, generation and size are not stored:
//! they are derived from the name as the provider does (doc §1.3). Another catalog can be
//! loaded at run time from a CSV with the same column names ([`Catalog::from_csv`]).
//!
//! Offerings: every type is offered in every catalog zone (default `us-east-1a/b/c`) as
//! on-demand and spot unless the catalog row lists zones or the caller marks an offering
//! unavailable (an ICE). Spot prices come from the row when given, otherwise from the on-demand
//! price less a configurable discount ([`DEFAULT_SPOT_DISCOUNT_BPS`]).

mod csv;
pub mod embedded;

use crate::error::AutoscaleError;
use crate::money::Money;
use kubesched_core::Sym;
use std::collections::BTreeSet;
use std::fmt;

pub use csv::parse_csv;

/// Default spot discount off the on-demand price, in basis points (60%). An assumption, not a
/// measured fact: AWS advertises spot "up to 90%" off; Karpenter itself uses the on-demand price
/// until it has read spot prices (doc §3.7). Configure it with [`Catalog::with_spot_discount`].
pub const DEFAULT_SPOT_DISCOUNT_BPS: u32 = 6_000;
/// The region the embedded prices are for (doc §9).
pub const DEFAULT_REGION: &str = "us-east-1";
/// Zones offered when nothing says otherwise (an assumption: three zones of the region).
pub const DEFAULT_ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum Arch {
    Amd64,
    Arm64,
}

impl Arch {
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }
    pub fn parse(s: &str) -> Option<Arch> {
        match s {
            "amd64" | "x86_64" => Some(Arch::Amd64),
            "arm64" => Some(Arch::Arm64),
            _ => None,
        }
    }
}

/// `karpenter.sh/capacity-type`. Karpenter launches reserved first, then spot, then
/// on-demand (doc §3.9).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum CapacityType {
    Reserved,
    Spot,
    OnDemand,
}

impl CapacityType {
    pub const ALL: [CapacityType; 3] = [CapacityType::Reserved, CapacityType::Spot, CapacityType::OnDemand];

    pub fn as_str(self) -> &'static str {
        match self {
            CapacityType::Reserved => "reserved",
            CapacityType::Spot => "spot",
            CapacityType::OnDemand => "on-demand",
        }
    }
    pub fn parse(s: &str) -> Option<CapacityType> {
        match s {
            "reserved" => Some(CapacityType::Reserved),
            "spot" => Some(CapacityType::Spot),
            "on-demand" => Some(CapacityType::OnDemand),
            _ => None,
        }
    }
    pub fn sym(self) -> Sym {
        let s = crate::labels::syms();
        match self {
            CapacityType::Reserved => s.reserved,
            CapacityType::Spot => s.spot,
            CapacityType::OnDemand => s.on_demand,
        }
    }
}

impl fmt::Display for CapacityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct GpuInfo {
    pub count: u32,
    /// Lower-kebab-case (`t4`, `a10g`, `l40s`).
    pub name: String,
    pub manufacturer: String,
    /// Per GPU.
    pub memory_mib: u64,
}

/// A Neuron (Inferentia/Trainium) accelerator: `aws.amazon.com/neuron` devices and
/// `aws.amazon.com/neuroncore` cores.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct AcceleratorInfo {
    pub name: String,
    pub manufacturer: String,
    pub count: u32,
    pub cores: u32,
}

#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct InstanceType {
    pub name: String,
    pub family: String,
    pub size: String,
    pub category: String,
    pub generation: u32,
    pub arch: Arch,
    pub vcpu: u32,
    /// Raw `MemoryInfo.SizeInMiB`, before any overhead.
    pub memory_mib: u64,
    pub gpu: Option<GpuInfo>,
    pub accelerator: Option<AcceleratorInfo>,
    /// ENI-limited pods (AL2023, `RESERVED_ENIS=0`).
    pub max_pods: u32,
    pub od_price: Money,
    /// Spot price when the catalog gives one; otherwise the discount applies.
    pub spot_price: Option<Money>,
    /// Zones this type is offered in; `None` = every catalog zone.
    pub zones: Option<Vec<String>>,
}

impl InstanceType {
    /// `*metal*` sizes.
    pub fn is_metal(&self) -> bool {
        self.size.contains("metal")
    }

    /// What the AWS launch's exotic filter drops when it can (doc §3.9): GPUs, accelerators,
    /// metal.
    pub fn is_exotic(&self) -> bool {
        self.gpu.is_some() || self.accelerator.is_some() || self.is_metal()
    }
}

/// Splits a type name as the AWS provider does (doc §1.3): family and size on `.`, category
/// and generation by `(^[a-z]+)(-[0-9]+tb)?([0-9]+).*\.`.
pub fn parse_type_name(name: &str) -> Option<(String, String, String, u32)> {
    let (family, size) = name.split_once('.')?;
    if family.is_empty() || size.is_empty() {
        return None;
    }
    let bytes = family.as_bytes();
    let letters = bytes.iter().take_while(|b| b.is_ascii_lowercase()).count();
    if letters == 0 {
        return None;
    }
    let mut rest = &family[letters..];
    // Optional "-<n>tb" (u-6tb1 style).
    if let Some(r) = rest.strip_prefix('-') {
        let d = r.bytes().take_while(u8::is_ascii_digit).count();
        if d > 0 && r[d..].starts_with("tb") {
            rest = &r[d + 2..];
        }
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let generation: u32 = rest[..digits].parse().ok()?;
    Some((family.to_string(), size.to_string(), family[..letters].to_string(), generation))
}

/// An (instance type, zone, capacity type) the cloud can launch, with its price.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Offering {
    pub zone: Sym,
    pub capacity_type: CapacityType,
    pub price: Money,
    pub available: bool,
}

/// The catalog: instance types plus where and at what price they launch.
#[derive(Clone, Debug)]
pub struct Catalog {
    /// Where it came from (`embedded: shared/data/instance-types.csv` or the file name).
    pub source: String,
    pub region: String,
    zones: Vec<String>,
    spot_discount_bps: u32,
    types: Vec<InstanceType>,
    /// Offerings marked unavailable (insufficient capacity), by (type, zone, capacity type).
    unavailable: BTreeSet<(String, String, CapacityType)>,
}

impl Catalog {
    /// A catalog of `types` with the default region, zones and spot discount.
    pub fn new(source: &str, mut types: Vec<InstanceType>) -> Catalog {
        types.sort_by(|a, b| a.name.cmp(&b.name));
        Catalog {
            source: source.to_string(),
            region: DEFAULT_REGION.to_string(),
            zones: DEFAULT_ZONES.iter().map(|z| z.to_string()).collect(),
            spot_discount_bps: DEFAULT_SPOT_DISCOUNT_BPS,
            types,
            unavailable: BTreeSet::new(),
        }
    }

    /// The built-in catalog (291 types, us-east-1 prices).
    pub fn embedded() -> Catalog {
        Catalog::new(embedded::SOURCE, embedded::types())
    }

    /// Reads a catalog CSV (see [`parse_csv`] for the columns). `source` names the file in
    /// errors.
    pub fn from_csv(source: &str, text: &str) -> Result<Catalog, AutoscaleError> {
        Ok(Catalog::new(source, parse_csv(source, text)?))
    }

    pub fn with_zones(mut self, zones: &[&str]) -> Catalog {
        self.zones = zones.iter().map(|z| z.to_string()).collect();
        self
    }

    pub fn with_region(mut self, region: &str) -> Catalog {
        self.region = region.to_string();
        self
    }

    /// Spot price = on-demand × (1 − bps/10000) for types without an explicit spot price.
    pub fn with_spot_discount(mut self, bps: u32) -> Catalog {
        self.spot_discount_bps = bps.min(10_000);
        self
    }

    /// Marks an offering unavailable (an insufficient-capacity error; Karpenter caches these for
    /// 3 minutes, doc §3.7).
    pub fn mark_unavailable(&mut self, instance_type: &str, zone: &str, capacity_type: CapacityType) {
        self.unavailable.insert((instance_type.to_string(), zone.to_string(), capacity_type));
    }

    /// Clears every unavailability mark.
    pub fn clear_unavailable(&mut self) {
        self.unavailable.clear();
    }

    pub fn zones(&self) -> &[String] {
        &self.zones
    }

    pub fn spot_discount_bps(&self) -> u32 {
        self.spot_discount_bps
    }

    /// Types sorted by name.
    pub fn types(&self) -> &[InstanceType] {
        &self.types
    }

    pub fn get(&self, name: &str) -> Option<&InstanceType> {
        self.types.binary_search_by(|t| t.name.as_str().cmp(name)).ok().map(|i| &self.types[i])
    }

    /// The hourly price of `it` as `capacity_type` (reserved: on-demand / 10,000,000, doc §3.7).
    pub fn price(&self, it: &InstanceType, capacity_type: CapacityType) -> Money {
        match capacity_type {
            CapacityType::OnDemand => it.od_price,
            CapacityType::Spot => it.spot_price.unwrap_or_else(|| it.od_price.discounted(self.spot_discount_bps)),
            CapacityType::Reserved => Money(it.od_price.0 / 10_000_000),
        }
    }

    /// Every on-demand and spot offering of `it`, zone by zone in catalog order.
    pub fn offerings(&self, it: &InstanceType) -> Vec<Offering> {
        let mut out = Vec::new();
        for zone in &self.zones {
            if it.zones.as_ref().is_some_and(|z| !z.contains(zone)) {
                continue;
            }
            for ct in [CapacityType::Spot, CapacityType::OnDemand] {
                let available = !self.unavailable.contains(&(it.name.clone(), zone.clone(), ct));
                out.push(Offering { zone: Sym::new(zone), capacity_type: ct, price: self.price(it, ct), available });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_like_the_aws_provider() {
        let p = parse_type_name;
        assert_eq!(p("c6g.xlarge"), Some(("c6g".into(), "xlarge".into(), "c".into(), 6)));
        assert_eq!(p("m7i.metal-48xl"), Some(("m7i".into(), "metal-48xl".into(), "m".into(), 7)));
        assert_eq!(p("inf2.24xlarge"), Some(("inf2".into(), "24xlarge".into(), "inf".into(), 2)));
        assert_eq!(p("p5en.48xlarge"), Some(("p5en".into(), "48xlarge".into(), "p".into(), 5)));
        assert_eq!(p("u-6tb1.metal"), Some(("u-6tb1".into(), "metal".into(), "u".into(), 1)));
        assert_eq!(p("m5large"), None);
        assert_eq!(p("5m.large"), None);
    }

    #[test]
    fn embedded_catalog_matches_the_shared_facts() {
        let c = Catalog::embedded();
        assert_eq!(c.types().len(), 291);
        let m5 = c.get("m5.large").unwrap();
        assert_eq!((m5.vcpu, m5.memory_mib, m5.max_pods, m5.od_price), (2, 8192, 29, Money(96_000)));
        assert_eq!((m5.family.as_str(), m5.category.as_str(), m5.generation), ("m5", "m", 5));
        let c6g = c.get("c6g.xlarge").unwrap();
        assert_eq!((c6g.arch, c6g.vcpu, c6g.memory_mib, c6g.max_pods), (Arch::Arm64, 4, 8192, 58));
        let g5 = c.get("g5.48xlarge").unwrap();
        let gpu = g5.gpu.as_ref().unwrap();
        assert_eq!(
            (gpu.count, gpu.name.as_str(), gpu.manufacturer.as_str(), gpu.memory_mib),
            (8, "a10g", "nvidia", 22888)
        );
        let inf = c.get("inf2.24xlarge").unwrap().accelerator.as_ref().unwrap();
        assert_eq!((inf.name.as_str(), inf.count, inf.cores), ("inferentia2", 6, 12));
        assert!(c.get("m5.metal").unwrap().is_exotic() && !m5.is_exotic());
        // Sorted by name, so lookups by binary search work.
        assert!(c.types().windows(2).all(|w| w[0].name < w[1].name));
    }

    /// The embedded table is exactly the shared CSV (when the shared folder is there: the repo
    /// must build without it, so the check is skipped on a bare checkout).
    #[test]
    fn embedded_catalog_equals_the_shared_csv() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/instance-types.csv");
        let Ok(text) = std::fs::read_to_string(path) else { return };
        let mut from_csv = parse_csv(path, &text).unwrap();
        from_csv.sort_by(|a, b| a.name.cmp(&b.name));
        let embedded = Catalog::embedded();
        assert_eq!(from_csv.len(), embedded.types().len());
        for (a, b) in from_csv.iter().zip(embedded.types()) {
            let mut b = b.clone();
            b.accelerator = None; // Neuron facts come from the doc's prose, not the CSV
            assert_eq!(a, &b);
        }
    }

    #[test]
    fn offerings_prices_and_unavailability() {
        let mut c = Catalog::embedded();
        let m5 = c.get("m5.large").unwrap().clone();
        assert_eq!(c.price(&m5, CapacityType::Spot), Money(38_400));
        let c2 = c.clone().with_spot_discount(7_000);
        assert_eq!(c2.price(&m5, CapacityType::Spot), Money(28_800));
        assert_eq!(c.offerings(&m5).len(), 6);
        c.mark_unavailable("m5.large", "us-east-1b", CapacityType::Spot);
        let offs = c.offerings(&m5);
        let unavailable: Vec<_> =
            offs.iter().filter(|o| !o.available).map(|o| (o.zone.as_str(), o.capacity_type)).collect();
        assert_eq!(unavailable, vec![("us-east-1b", CapacityType::Spot)]);
        let one = c.clone().with_zones(&["us-east-1a"]);
        assert_eq!(one.offerings(&m5).len(), 2);
    }
}
