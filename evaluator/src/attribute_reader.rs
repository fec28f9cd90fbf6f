//! Reads a user's attributes, at any depth, straight into [`AttributeValue`]s, refusing an object
//! that holds a key twice: JSON parsers disagree on which copy wins, so Pennon picks neither.
//!
//! The check costs the hot path nothing it did not already do: each object is a `BTreeMap` that is
//! filled through `entry`, which says whether the key was there already, and the place of each value
//! travels down as a chain of borrowed keys and indices on the stack ([`Parent`]). The path is
//! written out only when a duplicate is found, and the least one is kept, so the message does not
//! depend on the order of the keys.

use alloc::collections::btree_map::Entry;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::json_path::{JsonPath, Parent};
use crate::value::{AttributeValue, Number};

/// Reads one attribute value that sits at `parent`; a duplicate key in it goes to `duplicate`.
pub(crate) struct AttributeSeed<'p, 'd> {
    pub(crate) parent: &'p Parent<'p>,
    pub(crate) duplicate: &'d mut Option<JsonPath>,
}

/// Reads the entries of an object at `parent` (the `attributes` object itself, or one inside it).
pub(crate) fn read_entries<'de, A: MapAccess<'de>>(
    mut map: A,
    parent: &Parent<'_>,
    duplicate: &mut Option<JsonPath>,
) -> Result<BTreeMap<String, AttributeValue>, A::Error> {
    let mut entries = BTreeMap::new();
    while let Some(key) = map.next_key::<String>()? {
        let value = map.next_value_seed(AttributeSeed {
            parent: &Parent::Key(&key, parent),
            duplicate: &mut *duplicate,
        })?;
        match entries.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(value);
            }
            Entry::Occupied(slot) => parent.note_duplicate(slot.key(), duplicate),
        }
    }
    Ok(entries)
}

impl<'de> DeserializeSeed<'de> for AttributeSeed<'_, '_> {
    type Value = AttributeValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AttributeSeed<'_, '_> {
    type Value = AttributeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(AttributeValue::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(AttributeValue::Number(Number::from(n)))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(AttributeValue::Number(Number::from(n)))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        // Not finite (only from a non-JSON source): it can match nothing, like null.
        Ok(Number::from_f64(n).map_or(AttributeValue::Null, AttributeValue::Number))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(AttributeValue::String(s.into()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(AttributeValue::String(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(AttributeValue::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(AttributeValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(AttributeSeed {
            parent: &Parent::Index(items.len(), self.parent),
            duplicate: &mut *self.duplicate,
        })? {
            items.push(item);
        }
        Ok(AttributeValue::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        read_entries(map, self.parent, self.duplicate).map(AttributeValue::Map)
    }
}

/// Any JSON value; an object anywhere in it that holds a key twice is refused with its path
/// (`plan: duplicate field`, `list[2].x: duplicate field`), the least such path whatever the order
/// of the keys.
impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut duplicate = None;
        let value = AttributeSeed {
            parent: &Parent::Root,
            duplicate: &mut duplicate,
        }
        .deserialize(deserializer)?;
        match duplicate {
            None => Ok(value),
            Some(path) => Err(de::Error::custom(format_args!(
                "{}: duplicate field",
                path.field("")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<AttributeValue, String> {
        serde_json::from_str(text).map_err(|e| alloc::string::ToString::to_string(&e))
    }

    #[test]
    fn a_key_given_twice_is_refused_at_any_depth() {
        for (text, path) in [
            (r#"{"plan": "free", "plan": "pro"}"#, "plan"),
            (r#"{"a": {"b": 1, "b": 2}}"#, "a.b"),
            (r#"{"list": [1, 2, {"x": 1, "x": 2}]}"#, "list[2].x"),
            (r#"[{"x": 1, "x": 2}]"#, "[0].x"),
            (r#"{"a": [[{"k": 0}, {"k": 1, "k": 1}]]}"#, "a[0][1].k"),
            // Escapes are read first: these are one key.
            (r#"{"plan": 1, "pl\u0061n": 2}"#, "plan"),
        ] {
            let message = read(text).unwrap_err();
            assert!(
                message.starts_with(&alloc::format!("{path}: duplicate field")),
                "{text}: {message}"
            );
        }
    }

    #[test]
    fn the_least_duplicate_is_named_whatever_the_order() {
        for text in [
            r#"{"z": {"b": 1, "b": 1}, "a": 1, "a": 2}"#,
            r#"{"a": 1, "a": 2, "z": {"b": 1, "b": 1}}"#,
            r#"{"a": 1, "z": {"b": 1, "b": 1}, "a": 2}"#,
        ] {
            assert!(
                read(text).unwrap_err().starts_with("a: duplicate field"),
                "{text}"
            );
        }
        // A duplicated key is named before duplicates inside either copy of it.
        for text in [
            r#"{"a": {"x": 1, "x": 2}, "a": 3}"#,
            r#"{"a": 3, "a": {"x": 1, "x": 2}}"#,
        ] {
            assert!(
                read(text).unwrap_err().starts_with("a: duplicate field"),
                "{text}"
            );
        }
    }

    #[test]
    fn the_same_key_in_different_objects_is_fine() {
        let value = read(r#"{"a": {"x": 1}, "b": {"x": 1}, "l": [{"x": 1}, {"x": 2}]}"#).unwrap();
        let AttributeValue::Map(map) = value else {
            panic!("{value:?}")
        };
        assert_eq!(map.len(), 3);
        assert_eq!(read("[1, 1, 1]").unwrap(), read("[1,1,1]").unwrap());
    }
}
