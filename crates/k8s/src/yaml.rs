//! YAML text → [`Node`] trees, one per document, with the line of every node.
//!
//! Built on `granit-parser`'s event API (the parser serde-saphyr uses). Plain scalars are
//! resolved with the YAML 1.2 core schema, so `yes`, `on`, `no` stay strings (label values),
//! while `1`, `0.5` and `1.5e9` are numbers that keep their text (quantities).

use crate::tree::{Entry, Node, Num, Number, Value};
use granit_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

/// One document of a YAML stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 1-based index within the file.
    pub index: usize,
    /// Line where the document starts.
    pub line: usize,
    /// `None` for an empty document (only comments, or an empty `---`).
    pub root: Option<Node>,
}

/// A syntax or structure error: the document it belongs to, a line and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub document: usize,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Most nodes an alias may expand to within one document (guards against "billion laughs").
const MAX_ALIAS_NODES: usize = 1_000_000;

enum Frame {
    Seq {
        line: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: usize,
        anchor: usize,
        entries: Vec<Entry>,
        /// Key waiting for its value.
        pending: Option<(String, usize)>,
        /// Mappings from `<<` merge keys, in order of precedence.
        merges: Vec<Node>,
    },
}

struct DocBuilder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    root: Option<Node>,
}

impl DocBuilder {
    fn new() -> DocBuilder {
        DocBuilder { stack: Vec::new(), anchors: HashMap::new(), alias_nodes: 0, root: None }
    }

    /// Adds a finished node to its parent (or makes it the root).
    fn push(&mut self, node: Node, anchor: usize) -> Result<(), (usize, String)> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map { entries, pending, merges, .. }) => match pending.take() {
                None => {
                    let key = match node.value {
                        Value::Str(s) => s,
                        Value::Num(n) => n.text,
                        Value::Bool(b) => b.to_string(),
                        Value::Null => "null".to_string(),
                        Value::Seq(_) | Value::Map(_) => {
                            return Err((node.line, "mapping keys must be strings, not collections".into()));
                        }
                    };
                    *pending = Some((key, node.line));
                    Ok(())
                }
                Some((key, key_line)) => {
                    if key == "<<" {
                        match node.value {
                            Value::Map(_) => merges.push(node),
                            Value::Seq(items) => merges.extend(items),
                            _ => {
                                return Err((
                                    node.line,
                                    "a merge key `<<` needs a mapping or a list of mappings".into(),
                                ));
                            }
                        }
                        return Ok(());
                    }
                    if let Some(prev) = entries.iter().find(|e| e.key == key) {
                        return Err((
                            key_line,
                            format!("mapping key {key:?} already defined at line {}", prev.key_line),
                        ));
                    }
                    entries.push(Entry { key, key_line, value: node });
                    Ok(())
                }
            },
        }
    }

    fn alias(&mut self, id: usize, line: usize) -> Result<(), (usize, String)> {
        let node = match self.anchors.get(&id) {
            Some(n) => n.clone(),
            None => return Err((line, "unknown anchor".into())),
        };
        self.alias_nodes += node.size();
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err((line, format!("aliases expand to more than {MAX_ALIAS_NODES} nodes")));
        }
        self.push(node, 0)
    }

    fn end_map(&mut self) -> Result<(), (usize, String)> {
        match self.stack.pop() {
            Some(Frame::Map { line, anchor, mut entries, merges, .. }) => {
                for merged in merges {
                    if let Value::Map(more) = merged.value {
                        for e in more {
                            if !entries.iter().any(|x| x.key == e.key) {
                                entries.push(e);
                            }
                        }
                    } else {
                        return Err((merged.line, "a merge key `<<` needs a mapping or a list of mappings".into()));
                    }
                }
                self.push(Node::new(line, Value::Map(entries)), anchor)
            }
            _ => Err((0, "unbalanced mapping end".into())),
        }
    }

    fn end_seq(&mut self) -> Result<(), (usize, String)> {
        match self.stack.pop() {
            Some(Frame::Seq { line, anchor, items }) => self.push(Node::new(line, Value::Seq(items)), anchor),
            _ => Err((0, "unbalanced sequence end".into())),
        }
    }
}

/// Resolves a plain scalar with the YAML 1.2 core schema.
pub fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_number(text) {
        return Value::Num(Number { text: text.to_string(), parsed: n });
    }
    Value::Str(text.to_string())
}

fn parse_number(text: &str) -> Option<Num> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let negative = text.starts_with('-');
    if let Some(hex) = text.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok().map(int_num);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return u64::from_str_radix(oct, 8).ok().map(int_num);
    }
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(Num::Float(if negative { f64::NEG_INFINITY } else { f64::INFINITY })),
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == text.len() => return Some(Num::Float(f64::NAN)),
        _ => {}
    }
    if unsigned.is_empty() {
        return None;
    }
    if unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<i64>() {
            Ok(i) => Some(Num::Int(i)),
            Err(_) => match text.strip_prefix('+').unwrap_or(text).parse::<u64>() {
                Ok(u) => Some(Num::UInt(u)),
                Err(_) => text.parse::<f64>().ok().map(Num::Float),
            },
        };
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let b = unsigned.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
    }
    if i != b.len() {
        return None;
    }
    text.parse::<f64>().ok().map(Num::Float)
}

fn int_num(u: u64) -> Num {
    i64::try_from(u).map_or(Num::UInt(u), Num::Int)
}

/// Applies an explicit core-schema tag (`!!str`, `!!int`…) to a scalar.
fn tagged_scalar(suffix: &str, text: &str, line: usize) -> Result<Value, (usize, String)> {
    match suffix {
        "str" => Ok(Value::Str(text.to_string())),
        "null" => Ok(Value::Null),
        "bool" => match resolve_plain(text) {
            v @ Value::Bool(_) => Ok(v),
            _ => Err((line, format!("invalid !!bool value {text:?}"))),
        },
        "int" | "float" => match resolve_plain(text) {
            v @ Value::Num(_) => Ok(v),
            _ => Err((line, format!("invalid !!{suffix} value {text:?}"))),
        },
        _ => Ok(resolve_plain(text)),
    }
}

/// Parses a YAML stream. Documents before a syntax error are returned; a structural error in
/// one document (duplicate key, bad alias) is reported for that document and parsing goes on.
pub fn parse(text: &str) -> (Vec<Document>, Vec<SyntaxError>) {
    let mut options = granit_parser::Options::default();
    options.emit_comments = false;
    let parser = Parser::new_from_str_with_options(text, options);
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut doc_index = 0usize;
    let mut doc_line = 1usize;
    let mut builder = DocBuilder::new();
    let mut doc_failed = false;
    for event in parser {
        let (event, span) = match event {
            Ok(e) => e,
            Err(e) => {
                let marker = e.marker();
                // An error before any document starts belongs to document 1.
                errors.push(SyntaxError {
                    document: doc_index.max(1),
                    line: marker.line(),
                    column: marker.col() + 1,
                    message: e.info(),
                });
                return (docs, errors);
            }
        };
        let line = span.start.line();
        if doc_failed && !matches!(event, Event::DocumentEnd | Event::DocumentStart(..) | Event::StreamEnd) {
            continue;
        }
        let result = match event {
            Event::StreamStart | Event::StreamEnd | Event::Anchor(..) => Ok(()),
            Event::DocumentStart(..) => {
                doc_index += 1;
                doc_line = line;
                builder = DocBuilder::new();
                doc_failed = false;
                Ok(())
            }
            Event::DocumentEnd => {
                if !doc_failed {
                    docs.push(Document { index: doc_index, line: doc_line, root: builder.root.take() });
                }
                doc_failed = false;
                Ok(())
            }
            Event::Alias(id) => builder.alias(id, line),
            Event::UnresolvedAlias(name) => Err((line, format!("unknown anchor {name:?}"))),
            Event::Scalar(text, style, anchor, tag) => {
                let value = match (&tag, style) {
                    (Some(tag), _) if tag.core_suffix().is_some() => {
                        tagged_scalar(tag.core_suffix().unwrap_or_default(), &text, line)
                    }
                    (_, ScalarStyle::Plain) => Ok(resolve_plain(&text)),
                    _ => Ok(Value::Str(text.into_owned())),
                };
                value.and_then(|v| builder.push(Node::new(line, v), anchor))
            }
            Event::SequenceStart(_, anchor, _) => {
                builder.stack.push(Frame::Seq { line, anchor, items: Vec::new() });
                Ok(())
            }
            Event::SequenceEnd => builder.end_seq(),
            Event::MappingStart(_, anchor, _) => {
                builder.stack.push(Frame::Map { line, anchor, entries: Vec::new(), pending: None, merges: Vec::new() });
                Ok(())
            }
            Event::MappingEnd => builder.end_map(),
            #[allow(unreachable_patterns)]
            _ => Ok(()),
        };
        if let Err((err_line, message)) = result {
            errors.push(SyntaxError {
                document: doc_index.max(1),
                line: if err_line == 0 { line } else { err_line },
                column: 0,
                message,
            });
            doc_failed = true;
        }
    }
    (docs, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::FieldPath;

    fn one(text: &str) -> Node {
        let (docs, errs) = parse(text);
        assert!(errs.is_empty(), "{errs:?}");
        docs.into_iter().next().and_then(|d| d.root).expect("a document")
    }

    #[test]
    fn core_schema_keeps_yes_and_on_as_strings() {
        let n = one("a: yes\nb: on\nc: true\nd: 1\ne: 0.5\nf: 1.5e9\ng: ~\nh: '1'\ni: 1Gi\nj: 0x1F\n");
        assert_eq!(n.get("a").map(|v| &v.value), Some(&Value::Str("yes".into())));
        assert_eq!(n.get("b").map(|v| &v.value), Some(&Value::Str("on".into())));
        assert_eq!(n.get("c").map(|v| &v.value), Some(&Value::Bool(true)));
        assert_eq!(n.get("d").map(|v| &v.value), Some(&Value::Num(Number { text: "1".into(), parsed: Num::Int(1) })));
        assert_eq!(
            n.get("f").map(|v| &v.value),
            Some(&Value::Num(Number { text: "1.5e9".into(), parsed: Num::Float(1.5e9) }))
        );
        assert!(matches!(n.get("e").map(|v| &v.value), Some(Value::Num(Number { parsed: Num::Float(_), .. }))));
        assert_eq!(n.get("g").map(|v| &v.value), Some(&Value::Null));
        assert_eq!(n.get("h").map(|v| &v.value), Some(&Value::Str("1".into())));
        assert_eq!(n.get("i").map(|v| &v.value), Some(&Value::Str("1Gi".into())));
        assert!(matches!(n.get("j").map(|v| &v.value), Some(Value::Num(Number { parsed: Num::Int(31), .. }))));
    }

    #[test]
    fn lines_are_recorded_per_node() {
        let text = "kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n";
        let n = one(text);
        assert_eq!(n.line_of(&FieldPath::parse_kube("spec.containers[1].name")), 8);
        assert_eq!(n.line_of(&FieldPath::parse_kube("spec.containers[0].image")), 7);
        assert_eq!(n.line_of(&FieldPath::parse_kube("metadata")), 2);
        assert_eq!(n.line_of(&FieldPath::parse_kube("spec")), 4);
    }

    #[test]
    fn multi_document_streams_number_documents_and_skip_nothing() {
        let (docs, errs) = parse("a: 1\n---\n# only a comment\n---\nb: 2\n");
        assert!(errs.is_empty());
        let summary: Vec<(usize, usize, bool)> = docs.iter().map(|d| (d.index, d.line, d.root.is_some())).collect();
        assert_eq!(summary[0], (1, 1, true));
        assert_eq!(summary.last().map(|s| (s.0, s.2)), Some((3, true)));
        assert_eq!(docs.last().and_then(|d| d.root.as_ref()).map(|r| r.line), Some(5));
    }

    #[test]
    fn leading_and_trailing_separators_and_crlf() {
        let (docs, errs) = parse("---\r\nkind: A\r\n---\r\nkind: B\r\nx: 1\r\n---\r\n");
        assert!(errs.is_empty(), "{errs:?}");
        let kinds: Vec<(usize, Option<&str>)> =
            docs.iter().map(|d| (d.index, d.root.as_ref().and_then(|r| r.get_str("kind")))).collect();
        assert_eq!(&kinds[..2], [(1, Some("A")), (2, Some("B"))]);
        assert!(kinds[2..].iter().all(|(_, k)| k.is_none()));
        assert_eq!(docs[1].root.as_ref().map(|r| r.line_of(&FieldPath::parse_kube("x"))), Some(5));
    }

    #[test]
    fn syntax_errors_name_document_and_line() {
        let (docs, errs) = parse("a: 1\n---\nb: [1, 2\nc: 3\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].document, 2);
        assert!(errs[0].line >= 3, "{errs:?}");
    }

    #[test]
    fn duplicate_keys_fail_only_their_document() {
        let (docs, errs) = parse("a: 1\na: 2\n---\nb: 2\n");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].document, 1);
        assert_eq!(errs[0].line, 2);
        assert!(errs[0].message.contains("already defined at line 1"), "{}", errs[0].message);
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].index, 2);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let n = one("base: &b {cpu: 1, memory: 2}\nx:\n  <<: *b\n  cpu: 3\ny: *b\n");
        let x = n.get("x").expect("x");
        assert_eq!(x.get("cpu").map(|v| v.to_json()), Some(serde_json::json!(3)));
        assert_eq!(x.get("memory").map(|v| v.to_json()), Some(serde_json::json!(2)));
        assert_eq!(n.get("y").map(Node::to_json), Some(serde_json::json!({"cpu": 1, "memory": 2})));
    }

    #[test]
    fn explicit_tags_override_resolution() {
        let n = one("a: !!str 123\nb: !!int \"7\"\n");
        assert_eq!(n.get("a").map(|v| &v.value), Some(&Value::Str("123".into())));
        assert!(matches!(n.get("b").map(|v| &v.value), Some(Value::Num(Number { parsed: Num::Int(7), .. }))));
    }
}
