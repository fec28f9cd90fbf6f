//! One user, as seen by one evaluation over a set: what has been read and decided so far, so that
//! nothing is read, hashed or decided twice.

use alloc::vec::Vec;

use super::flag::{
    Answers, CompiledFallthrough, CompiledFlag, CompiledServe, CompiledSplit, SegmentCheck,
};
use super::id_set::id_hash;
use super::{CompiledFlagSet, FlagResult};
use crate::evaluate::Reason;
use crate::hash::Murmur3Prefix;
use crate::user::User;
use crate::value::{FieldValue, Presence};
use crate::variant::VariantId;

pub(super) struct UserContext<'s, 'u> {
    user: &'u User,
    set: &'s CompiledFlagSet,
    /// Parallel to the set's `fields`: `None` until read.
    fields: Vec<Option<Presence<'u>>>,
    /// Parallel to the set's `conditions`.
    conditions: Vec<Decided>,
    /// Parallel to the set's `segments`.
    segments: Vec<Decided>,
    /// Parallel to the set's split sources: `None` until hashed, then the point (or `None` inside
    /// when the user cannot be placed).
    points: Vec<Option<Option<u32>>>,
    /// Parallel to the flags when the set has prerequisites (empty otherwise).
    results: Vec<Option<(VariantId, Reason)>>,
    id_hash: Murmur3Prefix,
    /// `murmur3(id)`, for the segments' include sets, once needed.
    include_hash: Option<u32>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Decided {
    Unknown,
    False,
    True,
}

impl Decided {
    fn of(holds: bool) -> Self {
        if holds {
            Decided::True
        } else {
            Decided::False
        }
    }
}

impl<'s, 'u> UserContext<'s, 'u> {
    pub(super) fn new(set: &'s CompiledFlagSet, user: &'u User) -> Self {
        let results = if set.has_prerequisites {
            alloc::vec![None; set.flags.len()]
        } else {
            Vec::new()
        };
        Self {
            user,
            set,
            fields: alloc::vec![None; set.fields.len()],
            conditions: alloc::vec![Decided::Unknown; set.conditions.len()],
            segments: alloc::vec![Decided::Unknown; set.segments.len()],
            points: alloc::vec![None; set.split_sources.len()],
            results,
            id_hash: Murmur3Prefix::new(user.id.as_bytes(), 0),
            include_hash: None,
        }
    }

    /// The result of flag number `index`, as the API answers it.
    #[inline]
    pub(super) fn result(&mut self, index: u32) -> Option<FlagResult<'s>> {
        let flag = self.set.flags.get(index as usize)?;
        let answers = self.set.answers.get(index as usize)?;
        let (variant, reason) = self.decide(index);
        Some(flag.result(index, answers, variant, reason))
    }

    /// Flag number `index` for this user, decided once when the set has prerequisites.
    fn decide(&mut self, index: u32) -> (VariantId, Reason) {
        if let Some(Some(known)) = self.results.get(index as usize) {
            return *known;
        }
        let decided = match self.set.flags.get(index as usize) {
            Some(flag) => self.evaluate(flag),
            // Unreachable: every number is of a flag of the set.
            None => (VariantId::default(), Reason::FlagNotFound),
        };
        if let Some(slot) = self.results.get_mut(index as usize) {
            *slot = Some(decided);
        }
        decided
    }

    fn evaluate(&mut self, flag: &'s CompiledFlag) -> (VariantId, Reason) {
        if !flag.enabled {
            return (flag.off, Reason::FlagDisabled);
        }
        for prerequisite in flag.prerequisites.iter() {
            // Cycles are refused when the set compiles, so this recursion ends.
            let satisfied = prerequisite.flag.is_some_and(|number| {
                let (variant, reason) = self.decide(number);
                reason.serves_on() && prerequisite.accepts.contains(&variant)
            });
            if !satisfied {
                return (flag.off, Reason::PrerequisiteFailed);
            }
        }
        for rule in flag.rules.iter() {
            if rule.comparisons.iter().all(|&index| self.holds(index))
                && rule.segments.iter().all(|&check| self.passes(check))
            {
                if let Some(variant) = self.place(&rule.serve) {
                    return (variant, Reason::RuleMatch);
                }
            }
        }
        match &flag.fallthrough {
            CompiledFallthrough::Rollout(percent) => flag.rollout(*percent, &self.id_hash),
            CompiledFallthrough::Variant(variant) => (*variant, Reason::NoMatch),
            CompiledFallthrough::Split(serve) => match self.place(serve) {
                Some(variant) => (variant, Reason::Rollout),
                None => (flag.off, Reason::NoMatch),
            },
        }
    }

    fn passes(&mut self, check: SegmentCheck) -> bool {
        match check {
            SegmentCheck::Member(segment) => self.member(segment),
            SegmentCheck::NotMember(segment) => !self.member(segment),
            SegmentCheck::Never => false,
        }
    }

    /// The variant `serve` gives this user; `None` for a split that cannot place them.
    fn place(&mut self, serve: &CompiledServe) -> Option<VariantId> {
        match serve {
            CompiledServe::Variant(variant) => Some(*variant),
            CompiledServe::Split(split) => {
                let CompiledSplit {
                    source,
                    ends,
                    variants,
                } = &**split;
                let point = self.point(*source)?;
                let slot = ends.partition_point(|&end| end <= point);
                variants.get(slot).copied()
            }
        }
    }

    /// The user's point for split source number `index`, hashed the first time only.
    fn point(&mut self, index: u32) -> Option<u32> {
        if let Some(Some(known)) = self.points.get(index as usize) {
            return *known;
        }
        let source = self.set.split_sources.get(index as usize)?;
        let point = match self.field(source.field) {
            Presence::Scalar(FieldValue::Str(value)) => {
                Some(source.salt.finish(value.as_bytes()) % crate::serve::SPLIT_TOTAL)
            }
            _ => None,
        };
        if let Some(slot) = self.points.get_mut(index as usize) {
            *slot = Some(point);
        }
        point
    }

    /// Whether the user is a member of segment number `index`, decided the first time only. A
    /// number that is not of a segment (one the set does not have) has no members.
    fn member(&mut self, index: u32) -> bool {
        match self.segments.get(index as usize) {
            Some(Decided::True) => return true,
            Some(Decided::False) | None => return false,
            Some(Decided::Unknown) => {}
        }
        let set = self.set;
        let Some(segment) = set.segments.get(index as usize) else {
            return false;
        };
        let hash = *self
            .include_hash
            .get_or_insert_with(|| id_hash(&self.user.id));
        let member = segment.include.contains(&self.user.id, hash)
            || segment
                .rules
                .iter()
                .any(|rule| rule.iter().all(|&condition| self.holds(condition)));
        if let Some(slot) = self.segments.get_mut(index as usize) {
            *slot = Decided::of(member);
        }
        member
    }

    /// Whether comparison number `index` holds, decided the first time only.
    fn holds(&mut self, index: u32) -> bool {
        match self.conditions.get(index as usize) {
            Some(Decided::True) => return true,
            Some(Decided::False) | None => return false,
            Some(Decided::Unknown) => {}
        }
        let set = self.set;
        let holds = match set.conditions.get(index as usize) {
            Some(condition) => {
                let value = self.field(condition.field);
                condition.test.holds(value)
            }
            None => false,
        };
        if let Some(slot) = self.conditions.get_mut(index as usize) {
            *slot = Decided::of(holds);
        }
        holds
    }

    /// What field number `index` holds, looked up in the user the first time only.
    fn field(&mut self, index: u32) -> Presence<'u> {
        if let Some(Some(value)) = self.fields.get(index as usize) {
            return *value;
        }
        let value = self
            .set
            .fields
            .get(index as usize)
            .map_or(Presence::Missing, |field| self.user.lookup(field));
        if let Some(slot) = self.fields.get_mut(index as usize) {
            *slot = Some(value);
        }
        value
    }
}

impl CompiledFlag {
    /// The answer of this flag serving `variant` for `reason`. A boolean flag's variants are always
    /// `off`, `on`: its `enabled` needs no look at the values.
    #[inline]
    pub(super) fn result<'s>(
        &'s self,
        index: u32,
        answers: &'s Answers,
        variant: VariantId,
        reason: Reason,
    ) -> FlagResult<'s> {
        let enabled = if self.boolean {
            variant == CompiledFlag::boolean(true)
        } else {
            reason.serves_on()
        };
        FlagResult::compiled(
            &self.key,
            index,
            enabled,
            reason,
            (&answers.variants, variant),
            #[cfg(feature = "result-json")]
            &answers.json,
        )
    }

    /// A boolean flag's percentage rollout for the user whose id `id_hash` has hashed.
    fn rollout(&self, percent: u8, id_hash: &Murmur3Prefix) -> (VariantId, Reason) {
        // 0% and 100% need no hash: no bucket is below 0, every bucket is below 100.
        let inside = match percent {
            0 => false,
            100.. => true,
            percent => self.key_hash.finish(id_hash) % 100 < u32::from(percent),
        };
        let reason = if inside {
            Reason::Rollout
        } else {
            Reason::NoMatch
        };
        (CompiledFlag::boolean(inside), reason)
    }

    /// The flag decided without a [`UserContext`], when it needs nothing one keeps: disabled, or
    /// without prerequisites and rules and with a rollout or a variant as its fallthrough (the kill
    /// switches and percentage rollouts that most sets are full of). `None` for any other flag.
    pub(super) fn decide_alone(&self, user: &User) -> Option<(VariantId, Reason)> {
        if !self.enabled {
            return Some((self.off, Reason::FlagDisabled));
        }
        if !self.prerequisites.is_empty() || !self.rules.is_empty() {
            return None;
        }
        match &self.fallthrough {
            CompiledFallthrough::Rollout(percent) => {
                Some(self.rollout(*percent, &Murmur3Prefix::new(user.id.as_bytes(), 0)))
            }
            CompiledFallthrough::Variant(variant) => Some((*variant, Reason::NoMatch)),
            CompiledFallthrough::Split(_) => None,
        }
    }
}
