//! `k8s-openapi` objects → `kubesched_core::model`, one object at a time.
//!
//! The simulator converts pods as its controllers create them, so every function here takes one
//! object and returns the model or the list of invalid fields (paths relative to the object).
//! Pods are expected to have gone through admission ([`crate::admission`]) first: requests are
//! read from `resources.requests` only (admission copies limits into missing requests).

use k8s_openapi::api::core::v1 as api;
use k8s_openapi::api::policy::v1::PodDisruptionBudget as K8sPdb;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kubesched_core::intern::Sym;
use kubesched_core::labels::Labels;
use kubesched_core::model::{
    self, Affinity, Container, HostPort, InclusionPolicy, IntOrPercent, NodeImage, OwnerRef, PodAffinity,
    PodAffinityTerm, PodPhase, PreemptionPolicy, Readiness, Taint, TaintEffect, Toleration, TolerationOp,
    TopologySpreadConstraint, WeightedPodAffinityTerm, WhenUnsatisfiable, WorkloadKind, WorkloadSelector,
};
use kubesched_core::plugins::image_locality::normalized_image_name;
use kubesched_core::quantity::Quantity;
use kubesched_core::resources::Resources;
use kubesched_core::selector::{
    LabelOp, LabelRequirement, LabelSelector, NodeFieldRequirement, NodeSelector, NodeSelectorOp,
    NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm,
};
use smallvec::SmallVec;
use std::collections::BTreeMap;
use std::fmt;

use crate::tree::FieldPath;

/// An invalid field of one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError {
    pub path: FieldPath,
    pub message: String,
}

impl ConvertError {
    pub fn new(path: FieldPath, message: impl Into<String>) -> ConvertError {
        ConvertError { path, message: message.into() }
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for ConvertError {}

fn root() -> FieldPath {
    FieldPath::root()
}

fn sym_opt(s: Option<&String>) -> Option<Sym> {
    s.filter(|s| !s.is_empty()).map(|s| Sym::new(s))
}

/// A label map, interned.
pub fn labels(map: &BTreeMap<String, String>) -> Labels {
    map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn opt_labels(map: Option<&BTreeMap<String, String>>) -> Labels {
    map.map(labels).unwrap_or_default()
}

/// Seconds since the Unix epoch.
pub fn time_seconds(t: &meta::Time) -> i64 {
    t.0.as_second()
}

/// Parses a quantity exactly; malformed text gives apimachinery's message.
pub fn quantity(q: &K8sQuantity, path: &FieldPath) -> Result<Quantity, ConvertError> {
    q.0.parse::<Quantity>().map_err(|e| ConvertError::new(path.clone(), e.to_string()))
}

/// A resource list (`requests`, `allocatable`, `overhead`): CPU in millicores, everything else
/// in whole units (`Value()`). Negative amounts are invalid.
pub fn resources(map: &BTreeMap<String, K8sQuantity>, path: &FieldPath, errs: &mut Vec<ConvertError>) -> Resources {
    let mut r = Resources::new();
    for (name, q) in map {
        let p = path.key(name);
        match quantity(q, &p) {
            Err(e) => errs.push(e),
            Ok(v) if v.is_negative() => {
                errs.push(ConvertError::new(p, format!("Invalid value: {:?}: must be greater than or equal to 0", q.0)))
            }
            Ok(v) => {
                let sym = Sym::new(name);
                r.set(sym, if sym == Sym::CPU { v.milli_value() } else { v.value() });
            }
        }
    }
    r
}

fn label_op(op: &str) -> Option<LabelOp> {
    match op {
        "In" => Some(LabelOp::In),
        "NotIn" => Some(LabelOp::NotIn),
        "Exists" => Some(LabelOp::Exists),
        "DoesNotExist" => Some(LabelOp::DoesNotExist),
        _ => None,
    }
}

/// `metav1.LabelSelector` → a compiled selector (`LabelSelectorAsSelector`).
pub fn label_selector(sel: &meta::LabelSelector, path: &FieldPath) -> Result<LabelSelector, ConvertError> {
    let mut out = LabelSelector::everything();
    if let Some(ml) = &sel.match_labels {
        for (k, v) in ml {
            out.push(LabelRequirement { key: Sym::new(k), op: LabelOp::In, values: smallvec::smallvec![Sym::new(v)] });
        }
    }
    for (i, expr) in sel.match_expressions.iter().flatten().enumerate() {
        let p = path.key("matchExpressions").index(i);
        let op = label_op(&expr.operator).ok_or_else(|| {
            ConvertError::new(
                p.key("operator"),
                format!(
                    "Unsupported value: {:?}: supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"",
                    expr.operator
                ),
            )
        })?;
        let values: SmallVec<[Sym; 2]> = expr.values.iter().flatten().map(|v| Sym::new(v)).collect();
        let req = LabelRequirement::new(Sym::new(&expr.key), op, values)
            .map_err(|m| ConvertError::new(p.key("values"), m))?;
        out.push(req);
    }
    Ok(out)
}

fn node_selector_op(op: &str) -> Option<NodeSelectorOp> {
    match op {
        "In" => Some(NodeSelectorOp::In),
        "NotIn" => Some(NodeSelectorOp::NotIn),
        "Exists" => Some(NodeSelectorOp::Exists),
        "DoesNotExist" => Some(NodeSelectorOp::DoesNotExist),
        "Gt" => Some(NodeSelectorOp::Gt),
        "Lt" => Some(NodeSelectorOp::Lt),
        _ => None,
    }
}

/// A node selector term. A requirement that does not parse makes the whole term
/// [`NodeSelectorTerm::invalid`] (it matches nothing), as kube-scheduler ignores it.
pub fn node_selector_term(term: &api::NodeSelectorTerm) -> NodeSelectorTerm {
    let mut exprs = Vec::new();
    for r in term.match_expressions.iter().flatten() {
        let Some(op) = node_selector_op(&r.operator) else { return NodeSelectorTerm::invalid() };
        let values = r.values.iter().flatten().map(|v| Sym::new(v)).collect();
        match NodeSelectorRequirement::new(Sym::new(&r.key), op, values) {
            Ok(req) => exprs.push(req),
            Err(_) => return NodeSelectorTerm::invalid(),
        }
    }
    let mut fields = Vec::new();
    for r in term.match_fields.iter().flatten() {
        let Some(op) = node_selector_op(&r.operator) else { return NodeSelectorTerm::invalid() };
        let values: Vec<Sym> = r.values.iter().flatten().map(|v| Sym::new(v)).collect();
        match NodeFieldRequirement::new(&r.key, op, &values) {
            Ok(req) => fields.push(req),
            Err(_) => return NodeSelectorTerm::invalid(),
        }
    }
    NodeSelectorTerm::new(exprs, fields)
}

pub fn node_selector(sel: &api::NodeSelector) -> NodeSelector {
    NodeSelector { terms: sel.node_selector_terms.iter().map(node_selector_term).collect() }
}

pub fn node_affinity(na: &api::NodeAffinity) -> model::NodeAffinity {
    model::NodeAffinity {
        required: na.required_during_scheduling_ignored_during_execution.as_ref().map(node_selector),
        preferred: na
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .map(|p| PreferredSchedulingTerm { weight: p.weight, preference: node_selector_term(&p.preference) })
            .collect(),
    }
}

/// Adds `key In/NotIn [labels[key]]` for each key present in the pod's labels, as the API
/// server does at pod creation for `matchLabelKeys`/`mismatchLabelKeys` (kube-scheduler.md
/// §4.10, §4.11). Keys absent from the labels are ignored; a requirement already present is not
/// added twice (pods from a cluster dump were merged by the API server already).
fn merge_label_keys(
    sel: &mut LabelSelector,
    pod_labels: &BTreeMap<String, String>,
    match_keys: &[String],
    mismatch_keys: &[String],
) {
    for (keys, op) in [(match_keys, LabelOp::In), (mismatch_keys, LabelOp::NotIn)] {
        for key in keys {
            if let Some(v) = pod_labels.get(key) {
                let req = LabelRequirement { key: Sym::new(key), op, values: smallvec::smallvec![Sym::new(v)] };
                if !sel.requirements.contains(&req) {
                    sel.push(req);
                }
            }
        }
    }
}

fn pod_affinity_term(
    t: &api::PodAffinityTerm,
    pod_labels: &BTreeMap<String, String>,
    path: &FieldPath,
    errs: &mut Vec<ConvertError>,
) -> Option<PodAffinityTerm> {
    if t.topology_key.is_empty() {
        errs.push(ConvertError::new(path.key("topologyKey"), "Required value: can not be empty"));
        return None;
    }
    let match_keys = t.match_label_keys.clone().unwrap_or_default();
    let mismatch_keys = t.mismatch_label_keys.clone().unwrap_or_default();
    let selector = match &t.label_selector {
        None => None,
        Some(s) => match label_selector(s, &path.key("labelSelector")) {
            Ok(mut sel) => {
                merge_label_keys(&mut sel, pod_labels, &match_keys, &mismatch_keys);
                Some(sel)
            }
            Err(e) => {
                errs.push(e);
                return None;
            }
        },
    };
    let namespace_selector = match &t.namespace_selector {
        None => None,
        Some(s) => match label_selector(s, &path.key("namespaceSelector")) {
            Ok(sel) => Some(sel),
            Err(e) => {
                errs.push(e);
                return None;
            }
        },
    };
    Some(PodAffinityTerm {
        label_selector: selector,
        namespaces: t.namespaces.iter().flatten().map(|n| Sym::new(n)).collect(),
        namespace_selector,
        topology_key: Sym::new(&t.topology_key),
        match_label_keys: match_keys.iter().map(|k| Sym::new(k)).collect(),
        mismatch_label_keys: mismatch_keys.iter().map(|k| Sym::new(k)).collect(),
    })
}

fn pod_affinity(
    required: Option<&Vec<api::PodAffinityTerm>>,
    preferred: Option<&Vec<api::WeightedPodAffinityTerm>>,
    pod_labels: &BTreeMap<String, String>,
    path: &FieldPath,
    errs: &mut Vec<ConvertError>,
) -> PodAffinity {
    let req_path = path.key("requiredDuringSchedulingIgnoredDuringExecution");
    let pref_path = path.key("preferredDuringSchedulingIgnoredDuringExecution");
    PodAffinity {
        required: required
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, t)| pod_affinity_term(t, pod_labels, &req_path.index(i), errs))
            .collect(),
        preferred: preferred
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, w)| {
                pod_affinity_term(&w.pod_affinity_term, pod_labels, &pref_path.index(i).key("podAffinityTerm"), errs)
                    .map(|term| WeightedPodAffinityTerm { weight: w.weight, term })
            })
            .collect(),
    }
}

fn inclusion_policy(v: Option<&String>, path: FieldPath, errs: &mut Vec<ConvertError>) -> Option<InclusionPolicy> {
    match v.map(String::as_str) {
        None | Some("") => None,
        Some("Honor") => Some(InclusionPolicy::Honor),
        Some("Ignore") => Some(InclusionPolicy::Ignore),
        Some(other) => {
            errs.push(ConvertError::new(
                path,
                format!("Unsupported value: {other:?}: supported values: \"Honor\", \"Ignore\""),
            ));
            None
        }
    }
}

fn topology_spread(
    c: &api::TopologySpreadConstraint,
    pod_labels: &BTreeMap<String, String>,
    path: &FieldPath,
    errs: &mut Vec<ConvertError>,
) -> Option<TopologySpreadConstraint> {
    let when = match c.when_unsatisfiable.as_str() {
        "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
        "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
        other => {
            errs.push(ConvertError::new(
                path.key("whenUnsatisfiable"),
                format!("Unsupported value: {other:?}: supported values: \"DoNotSchedule\", \"ScheduleAnyway\""),
            ));
            return None;
        }
    };
    if c.max_skew <= 0 {
        errs.push(ConvertError::new(
            path.key("maxSkew"),
            format!("Invalid value: {}: must be greater than zero", c.max_skew),
        ));
        return None;
    }
    if c.topology_key.is_empty() {
        errs.push(ConvertError::new(path.key("topologyKey"), "Required value: can not be empty"));
        return None;
    }
    let match_keys = c.match_label_keys.clone().unwrap_or_default();
    let selector = match &c.label_selector {
        None => None,
        Some(s) => match label_selector(s, &path.key("labelSelector")) {
            Ok(mut sel) => {
                merge_label_keys(&mut sel, pod_labels, &match_keys, &[]);
                Some(sel)
            }
            Err(e) => {
                errs.push(e);
                return None;
            }
        },
    };
    Some(TopologySpreadConstraint {
        max_skew: c.max_skew,
        topology_key: Sym::new(&c.topology_key),
        when_unsatisfiable: when,
        label_selector: selector,
        min_domains: c.min_domains,
        node_affinity_policy: inclusion_policy(c.node_affinity_policy.as_ref(), path.key("nodeAffinityPolicy"), errs),
        node_taints_policy: inclusion_policy(c.node_taints_policy.as_ref(), path.key("nodeTaintsPolicy"), errs),
        match_label_keys: match_keys.iter().map(|k| Sym::new(k)).collect(),
    })
}

fn taint_effect(effect: &str, path: FieldPath, errs: &mut Vec<ConvertError>) -> Option<TaintEffect> {
    let parsed = TaintEffect::parse(effect);
    if parsed.is_none() {
        errs.push(ConvertError::new(
            path,
            format!(
                "Unsupported value: {effect:?}: supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""
            ),
        ));
    }
    parsed
}

/// `v1.Toleration`s; an empty operator means `Equal`, an empty effect every effect.
pub fn tolerations(list: &[api::Toleration], path: &FieldPath, errs: &mut Vec<ConvertError>) -> Vec<Toleration> {
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        let p = path.index(i);
        let operator = match t.operator.as_deref() {
            None | Some("") | Some("Equal") => TolerationOp::Equal,
            Some("Exists") => TolerationOp::Exists,
            Some(other) => {
                errs.push(ConvertError::new(
                    p.key("operator"),
                    format!("Unsupported value: {other:?}: supported values: \"Equal\", \"Exists\""),
                ));
                continue;
            }
        };
        let value = t.value.as_deref().unwrap_or_default();
        if operator == TolerationOp::Exists && !value.is_empty() {
            errs.push(ConvertError::new(
                p.key("operator"),
                format!("Invalid value: {value:?}: value must be empty when `operator` is 'Exists'"),
            ));
            continue;
        }
        let effect = match t.effect.as_deref() {
            None | Some("") => None,
            Some(e) => match taint_effect(e, p.key("effect"), errs) {
                Some(e) => Some(e),
                None => continue,
            },
        };
        out.push(Toleration {
            key: Sym::new(t.key.as_deref().unwrap_or_default()),
            operator,
            value: Sym::new(value),
            effect,
            toleration_seconds: t.toleration_seconds,
        });
    }
    out
}

fn container(c: &api::Container, restartable: bool, path: &FieldPath, errs: &mut Vec<ConvertError>) -> Container {
    let empty = BTreeMap::new();
    let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref()).unwrap_or(&empty);
    let req = resources(requests, &path.key("resources").key("requests"), errs);
    let host_ports = c
        .ports
        .iter()
        .flatten()
        .filter(|p| p.host_port.is_some_and(|hp| hp > 0))
        .map(|p| HostPort {
            ip: match p.host_ip.as_deref() {
                None | Some("") => HostPort::any_ip(),
                Some(ip) => Sym::new(ip),
            },
            protocol: Sym::new(p.protocol.as_deref().filter(|s| !s.is_empty()).unwrap_or("TCP")),
            port: p.host_port.unwrap_or_default(),
        })
        .collect();
    Container {
        name: Sym::new(&c.name),
        image: match c.image.as_deref() {
            None | Some("") => Sym::EMPTY,
            Some(image) => Sym::new(&normalized_image_name(image)),
        },
        requests: req,
        has_cpu_request: requests.contains_key("cpu"),
        has_memory_request: requests.contains_key("memory"),
        restartable,
        host_ports,
    }
}

fn phase(p: Option<&str>) -> PodPhase {
    match p {
        None | Some("") | Some("Pending") => PodPhase::Pending,
        Some("Running") => PodPhase::Running,
        Some("Succeeded") => PodPhase::Succeeded,
        Some("Failed") => PodPhase::Failed,
        Some(_) => PodPhase::Unknown,
    }
}

/// The controller owner reference (`controller: true`), if any.
pub fn controller_ref(m: &meta::ObjectMeta) -> Option<&meta::OwnerReference> {
    m.owner_references.iter().flatten().find(|o| o.controller == Some(true))
}

/// A pod, after admission. Every invalid field is reported.
pub fn pod(p: &api::Pod) -> Result<model::Pod, Vec<ConvertError>> {
    let mut errs = Vec::new();
    let m = &p.metadata;
    let empty_spec = api::PodSpec::default();
    let spec = p.spec.as_ref().unwrap_or(&empty_spec);
    let spec_path = root().key("spec");
    let pod_labels = m.labels.clone().unwrap_or_default();
    let mut out = model::Pod::new(
        m.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default"),
        m.name.as_deref().unwrap_or_default(),
    );
    out.uid = Sym::new(m.uid.as_deref().unwrap_or_default());
    out.labels = labels(&pod_labels);
    out.annotations = m.annotations.clone().unwrap_or_default();
    out.owner =
        controller_ref(m).map(|o| OwnerRef { kind: Sym::new(&o.kind), name: Sym::new(&o.name), uid: Sym::new(&o.uid) });
    out.node_name = sym_opt(spec.node_name.as_ref());
    if let Some(s) = sym_opt(spec.scheduler_name.as_ref()) {
        out.scheduler_name = s;
    }
    out.priority = spec.priority.unwrap_or(0);
    out.priority_class_name = sym_opt(spec.priority_class_name.as_ref());
    out.preemption_policy = match spec.preemption_policy.as_deref() {
        None | Some("") | Some("PreemptLowerPriority") => PreemptionPolicy::PreemptLowerPriority,
        Some("Never") => PreemptionPolicy::Never,
        Some(other) => {
            errs.push(ConvertError::new(
                spec_path.key("preemptionPolicy"),
                format!("Unsupported value: {other:?}: supported values: \"Never\", \"PreemptLowerPriority\""),
            ));
            PreemptionPolicy::PreemptLowerPriority
        }
    };
    out.node_selector = opt_labels(spec.node_selector.as_ref());
    if let Some(a) = &spec.affinity {
        let ap = spec_path.key("affinity");
        out.affinity = Affinity {
            node_affinity: a.node_affinity.as_ref().map(node_affinity),
            pod_affinity: a.pod_affinity.as_ref().map(|pa| {
                pod_affinity(
                    pa.required_during_scheduling_ignored_during_execution.as_ref(),
                    pa.preferred_during_scheduling_ignored_during_execution.as_ref(),
                    &pod_labels,
                    &ap.key("podAffinity"),
                    &mut errs,
                )
            }),
            pod_anti_affinity: a.pod_anti_affinity.as_ref().map(|pa| {
                pod_affinity(
                    pa.required_during_scheduling_ignored_during_execution.as_ref(),
                    pa.preferred_during_scheduling_ignored_during_execution.as_ref(),
                    &pod_labels,
                    &ap.key("podAntiAffinity"),
                    &mut errs,
                )
            }),
        };
    }
    out.tolerations =
        tolerations(spec.tolerations.as_deref().unwrap_or_default(), &spec_path.key("tolerations"), &mut errs);
    out.topology_spread_constraints = spec
        .topology_spread_constraints
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, c)| {
            topology_spread(c, &pod_labels, &spec_path.key("topologySpreadConstraints").index(i), &mut errs)
        })
        .collect();
    out.scheduling_gates = spec.scheduling_gates.iter().flatten().map(|g| Sym::new(&g.name)).collect();
    out.containers = spec
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| container(c, false, &spec_path.key("containers").index(i), &mut errs))
        .collect();
    out.init_containers = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| {
            let restartable = c.restart_policy.as_deref() == Some("Always");
            container(c, restartable, &spec_path.key("initContainers").index(i), &mut errs)
        })
        .collect();
    if let Some(overhead) = &spec.overhead {
        out.overhead = resources(overhead, &spec_path.key("overhead"), &mut errs);
    }
    let status = p.status.as_ref();
    out.phase = phase(status.and_then(|s| s.phase.as_deref()));
    out.terminating = m.deletion_timestamp.is_some();
    out.start_time = status.and_then(|s| s.start_time.as_ref()).map(time_seconds);
    out.creation_time = m.creation_timestamp.as_ref().map(time_seconds);
    out.nominated_node_name = status.and_then(|s| sym_opt(s.nominated_node_name.as_ref()));
    out.finish();
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// A node. Adds `kubernetes.io/hostname` when missing, as the kubelet does.
pub fn node(n: &api::Node) -> Result<model::Node, Vec<ConvertError>> {
    let mut errs = Vec::new();
    let name = n.metadata.name.as_deref().unwrap_or_default();
    let mut out = model::Node::new(name);
    out.labels = opt_labels(n.metadata.labels.as_ref());
    if !out.labels.contains_key(Sym::HOSTNAME) {
        out.labels.insert(Sym::HOSTNAME, Sym::new(name));
    }
    if let Some(spec) = &n.spec {
        out.unschedulable = spec.unschedulable.unwrap_or(false);
        for (i, t) in spec.taints.iter().flatten().enumerate() {
            let p = root().key("spec").key("taints").index(i);
            if t.key.is_empty() {
                errs.push(ConvertError::new(p.key("key"), "Required value"));
                continue;
            }
            if let Some(effect) = taint_effect(&t.effect, p.key("effect"), &mut errs) {
                out.taints.push(Taint {
                    key: Sym::new(&t.key),
                    value: Sym::new(t.value.as_deref().unwrap_or_default()),
                    effect,
                    time_added: t.time_added.as_ref().map(time_seconds),
                });
            }
        }
    }
    if let Some(status) = &n.status {
        let sp = root().key("status");
        if let Some(a) = &status.allocatable {
            out.allocatable = resources(a, &sp.key("allocatable"), &mut errs);
        }
        if let Some(c) = &status.capacity {
            out.capacity = resources(c, &sp.key("capacity"), &mut errs);
        }
        out.images = status
            .images
            .iter()
            .flatten()
            .map(|img| NodeImage {
                names: img.names.iter().flatten().map(|s| Sym::new(s)).collect(),
                size_bytes: img.size_bytes.unwrap_or(0),
            })
            .collect();
        out.readiness = match status.conditions.iter().flatten().find(|c| c.type_ == "Ready").map(|c| c.status.as_str())
        {
            None | Some("True") => Readiness::Ready,
            Some("False") => Readiness::NotReady,
            Some(_) => Readiness::Unreachable,
        };
    }
    out.creation_time = n.metadata.creation_timestamp.as_ref().map(time_seconds);
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// A namespace, with the `kubernetes.io/metadata.name` label the API server adds.
pub fn namespace(ns: &api::Namespace) -> model::Namespace {
    let name = ns.metadata.name.as_deref().unwrap_or_default();
    let mut l = opt_labels(ns.metadata.labels.as_ref());
    l.insert(Sym::new("kubernetes.io/metadata.name"), Sym::new(name));
    model::Namespace { name: Sym::new(name), labels: l }
}

fn int_or_percent(v: &IntOrString, path: FieldPath) -> Result<IntOrPercent, ConvertError> {
    match v {
        IntOrString::Int(i) if *i >= 0 => Ok(IntOrPercent::Int(*i)),
        IntOrString::Int(i) => {
            Err(ConvertError::new(path, format!("Invalid value: {i}: must be greater than or equal to 0")))
        }
        IntOrString::String(s) => s
            .strip_suffix('%')
            .and_then(|n| n.parse::<i32>().ok())
            .filter(|n| (0..=100).contains(n))
            .map(IntOrPercent::Percent)
            .ok_or_else(|| {
                ConvertError::new(path, format!("Invalid value: {s:?}: must be an integer or percentage (e.g '5%')"))
            }),
    }
}

/// A PodDisruptionBudget.
pub fn pdb(p: &K8sPdb) -> Result<model::PodDisruptionBudget, Vec<ConvertError>> {
    let mut errs = Vec::new();
    let spec = p.spec.clone().unwrap_or_default();
    let sp = root().key("spec");
    let selector = match &spec.selector {
        None => None,
        Some(s) => match label_selector(s, &sp.key("selector")) {
            Ok(s) => Some(s),
            Err(e) => {
                errs.push(e);
                None
            }
        },
    };
    let mut get = |v: Option<&IntOrString>, field: &str| match v.map(|v| int_or_percent(v, sp.key(field))) {
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            errs.push(e);
            None
        }
        None => None,
    };
    let min_available = get(spec.min_available.as_ref(), "minAvailable");
    let max_unavailable = get(spec.max_unavailable.as_ref(), "maxUnavailable");
    if min_available.is_some() && max_unavailable.is_some() {
        errs.push(ConvertError::new(sp.clone(), "Invalid value: minAvailable and maxUnavailable cannot be both set"));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(model::PodDisruptionBudget {
        namespace: Sym::new(p.metadata.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default")),
        name: Sym::new(p.metadata.name.as_deref().unwrap_or_default()),
        selector,
        min_available,
        max_unavailable,
        status_disruptions_allowed: p.status.as_ref().map(|s| s.disruptions_allowed),
    })
}

fn ns_of(m: &meta::ObjectMeta) -> Sym {
    Sym::new(m.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default"))
}

/// A Service's selector; services without a selector select nothing and give `None`.
pub fn service_selector(s: &api::Service) -> Option<WorkloadSelector> {
    let sel = s.spec.as_ref()?.selector.as_ref().filter(|m| !m.is_empty())?;
    Some(WorkloadSelector {
        kind: WorkloadKind::Service,
        namespace: ns_of(&s.metadata),
        name: Sym::new(s.metadata.name.as_deref().unwrap_or_default()),
        selector: LabelSelector::from_match_labels(sel.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    })
}

/// A ReplicationController's selector (defaulted to the template labels when empty).
pub fn replication_controller_selector(rc: &api::ReplicationController) -> Option<WorkloadSelector> {
    let spec = rc.spec.as_ref()?;
    let sel = spec
        .selector
        .clone()
        .filter(|m| !m.is_empty())
        .or_else(|| spec.template.as_ref().and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.clone()))
        .filter(|m| !m.is_empty())?;
    Some(WorkloadSelector {
        kind: WorkloadKind::ReplicationController,
        namespace: ns_of(&rc.metadata),
        name: Sym::new(rc.metadata.name.as_deref().unwrap_or_default()),
        selector: LabelSelector::from_match_labels(sel.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    })
}

/// The selector of a ReplicaSet or StatefulSet.
pub fn workload_selector(
    kind: WorkloadKind,
    m: &meta::ObjectMeta,
    sel: &meta::LabelSelector,
) -> Result<WorkloadSelector, ConvertError> {
    Ok(WorkloadSelector {
        kind,
        namespace: ns_of(m),
        name: Sym::new(m.name.as_deref().unwrap_or_default()),
        selector: label_selector(sel, &root().key("spec").key("selector"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::de::from_node;

    fn decode<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
        let (docs, errs) = crate::yaml::parse(yaml);
        assert!(errs.is_empty(), "{errs:?}");
        let root = docs.into_iter().next().and_then(|d| d.root).expect("document");
        from_node(&root).expect("decodes")
    }

    #[test]
    fn pod_requests_and_ports() {
        let p: api::Pod = decode(
            r#"
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  initContainers:
  - name: sidecar
    image: envoy
    restartPolicy: Always
    resources: {requests: {cpu: 100m, memory: 64Mi}}
  - name: init
    image: registry.example.com:5000/init@sha256:abc
    resources: {requests: {cpu: "2"}}
  containers:
  - name: app
    image: nginx:1.27
    resources: {requests: {cpu: 0.5, memory: 1.5e9, nvidia.com/gpu: 1, hugepages-2Mi: 4Mi}}
    ports:
    - {containerPort: 80, hostPort: 8080}
    - {containerPort: 53, hostPort: 53, protocol: UDP, hostIP: 10.0.0.1}
    - {containerPort: 9090}
  overhead: {cpu: 10m}
"#,
        );
        let m = pod(&p).expect("converts");
        assert_eq!(m.key(), "shop/web");
        assert_eq!(m.containers[0].requests.cpu, 500);
        assert_eq!(m.containers[0].requests.memory, 1_500_000_000);
        assert_eq!(m.containers[0].requests.get(Sym::NVIDIA_GPU), 1);
        assert_eq!(m.containers[0].requests.get(Sym::new("hugepages-2Mi")), 4 << 20);
        assert!(m.containers[0].has_cpu_request && m.containers[0].has_memory_request);
        assert!(!m.init_containers[1].has_memory_request);
        assert_eq!(m.containers[0].image.as_str(), "nginx:1.27");
        assert_eq!(m.init_containers[0].image.as_str(), "envoy:latest");
        assert_eq!(m.init_containers[1].image.as_str(), "registry.example.com:5000/init@sha256:abc");
        assert!(m.init_containers[0].restartable && !m.init_containers[1].restartable);
        // max(500 + 100 (sidecar), 2000 + 100) + 10 overhead
        assert_eq!(m.requests().cpu, 2110);
        let ports: Vec<(String, String, i32)> =
            m.host_ports().iter().map(|h| (h.ip.to_string(), h.protocol.to_string(), h.port)).collect();
        assert_eq!(ports, [("0.0.0.0".into(), "TCP".into(), 8080), ("10.0.0.1".into(), "UDP".into(), 53)]);
        assert_eq!(m.scheduler_name, Sym::DEFAULT_SCHEDULER);
    }

    #[test]
    fn invalid_and_negative_quantities_name_their_fields() {
        let p: api::Pod = decode(
            "metadata: {name: p}\nspec:\n  containers:\n  - name: a\n    resources: {requests: {cpu: 1x, memory: -1Gi}}\n",
        );
        let errs = pod(&p).expect_err("invalid");
        let texts: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "spec.containers[0].resources.requests.cpu: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                "spec.containers[0].resources.requests.memory: Invalid value: \"-1Gi\": must be greater than or equal to 0",
            ]
        );
    }

    #[test]
    fn node_affinity_terms_with_invalid_requirements_become_invalid_terms() {
        let p: api::Pod = decode(
            r#"
metadata: {name: p}
spec:
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: gen, operator: Gt, values: ["abc"]}]
        - matchExpressions: [{key: zone, operator: In, values: [a]}]
          matchFields: [{key: metadata.name, operator: In, values: [n1]}]
        - matchExpressions: [{key: zone, operator: Bogus}]
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 5
        preference: {matchExpressions: [{key: disk, operator: Exists}]}
"#,
        );
        let m = pod(&p).expect("converts");
        let na = m.affinity.node_affinity.expect("node affinity");
        let terms = na.required.expect("required").terms;
        assert!(!terms[0].valid);
        assert!(terms[1].valid);
        assert_eq!(terms[1].match_fields.len(), 1);
        assert!(!terms[2].valid);
        assert_eq!(na.preferred[0].weight, 5);
        assert!(na.preferred[0].preference.valid);
    }

    #[test]
    fn match_label_keys_are_merged_from_the_pods_labels() {
        let p: api::Pod = decode(
            r#"
metadata: {name: p, labels: {app: web, pod-template-hash: abc, tenant: t1}}
spec:
  containers: [{name: a}]
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
        matchLabelKeys: [pod-template-hash, missing]
        mismatchLabelKeys: [tenant]
  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    labelSelector:
      matchLabels: {app: web}
      matchExpressions: [{key: pod-template-hash, operator: In, values: [abc]}]
    matchLabelKeys: [pod-template-hash]
  - maxSkew: 2
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    matchLabelKeys: [app]
"#,
        );
        let m = pod(&p).expect("converts");
        let anti = m.affinity.pod_anti_affinity.expect("anti");
        let sel = anti.required[0].label_selector.as_ref().expect("selector");
        let reqs: Vec<(String, LabelOp, Vec<String>)> = sel
            .requirements
            .iter()
            .map(|r| (r.key.to_string(), r.op, r.values.iter().map(|v| v.to_string()).collect()))
            .collect();
        assert_eq!(
            reqs,
            [
                ("app".into(), LabelOp::In, vec!["web".into()]),
                ("pod-template-hash".into(), LabelOp::In, vec!["abc".into()]),
                ("tenant".into(), LabelOp::NotIn, vec!["t1".into()]),
            ]
        );
        assert_eq!(anti.required[0].match_label_keys.len(), 2);
        // Already merged by the API server: not added twice.
        let tsc = &m.topology_spread_constraints;
        assert_eq!(tsc[0].label_selector.as_ref().map(|s| s.requirements.len()), Some(2));
        assert_eq!(tsc[0].match_label_keys, [Sym::new("pod-template-hash")]);
        // A nil selector stays nil (matches nothing).
        assert_eq!(tsc[1].label_selector, None);
        assert_eq!(tsc[1].when_unsatisfiable, WhenUnsatisfiable::ScheduleAnyway);
    }

    #[test]
    fn nodes_get_hostname_readiness_taints_and_images() {
        let n: api::Node = decode(
            r#"
metadata: {name: n1, labels: {topology.kubernetes.io/zone: a}, creationTimestamp: "2024-01-02T03:04:05Z"}
spec:
  unschedulable: true
  taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
status:
  allocatable: {cpu: 3920m, memory: 15Gi, pods: "110", nvidia.com/gpu: 4}
  capacity: {cpu: 4, memory: 16Gi, pods: 110}
  images: [{names: [nginx:1.27, "docker.io/library/nginx@sha256:1"], sizeBytes: 50000000}]
  conditions: [{type: Ready, status: "Unknown"}]
"#,
        );
        let m = node(&n).expect("converts");
        assert_eq!(m.labels.get(Sym::HOSTNAME), Some(Sym::new("n1")));
        assert_eq!(m.labels.get(Sym::ZONE), Some(Sym::new("a")));
        assert!(m.unschedulable);
        assert_eq!(m.taints, [Taint::new("dedicated", "gpu", TaintEffect::NoSchedule)]);
        assert_eq!((m.allocatable.cpu, m.allocatable.memory, m.allocatable.pods), (3920, 15 << 30, 110));
        assert_eq!(m.allocatable.get(Sym::NVIDIA_GPU), 4);
        assert_eq!(m.capacity.cpu, 4000);
        assert_eq!(m.images[0].size_bytes, 50_000_000);
        assert_eq!(m.readiness, Readiness::Unreachable);
        assert_eq!(m.creation_time, Some(1_704_164_645));
    }

    #[test]
    fn namespaces_pdbs_and_selectors() {
        let ns: api::Namespace = decode("metadata: {name: team-a, labels: {env: prod}}\n");
        let m = namespace(&ns);
        assert_eq!(m.labels.get(Sym::new("kubernetes.io/metadata.name")), Some(Sym::new("team-a")));
        assert_eq!(m.labels.get(Sym::new("env")), Some(Sym::new("prod")));
        let p: K8sPdb = decode(
            "metadata: {name: b, namespace: shop}\nspec: {minAvailable: 50%, selector: {matchLabels: {app: web}}}\nstatus: {disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2}\n",
        );
        let m = pdb(&p).expect("pdb");
        assert_eq!(m.min_available, Some(IntOrPercent::Percent(50)));
        assert_eq!(m.status_disruptions_allowed, Some(1));
        assert_eq!(m.namespace, Sym::new("shop"));
        let bad: K8sPdb = decode("metadata: {name: b}\nspec: {maxUnavailable: lots}\n");
        assert_eq!(
            pdb(&bad).expect_err("bad")[0].to_string(),
            "spec.maxUnavailable: Invalid value: \"lots\": must be an integer or percentage (e.g '5%')"
        );
        let svc: api::Service = decode("metadata: {name: s}\nspec: {selector: {app: web}}\n");
        let sel = service_selector(&svc).expect("selector");
        assert_eq!(sel.namespace, Sym::DEFAULT_NAMESPACE);
        assert_eq!(sel.selector, LabelSelector::from_match_labels([("app", "web")]));
        let headless: api::Service = decode("metadata: {name: s}\nspec: {clusterIP: None}\n");
        assert_eq!(service_selector(&headless), None);
    }

    #[test]
    fn bad_tolerations_are_errors() {
        let p: api::Pod = decode(
            "metadata: {name: p}\nspec:\n  containers: [{name: a}]\n  tolerations:\n  - {key: a, operator: Exists, effect: NoExecute, tolerationSeconds: 30}\n  - {key: b, operator: Maybe}\n  - {key: c, effect: Sometimes}\n",
        );
        let errs = pod(&p).expect_err("bad");
        let texts: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "spec.tolerations[1].operator: Unsupported value: \"Maybe\": supported values: \"Equal\", \"Exists\"",
                "spec.tolerations[2].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            ]
        );
    }
}
