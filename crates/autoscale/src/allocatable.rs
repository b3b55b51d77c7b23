//! Capacity and allocatable of an instance type on a node class, with Karpenter's AWS formulas
//! (doc §3.6, `aws:pkg/providers/instancetype/types.go`):
//!
//! - `capacity.cpu = vCPU`;
//! - `capacity.memory = m − ⌈0.075·m⌉` with `m = MiB − 64` on arm64 (`VM_MEMORY_OVERHEAD_PERCENT`);
//! - `capacity.pods` = kubelet `maxPods`, else ENI-limited pods (AL2, AL2023, Bottlerocket) or
//!   110, then `min(podsPerCore·vCPU, …)` when set (not on Bottlerocket); EKS Auto Mode then caps
//!   at 110 (doc §1.6);
//! - `capacity.ephemeral-storage` = the root (AL) or data (Bottlerocket) volume, 20Gi by default,
//!   80Gi on Auto Mode;
//! - overhead = kube-reserved (cpu: 6% of the first core, 1% of the second, 0.5% of cores 3–4,
//!   0.25% of the rest; memory `11·pods + 255` MiB with ENI pods on AL and the configured pods on
//!   Bottlerocket; ephemeral 1Gi) + system-reserved (none by default) + eviction (memory 100Mi,
//!   nodefs 10%), each overridable by the node class's kubelet block.
//!
//! Auto Mode's own formula is not published (doc §10): it is presumed to be Karpenter's on a
//! Bottlerocket-based image with the 110-pod cap, which is what [`NodeSettings::auto_mode`] does.

use crate::catalog::{Arch, InstanceType};
use crate::labels::Flavor;
use kubesched_core::Sym;
use kubesched_core::resources::Resources;

pub const MIB: i64 = 1 << 20;
pub const GIB: i64 = 1 << 30;
/// `VM_MEMORY_OVERHEAD_PERCENT` default, in basis points (7.5%).
pub const VM_MEMORY_OVERHEAD_BPS: i64 = 750;
/// Graviton instances lose this much memory to the CMA (doc §3.6).
pub const ARM64_CMA_MIB: i64 = 64;
/// EKS Auto Mode's per-node pod cap (doc §1.6).
pub const AUTO_MODE_MAX_PODS: u32 = 110;
/// Pods when the AMI family has no ENI-limited density (Windows, Custom).
pub const DEFAULT_MAX_PODS: u32 = 110;
/// Default root EBS volume (AL2/AL2023) and Bottlerocket data volume (doc §1.5).
pub const DEFAULT_VOLUME_BYTES: i64 = 20 * GIB;
/// Auto Mode NodeClass `ephemeralStorage.size` default (doc §1.6).
pub const AUTO_MODE_VOLUME_BYTES: i64 = 80 * GIB;

pub const NVIDIA_GPU: &str = "nvidia.com/gpu";
pub const NEURON: &str = "aws.amazon.com/neuron";
pub const NEURONCORE: &str = "aws.amazon.com/neuroncore";

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum AmiFamily {
    AL2023,
    AL2,
    Bottlerocket,
    Windows,
    Custom,
}

impl AmiFamily {
    pub fn parse(s: &str) -> Option<AmiFamily> {
        Some(match s {
            "AL2023" => AmiFamily::AL2023,
            "AL2" => AmiFamily::AL2,
            "Bottlerocket" => AmiFamily::Bottlerocket,
            "Windows2019" | "Windows2022" | "Windows2025" => AmiFamily::Windows,
            "Custom" => AmiFamily::Custom,
            _ => return None,
        })
    }

    /// From an `amiSelectorTerms[].alias` such as `al2023@latest` or `bottlerocket@v1.20`.
    pub fn from_alias(alias: &str) -> Option<AmiFamily> {
        let family = alias.split_once('@').map_or(alias, |(f, _)| f);
        Some(match family {
            "al2023" => AmiFamily::AL2023,
            "al2" => AmiFamily::AL2,
            "bottlerocket" => AmiFamily::Bottlerocket,
            "windows2019" | "windows2022" | "windows2025" => AmiFamily::Windows,
            _ => return None,
        })
    }

    fn eni_limited(self) -> bool {
        matches!(self, AmiFamily::AL2023 | AmiFamily::AL2 | AmiFamily::Bottlerocket)
    }
}

/// An eviction threshold: an amount, or a percentage of capacity.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Threshold {
    Bytes(i64),
    /// Percent in basis points (`5%` = 500).
    PercentBps(i64),
}

impl Threshold {
    fn of(self, capacity: i64) -> i64 {
        match self {
            Threshold::Bytes(b) => b,
            // 100% reads as "disabled" (doc §3.6).
            Threshold::PercentBps(10_000) => 0,
            Threshold::PercentBps(bps) => (capacity as i128 * bps as i128 / 10_000) as i64,
        }
    }
}

/// Explicit reservations (`kubeReserved` / `systemReserved`); `None` keeps the default.
#[derive(Clone, Default, PartialEq, Eq, Debug, Hash)]
pub struct Reserved {
    pub cpu_milli: Option<i64>,
    pub memory: Option<i64>,
    pub ephemeral_storage: Option<i64>,
}

/// The kubelet settings of an `EC2NodeClass` that change capacity (doc §1.5).
#[derive(Clone, Default, PartialEq, Eq, Debug, Hash)]
pub struct KubeletConfig {
    pub max_pods: Option<u32>,
    pub pods_per_core: Option<u32>,
    pub kube_reserved: Reserved,
    pub system_reserved: Reserved,
    pub eviction_memory: Option<Threshold>,
    pub eviction_nodefs: Option<Threshold>,
}

/// What a node class decides about a node's capacity.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct NodeSettings {
    pub flavor: Flavor,
    pub ami_family: AmiFamily,
    pub kubelet: KubeletConfig,
    /// The volume that backs ephemeral storage.
    pub ephemeral_bytes: i64,
    /// Applied after the max-pods calculation (Auto Mode: 110).
    pub max_pods_cap: Option<u32>,
    /// `VM_MEMORY_OVERHEAD_PERCENT` in basis points.
    pub vm_memory_overhead_bps: i64,
}

impl NodeSettings {
    /// Karpenter on AWS with an `EC2NodeClass` using AL2023 and no overrides.
    pub fn karpenter() -> NodeSettings {
        NodeSettings {
            flavor: Flavor::KarpenterAws,
            ami_family: AmiFamily::AL2023,
            kubelet: KubeletConfig::default(),
            ephemeral_bytes: DEFAULT_VOLUME_BYTES,
            max_pods_cap: None,
            vm_memory_overhead_bps: VM_MEMORY_OVERHEAD_BPS,
        }
    }

    /// EKS Auto Mode's default `NodeClass` (Bottlerocket-based, 80Gi, 110 pods).
    pub fn auto_mode() -> NodeSettings {
        NodeSettings {
            flavor: Flavor::AutoMode,
            ami_family: AmiFamily::Bottlerocket,
            kubelet: KubeletConfig::default(),
            ephemeral_bytes: AUTO_MODE_VOLUME_BYTES,
            max_pods_cap: Some(AUTO_MODE_MAX_PODS),
            vm_memory_overhead_bps: VM_MEMORY_OVERHEAD_BPS,
        }
    }

    /// Capacity memory in MiB: `m − ⌈overhead·m⌉`, `m` less the arm64 CMA.
    pub fn capacity_memory_mib(&self, it: &InstanceType) -> i64 {
        let mut m = it.memory_mib as i64;
        if it.arch == Arch::Arm64 {
            m -= ARM64_CMA_MIB;
        }
        m - (m * self.vm_memory_overhead_bps + 9_999) / 10_000
    }

    /// `capacity.pods`.
    pub fn pods(&self, it: &InstanceType) -> i64 {
        let mut count = match self.kubelet.max_pods {
            Some(n) => n,
            None if self.ami_family.eni_limited() => it.max_pods,
            None => DEFAULT_MAX_PODS,
        } as i64;
        if let Some(ppc) = self.kubelet.pods_per_core.filter(|&p| p > 0)
            && self.ami_family != AmiFamily::Bottlerocket
        {
            count = count.min(ppc as i64 * it.vcpu as i64);
        }
        if let Some(cap) = self.max_pods_cap {
            count = count.min(cap as i64);
        }
        count
    }

    pub fn capacity(&self, it: &InstanceType) -> Resources {
        let mut r = Resources {
            cpu: it.vcpu as i64 * 1000,
            memory: self.capacity_memory_mib(it) * MIB,
            ephemeral_storage: self.ephemeral_bytes,
            pods: self.pods(it),
            ..Default::default()
        };
        if let Some(g) = &it.gpu {
            r.set(Sym::new(NVIDIA_GPU), g.count as i64);
        }
        if let Some(a) = &it.accelerator {
            r.set(Sym::new(NEURON), a.count as i64);
            r.set(Sym::new(NEURONCORE), a.cores as i64);
        }
        r
    }

    /// kube-reserved + system-reserved + eviction thresholds.
    pub fn overhead(&self, it: &InstanceType) -> Resources {
        let capacity = self.capacity(it);
        // The pods kube-reserved memory is computed for (doc §3.6).
        let reserved_pods = match self.ami_family {
            AmiFamily::Bottlerocket => capacity.pods,
            _ if self.ami_family.eni_limited() => it.max_pods as i64,
            _ => capacity.pods,
        };
        let kr = &self.kubelet.kube_reserved;
        let sr = &self.kubelet.system_reserved;
        let cpu =
            kr.cpu_milli.unwrap_or_else(|| kube_reserved_cpu_milli(it.vcpu as i64 * 1000)) + sr.cpu_milli.unwrap_or(0);
        let memory = kr.memory.unwrap_or((11 * reserved_pods + 255) * MIB)
            + sr.memory.unwrap_or(0)
            + self.kubelet.eviction_memory.unwrap_or(Threshold::Bytes(100 * MIB)).of(capacity.memory);
        let ephemeral = kr.ephemeral_storage.unwrap_or(GIB)
            + sr.ephemeral_storage.unwrap_or(0)
            + self.kubelet.eviction_nodefs.unwrap_or(Threshold::PercentBps(1_000)).of(capacity.ephemeral_storage);
        Resources { cpu, memory, ephemeral_storage: ephemeral, ..Default::default() }
    }

    /// `capacity − overhead`, never below zero.
    pub fn allocatable(&self, it: &InstanceType) -> Resources {
        let mut a = self.capacity(it);
        a.sub(&self.overhead(it));
        a.cpu = a.cpu.max(0);
        a.memory = a.memory.max(0);
        a.ephemeral_storage = a.ephemeral_storage.max(0);
        a
    }
}

/// Karpenter's kube-reserved CPU in millicores for `cpu` millicores: 6% of the first core, 1% of
/// the second, 0.5% of the third and fourth, 0.25% of the rest, each band truncated.
pub fn kube_reserved_cpu_milli(cpu: i64) -> i64 {
    const BANDS: [(i64, i64, i64); 4] =
        [(0, 1_000, 600), (1_000, 2_000, 100), (2_000, 4_000, 50), (4_000, i64::MAX, 25)];
    BANDS
        .iter()
        .filter(|(start, _, _)| cpu >= *start)
        .map(|&(start, end, bps)| (cpu.min(end) - start) * bps / 10_000)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn kube_reserved_cpu_matches_the_doc_table() {
        let table = [(1, 60), (2, 70), (4, 80), (8, 90), (16, 110), (48, 190), (192, 550)];
        for (vcpu, want) in table {
            assert_eq!(kube_reserved_cpu_milli(vcpu * 1000), want, "{vcpu} vCPU");
        }
    }

    #[test]
    fn worked_examples_from_the_doc() {
        let c = Catalog::embedded();
        let k = NodeSettings::karpenter();
        // m5.large 8192 MiB / 29 pods → cpu 1930m, memory 6903Mi, ephemeral 17Gi.
        let a = k.allocatable(c.get("m5.large").unwrap());
        assert_eq!((a.cpu, a.memory, a.ephemeral_storage, a.pods), (1930, 6903 * MIB, 17 * GIB, 29));
        // c6g.xlarge (arm64) 8192 MiB / 58 pods → 3920m, 6525Mi.
        let a = k.allocatable(c.get("c6g.xlarge").unwrap());
        assert_eq!((a.cpu, a.memory), (3920, 6525 * MIB));
        // p5.48xlarge → 191450m, 1938410Mi, 8 GPUs.
        let a = k.allocatable(c.get("p5.48xlarge").unwrap());
        assert_eq!((a.cpu, a.memory, a.get(Sym::new(NVIDIA_GPU))), (191_450, 1_938_410 * MIB, 8));
    }

    #[test]
    fn auto_mode_caps_pods_and_uses_80gi() {
        let c = Catalog::embedded();
        let am = NodeSettings::auto_mode();
        let it = c.get("m5.4xlarge").unwrap(); // 16 vCPU, 65536 MiB, 234 ENI pods
        let a = am.allocatable(it);
        assert_eq!(a.pods, 110);
        // 65536 − ⌈4915.2⌉ = 60620; kube-reserved 11·110+255 = 1465; eviction 100 → 59055 Mi.
        assert_eq!(a.memory, 59_055 * MIB);
        assert_eq!(a.cpu, 16_000 - 110);
        // 80Gi − 1Gi − 8Gi.
        assert_eq!(a.ephemeral_storage, 71 * GIB);
        // Karpenter on AL2023 reserves for the 234 ENI pods instead.
        let k = NodeSettings::karpenter().allocatable(it);
        assert_eq!((k.pods, k.memory), (234, (60_620 - (11 * 234 + 255) - 100) * MIB));
    }

    #[test]
    fn kubelet_overrides() {
        let c = Catalog::embedded();
        let it = c.get("m5.large").unwrap();
        let mut s = NodeSettings::karpenter();
        s.kubelet.max_pods = Some(110);
        s.kubelet.system_reserved.cpu_milli = Some(100);
        s.kubelet.eviction_memory = Some(Threshold::PercentBps(500));
        let a = s.allocatable(it);
        // Pods follow maxPods; kube-reserved memory still uses the 29 ENI pods on AL2023.
        assert_eq!(a.pods, 110);
        assert_eq!(a.cpu, 2000 - 70 - 100);
        // capacity 7577 MiB; 5% eviction = 378.85 MiB (truncated in bytes).
        let cap = 7577 * MIB;
        assert_eq!(a.memory, cap - (11 * 29 + 255) * MIB - cap * 5 / 100);
        s.kubelet.pods_per_core = Some(10);
        assert_eq!(s.allocatable(it).pods, 20);
        s.ami_family = AmiFamily::Bottlerocket;
        assert_eq!(s.allocatable(it).pods, 110, "podsPerCore is ignored on Bottlerocket");
        assert_eq!(AmiFamily::from_alias("bottlerocket@latest"), Some(AmiFamily::Bottlerocket));
        assert_eq!(AmiFamily::from_alias("ubuntu@latest"), None);
    }
}
