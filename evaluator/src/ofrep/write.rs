//! The OFREP answers, written straight into bytes.
//!
//! A success is `{"key","variant","value","reason","metadata":{"pennonReason"}}`. For a result of a
//! compiled set the key and the `"variant"` and `"value"` members are the very bytes the set wrote
//! once for `POST /api/evaluate` (`crate::json::ResultFragments`), so an answer is a few copies per
//! flag; any other result (or a variant too large to keep) is written through serde_json, the same
//! bytes. Strings are escaped by serde_json everywhere, so the origin and the edge, which both call
//! these, answer the same bytes.

use alloc::vec::Vec;

use super::{open_feature_reason, OfrepError};
use crate::compiled::FlagResult;
use crate::evaluate::Reason;
use crate::flag::Environment;

/// The 200 body of `POST /ofrep/v1/evaluate/flags/{key}`. A result for a key the set does not
/// have ([`Reason::FlagNotFound`]) is written as the `FLAG_NOT_FOUND` error (a 404's body).
pub fn flag_body(result: &FlagResult<'_>, environment: Environment) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    write_item(result, environment, &mut out);
    out
}

/// The 200 body of `POST /ofrep/v1/evaluate/flags`: `{"flags": [...]}`, one item per result in the
/// order given, then `"eventStreams"` when given: `event_streams` is that member's value, already
/// JSON (an array of the protocol's `eventStream` objects), copied as it is.
pub fn bulk_body(
    results: &[FlagResult<'_>],
    environment: Environment,
    event_streams: Option<&str>,
) -> Vec<u8> {
    let size: usize = results
        .iter()
        .map(|result| result.prepared.map_or(128, |parts| parts.size_hint() + 64))
        .sum();
    let mut out = Vec::with_capacity(16 + size + event_streams.map_or(0, str::len));
    out.extend_from_slice(b"{\"flags\":[");
    for (i, result) in results.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_item(result, environment, &mut out);
    }
    out.push(b']');
    if let Some(streams) = event_streams {
        out.extend_from_slice(b",\"eventStreams\":");
        out.extend_from_slice(streams.as_bytes());
    }
    out.push(b'}');
    out
}

/// The error body of the single-flag route: `{"key","errorCode","errorDetails"}`.
pub fn error_body(key: &str, error: &OfrepError) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + key.len() + error.details.len());
    write_error(Some(key), error, &mut out);
    out
}

/// The error body of the bulk route: `{"errorCode","errorDetails"}`.
pub fn bulk_error_body(error: &OfrepError) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 + error.details.len());
    write_error(None, error, &mut out);
    out
}

fn write_item(result: &FlagResult<'_>, environment: Environment, out: &mut Vec<u8>) {
    let (Some(variant), Some(value)) = (result.variant_id(), result.value()) else {
        let error = OfrepError::flag_not_found(result.flag_key, environment);
        write_error(Some(result.flag_key), &error, out);
        return;
    };
    out.extend_from_slice(b"{\"key\":");
    let kept = result.prepared.and_then(|parts| {
        Some((
            parts.quoted_key(),
            parts.variant_and_value(variant.index())?,
        ))
    });
    match kept {
        Some((key, variant_and_value)) => {
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(variant_and_value.as_bytes());
        }
        None => {
            write_json(result.flag_key, out);
            out.extend_from_slice(b",\"variant\":");
            write_json(result.variant().unwrap_or_default(), out);
            out.extend_from_slice(b",\"value\":");
            write_json(value, out);
        }
    }
    out.extend_from_slice(tail(result.reason).as_bytes());
}

fn write_error(key: Option<&str>, error: &OfrepError, out: &mut Vec<u8>) {
    out.push(b'{');
    if let Some(key) = key {
        out.extend_from_slice(b"\"key\":");
        write_json(key, out);
        out.push(b',');
    }
    out.extend_from_slice(b"\"errorCode\":\"");
    out.extend_from_slice(error.code.as_str().as_bytes());
    out.extend_from_slice(b"\",\"errorDetails\":");
    write_json(error.details.as_str(), out);
    out.push(b'}');
}

/// Anything serde_json writes (a string, a variant's value), compact. Writing these cannot fail;
/// `null` keeps the document whole if it ever did.
fn write_json<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    match serde_json::to_vec(value) {
        Ok(bytes) => out.extend_from_slice(&bytes),
        Err(_) => out.extend_from_slice(b"null"),
    }
}

/// `,"reason":…,"metadata":{"pennonReason":…}}` of a success.
fn tail(reason: Reason) -> &'static str {
    macro_rules! tail {
        ($open_feature:literal, $pennon:literal) => {
            concat!(
                ",\"reason\":\"",
                $open_feature,
                "\",\"metadata\":{\"pennonReason\":\"",
                $pennon,
                "\"}}"
            )
        };
    }
    let written = match reason {
        Reason::RuleMatch => tail!("TARGETING_MATCH", "RULE_MATCH"),
        Reason::Rollout => tail!("SPLIT", "ROLLOUT"),
        Reason::NoMatch => tail!("DEFAULT", "NO_MATCH"),
        Reason::FlagDisabled => tail!("DISABLED", "FLAG_DISABLED"),
        Reason::PrerequisiteFailed => tail!("DISABLED", "PREREQUISITE_FAILED"),
        Reason::FlagNotFound => tail!("ERROR", "FLAG_NOT_FOUND"),
    };
    debug_assert!(written.contains(open_feature_reason(reason)));
    written
}
