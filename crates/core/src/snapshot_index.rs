//! Incremental pod-count indexes for InterPodAffinity and PodTopologySpread.
//!
//! kube-scheduler recomputes, in every PreFilter and PreScore, how many existing pods match a
//! selector in every topology domain by scanning every pod on every node. Here the snapshot
//! keeps those counts and updates them as pods are added and removed, so a plugin reads them in
//! O(1) per cycle instead of O(pods).
//!
//! Three kinds of entries:
//! - **queries** ([`PodQuery`]): "pods matching these selectors in these namespaces". Created
//!   lazily the first time a plugin asks (one O(pods) scan), then maintained on every
//!   [`Snapshot::add_pod`]/[`Snapshot::remove_pod`]: per node, how many pods match;
//! - **tables** ([`TableSpec`]) of a query: the per-domain counts for one topology key, over all
//!   nodes carrying the key or over the nodes an eligibility filter ([`NodeFilterSpec`]) admits
//!   (PodTopologySpread's inclusion policies). Built lazily from the query's per-node counts;
//! - **term groups** ([`TermGroupKey`]): the (anti-)affinity terms of existing pods, grouped by
//!   identical term, with per-domain counts of the pods carrying them. Maintained eagerly: they
//!   drive the symmetric anti-affinity rule and the scoring of existing pods' terms.
//!
//! Node changes (addition, removal, an update of labels or taints) invalidate tables and
//! filters, which are rebuilt from the per-node counts on next use. Namespace changes invalidate
//! queries. When every node has its own `kubernetes.io/hostname`, hostname domains are read by
//! node id ([`KeyCounts`]) rather than by label value.
//!
//! Plugins read through [`Snapshot::index`], which locks the index: the per-domain counts are
//! handed out as `Arc`s (copy-on-write), so Filter and Score never lock. Nothing here iterates a
//! hash map into a result: counts are sums and minima, independent of iteration order.
//! Registered queries and filters are bounded ([`MAX_QUERIES`], [`MAX_FILTERS`]): past the bound
//! the cache is dropped and rebuilt on demand.

use crate::intern::Sym;
use crate::labels::Labels;
use crate::model::{Namespace, Pod, PodAffinity, PodAffinityTerm, TaintEffect, Toleration, first_untolerated};
use crate::selector::{LabelSelector, NodeSelector};
use crate::snapshot::{NodeInfo, Snapshot};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// Past this many registered queries the query cache is dropped and rebuilt on demand, so that
/// a stream of pods with ever-new selectors cannot grow it without bound.
pub const MAX_QUERIES: usize = 4096;
/// Same bound for node eligibility filters.
pub const MAX_FILTERS: usize = 512;

/// A fast, deterministic hasher for interned symbols (FxHash's multiply-rotate).
#[derive(Default, Clone, Copy)]
pub struct SymHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for SymHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(SEED);
        }
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.0 = (self.0.rotate_left(5) ^ i as u64).wrapping_mul(SEED);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(SEED);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map keyed by symbols with [`SymHasher`].
pub type SymMap<V> = HashMap<Sym, V, BuildHasherDefault<SymHasher>>;

/// A hash map with [`SymHasher`] for keys made of symbols (queries, terms).
type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<SymHasher>>;

/// The labels of namespace `name` in `namespaces`; an undeclared namespace carries only the
/// `kubernetes.io/metadata.name` label the API server always sets.
pub fn namespace_labels_in(namespaces: &HashMap<Sym, Namespace>, name: Sym) -> Labels {
    static METADATA_NAME: OnceLock<Sym> = OnceLock::new();
    match namespaces.get(&name) {
        Some(ns) => ns.labels.clone(),
        None => {
            let key = *METADATA_NAME.get_or_init(|| Sym::new("kubernetes.io/metadata.name"));
            [(key, name)].into_iter().collect()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What to count
// ---------------------------------------------------------------------------------------------

/// The namespaces a term selects (kube-scheduler.md §4.10): `names ∪ {ns | selector matches the
/// namespace's labels}`. An empty selector selects every namespace; no selector selects none.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct NamespaceFilter {
    /// Sorted by symbol id, deduplicated.
    pub names: Vec<Sym>,
    pub selector: Option<LabelSelector>,
}

impl NamespaceFilter {
    /// Exactly one namespace.
    pub fn single(ns: Sym) -> NamespaceFilter {
        NamespaceFilter { names: vec![ns], selector: None }
    }

    /// The namespaces of an affinity term of a pod in `owner_ns` (`getNamespacesFromPodAffinityTerm`
    /// plus the namespace selector): with neither `namespaces` nor `namespaceSelector`, the
    /// owner's namespace.
    pub fn of_term(term: &PodAffinityTerm, owner_ns: Sym) -> NamespaceFilter {
        if term.namespaces.is_empty() && term.namespace_selector.is_none() {
            return NamespaceFilter::single(owner_ns);
        }
        let mut names = term.namespaces.clone();
        names.sort();
        names.dedup();
        NamespaceFilter { names, selector: term.namespace_selector.clone() }
    }

    /// True when every namespace is selected (an empty `namespaceSelector`).
    pub fn selects_all(&self) -> bool {
        self.selector.as_ref().is_some_and(|s| s.is_empty())
    }

    /// Whether namespace `ns` is selected; `labels` gives its labels when the selector needs them.
    #[inline]
    pub fn matches(&self, ns: Sym, labels: impl FnOnce() -> Labels) -> bool {
        if self.names.contains(&ns) {
            return true;
        }
        match &self.selector {
            None => false,
            Some(s) if s.is_empty() => true,
            Some(s) => s.matches(&labels()),
        }
    }
}

/// One selector over pods: a label selector (`None` is a nil selector, matching nothing) and
/// the namespaces it applies to.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct QueryTerm {
    pub selector: Option<LabelSelector>,
    pub namespaces: NamespaceFilter,
}

impl QueryTerm {
    /// The term of an affinity term owned by a pod in `owner_ns`.
    pub fn of_affinity_term(term: &PodAffinityTerm, owner_ns: Sym) -> QueryTerm {
        QueryTerm { selector: term.label_selector.clone(), namespaces: NamespaceFilter::of_term(term, owner_ns) }
    }

    /// `AffinityTerm.Matches`: the pod's namespace is selected and its labels match.
    #[inline]
    pub fn matches(&self, pod: &Pod, ns_labels: impl FnOnce() -> Labels) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(&pod.labels))
            && self.namespaces.matches(pod.namespace, ns_labels)
    }
}

/// "The pods matching every term" (several terms: InterPodAffinity's required affinity, which
/// counts pods matching all of the incoming pod's terms).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct PodQuery {
    pub terms: Vec<QueryTerm>,
    /// Leave out terminating pods (PodTopologySpread does; InterPodAffinity does not).
    pub skip_terminating: bool,
}

impl PodQuery {
    pub fn matches(&self, pod: &Pod, namespaces: &HashMap<Sym, Namespace>) -> bool {
        if self.skip_terminating && pod.terminating {
            return false;
        }
        !self.terms.is_empty()
            && self.terms.iter().all(|t| t.matches(pod, || namespace_labels_in(namespaces, pod.namespace)))
    }

    /// The namespaces outside of which no pod can match, when the query pins them.
    fn pinned_namespaces(&self) -> Option<&[Sym]> {
        self.terms.iter().find(|t| t.namespaces.selector.is_none()).map(|t| t.namespaces.names.as_slice())
    }
}

/// The node selector and required node affinity of a pod (`GetRequiredNodeAffinity`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct RequiredNodeAffinity {
    pub node_selector: Labels,
    pub required: Option<NodeSelector>,
}

impl RequiredNodeAffinity {
    /// The pod's required node affinity; `None` when it has none (every node matches).
    pub fn of(pod: &Pod) -> Option<RequiredNodeAffinity> {
        let required = pod.affinity.node_affinity.as_ref().and_then(|a| a.required.clone());
        if required.is_none() && pod.node_selector.is_empty() {
            return None;
        }
        Some(RequiredNodeAffinity { node_selector: pod.node_selector.clone(), required })
    }

    #[inline]
    pub fn matches(&self, node: &NodeInfo) -> bool {
        let labels = node.labels();
        labels.contains_all(&self.node_selector)
            && self.required.as_ref().is_none_or(|r| r.matches(node.name(), labels))
    }
}

/// Which nodes a PodTopologySpread count includes: nodes carrying every required key, matching
/// the pod's node affinity when the affinity policy is Honor, and whose NoSchedule/NoExecute
/// taints the pod tolerates when the taints policy is Honor (kube-scheduler.md §4.11).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct NodeFilterSpec {
    /// Sorted by symbol id, deduplicated.
    pub required_keys: Vec<Sym>,
    pub node_affinity: Option<RequiredNodeAffinity>,
    pub tolerations: Option<Vec<Toleration>>,
}

impl NodeFilterSpec {
    #[inline]
    pub fn matches(&self, node: &NodeInfo) -> bool {
        let labels = node.labels();
        if !self.required_keys.iter().all(|&k| labels.contains_key(k)) {
            return false;
        }
        if let Some(a) = &self.node_affinity
            && !a.matches(node)
        {
            return false;
        }
        if let Some(t) = &self.tolerations
            && first_untolerated(&node.node.taints, t, &[TaintEffect::NoSchedule, TaintEffect::NoExecute]).is_some()
        {
            return false;
        }
        true
    }
}

/// How a query's pods are summed into topology domains.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TableSpec {
    pub key: Sym,
    /// `None`: every node carrying `key` counts, and only domains holding pods have entries
    /// (InterPodAffinity). `Some`: only nodes the filter admits count, and every domain with an
    /// admitted node has an entry, possibly 0 (PodTopologySpread's eligible domains).
    pub filter: Option<NodeFilterSpec>,
    /// Count admitted nodes lacking `key` under the empty value (PodTopologySpread's scoring of
    /// system-default constraints, which reads `node.Labels[key]` without checking presence).
    pub missing_as_empty: bool,
}

impl TableSpec {
    /// Every node carrying `key`.
    pub fn sparse(key: Sym) -> TableSpec {
        TableSpec { key, filter: None, missing_as_empty: false }
    }

    /// The domain a node belongs to, if it counts at all (filter already applied).
    #[inline]
    fn domain_of(&self, labels: &Labels) -> Option<Sym> {
        match labels.get(self.key) {
            Some(v) => Some(v),
            None if self.missing_as_empty => Some(Sym::EMPTY),
            None => None,
        }
    }
}

/// Counts of matching pods per topology domain (value of the table's key).
#[derive(Clone, Debug, Default)]
pub struct DomainCounts {
    counts: SymMap<i32>,
    total: i64,
    /// For filtered tables (every eligible domain has an entry): how many domains hold each
    /// count, so the minimum is read without scanning domains.
    histogram: Option<BTreeMap<i32, u32>>,
}

impl DomainCounts {
    fn new(dense: bool) -> DomainCounts {
        DomainCounts { counts: SymMap::default(), total: 0, histogram: dense.then(BTreeMap::new) }
    }

    /// Matching pods in domain `value` (0 when the domain is unknown).
    #[inline]
    pub fn get(&self, value: Sym) -> i32 {
        self.counts.get(&value).copied().unwrap_or(0)
    }

    /// Whether `value` is a domain of the table (for filtered tables: has an eligible node).
    pub fn contains(&self, value: Sym) -> bool {
        self.counts.contains_key(&value)
    }

    /// Σ counts: matching pods on counted nodes.
    #[inline]
    pub fn total(&self) -> i64 {
        self.total
    }

    /// Number of domains with an entry.
    pub fn num_domains(&self) -> usize {
        self.counts.len()
    }

    /// The smallest count over the domains with an entry.
    pub fn min(&self) -> Option<i32> {
        match &self.histogram {
            Some(h) => h.keys().next().copied(),
            None => self.counts.values().copied().min(),
        }
    }

    /// How many domains hold each count (filtered tables only).
    pub fn histogram(&self) -> Option<&BTreeMap<i32, u32>> {
        self.histogram.as_ref()
    }

    /// `(domain, count)` pairs sorted by domain text, for tests and debugging.
    pub fn sorted(&self) -> Vec<(&'static str, i32)> {
        let mut v: Vec<(&'static str, i32)> = self
            .counts
            .iter()
            .filter(|&(_, &c)| self.histogram.is_some() || c != 0)
            .map(|(k, &c)| (k.as_str(), c))
            .collect();
        v.sort();
        v
    }

    fn hist_move(&mut self, from: Option<i32>, to: i32) {
        if let Some(h) = self.histogram.as_mut() {
            if let Some(f) = from
                && let Some(n) = h.get_mut(&f)
            {
                *n -= 1;
                if *n == 0 {
                    h.remove(&f);
                }
            }
            *h.entry(to).or_insert(0) += 1;
        }
    }

    /// Makes `value` a domain (count 0) if it is not one yet.
    fn ensure_domain(&mut self, value: Sym) {
        if let std::collections::hash_map::Entry::Vacant(e) = self.counts.entry(value) {
            e.insert(0);
            self.hist_move(None, 0);
        }
    }

    fn add(&mut self, value: Sym, delta: i32) {
        if delta == 0 {
            return;
        }
        self.total += delta as i64;
        let dense = self.histogram.is_some();
        let entry = self.counts.entry(value);
        let (old, new) = match entry {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let old = *e.get();
                let new = old + delta;
                if new == 0 && !dense {
                    e.remove();
                } else {
                    *e.get_mut() = new;
                }
                (Some(old), new)
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(delta);
                (None, delta)
            }
        };
        self.hist_move(old, new);
    }
}

/// Counts per domain of one topology key. When the key is `kubernetes.io/hostname` and every
/// node has its own hostname, a domain is a node and the count is read by node id.
#[derive(Clone, Debug)]
pub struct KeyCounts {
    pub domains: Arc<DomainCounts>,
    /// Counts by node id, valid for the node's own domain.
    per_node: Option<Arc<Vec<i32>>>,
}

impl KeyCounts {
    /// The count of the domain of `node`, whose value of the key is `value`.
    #[inline]
    pub fn on_node(&self, node: &NodeInfo, value: Sym) -> i32 {
        match &self.per_node {
            Some(v) => v.get(node.id.0 as usize).copied().unwrap_or(0),
            None => self.domains.get(value),
        }
    }

    /// True when counts are read by node id (hostname domains that are nodes): the node always
    /// carries the key and [`KeyCounts::on_node`] ignores `value`.
    #[inline]
    pub fn is_per_node(&self) -> bool {
        self.per_node.is_some()
    }

    /// The count of domain `value`.
    #[inline]
    pub fn get(&self, value: Sym) -> i32 {
        self.domains.get(value)
    }

    #[inline]
    pub fn total(&self) -> i64 {
        self.domains.total()
    }
}

/// What kind of existing-pod term a group holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum TermKind {
    RequiredAffinity,
    RequiredAntiAffinity,
    PreferredAffinity,
    PreferredAntiAffinity,
}

/// Identical terms of existing pods: same kind, weight, selector, resolved namespaces and key.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TermGroupKey {
    pub kind: TermKind,
    /// The preferred term's weight; 0 for required terms.
    pub weight: i32,
    pub term: QueryTerm,
    pub topology_key: Sym,
}

/// Every (kind, weight, term) of a pod's inter-pod affinity.
pub fn pod_terms(pod: &Pod) -> impl Iterator<Item = (TermKind, i32, &PodAffinityTerm)> + '_ {
    fn req(a: Option<&PodAffinity>, kind: TermKind) -> impl Iterator<Item = (TermKind, i32, &PodAffinityTerm)> {
        a.into_iter().flat_map(move |a| a.required.iter().map(move |t| (kind, 0, t)))
    }
    fn pref(a: Option<&PodAffinity>, kind: TermKind) -> impl Iterator<Item = (TermKind, i32, &PodAffinityTerm)> {
        a.into_iter().flat_map(move |a| a.preferred.iter().map(move |w| (kind, w.weight, &w.term)))
    }
    let aff = pod.affinity.pod_affinity.as_ref();
    let anti = pod.affinity.pod_anti_affinity.as_ref();
    req(aff, TermKind::RequiredAffinity)
        .chain(req(anti, TermKind::RequiredAntiAffinity))
        .chain(pref(aff, TermKind::PreferredAffinity))
        .chain(pref(anti, TermKind::PreferredAntiAffinity))
}

// ---------------------------------------------------------------------------------------------
// The index
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct TableEntry {
    spec: TableSpec,
    /// Index into `IndexInner::filters` for filtered tables.
    filter: Option<usize>,
    counts: Arc<DomainCounts>,
}

#[derive(Clone, Debug)]
struct QueryEntry {
    query: PodQuery,
    /// Matching pods per node id.
    node_counts: Arc<Vec<i32>>,
    tables: Vec<TableEntry>,
}

#[derive(Clone, Debug)]
struct FilterEntry {
    spec: NodeFilterSpec,
    /// Admitted, per node id.
    mask: Vec<bool>,
}

#[derive(Clone, Debug)]
struct GroupEntry {
    key: TermGroupKey,
    /// Term occurrences on each node id.
    node_counts: Arc<Vec<i32>>,
    occurrences: i64,
    /// `None` after a node change; rebuilt from `node_counts` on next read.
    table: Option<Arc<DomainCounts>>,
}

#[derive(Clone, Debug, Default)]
struct IndexInner {
    queries: Vec<QueryEntry>,
    query_ids: FastMap<PodQuery, usize>,
    /// Queries pinned to a namespace, by namespace; the rest are in `any_ns`.
    by_ns: SymMap<Vec<usize>>,
    any_ns: Vec<usize>,
    filters: Vec<FilterEntry>,
    groups: Vec<GroupEntry>,
    group_ids: FastMap<TermGroupKey, usize>,
    /// Every node carries a `kubernetes.io/hostname` label and no two share a value, so a
    /// hostname domain is a node. `None` until computed after a node change.
    hostname_unique: Option<bool>,
}

fn bump(v: &mut Vec<i32>, i: usize, delta: i32) {
    if v.len() <= i {
        v.resize(i + 1, 0);
    }
    v[i] += delta;
}

impl IndexInner {
    fn clear_queries(&mut self) {
        self.queries.clear();
        self.query_ids.clear();
        self.by_ns.clear();
        self.any_ns.clear();
    }

    fn nodes_changed(&mut self) {
        for q in &mut self.queries {
            q.tables.clear();
        }
        self.filters.clear();
        for g in &mut self.groups {
            g.table = None;
        }
        self.hostname_unique = None;
    }

    fn hostname_unique(&mut self, snapshot: &Snapshot) -> bool {
        if let Some(u) = self.hostname_unique {
            return u;
        }
        let mut seen: SymMap<()> = SymMap::default();
        let unique = snapshot
            .nodes_in_insertion_order()
            .all(|n| n.labels().get(Sym::HOSTNAME).is_some_and(|h| seen.insert(h, ()).is_none()));
        self.hostname_unique = Some(unique);
        unique
    }

    fn pod_changed(&mut self, pod: &Pod, node: &NodeInfo, namespaces: &HashMap<Sym, Namespace>, delta: i32) {
        let n = node.id.0 as usize;
        let labels = node.labels();
        // Queries.
        let IndexInner { queries, by_ns, any_ns, filters, .. } = self;
        let pinned = by_ns.get(&pod.namespace).map(Vec::as_slice).unwrap_or(&[]);
        for &qi in pinned.iter().chain(any_ns.iter()) {
            let q = &mut queries[qi];
            if !q.query.matches(pod, namespaces) {
                continue;
            }
            bump(Arc::make_mut(&mut q.node_counts), n, delta);
            for t in &mut q.tables {
                if let Some(f) = t.filter
                    && !filters[f].mask.get(n).copied().unwrap_or(false)
                {
                    continue;
                }
                if let Some(v) = t.spec.domain_of(labels) {
                    Arc::make_mut(&mut t.counts).add(v, delta);
                }
            }
        }
        // Term groups of the pod's own terms.
        if !pod.has_pod_affinity() {
            return;
        }
        for (kind, weight, term) in pod_terms(pod) {
            let key = TermGroupKey {
                kind,
                weight,
                term: QueryTerm::of_affinity_term(term, pod.namespace),
                topology_key: term.topology_key,
            };
            let gi = match self.group_ids.get(&key) {
                Some(&gi) => gi,
                None if delta < 0 => continue,
                None => {
                    self.groups.push(GroupEntry {
                        key: key.clone(),
                        node_counts: Arc::new(Vec::new()),
                        occurrences: 0,
                        table: Some(Arc::new(DomainCounts::new(false))),
                    });
                    self.group_ids.insert(key, self.groups.len() - 1);
                    self.groups.len() - 1
                }
            };
            let g = &mut self.groups[gi];
            bump(Arc::make_mut(&mut g.node_counts), n, delta);
            g.occurrences += delta as i64;
            if let Some(table) = g.table.as_mut()
                && let Some(v) = labels.get(g.key.topology_key)
            {
                Arc::make_mut(table).add(v, delta);
            }
            if g.occurrences <= 0 {
                self.remove_group(gi);
            }
        }
    }

    fn remove_group(&mut self, gi: usize) {
        let g = self.groups.swap_remove(gi);
        self.group_ids.remove(&g.key);
        if gi < self.groups.len() {
            let moved = self.groups[gi].key.clone();
            self.group_ids.insert(moved, gi);
        }
    }

    fn query_id(&mut self, snapshot: &Snapshot, query: &PodQuery) -> usize {
        if let Some(&id) = self.query_ids.get(query) {
            return id;
        }
        if self.queries.len() >= MAX_QUERIES {
            self.clear_queries();
        }
        let mut node_counts = Vec::new();
        for (_, bound) in snapshot.pods() {
            if snapshot.get_node(bound.node).is_some() && query.matches(&bound.pod, snapshot.namespaces_map()) {
                bump(&mut node_counts, bound.node.0 as usize, 1);
            }
        }
        let id = self.queries.len();
        match query.pinned_namespaces() {
            Some(names) => {
                for &ns in names {
                    self.by_ns.entry(ns).or_default().push(id);
                }
            }
            None => self.any_ns.push(id),
        }
        self.queries.push(QueryEntry { query: query.clone(), node_counts: Arc::new(node_counts), tables: Vec::new() });
        self.query_ids.insert(query.clone(), id);
        id
    }

    fn filter_id(&mut self, snapshot: &Snapshot, spec: &NodeFilterSpec) -> usize {
        if let Some(i) = self.filters.iter().position(|f| f.spec == *spec) {
            return i;
        }
        if self.filters.len() >= MAX_FILTERS {
            // Tables refer to filters by position: drop them with the filters.
            self.nodes_changed();
        }
        let mut mask = Vec::new();
        for node in snapshot.nodes_in_insertion_order() {
            let i = node.id.0 as usize;
            if mask.len() <= i {
                mask.resize(i + 1, false);
            }
            mask[i] = spec.matches(node);
        }
        self.filters.push(FilterEntry { spec: spec.clone(), mask });
        self.filters.len() - 1
    }

    fn table(&mut self, snapshot: &Snapshot, query: &PodQuery, spec: &TableSpec) -> Arc<DomainCounts> {
        let qi = self.query_id(snapshot, query);
        if let Some(t) = self.queries[qi].tables.iter().find(|t| t.spec == *spec) {
            return t.counts.clone();
        }
        let filter = spec.filter.as_ref().map(|f| self.filter_id(snapshot, f));
        let q = &self.queries[qi];
        let mut counts = DomainCounts::new(filter.is_some());
        for node in snapshot.nodes_in_insertion_order() {
            let i = node.id.0 as usize;
            if let Some(f) = filter
                && !self.filters[f].mask.get(i).copied().unwrap_or(false)
            {
                continue;
            }
            let Some(v) = spec.domain_of(node.labels()) else { continue };
            if filter.is_some() {
                counts.ensure_domain(v);
            }
            counts.add(v, q.node_counts.get(i).copied().unwrap_or(0));
        }
        let counts = Arc::new(counts);
        self.queries[qi].tables.push(TableEntry { spec: spec.clone(), filter, counts: counts.clone() });
        counts
    }

    fn group_table(&mut self, snapshot: &Snapshot, gi: usize) -> Arc<DomainCounts> {
        let g = &mut self.groups[gi];
        if let Some(t) = &g.table {
            return t.clone();
        }
        let mut counts = DomainCounts::new(false);
        for node in snapshot.nodes_in_insertion_order() {
            let c = g.node_counts.get(node.id.0 as usize).copied().unwrap_or(0);
            if c != 0
                && let Some(v) = node.labels().get(g.key.topology_key)
            {
                counts.add(v, c);
            }
        }
        let t = Arc::new(counts);
        g.table = Some(t.clone());
        t
    }
}

/// The snapshot's index, behind a lock so that plugins holding `&Snapshot` can register new
/// queries. Cloning a snapshot clones the index (its count tables are shared copy-on-write).
#[derive(Default)]
pub struct SnapshotIndex(Mutex<IndexInner>);

impl Clone for SnapshotIndex {
    fn clone(&self) -> Self {
        SnapshotIndex(Mutex::new(self.lock().clone()))
    }
}

impl std::fmt::Debug for SnapshotIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("SnapshotIndex")
            .field("queries", &inner.queries.len())
            .field("filters", &inner.filters.len())
            .field("term_groups", &inner.groups.len())
            .finish()
    }
}

impl SnapshotIndex {
    fn lock(&self) -> MutexGuard<'_, IndexInner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn inner_mut(&mut self) -> &mut IndexInner {
        self.0.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    /// A node was added, relabelled or removed.
    pub(crate) fn nodes_changed(&mut self) {
        self.inner_mut().nodes_changed();
    }

    /// Namespace labels changed: namespace selectors may now select other pods.
    pub(crate) fn namespaces_changed(&mut self) {
        self.inner_mut().clear_queries();
    }

    /// `pod` was accounted on `node`.
    pub(crate) fn pod_added(&mut self, pod: &Pod, node: &NodeInfo, namespaces: &HashMap<Sym, Namespace>) {
        self.inner_mut().pod_changed(pod, node, namespaces, 1);
    }

    /// `pod` was removed from `node`.
    pub(crate) fn pod_removed(&mut self, pod: &Pod, node: &NodeInfo, namespaces: &HashMap<Sym, Namespace>) {
        self.inner_mut().pod_changed(pod, node, namespaces, -1);
    }

    pub(crate) fn view<'a>(&'a self, snapshot: &'a Snapshot) -> IndexView<'a> {
        IndexView { snapshot, inner: self.lock() }
    }
}

/// Locked access to the index for one PreFilter or PreScore.
pub struct IndexView<'a> {
    snapshot: &'a Snapshot,
    inner: MutexGuard<'a, IndexInner>,
}

impl IndexView<'_> {
    /// Per-domain counts of the pods matching `query`, summed as `spec` says.
    pub fn domain_counts(&mut self, query: &PodQuery, spec: &TableSpec) -> Arc<DomainCounts> {
        let snapshot = self.snapshot;
        self.inner.table(snapshot, query, spec)
    }

    /// Matching pods per node id (index by `NodeId.0`; shorter vectors mean 0).
    pub fn node_counts(&mut self, query: &PodQuery) -> Arc<Vec<i32>> {
        let snapshot = self.snapshot;
        let qi = self.inner.query_id(snapshot, query);
        self.inner.queries[qi].node_counts.clone()
    }

    /// The pods matching `query` per domain of `key` over every node carrying it, with the
    /// per-node fast path when `key` is a node-unique hostname.
    pub fn key_counts(&mut self, query: &PodQuery, key: Sym) -> KeyCounts {
        let snapshot = self.snapshot;
        let domains = self.inner.table(snapshot, query, &TableSpec::sparse(key));
        let per_node = (key == Sym::HOSTNAME && self.inner.hostname_unique(snapshot)).then(|| {
            let qi = self.inner.query_id(snapshot, query);
            self.inner.queries[qi].node_counts.clone()
        });
        KeyCounts { domains, per_node }
    }

    /// Calls `f` with every group of existing pods' terms of one of `kinds` (in no particular
    /// order; callers only sum) and its counts per domain of the term's key.
    pub fn for_each_group(&mut self, kinds: &[TermKind], mut f: impl FnMut(&TermGroupKey, &KeyCounts)) {
        let snapshot = self.snapshot;
        let unique = self.inner.hostname_unique(snapshot);
        for gi in 0..self.inner.groups.len() {
            if !kinds.contains(&self.inner.groups[gi].key.kind) {
                continue;
            }
            let domains = self.inner.group_table(snapshot, gi);
            let g = &self.inner.groups[gi];
            let per_node = (unique && g.key.topology_key == Sym::HOSTNAME).then(|| g.node_counts.clone());
            f(&g.key, &KeyCounts { domains, per_node });
        }
    }

    /// Number of groups of existing pods' terms (for tests and debugging).
    pub fn num_groups(&self) -> usize {
        self.inner.groups.len()
    }

    /// Checks every query, table and group against a recomputation from scratch; returns the
    /// first difference. Used by consistency tests.
    pub fn verify(&mut self) -> Result<(), String> {
        let snapshot = self.snapshot;
        let mut fresh = IndexInner::default();
        for qi in 0..self.inner.queries.len() {
            let q = self.inner.queries[qi].query.clone();
            let fi = fresh.query_id(snapshot, &q);
            let (a, b) = (&self.inner.queries[qi].node_counts, &fresh.queries[fi].node_counts);
            let len = a.len().max(b.len());
            for n in 0..len {
                let (x, y) = (a.get(n).copied().unwrap_or(0), b.get(n).copied().unwrap_or(0));
                if x != y {
                    return Err(format!("query {q:?}: node {n}: incremental {x}, recomputed {y}"));
                }
            }
            let specs: Vec<TableSpec> = self.inner.queries[qi].tables.iter().map(|t| t.spec.clone()).collect();
            for (ti, spec) in specs.iter().enumerate() {
                let got = self.inner.queries[qi].tables[ti].counts.clone();
                let want = fresh.table(snapshot, &q, spec);
                if got.sorted() != want.sorted() || got.total() != want.total() || got.histogram() != want.histogram() {
                    return Err(format!(
                        "query {q:?} table {spec:?}: incremental {:?} (total {}), recomputed {:?} (total {})",
                        got.sorted(),
                        got.total(),
                        want.sorted(),
                        want.total()
                    ));
                }
            }
        }
        for (_, bound) in snapshot.pods() {
            if let Some(node) = snapshot.get_node(bound.node) {
                fresh.pod_changed(&bound.pod, node, snapshot.namespaces_map(), 1);
            }
        }
        if fresh.groups.len() != self.inner.groups.len() {
            return Err(format!("{} term groups, recomputed {}", self.inner.groups.len(), fresh.groups.len()));
        }
        for gi in 0..self.inner.groups.len() {
            let key = self.inner.groups[gi].key.clone();
            let Some(&fi) = fresh.group_ids.get(&key) else {
                return Err(format!("group {key:?} not found in the recomputation"));
            };
            let got = self.inner.group_table(snapshot, gi);
            let want = fresh.group_table(snapshot, fi);
            let trim = |v: &[i32]| {
                let mut v = v.to_vec();
                while v.last() == Some(&0) {
                    v.pop();
                }
                v
            };
            let (a, b) = (&self.inner.groups[gi], &fresh.groups[fi]);
            if got.sorted() != want.sorted()
                || a.occurrences != b.occurrences
                || trim(&a.node_counts) != trim(&b.node_counts)
            {
                return Err(format!("group {key:?}: incremental {:?}, recomputed {:?}", got.sorted(), want.sorted()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builders::{NodeBuilder, PodBuilder};
    use crate::model::{Affinity, PodAffinity};

    fn sel(k: &str, v: &str) -> LabelSelector {
        LabelSelector::from_match_labels([(k, v)])
    }

    fn query(k: &str, v: &str, ns: &str) -> PodQuery {
        PodQuery {
            terms: vec![QueryTerm { selector: Some(sel(k, v)), namespaces: NamespaceFilter::single(Sym::new(ns)) }],
            skip_terminating: false,
        }
    }

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::new();
        for (name, zone) in [("n1", "a"), ("n2", "a"), ("n3", "b"), ("n4", "")] {
            let mut b = NodeBuilder::new(name);
            if !zone.is_empty() {
                b = b.zone(zone);
            }
            s.add_node(b.build());
        }
        s
    }

    fn add(s: &mut Snapshot, name: &str, app: &str, node: &str) -> crate::snapshot::PodId {
        let pod = PodBuilder::new("default", name).label("app", app).build();
        let id = s.node_id(Sym::new(node)).unwrap();
        s.add_pod(Arc::new(pod), id)
    }

    #[test]
    fn domain_counts_follow_adds_and_removes() {
        let mut s = snapshot();
        add(&mut s, "p1", "web", "n1");
        let q = query("app", "web", "default");
        let zone = TableSpec::sparse(Sym::ZONE);
        assert_eq!(s.index().domain_counts(&q, &zone).sorted(), [("a", 1)]);
        let p2 = add(&mut s, "p2", "web", "n3");
        add(&mut s, "p3", "web", "n4");
        add(&mut s, "p4", "db", "n2");
        let t = s.index().domain_counts(&q, &zone);
        assert_eq!(t.sorted(), [("a", 1), ("b", 1)]);
        assert_eq!(t.total(), 2, "the pod on the node without a zone is not counted");
        s.remove_pod(p2);
        assert_eq!(s.index().domain_counts(&q, &zone).sorted(), [("a", 1)]);
        // The table handed out before the removal is unchanged (copy-on-write).
        assert_eq!(t.get(Sym::new("b")), 1);
        s.index().verify().unwrap();
    }

    #[test]
    fn filtered_tables_list_every_eligible_domain() {
        let mut s = snapshot();
        add(&mut s, "p1", "web", "n1");
        let q = query("app", "web", "default");
        let spec = TableSpec { key: Sym::ZONE, filter: Some(NodeFilterSpec::default()), missing_as_empty: false };
        let t = s.index().domain_counts(&q, &spec);
        assert_eq!(t.sorted(), [("a", 1), ("b", 0)]);
        assert_eq!(t.min(), Some(0));
        let empty_spec = TableSpec { key: Sym::ZONE, filter: Some(NodeFilterSpec::default()), missing_as_empty: true };
        assert_eq!(s.index().domain_counts(&q, &empty_spec).sorted(), [("", 0), ("a", 1), ("b", 0)]);
        add(&mut s, "p2", "web", "n3");
        let t = s.index().domain_counts(&q, &spec);
        assert_eq!(t.min(), Some(1));
        s.index().verify().unwrap();
    }

    #[test]
    fn node_changes_rebuild_tables() {
        let mut s = snapshot();
        add(&mut s, "p1", "web", "n4");
        let q = query("app", "web", "default");
        let zone = TableSpec::sparse(Sym::ZONE);
        assert_eq!(s.index().domain_counts(&q, &zone).total(), 0);
        let id = s.node_id(Sym::new("n4")).unwrap();
        // A change that leaves labels and taints alone keeps the tables.
        let before = s.index().domain_counts(&q, &zone);
        s.update_node(id, NodeBuilder::new("n4").cpu_milli(8000).build());
        assert!(Arc::ptr_eq(&before, &s.index().domain_counts(&q, &zone)));
        let relabelled = NodeBuilder::new("n4").zone("c").build();
        s.update_node(id, relabelled);
        assert_eq!(s.index().domain_counts(&q, &zone).sorted(), [("c", 1)]);
        s.index().verify().unwrap();
        s.remove_node(id);
        assert_eq!(s.index().domain_counts(&q, &zone).total(), 0);
        s.index().verify().unwrap();
    }

    #[test]
    fn term_groups_collect_identical_terms() {
        let mut s = snapshot();
        let term = PodAffinityTerm {
            label_selector: Some(sel("app", "web")),
            namespaces: vec![],
            namespace_selector: None,
            topology_key: Sym::HOSTNAME,
            match_label_keys: vec![],
            mismatch_label_keys: vec![],
        };
        let anti = Affinity {
            pod_anti_affinity: Some(PodAffinity { required: vec![term], preferred: vec![] }),
            ..Default::default()
        };
        let mut ids = Vec::new();
        for (i, node) in ["n1", "n1", "n2"].iter().enumerate() {
            let pod = PodBuilder::new("default", &format!("w{i}")).label("app", "web").affinity(anti.clone()).build();
            ids.push(s.add_pod(Arc::new(pod), s.node_id(Sym::new(node)).unwrap()));
        }
        let mut seen = Vec::new();
        s.index().for_each_group(&[TermKind::RequiredAntiAffinity], |k, t| {
            seen.push((
                k.topology_key,
                t.domains.sorted(),
                t.on_node(s.node_by_name(Sym::new("n1")).unwrap(), Sym::EMPTY),
            ))
        });
        // Per domain, and per node through the hostname fast path (the value is not consulted).
        assert_eq!(seen, [(Sym::HOSTNAME, vec![("n1", 2), ("n2", 1)], 2)]);
        for id in ids {
            s.remove_pod(id);
        }
        assert_eq!(s.index().num_groups(), 0);
        s.index().verify().unwrap();
    }

    #[test]
    fn the_query_cache_is_bounded_and_stays_correct() {
        let mut s = snapshot();
        add(&mut s, "p1", "web", "n1");
        let zone = TableSpec::sparse(Sym::ZONE);
        for i in 0..MAX_QUERIES + 3 {
            s.index().domain_counts(&query("app", &format!("app-{i}"), "default"), &zone);
        }
        assert!(s.index().inner.queries.len() <= MAX_QUERIES);
        // Queries dropped with the cache are rebuilt on demand; kept ones keep following adds.
        add(&mut s, "p2", "web", "n3");
        assert_eq!(s.index().domain_counts(&query("app", "web", "default"), &zone).sorted(), [("a", 1), ("b", 1)]);
        s.index().verify().unwrap();
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add { node: usize, app: usize, ns: usize, terminating: bool, anti: bool },
        Remove(usize),
        Relabel { node: usize, zone: usize },
        Namespace { ns: usize, team: usize },
        Query { app: usize, ns: usize, key: usize, filtered: bool, ns_selector: bool },
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (0..4usize, 0..3usize, 0..2usize, any::<bool>(), any::<bool>())
                .prop_map(|(node, app, ns, terminating, anti)| Op::Add { node, app, ns, terminating, anti }),
            2 => (0..64usize).prop_map(Op::Remove),
            1 => (0..4usize, 0..3usize).prop_map(|(node, zone)| Op::Relabel { node, zone }),
            1 => (0..2usize, 0..2usize).prop_map(|(ns, team)| Op::Namespace { ns, team }),
            2 => (0..3usize, 0..2usize, 0..2usize, any::<bool>(), any::<bool>())
                .prop_map(|(app, ns, key, filtered, ns_selector)| Op::Query { app, ns, key, filtered, ns_selector }),
        ]
    }

    const APPS: [&str; 3] = ["web", "db", "cache"];
    const NAMESPACES: [&str; 2] = ["ns1", "ns2"];
    const ZONES: [&str; 3] = ["a", "b", ""];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]
        /// After any sequence of pod adds/removes, node relabels and namespace changes, every
        /// registered query, table and term group equals a recomputation from scratch.
        #[test]
        fn incremental_index_equals_recomputation(ops in proptest::collection::vec(op(), 1..80)) {
            let mut s = snapshot();
            let names: Vec<Sym> = s.nodes_in_insertion_order().map(|n| n.name()).collect();
            let mut placed: Vec<crate::snapshot::PodId> = Vec::new();
            for (i, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Add { node, app, ns, terminating, anti } => {
                        let mut b = PodBuilder::new(NAMESPACES[ns], &format!("p{i}")).label("app", APPS[app]);
                        if anti {
                            let term = PodAffinityTerm {
                                label_selector: Some(sel("app", APPS[(app + 1) % 3])),
                                namespaces: vec![],
                                namespace_selector: None,
                                topology_key: Sym::ZONE,
                                match_label_keys: vec![],
                                mismatch_label_keys: vec![],
                            };
                            b = b.affinity(Affinity {
                                pod_anti_affinity: Some(PodAffinity { required: vec![term], preferred: vec![] }),
                                ..Default::default()
                            });
                        }
                        let mut pod = b.build();
                        pod.terminating = terminating;
                        let id = s.node_id(names[node]).unwrap();
                        placed.push(s.add_pod(Arc::new(pod), id));
                    }
                    Op::Remove(k) => {
                        if !placed.is_empty() {
                            let id = placed.swap_remove(k % placed.len());
                            s.remove_pod(id);
                        }
                    }
                    Op::Relabel { node, zone } => {
                        let id = s.node_id(names[node]).unwrap();
                        let mut b = NodeBuilder::new(names[node].as_str());
                        if !ZONES[zone].is_empty() {
                            b = b.zone(ZONES[zone]);
                        }
                        s.update_node(id, b.build());
                    }
                    Op::Namespace { ns, team } => s.add_namespace(Namespace {
                        name: Sym::new(NAMESPACES[ns]),
                        labels: [("team", ["red", "blue"][team])].into_iter().collect(),
                    }),
                    Op::Query { app, ns, key, filtered, ns_selector } => {
                        let mut q = query("app", APPS[app], NAMESPACES[ns]);
                        q.skip_terminating = filtered;
                        if ns_selector {
                            q.terms[0].namespaces =
                                NamespaceFilter { names: vec![], selector: Some(sel("team", "red")) };
                        }
                        let key = [Sym::ZONE, Sym::HOSTNAME][key];
                        let filter = filtered.then(|| NodeFilterSpec { required_keys: vec![Sym::ZONE], ..Default::default() });
                        let spec = TableSpec { key, filter, missing_as_empty: false };
                        s.index().domain_counts(&q, &spec);
                        s.index().key_counts(&q, key);
                    }
                }
                // Identical terms share a group: at most one per (selector, owner namespace).
                let mut seen = 0;
                s.index().for_each_group(&[TermKind::RequiredAntiAffinity], |_, _| seen += 1);
                proptest::prop_assert!(seen <= APPS.len() * NAMESPACES.len());
                let r = s.index().verify();
                proptest::prop_assert!(r.is_ok(), "{:?}", r);
            }
        }
    }
}
