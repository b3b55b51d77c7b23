//! Pod admission, on `k8s-openapi` pods before conversion: an extensible chain of
//! [`PodMutator`]s. The standard chain is the API server's defaulting and the admission
//! plugins that change scheduling: [`ApiDefaults`], [`PriorityAdmission`] and
//! [`DefaultTolerationSeconds`]. Other crates append their own (the Fargate mutating webhook).
//!
//! Pods from a cluster dump (with `spec.nodeName` or a `status`) were admitted already; the
//! chain only applies idempotent defaults to them (an existing `spec.priority` is kept,
//! tolerations are never duplicated).

use crate::tree::FieldPath;
use k8s_openapi::api::core::v1::{Pod, PodSpec, Toleration};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// `HighestUserDefinablePriority`: user PriorityClasses may not exceed it.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;
/// `SystemCriticalPriority`, the value of `system-cluster-critical`.
pub const SYSTEM_CLUSTER_CRITICAL_PRIORITY: i32 = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
/// `system-node-critical` is `SystemCriticalPriority + 1000`.
pub const SYSTEM_NODE_CRITICAL_PRIORITY: i32 = SYSTEM_CLUSTER_CRITICAL_PRIORITY + 1000;
/// `--default-not-ready-toleration-seconds` / `--default-unreachable-toleration-seconds`
/// (kube-scheduler.md §5, DefaultTolerationSeconds).
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// A PriorityClass as admission uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityClassInfo {
    pub name: String,
    pub value: i32,
    pub global_default: bool,
    /// `None` = PreemptLowerPriority (the API default).
    pub preemption_policy: Option<String>,
}

/// The PriorityClasses of the cluster: the two built-in system classes plus the loaded ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityClasses {
    classes: BTreeMap<String, PriorityClassInfo>,
}

impl Default for PriorityClasses {
    fn default() -> Self {
        PriorityClasses::new()
    }
}

impl PriorityClasses {
    /// Only the built-ins `system-cluster-critical` (2000000000) and `system-node-critical`
    /// (2000001000), which the API server creates at startup.
    pub fn new() -> PriorityClasses {
        let mut classes = BTreeMap::new();
        for (name, value) in [
            ("system-cluster-critical", SYSTEM_CLUSTER_CRITICAL_PRIORITY),
            ("system-node-critical", SYSTEM_NODE_CRITICAL_PRIORITY),
        ] {
            classes.insert(
                name.to_string(),
                PriorityClassInfo { name: name.to_string(), value, global_default: false, preemption_policy: None },
            );
        }
        PriorityClasses { classes }
    }

    /// Adds (or replaces, for the built-ins) a class. A second `globalDefault` class is refused
    /// with the API server's text.
    pub fn add(&mut self, pc: &PriorityClass) -> Result<(), String> {
        let name = pc.metadata.name.clone().unwrap_or_default();
        let global_default = pc.global_default.unwrap_or(false);
        if global_default && let Some(existing) = self.classes.values().find(|c| c.global_default && c.name != name) {
            return Err(format!(
                "priorityclasses.scheduling.k8s.io {name:?} is forbidden: PriorityClass {} is already marked as default. Only one default can exist",
                existing.name
            ));
        }
        self.classes.insert(
            name.clone(),
            PriorityClassInfo {
                name,
                value: pc.value,
                global_default,
                preemption_policy: pc.preemption_policy.clone(),
            },
        );
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&PriorityClassInfo> {
        self.classes.get(name)
    }

    /// The `globalDefault` class; with several (a race in a real cluster), the lowest value wins
    /// as in `getDefaultPriorityClass`.
    pub fn global_default(&self) -> Option<&PriorityClassInfo> {
        self.classes.values().filter(|c| c.global_default).min_by_key(|c| c.value)
    }

    pub fn iter(&self) -> impl Iterator<Item = &PriorityClassInfo> {
        self.classes.values()
    }
}

/// An admission refusal at a field of the pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdmissionError {
    pub path: FieldPath,
    /// The API server's text, e.g. `pods "web-1" is forbidden: no PriorityClass with name x was found`.
    pub message: String,
}

impl fmt::Display for AdmissionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for AdmissionError {}

/// What mutators may consult.
#[derive(Clone, Copy, Debug)]
pub struct AdmissionContext<'a> {
    pub priority_classes: &'a PriorityClasses,
    /// The pod comes from a cluster dump (bound or with a status): it was admitted already and
    /// only idempotent defaults apply.
    pub already_admitted: bool,
}

/// One mutating step of admission. Implementations must be idempotent.
pub trait PodMutator: Send + Sync {
    fn name(&self) -> &str;
    fn admit(&self, pod: &mut Pod, cx: &AdmissionContext<'_>) -> Result<(), AdmissionError>;
}

/// The ordered chain of mutators.
#[derive(Clone)]
pub struct AdmissionChain {
    mutators: Vec<Arc<dyn PodMutator>>,
}

impl Default for AdmissionChain {
    fn default() -> Self {
        AdmissionChain::standard()
    }
}

impl fmt::Debug for AdmissionChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.mutators.iter().map(|m| m.name())).finish()
    }
}

impl AdmissionChain {
    /// API defaults, Priority, DefaultTolerationSeconds.
    pub fn standard() -> AdmissionChain {
        AdmissionChain {
            mutators: vec![Arc::new(ApiDefaults), Arc::new(PriorityAdmission), Arc::new(DefaultTolerationSeconds)],
        }
    }

    pub fn empty() -> AdmissionChain {
        AdmissionChain { mutators: Vec::new() }
    }

    /// Appends a mutator (runs after the existing ones).
    pub fn push(&mut self, m: Arc<dyn PodMutator>) {
        self.mutators.push(m);
    }

    pub fn names(&self) -> Vec<&str> {
        self.mutators.iter().map(|m| m.name()).collect()
    }

    /// Runs every mutator in order; the first refusal stops the chain.
    pub fn admit(&self, pod: &mut Pod, cx: &AdmissionContext<'_>) -> Result<(), AdmissionError> {
        for m in &self.mutators {
            m.admit(pod, cx)?;
        }
        Ok(())
    }
}

/// True for pods that carry the marks of having been admitted: `spec.nodeName` or a non-empty
/// `status`.
pub fn is_admitted(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_some_and(|n| !n.is_empty())
        || pod.status.as_ref().is_some_and(|s| *s != Default::default())
}

/// The name the API server uses in its messages: the name, or the `generateName` prefix
/// while the name is still to be generated.
pub fn display_name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().filter(|n| !n.is_empty()).or(pod.metadata.generate_name.as_deref()).unwrap_or_default()
}

fn forbidden(pod: &Pod, path: FieldPath, detail: String) -> AdmissionError {
    AdmissionError { path, message: format!("pods {:?} is forbidden: {detail}", display_name(pod)) }
}

/// The API server's defaulting that matters for scheduling (`SetDefaults_Pod` and friends):
/// namespace `default`, `schedulerName: default-scheduler`, limits copied into missing
/// requests, and `hostPort = containerPort` for `hostNetwork` pods.
#[derive(Clone, Copy, Debug, Default)]
pub struct ApiDefaults;

impl PodMutator for ApiDefaults {
    fn name(&self) -> &str {
        "ApiDefaults"
    }

    fn admit(&self, pod: &mut Pod, _cx: &AdmissionContext<'_>) -> Result<(), AdmissionError> {
        if pod.metadata.namespace.as_deref().is_none_or(str::is_empty) {
            pod.metadata.namespace = Some("default".into());
        }
        let spec = pod.spec.get_or_insert_with(PodSpec::default);
        if spec.scheduler_name.as_deref().is_none_or(str::is_empty) {
            spec.scheduler_name = Some("default-scheduler".into());
        }
        let host_network = spec.host_network.unwrap_or(false);
        for c in spec.containers.iter_mut().chain(spec.init_containers.iter_mut().flatten()) {
            if let Some(res) = c.resources.as_mut()
                && let Some(limits) = res.limits.as_ref()
            {
                let requests = res.requests.get_or_insert_with(BTreeMap::new);
                for (k, v) in limits {
                    requests.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            if host_network {
                for p in c.ports.iter_mut().flatten() {
                    if p.host_port.is_none_or(|h| h == 0) {
                        p.host_port = Some(p.container_port);
                    }
                }
            }
        }
        Ok(())
    }
}

/// The Priority admission plugin: `priorityClassName` → `spec.priority` and
/// `spec.preemptionPolicy`; the `globalDefault` class for pods without a class name.
#[derive(Clone, Copy, Debug, Default)]
pub struct PriorityAdmission;

impl PodMutator for PriorityAdmission {
    fn name(&self) -> &str {
        "Priority"
    }

    fn admit(&self, pod: &mut Pod, cx: &AdmissionContext<'_>) -> Result<(), AdmissionError> {
        let spec_path = FieldPath::root().key("spec");
        let spec = pod.spec.clone().unwrap_or_default();
        if cx.already_admitted && spec.priority.is_some() {
            return Ok(());
        }
        let class_name = spec.priority_class_name.clone().unwrap_or_default();
        let (class_name, priority, policy) = if class_name.is_empty() {
            match cx.priority_classes.global_default() {
                Some(c) => (c.name.clone(), c.value, c.preemption_policy.clone()),
                None => (String::new(), 0, None),
            }
        } else {
            match cx.priority_classes.get(&class_name) {
                Some(c) => (class_name, c.value, c.preemption_policy.clone()),
                None => {
                    return Err(forbidden(
                        pod,
                        spec_path.key("priorityClassName"),
                        format!("no PriorityClass with name {class_name} was found"),
                    ));
                }
            }
        };
        if let Some(p) = spec.priority
            && p != priority
        {
            return Err(forbidden(
                pod,
                spec_path.key("priority"),
                format!(
                    "the integer value of priority ({p}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
                ),
            ));
        }
        // A class without a policy has the API default; so does "no class at all"
        // (`getDefaultPriority`).
        let policy = policy.unwrap_or_else(|| "PreemptLowerPriority".to_string());
        if let Some(given) = spec.preemption_policy.as_deref()
            && given != policy
        {
            return Err(forbidden(
                pod,
                spec_path.key("preemptionPolicy"),
                format!(
                    "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
                ),
            ));
        }
        let spec = pod.spec.get_or_insert_with(PodSpec::default);
        if !class_name.is_empty() {
            spec.priority_class_name = Some(class_name);
        }
        spec.priority = Some(priority);
        spec.preemption_policy = Some(policy);
        Ok(())
    }
}

/// DefaultTolerationSeconds (kube-scheduler.md §5): `not-ready` and `unreachable` NoExecute
/// tolerations with `tolerationSeconds: 300`, unless the pod already tolerates the taint with
/// effect NoExecute or empty (a toleration with that key, or with an empty key).
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultTolerationSeconds;

fn tolerates_no_execute(tolerations: &[Toleration], key: &str) -> bool {
    tolerations.iter().any(|t| {
        let tkey = t.key.as_deref().unwrap_or_default();
        let effect = t.effect.as_deref().unwrap_or_default();
        (tkey == key || tkey.is_empty()) && (effect == "NoExecute" || effect.is_empty())
    })
}

impl PodMutator for DefaultTolerationSeconds {
    fn name(&self) -> &str {
        "DefaultTolerationSeconds"
    }

    fn admit(&self, pod: &mut Pod, _cx: &AdmissionContext<'_>) -> Result<(), AdmissionError> {
        let spec = pod.spec.get_or_insert_with(PodSpec::default);
        let existing = spec.tolerations.clone().unwrap_or_default();
        let mut added = Vec::new();
        for key in [TAINT_NOT_READY, TAINT_UNREACHABLE] {
            if !tolerates_no_execute(&existing, key) {
                added.push(Toleration {
                    key: Some(key.into()),
                    operator: Some("Exists".into()),
                    effect: Some("NoExecute".into()),
                    toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
                    value: None,
                });
            }
        }
        if !added.is_empty() {
            spec.tolerations.get_or_insert_with(Vec::new).extend(added);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::de::from_node;

    fn pod(yaml: &str) -> Pod {
        let (docs, errs) = crate::yaml::parse(yaml);
        assert!(errs.is_empty(), "{errs:?}");
        from_node(docs[0].root.as_ref().expect("root")).expect("pod")
    }

    fn class(name: &str, value: i32, global_default: bool, policy: Option<&str>) -> PriorityClass {
        PriorityClass {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            value,
            global_default: Some(global_default),
            preemption_policy: policy.map(Into::into),
            description: None,
        }
    }

    fn admit(p: &mut Pod, classes: &PriorityClasses) -> Result<(), AdmissionError> {
        let cx = AdmissionContext { priority_classes: classes, already_admitted: is_admitted(p) };
        AdmissionChain::standard().admit(p, &cx)
    }

    #[test]
    fn api_defaults_copy_limits_into_missing_requests() {
        let mut p = pod(
            "metadata: {name: p}\nspec:\n  hostNetwork: true\n  containers:\n  - name: a\n    resources:\n      limits: {cpu: 2, memory: 1Gi}\n      requests: {cpu: 500m}\n    ports: [{containerPort: 8080}]\n",
        );
        admit(&mut p, &PriorityClasses::new()).expect("admits");
        let spec = p.spec.as_ref().expect("spec");
        let req = spec.containers[0].resources.as_ref().and_then(|r| r.requests.as_ref()).expect("requests");
        assert_eq!(req["cpu"].0, "500m");
        assert_eq!(req["memory"].0, "1Gi");
        assert_eq!(spec.containers[0].ports.as_ref().map(|p| p[0].host_port), Some(Some(8080)));
        assert_eq!(p.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(spec.scheduler_name.as_deref(), Some("default-scheduler"));
        assert_eq!(spec.priority, Some(0));
        assert_eq!(spec.preemption_policy.as_deref(), Some("PreemptLowerPriority"));
    }

    #[test]
    fn priority_from_class_default_and_builtins() {
        let mut classes = PriorityClasses::new();
        classes.add(&class("high", 1000, false, Some("Never"))).expect("add");
        classes.add(&class("low-default", -5, true, None)).expect("add");
        assert_eq!(
            classes.add(&class("other-default", 1, true, None)).expect_err("second default"),
            "priorityclasses.scheduling.k8s.io \"other-default\" is forbidden: PriorityClass low-default is already marked as default. Only one default can exist"
        );
        let mut p = pod("metadata: {name: a}\nspec:\n  priorityClassName: high\n  containers: [{name: c}]\n");
        admit(&mut p, &classes).expect("admits");
        assert_eq!(p.spec.as_ref().and_then(|s| s.priority), Some(1000));
        assert_eq!(p.spec.as_ref().and_then(|s| s.preemption_policy.as_deref()), Some("Never"));
        let mut d = pod("metadata: {name: b}\nspec:\n  containers: [{name: c}]\n");
        admit(&mut d, &classes).expect("admits");
        assert_eq!(d.spec.as_ref().and_then(|s| s.priority), Some(-5));
        assert_eq!(d.spec.as_ref().and_then(|s| s.priority_class_name.as_deref()), Some("low-default"));
        let mut s =
            pod("metadata: {name: c}\nspec:\n  priorityClassName: system-node-critical\n  containers: [{name: c}]\n");
        admit(&mut s, &classes).expect("admits");
        assert_eq!(s.spec.as_ref().and_then(|s| s.priority), Some(2_000_001_000));
        let mut s = pod(
            "metadata: {name: c}\nspec:\n  priorityClassName: system-cluster-critical\n  containers: [{name: c}]\n",
        );
        admit(&mut s, &classes).expect("admits");
        assert_eq!(s.spec.as_ref().and_then(|s| s.priority), Some(2_000_000_000));
    }

    #[test]
    fn absent_class_and_conflicting_priority_are_refused_with_apiserver_text() {
        let classes = PriorityClasses::new();
        let mut p = pod("metadata: {name: web-1}\nspec:\n  priorityClassName: gold\n  containers: [{name: c}]\n");
        let err = admit(&mut p, &classes).expect_err("refused");
        assert_eq!(err.path.to_string(), "spec.priorityClassName");
        assert_eq!(err.message, "pods \"web-1\" is forbidden: no PriorityClass with name gold was found");
        let mut p = pod("metadata: {generateName: web-}\nspec:\n  priority: 7\n  containers: [{name: c}]\n");
        let err = admit(&mut p, &classes).expect_err("refused");
        assert_eq!(
            err.message,
            "pods \"web-\" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name"
        );
    }

    #[test]
    fn dump_pods_keep_their_priority_even_without_the_class() {
        let classes = PriorityClasses::new();
        let mut p = pod(
            "metadata: {name: p}\nspec:\n  nodeName: n1\n  priority: 100\n  priorityClassName: gone\n  containers: [{name: c}]\n",
        );
        admit(&mut p, &classes).expect("admitted already");
        assert_eq!(p.spec.as_ref().and_then(|s| s.priority), Some(100));
    }

    #[test]
    fn default_toleration_seconds_is_idempotent() {
        let mut p = pod("metadata: {name: p}\nspec:\n  containers: [{name: c}]\n");
        admit(&mut p, &PriorityClasses::new()).expect("admits");
        admit(&mut p, &PriorityClasses::new()).expect("admits again");
        let tols = p.spec.as_ref().and_then(|s| s.tolerations.clone()).unwrap_or_default();
        let keys: Vec<(&str, Option<i64>)> =
            tols.iter().map(|t| (t.key.as_deref().unwrap_or_default(), t.toleration_seconds)).collect();
        assert_eq!(keys, [(TAINT_NOT_READY, Some(300)), (TAINT_UNREACHABLE, Some(300))]);
        // An existing not-ready toleration (any effect) and an empty-key one suppress the defaults.
        let mut q = pod(
            "metadata: {name: q}\nspec:\n  containers: [{name: c}]\n  tolerations:\n  - {key: node.kubernetes.io/not-ready, operator: Exists}\n",
        );
        admit(&mut q, &PriorityClasses::new()).expect("admits");
        let n = q.spec.as_ref().and_then(|s| s.tolerations.as_ref()).map(Vec::len);
        assert_eq!(n, Some(2));
        let mut r = pod("metadata: {name: r}\nspec:\n  containers: [{name: c}]\n  tolerations: [{operator: Exists}]\n");
        admit(&mut r, &PriorityClasses::new()).expect("admits");
        assert_eq!(r.spec.as_ref().and_then(|s| s.tolerations.as_ref()).map(Vec::len), Some(1));
    }

    #[test]
    fn chains_are_extensible() {
        struct Label;
        impl PodMutator for Label {
            fn name(&self) -> &str {
                "Label"
            }
            fn admit(&self, pod: &mut Pod, _cx: &AdmissionContext<'_>) -> Result<(), AdmissionError> {
                pod.metadata.labels.get_or_insert_with(BTreeMap::new).insert("mutated".into(), "yes".into());
                Ok(())
            }
        }
        let mut chain = AdmissionChain::standard();
        chain.push(Arc::new(Label));
        assert_eq!(chain.names(), ["ApiDefaults", "Priority", "DefaultTolerationSeconds", "Label"]);
        let mut p = pod("metadata: {name: p}\nspec:\n  containers: [{name: c}]\n");
        let classes = PriorityClasses::new();
        chain.admit(&mut p, &AdmissionContext { priority_classes: &classes, already_admitted: false }).expect("ok");
        assert_eq!(p.metadata.labels.as_ref().and_then(|l| l.get("mutated")).map(String::as_str), Some("yes"));
    }
}
