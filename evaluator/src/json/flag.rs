//! A flag: read field by field in a fixed order, so that a document with several mistakes is always
//! refused for the same one: `key`, the origin's fields, `description`, `enabled`, `type`,
//! `variants`, `offVariant`, `prerequisites`, `rules`, `rolloutPercentage`, `fallthrough`, and the
//! origin's `version` and timestamps.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::rule::rules;
use super::serve::serve;
use super::{check_identity, check_versioning, object, object_values};
use crate::error::ValidationError;
use crate::fields::{optional, refuse_unknown};
use crate::flag::{Fallthrough, Flag, FlagKey, Prerequisite, RolloutPercentage, MAX_PREREQUISITES};
use crate::value::Number;
use crate::variant::{
    value_type_message, FlagType, VariantName, VariantValue, Variants, MAX_OBJECT_BYTES,
    MAX_VARIANTS,
};

impl Flag {
    /// Reads the contract's Flag JSON. `key` is required; the rest default as on create (a boolean
    /// flag, disabled, 0%, no rules). The origin's fields (`id`, `environment`, `version`,
    /// timestamps) may be absent and are not kept, but when present they must be of their type (an
    /// environment one of the three), as everywhere the contract's Flag is read. Unknown fields are
    /// ignored, so that a newer origin's snapshot still reads.
    pub fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        let map = object(value, "flag")?;
        let key = match map.get("key") {
            Some(key) => FlagKey::from_json_value(key)?,
            None => return Err(ValidationError::new("key", "required")),
        };
        check_identity(map)?;
        let description = optional(map, "description")
            .map(Self::description_from_json_value)
            .transpose()?
            .unwrap_or_default();
        let enabled = optional(map, "enabled")
            .map(Self::enabled_from_json_value)
            .transpose()?
            .unwrap_or(false);
        let kind = match optional(map, "type") {
            None => FlagType::Boolean,
            Some(Value::String(name)) => FlagType::parse(name)?,
            Some(_) => {
                return Err(ValidationError::new(
                    "type",
                    "must be one of \"boolean\", \"string\", \"number\", \"object\"",
                ))
            }
        };
        let variants = match optional(map, "variants") {
            Some(given) => variants(given, kind)?,
            None if kind == FlagType::Boolean => Variants::boolean(),
            None => return Err(required_unless_boolean("variants", kind)),
        };
        let off_variant = match optional(map, "offVariant") {
            Some(Value::String(name)) if kind == FlagType::Boolean && name != "off" => {
                return Err(ValidationError::new(
                    "offVariant",
                    "a boolean flag's offVariant is \"off\"",
                ))
            }
            Some(Value::String(name)) => variants.resolve(name, "offVariant")?,
            Some(_) => return Err(ValidationError::new("offVariant", "must be a variant name")),
            None if kind == FlagType::Boolean => Variants::boolean_id(false),
            None => return Err(required_unless_boolean("offVariant", kind)),
        };
        let prerequisites = optional(map, "prerequisites")
            .map(prerequisites)
            .transpose()?
            .unwrap_or_default();
        let rules = optional(map, "rules")
            .map(|given| rules(given, &variants))
            .transpose()?
            .unwrap_or_default();
        let fallthrough = fallthrough(map, kind, &variants)?;
        check_versioning(map)?;
        let mut flag = Flag::build(
            key,
            variants,
            off_variant,
            prerequisites,
            rules,
            fallthrough,
        )?;
        flag.description = description;
        flag.enabled = enabled;
        Ok(flag)
    }
}

fn required_unless_boolean(field: &str, kind: FlagType) -> ValidationError {
    ValidationError::new(field, format!("required for {}", kind.a_flag()))
}

/// `rolloutPercentage` (boolean flags only) or `fallthrough`, never both; a boolean flag with
/// neither has the rollout at 0%.
fn fallthrough(
    map: &Map<String, Value>,
    kind: FlagType,
    variants: &Variants,
) -> Result<Fallthrough, ValidationError> {
    let rollout = optional(map, "rolloutPercentage")
        .map(RolloutPercentage::from_json_value)
        .transpose()?;
    if rollout.is_some() && kind != FlagType::Boolean {
        return Err(ValidationError::new(
            "rolloutPercentage",
            format!(
                "{} has no rolloutPercentage; give a fallthrough",
                kind.a_flag()
            ),
        ));
    }
    let given = optional(map, "fallthrough");
    if rollout.is_some() && given.is_some() {
        return Err(ValidationError::new(
            "rolloutPercentage",
            "a flag has rolloutPercentage or fallthrough, not both",
        ));
    }
    match (rollout, given) {
        (_, Some(given)) => serve(given, variants)
            .map(Fallthrough::Serve)
            .map_err(|e| e.within("fallthrough")),
        (Some(rollout), None) => Ok(Fallthrough::Rollout(rollout)),
        (None, None) if kind == FlagType::Boolean => {
            Ok(Fallthrough::Rollout(RolloutPercentage::default()))
        }
        (None, None) => Err(required_unless_boolean("fallthrough", kind)),
    }
}

fn variants(value: &Value, kind: FlagType) -> Result<Variants, ValidationError> {
    let map = value.as_object().ok_or_else(|| {
        ValidationError::new("variants", "must be an object of variant names to values")
    })?;
    if map.is_empty() || map.len() > MAX_VARIANTS {
        return Err(ValidationError::new(
            "variants",
            format!(
                "a flag needs 1 to {MAX_VARIANTS} variants, got {}",
                map.len()
            ),
        ));
    }
    let entries = map
        .iter()
        .map(|(name, value)| {
            let path = || format!("variants.{}", crate::echo(name));
            let name = VariantName::parse(name).map_err(|e| e.within("variants"))?;
            let value = variant_value(value, kind).map_err(|e| e.within(&path()))?;
            Ok((name, value))
        })
        .collect::<Result<Vec<_>, ValidationError>>()?;
    Variants::new(kind, entries)
}

fn variant_value(value: &Value, kind: FlagType) -> Result<VariantValue, ValidationError> {
    let wrong = || ValidationError::new("", value_type_message(kind));
    match (kind, value) {
        (FlagType::Boolean, Value::Bool(b)) => Ok(VariantValue::Bool(*b)),
        (FlagType::String, Value::String(s)) => Ok(VariantValue::String(s.clone())),
        (FlagType::Number, Value::Number(n)) => Number::from_json(n)
            .map(VariantValue::Number)
            .ok_or_else(wrong),
        (FlagType::Object, Value::Object(map)) => {
            let bytes = serde_json::to_string(value).map_or(usize::MAX, |text| text.len());
            if bytes > MAX_OBJECT_BYTES {
                return Err(ValidationError::new(
                    "",
                    format!(
                        "an object value is at most {MAX_OBJECT_BYTES} bytes as JSON, got {bytes}"
                    ),
                ));
            }
            Ok(VariantValue::Object(object_values(map)))
        }
        _ => Err(wrong()),
    }
}

fn prerequisites(value: &Value) -> Result<Vec<Prerequisite>, ValidationError> {
    let items = value
        .as_array()
        .ok_or_else(|| ValidationError::new("prerequisites", "must be an array"))?;
    if items.len() > MAX_PREREQUISITES {
        return Err(ValidationError::new(
            "prerequisites",
            format!(
                "at most {MAX_PREREQUISITES} prerequisites, got {}",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| prerequisite(item).map_err(|e| e.within(&format!("prerequisites[{i}]"))))
        .collect()
}

fn prerequisite(value: &Value) -> Result<Prerequisite, ValidationError> {
    let map = object(value, "")?;
    refuse_unknown(map, &["flag", "variants"])?;
    let flag = match map.get("flag") {
        Some(Value::String(key)) => {
            FlagKey::parse(key).map_err(|e| ValidationError::new("flag", e.message()))?
        }
        Some(_) => return Err(ValidationError::new("flag", "must be a flag key")),
        None => return Err(ValidationError::new("flag", "required")),
    };
    let names = match map.get("variants") {
        Some(Value::Array(names)) => names,
        Some(_) => {
            return Err(ValidationError::new(
                "variants",
                "must be an array of variant names",
            ))
        }
        None => return Err(ValidationError::new("variants", "required")),
    };
    let variants = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let path = format!("variants[{i}]");
            match name {
                Value::String(name) => VariantName::parse(name).map_err(|e| e.within(&path)),
                _ => Err(ValidationError::new(path, "must be a variant name")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Prerequisite::new(flag, variants)
}
