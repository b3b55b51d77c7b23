//! The scenario document (`kubesched.io/v1alpha1`, `kind: Scenario`): parsing, resolution of the
//! manifests it names, and validation of the whole timeline before anything runs.
//!
//! The schema is documented on the crate root ([`crate`]). Every error names the file, the
//! line and the field: `scenario.yaml: document 1 (Scenario demo), line 31: spec.events[4].at:
//! invalid duration "5 min": …`.

use crate::time::{MINUTE, Millis, SECOND, format_duration, parse_duration};
use k8s_openapi::api::core::v1::NodeSelector;
use kubesched_core::config::SchedulerConfig;
use kubesched_core::framework::build_profiles;
use kubesched_core::model::{Readiness, TaintEffect};
use kubesched_k8s::admission::AdmissionChain;
use kubesched_k8s::controllers::NameGenerator;
use kubesched_k8s::decode::{Decoded, DecodedObject, Object, decode_sources, decode_tree};
use kubesched_k8s::error::{ErrorKind, LoadError, Source};
use kubesched_k8s::input::{Input, read_sources};
use kubesched_k8s::tree::{FieldPath, Node, Value};
use kubesched_k8s::{Cluster, LoadOptions, LoadedConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const API_VERSION: &str = "kubesched.io/v1alpha1";
pub const KIND: &str = "Scenario";
/// How long a pod runs once started, then it succeeds (`10m`, `1h30m`).
pub const DURATION_ANNOTATION: &str = "kubesched.io/duration";
/// `--node-monitor-grace-period` since v1.32 (kube-scheduler.md §5).
pub const DEFAULT_NODE_MONITOR_GRACE_PERIOD: Millis = 50 * SECOND;
pub const DEFAULT_SAMPLE_INTERVAL: Millis = MINUTE;
/// How often `kubectl drain` retries an eviction a budget refused.
pub const DEFAULT_DRAIN_RETRY: Millis = 5 * SECOND;

/// The kinds a scenario event can name.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum Kind {
    Node,
    Pod,
    Namespace,
    PriorityClass,
    PodDisruptionBudget,
    Service,
    ReplicationController,
    Deployment,
    ReplicaSet,
    StatefulSet,
    Job,
    DaemonSet,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Node,
        Kind::Pod,
        Kind::Namespace,
        Kind::PriorityClass,
        Kind::PodDisruptionBudget,
        Kind::Service,
        Kind::ReplicationController,
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::StatefulSet,
        Kind::Job,
        Kind::DaemonSet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Node => "Node",
            Kind::Pod => "Pod",
            Kind::Namespace => "Namespace",
            Kind::PriorityClass => "PriorityClass",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::Service => "Service",
            Kind::ReplicationController => "ReplicationController",
            Kind::Deployment => "Deployment",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::StatefulSet => "StatefulSet",
            Kind::Job => "Job",
            Kind::DaemonSet => "DaemonSet",
        }
    }

    /// The kind, its plural, or a kubectl short name, case-insensitively.
    pub fn parse(s: &str) -> Option<Kind> {
        let l = s.to_ascii_lowercase();
        Some(match l.as_str() {
            "node" | "nodes" | "no" => Kind::Node,
            "pod" | "pods" | "po" => Kind::Pod,
            "namespace" | "namespaces" | "ns" => Kind::Namespace,
            "priorityclass" | "priorityclasses" | "pc" => Kind::PriorityClass,
            "poddisruptionbudget" | "poddisruptionbudgets" | "pdb" => Kind::PodDisruptionBudget,
            "service" | "services" | "svc" => Kind::Service,
            "replicationcontroller" | "replicationcontrollers" | "rc" => Kind::ReplicationController,
            "deployment" | "deployments" | "deploy" => Kind::Deployment,
            "replicaset" | "replicasets" | "rs" => Kind::ReplicaSet,
            "statefulset" | "statefulsets" | "sts" => Kind::StatefulSet,
            "job" | "jobs" => Kind::Job,
            "daemonset" | "daemonsets" | "ds" => Kind::DaemonSet,
            _ => return None,
        })
    }

    pub fn namespaced(self) -> bool {
        !matches!(self, Kind::Node | Kind::Namespace | Kind::PriorityClass)
    }

    pub fn of(object: &Object) -> Kind {
        match object {
            Object::Node(_) => Kind::Node,
            Object::Pod(_) => Kind::Pod,
            Object::Namespace(_) => Kind::Namespace,
            Object::PriorityClass(_) => Kind::PriorityClass,
            Object::PodDisruptionBudget(_) => Kind::PodDisruptionBudget,
            Object::Service(_) => Kind::Service,
            Object::ReplicationController(_) => Kind::ReplicationController,
            Object::Deployment(_) => Kind::Deployment,
            Object::ReplicaSet(_) => Kind::ReplicaSet,
            Object::StatefulSet(_) => Kind::StatefulSet,
            Object::Job(_) => Kind::Job,
            Object::DaemonSet(_) => Kind::DaemonSet,
        }
    }
}

/// An object named by an event.
#[derive(Clone, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    pub kind: Kind,
    /// Empty for cluster-scoped kinds.
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ObjRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind.as_str(), self.name)
        } else {
            write!(f, "{} {}/{}", self.kind.as_str(), self.namespace, self.name)
        }
    }
}

/// What happens at an instant of the timeline.
#[derive(Clone, Debug)]
pub enum Action {
    /// Create or update objects (`kubectl apply`).
    Apply(Vec<DecodedObject>),
    Delete(ObjRef),
    Scale {
        target: ObjRef,
        replicas: i32,
    },
    /// Remove the named gates (all of them when `None`).
    RemoveSchedulingGates {
        pod: ObjRef,
        gates: Option<Vec<String>>,
    },
    /// Update a pod's scheduling directives; `Some(None)` clears a field.
    UpdatePod {
        pod: ObjRef,
        node_selector: Option<Option<BTreeMap<String, String>>>,
        required_node_affinity: Option<Option<NodeSelector>>,
        scheduling_gates: Option<Vec<String>>,
    },
    Cordon(String),
    Uncordon(String),
    Drain {
        node: String,
        timeout: Option<Millis>,
    },
    Taint {
        node: String,
        key: String,
        value: String,
        effect: TaintEffect,
    },
    Untaint {
        node: String,
        key: String,
        effect: Option<TaintEffect>,
    },
    FailNode {
        node: String,
        condition: Readiness,
    },
    RecoverNode(String),
}

impl Action {
    /// The event type as written in the scenario.
    pub fn type_name(&self) -> &'static str {
        match self {
            Action::Apply(_) => "apply",
            Action::Delete(_) => "delete",
            Action::Scale { .. } => "scale",
            Action::RemoveSchedulingGates { .. } => "removeSchedulingGates",
            Action::UpdatePod { .. } => "updatePod",
            Action::Cordon(_) => "cordon",
            Action::Uncordon(_) => "uncordon",
            Action::Drain { .. } => "drain",
            Action::Taint { .. } => "taint",
            Action::Untaint { .. } => "untaint",
            Action::FailNode { .. } => "failNode",
            Action::RecoverNode(_) => "recoverNode",
        }
    }
}

pub const EVENT_TYPES: &[&str] = &[
    "apply",
    "delete",
    "scale",
    "removeSchedulingGates",
    "updatePod",
    "cordon",
    "uncordon",
    "drain",
    "taint",
    "untaint",
    "failNode",
    "recoverNode",
];

#[derive(Clone, Debug)]
pub struct TimedEvent {
    pub at: Millis,
    /// Position in `spec.events`.
    pub index: usize,
    pub line: usize,
    pub action: Action,
    /// NodePools and node classes an `apply` brings: indices into [`Scenario::cloud`].
    pub cloud: Vec<usize>,
}

/// One NodePool, EC2NodeClass or Auto Mode NodeClass document of the scenario (from the
/// cluster's manifests or an `apply`), read and validated.
#[derive(Clone, Debug)]
pub struct CloudDocument {
    pub raw: kubesched_k8s::RawDocument,
    /// The pool or class it holds (its location is its index in [`Scenario::cloud`]).
    pub documents: kubesched_autoscale::Documents,
}

impl CloudDocument {
    /// `NodePool general-purpose`.
    pub fn describe(&self) -> String {
        let name = self.raw.value.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or("");
        format!("{} {name}", self.raw.kind)
    }
}

/// `spec.autoscaling`: the autoscaler's knobs (defaults: Karpenter's, doc §5, §7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoscalingSettings {
    /// Launch → Node registered (default 20 s).
    pub registered_after_launch: Millis,
    /// Launch → Node Ready; `None`: 30 s, 90 s for GPU, accelerator and metal types.
    pub ready_after_launch: Option<Millis>,
    /// Feature gate `SpotToSpotConsolidation` (default off).
    pub spot_to_spot_consolidation: bool,
    /// Consolidation and emptiness on (default); off: nodes only go when they expire.
    pub consolidation: bool,
    /// kubesched's cost repacking after Karpenter's solve (default off: predict Karpenter).
    pub repack: bool,
}

impl Default for AutoscalingSettings {
    fn default() -> Self {
        AutoscalingSettings {
            registered_after_launch: kubesched_autoscale::timing::REGISTERED_AFTER_LAUNCH as Millis * SECOND,
            ready_after_launch: None,
            spot_to_spot_consolidation: false,
            consolidation: true,
            repack: false,
        }
    }
}

/// `spec.fargate`: fargate-scheduler's knobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FargateSettings {
    /// Creation → node registered and pod bound; default uniform 30–50 s (fargate.md §4.2),
    /// the micro-VM boot (~125 ms, §7) included.
    pub provisioning_delay: kubesched_fargate::lifecycle::ProvisioningDelay,
    /// Region of profiles that name none (prices, node names).
    pub region: String,
}

impl Default for FargateSettings {
    fn default() -> Self {
        FargateSettings { provisioning_delay: Default::default(), region: "us-east-1".into() }
    }
}

/// How long the scheduler's work takes in simulated time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timing {
    /// One scheduling cycle (the scheduler handles one pod at a time).
    pub scheduling_cycle: Millis,
    /// From assume to bound and running (the binding cycle runs in parallel).
    pub binding: Millis,
}

/// A scheduler configuration and the label reports show for it.
#[derive(Clone, Debug)]
pub struct ConfigChoice {
    pub label: String,
    pub config: SchedulerConfig,
}

/// A validated scenario, ready to run (any number of times, with any configuration).
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub file: String,
    pub seed: u64,
    pub duration: Option<Millis>,
    pub node_monitor_grace_period: Millis,
    pub sample_interval: Millis,
    /// Times at which every node's state is recorded (`checkpoints` in the report).
    pub checkpoints: Vec<Millis>,
    pub timing: Timing,
    pub pop_from_backoff_q: bool,
    /// The starting cluster, through the same loader as `kubesched schedule`.
    pub cluster: Cluster,
    pub scheduler: ConfigChoice,
    pub compare: Option<ConfigChoice>,
    /// In timeline order (time, then position in the file).
    pub events: Vec<TimedEvent>,
    pub warnings: Vec<String>,
    /// NodePools and node classes: the cluster's first, then those of `apply` events.
    pub cloud: Vec<CloudDocument>,
    /// Indices into `cloud` of the starting cluster's documents.
    pub cloud_at_start: Vec<usize>,
    /// `spec.autoMode` (or `--auto-mode`): EKS Auto Mode's built-in NodePools.
    pub auto_mode: bool,
    pub autoscaling: AutoscalingSettings,
    /// Fargate profiles of the starting cluster (their webhook is in `admission`).
    pub fargate: Option<crate::cloud::FargateSetup>,
    pub fargate_settings: FargateSettings,
    /// The API server's admission chain for every pod (the Fargate webhook when there are
    /// profiles).
    pub admission: AdmissionChain,
}

impl Scenario {
    /// Whether an autoscaler takes part: NodePools somewhere in the scenario, or Auto Mode.
    pub fn has_autoscaling(&self) -> bool {
        self.auto_mode || self.cloud.iter().any(|d| !d.documents.node_pools.is_empty())
    }

    /// The raw documents of `cloud`, for locating errors.
    pub fn cloud_raw(&self) -> Vec<kubesched_k8s::RawDocument> {
        self.cloud.iter().map(|d| d.raw.clone()).collect()
    }
}

/// Where the files a scenario names are read from.
pub trait Files {
    /// The loader input for a manifest file or folder named in the scenario.
    fn input(&self, rel: &str) -> Result<Input, String>;
    /// A scheduler configuration file: its display name and text.
    fn read(&self, rel: &str) -> Result<(String, String), String>;
}

/// Files on disk, relative to the scenario's folder.
pub struct DiskFiles {
    pub base: PathBuf,
}

impl DiskFiles {
    fn path(&self, rel: &str) -> PathBuf {
        let p = Path::new(rel);
        if p.is_absolute() { p.to_path_buf() } else { self.base.join(p) }
    }
}

impl Files for DiskFiles {
    fn input(&self, rel: &str) -> Result<Input, String> {
        let path = self.path(rel);
        if !path.exists() {
            return Err(format!("{} does not exist (paths are relative to the scenario's folder)", path.display()));
        }
        Ok(Input::Path(path))
    }

    fn read(&self, rel: &str) -> Result<(String, String), String> {
        let path = self.path(rel);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok((path.display().to_string(), text))
    }
}

/// Files compiled into the binary (the embedded demo).
pub struct EmbeddedFiles {
    pub files: &'static [(&'static str, &'static str)],
}

impl Files for EmbeddedFiles {
    fn input(&self, rel: &str) -> Result<Input, String> {
        let (name, text) = self.read(rel)?;
        Ok(Input::Text { name, text })
    }

    fn read(&self, rel: &str) -> Result<(String, String), String> {
        self.files
            .iter()
            .find(|(n, _)| *n == rel)
            .map(|(n, t)| (format!("demo/{n}"), t.to_string()))
            .ok_or_else(|| format!("{rel} is not part of the embedded demo"))
    }
}

/// Reads and validates a scenario file from disk. `seed` overrides the scenario's seed.
pub fn load_file(path: &Path, seed: Option<u64>) -> Result<Scenario, Vec<LoadError>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| vec![LoadError::file(ErrorKind::Io, &name, e.to_string())])?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&name, &text, &DiskFiles { base }, seed)
}

/// Parses, resolves and validates a scenario. Every error found is returned.
pub fn parse(
    file: &str,
    text: &str,
    files: &dyn Files,
    seed_override: Option<u64>,
) -> Result<Scenario, Vec<LoadError>> {
    let (docs, syntax) = kubesched_k8s::yaml::parse(text);
    if let Some(e) = syntax.into_iter().next() {
        return Err(vec![LoadError::syntax(file, e)]);
    }
    let Some((document, root)) = docs.into_iter().find_map(|d| d.root.map(|r| (d.index, r))) else {
        return Err(vec![LoadError::file(ErrorKind::Decode, file, "no Scenario found (empty file)")]);
    };
    let mut p = Parser {
        file: file.to_string(),
        source: Source::new(file, document, None, root.line),
        object: None,
        root: &root,
        errors: Vec::new(),
        cloud: Vec::new(),
        pending_cloud: Vec::new(),
        fargate: None,
        admission: AdmissionChain::standard(),
    };
    let scenario = p.scenario(files, seed_override);
    let mut errors = p.errors;
    match scenario {
        Some(s) if errors.is_empty() => Ok(s),
        _ => {
            errors.sort_by_key(|e| (e.file.to_string() != file, e.file.clone(), e.line));
            Err(errors)
        }
    }
}

struct Parser<'a> {
    file: String,
    source: Source,
    object: Option<String>,
    root: &'a Node,
    errors: Vec<LoadError>,
    /// Cloud documents read so far, and those of the `apply` being parsed.
    cloud: Vec<CloudDocument>,
    pending_cloud: Vec<usize>,
    fargate: Option<crate::cloud::FargateSetup>,
    admission: AdmissionChain,
}

fn key(path: &FieldPath, k: &str) -> FieldPath {
    path.key(k)
}

impl<'a> Parser<'a> {
    fn error(&mut self, path: &FieldPath, message: impl Into<String>) {
        let line = self.root.line_of(path);
        self.errors.push(LoadError::at(
            ErrorKind::Invalid,
            &self.source,
            self.object.clone(),
            line,
            Some(path.to_string()),
            message,
        ));
    }

    /// The entries of a mapping, refusing unknown keys.
    fn fields(
        &mut self,
        node: &'a Node,
        path: &FieldPath,
        allowed: &[&str],
    ) -> Option<&'a [kubesched_k8s::tree::Entry]> {
        let Some(entries) = node.as_map() else {
            self.error(path, format!("invalid type: {}, expected a mapping", node.type_name()));
            return None;
        };
        for e in entries {
            if !allowed.contains(&e.key.as_str()) {
                self.error(
                    &key(path, &e.key),
                    format!("unknown field {:?} (expected one of: {})", e.key, allowed.join(", ")),
                );
            }
        }
        Some(entries)
    }

    fn string(&mut self, node: &Node, path: &FieldPath) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            Value::Num(n) => Some(n.text.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => {
                self.error(path, format!("invalid type: {}, expected a string", node.type_name()));
                None
            }
        }
    }

    fn nonempty_string(&mut self, node: &Node, path: &FieldPath) -> Option<String> {
        let s = self.string(node, path)?;
        if s.is_empty() {
            self.error(path, "Required value: must not be empty");
            return None;
        }
        Some(s)
    }

    fn duration(&mut self, node: &Node, path: &FieldPath) -> Option<Millis> {
        let text = match &node.value {
            Value::Str(s) => s.clone(),
            Value::Num(n) => n.text.clone(),
            _ => {
                self.error(
                    path,
                    format!("invalid type: {}, expected a duration such as 30s, 5m or 1h30m", node.type_name()),
                );
                return None;
            }
        };
        match parse_duration(&text) {
            Ok(ms) => Some(ms),
            Err(e) => {
                self.error(path, e);
                None
            }
        }
    }

    fn integer(&mut self, node: &Node, path: &FieldPath) -> Option<i64> {
        match &node.value {
            Value::Num(n) => match n.parsed {
                kubesched_k8s::tree::Num::Int(i) => Some(i),
                kubesched_k8s::tree::Num::UInt(u) => i64::try_from(u).ok().or_else(|| {
                    self.error(path, "integer out of range");
                    None
                }),
                kubesched_k8s::tree::Num::Float(_) => {
                    self.error(path, format!("invalid value: {}, expected an integer", n.text));
                    None
                }
            },
            _ => {
                self.error(path, format!("invalid type: {}, expected an integer", node.type_name()));
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, path: &FieldPath) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.error(path, format!("invalid type: {}, expected a boolean", node.type_name()));
                None
            }
        }
    }

    fn scenario(&mut self, files: &dyn Files, seed_override: Option<u64>) -> Option<Scenario> {
        let root = self.root;
        let top = FieldPath::root();
        let entries = self.fields(root, &top, &["apiVersion", "kind", "metadata", "spec"])?;
        let get = |k: &str| entries.iter().find(|e| e.key == k).map(|e| &e.value);
        let api_version =
            get("apiVersion").and_then(|n| if let Value::Str(s) = &n.value { Some(s.as_str()) } else { None });
        let kind = get("kind").and_then(|n| if let Value::Str(s) = &n.value { Some(s.as_str()) } else { None });
        if kind != Some(KIND) || api_version != Some(API_VERSION) {
            let field = if kind != Some(KIND) { "kind" } else { "apiVersion" };
            self.error(
                &key(&top, field),
                format!(
                    "expected apiVersion: {API_VERSION} and kind: {KIND}, found {} {}",
                    api_version.unwrap_or("(none)"),
                    kind.unwrap_or("(none)")
                ),
            );
            return None;
        }
        let mut name = "scenario".to_string();
        let mut description = None;
        if let Some(meta) = get("metadata") {
            let mp = key(&top, "metadata");
            if let Some(me) = self.fields(meta, &mp, &["name", "description", "annotations", "labels"]) {
                for e in me {
                    match e.key.as_str() {
                        "name" => {
                            if let Some(n) = self.nonempty_string(&e.value, &key(&mp, "name")) {
                                name = n;
                            }
                        }
                        "description" => description = self.string(&e.value, &key(&mp, "description")),
                        _ => {}
                    }
                }
            }
        }
        self.object = Some(format!("{KIND} {name}"));
        let sp = key(&top, "spec");
        let Some(spec) = get("spec") else {
            self.error(&sp, "Required value");
            return None;
        };
        let allowed = [
            "seed",
            "duration",
            "nodeMonitorGracePeriod",
            "sampleInterval",
            "checkpoints",
            "timing",
            "queue",
            "cluster",
            "scheduler",
            "compare",
            "events",
            "autoMode",
            "autoscaling",
            "fargate",
        ];
        let spec_entries = self.fields(spec, &sp, &allowed)?;
        let sget = |k: &str| spec_entries.iter().find(|e| e.key == k).map(|e| &e.value);
        let mut seed = 0u64;
        if let Some(n) = sget("seed") {
            match self.integer(n, &key(&sp, "seed")) {
                Some(v) if v >= 0 => seed = v as u64,
                Some(v) => self.error(&key(&sp, "seed"), format!("Invalid value: {v}: must be non-negative")),
                None => {}
            }
        }
        let seed = seed_override.unwrap_or(seed);
        let duration = sget("duration").and_then(|n| self.duration(n, &key(&sp, "duration")));
        let grace = sget("nodeMonitorGracePeriod")
            .and_then(|n| self.duration(n, &key(&sp, "nodeMonitorGracePeriod")))
            .unwrap_or(DEFAULT_NODE_MONITOR_GRACE_PERIOD);
        let mut sample_interval = DEFAULT_SAMPLE_INTERVAL;
        if let Some(n) = sget("sampleInterval")
            && let Some(v) = self.duration(n, &key(&sp, "sampleInterval"))
        {
            if v == 0 {
                self.error(&key(&sp, "sampleInterval"), "Invalid value: must be more than 0");
            } else {
                sample_interval = v;
            }
        }
        let mut checkpoints = Vec::new();
        if let Some(n) = sget("checkpoints") {
            let cp = key(&sp, "checkpoints");
            match &n.value {
                Value::Seq(items) => {
                    for (i, item) in items.iter().enumerate() {
                        checkpoints.extend(self.duration(item, &cp.index(i)));
                    }
                }
                _ => self.error(&cp, format!("invalid type: {}, expected a list of times", n.type_name())),
            }
            checkpoints.sort_unstable();
            checkpoints.dedup();
        }
        let mut timing = Timing::default();
        if let Some(n) = sget("timing") {
            let tp = key(&sp, "timing");
            if let Some(te) = self.fields(n, &tp, &["schedulingCycle", "binding"]) {
                for e in te.iter().filter(|e| matches!(e.key.as_str(), "schedulingCycle" | "binding")) {
                    let v = self.duration(&e.value, &key(&tp, &e.key));
                    match (e.key.as_str(), v) {
                        ("schedulingCycle", Some(v)) => timing.scheduling_cycle = v,
                        ("binding", Some(v)) => timing.binding = v,
                        _ => {}
                    }
                }
            }
        }
        let mut pop_from_backoff_q = true;
        if let Some(n) = sget("queue") {
            let qp = key(&sp, "queue");
            if let Some(qe) = self.fields(n, &qp, &["popFromBackoffQ"]) {
                for e in qe.iter().filter(|e| e.key == "popFromBackoffQ") {
                    if let Some(b) = self.boolean(&e.value, &key(&qp, &e.key)) {
                        pop_from_backoff_q = b;
                    }
                }
            }
        }
        let auto_mode = sget("autoMode").and_then(|n| self.boolean(n, &key(&sp, "autoMode"))).unwrap_or(false);
        let autoscaling =
            sget("autoscaling").map(|n| self.autoscaling(n, &key(&sp, "autoscaling"))).unwrap_or_default();
        let fargate_settings =
            sget("fargate").map(|n| self.fargate_settings(n, &key(&sp, "fargate"))).unwrap_or_default();
        let mut warnings = Vec::new();
        let cluster = self.cluster(sget("cluster"), &key(&sp, "cluster"), files, seed, &mut warnings);
        let cloud_at_start: Vec<usize> = (0..self.cloud.len()).collect();
        let scheduler = match sget("scheduler") {
            Some(n) => self.config(n, &key(&sp, "scheduler"), files),
            None => Some(ConfigChoice { label: "default".into(), config: SchedulerConfig::default() }),
        };
        let compare = sget("compare").and_then(|n| self.config(n, &key(&sp, "compare"), files));
        let events = match sget("events") {
            Some(n) => self.events(n, &key(&sp, "events"), files, &mut warnings),
            None => Vec::new(),
        };
        let cluster = cluster?;
        let scheduler = scheduler?;
        let mut events = events;
        events.sort_by_key(|e| (e.at, e.index));
        let mut s = Scenario {
            name,
            description,
            file: self.file.clone(),
            seed,
            duration,
            node_monitor_grace_period: grace,
            sample_interval,
            checkpoints,
            timing,
            pop_from_backoff_q,
            cluster,
            scheduler,
            compare,
            events,
            warnings,
            cloud: std::mem::take(&mut self.cloud),
            cloud_at_start,
            auto_mode,
            autoscaling,
            fargate: self.fargate.take(),
            fargate_settings,
            admission: self.admission.clone(),
        };
        self.validate_timeline(&mut s);
        self.validate_cloud(&s);
        Some(s)
    }

    /// Reads one NodePool / node class document; its index in `cloud`, or `None` (errors noted).
    fn read_cloud(&mut self, raw: kubesched_k8s::RawDocument) -> Option<usize> {
        let index = self.cloud.len();
        let label = index.to_string();
        match kubesched_autoscale::read_documents([(label.as_str(), &raw.value)]) {
            Ok(documents) => {
                self.cloud.push(CloudDocument { raw, documents });
                Some(index)
            }
            Err(errs) => {
                let raws = [raw];
                self.errors.extend(errs.iter().map(|e| {
                    let mut e = e.clone();
                    e.location = "0".into();
                    crate::cloud::locate(&e, &raws)
                }));
                None
            }
        }
    }

    /// The NodePools and node classes as they stand after each `apply`, resolved as the
    /// autoscaler will: a pool whose class is missing is an error at the document that made it so.
    fn validate_cloud(&mut self, s: &Scenario) {
        if !s.has_autoscaling() {
            return;
        }
        let raw = s.cloud_raw();
        let mut steps: Vec<Vec<usize>> = vec![s.cloud_at_start.clone()];
        steps.extend(s.events.iter().filter(|e| !e.cloud.is_empty()).map(|e| e.cloud.clone()));
        let mut current: Vec<usize> = Vec::new();
        for step in steps {
            current = crate::autoscaler::merge_documents(&s.cloud, &current, &step);
            let docs = crate::autoscaler::documents_of(&s.cloud, &current);
            let options = kubesched_autoscale::Options { auto_mode_builtins: s.auto_mode, ..Default::default() };
            if let Err(errs) = crate::cloud::autoscaler(&docs, &raw, kubesched_autoscale::default_profile(), options) {
                for e in errs {
                    if !self.errors.contains(&e) {
                        self.errors.push(e);
                    }
                }
            }
        }
    }

    fn autoscaling(&mut self, node: &'a Node, path: &FieldPath) -> AutoscalingSettings {
        let mut out = AutoscalingSettings::default();
        let known = ["registeredAfterLaunch", "readyAfterLaunch", "spotToSpotConsolidation", "consolidation", "repack"];
        let Some(entries) = self.fields(node, path, &known) else { return out };
        for e in entries {
            let p = key(path, &e.key);
            match e.key.as_str() {
                "registeredAfterLaunch" => {
                    if let Some(v) = self.duration(&e.value, &p) {
                        out.registered_after_launch = v;
                    }
                }
                "readyAfterLaunch" => out.ready_after_launch = self.duration(&e.value, &p).or(out.ready_after_launch),
                "spotToSpotConsolidation" => {
                    out.spot_to_spot_consolidation = self.boolean(&e.value, &p).unwrap_or(false);
                }
                "consolidation" => out.consolidation = self.boolean(&e.value, &p).unwrap_or(true),
                "repack" => out.repack = self.boolean(&e.value, &p).unwrap_or(false),
                _ => {}
            }
        }
        if let Some(ready) = out.ready_after_launch
            && ready < out.registered_after_launch
        {
            self.error(&key(path, "readyAfterLaunch"), "Invalid value: must not be shorter than registeredAfterLaunch");
        }
        out
    }

    fn fargate_settings(&mut self, node: &'a Node, path: &FieldPath) -> FargateSettings {
        use kubesched_fargate::lifecycle::ProvisioningDelay;
        let mut out = FargateSettings::default();
        let Some(entries) = self.fields(node, path, &["provisioningDelay", "region"]) else { return out };
        for e in entries {
            let p = key(path, &e.key);
            match e.key.as_str() {
                "region" => {
                    if let Some(r) = self.nonempty_string(&e.value, &p) {
                        out.region = r;
                    }
                }
                "provisioningDelay" => {
                    let delay = match &e.value.value {
                        Value::Map(_) => {
                            let Some(me) = self.fields(&e.value, &p, &["min", "max"]) else { continue };
                            let get = |k: &str| me.iter().find(|x| x.key == k).map(|x| &x.value);
                            let (Some(lo), Some(hi)) = (get("min"), get("max")) else {
                                self.error(&p, "Required value: both min and max");
                                continue;
                            };
                            let (lo, hi) = (self.duration(lo, &key(&p, "min")), self.duration(hi, &key(&p, "max")));
                            let (Some(lo), Some(hi)) = (lo, hi) else { continue };
                            ProvisioningDelay::Uniform { min_ms: lo, max_ms: hi }
                        }
                        _ => match self.duration(&e.value, &p) {
                            Some(ms) => ProvisioningDelay::Fixed { ms },
                            None => continue,
                        },
                    };
                    match delay.validate() {
                        Ok(()) => out.provisioning_delay = delay,
                        Err(m) => self.error(&p, format!("Invalid value: {m}")),
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn cluster(
        &mut self,
        node: Option<&'a Node>,
        path: &FieldPath,
        files: &dyn Files,
        seed: u64,
        warnings: &mut Vec<String>,
    ) -> Option<Cluster> {
        let mut decoded = Decoded::default();
        if let Some(node) = node {
            let entries = self.fields(node, path, &["manifests", "objects"])?;
            for e in entries {
                let p = key(path, &e.key);
                match e.key.as_str() {
                    "manifests" => {
                        let inputs = self.manifest_list(&e.value, &p, files);
                        let (sources, io) = read_sources(&inputs);
                        let mut d = decode_sources(&sources);
                        decoded.files.append(&mut d.files);
                        decoded.objects.append(&mut d.objects);
                        decoded.raw.append(&mut d.raw);
                        decoded.errors.extend(io);
                        decoded.errors.append(&mut d.errors);
                    }
                    "objects" => {
                        let Value::Seq(items) = &e.value.value else {
                            self.error(
                                &p,
                                format!("invalid type: {}, expected a list of objects", e.value.type_name()),
                            );
                            continue;
                        };
                        for item in items {
                            let source = Source::new(&self.file, self.source.document, None, item.line);
                            decode_tree(source, Arc::new(item.clone()), &mut decoded);
                        }
                    }
                    _ => {}
                }
            }
        }
        // Inline objects are numbered after the files for `seq`; renumber in input order.
        for (i, o) in decoded.objects.iter_mut().enumerate() {
            o.seq = i;
        }
        let (fargate, fargate_errors) = crate::cloud::fargate_setup(&decoded);
        self.errors.extend(fargate_errors);
        if let Some(f) = &fargate {
            self.admission.push(f.webhook());
        }
        self.fargate = fargate;
        for raw in decoded.raw.iter().filter(|d| crate::cloud::is_autoscaling(d)) {
            self.read_cloud(raw.clone());
        }
        let cluster = kubesched_k8s::build(decoded, &LoadOptions { seed, admission: self.admission.clone() });
        warnings.extend(cluster.warnings.iter().cloned());
        warnings.extend(cluster.unclaimed_kind_warnings(crate::cloud::CLAIMED_KINDS));
        if !cluster.errors.is_empty() {
            self.errors.extend(cluster.errors.iter().cloned());
            return None;
        }
        for p in &cluster.pods {
            let ann = p.object.metadata.annotations.as_ref().and_then(|a| a.get(DURATION_ANNOTATION));
            if let Some(text) = ann
                && let Err(e) = parse_duration(text)
            {
                let field = if p.generated {
                    format!("spec.template.metadata.annotations[{DURATION_ANNOTATION}]")
                } else {
                    format!("metadata.annotations[{DURATION_ANNOTATION}]")
                };
                self.errors.push(LoadError::at(
                    ErrorKind::Invalid,
                    &p.source,
                    Some(format!("Pod {}", p.model.key())),
                    p.source.line,
                    Some(field),
                    e,
                ));
            }
        }
        Some(cluster)
    }

    /// A path or a list of paths → loader inputs.
    fn manifest_list(&mut self, node: &Node, path: &FieldPath, files: &dyn Files) -> Vec<Input> {
        let items: Vec<(FieldPath, &Node)> = match &node.value {
            Value::Seq(items) => items.iter().enumerate().map(|(i, n)| (path.index(i), n)).collect(),
            _ => vec![(path.clone(), node)],
        };
        let mut out = Vec::new();
        for (p, n) in items {
            let Some(rel) = self.nonempty_string(n, &p) else { continue };
            match files.input(&rel) {
                Ok(i) => out.push(i),
                Err(e) => self.error(&p, e),
            }
        }
        out
    }

    fn config(&mut self, node: &'a Node, path: &FieldPath, files: &dyn Files) -> Option<ConfigChoice> {
        let entries = self.fields(node, path, &["name", "config", "configuration"])?;
        let mut label = None;
        let mut loaded: Option<LoadedConfig> = None;
        let mut given = 0;
        for e in entries {
            let p = key(path, &e.key);
            match e.key.as_str() {
                "name" => label = self.nonempty_string(&e.value, &p),
                "config" => {
                    given += 1;
                    let Some(rel) = self.nonempty_string(&e.value, &p) else { continue };
                    match files.read(&rel) {
                        Err(err) => self.error(&p, err),
                        Ok((name, text)) => match kubesched_k8s::parse_scheduler_config(&name, &text) {
                            Ok(c) => {
                                label.get_or_insert_with(|| config_label(&rel));
                                loaded = Some(c);
                            }
                            Err(errs) => self.errors.extend(errs),
                        },
                    }
                }
                "configuration" => {
                    given += 1;
                    match kubesched_k8s::config::scheduler_config_from_tree(
                        &self.file,
                        self.source.document,
                        e.value.clone(),
                    ) {
                        Ok(c) => {
                            label.get_or_insert_with(|| "inline".into());
                            loaded = Some(c);
                        }
                        Err(errs) => {
                            // Field paths of the embedded configuration, from the scenario's root.
                            let prefix = key(path, "configuration").to_string();
                            self.errors.extend(errs.into_iter().map(|mut e| {
                                e.field = Some(match e.field.take() {
                                    Some(f) => format!("{prefix}.{f}"),
                                    None => prefix.clone(),
                                });
                                e
                            }));
                        }
                    }
                }
                _ => {}
            }
        }
        if given != 1 {
            self.error(path, "exactly one of config (a file) or configuration (inline) is required");
            return None;
        }
        let loaded = loaded?;
        if let Err(errs) = build_profiles(&loaded.config, &kubesched_core::plugins::registry()) {
            self.errors.extend(errs.iter().map(|e| loaded.locate(e)));
            return None;
        }
        Some(ConfigChoice { label: label.unwrap_or_else(|| "default".into()), config: loaded.config })
    }

    fn events(
        &mut self,
        node: &'a Node,
        path: &FieldPath,
        files: &dyn Files,
        warnings: &mut Vec<String>,
    ) -> Vec<TimedEvent> {
        let items = match &node.value {
            Value::Seq(items) => items,
            Value::Null => return Vec::new(),
            _ => {
                self.error(path, format!("invalid type: {}, expected a list of events", node.type_name()));
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = path.index(i);
            let Some(entries) = item.as_map() else {
                self.error(
                    &p,
                    format!("invalid type: {}, expected a mapping with `at` and one event type", item.type_name()),
                );
                continue;
            };
            let mut at = None;
            let mut actions: Vec<&kubesched_k8s::tree::Entry> = Vec::new();
            for e in entries {
                if e.key == "at" {
                    at = self.duration(&e.value, &key(&p, "at"));
                    if at.is_none() {
                        at = Some(u64::MAX);
                    }
                } else if EVENT_TYPES.contains(&e.key.as_str()) {
                    actions.push(e);
                } else {
                    self.error(
                        &key(&p, &e.key),
                        format!("unknown event type {:?} (expected one of: {})", e.key, EVENT_TYPES.join(", ")),
                    );
                    at.get_or_insert(u64::MAX);
                }
            }
            let Some(at) = at else {
                self.error(&key(&p, "at"), "Required value: when the event happens (30s, 5m, 1h30m)");
                continue;
            };
            let entry = match actions.as_slice() {
                [one] => *one,
                [] => {
                    if !self.errors.iter().any(|e| e.field.as_deref().is_some_and(|f| f.starts_with(&p.to_string()))) {
                        self.error(&p, format!("an event needs one event type ({})", EVENT_TYPES.join(", ")));
                    }
                    continue;
                }
                [_, second, ..] => {
                    self.error(&key(&p, &second.key), "one event type per event: split it into two events");
                    continue;
                }
            };
            if at == u64::MAX {
                continue;
            }
            let ap = key(&p, &entry.key);
            let action = self.action(&entry.key, &entry.value, &ap, files, warnings);
            let cloud = std::mem::take(&mut self.pending_cloud);
            if let Some(action) = action {
                out.push(TimedEvent { at, index: i, line: item.line, action, cloud });
            }
        }
        out
    }

    fn action(
        &mut self,
        ty: &str,
        v: &'a Node,
        p: &FieldPath,
        files: &dyn Files,
        warnings: &mut Vec<String>,
    ) -> Option<Action> {
        match ty {
            "apply" => self.apply(v, p, files, warnings).map(Action::Apply),
            "delete" => self.obj_ref(v, p).map(Action::Delete),
            "scale" => {
                let entries = self.fields(v, p, &["kind", "name", "namespace", "replicas"])?;
                let target = self.ref_fields(entries, p)?;
                if !matches!(
                    target.kind,
                    Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet | Kind::ReplicationController
                ) {
                    self.error(
                        &key(p, "kind"),
                        format!(
                            "cannot scale a {}: scale a Deployment, ReplicaSet or StatefulSet",
                            target.kind.as_str()
                        ),
                    );
                    return None;
                }
                let Some(r) = entries.iter().find(|e| e.key == "replicas") else {
                    self.error(&key(p, "replicas"), "Required value");
                    return None;
                };
                let replicas = self.integer(&r.value, &key(p, "replicas"))?;
                if !(0..=i32::MAX as i64).contains(&replicas) {
                    self.error(
                        &key(p, "replicas"),
                        format!("Invalid value: {replicas}: must be greater than or equal to 0"),
                    );
                    return None;
                }
                Some(Action::Scale { target, replicas: replicas as i32 })
            }
            "removeSchedulingGates" => {
                if let Value::Str(_) = v.value {
                    let pod = self.pod_ref_str(v, p)?;
                    return Some(Action::RemoveSchedulingGates { pod, gates: None });
                }
                let entries = self.fields(v, p, &["pod", "namespace", "gates"])?;
                let pod = self.pod_ref(entries, p)?;
                let gates = match entries.iter().find(|e| e.key == "gates") {
                    None => None,
                    Some(e) => Some(self.string_list(&e.value, &key(p, "gates"))?),
                };
                Some(Action::RemoveSchedulingGates { pod, gates })
            }
            "updatePod" => {
                let entries = self.fields(
                    v,
                    p,
                    &["pod", "namespace", "nodeSelector", "requiredNodeAffinity", "schedulingGates"],
                )?;
                let pod = self.pod_ref(entries, p)?;
                let mut node_selector = None;
                let mut required_node_affinity = None;
                let mut scheduling_gates = None;
                for e in entries {
                    let ep = key(p, &e.key);
                    match e.key.as_str() {
                        "nodeSelector" => {
                            node_selector = Some(match &e.value.value {
                                Value::Null => None,
                                _ => match kubesched_k8s::de::from_node::<BTreeMap<String, String>>(&e.value) {
                                    Ok(m) => Some(m),
                                    Err(err) => {
                                        self.error(&err.path().under(&ep), err.message);
                                        return None;
                                    }
                                },
                            })
                        }
                        "requiredNodeAffinity" => {
                            required_node_affinity = Some(match &e.value.value {
                                Value::Null => None,
                                _ => match kubesched_k8s::de::from_node::<NodeSelector>(&e.value) {
                                    Ok(m) => Some(m),
                                    Err(err) => {
                                        self.error(&err.path().under(&ep), err.message);
                                        return None;
                                    }
                                },
                            })
                        }
                        "schedulingGates" => scheduling_gates = Some(self.string_list(&e.value, &ep)?),
                        _ => {}
                    }
                }
                if node_selector.is_none() && required_node_affinity.is_none() && scheduling_gates.is_none() {
                    self.error(p, "nothing to update: give nodeSelector, requiredNodeAffinity or schedulingGates");
                    return None;
                }
                Some(Action::UpdatePod { pod, node_selector, required_node_affinity, scheduling_gates })
            }
            "cordon" => self.node_name(v, p, &[]).map(|(n, _)| Action::Cordon(n)),
            "uncordon" => self.node_name(v, p, &[]).map(|(n, _)| Action::Uncordon(n)),
            "recoverNode" => self.node_name(v, p, &[]).map(|(n, _)| Action::RecoverNode(n)),
            "drain" => {
                let (node, extra) = self.node_name(v, p, &["timeout"])?;
                let timeout = match extra.iter().find(|e| e.key == "timeout") {
                    Some(e) => Some(self.duration(&e.value, &key(p, "timeout"))?),
                    None => None,
                };
                Some(Action::Drain { node, timeout })
            }
            "failNode" => {
                let (node, extra) = self.node_name(v, p, &["condition"])?;
                let mut condition = Readiness::NotReady;
                if let Some(e) = extra.iter().find(|e| e.key == "condition") {
                    let cp = key(p, "condition");
                    match self.string(&e.value, &cp)?.as_str() {
                        "NotReady" => condition = Readiness::NotReady,
                        "Unreachable" => condition = Readiness::Unreachable,
                        other => {
                            self.error(
                                &cp,
                                format!(
                                    "Unsupported value: {other:?}: supported values: \"NotReady\", \"Unreachable\""
                                ),
                            );
                            return None;
                        }
                    }
                }
                Some(Action::FailNode { node, condition })
            }
            "taint" | "untaint" => {
                let allowed: &[&str] = if ty == "taint" { &["value", "key", "effect"] } else { &["key", "effect"] };
                let (node, extra) = self.node_name(v, p, allowed)?;
                let Some(k) = extra.iter().find(|e| e.key == "key") else {
                    self.error(&key(p, "key"), "Required value");
                    return None;
                };
                let tkey = self.nonempty_string(&k.value, &key(p, "key"))?;
                let value = match extra.iter().find(|e| e.key == "value") {
                    Some(e) => self.string(&e.value, &key(p, "value"))?,
                    None => String::new(),
                };
                let effect = match extra.iter().find(|e| e.key == "effect") {
                    Some(e) => {
                        let ep = key(p, "effect");
                        let s = self.string(&e.value, &ep)?;
                        match TaintEffect::parse(&s) {
                            Some(eff) => Some(eff),
                            None => {
                                self.error(
                                    &ep,
                                    format!("Unsupported value: {s:?}: supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""),
                                );
                                return None;
                            }
                        }
                    }
                    None => None,
                };
                if ty == "taint" {
                    let Some(effect) = effect else {
                        self.error(&key(p, "effect"), "Required value");
                        return None;
                    };
                    Some(Action::Taint { node, key: tkey, value, effect })
                } else {
                    Some(Action::Untaint { node, key: tkey, effect })
                }
            }
            _ => None,
        }
    }

    fn string_list(&mut self, node: &Node, path: &FieldPath) -> Option<Vec<String>> {
        let Value::Seq(items) = &node.value else {
            self.error(path, format!("invalid type: {}, expected a list of strings", node.type_name()));
            return None;
        };
        let mut out = Vec::new();
        for (i, n) in items.iter().enumerate() {
            out.push(self.nonempty_string(n, &path.index(i))?);
        }
        Some(out)
    }

    /// `node-name`, or `{node: node-name, <extra>…}`.
    fn node_name(
        &mut self,
        v: &'a Node,
        p: &FieldPath,
        extra: &[&str],
    ) -> Option<(String, Vec<kubesched_k8s::tree::Entry>)> {
        if let Value::Str(s) = &v.value {
            if s.is_empty() {
                self.error(p, "Required value: a node name");
                return None;
            }
            return Some((s.clone(), Vec::new()));
        }
        let mut allowed = vec!["node"];
        allowed.extend_from_slice(extra);
        let entries = self.fields(v, p, &allowed)?;
        let Some(n) = entries.iter().find(|e| e.key == "node") else {
            self.error(&key(p, "node"), "Required value: a node name");
            return None;
        };
        let name = self.nonempty_string(&n.value, &key(p, "node"))?;
        Some((name, entries.to_vec()))
    }

    fn pod_ref_str(&mut self, v: &Node, p: &FieldPath) -> Option<ObjRef> {
        let s = self.nonempty_string(v, p)?;
        let (namespace, name) = match s.split_once('/') {
            Some((ns, n)) => (ns.to_string(), n.to_string()),
            None => ("default".to_string(), s),
        };
        Some(ObjRef { kind: Kind::Pod, namespace, name })
    }

    fn pod_ref(&mut self, entries: &[kubesched_k8s::tree::Entry], p: &FieldPath) -> Option<ObjRef> {
        let Some(pe) = entries.iter().find(|e| e.key == "pod") else {
            self.error(&key(p, "pod"), "Required value: the pod's name");
            return None;
        };
        let name = self.nonempty_string(&pe.value, &key(p, "pod"))?;
        let namespace = match entries.iter().find(|e| e.key == "namespace") {
            Some(e) => self.nonempty_string(&e.value, &key(p, "namespace"))?,
            None => "default".into(),
        };
        Some(ObjRef { kind: Kind::Pod, namespace, name })
    }

    /// `kind/name`, `kind/namespace/name`, or `{kind, name, namespace}`.
    fn obj_ref(&mut self, v: &'a Node, p: &FieldPath) -> Option<ObjRef> {
        if let Value::Str(s) = &v.value {
            let parts: Vec<&str> = s.split('/').collect();
            let (kind, ns, name) = match parts.as_slice() {
                [k, n] => (*k, None, *n),
                [k, ns, n] => (*k, Some(*ns), *n),
                _ => {
                    self.error(p, format!("invalid reference {s:?}: expected kind/name or kind/namespace/name"));
                    return None;
                }
            };
            let Some(kind) = Kind::parse(kind) else {
                self.error(p, unknown_kind(kind));
                return None;
            };
            if name.is_empty() {
                self.error(p, format!("invalid reference {s:?}: the name is empty"));
                return None;
            }
            let namespace = if kind.namespaced() { ns.unwrap_or("default").to_string() } else { String::new() };
            return Some(ObjRef { kind, namespace, name: name.to_string() });
        }
        let entries = self.fields(v, p, &["kind", "name", "namespace"])?;
        self.ref_fields(entries, p)
    }

    fn ref_fields(&mut self, entries: &[kubesched_k8s::tree::Entry], p: &FieldPath) -> Option<ObjRef> {
        let get = |k: &str| entries.iter().find(|e| e.key == k);
        let Some(k) = get("kind") else {
            self.error(&key(p, "kind"), "Required value");
            return None;
        };
        let ks = self.string(&k.value, &key(p, "kind"))?;
        let Some(kind) = Kind::parse(&ks) else {
            self.error(&key(p, "kind"), unknown_kind(&ks));
            return None;
        };
        let Some(n) = get("name") else {
            self.error(&key(p, "name"), "Required value");
            return None;
        };
        let name = self.nonempty_string(&n.value, &key(p, "name"))?;
        let namespace = match get("namespace") {
            Some(e) if kind.namespaced() => self.nonempty_string(&e.value, &key(p, "namespace"))?,
            Some(_) => {
                self.error(&key(p, "namespace"), format!("{} is cluster-scoped", kind.as_str()));
                return None;
            }
            None if kind.namespaced() => "default".into(),
            None => String::new(),
        };
        Some(ObjRef { kind, namespace, name })
    }

    /// A path, an inline object, or a list of either.
    fn apply(
        &mut self,
        v: &'a Node,
        p: &FieldPath,
        files: &dyn Files,
        warnings: &mut Vec<String>,
    ) -> Option<Vec<DecodedObject>> {
        let items: Vec<(FieldPath, &Node)> = match &v.value {
            Value::Seq(items) => items.iter().enumerate().map(|(i, n)| (p.index(i), n)).collect(),
            _ => vec![(p.clone(), v)],
        };
        let before = self.errors.len();
        let mut decoded = Decoded::default();
        for (ip, item) in items {
            match &item.value {
                Value::Str(rel) => match files.input(rel) {
                    Ok(input) => {
                        let (sources, io) = read_sources(&[input]);
                        let mut d = decode_sources(&sources);
                        decoded.objects.append(&mut d.objects);
                        decoded.raw.append(&mut d.raw);
                        decoded.errors.extend(io);
                        decoded.errors.append(&mut d.errors);
                    }
                    Err(e) => self.error(&ip, e),
                },
                Value::Map(_) => {
                    let source = Source::new(&self.file, self.source.document, None, item.line);
                    decode_tree(source, Arc::new(item.clone()), &mut decoded);
                }
                _ => self
                    .error(&ip, format!("invalid type: {}, expected a manifest path or an object", item.type_name())),
            }
        }
        let (cloud, others): (Vec<_>, Vec<_>) =
            std::mem::take(&mut decoded.raw).into_iter().partition(crate::cloud::is_autoscaling);
        warnings.extend(others.iter().map(|r| {
            format!(
                "{}: skipping an object of unsupported kind {:?}",
                r.source,
                if r.kind.is_empty() { "(no kind)" } else { &r.kind }
            )
        }));
        for raw in cloud {
            if let Some(i) = self.read_cloud(raw) {
                self.pending_cloud.push(i);
            }
        }
        self.errors.append(&mut decoded.errors);
        for o in &mut decoded.objects {
            normalize_identity(o);
        }
        if self.errors.len() > before {
            return None;
        }
        if decoded.objects.is_empty() && !self.pending_cloud.is_empty() {
            return Some(Vec::new());
        }
        if decoded.objects.is_empty() {
            self.error(p, "nothing to apply: no objects found");
            return None;
        }
        Some(decoded.objects)
    }

    /// Walks the timeline tracking which objects exist, and checks every event against it.
    fn validate_timeline(&mut self, s: &mut Scenario) {
        let mut exists: BTreeSet<ObjRef> = BTreeSet::new();
        let c = &s.cluster;
        let ns_of = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
            m.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into())
        };
        for n in &c.nodes {
            exists.insert(ObjRef { kind: Kind::Node, namespace: String::new(), name: n.model.name.to_string() });
        }
        for p in &c.pods {
            exists.insert(ObjRef {
                kind: Kind::Pod,
                namespace: p.model.namespace.to_string(),
                name: p.model.name.to_string(),
            });
        }
        for ns in &c.namespaces {
            exists.insert(ObjRef { kind: Kind::Namespace, namespace: String::new(), name: ns.name.to_string() });
        }
        for pdb in &c.pdbs {
            exists.insert(ObjRef {
                kind: Kind::PodDisruptionBudget,
                namespace: pdb.namespace.to_string(),
                name: pdb.name.to_string(),
            });
        }
        let mut add = |kind: Kind, meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
            exists.insert(ObjRef { kind, namespace: ns_of(meta), name: meta.name.clone().unwrap_or_default() });
        };
        for d in &c.deployments {
            add(Kind::Deployment, &d.object.metadata);
        }
        for r in &c.replica_sets {
            add(Kind::ReplicaSet, &r.object.metadata);
        }
        for r in &c.stateful_sets {
            add(Kind::StatefulSet, &r.object.metadata);
        }
        for r in &c.jobs {
            add(Kind::Job, &r.object.metadata);
        }
        for r in &c.daemon_sets {
            add(Kind::DaemonSet, &r.object.metadata);
        }
        for r in &c.replication_controllers {
            add(Kind::ReplicationController, &r.object.metadata);
        }
        for r in &c.services {
            add(Kind::Service, &r.object.metadata);
        }
        for pc in c.priority_classes.iter() {
            exists.insert(ObjRef { kind: Kind::PriorityClass, namespace: String::new(), name: pc.name.clone() });
        }
        let mut priority_classes = c.priority_classes.clone();
        let chain = s.admission.clone();
        let mut names = NameGenerator::new(0);
        for i in 0..s.events.len() {
            let ev = s.events[i].clone();
            let p = FieldPath::root().key("spec").key("events").index(ev.index).key(ev.action.type_name());
            if let Some(d) = s.duration
                && ev.at > d
            {
                s.warnings.push(format!(
                    "{}: spec.events[{}] at {} is after the scenario's duration {} and will not run",
                    self.file,
                    ev.index,
                    format_duration(ev.at),
                    format_duration(d)
                ));
            }
            let at = format_duration(ev.at);
            let missing = |r: &ObjRef| format!("{r} does not exist at {at}");
            match &ev.action {
                Action::Apply(objects) => {
                    for o in objects {
                        let kind = Kind::of(&o.object);
                        let meta = o.object.meta();
                        if let Object::PriorityClass(pc) = &o.object
                            && let Err(e) = priority_classes.add(pc)
                        {
                            self.errors.push(o.error(ErrorKind::Forbidden, &FieldPath::root().key("globalDefault"), e));
                        }
                        if let Object::Pod(pod) = &o.object {
                            self.check_pod(o, pod, &chain, &priority_classes, &mut names);
                        }
                        if let Some(template) = template_of(&o.object) {
                            // The pods its controller will create must pass admission too.
                            let ns = meta.namespace.clone().unwrap_or_else(|| "default".into());
                            let owner = kubesched_k8s::controllers::controller_owner_ref("v1", kind.as_str(), meta);
                            let mut pod = kubesched_k8s::controllers::pod_from_template(template, &ns, owner);
                            pod.metadata.generate_name = Some(format!("{}-", meta.name.as_deref().unwrap_or_default()));
                            if let Err(e) =
                                kubesched_k8s::admit_and_convert(&mut pod, &chain, &priority_classes, &mut names)
                            {
                                let prefix = FieldPath::root().key("spec").key("template");
                                match e {
                                    kubesched_k8s::PodError::Admission(a) => self.errors.push(o.error(
                                        ErrorKind::Forbidden,
                                        &a.path.under(&prefix),
                                        a.message,
                                    )),
                                    kubesched_k8s::PodError::Invalid(errs) => {
                                        for e in errs {
                                            self.errors.push(o.error(
                                                ErrorKind::Invalid,
                                                &e.path.under(&prefix),
                                                e.message,
                                            ));
                                        }
                                    }
                                }
                            }
                        }
                        self.check_template_duration(o);
                        if let Object::Node(n) = &o.object
                            && let Err(errs) = kubesched_k8s::convert::node(n)
                        {
                            for e in errs {
                                self.errors.push(o.error(ErrorKind::Invalid, &e.path, e.message));
                            }
                        }
                        if let Object::PodDisruptionBudget(pdb) = &o.object
                            && let Err(errs) = kubesched_k8s::convert::pdb(pdb)
                        {
                            for e in errs {
                                self.errors.push(o.error(ErrorKind::Invalid, &e.path, e.message));
                            }
                        }
                        let namespace = if kind.namespaced() { ns_of(meta) } else { String::new() };
                        exists.insert(ObjRef { kind, namespace, name: meta.name.clone().unwrap_or_default() });
                    }
                }
                Action::Delete(r) => {
                    if !exists.remove(r) {
                        self.error(&p, missing(r));
                    }
                }
                Action::Scale { target, .. } => {
                    if !exists.contains(target) {
                        self.error(&p, missing(target));
                    }
                }
                Action::RemoveSchedulingGates { pod, .. } | Action::UpdatePod { pod, .. } => {
                    if !exists.contains(pod) {
                        self.error(&p, missing(pod));
                    }
                }
                Action::Cordon(n)
                | Action::Uncordon(n)
                | Action::RecoverNode(n)
                | Action::Drain { node: n, .. }
                | Action::Taint { node: n, .. }
                | Action::Untaint { node: n, .. }
                | Action::FailNode { node: n, .. } => {
                    let r = ObjRef { kind: Kind::Node, namespace: String::new(), name: n.clone() };
                    if !exists.contains(&r) {
                        let fp = if self.root.at(&p.key("node")).is_some() { p.key("node") } else { p.clone() };
                        self.error(&fp, missing(&r));
                    }
                }
            }
        }
    }

    fn check_pod(
        &mut self,
        o: &DecodedObject,
        pod: &k8s_openapi::api::core::v1::Pod,
        chain: &AdmissionChain,
        pcs: &kubesched_k8s::admission::PriorityClasses,
        names: &mut NameGenerator,
    ) {
        let mut copy = pod.clone();
        if let Err(e) = kubesched_k8s::admit_and_convert(&mut copy, chain, pcs, names) {
            match e {
                kubesched_k8s::PodError::Admission(a) => {
                    self.errors.push(o.error(ErrorKind::Forbidden, &a.path, a.message))
                }
                kubesched_k8s::PodError::Invalid(errs) => {
                    for e in errs {
                        self.errors.push(o.error(ErrorKind::Invalid, &e.path, e.message));
                    }
                }
            }
        }
        let spec = pod.spec.as_ref();
        let bound = spec.and_then(|s| s.node_name.as_deref()).is_some_and(|n| !n.is_empty());
        let gated = spec.and_then(|s| s.scheduling_gates.as_ref()).is_some_and(|g| !g.is_empty());
        if bound && gated {
            self.errors.push(o.error(
                ErrorKind::Invalid,
                &FieldPath::root().key("spec").key("nodeName"),
                "Forbidden: cannot be set until all schedulingGates have been cleared",
            ));
        }
    }

    fn check_template_duration(&mut self, o: &DecodedObject) {
        let (annotations, path) = match &o.object {
            Object::Pod(p) => (p.metadata.annotations.as_ref(), FieldPath::root().key("metadata")),
            Object::Deployment(d) => (
                d.spec.as_ref().and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.annotations.as_ref()),
                template_meta(),
            ),
            Object::ReplicaSet(r) => (
                r.spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .and_then(|t| t.metadata.as_ref())
                    .and_then(|m| m.annotations.as_ref()),
                template_meta(),
            ),
            Object::StatefulSet(r) => (
                r.spec.as_ref().and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.annotations.as_ref()),
                template_meta(),
            ),
            Object::Job(r) => (
                r.spec.as_ref().and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.annotations.as_ref()),
                template_meta(),
            ),
            Object::DaemonSet(r) => (
                r.spec.as_ref().and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.annotations.as_ref()),
                template_meta(),
            ),
            _ => (None, FieldPath::root()),
        };
        if let Some(text) = annotations.and_then(|a| a.get(DURATION_ANNOTATION))
            && let Err(e) = parse_duration(text)
        {
            self.errors.push(o.error(ErrorKind::Invalid, &path.key("annotations").key(DURATION_ANNOTATION), e));
        }
    }
}

/// The pod template of a workload.
fn template_of(o: &Object) -> Option<&k8s_openapi::api::core::v1::PodTemplateSpec> {
    match o {
        Object::Deployment(d) => d.spec.as_ref().map(|s| &s.template),
        Object::ReplicaSet(r) => r.spec.as_ref().and_then(|s| s.template.as_ref()),
        Object::ReplicationController(r) => r.spec.as_ref().and_then(|s| s.template.as_ref()),
        Object::StatefulSet(s) => s.spec.as_ref().map(|s| &s.template),
        Object::Job(j) => j.spec.as_ref().map(|s| &s.template),
        Object::DaemonSet(d) => d.spec.as_ref().map(|s| &s.template),
        _ => None,
    }
}

fn template_meta() -> FieldPath {
    FieldPath::root().key("spec").key("template").key("metadata")
}

fn unknown_kind(kind: &str) -> String {
    format!(
        "unknown kind {kind:?} (expected one of: {})",
        Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
    )
}

/// The label of a configuration file: its name without folders and extension.
pub fn config_label(path: &str) -> String {
    let p = Path::new(path);
    p.file_stem().and_then(|s| s.to_str()).unwrap_or(path).to_string()
}

/// Namespace `default` for namespaced objects without one, and a deterministic uid.
pub fn normalize_identity(o: &mut DecodedObject) {
    let namespaced = o.object.is_namespaced();
    let kind = o.object.kind();
    let meta = o.object.meta_mut();
    if namespaced && meta.namespace.as_deref().is_none_or(str::is_empty) {
        meta.namespace = Some("default".into());
    }
    let ns = if namespaced { meta.namespace.clone().unwrap_or_default() } else { String::new() };
    if let Some(name) = meta.name.clone().filter(|n| !n.is_empty())
        && meta.uid.as_deref().is_none_or(str::is_empty)
    {
        meta.uid = Some(kubesched_k8s::controllers::deterministic_uid(kind, &ns, &name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoFiles;
    impl Files for NoFiles {
        fn input(&self, rel: &str) -> Result<Input, String> {
            Err(format!("{rel} does not exist"))
        }
        fn read(&self, rel: &str) -> Result<(String, String), String> {
            Err(format!("{rel} does not exist"))
        }
    }

    const NODE: &str = "    - apiVersion: v1\n      kind: Node\n      metadata: {name: n1}\n      status: {allocatable: {cpu: '4', memory: 8Gi, pods: '110'}}\n";

    fn scenario(events: &str) -> String {
        format!(
            "apiVersion: kubesched.io/v1alpha1\nkind: Scenario\nmetadata: {{name: t}}\nspec:\n  cluster:\n    objects:\n{NODE}  events:\n{events}"
        )
    }

    fn errors(text: &str) -> Vec<String> {
        match parse("s.yaml", text, &NoFiles, None) {
            Ok(_) => Vec::new(),
            Err(errs) => errs.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_valid_scenario_parses_with_its_events_in_time_order() {
        let text = scenario(
            "  - at: 5m\n    cordon: n1\n  - at: 30s\n    taint: {node: n1, key: k, effect: NoSchedule}\n  - at: 1h30m\n    failNode: {node: n1, condition: Unreachable}\n",
        );
        let s = parse("s.yaml", &text, &NoFiles, Some(7)).expect("valid");
        assert_eq!(s.seed, 7);
        assert_eq!(s.node_monitor_grace_period, 50_000);
        let times: Vec<(Millis, &str)> = s.events.iter().map(|e| (e.at, e.action.type_name())).collect();
        assert_eq!(times, [(30_000, "taint"), (300_000, "cordon"), (5_400_000, "failNode")]);
        assert!(matches!(s.events[2].action, Action::FailNode { condition: Readiness::Unreachable, .. }));
        assert_eq!(s.cluster.nodes.len(), 1);
        assert_eq!(s.scheduler.label, "default");
    }

    #[test]
    fn unknown_event_types_and_bad_times_name_the_line_and_field() {
        let errs = errors(&scenario("  - at: 5 min\n    cordon: n1\n  - at: 1m\n    explode: n1\n"));
        assert_eq!(
            errs,
            [
                "s.yaml: document 1 (Scenario t), line 12: spec.events[0].at: invalid duration \"5 min\": expected a duration such as 30s, 5m, 1h30m or 250ms",
                "s.yaml: document 1 (Scenario t), line 15: spec.events[1].explode: unknown event type \"explode\" (expected one of: apply, delete, scale, removeSchedulingGates, updatePod, cordon, uncordon, drain, taint, untaint, failNode, recoverNode)",
            ]
        );
    }

    #[test]
    fn events_naming_objects_that_do_not_exist_then_are_refused() {
        let errs = errors(&scenario(
            "  - at: 1m\n    delete: node/n1\n  - at: 2m\n    cordon: n1\n  - at: 3m\n    scale: {kind: Deployment, name: web, replicas: 3}\n",
        ));
        assert_eq!(
            errs,
            [
                "s.yaml: document 1 (Scenario t), line 15: spec.events[1].cordon: Node n1 does not exist at 2m",
                "s.yaml: document 1 (Scenario t), line 17: spec.events[2].scale: Deployment default/web does not exist at 3m",
            ]
        );
    }

    #[test]
    fn objects_applied_later_exist_from_then_on() {
        let ok = scenario(
            "  - at: 1m\n    apply:\n      apiVersion: v1\n      kind: Node\n      metadata: {name: n2}\n      status: {allocatable: {cpu: '1', memory: 1Gi, pods: '10'}}\n  - at: 2m\n    drain: n2\n",
        );
        assert!(errors(&ok).is_empty(), "{:?}", errors(&ok));
        let early = scenario(
            "  - at: 2m\n    apply:\n      apiVersion: v1\n      kind: Node\n      metadata: {name: n2}\n      status: {allocatable: {cpu: '1', memory: 1Gi, pods: '10'}}\n  - at: 1m\n    drain: {node: n2}\n",
        );
        assert_eq!(
            errors(&early),
            ["s.yaml: document 1 (Scenario t), line 19: spec.events[1].drain.node: Node n2 does not exist at 1m"]
        );
    }

    #[test]
    fn inline_objects_keep_the_scenario_lines_and_durations_are_checked() {
        let text = scenario(
            "  - at: 1m\n    apply:\n      apiVersion: v1\n      kind: Pod\n      metadata: {name: p, annotations: {kubesched.io/duration: soon}}\n      spec: {containers: [{name: c, resources: {requests: {cpu: lots}}}]}\n",
        );
        let errs = errors(&text);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("s.yaml: document 1 (Pod default/p), line 16: metadata.annotations[kubesched.io/duration]: invalid duration \"soon\""), "{errs:?}");
        assert!(
            errs[1].starts_with(
                "s.yaml: document 1 (Pod default/p), line 17: spec.containers[0].resources.requests.cpu: "
            ),
            "{errs:?}"
        );
    }

    #[test]
    fn unknown_fields_wrong_headers_and_event_shapes() {
        let text = "apiVersion: kubesched.io/v1\nkind: Scenario\nspec: {}\n";
        assert_eq!(
            errors(text),
            [
                "s.yaml: document 1, line 1: apiVersion: expected apiVersion: kubesched.io/v1alpha1 and kind: Scenario, found kubesched.io/v1 Scenario"
            ]
        );
        let text = "apiVersion: kubesched.io/v1alpha1\nkind: Scenario\nspec:\n  seeds: 3\n  events:\n  - cordon: n1\n  - at: 1m\n    cordon: n1\n    uncordon: n1\n";
        assert_eq!(
            errors(text),
            [
                "s.yaml: document 1 (Scenario scenario), line 4: spec.seeds: unknown field \"seeds\" (expected one of: seed, duration, nodeMonitorGracePeriod, sampleInterval, checkpoints, timing, queue, cluster, scheduler, compare, events, autoMode, autoscaling, fargate)",
                "s.yaml: document 1 (Scenario scenario), line 6: spec.events[0].at: Required value: when the event happens (30s, 5m, 1h30m)",
                "s.yaml: document 1 (Scenario scenario), line 9: spec.events[1].uncordon: one event type per event: split it into two events",
            ]
        );
    }

    #[test]
    fn templates_of_applied_workloads_go_through_admission() {
        let text = scenario(
            "  - at: 1m\n    apply: {apiVersion: apps/v1, kind: Deployment, metadata: {name: web}, spec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {priorityClassName: gold, containers: [{name: c}]}}}}\n",
        );
        let errs = errors(&text);
        assert_eq!(
            errs,
            [
                "s.yaml: document 1 (Deployment default/web), line 13: spec.template.spec.priorityClassName: pods \"web-\" is forbidden: no PriorityClass with name gold was found"
            ]
        );
    }

    #[test]
    fn inline_scheduler_configurations_are_validated_in_place() {
        let text = "apiVersion: kubesched.io/v1alpha1\nkind: Scenario\nspec:\n  scheduler:\n    configuration:\n      apiVersion: kubescheduler.config.k8s.io/v1\n      kind: KubeSchedulerConfiguration\n      podInitialBackoffSeconds: 0\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].contains("line 8: spec.scheduler.configuration.podInitialBackoffSeconds: Invalid value: 0: must be greater than 0"),
            "{errs:?}"
        );
    }
}
