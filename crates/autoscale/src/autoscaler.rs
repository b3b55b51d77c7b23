//! The autoscaler: catalog, node classes and NodePools resolved once, plus the scheduling
//! profile whose filters decide every placement, and the cluster view the provisioner and the
//! disruption controller read.

use crate::catalog::{CapacityType, Catalog};
use crate::error::AutoscaleError;
use crate::labels::Flavor;
use crate::money::Money;
use crate::nodeclass::{self, AUTO_MODE_DEFAULT_CLASS, NodeClass};
use crate::nodepool::{self, NodePool, auto_mode_builtin_pools};
use crate::provision::prefs::PreferencePolicy;
use crate::template::{PreparedPool, prepare_pool};
use kubesched_core::config::SchedulerConfig;
use kubesched_core::framework::{Profile, build_profiles};
use kubesched_core::model::Pod;
use kubesched_core::snapshot::Snapshot;
use std::sync::Arc;

/// `--min-values-policy` (doc §3.11).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum MinValuesPolicy {
    /// A NodeClaim whose options cannot meet minValues is not launched.
    #[default]
    Strict,
    /// minValues is lowered to what is achievable; the claim is marked relaxed.
    BestEffort,
}

/// Autoscaler options. Defaults are Karpenter's (doc §7).
#[derive(Clone, Debug)]
pub struct Options {
    pub preference_policy: PreferencePolicy,
    pub min_values_policy: MinValuesPolicy,
    /// Instance types sent to the launch (AWS provider truncation: 60, doc §3.9).
    pub max_instance_types: usize,
    /// Feature gate `SpotToSpotConsolidation` (default off, doc §4.7).
    pub spot_to_spot_consolidation: bool,
    /// Feature gate `NodeClaimOptimization` (default off; Karpenter core ≥ 2026,
    /// `provisioning/scheduling/nodeclaim_optimization.go`): after packing, split NodeClaims
    /// that grew to a much pricier type than their earlier pods needed. Provisioning only; the
    /// disruption simulation never uses it.
    pub nodeclaim_optimization: bool,
    /// kubesched's cost-aware repacking (default off; not a Karpenter behaviour): after
    /// Karpenter's packing, the planned NodeClaims of each pool are packed again by price per
    /// unit of what they hold, every pod re-checked by the core's filters, and the new claims
    /// kept only when they cost strictly less (`src/provision/solver/repack.rs` has the details).
    /// Off by default because the provisioner's first job is to predict what Karpenter and
    /// Auto Mode launch; on, it answers what the same pods could cost. Provisioning only; the
    /// disruption simulation never uses it.
    pub repack: bool,
    /// Add EKS Auto Mode's `general-purpose` and `system` NodePools and the `default` NodeClass
    /// when the input does not define pools of those names (doc §2.1).
    pub auto_mode_builtins: bool,
    /// Seeds NodeClaim name generation.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            preference_policy: PreferencePolicy::Respect,
            min_values_policy: MinValuesPolicy::Strict,
            max_instance_types: 60,
            spot_to_spot_consolidation: false,
            nodeclaim_optimization: false,
            repack: false,
            auto_mode_builtins: false,
            seed: 0,
        }
    }
}

/// What the autoscaler knows about a node it launched (a NodeClaim and its Node).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedNode {
    /// The Node's name in the snapshot (also the NodeClaim's here).
    pub node_name: String,
    pub node_pool: String,
    pub instance_type: String,
    pub capacity_type: CapacityType,
    pub zone: String,
    pub hourly_price: Money,
    /// Seconds (simulated clock) when the NodeClaim was launched.
    pub launched_at: i64,
    /// When the node became initialized (Ready, startup taints gone); `None` while in flight.
    pub initialized_at: Option<i64>,
    /// Last bind / termination of a pod on the node (`lastPodEventTime`).
    pub last_pod_event_at: Option<i64>,
    /// Nominated by a provisioning pass until then: not a disruption candidate (doc §3.10).
    pub nominated_until: Option<i64>,
    /// Marked for deletion (disruption, expiration, manual).
    pub deleting: bool,
    /// Node annotation `karpenter.sh/do-not-disrupt: "true"`.
    pub do_not_disrupt: bool,
}

impl ManagedNode {
    pub fn is_initialized(&self) -> bool {
        self.initialized_at.is_some()
    }
}

/// The cluster as the autoscaler reads it.
#[derive(Clone, Copy)]
pub struct ClusterView<'a> {
    /// Nodes (in-flight ones included) with their bound pods.
    pub snapshot: &'a Snapshot,
    /// Metadata of the nodes the autoscaler launched; other nodes are unmanaged.
    pub managed: &'a [ManagedNode],
    /// One pod per DaemonSet: its pod template as a pod (no `nodeName`), with the tolerations
    /// the DaemonSet controller adds.
    pub daemonsets: &'a [Arc<Pod>],
}

impl<'a> ClusterView<'a> {
    pub fn new(snapshot: &'a Snapshot) -> ClusterView<'a> {
        ClusterView { snapshot, managed: &[], daemonsets: &[] }
    }

    pub fn managed(&self, node_name: &str) -> Option<&'a ManagedNode> {
        self.managed.iter().find(|m| m.node_name == node_name)
    }
}

/// Catalog, pools and profile, resolved.
#[derive(Clone)]
pub struct Autoscaler {
    pub catalog: Catalog,
    pub options: Options,
    /// The profile whose PreFilter/Filter plugins judge every placement.
    pub profile: Profile,
    pools: Vec<PreparedPool>,
    classes: Vec<NodeClass>,
    /// Non-fatal findings (pools that can launch nothing, static pools, ignored fields).
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Autoscaler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Autoscaler")
            .field("pools", &self.pools.iter().map(|p| p.pool.name.as_str()).collect::<Vec<_>>())
            .field("catalog", &self.catalog.source)
            .finish()
    }
}

/// kube-scheduler's default profile.
pub fn default_profile() -> Profile {
    match build_profiles(&SchedulerConfig::default(), &kubesched_core::plugins::registry()) {
        Ok(mut p) if !p.is_empty() => p.remove(0),
        // The default configuration always builds; this arm only keeps the function total.
        _ => Profile {
            scheduler_name: kubesched_core::Sym::DEFAULT_SCHEDULER,
            percentage_of_nodes_to_score: None,
            plugins: Vec::new(),
            queue_sort: None,
            pre_enqueue: Vec::new(),
            pre_filter: Vec::new(),
            filter: Vec::new(),
            post_filter: Vec::new(),
            pre_score: Vec::new(),
            score: Vec::new(),
            reserve: Vec::new(),
            bind: Vec::new(),
        },
    }
}

impl Autoscaler {
    /// Resolves every pool against its node class. Errors: a pool whose node class is missing,
    /// duplicate names. Pools are ordered by weight (desc), then name (desc), as Karpenter tries
    /// them (doc §3.2).
    pub fn new(
        catalog: Catalog,
        mut classes: Vec<NodeClass>,
        mut pools: Vec<NodePool>,
        profile: Profile,
        options: Options,
    ) -> Result<Autoscaler, Vec<AutoscaleError>> {
        if options.auto_mode_builtins {
            for p in auto_mode_builtin_pools() {
                if !pools.iter().any(|q| q.name == p.name) {
                    pools.push(p);
                }
            }
            if !classes.iter().any(|c| c.flavor() == Flavor::AutoMode && c.name == AUTO_MODE_DEFAULT_CLASS) {
                classes.push(NodeClass::auto_mode_default());
            }
        }
        let mut errors = nodepool::check_unique(&pools);
        errors.extend(nodeclass::check_unique(&classes));
        let mut warnings = Vec::new();
        let mut prepared = Vec::new();
        for pool in &pools {
            errors.extend(pool.check_requirements());
            if pool.replicas.is_some() {
                warnings.push(format!(
                    "NodePool {:?}: static (replicas) pools are not provisioned or consolidated",
                    pool.name
                ));
                continue;
            }
            let flavor = pool.flavor();
            let Some(class) = classes.iter().find(|c| c.flavor() == flavor && c.name == pool.node_class_name) else {
                errors.push(AutoscaleError::new(
                    &pool.location,
                    "spec.template.spec.nodeClassRef.name",
                    format!("{} {:?} not found", pool.node_class_kind, pool.node_class_name),
                ));
                continue;
            };
            let p = prepare_pool(pool, class, &catalog);
            if p.types.is_empty() {
                warnings.push(format!(
                    "NodePool {:?}: no instance type of the catalog satisfies its requirements",
                    pool.name
                ));
            }
            prepared.push(p);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        prepared.sort_by(|a, b| b.pool.weight.cmp(&a.pool.weight).then_with(|| b.pool.name.cmp(&a.pool.name)));
        Ok(Autoscaler { catalog, options, profile, pools: prepared, classes, warnings })
    }

    /// The pools in the order they are tried.
    pub fn pools(&self) -> &[PreparedPool] {
        &self.pools
    }

    pub fn pool(&self, name: &str) -> Option<&PreparedPool> {
        self.pools.iter().find(|p| p.pool.name == name)
    }

    pub(crate) fn pool_index(&self, name: &str) -> Option<usize> {
        self.pools.iter().position(|p| p.pool.name == name)
    }

    pub fn node_classes(&self) -> &[NodeClass] {
        &self.classes
    }

    /// The flavors the pools speak (for the restricted-label check on pods).
    pub(crate) fn flavors(&self) -> Vec<Flavor> {
        let mut f: Vec<Flavor> = self.pools.iter().map(|p| p.flavor()).collect();
        f.sort();
        f.dedup();
        f
    }
}
