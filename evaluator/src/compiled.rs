//! A flag set turned, once, into a form that is ready to run: the hot path of the origin and the edge.
//!
//! Compared with [`crate::evaluate`], the set is sorted by key (results come out in the contract's order
//! with no sort per request), disabled flags carry no rules, every rule is a flat list of conditions,
//! `in` lists are sorted sets, and the user id's murmur3 blocks are hashed once per user, not per flag.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::ValidationError;
use crate::evaluate::{Evaluation, Reason};
use crate::flag::Flag;
use crate::hash::Murmur3Prefix;
use crate::rule::{Condition, Field, Operator};
use crate::user::User;
use crate::value::{FieldValue, Number, Scalar};

/// Many flags, compiled once, evaluated for one user at a time.
#[derive(Clone, Debug, Default)]
pub struct CompiledFlagSet {
    /// Sorted by key, keys unique.
    flags: Vec<CompiledFlag>,
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
        let mut compiled: Vec<CompiledFlag> = flags.iter().map(CompiledFlag::new).collect();
        compiled.sort_by(|a, b| a.key.cmp(&b.key));
        if let Some(pair) = compiled.windows(2).find(|pair| pair[0].key == pair[1].key) {
            let key = &pair[1].key;
            let position = flags
                .iter()
                .rposition(|flag| flag.key.as_str() == key)
                .unwrap_or_default();
            return Err(ValidationError::new(
                alloc::format!("flags[{position}].key"),
                alloc::format!("duplicate key {key:?}"),
            ));
        }
        Ok(Self { flags: compiled })
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
        let id_hash = Murmur3Prefix::new(user.id.as_bytes(), 0);
        self.flags
            .iter()
            .map(|flag| FlagResult::new(&flag.key, flag.evaluate(user, &id_hash)))
            .collect()
    }

    /// The flags named in `keys` for `user`, sorted by key, each key once; a key the set does not have
    /// comes out disabled with [`Reason::FlagNotFound`].
    pub fn evaluate_keys<'a>(&'a self, user: &User, keys: &'a [String]) -> Vec<FlagResult<'a>> {
        let mut wanted: Vec<&'a str> = keys.iter().map(String::as_str).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let id_hash = Murmur3Prefix::new(user.id.as_bytes(), 0);
        wanted
            .into_iter()
            .map(|key| match self.find(key) {
                Some(flag) => FlagResult::new(&flag.key, flag.evaluate(user, &id_hash)),
                None => FlagResult::new(key, Evaluation::new(false, Reason::FlagNotFound)),
            })
            .collect()
    }

    /// One flag of the set for `user`; `None` when the set has no flag with this key.
    pub fn evaluate_flag(&self, key: &str, user: &User) -> Option<Evaluation> {
        let flag = self.find(key)?;
        Some(flag.evaluate(user, &Murmur3Prefix::new(user.id.as_bytes(), 0)))
    }

    fn find(&self, key: &str) -> Option<&CompiledFlag> {
        self.flags
            .binary_search_by(|flag| flag.key.as_str().cmp(key))
            .ok()
            .and_then(|index| self.flags.get(index))
    }
}

#[derive(Clone, Debug)]
struct CompiledFlag {
    key: String,
    enabled: bool,
    rollout: u8,
    /// Each rule is the conditions that must all hold; empty for a disabled flag.
    rules: Box<[Box<[CompiledCondition]>]>,
}

impl CompiledFlag {
    fn new(flag: &Flag) -> Self {
        let rules = if flag.enabled {
            flag.rules
                .iter()
                .map(|rule| {
                    rule.conditions()
                        .iter()
                        .map(CompiledCondition::new)
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
            rules,
        }
    }

    fn evaluate(&self, user: &User, id_hash: &Murmur3Prefix) -> Evaluation {
        if !self.enabled {
            return Evaluation::new(false, Reason::FlagDisabled);
        }
        let rule_matches =
            |conditions: &[CompiledCondition]| conditions.iter().all(|c| c.holds(user));
        if self.rules.iter().any(|rule| rule_matches(rule)) {
            return Evaluation::new(true, Reason::RuleMatch);
        }
        // 0% and 100% need no hash: no bucket is below 0, every bucket is below 100.
        let in_rollout = match self.rollout {
            0 => false,
            100.. => true,
            percent => id_hash.bucket(&self.key) < percent,
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
    field: Field,
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
    fn new(condition: &Condition) -> Self {
        let test = match condition.operator() {
            Operator::Eq(value) => Test::Eq(value.clone()),
            Operator::Neq(value) => Test::Neq(value.clone()),
            Operator::In(list) => Test::In(ScalarSet::new(list)),
            Operator::NotIn(list) => Test::NotIn(ScalarSet::new(list)),
            Operator::StartsWith(prefix) => Test::StartsWith(prefix.clone()),
            Operator::EndsWith(suffix) => Test::EndsWith(suffix.clone()),
        };
        Self {
            field: condition.field().clone(),
            test,
        }
    }

    /// Fails closed on a missing, null, list or map field, like [`crate::evaluate`].
    fn holds(&self, user: &User) -> bool {
        let Some(value) = user.lookup(&self.field) else {
            return false;
        };
        match &self.test {
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
        set.strings.sort_unstable();
        set.strings.dedup();
        set
    }

    fn contains(&self, value: FieldValue<'_>) -> bool {
        match value {
            FieldValue::Str(s) => self
                .strings
                .binary_search_by(|candidate| candidate.as_str().cmp(s))
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
