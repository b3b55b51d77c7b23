//! Karpenter's scheduling simulation (doc §3.3–§3.5, §8) with one difference that matters:
//! every "does the pod fit there" question is answered by the core's PreFilter/Filter plugins
//! on a concrete [`Node`] in a scratch [`Snapshot`] — existing nodes, the nodes of the
//! NodeClaims planned so far (with their pods and DaemonSet pods), and a candidate node per
//! (NodePool, zone) for a new NodeClaim. The requirement algebra only narrows instance types;
//! it never overrules a filter.
//!
//! Candidate nodes stay in the scratch snapshot between pods (empty, with the labels of the
//! last candidate or only a hostname). They are the topology domains Karpenter registers from
//! the NodePools: a zone the pool can launch in counts as a spread domain with 0 pods, and a
//! new node is a hostname domain with 0 pods (`domainMinCount`, doc §3.5).

mod repack;

use super::prefs::PodPrefs;
use crate::autoscaler::{Autoscaler, ClusterView, MinValuesPolicy};
use crate::catalog::CapacityType;
use crate::labels;
use crate::money::Money;
use crate::requirements::Requirements;
use crate::template::{Launch, NodeSpec, PreparedPool, fits, launch_choice, node_for};
use kubesched_core::Sym;
use kubesched_core::framework::{CycleState, PodCx, Profile, Status};
use kubesched_core::model::{Node, Pod, TaintEffect};
use kubesched_core::resources::Resources;
use kubesched_core::rng::Rng;
use kubesched_core::schedule::run_filters_with_nominated_pods;
use kubesched_core::snapshot::{NodeId, PodId, Snapshot};
use std::collections::HashMap;
use std::sync::Arc;

/// Taints Karpenter ignores on nodes that are not initialized yet (doc §1.7).
fn is_ephemeral_taint(key: &str, effect: TaintEffect) -> bool {
    matches!(
        (key, effect),
        ("node.kubernetes.io/not-ready", TaintEffect::NoSchedule | TaintEffect::NoExecute)
            | ("node.kubernetes.io/unreachable", TaintEffect::NoSchedule)
            | ("node.cloudprovider.kubernetes.io/uninitialized", TaintEffect::NoSchedule)
            | (labels::TAINT_UNREGISTERED, TaintEffect::NoExecute)
    ) || key.starts_with("readiness.k8s.io/")
}

/// PreFilter of `profile` for `pod`: the cycle state and the node names a plugin restricted
/// filtering to, or the rejecting status.
pub(crate) fn pre_filter(
    profile: &Profile,
    pod: &Pod,
    snap: &Snapshot,
) -> Result<(CycleState, Option<Vec<Sym>>), Status> {
    let mut state = profile.new_cycle_state();
    let cx = PodCx { pod, snapshot: snap };
    let mut names: Option<Vec<Sym>> = None;
    for &p in &profile.pre_filter {
        let plugin = profile.plugin(p);
        let r = plugin.pre_filter(cx, &mut state.slots[p]);
        if r.status.is_skip() {
            state.skip_filter[p] = true;
            continue;
        }
        if !r.status.is_success() {
            return Err(r.status.with_plugin(plugin.name()));
        }
        if let Some(n) = r.node_names {
            names = Some(match names {
                None => n,
                Some(prev) => prev.into_iter().filter(|x| n.contains(x)).collect(),
            });
        }
    }
    Ok((state, names))
}

/// The DaemonSet pods that would run on a node, and what they request (pods counted).
#[derive(Clone, Debug, Default)]
pub struct DaemonFit {
    pub pods: Vec<Arc<Pod>>,
    pub requests: Resources,
}

/// A node that exists (or is in flight from an earlier pass).
#[derive(Clone, Debug)]
struct Existing {
    id: NodeId,
    initialized: bool,
}

/// A NodeClaim being planned.
#[derive(Clone, Debug)]
pub struct Claim {
    pub name: String,
    pub pool: usize,
    pub node: NodeId,
    pub zone: Sym,
    pub reqs: Requirements,
    /// Indices into the pool's types that still fit everything.
    pub options: Vec<usize>,
    pub pods: Vec<Arc<Pod>>,
    /// Sum of the pods' requests, `pods` counted (DaemonSets excluded).
    pub requests: Resources,
    pub launch: Launch,
    pub daemon: Arc<DaemonFit>,
    daemon_ids: Vec<PodId>,
    /// Component-wise max allocatable over `options`: a quick upper bound.
    max_alloc: Resources,
    pub min_values_relaxed: bool,
    /// What the claim took from its pool's remaining limits (max capacity over its options
    /// when it was created): given back when the repacking pass removes the claim.
    reserved: Resources,
    /// Lockstep with `pods`: the accounted pod ids and the pods' preference state (the latter
    /// only while the optimization or the repacking pass needs it).
    pod_ids: Vec<PodId>,
    pod_prefs: Vec<PodPrefs>,
    /// NodeClaim optimization: the state at each change of the launched type.
    history: Vec<SchedulingOption>,
    /// Inspected by the optimization pass: takes no more pods.
    locked: bool,
}

/// A claim's state when its cheapest instance type changed (`SchedulingOption`).
#[derive(Clone, Debug)]
struct SchedulingOption {
    pod_count: usize,
    options: Vec<usize>,
    reqs: Requirements,
    requests: Resources,
    launch: Launch,
}

impl Claim {
    fn record(&mut self) {
        let opt = SchedulingOption {
            pod_count: self.pods.len(),
            options: self.options.clone(),
            reqs: self.reqs.clone(),
            requests: self.requests.clone(),
            launch: self.launch,
        };
        match self.history.last_mut() {
            Some(last) if last.launch.type_index == opt.launch.type_index => *last = opt,
            _ => self.history.push(opt),
        }
    }
}

/// A candidate new node for (pool, zone), kept in the snapshot as a topology domain.
#[derive(Clone, Debug)]
struct Phantom {
    pool: usize,
    zone: Sym,
    name: String,
    node: NodeId,
    daemon_ids: Vec<PodId>,
}

type CandidateKey = (usize, Sym, Requirements, Resources, u64);

/// Remaining NodePool limits for this pass.
#[derive(Clone, Debug)]
struct Remaining {
    resources: Vec<(Sym, i64)>,
    nodes: Option<i64>,
}

impl Remaining {
    fn admits(&self, capacity: &Resources) -> bool {
        self.nodes.is_none_or(|n| n >= 1) && self.resources.iter().all(|&(k, left)| capacity.get(k) <= left)
    }
    fn subtract(&mut self, capacity: &Resources) {
        for (k, left) in &mut self.resources {
            *left -= capacity.get(*k);
        }
        if let Some(n) = &mut self.nodes {
            *n -= 1;
        }
    }
}

/// Where a pod went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placed {
    Existing { node: NodeId, initialized: bool },
    Claim(usize),
}

pub struct Solver<'a> {
    pub a: &'a Autoscaler,
    pub snap: Snapshot,
    existing: Vec<Existing>,
    pub claims: Vec<Claim>,
    phantoms: Vec<Phantom>,
    remaining: Vec<Option<Remaining>>,
    /// Bumped whenever a pool's remaining limits change (invalidates `candidates`).
    limits_epoch: Vec<u64>,
    /// `candidate` results by (pool, zone, requirements, requests, limits epoch).
    candidates: HashMap<CandidateKey, Result<(Vec<usize>, Launch), String>>,
    daemonsets: Vec<Arc<Pod>>,
    daemon_cache: HashMap<(usize, usize, Sym, CapacityType), Arc<DaemonFit>>,
    no_daemons: Arc<DaemonFit>,
    /// Nodes per (pool, zone), existing and planned: the zone tie-breaker.
    zone_load: HashMap<(usize, Sym), u32>,
    rng: Rng,
    region: Sym,
    /// Names in use in the cluster (removed candidates included): new names avoid them.
    taken: std::collections::HashSet<Sym>,
    prefer_no_schedule_pools: bool,
    /// Run the NodeClaim optimization pass (provisioning with the feature gate on).
    pub optimize: bool,
    /// Keep what the repacking pass ([`Solver::repack`], `Options::repack`) needs: every
    /// claimed pod's preference state.
    pub repack: bool,
    /// While the repacking pass fills a claim: the highest launch price a placement may lead to.
    price_cap: Option<Money>,
    pub placements: Vec<(Arc<Pod>, Placed)>,
    pub errors: Vec<(Arc<Pod>, String)>,
    pub relaxed: Vec<(Arc<Pod>, Vec<String>)>,
}

const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

impl<'a> Solver<'a> {
    /// A scratch copy of the cluster without the nodes named in `remove` (consolidation
    /// candidates); returns the solver and the pods those nodes were running.
    pub fn new(a: &'a Autoscaler, view: &ClusterView<'_>, remove: &[Sym], seed: u64) -> (Solver<'a>, Vec<Arc<Pod>>) {
        let mut snap = view.snapshot.clone();
        let mut taken: std::collections::HashSet<Sym> = snap.nodes().map(|n| n.name()).collect();
        taken.extend(view.managed.iter().map(|m| Sym::new(&m.node_name)));
        let mut removed = Vec::new();
        for &name in remove {
            if let Some(id) = snap.node_id(name) {
                removed.extend(snap.remove_node(id));
            }
        }
        let mut existing = Vec::new();
        let mut zone_load: HashMap<(usize, Sym), u32> = HashMap::new();
        let mut usage: Vec<(Resources, i64)> = vec![(Resources::new(), 0); a.pools().len()];
        let ids: Vec<NodeId> = snap.order().to_vec();
        for id in ids {
            let info = snap.node(id);
            let name = info.name();
            let managed = view.managed(name.as_str());
            if managed.is_some_and(|m| m.deleting) {
                continue;
            }
            let initialized = managed.is_none_or(|m| m.is_initialized());
            if let Some(m) = managed
                && let Some(pi) = a.pool_index(&m.node_pool)
            {
                let capacity = if info.node.capacity.is_zero() {
                    a.catalog.get(&m.instance_type).map(|it| a.pools()[pi].settings().capacity(it)).unwrap_or_default()
                } else {
                    info.node.capacity.clone()
                };
                usage[pi].0.add(&capacity);
                usage[pi].1 += 1;
                *zone_load.entry((pi, Sym::new(&m.zone))).or_default() += 1;
                if !initialized {
                    // Karpenter simulates in-flight nodes without their startup and ephemeral
                    // taints (doc §3.2 item 4).
                    let startup = &a.pools()[pi].pool.startup_taints;
                    let mut node: Node = (*info.node).clone();
                    node.taints.retain(|t| {
                        !is_ephemeral_taint(t.key.as_str(), t.effect)
                            && !startup.iter().any(|s| s.key == t.key && s.effect == t.effect)
                    });
                    snap.update_node(id, node);
                }
            }
            existing.push(Existing { id, initialized });
        }
        existing.sort_by(|x, y| {
            y.initialized
                .cmp(&x.initialized)
                .then_with(|| snap.node(x.id).name().as_str().cmp(snap.node(y.id).name().as_str()))
        });
        let remaining: Vec<Option<Remaining>> = a
            .pools()
            .iter()
            .zip(&usage)
            .map(|(p, (used, nodes))| {
                let l = &p.pool.limits;
                (!l.is_empty()).then(|| Remaining {
                    resources: l.resources.iter().map(|&(k, v)| (k, v - used.get(k))).collect(),
                    nodes: l.nodes.map(|n| n - nodes),
                })
            })
            .collect();
        let prefer_no_schedule_pools =
            a.pools().iter().any(|p| p.pool.taints.iter().any(|t| t.effect == TaintEffect::PreferNoSchedule));
        let mut s = Solver {
            a,
            snap,
            existing,
            claims: Vec::new(),
            phantoms: Vec::new(),
            limits_epoch: vec![0; remaining.len()],
            candidates: HashMap::new(),
            remaining,
            daemonsets: view.daemonsets.to_vec(),
            daemon_cache: HashMap::new(),
            no_daemons: Arc::new(DaemonFit::default()),
            zone_load,
            rng: Rng::new(seed),
            region: Sym::new(&a.catalog.region),
            taken,
            prefer_no_schedule_pools,
            optimize: a.options.nodeclaim_optimization,
            repack: a.options.repack,
            price_cap: None,
            placements: Vec::new(),
            errors: Vec::new(),
            relaxed: Vec::new(),
        };
        for pi in 0..a.pools().len() {
            for z in a.catalog.zones().to_vec() {
                let zone = Sym::new(&z);
                let zone_ok = a.pools()[pi].requirements.admits(labels::syms().zone, Some(zone));
                if zone_ok {
                    let name = s.fresh_name(pi);
                    let node = s.snap.add_node(Node::new(&name));
                    s.phantoms.push(Phantom { pool: pi, zone, name, node, daemon_ids: Vec::new() });
                }
            }
        }
        (s, removed)
    }

    fn fresh_name(&mut self, pool: usize) -> String {
        loop {
            let suffix: String =
                (0..5).map(|_| NAME_ALPHABET[self.rng.below(NAME_ALPHABET.len() as u64) as usize] as char).collect();
            let name = format!("{}-{suffix}", self.a.pools()[pool].pool.name);
            let sym = Sym::new(&name);
            if self.snap.node_id(sym).is_none()
                && !self.taken.contains(&sym)
                && !self.phantoms.iter().any(|p| p.name == name)
                && !self.claims.iter().any(|c| c.name == name)
            {
                self.taken.insert(sym);
                return name;
            }
        }
    }

    fn pool(&self, i: usize) -> &'a PreparedPool {
        &self.a.pools()[i]
    }

    /// The DaemonSet pods the core's filters put on a fresh node of (pool, type, zone, ct).
    fn daemon_fit(&mut self, pool: usize, ti: usize, zone: Sym, ct: CapacityType) -> Arc<DaemonFit> {
        if self.daemonsets.is_empty() {
            return self.no_daemons.clone();
        }
        if let Some(d) = self.daemon_cache.get(&(pool, ti, zone, ct)) {
            return d.clone();
        }
        let p = self.pool(pool);
        let node = node_for(&NodeSpec {
            pool: p,
            type_index: ti,
            zone,
            capacity_type: ct,
            name: "daemonset-probe",
            requirements: &p.requirements,
            region: self.region,
        });
        let mut mini = Snapshot::new();
        let id = mini.add_node(node);
        let mut fit = DaemonFit::default();
        for ds in &self.daemonsets {
            let ok = match pre_filter(&self.a.profile, ds, &mini) {
                Ok((state, names)) => {
                    names.is_none_or(|n| n.contains(&mini.node(id).name()))
                        && run_filters_with_nominated_pods(&self.a.profile, &state, ds, &mini, mini.node(id))
                            .is_success()
                }
                Err(_) => false,
            };
            if ok {
                mini.add_pod(ds.clone(), id);
                fit.requests.add(ds.requests());
                fit.requests.pods += 1;
                fit.pods.push(ds.clone());
            }
        }
        let fit = Arc::new(fit);
        self.daemon_cache.insert((pool, ti, zone, ct), fit.clone());
        fit
    }

    /// Whether type `ti` of `pool` can hold `base` (pods counted) plus its DaemonSets in `zone`
    /// with some offering `reqs` allows.
    fn type_fits(&mut self, pool: usize, ti: usize, reqs: &Requirements, zone: Sym, base: &Resources) -> bool {
        let t = &self.pool(pool).types[ti];
        if !fits(base, &t.allocatable) {
            return false;
        }
        let cts: Vec<CapacityType> = t.offerings_for(reqs, Some(zone)).map(|o| o.capacity_type).collect();
        for ct in cts {
            let d = self.daemon_fit(pool, ti, zone, ct);
            let mut total = base.clone();
            total.add(&d.requests);
            if fits(&total, &self.pool(pool).types[ti].allocatable) {
                return true;
            }
        }
        false
    }

    /// minValues over `options` (doc §3.11): `Some(reason)` when a key with minValues spans too
    /// few values.
    fn min_values_violation(&self, pool: usize, options: &[usize], reqs: &Requirements) -> Option<String> {
        let p = self.pool(pool);
        reqs.with_min_values().find_map(|r| {
            let need = r.min_values.unwrap_or(0) as usize;
            let mut seen: Vec<Sym> = Vec::new();
            for &i in options {
                if let Some(v) = p.types[i].label(r.key)
                    && !seen.contains(&v)
                {
                    seen.push(v);
                }
            }
            (seen.len() < need)
                .then(|| format!("minValues: {} needs {need} values, the fitting types have {}", r.key, seen.len()))
        })
    }

    fn min_values_ok(&self, pool: usize, options: &[usize], reqs: &Requirements) -> bool {
        self.min_values_violation(pool, options, reqs).is_none()
    }

    /// The node for a launch of `pool` in `zone` named `name`.
    fn build_node(&self, pool: usize, launch: Launch, zone: Sym, name: &str, reqs: &Requirements) -> Node {
        node_for(&NodeSpec {
            pool: self.pool(pool),
            type_index: launch.type_index,
            zone,
            capacity_type: launch.capacity_type,
            name,
            requirements: reqs,
            region: self.region,
        })
    }

    /// Replaces node `id` and its DaemonSet pods.
    fn apply_node(&mut self, id: NodeId, node: Node, old_daemons: &[PodId], daemon: &DaemonFit) -> Vec<PodId> {
        for &d in old_daemons {
            self.snap.remove_pod(d);
        }
        let name = node.name;
        self.snap.update_node(id, node);
        daemon
            .pods
            .iter()
            .map(|ds| {
                let mut p = (**ds).clone();
                p.name = Sym::new(&format!("{}-{}", ds.name, name));
                self.snap.add_pod(Arc::new(p), id)
            })
            .collect()
    }

    /// Options of a fresh claim of `pool` in `zone` for `base`, and its launch; or why none.
    /// [`Self::compute_candidate`], memoised: identical pods ask the same question.
    fn candidate(
        &mut self,
        pool: usize,
        reqs: &Requirements,
        zone: Sym,
        base: &Resources,
    ) -> Result<(Vec<usize>, Launch), String> {
        let key = (pool, zone, reqs.clone(), base.clone(), self.limits_epoch[pool]);
        if let Some(r) = self.candidates.get(&key) {
            return r.clone();
        }
        let r = self.compute_candidate(pool, reqs, zone, base);
        self.candidates.insert(key, r.clone());
        r
    }

    fn compute_candidate(
        &mut self,
        pool: usize,
        reqs: &Requirements,
        zone: Sym,
        base: &Resources,
    ) -> Result<(Vec<usize>, Launch), String> {
        let n = self.pool(pool).types.len();
        let remaining = self.remaining[pool].clone();
        let (mut admitted, mut within) = (0usize, 0usize);
        let mut options = Vec::new();
        for ti in 0..n {
            let t = &self.pool(pool).types[ti];
            if !t.admitted_by(reqs) || t.offerings_for(reqs, Some(zone)).next().is_none() {
                continue;
            }
            admitted += 1;
            if remaining.as_ref().is_some_and(|r| !r.admits(&t.capacity)) {
                continue;
            }
            within += 1;
            if self.type_fits(pool, ti, reqs, zone, base) {
                options.push(ti);
            }
        }
        if admitted == 0 {
            return Err(format!("no instance type offered in {zone} matches the requirements"));
        }
        if within == 0 {
            return Err("every matching instance type would exceed the NodePool's limits".into());
        }
        if options.is_empty() {
            return Err(format!(
                "no instance type fits cpu {}m, memory {}Mi, pods {} (DaemonSets included)",
                base.cpu,
                base.memory >> 20,
                base.pods
            ));
        }
        if self.a.options.min_values_policy == MinValuesPolicy::Strict
            && let Some(msg) = self.min_values_violation(pool, &options, reqs)
        {
            return Err(msg);
        }
        let has_min = reqs.with_min_values().next().is_some();
        let launch = launch_choice(self.pool(pool), &options, reqs, zone, has_min)
            .ok_or_else(|| format!("no available offering in {zone}"))?;
        Ok((options, launch))
    }

    /// Points the phantoms of every pool/zone at the pod's candidate new node (or at nothing),
    /// so that spread constraints see the zones NodePools can launch in.
    fn refresh_phantoms(&mut self, prefs: &PodPrefs, strict: &Pod, reqs: &Requirements) {
        let base = requests_of(strict);
        for k in 0..self.phantoms.len() {
            let (pi, zone) = (self.phantoms[k].pool, self.phantoms[k].zone);
            let pool = self.pool(pi);
            let usable = pool
                .untolerated_taint(&strict.tolerations)
                .is_none_or(|t| t.effect == TaintEffect::PreferNoSchedule && prefs.tolerates_prefer_no_schedule())
                && pool.requirements.compatible(reqs, |k| pool.is_well_known(k)).is_ok();
            let cand = if usable {
                let creqs = pool.requirements.intersection(reqs);
                self.candidate(pi, &creqs, zone, &base).ok().map(|(_, l)| (l, creqs))
            } else {
                None
            };
            let name = self.phantoms[k].name.clone();
            let (node, daemon) = match cand {
                Some((launch, creqs)) => {
                    let d = self.daemon_fit(pi, launch.type_index, zone, launch.capacity_type);
                    (self.build_node(pi, launch, zone, &name, &creqs), d)
                }
                None => (Node::new(&name), self.no_daemons.clone()),
            };
            let id = self.phantoms[k].node;
            let cur = self.snap.node(id).node.clone();
            if cur.labels != node.labels || cur.allocatable != node.allocatable {
                let old = std::mem::take(&mut self.phantoms[k].daemon_ids);
                self.phantoms[k].daemon_ids = self.apply_node(id, node, &old, &daemon);
            }
        }
    }

    /// Schedules `pods` (doc §3.4): queue by CPU then memory descending, each pod tried on
    /// existing nodes, in-flight claims and new claims, relaxing preferences on failure;
    /// failing pods go to the back until a full pass makes no progress.
    pub fn solve(&mut self, pods: Vec<Arc<Pod>>) {
        let mut queue: std::collections::VecDeque<PodPrefs> = {
            let mut v: Vec<Arc<Pod>> = pods;
            v.sort_by(queue_order);
            v.into_iter().map(|p| PodPrefs::new(p, self.a.options.preference_policy)).collect()
        };
        let mut last_len: HashMap<(Sym, Sym), usize> = HashMap::new();
        let mut failed: HashMap<(Sym, Sym), String> = HashMap::new();
        let mut passes = 0;
        loop {
            while let Some(front) = queue.front() {
                let key = (front.pod.namespace, front.pod.name);
                if last_len.get(&key) == Some(&queue.len()) {
                    break;
                }
                let Some(mut prefs) = queue.pop_front() else { break };
                match self.try_schedule(&mut prefs) {
                    Ok(placed) => {
                        failed.remove(&key);
                        if !prefs.relaxed.is_empty() {
                            self.relaxed.push((prefs.pod.clone(), prefs.relaxed.clone()));
                        }
                        self.placements.push((prefs.pod.clone(), placed));
                    }
                    Err(e) => {
                        failed.insert(key, e);
                        queue.push_back(prefs);
                        last_len.insert(key, queue.len());
                    }
                }
            }
            // NodeClaim optimization (feature gate, doc: Karpenter `nodeclaim_optimization.go`):
            // once everything is placed, split claims that grew past a cheaper, better-packed
            // state and re-queue the displaced pods, at most twice.
            if !queue.is_empty() || !self.optimize || passes >= MAX_OPTIMIZATION_PASSES {
                break;
            }
            let displaced = self.optimize_claims();
            if displaced.is_empty() {
                break;
            }
            passes += 1;
            let keys: Vec<(Sym, Sym)> = displaced.iter().map(|p| (p.pod.namespace, p.pod.name)).collect();
            self.placements.retain(|(p, _)| !keys.contains(&(p.namespace, p.name)));
            self.relaxed.retain(|(p, _)| !keys.contains(&(p.namespace, p.name)));
            let mut displaced = displaced;
            displaced.sort_by(|a, b| queue_order(&a.pod, &b.pod));
            queue = displaced.into_iter().collect();
            last_len.clear();
        }
        for prefs in queue {
            let key = (prefs.pod.namespace, prefs.pod.name);
            let msg = failed.remove(&key).unwrap_or_else(|| "not attempted".into());
            self.errors.push((prefs.pod.clone(), msg));
        }
    }

    /// One optimization pass: every unlocked claim is inspected once and locked; those with a
    /// worthwhile split point are rolled back to it. Returns the displaced pods.
    fn optimize_claims(&mut self) -> Vec<PodPrefs> {
        let mut displaced = Vec::new();
        for ci in 0..self.claims.len() {
            if self.claims[ci].locked {
                continue;
            }
            if let Some(idx) = self.split_point(ci) {
                displaced.extend(self.revert(ci, idx));
            }
            self.claims[ci].locked = true;
        }
        displaced
    }

    /// `findSplitPoint`: an earlier state at least 24% cheaper, at least 10 points more
    /// efficient (CPU + memory/10 GiB), whose displaced pods carry no hostname fan-out, and whose
    /// net saving after placing the displaced pods on one fresh claim is at least 3%.
    fn split_point(&mut self, ci: usize) -> Option<usize> {
        let claim = &self.claims[ci];
        if claim.history.len() < 2 {
            return None;
        }
        let pool = self.pool(claim.pool);
        let cur = claim.history.last()?;
        let cur_price = cur.launch.price.0 as i128;
        let idx = (0..claim.history.len() - 1)
            .rev()
            .find(|&i| (cur_price - claim.history[i].launch.price.0 as i128) * 100 >= 24 * cur_price)?;
        let cand = &claim.history[idx];
        let weight = |r: &Resources| r.cpu as i128 * 10_240 + (r.memory >> 20) as i128 * 1_000;
        let (cr, ca) = (weight(&cand.requests), weight(&pool.types[cand.launch.type_index].allocatable));
        let (ur, ua) = (weight(&cur.requests), weight(&pool.types[cur.launch.type_index].allocatable));
        if ca <= 0 || ua <= 0 || (cr * ua - ur * ca) * 10 < ca * ua {
            return None;
        }
        let displaced = &claim.pods[cand.pod_count..];
        if displaced.iter().any(|p| host_fan_out(p, displaced)) {
            return None;
        }
        // The displaced pods on one fresh claim of the pool.
        let mut reqs = pool.requirements.clone();
        for p in &claim.pod_prefs[cand.pod_count..] {
            let strict = p.strict_pod();
            let r = p.requirements(&strict, &[]).ok()?;
            pool.requirements.compatible(&r, |k| pool.is_well_known(k)).ok()?;
            reqs = reqs.intersection(&r);
        }
        let mut total = claim.daemon.requests.clone();
        for p in displaced {
            total.add(&requests_of(p));
        }
        let fitting: Vec<usize> = (0..pool.types.len())
            .filter(|&i| pool.types[i].admitted_by(&reqs) && fits(&total, &pool.types[i].allocatable))
            .collect();
        let estimate = launch_choice(pool, &fitting, &reqs, claim.zone, reqs.with_min_values().next().is_some())?;
        let net = cur_price - cand.launch.price.0 as i128 - estimate.price.0 as i128;
        (net > 0 && net * 100 >= 3 * cur_price).then_some(idx)
    }

    /// `RevertTo`: rolls claim `ci` back to `history[idx]`; returns the displaced pods.
    fn revert(&mut self, ci: usize, idx: usize) -> Vec<PodPrefs> {
        let snap = self.claims[ci].history[idx].clone();
        let claim = &mut self.claims[ci];
        let gone_ids: Vec<PodId> = claim.pod_ids.split_off(snap.pod_count);
        claim.pods.truncate(snap.pod_count);
        let displaced = claim.pod_prefs.split_off(snap.pod_count);
        claim.options = snap.options;
        claim.reqs = snap.reqs;
        claim.requests = snap.requests;
        claim.launch = snap.launch;
        claim.history.truncate(idx);
        let (pi, zone, node_id, name) = (claim.pool, claim.zone, claim.node, claim.name.clone());
        for id in gone_ids {
            self.snap.remove_pod(id);
        }
        let launch = self.claims[ci].launch;
        let reqs = self.claims[ci].reqs.clone();
        let node = self.build_node(pi, launch, zone, &name, &reqs);
        let daemon = self.daemon_fit(pi, launch.type_index, zone, launch.capacity_type);
        let old = std::mem::take(&mut self.claims[ci].daemon_ids);
        self.claims[ci].daemon_ids = self.apply_node(node_id, node, &old, &daemon);
        self.claims[ci].daemon = daemon;
        self.claims[ci].max_alloc = max_allocatable(self.pool(pi), &self.claims[ci].options);
        displaced
    }

    /// `trySchedule`: add, relaxing one preference after each failure.
    fn try_schedule(&mut self, prefs: &mut PodPrefs) -> Result<Placed, String> {
        loop {
            match self.add(prefs) {
                Ok(p) => return Ok(p),
                Err(e) => {
                    if prefs.relax(self.prefer_no_schedule_pools).is_none() {
                        return Err(e);
                    }
                }
            }
        }
    }

    fn add(&mut self, prefs: &PodPrefs) -> Result<Placed, String> {
        let strict = prefs.strict_pod();
        let reqs = prefs.requirements(&strict, &self.a.flavors())?;
        if prefs.has_hard_spread() {
            self.refresh_phantoms(prefs, &strict, &reqs);
        }
        let profile = &self.a.profile;
        let (state, names) =
            pre_filter(profile, &strict, &self.snap).map_err(|s| format!("{}: {}", s.plugin, s.message()))?;
        let allowed = |snap: &Snapshot, id: NodeId| names.as_ref().is_none_or(|n| n.contains(&snap.node(id).name()));

        // 1. Existing nodes, initialized first, by name.
        for e in &self.existing {
            if !allowed(&self.snap, e.id) {
                continue;
            }
            let s = run_filters_with_nominated_pods(profile, &state, &strict, &self.snap, self.snap.node(e.id));
            if s.is_success() {
                let (id, initialized) = (e.id, e.initialized);
                self.snap.add_pod(prefs.pod.clone(), id);
                return Ok(Placed::Existing { node: id, initialized });
            }
        }
        let n_existing = self.existing.len();

        // 2. In-flight claims, fewest pods first.
        let mut order: Vec<usize> = (0..self.claims.len()).collect();
        order.sort_by_key(|&i| (self.claims[i].pods.len(), i));
        let mut state = Some(state);
        for ci in order {
            if let Some(placed) = self.try_claim(ci, prefs, &strict, &reqs, &mut state, &names) {
                return Ok(placed);
            }
        }

        // 3. A new claim from the first pool (weight order) that takes the pod.
        let mut reasons: Vec<String> = Vec::new();
        for pi in 0..self.a.pools().len() {
            match self.try_new_claim(pi, prefs, &strict, &reqs, &names) {
                Ok(placed) => return Ok(placed),
                Err(r) => reasons.push(format!("nodepool {:?}: {r}", self.pool(pi).pool.name)),
            }
        }
        let mut msg = format!("fits no existing node ({n_existing}) and no planned NodeClaim ({})", self.claims.len());
        if reasons.is_empty() {
            msg.push_str("; no NodePool");
        } else {
            msg.push_str("; ");
            msg.push_str(&reasons.join("; "));
        }
        Err(msg)
    }

    fn try_claim(
        &mut self,
        ci: usize,
        prefs: &PodPrefs,
        strict: &Pod,
        reqs: &Requirements,
        state: &mut Option<CycleState>,
        names: &Option<Vec<Sym>>,
    ) -> Option<Placed> {
        let claim = &self.claims[ci];
        if claim.locked {
            return None;
        }
        let (pi, zone, node_id) = (claim.pool, claim.zone, claim.node);
        let pool = self.pool(pi);
        if names.as_ref().is_some_and(|n| !n.contains(&self.snap.node(node_id).name())) {
            return None;
        }
        if pool
            .untolerated_taint(&strict.tolerations)
            .is_some_and(|t| t.effect != TaintEffect::PreferNoSchedule || !prefs.tolerates_prefer_no_schedule())
        {
            return None;
        }
        if claim.reqs.compatible(reqs, |k| pool.is_well_known(k)).is_err() {
            return None;
        }
        let mut total = claim.requests.clone();
        total.add(&requests_of(strict));
        if !fits(&total, &claim.max_alloc) {
            return None;
        }
        // Ask the filters about the node as it is first: a failure that no other instance type
        // of this claim could change (taints, spread or affinity over keys fixed for the claim)
        // rejects the claim without the instance-type work.
        if let Some(st) = state.as_ref()
            && stable_rejection(&self.a.profile, st, strict, &self.snap, node_id, self.pool(pi))
        {
            return None;
        }
        let new_reqs = claim.reqs.intersection(reqs);
        let candidates = claim.options.clone();
        let mut options = Vec::with_capacity(candidates.len());
        for ti in candidates {
            if self.pool(pi).types[ti].admitted_by(&new_reqs) && self.type_fits(pi, ti, &new_reqs, zone, &total) {
                options.push(ti);
            }
        }
        if options.is_empty() {
            return None;
        }
        let strict_min = self.a.options.min_values_policy == MinValuesPolicy::Strict;
        let min_ok = self.min_values_ok(pi, &options, &new_reqs);
        if strict_min && !min_ok {
            return None;
        }
        let has_min = new_reqs.with_min_values().next().is_some();
        let launch = launch_choice(self.pool(pi), &options, &new_reqs, zone, has_min)?;
        if self.price_cap.is_some_and(|cap| launch.price > cap) {
            return None;
        }
        let claim = &self.claims[ci];
        let changed = launch != claim.launch || new_reqs != claim.reqs;
        let mut undo: Option<(Node, Arc<DaemonFit>)> = None;
        let mut new_daemon = claim.daemon.clone();
        if changed {
            let name = claim.name.clone();
            let node = self.build_node(pi, launch, zone, &name, &new_reqs);
            let cur = self.snap.node(node_id).node.clone();
            new_daemon = self.daemon_fit(pi, launch.type_index, zone, launch.capacity_type);
            if cur.labels != node.labels
                || cur.allocatable != node.allocatable
                || !Arc::ptr_eq(&new_daemon, &self.claims[ci].daemon)
            {
                let old_ids = std::mem::take(&mut self.claims[ci].daemon_ids);
                self.claims[ci].daemon_ids = self.apply_node(node_id, node, &old_ids, &new_daemon);
                undo = Some(((*cur).clone(), self.claims[ci].daemon.clone()));
                *state = None;
            }
        }
        if state.is_none() {
            *state = pre_filter(&self.a.profile, strict, &self.snap).ok().map(|(s, _)| s);
        }
        let ok = state.as_ref().is_some_and(|st| {
            run_filters_with_nominated_pods(&self.a.profile, st, strict, &self.snap, self.snap.node(node_id))
                .is_success()
        });
        if !ok {
            if let Some((node, daemon)) = undo {
                let old_ids = std::mem::take(&mut self.claims[ci].daemon_ids);
                self.claims[ci].daemon_ids = self.apply_node(node_id, node, &old_ids, &daemon);
                *state = None;
            }
            return None;
        }
        let pod_id = self.snap.add_pod(prefs.pod.clone(), node_id);
        let max_alloc = max_allocatable(self.pool(pi), &options);
        let (track, keep_prefs) = (self.optimize, self.optimize || self.repack);
        let c = &mut self.claims[ci];
        c.reqs = new_reqs;
        c.options = options;
        c.launch = launch;
        c.daemon = new_daemon;
        c.requests = total;
        c.max_alloc = max_alloc;
        c.min_values_relaxed |= !min_ok;
        c.pods.push(prefs.pod.clone());
        c.pod_ids.push(pod_id);
        if keep_prefs {
            c.pod_prefs.push(prefs.clone());
        }
        if track {
            c.record();
        }
        Some(Placed::Claim(ci))
    }

    fn try_new_claim(
        &mut self,
        pi: usize,
        prefs: &PodPrefs,
        strict: &Pod,
        reqs: &Requirements,
        names: &Option<Vec<Sym>>,
    ) -> Result<Placed, String> {
        self.try_new_claim_in(pi, None, prefs, strict, reqs, names)
    }

    /// [`Self::try_new_claim`], in `only_zone` when given (the repacking pass keeps a claim's
    /// zone when its pods' spread or affinity depends on zones).
    fn try_new_claim_in(
        &mut self,
        pi: usize,
        only_zone: Option<Sym>,
        prefs: &PodPrefs,
        strict: &Pod,
        reqs: &Requirements,
        names: &Option<Vec<Sym>>,
    ) -> Result<Placed, String> {
        let pool = self.pool(pi);
        if let Some(t) = pool.untolerated_taint(&strict.tolerations)
            && (t.effect != TaintEffect::PreferNoSchedule || !prefs.tolerates_prefer_no_schedule())
        {
            return Err(format!("did not tolerate taint {}:{}", t.describe(), t.effect.as_str()));
        }
        pool.requirements
            .compatible(reqs, |k| pool.is_well_known(k))
            .map_err(|e| format!("incompatible requirements, {e}"))?;
        if self.remaining[pi].as_ref().is_some_and(|r| r.nodes.is_some_and(|n| n < 1)) {
            return Err("limits.nodes reached".into());
        }
        let creqs = pool.requirements.intersection(reqs);
        let base = requests_of(strict);
        let zone_key = labels::syms().zone;
        let mut cands: Vec<(Launch, u32, usize, Sym, Vec<usize>)> = Vec::new();
        let mut why: Vec<String> = Vec::new();
        for (zi, z) in self.a.catalog.zones().iter().enumerate() {
            let zone = Sym::new(z);
            if only_zone.is_some_and(|o| o != zone) {
                continue;
            }
            if !creqs.admits(zone_key, Some(zone)) || !self.phantoms.iter().any(|p| p.pool == pi && p.zone == zone) {
                continue;
            }
            match self.candidate(pi, &creqs, zone, &base) {
                Ok((options, launch)) => {
                    let load = self.zone_load.get(&(pi, zone)).copied().unwrap_or(0);
                    cands.push((launch, load, zi, zone, options));
                }
                Err(e) => {
                    if !why.contains(&e) {
                        why.push(e);
                    }
                }
            }
        }
        if cands.is_empty() {
            if why.is_empty() {
                return Err("no zone of the catalog is allowed".into());
            }
            return Err(why.join("; "));
        }
        cands.sort_by(|a, b| a.0.price.cmp(&b.0.price).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut last = String::new();
        for (launch, _, _, zone, options) in cands {
            let Some(k) = self.phantoms.iter().position(|p| p.pool == pi && p.zone == zone) else { continue };
            let name = self.phantoms[k].name.clone();
            if names.as_ref().is_some_and(|n| !n.contains(&Sym::new(&name))) {
                last = "node(s) didn't satisfy the pod's node name restriction".into();
                continue;
            }
            let node = self.build_node(pi, launch, zone, &name, &creqs);
            let daemon = self.daemon_fit(pi, launch.type_index, zone, launch.capacity_type);
            let id = self.phantoms[k].node;
            let old = std::mem::take(&mut self.phantoms[k].daemon_ids);
            let daemon_ids = self.apply_node(id, node, &old, &daemon);
            let status = match pre_filter(&self.a.profile, strict, &self.snap) {
                Ok((state, _)) => {
                    run_filters_with_nominated_pods(&self.a.profile, &state, strict, &self.snap, self.snap.node(id))
                }
                Err(s) => s,
            };
            if !status.is_success() {
                self.phantoms[k].daemon_ids = daemon_ids;
                last = format!("{}: {}", status.plugin, status.message());
                continue;
            }
            // Promote the phantom to a claim; a fresh phantom takes its place.
            let pod_id = self.snap.add_pod(prefs.pod.clone(), id);
            let max_alloc = max_allocatable(self.pool(pi), &options);
            let max_capacity = max_capacity(self.pool(pi), &options);
            if let Some(r) = self.remaining[pi].as_mut() {
                r.subtract(&max_capacity);
                self.limits_epoch[pi] += 1;
            }
            *self.zone_load.entry((pi, zone)).or_default() += 1;
            let min_ok = self.min_values_ok(pi, &options, &creqs);
            let mut requests = base;
            requests.pods = requests.pods.max(1);
            let (track, keep_prefs) = (self.optimize, self.optimize || self.repack);
            let mut claim = Claim {
                name: name.clone(),
                pool: pi,
                node: id,
                zone,
                reqs: creqs,
                options,
                pods: vec![prefs.pod.clone()],
                requests,
                launch,
                daemon,
                daemon_ids,
                max_alloc,
                min_values_relaxed: !min_ok,
                reserved: if self.remaining[pi].is_some() { max_capacity } else { Resources::new() },
                pod_ids: vec![pod_id],
                pod_prefs: if keep_prefs { vec![prefs.clone()] } else { Vec::new() },
                history: Vec::new(),
                locked: false,
            };
            if track {
                claim.record();
            }
            self.claims.push(claim);
            let fresh = self.fresh_name(pi);
            let node = self.snap.add_node(Node::new(&fresh));
            self.phantoms[k] = Phantom { pool: pi, zone, name: fresh, node, daemon_ids: Vec::new() };
            return Ok(Placed::Claim(self.claims.len() - 1));
        }
        Err(last)
    }
}

/// Karpenter's queue order (`byCPUAndMemoryDescending`): CPU desc, memory desc, creation asc,
/// UID asc; then namespace and name for a total order.
fn queue_order(a: &Arc<Pod>, b: &Arc<Pod>) -> std::cmp::Ordering {
    let (ra, rb) = (a.requests(), b.requests());
    rb.cpu
        .cmp(&ra.cpu)
        .then(rb.memory.cmp(&ra.memory))
        .then(a.creation_time.unwrap_or(i64::MAX).cmp(&b.creation_time.unwrap_or(i64::MAX)))
        .then(a.uid.as_str().cmp(b.uid.as_str()))
        .then(a.namespace.as_str().cmp(b.namespace.as_str()))
        .then(a.name.as_str().cmp(b.name.as_str()))
}

/// Whether the filters that judge only what a claim cannot change reject `pod` on the claim's
/// node: the pool's taints, and spread or the pod's own affinity over keys fixed for the claim
/// (zone, region, hostname, pool labels). Instance-type labels, capacity type and allocatable
/// may still change, so NodeAffinity, NodeResourcesFit, NodePorts and other plugins are not
/// consulted here; the full check runs them. Plugins run as `run_filters` runs them; a failure
/// without the nominated pods is a failure with them too.
fn stable_rejection(
    profile: &Profile,
    state: &CycleState,
    pod: &Pod,
    snap: &Snapshot,
    node: NodeId,
    pool: &PreparedPool,
) -> bool {
    use kubesched_core::plugins::{
        inter_pod_affinity, node_name, node_unschedulable, pod_topology_spread, taint_toleration,
    };
    let s = labels::syms();
    let fixed = |k: Sym| {
        k == s.hostname
            || k == s.zone
            || k == s.region
            || k == s.beta_zone
            || k == s.beta_region
            || pool.fixed_labels.iter().any(|&(f, _)| f == k)
    };
    let spread_fixed = pod.topology_spread_constraints.iter().all(|c| fixed(c.topology_key));
    let own_terms_fixed = pod
        .affinity
        .pod_affinity
        .iter()
        .chain(pod.affinity.pod_anti_affinity.iter())
        .flat_map(|a| a.required.iter())
        .all(|t| fixed(t.topology_key));
    let cx = PodCx { pod, snapshot: snap };
    let info = snap.node(node);
    for &p in &profile.filter {
        if state.skip_filter[p] {
            continue;
        }
        let plugin = profile.plugin(p);
        let name = plugin.name();
        let consulted = name == taint_toleration::NAME
            || name == node_unschedulable::NAME
            || name == node_name::NAME
            || (name == pod_topology_spread::NAME && spread_fixed)
            || (name == inter_pod_affinity::NAME && own_terms_fixed);
        if !consulted {
            continue;
        }
        let status = plugin.filter(cx, &state.slots[p], info);
        if status.is_success() {
            continue;
        }
        if name == inter_pod_affinity::NAME {
            // Existing pods' anti-affinity may use keys that are not fixed.
            let own = status.reasons.iter().all(|r| {
                r == inter_pod_affinity::ERR_REASON_AFFINITY || r == inter_pod_affinity::ERR_REASON_ANTI_AFFINITY
            });
            if !own {
                continue;
            }
        }
        return true;
    }
    false
}

/// The NodeClaim optimization pass runs at most this often per solve.
const MAX_OPTIMIZATION_PASSES: usize = 2;

/// `displacedCarriesHostFanOut`: a required, self-selecting hostname anti-affinity or
/// `DoNotSchedule` hostname spread (one pod per node), or a required hostname pod affinity whose
/// target is not among the other displaced pods.
fn host_fan_out(pod: &Pod, displaced: &[Arc<Pod>]) -> bool {
    let host = labels::syms().hostname;
    let selects = |sel: &Option<kubesched_core::selector::LabelSelector>, labels: &kubesched_core::labels::Labels| {
        sel.as_ref().is_some_and(|s| s.matches(labels))
    };
    if let Some(anti) = &pod.affinity.pod_anti_affinity
        && anti.required.iter().any(|t| t.topology_key == host && selects(&t.label_selector, &pod.labels))
    {
        return true;
    }
    if let Some(aff) = &pod.affinity.pod_affinity
        && aff.required.iter().any(|t| {
            t.topology_key == host
                && !displaced.iter().any(|o| {
                    !(o.namespace == pod.namespace && o.name == pod.name) && selects(&t.label_selector, &o.labels)
                })
        })
    {
        return true;
    }
    pod.topology_spread_constraints.iter().any(|c| {
        c.topology_key == host
            && c.when_unsatisfiable == kubesched_core::model::WhenUnsatisfiable::DoNotSchedule
            && selects(&c.label_selector, &pod.labels)
    })
}

/// A pod's requests with the pod itself counted (`RequestsForPods`).
pub(crate) fn requests_of(pod: &Pod) -> Resources {
    let mut r = pod.requests().clone();
    r.pods += 1;
    r
}

fn max_allocatable(pool: &PreparedPool, options: &[usize]) -> Resources {
    let mut m = Resources::new();
    for &i in options {
        m.max_with(&pool.types[i].allocatable);
    }
    m
}

fn max_capacity(pool: &PreparedPool, options: &[usize]) -> Resources {
    let mut m = Resources::new();
    for &i in options {
        m.max_with(&pool.types[i].capacity);
    }
    m
}
