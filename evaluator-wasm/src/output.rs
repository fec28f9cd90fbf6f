//! Results out: plain JavaScript objects `{flagKey, enabled, reason}`, the HTTP API's shape.

use evaluator::FlagResult;
use serde::Serialize;
use wasm_bindgen::{JsError, JsValue};

/// Plain objects and arrays (not `Map`s), as `JSON.parse` of the HTTP answer would give.
const SERIALIZER: serde_wasm_bindgen::Serializer =
    serde_wasm_bindgen::Serializer::json_compatible();

/// One result.
pub(crate) fn result(result: FlagResult<'_>) -> Result<JsValue, JsError> {
    Ok(result.serialize(&SERIALIZER)?)
}

/// Results, in the order given (the evaluator's: sorted by key).
pub(crate) fn results(results: &[FlagResult<'_>]) -> Result<JsValue, JsError> {
    Ok(results.serialize(&SERIALIZER)?)
}
