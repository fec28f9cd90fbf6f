//! JSON request bodies of the admin writes, read through the evaluator's own validating readers
//! (`Flag::from_json_value`, `RuleList::from_json_value`, ...), so a refused write carries exactly
//! the evaluator's `field: message` (the same text every runtime gives for the same bad flag).

use evaluator::ValidationError;
use serde_json::{Map, Value};

use crate::error::ApiError;

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        Self::BadRequest(err.to_string())
    }
}

/// The body as a JSON object; the messages match the evaluate endpoint's for the same mistakes.
pub fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ValidationError::new("body", "must be a JSON object").into()),
        Err(err) => Err(ApiError::BadRequest(format!("invalid JSON: {err}"))),
    }
}

/// Admin writes refuse fields they do not know, so a typo (`"enable": true`) is not silently lost.
pub fn refuse_unknown(map: &Map<String, Value>, known: &[&str]) -> Result<(), ApiError> {
    match map.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => {
            Err(ValidationError::new(evaluator::echo(key).to_string(), "unknown field").into())
        }
        None => Ok(()),
    }
}

/// A field that may be left out; JSON `null` counts as left out, as in the evaluator.
pub fn optional<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    map.get(name).filter(|value| !value.is_null())
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
    fn unknown_fields_are_named() {
        let map = json_object(br#"{"key": "k", "enable": true}"#).unwrap();
        match refuse_unknown(&map, &["key", "enabled"]) {
            Err(ApiError::BadRequest(m)) => assert_eq!(m, "enable: unknown field"),
            other => panic!("{other:?}"),
        }
        assert!(refuse_unknown(&map, &["key", "enable"]).is_ok());
    }
}
