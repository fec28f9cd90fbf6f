//! Targeting: rules (a condition or an `{"all": [...]}` group, with what it serves), and the
//! conditions they are made of.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;

use crate::error::ValidationError;
use crate::segment::SegmentKey;
use crate::semver::SemVer;
use crate::serve::Serve;
use crate::timestamp::Timestamp;
use crate::value::{Number, Scalar};

/// The most rules a flag or a segment may have.
pub(crate) const MAX_RULES: usize = 100;
/// The most conditions an `{"all": [...]}` group may have.
pub(crate) const MAX_CONDITIONS_PER_GROUP: usize = 20;
/// The most values an `in` or `not_in` list may have.
pub(crate) const MAX_LIST_VALUES: usize = 10_000;

/// A flag's rules, at most 100, in the order they are checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleList(Vec<Rule>);

impl TryFrom<Vec<Rule>> for RuleList {
    type Error = ValidationError;
    fn try_from(rules: Vec<Rule>) -> Result<Self, Self::Error> {
        check_rule_count(rules.len())?;
        Ok(Self(rules))
    }
}

pub(crate) fn check_rule_count(count: usize) -> Result<(), ValidationError> {
    if count > MAX_RULES {
        return Err(ValidationError::new(
            "rules",
            alloc::format!("at most {MAX_RULES} rules, got {count}"),
        ));
    }
    Ok(())
}

impl Deref for RuleList {
    type Target = [Rule];
    fn deref(&self) -> &[Rule] {
        &self.0
    }
}

/// One rule of a flag: when it matches, and what it serves then. Rules are alternatives, and the
/// first that matches decides.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// When the rule matches.
    pub when: Match<Condition>,
    /// What a matching user gets.
    pub serve: Serve,
}

impl Rule {
    /// A rule serving `serve` when `when` matches.
    pub fn new(when: Match<Condition>, serve: Serve) -> Self {
        Self { when, serve }
    }

    /// The conditions that must all hold for the rule to match (one for a plain condition).
    pub fn conditions(&self) -> &[Condition] {
        self.when.conditions()
    }
}

/// A condition, or a group of conditions that must all hold. `C` is [`Condition`] in a flag's
/// rules and [`Comparison`] in a segment's (which cannot name other segments).
#[derive(Clone, Debug, PartialEq)]
pub enum Match<C> {
    /// Matches when the condition holds.
    One(C),
    /// `{"all": [...]}`: matches when every condition in it holds.
    All(ConditionGroup<C>),
}

impl<C> Match<C> {
    /// The conditions that must all hold (one for a plain condition).
    pub fn conditions(&self) -> &[C] {
        match self {
            Match::One(condition) => core::slice::from_ref(condition),
            Match::All(group) => group,
        }
    }
}

/// The conditions of an `{"all": [...]}` group: 1 to 20.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionGroup<C>(Vec<C>);

impl<C> TryFrom<Vec<C>> for ConditionGroup<C> {
    type Error = ValidationError;
    fn try_from(conditions: Vec<C>) -> Result<Self, Self::Error> {
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

impl<C> Deref for ConditionGroup<C> {
    type Target = [C];
    fn deref(&self) -> &[C] {
        &self.0
    }
}

/// A condition of a flag's rule: a comparison on a field of the user, or membership of a segment.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// `{"field", "operator", "value"}`.
    Compare(Comparison),
    /// `{"segment": key}`: the user is a member of the segment.
    InSegment(SegmentKey),
    /// `{"notSegment": key}`: exactly not `InSegment`.
    NotInSegment(SegmentKey),
}

impl From<Comparison> for Condition {
    fn from(comparison: Comparison) -> Self {
        Condition::Compare(comparison)
    }
}

/// A field of the user compared with an operator whose value already fits it.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    field: Field,
    operator: Operator,
}

impl Comparison {
    /// A comparison on `field`. Every operator is valid on every field.
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

/// A value kept as it was written beside its parsed form: it compares parsed, and is written back
/// exactly as the client wrote it.
#[derive(Clone, Debug)]
pub struct Spelled<T> {
    text: String,
    parsed: T,
}

impl<T> Spelled<T> {
    /// The text as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed value.
    pub fn parsed(&self) -> &T {
        &self.parsed
    }
}

impl<T> PartialEq for Spelled<T> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Spelled<SemVer> {
    /// A SemVer 2.0.0 version (`"1.2.3"`, `"2.0.0-rc.1+build.5"`); `None` when `text` is not one.
    pub fn semver(text: &str) -> Option<Self> {
        SemVer::parse(text).map(|parsed| Self {
            text: text.to_string(),
            parsed,
        })
    }
}

impl Spelled<Timestamp> {
    /// An RFC 3339 date-time (`"2026-12-01T00:00:00Z"`); `None` when `text` is not one.
    pub fn timestamp(text: &str) -> Option<Self> {
        Timestamp::parse(text).map(|parsed| Self {
            text: text.to_string(),
            parsed,
        })
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
    /// The field is a string with this substring.
    Contains(String),
    /// The field is a number below this one.
    Lt(Number),
    /// The field is a number at most this one.
    Lte(Number),
    /// The field is a number above this one.
    Gt(Number),
    /// The field is a number at least this one.
    Gte(Number),
    /// The field is a SemVer string of the same precedence.
    SemverEq(Spelled<SemVer>),
    /// The field is a SemVer string of lower precedence.
    SemverLt(Spelled<SemVer>),
    /// The field is a SemVer string of higher precedence.
    SemverGt(Spelled<SemVer>),
    /// The field is an RFC 3339 date-time strictly earlier than this one.
    Before(Spelled<Timestamp>),
    /// The field is an RFC 3339 date-time strictly later than this one.
    After(Spelled<Timestamp>),
    /// `true`: the field is present and not null; `false`: it is absent or null.
    Exists(bool),
}

impl Operator {
    /// Every operator's name, in the order error messages list them.
    #[cfg(feature = "serde")]
    pub(crate) const NAMES: &'static str =
        "eq, neq, in, not_in, starts_with, ends_with, contains, \
        lt, lte, gt, gte, semver_eq, semver_lt, semver_gt, before, after, exists";

    /// The operator's name in the API.
    pub fn name(&self) -> &'static str {
        match self {
            Operator::Eq(_) => "eq",
            Operator::Neq(_) => "neq",
            Operator::In(_) => "in",
            Operator::NotIn(_) => "not_in",
            Operator::StartsWith(_) => "starts_with",
            Operator::EndsWith(_) => "ends_with",
            Operator::Contains(_) => "contains",
            Operator::Lt(_) => "lt",
            Operator::Lte(_) => "lte",
            Operator::Gt(_) => "gt",
            Operator::Gte(_) => "gte",
            Operator::SemverEq(_) => "semver_eq",
            Operator::SemverLt(_) => "semver_lt",
            Operator::SemverGt(_) => "semver_gt",
            Operator::Before(_) => "before",
            Operator::After(_) => "after",
            Operator::Exists(_) => "exists",
        }
    }
}

/// The non-empty list of an `in` or `not_in` condition, at most 10,000 values.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalarList(Vec<Scalar>);

impl TryFrom<Vec<Scalar>> for ScalarList {
    type Error = ValidationError;
    fn try_from(values: Vec<Scalar>) -> Result<Self, Self::Error> {
        if values.is_empty() {
            return Err(ValidationError::new("value", "must be a non-empty array"));
        }
        if values.len() > MAX_LIST_VALUES {
            return Err(ValidationError::new(
                "value",
                alloc::format!("at most {MAX_LIST_VALUES} values, got {}", values.len()),
            ));
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
