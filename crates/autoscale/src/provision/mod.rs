//! Provisioning (doc §3): pods the scheduler found no room for are placed on existing nodes,
//! on NodeClaims planned in this pass, or on new NodeClaims from the NodePools in weight order,
//! each placement checked by the core's filters on a concrete node.
//!
//! ```
//! use kubesched_autoscale::{Autoscaler, ClusterView, Options, default_profile};
//! use kubesched_autoscale::catalog::Catalog;
//! use kubesched_core::builders::PodBuilder;
//! use kubesched_core::snapshot::Snapshot;
//! use std::sync::Arc;
//!
//! let options = Options { auto_mode_builtins: true, ..Options::default() };
//! let auto = Autoscaler::new(Catalog::embedded(), vec![], vec![], default_profile(), options).unwrap();
//! let pods: Vec<_> = (0..10)
//!     .map(|i| Arc::new(PodBuilder::new("default", &format!("web-{i}")).cpu_milli(1000).build()))
//!     .collect();
//! let snapshot = Snapshot::new();
//! let plan = auto.provision(&ClusterView::new(&snapshot), pods);
//! assert_eq!(plan.node_claims.len(), 1);
//! assert_eq!(plan.node_claims[0].pods.len(), 10);
//! assert!(plan.errors.is_empty());
//! ```

pub mod prefs;
pub(crate) mod solver;
#[cfg(test)]
mod tests;

use crate::autoscaler::{Autoscaler, ClusterView, ManagedNode};
use crate::catalog::CapacityType;
use crate::money::Money;
use kubesched_core::Sym;
use kubesched_core::model::{Node, Pod};
use kubesched_core::resources::Resources;
use serde_json::{Value, json};
use solver::{Placed, Solver};
use std::sync::Arc;

/// A NodeClaim the provisioner would create.
#[derive(Clone, Debug)]
pub struct PlannedNodeClaim {
    /// `<nodepool>-<5 random characters>`, also the node's name here.
    pub name: String,
    pub node_pool: String,
    /// The type the launch picks (cheapest available offering; doc §3.9).
    pub instance_type: String,
    /// The compatible types sent to the launch, cheapest first (truncated to
    /// `Options::max_instance_types`, widened if minValues needs it).
    pub instance_type_options: Vec<String>,
    pub capacity_type: CapacityType,
    pub zone: String,
    pub hourly_price: Money,
    /// The pods planned onto it, in the order they were placed.
    pub pods: Vec<Arc<Pod>>,
    /// DaemonSet pods the core's filters put on it.
    pub daemonset_pods: Vec<Arc<Pod>>,
    /// Pods plus DaemonSets, `pods` counted.
    pub requests: Resources,
    /// The node as it registers: labels (`karpenter.sh/registered=true`), the pool's taints and
    /// startup taints, capacity and allocatable.
    pub node: Node,
    /// The pool's startup taints (on `node` until the node is initialized).
    pub startup_taints: Vec<kubesched_core::model::Taint>,
    /// The NodeClaim's requirements after every pod narrowed them (for display).
    pub requirements: String,
    /// Why this instance type.
    pub reason: String,
    /// minValues could not be met and was relaxed (`BestEffort`).
    pub min_values_relaxed: bool,
}

impl PlannedNodeClaim {
    /// The node once initialized (doc §3.10): startup taints removed, labelled
    /// `karpenter.sh/initialized=true`.
    pub fn initialized_node(&self) -> Node {
        let mut n = self.node.clone();
        n.taints.retain(|t| !self.startup_taints.iter().any(|s| s.key == t.key && s.effect == t.effect));
        let s = crate::labels::syms();
        n.labels.insert(s.initialized, s.r#true);
        n
    }

    /// The node between registration and Ready: as registered, plus the kubelet's
    /// `node.kubernetes.io/not-ready:NoSchedule` taint and a NotReady condition. A simulator
    /// puts in-flight NodeClaims into the cluster view like this (with a [`ManagedNode`] whose
    /// `initialized_at` is `None`): the provisioner then counts their capacity, ignoring these
    /// taints and the startup taints as Karpenter does.
    pub fn in_flight_node(&self) -> Node {
        let mut n = self.node.clone();
        n.taints.push(kubesched_core::model::Taint::new(
            "node.kubernetes.io/not-ready",
            "",
            kubesched_core::model::TaintEffect::NoSchedule,
        ));
        n.readiness = kubesched_core::model::Readiness::NotReady;
        n
    }

    /// The metadata the autoscaler needs about the node once launched at `now`.
    pub fn managed(&self, now: i64) -> ManagedNode {
        ManagedNode {
            node_name: self.name.clone(),
            node_pool: self.node_pool.clone(),
            instance_type: self.instance_type.clone(),
            capacity_type: self.capacity_type,
            zone: self.zone.clone(),
            hourly_price: self.hourly_price,
            launched_at: now,
            initialized_at: None,
            last_pod_event_at: None,
            nominated_until: None,
            deleting: false,
            do_not_disrupt: false,
        }
    }

    /// `{name, nodePool, instanceType, instanceTypeOptions, capacityType, zone, hourlyPrice,
    /// pods}`; the price is a decimal string with six places (exact).
    pub fn to_json(&self) -> Value {
        let price = self.hourly_price.to_string();
        json!({
            "name": self.name,
            "nodePool": self.node_pool,
            "instanceType": self.instance_type,
            "instanceTypeOptions": self.instance_type_options,
            "capacityType": self.capacity_type.as_str(),
            "zone": self.zone,
            "hourlyPrice": price.trim_start_matches('$'),
            "pods": self.pods.iter().map(|p| p.key()).collect::<Vec<_>>(),
        })
    }
}

/// A pod placed on a node that already exists (or is in flight from an earlier pass).
#[derive(Clone, Debug)]
pub struct ExistingPlacement {
    pub pod: Arc<Pod>,
    pub node: String,
    /// False when the node is still in flight.
    pub initialized: bool,
}

/// The result of one provisioning pass.
#[derive(Clone, Debug, Default)]
pub struct Provisioning {
    pub node_claims: Vec<PlannedNodeClaim>,
    pub existing: Vec<ExistingPlacement>,
    /// Pods that fit nowhere, with the reason.
    pub errors: Vec<(Arc<Pod>, String)>,
    /// Pods that were placed only after relaxing preferences, with what was relaxed.
    pub relaxed: Vec<(Arc<Pod>, Vec<String>)>,
}

impl Provisioning {
    /// $/hour of the planned NodeClaims.
    pub fn hourly_cost(&self) -> Money {
        self.node_claims.iter().map(|c| c.hourly_price).sum()
    }
}

impl Autoscaler {
    /// One provisioning pass over `pending` (pods the scheduler could not place).
    pub fn provision(&self, view: &ClusterView<'_>, pending: Vec<Arc<Pod>>) -> Provisioning {
        let (mut solver, _) = Solver::new(self, view, &[], self.options.seed);
        solver.solve(pending);
        if self.options.repack {
            solver.repack();
        }
        finish(self, solver)
    }
}

pub(crate) fn finish(a: &Autoscaler, solver: Solver<'_>) -> Provisioning {
    let mut out = Provisioning::default();
    for (pod, placed) in &solver.placements {
        if let Placed::Existing { node, initialized } = placed {
            out.existing.push(ExistingPlacement {
                pod: pod.clone(),
                node: solver.snap.node(*node).name().as_str().to_string(),
                initialized: *initialized,
            });
        }
    }
    for claim in &solver.claims {
        out.node_claims.push(planned_from(a, &solver, claim));
    }
    out.errors = solver.errors;
    out.relaxed = solver.relaxed;
    out
}

/// The NodeClaim a planned claim becomes.
pub(crate) fn planned_from(a: &Autoscaler, solver: &Solver<'_>, claim: &solver::Claim) -> PlannedNodeClaim {
    let pool = &a.pools()[claim.pool];
    let ct = claim.launch.capacity_type;
    // Options by the price of their cheapest offering of the launched capacity type here.
    let price_of = |ti: usize| -> Money {
        let t = &pool.types[ti];
        t.offerings_for(&claim.reqs, Some(claim.zone))
            .filter(|o| o.capacity_type == ct)
            .map(|o| o.price)
            .min()
            .or_else(|| t.offerings_for(&claim.reqs, Some(claim.zone)).map(|o| o.price).min())
            .unwrap_or(Money(i64::MAX))
    };
    let mut priced: Vec<(Money, &str, usize)> =
        claim.options.iter().map(|&i| (price_of(i), pool.types[i].name.as_str(), i)).collect();
    priced.sort();
    let mut options: Vec<usize> = priced.into_iter().map(|(_, _, i)| i).collect();
    let mut keep = a.options.max_instance_types.max(1).min(options.len());
    // Widen the list until every minValues is met (Karpenter fails the launch instead, doc §3.8).
    while keep < options.len()
        && claim.reqs.with_min_values().any(|r| {
            let mut seen: Vec<Sym> = Vec::new();
            for &i in &options[..keep] {
                if let Some(v) = pool.types[i].label(r.key)
                    && !seen.contains(&v)
                {
                    seen.push(v);
                }
            }
            seen.len() < r.min_values.unwrap_or(0) as usize
        })
    {
        keep += 1;
    }
    options.truncate(keep);
    if !options.contains(&claim.launch.type_index) {
        options.insert(0, claim.launch.type_index);
    }
    let mut node = (*solver.snap.node(claim.node).node).clone();
    node.taints.extend(pool.pool.startup_taints.iter().cloned());
    node.labels.remove(crate::labels::syms().initialized);
    let mut requests = claim.requests.clone();
    requests.add(&claim.daemon.requests);
    let chosen = pool.types[claim.launch.type_index].name.as_str();
    let reason = format!(
        "cheapest {} offering in {} among {} compatible instance types that fit {} pods ({}m CPU, {} MiB) plus {} DaemonSet pods",
        ct.as_str(),
        claim.zone,
        claim.options.len(),
        claim.pods.len(),
        claim.requests.cpu,
        claim.requests.memory >> 20,
        claim.daemon.pods.len(),
    );
    PlannedNodeClaim {
        name: claim.name.clone(),
        node_pool: pool.pool.name.clone(),
        instance_type: chosen.to_string(),
        instance_type_options: options.iter().map(|&i| pool.types[i].name.as_str().to_string()).collect(),
        capacity_type: ct,
        zone: claim.zone.as_str().to_string(),
        hourly_price: claim.launch.price,
        pods: claim.pods.clone(),
        daemonset_pods: claim.daemon.pods.clone(),
        requests,
        node,
        startup_taints: pool.pool.startup_taints.clone(),
        requirements: claim.reqs.to_string(),
        reason,
        min_values_relaxed: claim.min_values_relaxed,
    }
}
