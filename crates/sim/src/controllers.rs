//! The workload controllers on the timeline, reusing `kubesched_k8s::controllers`' expansion
//! functions for the pods they create:
//!
//! - **Deployment**: its current ReplicaSet `<name>-<pod-template-hash>`
//!   ([`deployment_replica_set_to_create`]); a template change starts a rolling update that
//!   follows kube's `rolling.go` (`NewRSNewReplicas` with `maxSurge`, `reconcileOldReplicaSets`
//!   with `maxUnavailable`, unhealthy old replicas cleaned up first, availability = Running
//!   pods, `minReadySeconds` ignored); `Recreate` scales the old ReplicaSets to 0 first.
//! - **ReplicaSet / ReplicationController**: replaces pods that are deleted, evicted or
//!   preempted; scales down Pending pods first, then the newest.
//! - **StatefulSet**: `<name>-<ordinal>`; `OrderedReady` creates the lowest missing ordinal once
//!   every lower one is Running, `Parallel` all at once; scale-down deletes the highest ordinals.
//! - **Job**: `min(parallelism, completions − succeeded)` active pods; complete when enough pods
//!   succeeded; failed when more pods failed (evicted, preempted, deleted) than `backoffLimit`
//!   (default 6); `ttlSecondsAfterFinished` deletes the finished Job and its pods.
//! - **DaemonSet**: a pod for every node that should run one, new nodes included; the pods of a
//!   deleted node go with it (pod garbage collection). Template changes are not rolled out.

use crate::engine::{Engine, Ev, Phase};
use crate::queue::PodIdx;
use crate::scenario::{Kind, ObjRef};
use crate::time::SECOND;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod as K8sPod, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kubesched_core::Sym;
use kubesched_core::model::{OwnerRef, Pod};
use kubesched_core::pdb::ControllerScale;
use kubesched_core::selector::LabelSelector;
use kubesched_k8s::controllers as kc;
use kubesched_k8s::decode::Object;
use kubesched_k8s::tree::FieldPath;
use std::collections::{BTreeSet, HashMap};

/// The controller that owns a pod.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum OwnerId {
    /// A ReplicaSet or a ReplicationController.
    Rs(u32),
    Ss(u32),
    Job(u32),
    Ds(u32),
}

/// Work for the reconcile loop, Deployments first (they scale ReplicaSets).
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum Ctrl {
    Deploy(u32),
    Rs(u32),
    Ss(u32),
    Job(u32),
    Ds(u32),
}

#[derive(Clone, Debug)]
pub enum RsObject {
    Rs(ReplicaSet),
    Rc(ReplicationController),
}

impl RsObject {
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            RsObject::Rs(r) => &r.metadata,
            RsObject::Rc(r) => &r.metadata,
        }
    }

    pub fn replicas(&self) -> i32 {
        match self {
            RsObject::Rs(r) => r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            RsObject::Rc(r) => r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        }
    }

    pub fn set_replicas(&mut self, n: i32) {
        match self {
            RsObject::Rs(r) => r.spec.get_or_insert_with(Default::default).replicas = Some(n),
            RsObject::Rc(r) => r.spec.get_or_insert_with(Default::default).replicas = Some(n),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            RsObject::Rs(_) => Kind::ReplicaSet,
            RsObject::Rc(_) => Kind::ReplicationController,
        }
    }
}

#[derive(Clone, Debug)]
pub struct RsRec {
    pub obj: RsObject,
    pub deployment: Option<u32>,
    pub selector: Option<LabelSelector>,
    pub pods: BTreeSet<PodIdx>,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct DeployRec {
    pub obj: Deployment,
    pub rss: Vec<u32>,
    /// The ReplicaSet matching the template, as last found.
    pub current: Option<u32>,
    /// The template may have changed since `current` was found.
    pub template_changed: bool,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct SsRec {
    pub obj: StatefulSet,
    pub selector: Option<LabelSelector>,
    pub pods: BTreeSet<PodIdx>,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct JobRec {
    pub obj: Job,
    pub selector: Option<LabelSelector>,
    pub pods: BTreeSet<PodIdx>,
    pub succeeded: i32,
    pub failed: i32,
    pub finished: bool,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct DsRec {
    pub obj: DaemonSet,
    pub selector: Option<LabelSelector>,
    pub pods: BTreeSet<PodIdx>,
    pub deleted: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Controllers {
    pub deployments: Vec<DeployRec>,
    pub rss: Vec<RsRec>,
    pub sss: Vec<SsRec>,
    pub jobs: Vec<JobRec>,
    pub dss: Vec<DsRec>,
    dirty: BTreeSet<Ctrl>,
    by_name: HashMap<(Kind, String, String), u32>,
    by_uid: HashMap<String, Ctrl>,
}

fn ns_name(meta: &ObjectMeta) -> (String, String) {
    (
        meta.namespace.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "default".into()),
        meta.name.clone().unwrap_or_default(),
    )
}

fn selector(sel: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>) -> Option<LabelSelector> {
    sel.and_then(|s| kubesched_k8s::convert::label_selector(s, &FieldPath::root()).ok())
}

impl Controllers {
    pub fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    fn key_of(kind: Kind, meta: &ObjectMeta) -> (Kind, String, String) {
        let (ns, name) = ns_name(meta);
        (kind, ns, name)
    }

    pub fn find(&self, kind: Kind, namespace: &str, name: &str) -> Option<u32> {
        self.by_name.get(&(kind, namespace.to_string(), name.to_string())).copied()
    }

    fn index(&mut self, kind: Kind, meta: &ObjectMeta, ctrl: Ctrl, i: u32) {
        self.by_name.insert(Self::key_of(kind, meta), i);
        if let Some(uid) = meta.uid.clone().filter(|u| !u.is_empty()) {
            self.by_uid.insert(uid, ctrl);
        }
    }

    pub fn add_deployment(&mut self, d: Deployment) -> u32 {
        let i = self.deployments.len() as u32;
        self.index(Kind::Deployment, &d.metadata, Ctrl::Deploy(i), i);
        self.deployments.push(DeployRec {
            obj: d,
            rss: Vec::new(),
            current: None,
            template_changed: true,
            deleted: false,
        });
        self.dirty.insert(Ctrl::Deploy(i));
        i
    }

    pub fn add_rs(&mut self, obj: RsObject) -> u32 {
        let i = self.rss.len() as u32;
        let kind = obj.kind();
        let sel = match &obj {
            RsObject::Rs(r) => selector(r.spec.as_ref().map(|s| &s.selector)),
            RsObject::Rc(r) => {
                let spec = r.spec.as_ref();
                spec.and_then(|s| s.selector.clone())
                    .filter(|m| !m.is_empty())
                    .or_else(|| {
                        spec.and_then(|s| s.template.as_ref())
                            .and_then(|t| t.metadata.as_ref())
                            .and_then(|m| m.labels.clone())
                    })
                    .map(|m| LabelSelector::from_match_labels(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            }
        };
        let deployment = kubesched_k8s::convert::controller_ref(obj.meta())
            .filter(|r| r.kind == "Deployment")
            .and_then(|r| match self.by_uid.get(&r.uid) {
                Some(Ctrl::Deploy(d)) => Some(*d),
                _ => None,
            });
        self.index(kind, &obj.meta().clone(), Ctrl::Rs(i), i);
        if let Some(d) = deployment {
            self.deployments[d as usize].rss.push(i);
        }
        self.rss.push(RsRec { obj, deployment, selector: sel, pods: BTreeSet::new(), deleted: false });
        self.dirty.insert(Ctrl::Rs(i));
        i
    }

    pub fn add_ss(&mut self, s: StatefulSet) -> u32 {
        let i = self.sss.len() as u32;
        self.index(Kind::StatefulSet, &s.metadata, Ctrl::Ss(i), i);
        let sel = selector(s.spec.as_ref().map(|sp| &sp.selector));
        self.sss.push(SsRec { obj: s, selector: sel, pods: BTreeSet::new(), deleted: false });
        self.dirty.insert(Ctrl::Ss(i));
        i
    }

    pub fn add_job(&mut self, mut j: Job) -> u32 {
        kc::default_job(&mut j);
        let i = self.jobs.len() as u32;
        self.index(Kind::Job, &j.metadata, Ctrl::Job(i), i);
        let sel = selector(j.spec.as_ref().and_then(|s| s.selector.as_ref()));
        let succeeded = j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0);
        self.jobs.push(JobRec {
            obj: j,
            selector: sel,
            pods: BTreeSet::new(),
            succeeded,
            failed: 0,
            finished: false,
            deleted: false,
        });
        self.dirty.insert(Ctrl::Job(i));
        i
    }

    pub fn add_ds(&mut self, d: DaemonSet) -> u32 {
        let i = self.dss.len() as u32;
        self.index(Kind::DaemonSet, &d.metadata, Ctrl::Ds(i), i);
        let sel = selector(d.spec.as_ref().map(|s| &s.selector));
        self.dss.push(DsRec { obj: d, selector: sel, pods: BTreeSet::new(), deleted: false });
        self.dirty.insert(Ctrl::Ds(i));
        i
    }

    pub fn adopt(&mut self, owner: OwnerId, pod: PodIdx) {
        match owner {
            OwnerId::Rs(i) => self.rss[i as usize].pods.insert(pod),
            OwnerId::Ss(i) => self.sss[i as usize].pods.insert(pod),
            OwnerId::Job(i) => self.jobs[i as usize].pods.insert(pod),
            OwnerId::Ds(i) => self.dss[i as usize].pods.insert(pod),
        };
    }

    /// A pod of `owner` was deleted; `failure` counts it against a Job's backoff limit.
    pub fn pod_deleted(&mut self, pod: PodIdx, owner: Option<OwnerId>, failure: bool) {
        match owner {
            Some(OwnerId::Rs(i)) => {
                self.rss[i as usize].pods.remove(&pod);
            }
            Some(OwnerId::Ss(i)) => {
                self.sss[i as usize].pods.remove(&pod);
            }
            Some(OwnerId::Job(i)) => {
                let j = &mut self.jobs[i as usize];
                j.pods.remove(&pod);
                if failure {
                    j.failed += 1;
                }
            }
            Some(OwnerId::Ds(i)) => {
                self.dss[i as usize].pods.remove(&pod);
            }
            None => {}
        }
    }

    pub fn pod_succeeded(&mut self, owner: Option<OwnerId>) {
        if let Some(OwnerId::Job(i)) = owner {
            self.jobs[i as usize].succeeded += 1;
        }
    }

    /// Marks the owner (and a ReplicaSet's Deployment) for reconciliation.
    pub fn touch(&mut self, owner: Option<OwnerId>) {
        match owner {
            Some(OwnerId::Rs(i)) => {
                self.dirty.insert(Ctrl::Rs(i));
                if let Some(d) = self.rss[i as usize].deployment {
                    self.dirty.insert(Ctrl::Deploy(d));
                }
            }
            Some(OwnerId::Ss(i)) => {
                self.dirty.insert(Ctrl::Ss(i));
            }
            Some(OwnerId::Job(i)) => {
                self.dirty.insert(Ctrl::Job(i));
            }
            Some(OwnerId::Ds(i)) => {
                self.dirty.insert(Ctrl::Ds(i));
            }
            None => {}
        }
    }

    pub fn mark_daemonsets_dirty(&mut self) {
        for (i, d) in self.dss.iter().enumerate() {
            if !d.deleted {
                self.dirty.insert(Ctrl::Ds(i as u32));
            }
        }
    }

    /// The disruption controller's `getExpectedScale` finders: a ReplicaSet's Deployment, a
    /// ReplicaSet, a ReplicationController, a StatefulSet.
    pub fn scale_of(&self, _pod: &Pod, owner: &OwnerRef) -> Option<ControllerScale> {
        let ctrl = self.by_uid.get(owner.uid.as_str())?;
        match *ctrl {
            Ctrl::Rs(i) => {
                let rs = &self.rss[i as usize];
                match rs.deployment {
                    Some(d) => {
                        let d = &self.deployments[d as usize].obj;
                        Some(ControllerScale {
                            controller: Sym::new(d.metadata.uid.as_deref().unwrap_or_default()),
                            replicas: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                        })
                    }
                    None => Some(ControllerScale { controller: owner.uid, replicas: rs.obj.replicas() }),
                }
            }
            Ctrl::Ss(i) => Some(ControllerScale {
                controller: owner.uid,
                replicas: self.sss[i as usize].obj.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            }),
            _ => None,
        }
    }
}

/// `ResolveFenceposts`: (maxSurge, maxUnavailable), with 25% defaults; both 0 means 1 unavailable.
pub fn fenceposts(d: &Deployment, replicas: i32) -> (i32, i32) {
    let ru = d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.rolling_update.as_ref());
    let pct = || IntOrString::String("25%".into());
    let surge =
        kc::deployment::scaled(&ru.and_then(|r| r.max_surge.clone()).unwrap_or_else(pct), replicas, true).max(0);
    let mut unavailable =
        kc::deployment::scaled(&ru.and_then(|r| r.max_unavailable.clone()).unwrap_or_else(pct), replicas, false).max(0);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

impl Engine<'_> {
    pub(crate) fn register_cluster_controllers(&mut self) {
        let c = &self.scenario.cluster;
        for d in &c.deployments {
            self.ctrl.add_deployment((*d.object).clone());
        }
        for r in &c.replica_sets {
            self.ctrl.add_rs(RsObject::Rs((*r.object).clone()));
        }
        for r in &c.replication_controllers {
            self.ctrl.add_rs(RsObject::Rc((*r.object).clone()));
        }
        for s in &c.stateful_sets {
            self.ctrl.add_ss((*s.object).clone());
        }
        for j in &c.jobs {
            self.ctrl.add_job((*j.object).clone());
        }
        for d in &c.daemon_sets {
            self.ctrl.add_ds((*d.object).clone());
        }
    }

    /// The controller of an input pod: its controller reference, or adoption by selector.
    pub(crate) fn find_owner(&self, pod: &K8sPod) -> Option<OwnerId> {
        let (ns, _) = ns_name(&pod.metadata);
        if let Some(r) = kubesched_k8s::convert::controller_ref(&pod.metadata) {
            let by_uid = self.ctrl.by_uid.get(&r.uid).copied();
            let by_name = || {
                let kind = Kind::parse(&r.kind)?;
                let i = self.ctrl.find(kind, &ns, &r.name)?;
                Some(match kind {
                    Kind::ReplicaSet | Kind::ReplicationController => Ctrl::Rs(i),
                    Kind::StatefulSet => Ctrl::Ss(i),
                    Kind::Job => Ctrl::Job(i),
                    Kind::DaemonSet => Ctrl::Ds(i),
                    _ => return None,
                })
            };
            return match by_uid.or_else(by_name)? {
                Ctrl::Rs(i) => Some(OwnerId::Rs(i)),
                Ctrl::Ss(i) => Some(OwnerId::Ss(i)),
                Ctrl::Job(i) => Some(OwnerId::Job(i)),
                Ctrl::Ds(i) => Some(OwnerId::Ds(i)),
                Ctrl::Deploy(_) => None,
            };
        }
        let labels = kubesched_k8s::convert::labels(&pod.metadata.labels.clone().unwrap_or_default());
        let same_ns = |m: &ObjectMeta| ns_name(m).0 == ns;
        let adopts = |s: &Option<LabelSelector>| s.as_ref().is_some_and(|s| s.matches(&labels));
        if let Some(i) = self.ctrl.rss.iter().position(|r| !r.deleted && same_ns(r.obj.meta()) && adopts(&r.selector)) {
            return Some(OwnerId::Rs(i as u32));
        }
        if let Some(i) =
            self.ctrl.sss.iter().position(|r| !r.deleted && same_ns(&r.obj.metadata) && adopts(&r.selector))
        {
            return Some(OwnerId::Ss(i as u32));
        }
        if let Some(i) =
            self.ctrl.jobs.iter().position(|r| !r.deleted && same_ns(&r.obj.metadata) && adopts(&r.selector))
        {
            return Some(OwnerId::Job(i as u32));
        }
        if let Some(i) =
            self.ctrl.dss.iter().position(|r| !r.deleted && same_ns(&r.obj.metadata) && adopts(&r.selector))
        {
            return Some(OwnerId::Ds(i as u32));
        }
        None
    }

    /// A pod changed (created, running, finished, deleted): its controller reconciles.
    pub(crate) fn owner_changed(&mut self, pod: PodIdx) {
        let owner = self.pods[pod as usize].owner;
        self.ctrl.touch(owner);
    }

    /// Reconciles every controller marked dirty. True when any pod was created or deleted.
    pub(crate) fn reconcile_controllers(&mut self) -> bool {
        let mut any = false;
        for _ in 0..100_000 {
            let Some(c) = self.ctrl.dirty.pop_first() else { break };
            let changed = match c {
                Ctrl::Deploy(i) => self.reconcile_deployment(i),
                Ctrl::Rs(i) => self.reconcile_rs(i),
                Ctrl::Ss(i) => self.reconcile_ss(i),
                Ctrl::Job(i) => self.reconcile_job(i),
                Ctrl::Ds(i) => self.reconcile_ds(i),
            };
            any |= changed;
        }
        any
    }

    fn log_object(&mut self, event: &str, object: String, message: Option<String>) {
        let mut e = self.entry(event);
        e.object = Some(object);
        e.message = message;
        self.log.push(e);
    }

    fn create_owned(&mut self, pods: Vec<K8sPod>, owner: OwnerId, object: &str) -> bool {
        let mut any = false;
        for p in pods {
            let key = format!(
                "{}/{}",
                p.metadata.namespace.as_deref().unwrap_or("default"),
                p.metadata.name.as_deref().unwrap_or_default()
            );
            let mut e = self.entry("PodCreated");
            e.pod = Some(key);
            e.object = Some(object.to_string());
            self.log.push(e);
            any |= self.create_pod(p, Some(owner)).is_some();
        }
        any
    }

    fn live(&self, set: &BTreeSet<PodIdx>) -> Vec<PodIdx> {
        set.iter().copied().filter(|&p| self.pods[p as usize].is_live()).collect()
    }

    fn running(&self, set: &BTreeSet<PodIdx>) -> i32 {
        set.iter()
            .filter(|&&p| self.pods[p as usize].is_live() && self.pods[p as usize].phase == Phase::Running)
            .count() as i32
    }

    fn reconcile_rs(&mut self, i: u32) -> bool {
        let rec = &self.ctrl.rss[i as usize];
        if rec.deleted {
            return false;
        }
        let want = rec.obj.replicas().max(0) as usize;
        let active = self.live(&rec.pods);
        let (ns, name) = ns_name(rec.obj.meta());
        let object = format!("{} {ns}/{name}", rec.obj.kind().as_str());
        if active.len() < want {
            let objs: Vec<&K8sPod> = active.iter().map(|&p| &*self.pods[p as usize].object).collect();
            let new = match &self.ctrl.rss[i as usize].obj {
                RsObject::Rs(rs) => kc::replicaset_pods_to_create(rs, &objs, &mut self.names),
                RsObject::Rc(rc) => kc::replication_controller_pods_to_create(rc, &objs, &mut self.names),
            };
            return self.create_owned(new, OwnerId::Rs(i), &object);
        }
        if active.len() > want {
            // `getPodsToDelete`: unassigned before assigned, not running before running, then
            // the most recently created.
            let mut ranked = active.clone();
            ranked.sort_by_key(|&p| {
                let r = &self.pods[p as usize];
                (r.node.is_some(), r.phase == Phase::Running, std::cmp::Reverse(r.created_at), std::cmp::Reverse(p))
            });
            for &p in ranked.iter().take(active.len() - want) {
                self.delete_pod(p, "PodDeleted", "ScaledDown", Some(format!("{object} scaled down")));
            }
            return true;
        }
        false
    }

    fn set_rs_replicas(&mut self, i: u32, n: i32) {
        let rec = &mut self.ctrl.rss[i as usize];
        let old = rec.obj.replicas();
        if old == n {
            return;
        }
        rec.obj.set_replicas(n);
        let (ns, name) = ns_name(rec.obj.meta());
        let verb = if n > old { "up" } else { "down" };
        self.log_object(
            "ScalingReplicaSet",
            format!("ReplicaSet {ns}/{name}"),
            Some(format!("Scaled {verb} replica set {name} from {old} to {n}")),
        );
        self.ctrl.dirty.insert(Ctrl::Rs(i));
    }

    fn reconcile_deployment(&mut self, di: u32) -> bool {
        let rec = &self.ctrl.deployments[di as usize];
        if rec.deleted {
            return false;
        }
        let d = rec.obj.clone();
        let owned: Vec<u32> = rec.rss.iter().copied().filter(|&r| !self.ctrl.rss[r as usize].deleted).collect();
        let cached = rec.current.filter(|&r| !rec.template_changed && owned.contains(&r));
        let (ns, dname) = ns_name(&d.metadata);
        let new_rs = match cached {
            Some(r) => r,
            None => {
                // Templates are compared only when the Deployment changed (JSON of both sides).
                let owned_objs: Vec<ReplicaSet> = owned
                    .iter()
                    .filter_map(|&r| match &self.ctrl.rss[r as usize].obj {
                        RsObject::Rs(rs) => Some(rs.clone()),
                        RsObject::Rc(_) => None,
                    })
                    .collect();
                let refs: Vec<&ReplicaSet> = owned_objs.iter().collect();
                let current = kc::find_current_replica_set(&d, &refs).and_then(|rs| {
                    let (_, n) = ns_name(&rs.metadata);
                    self.ctrl.find(Kind::ReplicaSet, &ns, &n)
                });
                let r = match current {
                    Some(r) => r,
                    None => {
                        let taken = |n: &str| self.ctrl.find(Kind::ReplicaSet, &ns, n).is_some();
                        let Some(mut rs) = kc::deployment_replica_set_to_create(&d, &refs, &taken) else {
                            return false;
                        };
                        // Created at 0 replicas when old ones exist; the rolling update below scales it.
                        if !owned.is_empty() {
                            rs.spec.get_or_insert_with(Default::default).replicas = Some(0);
                        }
                        let (_, rname) = ns_name(&rs.metadata);
                        let replicas = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
                        self.log_object(
                            "ReplicaSetCreated",
                            format!("Deployment {ns}/{dname}"),
                            Some(format!("created ReplicaSet {rname} with {replicas} replica(s)")),
                        );
                        self.selectors_dirty = true;
                        self.ctrl.add_rs(RsObject::Rs(rs))
                    }
                };
                let rec = &mut self.ctrl.deployments[di as usize];
                rec.current = Some(r);
                rec.template_changed = false;
                r
            }
        };
        let owned: Vec<u32> = self.ctrl.deployments[di as usize]
            .rss
            .iter()
            .copied()
            .filter(|&r| !self.ctrl.rss[r as usize].deleted)
            .collect();
        let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0);
        let olds: Vec<u32> = owned.iter().copied().filter(|&r| r != new_rs).collect();
        let reps = |e: &Self, r: u32| e.ctrl.rss[r as usize].obj.replicas();
        let avail = |e: &Self, r: u32| e.running(&e.ctrl.rss[r as usize].pods);
        let recreate =
            d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.type_.as_deref()) == Some("Recreate");
        if recreate {
            for &o in &olds {
                self.set_rs_replicas(o, 0);
            }
            let old_pods: usize = olds.iter().map(|&o| self.live(&self.ctrl.rss[o as usize].pods).len()).sum();
            if old_pods == 0 {
                self.set_rs_replicas(new_rs, replicas);
            }
            return false;
        }
        // reconcileNewReplicaSet + NewRSNewReplicas.
        let (surge, max_unavailable) = fenceposts(&d, replicas);
        let new_reps = reps(self, new_rs);
        if new_reps > replicas {
            self.set_rs_replicas(new_rs, replicas);
        } else if new_reps < replicas {
            let current: i32 = std::iter::once(new_rs).chain(olds.iter().copied()).map(|r| reps(self, r)).sum();
            let max_total = replicas + surge;
            if current < max_total {
                let up = (max_total - current).min(replicas - new_reps);
                self.set_rs_replicas(new_rs, new_reps + up);
            }
        }
        // reconcileOldReplicaSets.
        let old_count: i32 = olds.iter().map(|&r| reps(self, r)).sum();
        if old_count == 0 {
            return false;
        }
        let all_count: i32 = old_count + reps(self, new_rs);
        let min_available = replicas - max_unavailable;
        let new_unavailable = reps(self, new_rs) - avail(self, new_rs);
        let max_scaled_down = all_count - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        // cleanupUnhealthyReplicas, oldest first.
        let mut cleaned = 0;
        for &o in &olds {
            if cleaned >= max_scaled_down {
                break;
            }
            let (r, a) = (reps(self, o), avail(self, o));
            if r == 0 || r == a {
                continue;
            }
            let down = (max_scaled_down - cleaned).min(r - a);
            self.set_rs_replicas(o, r - down);
            cleaned += down;
        }
        // scaleDownOldReplicaSetsForRollingUpdate.
        let available: i32 = std::iter::once(new_rs).chain(olds.iter().copied()).map(|r| avail(self, r)).sum();
        if available > min_available {
            let total = available - min_available;
            let mut done = 0;
            for &o in &olds {
                if done >= total {
                    break;
                }
                let r = reps(self, o);
                if r == 0 {
                    continue;
                }
                let down = r.min(total - done);
                self.set_rs_replicas(o, r - down);
                done += down;
            }
        }
        false
    }

    fn reconcile_ss(&mut self, i: u32) -> bool {
        let rec = &self.ctrl.sss[i as usize];
        if rec.deleted {
            return false;
        }
        let ss = rec.obj.clone();
        let (ns, name) = ns_name(&ss.metadata);
        let object = format!("StatefulSet {ns}/{name}");
        let spec = ss.spec.clone().unwrap_or_default();
        let start = i64::from(spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0).max(0));
        let replicas = i64::from(spec.replicas.unwrap_or(1).max(0));
        let parallel = spec.pod_management_policy.as_deref() == Some("Parallel");
        let live = self.live(&rec.pods);
        let ordinal = |e: &Self, p: PodIdx| kc::statefulset::ordinal(&name, e.pods[p as usize].model.name.as_str());
        // Scale down: the ordinals out of range go.
        let extra: Vec<PodIdx> = live
            .iter()
            .copied()
            .filter(|&p| ordinal(self, p).is_none_or(|o| o < start || o >= start + replicas))
            .collect();
        if !extra.is_empty() {
            let mut extra = extra;
            extra.sort_by_key(|&p| std::cmp::Reverse(ordinal(self, p)));
            for p in extra {
                self.delete_pod(p, "PodDeleted", "ScaledDown", Some(format!("{object} scaled down")));
            }
            return true;
        }
        let objs: Vec<&K8sPod> = live.iter().map(|&p| &*self.pods[p as usize].object).collect();
        let mut missing = kc::statefulset_pods_to_create(&ss, &objs);
        if missing.is_empty() {
            return false;
        }
        if !parallel {
            // OrderedReady: one at a time, and only once every existing pod runs.
            if live.iter().any(|&p| self.pods[p as usize].phase != Phase::Running) {
                return false;
            }
            missing.truncate(1);
            let first = missing
                .first()
                .and_then(|p| kc::statefulset::ordinal(&name, p.metadata.name.as_deref().unwrap_or_default()));
            let lower_missing =
                first.is_some_and(|f| (start..f).any(|o| !live.iter().any(|&p| ordinal(self, p) == Some(o))));
            if lower_missing {
                return false;
            }
        }
        self.create_owned(missing, OwnerId::Ss(i), &object)
    }

    fn reconcile_job(&mut self, i: u32) -> bool {
        let rec = &self.ctrl.jobs[i as usize];
        if rec.deleted || rec.finished {
            return false;
        }
        let job = rec.obj.clone();
        let (ns, name) = ns_name(&job.metadata);
        let object = format!("Job {ns}/{name}");
        let spec = job.spec.clone().unwrap_or_default();
        let live = self.live(&rec.pods);
        let backoff_limit = spec.backoff_limit.unwrap_or(6);
        let (succeeded, failed) = (rec.succeeded, rec.failed);
        if failed > backoff_limit {
            self.ctrl.jobs[i as usize].finished = true;
            for p in live {
                self.delete_pod(p, "PodDeleted", "JobFailed", None);
            }
            self.log_object(
                "JobFailed",
                object,
                Some(format!("BackoffLimitExceeded: {failed} pod(s) failed, backoffLimit {backoff_limit}")),
            );
            self.job_finished(i, &job);
            return true;
        }
        let complete = match spec.completions {
            Some(c) => succeeded >= c,
            None => succeeded > 0 && live.is_empty(),
        };
        if complete {
            self.ctrl.jobs[i as usize].finished = true;
            self.log_object("JobCompleted", object, Some(format!("{succeeded} pod(s) succeeded")));
            self.job_finished(i, &job);
            return false;
        }
        let mut with_status = job;
        with_status.status.get_or_insert_with(Default::default).succeeded = Some(succeeded);
        let owned: Vec<&K8sPod> = self.ctrl.jobs[i as usize]
            .pods
            .iter()
            .filter(|&&p| !self.pods[p as usize].deleted)
            .map(|&p| &*self.pods[p as usize].object)
            .collect();
        let new = kc::job_pods_to_create(&with_status, &owned, &mut self.names);
        self.create_owned(new, OwnerId::Job(i), &object)
    }

    fn job_finished(&mut self, i: u32, job: &Job) {
        if let Some(ttl) = job.spec.as_ref().and_then(|s| s.ttl_seconds_after_finished) {
            let at = self.now + ttl.max(0) as u64 * SECOND;
            self.push(at, Ev::JobTtl { job: i });
        }
    }

    pub(crate) fn job_ttl(&mut self, i: u32) {
        if self.ctrl.jobs[i as usize].deleted {
            return;
        }
        let (ns, name) = ns_name(&self.ctrl.jobs[i as usize].obj.metadata);
        self.log_object("JobDeleted", format!("Job {ns}/{name}"), Some("ttlSecondsAfterFinished expired".into()));
        self.delete_job(i, "TTLAfterFinished");
    }

    fn delete_job(&mut self, i: u32, reason: &str) {
        self.ctrl.jobs[i as usize].deleted = true;
        let pods: Vec<PodIdx> = self.ctrl.jobs[i as usize].pods.iter().copied().collect();
        for p in pods {
            self.delete_pod(p, "PodDeleted", reason, None);
        }
    }

    fn reconcile_ds(&mut self, i: u32) -> bool {
        let rec = &self.ctrl.dss[i as usize];
        if rec.deleted {
            return false;
        }
        let (ns, name) = ns_name(&rec.obj.metadata);
        let object = format!("DaemonSet {ns}/{name}");
        let live = self.live(&rec.pods);
        let objs: Vec<&K8sPod> = live.iter().map(|&p| &*self.pods[p as usize].object).collect();
        let nodes: Vec<&kubesched_core::model::Node> =
            self.snapshot.nodes_in_insertion_order().map(|n| &*n.node).collect();
        let new = kc::daemonset_pods_to_create(&self.ctrl.dss[i as usize].obj, &nodes, &objs, &mut self.names);
        self.create_owned(new, OwnerId::Ds(i), &object)
    }

    /// `kubectl apply` of a workload: created, or its spec replaced (a Deployment whose template
    /// changed rolls out).
    pub(crate) fn apply_controller(&mut self, object: Object) {
        let (kind, meta) = (crate::scenario::Kind::of(&object), object.meta().clone());
        let (ns, name) = ns_name(&meta);
        let existing = self.ctrl.find(kind, &ns, &name);
        let label = format!("{} {ns}/{name}", kind.as_str());
        let verb = if existing.is_some() { "configured" } else { "created" };
        self.log_object("Applied", label, Some(verb.into()));
        match (object, existing) {
            (Object::Deployment(d), Some(i)) if !self.ctrl.deployments[i as usize].deleted => {
                let rec = &mut self.ctrl.deployments[i as usize];
                let uid = rec.obj.metadata.uid.clone();
                rec.obj = *d;
                rec.obj.metadata.uid = uid;
                rec.template_changed = true;
                self.ctrl.dirty.insert(Ctrl::Deploy(i));
            }
            (Object::Deployment(d), _) => {
                self.ctrl.add_deployment(*d);
            }
            (Object::ReplicaSet(r), Some(i)) if !self.ctrl.rss[i as usize].deleted => {
                if let RsObject::Rs(old) = &mut self.ctrl.rss[i as usize].obj {
                    old.spec = r.spec;
                }
                self.ctrl.dirty.insert(Ctrl::Rs(i));
            }
            (Object::ReplicaSet(r), _) => {
                self.ctrl.add_rs(RsObject::Rs(*r));
            }
            (Object::ReplicationController(r), Some(i)) if !self.ctrl.rss[i as usize].deleted => {
                if let RsObject::Rc(old) = &mut self.ctrl.rss[i as usize].obj {
                    old.spec = r.spec;
                }
                self.ctrl.dirty.insert(Ctrl::Rs(i));
            }
            (Object::ReplicationController(r), _) => {
                self.ctrl.add_rs(RsObject::Rc(*r));
            }
            (Object::StatefulSet(s), Some(i)) if !self.ctrl.sss[i as usize].deleted => {
                self.ctrl.sss[i as usize].obj.spec = s.spec;
                self.ctrl.dirty.insert(Ctrl::Ss(i));
            }
            (Object::StatefulSet(s), _) => {
                self.ctrl.add_ss(*s);
            }
            (Object::Job(j), Some(i)) if !self.ctrl.jobs[i as usize].deleted => {
                // Most of a Job's spec is immutable; parallelism and suspend may change.
                let rec = &mut self.ctrl.jobs[i as usize];
                if let (Some(old), Some(new)) = (rec.obj.spec.as_mut(), j.spec.as_ref()) {
                    old.parallelism = new.parallelism.or(old.parallelism);
                    old.suspend = new.suspend;
                }
                self.ctrl.dirty.insert(Ctrl::Job(i));
            }
            (Object::Job(j), _) => {
                self.ctrl.add_job(*j);
            }
            (Object::DaemonSet(d), Some(i)) if !self.ctrl.dss[i as usize].deleted => {
                self.ctrl.dss[i as usize].obj.spec = d.spec;
                self.ctrl.dirty.insert(Ctrl::Ds(i));
            }
            (Object::DaemonSet(d), _) => {
                self.ctrl.add_ds(*d);
            }
            _ => {}
        }
    }

    /// Deletes a workload and, as the garbage collector would, what it owns.
    pub(crate) fn delete_controller(&mut self, r: &ObjRef) -> bool {
        let Some(i) = self.ctrl.find(r.kind, &r.namespace, &r.name) else { return false };
        let pods: Vec<PodIdx> = match r.kind {
            Kind::Deployment => {
                if self.ctrl.deployments[i as usize].deleted {
                    return false;
                }
                self.ctrl.deployments[i as usize].deleted = true;
                let rss = self.ctrl.deployments[i as usize].rss.clone();
                let mut pods = Vec::new();
                for rs in rss {
                    self.ctrl.rss[rs as usize].deleted = true;
                    pods.extend(self.ctrl.rss[rs as usize].pods.iter().copied());
                }
                pods
            }
            Kind::ReplicaSet | Kind::ReplicationController => {
                if self.ctrl.rss[i as usize].deleted {
                    return false;
                }
                self.ctrl.rss[i as usize].deleted = true;
                self.ctrl.rss[i as usize].pods.iter().copied().collect()
            }
            Kind::StatefulSet => {
                if self.ctrl.sss[i as usize].deleted {
                    return false;
                }
                self.ctrl.sss[i as usize].deleted = true;
                self.ctrl.sss[i as usize].pods.iter().copied().collect()
            }
            Kind::Job => {
                if self.ctrl.jobs[i as usize].deleted {
                    return false;
                }
                self.log_object("Deleted", r.to_string(), None);
                self.delete_job(i, "ControllerDeleted");
                return true;
            }
            Kind::DaemonSet => {
                if self.ctrl.dss[i as usize].deleted {
                    return false;
                }
                self.ctrl.dss[i as usize].deleted = true;
                self.ctrl.dss[i as usize].pods.iter().copied().collect()
            }
            _ => return false,
        };
        self.log_object("Deleted", r.to_string(), None);
        for p in pods {
            self.delete_pod(p, "PodDeleted", "ControllerDeleted", None);
        }
        true
    }

    /// `kubectl scale`.
    pub(crate) fn scale(&mut self, r: &ObjRef, replicas: i32) -> bool {
        let Some(i) = self.ctrl.find(r.kind, &r.namespace, &r.name) else { return false };
        let old = match r.kind {
            Kind::Deployment if !self.ctrl.deployments[i as usize].deleted => {
                let spec = self.ctrl.deployments[i as usize].obj.spec.get_or_insert_with(Default::default);
                let old = spec.replicas.unwrap_or(1);
                spec.replicas = Some(replicas);
                self.ctrl.dirty.insert(Ctrl::Deploy(i));
                old
            }
            Kind::ReplicaSet | Kind::ReplicationController if !self.ctrl.rss[i as usize].deleted => {
                let old = self.ctrl.rss[i as usize].obj.replicas();
                self.ctrl.rss[i as usize].obj.set_replicas(replicas);
                self.ctrl.dirty.insert(Ctrl::Rs(i));
                old
            }
            Kind::StatefulSet if !self.ctrl.sss[i as usize].deleted => {
                let spec = self.ctrl.sss[i as usize].obj.spec.get_or_insert_with(Default::default);
                let old = spec.replicas.unwrap_or(1);
                spec.replicas = Some(replicas);
                self.ctrl.dirty.insert(Ctrl::Ss(i));
                old
            }
            _ => return false,
        };
        self.log_object("Scaled", r.to_string(), Some(format!("replicas {old} → {replicas}")));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(yaml: &str) -> Deployment {
        let (docs, errs) = kubesched_k8s::yaml::parse(yaml);
        assert!(errs.is_empty(), "{errs:?}");
        kubesched_k8s::de::from_node(docs[0].root.as_ref().expect("root")).expect("decodes")
    }

    #[test]
    fn fenceposts_follow_kube_rounding() {
        let d = deployment(
            "metadata: {name: d}\nspec: {replicas: 10, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c}]}}}\n",
        );
        // 25% of 10: surge rounds up to 3, unavailable rounds down to 2.
        assert_eq!(fenceposts(&d, 10), (3, 2));
        let zero = deployment(
            "metadata: {name: d}\nspec:\n  replicas: 3\n  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c}]}}\n",
        );
        assert_eq!(fenceposts(&zero, 3), (0, 1));
        let pct = deployment(
            "metadata: {name: d}\nspec:\n  replicas: 4\n  strategy: {rollingUpdate: {maxSurge: '50%', maxUnavailable: 1}}\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c}]}}\n",
        );
        assert_eq!(fenceposts(&pct, 4), (2, 1));
    }
}
