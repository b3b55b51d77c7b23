//! The one error type of this crate: what is wrong, where (source label and field path).

/// Bad input: a document, a field, a catalog row.
///
/// `location` is the source label the caller handed in (file, document index, line…), or the
/// catalog file name; `field` is the path inside the document
/// (`spec.template.spec.requirements[2].operator`) or the catalog column (`row 12: vcpu`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {field}: {message}")]
pub struct AutoscaleError {
    pub location: String,
    pub field: String,
    pub message: String,
}

impl AutoscaleError {
    pub fn new(location: impl Into<String>, field: impl Into<String>, message: impl Into<String>) -> AutoscaleError {
        AutoscaleError { location: location.into(), field: field.into(), message: message.into() }
    }
}
