//! Cost: $/hour of a set of nodes, and a lower bound on what any set of nodes costs for a
//! workload (for the quality benchmark).
//!
//! The bound is the optimum of the fractional packing LP
//!
//! ```text
//! minimise  Σᵢ priceᵢ·xᵢ   subject to  Σᵢ capᵢ,ᵣ·xᵢ ≥ demandᵣ  for r ∈ {cpu, memory, pods, GPUs},  x ≥ 0
//! ```
//!
//! over the instance types the NodePools may launch (`capᵢ` = allocatable after Karpenter's
//! overheads, `priceᵢ` = the cheapest offering the pools allow). Any real plan is a feasible
//! integer point of this LP (each launched node is one unit of its type, every pod's requests
//! fit the nodes' allocatable), so the LP optimum is a lower bound; it ignores DaemonSets,
//! affinity, spread and the indivisibility of pods and nodes.
//!
//! Solved exactly: with k ≤ 4 constraints an optimal basic solution uses at most k types, with
//! as many constraints tight. Every (types S, tight constraints T, |S| = |T|) is solved by
//! Cramer's rule in `i128`, checked for x ≥ 0 and the other constraints, and priced; the least
//! cost is the optimum. Types dominated by a cheaper type with at least as much of everything
//! are dropped first. The result is floored to the micro-dollar.

use crate::autoscaler::Autoscaler;
use crate::money::Money;
use crate::template::PreparedType;
use kubesched_core::Sym;
use kubesched_core::model::Pod;
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

    fn from_prepared(t: &PreparedType, price: Money) -> BoundType {
        let a = &t.allocatable;
        BoundType {
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

/// Every type any pool of `a` may launch, at the cheapest offering the pool allows.
pub fn bound_types(a: &Autoscaler) -> Vec<BoundType> {
    let mut out: Vec<BoundType> = Vec::new();
    for pool in a.pools() {
        for t in &pool.types {
            let Some(price) = t.offerings_for(&pool.requirements, None).map(|o| o.price).min() else { continue };
            match out.iter_mut().find(|b| b.name == t.name.as_str()) {
                Some(b) if price < b.price => b.price = price,
                Some(_) => {}
                None => out.push(BoundType::from_prepared(t, price)),
            }
        }
    }
    out
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
    let dv = demand.vector();
    let rows: Vec<usize> = (0..4).filter(|&r| dv[r] > 0).collect();
    if rows.is_empty() {
        return Some(LowerBound { cost: Money::ZERO, mix: Vec::new() });
    }
    // Drop dominated types (keep the first of identical ones).
    let useful: Vec<&BoundType> = types
        .iter()
        .enumerate()
        .filter(|(j, t)| {
            !types.iter().enumerate().any(|(i, u)| {
                i != *j
                    && u.price <= t.price
                    && rows.iter().all(|&r| u.vector()[r] >= t.vector()[r])
                    && (u.price < t.price || rows.iter().any(|&r| u.vector()[r] > t.vector()[r]) || i < *j)
            }) && rows.iter().any(|&r| t.vector()[r] > 0)
        })
        .map(|(_, t)| t)
        .collect();
    let k = rows.len();
    type Mix = Vec<(String, i128, i128)>;
    let mut best: Option<(i128, Mix)> = None;
    for s in 1..=k {
        for cols in subsets(useful.len(), s) {
            for tight in subsets(k, s) {
                let mut m = [[0i128; 4]; 4];
                for (a, &ti) in tight.iter().enumerate() {
                    for (b, &c) in cols.iter().enumerate() {
                        m[a][b] = useful[c].vector()[rows[ti]] as i128;
                    }
                }
                let d = det(&m, s)?;
                if d == 0 {
                    continue;
                }
                // x_b = det_b / d.
                let mut xs = Vec::with_capacity(s);
                for b in 0..s {
                    let mut mb = m;
                    for (a, &ti) in tight.iter().enumerate() {
                        mb[a][b] = dv[rows[ti]] as i128;
                    }
                    xs.push(det(&mb, s)?);
                }
                // Normalise the sign so the denominator is positive.
                let (d, xs): (i128, Vec<i128>) = if d < 0 { (-d, xs.iter().map(|x| -x).collect()) } else { (d, xs) };
                if xs.iter().any(|&x| x < 0) {
                    continue;
                }
                // Every constraint holds: Σ cap·x ≥ demand·d.
                let mut feasible = true;
                for &r in &rows {
                    let mut lhs: i128 = 0;
                    for (b, &c) in cols.iter().enumerate() {
                        lhs = lhs.checked_add((useful[c].vector()[r] as i128).checked_mul(xs[b])?)?;
                    }
                    if lhs < (dv[r] as i128).checked_mul(d)? {
                        feasible = false;
                        break;
                    }
                }
                if !feasible {
                    continue;
                }
                let mut num: i128 = 0;
                for (b, &c) in cols.iter().enumerate() {
                    num = num.checked_add((useful[c].price.0 as i128).checked_mul(xs[b])?)?;
                }
                let cost = num / d;
                if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                    let mix = cols.iter().zip(&xs).map(|(&c, &x)| (useful[c].name.clone(), x, d)).collect();
                    best = Some((cost, mix));
                }
            }
        }
    }
    best.map(|(cost, mix)| LowerBound { cost: Money(cost as i64), mix })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, micros: i64, cpu: i64, mem: i64, pods: i64) -> BoundType {
        BoundType { name: name.into(), price: Money(micros), cpu_milli: cpu, memory_mib: mem, pods, gpus: 0 }
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
}
