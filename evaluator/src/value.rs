//! The values a condition compares: scalars in rules, any JSON-like value in a user's attributes.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

/// A finite number that compares by value: `10`, `10.0` and `1e1` are equal, whatever their JSON spelling.
///
/// Integers are kept exactly (an `f64` cannot hold every `i64`), so `9007199254740993` does not equal
/// `9007199254740992`.
#[derive(Clone, Copy, Debug)]
pub struct Number(Repr);

const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

#[derive(Clone, Copy, Debug)]
enum Repr {
    /// Always `>= 0`.
    PosInt(u64),
    /// Always `< 0`.
    NegInt(i64),
    /// Always finite.
    Float(f64),
}

impl Number {
    /// A number from a float; `None` for NaN and the infinities, which JSON cannot spell.
    pub fn from_f64(value: f64) -> Option<Self> {
        value.is_finite().then_some(Self(Repr::Float(value)))
    }

    /// The number as an `f64` (the nearest one for large integers).
    pub fn as_f64(self) -> f64 {
        match self.0 {
            Repr::PosInt(n) => n as f64,
            Repr::NegInt(n) => n as f64,
            Repr::Float(f) => f,
        }
    }

    /// The exact integer value, when there is one.
    pub(crate) fn as_i128(self) -> Option<i128> {
        match self.0 {
            Repr::PosInt(n) => Some(i128::from(n)),
            Repr::NegInt(n) => Some(i128::from(n)),
            // 2^64 bounds every integer we can hold, and inside it `as i128` is exact for whole floats
            // (core has no `f64::fract` without std, hence the round trip).
            Repr::Float(f) if (-TWO_POW_64..TWO_POW_64).contains(&f) && (f as i128) as f64 == f => {
                Some(f as i128)
            }
            Repr::Float(_) => None,
        }
    }

    #[cfg(feature = "serde")]
    pub(crate) fn from_json(n: &serde_json::Number) -> Option<Self> {
        if let Some(u) = n.as_u64() {
            Some(Self::from(u))
        } else if let Some(i) = n.as_i64() {
            Some(Self::from(i))
        } else {
            n.as_f64().and_then(Self::from_f64)
        }
    }

    #[cfg(feature = "serde")]
    pub(crate) fn to_json(self) -> serde_json::Value {
        match self.0 {
            Repr::PosInt(n) => serde_json::Value::from(n),
            Repr::NegInt(n) => serde_json::Value::from(n),
            // Finite by construction, so `from_f64` cannot return None here.
            Repr::Float(f) => serde_json::Number::from_f64(f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Self(Repr::PosInt(n))
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        match u64::try_from(n) {
            Ok(u) => Self(Repr::PosInt(u)),
            Err(_) => Self(Repr::NegInt(n)),
        }
    }
}

impl From<i32> for Number {
    fn from(n: i32) -> Self {
        Self::from(i64::from(n))
    }
}

impl From<u32> for Number {
    fn from(n: u32) -> Self {
        Self::from(u64::from(n))
    }
}

impl Number {
    /// Orders two numbers by exact value, as mathematics would: `9007199254740993 > 9007199254740992.0`,
    /// `-0.0 == 0`. A total order, as every `Number` is finite.
    pub fn cmp_value(self, other: Self) -> Ordering {
        match (self.as_i128(), other.as_i128()) {
            (Some(a), Some(b)) => a.cmp(&b),
            (None, None) => total(self.as_f64(), other.as_f64()),
            (Some(whole), None) => cmp_whole_with_float(whole, other.as_f64()),
            (None, Some(whole)) => cmp_whole_with_float(whole, self.as_f64()).reverse(),
        }
    }
}

/// Two finite floats.
fn total(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// A whole number (within ±2^64) against a float that is not one within that range: either a float
/// with a fraction, so below 2^52 in magnitude, or a whole float beyond ±2^64.
fn cmp_whole_with_float(whole: i128, float: f64) -> Ordering {
    const TWO_POW_53: i128 = 1 << 53;
    if (-TWO_POW_53..=TWO_POW_53).contains(&whole) {
        // Exact as a float: the comparison is exact too.
        total(whole as f64, float)
    } else if float.abs() < TWO_POW_64 {
        // |float| < 2^53 < |whole|: the sign of the whole number decides.
        if whole > 0 {
            Ordering::Greater
        } else {
            Ordering::Less
        }
    } else if float > 0.0 {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (Repr::Float(a), Repr::Float(b)) => a == b,
            _ => match (self.as_i128(), other.as_i128()) {
                (Some(a), Some(b)) => a == b,
                // One side has a fraction (or is out of integer range) and the other does not.
                _ => false,
            },
        }
    }
}

/// A value a rule compares against: a string, a number or a boolean.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// A string, compared case-sensitively.
    String(String),
    /// A number, compared by value.
    Number(Number),
    /// A boolean; equals only booleans.
    Bool(bool),
}

impl From<&str> for Scalar {
    fn from(s: &str) -> Self {
        Self::String(s.into())
    }
}

impl From<String> for Scalar {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl From<bool> for Scalar {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<Number> for Scalar {
    fn from(n: Number) -> Self {
        Self::Number(n)
    }
}

/// A value of a user attribute: anything JSON can hold. Only scalars can match a condition; null, lists
/// and maps make every condition on them false.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeValue {
    /// JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    List(Vec<AttributeValue>),
    /// An object; a nested attribute path descends into it.
    Map(BTreeMap<String, AttributeValue>),
}

impl From<&str> for AttributeValue {
    fn from(s: &str) -> Self {
        Self::String(s.into())
    }
}

impl From<bool> for AttributeValue {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<Number> for AttributeValue {
    fn from(n: Number) -> Self {
        Self::Number(n)
    }
}

/// What a field holds for one user: nothing (absent or null), a list or a map, or a scalar.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Presence<'u> {
    /// Absent, or JSON null.
    Missing,
    /// A list or a map: present, but no operator but `exists` can match it.
    Composite,
    /// A string, a number or a boolean.
    Scalar(FieldValue<'u>),
}

impl<'u> Presence<'u> {
    pub(crate) fn of(value: Option<&'u AttributeValue>) -> Self {
        match value {
            None | Some(AttributeValue::Null) => Presence::Missing,
            Some(AttributeValue::List(_) | AttributeValue::Map(_)) => Presence::Composite,
            Some(value) => FieldValue::of(value).map_or(Presence::Missing, Presence::Scalar),
        }
    }

    /// The scalar, when there is one.
    pub(crate) fn scalar(self) -> Option<FieldValue<'u>> {
        match self {
            Presence::Scalar(value) => Some(value),
            Presence::Missing | Presence::Composite => None,
        }
    }
}

/// The scalar a field holds for one user, borrowed from the user.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FieldValue<'u> {
    Str(&'u str),
    Num(Number),
    Bool(bool),
}

impl FieldValue<'_> {
    pub(crate) fn equals(self, scalar: &Scalar) -> bool {
        match (self, scalar) {
            (FieldValue::Str(a), Scalar::String(b)) => a == b,
            (FieldValue::Num(a), Scalar::Number(b)) => a == *b,
            (FieldValue::Bool(a), Scalar::Bool(b)) => a == *b,
            _ => false,
        }
    }
}

impl<'u> FieldValue<'u> {
    /// The scalar in an attribute value; `None` for null, lists and maps, which match nothing.
    pub(crate) fn of(value: &'u AttributeValue) -> Option<Self> {
        match value {
            AttributeValue::String(s) => Some(FieldValue::Str(s)),
            AttributeValue::Number(n) => Some(FieldValue::Num(*n)),
            AttributeValue::Bool(b) => Some(FieldValue::Bool(*b)),
            AttributeValue::Null | AttributeValue::List(_) | AttributeValue::Map(_) => None,
        }
    }
}
