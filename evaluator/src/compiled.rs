//! A flag set turned, once, into a form that is ready to run: the hot path of the origin and the edge.
//!
//! Compared with [`crate::evaluate`]:
//! - the set is sorted by key, so results come out in the contract's order with no sort per request;
//! - disabled flags carry no rules, and every rule is a flat list of conditions;
//! - the distinct conditions of the whole set are numbered, and so are the distinct fields they read:
//!   evaluating many flags for one user looks each field up once and decides each condition once, however
//!   many flags share it (flags that target the same audience share conditions all the time);
//! - `in` lists are sets;
//! - the user id's murmur3 blocks are hashed once per user, and each key's blocks once per set.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::ValidationError;
use crate::evaluate::{Evaluation, Reason};
use crate::flag::Flag;
use crate::hash::{Murmur3Prefix, PreparedSuffix};
use crate::rule::{Condition, Field, Operator};
use crate::user::User;
use crate::value::{FieldValue, Number, Scalar};

/// Many flags, compiled once, evaluated for one user at a time.
#[derive(Clone, Debug, Default)]
pub struct CompiledFlagSet {
    /// Sorted by key, keys unique.
    flags: Vec<CompiledFlag>,
    /// Every distinct condition of the set; a rule holds indexes into it.
    conditions: Vec<CompiledCondition>,
    /// Every distinct field the conditions read; a condition holds its index here.
    fields: Vec<Field>,
}

/// One flag's answer inside a set, serialized as `{"flagKey", "enabled", "reason"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlagResult<'a> {
    /// The flag's key.
    pub flag_key: &'a str,
    /// Whether the user gets the flag.
    pub enabled: bool,
    /// Why.
    pub reason: Reason,
}

impl<'a> FlagResult<'a> {
    fn new(flag_key: &'a str, evaluation: Evaluation) -> Self {
        Self {
            flag_key,
            enabled: evaluation.enabled,
            reason: evaluation.reason,
        }
    }
}

impl CompiledFlagSet {
    /// Compiles `flags`; two flags with the same key are refused, naming the second one.
    pub fn new(flags: &[Flag]) -> Result<Self, ValidationError> {
        Self::from_flags(flags)
    }

    /// [`CompiledFlagSet::new`] of anything that holds a flag, such as the origin's stored flags
    /// (a flag with the origin's bookkeeping), without copying the flags out first.
    pub fn from_flags<F: AsRef<Flag>>(flags: &[F]) -> Result<Self, ValidationError> {
        let mut interner = Interner::default();
        let mut compiled: Vec<CompiledFlag> = flags
            .iter()
            .map(|flag| CompiledFlag::new(flag.as_ref(), &mut interner))
            .collect();
        compiled.sort_by(|a, b| a.key.cmp(&b.key));
        if let Some(pair) = compiled.windows(2).find(|pair| pair[0].key == pair[1].key) {
            let key = &pair[1].key;
            let position = flags
                .iter()
                .rposition(|flag| flag.as_ref().key.as_str() == key)
                .unwrap_or_default();
            return Err(ValidationError::new(
                alloc::format!("flags[{position}].key"),
                alloc::format!("duplicate key {key:?}"),
            ));
        }
        Ok(Self {
            flags: compiled,
            conditions: interner.conditions,
            fields: interner.fields,
        })
    }

    /// How many flags the set holds.
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    /// Whether the set holds no flag.
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// Whether the set has a flag with this key.
    pub fn contains(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    /// The keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.flags.iter().map(|flag| flag.key.as_str())
    }

    /// Every flag of the set for `user`, sorted by key.
    pub fn evaluate_all(&self, user: &User) -> Vec<FlagResult<'_>> {
        let mut context = self.context(user);
        self.flags
            .iter()
            .map(|flag| FlagResult::new(&flag.key, flag.evaluate(&mut context)))
            .collect()
    }

    /// The flags named in `keys` for `user`, sorted by key, each key once; a key the set does not have
    /// comes out disabled with [`Reason::FlagNotFound`].
    pub fn evaluate_keys<'a>(&'a self, user: &User, keys: &'a [String]) -> Vec<FlagResult<'a>> {
        let mut wanted: Vec<&'a str> = keys.iter().map(String::as_str).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut context = self.context(user);
        wanted
            .into_iter()
            .map(|key| match self.find(key) {
                Some(flag) => FlagResult::new(&flag.key, flag.evaluate(&mut context)),
                None => FlagResult::new(key, Evaluation::new(false, Reason::FlagNotFound)),
            })
            .collect()
    }

    /// One flag of the set for `user`; `None` when the set has no flag with this key.
    pub fn evaluate_flag(&self, key: &str, user: &User) -> Option<Evaluation> {
        let flag = self.find(key)?;
        Some(flag.evaluate(&mut self.context(user)))
    }

    fn find(&self, key: &str) -> Option<&CompiledFlag> {
        self.flags
            .binary_search_by(|flag| flag.key.as_str().cmp(key))
            .ok()
            .and_then(|index| self.flags.get(index))
    }

    fn context<'s, 'u>(&'s self, user: &'u User) -> UserContext<'s, 'u> {
        UserContext {
            user,
            set: self,
            fields: alloc::vec![None; self.fields.len()],
            conditions: alloc::vec![Decided::Unknown; self.conditions.len()],
            id_hash: Murmur3Prefix::new(user.id.as_bytes(), 0),
        }
    }
}

/// Numbers the distinct conditions and fields of a set while it compiles.
#[derive(Default)]
struct Interner<'f> {
    conditions: Vec<CompiledCondition>,
    condition_index: BTreeMap<ConditionKey<'f>, usize>,
    fields: Vec<Field>,
}

impl<'f> Interner<'f> {
    fn condition(&mut self, condition: &'f Condition) -> usize {
        let key = ConditionKey::of(condition);
        if let Some(&index) = self.condition_index.get(&key) {
            return index;
        }
        let field = match self
            .fields
            .iter()
            .position(|known| known == condition.field())
        {
            Some(index) => index,
            None => {
                self.fields.push(condition.field().clone());
                self.fields.len() - 1
            }
        };
        self.conditions
            .push(CompiledCondition::new(condition, field));
        self.condition_index.insert(key, self.conditions.len() - 1);
        self.conditions.len() - 1
    }
}

/// What makes two conditions one for interning, borrowed from the flags being compiled: the field,
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
    fn of(condition: &'f Condition) -> Self {
        let field = match condition.field() {
            Field::Id => FieldKey::Id,
            Field::Email => FieldKey::Email,
            Field::Country => FieldKey::Country,
            Field::Attribute(path) => FieldKey::Attribute(path.keys()),
        };
        let operator = condition.operator();
        let values = match operator {
            Operator::Eq(value) | Operator::Neq(value) => alloc::vec![ScalarKey::of(value)],
            Operator::In(list) | Operator::NotIn(list) => list.iter().map(ScalarKey::of).collect(),
            Operator::StartsWith(text) | Operator::EndsWith(text) => {
                alloc::vec![ScalarKey::Str(text)]
            }
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
            Scalar::Number(n) => match n.as_i128() {
                Some(whole) => Self::Int(whole),
                None => Self::Float(n.as_f64().to_bits()),
            },
        }
    }
}

/// One user, as seen by one evaluation over a set: what has been read and decided so far.
struct UserContext<'s, 'u> {
    user: &'u User,
    set: &'s CompiledFlagSet,
    /// Parallel to the set's `fields`: `None` until read.
    fields: Vec<Option<Option<FieldValue<'u>>>>,
    /// Parallel to the set's `conditions`.
    conditions: Vec<Decided>,
    id_hash: Murmur3Prefix,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Decided {
    Unknown,
    False,
    True,
}

impl UserContext<'_, '_> {
    /// Whether condition number `index` holds, decided the first time only.
    fn holds(&mut self, index: usize) -> bool {
        match self.conditions.get(index) {
            Some(Decided::True) => true,
            Some(Decided::False) | None => false,
            Some(Decided::Unknown) => {
                let holds = match self.set.conditions.get(index) {
                    Some(condition) => {
                        let value = self.field(condition.field);
                        value.is_some_and(|value| condition.test.holds(value))
                    }
                    None => false,
                };
                if let Some(slot) = self.conditions.get_mut(index) {
                    *slot = if holds { Decided::True } else { Decided::False };
                }
                holds
            }
        }
    }

    /// The value of field number `index`, looked up in the user the first time only.
    fn field<'u>(&'u mut self, index: usize) -> Option<FieldValue<'u>> {
        if let Some(Some(value)) = self.fields.get(index) {
            return *value;
        }
        let value = self
            .set
            .fields
            .get(index)
            .and_then(|field| self.user.lookup(field));
        if let Some(slot) = self.fields.get_mut(index) {
            *slot = Some(value);
        }
        value
    }
}

#[derive(Clone, Debug)]
struct CompiledFlag {
    key: String,
    enabled: bool,
    rollout: u8,
    /// The key, ready to finish the user id's hash.
    key_hash: PreparedSuffix,
    /// Each rule is the indexes of the conditions that must all hold; empty for a disabled flag.
    rules: Box<[Box<[usize]>]>,
}

impl CompiledFlag {
    fn new<'f>(flag: &'f Flag, interner: &mut Interner<'f>) -> Self {
        let rules = if flag.enabled {
            flag.rules
                .iter()
                .map(|rule| {
                    rule.conditions()
                        .iter()
                        .map(|condition| interner.condition(condition))
                        .collect()
                })
                .collect()
        } else {
            Box::default()
        };
        Self {
            key: flag.key.as_str().into(),
            enabled: flag.enabled,
            rollout: flag.rollout_percentage.get(),
            key_hash: PreparedSuffix::new(flag.key.as_str().as_bytes()),
            rules,
        }
    }

    fn evaluate(&self, context: &mut UserContext<'_, '_>) -> Evaluation {
        if !self.enabled {
            return Evaluation::new(false, Reason::FlagDisabled);
        }
        if self
            .rules
            .iter()
            .any(|rule| rule.iter().all(|&condition| context.holds(condition)))
        {
            return Evaluation::new(true, Reason::RuleMatch);
        }
        // 0% and 100% need no hash: no bucket is below 0, every bucket is below 100.
        let in_rollout = match self.rollout {
            0 => false,
            100.. => true,
            percent => self.key_hash.finish(&context.id_hash) % 100 < u32::from(percent),
        };
        if in_rollout {
            Evaluation::new(true, Reason::Rollout)
        } else {
            Evaluation::new(false, Reason::NoMatch)
        }
    }
}

#[derive(Clone, Debug)]
struct CompiledCondition {
    /// Index into the set's `fields`.
    field: usize,
    test: Test,
}

#[derive(Clone, Debug)]
enum Test {
    Eq(Scalar),
    Neq(Scalar),
    In(ScalarSet),
    NotIn(ScalarSet),
    StartsWith(String),
    EndsWith(String),
}

impl CompiledCondition {
    fn new(condition: &Condition, field: usize) -> Self {
        let test = match condition.operator() {
            Operator::Eq(value) => Test::Eq(value.clone()),
            Operator::Neq(value) => Test::Neq(value.clone()),
            Operator::In(list) => Test::In(ScalarSet::new(list)),
            Operator::NotIn(list) => Test::NotIn(ScalarSet::new(list)),
            Operator::StartsWith(prefix) => Test::StartsWith(prefix.clone()),
            Operator::EndsWith(suffix) => Test::EndsWith(suffix.clone()),
        };
        Self { field, test }
    }
}

impl Test {
    /// Whether a present scalar passes; a missing, null, list or map field never gets here, which is how
    /// every operator fails closed, like [`crate::evaluate`].
    fn holds(&self, value: FieldValue<'_>) -> bool {
        match self {
            Test::Eq(expected) => value.equals(expected),
            Test::Neq(expected) => !value.equals(expected),
            Test::In(set) => set.contains(value),
            Test::NotIn(set) => !set.contains(value),
            Test::StartsWith(prefix) => {
                matches!(value, FieldValue::Str(s) if s.starts_with(prefix.as_str()))
            }
            Test::EndsWith(suffix) => {
                matches!(value, FieldValue::Str(s) if s.ends_with(suffix.as_str()))
            }
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
struct ScalarSet {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flag::{FlagKey, RolloutPercentage};
    use crate::rule::{AttributePath, Rule, RuleList, ScalarList};

    fn flag(key: &str, conditions: Vec<Condition>) -> Flag {
        let mut flag = Flag::new(FlagKey::parse(key).unwrap());
        flag.enabled = true;
        flag.rollout_percentage = RolloutPercentage::new(0).unwrap();
        flag.rules = RuleList::try_from(
            conditions
                .into_iter()
                .map(Rule::Condition)
                .collect::<Vec<_>>(),
        )
        .unwrap();
        flag
    }

    fn eq(field: Field, value: impl Into<Scalar>) -> Condition {
        Condition::new(field, Operator::Eq(value.into()))
    }

    fn plan() -> Field {
        Field::Attribute(AttributePath::parse("plan").unwrap())
    }

    #[test]
    fn equal_conditions_share_one_slot_and_numbers_key_by_value() {
        let ten = Number::from(10);
        let ten_point_zero = Number::from_f64(10.0).unwrap();
        let set = CompiledFlagSet::new(&[
            flag("a", vec![eq(plan(), ten), eq(Field::Id, "x")]),
            flag("b", vec![eq(plan(), ten_point_zero), eq(Field::Id, "x")]),
            flag("c", vec![eq(plan(), Number::from_f64(-0.0).unwrap())]),
            flag("d", vec![eq(plan(), Number::from(0))]),
        ])
        .unwrap();
        assert_eq!(set.conditions.len(), 3, "10 = 10.0, id = x, 0 = -0.0");
        assert_eq!(set.fields.len(), 2);
    }

    #[test]
    fn conditions_that_differ_in_anything_stay_apart() {
        let list = |values: Vec<Scalar>| ScalarList::try_from(values).unwrap();
        let set = CompiledFlagSet::new(&[flag(
            "a",
            vec![
                eq(plan(), "10"),
                eq(plan(), Number::from(10)),
                eq(plan(), Number::from_f64(10.5).unwrap()),
                eq(plan(), true),
                eq(Field::Email, "10"),
                Condition::new(plan(), Operator::Neq("10".into())),
                Condition::new(plan(), Operator::StartsWith("10".into())),
                Condition::new(plan(), Operator::EndsWith("10".into())),
                Condition::new(plan(), Operator::In(list(vec!["10".into()]))),
                Condition::new(plan(), Operator::In(list(vec!["10".into(), "11".into()]))),
                Condition::new(plan(), Operator::NotIn(list(vec!["10".into()]))),
                eq(
                    Field::Attribute(AttributePath::parse("plan.x").unwrap()),
                    "10",
                ),
            ],
        )])
        .unwrap();
        assert_eq!(set.conditions.len(), 12);
    }
}
