//! ReplicaSet and ReplicationController: `replicas` pods (default 1) named `<owner>-<5 chars>`.

use super::{NameGenerator, controller_owner_ref, is_active, pod_from_template};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

fn pods_to_create(
    api_version: &str,
    kind: &str,
    meta: &ObjectMeta,
    replicas: Option<i32>,
    template: Option<&PodTemplateSpec>,
    existing_owned: &[&Pod],
    names: &mut NameGenerator,
) -> Vec<Pod> {
    let Some(template) = template else { return Vec::new() };
    if meta.deletion_timestamp.is_some() {
        return Vec::new();
    }
    let want = i64::from(replicas.unwrap_or(1).max(0));
    let active = existing_owned.iter().filter(|p| is_active(p)).count() as i64;
    let namespace = meta.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default");
    let name = meta.name.as_deref().unwrap_or_default();
    let base = format!("{name}-");
    (active..want)
        .map(|_| {
            let mut pod = pod_from_template(template, namespace, controller_owner_ref(api_version, kind, meta));
            pod.metadata.generate_name = Some(base.clone());
            pod.metadata.name = Some(names.generate(namespace, &base));
            pod
        })
        .collect()
}

/// The pods a ReplicaSet controller creates: `replicas` (default 1) minus the active pods it
/// already owns (`existing_owned_pods`, see [`super::owned_pods`]). Each pod is named
/// `<rs>-<5 chars>` and carries the ReplicaSet as controller owner.
pub fn replicaset_pods_to_create(rs: &ReplicaSet, existing_owned_pods: &[&Pod], names: &mut NameGenerator) -> Vec<Pod> {
    let spec = rs.spec.as_ref();
    pods_to_create(
        "apps/v1",
        "ReplicaSet",
        &rs.metadata,
        spec.and_then(|s| s.replicas),
        spec.and_then(|s| s.template.as_ref()),
        existing_owned_pods,
        names,
    )
}

/// The same for a ReplicationController.
pub fn replication_controller_pods_to_create(
    rc: &ReplicationController,
    existing_owned_pods: &[&Pod],
    names: &mut NameGenerator,
) -> Vec<Pod> {
    let spec = rc.spec.as_ref();
    pods_to_create(
        "v1",
        "ReplicationController",
        &rc.metadata,
        spec.and_then(|s| s.replicas),
        spec.and_then(|s| s.template.as_ref()),
        existing_owned_pods,
        names,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::{Owner, owned_pods};
    use crate::test_util::decode;

    const RS: &str = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web, namespace: shop, uid: rs-uid}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, annotations: {a: b}}
    spec: {containers: [{name: c, image: nginx}]}
"#;

    #[test]
    fn creates_the_missing_replicas_with_owner_references() {
        let rs: ReplicaSet = decode(RS);
        let existing: Pod = decode(
            "metadata: {name: web-abcde, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web, uid: rs-uid, controller: true}]}\nspec: {containers: [{name: c}]}\n",
        );
        let mut names = NameGenerator::new(0);
        names.reserve("shop", "web-abcde");
        let pods = replicaset_pods_to_create(&rs, &[&existing], &mut names);
        assert_eq!(pods.len(), 2);
        for p in &pods {
            assert_eq!(p.metadata.namespace.as_deref(), Some("shop"));
            assert!(p.metadata.name.as_deref().is_some_and(|n| n.len() == 9 && n.starts_with("web-")));
            assert_eq!(p.metadata.generate_name.as_deref(), Some("web-"));
            let r = &p.metadata.owner_references.as_ref().expect("refs")[0];
            assert_eq!(
                (r.kind.as_str(), r.name.as_str(), r.uid.as_str(), r.controller),
                ("ReplicaSet", "web", "rs-uid", Some(true))
            );
            assert_eq!(p.metadata.labels.as_ref().and_then(|l| l.get("app")).map(String::as_str), Some("web"));
            assert_eq!(p.metadata.annotations.as_ref().and_then(|l| l.get("a")).map(String::as_str), Some("b"));
        }
        assert_ne!(pods[0].metadata.name, pods[1].metadata.name);
    }

    #[test]
    fn full_replica_sets_create_nothing_and_terminal_pods_do_not_count() {
        let rs: ReplicaSet = decode(RS);
        let mk = |name: &str, phase: &str| -> Pod {
            decode(&format!(
                "metadata: {{name: {name}, namespace: shop, labels: {{app: web}}}}\nspec: {{containers: [{{name: c}}]}}\nstatus: {{phase: {phase}}}\n"
            ))
        };
        let pods = [mk("a", "Running"), mk("b", "Running"), mk("c", "Pending"), mk("d", "Failed")];
        // Orphans matching the selector are adopted.
        let owner = Owner::new(
            "ReplicaSet",
            &rs.metadata,
            crate::convert::label_selector(&rs.spec.as_ref().expect("spec").selector, &crate::tree::FieldPath::root())
                .ok(),
        );
        let owned = owned_pods(&owner, pods.iter());
        assert_eq!(owned.len(), 4);
        assert!(replicaset_pods_to_create(&rs, &owned, &mut NameGenerator::new(0)).is_empty());
        let fewer = &owned[1..];
        assert_eq!(replicaset_pods_to_create(&rs, fewer, &mut NameGenerator::new(0)).len(), 1);
    }

    #[test]
    fn replicas_default_to_one_and_rcs_work_alike() {
        let rc: ReplicationController = decode(
            "metadata: {name: legacy}\nspec:\n  selector: {app: l}\n  template:\n    metadata: {labels: {app: l}}\n    spec: {containers: [{name: c}]}\n",
        );
        let pods = replication_controller_pods_to_create(&rc, &[], &mut NameGenerator::new(1));
        assert_eq!(pods.len(), 1);
        assert_eq!(pods[0].metadata.namespace.as_deref(), Some("default"));
        assert_eq!(
            pods[0].metadata.owner_references.as_ref().map(|r| r[0].kind.as_str()),
            Some("ReplicationController")
        );
    }
}
