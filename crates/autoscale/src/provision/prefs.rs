//! Preferences as Karpenter treats them (doc §1.2, §3.4; `preferences.go`): a pod is first
//! scheduled as if its preferences were requirements — the heaviest preferred node-affinity
//! term ANDed into the first required term, every preferred pod (anti-)affinity term required,
//! every `ScheduleAnyway` spread constraint `DoNotSchedule`, PreferNoSchedule taints not
//! tolerated — and when that fails the preferences are relaxed one at a time, in this order:
//! 1. drop the first of several required node-selector terms,
//! 2. drop the heaviest preferred pod-affinity term,
//! 3. drop the heaviest preferred pod anti-affinity term,
//! 4. drop the heaviest preferred node-affinity term,
//! 5. drop one `ScheduleAnyway` constraint (the first, swapped with the last as Karpenter does),
//! 6. when some NodePool has a PreferNoSchedule taint, tolerate all PreferNoSchedule taints.
//!
//! The strict pod is an ordinary core [`Pod`], so the core's filters judge it.

use crate::labels::{self, Flavor};
use crate::requirements::{Requirement, Requirements};
use kubesched_core::Sym;
use kubesched_core::model::{
    Affinity, NodeAffinity, Pod, PodAffinity, TaintEffect, Toleration, TolerationOp, TopologySpreadConstraint,
    WeightedPodAffinityTerm, WhenUnsatisfiable,
};
use kubesched_core::selector::{NodeSelector, NodeSelectorTerm, PreferredSchedulingTerm};
use std::sync::Arc;

/// `--preference-policy` (doc §3.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum PreferencePolicy {
    /// Preferences are requirements until relaxed (Karpenter's default).
    #[default]
    Respect,
    /// Preferences are dropped up front.
    Ignore,
}

/// A pod and how far its preferences have been relaxed.
#[derive(Clone, Debug)]
pub struct PodPrefs {
    pub pod: Arc<Pod>,
    required: Vec<NodeSelectorTerm>,
    preferred_node: Vec<PreferredSchedulingTerm>,
    preferred_affinity: Vec<WeightedPodAffinityTerm>,
    preferred_anti_affinity: Vec<WeightedPodAffinityTerm>,
    spread: Vec<TopologySpreadConstraint>,
    tolerate_prefer_no_schedule: bool,
    /// What was relaxed, in order.
    pub relaxed: Vec<String>,
}

fn by_weight_desc<T>(mut v: Vec<T>, weight: impl Fn(&T) -> i32) -> Vec<T> {
    v.sort_by_key(|t| std::cmp::Reverse(weight(t)));
    v
}

impl PodPrefs {
    pub fn new(pod: Arc<Pod>, policy: PreferencePolicy) -> PodPrefs {
        let na = pod.affinity.node_affinity.as_ref();
        let required = na.and_then(|a| a.required.as_ref()).map(|s| s.terms.clone()).unwrap_or_default();
        let ignore = policy == PreferencePolicy::Ignore;
        let keep = |b: bool| !ignore && b;
        let preferred_node = if keep(true) {
            by_weight_desc(na.map(|a| a.preferred.clone()).unwrap_or_default(), |t| t.weight)
        } else {
            Vec::new()
        };
        let pref = |a: Option<&PodAffinity>| {
            if ignore {
                Vec::new()
            } else {
                by_weight_desc(a.map(|a| a.preferred.clone()).unwrap_or_default(), |t| t.weight)
            }
        };
        let preferred_affinity = pref(pod.affinity.pod_affinity.as_ref());
        let preferred_anti_affinity = pref(pod.affinity.pod_anti_affinity.as_ref());
        let spread = pod
            .topology_spread_constraints
            .iter()
            .filter(|c| !ignore || c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
            .cloned()
            .collect();
        PodPrefs {
            pod,
            required,
            preferred_node,
            preferred_affinity,
            preferred_anti_affinity,
            spread,
            tolerate_prefer_no_schedule: false,
            relaxed: Vec::new(),
        }
    }

    /// Relaxes one preference; `None` when nothing is left to relax.
    pub fn relax(&mut self, prefer_no_schedule_taints_exist: bool) -> Option<String> {
        let what = if self.required.len() > 1 {
            self.required.remove(0);
            "dropped required node affinity term [0]".to_string()
        } else if !self.preferred_affinity.is_empty() {
            let t = self.preferred_affinity.remove(0);
            format!("dropped preferred pod affinity term (weight {})", t.weight)
        } else if !self.preferred_anti_affinity.is_empty() {
            let t = self.preferred_anti_affinity.remove(0);
            format!("dropped preferred pod anti-affinity term (weight {})", t.weight)
        } else if !self.preferred_node.is_empty() {
            let t = self.preferred_node.remove(0);
            format!("dropped preferred node affinity term (weight {})", t.weight)
        } else if let Some(i) =
            self.spread.iter().position(|c| c.when_unsatisfiable == WhenUnsatisfiable::ScheduleAnyway)
        {
            let c = self.spread.swap_remove(i);
            format!("dropped ScheduleAnyway topology spread on {}", c.topology_key)
        } else if prefer_no_schedule_taints_exist && !self.tolerate_prefer_no_schedule {
            self.tolerate_prefer_no_schedule = true;
            "tolerating PreferNoSchedule taints".to_string()
        } else {
            return None;
        };
        self.relaxed.push(what.clone());
        Some(what)
    }

    /// Whether PreferNoSchedule taints are tolerated yet.
    pub fn tolerates_prefer_no_schedule(&self) -> bool {
        self.tolerate_prefer_no_schedule
    }

    /// The pod with its remaining preferences as requirements.
    pub fn strict_pod(&self) -> Pod {
        let mut p = (*self.pod).clone();
        let first = self.required.first();
        let heaviest = self.preferred_node.first().filter(|t| !t.preference.match_expressions.is_empty());
        let term = match (first, heaviest) {
            (Some(r), Some(h)) => {
                let mut t = r.clone();
                t.match_expressions.extend(h.preference.match_expressions.iter().cloned());
                Some(t)
            }
            (Some(r), None) => Some(r.clone()),
            (None, Some(h)) => Some(NodeSelectorTerm::new(h.preference.match_expressions.clone(), Vec::new())),
            (None, None) => None,
        };
        let node_affinity =
            term.map(|t| NodeAffinity { required: Some(NodeSelector { terms: vec![t] }), preferred: Vec::new() });
        let harden = |orig: Option<&PodAffinity>, preferred: &[WeightedPodAffinityTerm]| -> Option<PodAffinity> {
            let mut required = orig.map(|a| a.required.clone()).unwrap_or_default();
            required.extend(preferred.iter().map(|t| t.term.clone()));
            (!required.is_empty()).then_some(PodAffinity { required, preferred: Vec::new() })
        };
        p.affinity = Affinity {
            node_affinity,
            pod_affinity: harden(self.pod.affinity.pod_affinity.as_ref(), &self.preferred_affinity),
            pod_anti_affinity: harden(self.pod.affinity.pod_anti_affinity.as_ref(), &self.preferred_anti_affinity),
        };
        p.topology_spread_constraints = self
            .spread
            .iter()
            .map(|c| TopologySpreadConstraint { when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule, ..c.clone() })
            .collect();
        if self.tolerate_prefer_no_schedule {
            p.tolerations.push(Toleration {
                key: Sym::EMPTY,
                operator: TolerationOp::Exists,
                value: Sym::EMPTY,
                effect: Some(TaintEffect::PreferNoSchedule),
                toleration_seconds: None,
            });
        }
        p
    }

    /// Karpenter's pod requirements (`NewPodRequirements` on the strict pod): nodeSelector as
    /// `In`, plus the strict required term. `Err` when the pod cannot be provisioned for
    /// (`matchFields`, restricted keys; doc §3.2).
    pub fn requirements(&self, strict: &Pod, flavor_check: &[Flavor]) -> Result<Requirements, String> {
        let mut r = Requirements::new();
        for (k, v) in strict.node_selector.iter() {
            r.add(Requirement::is_value(Sym::new(labels::normalize(k.as_str())), v));
        }
        if let Some(term) =
            strict.affinity.node_affinity.as_ref().and_then(|a| a.required.as_ref()).and_then(|s| s.terms.first())
        {
            if !term.match_fields.is_empty() {
                return Err("the pod's node affinity uses matchFields, which Karpenter does not provision for".into());
            }
            if !term.valid {
                return Err("the pod's required node affinity term is invalid".into());
            }
            for e in &term.match_expressions {
                r.add(Requirement::from_node_selector(e));
            }
        }
        for req in r.iter() {
            let key = req.key.as_str();
            // Restricted in every flavor the pools use (a key well-known to one is fine).
            if !flavor_check.is_empty()
                && let Some(reason) =
                    flavor_check.iter().map(|f| f.restricted_reason(key)).reduce(|a, b| a.and(b)).flatten()
            {
                return Err(format!("{reason} (pod selects it)"));
            }
        }
        Ok(r)
    }

    /// True when the strict pod has a `DoNotSchedule` spread constraint.
    pub fn has_hard_spread(&self) -> bool {
        !self.spread.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubesched_core::builders::PodBuilder;
    use kubesched_core::model::PodAffinityTerm;
    use kubesched_core::selector::{LabelSelector, NodeSelectorOp, NodeSelectorRequirement};

    fn expr(key: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement::new(Sym::new(key), NodeSelectorOp::In, values.iter().map(|v| Sym::new(v)).collect())
            .unwrap()
    }

    fn term(key: &str, values: &[&str]) -> NodeSelectorTerm {
        NodeSelectorTerm::new(vec![expr(key, values)], vec![])
    }

    fn anti(weight: i32, key: &str) -> WeightedPodAffinityTerm {
        WeightedPodAffinityTerm {
            weight,
            term: PodAffinityTerm {
                label_selector: Some(LabelSelector::from_match_labels([("app", "web")])),
                namespaces: vec![],
                namespace_selector: None,
                topology_key: Sym::new(key),
                match_label_keys: vec![],
                mismatch_label_keys: vec![],
            },
        }
    }

    fn spread(key: &str, when: WhenUnsatisfiable) -> TopologySpreadConstraint {
        TopologySpreadConstraint {
            max_skew: 1,
            topology_key: Sym::new(key),
            when_unsatisfiable: when,
            label_selector: Some(LabelSelector::from_match_labels([("app", "web")])),
            min_domains: None,
            node_affinity_policy: None,
            node_taints_policy: None,
            match_label_keys: vec![],
        }
    }

    fn pod() -> Arc<Pod> {
        let pod = PodBuilder::new("default", "web-1")
            .cpu_milli(500)
            .label("app", "web")
            .node_selector("team", "a")
            .with(|p| {
                p.affinity.node_affinity = Some(NodeAffinity {
                    required: Some(NodeSelector {
                        terms: vec![term("kubernetes.io/arch", &["arm64"]), term("kubernetes.io/arch", &["amd64"])],
                    }),
                    preferred: vec![
                        PreferredSchedulingTerm {
                            weight: 10,
                            preference: term("karpenter.sh/capacity-type", &["on-demand"]),
                        },
                        PreferredSchedulingTerm {
                            weight: 50,
                            preference: term("karpenter.sh/capacity-type", &["spot"]),
                        },
                    ],
                });
                p.affinity.pod_anti_affinity =
                    Some(PodAffinity { required: vec![], preferred: vec![anti(1, "kubernetes.io/hostname")] });
                p.topology_spread_constraints = vec![
                    spread("topology.kubernetes.io/zone", WhenUnsatisfiable::ScheduleAnyway),
                    spread("kubernetes.io/hostname", WhenUnsatisfiable::DoNotSchedule),
                ];
            })
            .build();
        Arc::new(pod)
    }

    #[test]
    fn strict_pod_and_karpenter_relaxation_order() {
        let mut p = PodPrefs::new(pod(), PreferencePolicy::Respect);
        let strict = p.strict_pod();
        let reqs = p.requirements(&strict, &[Flavor::KarpenterAws]).unwrap();
        assert_eq!(
            reqs.to_string(),
            "karpenter.sh/capacity-type In [spot], kubernetes.io/arch In [arm64], team In [a]"
        );
        assert_eq!(strict.affinity.pod_anti_affinity.as_ref().unwrap().required.len(), 1);
        assert!(
            strict.topology_spread_constraints.iter().all(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
        );
        let steps: Vec<String> = std::iter::from_fn(|| p.relax(true)).collect();
        assert_eq!(
            steps,
            [
                "dropped required node affinity term [0]",
                "dropped preferred pod anti-affinity term (weight 1)",
                "dropped preferred node affinity term (weight 50)",
                "dropped preferred node affinity term (weight 10)",
                "dropped ScheduleAnyway topology spread on topology.kubernetes.io/zone",
                "tolerating PreferNoSchedule taints",
            ]
        );
        let relaxed = p.strict_pod();
        let reqs = p.requirements(&relaxed, &[Flavor::KarpenterAws]).unwrap();
        assert_eq!(reqs.to_string(), "kubernetes.io/arch In [amd64], team In [a]");
        assert!(relaxed.affinity.pod_anti_affinity.is_none());
        assert_eq!(relaxed.topology_spread_constraints.len(), 1, "the DoNotSchedule constraint stays");
        assert_eq!(relaxed.tolerations.last().and_then(|t| t.effect), Some(TaintEffect::PreferNoSchedule));
        assert_eq!(relaxed.requests().cpu, 500, "requests are kept");
    }

    #[test]
    fn ignore_policy_and_unprovisionable_pods() {
        let p = PodPrefs::new(pod(), PreferencePolicy::Ignore);
        let strict = p.strict_pod();
        assert_eq!(p.requirements(&strict, &[]).unwrap().to_string(), "kubernetes.io/arch In [arm64], team In [a]");
        assert!(strict.affinity.pod_anti_affinity.is_none());
        assert_eq!(strict.topology_spread_constraints.len(), 1);
        let host = Arc::new(PodBuilder::new("default", "pinned").node_selector("kubernetes.io/hostname", "n1").build());
        let hp = PodPrefs::new(host, PreferencePolicy::Respect);
        assert!(hp.requirements(&hp.strict_pod(), &[Flavor::AutoMode]).unwrap_err().contains("restricted"));
    }
}
