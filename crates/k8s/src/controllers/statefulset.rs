//! StatefulSet: pods `<name>-<ordinal>` for ordinals `start .. start + replicas`.

use super::{controller_owner_ref, pod_from_template, pod_template_hash};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use std::collections::{BTreeMap, BTreeSet};

pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
pub const CONTROLLER_REVISION_HASH: &str = "controller-revision-hash";

/// The ordinal of a pod named `<set>-<n>`.
pub fn ordinal(set_name: &str, pod_name: &str) -> Option<i64> {
    let rest = pod_name.strip_prefix(set_name)?.strip_prefix('-')?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// The pods the StatefulSet controller creates: every ordinal of
/// `spec.ordinals.start .. start + replicas` (replicas default 1) without a pod among
/// `existing_owned_pods`. Pods carry `statefulset.kubernetes.io/pod-name`,
/// `apps.kubernetes.io/pod-index` and `controller-revision-hash` labels, and the hostname and
/// subdomain of the governing service. Both pod management policies are created at once (a
/// snapshot has no readiness to wait for under OrderedReady).
pub fn statefulset_pods_to_create(ss: &StatefulSet, existing_owned_pods: &[&Pod]) -> Vec<Pod> {
    let Some(spec) = ss.spec.as_ref() else { return Vec::new() };
    if ss.metadata.deletion_timestamp.is_some() {
        return Vec::new();
    }
    let name = ss.metadata.name.as_deref().unwrap_or_default();
    let namespace = ss.metadata.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default");
    let start = i64::from(spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0).max(0));
    let replicas = i64::from(spec.replicas.unwrap_or(1).max(0));
    let existing: BTreeSet<i64> = existing_owned_pods
        .iter()
        .filter_map(|p| ordinal(name, p.metadata.name.as_deref().unwrap_or_default()))
        .collect();
    let revision =
        format!("{name}-{}", pod_template_hash(&spec.template, ss.status.as_ref().and_then(|s| s.collision_count)));
    (start..start + replicas)
        .filter(|i| !existing.contains(i))
        .map(|i| {
            let pod_name = format!("{name}-{i}");
            let mut pod = pod_from_template(
                &spec.template,
                namespace,
                controller_owner_ref("apps/v1", "StatefulSet", &ss.metadata),
            );
            pod.metadata.name = Some(pod_name.clone());
            let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
            labels.insert(POD_NAME_LABEL.into(), pod_name.clone());
            labels.insert(POD_INDEX_LABEL.into(), i.to_string());
            labels.insert(CONTROLLER_REVISION_HASH.into(), revision.clone());
            if let Some(pspec) = pod.spec.as_mut() {
                pspec.hostname = Some(pod_name);
                if !spec.service_name.as_deref().unwrap_or_default().is_empty() {
                    pspec.subdomain = spec.service_name.clone();
                }
            }
            pod
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::decode;

    #[test]
    fn ordinal_names_labels_and_reconciliation() {
        let ss: StatefulSet = decode(
            r#"
metadata: {name: db, namespace: data, uid: ss-uid}
spec:
  replicas: 3
  serviceName: db-headless
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c}]}
"#,
        );
        let existing: Pod = decode("metadata: {name: db-1, namespace: data}\nspec: {containers: [{name: c}]}\n");
        let pods = statefulset_pods_to_create(&ss, &[&existing]);
        let names: Vec<&str> = pods.iter().filter_map(|p| p.metadata.name.as_deref()).collect();
        assert_eq!(names, ["db-0", "db-2"]);
        let labels = pods[1].metadata.labels.as_ref().expect("labels");
        assert_eq!(labels.get(POD_NAME_LABEL).map(String::as_str), Some("db-2"));
        assert_eq!(labels.get(POD_INDEX_LABEL).map(String::as_str), Some("2"));
        assert!(labels.get(CONTROLLER_REVISION_HASH).is_some_and(|h| h.starts_with("db-")));
        assert_eq!(labels.get("app").map(String::as_str), Some("db"));
        let spec = pods[1].spec.as_ref().expect("spec");
        assert_eq!((spec.hostname.as_deref(), spec.subdomain.as_deref()), (Some("db-2"), Some("db-headless")));
        assert_eq!(pods[0].metadata.owner_references.as_ref().map(|r| r[0].uid.as_str()), Some("ss-uid"));
    }

    #[test]
    fn ordinals_start_and_parse() {
        let ss: StatefulSet = decode(
            "metadata: {name: s}\nspec:\n  replicas: 2\n  ordinals: {start: 5}\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c}]}}\n",
        );
        let names: Vec<String> =
            statefulset_pods_to_create(&ss, &[]).into_iter().filter_map(|p| p.metadata.name).collect();
        assert_eq!(names, ["s-5", "s-6"]);
        assert_eq!(ordinal("s", "s-12"), Some(12));
        assert_eq!(ordinal("s", "s-x"), None);
        assert_eq!(ordinal("s", "sx-1"), None);
    }
}
