//! Rules and their conditions: a flag's (with `serve`, and segment conditions) and a segment's
//! (neither). Error paths are relative to the list (`rules[1].all[0].value`).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::object;
use super::serve::serve;
use crate::error::ValidationError;
use crate::fields::{optional, refuse_unknown, refuse_unknown_with_hint};
use crate::rule::{
    Comparison, Condition, ConditionGroup, Field, Match, Operator, Rule, RuleList, ScalarList,
    Spelled, MAX_LIST_VALUES, MAX_RULES,
};
use crate::segment::{SegmentKey, SegmentRules};
use crate::serve::Serve;
use crate::value::{Number, Scalar};
use crate::variant::{FlagType, Variants};

const GROUP_HINT: &str = "; a group is {\"all\": [conditions]}";

/// The items of a `rules` array, each read by `read` with its index in the error path.
fn items<T>(
    value: &Value,
    read: impl Fn(&Value) -> Result<T, ValidationError>,
) -> Result<Vec<T>, ValidationError> {
    let items = value
        .as_array()
        .ok_or_else(|| ValidationError::new("rules", "must be an array"))?;
    if items.len() > MAX_RULES {
        return Err(ValidationError::new(
            "rules",
            format!("at most {MAX_RULES} rules, got {}", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| read(item).map_err(|e| e.within(&format!("rules[{i}]"))))
        .collect()
}

/// A flag's `rules`, whose serves name `variants`; on a boolean flag a rule without `serve` serves
/// "on".
pub(super) fn rules(value: &Value, variants: &Variants) -> Result<RuleList, ValidationError> {
    RuleList::try_from(items(value, |item| flag_rule(item, variants))?)
}

/// A segment's `rules`: no `serve`, no segment conditions.
pub(super) fn segment_rules(value: &Value) -> Result<SegmentRules, ValidationError> {
    SegmentRules::try_from(items(value, segment_rule)?)
}

fn flag_rule(value: &Value, variants: &Variants) -> Result<Rule, ValidationError> {
    let map = object(value, "")?;
    let when = match map.get("all") {
        Some(group) => {
            refuse_unknown_with_hint(map, &["all", "serve"], GROUP_HINT)?;
            Match::All(read_group(group, flag_condition)?)
        }
        None => Match::One(flag_condition_fields(map, &["serve"])?),
    };
    let serve = match optional(map, "serve") {
        Some(given) => serve(given, variants).map_err(|e| e.within("serve"))?,
        None if variants.kind() == FlagType::Boolean => Serve::Variant(Variants::boolean_id(true)),
        None => {
            return Err(ValidationError::new(
                "serve",
                format!("required on {}", variants.kind().a_flag()),
            ))
        }
    };
    Ok(Rule::new(when, serve))
}

fn segment_rule(value: &Value) -> Result<Match<Comparison>, ValidationError> {
    let map = object(value, "")?;
    // Said plainly rather than as an unknown field: a rule copied from a flag is the likely cause,
    // and a group's "unknown field" hint would point at the wrong thing.
    if map.contains_key("serve") {
        return Err(ValidationError::new(
            "serve",
            "a segment's rules have no serve",
        ));
    }
    match map.get("all") {
        Some(group) => {
            refuse_unknown_with_hint(map, &["all"], GROUP_HINT)?;
            Ok(Match::All(read_group(group, segment_condition)?))
        }
        None => segment_condition_fields(map),
    }
}

fn read_group<C>(
    value: &Value,
    condition: impl Fn(&Map<String, Value>) -> Result<C, ValidationError>,
) -> Result<ConditionGroup<C>, ValidationError> {
    let items = value
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
            condition(map).map_err(|e| e.within(&path))
        })
        .collect::<Result<Vec<_>, _>>()?;
    ConditionGroup::try_from(conditions)
}

fn flag_condition(map: &Map<String, Value>) -> Result<Condition, ValidationError> {
    flag_condition_fields(map, &[])
}

/// A condition of a flag; `also` are the rule's own fields that may sit beside it (`serve`).
fn flag_condition_fields(
    map: &Map<String, Value>,
    also: &[&str],
) -> Result<Condition, ValidationError> {
    for (name, make) in [
        (
            "segment",
            Condition::InSegment as fn(SegmentKey) -> Condition,
        ),
        ("notSegment", Condition::NotInSegment),
    ] {
        if let Some(key) = map.get(name) {
            let mut known = alloc::vec![name];
            known.extend_from_slice(also);
            refuse_unknown(map, &known)?;
            return segment_key(key, name).map(make);
        }
    }
    comparison(map, also).map(Condition::Compare)
}

fn segment_condition(map: &Map<String, Value>) -> Result<Comparison, ValidationError> {
    for name in ["segment", "notSegment"] {
        if map.contains_key(name) {
            return Err(ValidationError::new(
                name,
                "a segment's rules cannot name segments",
            ));
        }
    }
    comparison(map, &[])
}

fn segment_condition_fields(
    map: &Map<String, Value>,
) -> Result<Match<Comparison>, ValidationError> {
    segment_condition(map).map(Match::One)
}

fn segment_key(value: &Value, field: &str) -> Result<SegmentKey, ValidationError> {
    let key = value
        .as_str()
        .ok_or_else(|| ValidationError::new(field, "must be a segment key"))?;
    SegmentKey::parse(key).map_err(|e| ValidationError::new(field, e.message()))
}

/// `{"field", "operator", "value"}`; `also` are the rule's own fields that may sit beside them.
fn comparison(map: &Map<String, Value>, also: &[&str]) -> Result<Comparison, ValidationError> {
    let mut known = alloc::vec!["field", "operator", "value"];
    known.extend_from_slice(also);
    refuse_unknown(map, &known)?;
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
        "contains" => Operator::Contains(text(value, operator)?),
        "lt" => Operator::Lt(number(value, operator)?),
        "lte" => Operator::Lte(number(value, operator)?),
        "gt" => Operator::Gt(number(value, operator)?),
        "gte" => Operator::Gte(number(value, operator)?),
        "semver_eq" => Operator::SemverEq(semver(value, operator)?),
        "semver_lt" => Operator::SemverLt(semver(value, operator)?),
        "semver_gt" => Operator::SemverGt(semver(value, operator)?),
        "before" => Operator::Before(timestamp(value, operator)?),
        "after" => Operator::After(timestamp(value, operator)?),
        "exists" => Operator::Exists(
            value
                .as_bool()
                .ok_or_else(|| ValidationError::new("value", "exists needs true or false"))?,
        ),
        other => {
            return Err(ValidationError::new(
                "operator",
                format!(
                    "unknown operator {:?}; use one of {}",
                    crate::echo(other),
                    Operator::NAMES
                ),
            ))
        }
    };
    Ok(Comparison::new(field, operator))
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
    if items.len() > MAX_LIST_VALUES {
        return Err(ValidationError::new(
            "value",
            format!(
                "{operator} takes at most {MAX_LIST_VALUES} values, got {}",
                items.len()
            ),
        ));
    }
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

fn number(value: &Value, operator: &str) -> Result<Number, ValidationError> {
    value
        .as_number()
        .and_then(Number::from_json)
        .ok_or_else(|| ValidationError::new("value", format!("{operator} needs a number")))
}

fn semver(
    value: &Value,
    operator: &str,
) -> Result<Spelled<crate::semver::SemVer>, ValidationError> {
    value.as_str().and_then(Spelled::semver).ok_or_else(|| {
        ValidationError::new(
            "value",
            format!(
                "{operator} needs a SemVer 2.0.0 version such as \"1.2.3\" or \"2.0.0-rc.1+build.5\""
            ),
        )
    })
}

fn timestamp(
    value: &Value,
    operator: &str,
) -> Result<Spelled<crate::timestamp::Timestamp>, ValidationError> {
    value.as_str().and_then(Spelled::timestamp).ok_or_else(|| {
        ValidationError::new(
            "value",
            format!("{operator} needs an RFC 3339 date-time such as \"2026-12-01T00:00:00Z\""),
        )
    })
}
