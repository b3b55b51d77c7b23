//! Job: `min(parallelism, completions - succeeded)` active pods named `<job>-<5 chars>`.

use super::{NameGenerator, controller_owner_ref, is_active, pod_from_template};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::{BTreeMap, BTreeSet};

pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
pub const LEGACY_JOB_NAME_LABEL: &str = "job-name";
pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
pub const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";

/// The Job API defaulting the controller relies on: `parallelism` and `completions` (both 1
/// when neither is set, `parallelism` 1 otherwise), and, unless `manualSelector`, the
/// generated selector and the `job-name` / `controller-uid` labels on the template. The job's
/// uid must be set.
pub fn default_job(job: &mut Job) {
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let name = job.metadata.name.clone().unwrap_or_default();
    let Some(spec) = job.spec.as_mut() else { return };
    if spec.completions.is_none() && spec.parallelism.is_none() {
        spec.completions = Some(1);
    }
    if spec.parallelism.is_none() {
        spec.parallelism = Some(1);
    }
    if spec.manual_selector == Some(true) {
        return;
    }
    let labels = spec.template.metadata.get_or_insert_with(Default::default).labels.get_or_insert_with(BTreeMap::new);
    for (k, v) in [
        (CONTROLLER_UID_LABEL, &uid),
        (JOB_NAME_LABEL, &name),
        (LEGACY_CONTROLLER_UID_LABEL, &uid),
        (LEGACY_JOB_NAME_LABEL, &name),
    ] {
        labels.entry(k.to_string()).or_insert_with(|| v.clone());
    }
    if spec.selector.is_none() {
        spec.selector = Some(LabelSelector {
            match_labels: Some([(CONTROLLER_UID_LABEL.to_string(), uid)].into()),
            match_expressions: None,
        });
    }
}

fn finished(job: &Job) -> bool {
    job.status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
}

fn phase(p: &Pod) -> &str {
    p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default()
}

fn completion_index(p: &Pod) -> Option<i32> {
    p.metadata.annotations.as_ref()?.get(COMPLETION_INDEX)?.parse().ok()
}

/// The pods the Job controller starts: with `completions`, `min(parallelism, completions -
/// succeeded) - active`; without (a work queue), `parallelism - active` until one pod has
/// succeeded. None for suspended or finished jobs. Indexed jobs get the lowest free indexes,
/// named `<job>-<index>-<5 chars>` with the completion-index annotation and label. Call
/// [`default_job`] first.
pub fn job_pods_to_create(job: &Job, existing_owned_pods: &[&Pod], names: &mut NameGenerator) -> Vec<Pod> {
    let Some(spec) = job.spec.as_ref() else { return Vec::new() };
    if spec.suspend == Some(true) || finished(job) || job.metadata.deletion_timestamp.is_some() {
        return Vec::new();
    }
    let parallelism = i64::from(spec.parallelism.unwrap_or(1).max(0));
    let succeeded_pods = existing_owned_pods.iter().filter(|p| phase(p) == "Succeeded").count() as i64;
    let succeeded = succeeded_pods.max(i64::from(job.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0)));
    let active = existing_owned_pods.iter().filter(|p| is_active(p)).count() as i64;
    let want_active = match spec.completions {
        Some(c) => parallelism.min((i64::from(c) - succeeded).max(0)),
        None if succeeded > 0 => 0,
        None => parallelism,
    };
    let count = (want_active - active).max(0);
    let name = job.metadata.name.as_deref().unwrap_or_default();
    let namespace = job.metadata.namespace.as_deref().filter(|s| !s.is_empty()).unwrap_or("default");
    let indexed = spec.completion_mode.as_deref() == Some("Indexed");
    let mut indexes: Vec<Option<i32>> = vec![None; usize::try_from(count).unwrap_or(0)];
    if indexed {
        let taken: BTreeSet<i32> = existing_owned_pods
            .iter()
            .filter(|p| is_active(p) || phase(p) == "Succeeded")
            .filter_map(|p| completion_index(p))
            .collect();
        let completions = spec.completions.unwrap_or(0);
        indexes = (0..completions).filter(|i| !taken.contains(i)).take(indexes.len()).map(Some).collect();
    }
    indexes
        .into_iter()
        .map(|index| {
            let mut pod =
                pod_from_template(&spec.template, namespace, controller_owner_ref("batch/v1", "Job", &job.metadata));
            pod.metadata.finalizers.get_or_insert_with(Vec::new).push(TRACKING_FINALIZER.into());
            let base = match index {
                Some(i) => {
                    pod.metadata
                        .annotations
                        .get_or_insert_with(BTreeMap::new)
                        .insert(COMPLETION_INDEX.into(), i.to_string());
                    pod.metadata
                        .labels
                        .get_or_insert_with(BTreeMap::new)
                        .insert(COMPLETION_INDEX.into(), i.to_string());
                    if let Some(s) = pod.spec.as_mut()
                        && s.hostname.is_none()
                    {
                        s.hostname = Some(format!("{name}-{i}"));
                    }
                    format!("{name}-{i}-")
                }
                None => format!("{name}-"),
            };
            pod.metadata.name = Some(names.generate(namespace, &base));
            pod.metadata.generate_name = Some(base);
            pod
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::decode;

    fn job(spec: &str) -> Job {
        let mut j: Job = decode(&format!(
            "metadata: {{name: batch, namespace: jobs, uid: job-uid}}\nspec:\n{spec}\n  template:\n    spec: {{containers: [{{name: c}}], restartPolicy: Never}}\n"
        ));
        default_job(&mut j);
        j
    }

    #[test]
    fn min_of_parallelism_and_completions_with_job_labels() {
        let j = job("  parallelism: 3\n  completions: 2");
        let pods = job_pods_to_create(&j, &[], &mut NameGenerator::new(0));
        assert_eq!(pods.len(), 2);
        let labels = pods[0].metadata.labels.as_ref().expect("labels");
        for (k, v) in [
            (JOB_NAME_LABEL, "batch"),
            (LEGACY_JOB_NAME_LABEL, "batch"),
            (CONTROLLER_UID_LABEL, "job-uid"),
            (LEGACY_CONTROLLER_UID_LABEL, "job-uid"),
        ] {
            assert_eq!(labels.get(k).map(String::as_str), Some(v), "{k}");
        }
        assert!(pods[0].metadata.name.as_deref().is_some_and(|n| n.starts_with("batch-") && n.len() == 11));
        assert_eq!(
            j.spec.as_ref().and_then(|s| s.selector.as_ref()).and_then(|s| s.match_labels.as_ref()).map(|m| m.len()),
            Some(1)
        );
    }

    #[test]
    fn defaults_are_one_and_work_queues_use_parallelism() {
        assert_eq!(job_pods_to_create(&job(""), &[], &mut NameGenerator::new(0)).len(), 1);
        let wq = job("  parallelism: 4");
        assert_eq!(wq.spec.as_ref().and_then(|s| s.completions), None);
        assert_eq!(job_pods_to_create(&wq, &[], &mut NameGenerator::new(0)).len(), 4);
        assert!(
            job_pods_to_create(&job("  parallelism: 2\n  suspend: true"), &[], &mut NameGenerator::new(0)).is_empty()
        );
    }

    #[test]
    fn existing_and_succeeded_pods_are_subtracted() {
        let j = job("  parallelism: 3\n  completions: 4");
        let mk = |phase: &str| -> Pod {
            decode(&format!(
                "metadata: {{name: x, namespace: jobs}}\nspec: {{containers: [{{name: c}}]}}\nstatus: {{phase: {phase}}}\n"
            ))
        };
        let (a, b, c) = (mk("Succeeded"), mk("Succeeded"), mk("Running"));
        // 4 - 2 succeeded = 2 wanted, 1 running: one more.
        assert_eq!(job_pods_to_create(&j, &[&a, &b, &c], &mut NameGenerator::new(0)).len(), 1);
    }

    #[test]
    fn indexed_jobs_take_the_lowest_free_indexes() {
        let j = job("  parallelism: 2\n  completions: 5\n  completionMode: Indexed");
        let done: Pod = decode(
            "metadata: {name: x, namespace: jobs, annotations: {batch.kubernetes.io/job-completion-index: '0'}}\nspec: {containers: [{name: c}]}\nstatus: {phase: Succeeded}\n",
        );
        let pods = job_pods_to_create(&j, &[&done], &mut NameGenerator::new(0));
        let idx: Vec<&str> = pods
            .iter()
            .filter_map(|p| p.metadata.annotations.as_ref().and_then(|a| a.get(COMPLETION_INDEX)).map(String::as_str))
            .collect();
        assert_eq!(idx, ["1", "2"]);
        assert!(pods[0].metadata.name.as_deref().is_some_and(|n| n.starts_with("batch-1-")));
        assert_eq!(pods[1].spec.as_ref().and_then(|s| s.hostname.as_deref()), Some("batch-2"));
    }
}
