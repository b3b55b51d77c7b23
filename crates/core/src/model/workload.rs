//! Cluster objects that constrain scheduling without being scheduled: PodDisruptionBudgets
//! (preemption, draining) and the selectors of Services and controllers (topology spread's
//! system default constraints).

use crate::intern::Sym;
use crate::selector::LabelSelector;

/// `intstr.IntOrString` as used for budgets: an absolute count or a percentage.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum IntOrPercent {
    Int(i32),
    Percent(i32),
}

impl IntOrPercent {
    /// `GetScaledValueFromIntOrPercent`: a percentage of `total`, rounded up or down.
    pub fn scaled(self, total: i32, round_up: bool) -> i32 {
        match self {
            IntOrPercent::Int(v) => v,
            IntOrPercent::Percent(p) => {
                let num = p as i64 * total as i64;
                let v = if round_up { (num + 99).div_euclid(100) } else { num.div_euclid(100) };
                v as i32
            }
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PodDisruptionBudget {
    pub namespace: Sym,
    pub name: Sym,
    /// `None` (nil) selects no pods; an empty selector selects every pod of the namespace.
    pub selector: Option<LabelSelector>,
    pub min_available: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
    /// `status.disruptionsAllowed` when the input carries a status; recomputed otherwise.
    pub status_disruptions_allowed: Option<i32>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum WorkloadKind {
    Service,
    ReplicationController,
    ReplicaSet,
    StatefulSet,
}

/// The selector of a Service, ReplicationController, ReplicaSet or StatefulSet.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct WorkloadSelector {
    pub kind: WorkloadKind,
    pub namespace: Sym,
    pub name: Sym,
    pub selector: LabelSelector,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_scale_with_rounding() {
        assert_eq!(IntOrPercent::Percent(50).scaled(3, true), 2);
        assert_eq!(IntOrPercent::Percent(50).scaled(3, false), 1);
        assert_eq!(IntOrPercent::Int(4).scaled(3, true), 4);
        assert_eq!(IntOrPercent::Percent(10).scaled(10, true), 1);
    }
}
