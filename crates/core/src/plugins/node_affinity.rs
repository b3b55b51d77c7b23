//! NodeAffinity: `nodeSelector` and required node affinity filter; preferred terms score.
//! The `addedAffinity` argument is ANDed with every pod's own affinity in the profile.

use super::helper::default_normalize_score;
use crate::args::{ArgValue, FieldError, read};
use crate::framework::{Plugin, PluginState, PodCx, Points, PreFilterResult, Status};
use crate::intern::Sym;
use crate::model::{NodeAffinity as NodeAffinitySpec, Pod};
use crate::schedule::MAX_NODE_SCORE;
use crate::selector::{
    NodeFieldRequirement, NodeSelector, NodeSelectorOp, NodeSelectorRequirement, NodeSelectorTerm,
    PreferredSchedulingTerm,
};
use crate::snapshot::NodeInfo;
use std::sync::Arc;

pub const NAME: &str = "NodeAffinity";
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";
pub const ERR_REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";
pub const ERR_REASON_CONFLICT: &str = "pod affinity terms conflict";

#[derive(Default)]
pub struct NodeAffinity {
    pub added: Option<NodeAffinitySpec>,
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    read::known_keys(args, &["addedAffinity", "apiVersion", "kind"], path)?;
    let added = match args.get("addedAffinity") {
        None | Some(ArgValue::Null) => None,
        Some(v) => Some(parse_node_affinity(v, &format!("{path}.addedAffinity"))?),
    };
    Ok(Arc::new(NodeAffinity { added }))
}

/// True when the node satisfies the pod's `nodeSelector` and required node affinity
/// (`GetRequiredNodeAffinity(pod).Match(node)`).
#[inline]
pub fn required_matches(pod: &Pod, node: &NodeInfo) -> bool {
    let labels = node.labels();
    if !labels.contains_all(&pod.node_selector) {
        return false;
    }
    match pod.affinity.node_affinity.as_ref().and_then(|a| a.required.as_ref()) {
        Some(required) => required.matches(node.name(), labels),
        None => true,
    }
}

/// Σ weights of the preferred terms the node matches (weight-0 and empty terms never count).
pub fn preferred_score(terms: &[PreferredSchedulingTerm], node: &NodeInfo) -> i64 {
    terms
        .iter()
        .filter(|t| t.weight != 0 && t.preference.matches(node.name(), node.labels()))
        .map(|t| t.weight as i64)
        .sum()
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::PRE_FILTER | Points::FILTER | Points::PRE_SCORE | Points::SCORE | Points::NORMALIZE
    }

    fn pre_filter(&self, cx: PodCx<'_>, _state: &mut PluginState) -> PreFilterResult {
        let pod = cx.pod;
        let required = pod.affinity.node_affinity.as_ref().and_then(|a| a.required.as_ref());
        if required.is_none() && self.added.is_none() && pod.node_selector.is_empty() {
            return PreFilterResult::skip();
        }
        let Some(required) = required.filter(|r| !r.terms.is_empty()) else {
            return PreFilterResult::success();
        };
        // When every term pins `metadata.name In`, only those nodes need filtering.
        let mut names: Option<Vec<Sym>> = None;
        for term in &required.terms {
            let mut term_names: Option<Vec<Sym>> = None;
            for f in term.match_fields.iter().filter(|f| f.op == NodeSelectorOp::In) {
                term_names = Some(match term_names {
                    None => vec![f.name],
                    Some(prev) => prev.into_iter().filter(|n| *n == f.name).collect(),
                });
            }
            let Some(term_names) = term_names else {
                return PreFilterResult::success();
            };
            let acc = names.get_or_insert_with(Vec::new);
            for n in term_names {
                if !acc.contains(&n) {
                    acc.push(n);
                }
            }
        }
        match names {
            Some(n) if n.is_empty() => PreFilterResult::status(Status::unresolvable(ERR_REASON_CONFLICT)),
            Some(n) => PreFilterResult { status: Status::success(), node_names: Some(n) },
            None => PreFilterResult::success(),
        }
    }

    #[inline]
    fn filter(&self, cx: PodCx<'_>, _state: &PluginState, node: &NodeInfo) -> Status {
        if let Some(required) = self.added.as_ref().and_then(|a| a.required.as_ref())
            && !required.matches(node.name(), node.labels())
        {
            return Status::unresolvable(ERR_REASON_ENFORCED);
        }
        if required_matches(cx.pod, node) { Status::success() } else { Status::unresolvable(ERR_REASON_POD) }
    }

    fn pre_score(&self, cx: PodCx<'_>, _state: &mut PluginState, _feasible: &[&NodeInfo]) -> Status {
        let pod_has = cx.pod.affinity.node_affinity.as_ref().is_some_and(|a| !a.preferred.is_empty());
        let added_has = self.added.as_ref().is_some_and(|a| !a.preferred.is_empty());
        if pod_has || added_has { Status::success() } else { Status::skip() }
    }

    fn score(&self, cx: PodCx<'_>, _state: &PluginState, node: &NodeInfo) -> i64 {
        let mut count = 0;
        if let Some(added) = &self.added {
            count += preferred_score(&added.preferred, node);
        }
        if let Some(a) = &cx.pod.affinity.node_affinity {
            count += preferred_score(&a.preferred, node);
        }
        count
    }

    fn normalize_scores(&self, _cx: PodCx<'_>, _state: &PluginState, _nodes: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
    }
}

/// Parses a `v1.NodeAffinity` from plugin args (`addedAffinity`).
pub fn parse_node_affinity(v: &ArgValue, path: &str) -> Result<NodeAffinitySpec, FieldError> {
    let req_key = "requiredDuringSchedulingIgnoredDuringExecution";
    let pref_key = "preferredDuringSchedulingIgnoredDuringExecution";
    read::known_keys(v, &[req_key, pref_key], path)?;
    let required = match v.get(req_key) {
        None | Some(ArgValue::Null) => None,
        Some(sel) => {
            let p = format!("{path}.{req_key}");
            read::known_keys(sel, &["nodeSelectorTerms"], &p)?;
            let terms = read::list(sel.get("nodeSelectorTerms"), &format!("{p}.nodeSelectorTerms"))?;
            if terms.is_empty() {
                return Err(FieldError::new(
                    format!("{p}.nodeSelectorTerms"),
                    "Required value: must have at least one node selector term",
                ));
            }
            let terms = terms
                .iter()
                .enumerate()
                .map(|(i, t)| parse_term(t, &format!("{p}.nodeSelectorTerms[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Some(NodeSelector { terms })
        }
    };
    let mut preferred = Vec::new();
    let p = format!("{path}.{pref_key}");
    for (i, item) in read::list(v.get(pref_key), &p)?.iter().enumerate() {
        let ip = format!("{p}[{i}]");
        read::known_keys(item, &["weight", "preference"], &ip)?;
        let weight = read::int(item.get("weight"), &format!("{ip}.weight"))?.unwrap_or(0);
        if !(1..=100).contains(&weight) {
            return Err(FieldError::invalid(format!("{ip}.weight"), weight, "must be in the range 1-100"));
        }
        let preference = parse_term(item.get("preference").unwrap_or(&ArgValue::Null), &format!("{ip}.preference"))?;
        preferred.push(PreferredSchedulingTerm { weight: weight as i32, preference });
    }
    Ok(NodeAffinitySpec { required, preferred })
}

fn parse_op(s: &str, path: &str) -> Result<NodeSelectorOp, FieldError> {
    Ok(match s {
        "In" => NodeSelectorOp::In,
        "NotIn" => NodeSelectorOp::NotIn,
        "Exists" => NodeSelectorOp::Exists,
        "DoesNotExist" => NodeSelectorOp::DoesNotExist,
        "Gt" => NodeSelectorOp::Gt,
        "Lt" => NodeSelectorOp::Lt,
        other => {
            return Err(FieldError::not_supported(path, other, &["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"]));
        }
    })
}

fn parse_term(v: &ArgValue, path: &str) -> Result<NodeSelectorTerm, FieldError> {
    read::known_keys(v, &["matchExpressions", "matchFields"], path)?;
    let mut exprs = Vec::new();
    for (i, e) in read::list(v.get("matchExpressions"), &format!("{path}.matchExpressions"))?.iter().enumerate() {
        let ep = format!("{path}.matchExpressions[{i}]");
        let key = read::string(e.get("key"), &format!("{ep}.key"))?.unwrap_or_default();
        let op = parse_op(
            &read::string(e.get("operator"), &format!("{ep}.operator"))?.unwrap_or_default(),
            &format!("{ep}.operator"),
        )?;
        let values = read::strings(e.get("values"), &format!("{ep}.values"))?.iter().map(|s| Sym::new(s)).collect();
        exprs.push(
            NodeSelectorRequirement::new(Sym::new(&key), op, values)
                .map_err(|m| FieldError::new(format!("{ep}.values"), m))?,
        );
    }
    let mut fields = Vec::new();
    for (i, e) in read::list(v.get("matchFields"), &format!("{path}.matchFields"))?.iter().enumerate() {
        let ep = format!("{path}.matchFields[{i}]");
        let key = read::string(e.get("key"), &format!("{ep}.key"))?.unwrap_or_default();
        let op = parse_op(
            &read::string(e.get("operator"), &format!("{ep}.operator"))?.unwrap_or_default(),
            &format!("{ep}.operator"),
        )?;
        let values: Vec<Sym> =
            read::strings(e.get("values"), &format!("{ep}.values"))?.iter().map(|s| Sym::new(s)).collect();
        fields.push(NodeFieldRequirement::new(&key, op, &values).map_err(|m| FieldError::new(ep.clone(), m))?);
    }
    Ok(NodeSelectorTerm::new(exprs, fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::model::Node;
    use crate::snapshot::Snapshot;
    use smallvec::smallvec;

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::new();
        for (name, zone) in [("n1", "a"), ("n2", "b"), ("n3", "c")] {
            let mut n = Node::new(name);
            n.labels.insert(Sym::ZONE, Sym::new(zone));
            s.add_node(n);
        }
        s
    }

    fn term(key: &str, op: NodeSelectorOp, values: &[&str]) -> NodeSelectorTerm {
        NodeSelectorTerm::new(
            vec![
                NodeSelectorRequirement::new(Sym::new(key), op, values.iter().map(|v| Sym::new(v)).collect()).unwrap(),
            ],
            vec![],
        )
    }

    fn filter(plugin: &NodeAffinity, s: &Snapshot, pod: &Pod, node: &str) -> Status {
        plugin.filter(PodCx { pod, snapshot: s }, &PluginState::default(), s.node_by_name(Sym::new(node)).unwrap())
    }

    #[test]
    fn node_selector_and_required_terms() {
        let s = snapshot();
        let mut pod = Pod::new("default", "p");
        pod.node_selector.insert(Sym::ZONE, Sym::new("a"));
        assert!(filter(&NodeAffinity::default(), &s, &pod, "n1").is_success());
        let st = filter(&NodeAffinity::default(), &s, &pod, "n2");
        assert_eq!((st.code, st.message().as_str()), (Code::UnschedulableAndUnresolvable, ERR_REASON_POD));
        // Required terms are ORed; the nodeSelector is ANDed with them.
        pod.affinity.node_affinity = Some(NodeAffinitySpec {
            required: Some(NodeSelector {
                terms: vec![
                    term("topology.kubernetes.io/zone", NodeSelectorOp::In, &["b"]),
                    term("topology.kubernetes.io/zone", NodeSelectorOp::In, &["a"]),
                ],
            }),
            preferred: vec![],
        });
        assert!(filter(&NodeAffinity::default(), &s, &pod, "n1").is_success());
        pod.node_selector = Default::default();
        assert!(filter(&NodeAffinity::default(), &s, &pod, "n2").is_success());
        assert!(!filter(&NodeAffinity::default(), &s, &pod, "n3").is_success());
    }

    #[test]
    fn prefilter_skips_without_constraints_and_pins_metadata_name() {
        let s = snapshot();
        let mut pod = Pod::new("default", "p");
        assert!(
            NodeAffinity::default()
                .pre_filter(PodCx { pod: &pod, snapshot: &s }, &mut PluginState::default())
                .status
                .is_skip()
        );
        let pin = |names: &[&str]| {
            NodeSelectorTerm::new(
                vec![],
                vec![
                    NodeFieldRequirement::new(
                        "metadata.name",
                        NodeSelectorOp::In,
                        &names.iter().map(|n| Sym::new(n)).collect::<Vec<_>>(),
                    )
                    .unwrap(),
                ],
            )
        };
        pod.affinity.node_affinity = Some(NodeAffinitySpec {
            required: Some(NodeSelector { terms: vec![pin(&["n2"]), pin(&["n3"])] }),
            preferred: vec![],
        });
        let r = NodeAffinity::default().pre_filter(PodCx { pod: &pod, snapshot: &s }, &mut PluginState::default());
        assert_eq!(r.node_names, Some(vec![Sym::new("n2"), Sym::new("n3")]));
        // Two fields in one term intersect; no common name conflicts.
        let both = NodeSelectorTerm::new(
            vec![],
            vec![
                NodeFieldRequirement::new("metadata.name", NodeSelectorOp::In, &[Sym::new("n1")]).unwrap(),
                NodeFieldRequirement::new("metadata.name", NodeSelectorOp::In, &[Sym::new("n2")]).unwrap(),
            ],
        );
        pod.affinity.node_affinity =
            Some(NodeAffinitySpec { required: Some(NodeSelector { terms: vec![both] }), preferred: vec![] });
        let r = NodeAffinity::default().pre_filter(PodCx { pod: &pod, snapshot: &s }, &mut PluginState::default());
        assert_eq!(r.status.message(), ERR_REASON_CONFLICT);
    }

    #[test]
    fn added_affinity_is_enforced_and_scored() {
        let s = snapshot();
        let plugin = NodeAffinity {
            added: Some(NodeAffinitySpec {
                required: Some(NodeSelector {
                    terms: vec![term("topology.kubernetes.io/zone", NodeSelectorOp::NotIn, &["c"])],
                }),
                preferred: vec![PreferredSchedulingTerm {
                    weight: 5,
                    preference: term("topology.kubernetes.io/zone", NodeSelectorOp::In, &["b"]),
                }],
            }),
        };
        let mut pod = Pod::new("default", "p");
        assert_eq!(filter(&plugin, &s, &pod, "n3").message(), ERR_REASON_ENFORCED);
        pod.affinity.node_affinity = Some(NodeAffinitySpec {
            required: None,
            preferred: vec![
                PreferredSchedulingTerm {
                    weight: 10,
                    preference: term("topology.kubernetes.io/zone", NodeSelectorOp::In, &["a"]),
                },
                PreferredSchedulingTerm {
                    weight: 0,
                    preference: term("topology.kubernetes.io/zone", NodeSelectorOp::In, &["b"]),
                },
                PreferredSchedulingTerm { weight: 7, preference: NodeSelectorTerm::new(vec![], vec![]) },
            ],
        });
        let cx = PodCx { pod: &pod, snapshot: &s };
        let st = PluginState::default();
        let scores: Vec<i64> =
            ["n1", "n2", "n3"].iter().map(|n| plugin.score(cx, &st, s.node_by_name(Sym::new(n)).unwrap())).collect();
        assert_eq!(scores, [10, 5, 0]);
        let mut norm = scores.clone();
        plugin.normalize_scores(cx, &st, &[], &mut norm);
        assert_eq!(norm, [100, 50, 0]);
    }

    #[test]
    fn gt_and_lt_expressions() {
        let mut s = Snapshot::new();
        let mut n = Node::new("n1");
        n.labels.insert(Sym::new("cpu-gen"), Sym::new("0206"));
        s.add_node(n);
        let mut pod = Pod::new("default", "p");
        let gt =
            NodeSelectorRequirement::new(Sym::new("cpu-gen"), NodeSelectorOp::Gt, smallvec![Sym::new("0204")]).unwrap();
        pod.affinity.node_affinity = Some(NodeAffinitySpec {
            required: Some(NodeSelector { terms: vec![NodeSelectorTerm::new(vec![gt], vec![])] }),
            preferred: vec![],
        });
        assert!(filter(&NodeAffinity::default(), &s, &pod, "n1").is_success());
    }

    #[test]
    fn added_affinity_args_parse_and_validate() {
        use std::collections::BTreeMap;
        let map = |pairs: Vec<(&str, ArgValue)>| {
            ArgValue::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>())
        };
        let s = |x: &str| ArgValue::String(x.into());
        let args = map(vec![(
            "addedAffinity",
            map(vec![(
                "requiredDuringSchedulingIgnoredDuringExecution",
                map(vec![(
                    "nodeSelectorTerms",
                    ArgValue::List(vec![map(vec![(
                        "matchExpressions",
                        ArgValue::List(vec![map(vec![
                            ("key", s("pool")),
                            ("operator", s("In")),
                            ("values", ArgValue::List(vec![s("batch")])),
                        ])]),
                    )])]),
                )]),
            )]),
        )]);
        assert!(new(&args, "args").is_ok());
        let empty = map(vec![(
            "addedAffinity",
            map(vec![(
                "requiredDuringSchedulingIgnoredDuringExecution",
                map(vec![("nodeSelectorTerms", ArgValue::List(vec![]))]),
            )]),
        )]);
        assert!(new(&empty, "args").err().unwrap().to_string().contains("must have at least one node selector term"));
    }
}
