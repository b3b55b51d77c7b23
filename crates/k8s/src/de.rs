//! A serde `Deserializer` over [`Node`] trees.
//!
//! Errors carry the field path where they happened; the caller maps the path back to a line
//! with [`Node::line_of`]. Types are checked as Kubernetes' JSON decoding checks them (a label
//! value must be a string, `replicas` a number), with one exception that Kubernetes also makes:
//! `resource.Quantity` accepts a bare number and keeps its exact text (`cpu: 0.5`,
//! `memory: 1.5e9`).

use crate::tree::{FieldPath, Node, Num, Seg, Value};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};
use std::fmt;

/// A decoding error at a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError {
    /// Segments innermost first while the error propagates; see [`DeError::path`].
    rev_path: Vec<Seg>,
    pub message: String,
}

impl DeError {
    pub fn path(&self) -> FieldPath {
        FieldPath(self.rev_path.iter().rev().cloned().collect())
    }

    fn within(mut self, seg: Seg) -> DeError {
        self.rev_path.push(seg);
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_empty() { f.write_str(&self.message) } else { write!(f, "{path}: {}", self.message) }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError { rev_path: Vec::new(), message: msg.to_string() }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let unexp = match unexp {
            de::Unexpected::Unit => "null".to_string(),
            other => other.to_string(),
        };
        DeError::custom(format_args!("invalid type: {unexp}, expected {exp}"))
    }
}

/// Deserializes `T` from `node`.
pub fn from_node<'de, T: serde::Deserialize<'de>>(node: &'de Node) -> Result<T, DeError> {
    T::deserialize(NodeDe(node))
}

#[derive(Clone, Copy)]
pub struct NodeDe<'a>(pub &'a Node);

impl<'de> Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Num(n) => match n.parsed {
                Num::Int(i) => visitor.visit_i64(i),
                Num::UInt(u) => visitor.visit_u64(u),
                Num::Float(f) => visitor.visit_f64(f),
            },
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => visitor.visit_seq(SeqAccess { items: items.iter(), index: 0 }),
            Value::Map(entries) => visitor.visit_map(MapAccess { entries: entries.iter(), current: None }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        // `resource.Quantity` written as a YAML/JSON number: keep the exact text, as
        // apimachinery's Quantity.UnmarshalJSON parses the raw number.
        if name == "Quantity"
            && let Value::Num(n) = &self.0.value
        {
            let text: de::value::StrDeserializer<'_, DeError> = n.text.as_str().into_deserializer();
            return visitor.visit_newtype_struct(text);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Map(entries) if entries.len() == 1 => visitor.visit_enum(EnumAccess(&entries[0])),
            _ => Err(de::Error::invalid_type(unexpected(self.0), &"a string or a single-key mapping")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit_struct seq tuple tuple_struct map struct identifier
    }
}

fn unexpected(node: &Node) -> de::Unexpected<'_> {
    match &node.value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Num(n) => match n.parsed {
            Num::Int(i) => de::Unexpected::Signed(i),
            Num::UInt(u) => de::Unexpected::Unsigned(u),
            Num::Float(f) => de::Unexpected::Float(f),
        },
        Value::Str(s) => de::Unexpected::Str(s),
        Value::Seq(_) => de::Unexpected::Seq,
        Value::Map(_) => de::Unexpected::Map,
    }
}

struct SeqAccess<'a> {
    items: std::slice::Iter<'a, Node>,
    index: usize,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some(item) => {
                let i = self.index;
                self.index += 1;
                seed.deserialize(NodeDe(item)).map(Some).map_err(|e| e.within(Seg::Index(i)))
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'a> {
    entries: std::slice::Iter<'a, crate::tree::Entry>,
    current: Option<&'a crate::tree::Entry>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            None => Ok(None),
            Some(entry) => {
                self.current = Some(entry);
                let key: de::value::BorrowedStrDeserializer<'de, DeError> =
                    de::value::BorrowedStrDeserializer::new(&entry.key);
                seed.deserialize(key).map(Some).map_err(|e| e.within(Seg::Key(entry.key.clone())))
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.current.take() {
            Some(entry) => seed.deserialize(NodeDe(&entry.value)).map_err(|e| e.within(Seg::Key(entry.key.clone()))),
            None => Err(de::Error::custom("value requested before key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct EnumAccess<'a>(&'a crate::tree::Entry);

impl<'de> de::EnumAccess<'de> for EnumAccess<'de> {
    type Error = DeError;
    type Variant = VariantAccess<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant), DeError> {
        let key: de::value::BorrowedStrDeserializer<'de, DeError> =
            de::value::BorrowedStrDeserializer::new(&self.0.key);
        let v = seed.deserialize(key)?;
        Ok((v, VariantAccess(self.0)))
    }
}

struct VariantAccess<'a>(&'a crate::tree::Entry);

impl<'de> de::VariantAccess<'de> for VariantAccess<'de> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.0.value.value {
            Value::Null => Ok(()),
            _ => Err(de::Error::invalid_type(unexpected(&self.0.value), &"a unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(NodeDe(&self.0.value)).map_err(|e| e.within(Seg::Key(self.0.key.clone())))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        NodeDe(&self.0.value).deserialize_any(visitor).map_err(|e| e.within(Seg::Key(self.0.key.clone())))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        NodeDe(&self.0.value).deserialize_any(visitor).map_err(|e| e.within(Seg::Key(self.0.key.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;

    fn node(yaml: &str) -> Node {
        let (docs, errs) = crate::yaml::parse(yaml);
        assert!(errs.is_empty(), "{errs:?}");
        docs.into_iter().next().and_then(|d| d.root).expect("document")
    }

    #[test]
    fn quantities_written_as_numbers_keep_their_text() {
        let n = node(
            "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    resources:\n      requests: {cpu: 0.5, memory: 1.5e9}\n      limits: {cpu: 1}\n",
        );
        let pod: Pod = from_node(&n).expect("decodes");
        let c = &pod.spec.expect("spec").containers[0];
        let req = c.resources.as_ref().and_then(|r| r.requests.as_ref()).expect("requests");
        assert_eq!(req["cpu"].0, "0.5");
        assert_eq!(req["memory"].0, "1.5e9");
        assert_eq!(c.resources.as_ref().and_then(|r| r.limits.as_ref()).expect("limits")["cpu"].0, "1");
    }

    #[test]
    fn wrong_types_name_the_path() {
        let n = node("metadata:\n  name: p\n  labels:\n    app: true\n");
        let err = from_node::<Pod>(&n).expect_err("a boolean label is rejected");
        assert_eq!(err.path().to_string(), "metadata.labels.app");
        assert_eq!(err.message, "invalid type: boolean `true`, expected a string");
        assert_eq!(n.line_of(&err.path()), 4);
        let n = node("spec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: eighty\n");
        let err = from_node::<Pod>(&n).expect_err("a string port is rejected");
        assert_eq!(err.path().to_string(), "spec.containers[0].ports[0].containerPort");
        assert_eq!(n.line_of(&err.path()), 5);
    }

    #[test]
    fn yes_and_on_label_values_stay_strings() {
        let n = node("metadata:\n  name: p\n  labels: {a: yes, b: on, c: 'true'}\n");
        let pod: Pod = from_node(&n).expect("decodes");
        let labels = pod.metadata.labels.expect("labels");
        assert_eq!(labels["a"], "yes");
        assert_eq!(labels["b"], "on");
        assert_eq!(labels["c"], "true");
    }

    #[test]
    fn null_is_reported_as_null() {
        let n = node("spec:\n  containers:\n  - name: c\n    image: ~\n    ports: [~]\n");
        let err = from_node::<Pod>(&n).expect_err("null port");
        assert!(err.message.starts_with("invalid type: null, expected"), "{}", err.message);
        assert_eq!(err.path().to_string(), "spec.containers[0].ports[0]");
    }
}
