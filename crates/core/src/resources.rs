//! Resource vectors.
//!
//! Every resource is an integer in the unit kube-scheduler accounts it in: CPU in millicores,
//! memory and ephemeral storage in bytes, the pod count as a count, and every other ("scalar")
//! resource — extended resources such as `nvidia.com/gpu`, `hugepages-*`, attachable volumes —
//! in whole units. The four built-ins are plain fields so the hot path never hashes; scalars are
//! a short vector sorted by name id.

use crate::intern::Sym;
use smallvec::SmallVec;
use std::fmt;

/// A set of resource amounts.
#[derive(Clone, Default, PartialEq, Eq, Debug, Hash)]
pub struct Resources {
    /// Millicores.
    pub cpu: i64,
    /// Bytes.
    pub memory: i64,
    /// Bytes.
    pub ephemeral_storage: i64,
    /// Count. Only meaningful for node allocatable; pod requests leave it 0.
    pub pods: i64,
    /// Extended, hugepages and other scalar resources, sorted by name, no zero entries required.
    pub scalars: SmallVec<[(Sym, i64); 2]>,
}

impl Resources {
    pub fn new() -> Resources {
        Resources::default()
    }

    /// The amount of `name` (0 when absent).
    pub fn get(&self, name: Sym) -> i64 {
        match name {
            Sym::CPU => self.cpu,
            Sym::MEMORY => self.memory,
            Sym::EPHEMERAL_STORAGE => self.ephemeral_storage,
            Sym::PODS => self.pods,
            _ => self.scalar(name),
        }
    }

    /// Whether `name` is present at all (a node that does not advertise a scalar resource differs
    /// from one that advertises 0 only in output; both fit nothing).
    pub fn has(&self, name: Sym) -> bool {
        match name {
            Sym::CPU | Sym::MEMORY | Sym::EPHEMERAL_STORAGE | Sym::PODS => true,
            _ => self.scalars.binary_search_by_key(&name, |&(n, _)| n).is_ok(),
        }
    }

    pub fn scalar(&self, name: Sym) -> i64 {
        match self.scalars.binary_search_by_key(&name, |&(n, _)| n) {
            Ok(i) => self.scalars[i].1,
            Err(_) => 0,
        }
    }

    /// Sets `name` to `value`.
    pub fn set(&mut self, name: Sym, value: i64) {
        match name {
            Sym::CPU => self.cpu = value,
            Sym::MEMORY => self.memory = value,
            Sym::EPHEMERAL_STORAGE => self.ephemeral_storage = value,
            Sym::PODS => self.pods = value,
            _ => match self.scalars.binary_search_by_key(&name, |&(n, _)| n) {
                Ok(i) => self.scalars[i].1 = value,
                Err(i) => self.scalars.insert(i, (name, value)),
            },
        }
    }

    fn zip_scalars(&mut self, other: &Resources, f: impl Fn(i64, i64) -> i64) {
        for &(name, v) in &other.scalars {
            let cur = self.scalar(name);
            self.set(name, f(cur, v));
        }
    }

    /// `self += other`, per resource.
    pub fn add(&mut self, other: &Resources) {
        self.cpu += other.cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        self.pods += other.pods;
        if !other.scalars.is_empty() {
            self.zip_scalars(other, |a, b| a + b);
        }
    }

    /// `self -= other`, per resource.
    pub fn sub(&mut self, other: &Resources) {
        self.cpu -= other.cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        self.pods -= other.pods;
        if !other.scalars.is_empty() {
            self.zip_scalars(other, |a, b| a - b);
        }
    }

    /// `self = max(self, other)`, per resource.
    pub fn max_with(&mut self, other: &Resources) {
        self.cpu = self.cpu.max(other.cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        self.pods = self.pods.max(other.pods);
        if !other.scalars.is_empty() {
            self.zip_scalars(other, |a, b| a.max(b));
        }
    }

    /// True when every amount is zero.
    pub fn is_zero(&self) -> bool {
        self.cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.pods == 0
            && self.scalars.iter().all(|&(_, v)| v == 0)
    }

    /// Every resource with its amount, built-ins first, including zeros of the built-ins.
    pub fn iter(&self) -> impl Iterator<Item = (Sym, i64)> + '_ {
        [
            (Sym::CPU, self.cpu),
            (Sym::MEMORY, self.memory),
            (Sym::EPHEMERAL_STORAGE, self.ephemeral_storage),
            (Sym::PODS, self.pods),
        ]
        .into_iter()
        .chain(self.scalars.iter().copied())
    }
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpu={}m memory={}", self.cpu, self.memory)?;
        if self.ephemeral_storage != 0 {
            write!(f, " ephemeral-storage={}", self.ephemeral_storage)?;
        }
        if self.pods != 0 {
            write!(f, " pods={}", self.pods)?;
        }
        let mut scalars: Vec<_> = self.scalars.iter().collect();
        scalars.sort_by_key(|(n, _)| n.as_str());
        for (n, v) in scalars {
            write!(f, " {n}={v}")?;
        }
        Ok(())
    }
}

/// True for resources kube-scheduler keeps in `ScalarResources`: everything but cpu, memory,
/// ephemeral-storage and pods.
pub fn is_scalar_resource(name: Sym) -> bool {
    !matches!(name, Sym::CPU | Sym::MEMORY | Sym::EPHEMERAL_STORAGE | Sym::PODS)
}

/// Extended resources are fully-qualified names outside the `kubernetes.io/` domain
/// (`IsExtendedResourceName`), e.g. `nvidia.com/gpu`, `example.com/foo`.
pub fn is_extended_resource(name: &str) -> bool {
    if name.starts_with("requests.") {
        return false;
    }
    match name.split_once('/') {
        Some((domain, _)) => !(domain == "kubernetes.io" || domain.ends_with(".kubernetes.io")),
        None => false,
    }
}

/// `hugepages-<size>` resources.
pub fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_sub_max_cover_scalars() {
        let gpu = Sym::NVIDIA_GPU;
        let foo = Sym::new("example.com/foo");
        let mut a = Resources { cpu: 100, memory: 10, ..Default::default() };
        a.set(gpu, 1);
        let mut b = Resources { cpu: 50, memory: 20, ..Default::default() };
        b.set(foo, 3);
        b.set(gpu, 2);
        a.add(&b);
        assert_eq!((a.cpu, a.memory, a.get(gpu), a.get(foo)), (150, 30, 3, 3));
        a.sub(&b);
        assert_eq!((a.cpu, a.memory, a.get(gpu), a.get(foo)), (100, 10, 1, 0));
        a.max_with(&b);
        assert_eq!((a.cpu, a.memory, a.get(gpu), a.get(foo)), (100, 20, 2, 3));
    }

    #[test]
    fn extended_resource_names() {
        assert!(is_extended_resource("nvidia.com/gpu"));
        assert!(is_extended_resource("example.com/foo"));
        assert!(!is_extended_resource("kubernetes.io/something"));
        assert!(!is_extended_resource("cpu"));
        assert!(!is_extended_resource("hugepages-2Mi"));
        assert!(is_hugepages("hugepages-2Mi"));
    }
}
