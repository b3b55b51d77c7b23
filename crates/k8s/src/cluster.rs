//! The whole pipeline: read → decode → admission → controllers → conversion, collecting every
//! error and keeping everything that loaded.

use crate::admission::{self, AdmissionChain, AdmissionContext, PriorityClasses};
use crate::controllers::{self, NameGenerator, Owner};
use crate::convert;
use crate::decode::{Decoded, DecodedObject, Object, RawDocument, decode_sources, unclaimed_kind_warnings};
use crate::error::{ErrorKind, LoadError, Source};
use crate::input::{Input, read_sources};
use crate::tree::FieldPath;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Node as K8sNode, Pod, ReplicationController, Service};
use kubesched_core::model::{self, WorkloadKind, WorkloadSelector};
use kubesched_core::selector::LabelSelector;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How to load.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Seeds the generated pod names (`<rs>-<5 chars>`).
    pub seed: u64,
    /// The admission chain every pod goes through (input and generated alike).
    pub admission: AdmissionChain,
}

/// A node: the API object and its model.
#[derive(Clone, Debug)]
pub struct LoadedNode {
    pub object: Arc<K8sNode>,
    pub model: model::Node,
    pub source: Source,
}

/// A pod after admission: the API object, its model, where it came from, and whether a
/// controller of the input generated it (its source is then the controller's document).
#[derive(Clone, Debug)]
pub struct LoadedPod {
    pub object: Arc<Pod>,
    pub model: model::Pod,
    pub source: Source,
    pub generated: bool,
}

/// A workload object. `generated` marks ReplicaSets created for Deployments.
#[derive(Clone, Debug)]
pub struct Loaded<T> {
    pub object: Arc<T>,
    pub source: Source,
    pub generated: bool,
}

/// Everything loaded, in input order (generated objects at their controller's position).
/// Which pods are bound and which pending is the caller's business.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    pub nodes: Vec<LoadedNode>,
    pub pods: Vec<LoadedPod>,
    pub namespaces: Vec<model::Namespace>,
    /// The built-in system classes plus the loaded ones.
    pub priority_classes: PriorityClasses,
    pub pdbs: Vec<model::PodDisruptionBudget>,
    /// Selectors of Services, ReplicationControllers, ReplicaSets (generated ones included) and
    /// StatefulSets, for topology spread's default constraints.
    pub workload_selectors: Vec<WorkloadSelector>,
    pub services: Vec<Loaded<Service>>,
    pub replication_controllers: Vec<Loaded<ReplicationController>>,
    pub deployments: Vec<Loaded<Deployment>>,
    pub replica_sets: Vec<Loaded<ReplicaSet>>,
    pub stateful_sets: Vec<Loaded<StatefulSet>>,
    /// Jobs after API defaulting (generated selector and labels).
    pub jobs: Vec<Loaded<Job>>,
    pub daemon_sets: Vec<Loaded<DaemonSet>>,
    /// Documents of kinds this crate does not handle, for other crates to claim.
    pub raw: Vec<RawDocument>,
    pub warnings: Vec<String>,
    pub errors: Vec<LoadError>,
}

impl Cluster {
    /// A snapshot with the nodes (in input order), namespaces, PDBs and workload selectors, and
    /// no pods: which pods are bound, pending or someone else's is the caller's decision.
    pub fn empty_snapshot(&self) -> kubesched_core::snapshot::Snapshot {
        let mut snapshot = kubesched_core::snapshot::Snapshot::new();
        for node in &self.nodes {
            snapshot.add_node(node.model.clone());
        }
        for ns in &self.namespaces {
            snapshot.add_namespace(ns.clone());
        }
        snapshot.set_pdbs(self.pdbs.clone());
        snapshot.set_workload_selectors(self.workload_selectors.clone());
        snapshot
    }

    /// One warning per kind among [`Cluster::raw`] that nobody claims.
    pub fn unclaimed_kind_warnings(&self, claimed: &[&str]) -> Vec<String> {
        unclaimed_kind_warnings(&self.raw, claimed)
    }
}

/// Why a single pod could not be admitted or converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PodError {
    Admission(admission::AdmissionError),
    Invalid(Vec<convert::ConvertError>),
}

impl std::fmt::Display for PodError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PodError::Admission(e) => write!(f, "{e}"),
            PodError::Invalid(errs) => {
                let texts: Vec<String> = errs.iter().map(ToString::to_string).collect();
                f.write_str(&texts.join("; "))
            }
        }
    }
}

impl std::error::Error for PodError {}

/// One pod through admission and conversion, as the simulator does for the pods its
/// controllers create: `pod` is mutated by the chain (defaults, priority, tolerations) and the
/// model is returned. A pod without a name but with `generateName` is named by `names`.
pub fn admit_and_convert(
    pod: &mut Pod,
    chain: &AdmissionChain,
    priority_classes: &PriorityClasses,
    names: &mut NameGenerator,
) -> Result<model::Pod, PodError> {
    let cx = AdmissionContext { priority_classes, already_admitted: admission::is_admitted(pod) };
    chain.admit(pod, &cx).map_err(PodError::Admission)?;
    let ns = ns_of(&pod.metadata).to_string();
    if pod.metadata.name.as_deref().is_none_or(str::is_empty) {
        let base = pod.metadata.generate_name.clone().unwrap_or_default();
        pod.metadata.name = Some(names.generate(&ns, &base));
    }
    if pod.metadata.uid.as_deref().is_none_or(str::is_empty) {
        let name = pod.metadata.name.clone().unwrap_or_default();
        pod.metadata.uid = Some(controllers::deterministic_uid("Pod", &ns, &name));
    }
    convert::pod(pod).map_err(PodError::Invalid)
}

/// Reads, decodes and builds the cluster from `inputs`.
pub fn load(inputs: &[Input], options: &LoadOptions) -> Cluster {
    let (sources, io_errors) = read_sources(inputs);
    let mut decoded = decode_sources(&sources);
    let mut errors = io_errors;
    errors.append(&mut decoded.errors);
    decoded.errors = errors;
    build(decoded, options)
}

/// Where an object's errors are reported: a document, and the path prefix that maps a path
/// of the object onto that document (`spec.template` for pods a controller generated).
#[derive(Clone, Debug)]
struct Origin {
    doc: usize,
    prefix: FieldPath,
}

struct PodWork {
    pod: Pod,
    origin: Origin,
    generated: bool,
    order: (usize, usize),
}

struct Work<T> {
    object: T,
    origin: Origin,
    generated: bool,
    order: (usize, usize),
}

fn template_prefix() -> FieldPath {
    FieldPath::root().key("spec").key("template")
}

fn ns_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    meta.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default")
}

/// Input pods with their adoption state: an orphan is adopted by the first controller that
/// selects it, as the controllers' `ClaimPods` would. Indexed by controller reference so that
/// large dumps reconcile in linear time.
struct PodPool<'a> {
    pods: &'a [PodWork],
    by_uid: BTreeMap<&'a str, Vec<usize>>,
    by_name: BTreeMap<(&'a str, &'a str, &'a str), Vec<usize>>,
    orphans: BTreeMap<&'a str, Vec<usize>>,
    adopted: BTreeSet<usize>,
}

impl<'a> PodPool<'a> {
    fn new(pods: &'a [PodWork]) -> PodPool<'a> {
        let mut pool = PodPool {
            pods,
            by_uid: BTreeMap::new(),
            by_name: BTreeMap::new(),
            orphans: BTreeMap::new(),
            adopted: BTreeSet::new(),
        };
        for (i, w) in pods.iter().enumerate() {
            let ns = ns_of(&w.pod.metadata);
            match convert::controller_ref(&w.pod.metadata) {
                Some(r) => {
                    pool.by_uid.entry(r.uid.as_str()).or_default().push(i);
                    pool.by_name.entry((ns, r.kind.as_str(), r.name.as_str())).or_default().push(i);
                }
                None => pool.orphans.entry(ns).or_default().push(i),
            }
        }
        pool
    }

    fn owned(&mut self, owner: &Owner<'_>) -> Vec<&'a Pod> {
        let mut idx: BTreeSet<usize> = BTreeSet::new();
        let by_ref = self
            .by_uid
            .get(owner.uid)
            .into_iter()
            .flatten()
            .chain(self.by_name.get(&(owner.namespace, owner.kind, owner.name)).into_iter().flatten());
        for &i in by_ref {
            if owner.is_controller_of(&self.pods[i].pod.metadata) {
                idx.insert(i);
            }
        }
        for &i in self.orphans.get(owner.namespace).into_iter().flatten() {
            if !self.adopted.contains(&i) && owner.owns(&self.pods[i].pod.metadata) {
                self.adopted.insert(i);
                idx.insert(i);
            }
        }
        idx.into_iter().map(|i| &self.pods[i].pod).collect()
    }
}

/// The name of a ReplicaSet `<deployment>-…` that pods of the input name as their controller
/// while the input lacks it, when those pods match the deployment's selector.
fn absent_replica_set_of(
    deployment: &str,
    owner: &Owner<'_>,
    pods: &[PodWork],
    rs_exists: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let prefix = format!("{deployment}-");
    let selector = owner.selector.as_ref()?;
    pods.iter().find_map(|w| {
        let r = convert::controller_ref(&w.pod.metadata)?;
        let matches = r.kind == "ReplicaSet"
            && r.name.starts_with(&prefix)
            && ns_of(&w.pod.metadata) == owner.namespace
            && !rs_exists(&r.name)
            && selector.matches(&convert::labels(&w.pod.metadata.labels.clone().unwrap_or_default()));
        matches.then(|| r.name.clone())
    })
}

fn selector_of(sel: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector) -> Option<LabelSelector> {
    convert::label_selector(sel, &FieldPath::root()).ok()
}

/// Admission, controllers and conversion over decoded input.
pub fn build(decoded: Decoded, options: &LoadOptions) -> Cluster {
    let Decoded { files, mut objects, raw, errors } = decoded;
    let mut c = Cluster { raw, errors, ..Default::default() };

    // Identity: namespace default, deterministic uid, duplicates refused.
    let mut seen: BTreeMap<(&'static str, String, String), usize> = BTreeMap::new();
    let mut keep = vec![true; objects.len()];
    for (i, o) in objects.iter_mut().enumerate() {
        let namespaced = o.object.is_namespaced();
        let kind = o.object.kind();
        let meta = o.object.meta_mut();
        if namespaced && meta.namespace.as_deref().is_none_or(str::is_empty) {
            meta.namespace = Some("default".into());
        }
        let ns = if namespaced { ns_of(meta).to_string() } else { String::new() };
        let Some(name) = meta.name.clone().filter(|n| !n.is_empty()) else { continue };
        if meta.uid.as_deref().is_none_or(str::is_empty) {
            meta.uid = Some(controllers::deterministic_uid(kind, &ns, &name));
        }
        match seen.get(&(kind, ns.clone(), name.clone())) {
            Some(_) => keep[i] = false,
            None => {
                seen.insert((kind, ns, name), i);
            }
        }
    }
    // Report duplicates (second pass: the first definitions are needed for the message).
    for (i, o) in objects.iter().enumerate() {
        if keep[i] {
            continue;
        }
        let meta = o.object.meta();
        let ns = if o.object.is_namespaced() { ns_of(meta).to_string() } else { String::new() };
        let name = meta.name.clone().unwrap_or_default();
        let first = seen.get(&(o.object.kind(), ns, name.clone())).map(|&f| objects[f].source.to_string());
        c.errors.push(o.error(
            ErrorKind::Duplicate,
            &FieldPath::root().key("metadata").key("name"),
            format!("{} {name:?} already exists (first defined in {})", o.object.resource(), first.unwrap_or_default()),
        ));
    }
    let objects: Vec<DecodedObject> = objects.into_iter().zip(keep).filter_map(|(o, k)| k.then_some(o)).collect();

    // PriorityClasses first: every pod's admission needs them.
    for o in &objects {
        if let Object::PriorityClass(pc) = &o.object
            && let Err(message) = c.priority_classes.add(pc)
        {
            c.errors.push(o.error(ErrorKind::Forbidden, &FieldPath::root().key("globalDefault"), message));
        }
    }

    let mut input_pods: Vec<PodWork> = Vec::new();
    let mut rcs: Vec<Work<ReplicationController>> = Vec::new();
    let mut deployments: Vec<Work<Deployment>> = Vec::new();
    let mut rss: Vec<Work<ReplicaSet>> = Vec::new();
    let mut sss: Vec<Work<StatefulSet>> = Vec::new();
    let mut jobs: Vec<Work<Job>> = Vec::new();
    let mut dss: Vec<Work<DaemonSet>> = Vec::new();
    let mut names = NameGenerator::new(options.seed);
    for (doc, o) in objects.iter().enumerate() {
        let origin = Origin { doc, prefix: FieldPath::root() };
        let order = (o.seq, 0);
        match &o.object {
            Object::Node(n) => match convert::node(n) {
                Ok(model) => {
                    c.nodes.push(LoadedNode { object: Arc::new((**n).clone()), model, source: o.source.clone() })
                }
                Err(errs) => {
                    for e in errs {
                        c.errors.push(o.error(ErrorKind::Invalid, &e.path, e.message));
                    }
                }
            },
            Object::Namespace(ns) => c.namespaces.push(convert::namespace(ns)),
            Object::Pod(p) => {
                if let Some(name) = p.metadata.name.as_deref().filter(|n| !n.is_empty()) {
                    names.reserve(ns_of(&p.metadata), name);
                }
                input_pods.push(PodWork { pod: (**p).clone(), origin, generated: false, order });
            }
            Object::PodDisruptionBudget(p) => match convert::pdb(p) {
                Ok(m) => c.pdbs.push(m),
                Err(errs) => {
                    for e in errs {
                        c.errors.push(o.error(ErrorKind::Invalid, &e.path, e.message));
                    }
                }
            },
            Object::Service(s) => {
                c.services.push(Loaded { object: Arc::new((**s).clone()), source: o.source.clone(), generated: false })
            }
            Object::ReplicationController(rc) => {
                rcs.push(Work { object: (**rc).clone(), origin, generated: false, order })
            }
            Object::Deployment(d) => deployments.push(Work { object: (**d).clone(), origin, generated: false, order }),
            Object::ReplicaSet(rs) => rss.push(Work { object: (**rs).clone(), origin, generated: false, order }),
            Object::StatefulSet(ss) => sss.push(Work { object: (**ss).clone(), origin, generated: false, order }),
            Object::Job(j) => {
                let mut j = (**j).clone();
                controllers::default_job(&mut j);
                jobs.push(Work { object: j, origin, generated: false, order });
            }
            Object::DaemonSet(d) => dss.push(Work { object: (**d).clone(), origin, generated: false, order }),
            Object::PriorityClass(_) => {}
        }
    }

    // Deployments → their current ReplicaSet when the input lacks it.
    let mut rs_adopted: BTreeSet<usize> = BTreeSet::new();
    let mut new_rss = Vec::new();
    for d in &deployments {
        let owner =
            Owner::new("Deployment", &d.object.metadata, d.object.spec.as_ref().and_then(|s| selector_of(&s.selector)));
        let mut owned: Vec<&ReplicaSet> = Vec::new();
        for (i, rs) in rss.iter().enumerate() {
            if owner.is_controller_of(&rs.object.metadata) {
                owned.push(&rs.object);
            } else if convert::controller_ref(&rs.object.metadata).is_none()
                && !rs_adopted.contains(&i)
                && owner.owns(&rs.object.metadata)
            {
                rs_adopted.insert(i);
                owned.push(&rs.object);
            }
        }
        let ns = ns_of(&d.object.metadata);
        let taken = |name: &str| {
            rss.iter().any(|rs| ns_of(&rs.object.metadata) == ns && rs.object.metadata.name.as_deref() == Some(name))
        };
        let d_name = d.object.metadata.name.as_deref().unwrap_or_default();
        if owned.is_empty()
            && let Some(rs_name) = absent_replica_set_of(d_name, &owner, &input_pods, &taken)
        {
            // `kubectl get deployments,pods` without the ReplicaSets: the pods show the
            // deployment was reconciled; creating another ReplicaSet would double them.
            c.warnings.push(format!(
                "{}: Deployment {ns}/{d_name}: its ReplicaSet {rs_name} is not in the input; its pods are kept and no ReplicaSet is created",
                objects[d.origin.doc].source,
            ));
            continue;
        }
        if let Some(rs) = controllers::deployment_replica_set_to_create(&d.object, &owned, &taken) {
            if !owned.is_empty() {
                c.warnings.push(format!(
                    "{}: Deployment {ns}/{} matches none of its {} ReplicaSet(s); created ReplicaSet {} with {} replica(s) next to them",
                    objects[d.origin.doc].source,
                    d.object.metadata.name.as_deref().unwrap_or_default(),
                    owned.len(),
                    rs.metadata.name.as_deref().unwrap_or_default(),
                    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or_default(),
                ));
            }
            new_rss.push(Work {
                object: rs,
                origin: Origin { doc: d.origin.doc, prefix: FieldPath::root() },
                generated: true,
                order: (d.order.0, 1),
            });
        }
    }
    rss.extend(new_rss);
    rss.sort_by_key(|w| w.order);

    // Controllers → pods.
    let mut generated: Vec<PodWork> = Vec::new();
    {
        let mut pool = PodPool::new(&input_pods);
        let mut emit = |pods: Vec<Pod>, origin: &Origin, seq: usize| {
            for (k, pod) in pods.into_iter().enumerate() {
                generated.push(PodWork {
                    pod,
                    origin: Origin { doc: origin.doc, prefix: template_prefix() },
                    generated: true,
                    order: (seq, 2 + k),
                });
            }
        };
        for rc in &rcs {
            let spec = rc.object.spec.as_ref();
            let sel = spec
                .and_then(|s| s.selector.clone())
                .filter(|m| !m.is_empty())
                .or_else(|| {
                    spec.and_then(|s| s.template.as_ref())
                        .and_then(|t| t.metadata.as_ref())
                        .and_then(|m| m.labels.clone())
                })
                .map(|m| LabelSelector::from_match_labels(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
            let owner = Owner::new("ReplicationController", &rc.object.metadata, sel);
            let owned = pool.owned(&owner);
            emit(
                controllers::replication_controller_pods_to_create(&rc.object, &owned, &mut names),
                &rc.origin,
                rc.order.0,
            );
        }
        for rs in &rss {
            let owner = Owner::new(
                "ReplicaSet",
                &rs.object.metadata,
                rs.object.spec.as_ref().and_then(|s| selector_of(&s.selector)),
            );
            let owned = pool.owned(&owner);
            let seq = rs.order.0;
            emit(controllers::replicaset_pods_to_create(&rs.object, &owned, &mut names), &rs.origin, seq);
        }
        for ss in &sss {
            let owner = Owner::new(
                "StatefulSet",
                &ss.object.metadata,
                ss.object.spec.as_ref().and_then(|s| selector_of(&s.selector)),
            );
            let owned = pool.owned(&owner);
            emit(controllers::statefulset_pods_to_create(&ss.object, &owned), &ss.origin, ss.order.0);
        }
        for j in &jobs {
            let sel = j.object.spec.as_ref().and_then(|s| s.selector.as_ref()).and_then(selector_of);
            let owner = Owner::new("Job", &j.object.metadata, sel);
            let owned = pool.owned(&owner);
            emit(controllers::job_pods_to_create(&j.object, &owned, &mut names), &j.origin, j.order.0);
        }
        let node_models: Vec<&model::Node> = c.nodes.iter().map(|n| &n.model).collect();
        for ds in &dss {
            let owner = Owner::new(
                "DaemonSet",
                &ds.object.metadata,
                ds.object.spec.as_ref().and_then(|s| selector_of(&s.selector)),
            );
            let owned = pool.owned(&owner);
            emit(
                controllers::daemonset_pods_to_create(&ds.object, &node_models, &owned, &mut names),
                &ds.origin,
                ds.order.0,
            );
        }
    }

    // Admission and conversion.
    let mut reported: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut pods: Vec<(LoadedPod, (usize, usize))> = Vec::new();
    for mut w in input_pods.into_iter().chain(generated) {
        let origin_obj = &objects[w.origin.doc];
        let mut report = |path: &FieldPath, kind: ErrorKind, message: String, c: &mut Cluster| {
            let full = path.under(&w.origin.prefix);
            if w.generated && !reported.insert((w.origin.doc, full.to_string())) {
                return;
            }
            c.errors.push(origin_obj.error(kind, &full, message));
        };
        let cx = AdmissionContext {
            priority_classes: &c.priority_classes,
            already_admitted: !w.generated && admission::is_admitted(&w.pod),
        };
        // A controller creates its pods with `generateName`; the API server names them after
        // admission, so admission messages show the prefix.
        let generated_name =
            if w.generated && w.pod.metadata.generate_name.is_some() { w.pod.metadata.name.take() } else { None };
        if let Err(e) = options.admission.admit(&mut w.pod, &cx) {
            report(&e.path, ErrorKind::Forbidden, e.message, &mut c);
            continue;
        }
        if generated_name.is_some() {
            w.pod.metadata.name = generated_name;
        }
        let ns = ns_of(&w.pod.metadata).to_string();
        if w.pod.metadata.name.as_deref().is_none_or(str::is_empty) {
            let base = w.pod.metadata.generate_name.clone().unwrap_or_default();
            w.pod.metadata.name = Some(names.generate(&ns, &base));
        }
        if w.pod.metadata.uid.as_deref().is_none_or(str::is_empty) {
            let name = w.pod.metadata.name.clone().unwrap_or_default();
            w.pod.metadata.uid = Some(controllers::deterministic_uid("Pod", &ns, &name));
        }
        match convert::pod(&w.pod) {
            Ok(model) => pods.push((
                LoadedPod {
                    object: Arc::new(w.pod),
                    model,
                    source: objects[w.origin.doc].source.clone(),
                    generated: w.generated,
                },
                w.order,
            )),
            Err(errs) => {
                for e in errs {
                    report(&e.path, ErrorKind::Invalid, e.message, &mut c);
                }
            }
        }
    }
    pods.sort_by_key(|(_, order)| *order);
    c.pods = pods.into_iter().map(|(p, _)| p).collect();

    // Workload selectors, in input order.
    let mut selectors: Vec<((usize, usize), WorkloadSelector)> = Vec::new();
    for o in &objects {
        if let Object::Service(s) = &o.object
            && let Some(sel) = convert::service_selector(s)
        {
            selectors.push(((o.seq, 0), sel));
        }
    }
    for rc in &rcs {
        if let Some(sel) = convert::replication_controller_selector(&rc.object) {
            selectors.push((rc.order, sel));
        }
    }
    for rs in &rss {
        if let Some(spec) = rs.object.spec.as_ref()
            && let Ok(sel) = convert::workload_selector(WorkloadKind::ReplicaSet, &rs.object.metadata, &spec.selector)
        {
            selectors.push((rs.order, sel));
        }
    }
    for ss in &sss {
        if let Some(spec) = ss.object.spec.as_ref()
            && let Ok(sel) = convert::workload_selector(WorkloadKind::StatefulSet, &ss.object.metadata, &spec.selector)
        {
            selectors.push((ss.order, sel));
        }
    }
    selectors.sort_by_key(|(order, _)| *order);
    c.workload_selectors = selectors.into_iter().map(|(_, s)| s).collect();

    // Errors in input order: file, document, item, line (I/O errors first).
    let rank: BTreeMap<&str, usize> = files.iter().enumerate().rev().map(|(i, f)| (f.as_ref(), i + 1)).collect();
    c.errors.sort_by_key(|e| (rank.get(e.file.as_ref()).copied().unwrap_or(0), e.document, e.item, e.line));

    c.replication_controllers = into_loaded(rcs, &objects);
    c.deployments = into_loaded(deployments, &objects);
    c.replica_sets = into_loaded(rss, &objects);
    c.stateful_sets = into_loaded(sss, &objects);
    c.jobs = into_loaded(jobs, &objects);
    c.daemon_sets = into_loaded(dss, &objects);
    c
}

fn into_loaded<T>(work: Vec<Work<T>>, objects: &[DecodedObject]) -> Vec<Loaded<T>> {
    work.into_iter()
        .map(|w| Loaded {
            object: Arc::new(w.object),
            source: objects[w.origin.doc].source.clone(),
            generated: w.generated,
        })
        .collect()
}
