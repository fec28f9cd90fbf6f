//! The two rules of an object's fields, for the evaluator's readers (rules, conditions) and the
//! origin's admin bodies alike, so that both say the same thing for the same mistake:
//!
//! - JSON `null` counts as a field left out ([`optional`]);
//! - a field the reader does not know is refused by name ([`refuse_unknown`]: `enable: unknown
//!   field`), so that a typo is not silently lost. (The flag reader itself accepts unknown fields,
//!   so that a newer origin's snapshot still reads; the origin refuses them in its admin bodies.)

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::{Map, Value};

use crate::error::ValidationError;

/// The field `name` of `map`; `None` when it is absent or `null`.
pub fn optional<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    map.get(name).filter(|value| !value.is_null())
}

/// Refuses the first field of `map` (in key order, so the same whatever the order of the keys)
/// that is not in `known`, naming it: `enable: unknown field`. A client's key is repeated only up
/// to a point ([`crate::echo`]).
pub fn refuse_unknown(map: &Map<String, Value>, known: &[&str]) -> Result<(), ValidationError> {
    refuse_unknown_with_hint(map, known, "")
}

/// [`refuse_unknown`], with `hint` after the message (`; a group is {"all": [conditions]}`).
pub(crate) fn refuse_unknown_with_hint(
    map: &Map<String, Value>,
    known: &[&str],
    hint: &str,
) -> Result<(), ValidationError> {
    match map.keys().find(|key| !known.contains(&key.as_str())) {
        None => Ok(()),
        Some(key) => Err(ValidationError::new(
            crate::echo_key(key).to_string(),
            format!("unknown field{hint}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: &str) -> Map<String, Value> {
        match serde_json::from_str(json) {
            Ok(Value::Object(map)) => map,
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn unknown_fields_are_named_the_least_first() {
        let map = object(r#"{"key": "k", "enable": true, "color": 1}"#);
        let err = refuse_unknown(&map, &["key", "enabled"]).unwrap_err();
        assert_eq!(err.to_string(), "color: unknown field");
        assert!(refuse_unknown(&map, &["key", "enable", "color"]).is_ok());
        let err = refuse_unknown_with_hint(&map, &["key", "color"], "; try enabled").unwrap_err();
        assert_eq!(err.to_string(), "enable: unknown field; try enabled");
        let long = object(&format!(r#"{{"{}": 1}}"#, "x".repeat(100)));
        let err = refuse_unknown(&long, &[]).unwrap_err();
        assert_eq!(err.field(), crate::echo(&"x".repeat(100)).to_string());
    }

    #[test]
    fn null_is_left_out() {
        let map = object(r#"{"a": null, "b": false}"#);
        assert_eq!(optional(&map, "a"), None);
        assert_eq!(optional(&map, "b"), Some(&Value::Bool(false)));
        assert_eq!(optional(&map, "c"), None);
    }
}
