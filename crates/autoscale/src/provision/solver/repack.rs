//! Cost-aware repacking of the planned NodeClaims (`Options::repack`; kubesched's own pass, not
//! Karpenter's): after Karpenter's solve, the claims of a NodePool are taken apart and their
//! pods packed again onto claims chosen by price per unit of what they hold; the new claims
//! replace the old ones only when they cost strictly less in total.
//!
//! Why: Karpenter's in-flight NodeClaim keeps taking pods while any instance type could still
//! hold them all, then launches the cheapest type that does (doc §3.5, §3.9); its maintainers
//! call the resulting preference for large types a deliberate trade-off (doc §6 item 5,
//! "bin-packing choices"). A different split of the same pods is often cheaper: 8 one-GPU pods
//! on eight g6.2xlarge ($7.82) instead of one g6.48xlarge ($13.35); 80 pods of 500m/8Gi on
//! r6i.12xlarge + r6i.8xlarge + r6i.2xlarge ($5.544) instead of one r6i.24xlarge ($6.048).
//!
//! # How
//!
//! 1. **Groups.** The claims of one pool, together; or, when some pod on them has topology
//!    spread or pod (anti-)affinity, the claims of one (pool, zone), so that every zone keeps its
//!    pods and the zone counts other pods were judged against do not change. A group is left
//!    alone when a pod outside it placed in this pass (another claim, an existing node) has a
//!    pod affinity, preferred anti-affinity or spread term that selects the group's pods over a
//!    topology key the repacking may change (everything but zone and region for a (pool, zone)
//!    group, and the pool's own labels): that pod was judged against where the group's pods
//!    were. (Required anti-affinity needs no such care: InterPodAffinity checks every incoming
//!    pod against it.)
//! 2. **Plan** (arithmetic only). Pods with the same requests and requirements form a class;
//!    each class gets a *value*, its cheapest fractional cost alone
//!    (`minₜ priceₜ · maxᵣ reqᵣ / availₜ,ᵣ`, as in [`crate::cost`]). The next node is the
//!    instance type whose first-fit fill (classes in Karpenter's queue order, DaemonSet overhead
//!    subtracted) has the lowest price per value; the tail is compared with finishing in one
//!    node at every step. The plan is redone after every claim is opened.
//! 3. **Commit** through the solver's own machinery: the claim is opened by the same code that
//!    opens a NodeClaim in Karpenter's pass (zone choice — or the group's zone —, the phantom
//!    candidate node, limits), the planned pods are added by the same code that adds a pod to an
//!    in-flight claim (the core's PreFilter/Filter plugins on the claim's node in the scratch
//!    snapshot, requirement algebra, minValues), with a cap on the launch price (the planned
//!    type's); then pods planned elsewhere top the claim up while its price does not rise. A pod
//!    the filters refuse skips the pods identical to it (but for name and uid) for this claim.
//!    Each pod keeps the preferences it was placed with. When the filters stop a class short of
//!    the plan on a claim (spread, anti-affinity, ports), the planner caps that class per node
//!    at what the claim took.
//! 4. **Accept** the group's new claims only if every pod found a place and they cost strictly
//!    less than the old ones. The attempt stops as soon as the claims opened plus the plan for
//!    the rest cost no less than the old claims, and the solver's state (snapshot, claims,
//!    candidate nodes, limits, name generator) is then restored exactly.
//!
//! So the pass never costs more than Karpenter's packing and never places a pod where the
//! filters, the pool's limits or minValues would refuse it; what it changes is which pods share
//! a node and which types are launched. NodeClaims are still launched as Karpenter launches
//! them: the cheapest offering among the types that fit the claim's pods. Pods stay in the pool
//! Karpenter chose (pool weights are the user's order of preference) and off existing nodes.
//!
//! Not done: the planner does not know NodePool limits (an attempt that runs into them is
//! abandoned rather than re-planned), and claims are never merged across pools.

use super::*;
use std::collections::HashSet;

/// Fixed-point scale of class values (price · SCALE · fraction of a node).
const SCALE: i128 = 1_000_000_000;

/// The top-up of a claim stops after this many refusals in a row.
const MAX_TOP_UP_REFUSALS: usize = 32;

/// A pod being repacked.
struct Item {
    prefs: PodPrefs,
    strict: Pod,
    reqs: Requirements,
    /// The planner's class: same requests and requirements.
    class: usize,
    /// Same pod but for its identity: judged alike by the filters.
    kind: usize,
}

/// Pods with the same requests and requirements, as the planner sees them.
struct Class {
    /// Demand per dimension of the planner.
    req: Vec<i64>,
    /// Per planner type: may a pod of this class use it.
    compat: Vec<bool>,
    /// Cheapest fractional cost of one pod alone, scaled by [`SCALE`].
    value: i128,
    /// At most this many per node: learnt when the filters stop a claim short.
    cap: Option<i64>,
}

/// An instance type as the planner sees it.
struct PlanType {
    price: i64,
    /// Allocatable less DaemonSet overhead, per dimension.
    avail: Vec<i64>,
}

struct Planner {
    types: Vec<PlanType>,
    classes: Vec<Class>,
}

impl Planner {
    /// How many pods of each class (of `counts`) a node of type `t` takes, first fit over the
    /// classes in queue order.
    fn fill(&self, t: usize, counts: &[i64]) -> Vec<i64> {
        let ty = &self.types[t];
        let mut left = ty.avail.clone();
        let mut m = vec![0; counts.len()];
        for (k, c) in self.classes.iter().enumerate() {
            if counts[k] == 0 || !c.compat[t] {
                continue;
            }
            let mut n = counts[k].min(c.cap.unwrap_or(i64::MAX));
            for (d, &r) in c.req.iter().enumerate() {
                if r > 0 {
                    n = n.min(left[d].max(0) / r);
                }
            }
            if n > 0 {
                for (d, &r) in c.req.iter().enumerate() {
                    left[d] -= n * r;
                }
                m[k] = n;
            }
        }
        m
    }

    fn value(&self, m: &[i64]) -> i128 {
        m.iter().zip(&self.classes).map(|(&n, c)| n as i128 * c.value).sum()
    }

    /// One look at every type for `counts`: the node with the lowest price per value and what
    /// it takes, the cheapest type that takes everything, and how many times the first can be
    /// repeated with every type's fill unchanged (so the same choice again).
    fn scan(&self, counts: &[i64]) -> Scan {
        let mut best: Option<(usize, Vec<i64>, i128)> = None;
        let mut single: Option<usize> = None;
        let mut max_fill = vec![0i64; counts.len()];
        let mut takes_all = vec![false; counts.len()];
        for t in 0..self.types.len() {
            let m = self.fill(t, counts);
            for k in 0..counts.len() {
                max_fill[k] = max_fill[k].max(m[k]);
                takes_all[k] |= m[k] > 0 && m[k] == counts[k];
            }
            let p = self.types[t].price as i128;
            if m == counts && single.is_none_or(|s| p < self.types[s].price as i128) {
                single = Some(t);
            }
            let v = self.value(&m);
            if v <= 0 {
                continue;
            }
            let better = best.as_ref().is_none_or(|(bt, _, bv)| {
                let bp = self.types[*bt].price as i128;
                p * bv < bp * v || (p * bv == bp * v && p < bp)
            });
            if better {
                best = Some((t, m, v));
            }
        }
        let step = best.map(|(t, m, _)| {
            // After j nodes of type t, a type's fill is unchanged while every class it took
            // some of keeps at least that many and no type took all of a class t takes.
            let mut repeat = i64::MAX;
            for k in 0..counts.len() {
                if m[k] > 0 {
                    repeat = if takes_all[k] { 1 } else { repeat.min(1 + (counts[k] - max_fill[k]) / m[k]) };
                }
            }
            (t, m, repeat.max(1))
        });
        Scan { step, single }
    }

    /// The estimated cost of `counts` and the first node of the cheapest plan found: the
    /// greedy, cut short wherever one node for the rest is cheaper than going on.
    fn plan(&self, counts: &[i64]) -> Option<(i64, usize, Vec<i64>)> {
        let mut n = counts.to_vec();
        let mut spent = 0i64;
        let mut first: Option<(usize, Vec<i64>)> = None;
        let mut best: Option<(i64, usize, Vec<i64>)> = None;
        let mut consider = |total: i64, step: (usize, Vec<i64>)| {
            if best.as_ref().is_none_or(|(b, _, _)| total < *b) {
                best = Some((total, step.0, step.1));
            }
        };
        loop {
            if n.iter().all(|&x| x == 0) {
                if let Some(f) = first.clone() {
                    consider(spent, f);
                }
                break;
            }
            let scan = self.scan(&n);
            if let Some(s) = scan.single {
                let step = first.clone().unwrap_or_else(|| (s, n.clone()));
                consider(spent + self.types[s].price, step);
            }
            let Some((t, m, repeat)) = scan.step else { break };
            if first.is_none() {
                first = Some((t, m.clone()));
            }
            // The same node `repeat` times; the last of them is looked at again (one node for
            // the rest may be cheaper there).
            let r = (repeat - 1).max(1);
            spent += self.types[t].price * r;
            for (x, y) in n.iter_mut().zip(&m) {
                *x -= y * r;
            }
        }
        best
    }
}

/// What [`Planner::scan`] found.
struct Scan {
    /// The best node, what it takes, how many times in a row.
    step: Option<(usize, Vec<i64>, i64)>,
    /// The cheapest type that takes everything.
    single: Option<usize>,
}

/// Claims repacked together.
struct Group {
    pool: usize,
    /// `Some` when the group's claims keep their zone.
    zone: Option<Sym>,
    names: Vec<String>,
}

/// The solver state a failed group attempt restores.
struct Checkpoint {
    snap: Snapshot,
    claims: Vec<Claim>,
    phantoms: Vec<Phantom>,
    remaining: Vec<Option<Remaining>>,
    zone_load: HashMap<(usize, Sym), u32>,
    rng: Rng,
    taken: HashSet<Sym>,
}

/// The strict pod without its identity: pods equal under this are judged alike.
fn fingerprint(strict: &Pod) -> Pod {
    let mut p = strict.clone();
    p.name = Sym::EMPTY;
    p.uid = Sym::EMPTY;
    p.creation_time = None;
    p.start_time = None;
    p
}

/// Whether `pod`'s inter-pod terms constrain where its pods go (zone-sensitive grouping).
fn has_pod_terms(pod: &Pod) -> bool {
    !pod.topology_spread_constraints.is_empty()
        || pod.affinity.pod_affinity.as_ref().is_some_and(|a| !a.required.is_empty() || !a.preferred.is_empty())
        || pod.affinity.pod_anti_affinity.as_ref().is_some_and(|a| !a.required.is_empty() || !a.preferred.is_empty())
}

/// The label selectors and topology keys of `pod`'s terms that the filters do not check again
/// when other pods move: pod affinity (required or preferred), preferred anti-affinity (Karpenter
/// made it required for `pod` only), spread. Required anti-affinity is left out: InterPodAffinity
/// checks every incoming pod against the existing pods' required anti-affinity.
fn pod_terms(pod: &Pod) -> Vec<(Sym, Option<&kubesched_core::selector::LabelSelector>)> {
    let mut out = Vec::new();
    if let Some(a) = pod.affinity.pod_affinity.as_ref() {
        out.extend(a.required.iter().map(|t| (t.topology_key, t.label_selector.as_ref())));
        out.extend(a.preferred.iter().map(|t| (t.term.topology_key, t.term.label_selector.as_ref())));
    }
    if let Some(a) = pod.affinity.pod_anti_affinity.as_ref() {
        out.extend(a.preferred.iter().map(|t| (t.term.topology_key, t.term.label_selector.as_ref())));
    }
    out.extend(pod.topology_spread_constraints.iter().map(|c| (c.topology_key, c.label_selector.as_ref())));
    out
}

impl Solver<'_> {
    /// The repacking pass (see the module docs). Run after [`Solver::solve`].
    pub fn repack(&mut self) {
        for g in self.repack_groups() {
            self.repack_group(&g);
        }
        // Placements follow the pods to their new claims.
        let mut at: HashMap<(Sym, Sym), usize> = HashMap::new();
        for (ci, c) in self.claims.iter().enumerate() {
            for p in &c.pods {
                at.insert((p.namespace, p.name), ci);
            }
        }
        for (p, placed) in &mut self.placements {
            if let Placed::Claim(ci) = placed
                && let Some(&n) = at.get(&(p.namespace, p.name))
            {
                *ci = n;
            }
        }
    }

    fn repack_groups(&self) -> Vec<Group> {
        let mut groups = Vec::new();
        for pi in 0..self.a.pools().len() {
            let claims: Vec<&Claim> = self.claims.iter().filter(|c| c.pool == pi).collect();
            if claims.is_empty() || claims.iter().any(|c| c.pod_prefs.len() != c.pods.len()) {
                continue;
            }
            let by_zone = claims.iter().flat_map(|c| &c.pod_prefs).any(|p| has_pod_terms(&p.strict_pod()));
            if by_zone {
                for z in self.a.catalog.zones() {
                    let zone = Sym::new(z);
                    let names: Vec<String> = claims.iter().filter(|c| c.zone == zone).map(|c| c.name.clone()).collect();
                    if !names.is_empty() {
                        groups.push(Group { pool: pi, zone: Some(zone), names });
                    }
                }
            } else {
                groups.push(Group { pool: pi, zone: None, names: claims.iter().map(|c| c.name.clone()).collect() });
            }
        }
        groups
    }

    /// Whether a pod placed in this pass outside the group has a term selecting the group's pods
    /// over a key the repacking may change.
    fn outsiders_depend_on(&self, g: &Group, members: &[usize]) -> bool {
        let s = labels::syms();
        let pool = self.pool(g.pool);
        let fixed = |k: Sym| {
            k == s.region
                || k == s.beta_region
                || (g.zone.is_some() && (k == s.zone || k == s.beta_zone))
                || pool.fixed_labels.iter().any(|&(f, _)| f == k)
        };
        // Distinct label sets of the group's pods, distinct (key, selector) terms of the others.
        let mut group_labels: Vec<&kubesched_core::labels::Labels> = Vec::new();
        for p in members.iter().flat_map(|&ci| &self.claims[ci].pods) {
            if !group_labels.contains(&&p.labels) {
                group_labels.push(&p.labels);
            }
        }
        let outsiders = self
            .claims
            .iter()
            .enumerate()
            .filter(|(ci, _)| !members.contains(ci))
            .flat_map(|(_, c)| c.pods.iter())
            .chain(self.placements.iter().filter(|(_, p)| matches!(p, Placed::Existing { .. })).map(|(p, _)| p));
        let mut terms: Vec<&kubesched_core::selector::LabelSelector> = Vec::new();
        for o in outsiders {
            for (key, sel) in pod_terms(o) {
                if let Some(sel) = sel
                    && !fixed(key)
                    && !terms.contains(&sel)
                {
                    terms.push(sel);
                }
            }
        }
        terms.iter().any(|sel| group_labels.iter().any(|l| sel.matches(l)))
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            snap: self.snap.clone(),
            claims: self.claims.clone(),
            phantoms: self.phantoms.clone(),
            remaining: self.remaining.clone(),
            zone_load: self.zone_load.clone(),
            rng: self.rng.clone(),
            taken: self.taken.clone(),
        }
    }

    fn restore(&mut self, c: Checkpoint) {
        self.snap = c.snap;
        self.claims = c.claims;
        self.phantoms = c.phantoms;
        self.remaining = c.remaining;
        self.zone_load = c.zone_load;
        self.rng = c.rng;
        self.taken = c.taken;
        // Candidates cached during the attempt were keyed by epochs that now mean other limits.
        for e in &mut self.limits_epoch {
            *e += 1;
        }
    }

    /// The planner for group `g` over `items`' classes.
    fn planner(&mut self, g: &Group, classes: Vec<(Requirements, Resources)>) -> Planner {
        let pi = g.pool;
        let pool = self.pool(pi);
        let zones: Vec<Sym> = match g.zone {
            Some(z) => vec![z],
            None => self
                .a
                .catalog
                .zones()
                .iter()
                .map(|z| Sym::new(z))
                .filter(|&z| self.phantoms.iter().any(|p| p.pool == pi && p.zone == z))
                .collect(),
        };
        let mut dims: Vec<Sym> = vec![Sym::CPU, Sym::MEMORY, Sym::EPHEMERAL_STORAGE, Sym::PODS];
        for (_, r) in &classes {
            for &(n, v) in &r.scalars {
                if v > 0 && !dims.contains(&n) {
                    dims.push(n);
                }
            }
        }
        let has_min = pool.requirements.with_min_values().next().is_some();
        // Per pool type: its cheapest launch over the zones and what is left after DaemonSets.
        let mut types: Vec<PlanType> = Vec::new();
        let mut type_index: Vec<usize> = Vec::new();
        for ti in 0..pool.types.len() {
            let best = zones
                .iter()
                .filter_map(|&z| launch_choice(pool, &[ti], &pool.requirements, z, has_min).map(|l| (l, z)))
                .min_by_key(|(l, _)| l.price);
            let Some((launch, zone)) = best else { continue };
            let daemon = self.daemon_fit(pi, ti, zone, launch.capacity_type);
            let alloc = &self.pool(pi).types[ti].allocatable;
            let avail: Vec<i64> = dims.iter().map(|&d| alloc.get(d) - daemon.requests.get(d)).collect();
            types.push(PlanType { price: launch.price.0, avail });
            type_index.push(ti);
        }
        let pool = self.pool(pi);
        let classes = classes
            .into_iter()
            .map(|(reqs, r)| {
                let req: Vec<i64> = dims.iter().map(|&d| r.get(d)).collect();
                let creqs = pool.requirements.intersection(&reqs);
                let usable = |ti: usize| {
                    let t = &pool.types[ti];
                    t.admitted_by(&creqs) && zones.iter().any(|&z| t.offerings_for(&creqs, Some(z)).next().is_some())
                };
                let mut compat: Vec<bool> = type_index.iter().map(|&ti| usable(ti)).collect();
                // The launch's exotic filter: GPU and metal types only when nothing else fits.
                let plain = |j: usize| !pool.types[type_index[j]].exotic;
                let fits_one = |j: usize| types[j].avail.iter().zip(&req).all(|(&a, &q)| q <= 0 || q <= a) && compat[j];
                if (0..types.len()).any(|j| fits_one(j) && plain(j)) {
                    for (j, c) in compat.iter_mut().enumerate() {
                        *c &= plain(j);
                    }
                }
                let value = (0..types.len())
                    .filter(|&j| compat[j])
                    .filter_map(|j| {
                        let mut frac: i128 = 0;
                        for (d, &q) in req.iter().enumerate() {
                            if q > 0 {
                                let a = types[j].avail[d];
                                if a <= 0 {
                                    return None;
                                }
                                frac = frac.max(q as i128 * SCALE / a as i128);
                            }
                        }
                        Some(types[j].price as i128 * frac)
                    })
                    .min()
                    .unwrap_or(0);
                Class { req, compat, value, cap: None }
            })
            .collect();
        Planner { types, classes }
    }

    fn repack_group(&mut self, g: &Group) {
        let names: HashSet<&str> = g.names.iter().map(|n| n.as_str()).collect();
        let members: Vec<usize> =
            (0..self.claims.len()).filter(|&ci| names.contains(self.claims[ci].name.as_str())).collect();
        if members.is_empty() || self.outsiders_depend_on(g, &members) {
            return;
        }
        let old_cost: i64 = members.iter().map(|&ci| self.claims[ci].launch.price.0).sum();
        // The pods, in Karpenter's queue order, their classes and kinds.
        let mut prefs: Vec<PodPrefs> = members.iter().flat_map(|&ci| self.claims[ci].pod_prefs.clone()).collect();
        prefs.sort_by(|a, b| queue_order(&a.pod, &b.pod));
        let flavors = self.a.flavors();
        let mut items: Vec<Item> = Vec::with_capacity(prefs.len());
        let mut shapes: Vec<(Requirements, Resources)> = Vec::new();
        let mut kinds: Vec<Pod> = Vec::new();
        for p in prefs {
            let strict = p.strict_pod();
            let Ok(reqs) = p.requirements(&strict, &flavors) else { return };
            let requests = requests_of(&strict);
            let class = shapes.iter().position(|(r, q)| *r == reqs && *q == requests).unwrap_or_else(|| {
                shapes.push((reqs.clone(), requests));
                shapes.len() - 1
            });
            let fp = fingerprint(&strict);
            let kind = kinds.iter().position(|k| *k == fp).unwrap_or_else(|| {
                kinds.push(fp);
                kinds.len() - 1
            });
            items.push(Item { prefs: p, strict, reqs, class, kind });
        }
        let mut planner = self.planner(g, shapes);
        let mut counts = vec![0i64; planner.classes.len()];
        for it in &items {
            counts[it.class] += 1;
        }
        match planner.plan(&counts) {
            Some((estimate, _, _)) if estimate < old_cost => {}
            _ => return,
        }

        let backup = self.checkpoint();
        let mut members = members;
        members.sort_unstable();
        for &ci in members.iter().rev() {
            let claim = self.claims.remove(ci);
            self.snap.remove_node(claim.node);
            if let Some(r) = self.remaining[claim.pool].as_mut() {
                for (k, left) in &mut r.resources {
                    *left += claim.reserved.get(*k);
                }
                if let Some(n) = &mut r.nodes {
                    *n += 1;
                }
                self.limits_epoch[claim.pool] += 1;
            }
            if let Some(l) = self.zone_load.get_mut(&(claim.pool, claim.zone)) {
                *l = l.saturating_sub(1);
            }
        }
        let mut placed = vec![false; items.len()];
        let mut new_cost = 0i64;
        let ok = loop {
            counts.iter_mut().for_each(|n| *n = 0);
            for (it, _) in items.iter().zip(&placed).filter(|(_, p)| !**p) {
                counts[it.class] += 1;
            }
            if counts.iter().all(|&n| n == 0) {
                break new_cost < old_cost;
            }
            // Stop as soon as the rest, as planned now, cannot make the group cheaper.
            let Some((estimate, t, m)) = planner.plan(&counts) else { break false };
            if new_cost + estimate >= old_cost {
                break false;
            }
            let Some((ci, got)) = self.commit(g, &planner, &items, &mut placed, kinds.len(), t, &m) else {
                break false;
            };
            new_cost += self.claims[ci].launch.price.0;
            // A class the filters stopped short of the plan on this claim (and that did get
            // some of its pods on it) takes at most that many per node from now on: spread,
            // anti-affinity or ports limit it, not resources.
            for (k, c) in planner.classes.iter_mut().enumerate() {
                if got[k] > 0 && got[k] < m[k] {
                    c.cap = Some(got[k]);
                }
            }
        };
        if !ok {
            self.restore(backup);
        }
    }

    /// Opens a claim for the first planned pod of `m` pods of each class on type `t` and fills
    /// it; returns the claim and how many pods of each class it took. `None` when the first pod
    /// cannot open a claim.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        g: &Group,
        planner: &Planner,
        items: &[Item],
        placed: &mut [bool],
        n_kinds: usize,
        t: usize,
        m: &[i64],
    ) -> Option<(usize, Vec<i64>)> {
        let mut want = m.to_vec();
        let mut targets: Vec<usize> = Vec::new();
        for (i, it) in items.iter().enumerate() {
            if !placed[i] && want[it.class] > 0 {
                want[it.class] -= 1;
                targets.push(i);
            }
        }
        let (&first, rest) = targets.split_first()?;
        let it = &items[first];
        if it.prefs.has_hard_spread() {
            self.refresh_phantoms(&it.prefs, &it.strict, &it.reqs);
        }
        let (_, names) = pre_filter(&self.a.profile, &it.strict, &self.snap).ok()?;
        let ci = match self.try_new_claim_in(g.pool, g.zone, &it.prefs, &it.strict, &it.reqs, &names) {
            Ok(Placed::Claim(ci)) => ci,
            _ => return None,
        };
        placed[first] = true;
        let mut got = vec![0i64; planner.classes.len()];
        got[it.class] += 1;
        let mut skipped = vec![false; n_kinds];
        // The planned pods, then pods planned elsewhere while the claim's price holds.
        self.price_cap = Some(Money(planner.types[t].price));
        let mut is_target = vec![false; items.len()];
        for &i in &targets {
            is_target[i] = true;
        }
        let top_up: Vec<usize> = (0..items.len()).filter(|&i| !placed[i] && !is_target[i]).collect();
        for (pass, list) in [rest, top_up.as_slice()].into_iter().enumerate() {
            if pass == 1 {
                self.price_cap = Some(self.claims[ci].launch.price);
            }
            let mut refused = 0;
            for &i in list {
                if placed[i] || skipped[items[i].kind] {
                    continue;
                }
                if self.try_onto(ci, &items[i]) {
                    placed[i] = true;
                    got[items[i].class] += 1;
                    refused = 0;
                } else {
                    skipped[items[i].kind] = true;
                    refused += 1;
                    // Pods that differ only in labels are not skipped together: bound the
                    // top-up's filter calls per claim.
                    if pass == 1 && refused == MAX_TOP_UP_REFUSALS {
                        break;
                    }
                }
            }
        }
        self.price_cap = None;
        Some((ci, got))
    }

    /// `add`'s path for one in-flight claim: the pod's PreFilter, then [`Self::try_claim`].
    fn try_onto(&mut self, ci: usize, it: &Item) -> bool {
        if it.prefs.has_hard_spread() {
            self.refresh_phantoms(&it.prefs, &it.strict, &it.reqs);
        }
        let Ok((state, names)) = pre_filter(&self.a.profile, &it.strict, &self.snap) else { return false };
        let mut state = Some(state);
        self.try_claim(ci, &it.prefs, &it.strict, &it.reqs, &mut state, &names).is_some()
    }
}

#[cfg(test)]
mod tests;
