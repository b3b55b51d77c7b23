//! Label selectors (`metav1.LabelSelector`) and node selectors (`v1.NodeSelector`), compiled
//! once into interned requirements.
//!
//! Conventions kept from Kubernetes:
//! - an empty [`LabelSelector`] matches everything; a *nil* selector (modelled as
//!   `Option::None` by callers) matches nothing;
//! - a [`NodeSelectorTerm`] with no requirements matches nothing, and a term that failed to
//!   parse matches nothing (kube-scheduler ignores the parse error for compatibility);
//! - `Gt`/`Lt` compare base-10 `int64`s and fail when either side does not parse.

use crate::intern::Sym;
use crate::labels::Labels;
use smallvec::SmallVec;

/// Operators of `matchExpressions` in a label selector.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum LabelOp {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct LabelRequirement {
    pub key: Sym,
    pub op: LabelOp,
    pub values: SmallVec<[Sym; 2]>,
}

impl LabelRequirement {
    /// Validates the operator/values combination as `labels.NewRequirement` does.
    pub fn new(key: Sym, op: LabelOp, values: SmallVec<[Sym; 2]>) -> Result<Self, String> {
        match op {
            LabelOp::In | LabelOp::NotIn if values.is_empty() => {
                return Err("for 'in', 'notin' operators, values set can't be empty".into());
            }
            LabelOp::Exists | LabelOp::DoesNotExist if !values.is_empty() => {
                return Err("values set must be empty for exists and does not exist".into());
            }
            _ => {}
        }
        Ok(LabelRequirement { key, op, values })
    }

    #[inline]
    pub fn matches(&self, labels: &Labels) -> bool {
        let v = labels.get(self.key);
        match self.op {
            LabelOp::In => v.is_some_and(|v| self.values.contains(&v)),
            LabelOp::NotIn => v.is_none_or(|v| !self.values.contains(&v)),
            LabelOp::Exists => v.is_some(),
            LabelOp::DoesNotExist => v.is_none(),
        }
    }
}

/// A compiled `metav1.LabelSelector`: all requirements ANDed. Empty matches everything.
#[derive(Clone, Default, PartialEq, Eq, Debug, Hash)]
pub struct LabelSelector {
    pub requirements: Vec<LabelRequirement>,
}

impl LabelSelector {
    /// The selector that matches everything (`{}`).
    pub fn everything() -> LabelSelector {
        LabelSelector::default()
    }

    /// A selector from `matchLabels` only.
    pub fn from_match_labels<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> LabelSelector {
        LabelSelector {
            requirements: pairs
                .into_iter()
                .map(|(k, v)| LabelRequirement {
                    key: Sym::new(k),
                    op: LabelOp::In,
                    values: smallvec::smallvec![Sym::new(v)],
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    #[inline]
    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Adds a requirement (used for `matchLabelKeys`/`mismatchLabelKeys` merging).
    pub fn push(&mut self, req: LabelRequirement) {
        self.requirements.push(req);
    }
}

/// Operators of node selector requirements.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum NodeSelectorOp {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

/// One `matchExpressions` entry of a node selector term.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct NodeSelectorRequirement {
    pub key: Sym,
    pub op: NodeSelectorOp,
    pub values: SmallVec<[Sym; 2]>,
    /// The parsed operand of `Gt`/`Lt`.
    pub int_operand: i64,
}

impl NodeSelectorRequirement {
    /// Validates as `nodeSelectorRequirementsAsSelector` does; an error makes the term void.
    pub fn new(key: Sym, op: NodeSelectorOp, values: SmallVec<[Sym; 2]>) -> Result<Self, String> {
        let mut int_operand = 0;
        match op {
            NodeSelectorOp::In | NodeSelectorOp::NotIn if values.is_empty() => {
                return Err("for 'in', 'notin' operators, values set can't be empty".into());
            }
            NodeSelectorOp::Exists | NodeSelectorOp::DoesNotExist if !values.is_empty() => {
                return Err("values set must be empty for exists and does not exist".into());
            }
            NodeSelectorOp::Gt | NodeSelectorOp::Lt => {
                if values.len() != 1 {
                    return Err("for 'Gt', 'Lt' operators, exactly one value is required".into());
                }
                int_operand = parse_int64(values[0].as_str())
                    .ok_or_else(|| "for 'Gt', 'Lt' operators, the value must be an integer".to_string())?;
            }
            _ => {}
        }
        Ok(NodeSelectorRequirement { key, op, values, int_operand })
    }

    #[inline]
    pub fn matches(&self, labels: &Labels) -> bool {
        let v = labels.get(self.key);
        match self.op {
            NodeSelectorOp::In => v.is_some_and(|v| self.values.contains(&v)),
            NodeSelectorOp::NotIn => v.is_none_or(|v| !self.values.contains(&v)),
            NodeSelectorOp::Exists => v.is_some(),
            NodeSelectorOp::DoesNotExist => v.is_none(),
            NodeSelectorOp::Gt => v.and_then(|v| parse_int64(v.as_str())).is_some_and(|n| n > self.int_operand),
            NodeSelectorOp::Lt => v.and_then(|v| parse_int64(v.as_str())).is_some_and(|n| n < self.int_operand),
        }
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits, no spaces.
fn parse_int64(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// One `matchFields` entry. Only `metadata.name` with `In`/`NotIn` and exactly one value is
/// valid.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct NodeFieldRequirement {
    pub op: NodeSelectorOp,
    pub name: Sym,
}

impl NodeFieldRequirement {
    pub fn new(key: &str, op: NodeSelectorOp, values: &[Sym]) -> Result<Self, String> {
        if key != "metadata.name" {
            return Err(format!("\"{key}\" is not a valid field selector key"));
        }
        if values.len() != 1 {
            return Err(format!(
                "unexpected number of value ({}) for node field selector operator {op:?}",
                values.len()
            ));
        }
        match op {
            NodeSelectorOp::In | NodeSelectorOp::NotIn => Ok(NodeFieldRequirement { op, name: values[0] }),
            _ => Err(format!("{op:?} is not a valid node field selector operator")),
        }
    }

    #[inline]
    pub fn matches(&self, node_name: Sym) -> bool {
        match self.op {
            NodeSelectorOp::In => node_name == self.name,
            _ => node_name != self.name,
        }
    }
}

/// A node selector term: expressions and fields ANDed. `valid == false` records a parse error;
/// such a term matches nothing.
#[derive(Clone, PartialEq, Eq, Debug, Default, Hash)]
pub struct NodeSelectorTerm {
    pub match_expressions: Vec<NodeSelectorRequirement>,
    pub match_fields: Vec<NodeFieldRequirement>,
    pub valid: bool,
}

impl NodeSelectorTerm {
    pub fn new(match_expressions: Vec<NodeSelectorRequirement>, match_fields: Vec<NodeFieldRequirement>) -> Self {
        NodeSelectorTerm { match_expressions, match_fields, valid: true }
    }

    /// A term that failed to parse.
    pub fn invalid() -> Self {
        NodeSelectorTerm { valid: false, ..Default::default() }
    }

    #[inline]
    pub fn matches(&self, node_name: Sym, labels: &Labels) -> bool {
        if !self.valid || (self.match_expressions.is_empty() && self.match_fields.is_empty()) {
            return false;
        }
        self.match_expressions.iter().all(|r| r.matches(labels))
            && self.match_fields.iter().all(|r| r.matches(node_name))
    }
}

/// `v1.NodeSelector`: terms ORed.
#[derive(Clone, PartialEq, Eq, Debug, Default, Hash)]
pub struct NodeSelector {
    pub terms: Vec<NodeSelectorTerm>,
}

impl NodeSelector {
    #[inline]
    pub fn matches(&self, node_name: Sym, labels: &Labels) -> bool {
        self.terms.iter().any(|t| t.matches(node_name, labels))
    }
}

/// `v1.PreferredSchedulingTerm`.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct PreferredSchedulingTerm {
    pub weight: i32,
    pub preference: NodeSelectorTerm,
}

#[cfg(test)]
mod tests {
    use super::*;
    use smallvec::smallvec;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|&(k, v)| (k, v)).collect()
    }

    fn req(key: &str, op: NodeSelectorOp, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement::new(Sym::new(key), op, values.iter().map(|v| Sym::new(v)).collect()).unwrap()
    }

    #[test]
    fn label_selector_operators() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let r = |op, vals: &[&str]| {
            LabelRequirement::new(Sym::new("app"), op, vals.iter().map(|v| Sym::new(v)).collect()).unwrap()
        };
        assert!(r(LabelOp::In, &["web", "db"]).matches(&l));
        assert!(!r(LabelOp::NotIn, &["web"]).matches(&l));
        assert!(r(LabelOp::NotIn, &["db"]).matches(&l));
        assert!(r(LabelOp::Exists, &[]).matches(&l));
        assert!(!r(LabelOp::DoesNotExist, &[]).matches(&l));
        assert!(LabelRequirement::new(Sym::new("x"), LabelOp::NotIn, smallvec![Sym::new("y")]).unwrap().matches(&l));
        assert!(LabelSelector::everything().matches(&l));
        assert!(LabelRequirement::new(Sym::new("a"), LabelOp::In, smallvec![]).is_err());
        assert!(LabelRequirement::new(Sym::new("a"), LabelOp::Exists, smallvec![Sym::new("b")]).is_err());
    }

    #[test]
    fn gt_lt_parse_as_int64() {
        let node = labels(&[("gen", "0206"), ("bad", "12a")]);
        assert!(req("gen", NodeSelectorOp::Gt, &["0204"]).matches(&node));
        assert!(!req("gen", NodeSelectorOp::Lt, &["0204"]).matches(&node));
        assert!(!req("bad", NodeSelectorOp::Gt, &["1"]).matches(&node));
        assert!(!req("missing", NodeSelectorOp::Gt, &["1"]).matches(&node));
        assert!(req("gen", NodeSelectorOp::Lt, &["+300"]).matches(&node));
        assert!(NodeSelectorRequirement::new(Sym::new("gen"), NodeSelectorOp::Gt, smallvec![Sym::new("1.5")]).is_err());
        assert!(
            NodeSelectorRequirement::new(Sym::new("gen"), NodeSelectorOp::Gt, smallvec![Sym::new("1"), Sym::new("2")])
                .is_err()
        );
        assert!(NodeSelectorRequirement::new(Sym::new("gen"), NodeSelectorOp::Lt, smallvec![Sym::new(" 1")]).is_err());
    }

    #[test]
    fn empty_and_invalid_terms_match_nothing() {
        let node = labels(&[("zone", "a")]);
        let name = Sym::new("n1");
        assert!(!NodeSelectorTerm::new(vec![], vec![]).matches(name, &node));
        assert!(!NodeSelectorTerm::invalid().matches(name, &node));
        let sel = NodeSelector {
            terms: vec![
                NodeSelectorTerm::new(vec![], vec![]),
                NodeSelectorTerm::new(vec![req("zone", NodeSelectorOp::In, &["a"])], vec![]),
            ],
        };
        assert!(sel.matches(name, &node), "terms are ORed");
        assert!(!NodeSelector::default().matches(name, &node), "zero terms match nothing");
    }

    #[test]
    fn match_fields_metadata_name() {
        let f = NodeFieldRequirement::new("metadata.name", NodeSelectorOp::In, &[Sym::new("n1")]).unwrap();
        assert!(f.matches(Sym::new("n1")));
        assert!(!f.matches(Sym::new("n2")));
        let not = NodeFieldRequirement::new("metadata.name", NodeSelectorOp::NotIn, &[Sym::new("n1")]).unwrap();
        assert!(not.matches(Sym::new("n2")));
        assert!(NodeFieldRequirement::new("metadata.uid", NodeSelectorOp::In, &[Sym::new("x")]).is_err());
        assert!(NodeFieldRequirement::new("metadata.name", NodeSelectorOp::Exists, &[Sym::new("x")]).is_err());
        let term = NodeSelectorTerm::new(vec![req("zone", NodeSelectorOp::In, &["a"])], vec![f]);
        assert!(term.matches(Sym::new("n1"), &labels(&[("zone", "a")])));
        assert!(!term.matches(Sym::new("n1"), &labels(&[("zone", "b")])));
    }
}
