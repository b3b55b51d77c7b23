//! Workload controllers: expand Deployments, ReplicaSets, ReplicationControllers,
//! StatefulSets, Jobs and DaemonSets into the pods their controllers would create.
//!
//! Every expansion reconciles against the pods that already exist (a `kubectl get -A -o yaml`
//! dump holds both the controllers and their pods), so nothing is created twice. The functions
//! are reusable: the simulator calls them again on scale events and node additions.

pub mod daemonset;
pub mod deployment;
pub mod job;
pub mod replicaset;
pub mod statefulset;

pub use daemonset::{daemon_pod_tolerations, daemonset_pods_to_create, node_should_run_daemon_pod, target_node_name};
pub use deployment::{deployment_replica_set_to_create, find_current_replica_set};
pub use job::{default_job, job_pods_to_create};
pub use replicaset::{replicaset_pods_to_create, replication_controller_pods_to_create};
pub use statefulset::statefulset_pods_to_create;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kubesched_core::labels::Labels;
use kubesched_core::rng::Rng;
use kubesched_core::selector::LabelSelector;
use std::collections::{BTreeMap, BTreeSet};

/// kube's `rand.String` alphabet: no vowels (no bad words) and no confusable characters.
pub const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// `names.SimpleNameGenerator`: 5 random characters after the base.
const RANDOM_LENGTH: usize = 5;
/// `maxGeneratedNameLength`: 63 - 5; longer bases are truncated.
const MAX_BASE_LENGTH: usize = 63 - RANDOM_LENGTH;

/// Deterministic `generateName`: `<base><5 chars>` from a seeded generator, one stream per base
/// so that adding an unrelated workload does not rename the others. Names already in use in the
/// namespace are skipped (the API server would answer AlreadyExists and the controller retry).
#[derive(Clone, Debug)]
pub struct NameGenerator {
    seed: u64,
    used: BTreeSet<(String, String)>,
    streams: BTreeMap<String, Rng>,
}

impl NameGenerator {
    pub fn new(seed: u64) -> NameGenerator {
        NameGenerator { seed, used: BTreeSet::new(), streams: BTreeMap::new() }
    }

    /// Marks `namespace/name` as taken.
    pub fn reserve(&mut self, namespace: &str, name: &str) {
        self.used.insert((namespace.to_string(), name.to_string()));
    }

    pub fn is_used(&self, namespace: &str, name: &str) -> bool {
        self.used.contains(&(namespace.to_string(), name.to_string()))
    }

    /// A fresh name `<base><5 chars>` in `namespace`, reserved.
    pub fn generate(&mut self, namespace: &str, base: &str) -> String {
        let base = truncate(base, MAX_BASE_LENGTH);
        let seed = self.seed ^ fnv64(base.as_bytes());
        let rng = self.streams.entry(base.to_string()).or_insert_with(|| Rng::new(seed));
        loop {
            let mut name = String::with_capacity(base.len() + RANDOM_LENGTH);
            name.push_str(base);
            for _ in 0..RANDOM_LENGTH {
                let i = rng.below(SAFE_ALPHABET.len() as u64) as usize;
                name.push(SAFE_ALPHABET[i] as char);
            }
            if self.used.insert((namespace.to_string(), name.clone())) {
                return name;
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// 32-bit FNV-1a (`hash/fnv.New32a`), as kube's `ComputeHash` uses.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `rand.SafeEncodeString`: each byte mapped into [`SAFE_ALPHABET`].
pub fn safe_encode(s: &str) -> String {
    s.bytes().map(|b| SAFE_ALPHABET[b as usize % SAFE_ALPHABET.len()] as char).collect()
}

/// The `pod-template-hash` of a template, in the shape of kube's `ComputeHash`: FNV-32a, the
/// collision count appended when set, the decimal value rendered with `SafeEncodeString`
/// (up to 10 characters of `4-9bcdf`). kube hashes Go's `spew` dump of the template, which
/// cannot be reproduced byte for byte outside Go; this hashes the canonical JSON instead, so
/// hashes differ from a real cluster's (pods from a dump keep theirs) but are stable.
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut bytes = serde_json::to_vec(template).unwrap_or_default();
    if let Some(c) = collision_count {
        bytes.extend_from_slice(c.to_string().as_bytes());
    }
    safe_encode(&fnv32a(&bytes).to_string())
}

/// A UUID-shaped uid derived from the object's identity, for objects the input gives without
/// one (the API server would assign a random one).
pub fn deterministic_uid(kind: &str, namespace: &str, name: &str) -> String {
    let key = format!("{kind}/{namespace}/{name}");
    let a = fnv64(key.as_bytes());
    let b = fnv64(format!("{key}#").as_bytes());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// The controller reference a controller puts on what it creates.
pub fn controller_owner_ref(api_version: &str, kind: &str, meta: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Identity of a controller for ownership matching.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner<'a> {
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
    /// For adopting orphans (objects without a controller reference): `None` adopts nothing.
    pub selector: Option<LabelSelector>,
}

impl<'a> Owner<'a> {
    pub fn new(kind: &'a str, meta: &'a ObjectMeta, selector: Option<LabelSelector>) -> Owner<'a> {
        Owner {
            kind,
            namespace: meta.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default"),
            name: meta.name.as_deref().unwrap_or_default(),
            uid: meta.uid.as_deref().unwrap_or_default(),
            selector,
        }
    }

    /// Whether this controller owns the object: its controller reference names it (by uid
    /// when both sides have one, by kind and name otherwise); or it has no controller reference
    /// and matches the selector in the same namespace (the controller would adopt it).
    pub fn owns(&self, meta: &ObjectMeta) -> bool {
        if meta.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default") != self.namespace {
            return false;
        }
        match crate::convert::controller_ref(meta) {
            Some(r) => {
                if !self.uid.is_empty() && !r.uid.is_empty() {
                    r.uid == self.uid
                } else {
                    r.kind == self.kind && r.name == self.name
                }
            }
            None => self
                .selector
                .as_ref()
                .is_some_and(|s| s.matches(&crate::convert::labels(&meta.labels.clone().unwrap_or_default()))),
        }
    }

    /// Whether the object names this controller in its controller reference (no adoption).
    pub fn is_controller_of(&self, meta: &ObjectMeta) -> bool {
        crate::convert::controller_ref(meta).is_some() && self.owns(meta)
    }
}

/// The pods among `pods` owned by `owner`.
pub fn owned_pods<'p>(owner: &Owner<'_>, pods: impl IntoIterator<Item = &'p Pod>) -> Vec<&'p Pod> {
    pods.into_iter().filter(|p| owner.owns(&p.metadata)).collect()
}

/// `FilterActivePods`: not Succeeded or Failed, and not being deleted.
pub fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default();
    phase != "Succeeded" && phase != "Failed" && pod.metadata.deletion_timestamp.is_none()
}

/// `GetPodFromTemplate`: labels, annotations and finalizers of the template, its spec, the
/// controller reference, and `generateName` (the caller names the pod).
pub fn pod_from_template(template: &PodTemplateSpec, namespace: &str, owner: OwnerReference) -> Pod {
    let tmeta = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            namespace: Some(namespace.to_string()),
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// Template labels as a model label set.
pub fn template_labels(template: &PodTemplateSpec) -> Labels {
    crate::convert::labels(&template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_encoding_of_decimal_digits_matches_kube() {
        // '0'..'9' are bytes 48..57: 48 % 27 = 21 → '4', …, 54 % 27 = 0 → 'b'.
        assert_eq!(safe_encode("0123456789"), "456789bcdf");
        assert_eq!(fnv32a(b""), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c_292c);
    }

    #[test]
    fn names_are_deterministic_unique_and_truncated() {
        let mut a = NameGenerator::new(7);
        let mut b = NameGenerator::new(7);
        let na: Vec<String> = (0..3).map(|_| a.generate("default", "web-")).collect();
        let nb: Vec<String> = (0..3).map(|_| b.generate("default", "web-")).collect();
        assert_eq!(na, nb);
        assert!(na.iter().all(|n| n.len() == 9 && n.starts_with("web-")));
        assert!(na.iter().all(|n| n[4..].bytes().all(|c| SAFE_ALPHABET.contains(&c))));
        assert_eq!(na.iter().collect::<BTreeSet<_>>().len(), 3);
        // Another base does not disturb this one's stream.
        let mut c = NameGenerator::new(7);
        c.generate("default", "other-");
        assert_eq!(c.generate("default", "web-"), na[0]);
        // A reserved name is skipped.
        let mut d = NameGenerator::new(7);
        d.reserve("default", &na[0]);
        assert_eq!(d.generate("default", "web-"), na[1]);
        let long = "x".repeat(80);
        assert_eq!(NameGenerator::new(0).generate("ns", &long).len(), 63);
        assert_ne!(NameGenerator::new(8).generate("default", "web-"), na[0]);
    }

    #[test]
    fn uids_are_stable_and_uuid_shaped() {
        let u = deterministic_uid("ReplicaSet", "default", "web");
        assert_eq!(u, deterministic_uid("ReplicaSet", "default", "web"));
        assert_ne!(u, deterministic_uid("ReplicaSet", "default", "web2"));
        let parts: Vec<usize> = u.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert_eq!(&u[14..15], "4");
    }

    #[test]
    fn ownership_by_uid_then_kind_and_name_then_selector() {
        let meta = |ns: &str, refs: Option<(&str, &str, &str)>, labels: &[(&str, &str)]| ObjectMeta {
            namespace: Some(ns.into()),
            owner_references: refs.map(|(kind, name, uid)| {
                vec![OwnerReference {
                    api_version: "apps/v1".into(),
                    kind: kind.into(),
                    name: name.into(),
                    uid: uid.into(),
                    controller: Some(true),
                    block_owner_deletion: None,
                }]
            }),
            labels: Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ..Default::default()
        };
        let rs_meta = ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            uid: Some("u1".into()),
            ..Default::default()
        };
        let owner = Owner::new("ReplicaSet", &rs_meta, Some(LabelSelector::from_match_labels([("app", "web")])));
        assert!(owner.owns(&meta("default", Some(("ReplicaSet", "other-name", "u1")), &[])));
        assert!(!owner.owns(&meta("default", Some(("ReplicaSet", "web", "u2")), &[("app", "web")])));
        assert!(owner.owns(&meta("default", Some(("ReplicaSet", "web", "")), &[])));
        assert!(owner.owns(&meta("default", None, &[("app", "web")])));
        assert!(!owner.owns(&meta("other", None, &[("app", "web")])));
        assert!(!owner.owns(&meta("default", None, &[("app", "db")])));
        assert!(!owner.is_controller_of(&meta("default", None, &[("app", "web")])));
    }
}
