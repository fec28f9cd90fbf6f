//! The contract's evaluation of one flag for one user, written plainly: the reference that the compiled
//! form must agree with.

use crate::flag::Flag;
use crate::hash::bucket;
use crate::rule::{Condition, Operator};
use crate::user::User;
use crate::value::FieldValue;

/// Why a flag came out the way it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The kill switch is off.
    FlagDisabled,
    /// A targeting rule matched.
    RuleMatch,
    /// No rule matched and the user's bucket is inside the rollout.
    Rollout,
    /// No rule matched and the user's bucket is outside the rollout.
    NoMatch,
    /// The request named a key that the environment does not have.
    FlagNotFound,
}

impl Reason {
    /// The reason's name in the API, e.g. `"RULE_MATCH"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::FlagDisabled => "FLAG_DISABLED",
            Reason::RuleMatch => "RULE_MATCH",
            Reason::Rollout => "ROLLOUT",
            Reason::NoMatch => "NO_MATCH",
            Reason::FlagNotFound => "FLAG_NOT_FOUND",
        }
    }
}

impl core::fmt::Display for Reason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer for one flag: on or off, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Evaluation {
    /// Whether the user gets the flag.
    pub enabled: bool,
    /// Why.
    pub reason: Reason,
}

impl Evaluation {
    pub(crate) const fn new(enabled: bool, reason: Reason) -> Self {
        Self { enabled, reason }
    }
}

/// Decides `flag` for `user`: the kill switch, then the rules in order, then the rollout bucket.
pub fn evaluate(flag: &Flag, user: &User) -> Evaluation {
    if !flag.enabled {
        return Evaluation::new(false, Reason::FlagDisabled);
    }
    let rule_matches = |conditions: &[Condition]| {
        conditions
            .iter()
            .all(|condition| condition_holds(condition, user))
    };
    if flag
        .rules
        .iter()
        .any(|rule| rule_matches(rule.conditions()))
    {
        return Evaluation::new(true, Reason::RuleMatch);
    }
    if bucket(&user.id, flag.key.as_str()) < flag.rollout_percentage.get() {
        return Evaluation::new(true, Reason::Rollout);
    }
    Evaluation::new(false, Reason::NoMatch)
}

/// Whether `condition` holds for `user`. A field that is missing, null, a list or a map makes every
/// operator false, `neq` and `not_in` included: targeting fails closed.
fn condition_holds(condition: &Condition, user: &User) -> bool {
    let Some(value) = user.lookup(condition.field()) else {
        return false;
    };
    match condition.operator() {
        Operator::Eq(expected) => value.equals(expected),
        Operator::Neq(expected) => !value.equals(expected),
        Operator::In(list) => list.iter().any(|expected| value.equals(expected)),
        Operator::NotIn(list) => !list.iter().any(|expected| value.equals(expected)),
        Operator::StartsWith(prefix) => {
            matches!(value, FieldValue::Str(s) if s.starts_with(prefix.as_str()))
        }
        Operator::EndsWith(suffix) => {
            matches!(value, FieldValue::Str(s) if s.ends_with(suffix.as_str()))
        }
    }
}
