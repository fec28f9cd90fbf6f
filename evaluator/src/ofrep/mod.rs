//! The OpenFeature Remote Evaluation Protocol (OFREP), without the HTTP: what the origin and the edge
//! worker both need to answer `POST /ofrep/v1/evaluate/flags/{key}` and `POST /ofrep/v1/evaluate/flags`
//! byte for byte alike.
//!
//! - [`read_context`]: the body `{"context": {...}}` into a [`User`](crate::User): `targetingKey` → `id`, `email`
//!   and `country` → those fields, every other key → `attributes` (read by the evaluator's own
//!   attribute reader: the same depth limit, the same duplicate-key rule, the same messages with
//!   `context.` where the evaluate API says `user.attributes.`);
//! - [`environment`]: the `x-pennon-environment` header's value, checked;
//! - [`flag_body`], [`bulk_body`], [`error_body`], [`bulk_error_body`]: the answers, written straight
//!   into bytes (a compiled set's results copy the parts its flags wrote once, as
//!   [`crate::EvaluateResponse::to_json`] does);
//! - [`open_feature_reason`]: Pennon's reason as OpenFeature names it;
//! - [`bulk_etag`]: the bulk answer's `ETag`, from the environment, its revision and the body.
//!
//! Everything here is pure and allocation-only, like the rest of the crate.

mod read;
#[cfg(test)]
mod tests;
mod write;

use alloc::format;
use alloc::string::String;
use core::fmt;

use crate::evaluate::Reason;
use crate::flag::Environment;
use crate::hash::Murmur3Prefix;

pub use read::read_context;
pub use write::{bulk_body, bulk_error_body, error_body, flag_body};

/// An OFREP error code, as the protocol (and OpenFeature) spell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The body cannot be read as an OFREP request (not JSON, not an object, `context` twice). 400.
    ParseError,
    /// The context is not an object, or one of its known keys has the wrong type, or an object
    /// in it holds a key twice. 400.
    InvalidContext,
    /// `targetingKey` is missing, `null` or `""`. 400.
    TargetingKeyMissing,
    /// No flag with this key in the environment. 404.
    FlagNotFound,
    /// Anything else: the environment, the token, the rate limit, the server. Its status is the
    /// HTTP API's for the same condition.
    General,
}

impl ErrorCode {
    /// The code as the protocol spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ParseError => "PARSE_ERROR",
            ErrorCode::InvalidContext => "INVALID_CONTEXT",
            ErrorCode::TargetingKeyMissing => "TARGETING_KEY_MISSING",
            ErrorCode::FlagNotFound => "FLAG_NOT_FOUND",
            ErrorCode::General => "GENERAL",
        }
    }
}

/// An OFREP error: its code and its `errorDetails`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfrepError {
    /// What kind of error.
    pub code: ErrorCode,
    /// The message, for people: it names the field or the header at fault.
    pub details: String,
}

impl OfrepError {
    /// An error of this code.
    pub fn new(code: ErrorCode, details: impl Into<String>) -> Self {
        Self {
            code,
            details: details.into(),
        }
    }

    /// A `GENERAL` error.
    pub fn general(details: impl Into<String>) -> Self {
        Self::new(ErrorCode::General, details)
    }

    /// `FLAG_NOT_FOUND` for `key` in `environment` (the key repeated up to [`crate::ECHO_CHARS`]).
    pub fn flag_not_found(key: &str, environment: Environment) -> Self {
        Self::new(
            ErrorCode::FlagNotFound,
            format!("no flag {:?} in {environment}", crate::echo(key)),
        )
    }

    /// The HTTP status of an error about the request or the flag: 404 for `FLAG_NOT_FOUND`, 400
    /// for the others (a `GENERAL` error raised by a server carries its own status).
    pub fn status(&self) -> u16 {
        match self.code {
            ErrorCode::FlagNotFound => 404,
            _ => 400,
        }
    }
}

impl fmt::Display for OfrepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.details)
    }
}

impl core::error::Error for OfrepError {}

/// Pennon's reason as an OpenFeature reason: `RULE_MATCH` → `TARGETING_MATCH`, `ROLLOUT` → `SPLIT`,
/// `NO_MATCH` → `DEFAULT`, `FLAG_DISABLED` and `PREREQUISITE_FAILED` → `DISABLED` (`FLAG_NOT_FOUND`
/// is an error in OFREP, never a reason; `ERROR` here only to be total).
pub fn open_feature_reason(reason: Reason) -> &'static str {
    match reason {
        Reason::RuleMatch => "TARGETING_MATCH",
        Reason::Rollout => "SPLIT",
        Reason::NoMatch => "DEFAULT",
        Reason::FlagDisabled | Reason::PrerequisiteFailed => "DISABLED",
        Reason::FlagNotFound => "ERROR",
    }
}

/// The environment a request names in the header [`ENVIRONMENT_HEADER`], `None` without the header; `GENERAL` naming the header
/// for anything but `dev`, `staging`, `prod` (`value` is the header's bytes: not UTF-8 is refused
/// too).
pub fn environment(value: Option<&[u8]>) -> Result<Option<Environment>, OfrepError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = core::str::from_utf8(value).unwrap_or("\u{fffd}");
    Environment::parse(text)
        .map(Some)
        .map_err(|err| OfrepError::general(format!("{ENVIRONMENT_HEADER}: {}", err.message())))
}

/// The header that names the environment of an OFREP request (lower case).
pub const ENVIRONMENT_HEADER: &str = "x-pennon-environment";

/// The bulk answer's `ETag`: `"<revision>-<16 hex digits>"`, the digits a 64-bit hash (two
/// murmur3_x86_32 of different seeds) of the environment and the request body's bytes. It changes
/// with the revision and with the context (the body), and is the same at the origin and the edge
/// for the same environment, revision and body. Not a secret and not a MAC: a client comparing it
/// with the one it holds is all it is for.
pub fn bulk_etag(environment: Environment, revision: u64, body: &[u8]) -> String {
    let mut prefix = [0u8; 8];
    let name = environment.as_str().as_bytes();
    let len = name.len().min(prefix.len() - 1);
    prefix[..len].copy_from_slice(&name[..len]);
    // The name, then a byte no name holds, so that ("dev", "x…") and ("devx", "…") differ.
    let prefix = &prefix[..=len];
    let low = Murmur3Prefix::new(prefix, 0).finish(body);
    let high = Murmur3Prefix::new(prefix, 0x9747_b28c).finish(body);
    format!("\"{revision}-{high:08x}{low:08x}\"")
}
