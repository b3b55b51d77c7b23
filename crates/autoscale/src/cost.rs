//! Cost: $/hour of a set of nodes, and lower bounds on what any set of nodes costs for a
//! workload (for the quality benchmark). Two bounds, both exact optima of an LP, both floored to
//! the micro-dollar:
//!
//! - [`lower_bound`], the *aggregate* bound: the cheapest fractional packing of the pods' total
//!   CPU, memory, pod slots and GPUs onto the catalog,
//!   `min Σᵢ priceᵢ·xᵢ  s.t.  Σᵢ capᵢ,ᵣ·xᵢ ≥ demandᵣ (r ∈ cpu, memory, pods, GPUs), x ≥ 0`.
//!   With k ≤ 4 constraints an optimal basic solution uses at most k types with as many
//!   constraints tight: every (types S, tight constraints T, |S| = |T|) is solved by Cramer's
//!   rule in `i128`, checked, and priced. It lets a pod's CPU sit on one type and its memory or
//!   pod slot on another, so it is loose when shapes differ.
//! - [`packing_lower_bound`], the *per-pod* bound (the configuration LP): pods and nodes may be
//!   split fractionally, but each piece of a pod brings its CPU, memory, slot and GPUs to the same
//!   node. Pods are grouped into classes of identical requests; for one class the optimum is
//!   `n · minₜ priceₜ · maxᵣ(reqᵣ / capₜ,ᵣ)`; for two classes the columns are the vertices of each
//!   type's fractional-pattern polytope `{q ≥ 0 : Σ_c q_c·req_c ≤ capₜ}` and the two-row covering
//!   LP is solved by the same enumeration; with more classes the bound is the largest of the
//!   per-pair bounds and the aggregate bound (each a valid bound: dropping pods never costs more).
//!
//! Capacities are allocatable after Karpenter's overheads and prices the cheapest offering the
//! NodePools allow. Any real plan is feasible for both LPs, so both are lower bounds; they ignore
//! DaemonSets, affinity and spread, and node indivisibility. Arithmetic overflow (not seen with
//! the catalog's magnitudes) makes a bound fall back to a weaker valid one.
//!
//! How far below any real plan the bound sits on `kubesched bench autoscale` (checked by hand):
//! for one class of pods, whole pods per node give the valid bound `n · minₜ priceₜ / kₜ`
//! (`kₜ` = how many fit a node of type t), 0.1% (memory-heavy) to 2.2% (graviton-spot) above the
//! LP on the single-shape workloads.
//! Two workloads have a wider gap no packing can close:
//! - `mixed-gpu`: the LP puts each 4 CPU / 16 GiB / 1 GPU pod on 1/0.864 of a g6.xlarge
//!   (`804,800 µ$ · 16,384 / 14,162 MiB` = 931,072 µ$ a pod), but a g6.xlarge (3,920m,
//!   14,162 MiB allocatable) holds none; the cheapest type that holds one is g6.2xlarge at
//!   977,600 µ$, so any plan costs at least `24 · 46,528` = $1.116672 more than the bound on the
//!   GPU pods alone: ≥ 3.9% over.
//! - `spread-host` as Karpenter provisions it (preferred hostname spread treated as required,
//!   every new node an empty hostname domain, doc §3.5): one pod per node, at best
//!   `2,000 · $0.05132` (c7a.medium, the cheapest Auto Mode type for 500m/1Gi) = $102.64,
//!   143.9% over the $42.075599 bound, which cannot see spread. The 10% goal is out of reach
//!   for that mode by construction; with preferences ignored the bound is met within 0.4%.

use crate::autoscaler::Autoscaler;
use crate::money::Money;
use crate::provision::prefs::{PodPrefs, PreferencePolicy};
use crate::requirements::Requirements;
use crate::template::{PreparedPool, PreparedType};
use kubesched_core::Sym;
use kubesched_core::model::Pod;
use kubesched_core::model::TaintEffect;
use std::sync::Arc;

/// $/hour of a set of nodes.
pub fn hourly_cost(prices: impl IntoIterator<Item = Money>) -> Money {
    prices.into_iter().sum()
}

/// What a workload asks for: CPU in millicores, memory in MiB (floored), pods, NVIDIA GPUs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Demand {
    pub cpu_milli: i64,
    pub memory_mib: i64,
    pub pods: i64,
    pub gpus: i64,
}

impl Demand {
    pub fn of_pods(pods: &[Arc<Pod>]) -> Demand {
        let gpu = Sym::new(crate::allocatable::NVIDIA_GPU);
        let mut d = Demand::default();
        let mut memory: i64 = 0;
        for p in pods {
            let r = p.requests();
            d.cpu_milli += r.cpu;
            memory += r.memory;
            d.pods += 1;
            d.gpus += r.get(gpu);
        }
        d.memory_mib = memory >> 20;
        d
    }

    fn vector(&self) -> [i64; 4] {
        [self.cpu_milli, self.memory_mib, self.pods, self.gpus]
    }
}

/// One type as the bound sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundType {
    /// The NodePool offering it (the same type may appear once per pool).
    pub pool: String,
    pub name: String,
    pub price: Money,
    pub cpu_milli: i64,
    pub memory_mib: i64,
    pub pods: i64,
    pub gpus: i64,
}

impl BoundType {
    fn vector(&self) -> [i64; 4] {
        [self.cpu_milli, self.memory_mib, self.pods, self.gpus]
    }

    fn from_prepared(pool: &str, t: &PreparedType, price: Money) -> BoundType {
        let a = &t.allocatable;
        BoundType {
            pool: pool.to_string(),
            name: t.name.as_str().to_string(),
            price,
            cpu_milli: a.cpu,
            memory_mib: a.memory >> 20,
            pods: a.pods,
            gpus: a.get(Sym::new(crate::allocatable::NVIDIA_GPU)),
        }
    }
}

/// The bound and the fractional mix that attains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowerBound {
    pub cost: Money,
    /// (type, amount as numerator/denominator of a node).
    pub mix: Vec<(String, i128, i128)>,
}

/// A solved LP: the floored optimum and the mix (name, numerator, denominator) attaining it.
type Solved = (i128, Vec<(String, i128, i128)>);

/// Every (pool, type) the pools of `a` may launch, at the cheapest offering the pool allows.
pub fn bound_types(a: &Autoscaler) -> Vec<BoundType> {
    let mut out: Vec<BoundType> = Vec::new();
    for pool in a.pools() {
        for t in &pool.types {
            if let Some(price) = t.offerings_for(&pool.requirements, None).map(|o| o.price).min() {
                out.push(BoundType::from_prepared(&pool.pool.name, t, price));
            }
        }
    }
    out
}

/// Which of `types` `pod` may use: the pool's taints tolerated (PreferNoSchedule aside), the
/// pool's requirements compatible with the pod's required node selection, and the type's labels
/// within both.
pub fn usable_types(a: &Autoscaler, types: &[BoundType], pod: &Arc<Pod>) -> Vec<bool> {
    let prefs = PodPrefs::new(pod.clone(), PreferencePolicy::Ignore);
    let strict = prefs.strict_pod();
    let Ok(reqs) = prefs.requirements(&strict, &[]) else { return vec![false; types.len()] };
    let pools: Vec<Option<(&PreparedPool, Requirements)>> = a
        .pools()
        .iter()
        .map(|p| {
            let tolerated =
                p.untolerated_taint(&strict.tolerations).is_none_or(|t| t.effect == TaintEffect::PreferNoSchedule);
            (tolerated && p.requirements.compatible(&reqs, |k| p.is_well_known(k)).is_ok())
                .then(|| (p, p.requirements.intersection(&reqs)))
        })
        .collect();
    types
        .iter()
        .map(|b| {
            a.pools().iter().position(|p| p.pool.name == b.pool).and_then(|i| pools[i].as_ref()).is_some_and(
                |(p, r)| p.types.iter().find(|t| t.name.as_str() == b.name).is_some_and(|t| t.admitted_by(r)),
            )
        })
        .collect()
}

fn det(m: &[[i128; 4]], n: usize) -> Option<i128> {
    match n {
        0 => Some(1),
        1 => Some(m[0][0]),
        _ => {
            let mut total: i128 = 0;
            for col in 0..n {
                if m[0][col] == 0 {
                    continue;
                }
                let mut minor = [[0i128; 4]; 4];
                for (r, row) in m.iter().enumerate().take(n).skip(1) {
                    let cells = row.iter().take(n).enumerate().filter(|&(c, _)| c != col).map(|(_, v)| *v);
                    for (c2, v) in cells.enumerate() {
                        minor[r - 1][c2] = v;
                    }
                }
                let sub = det(&minor, n - 1)?;
                let term = m[0][col].checked_mul(sub)?;
                total = if col % 2 == 0 { total.checked_add(term)? } else { total.checked_sub(term)? };
            }
            Some(total)
        }
    }
}

fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut cur = Vec::with_capacity(k);
    fn rec(start: usize, n: usize, k: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(i + 1, n, k, cur, out);
            cur.pop();
        }
    }
    rec(0, n, k, &mut cur, &mut out);
    out
}

/// The exact optimum of the fractional packing LP (see the module docs). `None` when some
/// demanded resource is offered by no type, or the arithmetic would overflow.
pub fn lower_bound(demand: &Demand, types: &[BoundType]) -> Option<LowerBound> {
    let demand: Vec<i128> = demand.vector().iter().map(|&d| d as i128).collect();
    let columns: Vec<Column> = types
        .iter()
        .map(|t| Column {
            name: t.name.clone(),
            amounts: t.vector().iter().map(|&v| v as i128).collect(),
            cost: t.price.0 as i128,
        })
        .collect();
    covering_lp(&demand, &columns).map(|(cost, mix)| LowerBound { cost: Money(cost as i64), mix })
}

/// Pods with identical requests (`[cpu milli, memory MiB, pod slots (1), GPUs]`) and the same
/// usable types, and how many.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodClass {
    pub requests: [i64; 4],
    pub count: i64,
    /// Per bound type: may these pods use it.
    pub usable: Vec<bool>,
}

/// Groups pods by requests and usable types (`usable(pod)`), in first-seen order.
pub fn pod_classes(pods: &[Arc<Pod>], usable: impl Fn(&Arc<Pod>) -> Vec<bool>) -> Vec<PodClass> {
    let gpu = Sym::new(crate::allocatable::NVIDIA_GPU);
    let mut out: Vec<PodClass> = Vec::new();
    for p in pods {
        let r = p.requests();
        let req = [r.cpu, r.memory >> 20, 1, r.get(gpu)];
        let mask = usable(p);
        match out.iter_mut().find(|c| c.requests == req && c.usable == mask) {
            Some(c) => c.count += 1,
            None => out.push(PodClass { requests: req, count: 1, usable: mask }),
        }
    }
    out
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A column of the covering LP: integer amounts per row and the cost of one unit.
#[derive(Clone, Debug)]
struct Column {
    name: String,
    amounts: Vec<i128>,
    cost: i128,
}

/// `min Σ cost·μ  s.t.  Σ μ·amounts ≥ demand, μ ≥ 0`, exactly, by basis enumeration (rows ≤ 4).
/// Returns the floored optimum and the columns used; `None` when infeasible or on overflow.
fn covering_lp(demand: &[i128], columns: &[Column]) -> Option<Solved> {
    let rows: Vec<usize> = (0..demand.len()).filter(|&r| demand[r] > 0).collect();
    if rows.is_empty() {
        return Some((0, Vec::new()));
    }
    // Drop dominated columns (no more of anything, no cheaper).
    let useful: Vec<&Column> = columns
        .iter()
        .enumerate()
        .filter(|(j, c)| {
            rows.iter().any(|&r| c.amounts[r] > 0)
                && !columns.iter().enumerate().any(|(i, u)| {
                    i != *j
                        && u.cost <= c.cost
                        && rows.iter().all(|&r| u.amounts[r] >= c.amounts[r])
                        && (u.cost < c.cost || rows.iter().any(|&r| u.amounts[r] > c.amounts[r]) || i < *j)
                })
        })
        .map(|(_, c)| c)
        .collect();
    let k = rows.len();
    let mut best: Option<Solved> = None;
    for s in 1..=k {
        for cols in subsets(useful.len(), s) {
            for tight in subsets(k, s) {
                let mut m = [[0i128; 4]; 4];
                for (a, &ti) in tight.iter().enumerate() {
                    for (b, &c) in cols.iter().enumerate() {
                        m[a][b] = useful[c].amounts[rows[ti]];
                    }
                }
                let d = det(&m, s)?;
                if d == 0 {
                    continue;
                }
                let mut xs = Vec::with_capacity(s);
                for b in 0..s {
                    let mut mb = m;
                    for (a, &ti) in tight.iter().enumerate() {
                        mb[a][b] = demand[rows[ti]];
                    }
                    xs.push(det(&mb, s)?);
                }
                let (d, xs): (i128, Vec<i128>) = if d < 0 { (-d, xs.iter().map(|x| -x).collect()) } else { (d, xs) };
                if xs.iter().any(|&x| x < 0) {
                    continue;
                }
                let mut feasible = true;
                for &r in &rows {
                    let mut lhs: i128 = 0;
                    for (b, &c) in cols.iter().enumerate() {
                        lhs = lhs.checked_add(useful[c].amounts[r].checked_mul(xs[b])?)?;
                    }
                    if lhs < demand[r].checked_mul(d)? {
                        feasible = false;
                        break;
                    }
                }
                if !feasible {
                    continue;
                }
                let mut num: i128 = 0;
                for (b, &c) in cols.iter().enumerate() {
                    num = num.checked_add(useful[c].cost.checked_mul(xs[b])?)?;
                }
                let cost = num / d;
                if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                    let mix = cols.iter().zip(&xs).map(|(&c, &x)| (useful[c].name.clone(), x, d)).collect();
                    best = Some((cost, mix));
                }
            }
        }
    }
    best
}

/// The vertices of `{q ∈ ℝ²₊ : q₁·a + q₂·b ≤ cap}` other than 0, as (integer vector, denominator).
fn pattern_vertices(a: &[i64; 4], b: &[i64; 4], cap: &[i64; 4]) -> Vec<([i128; 2], i128)> {
    // Lines: resource rows r (a_r q1 + b_r q2 = cap_r) and the axes q1 = 0, q2 = 0.
    let mut lines: Vec<([i128; 2], i128)> = (0..4).map(|r| ([a[r] as i128, b[r] as i128], cap[r] as i128)).collect();
    lines.push(([1, 0], 0));
    lines.push(([0, 1], 0));
    let mut out: Vec<([i128; 2], i128)> = Vec::new();
    for i in 0..lines.len() {
        for j in i + 1..lines.len() {
            let ((l1, c1), (l2, c2)) = (lines[i], lines[j]);
            let d = l1[0] * l2[1] - l1[1] * l2[0];
            if d == 0 {
                continue;
            }
            let (mut x, mut y, mut d) = (c1 * l2[1] - l1[1] * c2, l1[0] * c2 - c1 * l2[0], d);
            if d < 0 {
                (x, y, d) = (-x, -y, -d);
            }
            if x < 0 || y < 0 || (x == 0 && y == 0) {
                continue;
            }
            // Inside every resource constraint.
            if (0..4).any(|r| a[r] as i128 * x + b[r] as i128 * y > cap[r] as i128 * d) {
                continue;
            }
            let g = gcd(gcd(x, y), d);
            let v = ([x / g, y / g], d / g);
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// The per-pod (configuration LP) bound for one or two classes.
fn packing_bound_classes(classes: &[&PodClass], types: &[BoundType]) -> Option<Solved> {
    match classes {
        [] => Some((0, Vec::new())),
        [c] => {
            // n · min_t price_t · max_r(req_r / cap_t,r).
            // Per type: nodes per pod = max_r req_r / cap_r (num/den); cost per pod = price·num/den.
            let mut best: Option<(i128, i128, &BoundType)> = None;
            for (t, _) in types.iter().zip(&c.usable).filter(|(_, u)| **u) {
                let cap = t.vector();
                let mut ratio: Option<(i128, i128)> = Some((0, 1));
                for (&req, &cap) in c.requests.iter().zip(cap.iter()) {
                    let req = req as i128;
                    if req == 0 {
                        continue;
                    }
                    if cap <= 0 {
                        ratio = None;
                        break;
                    }
                    let cur = ratio.unwrap_or((0, 1));
                    if req * cur.1 > cur.0 * cap as i128 {
                        ratio = Some((req, cap as i128));
                    }
                }
                let Some((num, den)) = ratio else { continue };
                let cost_num = t.price.0 as i128 * num;
                if best.is_none_or(|(bn, bd, bt)| cost_num * bd < bt.price.0 as i128 * bn * den) {
                    best = Some((num, den, t));
                }
            }
            let (num, den, t) = best?;
            let n = c.count as i128;
            let cost = (t.price.0 as i128).checked_mul(num)?.checked_mul(n)? / den;
            Some((cost, vec![(t.name.clone(), n * num, den)]))
        }
        [c1, c2] => {
            let mut columns = Vec::new();
            for (i, t) in types.iter().enumerate() {
                let (u1, u2) = (c1.usable[i], c2.usable[i]);
                if !u1 && !u2 {
                    continue;
                }
                for (v, d) in pattern_vertices(&c1.requests, &c2.requests, &t.vector()) {
                    if (!u1 && v[0] != 0) || (!u2 && v[1] != 0) {
                        continue;
                    }
                    columns.push(Column {
                        name: t.name.clone(),
                        amounts: vec![v[0], v[1]],
                        cost: (t.price.0 as i128).checked_mul(d)?,
                    });
                }
            }
            covering_lp(&[c1.count as i128, c2.count as i128], &columns)
        }
        _ => None,
    }
}

/// The per-pod bound (see the module docs) over `types`, every type usable by every pod.
pub fn packing_lower_bound(pods: &[Arc<Pod>], types: &[BoundType]) -> Option<LowerBound> {
    let classes = pod_classes(pods, |_| vec![true; types.len()]);
    packing_bound(&classes, types)
}

/// The per-pod bound of a workload on `a`'s pools: each pod only on the types of the pools it
/// may use (taints, node selection).
pub fn workload_lower_bound(a: &Autoscaler, pods: &[Arc<Pod>]) -> Option<LowerBound> {
    let types = bound_types(a);
    let classes = pod_classes(pods, |p| usable_types(a, &types, p));
    packing_bound(&classes, &types)
}

fn packing_bound(classes: &[PodClass], types: &[BoundType]) -> Option<LowerBound> {
    let refs: Vec<&PodClass> = classes.iter().collect();
    let to_bound = |(cost, mix): (i128, Vec<(String, i128, i128)>)| LowerBound { cost: Money(cost as i64), mix };
    if refs.len() <= 2
        && let Some(b) = packing_bound_classes(&refs, types)
    {
        return Some(to_bound(b));
    }
    // The aggregate bound over the types some pod may use.
    let any: Vec<BoundType> = types
        .iter()
        .enumerate()
        .filter(|(i, _)| classes.iter().any(|c| c.usable[*i]))
        .map(|(_, t)| t.clone())
        .collect();
    let mut demand = Demand::default();
    for c in classes {
        demand.cpu_milli += c.requests[0] * c.count;
        demand.memory_mib += c.requests[1] * c.count;
        demand.pods += c.count;
        demand.gpus += c.requests[3] * c.count;
    }
    let mut best = lower_bound(&demand, &any);
    let mut consider = |b: Option<Solved>| {
        if let Some(b) = b.map(to_bound)
            && best.as_ref().is_none_or(|x| b.cost > x.cost)
        {
            best = Some(b);
        }
    };
    for i in 0..refs.len() {
        consider(packing_bound_classes(&refs[i..=i], types));
        for j in i + 1..refs.len() {
            consider(packing_bound_classes(&[refs[i], refs[j]], types));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, micros: i64, cpu: i64, mem: i64, pods: i64) -> BoundType {
        BoundType {
            pool: "p".into(),
            name: name.into(),
            price: Money(micros),
            cpu_milli: cpu,
            memory_mib: mem,
            pods,
            gpus: 0,
        }
    }

    #[test]
    fn single_resource_bound_is_the_cheapest_rate() {
        let types = [t("a", 100, 1000, 1000, 100), t("b", 300, 4000, 1000, 100)];
        let d = Demand { cpu_milli: 8000, memory_mib: 0, pods: 0, gpus: 0 };
        // b: 75 µ$ per core vs a: 100 → 2 × b = 600 µ$.
        let lb = lower_bound(&d, &types).unwrap();
        assert_eq!(lb.cost, Money(600));
        assert_eq!(lb.mix, vec![("b".to_string(), 8000, 4000)]);
    }

    #[test]
    fn two_resources_mix_two_types() {
        // A CPU-rich and a memory-rich type; demand needs both: the optimum mixes them.
        let types = [t("cpu", 100, 4000, 1000, 100), t("mem", 100, 1000, 4000, 100), t("both", 300, 4000, 4000, 100)];
        let d = Demand { cpu_milli: 5000, memory_mib: 5000, pods: 0, gpus: 0 };
        // x_cpu·4000 + x_mem·1000 = 5000 and x_cpu·1000 + x_mem·4000 = 5000 → x = 1, 1 → 200.
        let lb = lower_bound(&d, &types).unwrap();
        assert_eq!(lb.cost, Money(200));
        assert_eq!(lb.mix.len(), 2);
        // A single-type plan costs more: 5000/4000 × 300 = 375; the LP found the cheaper mix.
        let only_both = [types[2].clone()];
        assert_eq!(lower_bound(&d, &only_both).unwrap().cost, Money(375));
    }

    #[test]
    fn pods_and_gpus_constrain_and_missing_resources_fail() {
        let types = [t("small", 50, 2000, 4000, 4), t("big", 400, 16000, 32000, 110)];
        // 40 tiny pods: pod slots bind. small: 12.5 µ$/pod; big: 3.6 µ$/pod → 40/110 × 400.
        let d = Demand { cpu_milli: 400, memory_mib: 400, pods: 40, gpus: 0 };
        assert_eq!(lower_bound(&d, &types).unwrap().cost, Money(145));
        let gpu = Demand { gpus: 1, ..d };
        assert_eq!(lower_bound(&gpu, &types), None);
        let mut g = t("g", 1000, 4000, 16000, 29);
        g.gpus = 1;
        let with_gpu = [types[0].clone(), types[1].clone(), g];
        // One GPU node (1000) already covers 29 pods; the other 11 pod slots cost 11/110 × 400.
        assert_eq!(lower_bound(&gpu, &with_gpu).unwrap().cost, Money(1040));
        assert_eq!(lower_bound(&Demand::default(), &types).unwrap().cost, Money::ZERO);
    }

    fn pod(name: &str, cpu: i64, mem_mib: i64) -> Arc<Pod> {
        Arc::new(
            kubesched_core::builders::PodBuilder::new("default", name).cpu_milli(cpu).memory(mem_mib << 20).build(),
        )
    }

    #[test]
    fn packing_bound_keeps_a_pod_together() {
        // The aggregate bound mixes a CPU-rich and a memory-rich type for CPU-and-memory pods;
        // the packing bound cannot split a pod's CPU from its memory.
        let types = [t("cpu", 100, 4000, 1000, 100), t("mem", 100, 1000, 4000, 100), t("both", 300, 4000, 4000, 100)];
        let pods: Vec<Arc<Pod>> = (0..5).map(|i| pod(&format!("p{i}"), 1000, 1000)).collect();
        assert_eq!(lower_bound(&Demand::of_pods(&pods), &types).unwrap().cost, Money(200));
        // Per pod: "cpu" holds 1 (memory-bound), "mem" 1, "both" 4 → 75 per pod → 375.
        assert_eq!(packing_lower_bound(&pods, &types).unwrap().cost, Money(375));
    }

    #[test]
    fn packing_bound_for_two_classes_shares_nodes() {
        // CPU pods (2000m/500Mi) and memory pods (500m/2000Mi) fill a balanced type together:
        // 2 + 2 per 5000m/5000Mi node ($100) → 4 pods per $100.
        let types = [t("balanced", 100, 5000, 5000, 100)];
        let mut pods: Vec<Arc<Pod>> = (0..4).map(|i| pod(&format!("c{i}"), 2000, 500)).collect();
        pods.extend((0..4).map(|i| pod(&format!("m{i}"), 500, 2000)));
        assert_eq!(pod_classes(&pods, |_| vec![true]).len(), 2);
        assert_eq!(packing_lower_bound(&pods, &types).unwrap().cost, Money(200));
        // Alone, the 4 CPU pods need 8000m = 1.6 nodes = $160.
        assert_eq!(packing_lower_bound(&pods[..4], &types).unwrap().cost, Money(160));
        // Three classes: the best per-pair or aggregate bound.
        pods.push(pod("x", 100, 100));
        let b = packing_lower_bound(&pods, &types).unwrap().cost;
        assert!(b >= Money(200), "{b}");
    }

    #[test]
    fn pattern_vertices_of_a_box() {
        // q1 + 2·q2 ≤ 4 and q1 ≤ 3 (q ≥ 0): vertices (3, 0), (0, 2) and (3, ½).
        let big = 1_000_000;
        let mut v = pattern_vertices(&[1, 1, 0, 0], &[2, 0, 0, 0], &[4, 3, big, big]);
        v.sort();
        assert_eq!(v, vec![([0, 2], 1), ([3, 0], 1), ([6, 1], 2)]);
    }
}
