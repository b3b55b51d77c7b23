//! Reading raw `serde_json::Value` documents with field paths, collecting every error.

use crate::error::AutoscaleError;
use kubesched_core::model::{Taint, TaintEffect};
use kubesched_core::quantity::Quantity;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Error sink for one document.
pub(crate) struct Reader<'a> {
    pub source: &'a str,
    pub errors: Vec<AutoscaleError>,
    pub warnings: Vec<String>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

impl<'a> Reader<'a> {
    pub fn new(source: &'a str) -> Reader<'a> {
        Reader { source, errors: Vec::new(), warnings: Vec::new() }
    }

    pub fn err(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(AutoscaleError::new(self.source, field, message));
    }

    pub fn warn(&mut self, field: &str, message: impl std::fmt::Display) {
        self.warnings.push(format!("{}: {field}: {message}", self.source));
    }

    /// The object at `path` (`None` for null/absent; an error for another type).
    pub fn object<'v>(&mut self, v: Option<&'v Value>, path: &str) -> Option<&'v Map<String, Value>> {
        match v {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(other) => {
                self.err(path, format!("must be an object, got {}", type_name(other)));
                None
            }
        }
    }

    pub fn list<'v>(&mut self, v: Option<&'v Value>, path: &str) -> &'v [Value] {
        match v {
            None | Some(Value::Null) => &[],
            Some(Value::Array(a)) => a,
            Some(other) => {
                self.err(path, format!("must be a list, got {}", type_name(other)));
                &[]
            }
        }
    }

    pub fn string<'v>(&mut self, v: Option<&'v Value>, path: &str) -> Option<&'v str> {
        match v {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.err(path, format!("must be a string, got {}", type_name(other)));
                None
            }
        }
    }

    pub fn required_string<'v>(&mut self, v: Option<&'v Value>, path: &str) -> Option<&'v str> {
        let s = self.string(v, path);
        match s {
            Some(s) if !s.is_empty() => Some(s),
            Some(_) => {
                self.err(path, "must not be empty");
                None
            }
            None => {
                if v.is_none_or(Value::is_null) {
                    self.err(path, "Required value");
                }
                None
            }
        }
    }

    /// An integer; strings are not accepted (the CRDs declare integers).
    pub fn int(&mut self, v: Option<&Value>, path: &str) -> Option<i64> {
        match v {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => Some(i),
                None => {
                    self.err(path, format!("must be an integer, got {n}"));
                    None
                }
            },
            Some(other) => {
                self.err(path, format!("must be an integer, got {}", type_name(other)));
                None
            }
        }
    }

    pub fn bool(&mut self, v: Option<&Value>, path: &str) -> Option<bool> {
        match v {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                self.err(path, format!("must be a boolean, got {}", type_name(other)));
                None
            }
        }
    }

    /// A quantity written as a string or a number (`"1000"`, `1000`, `"1000Gi"`).
    pub fn quantity(&mut self, v: Option<&Value>, path: &str) -> Option<Quantity> {
        let text = match v {
            None | Some(Value::Null) => return None,
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => {
                self.err(path, format!("must be a quantity, got {}", type_name(other)));
                return None;
            }
        };
        match text.parse::<Quantity>() {
            Ok(q) if q.is_negative() => {
                self.err(path, format!("{text:?} must not be negative"));
                None
            }
            Ok(q) => Some(q),
            Err(e) => {
                self.err(path, format!("{text:?}: {e}"));
                None
            }
        }
    }

    /// A `map[string]string`.
    pub fn string_map(&mut self, v: Option<&Value>, path: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(m) = self.object(v, path) {
            for (k, val) in m {
                match val {
                    Value::String(s) => {
                        out.insert(k.clone(), s.clone());
                    }
                    other => self.err(join(path, k), format!("must be a string, got {}", type_name(other))),
                }
            }
        }
        out
    }

    /// `[]corev1.Taint`.
    pub fn taints(&mut self, v: Option<&Value>, path: &str) -> Vec<Taint> {
        let mut out = Vec::new();
        for (i, t) in self.list(v, path).iter().enumerate() {
            let p = format!("{path}[{i}]");
            let Some(m) = self.object(Some(t), &p) else { continue };
            let key = self.required_string(m.get("key"), &join(&p, "key"));
            let value = self.string(m.get("value"), &join(&p, "value")).unwrap_or("");
            let effect_path = join(&p, "effect");
            let effect = match self.string(m.get("effect"), &effect_path) {
                None => {
                    self.err(effect_path, "Required value");
                    None
                }
                Some(e) => match TaintEffect::parse(e) {
                    Some(e) => Some(e),
                    None => {
                        self.err(
                            effect_path,
                            format!("Unsupported value: {e:?}: supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""),
                        );
                        None
                    }
                },
            };
            if let (Some(key), Some(effect)) = (key, effect) {
                out.push(Taint::new(key, value, effect));
            }
        }
        out
    }

    /// Warns about keys of `m` not in `known`.
    pub fn unknown_keys(&mut self, m: &Map<String, Value>, known: &[&str], path: &str) {
        for k in m.keys() {
            if !known.contains(&k.as_str()) {
                self.warn(&join(path, k), "unknown field, ignored");
            }
        }
    }

    pub fn finish<T>(self, value: T) -> Result<(T, Vec<String>), Vec<AutoscaleError>> {
        if self.errors.is_empty() { Ok((value, self.warnings)) } else { Err(self.errors) }
    }
}
