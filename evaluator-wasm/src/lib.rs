//! Pennon's evaluator for JavaScript: a thin wasm-bindgen layer over the `evaluator` crate, the code
//! behind the npm package `@pennon/evaluator`.
//!
//! Values cross the boundary as JSON-shaped JavaScript values. Every rule of the flag model, and every
//! error message, is the evaluator's own; this crate only moves values in and out (modules `input` and
//! `output`) and turns a [`ValidationError`](evaluator::ValidationError) into a thrown `Error` whose
//! message names the field.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod code;
mod input;
mod output;

use evaluator::{CompiledFlagSet, Environment, FlagResult, Reason};
use wasm_bindgen::prelude::*;

/// Evaluates one flag for one user: `{flagKey, enabled, reason}`.
#[wasm_bindgen]
pub fn evaluate(flag: &JsValue, user: &JsValue) -> Result<JsValue, JsError> {
    let flag = input::flag(flag)?;
    let user = input::user(user)?;
    let evaluation = evaluator::evaluate(&flag, &user);
    output::result(FlagResult {
        flag_key: flag.key.as_str(),
        enabled: evaluation.enabled,
        reason: evaluation.reason,
    })
}

/// Evaluates every flag of a list for one user, sorted by key; duplicate keys are refused.
#[wasm_bindgen(js_name = evaluateAll)]
pub fn evaluate_all(flags: &JsValue, user: &JsValue) -> Result<JsValue, JsError> {
    let set = CompiledFlagSet::new(&input::flags(flags)?)?;
    let user = input::user(user)?;
    output::results(&set.evaluate_all(&user))
}

/// The reason of each code of `evaluateCodes`, by `code & 7`; `code & 8` is `enabled`.
#[wasm_bindgen(js_name = reasonNames)]
pub fn reason_names() -> Vec<String> {
    code::REASONS
        .iter()
        .map(|reason| reason.as_str().to_owned())
        .collect()
}

/// A flag set compiled once and kept in wasm memory, so that evaluating a user is one call.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Evaluator {
    set: CompiledFlagSet,
    environment: Option<Environment>,
    revision: Option<u64>,
}

#[wasm_bindgen]
impl Evaluator {
    /// Compiles an array of flags or a snapshot `{environment, revision, flags}`.
    #[wasm_bindgen(constructor)]
    pub fn new(flags_or_snapshot: &JsValue) -> Result<Evaluator, JsError> {
        let source = input::flag_source(flags_or_snapshot)?;
        Ok(Evaluator {
            set: CompiledFlagSet::new(&source.flags)?,
            environment: source.environment,
            revision: source.revision,
        })
    }

    /// Every flag for `user`, sorted by key; with `keys` (an array of strings), only those, each once,
    /// an unknown key answering `FLAG_NOT_FOUND` as in the HTTP API.
    pub fn evaluate(&self, user: &JsValue, keys: &JsValue) -> Result<JsValue, JsError> {
        let user = input::user(user)?;
        match input::keys(keys)? {
            None => output::results(&self.set.evaluate_all(&user)),
            Some(keys) => output::results(&self.set.evaluate_keys(&user, &keys)),
        }
    }

    /// Every flag for `user` as one code a flag, in the order of [`Evaluator::keys`]: the hot path
    /// of `evaluate(user)`, where the JavaScript side builds the result objects itself with the keys
    /// it cached once (see `npm/core.js`). About seven times faster than serializing 100 objects
    /// through serde-wasm-bindgen, whose cost is one boundary crossing per field.
    #[wasm_bindgen(js_name = evaluateCodes)]
    pub fn evaluate_codes(&self, user: &JsValue) -> Result<Vec<u8>, JsError> {
        let user = input::user(user)?;
        Ok(self
            .set
            .evaluate_all(&user)
            .iter()
            .map(|result| code::encode(result.enabled, result.reason))
            .collect())
    }

    /// The keys of the set, sorted: the order of `evaluateCodes`.
    pub fn keys(&self) -> Vec<String> {
        self.set.keys().map(String::from).collect()
    }

    /// One flag for `user`; a key the set does not have answers `FLAG_NOT_FOUND`.
    #[wasm_bindgen(js_name = evaluateFlag)]
    pub fn evaluate_flag(&self, key: &JsValue, user: &JsValue) -> Result<JsValue, JsError> {
        let key = input::key(key)?;
        let user = input::user(user)?;
        let (enabled, reason) = match self.set.evaluate_flag(&key, &user) {
            Some(evaluation) => (evaluation.enabled, evaluation.reason),
            None => (false, Reason::FlagNotFound),
        };
        output::result(FlagResult {
            flag_key: &key,
            enabled,
            reason,
        })
    }

    /// How many flags the set holds.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.set.len()
    }

    /// The snapshot's environment; `undefined` when built from an array of flags.
    #[wasm_bindgen(getter)]
    pub fn environment(&self) -> Option<String> {
        self.environment.map(|env| env.as_str().to_owned())
    }

    /// The snapshot's revision; `undefined` when built from an array of flags.
    #[wasm_bindgen(getter)]
    pub fn revision(&self) -> Option<f64> {
        // Revisions count writes: far below 2^53, so the conversion is exact.
        self.revision.map(|revision| revision as f64)
    }
}
