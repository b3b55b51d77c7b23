//! Fargate pod sizing (doc §2): requests → vCPU/memory combination, ephemeral storage, and the
//! `CapacityProvisioned` annotation.
//!
//! All arithmetic is on integers: CPU in millicores, memory and storage in bytes, sizes in
//! MiB; quantities are parsed exactly by `kubesched_core::quantity`.

use crate::error::FargateError;
use crate::reason::{
    MESSAGE_EXCEEDS_MAX_SIZE, REASON_EPHEMERAL_STORAGE_EXCEEDS_MAX, REASON_EXCEEDS_MAX_SIZE, Rejection,
};
use k8s_openapi::api::core::v1::{Container as K8sContainer, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use kubesched_core::model::{Container, Pod as CorePod};
use kubesched_core::quantity::Quantity;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

pub const MIB: i64 = 1024 * 1024;
pub const GIB: i64 = 1024 * MIB;

/// Memory Fargate adds for kubelet, kube-proxy and containerd (doc §2.1 step 4). "256 MB" in
/// the guide; observed sizings only fit with binary units (doc §2.1 notes), so 256 MiB.
pub const MEMORY_OVERHEAD_BYTES: i64 = 256 * MIB;
/// Ephemeral storage every pod gets, and the amount billing leaves free (doc §2.6, §5).
pub const DEFAULT_EPHEMERAL_STORAGE_GIB: i64 = 20;
/// Largest ephemeral-storage request (doc §2.6, since 2023-07). Taken as a limit on the pod's
/// request, not on the provisioned size: 175 GiB × 1.1 + 5 GiB = 197.5 GiB stays under the
/// 200 GiB Fargate task maximum, whereas a 175 GiB cap on the provisioned size would refuse
/// requests above ~154.5 GiB.
pub const MAX_EPHEMERAL_STORAGE_REQUEST_GIB: i64 = 175;
/// Provisioned storage = requests + 10 % + this (doc §2.6: "a request of 100 GiB will
/// provision a Fargate task with 115 GiB").
pub const EPHEMERAL_STORAGE_FIXED_GIB: i64 = 5;

/// Memory choices of one vCPU tier.
#[derive(Clone, Copy, Debug)]
enum Memory {
    /// Explicit list, MiB.
    List(&'static [i64]),
    /// `from..=to` GiB in steps of `step` GiB.
    Range { from: i64, to: i64, step: i64 },
}

/// Valid vCPU/memory combinations (doc §2.2; 8 and 16 vCPU since 2022-09-19), by vCPU.
const TIERS: [(i64, Memory); 7] = [
    (250, Memory::List(&[512, 1024, 2048])),
    (500, Memory::Range { from: 1, to: 4, step: 1 }),
    (1000, Memory::Range { from: 2, to: 8, step: 1 }),
    (2000, Memory::Range { from: 4, to: 16, step: 1 }),
    (4000, Memory::Range { from: 8, to: 30, step: 1 }),
    (8000, Memory::Range { from: 16, to: 60, step: 4 }),
    (16000, Memory::Range { from: 32, to: 120, step: 8 }),
];

fn memory_options(m: Memory) -> Vec<i64> {
    match m {
        Memory::List(l) => l.to_vec(),
        Memory::Range { from, to, step } => (from..=to).step_by(step as usize).map(|g| g * 1024).collect(),
    }
}

/// A Fargate vCPU/memory combination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FargateSize {
    pub vcpu_milli: i64,
    pub memory_mib: i64,
}

impl FargateSize {
    /// The smallest combination, given to pods that request nothing (doc §2.1 step 6).
    pub const SMALLEST: FargateSize = FargateSize { vcpu_milli: 250, memory_mib: 512 };
    /// The largest combination (doc §2.2).
    pub const LARGEST: FargateSize = FargateSize { vcpu_milli: 16000, memory_mib: 120 * 1024 };

    pub fn memory_bytes(&self) -> i64 {
        self.memory_mib * MIB
    }

    /// The `CapacityProvisioned` annotation value: `0.25vCPU 0.5GB`, `2vCPU 9GB` (doc §1.5).
    pub fn capacity_provisioned(&self) -> String {
        format!("{}vCPU {}GB", decimal(self.vcpu_milli, 1000), decimal(self.memory_mib, 1024))
    }

    /// Parses a `CapacityProvisioned` value back into a size; `None` unless it is exactly one
    /// of the valid combinations written the way EKS writes them.
    pub fn parse_capacity_provisioned(s: &str) -> Option<FargateSize> {
        valid_sizes().into_iter().find(|size| size.capacity_provisioned() == s)
    }

    /// True when this is one of the combinations of doc §2.2.
    pub fn is_valid(&self) -> bool {
        valid_sizes().contains(self)
    }
}

impl fmt::Display for FargateSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.capacity_provisioned())
    }
}

/// `n / d` as a short exact decimal (`250/1000` → `0.25`, `2048/1024` → `2`). The table only
/// holds values whose quotient terminates within three decimals.
fn decimal(n: i64, d: i64) -> String {
    let whole = n / d;
    let mut rem = n % d;
    if rem == 0 {
        return whole.to_string();
    }
    let mut s = format!("{whole}.");
    for _ in 0..6 {
        rem *= 10;
        s.push(char::from(b'0' + (rem / d) as u8));
        rem %= d;
        if rem == 0 {
            break;
        }
    }
    s
}

/// Every valid combination, by vCPU then memory.
pub fn valid_sizes() -> Vec<FargateSize> {
    TIERS
        .iter()
        .flat_map(|&(vcpu_milli, m)| {
            memory_options(m).into_iter().map(move |memory_mib| FargateSize { vcpu_milli, memory_mib })
        })
        .collect()
}

/// The rounding rule of doc §2.3: the first tier whose vCPU covers `cpu_milli`, and in it the
/// first memory that covers `memory_bytes` (which already includes the 256 MiB overhead).
/// `None` when nothing is big enough.
pub fn fit(cpu_milli: i64, memory_bytes: i64) -> Option<FargateSize> {
    for &(vcpu_milli, m) in &TIERS {
        if vcpu_milli < cpu_milli {
            continue;
        }
        for memory_mib in memory_options(m) {
            if memory_mib * MIB >= memory_bytes {
                return Some(FargateSize { vcpu_milli, memory_mib });
            }
        }
    }
    None
}

/// A pod's effective requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodRequests {
    pub cpu_milli: i64,
    pub memory_bytes: i64,
    pub ephemeral_storage_bytes: i64,
}

/// Ephemeral storage of a Fargate pod (doc §2.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EphemeralStorage {
    pub request_bytes: i64,
    /// Provisioned size, whole GiB (at least 20).
    pub provisioned_gib: i64,
    /// Billed size: provisioned − 20 GiB (doc §2.6, §5).
    pub billed_gib: i64,
}

/// Ephemeral storage for a pod requesting `request_bytes` in total: 20 GiB when that covers
/// `request + 10 % + 5 GiB`, else that amount rounded up to whole GiB. `None` above 175 GiB.
pub fn ephemeral_storage(request_bytes: i64) -> Option<EphemeralStorage> {
    let request = i128::from(request_bytes.max(0));
    if request > i128::from(MAX_EPHEMERAL_STORAGE_REQUEST_GIB * GIB) {
        return None;
    }
    let gib = i128::from(GIB);
    let provisioned_gib = if request == 0 {
        DEFAULT_EPHEMERAL_STORAGE_GIB
    } else {
        // ceil((request × 1.1 + 5 GiB) / GiB), in tenths to stay exact.
        let tenths = request * 11 + i128::from(EPHEMERAL_STORAGE_FIXED_GIB) * 10 * gib;
        let needed = tenths.div_euclid(10 * gib) + i128::from(tenths.rem_euclid(10 * gib) != 0);
        (needed as i64).max(DEFAULT_EPHEMERAL_STORAGE_GIB)
    };
    Some(EphemeralStorage {
        request_bytes: request_bytes.max(0),
        provisioned_gib,
        billed_gib: provisioned_gib - DEFAULT_EPHEMERAL_STORAGE_GIB,
    })
}

/// Everything sizing says about one pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSizing {
    pub requests: PodRequests,
    /// Memory to fit: requests + 256 MiB.
    pub memory_needed_bytes: i64,
    /// `None`: larger than the largest combination.
    pub size: Option<FargateSize>,
    /// `None`: more than 175 GiB requested.
    pub ephemeral_storage: Option<EphemeralStorage>,
}

impl PodSizing {
    /// From effective requests.
    pub fn from_requests(requests: PodRequests) -> PodSizing {
        let memory_needed_bytes = requests.memory_bytes.saturating_add(MEMORY_OVERHEAD_BYTES);
        PodSizing {
            requests,
            memory_needed_bytes,
            size: fit(requests.cpu_milli, memory_needed_bytes),
            ephemeral_storage: ephemeral_storage(requests.ephemeral_storage_bytes),
        }
    }

    /// The `CapacityProvisioned` annotation, when the pod fits.
    pub fn capacity_provisioned(&self) -> Option<String> {
        self.size.map(|s| s.capacity_provisioned())
    }

    /// Why the pod cannot be sized, in the order Fargate would meet them (CPU/memory first).
    pub fn rejections(&self) -> Vec<Rejection> {
        let mut out = Vec::new();
        if self.size.is_none() {
            out.push(Rejection::new(REASON_EXCEEDS_MAX_SIZE, MESSAGE_EXCEEDS_MAX_SIZE));
        }
        if self.ephemeral_storage.is_none() {
            out.push(Rejection::new(
                REASON_EPHEMERAL_STORAGE_EXCEEDS_MAX,
                format!(
                    "Your pod's ephemeral-storage request ({} bytes) exceeds the max Fargate ephemeral storage of \
                     {MAX_EPHEMERAL_STORAGE_REQUEST_GIB} GiB",
                    self.requests.ephemeral_storage_bytes
                ),
            ));
        }
        out
    }
}

/// Sizes a pod (doc §2.1). `location` names the pod in errors.
pub fn size_pod(pod: &Pod, location: &str) -> Result<PodSizing, FargateError> {
    Ok(PodSizing::from_requests(pod_requests(pod, location)?))
}

/// Effective requests of a pod, as Kubernetes computes them (`PodRequests`) without
/// `spec.overhead`:
///
/// - a container's request is its `requests` entry, or its `limits` entry when the request
///   is missing (API defaulting, doc §2.1 notes); limits never count otherwise;
/// - regular containers add up; init containers run one at a time, so the pod needs the
///   larger of their maximum and that sum (doc §2.1 steps 1–3);
/// - restartable init containers (sidecars, `restartPolicy: Always`) are not described by
///   Fargate (doc §2.1, §10). They are counted as Kubernetes counts them: a sidecar keeps
///   running, so it adds to the regular containers' sum and to every init container started
///   after it. This is the only reading under which the pod's cgroup holds everything that
///   runs at once;
/// - `spec.overhead` (RuntimeClass) is ignored: Fargate adds its own 256 MiB instead.
pub fn pod_requests(pod: &Pod, location: &str) -> Result<PodRequests, FargateError> {
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(PodRequests::default());
    };
    let mut core = CorePod::new("", "");
    core.containers = spec
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| core_container(c, &format!("spec.containers[{i}]"), location))
        .collect::<Result<_, _>>()?;
    core.init_containers = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| core_container(c, &format!("spec.initContainers[{i}]"), location))
        .collect::<Result<_, _>>()?;
    core.finish();
    let r = core.requests();
    Ok(PodRequests { cpu_milli: r.cpu, memory_bytes: r.memory, ephemeral_storage_bytes: r.ephemeral_storage })
}

fn core_container(c: &K8sContainer, path: &str, location: &str) -> Result<Container, FargateError> {
    let mut out = Container { restartable: c.restart_policy.as_deref() == Some("Always"), ..Default::default() };
    let empty = BTreeMap::new();
    let resources = c.resources.as_ref();
    let requests = resources.and_then(|r| r.requests.as_ref()).unwrap_or(&empty);
    let limits = resources.and_then(|r| r.limits.as_ref()).unwrap_or(&empty);
    for name in ["cpu", "memory", "ephemeral-storage"] {
        let (q, field) = match (requests.get(name), limits.get(name)) {
            (Some(q), _) => (q, format!("{path}.resources.requests.{name}")),
            (None, Some(q)) => (q, format!("{path}.resources.limits.{name}")),
            (None, None) => continue,
        };
        let v = parse_quantity(q, name, location, &field)?;
        match name {
            "cpu" => {
                out.requests.cpu = v;
                out.has_cpu_request = true;
            }
            "memory" => {
                out.requests.memory = v;
                out.has_memory_request = true;
            }
            _ => out.requests.ephemeral_storage = v,
        }
    }
    Ok(out)
}

/// A resource quantity in scheduler units: millicores for `cpu`, whole units otherwise.
pub(crate) fn parse_quantity(q: &K8sQuantity, name: &str, location: &str, field: &str) -> Result<i64, FargateError> {
    let parsed: Quantity =
        q.0.parse().map_err(|e| FargateError::new(location, field, format!("invalid quantity {:?}: {e}", q.0)))?;
    if parsed.is_negative() {
        return Err(FargateError::new(location, field, format!("must be non-negative, got {:?}", q.0)));
    }
    Ok(if name == "cpu" { parsed.milli_value() } else { parsed.value() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}))
            .unwrap()
    }

    fn one(requests: serde_json::Value, limits: serde_json::Value) -> Pod {
        pod(json!({"containers": [{"name": "app", "image": "nginx",
                                   "resources": {"requests": requests, "limits": limits}}]}))
    }

    fn capacity(p: &Pod) -> Option<String> {
        size_pod(p, "pod.yaml").unwrap().capacity_provisioned()
    }

    #[test]
    fn worked_examples_of_section_2_4() {
        // Row by row, doc §2.4.
        let best_effort = pod(json!({"containers": [{"name": "app", "image": "nginx"}]}));
        assert_eq!(capacity(&best_effort).as_deref(), Some("0.25vCPU 0.5GB"));
        let rows: [(serde_json::Value, serde_json::Value, Option<&str>); 11] = [
            (json!({"cpu": "250m", "memory": "512Mi"}), json!({}), Some("0.25vCPU 1GB")),
            (json!({"cpu": "500m", "memory": "500Mi"}), json!({"cpu": "2", "memory": "2Gi"}), Some("0.5vCPU 1GB")),
            (json!({"cpu": "500m", "memory": "750M"}), json!({}), Some("0.5vCPU 1GB")),
            (json!({"cpu": "500m", "memory": "1Gi"}), json!({}), Some("0.5vCPU 2GB")),
            (json!({"cpu": "1", "memory": "1750M"}), json!({}), Some("1vCPU 2GB")),
            (json!({"cpu": "1", "memory": "3750M"}), json!({}), Some("1vCPU 4GB")),
            (json!({"cpu": "1", "memory": "4Gi"}), json!({}), Some("1vCPU 5GB")),
            (json!({"cpu": "1", "memory": "8Gi"}), json!({}), Some("2vCPU 9GB")),
            (json!({"cpu": "100m", "memory": "2Gi"}), json!({}), Some("0.5vCPU 3GB")),
            (json!({"cpu": "4", "memory": "30Gi"}), json!({}), Some("8vCPU 32GB")),
            (json!({"cpu": "16", "memory": "120Gi"}), json!({}), None),
        ];
        for (requests, limits, want) in rows {
            let p = one(requests.clone(), limits);
            assert_eq!(capacity(&p).as_deref(), want, "{requests}");
        }
        // Limits only: requests are defaulted from limits.
        let limits_only = one(json!({}), json!({"cpu": "2000m", "memory": "2Gi"}));
        assert_eq!(capacity(&limits_only).as_deref(), Some("2vCPU 4GB"));
    }

    #[test]
    fn binary_units_decide_the_observed_cases() {
        // 750e6 + 256 MiB = 1,018,435,456 B: under 1 GiB, over 1e9 (doc §2.1 notes).
        let s = size_pod(&one(json!({"cpu": "500m", "memory": "750M"}), json!({})), "p").unwrap();
        assert_eq!(s.memory_needed_bytes, 1_018_435_456);
        assert_eq!(s.size, Some(FargateSize { vcpu_milli: 500, memory_mib: 1024 }));
    }

    #[test]
    fn too_big_is_refused_with_the_exact_message() {
        let s = size_pod(&one(json!({"cpu": "16", "memory": "120Gi"}), json!({})), "p").unwrap();
        assert_eq!(s.size, None);
        assert_eq!(s.capacity_provisioned(), None);
        let r = s.rejections();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].reason, "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE");
        assert_eq!(r[0].message, "Your pod's cpu/memory requirements exceed the max Fargate configuration");
        // The largest memory request that still fits: 120 GiB − 256 MiB (doc §2.3).
        let max = 120 * GIB - MEMORY_OVERHEAD_BYTES;
        assert_eq!(fit(16000, max + MEMORY_OVERHEAD_BYTES), Some(FargateSize::LARGEST));
        assert_eq!(fit(16000, max + MEMORY_OVERHEAD_BYTES + 1), None);
        assert_eq!(fit(16001, 0), None);
    }

    #[test]
    fn init_containers_take_the_max_and_sidecars_add_up() {
        let p = pod(json!({
            "initContainers": [{"name": "migrate", "image": "x", "resources": {"requests": {"cpu": "2", "memory": "1Gi"}}}],
            "containers": [
                {"name": "a", "image": "x", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
                {"name": "b", "image": "x", "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}}}
            ]
        }));
        let s = size_pod(&p, "p").unwrap();
        assert_eq!((s.requests.cpu_milli, s.requests.memory_bytes), (2000, 3 * GIB));
        assert_eq!(s.capacity_provisioned().as_deref(), Some("2vCPU 4GB"));
        // A sidecar (restartPolicy: Always) runs alongside: 1 + 0.5 vCPU, 1 + 0.5 GiB.
        let side = pod(json!({
            "initContainers": [{"name": "proxy", "image": "envoy", "restartPolicy": "Always",
                                "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}}}],
            "containers": [{"name": "app", "image": "x", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]
        }));
        let s = size_pod(&side, "p").unwrap();
        assert_eq!((s.requests.cpu_milli, s.requests.memory_bytes), (1500, 1536 * MIB));
        assert_eq!(s.capacity_provisioned().as_deref(), Some("2vCPU 4GB"));
    }

    #[test]
    fn bad_quantities_name_the_field() {
        let p = one(json!({"cpu": "lots"}), json!({}));
        let e = size_pod(&p, "pods.yaml").unwrap_err();
        assert_eq!(e.location, "pods.yaml");
        assert_eq!(e.field, "spec.containers[0].resources.requests.cpu");
        let neg = one(json!({}), json!({"memory": "-1Gi"}));
        assert_eq!(size_pod(&neg, "p").unwrap_err().field, "spec.containers[0].resources.limits.memory");
    }

    #[test]
    fn ephemeral_storage_rules() {
        // Default 20 GiB, nothing billed.
        let none = ephemeral_storage(0).unwrap();
        assert_eq!((none.provisioned_gib, none.billed_gib), (20, 0));
        // Small requests stay at 20 GiB: 10 GiB × 1.1 + 5 = 16 GiB.
        assert_eq!(ephemeral_storage(10 * GIB).unwrap().provisioned_gib, 20);
        // UG/podcfg: 100 GiB → 115 GiB; the blog: 2 × 50 GiB → 115 provisioned, 95 billed.
        let blog = size_pod(
            &pod(json!({"containers": [
                {"name": "a", "image": "x", "resources": {"requests": {"ephemeral-storage": "50Gi"}}},
                {"name": "b", "image": "x", "resources": {"requests": {"ephemeral-storage": "50Gi"}}}
            ]})),
            "p",
        )
        .unwrap()
        .ephemeral_storage
        .unwrap();
        assert_eq!((blog.provisioned_gib, blog.billed_gib), (115, 95));
        // Rounded up to whole GiB: 30 GiB + 1 byte → 38.0000… → 39.
        assert_eq!(ephemeral_storage(30 * GIB).unwrap().provisioned_gib, 38);
        assert_eq!(ephemeral_storage(30 * GIB + 1).unwrap().provisioned_gib, 39);
        // Up to 175 GiB.
        assert_eq!(ephemeral_storage(175 * GIB).unwrap().provisioned_gib, 198);
        assert_eq!(ephemeral_storage(175 * GIB + 1), None);
        let big = size_pod(&one(json!({"ephemeral-storage": "200Gi"}), json!({})), "p").unwrap();
        assert_eq!(big.rejections()[0].reason, "POD_EPHEMERAL_STORAGE_EXCEEDS_MAX_FARGATE_SIZE");
    }

    #[test]
    fn table_and_annotation_format() {
        let all = valid_sizes();
        // 3 + 4 + 7 + 13 + 23 + 12 + 12 combinations (doc §2.2).
        assert_eq!(all.len(), 74);
        assert_eq!(all[0], FargateSize::SMALLEST);
        assert_eq!(all[all.len() - 1], FargateSize::LARGEST);
        let strings: Vec<String> = [(250, 512), (500, 1024), (1000, 2048), (1000, 5120), (2000, 4096), (2000, 9216)]
            .iter()
            .map(|&(v, m)| FargateSize { vcpu_milli: v, memory_mib: m }.capacity_provisioned())
            .collect();
        assert_eq!(strings, ["0.25vCPU 0.5GB", "0.5vCPU 1GB", "1vCPU 2GB", "1vCPU 5GB", "2vCPU 4GB", "2vCPU 9GB"]);
        assert_eq!(
            FargateSize::parse_capacity_provisioned("8vCPU 20GB"),
            Some(FargateSize { vcpu_milli: 8000, memory_mib: 20 * 1024 })
        );
        // 8 vCPU memory goes in 4 GB steps: 18 GB is not a size.
        assert_eq!(FargateSize::parse_capacity_provisioned("8vCPU 18GB"), None);
        assert_eq!(FargateSize::parse_capacity_provisioned("0.50vCPU 1GB"), None);
        assert!(!FargateSize { vcpu_milli: 250, memory_mib: 3072 }.is_valid());
    }

    #[test]
    fn rounding_walks_tiers_in_order() {
        // Each combination is the answer for exactly its own requirements.
        for size in valid_sizes() {
            assert_eq!(fit(size.vcpu_milli, size.memory_bytes()), Some(size), "{size}");
        }
        // 0.25 vCPU tops out at 2 GB: 3 GiB of memory moves to 0.5 vCPU.
        assert_eq!(fit(250, 2 * GIB + 1), Some(FargateSize { vcpu_milli: 500, memory_mib: 3072 }));
        // 1 GiB at 2 vCPU still gets the tier minimum of 4 GB.
        assert_eq!(fit(2000, GIB), Some(FargateSize { vcpu_milli: 2000, memory_mib: 4096 }));
    }
}
