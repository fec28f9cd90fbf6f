//! JavaScript values in: each argument is read as JSON and handed to the evaluator's own readers, so the
//! rules and the messages are exactly those of the origin's HTTP API.
//!
//! The value goes through `JSON.stringify` and serde_json rather than a walk of the JavaScript object:
//! a cyclic or absurdly deep object then fails with an error (a `TypeError`/`RangeError` caught here,
//! serde_json's recursion limit) instead of exhausting the wasm stack, which would trap and leave the
//! module unusable.

use evaluator::{Environment, Flag, Segment, User, ValidationError};
use serde_json::Value;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// What an `Evaluator` is built from: an array of flags, or a snapshot `{flags, segments?}` that may
/// also name its environment and revision (the origin's `GET /api/flags/snapshot` answer).
#[derive(Debug)]
pub(crate) struct FlagSource {
    pub(crate) flags: Vec<Flag>,
    pub(crate) segments: Vec<Segment>,
    pub(crate) environment: Option<Environment>,
    pub(crate) revision: Option<u64>,
}

fn too_deep(path: &str) -> ValidationError {
    ValidationError::new(path, "is nested too deeply (at most 128 levels)")
}

/// Why serde_json refused `JSON.stringify`'s output, which is valid JSON but for two things: nesting
/// past serde_json's recursion limit, and a lone surrogate (JavaScript strings are UTF-16 and may
/// hold one; `JSON.stringify` writes it as an escape such as `\ud800`, which is no Unicode character).
fn refused(path: &str, detail: &str) -> ValidationError {
    if detail.contains("recursion limit") {
        too_deep(path)
    } else {
        ValidationError::new(
            path,
            "holds a string that is not valid Unicode (a lone surrogate)",
        )
    }
}

/// Reads `value` as JSON data; `path` names it in the error.
///
/// `JSON.stringify` writes NaN and ±Infinity as `null`, which a flag reads as "absent": a
/// `rolloutPercentage: NaN` (say, from `Number("")`) would quietly become 0 %. Here they become an
/// object instead, which every field of a flag refuses with its own message (`rolloutPercentage:
/// must be an integer …`). Users do not take this path: their values are read on every evaluation,
/// and a non-finite attribute, read as null, fails its conditions closed.
fn json(value: &JsValue, path: &str) -> Result<Value, ValidationError> {
    let replacer =
        Closure::<dyn FnMut(JsValue, JsValue) -> JsValue>::new(|_key: JsValue, value: JsValue| {
            match value.as_f64() {
                Some(number) if !number.is_finite() => js_sys::Object::new().into(),
                _ => value,
            }
        });
    let text = json_text(value, path, Some(replacer.as_ref()))?;
    serde_json::from_str(&text).map_err(|err| refused(path, &err.to_string()))
}

/// `value` as JSON text, by `JSON.stringify` (with `replacer` when given); `path` names it in the
/// error.
fn json_text(
    value: &JsValue,
    path: &str,
    replacer: Option<&JsValue>,
) -> Result<String, ValidationError> {
    if value.is_undefined() {
        return Err(ValidationError::new(path, "required"));
    }
    match replacer {
        Some(replacer) => js_sys::JSON::stringify_with_replacer(value, replacer),
        None => js_sys::JSON::stringify(value),
    }
    .map_err(|error| {
        // How deep `JSON.stringify` gets before its RangeError depends on the engine's stack.
        if error.is_instance_of::<js_sys::RangeError>() {
            too_deep(path)
        } else {
            ValidationError::new(path, "must be JSON data (no cycles or BigInt)")
        }
    })?
    .as_string()
    // `JSON.stringify` answers `undefined` for a function or a symbol.
    .ok_or_else(|| ValidationError::new(path, "must be JSON data, not a function or a symbol"))
}

/// A single flag, as `evaluate` takes it.
pub(crate) fn flag(value: &JsValue) -> Result<Flag, ValidationError> {
    Flag::from_json_value(&json(value, "flag")?)
}

/// An array of flags, as `evaluateAll` takes it; errors name the element (`flags[3].key`).
pub(crate) fn flags(value: &JsValue) -> Result<Vec<Flag>, ValidationError> {
    flag_list(&json(value, "flags")?)
}

fn flag_list(value: &Value) -> Result<Vec<Flag>, ValidationError> {
    list(
        value,
        "flags",
        "must be an array of flags",
        Flag::from_json_value,
    )
}

fn segment_list(value: &Value) -> Result<Vec<Segment>, ValidationError> {
    list(
        value,
        "segments",
        "must be an array of segments",
        Segment::from_json_value,
    )
}

/// The documents of the array `value`, each read by `read`; errors name the element
/// (`segments[2].include[0]`), as the origin's messages name a field inside one document.
fn list<T>(
    value: &Value,
    name: &str,
    not_an_array: &str,
    read: impl Fn(&Value) -> Result<T, ValidationError>,
) -> Result<Vec<T>, ValidationError> {
    let items = value
        .as_array()
        .ok_or_else(|| ValidationError::new(name, not_an_array))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("{name}[{i}]");
            if !item.is_object() {
                return Err(ValidationError::new(path, "must be a JSON object"));
            }
            read(item)
                .map_err(|e| ValidationError::new(format!("{path}.{}", e.field()), e.message()))
        })
        .collect()
}

/// An array of flags, or a snapshot `{flags, segments?, environment?, revision?}` such as the origin
/// serves (unknown fields ignored, as the evaluator does for flags, so a newer origin's snapshot still
/// reads; an environment or a revision, when given, must be valid).
pub(crate) fn flag_source(value: &JsValue) -> Result<FlagSource, ValidationError> {
    let value = json(value, "flagsOrSnapshot")?;
    let Some(snapshot) = value.as_object() else {
        if value.is_array() {
            return Ok(FlagSource {
                flags: flag_list(&value)?,
                segments: Vec::new(),
                environment: None,
                revision: None,
            });
        }
        return Err(ValidationError::new(
            "flagsOrSnapshot",
            "must be an array of flags or a snapshot {flags, segments}",
        ));
    };
    let environment = snapshot
        .get("environment")
        .map(Environment::from_json_value)
        .transpose()?;
    let revision = snapshot
        .get("revision")
        .map(|revision| {
            revision
                .as_u64()
                .ok_or_else(|| ValidationError::new("revision", "must be a non-negative integer"))
        })
        .transpose()?;
    let flags = match snapshot.get("flags") {
        Some(flags) => flag_list(flags)?,
        None => return Err(ValidationError::new("flags", "required")),
    };
    let segments = match snapshot.get("segments") {
        Some(segments) => segment_list(segments)?,
        None => Vec::new(),
    };
    Ok(FlagSource {
        flags,
        segments,
        environment,
        revision,
    })
}

/// The user of an evaluation; errors name the path from `user` (`user.id`).
/// Read from the text straight into a `User` (no `Value` tree): this is the per-call cost of
/// `Evaluator.evaluate`.
pub(crate) fn user(value: &JsValue) -> Result<User, ValidationError> {
    let text = json_text(value, "user", None)?;
    User::from_json_str(&text).map_err(|e| {
        if e.field() == "user" && e.message().starts_with("invalid JSON") {
            refused("user", e.message())
        } else {
            e
        }
    })
}

/// The optional keys of `Evaluator.evaluate`: absent (`undefined` or `null`) means every flag.
pub(crate) fn keys(value: &JsValue) -> Result<Option<Vec<String>>, ValidationError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let wrong = || ValidationError::new("keys", "must be an array of flag keys");
    if !js_sys::Array::is_array(value) {
        return Err(wrong());
    }
    let Value::Array(items) = json(value, "keys")? else {
        return Err(wrong());
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(key) => Ok(key),
            _ => Err(ValidationError::new(
                format!("keys[{i}]"),
                "must be a string",
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The key of `Evaluator.evaluateFlag`: any string (an unknown one answers `FLAG_NOT_FOUND`).
pub(crate) fn key(value: &JsValue) -> Result<String, ValidationError> {
    value
        .as_string()
        .ok_or_else(|| ValidationError::new("key", "must be a string"))
}
