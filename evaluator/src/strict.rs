//! Strict JSON: text read into a `serde_json::Value` like `serde_json::from_slice`, but an object
//! that holds a key twice, at any depth, is refused with its path (`rules[1].all[0].value: duplicate
//! field`). A `Value` keeps the last copy of a key, and other JSON parsers keep the first, so a body
//! with a duplicate means different things to different readers; Pennon picks neither.
//!
//! The admin API reads its bodies with [`object_from_slice`] and hands the object to the validating
//! readers (`Flag::from_json_value`, …); evaluate requests have their own streaming reader
//! ([`crate::EvaluateRequest::from_json`]), which applies the same rule.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

use crate::error::ValidationError;
use crate::json_path::{JsonPath, Parent};
use crate::request::RequestError;

/// Reads JSON text into a `Value`. Checks, in this order: the syntax (`invalid JSON: …`, exactly
/// serde_json's message), then duplicate keys (`<path>: duplicate field`, the least path in byte
/// order, whatever the order of the keys; the path is relative to the document: `a.b`, `[0].x`).
pub fn from_slice(bytes: &[u8]) -> Result<Value, RequestError> {
    let (value, duplicate) = read(bytes)?;
    match duplicate {
        None => Ok(value),
        Some(path) => Err(duplicate_field(&path).into()),
    }
}

/// Reads a request body that must be a JSON object. Checks, in this order: the syntax (`invalid
/// JSON: …`), the shape (`body: must be a JSON object`), then duplicate keys at any depth (`key:
/// duplicate field`, `rules[0].field: duplicate field`, the least path as in [`from_slice`]).
pub fn object_from_slice(bytes: &[u8]) -> Result<Map<String, Value>, RequestError> {
    let (value, duplicate) = read(bytes)?;
    let Value::Object(object) = value else {
        return Err(ValidationError::new("body", "must be a JSON object").into());
    };
    match duplicate {
        None => Ok(object),
        Some(path) => Err(duplicate_field(&path).into()),
    }
}

fn duplicate_field(path: &JsonPath) -> ValidationError {
    ValidationError::new(path.field(""), "duplicate field")
}

/// The document, and the least path of a duplicate key in it.
fn read(bytes: &[u8]) -> Result<(Value, Option<JsonPath>), RequestError> {
    let invalid = |e: serde_json::Error| RequestError::InvalidJson(e.to_string());
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let mut duplicate = None;
    let value = Strict {
        parent: &Parent::Root,
        duplicate: &mut duplicate,
    }
    .deserialize(&mut deserializer)
    .map_err(invalid)?;
    deserializer.end().map_err(invalid)?;
    Ok((value, duplicate))
}

/// Reads one value that sits at `parent`, as serde_json's own `Value` reader does, but through
/// `entry` so that a key seen before is noted in `duplicate`.
struct Strict<'p, 'd> {
    parent: &'p Parent<'p>,
    duplicate: &'d mut Option<JsonPath>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.into()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict {
            parent: &Parent::Index(items.len(), self.parent),
            duplicate: &mut *self.duplicate,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Strict {
                parent: &Parent::Key(&key, self.parent),
                duplicate: &mut *self.duplicate,
            })?;
            match object.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(slot) => self.parent.note_duplicate(slot.key(), self.duplicate),
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn message<T: fmt::Debug>(result: Result<T, RequestError>) -> String {
        match result {
            Err(error) => error.to_string(),
            Ok(value) => panic!("accepted: {value:?}"),
        }
    }

    #[test]
    fn reads_what_serde_json_reads_and_refuses_what_it_refuses_with_its_message() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let bodies = [
            r#"{"key": "k", "rules": [{"field": "id", "operator": "eq", "value": 1.5}]}"#,
            r#"[1, -2, 18446744073709551615, -9223372036854775808, 1e308, 0.1, "s", null, true, {}]"#,
            r#"{"a": {"b": [{"c": {}}]}, "b": {"a": 1}}"#,
            "  {\"a\": \"\\u00e9\\ud83d\\ude00\"}  ",
            "",
            "{",
            r#"{"a": 1,}"#,
            r#"{"a": tru"#,
            r#"{"a": 1} x"#,
            r#"{"n": 1e400}"#,
            r#"{"s": "\ud800"}"#,
            "\u{feff}{}",
            "not json",
            deep.as_str(),
        ];
        for body in bodies {
            let expected = serde_json::from_slice::<Value>(body.as_bytes());
            match (from_slice(body.as_bytes()), expected) {
                (Ok(value), Ok(expected)) => assert_eq!(value, expected, "{body}"),
                (Err(error), Err(expected)) => {
                    assert_eq!(
                        error.to_string(),
                        format!("invalid JSON: {expected}"),
                        "{body}"
                    )
                }
                (got, expected) => panic!("{body}: {got:?} vs {expected:?}"),
            }
        }
        assert_eq!(
            message(from_slice(&[b'"', 0xff, b'"'])),
            format!(
                "invalid JSON: {}",
                serde_json::from_slice::<Value>(&[b'"', 0xff, b'"']).unwrap_err()
            )
        );
    }

    #[test]
    fn a_key_given_twice_is_refused_with_its_path() {
        for (body, error) in [
            (r#"{"key": "nope", "key": "base"}"#, "key: duplicate field"),
            (
                r#"{"rules": [{"field": "email", "operator": "eq", "value": "a@x", "field": "id"}]}"#,
                "rules[0].field: duplicate field",
            ),
            (
                r#"{"rules": [{}, {"all": [{"value": 1, "value": 2}]}]}"#,
                "rules[1].all[0].value: duplicate field",
            ),
            (r#"[{"x": 1, "x": 2}]"#, "[0].x: duplicate field"),
            (r#"{"k": 1, "\u006b": 2}"#, "k: duplicate field"),
            // The least path, whatever the order of the keys.
            (
                r#"{"z": 1, "z": 2, "a": {"b": 1, "b": 2}}"#,
                "a.b: duplicate field",
            ),
            (
                r#"{"a": {"b": 1, "b": 2}, "z": 1, "z": 2}"#,
                "a.b: duplicate field",
            ),
            (r#"{"a": {"b": 1, "b": 2}, "a": 1}"#, "a: duplicate field"),
        ] {
            assert_eq!(message(from_slice(body.as_bytes())), error, "{body}");
        }
        assert!(
            from_slice(br#"{"a": {"x": 1}, "b": {"x": 1}, "c": [{"x": 1}, {"x": 1}]}"#).is_ok()
        );
    }

    #[test]
    fn bodies_are_objects_before_anything_else() {
        assert_eq!(
            message(object_from_slice(br#"[{"a": 1, "a": 2}]"#)),
            "body: must be a JSON object"
        );
        assert_eq!(
            message(object_from_slice(b"3")),
            "body: must be a JSON object"
        );
        assert!(message(object_from_slice(b"{")).starts_with("invalid JSON: "));
        assert_eq!(
            message(object_from_slice(br#"{"a": 1, "a": 1}"#)),
            "a: duplicate field"
        );
        let object = object_from_slice(br#"{"key": "k", "enabled": true}"#).unwrap();
        assert_eq!(object.len(), 2);
    }
}
