//! JSON text → [`Node`] trees with lines. A file may hold several JSON values one after the
//! other (`kubectl get -o json` output concatenated, JSON lines); each is a document.

use crate::tree::{Entry, Node, Num, Number, Value};
use crate::yaml::{Document, SyntaxError};

const MAX_DEPTH: usize = 512;

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
}

type PResult<T> = Result<T, (usize, usize, String)>;

impl<'a> Parser<'a> {
    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err((self.line, self.pos - self.line_start + 1, msg.into()))
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                _ => break,
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> PResult<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(format!("expected `{}`, found {}", c as char, self.describe_here()))
        }
    }

    fn describe_here(&self) -> String {
        match self.text[self.pos..].chars().next() {
            None => "end of input".to_string(),
            Some(c) => format!("`{c}`"),
        }
    }

    fn value(&mut self, depth: usize) -> PResult<Node> {
        if depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        self.skip_ws();
        let line = self.line;
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                let mut entries: Vec<Entry> = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Node::new(line, Value::Map(entries)));
                }
                loop {
                    self.skip_ws();
                    let key_line = self.line;
                    if self.peek() != Some(b'"') {
                        return self.err(format!("expected a string key, found {}", self.describe_here()));
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    self.expect(b':')?;
                    let value = self.value(depth + 1)?;
                    if let Some(prev) = entries.iter().find(|e| e.key == key) {
                        return Err((
                            key_line,
                            0,
                            format!("mapping key {key:?} already defined at line {}", prev.key_line),
                        ));
                    }
                    entries.push(Entry { key, key_line, value });
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Node::new(line, Value::Map(entries)));
                        }
                        _ => return self.err(format!("expected `,` or `}}`, found {}", self.describe_here())),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Node::new(line, Value::Seq(items)));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Node::new(line, Value::Seq(items)));
                        }
                        _ => return self.err(format!("expected `,` or `]`, found {}", self.describe_here())),
                    }
                }
            }
            Some(b'"') => Ok(Node::new(line, Value::Str(self.string()?))),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.err(format!("expected a value, found {}", self.describe_here())),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> PResult<Node> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(Node::new(self.line, value))
        } else {
            self.err(format!("expected a value, found {}", self.describe_here()))
        }
    }

    fn number(&mut self) -> PResult<Node> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos - s
        };
        if digits(self) == 0 {
            return self.err("invalid number");
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            float = true;
            if digits(self) == 0 {
                return self.err("invalid number");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            float = true;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return self.err("invalid number");
            }
        }
        let text = &self.text[start..self.pos];
        let parsed = if float {
            text.parse::<f64>().ok().map(Num::Float)
        } else {
            text.parse::<i64>()
                .map(Num::Int)
                .ok()
                .or_else(|| text.parse::<u64>().ok().map(Num::UInt))
                .or_else(|| text.parse::<f64>().ok().map(Num::Float))
        };
        match parsed {
            Some(parsed) => Ok(Node::new(self.line, Value::Num(Number { text: text.to_string(), parsed }))),
            None => self.err("invalid number"),
        }
    }

    fn string(&mut self) -> PResult<String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let Some(stop) = rest.find(['"', '\\', '\n']) else {
                self.pos = self.bytes.len();
                return self.err("unterminated string");
            };
            out.push_str(&rest[..stop]);
            self.pos += stop;
            match self.bytes[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\n' => return self.err("control character in string"),
                _ => {
                    self.pos += 1;
                    let Some(esc) = self.peek() else { return self.err("unterminated string") };
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if !self.text[self.pos..].starts_with("\\u") {
                                    return self.err("unpaired surrogate in string");
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return self.err("unpaired surrogate in string");
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                char::from_u32(hi)
                            };
                            match c {
                                Some(c) => out.push(c),
                                None => return self.err("invalid unicode escape"),
                            }
                        }
                        _ => return self.err("invalid escape in string"),
                    }
                }
            }
        }
    }

    fn hex4(&mut self) -> PResult<u32> {
        let Some(h) = self.text.get(self.pos..self.pos + 4) else { return self.err("invalid unicode escape") };
        match u32::from_str_radix(h, 16) {
            Ok(v) if h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                self.pos += 4;
                Ok(v)
            }
            _ => self.err("invalid unicode escape"),
        }
    }
}

/// Parses a stream of JSON values. Values before a syntax error are returned.
pub fn parse(text: &str) -> (Vec<Document>, Vec<SyntaxError>) {
    let mut p = Parser { text, bytes: text.as_bytes(), pos: 0, line: 1, line_start: 0 };
    let mut docs = Vec::new();
    loop {
        p.skip_ws();
        if p.pos >= p.bytes.len() {
            return (docs, Vec::new());
        }
        let index = docs.len() + 1;
        match p.value(0) {
            Ok(node) => docs.push(Document { index, line: node.line, root: Some(node) }),
            Err((line, column, message)) => {
                return (docs, vec![SyntaxError { document: index, line, column, message }]);
            }
        }
    }
}

/// True when `text` looks like JSON (its first non-blank character opens an object or array).
pub fn looks_like_json(text: &str) -> bool {
    matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::FieldPath;

    #[test]
    fn parses_values_with_lines() {
        let text = "{\n  \"kind\": \"Pod\",\n  \"spec\": {\n    \"containers\": [\n      {\"name\": \"a\\u00e9\", \"cpu\": 1.5}\n    ]\n  }\n}\n";
        let (docs, errs) = parse(text);
        assert!(errs.is_empty(), "{errs:?}");
        let root = docs[0].root.as_ref().expect("root");
        assert_eq!(root.line_of(&FieldPath::parse_kube("spec.containers[0].name")), 5);
        assert_eq!(root.line_of(&FieldPath::parse_kube("spec")), 3);
        assert_eq!(
            root.at(&FieldPath::parse_kube("spec.containers[0].name")).map(Node::to_json),
            Some(serde_json::json!("aé"))
        );
        assert!(matches!(
            root.at(&FieldPath::parse_kube("spec.containers[0].cpu")).map(|n| &n.value),
            Some(Value::Num(Number { parsed: Num::Float(_), .. }))
        ));
    }

    #[test]
    fn several_values_are_several_documents() {
        let (docs, errs) = parse("{\"a\": 1}\n{\"b\": [true, null, -3]}\n");
        assert!(errs.is_empty());
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].index, 2);
        assert_eq!(docs[1].root.as_ref().map(Node::to_json), Some(serde_json::json!({"b": [true, null, -3]})));
    }

    #[test]
    fn errors_carry_line_and_column() {
        let (docs, errs) = parse("{\"a\": 1}\n{\n  \"b\": 2\n  \"c\": 3\n}\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].document, errs[0].line, errs[0].column), (2, 4, 3));
        assert!(errs[0].message.contains("expected `,` or `}`"), "{}", errs[0].message);
    }
}
