//! A tiny value tree for plugin arguments (`pluginConfig[].args`).
//!
//! The core does not parse YAML; the edge layer converts whatever it read into [`ArgValue`], and
//! each plugin reads its own arguments from it in its own file, with errors that name the field
//! path as kube-scheduler's validation does.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, PartialEq, Debug, Default)]
pub enum ArgValue {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<ArgValue>),
    Map(BTreeMap<String, ArgValue>),
}

/// An invalid plugin argument or configuration field: `path: message`.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { path: path.into(), message: message.into() }
    }

    /// `path: Invalid value: <value>: <detail>` (field.Invalid).
    pub fn invalid(path: impl Into<String>, value: impl fmt::Display, detail: impl fmt::Display) -> FieldError {
        FieldError::new(path, format!("Invalid value: {value}: {detail}"))
    }

    /// `path: Required value` (field.Required).
    pub fn required(path: impl Into<String>) -> FieldError {
        FieldError::new(path, "Required value")
    }

    /// `path: Unsupported value: "x": supported values: "a", "b"` (field.NotSupported).
    pub fn not_supported(path: impl Into<String>, value: &str, supported: &[&str]) -> FieldError {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        FieldError::new(path, format!("Unsupported value: {value:?}: supported values: {}", list.join(", ")))
    }
}

impl ArgValue {
    pub fn as_map(&self) -> Option<&BTreeMap<String, ArgValue>> {
        match self {
            ArgValue::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&ArgValue> {
        self.as_map().and_then(|m| m.get(key))
    }
}

impl fmt::Display for ArgValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgValue::Null => f.write_str("null"),
            ArgValue::Bool(b) => write!(f, "{b}"),
            ArgValue::Int(i) => write!(f, "{i}"),
            ArgValue::Float(x) => write!(f, "{x}"),
            ArgValue::String(s) => write!(f, "{s:?}"),
            ArgValue::List(_) => f.write_str("[...]"),
            ArgValue::Map(_) => f.write_str("{...}"),
        }
    }
}

/// Typed readers used by plugins' argument parsers. Each returns `Ok(None)` when the field is
/// absent or null.
pub mod read {
    use super::{ArgValue, FieldError};

    pub fn int(v: Option<&ArgValue>, path: &str) -> Result<Option<i64>, FieldError> {
        match v {
            None | Some(ArgValue::Null) => Ok(None),
            Some(ArgValue::Int(i)) => Ok(Some(*i)),
            Some(ArgValue::Float(f)) if f.fract() == 0.0 => Ok(Some(*f as i64)),
            Some(other) => Err(FieldError::invalid(path, other, "expected an integer")),
        }
    }

    pub fn bool(v: Option<&ArgValue>, path: &str) -> Result<Option<bool>, FieldError> {
        match v {
            None | Some(ArgValue::Null) => Ok(None),
            Some(ArgValue::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(FieldError::invalid(path, other, "expected a boolean")),
        }
    }

    pub fn string(v: Option<&ArgValue>, path: &str) -> Result<Option<String>, FieldError> {
        match v {
            None | Some(ArgValue::Null) => Ok(None),
            Some(ArgValue::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(FieldError::invalid(path, other, "expected a string")),
        }
    }

    pub fn list<'a>(v: Option<&'a ArgValue>, path: &str) -> Result<&'a [ArgValue], FieldError> {
        match v {
            None | Some(ArgValue::Null) => Ok(&[]),
            Some(ArgValue::List(l)) => Ok(l),
            Some(other) => Err(FieldError::invalid(path, other, "expected a list")),
        }
    }

    /// Rejects keys outside `known`, as kube-scheduler's strict decoding of plugin args does.
    pub fn known_keys(v: &ArgValue, known: &[&str], path: &str) -> Result<(), FieldError> {
        match v {
            ArgValue::Null => Ok(()),
            ArgValue::Map(m) => match m.keys().find(|k| !known.contains(&k.as_str())) {
                Some(k) => Err(FieldError::new(format!("{path}.{k}"), "unknown field")),
                None => Ok(()),
            },
            other => Err(FieldError::invalid(path, other, "expected an object")),
        }
    }

    pub fn strings(v: Option<&ArgValue>, path: &str) -> Result<Vec<String>, FieldError> {
        list(v, path)?
            .iter()
            .enumerate()
            .map(|(i, item)| string(Some(item), &format!("{path}[{i}]")).map(|s| s.unwrap_or_default()))
            .collect()
    }
}
