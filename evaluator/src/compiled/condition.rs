//! The distinct comparisons of a set, numbered once (interned) so that one evaluation decides each
//! once per user however many flags and segments share it, and the tests they run.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::rule::{Comparison, Field, Operator};
use crate::value::{FieldValue, Number, Presence, Scalar};

/// Numbers the distinct comparisons and fields of a set while it compiles.
#[derive(Default)]
pub(super) struct Interner<'f> {
    pub(super) conditions: Vec<CompiledCondition>,
    index: BTreeMap<ConditionKey<'f>, u32>,
    pub(super) fields: Vec<Field>,
}

impl<'f> Interner<'f> {
    /// The number of `comparison`, the same for every comparison that decides alike.
    pub(super) fn condition(&mut self, comparison: &'f Comparison) -> u32 {
        let key = ConditionKey::of(comparison);
        if let Some(&index) = self.index.get(&key) {
            return index;
        }
        let field = self.field(comparison.field());
        let index = index_u32(self.conditions.len());
        self.conditions
            .push(CompiledCondition::new(comparison.operator(), field));
        self.index.insert(key, index);
        index
    }

    /// The number of `field`.
    pub(super) fn field(&mut self, field: &Field) -> u32 {
        match self.fields.iter().position(|known| known == field) {
            Some(index) => index_u32(index),
            None => {
                self.fields.push(field.clone());
                index_u32(self.fields.len() - 1)
            }
        }
    }
}

/// Sets hold far fewer than 2^32 of anything (flags, rules and lists are bounded), so an index
/// always fits; saturating keeps this total without a panic.
pub(super) fn index_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// What makes two comparisons one for interning, borrowed from the flags being compiled: the field,
/// the operator and its values. Numbers are keyed by value, as they compare (`eq 10` and `eq 10.0`
/// decide alike, so they share one slot).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct ConditionKey<'f> {
    field: FieldKey<'f>,
    operator: &'static str,
    values: Vec<ScalarKey<'f>>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum FieldKey<'f> {
    Id,
    Email,
    Country,
    Attribute(&'f [String]),
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum ScalarKey<'f> {
    Str(&'f str),
    /// Every whole number, however it was spelt (`-0.0` included).
    Int(i128),
    /// The bits of a number with a fraction (never a whole one, so never `-0.0`).
    Float(u64),
    Bool(bool),
}

impl<'f> ConditionKey<'f> {
    fn of(comparison: &'f Comparison) -> Self {
        let field = match comparison.field() {
            Field::Id => FieldKey::Id,
            Field::Email => FieldKey::Email,
            Field::Country => FieldKey::Country,
            Field::Attribute(path) => FieldKey::Attribute(path.keys()),
        };
        let operator = comparison.operator();
        let values = match operator {
            Operator::Eq(value) | Operator::Neq(value) => alloc::vec![ScalarKey::of(value)],
            Operator::In(list) | Operator::NotIn(list) => list.iter().map(ScalarKey::of).collect(),
            Operator::StartsWith(text) | Operator::EndsWith(text) | Operator::Contains(text) => {
                alloc::vec![ScalarKey::Str(text)]
            }
            Operator::Lt(n) | Operator::Lte(n) | Operator::Gt(n) | Operator::Gte(n) => {
                alloc::vec![ScalarKey::number(*n)]
            }
            Operator::SemverEq(v) | Operator::SemverLt(v) | Operator::SemverGt(v) => {
                alloc::vec![ScalarKey::Str(v.text())]
            }
            Operator::Before(t) | Operator::After(t) => alloc::vec![ScalarKey::Str(t.text())],
            Operator::Exists(b) => alloc::vec![ScalarKey::Bool(*b)],
        };
        Self {
            field,
            operator: operator.name(),
            values,
        }
    }
}

impl<'f> ScalarKey<'f> {
    fn of(scalar: &'f Scalar) -> Self {
        match scalar {
            Scalar::String(text) => Self::Str(text),
            Scalar::Bool(b) => Self::Bool(*b),
            Scalar::Number(n) => Self::number(*n),
        }
    }

    fn number(n: Number) -> Self {
        match n.as_i128() {
            Some(whole) => Self::Int(whole),
            None => Self::Float(n.as_f64().to_bits()),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct CompiledCondition {
    /// Index into the set's `fields`.
    pub(super) field: u32,
    pub(super) test: Test,
}

impl CompiledCondition {
    fn new(operator: &Operator, field: u32) -> Self {
        let test = match operator {
            Operator::Eq(value) => Test::Eq(value.clone()),
            Operator::In(list) => Test::In(ScalarSet::new(list)),
            Operator::NotIn(list) => Test::NotIn(ScalarSet::new(list)),
            other => Test::Other(other.clone()),
        };
        Self { field, test }
    }
}

/// A comparison made ready: `in` lists as sets; the rest as the plain evaluation decides them.
#[derive(Clone, Debug)]
pub(super) enum Test {
    Eq(Scalar),
    In(ScalarSet),
    NotIn(ScalarSet),
    Other(Operator),
}

impl Test {
    /// Whether the field's value passes, with the same meaning as [`crate::evaluate`] (a missing
    /// field fails every operator but `exists`).
    pub(super) fn holds(&self, value: Presence<'_>) -> bool {
        match self {
            Test::Eq(expected) => value.scalar().is_some_and(|v| v.equals(expected)),
            Test::In(set) => value.scalar().is_some_and(|v| set.contains(v)),
            Test::NotIn(set) => value.scalar().is_some_and(|v| !set.contains(v)),
            Test::Other(operator) => crate::decide::holds(operator, value),
        }
    }
}

/// The order of an `in` set's strings: most probes of a set end on a length compare, not a `memcmp`.
fn by_length_then_bytes(a: &str, b: &str) -> core::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// An `in` list split by type: strings sorted for binary search, numbers (compared by value, so not
/// orderable as text), and which booleans it holds.
#[derive(Clone, Debug, Default)]
pub(super) struct ScalarSet {
    strings: Vec<String>,
    numbers: Vec<Number>,
    has_true: bool,
    has_false: bool,
}

impl ScalarSet {
    fn new(values: &[Scalar]) -> Self {
        let mut set = Self::default();
        for value in values {
            match value {
                Scalar::String(s) => set.strings.push(s.clone()),
                Scalar::Number(n) => set.numbers.push(*n),
                Scalar::Bool(true) => set.has_true = true,
                Scalar::Bool(false) => set.has_false = true,
            }
        }
        set.strings
            .sort_unstable_by(|a, b| by_length_then_bytes(a, b));
        set.strings.dedup();
        set
    }

    fn contains(&self, value: FieldValue<'_>) -> bool {
        match value {
            FieldValue::Str(s) => self
                .strings
                .binary_search_by(|candidate| by_length_then_bytes(candidate, s))
                .is_ok(),
            FieldValue::Num(n) => self.numbers.contains(&n),
            FieldValue::Bool(b) => {
                if b {
                    self.has_true
                } else {
                    self.has_false
                }
            }
        }
    }
}
