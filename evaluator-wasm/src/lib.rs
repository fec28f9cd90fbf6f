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
mod encoded_user;
mod input;
mod input_buffer;
mod output;

use evaluator::{CompiledFlagSet, Environment, FlagResult, Variants};
use input_buffer::InputBuffer;
use wasm_bindgen::prelude::*;

/// Evaluates one flag for one user on its own: `{flagKey, enabled, reason, variant, value}`. Alone, a
/// prerequisite finds no flag (so it fails) and a segment condition no segment (no members).
///
/// Through a set of one rather than `evaluator::evaluate`: the answers are the same (the evaluator's
/// tests hold the two to each other), and the package then carries one evaluation, not two. A flag
/// cannot be its own prerequisite, so a set of one always compiles.
#[wasm_bindgen]
pub fn evaluate(flag: &JsValue, user: &JsValue) -> Result<JsValue, JsError> {
    let flag = input::flag(flag)?;
    let user = input::user(user)?;
    let set = CompiledFlagSet::new(core::slice::from_ref(&flag))?;
    let key = flag.key.as_str();
    let result = set
        .evaluate_flag(key, &user)
        .unwrap_or_else(|| FlagResult::not_found(key));
    Ok(output::result(&result))
}

/// Evaluates every flag of a list for one user, sorted by key, the flags decided among themselves
/// (a prerequisite names a flag of the list); duplicate keys and prerequisite cycles are refused.
#[wasm_bindgen(js_name = evaluateAll)]
pub fn evaluate_all(flags: &JsValue, user: &JsValue) -> Result<JsValue, JsError> {
    let set = CompiledFlagSet::new(&input::flags(flags)?)?;
    let user = input::user(user)?;
    Ok(output::results(&set.evaluate_all(&user)))
}

/// The reason of each code of `evaluateCodes`, by `code & 7`; `code & 8` is `enabled`.
#[wasm_bindgen(js_name = reasonNames)]
pub fn reason_names() -> Vec<String> {
    code::REASONS
        .iter()
        .map(|reason| reason.as_str().to_owned())
        .collect()
}

/// The module's memory, where `npm/wasm-input.js` writes an encoded user and reads the codes.
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// A flag set and its segments compiled once and kept in wasm memory, so that evaluating a user is
/// one call.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Evaluator {
    set: CompiledFlagSet,
    /// Each flag's variants, in the set's (key) order: how `evaluateCodes` numbers a served variant.
    variants: Vec<Variants>,
    environment: Option<Environment>,
    revision: Option<u64>,
    /// Where JavaScript writes an encoded user (see `input_buffer.rs`).
    input: InputBuffer,
    /// The codes of the last `evaluateCodesInput`, one a flag in the order of `keys()`; never
    /// reallocated, so JavaScript keeps a view of it.
    codes: Vec<u16>,
}

#[wasm_bindgen]
impl Evaluator {
    /// Compiles an array of flags or a snapshot `{flags, segments?, environment?, revision?}`.
    #[wasm_bindgen(constructor)]
    pub fn new(flags_or_snapshot: &JsValue) -> Result<Evaluator, JsError> {
        let source = input::flag_source(flags_or_snapshot)?;
        let set = CompiledFlagSet::with_segments(&source.flags, &source.segments)?;
        // Each flag's variants at its place in the set (sorted by key, keys unique once compiled),
        // found by binary search rather than by sorting the flags: one sort fewer in the wasm.
        let keys: Vec<&str> = set.keys().collect();
        let mut variants = vec![Variants::boolean(); keys.len()];
        for flag in &source.flags {
            if let Ok(place) = keys.binary_search(&flag.key.as_str()) {
                variants[place] = flag.variants().clone();
            }
        }
        Ok(Evaluator {
            codes: vec![0; set.len()],
            set,
            variants,
            environment: source.environment,
            revision: source.revision,
            input: InputBuffer::default(),
        })
    }

    /// Every flag for `user`, sorted by key; with `keys` (an array of strings), only those, each once,
    /// an unknown key answering `FLAG_NOT_FOUND` as in the HTTP API.
    pub fn evaluate(&self, user: &JsValue, keys: &JsValue) -> Result<JsValue, JsError> {
        let user = input::user(user)?;
        match input::keys(keys)? {
            None => Ok(output::results(&self.set.evaluate_all(&user))),
            Some(keys) => Ok(output::results(&self.set.evaluate_keys(&user, &keys))),
        }
    }

    /// Every flag for `user` as one code a flag (see `code.rs`), in the order of [`Evaluator::keys`]:
    /// the hot path of `evaluate(user)`, where the JavaScript side builds the result objects itself
    /// from the keys and `variantTable()` it cached once (see `npm/core.js`), so a result costs no
    /// boundary crossing and no JSON. This one reads the user the exact way, for what
    /// `evaluateCodesInput` leaves to it.
    #[wasm_bindgen(js_name = evaluateCodes)]
    pub fn evaluate_codes(&self, user: &JsValue) -> Result<Vec<u16>, JsError> {
        let user = input::user(user)?;
        Ok(self.set.evaluate_all(&user).iter().map(code::of).collect())
    }

    /// `evaluateCodes` for the user `npm/wasm-input.js` wrote into the input buffer (`bytes` of text,
    /// `slots` of tape), the codes left in the buffer at the last address of `inputRegions()`; false, with the codes
    /// untouched, when the encoding is not one `encoded_user.rs` reads, and the caller must take
    /// `evaluateCodes` with the object.
    #[wasm_bindgen(js_name = evaluateCodesInput)]
    pub fn evaluate_codes_input(&mut self, bytes: usize, slots: usize) -> bool {
        let Some(user) = self.input.user(bytes, slots) else {
            return false;
        };
        let results = self.set.evaluate_all(&user);
        for (code, result) in self.codes.iter_mut().zip(&results) {
            *code = code::of(result);
        }
        true
    }

    /// The code of the flag at `index` (in the order of `keys()`) for the user in the input buffer,
    /// or -1 when the exact path must read the user (or there is no such flag).
    #[wasm_bindgen(js_name = evaluateFlagInput)]
    pub fn evaluate_flag_input(&self, index: usize, bytes: usize, slots: usize) -> i32 {
        let result = self.input.user(bytes, slots).and_then(|user| {
            let key = self.set.keys().nth(index)?;
            self.set
                .evaluate_flag(key, &user)
                .map(|result| code::of(&result))
        });
        result.map_or(-1, i32::from)
    }

    /// Room in the input buffer for `bytes` of text and `slots` of tape; its addresses may move.
    #[wasm_bindgen(js_name = reserveInput)]
    pub fn reserve_input(&mut self, bytes: usize, slots: usize) {
        self.input.reserve(bytes, slots);
    }

    /// `[text address, text bytes, tape address, tape slots, codes address]` in wasm memory.
    #[wasm_bindgen(js_name = inputRegions)]
    pub fn input_regions(&self) -> Vec<usize> {
        let (text, text_len) = self.input.text_region();
        let (tape, tape_len) = self.input.tape_region();
        vec![text, text_len, tape, tape_len, self.codes.as_ptr() as usize]
    }

    /// The keys of the set, sorted: the order of `evaluateCodes`.
    pub fn keys(&self) -> Vec<String> {
        self.set.keys().map(String::from).collect()
    }

    /// Each flag's variants as `[name, value]` pairs, by index, in the order of `keys()`.
    #[wasm_bindgen(js_name = variantTable)]
    pub fn variant_table(&self) -> JsValue {
        output::variant_table(&self.variants)
    }

    /// One flag for `user`; a key the set does not have answers `FLAG_NOT_FOUND`.
    #[wasm_bindgen(js_name = evaluateFlag)]
    pub fn evaluate_flag(&self, key: &JsValue, user: &JsValue) -> Result<JsValue, JsError> {
        let key = input::key(key)?;
        let user = input::user(user)?;
        let result = self
            .set
            .evaluate_flag(&key, &user)
            .unwrap_or_else(|| FlagResult::not_found(&key));
        Ok(output::result(&result))
    }

    /// How many flags the set holds.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.set.len()
    }

    /// The snapshot's environment; `undefined` when built from an array of flags or a snapshot
    /// without one.
    #[wasm_bindgen(getter)]
    pub fn environment(&self) -> Option<String> {
        self.environment.map(|env| env.as_str().to_owned())
    }

    /// The snapshot's revision; `undefined` when built from an array of flags or a snapshot without
    /// one.
    #[wasm_bindgen(getter)]
    pub fn revision(&self) -> Option<f64> {
        // Revisions count writes: far below 2^53, so the conversion is exact.
        self.revision.map(|revision| revision as f64)
    }
}
