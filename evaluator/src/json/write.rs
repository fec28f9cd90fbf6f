//! The `Serialize` side: a flag as the API shows it (so that what was written reads back the same),
//! segments, and results.

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::compiled::FlagResult;
use crate::evaluate::{Evaluation, Reason};
use crate::flag::{Environment, Fallthrough, Flag, FlagKey, Prerequisite, RolloutPercentage};
use crate::rule::{Comparison, Condition, Match, Operator, Rule};
use crate::segment::{Segment, SegmentKey};
use crate::serve::Serve;
use crate::value::{AttributeValue, Number, Scalar};
use crate::variant::{FlagType, VariantValue, Variants};

impl Scalar {
    fn to_json(&self) -> Value {
        match self {
            Scalar::String(s) => Value::String(s.clone()),
            Scalar::Number(n) => n.to_json(),
            Scalar::Bool(b) => Value::Bool(*b),
        }
    }
}

impl VariantValue {
    /// The value as JSON, numbers as they were written.
    pub fn to_json_value(&self) -> Value {
        match self {
            VariantValue::Bool(b) => Value::Bool(*b),
            VariantValue::String(s) => Value::String(s.clone()),
            VariantValue::Number(n) => n.to_json(),
            VariantValue::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, value)| (key.clone(), value.to_json_value()))
                    .collect(),
            ),
        }
    }
}

/// Written straight from the value, with no `Value` copy in between: a result carrying an object
/// flag's value is written on every evaluation.
impl Serialize for VariantValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            VariantValue::Bool(b) => serializer.serialize_bool(*b),
            VariantValue::String(s) => serializer.serialize_str(s),
            VariantValue::Number(n) => n.serialize(serializer),
            VariantValue::Object(map) => serializer.collect_map(map),
        }
    }
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AttributeValue::Null => serializer.serialize_unit(),
            AttributeValue::Bool(b) => serializer.serialize_bool(*b),
            AttributeValue::Number(n) => n.serialize(serializer),
            AttributeValue::String(s) => serializer.serialize_str(s),
            AttributeValue::List(items) => serializer.collect_seq(items),
            AttributeValue::Map(map) => serializer.collect_map(map),
        }
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

macro_rules! serialize_as_str {
    ($($ty:ty),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    )*};
}

serialize_as_str!(FlagKey, SegmentKey, Environment, FlagType, Reason);

impl Serialize for RolloutPercentage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.get())
    }
}

/// `{"variant": weight, ...}` sorted by name.
struct VariantsOut<'a>(&'a Variants);

impl Serialize for VariantsOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (_, name, value) in self.0.iter() {
            map.serialize_entry(name.as_str(), value)?;
        }
        map.end()
    }
}

/// A serve, with the variant names of its flag.
struct ServeOut<'a> {
    serve: &'a Serve,
    variants: &'a Variants,
}

impl Serialize for ServeOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.serve {
            Serve::Variant(id) => serializer.serialize_str(self.variants.name(*id)),
            Serve::Split(split) => {
                let slices: alloc::vec::Vec<Value> = split
                    .slices()
                    .iter()
                    .map(|slice| {
                        serde_json::json!({
                            "variant": self.variants.name(slice.variant),
                            "weight": slice.weight,
                        })
                    })
                    .collect();
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("split", &slices)?;
                if let Some(field) = split.bucket_by_given() {
                    map.serialize_entry("bucketBy", &alloc::string::ToString::to_string(field))?;
                }
                if let Some(salt) = split.salt_given() {
                    map.serialize_entry("salt", salt)?;
                }
                map.end()
            }
        }
    }
}

/// A rule of a flag: its condition (or group) and its serve, left out when it is a boolean flag's
/// default "on".
struct RuleOut<'a> {
    rule: &'a Rule,
    variants: &'a Variants,
}

impl Serialize for RuleOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let default_serve = self.variants.kind() == FlagType::Boolean
            && self.rule.serve == Serve::Variant(Variants::boolean_id(true));
        let mut map = serializer.serialize_map(None)?;
        match &self.rule.when {
            Match::One(condition) => condition_entries(&mut map, condition)?,
            Match::All(group) => map.serialize_entry("all", &**group)?,
        }
        if !default_serve {
            let serve = ServeOut {
                serve: &self.rule.serve,
                variants: self.variants,
            };
            map.serialize_entry("serve", &serve)?;
        }
        map.end()
    }
}

fn condition_entries<M: SerializeMap>(map: &mut M, condition: &Condition) -> Result<(), M::Error> {
    match condition {
        Condition::Compare(comparison) => comparison_entries(map, comparison),
        Condition::InSegment(key) => map.serialize_entry("segment", key),
        Condition::NotInSegment(key) => map.serialize_entry("notSegment", key),
    }
}

fn comparison_entries<M: SerializeMap>(
    map: &mut M,
    comparison: &Comparison,
) -> Result<(), M::Error> {
    let value = match comparison.operator() {
        Operator::Eq(v) | Operator::Neq(v) => v.to_json(),
        Operator::In(list) | Operator::NotIn(list) => {
            Value::Array(list.iter().map(Scalar::to_json).collect())
        }
        Operator::StartsWith(s) | Operator::EndsWith(s) | Operator::Contains(s) => {
            Value::String(s.clone())
        }
        Operator::Lt(n) | Operator::Lte(n) | Operator::Gt(n) | Operator::Gte(n) => n.to_json(),
        Operator::SemverEq(v) | Operator::SemverLt(v) | Operator::SemverGt(v) => {
            Value::String(v.text().into())
        }
        Operator::Before(t) | Operator::After(t) => Value::String(t.text().into()),
        Operator::Exists(b) => Value::Bool(*b),
    };
    map.serialize_entry(
        "field",
        &alloc::string::ToString::to_string(comparison.field()),
    )?;
    map.serialize_entry("operator", comparison.operator().name())?;
    map.serialize_entry("value", &value)
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        condition_entries(&mut map, self)?;
        map.end()
    }
}

impl Serialize for Comparison {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        comparison_entries(&mut map, self)?;
        map.end()
    }
}

impl Serialize for Match<Comparison> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Match::One(comparison) => comparison.serialize(serializer),
            Match::All(group) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("all", &**group)?;
                map.end()
            }
        }
    }
}

impl Serialize for Prerequisite {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Prerequisite", 2)?;
        s.serialize_field("flag", &self.flag)?;
        let names: alloc::vec::Vec<&str> = self.variants().iter().map(|v| v.as_str()).collect();
        s.serialize_field("variants", &names)?;
        s.end()
    }
}

/// What decides the flag: `{key, description, enabled, type, variants, offVariant, prerequisites,
/// rules}` and then `rolloutPercentage` or `fallthrough`, whichever it has.
impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Flag", 9)?;
        self.serialize_fields(&mut s)?;
        s.end()
    }
}

impl Flag {
    /// Writes the fields of the flag into a struct being serialized, so that a wrapper (the origin's
    /// stored flag) can put its own fields around them.
    pub fn serialize_fields<S: SerializeStruct>(&self, s: &mut S) -> Result<(), S::Error> {
        let variants = self.variants();
        s.serialize_field("key", &self.key)?;
        s.serialize_field("description", &self.description)?;
        s.serialize_field("enabled", &self.enabled)?;
        s.serialize_field("type", &self.flag_type())?;
        s.serialize_field("variants", &VariantsOut(variants))?;
        s.serialize_field("offVariant", variants.name(self.off_variant()))?;
        s.serialize_field("prerequisites", self.prerequisites())?;
        let rules: alloc::vec::Vec<RuleOut<'_>> = self
            .rules()
            .iter()
            .map(|rule| RuleOut { rule, variants })
            .collect();
        s.serialize_field("rules", &rules)?;
        match self.fallthrough() {
            Fallthrough::Rollout(percent) => s.serialize_field("rolloutPercentage", percent),
            Fallthrough::Serve(serve) => {
                s.serialize_field("fallthrough", &ServeOut { serve, variants })
            }
        }
    }
}

impl Serialize for Segment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Segment", 4)?;
        self.serialize_fields(&mut s)?;
        s.end()
    }
}

impl Segment {
    /// Writes `{key, description, include, rules}` into a struct being serialized.
    pub fn serialize_fields<S: SerializeStruct>(&self, s: &mut S) -> Result<(), S::Error> {
        s.serialize_field("key", &self.key)?;
        s.serialize_field("description", &self.description)?;
        s.serialize_field("include", &*self.include)?;
        s.serialize_field("rules", &*self.rules)
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
        let mut s = serializer.serialize_struct("FlagResult", 5)?;
        s.serialize_field("flagKey", self.flag_key)?;
        s.serialize_field("enabled", &self.enabled)?;
        s.serialize_field("reason", &self.reason)?;
        s.serialize_field("variant", &self.variant())?;
        s.serialize_field("value", &self.value())?;
        s.end()
    }
}
