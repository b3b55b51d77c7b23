//! `PodTopologySpreadArgs`: `defaultConstraints` and `defaultingType`, with v1 defaulting and
//! `ValidatePodTopologySpreadArgs` (`pkg/scheduler/apis/config/validation/validation_pluginargs.go`).

use super::PodTopologySpread;
use crate::args::{ArgValue, FieldError, read};
use crate::intern::Sym;
use crate::model::{InclusionPolicy, TopologySpreadConstraint, WhenUnsatisfiable};

/// `systemDefaultConstraints` (kube-scheduler.md §4.11 "Default constraints"): hostname skew 3
/// and zone skew 5, both ScheduleAnyway.
pub const SYSTEM_DEFAULT_CONSTRAINTS: [TopologySpreadConstraint; 2] = [
    TopologySpreadConstraint {
        max_skew: 3,
        topology_key: Sym::HOSTNAME,
        when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
        label_selector: None,
        min_domains: None,
        node_affinity_policy: None,
        node_taints_policy: None,
        match_label_keys: Vec::new(),
    },
    TopologySpreadConstraint {
        max_skew: 5,
        topology_key: Sym::ZONE,
        when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
        label_selector: None,
        min_domains: None,
        node_affinity_policy: None,
        node_taints_policy: None,
        match_label_keys: Vec::new(),
    },
];

const SYSTEM: &str = "System";
const LIST: &str = "List";
const DO_NOT_SCHEDULE: &str = "DoNotSchedule";
const SCHEDULE_ANYWAY: &str = "ScheduleAnyway";

/// Parses and validates the args. Errors name the field below `path`, as kube's
/// `ValidatePodTopologySpreadArgs` does (the first error only).
pub fn parse_args(args: &ArgValue, path: &str) -> Result<PodTopologySpread, FieldError> {
    read::known_keys(args, &["defaultConstraints", "defaultingType", "apiVersion", "kind"], path)?;
    let dt_path = format!("{path}.defaultingType");
    // v1 defaulting: an empty defaultingType means System.
    let defaulting = read::string(args.get("defaultingType"), &dt_path)?.filter(|s| !s.is_empty());
    let defaulting = defaulting.as_deref().unwrap_or(SYSTEM);
    let dc_path = format!("{path}.defaultConstraints");
    let items = read::list(args.get("defaultConstraints"), &dc_path)?;
    if defaulting != SYSTEM && defaulting != LIST {
        return Err(FieldError::not_supported(dt_path, defaulting, &[LIST, SYSTEM]));
    }
    if defaulting == SYSTEM && !items.is_empty() {
        return Err(FieldError::invalid(dt_path, format!("{defaulting:?}"), "when .defaultConstraints are not empty"));
    }
    let mut constraints: Vec<TopologySpreadConstraint> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let c = parse_constraint(item, &format!("{dc_path}[{i}]"))?;
        if constraints.iter().any(|o| o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable)
        {
            let when = match c.when_unsatisfiable {
                WhenUnsatisfiable::DoNotSchedule => DO_NOT_SCHEDULE,
                WhenUnsatisfiable::ScheduleAnyway => SCHEDULE_ANYWAY,
            };
            return Err(FieldError::new(
                format!("{dc_path}[{i}]"),
                format!("Duplicate value: {:?}", format!("{{{}, {when}}}", c.topology_key)),
            ));
        }
        constraints.push(c);
    }
    if defaulting == SYSTEM {
        return Ok(PodTopologySpread::default());
    }
    Ok(PodTopologySpread { default_constraints: constraints, system_defaulted: false })
}

fn parse_constraint(v: &ArgValue, path: &str) -> Result<TopologySpreadConstraint, FieldError> {
    read::known_keys(
        v,
        &[
            "maxSkew",
            "topologyKey",
            "whenUnsatisfiable",
            "labelSelector",
            "minDomains",
            "nodeAffinityPolicy",
            "nodeTaintsPolicy",
            "matchLabelKeys",
        ],
        path,
    )?;
    let skew_path = format!("{path}.maxSkew");
    let max_skew = read::int(v.get("maxSkew"), &skew_path)?.unwrap_or(0);
    if max_skew <= 0 || max_skew > i32::MAX as i64 {
        return Err(FieldError::invalid(skew_path, max_skew, "not in valid range (0, inf)"));
    }
    let key_path = format!("{path}.topologyKey");
    let key = read::string(v.get("topologyKey"), &key_path)?.unwrap_or_default();
    if key.is_empty() {
        return Err(FieldError::new(key_path, "Required value: can not be empty"));
    }
    if let Some(msg) = validate_label_name(&key) {
        return Err(FieldError::invalid(key_path, format!("{key:?}"), msg));
    }
    let when_path = format!("{path}.whenUnsatisfiable");
    let when = read::string(v.get("whenUnsatisfiable"), &when_path)?.unwrap_or_default();
    let when_unsatisfiable = match when.as_str() {
        "" => return Err(FieldError::new(when_path, "Required value: can not be empty")),
        DO_NOT_SCHEDULE => WhenUnsatisfiable::DoNotSchedule,
        SCHEDULE_ANYWAY => WhenUnsatisfiable::ScheduleAnyway,
        other => return Err(FieldError::not_supported(when_path, other, &[DO_NOT_SCHEDULE, SCHEDULE_ANYWAY])),
    };
    if !matches!(v.get("labelSelector"), None | Some(ArgValue::Null)) {
        return Err(FieldError::new(
            format!("{path}.labelSelector"),
            "Forbidden: constraint must not define a selector, as they deduced for each pod",
        ));
    }
    let min_domains = read::int(v.get("minDomains"), &format!("{path}.minDomains"))?
        .map(|m| m.clamp(i32::MIN as i64, i32::MAX as i64) as i32);
    // The args validation does not check the policies; anything but "Honor" acts as Ignore.
    let policy = |field: &str| -> Result<Option<InclusionPolicy>, FieldError> {
        Ok(read::string(v.get(field), &format!("{path}.{field}"))?
            .map(|s| if s == "Honor" { InclusionPolicy::Honor } else { InclusionPolicy::Ignore }))
    };
    let match_label_keys = read::strings(v.get("matchLabelKeys"), &format!("{path}.matchLabelKeys"))?
        .iter()
        .map(|s| Sym::new(s))
        .collect();
    Ok(TopologySpreadConstraint {
        max_skew: max_skew as i32,
        topology_key: Sym::new(&key),
        when_unsatisfiable,
        label_selector: None,
        min_domains,
        node_affinity_policy: policy("nodeAffinityPolicy")?,
        node_taints_policy: policy("nodeTaintsPolicy")?,
        match_label_keys,
    })
}

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/// apimachinery's `RegexError` (whose examples are joined so that two spaces precede "or").
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let examples: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!("{msg} (e.g. {}regex used for validation is '{fmt}')", examples.join(" or "))
}

fn is_qualified_name_part(name: &str) -> bool {
    let b = name.as_bytes();
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    !b.is_empty()
        && alnum(b[0])
        && alnum(b[b.len() - 1])
        && b.iter().all(|&c| alnum(c) || c == b'-' || c == b'_' || c == b'.')
}

fn is_dns1123_subdomain(s: &str) -> bool {
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty() && ok(b[0]) && ok(b[b.len() - 1]) && b.iter().all(|&c| ok(c) || c == b'-')
    };
    s.split('.').all(label_ok)
}

/// `ValidateLabelName` (`IsQualifiedName`): the first problem with `key`, if any.
pub fn validate_label_name(key: &str) -> Option<String> {
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                return Some("prefix part must be non-empty".into());
            }
            if prefix.len() > 253 {
                return Some("prefix part must be no more than 253 characters".into());
            }
            if !is_dns1123_subdomain(prefix) {
                return Some(format!(
                    "prefix part {}",
                    regex_error(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, &["example.com"])
                ));
            }
            *name
        }
        _ => {
            return Some(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
        }
    };
    if name.is_empty() {
        return Some("name part must be non-empty".into());
    }
    if name.len() > 63 {
        return Some("name part must be no more than 63 characters".into());
    }
    if !is_qualified_name_part(name) {
        return Some(format!(
            "name part {}",
            regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn map(pairs: Vec<(&str, ArgValue)>) -> ArgValue {
        ArgValue::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>())
    }
    fn s(x: &str) -> ArgValue {
        ArgValue::String(x.into())
    }
    fn constraint(skew: i64, key: &str, when: &str) -> ArgValue {
        map(vec![("maxSkew", ArgValue::Int(skew)), ("topologyKey", s(key)), ("whenUnsatisfiable", s(when))])
    }
    fn err(args: ArgValue) -> String {
        match parse_args(&args, "args") {
            Err(e) => e.to_string(),
            Ok(p) => panic!("expected an error, got {p:?}"),
        }
    }

    #[test]
    fn defaults_to_system_constraints() {
        let p = parse_args(&ArgValue::Null, "args").unwrap();
        assert!(p.system_defaulted);
        assert_eq!(p.default_constraints.len(), 2);
        assert_eq!((p.default_constraints[0].topology_key, p.default_constraints[0].max_skew), (Sym::HOSTNAME, 3));
        assert_eq!((p.default_constraints[1].topology_key, p.default_constraints[1].max_skew), (Sym::ZONE, 5));
        let p = parse_args(&map(vec![("defaultingType", s("List"))]), "args").unwrap();
        assert!(!p.system_defaulted);
        assert!(p.default_constraints.is_empty());
    }

    #[test]
    fn list_constraints_parse() {
        let args = map(vec![
            ("defaultingType", s("List")),
            (
                "defaultConstraints",
                ArgValue::List(vec![map(vec![
                    ("maxSkew", ArgValue::Int(2)),
                    ("topologyKey", s("topology.kubernetes.io/zone")),
                    ("whenUnsatisfiable", s("DoNotSchedule")),
                    ("nodeTaintsPolicy", s("Honor")),
                    ("minDomains", ArgValue::Int(3)),
                ])]),
            ),
        ]);
        let p = parse_args(&args, "args").unwrap();
        let c = &p.default_constraints[0];
        assert_eq!(c.when_unsatisfiable, WhenUnsatisfiable::DoNotSchedule);
        assert_eq!(c.node_taints_policy, Some(InclusionPolicy::Honor));
        assert_eq!(c.min_domains, Some(3));
    }

    #[test]
    fn validation_messages_match_kube_scheduler() {
        // validateDefaultingType
        assert_eq!(
            err(map(vec![("defaultingType", s("Foo"))])),
            r#"args.defaultingType: Unsupported value: "Foo": supported values: "List", "System""#
        );
        assert_eq!(
            err(map(vec![("defaultConstraints", ArgValue::List(vec![constraint(1, "zone", "ScheduleAnyway")]))])),
            r#"args.defaultingType: Invalid value: "System": when .defaultConstraints are not empty"#
        );
        let list = |items: Vec<ArgValue>| {
            map(vec![("defaultingType", s("List")), ("defaultConstraints", ArgValue::List(items))])
        };
        assert_eq!(
            err(list(vec![constraint(0, "zone", "ScheduleAnyway")])),
            "args.defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, inf)"
        );
        assert_eq!(
            err(list(vec![constraint(1, "", "ScheduleAnyway")])),
            "args.defaultConstraints[0].topologyKey: Required value: can not be empty"
        );
        assert_eq!(
            err(list(vec![constraint(1, "zone", "")])),
            "args.defaultConstraints[0].whenUnsatisfiable: Required value: can not be empty"
        );
        assert_eq!(
            err(list(vec![constraint(1, "zone", "Sometimes")])),
            r#"args.defaultConstraints[0].whenUnsatisfiable: Unsupported value: "Sometimes": supported values: "DoNotSchedule", "ScheduleAnyway""#
        );
        let mut with_selector = constraint(1, "zone", "ScheduleAnyway");
        if let ArgValue::Map(m) = &mut with_selector {
            m.insert("labelSelector".into(), map(vec![]));
        }
        assert_eq!(
            err(list(vec![with_selector])),
            "args.defaultConstraints[0].labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod"
        );
        assert_eq!(
            err(list(vec![constraint(1, "zone", "ScheduleAnyway"), constraint(2, "zone", "ScheduleAnyway")])),
            r#"args.defaultConstraints[1]: Duplicate value: "{zone, ScheduleAnyway}""#
        );
        assert_eq!(
            err(list(vec![constraint(1, "bad key!", "ScheduleAnyway")])),
            r#"args.defaultConstraints[0].topologyKey: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"#
        );
        // Same key with the other action is not a duplicate.
        assert!(
            parse_args(
                &list(vec![constraint(1, "zone", "ScheduleAnyway"), constraint(1, "zone", "DoNotSchedule")]),
                "a"
            )
            .is_ok()
        );
    }

    #[test]
    fn label_names() {
        assert_eq!(validate_label_name("topology.kubernetes.io/zone"), None);
        assert_eq!(validate_label_name("kubernetes.io/hostname"), None);
        assert_eq!(validate_label_name("/zone").as_deref(), Some("prefix part must be non-empty"));
        assert!(validate_label_name("Example.com/zone").unwrap().starts_with("prefix part a lowercase RFC 1123"));
        assert!(validate_label_name("a/b/c").unwrap().starts_with("a qualified name must consist"));
        assert_eq!(
            validate_label_name(&"x".repeat(64)).as_deref(),
            Some("name part must be no more than 63 characters")
        );
    }
}
