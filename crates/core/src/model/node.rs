//! The internal node.

use super::taint::Taint;
use crate::intern::Sym;
use crate::labels::Labels;
use crate::resources::Resources;

/// One entry of `status.images`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Hash)]
pub struct NodeImage {
    pub names: Vec<Sym>,
    pub size_bytes: i64,
}

/// The node's Ready condition.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Hash)]
pub enum Readiness {
    #[default]
    Ready,
    /// Ready=False.
    NotReady,
    /// Ready=Unknown (the node stopped reporting).
    Unreachable,
}

#[derive(Clone, PartialEq, Debug, Default)]
pub struct Node {
    pub name: Sym,
    pub labels: Labels,
    pub taints: Vec<Taint>,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    pub allocatable: Resources,
    pub capacity: Resources,
    pub images: Vec<NodeImage>,
    pub readiness: Readiness,
    pub creation_time: Option<i64>,
}

impl Node {
    pub fn new(name: &str) -> Node {
        let mut node = Node { name: Sym::new(name), ..Default::default() };
        node.labels.insert(Sym::HOSTNAME, node.name);
        node
    }

    /// The zone key of kube-scheduler's node tree: region and zone, falling back to the
    /// deprecated beta labels.
    pub fn zone_key(&self) -> (Sym, Sym) {
        let region = self.labels.get(Sym::REGION).or_else(|| self.labels.get(Sym::BETA_REGION)).unwrap_or_default();
        let zone = self.labels.get(Sym::ZONE).or_else(|| self.labels.get(Sym::BETA_ZONE)).unwrap_or_default();
        (region, zone)
    }
}
