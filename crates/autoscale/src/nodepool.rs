//! `NodePool` (`karpenter.sh/v1`, doc §1.1) read from raw documents and validated the way the
//! CRD and its CEL rules do, plus EKS Auto Mode's built-in `general-purpose` and `system` pools
//! exactly as EKS defines them (doc §2.1).

use crate::cron::Schedule;
use crate::duration::{MaybeNever, format_go, parse_budget_duration, parse_hms, parse_maybe_never};
use crate::error::AutoscaleError;
use crate::json::{Reader, join};
use crate::labels::{self, Flavor};
use crate::nodeclass::{
    AUTO_MODE_DEFAULT_CLASS, AUTO_MODE_GROUP, AUTO_MODE_KIND, EC2_NODE_CLASS_GROUP, EC2_NODE_CLASS_KIND,
};
use crate::requirements::{Operator, Requirement, Requirements};
use kubesched_core::Sym;
use kubesched_core::model::{IntOrPercent, Taint, TaintEffect};
use kubesched_core::resources::Resources;
use serde_json::Value;
use std::collections::BTreeMap;

/// Default `expireAfter` (doc §1.1).
pub const DEFAULT_EXPIRE_AFTER: i64 = 720 * 3_600;
/// Auto Mode's maximum node lifetime: `expireAfter + terminationGracePeriod` (doc §2.2).
pub const AUTO_MODE_MAX_LIFETIME: i64 = 21 * 86_400;
/// The termination grace period Auto Mode assumes when none is set (doc §2.2).
pub const AUTO_MODE_DEFAULT_TGP: i64 = 24 * 3_600;
/// Default disruption budget: 10% of the pool's nodes.
pub const DEFAULT_BUDGET_PERCENT: i32 = 10;
pub const MAX_REQUIREMENTS: usize = 100;
pub const MAX_BUDGETS: usize = 50;
/// Built-in pool names.
pub const GENERAL_PURPOSE: &str = "general-purpose";
pub const SYSTEM: &str = "system";

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum ConsolidationPolicy {
    WhenEmpty,
    WhenEmptyOrUnderutilized,
    /// v1.14+; scored like `WhenEmptyOrUnderutilized` here (doc §4.12 is not modelled).
    Balanced,
}

impl ConsolidationPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsolidationPolicy::WhenEmpty => "WhenEmpty",
            ConsolidationPolicy::WhenEmptyOrUnderutilized => "WhenEmptyOrUnderutilized",
            ConsolidationPolicy::Balanced => "Balanced",
        }
    }
}

/// Why a node is disrupted (budget `reasons`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum DisruptionReason {
    Underutilized,
    Empty,
    Drifted,
}

impl DisruptionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DisruptionReason::Underutilized => "Underutilized",
            DisruptionReason::Empty => "Empty",
            DisruptionReason::Drifted => "Drifted",
        }
    }
}

/// One disruption budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    pub nodes: IntOrPercent,
    /// Empty = every reason.
    pub reasons: Vec<DisruptionReason>,
    /// The schedule text and its parse; with `duration_seconds`.
    pub schedule: Option<(String, Schedule)>,
    pub duration_seconds: Option<i64>,
}

impl Budget {
    pub fn percent(p: i32) -> Budget {
        Budget { nodes: IntOrPercent::Percent(p), reasons: Vec::new(), schedule: None, duration_seconds: None }
    }

    /// Whether the budget is in force at `now` (Unix seconds, UTC). Budgets without a schedule
    /// always are.
    pub fn is_active(&self, now: i64) -> bool {
        match (&self.schedule, self.duration_seconds) {
            (Some((_, s)), Some(d)) => s.active(now, d),
            _ => true,
        }
    }

    /// `GetAllowedDisruptions`: the budget scaled to `num_nodes` (percentages round up); an
    /// inactive scheduled budget allows any number.
    pub fn allowed(&self, num_nodes: i32, now: i64) -> i32 {
        if !self.is_active(now) {
            return i32::MAX;
        }
        self.nodes.scaled(num_nodes, true)
    }

    pub fn applies_to(&self, reason: DisruptionReason) -> bool {
        self.reasons.is_empty() || self.reasons.contains(&reason)
    }
}

/// `spec.limits`: a resource is limited only when listed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Limits {
    /// Limited resources with their limits (cpu in millicores, memory in bytes, scalars in units).
    pub resources: Vec<(Sym, i64)>,
    pub nodes: Option<i64>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.nodes.is_none()
    }

    /// `ExceededBy`: some listed resource's usage is above its limit.
    pub fn exceeded_by(&self, usage: &Resources, nodes: i64) -> bool {
        self.resources.iter().any(|&(name, limit)| usage.get(name) > limit) || self.nodes.is_some_and(|n| nodes > n)
    }
}

/// One requirement as written, with its parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequirementSpec {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
    pub min_values: Option<u32>,
}

/// A NodePool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePool {
    pub name: String,
    /// Source label of the document; empty for built-ins.
    pub location: String,
    pub metadata_labels: BTreeMap<String, String>,
    pub template_labels: BTreeMap<String, String>,
    pub template_annotations: BTreeMap<String, String>,
    /// `nodeClassRef`.
    pub node_class_group: String,
    pub node_class_kind: String,
    pub node_class_name: String,
    pub requirements: Vec<RequirementSpec>,
    pub taints: Vec<Taint>,
    pub startup_taints: Vec<Taint>,
    pub expire_after: MaybeNever,
    pub termination_grace_period: Option<i64>,
    pub consolidation_policy: ConsolidationPolicy,
    pub consolidate_after: MaybeNever,
    pub budgets: Vec<Budget>,
    pub limits: Limits,
    /// `weight`; absent = 0.
    pub weight: i32,
    /// Static pool (`replicas`): not provisioned dynamically nor consolidated.
    pub replicas: Option<i64>,
    /// EKS-managed built-in pool.
    pub built_in: bool,
}

impl NodePool {
    /// The provider vocabulary the pool's node class speaks.
    pub fn flavor(&self) -> Flavor {
        if self.node_class_group == AUTO_MODE_GROUP { Flavor::AutoMode } else { Flavor::KarpenterAws }
    }

    /// The requirements as an algebra set (minValues kept).
    pub fn requirement_set(&self) -> Requirements {
        let mut r = Requirements::new();
        for spec in &self.requirements {
            let values: Vec<&str> = spec.values.iter().map(String::as_str).collect();
            // Validated when read; a failure here cannot happen for a parsed pool.
            if let Ok(req) = Requirement::new(&spec.key, spec.operator, &values) {
                r.add(req.with_min_values(spec.min_values));
            }
        }
        r
    }

    /// Errors for requirements that do not parse (pools built in code rather than read).
    pub fn check_requirements(&self) -> Vec<AutoscaleError> {
        self.requirements
            .iter()
            .enumerate()
            .filter_map(|(i, spec)| {
                let values: Vec<&str> = spec.values.iter().map(String::as_str).collect();
                Requirement::new(&spec.key, spec.operator, &values)
                    .err()
                    .map(|e| AutoscaleError::new(&self.location, format!("spec.template.spec.requirements[{i}]"), e))
            })
            .collect()
    }

    /// A minimal pool (for tests and programmatic use): no requirements, default disruption.
    pub fn new(name: &str, flavor: Flavor, node_class: &str) -> NodePool {
        let (group, kind) = match flavor {
            Flavor::KarpenterAws => (EC2_NODE_CLASS_GROUP, EC2_NODE_CLASS_KIND),
            Flavor::AutoMode => (AUTO_MODE_GROUP, AUTO_MODE_KIND),
        };
        NodePool {
            name: name.to_string(),
            location: String::new(),
            metadata_labels: BTreeMap::new(),
            template_labels: BTreeMap::new(),
            template_annotations: BTreeMap::new(),
            node_class_group: group.to_string(),
            node_class_kind: kind.to_string(),
            node_class_name: node_class.to_string(),
            requirements: Vec::new(),
            taints: Vec::new(),
            startup_taints: Vec::new(),
            expire_after: MaybeNever::After(DEFAULT_EXPIRE_AFTER),
            termination_grace_period: None,
            consolidation_policy: ConsolidationPolicy::WhenEmptyOrUnderutilized,
            consolidate_after: MaybeNever::After(0),
            budgets: vec![Budget::percent(DEFAULT_BUDGET_PERCENT)],
            limits: Limits::default(),
            weight: 0,
            replicas: None,
            built_in: false,
        }
    }

    /// Adds a requirement (builder style). An invalid operator/value combination is reported
    /// by [`NodePool::check_requirements`] (and by `Autoscaler::new`).
    pub fn require(mut self, key: &str, op: Operator, values: &[&str]) -> NodePool {
        self.requirements.push(RequirementSpec {
            key: key.to_string(),
            operator: op,
            values: values.iter().map(|v| v.to_string()).collect(),
            min_values: None,
        });
        self
    }
}

/// EKS Auto Mode's built-in pools, exactly as `kubectl get nodepool -o yaml` shows them on
/// Auto Mode clusters (doc §2.1): `general-purpose` (amd64) and `system` (amd64 + arm64,
/// `CriticalAddonsOnly:NoSchedule`), both on-demand C/M/R generation ≥ 5 Linux, the `default`
/// NodeClass, `consolidateAfter: 30s`, `expireAfter: 336h`, `terminationGracePeriod: 24h0m0s`,
/// budget 10%.
pub fn auto_mode_builtin_pools() -> Vec<NodePool> {
    let base = |name: &str, arches: &[&str]| {
        let mut p = NodePool::new(name, Flavor::AutoMode, AUTO_MODE_DEFAULT_CLASS)
            .require(labels::CAPACITY_TYPE, Operator::In, &["on-demand"])
            .require("eks.amazonaws.com/instance-category", Operator::In, &["c", "m", "r"])
            .require("eks.amazonaws.com/instance-generation", Operator::Gt, &["4"])
            .require(labels::ARCH, Operator::In, arches)
            .require(labels::OS, Operator::In, &["linux"]);
        p.metadata_labels.insert("app.kubernetes.io/managed-by".into(), "eks".into());
        p.consolidate_after = MaybeNever::After(30);
        p.expire_after = MaybeNever::After(336 * 3_600);
        p.termination_grace_period = Some(24 * 3_600);
        p.built_in = true;
        p
    };
    let general = base(GENERAL_PURPOSE, &["amd64"]);
    let mut system = base(SYSTEM, &["amd64", "arm64"]);
    system.taints.push(Taint::new("CriticalAddonsOnly", "", TaintEffect::NoSchedule));
    vec![general, system]
}

/// True for `karpenter.sh/*` `NodePool` documents.
pub fn is_node_pool_document(doc: &Value) -> bool {
    doc.get("kind").and_then(Value::as_str) == Some("NodePool")
        && doc.get("apiVersion").and_then(Value::as_str).is_some_and(|a| a.starts_with("karpenter.sh/"))
}

/// Reads and validates a `karpenter.sh/v1` NodePool. Returns the pool and warnings, or every
/// error, each naming `source` and the field.
pub fn node_pool_from_value(source: &str, doc: &Value) -> Result<(NodePool, Vec<String>), Vec<AutoscaleError>> {
    let mut r = Reader::new(source);
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if api != "karpenter.sh/v1" || doc.get("kind").and_then(Value::as_str) != Some("NodePool") {
        r.err("apiVersion", format!("{api:?}: only karpenter.sh/v1 NodePool is supported"));
        return Err(r.errors);
    }
    let meta = r.object(doc.get("metadata"), "metadata");
    let name = r.required_string(meta.and_then(|m| m.get("name")), "metadata.name").unwrap_or("");
    let mut pool = NodePool::new(name, Flavor::KarpenterAws, "");
    pool.location = source.to_string();
    pool.metadata_labels = r.string_map(meta.and_then(|m| m.get("labels")), "metadata.labels");
    let Some(spec) = r.object(doc.get("spec"), "spec") else {
        r.err("spec", "Required value");
        return Err(r.errors);
    };
    r.unknown_keys(spec, &["template", "disruption", "limits", "weight", "replicas"], "spec");
    let template = r.object(spec.get("template"), "spec.template");
    if template.is_none() {
        r.err("spec.template", "Required value");
    }
    let tmeta = template.and_then(|t| r.object(t.get("metadata"), "spec.template.metadata"));
    pool.template_labels = r.string_map(tmeta.and_then(|m| m.get("labels")), "spec.template.metadata.labels");
    pool.template_annotations =
        r.string_map(tmeta.and_then(|m| m.get("annotations")), "spec.template.metadata.annotations");
    let tspec = template.and_then(|t| r.object(t.get("spec"), "spec.template.spec"));
    if template.is_some() && tspec.is_none() {
        r.err("spec.template.spec", "Required value");
    }
    if let Some(ts) = tspec {
        r.unknown_keys(
            ts,
            &["nodeClassRef", "requirements", "taints", "startupTaints", "expireAfter", "terminationGracePeriod"],
            "spec.template.spec",
        );
        read_node_class_ref(&mut r, ts.get("nodeClassRef"), &mut pool);
        let flavor = pool.flavor();
        read_requirements(&mut r, ts.get("requirements"), flavor, &mut pool);
        pool.taints = r.taints(ts.get("taints"), "spec.template.spec.taints");
        pool.startup_taints = r.taints(ts.get("startupTaints"), "spec.template.spec.startupTaints");
        if let Some(s) = r.string(ts.get("expireAfter"), "spec.template.spec.expireAfter") {
            match parse_maybe_never(s) {
                Some(d) => pool.expire_after = d,
                None => {
                    r.err("spec.template.spec.expireAfter", format!("{s:?} should match '^(([0-9]+(s|m|h))+|Never)$'"))
                }
            }
        }
        if let Some(s) = r.string(ts.get("terminationGracePeriod"), "spec.template.spec.terminationGracePeriod") {
            match parse_hms(s) {
                Some(d) => pool.termination_grace_period = Some(d),
                None => r.err(
                    "spec.template.spec.terminationGracePeriod",
                    format!("{s:?} should match '^([0-9]+(s|m|h))+$'"),
                ),
            }
        }
    }
    let flavor = pool.flavor();
    for (k, _) in pool.template_labels.clone() {
        let p = join("spec.template.metadata.labels", &k);
        if let Some(reason) = flavor.restricted_reason(&k) {
            r.err(p, reason);
        } else if k == labels::NODEPOOL {
            r.err(p, "label \"karpenter.sh/nodepool\" is restricted");
        }
    }
    read_disruption(&mut r, spec.get("disruption"), &mut pool);
    read_limits(&mut r, spec.get("limits"), &mut pool);
    if let Some(w) = r.int(spec.get("weight"), "spec.weight") {
        if (1..=100).contains(&w) {
            pool.weight = w as i32;
        } else {
            r.err("spec.weight", format!("{w} should be between 1 and 100"));
        }
    }
    if let Some(n) = r.int(spec.get("replicas"), "spec.replicas") {
        if n < 0 {
            r.err("spec.replicas", "must be non-negative");
        }
        pool.replicas = Some(n);
        r.warn("spec.replicas", "static NodePools are not provisioned or consolidated by this tool");
        if spec.contains_key("weight") {
            r.err("spec.weight", "a static NodePool (replicas) cannot have a weight");
        }
    }
    // Auto Mode caps a node's life at 21 days including the grace period (doc §2.2).
    if flavor == Flavor::AutoMode
        && let MaybeNever::After(e) = pool.expire_after
    {
        let tgp = pool.termination_grace_period.unwrap_or(AUTO_MODE_DEFAULT_TGP);
        if e + tgp > AUTO_MODE_MAX_LIFETIME {
            r.err(
                "spec.template.spec.expireAfter",
                format!(
                    "expireAfter {} + terminationGracePeriod {} exceeds EKS Auto Mode's maximum node lifetime of 21 days (504h)",
                    format_go(e),
                    format_go(tgp)
                ),
            );
        }
    }
    r.finish(pool)
}

fn read_node_class_ref(r: &mut Reader<'_>, v: Option<&Value>, pool: &mut NodePool) {
    let path = "spec.template.spec.nodeClassRef";
    let Some(m) = r.object(v, path) else {
        r.err(path, "Required value");
        return;
    };
    let group = r.required_string(m.get("group"), &join(path, "group")).unwrap_or("");
    let kind = r.required_string(m.get("kind"), &join(path, "kind")).unwrap_or("");
    let name = r.required_string(m.get("name"), &join(path, "name")).unwrap_or("");
    match (group, kind) {
        (EC2_NODE_CLASS_GROUP, EC2_NODE_CLASS_KIND) | (AUTO_MODE_GROUP, AUTO_MODE_KIND) | ("", _) | (_, "") => {}
        _ => r.err(
            path,
            format!(
                "{group}/{kind}: supported node classes are karpenter.k8s.aws/EC2NodeClass and eks.amazonaws.com/NodeClass"
            ),
        ),
    }
    pool.node_class_group = group.to_string();
    pool.node_class_kind = kind.to_string();
    pool.node_class_name = name.to_string();
}

fn read_requirements(r: &mut Reader<'_>, v: Option<&Value>, flavor: Flavor, pool: &mut NodePool) {
    let path = "spec.template.spec.requirements";
    if v.is_none_or(Value::is_null) {
        r.err(path, "Required value");
        return;
    }
    let list = r.list(v, path);
    if list.len() > MAX_REQUIREMENTS {
        r.err(path, format!("Too many: {}: must have at most {MAX_REQUIREMENTS} items", list.len()));
    }
    for (i, item) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(m) = r.object(Some(item), &p) else { continue };
        let key = r.required_string(m.get("key"), &join(&p, "key"));
        let op_text = r.required_string(m.get("operator"), &join(&p, "operator"));
        let mut values = Vec::new();
        for (j, val) in r.list(m.get("values"), &join(&p, "values")).iter().enumerate() {
            if let Some(s) = r.string(Some(val), &format!("{p}.values[{j}]")) {
                values.push(s.to_string());
            }
        }
        let min_values = r.int(m.get("minValues"), &join(&p, "minValues"));
        let (Some(key), Some(op_text)) = (key, op_text) else { continue };
        let Some(op) = Operator::parse(op_text) else {
            r.err(
                join(&p, "operator"),
                format!(
                    "Unsupported value: {op_text:?}: supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\", \"Gt\", \"Lt\", \"Gte\", \"Lte\""
                ),
            );
            continue;
        };
        let key = labels::normalize(key).to_string();
        if let Some(reason) = flavor.restricted_reason(&key) {
            r.err(join(&p, "key"), reason);
            continue;
        }
        if flavor == Flavor::AutoMode && key.starts_with("karpenter.k8s.aws/") {
            let suffix = key.trim_start_matches("karpenter.k8s.aws/");
            r.err(
                join(&p, "key"),
                format!("an EKS Auto Mode NodePool selects instances with eks.amazonaws.com/{suffix}, not {key}"),
            );
            continue;
        }
        if matches!(op, Operator::Gt | Operator::Lt | Operator::Gte | Operator::Lte)
            && values.len() == 1
            && values[0].parse::<i64>().is_ok_and(|n| n < 0)
        {
            r.err(join(&p, "values"), format!("{} requires a non-negative integer", op.as_str()));
            continue;
        }
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        if let Err(e) = Requirement::new(&key, op, &refs) {
            r.err(join(&p, "values"), e);
            continue;
        }
        let min_values = match min_values {
            None => None,
            Some(n) if (1..=50).contains(&n) => {
                if op == Operator::In && (values.len() as i64) < n {
                    r.err(
                        join(&p, "minValues"),
                        format!("requirements with operator 'In' must have a value count >= minValues ({n})"),
                    );
                }
                Some(n as u32)
            }
            Some(n) => {
                r.err(join(&p, "minValues"), format!("{n} should be between 1 and 50"));
                None
            }
        };
        pool.requirements.push(RequirementSpec { key, operator: op, values, min_values });
    }
}

fn read_disruption(r: &mut Reader<'_>, v: Option<&Value>, pool: &mut NodePool) {
    let path = "spec.disruption";
    let Some(d) = r.object(v, path) else { return };
    r.unknown_keys(d, &["consolidationPolicy", "consolidateAfter", "budgets"], path);
    if let Some(p) = r.string(d.get("consolidationPolicy"), "spec.disruption.consolidationPolicy") {
        pool.consolidation_policy = match p {
            "WhenEmpty" => ConsolidationPolicy::WhenEmpty,
            "WhenEmptyOrUnderutilized" => ConsolidationPolicy::WhenEmptyOrUnderutilized,
            "Balanced" => ConsolidationPolicy::Balanced,
            other => {
                r.err(
                    "spec.disruption.consolidationPolicy",
                    format!("Unsupported value: {other:?}: supported values: \"WhenEmpty\", \"WhenEmptyOrUnderutilized\", \"Balanced\""),
                );
                pool.consolidation_policy
            }
        };
    }
    if let Some(s) = r.string(d.get("consolidateAfter"), "spec.disruption.consolidateAfter") {
        match parse_maybe_never(s) {
            Some(v) => pool.consolidate_after = v,
            None => {
                r.err("spec.disruption.consolidateAfter", format!("{s:?} should match '^(([0-9]+(s|m|h))+|Never)$'"))
            }
        }
    }
    if d.contains_key("budgets") {
        let list = r.list(d.get("budgets"), "spec.disruption.budgets");
        if list.len() > MAX_BUDGETS {
            r.err(
                "spec.disruption.budgets",
                format!("Too many: {}: must have at most {MAX_BUDGETS} items", list.len()),
            );
        }
        let mut budgets = Vec::new();
        for (i, b) in list.iter().enumerate() {
            let p = format!("spec.disruption.budgets[{i}]");
            if let Some(b) = read_budget(r, b, &p) {
                budgets.push(b);
            }
        }
        pool.budgets = budgets;
    }
}

fn read_budget(r: &mut Reader<'_>, v: &Value, p: &str) -> Option<Budget> {
    let m = r.object(Some(v), p)?;
    r.unknown_keys(m, &["nodes", "reasons", "schedule", "duration"], p);
    let nodes_path = join(p, "nodes");
    let nodes = r.string(m.get("nodes"), &nodes_path).unwrap_or("10%");
    let parsed = match nodes.strip_suffix('%') {
        Some(pct) if !pct.is_empty() && pct.len() <= 3 && pct.bytes().all(|b| b.is_ascii_digit()) => {
            pct.parse::<i32>().ok().filter(|p| *p <= 100).map(IntOrPercent::Percent)
        }
        Some(_) => None,
        None if !nodes.is_empty() && nodes.bytes().all(|b| b.is_ascii_digit()) => {
            nodes.parse().ok().map(IntOrPercent::Int)
        }
        None => None,
    };
    let Some(nodes) = parsed else {
        r.err(nodes_path, format!("{nodes:?} should match '^((100|[0-9]{{1,2}})%|[0-9]+)$'"));
        return None;
    };
    let mut reasons = Vec::new();
    for (j, reason) in r.list(m.get("reasons"), &join(p, "reasons")).iter().enumerate() {
        let rp = format!("{p}.reasons[{j}]");
        match r.string(Some(reason), &rp) {
            Some("Underutilized") => reasons.push(DisruptionReason::Underutilized),
            Some("Empty") => reasons.push(DisruptionReason::Empty),
            Some("Drifted") => reasons.push(DisruptionReason::Drifted),
            Some(other) => r.err(
                rp,
                format!("Unsupported value: {other:?}: supported values: \"Underutilized\", \"Empty\", \"Drifted\""),
            ),
            None => {}
        }
    }
    let schedule = match r.string(m.get("schedule"), &join(p, "schedule")) {
        None => None,
        Some(s) => match Schedule::parse(s) {
            Ok(parsed) => Some((s.to_string(), parsed)),
            Err(e) => {
                r.err(join(p, "schedule"), format!("{s:?}: {e}"));
                return None;
            }
        },
    };
    let duration = match r.string(m.get("duration"), &join(p, "duration")) {
        None => None,
        Some(s) => match parse_budget_duration(s) {
            Some(d) => Some(d),
            None => {
                r.err(join(p, "duration"), format!("{s:?} should match '^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$'"));
                return None;
            }
        },
    };
    if schedule.is_some() != duration.is_some() {
        r.err(p, "'schedule' must be set with 'duration'");
        return None;
    }
    Some(Budget { nodes, reasons, schedule, duration_seconds: duration })
}

fn read_limits(r: &mut Reader<'_>, v: Option<&Value>, pool: &mut NodePool) {
    let Some(m) = r.object(v, "spec.limits") else { return };
    for (k, val) in m {
        let p = join("spec.limits", k);
        let Some(q) = r.quantity(Some(val), &p) else { continue };
        match k.as_str() {
            "nodes" => pool.limits.nodes = Some(q.value()),
            "cpu" => pool.limits.resources.push((Sym::CPU, q.milli_value())),
            other => pool.limits.resources.push((Sym::new(other), q.value())),
        }
    }
    if pool.replicas.is_some() && !pool.limits.resources.is_empty() {
        r.err("spec.limits", "a static NodePool only supports limits.nodes");
    }
}

/// Errors for pools that share a name.
pub fn check_unique(pools: &[NodePool]) -> Vec<AutoscaleError> {
    let mut out = Vec::new();
    for (i, p) in pools.iter().enumerate() {
        if pools[..i].iter().any(|q| q.name == p.name) {
            out.push(AutoscaleError::new(
                &p.location,
                "metadata.name",
                format!("NodePool {:?} is defined twice", p.name),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graviton_spot() -> Value {
        json!({
            "apiVersion": "karpenter.sh/v1", "kind": "NodePool",
            "metadata": {"name": "graviton"},
            "spec": {
                "template": {
                    "metadata": {"labels": {"team": "ml"}},
                    "spec": {
                        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                        "requirements": [
                            {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]},
                            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]},
                            {"key": "karpenter.k8s.aws/instance-family", "operator": "In",
                             "values": ["c6g", "c7g", "m7g"], "minValues": 2},
                            {"key": "karpenter.k8s.aws/instance-cpu", "operator": "Lt", "values": ["33"]}
                        ],
                        "taints": [{"key": "arch", "value": "arm", "effect": "NoSchedule"}],
                        "startupTaints": [{"key": "node.cilium.io/agent-not-ready", "effect": "NoExecute"}],
                        "expireAfter": "168h"
                    }
                },
                "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m",
                               "budgets": [{"nodes": "20%"}, {"nodes": "0", "reasons": ["Underutilized"],
                                            "schedule": "0 9 * * mon-fri", "duration": "8h"}]},
                "limits": {"cpu": "1000", "memory": "1000Gi", "nodes": 20},
                "weight": 50
            }
        })
    }

    #[test]
    fn reads_a_full_node_pool() {
        let (p, warnings) = node_pool_from_value("np.yaml", &graviton_spot()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(p.name, "graviton");
        assert_eq!(p.flavor(), Flavor::KarpenterAws);
        assert_eq!(p.requirements.len(), 4);
        assert_eq!(p.requirements[2].min_values, Some(2));
        assert_eq!(p.taints, vec![Taint::new("arch", "arm", TaintEffect::NoSchedule)]);
        assert_eq!(p.startup_taints.len(), 1);
        assert_eq!(p.expire_after, MaybeNever::After(168 * 3_600));
        assert_eq!(p.consolidation_policy, ConsolidationPolicy::WhenEmpty);
        assert_eq!(p.consolidate_after, MaybeNever::After(300));
        assert_eq!(p.budgets.len(), 2);
        assert_eq!(p.budgets[1].reasons, vec![DisruptionReason::Underutilized]);
        assert_eq!(p.limits.resources, vec![(Sym::CPU, 1_000_000), (Sym::MEMORY, 1000 << 30)]);
        assert_eq!(p.limits.nodes, Some(20));
        assert_eq!(p.weight, 50);
        let set = p.requirement_set();
        assert!(set.admits(Sym::new("karpenter.k8s.aws/instance-cpu"), Some(Sym::new("32"))));
        assert!(!set.admits(Sym::new("karpenter.k8s.aws/instance-cpu"), Some(Sym::new("64"))));
    }

    #[test]
    fn defaults_when_fields_are_absent() {
        let doc = json!({"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "default"},
            "spec": {"template": {"spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                                           "requirements": []}}}});
        let (p, _) = node_pool_from_value("np.yaml", &doc).unwrap();
        assert_eq!(p.expire_after, MaybeNever::After(DEFAULT_EXPIRE_AFTER));
        assert_eq!(p.consolidate_after, MaybeNever::After(0));
        assert_eq!(p.consolidation_policy, ConsolidationPolicy::WhenEmptyOrUnderutilized);
        assert_eq!(p.budgets, vec![Budget::percent(10)]);
        assert_eq!(p.weight, 0);
        assert!(p.limits.is_empty());
    }

    #[test]
    fn validation_errors_name_the_field() {
        let doc = json!({"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "bad"},
        "spec": {
            "template": {
                "metadata": {"labels": {"kubernetes.io/team": "x"}},
                "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass"},
                "requirements": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": ["a"]},
                    {"key": "karpenter.k8s.aws/instance-cpu", "operator": "Gt", "values": ["four"]},
                    {"key": "topology.kubernetes.io/zone", "operator": "Within", "values": ["a"]},
                    {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["c6g"], "minValues": 2},
                    {"key": "kubernetes.io/arch", "operator": "In", "values": []}
                ],
                "taints": [{"key": "a", "effect": "Sometimes"}],
                "expireAfter": "30d"}},
            "disruption": {"consolidationPolicy": "WhenUnderutilized",
                           "budgets": [{"nodes": "110%"}, {"nodes": "1", "schedule": "@daily"}]},
            "limits": {"cpu": "lots"},
            "weight": 0
        }});
        let errs: Vec<String> =
            node_pool_from_value("np.yaml", &doc).unwrap_err().iter().map(|e| e.to_string()).collect();
        let want = [
            "np.yaml: spec.template.spec.nodeClassRef.name: Required value",
            "np.yaml: spec.template.spec.requirements[0].key: label \"kubernetes.io/hostname\" is restricted",
            "np.yaml: spec.template.spec.requirements[1].values: operator Gt requires an integer value, got \"four\"",
            "np.yaml: spec.template.spec.requirements[2].operator: Unsupported value: \"Within\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\", \"Gt\", \"Lt\", \"Gte\", \"Lte\"",
            "np.yaml: spec.template.spec.requirements[3].minValues: requirements with operator 'In' must have a value count >= minValues (2)",
            "np.yaml: spec.template.spec.requirements[4].values: operator In requires at least one value",
            "np.yaml: spec.template.spec.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            "np.yaml: spec.template.spec.expireAfter: \"30d\" should match '^(([0-9]+(s|m|h))+|Never)$'",
            "np.yaml: spec.template.metadata.labels.kubernetes.io/team: label \"kubernetes.io/team\" is restricted; specify a well known label or a custom label that does not use a restricted domain",
            "np.yaml: spec.disruption.consolidationPolicy: Unsupported value: \"WhenUnderutilized\": supported values: \"WhenEmpty\", \"WhenEmptyOrUnderutilized\", \"Balanced\"",
            "np.yaml: spec.disruption.budgets[0].nodes: \"110%\" should match '^((100|[0-9]{1,2})%|[0-9]+)$'",
            "np.yaml: spec.disruption.budgets[1]: 'schedule' must be set with 'duration'",
            "np.yaml: spec.limits.cpu: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            "np.yaml: spec.weight: 0 should be between 1 and 100",
        ];
        assert_eq!(errs, want);
    }

    #[test]
    fn auto_mode_rules() {
        let doc = json!({"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "am"},
            "spec": {"template": {"spec": {
                "nodeClassRef": {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "default"},
                "requirements": [{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m5"]},
                                 {"key": "eks.amazonaws.com/instance-family", "operator": "In", "values": ["m5"]}],
                "expireAfter": "720h"}}}});
        let errs: Vec<String> =
            node_pool_from_value("am.yaml", &doc).unwrap_err().iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errs,
            [
                "am.yaml: spec.template.spec.requirements[0].key: an EKS Auto Mode NodePool selects instances with eks.amazonaws.com/instance-family, not karpenter.k8s.aws/instance-family",
                "am.yaml: spec.template.spec.expireAfter: expireAfter 720h0m0s + terminationGracePeriod 24h0m0s exceeds EKS Auto Mode's maximum node lifetime of 21 days (504h)",
            ]
        );
    }

    #[test]
    fn builtin_pools_are_exactly_eks() {
        let pools = auto_mode_builtin_pools();
        let gp = &pools[0];
        assert_eq!(gp.name, "general-purpose");
        assert_eq!(gp.flavor(), Flavor::AutoMode);
        assert_eq!(
            (gp.node_class_group.as_str(), gp.node_class_kind.as_str(), gp.node_class_name.as_str()),
            ("eks.amazonaws.com", "NodeClass", "default")
        );
        assert_eq!(gp.consolidate_after, MaybeNever::After(30));
        assert_eq!(gp.expire_after, MaybeNever::After(336 * 3_600));
        assert_eq!(gp.termination_grace_period, Some(86_400));
        assert_eq!(gp.budgets, vec![Budget::percent(10)]);
        assert!(gp.taints.is_empty());
        assert_eq!(
            gp.requirement_set().to_string(),
            "eks.amazonaws.com/instance-category In [c m r], eks.amazonaws.com/instance-generation Exists >=5, karpenter.sh/capacity-type In [on-demand], kubernetes.io/arch In [amd64], kubernetes.io/os In [linux]"
        );
        let sys = &pools[1];
        assert_eq!(sys.taints, vec![Taint::new("CriticalAddonsOnly", "", TaintEffect::NoSchedule)]);
        assert!(sys.requirement_set().admits(Sym::new("kubernetes.io/arch"), Some(Sym::new("arm64"))));
        assert_eq!(sys.metadata_labels.get("app.kubernetes.io/managed-by").map(String::as_str), Some("eks"));
    }

    #[test]
    fn pools_built_in_code_are_checked() {
        let bad = NodePool::new("p", Flavor::KarpenterAws, "default").require("k", Operator::Gt, &["x"]);
        let errs = bad.check_requirements();
        assert_eq!(errs[0].field, "spec.template.spec.requirements[0]");
        assert_eq!(errs[0].message, "operator Gt requires an integer value, got \"x\"");
    }

    #[test]
    fn budgets_scale_round_up_and_follow_schedules() {
        let b = Budget::percent(10);
        assert_eq!([1, 10, 11, 20, 21].map(|n| b.allowed(n, 0)), [1, 1, 2, 2, 3]);
        assert_eq!(Budget::percent(20).allowed(19, 0), 4);
        let (p, _) = node_pool_from_value("np.yaml", &graviton_spot()).unwrap();
        let business = &p.budgets[1];
        let monday_10am = 1_717_405_200 + 3_600;
        assert_eq!(business.allowed(10, monday_10am), 0);
        assert_eq!(business.allowed(10, monday_10am + 8 * 3_600), i32::MAX, "inactive outside the window");
        assert!(business.applies_to(DisruptionReason::Underutilized) && !business.applies_to(DisruptionReason::Empty));
    }
}
