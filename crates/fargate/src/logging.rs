//! Fargate's built-in log router (doc §6): the `aws-logging` ConfigMap in the
//! `aws-observability` namespace, its validation, and what each pod is told (`Logging`
//! annotation, `LoggingEnabled` / `LoggingDisabled` event).

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use serde::Serialize;
use std::fmt;

pub const LOGGING_CONFIGMAP_NAME: &str = "aws-logging";
pub const LOGGING_NAMESPACE: &str = "aws-observability";
/// The label the namespace must carry (doc §6).
pub const LOGGING_NAMESPACE_LABEL: (&str, &str) = ("aws-observability", "enabled");
/// ConfigMap size limit in characters (doc §6). Counted over the data keys and values.
pub const MAX_CONFIGMAP_CHARS: usize = 5300;
/// Filters the router accepts (doc §6).
pub const ALLOWED_FILTERS: [&str; 8] =
    ["grep", "parser", "record_modifier", "rewrite_tag", "throttle", "nest", "modify", "kubernetes"];
/// Outputs the router accepts (doc §6).
pub const ALLOWED_OUTPUTS: [&str; 6] =
    ["es", "firehose", "kinesis_firehose", "cloudwatch", "cloudwatch_logs", "kinesis"];
/// `kubernetes` filter keys owned by the service (doc §6).
pub const SERVICE_OWNED_KUBERNETES_KEYS: [&str; 4] =
    ["Kube_URL", "Kube_CA_File", "Kube_Token_Command", "Kube_Token_File"];

/// Annotation and event texts (doc §1.5, §6, verbatim).
pub const ANNOTATION_KEY: &str = "Logging";
pub const ANNOTATION_ENABLED: &str = "LoggingEnabled";
pub const ANNOTATION_NOT_FOUND: &str = "LoggingDisabled: LOGGING_CONFIGMAP_NOT_FOUND";
/// kubesched's guess for an invalid ConfigMap: EKS's reason code for this case is not
/// documented (only `LOGGING_CONFIGMAP_NOT_FOUND` has been seen, doc §1.5).
pub const ANNOTATION_INVALID: &str = "LoggingDisabled: LOGGING_CONFIGMAP_INVALID";
pub const EVENT_ENABLED_MESSAGE: &str = "Successfully enabled logging for pod";
pub const EVENT_NOT_FOUND_MESSAGE: &str =
    "Disabled logging because aws-logging configmap was not found. configmap \"aws-logging\" not found";

/// One problem in the ConfigMap: the data key it is under, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoggingIssue {
    pub key: String,
    pub message: String,
}

impl fmt::Display for LoggingIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.key, self.message) }
    }
}

/// The state of Fargate logging for new pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "state")]
pub enum LoggingConfig {
    /// No `aws-observability/aws-logging` ConfigMap.
    NotFound,
    Enabled {
        /// Output plugins, in order.
        outputs: Vec<String>,
        /// `flb_log_cw: "true"`: Fluent Bit's own logs go to CloudWatch.
        flb_log_cw: bool,
        warnings: Vec<LoggingIssue>,
    },
    Invalid {
        errors: Vec<LoggingIssue>,
        warnings: Vec<LoggingIssue>,
    },
}

/// A Kubernetes event as fargate-scheduler emits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingEvent {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub reason: &'static str,
    pub message: String,
}

impl LoggingConfig {
    /// Finds `aws-observability/aws-logging` among `configmaps` and judges it; `namespaces`
    /// may hold the `aws-observability` Namespace to check its label.
    pub fn find(configmaps: &[ConfigMap], namespaces: &[Namespace]) -> LoggingConfig {
        let cm = configmaps.iter().find(|c| {
            c.metadata.name.as_deref() == Some(LOGGING_CONFIGMAP_NAME)
                && c.metadata.namespace.as_deref() == Some(LOGGING_NAMESPACE)
        });
        let ns = namespaces.iter().find(|n| n.metadata.name.as_deref() == Some(LOGGING_NAMESPACE));
        LoggingConfig::from_configmap(cm, ns)
    }

    /// Judges a ConfigMap (taken to be `aws-observability/aws-logging`).
    pub fn from_configmap(cm: Option<&ConfigMap>, namespace: Option<&Namespace>) -> LoggingConfig {
        let Some(cm) = cm else { return LoggingConfig::NotFound };
        let mut v = validate_configmap(cm);
        if let Some(ns) = namespace {
            let (k, want) = LOGGING_NAMESPACE_LABEL;
            if ns.metadata.labels.as_ref().and_then(|l| l.get(k)).map(String::as_str) != Some(want) {
                v.errors.push(LoggingIssue {
                    key: String::new(),
                    message: format!("namespace {LOGGING_NAMESPACE} must carry the label {k}: {want}"),
                });
            }
        }
        if v.errors.is_empty() {
            LoggingConfig::Enabled { outputs: v.outputs, flb_log_cw: v.flb_log_cw, warnings: v.warnings }
        } else {
            LoggingConfig::Invalid { errors: v.errors, warnings: v.warnings }
        }
    }

    pub fn is_enabled(&self) -> bool {
        matches!(self, LoggingConfig::Enabled { .. })
    }

    /// The pod's `Logging` annotation.
    pub fn annotation(&self) -> &'static str {
        match self {
            LoggingConfig::Enabled { .. } => ANNOTATION_ENABLED,
            LoggingConfig::NotFound => ANNOTATION_NOT_FOUND,
            LoggingConfig::Invalid { .. } => ANNOTATION_INVALID,
        }
    }

    /// The event fargate-scheduler emits when it starts provisioning the pod (doc §4.1, §6).
    /// The invalid-ConfigMap text is the one a user reported (DataDog/documentation#24023):
    /// `Disabled logging for pod due to invalid configmap. <problem>. Please fix the logging
    /// configmap`.
    pub fn event(&self) -> LoggingEvent {
        match self {
            LoggingConfig::Enabled { .. } => LoggingEvent {
                event_type: "Normal",
                reason: "LoggingEnabled",
                message: EVENT_ENABLED_MESSAGE.to_string(),
            },
            LoggingConfig::NotFound => LoggingEvent {
                event_type: "Warning",
                reason: "LoggingDisabled",
                message: EVENT_NOT_FOUND_MESSAGE.to_string(),
            },
            LoggingConfig::Invalid { errors, .. } => LoggingEvent {
                event_type: "Warning",
                reason: "LoggingDisabled",
                message: format!(
                    "Disabled logging for pod due to invalid configmap. {}. Please fix the logging configmap",
                    errors.first().map(|e| e.message.as_str()).unwrap_or("invalid configuration")
                ),
            },
        }
    }
}

/// Everything found in one ConfigMap.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoggingValidation {
    pub errors: Vec<LoggingIssue>,
    pub warnings: Vec<LoggingIssue>,
    pub outputs: Vec<String>,
    pub flb_log_cw: bool,
}

/// Checks the rules of doc §6: size, keys, one section type per key, no `[SERVICE]` /
/// `[INPUT]`, required `Name`/`Match`/`Format`, allowed filter and output plugins,
/// service-owned `kubernetes` filter keys, no `${ENV}`, indentation, at least one output.
pub fn validate_configmap(cm: &ConfigMap) -> LoggingValidation {
    let mut v = LoggingValidation::default();
    let empty = Default::default();
    let data = cm.data.as_ref().unwrap_or(&empty);
    let chars: usize = data.iter().map(|(k, val)| k.chars().count() + val.chars().count()).sum();
    if chars > MAX_CONFIGMAP_CHARS {
        v.errors.push(LoggingIssue {
            key: String::new(),
            message: format!("configmap is {chars} characters; the limit is {MAX_CONFIGMAP_CHARS}"),
        });
    }
    if cm.binary_data.as_ref().is_some_and(|b| !b.is_empty()) {
        v.warnings.push(LoggingIssue { key: "binaryData".into(), message: "binaryData is ignored".into() });
    }
    for (key, text) in data {
        let section = match key.as_str() {
            "filters.conf" => "FILTER",
            "output.conf" => "OUTPUT",
            "parsers.conf" => "PARSER",
            "flb_log_cw" => {
                match text.trim() {
                    "true" => v.flb_log_cw = true,
                    "false" => {}
                    other => v.errors.push(LoggingIssue {
                        key: key.clone(),
                        message: format!("flb_log_cw must be \"true\" or \"false\", got {other:?}"),
                    }),
                }
                continue;
            }
            _ => {
                v.warnings.push(LoggingIssue {
                    key: key.clone(),
                    message: "not a Fargate logging key (filters.conf, output.conf, parsers.conf, flb_log_cw); ignored"
                        .into(),
                });
                continue;
            }
        };
        check_file(key, text, section, &mut v);
    }
    if v.outputs.is_empty() && v.errors.is_empty() {
        v.errors.push(LoggingIssue {
            key: "output.conf".into(),
            message: format!("at least one supported output is required ({})", ALLOWED_OUTPUTS.join(", ")),
        });
    }
    v
}

struct Section {
    kind: String,
    line: usize,
    entries: Vec<(String, String)>,
}

fn check_file(key: &str, text: &str, wanted: &str, v: &mut LoggingValidation) {
    let issue = |message: String| LoggingIssue { key: key.to_string(), message };
    let mut sections: Vec<Section> = Vec::new();
    let mut header_indent = 0usize;
    let mut entry_indent: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent: String = raw.chars().take_while(|c| c.is_whitespace()).collect();
        if trimmed.contains("${") {
            v.errors.push(issue(format!("line {line_no}: environment variables (${{…}}) are not supported")));
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            header_indent = indent.chars().count();
            sections.push(Section { kind: name.trim().to_ascii_uppercase(), line: line_no, entries: Vec::new() });
            continue;
        }
        if trimmed.starts_with('@') {
            v.errors.push(issue(format!("line {line_no}: directive {trimmed:?} is not supported")));
            continue;
        }
        let Some(section) = sections.last_mut() else {
            v.errors.push(issue(format!("line {line_no}: {trimmed:?} is outside of any section")));
            continue;
        };
        if indent.chars().count() <= header_indent {
            v.errors.push(issue(format!(
                "line {line_no}: key-value pairs must be indented more than the [{}] line",
                section.kind
            )));
        }
        match &entry_indent {
            None => entry_indent = Some(indent.clone()),
            Some(first) if *first != indent => {
                v.errors.push(issue(format!("line {line_no}: inconsistent indentation")));
            }
            Some(_) => {}
        }
        let (k, val) = match trimmed.split_once(char::is_whitespace) {
            Some((k, val)) => (k, val.trim()),
            None => (trimmed, ""),
        };
        if val.is_empty() {
            v.errors.push(issue(format!("line {line_no}: key {k:?} has no value")));
        }
        section.entries.push((k.to_string(), val.to_string()));
    }
    for s in &sections {
        let where_ = format!("[{}] at line {}", s.kind, s.line);
        if s.kind != wanted {
            let msg = match s.kind.as_str() {
                "FILTER" | "OUTPUT" | "PARSER" => {
                    format!("{where_}: [{}] sections belong under {}", s.kind, file_for(&s.kind))
                }
                _ => format!("{where_}: [{}] sections are not supported", s.kind),
            };
            v.errors.push(issue(msg));
            continue;
        }
        let get =
            |name: &str| s.entries.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, val)| val.as_str());
        let required: &[&str] = if wanted == "PARSER" { &["Name", "Format"] } else { &["Name", "Match"] };
        for r in required {
            if get(r).is_none() {
                v.errors.push(issue(format!("{where_}: {r} is required")));
            }
        }
        let Some(plugin) = get("Name") else { continue };
        let plugin_lc = plugin.to_ascii_lowercase();
        match wanted {
            "FILTER" => {
                if !ALLOWED_FILTERS.contains(&plugin_lc.as_str()) {
                    v.errors.push(issue(format!("{plugin} is not a supported filter plugin")));
                }
                if plugin_lc == "kubernetes" {
                    for owned in SERVICE_OWNED_KUBERNETES_KEYS {
                        if get(owned).is_some() {
                            v.errors.push(issue(format!("{where_}: {owned} is set by Fargate and must not be given")));
                        }
                    }
                }
            }
            "OUTPUT" => {
                if ALLOWED_OUTPUTS.contains(&plugin_lc.as_str()) {
                    v.outputs.push(plugin_lc);
                } else {
                    v.errors.push(issue(format!("{plugin} is not a supported output plugin")));
                }
            }
            _ => {}
        }
    }
}

fn file_for(kind: &str) -> &'static str {
    match kind {
        "FILTER" => "filters.conf",
        "OUTPUT" => "output.conf",
        _ => "parsers.conf",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(data: serde_json::Value) -> ConfigMap {
        serde_json::from_value(
            json!({"metadata": {"name": "aws-logging", "namespace": "aws-observability"}, "data": data}),
        )
        .unwrap()
    }

    fn ns(labels: serde_json::Value) -> Namespace {
        serde_json::from_value(json!({"metadata": {"name": "aws-observability", "labels": labels}})).unwrap()
    }

    /// The CloudWatch example of UG/logging, in the shape users apply.
    fn cloudwatch() -> ConfigMap {
        cm(json!({
            "flb_log_cw": "false",
            "filters.conf": "[FILTER]\n    Name parser\n    Match *\n    Key_name log\n    Parser crio\n",
            "output.conf": "[OUTPUT]\n    Name cloudwatch_logs\n    Match   kube.*\n    region region-code\n    log_group_name my-logs\n    log_stream_prefix from-fluent-bit-\n    log_retention_days 60\n    auto_create_group true\n",
            "parsers.conf": "[PARSER]\n    Name crio\n    Format Regex\n    Regex ^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>P|F) (?<log>.*)$\n    Time_Key    time\n    Time_Format %Y-%m-%dT%H:%M:%S.%L%z\n"
        }))
    }

    #[test]
    fn a_valid_configmap_enables_logging() {
        let c = LoggingConfig::find(&[cloudwatch()], &[ns(json!({"aws-observability": "enabled"}))]);
        assert_eq!(
            c,
            LoggingConfig::Enabled { outputs: vec!["cloudwatch_logs".into()], flb_log_cw: false, warnings: vec![] }
        );
        assert_eq!(c.annotation(), "LoggingEnabled");
        let e = c.event();
        assert_eq!(
            (e.event_type, e.reason, e.message.as_str()),
            ("Normal", "LoggingEnabled", "Successfully enabled logging for pod")
        );
    }

    #[test]
    fn a_missing_configmap_disables_logging() {
        let c = LoggingConfig::find(&[], &[]);
        assert_eq!(c, LoggingConfig::NotFound);
        assert_eq!(c.annotation(), "LoggingDisabled: LOGGING_CONFIGMAP_NOT_FOUND");
        let e = c.event();
        assert_eq!(e.event_type, "Warning");
        assert_eq!(e.reason, "LoggingDisabled");
        assert_eq!(
            e.message,
            "Disabled logging because aws-logging configmap was not found. configmap \"aws-logging\" not found"
        );
        // A ConfigMap of that name in another namespace does not count.
        let mut elsewhere = cloudwatch();
        elsewhere.metadata.namespace = Some("default".into());
        assert_eq!(LoggingConfig::find(&[elsewhere], &[]), LoggingConfig::NotFound);
    }

    #[test]
    fn unsupported_output_matches_the_reported_event() {
        let c = LoggingConfig::from_configmap(
            Some(&cm(json!({"output.conf": "[OUTPUT]\n    Name amazon_data_firehose\n    Match *\n"}))),
            None,
        );
        assert!(!c.is_enabled());
        assert_eq!(c.annotation(), "LoggingDisabled: LOGGING_CONFIGMAP_INVALID");
        assert_eq!(
            c.event().message,
            "Disabled logging for pod due to invalid configmap. amazon_data_firehose is not a supported output plugin. Please fix the logging configmap"
        );
    }

    fn errors(data: serde_json::Value) -> Vec<String> {
        validate_configmap(&cm(data)).errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn every_rule() {
        let out = "[OUTPUT]\n    Name es\n    Match *\n";
        let with_out = |k: &str, v: &str| {
            let mut m = serde_json::Map::new();
            m.insert("output.conf".into(), json!(out));
            m.insert(k.into(), json!(v));
            serde_json::Value::Object(m)
        };
        assert_eq!(errors(json!({"output.conf": out})), Vec::<String>::new());
        assert_eq!(
            errors(with_out("filters.conf", "[SERVICE]\n    Flush 5\n")),
            ["filters.conf: [SERVICE] at line 1: [SERVICE] sections are not supported"]
        );
        assert_eq!(
            errors(with_out("filters.conf", "[INPUT]\n    Name tail\n")),
            ["filters.conf: [INPUT] at line 1: [INPUT] sections are not supported"]
        );
        assert_eq!(
            errors(with_out("filters.conf", "[OUTPUT]\n    Name es\n    Match *\n")),
            ["filters.conf: [OUTPUT] at line 1: [OUTPUT] sections belong under output.conf"]
        );
        assert_eq!(
            errors(with_out("filters.conf", "[FILTER]\n    Name grep\n")),
            ["filters.conf: [FILTER] at line 1: Match is required"]
        );
        assert_eq!(
            errors(with_out("filters.conf", "[FILTER]\n    Name lua\n    Match *\n")),
            ["filters.conf: lua is not a supported filter plugin"]
        );
        assert_eq!(
            errors(with_out(
                "filters.conf",
                "[FILTER]\n    Name kubernetes\n    Match kube.*\n    Kube_URL https://x\n"
            )),
            ["filters.conf: [FILTER] at line 1: Kube_URL is set by Fargate and must not be given"]
        );
        // Keys are case-insensitive.
        assert_eq!(
            errors(with_out("filters.conf", "[FILTER]\n    name grep\n    MATCH *\n    Regex log x\n")),
            Vec::<String>::new()
        );
        assert_eq!(
            errors(with_out("parsers.conf", "[PARSER]\n    Name p\n")),
            ["parsers.conf: [PARSER] at line 1: Format is required"]
        );
        assert_eq!(
            errors(with_out("filters.conf", "[FILTER]\n    Name grep\n    Match ${TAG}\n")),
            ["filters.conf: line 3: environment variables (${…}) are not supported"]
        );
        assert_eq!(errors(with_out("filters.conf", "[FILTER]\nName grep\nMatch *\n")).len(), 2);
        assert_eq!(
            errors(with_out("filters.conf", "[FILTER]\n    Name grep\n  Match *\n")),
            ["filters.conf: line 3: inconsistent indentation"]
        );
        assert_eq!(
            errors(with_out("flb_log_cw", "yes")),
            ["flb_log_cw: flb_log_cw must be \"true\" or \"false\", got \"yes\""]
        );
        assert_eq!(
            errors(json!({"filters.conf": "[FILTER]\n    Name grep\n    Match *\n"})),
            [
                "output.conf: at least one supported output is required (es, firehose, kinesis_firehose, cloudwatch, cloudwatch_logs, kinesis)"
            ]
        );
        let big = "#".repeat(5300);
        assert_eq!(errors(with_out("filters.conf", &big)), ["configmap is 5356 characters; the limit is 5300"]);
        let v = validate_configmap(&cm(with_out("extra.conf", "x")));
        assert!(v.errors.is_empty());
        assert_eq!(v.warnings.len(), 1);
        assert!(validate_configmap(&cm(with_out("flb_log_cw", "true"))).flb_log_cw);
    }

    #[test]
    fn the_namespace_label_is_required() {
        let c = LoggingConfig::from_configmap(Some(&cloudwatch()), Some(&ns(json!({}))));
        let LoggingConfig::Invalid { errors, .. } = &c else { panic!("{c:?}") };
        assert_eq!(errors[0].message, "namespace aws-observability must carry the label aws-observability: enabled");
    }
}
