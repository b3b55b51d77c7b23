//! The output contracts. Tests and tools outside this repo parse these documents: fields are
//! only ever added, never renamed or removed. Internal types stay un-serializable; this crate
//! converts them into the public shapes.

pub mod schedule;
pub mod table;

use serde::Serialize;

/// `-o table|json|yaml`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "yaml" => Ok(Format::Yaml),
            other => Err(format!("unknown output format {other:?} (expected table, json or yaml)")),
        }
    }
}

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}

/// YAML of the same document as [`to_json`].
pub fn to_yaml<T: Serialize>(value: &T) -> String {
    // Going through serde_json::Value keeps field order and the JSON shape identical.
    let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    serde_saphyr::to_string(&v).unwrap_or_else(|e| format!("error: {e}\n"))
}
