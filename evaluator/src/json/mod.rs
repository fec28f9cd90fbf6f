//! The JSON boundary: flags, segments, rules and users read from `serde_json::Value` with an error
//! that names the offending field by its full path, and the serde impls built on it.
//!
//! Reading through `Value` rather than deriving `Deserialize` is what lets every message carry its path
//! (`rules[2].all[0].value`), in every runtime: serde_json natively, serde-wasm-bindgen in JavaScript.
//!
//! - [`flag`]: a flag, its variants, prerequisites and fallthrough;
//! - [`rule`]: rules, conditions and operators, shared by flags and segments;
//! - [`serve`]: a variant name or a split;
//! - [`segment`]: a segment;
//! - [`patch`]: a partial update laid over a flag or a segment and read whole;
//! - [`write`]: the `Serialize` side of all of them, and of results.

mod flag;
mod patch;
#[cfg(feature = "result-json")]
mod result;
mod rule;
mod segment;
mod serve;
mod write;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

#[cfg(feature = "result-json")]
pub(crate) use result::ResultFragments;

use crate::error::ValidationError;
use crate::fields::optional;
use crate::flag::{Environment, Flag, FlagKey, RolloutPercentage};
use crate::reader::UserDraft;
use crate::rule::RuleList;
use crate::segment::{Segment, SegmentKey};
use crate::user::User;
use crate::value::{AttributeValue, Number};

fn object<'v>(value: &'v Value, path: &str) -> Result<&'v Map<String, Value>, ValidationError> {
    value
        .as_object()
        .ok_or_else(|| ValidationError::new(path, "must be a JSON object"))
}

fn optional_string(
    map: &Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<Option<String>, ValidationError> {
    optional(map, name)
        .map(|value| {
            value
                .as_str()
                .map(ToString::to_string)
                .ok_or_else(|| ValidationError::new(path, "must be a string"))
        })
        .transpose()
}

/// The origin's bookkeeping fields of a flag or a segment (`id`, `environment`, then `version`,
/// `createdAt`, `updatedAt`): not kept, but of their type when present, so that every runtime
/// refuses the same documents. Checked where the contract lists them: the first two before the
/// definition, the others after it.
fn check_identity(map: &Map<String, Value>) -> Result<(), ValidationError> {
    optional_string(map, "id", "id")?;
    if let Some(environment) = optional(map, "environment") {
        Environment::from_json_value(environment)?;
    }
    Ok(())
}

fn check_versioning(map: &Map<String, Value>) -> Result<(), ValidationError> {
    if optional(map, "version").is_some_and(|version| version.as_u64().is_none()) {
        return Err(ValidationError::new(
            "version",
            "must be a non-negative integer",
        ));
    }
    optional_string(map, "createdAt", "createdAt")?;
    optional_string(map, "updatedAt", "updatedAt")?;
    Ok(())
}

impl FlagKey {
    /// Reads a key from JSON; the error names the field `key`.
    pub fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        match value.as_str() {
            Some(key) => Self::parse(key),
            None => Err(ValidationError::new("key", "must be a string")),
        }
    }
}

impl SegmentKey {
    /// Reads a segment key from JSON; the error names the field `key`.
    pub fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        match value.as_str() {
            Some(key) => Self::parse(key),
            None => Err(ValidationError::new("key", "must be a string")),
        }
    }
}

impl Environment {
    /// Reads an environment from JSON; the error names the field `environment`.
    pub fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        match value.as_str() {
            Some(name) => Self::parse(name),
            None => Err(ValidationError::new(
                "environment",
                "must be one of \"dev\", \"staging\", \"prod\"",
            )),
        }
    }
}

impl RolloutPercentage {
    /// Reads a percentage from JSON: an integer from 0 to 100.
    pub fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        value
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(Self::out_of_range)
            .and_then(Self::new)
    }
}

impl Flag {
    /// Reads a flag's `description`: a string. The error names the field `description`.
    pub fn description_from_json_value(value: &Value) -> Result<String, ValidationError> {
        value
            .as_str()
            .map(ToString::to_string)
            .ok_or_else(|| ValidationError::new("description", "must be a string"))
    }

    /// Reads whether a flag is `enabled`: a boolean. The error names the field `enabled`.
    pub fn enabled_from_json_value(value: &Value) -> Result<bool, ValidationError> {
        value
            .as_bool()
            .ok_or_else(|| ValidationError::new("enabled", "must be a boolean"))
    }
}

impl User {
    /// Reads the request's `user`: `{id, email?, country?, attributes?}`, `id` a non-empty string.
    /// Errors name the path from `user`. Unknown fields are refused, so that a misplaced attribute is
    /// reported rather than silently never matching.
    pub fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        UserDraft::deserialize(value)
            .map_err(|e| ValidationError::new("user", e.to_string()))?
            .finish()
    }

    /// Reads a user from JSON text straight into its types, with no `Value` tree in between: the
    /// cheaper way when the user arrives as text. Text that is not JSON is refused as
    /// `user: invalid JSON: …`.
    pub fn from_json_str(text: &str) -> Result<Self, ValidationError> {
        serde_json::from_str::<UserDraft>(text)
            .map_err(|e| ValidationError::new("user", format!("invalid JSON: {e}")))?
            .finish()
    }
}

impl<'de> Deserialize<'de> for User {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        UserDraft::deserialize(deserializer)?
            .finish()
            .map_err(D::Error::custom)
    }
}

impl AttributeValue {
    /// Reads any JSON value. Numbers keep their exact value.
    pub fn from_json_value(value: &Value) -> Self {
        match value {
            Value::Null => AttributeValue::Null,
            Value::Bool(b) => AttributeValue::Bool(*b),
            Value::Number(n) => {
                Number::from_json(n).map_or(AttributeValue::Null, AttributeValue::Number)
            }
            Value::String(s) => AttributeValue::String(s.clone()),
            Value::Array(items) => {
                AttributeValue::List(items.iter().map(Self::from_json_value).collect())
            }
            Value::Object(map) => AttributeValue::Map(object_values(map)),
        }
    }

    /// The value as JSON, numbers as they were read.
    pub fn to_json_value(&self) -> Value {
        match self {
            AttributeValue::Null => Value::Null,
            AttributeValue::Bool(b) => Value::Bool(*b),
            AttributeValue::Number(n) => n.to_json(),
            AttributeValue::String(s) => Value::String(s.clone()),
            AttributeValue::List(items) => {
                Value::Array(items.iter().map(Self::to_json_value).collect())
            }
            AttributeValue::Map(map) => Value::Object(
                map.iter()
                    .map(|(key, value)| (key.clone(), value.to_json_value()))
                    .collect(),
            ),
        }
    }
}

fn object_values(map: &Map<String, Value>) -> BTreeMap<String, AttributeValue> {
    map.iter()
        .map(|(key, value)| (key.clone(), AttributeValue::from_json_value(value)))
        .collect()
}

/// `Deserialize` through `from_json_value`, so the serde error carries the field's path.
macro_rules! deserialize_via_value {
    ($($ty:ty),*) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = Value::deserialize(deserializer)?;
                <$ty>::from_json_value(&value).map_err(D::Error::custom)
            }
        }
    )*};
}

deserialize_via_value!(
    Flag,
    FlagKey,
    Environment,
    RolloutPercentage,
    Segment,
    SegmentKey
);

/// Only a flag's own reader knows what its rules may serve; a list of rules read alone is one of a
/// boolean flag, as in version 1.
impl RuleList {
    /// Reads the `rules` of a boolean flag (a serve defaults to "on"). Errors name the path from
    /// `rules`.
    pub fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        rule::rules(value, &crate::variant::Variants::boolean())
    }
}

deserialize_via_value!(RuleList);
