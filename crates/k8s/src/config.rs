//! `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`) YAML/JSON →
//! [`kubesched_core::config::SchedulerConfig`].
//!
//! Decoding is strict as kube-scheduler's: an unknown field is an error naming it, and so is a
//! value of the wrong type; both carry the file and the line. Plugin args become
//! [`ArgValue`] trees that each plugin validates itself when profiles are built; map those
//! errors back to lines with [`LoadedConfig::locate`].

use crate::de::{DeError, from_node};
use crate::error::{ErrorKind, LoadError, Source};
use crate::input::Format;
use crate::tree::{FieldPath, Node};
use crate::{json, yaml};
use kubesched_core::args::{ArgValue, FieldError};
use kubesched_core::config::{PluginArgs, PluginRef, PluginSet, PluginsConfig, ProfileConfig, SchedulerConfig};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::path::Path;
use std::sync::Arc;

pub const GROUP: &str = "kubescheduler.config.k8s.io";
pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";
pub const KIND: &str = "KubeSchedulerConfiguration";

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct V1Config {
    #[allow(dead_code)]
    api_version: Option<String>,
    #[allow(dead_code)]
    kind: Option<String>,
    #[allow(dead_code)]
    parallelism: Option<i32>,
    #[allow(dead_code)]
    leader_election: Option<IgnoredAny>,
    #[allow(dead_code)]
    client_connection: Option<IgnoredAny>,
    #[allow(dead_code)]
    healthz_bind_address: Option<String>,
    #[allow(dead_code)]
    metrics_bind_address: Option<String>,
    #[allow(dead_code)]
    enable_profiling: Option<bool>,
    #[allow(dead_code)]
    enable_contention_profiling: Option<bool>,
    percentage_of_nodes_to_score: Option<i32>,
    pod_initial_backoff_seconds: Option<i64>,
    pod_max_backoff_seconds: Option<i64>,
    profiles: Option<Vec<V1Profile>>,
    #[allow(dead_code)]
    extenders: Option<IgnoredAny>,
    #[allow(dead_code)]
    delay_cache_until_active: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct V1Profile {
    scheduler_name: Option<String>,
    percentage_of_nodes_to_score: Option<i32>,
    plugins: Option<V1Plugins>,
    plugin_config: Option<Vec<V1PluginConfig>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct V1Plugins {
    pre_enqueue: Option<V1PluginSet>,
    queue_sort: Option<V1PluginSet>,
    pre_filter: Option<V1PluginSet>,
    filter: Option<V1PluginSet>,
    post_filter: Option<V1PluginSet>,
    pre_score: Option<V1PluginSet>,
    score: Option<V1PluginSet>,
    reserve: Option<V1PluginSet>,
    permit: Option<V1PluginSet>,
    pre_bind: Option<V1PluginSet>,
    bind: Option<V1PluginSet>,
    post_bind: Option<V1PluginSet>,
    multi_point: Option<V1PluginSet>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct V1PluginSet {
    enabled: Option<Vec<V1Plugin>>,
    disabled: Option<Vec<V1Plugin>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct V1Plugin {
    name: String,
    weight: Option<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct V1PluginConfig {
    name: String,
    args: Option<serde_json::Value>,
}

/// A parsed configuration with its source, to locate errors found later.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    pub config: SchedulerConfig,
    pub file: Arc<str>,
    pub document: usize,
    tree: Arc<Node>,
}

impl LoadedConfig {
    /// The line of a kube-style field path (`profiles[0].pluginConfig[1].args.scoringStrategy`),
    /// or of its deepest existing prefix.
    pub fn line_of(&self, path: &str) -> usize {
        self.tree.line_of(&FieldPath::parse_kube(path))
    }

    /// A core [`FieldError`] (validation, plugin args) as a located error.
    pub fn locate(&self, err: &FieldError) -> LoadError {
        let source = Source { file: self.file.clone(), document: self.document, item: None, line: self.tree.line };
        LoadError::at(
            ErrorKind::Invalid,
            &source,
            Some(KIND.to_string()),
            self.line_of(&err.path),
            Some(err.path.clone()),
            err.message.clone(),
        )
    }
}

fn plugin_set(s: Option<V1PluginSet>) -> PluginSet {
    let Some(s) = s else { return PluginSet::default() };
    PluginSet {
        enabled: s.enabled.into_iter().flatten().map(|p| PluginRef { name: p.name, weight: p.weight }).collect(),
        disabled: s.disabled.into_iter().flatten().map(|p| p.name).collect(),
    }
}

/// JSON → [`ArgValue`].
pub fn arg_value(v: &serde_json::Value) -> ArgValue {
    match v {
        serde_json::Value::Null => ArgValue::Null,
        serde_json::Value::Bool(b) => ArgValue::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => ArgValue::Int(i),
            None => ArgValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => ArgValue::String(s.clone()),
        serde_json::Value::Array(a) => ArgValue::List(a.iter().map(arg_value).collect()),
        serde_json::Value::Object(m) => ArgValue::Map(m.iter().map(|(k, v)| (k.clone(), arg_value(v))).collect()),
    }
}

/// Plugin args without their optional `apiVersion`/`kind` (`kind: NodeResourcesFitArgs`).
fn plugin_args(v: Option<serde_json::Value>) -> ArgValue {
    match v.map(|v| arg_value(&v)) {
        None => ArgValue::Null,
        Some(ArgValue::Map(mut m)) => {
            m.remove("apiVersion");
            m.remove("kind");
            ArgValue::Map(m)
        }
        Some(other) => other,
    }
}

fn convert(v: V1Config) -> SchedulerConfig {
    let defaults = SchedulerConfig::default();
    let mut profiles: Vec<ProfileConfig> = v
        .profiles
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let plugins = p.plugins.unwrap_or_default();
            ProfileConfig {
                scheduler_name: p.scheduler_name.unwrap_or_default(),
                percentage_of_nodes_to_score: p.percentage_of_nodes_to_score,
                plugins: PluginsConfig {
                    multi_point: plugin_set(plugins.multi_point),
                    queue_sort: plugin_set(plugins.queue_sort),
                    pre_enqueue: plugin_set(plugins.pre_enqueue),
                    pre_filter: plugin_set(plugins.pre_filter),
                    filter: plugin_set(plugins.filter),
                    post_filter: plugin_set(plugins.post_filter),
                    pre_score: plugin_set(plugins.pre_score),
                    score: plugin_set(plugins.score),
                    reserve: plugin_set(plugins.reserve),
                    permit: plugin_set(plugins.permit),
                    pre_bind: plugin_set(plugins.pre_bind),
                    bind: plugin_set(plugins.bind),
                    post_bind: plugin_set(plugins.post_bind),
                },
                plugin_config: p
                    .plugin_config
                    .into_iter()
                    .flatten()
                    .map(|pc| PluginArgs { name: pc.name, args: plugin_args(pc.args) })
                    .collect(),
            }
        })
        .collect();
    // SetDefaults_KubeSchedulerConfiguration: one unnamed profile when none is given; a single
    // profile without a name is the default scheduler.
    if profiles.is_empty() {
        profiles.push(ProfileConfig::new("default-scheduler"));
    }
    if profiles.len() == 1 && profiles[0].scheduler_name.is_empty() {
        profiles[0].scheduler_name = "default-scheduler".into();
    }
    SchedulerConfig {
        percentage_of_nodes_to_score: v.percentage_of_nodes_to_score,
        pod_initial_backoff_seconds: v.pod_initial_backoff_seconds.unwrap_or(defaults.pod_initial_backoff_seconds),
        pod_max_backoff_seconds: v.pod_max_backoff_seconds.unwrap_or(defaults.pod_max_backoff_seconds),
        profiles,
    }
}

fn decode_error(file: &str, document: usize, tree: &Node, e: DeError) -> LoadError {
    let path = e.path();
    let source = Source::new(file, document, None, tree.line);
    // serde's "unknown field `x`, expected one of …" in kube's words.
    let message = if e.message.starts_with("unknown field") {
        format!("strict decoding error: unknown field {:?}", path.to_string())
    } else {
        e.message
    };
    LoadError::at(
        ErrorKind::Decode,
        &source,
        Some(KIND.to_string()),
        tree.line_of(&path),
        Some(path.to_string()),
        message,
    )
}

/// Parses and validates a configuration from text. `name` is used in messages; a `.json`
/// name is parsed as JSON.
pub fn parse_scheduler_config(name: &str, text: &str) -> Result<LoadedConfig, Vec<LoadError>> {
    let format = if name.to_ascii_lowercase().ends_with(".json") { Format::Json } else { Format::Auto };
    let (docs, syntax) = match format {
        Format::Json => json::parse(text),
        Format::Auto if json::looks_like_json(text) => json::parse(text),
        Format::Auto => yaml::parse(text),
    };
    if let Some(e) = syntax.into_iter().next() {
        return Err(vec![LoadError::syntax(name, e)]);
    }
    let Some((document, tree)) = docs.into_iter().find_map(|d| d.root.map(|r| (d.index, r))) else {
        return Err(vec![LoadError::file(ErrorKind::Decode, name, "no KubeSchedulerConfiguration found (empty file)")]);
    };
    scheduler_config_from_tree(name, document, tree)
}

/// Decodes and validates a configuration already parsed into a tree, for configurations
/// embedded in another document (the simulator's inline scenario configuration): errors carry
/// the lines of the enclosing file `name`, document `document`.
pub fn scheduler_config_from_tree(name: &str, document: usize, tree: Node) -> Result<LoadedConfig, Vec<LoadError>> {
    let source = Source::new(name, document, None, tree.line);
    let api_version = tree.get_str("apiVersion").unwrap_or_default();
    let kind = tree.get_str("kind").unwrap_or_default();
    let header_error = |field: &str, message: String| {
        LoadError::at(
            ErrorKind::Decode,
            &source,
            None,
            tree.line_of(&FieldPath::root().key(field)),
            Some(field.to_string()),
            message,
        )
    };
    if api_version.is_empty() {
        return Err(vec![header_error("apiVersion", "Object 'apiVersion' is missing".into())]);
    }
    if kind.is_empty() {
        return Err(vec![header_error("kind", "Object 'Kind' is missing".into())]);
    }
    if api_version != API_VERSION || kind != KIND {
        return Err(vec![header_error(
            if api_version != API_VERSION { "apiVersion" } else { "kind" },
            format!("no kind {kind:?} is registered for version {api_version:?}"),
        )]);
    }
    let v1: V1Config = from_node(&tree).map_err(|e| vec![decode_error(name, document, &tree, e)])?;
    let loaded = LoadedConfig { config: convert(v1), file: Arc::from(name), document, tree: Arc::new(tree) };
    // Build the profiles once to report every problem together: top-level validation and each
    // plugin's arguments.
    match kubesched_core::framework::build_profiles(&loaded.config, &kubesched_core::plugins::registry()) {
        Ok(_) => Ok(loaded),
        Err(errs) => Err(errs.iter().map(|e| loaded.locate(e)).collect()),
    }
}

/// Reads and parses a configuration file.
pub fn load_scheduler_config(path: &Path) -> Result<LoadedConfig, Vec<LoadError>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| vec![LoadError::file(ErrorKind::Io, &name, e.to_string())])?;
    parse_scheduler_config(&name, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 50
podInitialBackoffSeconds: 2
clientConnection: {kubeconfig: /etc/kubernetes/scheduler.conf, qps: 50}
leaderElection: {leaderElect: false}
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packing
  percentageOfNodesToScore: 30
  plugins:
    score:
      disabled:
      - name: NodeResourcesBalancedAllocation
      enabled:
      - name: NodeResourcesFit
        weight: 5
    multiPoint:
      disabled: [{name: ImageLocality}]
  pluginConfig:
  - name: NodeResourcesFit
    args:
      apiVersion: kubescheduler.config.k8s.io/v1
      kind: NodeResourcesFitArgs
      scoringStrategy:
        type: MostAllocated
        resources:
        - {name: cpu, weight: 1}
        - {name: nvidia.com/gpu, weight: 3}
      ignoredResources: []
"#;

    #[test]
    fn a_full_configuration_converts() {
        let c = parse_scheduler_config("sched.yaml", FULL).expect("valid").config;
        assert_eq!(c.percentage_of_nodes_to_score, Some(50));
        assert_eq!((c.pod_initial_backoff_seconds, c.pod_max_backoff_seconds), (2, 10));
        assert_eq!(c.profiles.len(), 2);
        let p = &c.profiles[1];
        assert_eq!(p.scheduler_name, "bin-packing");
        assert_eq!(p.percentage_of_nodes_to_score, Some(30));
        assert_eq!(p.plugins.score.disabled, ["NodeResourcesBalancedAllocation"]);
        assert_eq!(p.plugins.score.enabled, [PluginRef { name: "NodeResourcesFit".into(), weight: Some(5) }]);
        assert_eq!(p.plugins.multi_point.disabled, ["ImageLocality"]);
        let args = p.args_for("NodeResourcesFit").expect("args");
        assert_eq!(args.get("apiVersion"), None);
        let strategy = args.get("scoringStrategy").expect("strategy");
        assert_eq!(strategy.get("type"), Some(&ArgValue::String("MostAllocated".into())));
        let resources = strategy.get("resources");
        assert!(
            matches!(resources, Some(ArgValue::List(l)) if l.len() == 2 && l[1].get("weight") == Some(&ArgValue::Int(3)))
        );
        assert_eq!(args.get("ignoredResources"), Some(&ArgValue::List(vec![])));
    }

    #[test]
    fn defaults_give_one_default_profile() {
        let c = parse_scheduler_config(
            "s.yaml",
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n",
        )
        .expect("valid")
        .config;
        assert_eq!(c, SchedulerConfig::default());
        let c = parse_scheduler_config(
            "s.yaml",
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- percentageOfNodesToScore: 10\n",
        )
        .expect("valid")
        .config;
        assert_eq!(c.profiles[0].scheduler_name, "default-scheduler");
    }

    #[test]
    fn unknown_fields_and_wrong_types_carry_file_and_line() {
        let text = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: a\n  plugin:\n    score: {}\n";
        let errs = parse_scheduler_config("s.yaml", text).expect_err("unknown field");
        assert_eq!(
            errs[0].to_string(),
            "s.yaml: document 1 (KubeSchedulerConfiguration), line 5: profiles[0].plugin: strict decoding error: unknown field \"profiles[0].plugin\""
        );
        let text = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: lots\n";
        let errs = parse_scheduler_config("s.yaml", text).expect_err("wrong type");
        assert_eq!(
            errs[0].to_string(),
            "s.yaml: document 1 (KubeSchedulerConfiguration), line 3: percentageOfNodesToScore: invalid type: string \"lots\", expected i32"
        );
    }

    #[test]
    fn old_api_versions_are_rejected_with_kubes_text() {
        let text = "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n";
        let errs = parse_scheduler_config("old.yaml", text).expect_err("old");
        assert_eq!(
            errs[0].to_string(),
            "old.yaml: document 1, line 1: apiVersion: no kind \"KubeSchedulerConfiguration\" is registered for version \"kubescheduler.config.k8s.io/v1beta3\""
        );
    }

    #[test]
    fn validation_errors_are_located() {
        let text = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: a\n- schedulerName: a\n  percentageOfNodesToScore: 120\n";
        let errs: Vec<String> =
            parse_scheduler_config("s.yaml", text).expect_err("invalid").iter().map(ToString::to_string).collect();
        assert_eq!(
            errs,
            [
                "s.yaml: document 1 (KubeSchedulerConfiguration), line 5: profiles[1].schedulerName: Duplicate value: \"a\"",
                "s.yaml: document 1 (KubeSchedulerConfiguration), line 6: profiles[1].percentageOfNodesToScore: Invalid value: 120: not in valid range [0-100]",
            ]
        );
    }

    #[test]
    fn core_errors_from_plugin_args_map_to_lines() {
        let loaded = parse_scheduler_config("sched.yaml", FULL).expect("valid");
        let err = FieldError::new("profiles[1].pluginConfig[0].args.scoringStrategy.type", "Unsupported value");
        assert_eq!(loaded.locate(&err).line, Some(26));
        assert_eq!(loaded.line_of("profiles[1].plugins.score.enabled[0].weight"), 17);
    }
}
