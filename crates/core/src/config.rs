//! `KubeSchedulerConfiguration` (kubescheduler.config.k8s.io/v1) as typed data, its defaults,
//! and its validation. The edge layer fills these structs from YAML; [`crate::framework::build_profiles`]
//! turns them into runnable profiles.

use crate::args::{ArgValue, FieldError};

/// kube-scheduler's default MultiPoint plugins (v1.34, `default_plugins.go`) with their score
/// weights, in order (DynamicResources is in the default set since DRA went GA in v1.34). DRA
/// and the volume plugins are registered but model nothing beyond "the pod uses no such
/// objects"; see ARCHITECTURE.md.
pub const DEFAULT_MULTI_POINT: &[(&str, i32)] = &[
    ("SchedulingGates", 0),
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("VolumeRestrictions", 0),
    ("NodeVolumeLimits", 0),
    ("VolumeBinding", 0),
    ("VolumeZone", 0),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DynamicResources", 0),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
];

#[derive(Clone, PartialEq, Debug)]
pub struct SchedulerConfig {
    /// Global `percentageOfNodesToScore`; `None` or 0 = adaptive.
    pub percentage_of_nodes_to_score: Option<i32>,
    pub pod_initial_backoff_seconds: i64,
    pub pod_max_backoff_seconds: i64,
    pub profiles: Vec<ProfileConfig>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            percentage_of_nodes_to_score: None,
            pod_initial_backoff_seconds: 1,
            pod_max_backoff_seconds: 10,
            profiles: vec![ProfileConfig::new("default-scheduler")],
        }
    }
}

#[derive(Clone, PartialEq, Debug, Default)]
pub struct ProfileConfig {
    pub scheduler_name: String,
    pub percentage_of_nodes_to_score: Option<i32>,
    pub plugins: PluginsConfig,
    pub plugin_config: Vec<PluginArgs>,
}

impl ProfileConfig {
    pub fn new(scheduler_name: &str) -> ProfileConfig {
        ProfileConfig { scheduler_name: scheduler_name.to_string(), ..Default::default() }
    }

    /// The args given for `plugin`, if any.
    pub fn args_for(&self, plugin: &str) -> Option<&ArgValue> {
        self.plugin_config.iter().find(|p| p.name == plugin).map(|p| &p.args)
    }
}

#[derive(Clone, PartialEq, Debug, Default)]
pub struct PluginArgs {
    pub name: String,
    pub args: ArgValue,
}

#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct PluginRef {
    pub name: String,
    /// Score weight; 0 or absent means 1 (or the MultiPoint default).
    pub weight: Option<i32>,
}

#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct PluginSet {
    pub enabled: Vec<PluginRef>,
    pub disabled: Vec<String>,
}

/// `plugins:` of a profile, one set per extension point.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct PluginsConfig {
    pub multi_point: PluginSet,
    pub queue_sort: PluginSet,
    pub pre_enqueue: PluginSet,
    pub pre_filter: PluginSet,
    pub filter: PluginSet,
    pub post_filter: PluginSet,
    pub pre_score: PluginSet,
    pub score: PluginSet,
    pub reserve: PluginSet,
    pub permit: PluginSet,
    pub pre_bind: PluginSet,
    pub bind: PluginSet,
    pub post_bind: PluginSet,
}

impl PluginsConfig {
    /// `(yaml field name, set)` for every specific extension point, in kube's order.
    pub fn points(&self) -> [(&'static str, &PluginSet); 12] {
        [
            ("preEnqueue", &self.pre_enqueue),
            ("queueSort", &self.queue_sort),
            ("preFilter", &self.pre_filter),
            ("filter", &self.filter),
            ("postFilter", &self.post_filter),
            ("preScore", &self.pre_score),
            ("score", &self.score),
            ("reserve", &self.reserve),
            ("permit", &self.permit),
            ("preBind", &self.pre_bind),
            ("bind", &self.bind),
            ("postBind", &self.post_bind),
        ]
    }
}

/// kube-scheduler's `mergePluginSet`: user `disabled` entries remove defaults (`*` all of them),
/// user `enabled` entries replace a default of the same name in place, the rest are appended.
pub fn merge_plugin_set(default: &PluginSet, custom: &PluginSet) -> PluginSet {
    let mut disabled: Vec<String> = custom.disabled.clone();
    disabled.extend(default.disabled.iter().cloned());
    let all_disabled = disabled.iter().any(|d| d == "*");
    let mut replaced = vec![false; custom.enabled.len()];
    let mut enabled = Vec::new();
    if !all_disabled {
        for d in &default.enabled {
            if disabled.contains(&d.name) {
                continue;
            }
            match custom.enabled.iter().position(|c| c.name == d.name) {
                Some(i) => {
                    replaced[i] = true;
                    enabled.push(custom.enabled[i].clone());
                }
                None => enabled.push(d.clone()),
            }
        }
    }
    for (i, c) in custom.enabled.iter().enumerate() {
        if !replaced[i] {
            enabled.push(c.clone());
        }
    }
    PluginSet { enabled, disabled }
}

/// The profile's plugins after merging with the defaults (only MultiPoint has defaults in v1).
pub fn merged_plugins(profile: &ProfileConfig) -> PluginsConfig {
    let default_mp = PluginSet {
        enabled: DEFAULT_MULTI_POINT
            .iter()
            .map(|&(name, w)| PluginRef { name: name.to_string(), weight: (w > 0).then_some(w) })
            .collect(),
        disabled: Vec::new(),
    };
    let empty = PluginSet::default();
    let p = &profile.plugins;
    PluginsConfig {
        multi_point: merge_plugin_set(&default_mp, &p.multi_point),
        queue_sort: merge_plugin_set(&empty, &p.queue_sort),
        pre_enqueue: merge_plugin_set(&empty, &p.pre_enqueue),
        pre_filter: merge_plugin_set(&empty, &p.pre_filter),
        filter: merge_plugin_set(&empty, &p.filter),
        post_filter: merge_plugin_set(&empty, &p.post_filter),
        pre_score: merge_plugin_set(&empty, &p.pre_score),
        score: merge_plugin_set(&empty, &p.score),
        reserve: merge_plugin_set(&empty, &p.reserve),
        permit: merge_plugin_set(&empty, &p.permit),
        pre_bind: merge_plugin_set(&empty, &p.pre_bind),
        bind: merge_plugin_set(&empty, &p.bind),
        post_bind: merge_plugin_set(&empty, &p.post_bind),
    }
}

/// Validation of the top-level fields (`ValidateKubeSchedulerConfiguration`); plugin args are
/// validated by each plugin when the profile is built.
pub fn validate(config: &SchedulerConfig) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(p) = config.percentage_of_nodes_to_score
        && !(0..=100).contains(&p)
    {
        errs.push(FieldError::invalid("percentageOfNodesToScore", p, "not in valid range [0-100]"));
    }
    if config.pod_initial_backoff_seconds <= 0 {
        errs.push(FieldError::invalid(
            "podInitialBackoffSeconds",
            config.pod_initial_backoff_seconds,
            "must be greater than 0",
        ));
    }
    if config.pod_max_backoff_seconds < config.pod_initial_backoff_seconds {
        errs.push(FieldError::invalid(
            "podMaxBackoffSeconds",
            config.pod_max_backoff_seconds,
            "must be greater than or equal to PodInitialBackoffSeconds",
        ));
    }
    if config.profiles.is_empty() {
        errs.push(FieldError::required("profiles"));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, p) in config.profiles.iter().enumerate() {
        let path = format!("profiles[{i}]");
        if p.scheduler_name.is_empty() {
            errs.push(FieldError::required(format!("{path}.schedulerName")));
        } else if seen.contains(&p.scheduler_name.as_str()) {
            errs.push(FieldError::new(
                format!("{path}.schedulerName"),
                format!("Duplicate value: {:?}", p.scheduler_name),
            ));
        } else {
            seen.push(&p.scheduler_name);
        }
        if let Some(pct) = p.percentage_of_nodes_to_score
            && !(0..=100).contains(&pct)
        {
            errs.push(FieldError::invalid(
                format!("{path}.percentageOfNodesToScore"),
                pct,
                "not in valid range [0-100]",
            ));
        }
        let mut arg_names: Vec<&str> = Vec::new();
        for (j, pc) in p.plugin_config.iter().enumerate() {
            if arg_names.contains(&pc.name.as_str()) {
                errs.push(FieldError::new(
                    format!("{path}.pluginConfig[{j}]"),
                    format!("Duplicate value: {:?}", pc.name),
                ));
            }
            arg_names.push(&pc.name);
        }
        for (point, set) in p.plugins.points().into_iter().chain([("multiPoint", &p.plugins.multi_point)]) {
            for (j, e) in set.enabled.iter().enumerate() {
                if let Some(w) = e.weight
                    && w < 0
                {
                    errs.push(FieldError::invalid(
                        format!("{path}.plugins.{point}.enabled[{j}].weight"),
                        w,
                        "must be non-negative",
                    ));
                }
            }
        }
    }
    // All profiles share one queue, so they must sort it the same way.
    if config.profiles.len() > 1 {
        let first = merged_plugins(&config.profiles[0]);
        for (i, p) in config.profiles.iter().enumerate().skip(1) {
            let merged = merged_plugins(p);
            if merged.queue_sort != first.queue_sort || queue_sort_of(&merged) != queue_sort_of(&first) {
                errs.push(FieldError::invalid(
                    format!("profiles[{i}].plugins.queueSort"),
                    format!("{:?}", queue_sort_of(&merged)),
                    "queueSort must be the same for all profiles",
                ));
            }
        }
    }
    errs
}

fn queue_sort_of(p: &PluginsConfig) -> Vec<String> {
    if !p.queue_sort.enabled.is_empty() {
        return p.queue_sort.enabled.iter().map(|e| e.name.clone()).collect();
    }
    // PrioritySort is the only QueueSort plugin in the registry.
    if p.queue_sort.disabled.iter().any(|d| d == "*" || d == "PrioritySort") {
        return Vec::new();
    }
    p.multi_point.enabled.iter().filter(|e| e.name == "PrioritySort").map(|e| e.name.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(enabled: &[(&str, Option<i32>)], disabled: &[&str]) -> PluginSet {
        PluginSet {
            enabled: enabled.iter().map(|&(n, w)| PluginRef { name: n.into(), weight: w }).collect(),
            disabled: disabled.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn merge_replaces_in_place_and_appends() {
        let default = set(&[("A", None), ("B", Some(2)), ("C", None)], &[]);
        let custom = set(&[("B", Some(5)), ("D", None)], &["C"]);
        let merged = merge_plugin_set(&default, &custom);
        let names: Vec<_> = merged.enabled.iter().map(|e| (e.name.as_str(), e.weight)).collect();
        assert_eq!(names, [("A", None), ("B", Some(5)), ("D", None)]);
        let star = merge_plugin_set(&default, &set(&[("D", None)], &["*"]));
        assert_eq!(star.enabled.len(), 1);
    }

    #[test]
    fn validation_names_the_field() {
        let mut c = SchedulerConfig { percentage_of_nodes_to_score: Some(120), ..Default::default() };
        c.profiles.push(ProfileConfig::new("default-scheduler"));
        let errs: Vec<String> = validate(&c).iter().map(|e| e.to_string()).collect();
        assert!(
            errs.contains(&"percentageOfNodesToScore: Invalid value: 120: not in valid range [0-100]".to_string()),
            "{errs:?}"
        );
        assert!(
            errs.contains(&"profiles[1].schedulerName: Duplicate value: \"default-scheduler\"".to_string()),
            "{errs:?}"
        );
    }
}
