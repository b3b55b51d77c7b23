//! Errors that name the file, the document, the line and the field, and where objects came from.

use std::fmt;
use std::sync::Arc;

/// Where an object was read: file, document (1-based), item within a `List` (1-based), line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source {
    /// The path as given (or found under a folder given), `<stdin>` for `-`.
    pub file: Arc<str>,
    pub document: usize,
    pub item: Option<usize>,
    /// The line where the object starts.
    pub line: usize,
}

impl Source {
    pub fn new(file: &str, document: usize, item: Option<usize>, line: usize) -> Source {
        Source { file: Arc::from(file), document, item, line }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: document {}", self.file, self.document)?;
        if let Some(item) = self.item {
            write!(f, ", item {item}")?;
        }
        Ok(())
    }
}

/// What went wrong, for callers that react differently (the CLI exits 2 on any of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// Malformed YAML or JSON.
    Syntax,
    /// A field has the wrong type, is missing, or is unknown (strict decoding).
    Decode,
    /// A value is invalid (a malformed quantity, a negative request, a bad operator).
    Invalid,
    /// Admission refused the object (an absent PriorityClass).
    Forbidden,
    /// The same object twice.
    Duplicate,
}

/// An error in the input, with everything needed to find it:
/// `pods.yaml: document 3 (Pod default/web-1), line 17: spec.containers[0].resources.requests.cpu: …`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub kind: ErrorKind,
    pub file: Arc<str>,
    pub document: Option<usize>,
    pub item: Option<usize>,
    /// `Pod default/web-1`, `Node n1`, when known.
    pub object: Option<String>,
    pub line: Option<usize>,
    /// The field path, e.g. `spec.containers[0].resources.requests.cpu`.
    pub field: Option<String>,
    pub message: String,
}

impl LoadError {
    /// A YAML/JSON syntax error in `file`.
    pub fn syntax(file: &str, e: crate::yaml::SyntaxError) -> LoadError {
        LoadError {
            kind: ErrorKind::Syntax,
            file: Arc::from(file),
            document: Some(e.document),
            item: None,
            object: None,
            line: Some(e.line),
            field: None,
            message: e.message,
        }
    }

    /// An error about a whole file (no document).
    pub fn file(kind: ErrorKind, file: &str, message: impl Into<String>) -> LoadError {
        LoadError {
            kind,
            file: Arc::from(file),
            document: None,
            item: None,
            object: None,
            line: None,
            field: None,
            message: message.into(),
        }
    }

    /// An error at `line` of the object read from `source`.
    pub fn at(
        kind: ErrorKind,
        source: &Source,
        object: Option<String>,
        line: usize,
        field: Option<String>,
        message: impl Into<String>,
    ) -> LoadError {
        LoadError {
            kind,
            file: source.file.clone(),
            document: Some(source.document),
            item: source.item,
            object,
            line: Some(line),
            field: field.filter(|f| !f.is_empty()),
            message: message.into(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(doc) = self.document {
            write!(f, ": document {doc}")?;
        }
        if let Some(item) = self.item {
            write!(f, ", item {item}")?;
        }
        if let Some(obj) = &self.object {
            write!(f, " ({obj})")?;
        }
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// `Kind namespace/name`, `Kind name` for cluster-scoped objects, or just `Kind`.
pub fn describe_object(kind: &str, namespace: Option<&str>, name: Option<&str>) -> Option<String> {
    if kind.is_empty() {
        return None;
    }
    Some(match (namespace.filter(|n| !n.is_empty()), name.filter(|n| !n.is_empty())) {
        (Some(ns), Some(name)) => format!("{kind} {ns}/{name}"),
        (None, Some(name)) => format!("{kind} {name}"),
        _ => kind.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_file_document_object_line_and_field() {
        let src = Source::new("pods.yaml", 3, None, 1);
        let e = LoadError::at(
            ErrorKind::Invalid,
            &src,
            describe_object("Pod", Some("default"), Some("web-1")),
            17,
            Some("spec.containers[0].resources.requests.cpu".into()),
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        );
        assert_eq!(
            e.to_string(),
            "pods.yaml: document 3 (Pod default/web-1), line 17: spec.containers[0].resources.requests.cpu: \
             quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
        let list = Source::new("dump.yaml", 1, Some(4), 30);
        let e = LoadError::at(ErrorKind::Decode, &list, describe_object("Node", None, Some("n1")), 31, None, "boom");
        assert_eq!(e.to_string(), "dump.yaml: document 1, item 4 (Node n1), line 31: boom");
        assert_eq!(LoadError::file(ErrorKind::Io, "x.yaml", "No such file").to_string(), "x.yaml: No such file");
    }
}
