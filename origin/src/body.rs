//! JSON request bodies for admin writes: parsed with the path of the failing field, so a 400 names it.

use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Parses `bytes` as `T`, turning any failure into a 400 whose message names the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        ApiError::BadRequest(describe(&path, &inner))
    })?;
    de.end()
        .map_err(|err| ApiError::BadRequest(describe(".", &err)))?;
    Ok(value)
}

fn describe(path: &str, err: &serde_json::Error) -> String {
    let message = without_position(&err.to_string());
    if err.is_syntax() || err.is_eof() {
        return format!("malformed JSON: {message}");
    }
    // The evaluator's own errors already carry their path ("rules[2].operator: ..."), or the part of
    // it below the field serde was in ("[2].operator: ..."); do not repeat what they say.
    if path == "." || message.starts_with(path) {
        message
    } else if message.starts_with('[') {
        format!("{path}{message}")
    } else {
        format!("{path}: {message}")
    }
}

/// serde_json appends " at line L column C"; the field path is what a client can act on.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => message[..i].to_owned(),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        enabled: Option<bool>,
        nested: Option<Vec<u8>>,
    }

    fn message(json: &str) -> String {
        match parse_json::<Body>(json.as_bytes()) {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn wrong_types_name_the_field() {
        assert!(message(r#"{"enabled": "yes"}"#).starts_with("enabled: invalid type"));
        assert!(message(r#"{"nested": [1, 300]}"#).starts_with("nested[1]: invalid value"));
    }

    #[test]
    fn unknown_fields_and_syntax_are_reported() {
        assert!(message(r#"{"bogus": 1}"#).contains("unknown field `bogus`"));
        assert!(message(r#"{"enabled": tru"#).starts_with("malformed JSON"));
        assert!(message("").starts_with("malformed JSON"));
        assert!(message(r#"{} {}"#).starts_with("malformed JSON"));
        assert!(!message(r#"{"enabled": 1}"#).contains("line"));
    }
}
