//! Reading input: files, folders (recursively, `*.yaml|*.yml|*.json`, sorted by path) and
//! standard input (`-`), any number of times.

use crate::error::{ErrorKind, LoadError};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One `-f` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file or a folder.
    Path(PathBuf),
    /// The text read from standard input (`-`). The caller reads stdin once and passes it here,
    /// so loading stays testable.
    Stdin(String),
    /// In-memory text under a display name (tests, embedded examples).
    Text { name: String, text: String },
}

impl Input {
    /// `-` → [`Input::Stdin`] with the text `read_stdin` returns; anything else is a path.
    pub fn from_arg(arg: &str, read_stdin: impl FnOnce() -> std::io::Result<String>) -> Result<Input, Box<LoadError>> {
        if arg == "-" {
            read_stdin().map(Input::Stdin).map_err(|e| {
                Box::new(LoadError::file(ErrorKind::Io, STDIN_NAME, format!("cannot read standard input: {e}")))
            })
        } else {
            Ok(Input::Path(PathBuf::from(arg)))
        }
    }

    pub fn text(name: &str, text: &str) -> Input {
        Input::Text { name: name.to_string(), text: text.to_string() }
    }
}

/// The name standard input is reported under.
pub const STDIN_NAME: &str = "<stdin>";

/// The format a source is parsed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    /// YAML, or JSON when the text starts with `{` or `[` (tried first, YAML as fallback).
    Auto,
}

/// The text of one file (or stdin).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceText {
    pub name: String,
    pub text: String,
    pub format: Format,
}

fn is_manifest(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "yaml" | "yml" | "json"))
}

fn format_of(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
        _ => Format::Auto,
    }
}

fn read_file(path: &Path, out: &mut Vec<SourceText>, errors: &mut Vec<LoadError>) {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Err(e) => errors.push(LoadError::file(ErrorKind::Io, &name, e.to_string())),
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => out.push(SourceText { name, text: strip_bom(text), format: format_of(path) }),
            Err(e) => errors.push(LoadError::file(
                ErrorKind::Io,
                &name,
                format!("not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()),
            )),
        },
    }
}

fn strip_bom(text: String) -> String {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// Every manifest file under `dir`, recursively, sorted by path. Symlinked folders are followed
/// once (a loop is not followed twice).
fn walk(dir: &Path, visited: &mut BTreeSet<PathBuf>, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if !visited.insert(canonical) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(LoadError::file(ErrorKind::Io, &dir.display().to_string(), e.to_string()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, visited, files, errors);
        } else if is_manifest(&p) {
            files.push(p);
        }
    }
}

/// Reads every input in order. Folders contribute their manifest files sorted by path.
pub fn read_sources(inputs: &[Input]) -> (Vec<SourceText>, Vec<LoadError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        match input {
            Input::Stdin(text) => out.push(SourceText {
                name: STDIN_NAME.to_string(),
                text: strip_bom(text.clone()),
                format: Format::Auto,
            }),
            Input::Text { name, text } => {
                let format = format_of(Path::new(name));
                out.push(SourceText { name: name.clone(), text: strip_bom(text.clone()), format });
            }
            Input::Path(path) if path.is_dir() => {
                let mut files = Vec::new();
                walk(path, &mut BTreeSet::new(), &mut files, &mut errors);
                files.sort();
                for f in files {
                    read_file(&f, &mut out, &mut errors);
                }
            }
            Input::Path(path) => read_file(path, &mut out, &mut errors),
        }
    }
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_read_recursively_in_path_order_and_only_manifests() {
        let dir = std::env::temp_dir().join(format!("kubesched-k8s-input-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("b/sub")).expect("mkdir");
        std::fs::create_dir_all(dir.join("a")).expect("mkdir");
        for (p, t) in
            [("b/sub/z.yml", "z"), ("b/1.json", "{}"), ("a/x.yaml", "x"), ("a/notes.txt", "ignored"), ("c.YAML", "c")]
        {
            std::fs::write(dir.join(p), t).expect("write");
        }
        let (sources, errors) = read_sources(&[Input::Path(dir.clone()), Input::Stdin("s".into())]);
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<String> = sources
            .iter()
            .map(|s| s.name.strip_prefix(&dir.display().to_string()).unwrap_or(&s.name).to_string())
            .collect();
        assert_eq!(names, ["/a/x.yaml", "/b/1.json", "/b/sub/z.yml", "/c.YAML", "<stdin>"]);
        assert_eq!(sources[1].format, Format::Json);
        assert_eq!(sources[0].format, Format::Auto);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_files_are_errors_naming_the_file() {
        let (sources, errors) = read_sources(&[Input::Path(PathBuf::from("/nonexistent/kubesched/x.yaml"))]);
        assert!(sources.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().starts_with("/nonexistent/kubesched/x.yaml: "), "{}", errors[0]);
    }

    #[test]
    fn dash_reads_stdin_through_the_given_reader() {
        let input = Input::from_arg("-", || Ok("kind: Node".to_string())).expect("stdin");
        assert_eq!(input, Input::Stdin("kind: Node".into()));
        assert_eq!(Input::from_arg("x.yaml", || unreachable!()).ok(), Some(Input::Path("x.yaml".into())));
    }
}
