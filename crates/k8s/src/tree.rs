//! A YAML/JSON value tree that remembers the line of every node, plus field paths.
//!
//! Both parsers ([`crate::yaml`], [`crate::json`]) build this tree; [`crate::de`] deserializes
//! `k8s-openapi` types from it, and errors found anywhere later (a bad quantity, an absent
//! PriorityClass) are mapped back to a line with [`Node::line_of`].

use std::fmt;

/// A parsed number, with the text it was written as (quantities keep the exact text).
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    pub text: String,
    pub parsed: Num,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Int(i64),
    UInt(u64),
    Float(f64),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(Number),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order; keys are unique.
    Map(Vec<Entry>),
}

/// One `key: value` entry of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    /// The line of the key (1-based).
    pub key_line: usize,
    pub value: Node,
}

/// A value and the line (1-based) where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub line: usize,
    pub value: Value,
}

impl Node {
    pub fn new(line: usize, value: Value) -> Node {
        Node { line, value }
    }

    /// The value of `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The string value of `key`, when it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        match self.get(key).map(|n| &n.value) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Num(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    /// The line of the deepest node along `path` that exists: the key's line for a mapping
    /// entry, the item's line for a list element. An empty path gives this node's line.
    pub fn line_of(&self, path: &FieldPath) -> usize {
        let mut node = self;
        let mut line = self.line;
        for seg in &path.0 {
            match (seg, &node.value) {
                (Seg::Key(k), Value::Map(entries)) => match entries.iter().find(|e| &e.key == k) {
                    Some(e) => {
                        line = e.key_line;
                        node = &e.value;
                    }
                    None => break,
                },
                (Seg::Index(i), Value::Seq(items)) => match items.get(*i) {
                    Some(item) => {
                        line = item.line;
                        node = item;
                    }
                    None => break,
                },
                _ => break,
            }
        }
        line
    }

    /// The node at `path`, if it exists.
    pub fn at(&self, path: &FieldPath) -> Option<&Node> {
        let mut node = self;
        for seg in &path.0 {
            node = match (seg, &node.value) {
                (Seg::Key(k), Value::Map(_)) => node.get(k)?,
                (Seg::Index(i), Value::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Converts to JSON. Numbers keep their parsed value; non-finite floats become null.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Num(n) => match n.parsed {
                Num::Int(i) => i.into(),
                Num::UInt(u) => u.into(),
                Num::Float(f) => serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into),
            },
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => serde_json::Value::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                serde_json::Value::Object(entries.iter().map(|e| (e.key.clone(), e.value.to_json())).collect())
            }
        }
    }

    /// How many nodes this tree holds (for the alias-expansion limit).
    pub fn size(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::size).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.size()).sum(),
            _ => 0,
        }
    }
}

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A field path such as `spec.containers[0].resources.requests.cpu`. Keys that are not plain
/// identifiers print in brackets: `metadata.labels[app.kubernetes.io/name]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    /// Parses a path as kube (and this crate) prints it: `a.b[0].c`, `requests[nvidia.com/gpu]`.
    pub fn parse_kube(path: &str) -> FieldPath {
        let mut segs = Vec::new();
        let bytes = path.as_bytes();
        let mut i = 0;
        let mut cur = String::new();
        while i < bytes.len() {
            match bytes[i] {
                b'.' => {
                    if !cur.is_empty() {
                        segs.push(Seg::Key(std::mem::take(&mut cur)));
                    }
                    i += 1;
                }
                b'[' => {
                    if !cur.is_empty() {
                        segs.push(Seg::Key(std::mem::take(&mut cur)));
                    }
                    let end = path[i + 1..].find(']').map_or(path.len(), |e| i + 1 + e);
                    let inner = &path[i + 1..end];
                    match inner.parse::<usize>() {
                        Ok(n) => segs.push(Seg::Index(n)),
                        Err(_) => segs.push(Seg::Key(inner.trim_matches('"').to_string())),
                    }
                    i = end + 1;
                }
                _ => {
                    let ch_len = path[i..].chars().next().map_or(1, char::len_utf8);
                    cur.push_str(&path[i..i + ch_len]);
                    i += ch_len;
                }
            }
        }
        if !cur.is_empty() {
            segs.push(Seg::Key(cur));
        }
        FieldPath(segs)
    }

    pub fn key(&self, k: &str) -> FieldPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }

    pub fn index(&self, i: usize) -> FieldPath {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    /// `prefix` followed by this path.
    pub fn under(&self, prefix: &FieldPath) -> FieldPath {
        let mut p = prefix.clone();
        p.0.extend(self.0.iter().cloned());
        p
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn starts_with(&self, prefix: &FieldPath) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Key(k) => write!(f, "[{k}]")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, key_line: usize, value: Node) -> Entry {
        Entry { key: key.into(), key_line, value }
    }

    #[test]
    fn paths_print_like_kube() {
        let p = FieldPath::root().key("spec").key("containers").index(0).key("resources").key("requests").key("cpu");
        assert_eq!(p.to_string(), "spec.containers[0].resources.requests.cpu");
        let q = FieldPath::root().key("metadata").key("labels").key("app.kubernetes.io/name");
        assert_eq!(q.to_string(), "metadata.labels[app.kubernetes.io/name]");
        assert_eq!(FieldPath::parse_kube(&p.to_string()), p);
        assert_eq!(FieldPath::parse_kube(&q.to_string()), q);
    }

    #[test]
    fn line_of_uses_key_lines_and_stops_at_the_deepest_existing_node() {
        // spec:            (line 3)
        //   containers:    (line 4)
        //   - name: a      (line 5)
        let container = Node::new(5, Value::Map(vec![entry("name", 5, Node::new(5, Value::Str("a".into())))]));
        let spec = Node::new(4, Value::Map(vec![entry("containers", 4, Node::new(5, Value::Seq(vec![container])))]));
        let root = Node::new(1, Value::Map(vec![entry("spec", 3, spec)]));
        assert_eq!(root.line_of(&FieldPath::root().key("spec")), 3);
        assert_eq!(root.line_of(&FieldPath::root().key("spec").key("containers").index(0).key("name")), 5);
        assert_eq!(root.line_of(&FieldPath::root().key("spec").key("missing").key("deeper")), 3);
        assert_eq!(root.line_of(&FieldPath::root().key("spec").key("containers").index(7)), 4);
    }
}
