//! The body of `POST /api/evaluate`, read by one parser that the origin and the edge share, so that
//! both answer a bad request with the same status and the same message.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::Serialize;

use crate::compiled::FlagResult;
use crate::error::ValidationError;
use crate::flag::Environment;
use crate::reader::RequestDraft;
use crate::user::User;

/// `{environment, user, flags?}`.
#[derive(Clone, Debug, PartialEq)]
pub struct EvaluateRequest {
    /// The environment whose flags are evaluated.
    pub environment: Environment,
    /// The user they are evaluated for.
    pub user: User,
    /// Only these keys, when given; unknown keys come back as `FLAG_NOT_FOUND`.
    pub flags: Option<Vec<String>>,
}

/// Why a request body was refused; its `Display` is the message for `{"error": ...}` with status 400.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The body is not JSON.
    InvalidJson(String),
    /// The body is JSON but breaks the request's shape.
    Invalid(ValidationError),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::InvalidJson(detail) => write!(f, "invalid JSON: {detail}"),
            RequestError::Invalid(error) => error.fmt(f),
        }
    }
}

impl core::error::Error for RequestError {}

impl From<ValidationError> for RequestError {
    fn from(error: ValidationError) -> Self {
        RequestError::Invalid(error)
    }
}

impl EvaluateRequest {
    /// Reads a request body. Unknown top-level fields are refused; `flags: null` is the same as no
    /// `flags`.
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        let draft: RequestDraft =
            serde_json::from_slice(body).map_err(|e| RequestError::InvalidJson(e.to_string()))?;
        Ok(Self::from_draft(draft)?)
    }

    fn from_draft(draft: RequestDraft) -> Result<Self, ValidationError> {
        let (environment, user, flags) = draft.finish()?;
        Ok(Self {
            environment,
            user,
            flags,
        })
    }
}

/// `{"results": [...]}`, the body of a successful evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvaluateResponse<'a> {
    /// One result a flag, sorted by key.
    pub results: Vec<FlagResult<'a>>,
}

#[cfg(feature = "result-json")]
impl EvaluateResponse<'_> {
    /// The body as JSON: the same bytes as serializing it with serde_json, written faster. A result
    /// from a compiled set copies its flag's parts written once when the set compiled (see
    /// [`CompiledFlagSet`](crate::CompiledFlagSet)); any other goes through serde.
    pub fn to_json(&self) -> Vec<u8> {
        let size: usize = self
            .results
            .iter()
            .map(|result| result.prepared.map_or(96, |parts| parts.size_hint()))
            .sum();
        let mut out = Vec::with_capacity(16 + size);
        out.extend_from_slice(b"{\"results\":[");
        for (i, result) in self.results.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let written = match (result.prepared, result.variant_id()) {
                (Some(parts), Some(variant)) => parts.write(result, variant.index(), &mut out),
                _ => false,
            };
            if !written {
                // Writing into a Vec cannot fail, and a result holds nothing serde could refuse.
                let _ = serde_json::to_writer(&mut out, result);
            }
        }
        out.extend_from_slice(b"]}");
        out
    }
}
