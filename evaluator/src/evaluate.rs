//! The contract's evaluation of one flag for one user, written plainly: the reference that the compiled
//! form must agree with.

use crate::flag::{Fallthrough, Flag};
use crate::hash::bucket;
use crate::rule::{Comparison, Condition};
use crate::segment::Segment;
use crate::serve::{Serve, Split};
use crate::user::User;
use crate::value::{FieldValue, Presence};
use crate::variant::{FlagType, VariantId, VariantValue, Variants};

/// Why a flag came out the way it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The kill switch is off.
    FlagDisabled,
    /// A prerequisite is missing, off, failed its own prerequisites or served another variant.
    PrerequisiteFailed,
    /// A targeting rule matched.
    RuleMatch,
    /// No rule matched and the rollout or a split placed the user.
    Rollout,
    /// No rule matched and the fallthrough served its variant (or the rollout left the user out).
    NoMatch,
    /// The request named a key that the environment does not have.
    FlagNotFound,
}

impl Reason {
    /// The reason's name in the API, e.g. `"RULE_MATCH"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::FlagDisabled => "FLAG_DISABLED",
            Reason::PrerequisiteFailed => "PREREQUISITE_FAILED",
            Reason::RuleMatch => "RULE_MATCH",
            Reason::Rollout => "ROLLOUT",
            Reason::NoMatch => "NO_MATCH",
            Reason::FlagNotFound => "FLAG_NOT_FOUND",
        }
    }

    /// Whether a flag of a non-boolean type counts as on with this reason.
    pub(crate) fn serves_on(self) -> bool {
        !matches!(
            self,
            Reason::FlagDisabled | Reason::PrerequisiteFailed | Reason::FlagNotFound
        )
    }
}

impl core::fmt::Display for Reason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer for one flag: the variant served, whether that counts as on, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Evaluation {
    /// A boolean flag's value; for the other types, false exactly when the reason is
    /// `FLAG_DISABLED` or `PREREQUISITE_FAILED`.
    pub enabled: bool,
    /// Why.
    pub reason: Reason,
    /// The variant served, one of the flag's.
    pub variant: VariantId,
}

impl Evaluation {
    pub(crate) fn new(variants: &Variants, variant: VariantId, reason: Reason) -> Self {
        let enabled = match variants.kind() {
            FlagType::Boolean => matches!(variants.value(variant), Some(VariantValue::Bool(true))),
            FlagType::String | FlagType::Number | FlagType::Object => reason.serves_on(),
        };
        Self {
            enabled,
            reason,
            variant,
        }
    }
}

/// The flags and segments of one environment, as the reference evaluation reads them: a flag's
/// prerequisites and segment conditions are looked up here by key.
#[derive(Clone, Copy, Debug, Default)]
pub struct Definitions<'a> {
    /// The flags prerequisites may name.
    pub flags: &'a [Flag],
    /// The segments conditions may name.
    pub segments: &'a [Segment],
}

/// Decides `flag` for `user` on its own: a prerequisite finds no flag (so it fails) and a segment
/// condition no segment (so the user is not a member).
pub fn evaluate(flag: &Flag, user: &User) -> Evaluation {
    evaluate_in(&Definitions::default(), flag, user)
}

/// Decides `flag` for `user` among `definitions`: the kill switch, the prerequisites, the rules in
/// order, then the fallthrough.
pub fn evaluate_in(definitions: &Definitions<'_>, flag: &Flag, user: &User) -> Evaluation {
    evaluate_at(definitions, flag, user, 0)
}

/// `depth` counts the prerequisites followed to get here. Without a cycle no chain is longer than
/// the set, so a longer one has met a cycle (which writes refuse): it fails instead of recursing
/// forever.
fn evaluate_at(
    definitions: &Definitions<'_>,
    flag: &Flag,
    user: &User,
    depth: usize,
) -> Evaluation {
    let variants = flag.variants();
    let off = |reason| Evaluation::new(variants, flag.off_variant(), reason);
    if !flag.enabled {
        return off(Reason::FlagDisabled);
    }
    for prerequisite in flag.prerequisites() {
        let satisfied = depth < definitions.flags.len()
            && definitions
                .flags
                .iter()
                .find(|other| other.key == prerequisite.flag)
                .is_some_and(|other| {
                    let result = evaluate_at(definitions, other, user, depth + 1);
                    result.reason.serves_on()
                        && prerequisite.accepts(other.variants().name(result.variant))
                });
        if !satisfied {
            return off(Reason::PrerequisiteFailed);
        }
    }
    for rule in flag.rules().iter() {
        let holds = rule
            .conditions()
            .iter()
            .all(|condition| condition_holds(definitions, condition, user));
        if holds {
            if let Some(variant) = place(&rule.serve, flag, user) {
                return Evaluation::new(variants, variant, Reason::RuleMatch);
            }
        }
    }
    match flag.fallthrough() {
        Fallthrough::Rollout(percent) => {
            let inside = bucket(&user.id, flag.key.as_str()) < percent.get();
            let reason = if inside {
                Reason::Rollout
            } else {
                Reason::NoMatch
            };
            Evaluation::new(variants, Variants::boolean_id(inside), reason)
        }
        Fallthrough::Serve(serve @ Serve::Variant(_)) => match place(serve, flag, user) {
            Some(variant) => Evaluation::new(variants, variant, Reason::NoMatch),
            None => off(Reason::NoMatch),
        },
        Fallthrough::Serve(serve @ Serve::Split(_)) => match place(serve, flag, user) {
            Some(variant) => Evaluation::new(variants, variant, Reason::Rollout),
            None => off(Reason::NoMatch),
        },
    }
}

/// The variant `serve` gives `user`; `None` when it is a split and the user's `bucketBy` field is
/// not a string.
fn place(serve: &Serve, flag: &Flag, user: &User) -> Option<VariantId> {
    match serve {
        Serve::Variant(variant) => Some(*variant),
        Serve::Split(split) => {
            let Presence::Scalar(FieldValue::Str(value)) = user.lookup(split.bucket_by()) else {
                return None;
            };
            let salt = split.salt_given().unwrap_or(flag.key.as_str());
            split.variant_at(Split::point(salt, value))
        }
    }
}

fn condition_holds(definitions: &Definitions<'_>, condition: &Condition, user: &User) -> bool {
    match condition {
        Condition::Compare(comparison) => comparison_holds(comparison, user),
        Condition::InSegment(key) => is_member(definitions, key.as_str(), user),
        Condition::NotInSegment(key) => !is_member(definitions, key.as_str(), user),
    }
}

fn comparison_holds(comparison: &Comparison, user: &User) -> bool {
    crate::decide::holds(comparison.operator(), user.lookup(comparison.field()))
}

/// Whether `user` belongs to the segment `key`: listed in `include`, or matched by any of its
/// rules. A segment that is not there has no members.
fn is_member(definitions: &Definitions<'_>, key: &str, user: &User) -> bool {
    definitions
        .segments
        .iter()
        .find(|segment| segment.key.as_str() == key)
        .is_some_and(|segment| {
            segment.include.contains(&user.id)
                || segment.rules.iter().any(|rule| {
                    rule.conditions()
                        .iter()
                        .all(|comparison| comparison_holds(comparison, user))
                })
        })
}
