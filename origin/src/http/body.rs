//! JSON request bodies of the admin writes, read through the evaluator's own validating readers
//! (`Flag::from_json_value`, `RuleList::from_json_value`, ...), so a refused write carries exactly
//! the evaluator's `field: message` (the same text every runtime gives for the same bad flag).
//!
//! Each body is checked in this order: JSON syntax, a JSON object, no key twice in any object
//! (`evaluator::strict`), no unknown field, no NUL character in any string, then the evaluator's
//! validation of each field. Only the NUL rule is the origin's own (a rule of its stores); the
//! others, the field rules included (`null` is left out, an unknown field is named:
//! `evaluator::fields`), are the evaluator's, so their messages exist once.

use evaluator::ValidationError;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::http::error::ApiError;

pub use evaluator::fields::{optional, refuse_unknown};

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        Self::BadRequest(err.to_string())
    }
}

/// The body as a JSON object in which no object holds a key twice (`rules[0].field: duplicate
/// field`); the messages match the evaluate endpoint's for the same mistakes.
pub fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    evaluator::strict::object_from_slice(bytes).map_err(|err| ApiError::BadRequest(err.to_string()))
}

/// Refuses a string that holds NUL (`\u0000`) anywhere in the body, naming the first by path
/// (`rules[0].value: must not contain the NUL character (\u0000)`). It is a rule of the stores, not
/// of the flag model: PostgreSQL can keep NUL in neither `text` nor `jsonb`, and SQLite must answer
/// the same. Object keys need no check: a known field has none, and an unknown one is refused first.
pub fn refuse_nul(map: &Map<String, Value>) -> Result<(), ApiError> {
    let mut path = String::new();
    match map
        .iter()
        .find_map(|(key, value)| nul_in(value, &mut path, key))
    {
        Some(field) => {
            Err(ValidationError::new(field, "must not contain the NUL character (\\u0000)").into())
        }
        None => Ok(()),
    }
}

/// The path of the first string holding NUL in `value`, which sits at `path` + `step` (`.key` or
/// `[i]`); `path` is restored before returning. Maps iterate in key order, so the first is the same
/// whatever the order of the body's keys.
fn nul_in(value: &Value, path: &mut String, step: &str) -> Option<String> {
    let len = path.len();
    if !path.is_empty() && !step.starts_with('[') {
        path.push('.');
    }
    // A client's key: repeated only up to a point, and `""` when empty (see `evaluator::echo_key`).
    let _ = write!(path, "{}", evaluator::echo_key(step));
    let found = match value {
        Value::String(s) if s.contains('\0') => Some(path.clone()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_in(item, path, &format!("[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| nul_in(item, path, key)),
        _ => None,
    };
    path.truncate(len);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<Map<String, Value>, ApiError>) -> String {
        match result {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert!(message(json_object(b"{\"a\": tru")).starts_with("invalid JSON: "));
        assert!(message(json_object(b"")).starts_with("invalid JSON: "));
        assert_eq!(message(json_object(b"[]")), "body: must be a JSON object");
        assert!(json_object(b"{\"a\": 1}").is_ok());
    }

    #[test]
    fn a_key_given_twice_is_refused_at_any_depth() {
        assert_eq!(
            message(json_object(br#"{"key": "nope", "key": "base"}"#)),
            "key: duplicate field"
        );
        assert_eq!(
            message(json_object(
                br#"{"rules": [{"all": [{"value": [1], "value": 2}]}]}"#
            )),
            "rules[0].all[0].value: duplicate field"
        );
    }

    fn nul_message(json: &str) -> Option<String> {
        match refuse_nul(&json_object(json.as_bytes()).unwrap()) {
            Ok(()) => None,
            Err(ApiError::BadRequest(m)) => Some(m),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn nul_is_refused_in_every_string_with_its_path() {
        let suffix = ": must not contain the NUL character (\\u0000)";
        for (json, field) in [
            (r#"{"description": "a\u0000b"}"#, "description"),
            (r#"{"key": "\u0000"}"#, "key"),
            (
                r#"{"rules": [{"field": "id"}, {"field": "attributes.a\u0000", "value": "x"}]}"#,
                "rules[1].field",
            ),
            (
                r#"{"rules": [{"all": [{"value": ["ok", "n\u0000"]}]}]}"#,
                "rules[0].all[0].value[1]",
            ),
            (
                r#"{"variants": {"": {"": "\u0000"}}}"#,
                "variants.\"\".\"\"",
            ),
            // The first in key order, whatever the order in the body.
            (
                r#"{"rules": [{"value": "\u0000"}], "description": "\u0000"}"#,
                "description",
            ),
        ] {
            assert_eq!(
                nul_message(json),
                Some(format!("{field}{suffix}")),
                "{json}"
            );
        }
        assert_eq!(
            nul_message(r#"{"description": "\\u0000 is fine escaped", "n": [0, null]}"#),
            None
        );
    }

    #[test]
    fn unknown_fields_are_a_400_naming_them() {
        let map = json_object(br#"{"key": "k", "enable": true}"#).unwrap();
        match refuse_unknown(&map, &["key", "enabled"]).map_err(ApiError::from) {
            Err(ApiError::BadRequest(m)) => assert_eq!(m, "enable: unknown field"),
            other => panic!("{other:?}"),
        }
        assert!(refuse_unknown(&map, &["key", "enable"]).is_ok());
    }
}
