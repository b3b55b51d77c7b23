//! NodeResourcesFit: the pod's requests must fit the node's free allocatable; nodes are scored
//! by LeastAllocated (default), MostAllocated or RequestedToCapacityRatio.

use super::helper::{ResourceSpec, parse_resources};
use crate::args::{ArgValue, FieldError, read};
use crate::framework::{Code, Plugin, PluginState, PodCx, Points, PreFilterResult, Status};
use crate::intern::Sym;
use crate::model::Pod;
use crate::resources::{Resources, is_extended_resource};
use crate::schedule::MAX_NODE_SCORE;
use crate::snapshot::NodeInfo;
use std::borrow::Cow;
use std::sync::Arc;

pub const NAME: &str = "NodeResourcesFit";
/// `MaxCustomPriorityScore`: RequestedToCapacityRatio shape scores are 0..10, scaled ×10.
const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;
const MAX_UTILIZATION: i64 = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    LeastAllocated,
    MostAllocated,
    /// Shape points `(utilization, score×10)`.
    RequestedToCapacityRatio(Vec<(i64, i64)>),
}

#[derive(Clone, Debug)]
pub struct NodeResourcesFit {
    pub ignored_resources: Vec<Sym>,
    pub ignored_resource_groups: Vec<String>,
    pub strategy: Strategy,
    pub resources: Vec<ResourceSpec>,
}

impl Default for NodeResourcesFit {
    fn default() -> Self {
        NodeResourcesFit {
            ignored_resources: Vec::new(),
            ignored_resource_groups: Vec::new(),
            strategy: Strategy::LeastAllocated,
            resources: super::helper::default_resources(),
        }
    }
}

pub fn new(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError> {
    Ok(Arc::new(parse_args(args, path)?))
}

/// Parses and validates `NodeResourcesFitArgs` with v1 defaulting.
pub fn parse_args(args: &ArgValue, path: &str) -> Result<NodeResourcesFit, FieldError> {
    read::known_keys(
        args,
        &["ignoredResources", "ignoredResourceGroups", "scoringStrategy", "apiVersion", "kind"],
        path,
    )?;
    let mut fit = NodeResourcesFit {
        ignored_resources: read::strings(args.get("ignoredResources"), &format!("{path}.ignoredResources"))?
            .iter()
            .map(|s| Sym::new(s))
            .collect(),
        ignored_resource_groups: read::strings(
            args.get("ignoredResourceGroups"),
            &format!("{path}.ignoredResourceGroups"),
        )?,
        ..Default::default()
    };
    for (i, g) in fit.ignored_resource_groups.iter().enumerate() {
        if g.contains('/') {
            return Err(FieldError::invalid(
                format!("{path}.ignoredResourceGroups[{i}]"),
                format!("{g:?}"),
                "resource group name can't contain '/'",
            ));
        }
    }
    let spath = format!("{path}.scoringStrategy");
    let Some(strategy) = args.get("scoringStrategy").filter(|v| !matches!(v, ArgValue::Null)) else {
        return Ok(fit);
    };
    read::known_keys(strategy, &["type", "resources", "requestedToCapacityRatio"], &spath)?;
    fit.resources = parse_resources(strategy.get("resources"), &format!("{spath}.resources"))?;
    for (i, r) in fit.resources.iter().enumerate() {
        if !(1..=100).contains(&r.weight) {
            return Err(FieldError::invalid(
                format!("{spath}.resources[{i}].weight"),
                r.weight,
                format!("resource weight of {} not in valid range [1, 100]", r.name),
            ));
        }
    }
    let ty = read::string(strategy.get("type"), &format!("{spath}.type"))?.unwrap_or_default();
    fit.strategy = match ty.as_str() {
        "LeastAllocated" => Strategy::LeastAllocated,
        "MostAllocated" => Strategy::MostAllocated,
        "RequestedToCapacityRatio" => {
            let rpath = format!("{spath}.requestedToCapacityRatio");
            let rtcr = strategy.get("requestedToCapacityRatio").filter(|v| !matches!(v, ArgValue::Null));
            let Some(rtcr) = rtcr else {
                return Err(FieldError::required(rpath));
            };
            read::known_keys(rtcr, &["shape"], &rpath)?;
            let shape_path = format!("{rpath}.shape");
            let points = read::list(rtcr.get("shape"), &shape_path)?;
            if points.is_empty() {
                return Err(FieldError::new(shape_path, "Required value: at least one point must be specified"));
            }
            let mut shape = Vec::with_capacity(points.len());
            for (i, p) in points.iter().enumerate() {
                let pp = format!("{shape_path}[{i}]");
                read::known_keys(p, &["utilization", "score"], &pp)?;
                let u = read::int(p.get("utilization"), &format!("{pp}.utilization"))?.unwrap_or(0);
                let s = read::int(p.get("score"), &format!("{pp}.score"))?.unwrap_or(0);
                if !(0..=MAX_UTILIZATION).contains(&u) {
                    return Err(FieldError::invalid(format!("{pp}.utilization"), u, "not in valid range [0, 100]"));
                }
                if let Some(&(prev, _)) = shape.last()
                    && u <= prev
                {
                    return Err(FieldError::invalid(
                        format!("{pp}.utilization"),
                        u,
                        "utilization values must be sorted in increasing order",
                    ));
                }
                if !(0..=MAX_CUSTOM_PRIORITY_SCORE).contains(&s) {
                    return Err(FieldError::invalid(format!("{pp}.score"), s, "not in valid range [0, 10]"));
                }
                shape.push((u, s * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE)));
            }
            Strategy::RequestedToCapacityRatio(shape)
        }
        other => {
            return Err(FieldError::not_supported(
                format!("{spath}.type"),
                other,
                &["LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"],
            ));
        }
    };
    Ok(fit)
}

/// One missing resource on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insufficient {
    pub resource: Sym,
    pub reason: Cow<'static, str>,
    pub requested: i64,
    pub used: i64,
    pub capacity: i64,
    /// The request exceeds the node's allocatable: even an empty node could not fit it.
    pub unresolvable: bool,
}

/// `fitsRequest`: every insufficiency of `node` for `requests`, in kube-scheduler's order
/// (pods, cpu, memory, ephemeral-storage, then scalar resources by name).
pub fn fits_request(
    requests: &Resources,
    node: &NodeInfo,
    ignored: &[Sym],
    ignored_groups: &[String],
) -> Vec<Insufficient> {
    let mut out = Vec::new();
    let alloc = &node.node.allocatable;
    let used = &node.requested;
    let pods = node.pods.len() as i64;
    if pods + 1 > alloc.pods {
        out.push(Insufficient {
            resource: Sym::PODS,
            reason: Cow::Borrowed("Too many pods"),
            requested: 1,
            used: pods,
            capacity: alloc.pods,
            unresolvable: false,
        });
    }
    if requests.cpu == 0
        && requests.memory == 0
        && requests.ephemeral_storage == 0
        && requests.scalars.iter().all(|&(_, v)| v == 0)
    {
        return out;
    }
    let mut check = |name: Sym, reason: &'static str, req: i64, alloc: i64, used: i64| {
        if req > 0 && req > alloc - used {
            out.push(Insufficient {
                resource: name,
                reason: Cow::Borrowed(reason),
                requested: req,
                used,
                capacity: alloc,
                unresolvable: req > alloc,
            });
        }
    };
    check(Sym::CPU, "Insufficient cpu", requests.cpu, alloc.cpu, used.cpu);
    check(Sym::MEMORY, "Insufficient memory", requests.memory, alloc.memory, used.memory);
    check(
        Sym::EPHEMERAL_STORAGE,
        "Insufficient ephemeral-storage",
        requests.ephemeral_storage,
        alloc.ephemeral_storage,
        used.ephemeral_storage,
    );
    if !requests.scalars.is_empty() {
        let mut scalars: Vec<(Sym, i64)> = requests.scalars.iter().copied().filter(|&(_, v)| v != 0).collect();
        scalars.sort_by_key(|(n, _)| n.as_str());
        for (name, req) in scalars {
            let text = name.as_str();
            if is_extended_resource(text) {
                let group = text.split('/').next().unwrap_or("");
                if ignored.contains(&name) || ignored_groups.iter().any(|g| g == group) {
                    continue;
                }
            }
            let (a, u) = (alloc.scalar(name), used.scalar(name));
            if req > a - u {
                out.push(Insufficient {
                    resource: name,
                    reason: Cow::Owned(format!("Insufficient {text}")),
                    requested: req,
                    used: u,
                    capacity: a,
                    unresolvable: req > a,
                });
            }
        }
    }
    out
}

/// The pod's request for each scored resource: non-zero defaults for cpu/memory when
/// `use_requested` is false (Fit), real requests otherwise (BalancedAllocation).
pub fn pod_request_list(pod: &Pod, resources: &[ResourceSpec], use_requested: bool) -> Vec<i64> {
    resources
        .iter()
        .map(|r| match r.name {
            Sym::CPU if !use_requested => pod.non_zero_cpu(),
            Sym::MEMORY if !use_requested => pod.non_zero_memory(),
            name => pod.requests().get(name),
        })
        .collect()
}

/// `calculateResourceAllocatableRequest`: (allocatable, requested-after-placing) of one
/// resource on a node; `(0, 0)` means "skip this resource".
#[inline]
pub fn allocatable_and_requested(node: &NodeInfo, resource: Sym, pod_request: i64, use_requested: bool) -> (i64, i64) {
    let alloc = &node.node.allocatable;
    match resource {
        Sym::CPU => (alloc.cpu, if use_requested { node.requested.cpu } else { node.non_zero_cpu } + pod_request),
        Sym::MEMORY => {
            (alloc.memory, if use_requested { node.requested.memory } else { node.non_zero_memory } + pod_request)
        }
        _ if pod_request == 0 => (0, 0),
        Sym::EPHEMERAL_STORAGE => (alloc.ephemeral_storage, node.requested.ephemeral_storage + pod_request),
        name if alloc.has(name) => (alloc.scalar(name), node.requested.scalar(name) + pod_request),
        _ => (0, 0),
    }
}

#[inline]
fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

#[inline]
fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

/// `BuildBrokenLinearFunction`.
fn broken_linear(shape: &[(i64, i64)], p: i64) -> i64 {
    for (i, &(u, s)) in shape.iter().enumerate() {
        if p <= u {
            if i == 0 {
                return s;
            }
            let (pu, ps) = shape[i - 1];
            return ps + (s - ps) * (p - pu) / (u - pu);
        }
    }
    shape.last().map(|&(_, s)| s).unwrap_or(0)
}

impl NodeResourcesFit {
    /// The strategy's score of a node for a pod whose scored requests are `pod_requests`.
    #[inline]
    pub fn score_node(&self, node: &NodeInfo, pod_requests: &[i64]) -> i64 {
        // The default resources, cpu and memory with any weights, without per-resource lookups.
        if let ([cpu, memory], [c, m]) = (self.resources.as_slice(), pod_requests)
            && cpu.name == Sym::CPU
            && memory.name == Sym::MEMORY
            && !matches!(self.strategy, Strategy::RequestedToCapacityRatio(_))
        {
            let alloc = &node.node.allocatable;
            let score = match self.strategy {
                Strategy::MostAllocated => most_requested_score,
                _ => least_requested_score,
            };
            let (mut total, mut weights) = (0, 0);
            if alloc.cpu != 0 {
                total += score(node.non_zero_cpu + c, alloc.cpu) * cpu.weight;
                weights += cpu.weight;
            }
            if alloc.memory != 0 {
                total += score(node.non_zero_memory + m, alloc.memory) * memory.weight;
                weights += memory.weight;
            }
            return if weights == 0 { 0 } else { total / weights };
        }
        let mut node_score = 0i64;
        let mut weight_sum = 0i64;
        for (spec, &req) in self.resources.iter().zip(pod_requests) {
            let (alloc, requested) = allocatable_and_requested(node, spec.name, req, false);
            if alloc == 0 {
                continue;
            }
            let s = match &self.strategy {
                Strategy::LeastAllocated => least_requested_score(requested, alloc),
                Strategy::MostAllocated => most_requested_score(requested, alloc),
                Strategy::RequestedToCapacityRatio(shape) => {
                    let util = if requested > alloc { MAX_UTILIZATION } else { requested * MAX_UTILIZATION / alloc };
                    let s = broken_linear(shape, util);
                    if s <= 0 {
                        continue;
                    }
                    s
                }
            };
            node_score += s * spec.weight;
            weight_sum += spec.weight;
        }
        if weight_sum == 0 {
            return 0;
        }
        match self.strategy {
            Strategy::RequestedToCapacityRatio(_) => (node_score as f64 / weight_sum as f64).round() as i64,
            _ => node_score / weight_sum,
        }
    }
}

#[derive(Clone)]
struct ScoreState(Vec<i64>);

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        NAME
    }

    fn points(&self) -> Points {
        Points::PRE_FILTER | Points::FILTER | Points::PRE_SCORE | Points::SCORE | Points::PRE_FILTER_EXTENSIONS
    }

    fn pre_filter(&self, _cx: PodCx<'_>, _state: &mut PluginState) -> PreFilterResult {
        // The requests are precomputed on the pod; nothing else to prepare.
        PreFilterResult::success()
    }

    #[inline]
    fn filter(&self, cx: PodCx<'_>, _state: &PluginState, node: &NodeInfo) -> Status {
        let req = cx.pod.requests();
        let alloc = &node.node.allocatable;
        // Fast path: the pod fits outright (no allocation); the slow path below finds and
        // orders every insufficiency, and applies the ignored resources.
        if (node.pods.len() as i64) < alloc.pods
            && req.cpu <= alloc.cpu - node.requested.cpu
            && req.memory <= alloc.memory - node.requested.memory
            && req.ephemeral_storage <= alloc.ephemeral_storage - node.requested.ephemeral_storage
            && req.scalars.iter().all(|&(name, v)| v <= alloc.scalar(name) - node.requested.scalar(name))
        {
            return Status::success();
        }
        let insufficient = fits_request(req, node, &self.ignored_resources, &self.ignored_resource_groups);
        if insufficient.is_empty() {
            return Status::success();
        }
        let code = if insufficient.iter().any(|i| i.unresolvable) {
            Code::UnschedulableAndUnresolvable
        } else {
            Code::Unschedulable
        };
        Status { code, reasons: insufficient.into_iter().map(|i| i.reason).collect(), plugin: "" }
    }

    fn pre_score(&self, cx: PodCx<'_>, state: &mut PluginState, _feasible: &[&NodeInfo]) -> Status {
        state.set(ScoreState(pod_request_list(cx.pod, &self.resources, false)));
        Status::success()
    }

    #[inline]
    fn score(&self, cx: PodCx<'_>, state: &PluginState, node: &NodeInfo) -> i64 {
        match state.get::<ScoreState>() {
            Some(s) => self.score_node(node, &s.0),
            None => self.score_node(node, &pod_request_list(cx.pod, &self.resources, false)),
        }
    }

    fn score_nodes(&self, cx: PodCx<'_>, state: &PluginState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        let owned;
        let requests = match state.get::<ScoreState>() {
            Some(s) => &s.0,
            None => {
                owned = pod_request_list(cx.pod, &self.resources, false);
                &owned
            }
        };
        for (s, node) in scores.iter_mut().zip(nodes) {
            *s = self.score_node(node, requests);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Container, Node};
    use crate::snapshot::Snapshot;

    const MI: i64 = 1024 * 1024;

    fn node(cpu: i64, mem: i64, pods: i64) -> Node {
        let mut n = Node::new("n1");
        n.allocatable = Resources { cpu, memory: mem, pods, ..Default::default() };
        n
    }

    fn pod(cpu: Option<i64>, mem: Option<i64>) -> Pod {
        let mut p = Pod::new("default", "p");
        let mut c = Container::default();
        if let Some(cpu) = cpu {
            c.requests.cpu = cpu;
            c.has_cpu_request = true;
        }
        if let Some(mem) = mem {
            c.requests.memory = mem;
            c.has_memory_request = true;
        }
        p.containers.push(c);
        p.finish();
        p
    }

    fn filter(fit: &NodeResourcesFit, s: &Snapshot, p: &Pod) -> Status {
        fit.filter(PodCx { pod: p, snapshot: s }, &PluginState::default(), s.node(s.order()[0]))
    }

    #[test]
    fn reports_every_insufficient_resource() {
        let mut s = Snapshot::new();
        let n = s.add_node(node(1000, 1000 * MI, 110));
        s.add_pod(Arc::new(pod(Some(800), Some(900 * MI))), n);
        let st = filter(&NodeResourcesFit::default(), &s, &pod(Some(300), Some(200 * MI)));
        assert_eq!(st.code, Code::Unschedulable);
        assert_eq!(st.reasons.as_slice(), ["Insufficient cpu", "Insufficient memory"]);
    }

    #[test]
    fn request_above_allocatable_is_unresolvable_in_v1_34() {
        let mut s = Snapshot::new();
        s.add_node(node(1000, 1000 * MI, 110));
        let st = filter(&NodeResourcesFit::default(), &s, &pod(Some(2000), Some(10 * MI)));
        assert_eq!(st.code, Code::UnschedulableAndUnresolvable);
        assert_eq!(st.message(), "Insufficient cpu");
    }

    #[test]
    fn too_many_pods_and_extended_resources() {
        let mut s = Snapshot::new();
        let n = s.add_node(node(1000, 1000 * MI, 1));
        s.add_pod(Arc::new(pod(Some(0), Some(0))), n);
        let mut gpu_pod = pod(Some(100), Some(MI));
        gpu_pod.containers[0].requests.set(Sym::NVIDIA_GPU, 1);
        gpu_pod.finish();
        let st = filter(&NodeResourcesFit::default(), &s, &gpu_pod);
        assert_eq!(st.reasons.as_slice(), ["Too many pods", "Insufficient nvidia.com/gpu"]);
        assert_eq!(st.code, Code::UnschedulableAndUnresolvable, "the node advertises no GPU at all");
        let ignoring = NodeResourcesFit { ignored_resource_groups: vec!["nvidia.com".into()], ..Default::default() };
        assert_eq!(filter(&ignoring, &s, &gpu_pod).reasons.as_slice(), ["Too many pods"]);
        let ignoring = NodeResourcesFit { ignored_resources: vec![Sym::NVIDIA_GPU], ..Default::default() };
        assert_eq!(filter(&ignoring, &s, &gpu_pod).reasons.as_slice(), ["Too many pods"]);
    }

    #[test]
    fn zero_request_pod_only_checks_pod_count() {
        let mut s = Snapshot::new();
        let n = s.add_node(node(0, 0, 110));
        s.add_pod(Arc::new(pod(Some(0), Some(0))), n);
        assert!(filter(&NodeResourcesFit::default(), &s, &pod(Some(0), Some(0))).is_success());
    }

    fn score(fit: &NodeResourcesFit, s: &Snapshot, p: &Pod) -> i64 {
        let cx = PodCx { pod: p, snapshot: s };
        let mut st = PluginState::default();
        fit.pre_score(cx, &mut st, &[]);
        fit.score(cx, &st, s.node(s.order()[0]))
    }

    #[test]
    fn least_and_most_allocated_scores() {
        // Node 4000m / 10000Mi with 1000m / 2000Mi used; pod 1000m / 3000Mi.
        let mut s = Snapshot::new();
        let n = s.add_node(node(4000, 10000 * MI, 110));
        s.add_pod(Arc::new(pod(Some(1000), Some(2000 * MI))), n);
        let p = pod(Some(1000), Some(3000 * MI));
        // Least: cpu (4000-2000)*100/4000 = 50, mem (10000-5000)*100/10000 = 50.
        assert_eq!(score(&NodeResourcesFit::default(), &s, &p), 50);
        let most = NodeResourcesFit { strategy: Strategy::MostAllocated, ..Default::default() };
        assert_eq!(score(&most, &s, &p), 50);
        // Pods without requests count as 100m / 200Mi for scoring.
        let empty = pod(None, None);
        // cpu: (4000-1100)*100/4000 = 72; mem: (10000-2200)*100/10000 = 78 → 75.
        assert_eq!(score(&NodeResourcesFit::default(), &s, &empty), 75);
    }

    #[test]
    fn requested_to_capacity_ratio_interpolates_and_rounds() {
        let mut s = Snapshot::new();
        s.add_node(node(4000, 10000 * MI, 110));
        let fit = NodeResourcesFit {
            strategy: Strategy::RequestedToCapacityRatio(vec![(0, 0), (100, 100)]),
            ..Default::default()
        };
        // cpu 25% → 25, mem 50% → 50; round(75/2) = 38.
        assert_eq!(score(&fit, &s, &pod(Some(1000), Some(5000 * MI))), 38);
        let reversed = NodeResourcesFit {
            strategy: Strategy::RequestedToCapacityRatio(vec![(0, 100), (100, 0)]),
            ..Default::default()
        };
        assert_eq!(score(&reversed, &s, &pod(Some(1000), Some(5000 * MI))), 63);
    }

    #[test]
    fn args_defaults_and_validation() {
        use std::collections::BTreeMap;
        let map = |pairs: Vec<(&str, ArgValue)>| {
            ArgValue::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>())
        };
        let fit = parse_args(&ArgValue::Null, "args").unwrap();
        assert_eq!(fit.strategy, Strategy::LeastAllocated);
        assert_eq!(fit.resources.len(), 2);
        let bad = map(vec![("scoringStrategy", map(vec![("type", ArgValue::String("Best".into()))]))]);
        assert_eq!(
            parse_args(&bad, "args").unwrap_err().to_string(),
            "args.scoringStrategy.type: Unsupported value: \"Best\": supported values: \"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\""
        );
        let weight = map(vec![(
            "scoringStrategy",
            map(vec![
                ("type", ArgValue::String("MostAllocated".into())),
                (
                    "resources",
                    ArgValue::List(vec![map(vec![
                        ("name", ArgValue::String("cpu".into())),
                        ("weight", ArgValue::Int(101)),
                    ])]),
                ),
            ]),
        )]);
        assert_eq!(
            parse_args(&weight, "args").unwrap_err().to_string(),
            "args.scoringStrategy.resources[0].weight: Invalid value: 101: resource weight of cpu not in valid range [1, 100]"
        );
        let unsorted = map(vec![(
            "scoringStrategy",
            map(vec![
                ("type", ArgValue::String("RequestedToCapacityRatio".into())),
                (
                    "requestedToCapacityRatio",
                    map(vec![(
                        "shape",
                        ArgValue::List(vec![
                            map(vec![("utilization", ArgValue::Int(50)), ("score", ArgValue::Int(1))]),
                            map(vec![("utilization", ArgValue::Int(10)), ("score", ArgValue::Int(2))]),
                        ]),
                    )]),
                ),
            ]),
        )]);
        assert!(parse_args(&unsorted, "args").unwrap_err().to_string().contains("sorted in increasing order"));
    }
}
