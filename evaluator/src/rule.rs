//! Targeting rules: a condition, or a group of conditions that must all hold.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;

use crate::error::ValidationError;
use crate::value::Scalar;

/// The most rules a flag may have.
pub(crate) const MAX_RULES: usize = 100;
/// The most conditions an `{"all": [...]}` group may have.
pub(crate) const MAX_CONDITIONS_PER_GROUP: usize = 20;

/// A flag's rules, at most 100, in the order they are checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleList(Vec<Rule>);

impl TryFrom<Vec<Rule>> for RuleList {
    type Error = ValidationError;
    fn try_from(rules: Vec<Rule>) -> Result<Self, Self::Error> {
        if rules.len() > MAX_RULES {
            return Err(ValidationError::new(
                "rules",
                alloc::format!("at most {MAX_RULES} rules, got {}", rules.len()),
            ));
        }
        Ok(Self(rules))
    }
}

impl Deref for RuleList {
    type Target = [Rule];
    fn deref(&self) -> &[Rule] {
        &self.0
    }
}

/// One rule: rules are alternatives, and the first that matches decides.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// Matches when the condition holds.
    Condition(Condition),
    /// `{"all": [...]}`: matches when every condition in it holds.
    All(ConditionGroup),
}

impl Rule {
    /// The conditions that must all hold for the rule to match (one for a plain condition).
    pub(crate) fn conditions(&self) -> &[Condition] {
        match self {
            Rule::Condition(condition) => core::slice::from_ref(condition),
            Rule::All(group) => group,
        }
    }
}

/// The conditions of an `{"all": [...]}` group: 1 to 20.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionGroup(Vec<Condition>);

impl TryFrom<Vec<Condition>> for ConditionGroup {
    type Error = ValidationError;
    fn try_from(conditions: Vec<Condition>) -> Result<Self, Self::Error> {
        if conditions.is_empty() || conditions.len() > MAX_CONDITIONS_PER_GROUP {
            return Err(ValidationError::new(
                "all",
                alloc::format!(
                    "a group needs 1 to {MAX_CONDITIONS_PER_GROUP} conditions, got {}",
                    conditions.len()
                ),
            ));
        }
        Ok(Self(conditions))
    }
}

impl Deref for ConditionGroup {
    type Target = [Condition];
    fn deref(&self) -> &[Condition] {
        &self.0
    }
}

/// A field of the user compared with an operator whose value already fits it.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    field: Field,
    operator: Operator,
}

impl Condition {
    /// A condition on `field`. Every operator is valid on every field.
    pub fn new(field: Field, operator: Operator) -> Self {
        Self { field, operator }
    }

    /// The field of the user it reads.
    pub fn field(&self) -> &Field {
        &self.field
    }

    /// The operator with its value.
    pub fn operator(&self) -> &Operator {
        &self.operator
    }
}

/// The field of the user a condition reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// `user.id`
    Id,
    /// `user.email`
    Email,
    /// `user.country`
    Country,
    /// `user.attributes.<path>`
    Attribute(AttributePath),
}

impl Field {
    /// Reads `"id"`, `"email"`, `"country"` or `"attributes.<path>"`; the error names the field `field`.
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        match name {
            "id" => Ok(Field::Id),
            "email" => Ok(Field::Email),
            "country" => Ok(Field::Country),
            _ => match name.strip_prefix("attributes.") {
                Some(path) => AttributePath::parse(path).map(Field::Attribute),
                None => Err(ValidationError::new(
                    "field",
                    alloc::format!(
                        "unknown field {:?}; use \"id\", \"email\", \"country\" or \"attributes.<path>\"",
                        crate::echo(name)
                    ),
                )),
            },
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Id => f.write_str("id"),
            Field::Email => f.write_str("email"),
            Field::Country => f.write_str("country"),
            Field::Attribute(path) => write!(f, "attributes.{path}"),
        }
    }
}

/// A dot-separated path into `user.attributes`, split once when the rule is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributePath(Vec<String>);

impl AttributePath {
    /// Reads `"org.tier"`: non-empty keys separated by dots.
    pub fn parse(path: &str) -> Result<Self, ValidationError> {
        let keys: Vec<String> = path.split('.').map(ToString::to_string).collect();
        if keys.iter().any(String::is_empty) {
            return Err(ValidationError::new(
                "field",
                alloc::format!(
                    "\"attributes.{}\" needs non-empty keys separated by single dots",
                    crate::echo(path)
                ),
            ));
        }
        Ok(Self(keys))
    }

    /// The keys, outermost first; never empty.
    pub(crate) fn keys(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(key)?;
        }
        Ok(())
    }
}

/// An operator together with the value it compares with, so that the two always agree.
#[derive(Clone, Debug, PartialEq)]
pub enum Operator {
    /// Same type and equal.
    Eq(Scalar),
    /// Not `Eq`; false when the field is missing.
    Neq(Scalar),
    /// `Eq` to any element.
    In(ScalarList),
    /// Not `In`; false when the field is missing.
    NotIn(ScalarList),
    /// The field is a string with this prefix.
    StartsWith(String),
    /// The field is a string with this suffix.
    EndsWith(String),
}

impl Operator {
    /// The operator's name in the API.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Operator::Eq(_) => "eq",
            Operator::Neq(_) => "neq",
            Operator::In(_) => "in",
            Operator::NotIn(_) => "not_in",
            Operator::StartsWith(_) => "starts_with",
            Operator::EndsWith(_) => "ends_with",
        }
    }
}

/// The non-empty list of an `in` or `not_in` condition.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalarList(Vec<Scalar>);

impl TryFrom<Vec<Scalar>> for ScalarList {
    type Error = ValidationError;
    fn try_from(values: Vec<Scalar>) -> Result<Self, Self::Error> {
        if values.is_empty() {
            return Err(ValidationError::new("value", "must be a non-empty array"));
        }
        Ok(Self(values))
    }
}

impl Deref for ScalarList {
    type Target = [Scalar];
    fn deref(&self) -> &[Scalar] {
        &self.0
    }
}
