//! The one error type of this crate: what is wrong, where (source label and field path).

/// Bad input: a document, profile, pod field or price that cannot be used.
///
/// `location` is the source label the caller handed in (file, document index, line…);
/// `field` is the path inside the document (`fargateProfiles[0].selectors[1].labels`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {field}: {message}")]
pub struct FargateError {
    pub location: String,
    pub field: String,
    pub message: String,
}

impl FargateError {
    pub fn new(location: impl Into<String>, field: impl Into<String>, message: impl Into<String>) -> FargateError {
        FargateError { location: location.into(), field: field.into(), message: message.into() }
    }
}
