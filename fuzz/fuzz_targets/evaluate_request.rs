//! `POST /api/evaluate` as the origin and the edge worker answer it: the body read by
//! `EvaluateRequest::from_json`, then evaluated by the golden set of its environment. A refusal
//! must be a typed error with a message; an evaluation must be the reference evaluation's, in the
//! contract's order, written as serde writes it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pennon_fuzz::{check_request_error, check_results, FIXTURES};

fuzz_target!(|body: &[u8]| {
    let request = match evaluator::EvaluateRequest::from_json(body) {
        Ok(request) => request,
        Err(error) => return check_request_error(&error),
    };
    let golden = FIXTURES.environment(request.environment);
    let results = match &request.flags {
        Some(keys) => golden.set.evaluate_keys(&request.user, keys),
        None => golden.set.evaluate_all(&request.user),
    };
    check_results(
        &golden.set,
        &golden.definitions(),
        &request.user,
        request.flags.as_deref(),
        &results,
    );
});
