//! The body of `POST /api/evaluate`, read by one parser that the origin and the edge share, so that
//! both answer a bad request with the same status and the same message.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::compiled::FlagResult;
use crate::error::ValidationError;
use crate::flag::Environment;
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
        let value: Value =
            serde_json::from_slice(body).map_err(|e| RequestError::InvalidJson(e.to_string()))?;
        Ok(Self::from_json_value(&value)?)
    }

    /// Reads a request that is already parsed as JSON.
    pub fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        let map = value
            .as_object()
            .ok_or_else(|| ValidationError::new("body", "must be a JSON object"))?;
        if let Some(key) = map
            .keys()
            .find(|key| !matches!(key.as_str(), "environment" | "user" | "flags"))
        {
            return Err(ValidationError::new(key.clone(), "unknown field"));
        }
        let environment = match map.get("environment") {
            Some(value) => Environment::from_json_value(value)?,
            None => return Err(ValidationError::new("environment", "required")),
        };
        let user = match map.get("user") {
            Some(value) => User::from_json_value(value)?,
            None => return Err(ValidationError::new("user", "required")),
        };
        let flags = match map.get("flags") {
            None | Some(Value::Null) => None,
            Some(Value::Array(keys)) => Some(
                keys.iter()
                    .enumerate()
                    .map(|(i, key)| {
                        key.as_str().map(ToString::to_string).ok_or_else(|| {
                            ValidationError::new(format!("flags[{i}]"), "must be a string")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => {
                return Err(ValidationError::new(
                    "flags",
                    "must be an array of flag keys",
                ))
            }
        };
        Ok(Self {
            environment,
            user,
            flags,
        })
    }
}

/// `{"results": [...]}`, the body of a successful evaluation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvaluateResponse<'a> {
    /// One result a flag, sorted by key.
    pub results: Vec<FlagResult<'a>>,
}
