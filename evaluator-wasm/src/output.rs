//! Results out: plain JavaScript objects `{flagKey, enabled, reason, variant, value}`, the HTTP API's
//! shape, with the values `JSON.parse` of the origin's answer would give: numbers as numbers (an
//! integer beyond 2^53 as the nearest double), objects as plain objects whose keys are all own
//! properties (`__proto__` too).
//!
//! Built with js_sys rather than serialized to JSON text: the package then carries no JSON writer
//! (serde_json's serializer and float formatting, about 3 KB of the gzipped wasm).

use evaluator::{AttributeValue, FlagResult, VariantValue, Variants};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// One result.
pub(crate) fn result(result: &FlagResult<'_>) -> JsValue {
    let object = Object::new();
    let (variant, value) = match (result.variant(), result.value()) {
        (Some(name), Some(value)) => (JsValue::from_str(name), variant_value(value)),
        _ => (JsValue::NULL, JsValue::NULL),
    };
    let fields = [
        ("flagKey", JsValue::from_str(result.flag_key)),
        ("enabled", JsValue::from_bool(result.enabled)),
        ("reason", JsValue::from_str(result.reason.as_str())),
        ("variant", variant),
        ("value", value),
    ];
    for (name, field) in fields {
        // A plain object and a string key: setting cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(name), &field);
    }
    object.into()
}

/// Results, in the order given (the evaluator's: sorted by key).
pub(crate) fn results(results: &[FlagResult<'_>]) -> JsValue {
    results.iter().map(result).collect::<Array>().into()
}

/// Each flag's variants as `[name, value]` pairs, by index.
pub(crate) fn variant_table(flags: &[Variants]) -> JsValue {
    flags
        .iter()
        .map(|variants| {
            variants
                .iter()
                .map(|(_, name, value)| {
                    Array::of2(&JsValue::from_str(name.as_str()), &variant_value(value))
                })
                .collect::<Array>()
        })
        .collect::<Array>()
        .into()
}

fn variant_value(value: &VariantValue) -> JsValue {
    match value {
        VariantValue::Bool(b) => JsValue::from_bool(*b),
        VariantValue::String(s) => JsValue::from_str(s),
        VariantValue::Number(n) => JsValue::from_f64(n.as_f64()),
        VariantValue::Object(map) => object(map.iter()),
    }
}

fn attribute_value(value: &AttributeValue) -> JsValue {
    match value {
        AttributeValue::Null => JsValue::NULL,
        AttributeValue::Bool(b) => JsValue::from_bool(*b),
        AttributeValue::Number(n) => JsValue::from_f64(n.as_f64()),
        AttributeValue::String(s) => JsValue::from_str(s),
        AttributeValue::List(items) => items.iter().map(attribute_value).collect::<Array>().into(),
        AttributeValue::Map(map) => object(map.iter()),
    }
}

/// `Object.fromEntries` defines each key as an own data property, as `JSON.parse` does; assigning
/// would run the `__proto__` setter instead.
fn object<'a>(entries: impl Iterator<Item = (&'a String, &'a AttributeValue)>) -> JsValue {
    let entries: Array = entries
        .map(|(key, value)| Array::of2(&JsValue::from_str(key), &attribute_value(value)))
        .collect();
    Object::from_entries(&entries)
        .map(JsValue::from)
        .unwrap_or(JsValue::NULL)
}
