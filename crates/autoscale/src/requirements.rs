//! Karpenter's requirement algebra (doc §1.2; `pkg/scheduling/requirement.go`,
//! `requirements.go`): a requirement is `{key, complement, values, ≥bound, ≤bound, minValues}`,
//! requirements intersect key by key, and two requirement sets are *compatible* when every key
//! they share still admits some value — with Karpenter's exceptions for absent labels.
//!
//! Encoding: `In V` = (complement = false, V); `NotIn V` = (true, V); `Exists` = (true, ∅);
//! `DoesNotExist` = (false, ∅). `Gt n` is `Exists` with `≥ n+1`, `Lt n` is `Exists` with
//! `≤ n−1`, `Gte`/`Lte` keep `n`. A bound range that becomes empty collapses to `DoesNotExist`.

use crate::labels::normalize;
use kubesched_core::Sym;
use kubesched_core::labels::Labels;
use kubesched_core::selector::{NodeSelectorOp, NodeSelectorRequirement};
use smallvec_lite::SortedSyms;
use std::fmt;

/// The operators the NodePool CRD accepts (`NodeSelectorRequirementWithMinValues`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
    Gte,
    Lte,
}

impl Operator {
    pub fn parse(s: &str) -> Option<Operator> {
        Some(match s {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            "Gt" => Operator::Gt,
            "Lt" => Operator::Lt,
            "Gte" => Operator::Gte,
            "Lte" => Operator::Lte,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "In",
            Operator::NotIn => "NotIn",
            Operator::Exists => "Exists",
            Operator::DoesNotExist => "DoesNotExist",
            Operator::Gt => "Gt",
            Operator::Lt => "Lt",
            Operator::Gte => "Gte",
            Operator::Lte => "Lte",
        }
    }
}

/// A tiny sorted, deduplicated set of symbols (by id).
mod smallvec_lite {
    use kubesched_core::Sym;

    #[derive(Clone, Default, PartialEq, Eq, Debug, Hash)]
    pub struct SortedSyms(Vec<Sym>);

    impl SortedSyms {
        pub fn collect_from(it: impl IntoIterator<Item = Sym>) -> SortedSyms {
            let mut v: Vec<Sym> = it.into_iter().collect();
            v.sort();
            v.dedup();
            SortedSyms(v)
        }
        #[inline]
        pub fn contains(&self, s: Sym) -> bool {
            if self.0.len() <= 8 { self.0.contains(&s) } else { self.0.binary_search(&s).is_ok() }
        }
        pub fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub fn iter(&self) -> impl Iterator<Item = Sym> + '_ {
            self.0.iter().copied()
        }
        pub fn filter(&self, f: impl Fn(Sym) -> bool) -> SortedSyms {
            SortedSyms(self.0.iter().copied().filter(|&s| f(s)).collect())
        }
        pub fn union(&self, other: &SortedSyms) -> SortedSyms {
            SortedSyms::collect_from(self.iter().chain(other.iter()))
        }
    }
}

/// One requirement on one label key.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct Requirement {
    pub key: Sym,
    complement: bool,
    values: SortedSyms,
    /// Inclusive lower bound (`Gt n` → `n+1`).
    gte: Option<i64>,
    /// Inclusive upper bound (`Lt n` → `n−1`).
    lte: Option<i64>,
    /// The launch must span at least this many distinct values of the key.
    pub min_values: Option<u32>,
}

/// Go's `strconv.Atoi` as Karpenter uses it for bounds.
fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl Requirement {
    /// Builds a requirement. Deprecated keys are normalized. `Gt`/`Lt`/`Gte`/`Lte` need exactly
    /// one integer value; `In`/`NotIn` at least one value; `Exists`/`DoesNotExist` none.
    pub fn new(key: &str, op: Operator, values: &[&str]) -> Result<Requirement, String> {
        let key = Sym::new(normalize(key));
        let syms: Vec<Sym> = values.iter().map(|v| Sym::new(v)).collect();
        Requirement::with_syms(key, op, &syms)
    }

    /// [`Requirement::new`] on interned key and values (the key must already be normalized).
    pub fn with_syms(key: Sym, op: Operator, values: &[Sym]) -> Result<Requirement, String> {
        let mut r = Requirement {
            key,
            complement: true,
            values: SortedSyms::default(),
            gte: None,
            lte: None,
            min_values: None,
        };
        match op {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    return Err(format!("operator {} requires at least one value", op.as_str()));
                }
                r.complement = op == Operator::NotIn;
                r.values = SortedSyms::collect_from(values.iter().copied());
            }
            Operator::Exists => {}
            Operator::DoesNotExist => r.complement = false,
            Operator::Gt | Operator::Lt | Operator::Gte | Operator::Lte => {
                let [v] = values else {
                    return Err(format!("operator {} requires exactly one value", op.as_str()));
                };
                let n = parse_int(v.as_str()).ok_or_else(|| {
                    format!("operator {} requires an integer value, got {:?}", op.as_str(), v.as_str())
                })?;
                match op {
                    Operator::Gt => r.gte = Some(n.saturating_add(1)),
                    Operator::Gte => r.gte = Some(n),
                    Operator::Lt => r.lte = Some(n.saturating_sub(1)),
                    _ => r.lte = Some(n),
                }
            }
        }
        if matches!(op, Operator::Exists | Operator::DoesNotExist) && !values.is_empty() {
            return Err(format!("operator {} takes no values", op.as_str()));
        }
        Ok(r)
    }

    /// `key In [value]`.
    pub fn is_value(key: Sym, value: Sym) -> Requirement {
        Requirement {
            key,
            complement: false,
            values: SortedSyms::collect_from([value]),
            gte: None,
            lte: None,
            min_values: None,
        }
    }

    /// `key Exists` (what [`Requirements::get`] returns for a key it does not define).
    pub fn exists(key: Sym) -> Requirement {
        Requirement { key, complement: true, values: SortedSyms::default(), gte: None, lte: None, min_values: None }
    }

    /// `key DoesNotExist`.
    pub fn does_not_exist(key: Sym) -> Requirement {
        Requirement { key, complement: false, values: SortedSyms::default(), gte: None, lte: None, min_values: None }
    }

    pub fn with_min_values(mut self, min_values: Option<u32>) -> Requirement {
        self.min_values = min_values;
        self
    }

    /// From a core node selector requirement (pod `nodeSelectorTerms`).
    pub fn from_node_selector(r: &NodeSelectorRequirement) -> Requirement {
        let key = Sym::new(normalize(r.key.as_str()));
        let op = match r.op {
            NodeSelectorOp::In => Operator::In,
            NodeSelectorOp::NotIn => Operator::NotIn,
            NodeSelectorOp::Exists => Operator::Exists,
            NodeSelectorOp::DoesNotExist => Operator::DoesNotExist,
            NodeSelectorOp::Gt => Operator::Gt,
            NodeSelectorOp::Lt => Operator::Lt,
        };
        // The core validated the operands when it compiled the term.
        Requirement::with_syms(key, op, &r.values).unwrap_or_else(|_| Requirement::does_not_exist(key))
    }

    fn within_bounds(&self, value: Sym) -> bool {
        if self.gte.is_none() && self.lte.is_none() {
            return true;
        }
        let Some(n) = parse_int(value.as_str()) else { return false };
        self.gte.is_none_or(|g| n >= g) && self.lte.is_none_or(|l| n <= l)
    }

    /// True when a node whose label `key` is `value` satisfies the requirement (`Has`).
    #[inline]
    pub fn has(&self, value: Sym) -> bool {
        if self.complement {
            !self.values.contains(value) && self.within_bounds(value)
        } else {
            self.values.contains(value) && self.within_bounds(value)
        }
    }

    /// `Len() == 0`: nothing can satisfy it (a `DoesNotExist` requirement, or an `In` whose
    /// values were all removed).
    pub fn is_empty(&self) -> bool {
        !self.complement && self.values.is_empty()
    }

    /// The operator this requirement reads as (`Operator()`): bounds read as `Exists`.
    pub fn operator(&self) -> Operator {
        match (self.complement, self.values.is_empty()) {
            (true, false) => Operator::NotIn,
            (true, true) => Operator::Exists,
            (false, false) => Operator::In,
            (false, true) => Operator::DoesNotExist,
        }
    }

    /// The listed values (the allowed ones for `In`, the excluded ones for `NotIn`), sorted by
    /// text.
    pub fn values(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.values.iter().map(Sym::as_str).collect();
        v.sort_unstable();
        v
    }

    /// The allowed values of an `In` requirement, by symbol id.
    pub fn in_values(&self) -> Option<impl Iterator<Item = Sym> + '_> {
        (!self.complement).then(|| self.values.iter())
    }

    pub fn bounds(&self) -> (Option<i64>, Option<i64>) {
        (self.gte, self.lte)
    }

    /// `Intersection`: both must hold.
    pub fn intersection(&self, other: &Requirement) -> Requirement {
        let complement = self.complement && other.complement;
        let gte = match (self.gte, other.gte) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let lte = match (self.lte, other.lte) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let min_values = match (self.min_values, other.min_values) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let (Some(g), Some(l)) = (gte, lte)
            && g > l
        {
            return Requirement::does_not_exist(self.key).with_min_values(min_values);
        }
        let values = match (self.complement, other.complement) {
            (true, true) => self.values.union(&other.values),
            (true, false) => other.values.filter(|v| !self.values.contains(v)),
            (false, true) => self.values.filter(|v| !other.values.contains(v)),
            (false, false) => self.values.filter(|v| other.values.contains(v)),
        };
        let bounded = Requirement { key: self.key, complement, values: SortedSyms::default(), gte, lte, min_values };
        let values = values.filter(|v| bounded.within_bounds(v));
        Requirement {
            key: self.key,
            complement,
            values,
            gte: if complement { gte } else { None },
            lte: if complement { lte } else { None },
            min_values,
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.operator();
        match op {
            Operator::Exists | Operator::DoesNotExist => write!(f, "{} {}", self.key, op.as_str())?,
            _ => {
                let mut values = self.values();
                let more = values.len().saturating_sub(5);
                values.truncate(5);
                write!(f, "{} {} [{}", self.key, op.as_str(), values.join(" "))?;
                if more > 0 {
                    write!(f, " and {more} others")?;
                }
                write!(f, "]")?;
            }
        }
        if let Some(g) = self.gte {
            write!(f, " >={g}")?;
        }
        if let Some(l) = self.lte {
            write!(f, " <={l}")?;
        }
        Ok(())
    }
}

/// A set of requirements, one per key (adding a second requirement on a key intersects).
#[derive(Clone, Default, PartialEq, Eq, Debug, Hash)]
pub struct Requirements(Vec<Requirement>);

impl Requirements {
    pub fn new() -> Requirements {
        Requirements::default()
    }

    /// `key In [value]` for every label.
    pub fn from_labels(labels: &Labels) -> Requirements {
        let mut r = Requirements::new();
        for (k, v) in labels.iter() {
            r.add(Requirement::is_value(Sym::new(normalize(k.as_str())), v));
        }
        r
    }

    /// Adds `req`, intersecting with an existing requirement on the same key.
    pub fn add(&mut self, req: Requirement) {
        match self.0.binary_search_by_key(&req.key, |r| r.key) {
            Ok(i) => self.0[i] = self.0[i].intersection(&req),
            Err(i) => self.0.insert(i, req),
        }
    }

    /// Every requirement of `other` added to a copy of `self`.
    pub fn intersection(&self, other: &Requirements) -> Requirements {
        let mut out = self.clone();
        for r in &other.0 {
            out.add(r.clone());
        }
        out
    }

    #[inline]
    pub fn get(&self, key: Sym) -> Option<&Requirement> {
        self.0.binary_search_by_key(&key, |r| r.key).ok().map(|i| &self.0[i])
    }

    pub fn has_key(&self, key: Sym) -> bool {
        self.get(key).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Requirement> + '_ {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Removes the requirement on `key`, if any.
    pub fn remove(&mut self, key: Sym) {
        self.0.retain(|r| r.key != key);
    }

    /// Whether a node label state satisfies the requirement on `key` (no requirement: yes).
    /// `value = None` is an absent label.
    #[inline]
    pub fn admits(&self, key: Sym, value: Option<Sym>) -> bool {
        match (self.get(key), value) {
            (None, _) => true,
            (Some(r), Some(v)) => r.has(v),
            (Some(r), None) => matches!(r.operator(), Operator::NotIn | Operator::DoesNotExist),
        }
    }

    /// `Intersects`: every key both sides define must still admit a value, except that two
    /// negative requirements (`NotIn`/`DoesNotExist`) never conflict. `self` is the existing
    /// side (NodePool, NodeClaim, instance type), `incoming` the new one (pod).
    pub fn intersects(&self, incoming: &Requirements) -> Result<(), String> {
        for inc in &incoming.0 {
            let Some(existing) = self.get(inc.key) else { continue };
            if existing.intersection(inc).is_empty() {
                let neg = |op| matches!(op, Operator::NotIn | Operator::DoesNotExist);
                if neg(inc.operator()) && neg(existing.operator()) {
                    continue;
                }
                return Err(format!("key {}, {inc} not in {existing}", inc.key));
            }
        }
        Ok(())
    }

    /// `Compatible(incoming, AllowUndefined = well-known)`: a custom key `incoming` requires
    /// must be defined here unless its operator is `NotIn`/`DoesNotExist`; well-known keys may
    /// be undefined (any value); then [`Requirements::intersects`].
    pub fn compatible(&self, incoming: &Requirements, well_known: impl Fn(&str) -> bool) -> Result<(), String> {
        for inc in &incoming.0 {
            if well_known(inc.key.as_str()) || self.has_key(inc.key) {
                continue;
            }
            if matches!(inc.operator(), Operator::NotIn | Operator::DoesNotExist) {
                continue;
            }
            return Err(format!("label {:?} does not have known values", inc.key.as_str()));
        }
        self.intersects(incoming)
    }

    /// The requirements carrying `minValues`.
    pub fn with_min_values(&self) -> impl Iterator<Item = &Requirement> + '_ {
        self.0.iter().filter(|r| r.min_values.is_some())
    }
}

impl fmt::Display for Requirements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self.0.iter().map(|r| r.to_string()).collect();
        parts.sort();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(key: &str, op: Operator, values: &[&str]) -> Requirement {
        Requirement::new(key, op, values).unwrap()
    }
    fn s(v: &str) -> Sym {
        Sym::new(v)
    }
    fn reqs(list: Vec<Requirement>) -> Requirements {
        let mut r = Requirements::new();
        for x in list {
            r.add(x);
        }
        r
    }

    #[test]
    fn operators_encode_as_karpenter_does() {
        assert_eq!(req("k", Operator::In, &["a"]).operator(), Operator::In);
        assert_eq!(req("k", Operator::NotIn, &["a"]).operator(), Operator::NotIn);
        assert_eq!(req("k", Operator::Exists, &[]).operator(), Operator::Exists);
        assert_eq!(req("k", Operator::DoesNotExist, &[]).operator(), Operator::DoesNotExist);
        assert_eq!(req("k", Operator::Gt, &["4"]).operator(), Operator::Exists);
        assert_eq!(req("k", Operator::Gt, &["4"]).bounds(), (Some(5), None));
        assert_eq!(req("k", Operator::Lt, &["4"]).bounds(), (None, Some(3)));
        assert_eq!(req("k", Operator::Gte, &["4"]).bounds(), (Some(4), None));
        assert!(Requirement::new("k", Operator::In, &[]).is_err());
        assert!(Requirement::new("k", Operator::Gt, &["x"]).is_err());
        assert!(Requirement::new("k", Operator::Gt, &["1", "2"]).is_err());
        assert!(Requirement::new("k", Operator::Exists, &["1"]).is_err());
        assert_eq!(req("beta.kubernetes.io/arch", Operator::In, &["arm64"]).key, s("kubernetes.io/arch"));
    }

    #[test]
    fn has_respects_values_and_bounds() {
        let generation = req("gen", Operator::Gt, &["4"]);
        assert!(generation.has(s("5")) && generation.has(s("8")));
        assert!(!generation.has(s("4")) && !generation.has(s("x")));
        let lt = req("cpu", Operator::Lt, &["16"]);
        assert!(lt.has(s("8")) && !lt.has(s("16")));
        let notin = req("zone", Operator::NotIn, &["a"]);
        assert!(notin.has(s("b")) && !notin.has(s("a")));
        assert!(!req("k", Operator::DoesNotExist, &[]).has(s("a")));
        assert!(req("k", Operator::Exists, &[]).has(s("a")));
    }

    #[test]
    fn intersection_table() {
        let i = |a: &Requirement, b: &Requirement| a.intersection(b);
        // In ∩ In
        let r = i(&req("k", Operator::In, &["a", "b"]), &req("k", Operator::In, &["b", "c"]));
        assert_eq!((r.operator(), r.values()), (Operator::In, vec!["b"]));
        // In ∩ NotIn
        let r = i(&req("k", Operator::In, &["a", "b"]), &req("k", Operator::NotIn, &["a"]));
        assert_eq!((r.operator(), r.values()), (Operator::In, vec!["b"]));
        // NotIn ∩ NotIn = NotIn of the union
        let r = i(&req("k", Operator::NotIn, &["a"]), &req("k", Operator::NotIn, &["b"]));
        assert_eq!((r.operator(), r.values()), (Operator::NotIn, vec!["a", "b"]));
        // Exists ∩ DoesNotExist is empty
        assert!(i(&req("k", Operator::Exists, &[]), &req("k", Operator::DoesNotExist, &[])).is_empty());
        // In ∩ Gt keeps the values within bounds and drops the bounds
        let r = i(&req("g", Operator::In, &["3", "5", "x"]), &req("g", Operator::Gt, &["4"]));
        assert_eq!((r.operator(), r.values(), r.bounds()), (Operator::In, vec!["5"], (None, None)));
        // Gt ∩ Lt: a range; an empty range collapses to DoesNotExist
        let r = i(&req("g", Operator::Gt, &["2"]), &req("g", Operator::Lt, &["6"]));
        assert_eq!((r.operator(), r.bounds()), (Operator::Exists, (Some(3), Some(5))));
        assert!(r.has(s("4")) && !r.has(s("6")));
        let r = i(&req("g", Operator::Gt, &["5"]), &req("g", Operator::Lt, &["6"]));
        assert!(r.is_empty(), "nothing is > 5 and < 6");
        // minValues: the max wins
        let a = req("f", Operator::In, &["a", "b", "c"]).with_min_values(Some(2));
        let b = req("f", Operator::Exists, &[]).with_min_values(Some(3));
        assert_eq!(a.intersection(&b).min_values, Some(3));
    }

    #[test]
    fn compatibility_rules() {
        let wk = |k: &str| k == "kubernetes.io/arch" || k == "topology.kubernetes.io/zone";
        let pool = reqs(vec![req("kubernetes.io/arch", Operator::In, &["amd64"]), req("team", Operator::In, &["a"])]);
        // Well-known key undefined on the pool side: allowed.
        assert!(pool.compatible(&reqs(vec![req("topology.kubernetes.io/zone", Operator::In, &["z1"])]), wk).is_ok());
        // Custom key undefined: only NotIn / DoesNotExist pass.
        assert!(pool.compatible(&reqs(vec![req("gpu", Operator::In, &["yes"])]), wk).is_err());
        assert!(pool.compatible(&reqs(vec![req("gpu", Operator::NotIn, &["yes"])]), wk).is_ok());
        assert!(pool.compatible(&reqs(vec![req("gpu", Operator::DoesNotExist, &[])]), wk).is_ok());
        // Shared keys must intersect.
        let err = pool.compatible(&reqs(vec![req("kubernetes.io/arch", Operator::In, &["arm64"])]), wk).unwrap_err();
        assert_eq!(err, "key kubernetes.io/arch, kubernetes.io/arch In [arm64] not in kubernetes.io/arch In [amd64]");
        assert!(pool.compatible(&reqs(vec![req("team", Operator::In, &["a", "b"])]), wk).is_ok());
        // Two negative requirements never conflict, even when their intersection is empty.
        let dne = reqs(vec![req("x", Operator::DoesNotExist, &[])]);
        assert!(dne.intersects(&reqs(vec![req("x", Operator::NotIn, &["1"])])).is_ok());
        assert!(dne.intersects(&reqs(vec![req("x", Operator::In, &["1"])])).is_err());
        assert!(dne.intersects(&reqs(vec![req("x", Operator::Exists, &[])])).is_err());
    }

    #[test]
    fn admits_label_states() {
        let r = reqs(vec![req("gpu-name", Operator::NotIn, &["t4"]), req("cpu", Operator::Gte, &["4"])]);
        assert!(r.admits(s("gpu-name"), None), "an absent label satisfies NotIn");
        assert!(r.admits(s("gpu-name"), Some(s("a10g"))));
        assert!(!r.admits(s("gpu-name"), Some(s("t4"))));
        assert!(!r.admits(s("cpu"), None), "bounds read as Exists");
        assert!(r.admits(s("cpu"), Some(s("4"))) && !r.admits(s("cpu"), Some(s("2"))));
        assert!(r.admits(s("undefined"), None));
        let mut added = r.clone();
        added.add(req("cpu", Operator::Lte, &["8"]));
        assert!(!added.admits(s("cpu"), Some(s("16"))));
        assert_eq!(added.to_string(), "cpu Exists >=4 <=8, gpu-name NotIn [t4]");
    }
}
