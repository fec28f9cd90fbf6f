//! How one comparison decides on what a field holds: the operators' meaning, written once for
//! [`crate::evaluate`] and the compiled set.

use core::cmp::Ordering;

use crate::rule::Operator;
use crate::semver::SemVer;
use crate::timestamp::Timestamp;
use crate::value::{FieldValue, Number, Presence};

/// Whether `operator` holds on `value`. A field that is missing, null, a list or a map makes every
/// operator false, `neq` and `not_in` included (targeting fails closed); `exists` alone looks at
/// presence itself.
pub(crate) fn holds(operator: &Operator, value: Presence<'_>) -> bool {
    if let Operator::Exists(wanted) = operator {
        return exists(value) == *wanted;
    }
    let Presence::Scalar(value) = value else {
        return false;
    };
    match operator {
        Operator::Eq(expected) => value.equals(expected),
        Operator::Neq(expected) => !value.equals(expected),
        Operator::In(list) => list.iter().any(|expected| value.equals(expected)),
        Operator::NotIn(list) => !list.iter().any(|expected| value.equals(expected)),
        Operator::StartsWith(prefix) => text(value).is_some_and(|s| s.starts_with(prefix.as_str())),
        Operator::EndsWith(suffix) => text(value).is_some_and(|s| s.ends_with(suffix.as_str())),
        Operator::Contains(part) => text(value).is_some_and(|s| s.contains(part.as_str())),
        Operator::Lt(bound) => number_is(value, *bound, |o| o == Ordering::Less),
        Operator::Lte(bound) => number_is(value, *bound, |o| o != Ordering::Greater),
        Operator::Gt(bound) => number_is(value, *bound, |o| o == Ordering::Greater),
        Operator::Gte(bound) => number_is(value, *bound, |o| o != Ordering::Less),
        Operator::SemverEq(v) => semver_is(value, v.parsed(), |o| o == Ordering::Equal),
        Operator::SemverLt(v) => semver_is(value, v.parsed(), |o| o == Ordering::Less),
        Operator::SemverGt(v) => semver_is(value, v.parsed(), |o| o == Ordering::Greater),
        Operator::Before(t) => instant_is(value, t.parsed(), |o| o == Ordering::Less),
        Operator::After(t) => instant_is(value, t.parsed(), |o| o == Ordering::Greater),
        Operator::Exists(_) => false,
    }
}

/// Present and not null: lists and maps are present.
pub(crate) fn exists(value: Presence<'_>) -> bool {
    !matches!(value, Presence::Missing)
}

fn text(value: FieldValue<'_>) -> Option<&str> {
    match value {
        FieldValue::Str(s) => Some(s),
        FieldValue::Num(_) | FieldValue::Bool(_) => None,
    }
}

/// The field is a number, and `wanted` holds of its order against `bound`.
pub(crate) fn number_is(
    value: FieldValue<'_>,
    bound: Number,
    wanted: impl Fn(Ordering) -> bool,
) -> bool {
    match value {
        FieldValue::Num(n) => wanted(n.cmp_value(bound)),
        FieldValue::Str(_) | FieldValue::Bool(_) => false,
    }
}

/// The field is a SemVer string, and `wanted` holds of its precedence against `bound`.
fn semver_is(value: FieldValue<'_>, bound: &SemVer, wanted: impl Fn(Ordering) -> bool) -> bool {
    text(value)
        .and_then(SemVer::parse)
        .is_some_and(|version| wanted(version.cmp(bound)))
}

/// The field is an RFC 3339 date-time, and `wanted` holds of its order against `bound`.
fn instant_is(value: FieldValue<'_>, bound: &Timestamp, wanted: impl Fn(Ordering) -> bool) -> bool {
    text(value)
        .and_then(Timestamp::parse)
        .is_some_and(|instant| wanted(instant.cmp(bound)))
}
