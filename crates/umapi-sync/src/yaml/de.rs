//! Typed values straight from the marked tree: a serde `Deserializer` that consumes a
//! [`Node`], so each state file is parsed once (by yaml-rust2) and its text moves into
//! the model instead of being copied.
//!
//! Scalars are read the way serde_yaml reads them, so a file means the same as it
//! did when serde_yaml did the typed parse: any scalar fills a text field, a plain
//! null fills an `Option` with `None`, an empty plain value is an empty list or
//! mapping, and where the type is left open (an untagged enum) a plain scalar is a
//! null, boolean, number or text by its spelling.

use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Unexpected, Visitor};

use super::shape::{is_bool, is_number, parse_unsigned};
use super::tree::{Mark, Node, Value, is_null_text};

/// Why a tree did not fit the type, and where (the innermost value that did not).
#[derive(Debug)]
pub(crate) struct Error {
    pub message: String,
    pub mark: Option<Mark>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error {
            message: message.to_string(),
            mark: None,
        }
    }
}

/// Builds a `T` from `node`, consuming it.
pub(crate) fn from_node<T: DeserializeOwned>(node: Node) -> Result<T, Error> {
    T::deserialize(node)
}

/// Keeps the innermost position: an error raised deeper already has one.
fn at(mark: Mark) -> impl FnOnce(Error) -> Error {
    move |mut error| {
        error.mark.get_or_insert(mark);
        error
    }
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Scalar { text, .. } => Unexpected::Str(text),
        Value::Sequence(_) => Unexpected::Seq,
        Value::Mapping(_) => Unexpected::Map,
    }
}

fn is_empty_plain(value: &Value) -> bool {
    matches!(value, Value::Scalar { text, quoted: false } if text.is_empty())
}

/// A plain scalar typed by its spelling, as YAML's core schema (and serde_yaml) does.
fn visit_plain<'de, V: Visitor<'de>>(text: String, visitor: V) -> Result<V::Value, Error> {
    if is_null_text(&text) {
        return visitor.visit_unit();
    }
    if is_bool(&text) {
        return visitor.visit_bool(text.starts_with(['t', 'T']));
    }
    if let Some(number) = parse_unsigned(&text) {
        return visitor.visit_u64(number);
    }
    if let Some(negative) = text.strip_prefix('-').and_then(parse_unsigned)
        && let Some(number) = 0i64.checked_sub_unsigned(negative)
    {
        return visitor.visit_i64(number);
    }
    if is_number(&text)
        && let Some(number) = parse_float(&text)
    {
        return visitor.visit_f64(number);
    }
    visitor.visit_string(text)
}

fn parse_float(text: &str) -> Option<f64> {
    match text
        .trim_start_matches(['+', '-'])
        .to_ascii_lowercase()
        .as_str()
    {
        ".inf" => Some(if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        ".nan" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

impl<'de> de::Deserializer<'de> for Node {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mark = self.mark;
        match self.value {
            Value::Scalar {
                text,
                quoted: false,
            } => visit_plain(text, visitor),
            Value::Scalar { text, quoted: true } => visitor.visit_string(text),
            Value::Sequence(items) => visitor.visit_seq(Items(items.into_iter())),
            Value::Mapping(entries) => visitor.visit_map(Entries {
                entries: entries.into_iter(),
                value: None,
            }),
        }
        .map_err(at(mark))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mark = self.mark;
        if self.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
        .map_err(at(mark))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mark = self.mark;
        match self.value {
            Value::Scalar { text, .. } => visitor.visit_string(text),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
        .map_err(at(mark))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mark = self.mark;
        match &self.value {
            Value::Scalar { text, .. } => visitor.visit_str(text),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
        .map_err(at(mark))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mark = self.mark;
        match self.value {
            Value::Sequence(items) => visitor.visit_seq(Items(items.into_iter())),
            ref empty if is_empty_plain(empty) => visitor.visit_seq(Items(Vec::new().into_iter())),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
        .map_err(at(mark))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mark = self.mark;
        match self.value {
            Value::Mapping(entries) => visitor.visit_map(Entries {
                entries: entries.into_iter(),
                value: None,
            }),
            ref empty if is_empty_plain(empty) => visitor.visit_map(Entries {
                entries: Vec::new().into_iter(),
                value: None,
            }),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
        .map_err(at(mark))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let mark = self.mark;
        match self.value {
            Value::Scalar { text, .. } if !text.is_empty() => {
                visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(text))
            }
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
        .map_err(at(mark))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        unit unit_struct newtype_struct tuple tuple_struct
    }
}

/// The items of a list, handed out one by one.
struct Items(std::vec::IntoIter<Node>);

impl<'de> de::SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|item| seed.deserialize(item)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// The entries of a mapping; a key's value waits in `value` until asked for.
struct Entries {
    entries: std::vec::IntoIter<(Node, Node)>,
    value: Option<Node>,
}

impl<'de> de::MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("a mapping value was asked for twice")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::desired::{Limit, StateFile};

    fn typed<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
        let node = super::super::tree::parse(Path::new("t.yaml"), text)
            .unwrap()
            .unwrap();
        from_node(node)
    }

    /// The tree deserializer and serde_yaml agree on what a file means.
    fn agrees(text: &str) {
        let ours: StateFile = typed(text).unwrap();
        let theirs: StateFile = serde_yaml::from_str(text).unwrap();
        assert_eq!(ours, theirs, "{text}");
    }

    #[test]
    fn reads_files_the_way_serde_yaml_does() {
        agrees(include_str!("../../tests/fixtures/state/valid/org.yaml"));
        agrees("users:\n  - email: 'a@x.org'\n    firstname: 123\n    lastname: ~\n    groups:\n");
        agrees(
            "settings:\n  default_type: adobeID\n  limits:\n    max_user_removals: 3\n    max_group_deletions: 5%\n    max_membership_removals: \"7\"\n",
        );
        agrees(
            "groups:\n  - &g {name: a, members: [x, y]}\nprofiles:\n  - name: p\n    members: [true, 1.5, null]\n",
        );
        agrees(
            "users: []\nsettings:\n  exclude: {types: [federatedID], users: ['^x']}\n  unlisted_users: remove\n",
        );
    }

    #[test]
    fn limits_are_typed_by_spelling() {
        let limit: Limit = typed("0x10").unwrap();
        assert_eq!(limit, Limit::Count(16));
        let limit: Limit = typed("'10'").unwrap();
        assert_eq!(limit, Limit::Percent("10".into()));
        assert!(typed::<Limit>("-1").is_err());
    }

    #[test]
    fn errors_point_at_the_value_that_does_not_fit() {
        let error = typed::<StateFile>("users:\n  - email: a@x.org\n    groups: ~\n").unwrap_err();
        assert_eq!(
            error.mark,
            Some(Mark {
                line: 3,
                column: 13
            })
        );
        assert!(error.message.contains("invalid type"), "{}", error.message);
    }
}
