//! The JSON boundary: flags, rules and users read from `serde_json::Value` with an error that names the
//! offending field by its full path, and the serde impls built on it.
//!
//! Reading through `Value` rather than deriving `Deserialize` is what lets every message carry its path
//! (`rules[2].all[0].value`), in every runtime: serde_json natively, serde-wasm-bindgen in JavaScript.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::de::Error as _;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::compiled::FlagResult;
use crate::error::ValidationError;
use crate::evaluate::{Evaluation, Reason};
use crate::fields::{optional, refuse_unknown, refuse_unknown_with_hint};
use crate::flag::{Environment, Flag, FlagKey, RolloutPercentage};
use crate::reader::UserDraft;
use crate::rule::{Condition, ConditionGroup, Field, Operator, Rule, RuleList, ScalarList};
use crate::user::User;
use crate::value::{Number, Scalar};

const OPERATORS: &str = "eq, neq, in, not_in, starts_with, ends_with";

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

impl FlagKey {
    /// Reads a key from JSON; the error names the field `key`.
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
    /// Reads the contract's Flag JSON. `key` is required; the rest default as on create (disabled,
    /// 0%, no rules). The origin's fields (`id`, `environment`, `version`, timestamps) may be absent
    /// and are not kept, but when present they must be of their type (an environment one of the
    /// three), as everywhere the contract's Flag is read. Unknown fields are ignored, so that a
    /// newer origin's snapshot still reads.
    pub fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        let map = object(value, "flag")?;
        let key = match map.get("key") {
            Some(key) => FlagKey::from_json_value(key)?,
            None => return Err(ValidationError::new("key", "required")),
        };
        let mut flag = Flag::new(key);
        optional_string(map, "id", "id")?;
        if let Some(environment) = optional(map, "environment") {
            Environment::from_json_value(environment)?;
        }
        flag.description = optional(map, "description")
            .map(Self::description_from_json_value)
            .transpose()?
            .unwrap_or_default();
        if let Some(enabled) = optional(map, "enabled") {
            flag.enabled = Self::enabled_from_json_value(enabled)?;
        }
        if let Some(percent) = optional(map, "rolloutPercentage") {
            flag.rollout_percentage = RolloutPercentage::from_json_value(percent)?;
        }
        if let Some(rules) = optional(map, "rules") {
            flag.rules = RuleList::from_json_value(rules)?;
        }
        if optional(map, "version").is_some_and(|version| version.as_u64().is_none()) {
            return Err(ValidationError::new(
                "version",
                "must be a non-negative integer",
            ));
        }
        optional_string(map, "createdAt", "createdAt")?;
        optional_string(map, "updatedAt", "updatedAt")?;
        Ok(flag)
    }

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

impl RuleList {
    /// Reads a flag's `rules`: an array of at most 100 rules. Errors name the path from `rules`.
    pub fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        let items = value
            .as_array()
            .ok_or_else(|| ValidationError::new("rules", "must be an array"))?;
        if items.len() > crate::rule::MAX_RULES {
            return Err(ValidationError::new(
                "rules",
                format!(
                    "at most {} rules, got {}",
                    crate::rule::MAX_RULES,
                    items.len()
                ),
            ));
        }
        let rules = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                Rule::from_json_value(item).map_err(|e| e.within(&format!("rules[{i}]")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        RuleList::try_from(rules)
    }
}

impl Rule {
    /// Reads one rule: a condition, or `{"all": [conditions]}`. Error paths are relative to the rule.
    pub(crate) fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        let map = object(value, "")?;
        let Some(group) = map.get("all") else {
            return Condition::from_map(map).map(Rule::Condition);
        };
        refuse_unknown_with_hint(map, &["all"], "; a group is {\"all\": [conditions]}")?;
        let items = group
            .as_array()
            .ok_or_else(|| ValidationError::new("all", "must be an array of conditions"))?;
        let conditions = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = format!("all[{i}]");
                let map = object(item, &path)?;
                if map.contains_key("all") {
                    return Err(ValidationError::new(path, "groups cannot be nested"));
                }
                Condition::from_map(map).map_err(|e| e.within(&path))
            })
            .collect::<Result<Vec<_>, _>>()?;
        ConditionGroup::try_from(conditions).map(Rule::All)
    }
}

impl Condition {
    /// Reads `{"field", "operator", "value"}`. Error paths are relative to the condition.
    pub(crate) fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        Self::from_map(object(value, "")?)
    }

    fn from_map(map: &Map<String, Value>) -> Result<Self, ValidationError> {
        refuse_unknown(map, &["field", "operator", "value"])?;
        let field = match map.get("field") {
            Some(Value::String(name)) => Field::parse(name)?,
            Some(_) => return Err(ValidationError::new("field", "must be a string")),
            None => return Err(ValidationError::new("field", "required")),
        };
        let operator = match map.get("operator") {
            Some(Value::String(name)) => name.as_str(),
            Some(_) => return Err(ValidationError::new("operator", "must be a string")),
            None => return Err(ValidationError::new("operator", "required")),
        };
        let value = map
            .get("value")
            .ok_or_else(|| ValidationError::new("value", "required"))?;
        let operator = match operator {
            "eq" => Operator::Eq(scalar(value, "value", operator)?),
            "neq" => Operator::Neq(scalar(value, "value", operator)?),
            "in" => Operator::In(scalar_list(value, operator)?),
            "not_in" => Operator::NotIn(scalar_list(value, operator)?),
            "starts_with" => Operator::StartsWith(text(value, operator)?),
            "ends_with" => Operator::EndsWith(text(value, operator)?),
            other => {
                return Err(ValidationError::new(
                    "operator",
                    format!(
                        "unknown operator {:?}; use one of {OPERATORS}",
                        crate::echo(other)
                    ),
                ))
            }
        };
        Ok(Condition::new(field, operator))
    }
}

fn scalar(value: &Value, path: &str, operator: &str) -> Result<Scalar, ValidationError> {
    let wrong = || {
        ValidationError::new(
            path,
            format!("{operator} needs a string, number or boolean"),
        )
    };
    match value {
        Value::String(s) => Ok(Scalar::String(s.clone())),
        Value::Bool(b) => Ok(Scalar::Bool(*b)),
        Value::Number(n) => Number::from_json(n).map(Scalar::Number).ok_or_else(wrong),
        Value::Null | Value::Array(_) | Value::Object(_) => Err(wrong()),
    }
}

fn scalar_list(value: &Value, operator: &str) -> Result<ScalarList, ValidationError> {
    let items = value
        .as_array()
        .filter(|items| !items.is_empty())
        .ok_or_else(|| {
            ValidationError::new(
                "value",
                format!("{operator} needs a non-empty array of strings, numbers or booleans"),
            )
        })?;
    let scalars = items
        .iter()
        .enumerate()
        .map(|(i, item)| scalar(item, &format!("value[{i}]"), operator))
        .collect::<Result<Vec<_>, _>>()?;
    ScalarList::try_from(scalars)
}

fn text(value: &Value, operator: &str) -> Result<String, ValidationError> {
    value
        .as_str()
        .map(ToString::to_string)
        .ok_or_else(|| ValidationError::new("value", format!("{operator} needs a string")))
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

impl Scalar {
    fn to_json(&self) -> Value {
        match self {
            Scalar::String(s) => Value::String(s.clone()),
            Scalar::Number(n) => n.to_json(),
            Scalar::Bool(b) => Value::Bool(*b),
        }
    }
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
    RuleList,
    Rule,
    Condition
);

impl Serialize for FlagKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Serialize for Environment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Serialize for RolloutPercentage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.get())
    }
}

impl Serialize for RuleList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Rule::Condition(condition) => condition.serialize(serializer),
            Rule::All(group) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("all", &**group)?;
                map.end()
            }
        }
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = match self.operator() {
            Operator::Eq(v) | Operator::Neq(v) => v.to_json(),
            Operator::In(list) | Operator::NotIn(list) => {
                Value::Array(list.iter().map(Scalar::to_json).collect())
            }
            Operator::StartsWith(s) | Operator::EndsWith(s) => Value::String(s.clone()),
        };
        let mut s = serializer.serialize_struct("Condition", 3)?;
        s.serialize_field("field", &self.field().to_string())?;
        s.serialize_field("operator", self.operator().name())?;
        s.serialize_field("value", &value)?;
        s.end()
    }
}

/// What decides the flag: `{key, description, enabled, rolloutPercentage, rules}`.
impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Flag", 5)?;
        s.serialize_field("key", &self.key)?;
        s.serialize_field("description", &self.description)?;
        s.serialize_field("enabled", &self.enabled)?;
        s.serialize_field("rolloutPercentage", &self.rollout_percentage)?;
        s.serialize_field("rules", &self.rules)?;
        s.end()
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Serialize for Evaluation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Evaluation", 2)?;
        s.serialize_field("enabled", &self.enabled)?;
        s.serialize_field("reason", &self.reason)?;
        s.end()
    }
}

impl Serialize for FlagResult<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("FlagResult", 3)?;
        s.serialize_field("flagKey", self.flag_key)?;
        s.serialize_field("enabled", &self.enabled)?;
        s.serialize_field("reason", &self.reason)?;
        s.end()
    }
}
