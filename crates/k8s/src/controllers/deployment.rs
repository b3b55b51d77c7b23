//! Deployment → its current ReplicaSet `<deployment>-<pod-template-hash>`.

use super::{controller_owner_ref, deterministic_uid, pod_template_hash};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// `DefaultDeploymentUniqueLabelKey`.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
pub const DESIRED_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";

/// Annotations the deployment controller does not copy onto its ReplicaSets.
const SKIPPED_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    "deployment.kubernetes.io/revision-history",
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    "deprecated.deployment.rollback.to",
];

/// Drops nulls, empty maps and empty lists, recursively: `Semantic.DeepEqual` treats nil and
/// empty alike.
fn normalize(v: serde_json::Value) -> Option<serde_json::Value> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::Object(m) => {
            let m: serde_json::Map<String, serde_json::Value> =
                m.into_iter().filter_map(|(k, v)| normalize(v).map(|v| (k, v))).collect();
            (!m.is_empty()).then_some(serde_json::Value::Object(m))
        }
        serde_json::Value::Array(a) => {
            let a: Vec<serde_json::Value> = a.into_iter().map(|v| normalize(v).unwrap_or_default()).collect();
            (!a.is_empty()).then_some(serde_json::Value::Array(a))
        }
        other => Some(other),
    }
}

fn without_hash(t: &PodTemplateSpec) -> Option<serde_json::Value> {
    let mut t = t.clone();
    if let Some(labels) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(POD_TEMPLATE_HASH);
    }
    serde_json::to_value(&t).ok().and_then(normalize)
}

/// `EqualIgnoreHash`: templates equal once the `pod-template-hash` label is ignored.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    without_hash(a) == without_hash(b)
}

fn revision(meta: &ObjectMeta) -> Option<i64> {
    meta.annotations.as_ref()?.get(REVISION_ANNOTATION)?.parse().ok()
}

/// `FindNewReplicaSet`: among the ReplicaSets the deployment owns, oldest first, the first
/// whose template equals the deployment's ignoring the hash label. As a fallback for dumps
/// whose templates differ only by API defaulting, the ReplicaSet carrying the deployment's own
/// revision annotation.
pub fn find_current_replica_set<'a>(d: &Deployment, owned: &[&'a ReplicaSet]) -> Option<&'a ReplicaSet> {
    let template = &d.spec.as_ref()?.template;
    let mut sorted: Vec<&'a ReplicaSet> = owned.to_vec();
    sorted.sort_by(|a, b| {
        (&a.metadata.creation_timestamp, &a.metadata.name).cmp(&(&b.metadata.creation_timestamp, &b.metadata.name))
    });
    if let Some(rs) = sorted
        .iter()
        .find(|rs| rs.spec.as_ref().and_then(|s| s.template.as_ref()).is_some_and(|t| equal_ignore_hash(t, template)))
    {
        return Some(rs);
    }
    let rev = revision(&d.metadata)?;
    sorted.into_iter().find(|rs| revision(&rs.metadata) == Some(rev))
}

/// `GetScaledValueFromIntOrPercent`: an int as is, `N%` of `total` rounded up or down.
pub fn scaled(v: &IntOrString, total: i32, round_up: bool) -> i32 {
    match v {
        IntOrString::Int(i) => *i,
        IntOrString::String(s) => {
            let p: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            let num = p * i64::from(total);
            let v = if round_up { (num + 99).div_euclid(100) } else { num.div_euclid(100) };
            i32::try_from(v).unwrap_or(i32::MAX)
        }
    }
}

/// `MaxSurge` of a RollingUpdate deployment (default 25%, rounded up); 0 for Recreate.
fn max_surge(d: &Deployment, replicas: i32) -> i32 {
    let strategy = d.spec.as_ref().and_then(|s| s.strategy.as_ref());
    if strategy.and_then(|s| s.type_.as_deref()) == Some("Recreate") {
        return 0;
    }
    let surge = strategy
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|r| r.max_surge.clone())
        .unwrap_or_else(|| IntOrString::String("25%".into()));
    scaled(&surge, replicas, true).max(0)
}

/// The ReplicaSet the deployment controller creates when none of the ReplicaSets it owns
/// (`owned`) matches its template; `None` when the current one exists. `name_taken` says
/// whether a ReplicaSet name is already used in the namespace (a hash collision bumps the
/// collision count, as kube does).
///
/// Replicas follow `NewRSNewReplicas`: all of `spec.replicas` when no old ReplicaSet has
/// replicas; for RollingUpdate at most `replicas + maxSurge` pods in total; for Recreate none
/// until the old ones are scaled down.
pub fn deployment_replica_set_to_create(
    d: &Deployment,
    owned: &[&ReplicaSet],
    name_taken: &dyn Fn(&str) -> bool,
) -> Option<ReplicaSet> {
    let spec = d.spec.as_ref()?;
    if find_current_replica_set(d, owned).is_some() || d.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let namespace = d.metadata.namespace.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "default".into());
    let name = d.metadata.name.clone().unwrap_or_default();
    let mut collision = d.status.as_ref().and_then(|s| s.collision_count);
    let mut hash = pod_template_hash(&spec.template, collision);
    for _ in 0..16 {
        if !name_taken(&format!("{name}-{hash}")) {
            break;
        }
        collision = Some(collision.unwrap_or(0) + 1);
        hash = pod_template_hash(&spec.template, collision);
    }
    let mut template = spec.template.clone();
    template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH.into(), hash.clone());
    let mut selector = spec.selector.clone();
    selector.match_labels.get_or_insert_with(BTreeMap::new).insert(POD_TEMPLATE_HASH.into(), hash.clone());

    let replicas = spec.replicas.unwrap_or(1).max(0);
    let surge = max_surge(d, replicas);
    let old_replicas: i32 = owned.iter().map(|rs| rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)).sum();
    let new_replicas = if old_replicas == 0 {
        replicas
    } else if surge == 0 {
        0
    } else {
        (replicas + surge - old_replicas).clamp(0, replicas)
    };
    let next_revision = owned.iter().filter_map(|rs| revision(&rs.metadata)).max().unwrap_or(0) + 1;
    let mut annotations: BTreeMap<String, String> = d
        .metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(k, _)| !SKIPPED_ANNOTATIONS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    annotations.insert(REVISION_ANNOTATION.into(), next_revision.to_string());
    annotations.insert(DESIRED_REPLICAS_ANNOTATION.into(), replicas.to_string());
    annotations.insert(MAX_REPLICAS_ANNOTATION.into(), (replicas + surge).to_string());
    let rs_name = format!("{name}-{hash}");
    Some(ReplicaSet {
        metadata: ObjectMeta {
            uid: Some(deterministic_uid("ReplicaSet", &namespace, &rs_name)),
            name: Some(rs_name),
            namespace: Some(namespace),
            labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
            annotations: Some(annotations),
            owner_references: Some(vec![controller_owner_ref("apps/v1", "Deployment", &d.metadata)]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(new_replicas),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        }),
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::decode;

    const DEPLOY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: d-uid, annotations: {team: a, deployment.kubernetes.io/revision: "2"}}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
"#;

    #[test]
    fn creates_a_hashed_replica_set_when_none_exists() {
        let d: Deployment = decode(DEPLOY);
        let rs = deployment_replica_set_to_create(&d, &[], &|_| false).expect("creates");
        let hash = pod_template_hash(&d.spec.as_ref().expect("spec").template, None);
        assert!(!hash.is_empty() && hash.len() <= 10);
        assert!(hash.bytes().all(|b| b"456789bcdf".contains(&b)), "{hash}");
        assert_eq!(rs.metadata.name.as_deref(), Some(format!("web-{hash}").as_str()));
        let spec = rs.spec.as_ref().expect("spec");
        assert_eq!(spec.replicas, Some(4));
        assert_eq!(spec.selector.match_labels.as_ref().and_then(|m| m.get(POD_TEMPLATE_HASH)), Some(&hash));
        let tl =
            spec.template.as_ref().and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.as_ref()).expect("labels");
        assert_eq!(tl.get(POD_TEMPLATE_HASH), Some(&hash));
        assert_eq!(tl.get("app").map(String::as_str), Some("web"));
        let ann = rs.metadata.annotations.as_ref().expect("annotations");
        assert_eq!(ann.get(REVISION_ANNOTATION).map(String::as_str), Some("1"));
        assert_eq!(ann.get("team").map(String::as_str), Some("a"));
        assert_eq!(ann.get(MAX_REPLICAS_ANNOTATION).map(String::as_str), Some("5"));
        let owner = &rs.metadata.owner_references.as_ref().expect("owner")[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str()), ("Deployment", "d-uid"));
        // Deterministic.
        assert_eq!(deployment_replica_set_to_create(&d, &[], &|_| false), Some(rs.clone()));
        // A taken name bumps the collision count.
        let taken = rs.metadata.name.clone().unwrap_or_default();
        let other = deployment_replica_set_to_create(&d, &[], &|n| n == taken).expect("creates");
        assert_ne!(other.metadata.name, rs.metadata.name);
    }

    #[test]
    fn an_existing_current_replica_set_is_not_created_again() {
        let d: Deployment = decode(DEPLOY);
        let rs = deployment_replica_set_to_create(&d, &[], &|_| false).expect("creates");
        assert_eq!(deployment_replica_set_to_create(&d, &[&rs], &|_| false), None);
        assert_eq!(find_current_replica_set(&d, &[&rs]), Some(&rs));
        // A dump's ReplicaSet whose template differs by defaulting is found by revision.
        let mut dumped = rs.clone();
        if let Some(t) = dumped.spec.as_mut().and_then(|s| s.template.as_mut()).and_then(|t| t.spec.as_mut()) {
            t.dns_policy = Some("ClusterFirst".into());
        }
        dumped.metadata.annotations = Some([(REVISION_ANNOTATION.to_string(), "2".to_string())].into());
        assert_eq!(find_current_replica_set(&d, &[&dumped]), Some(&dumped));
    }

    #[test]
    fn rolling_update_surges_next_to_old_replica_sets() {
        let d: Deployment = decode(DEPLOY);
        let mut old = deployment_replica_set_to_create(&d, &[], &|_| false).expect("creates");
        if let Some(t) = old.spec.as_mut().and_then(|s| s.template.as_mut()).and_then(|t| t.spec.as_mut()) {
            t.containers[0].image = Some("nginx:old".into());
        }
        old.metadata.annotations = Some([(REVISION_ANNOTATION.to_string(), "1".to_string())].into());
        let mut d = d;
        d.metadata.annotations = None;
        let new = deployment_replica_set_to_create(&d, &[&old], &|_| false).expect("creates");
        // 4 old replicas, maxSurge 25% of 4 = 1: one new pod.
        assert_eq!(new.spec.as_ref().and_then(|s| s.replicas), Some(1));
        assert_eq!(
            new.metadata.annotations.as_ref().and_then(|a| a.get(REVISION_ANNOTATION)).map(String::as_str),
            Some("2")
        );
    }
}
