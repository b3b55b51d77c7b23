//! Documents → typed `k8s-openapi` objects (or raw documents for other crates), with every
//! error collected and located.

use crate::de::from_node;
use crate::error::{ErrorKind, LoadError, Source, describe_object};
use crate::input::{Format, SourceText};
use crate::tree::{FieldPath, Node, Value};
use crate::{json, yaml};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Node as K8sNode, Pod, PodTemplateSpec, ReplicationController, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A document of a kind this crate does not handle (a ConfigMap, an eksctl `ClusterConfig`, a
/// Karpenter `NodePool`, the aws CLI's `{"fargateProfile": {…}}` with an empty kind), passed
/// through for other crates to claim.
#[derive(Clone, Debug, PartialEq)]
pub struct RawDocument {
    /// Position in the whole input (objects and raw documents share the numbering).
    pub seq: usize,
    pub source: Source,
    pub api_version: String,
    pub kind: String,
    pub value: serde_json::Value,
    /// The tree with lines, for precise errors in the claiming crate.
    pub tree: Arc<Node>,
}

impl RawDocument {
    /// An error at `path` of this document, with its line.
    pub fn error(&self, kind: ErrorKind, path: &FieldPath, message: impl Into<String>) -> LoadError {
        let meta = self.tree.get("metadata");
        let object = describe_object(
            &self.kind,
            meta.and_then(|m| m.get_str("namespace")),
            meta.and_then(|m| m.get_str("name")),
        );
        LoadError::at(kind, &self.source, object, self.tree.line_of(path), Some(path.to_string()), message)
    }
}

/// A decoded object of a kind this crate handles.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    Node(Box<K8sNode>),
    Pod(Box<Pod>),
    Namespace(Box<Namespace>),
    PriorityClass(Box<PriorityClass>),
    PodDisruptionBudget(Box<PodDisruptionBudget>),
    Service(Box<Service>),
    ReplicationController(Box<ReplicationController>),
    Deployment(Box<Deployment>),
    ReplicaSet(Box<ReplicaSet>),
    StatefulSet(Box<StatefulSet>),
    Job(Box<Job>),
    DaemonSet(Box<DaemonSet>),
}

impl Object {
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Object::Node(o) => &o.metadata,
            Object::Pod(o) => &o.metadata,
            Object::Namespace(o) => &o.metadata,
            Object::PriorityClass(o) => &o.metadata,
            Object::PodDisruptionBudget(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::ReplicationController(o) => &o.metadata,
            Object::Deployment(o) => &o.metadata,
            Object::ReplicaSet(o) => &o.metadata,
            Object::StatefulSet(o) => &o.metadata,
            Object::Job(o) => &o.metadata,
            Object::DaemonSet(o) => &o.metadata,
        }
    }

    pub fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Object::Node(o) => &mut o.metadata,
            Object::Pod(o) => &mut o.metadata,
            Object::Namespace(o) => &mut o.metadata,
            Object::PriorityClass(o) => &mut o.metadata,
            Object::PodDisruptionBudget(o) => &mut o.metadata,
            Object::Service(o) => &mut o.metadata,
            Object::ReplicationController(o) => &mut o.metadata,
            Object::Deployment(o) => &mut o.metadata,
            Object::ReplicaSet(o) => &mut o.metadata,
            Object::StatefulSet(o) => &mut o.metadata,
            Object::Job(o) => &mut o.metadata,
            Object::DaemonSet(o) => &mut o.metadata,
        }
    }

    /// Cluster-scoped kinds have no namespace.
    pub fn is_namespaced(&self) -> bool {
        !matches!(self, Object::Node(_) | Object::Namespace(_) | Object::PriorityClass(_))
    }

    /// The resource name the API server uses in messages (`pods`, `deployments.apps`).
    pub fn resource(&self) -> &'static str {
        match self {
            Object::Node(_) => "nodes",
            Object::Pod(_) => "pods",
            Object::Namespace(_) => "namespaces",
            Object::PriorityClass(_) => "priorityclasses.scheduling.k8s.io",
            Object::PodDisruptionBudget(_) => "poddisruptionbudgets.policy",
            Object::Service(_) => "services",
            Object::ReplicationController(_) => "replicationcontrollers",
            Object::Deployment(_) => "deployments.apps",
            Object::ReplicaSet(_) => "replicasets.apps",
            Object::StatefulSet(_) => "statefulsets.apps",
            Object::Job(_) => "jobs.batch",
            Object::DaemonSet(_) => "daemonsets.apps",
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Object::Node(_) => "Node",
            Object::Pod(_) => "Pod",
            Object::Namespace(_) => "Namespace",
            Object::PriorityClass(_) => "PriorityClass",
            Object::PodDisruptionBudget(_) => "PodDisruptionBudget",
            Object::Service(_) => "Service",
            Object::ReplicationController(_) => "ReplicationController",
            Object::Deployment(_) => "Deployment",
            Object::ReplicaSet(_) => "ReplicaSet",
            Object::StatefulSet(_) => "StatefulSet",
            Object::Job(_) => "Job",
            Object::DaemonSet(_) => "DaemonSet",
        }
    }
}

/// A decoded object with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedObject {
    /// Position in the whole input (objects and raw documents share the numbering).
    pub seq: usize,
    pub source: Source,
    pub object: Object,
    /// The tree with lines, to locate errors found later (conversion, admission).
    pub tree: Arc<Node>,
}

impl DecodedObject {
    /// `Kind namespace/name` from the tree.
    pub fn describe(&self) -> Option<String> {
        describe_tree(self.object.kind(), &self.tree)
    }

    /// An error at `path` (a path in this object's document) with its line.
    pub fn error(&self, kind: ErrorKind, path: &FieldPath, message: impl Into<String>) -> LoadError {
        LoadError::at(kind, &self.source, self.describe(), self.tree.line_of(path), Some(path.to_string()), message)
    }
}

/// `Kind namespace/name` from the tree; handled namespaced kinds default to `default`.
fn describe_tree(kind: &str, tree: &Node) -> Option<String> {
    let meta = tree.get("metadata");
    let name = meta.and_then(|m| m.get_str("name")).or_else(|| meta.and_then(|m| m.get_str("generateName")));
    let cluster_scoped = matches!(kind, "Node" | "Namespace" | "PriorityClass");
    let namespaced = !cluster_scoped && HANDLED.iter().any(|(_, k, _)| *k == kind);
    let ns = meta.and_then(|m| m.get_str("namespace")).or(namespaced.then_some("default"));
    describe_object(kind, ns, name)
}

/// Everything read from the input, before admission, controllers and conversion.
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    /// Source names in the order they were read (errors are reported in this order).
    pub files: Vec<Arc<str>>,
    pub objects: Vec<DecodedObject>,
    pub raw: Vec<RawDocument>,
    pub errors: Vec<LoadError>,
}

/// `(group, kind) → apiVersion` for the kinds handled here.
const HANDLED: &[(&str, &str, &str)] = &[
    ("", "Node", "v1"),
    ("", "Pod", "v1"),
    ("", "Namespace", "v1"),
    ("", "Service", "v1"),
    ("", "ReplicationController", "v1"),
    ("scheduling.k8s.io", "PriorityClass", "scheduling.k8s.io/v1"),
    ("policy", "PodDisruptionBudget", "policy/v1"),
    ("apps", "Deployment", "apps/v1"),
    ("apps", "ReplicaSet", "apps/v1"),
    ("apps", "StatefulSet", "apps/v1"),
    ("apps", "DaemonSet", "apps/v1"),
    ("batch", "Job", "batch/v1"),
];

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Parses every source and decodes every document.
pub fn decode_sources(sources: &[SourceText]) -> Decoded {
    let mut out = Decoded::default();
    for src in sources {
        decode_text(src, &mut out);
    }
    out
}

/// Parses one source into `out`.
pub fn decode_text(src: &SourceText, out: &mut Decoded) {
    out.files.push(Arc::from(src.name.as_str()));
    let (docs, syntax) = match src.format {
        Format::Json => json::parse(&src.text),
        Format::Auto if json::looks_like_json(&src.text) => {
            let (docs, errs) = json::parse(&src.text);
            if errs.is_empty() {
                (docs, errs)
            } else {
                // Maybe YAML flow style; keep the JSON error if YAML fails too.
                let (ydocs, yerrs) = yaml::parse(&src.text);
                if yerrs.is_empty() { (ydocs, yerrs) } else { (docs, errs) }
            }
        }
        Format::Auto => yaml::parse(&src.text),
    };
    // Documents and errors interleave by document index so that errors come in file order.
    let mut events: Vec<(usize, Result<yaml::Document, yaml::SyntaxError>)> =
        docs.into_iter().map(|d| (d.index, Ok(d))).chain(syntax.into_iter().map(|e| (e.document, Err(e)))).collect();
    events.sort_by_key(|(i, _)| *i);
    for (_, ev) in events {
        match ev {
            Err(e) => out.errors.push(LoadError::syntax(&src.name, e)),
            Ok(doc) => {
                if let Some(root) = doc.root {
                    let source = Source::new(&src.name, doc.index, None, root.line);
                    decode_document(source, Arc::new(root), out);
                }
            }
        }
    }
}

fn next_seq(out: &Decoded) -> usize {
    out.objects.len() + out.raw.len()
}

/// Decodes one already-parsed tree as a document of `source` (flattening `List`s), for objects
/// embedded in another document (the simulator's inline scenario objects): errors and sources
/// keep the lines of the enclosing file.
pub fn decode_tree(source: Source, tree: Arc<Node>, out: &mut Decoded) {
    decode_document(source, tree, out);
}

/// Decodes one document (flattening `List`s).
fn decode_document(source: Source, tree: Arc<Node>, out: &mut Decoded) {
    if tree.as_map().is_none() {
        if matches!(tree.value, Value::Null) {
            return;
        }
        let line = tree.line;
        out.errors.push(LoadError::at(
            ErrorKind::Decode,
            &source,
            None,
            line,
            None,
            format!("expected a Kubernetes object (a mapping), found a {}", tree.type_name()),
        ));
        return;
    }
    let kind = tree.get_str("kind").unwrap_or_default().to_string();
    let api_version = tree.get_str("apiVersion").unwrap_or_default().to_string();
    if kind.ends_with("List")
        && let Some(items) = tree.get("items")
    {
        let items = match &items.value {
            Value::Seq(items) => items.as_slice(),
            Value::Null => &[],
            _ => {
                out.errors.push(LoadError::at(
                    ErrorKind::Decode,
                    &source,
                    Some(kind.clone()),
                    tree.line_of(&FieldPath::root().key("items")),
                    Some("items".into()),
                    format!("invalid type: {}, expected a list", items.type_name()),
                ));
                return;
            }
        };
        // A typed list (`PodList`) may omit kind and apiVersion on its items.
        let item_kind = kind.strip_suffix("List").unwrap_or_default();
        for (i, item) in items.iter().enumerate() {
            let item_source = Source { item: Some(i + 1), line: item.line, ..source.clone() };
            let mut item = item.clone();
            if !item_kind.is_empty()
                && let Value::Map(entries) = &mut item.value
            {
                let line = item.line;
                if !entries.iter().any(|e| e.key == "kind") {
                    entries.push(crate::tree::Entry {
                        key: "kind".into(),
                        key_line: line,
                        value: Node::new(line, Value::Str(item_kind.to_string())),
                    });
                }
                if !entries.iter().any(|e| e.key == "apiVersion") && !api_version.is_empty() {
                    entries.push(crate::tree::Entry {
                        key: "apiVersion".into(),
                        key_line: line,
                        value: Node::new(line, Value::Str(api_version.clone())),
                    });
                }
            }
            decode_document(item_source, Arc::new(item), out);
        }
        return;
    }
    decode_object(source, tree, out);
}

fn decode_object(source: Source, tree: Arc<Node>, out: &mut Decoded) {
    let seq = next_seq(out);
    let kind_node = tree.get("kind");
    let kind = match kind_node.map(|n| &n.value) {
        Some(Value::Str(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(_) => {
            let type_name = kind_node.map_or("null", Node::type_name);
            out.errors.push(LoadError::at(
                ErrorKind::Decode,
                &source,
                None,
                tree.line_of(&FieldPath::root().key("kind")),
                Some("kind".into()),
                format!("invalid type: {type_name}, expected a string"),
            ));
            return;
        }
    };
    let api_version = tree.get_str("apiVersion").unwrap_or_default().to_string();
    if kind.is_empty() {
        // A Kubernetes-shaped object without a kind is an error; anything else (the aws CLI's
        // `{"fargateProfile": {…}}`) passes through with an empty kind.
        if tree.get("apiVersion").is_some() || tree.get("metadata").is_some() || tree.get("spec").is_some() {
            out.errors.push(LoadError::at(
                ErrorKind::Decode,
                &source,
                describe_tree("", &tree),
                tree.line,
                Some("kind".into()),
                "Required value: Object 'Kind' is missing",
            ));
            return;
        }
        out.raw.push(RawDocument { seq, source, api_version, kind, value: tree.to_json(), tree });
        return;
    }
    let group = group_of(&api_version);
    let handled =
        HANDLED.iter().find(|(g, k, _)| *k == kind && (*g == group || (*g == "apps" && group == "extensions")));
    let Some(&(_, _, want_version)) = handled else {
        out.raw.push(RawDocument { seq, source, api_version, kind, value: tree.to_json(), tree });
        return;
    };
    let describe = describe_tree(&kind, &tree);
    if api_version.is_empty() {
        out.errors.push(LoadError::at(
            ErrorKind::Decode,
            &source,
            describe,
            tree.line,
            Some("apiVersion".into()),
            "Required value: Object 'apiVersion' is missing",
        ));
        return;
    }
    if api_version != want_version {
        out.errors.push(LoadError::at(
            ErrorKind::Decode,
            &source,
            describe,
            tree.line_of(&FieldPath::root().key("apiVersion")),
            Some("apiVersion".into()),
            format!("no matches for kind {kind:?} in version {api_version:?}"),
        ));
        return;
    }
    let decoded = match kind.as_str() {
        "Node" => from_node(&tree).map(|o| Object::Node(Box::new(o))),
        "Pod" => from_node(&tree).map(|o| Object::Pod(Box::new(o))),
        "Namespace" => from_node(&tree).map(|o| Object::Namespace(Box::new(o))),
        "PriorityClass" => from_node(&tree).map(|o| Object::PriorityClass(Box::new(o))),
        "PodDisruptionBudget" => from_node(&tree).map(|o| Object::PodDisruptionBudget(Box::new(o))),
        "Service" => from_node(&tree).map(|o| Object::Service(Box::new(o))),
        "ReplicationController" => from_node(&tree).map(|o| Object::ReplicationController(Box::new(o))),
        "Deployment" => from_node(&tree).map(|o| Object::Deployment(Box::new(o))),
        "ReplicaSet" => from_node(&tree).map(|o| Object::ReplicaSet(Box::new(o))),
        "StatefulSet" => from_node(&tree).map(|o| Object::StatefulSet(Box::new(o))),
        "Job" => from_node(&tree).map(|o| Object::Job(Box::new(o))),
        "DaemonSet" => from_node(&tree).map(|o| Object::DaemonSet(Box::new(o))),
        _ => return,
    };
    match decoded {
        Err(e) => {
            let path = e.path();
            out.errors.push(LoadError::at(
                ErrorKind::Decode,
                &source,
                describe,
                tree.line_of(&path),
                Some(path.to_string()),
                e.message,
            ));
        }
        Ok(object) => {
            let obj = DecodedObject { seq, source, object, tree };
            let problems = validate(&obj.object);
            if problems.is_empty() {
                out.objects.push(obj);
            } else {
                for (path, message) in problems {
                    out.errors.push(obj.error(ErrorKind::Invalid, &path, message));
                }
            }
        }
    }
}

/// The required fields the scheduler depends on (a subset of the API server's validation).
fn validate(object: &Object) -> Vec<(FieldPath, String)> {
    let mut errs = Vec::new();
    let root = FieldPath::root();
    let meta_name = |meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
                     allow_generate: bool,
                     errs: &mut Vec<(FieldPath, String)>| {
        let has_name = meta.name.as_deref().is_some_and(|n| !n.is_empty());
        let has_generate = allow_generate && meta.generate_name.as_deref().is_some_and(|n| !n.is_empty());
        if !has_name && !has_generate {
            errs.push((root.key("metadata").key("name"), "Required value: name or generateName is required".into()));
        }
    };
    match object {
        Object::Node(n) => {
            meta_name(&n.metadata, false, &mut errs);
            if n.status.as_ref().and_then(|s| s.allocatable.as_ref()).is_none() {
                errs.push((
                    root.key("status").key("allocatable"),
                    "Required value: the scheduler places pods against the node's allocatable resources".into(),
                ));
            }
        }
        Object::Pod(p) => {
            meta_name(&p.metadata, true, &mut errs);
            if p.spec.as_ref().is_none_or(|s| s.containers.is_empty()) {
                errs.push((root.key("spec").key("containers"), "Required value".into()));
            }
        }
        Object::Namespace(n) => meta_name(&n.metadata, false, &mut errs),
        Object::PriorityClass(pc) => {
            meta_name(&pc.metadata, false, &mut errs);
            let name = pc.metadata.name.as_deref().unwrap_or_default();
            // ValidatePriorityClass: user classes may not exceed HighestUserDefinablePriority.
            if !name.starts_with("system-") && pc.value > crate::admission::HIGHEST_USER_DEFINABLE_PRIORITY {
                errs.push((
                    root.key("value"),
                    format!(
                        "Forbidden: maximum allowed value of a user defined priority is {}",
                        crate::admission::HIGHEST_USER_DEFINABLE_PRIORITY
                    ),
                ));
            }
        }
        Object::PodDisruptionBudget(p) => meta_name(&p.metadata, false, &mut errs),
        Object::Service(s) => meta_name(&s.metadata, false, &mut errs),
        Object::ReplicationController(rc) => {
            meta_name(&rc.metadata, false, &mut errs);
            if let Some(t) = rc.spec.as_ref().and_then(|s| s.template.as_ref()) {
                template_containers(t, &mut errs);
                let selector = rc.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
                if !selector.is_empty() {
                    let labels = t.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
                    if !selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                        errs.push((
                            root.key("spec").key("template").key("metadata").key("labels"),
                            "Invalid value: `selector` does not match template `labels`".into(),
                        ));
                    }
                }
            }
        }
        Object::Deployment(d) => {
            meta_name(&d.metadata, false, &mut errs);
            workload(d.spec.as_ref().map(|s| (&s.template, Some(&s.selector))), &mut errs);
        }
        Object::ReplicaSet(rs) => {
            meta_name(&rs.metadata, false, &mut errs);
            workload(
                rs.spec.as_ref().map(|s| (s.template.as_ref().unwrap_or(&EMPTY_TEMPLATE), Some(&s.selector))),
                &mut errs,
            );
        }
        Object::StatefulSet(s) => {
            meta_name(&s.metadata, false, &mut errs);
            workload(s.spec.as_ref().map(|s| (&s.template, Some(&s.selector))), &mut errs);
        }
        Object::DaemonSet(d) => {
            meta_name(&d.metadata, false, &mut errs);
            workload(d.spec.as_ref().map(|s| (&s.template, Some(&s.selector))), &mut errs);
        }
        Object::Job(j) => {
            meta_name(&j.metadata, false, &mut errs);
            workload(j.spec.as_ref().map(|s| (&s.template, None)), &mut errs);
        }
    }
    errs
}

static EMPTY_TEMPLATE: PodTemplateSpec = PodTemplateSpec { metadata: None, spec: None };

fn template_containers(t: &PodTemplateSpec, errs: &mut Vec<(FieldPath, String)>) {
    if t.spec.as_ref().is_none_or(|s| s.containers.is_empty()) {
        errs.push((
            FieldPath::root().key("spec").key("template").key("spec").key("containers"),
            "Required value".into(),
        ));
    }
}

fn workload(spec: Option<(&PodTemplateSpec, Option<&LabelSelector>)>, errs: &mut Vec<(FieldPath, String)>) {
    let Some((template, selector)) = spec else {
        errs.push((FieldPath::root().key("spec"), "Required value".into()));
        return;
    };
    template_containers(template, errs);
    if let Some(selector) = selector {
        let empty = selector.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
            && selector.match_expressions.as_ref().is_none_or(Vec::is_empty);
        if empty {
            errs.push((FieldPath::root().key("spec").key("selector"), "Required value".into()));
            return;
        }
        let labels = template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
        match crate::convert::label_selector(selector, &FieldPath::root()) {
            Ok(sel) => {
                let model_labels = crate::convert::labels(&labels);
                if !sel.matches(&model_labels) {
                    errs.push((
                        FieldPath::root().key("spec").key("template").key("metadata").key("labels"),
                        format!("Invalid value: {labels:?}: `selector` does not match template `labels`"),
                    ));
                }
            }
            Err(e) => errs.push((e.path.under(&FieldPath::root().key("spec").key("selector")), e.message)),
        }
    }
}

/// One warning per kind nobody claimed: `skipping 3 objects of unsupported kind ConfigMap`.
/// Kinds are listed in order of first appearance; an empty kind is shown as `(no kind)`.
pub fn unclaimed_kind_warnings(raw: &[RawDocument], claimed: &[&str]) -> Vec<String> {
    let mut order: Vec<&str> = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for doc in raw {
        if claimed.contains(&doc.kind.as_str()) {
            continue;
        }
        let c = counts.entry(doc.kind.as_str()).or_insert(0);
        if *c == 0 {
            order.push(doc.kind.as_str());
        }
        *c += 1;
    }
    order
        .into_iter()
        .map(|kind| {
            let n = counts.get(kind).copied().unwrap_or_default();
            let noun = if n == 1 { "object" } else { "objects" };
            let kind = if kind.is_empty() { "(no kind)" } else { kind };
            format!("skipping {n} {noun} of unsupported kind {kind}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(name: &str, text: &str) -> Decoded {
        let format = if name.ends_with(".json") { Format::Json } else { Format::Auto };
        decode_sources(&[SourceText { name: name.into(), text: text.into(), format }])
    }

    #[test]
    fn lists_are_flattened_with_item_numbers() {
        let d = decode(
            "dump.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n",
        );
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(d.objects.len(), 1);
        assert_eq!(d.objects[0].source, Source::new("dump.yaml", 1, Some(1), 4));
        assert_eq!(d.raw.len(), 1);
        assert_eq!(d.raw[0].kind, "ConfigMap");
        assert_eq!(d.raw[0].source.item, Some(2));
        assert_eq!((d.objects[0].seq, d.raw[0].seq), (0, 1));
    }

    #[test]
    fn typed_lists_supply_kind_and_api_version_to_items() {
        let d = decode(
            "pods.json",
            r#"{"apiVersion": "v1", "kind": "NamespaceList", "items": [{"metadata": {"name": "x"}}]}"#,
        );
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert!(matches!(&d.objects[0].object, Object::Namespace(ns) if ns.metadata.name.as_deref() == Some("x")));
    }

    #[test]
    fn documents_without_kind() {
        let d = decode("fp.json", r#"{"fargateProfile": {"fargateProfileName": "fp"}}"#);
        assert!(d.errors.is_empty());
        assert_eq!(d.raw.len(), 1);
        assert_eq!(d.raw[0].kind, "");
        let d = decode("p.yaml", "apiVersion: v1\nmetadata:\n  name: p\n");
        assert_eq!(d.errors.len(), 1);
        assert_eq!(
            d.errors[0].to_string(),
            "p.yaml: document 1, line 1: kind: Required value: Object 'Kind' is missing"
        );
    }

    #[test]
    fn old_api_versions_of_handled_kinds_are_errors_and_foreign_groups_are_raw() {
        let d = decode(
            "x.yaml",
            "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\n---\napiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: s}\n",
        );
        assert_eq!(d.errors.len(), 1);
        assert_eq!(
            d.errors[0].to_string(),
            "x.yaml: document 1 (Deployment default/d), line 1: apiVersion: no matches for kind \"Deployment\" in version \"extensions/v1beta1\""
        );
        assert_eq!(d.raw.len(), 1);
        assert_eq!(d.raw[0].api_version, "serving.knative.dev/v1");
    }

    #[test]
    fn unclaimed_kinds_get_one_warning_each() {
        let d = decode(
            "x.yaml",
            "kind: ConfigMap\n---\nkind: NodePool\n---\nkind: ConfigMap\n---\nkind: ConfigMap\n---\n{\"x\": 1}\n",
        );
        assert_eq!(
            unclaimed_kind_warnings(&d.raw, &["NodePool"]),
            ["skipping 3 objects of unsupported kind ConfigMap", "skipping 1 object of unsupported kind (no kind)"]
        );
    }

    #[test]
    fn user_priority_classes_are_capped_and_kinds_must_be_strings() {
        let d = decode(
            "p.yaml",
            "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: huge}\nvalue: 1000000001\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: system-node-critical}\nvalue: 2000001000\n---\nkind: [Pod]\n",
        );
        let msgs: Vec<String> = d.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "p.yaml: document 1 (PriorityClass huge), line 4: value: Forbidden: maximum allowed value of a user defined priority is 1000000000",
                "p.yaml: document 3, line 11: kind: invalid type: list, expected a string",
            ]
        );
        assert_eq!(d.objects.len(), 1);
    }

    #[test]
    fn required_fields() {
        let d = decode(
            "n.yaml",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nstatus:\n  capacity: {cpu: 1}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: default\nspec:\n  containers: []\n",
        );
        let msgs: Vec<String> = d.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "n.yaml: document 1 (Node n1), line 5: status.allocatable: Required value: the scheduler places pods against the node's allocatable resources",
                "n.yaml: document 2 (Pod default/p), line 14: spec.containers: Required value",
            ]
        );
    }
}
