//! Taints and tolerations, with `v1.Toleration.ToleratesTaint` semantics.

use crate::intern::Sym;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }

    pub fn parse(s: &str) -> Option<TaintEffect> {
        match s {
            "NoSchedule" => Some(TaintEffect::NoSchedule),
            "PreferNoSchedule" => Some(TaintEffect::PreferNoSchedule),
            "NoExecute" => Some(TaintEffect::NoExecute),
            _ => None,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct Taint {
    pub key: Sym,
    pub value: Sym,
    pub effect: TaintEffect,
    /// `timeAdded` in seconds of simulated (or wall) time, for NoExecute eviction timers.
    pub time_added: Option<i64>,
}

impl Taint {
    pub fn new(key: &str, value: &str, effect: TaintEffect) -> Taint {
        Taint { key: Sym::new(key), value: Sym::new(value), effect, time_added: None }
    }

    /// `{key: value}` as kube-scheduler prints it in `node(s) had untolerated taint {…}`.
    pub fn describe(&self) -> String {
        format!("{{{}: {}}}", self.key, self.value)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum TolerationOp {
    Equal,
    Exists,
}

#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct Toleration {
    /// Empty with `Exists` tolerates every key.
    pub key: Sym,
    pub operator: TolerationOp,
    pub value: Sym,
    /// `None` tolerates every effect.
    pub effect: Option<TaintEffect>,
    pub toleration_seconds: Option<i64>,
}

impl Toleration {
    /// `ToleratesTaint`: effect empty or equal, key empty or equal, and value equal under `Equal`.
    #[inline]
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if let Some(e) = self.effect
            && e != taint.effect
        {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        match self.operator {
            TolerationOp::Exists => true,
            TolerationOp::Equal => self.value == taint.value,
        }
    }
}

/// True when some toleration tolerates `taint`.
#[inline]
pub fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| t.tolerates(taint))
}

/// The first taint with one of `effects` that no toleration tolerates
/// (`FindMatchingUntoleratedTaint`).
pub fn first_untolerated<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    effects: &[TaintEffect],
) -> Option<&'a Taint> {
    taints.iter().find(|t| effects.contains(&t.effect) && !tolerated(tolerations, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tol(key: &str, op: TolerationOp, value: &str, effect: Option<TaintEffect>) -> Toleration {
        Toleration { key: Sym::new(key), operator: op, value: Sym::new(value), effect, toleration_seconds: None }
    }

    #[test]
    fn toleration_matching_rules() {
        let taint = Taint::new("dedicated", "gpu", TaintEffect::NoSchedule);
        assert!(tol("dedicated", TolerationOp::Equal, "gpu", Some(TaintEffect::NoSchedule)).tolerates(&taint));
        assert!(!tol("dedicated", TolerationOp::Equal, "cpu", Some(TaintEffect::NoSchedule)).tolerates(&taint));
        assert!(tol("dedicated", TolerationOp::Exists, "", Some(TaintEffect::NoSchedule)).tolerates(&taint));
        // No effect tolerates every effect.
        assert!(tol("dedicated", TolerationOp::Equal, "gpu", None).tolerates(&taint));
        assert!(!tol("dedicated", TolerationOp::Equal, "gpu", Some(TaintEffect::NoExecute)).tolerates(&taint));
        // Empty key with Exists tolerates everything.
        assert!(tol("", TolerationOp::Exists, "", None).tolerates(&taint));
        assert!(!tol("other", TolerationOp::Exists, "", None).tolerates(&taint));
    }

    #[test]
    fn describe_matches_kube_scheduler() {
        assert_eq!(Taint::new("dedicated", "gpu", TaintEffect::NoSchedule).describe(), "{dedicated: gpu}");
        assert_eq!(
            Taint::new("node-role.kubernetes.io/control-plane", "", TaintEffect::NoSchedule).describe(),
            "{node-role.kubernetes.io/control-plane: }"
        );
    }
}
