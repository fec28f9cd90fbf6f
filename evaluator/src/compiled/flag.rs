//! One flag and one segment made ready: checks by number, serves with their running sums.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::condition::{index_u32, Interner};
use super::id_set::IdSet;
use crate::flag::{Fallthrough, Flag};
use crate::hash::PreparedSuffix;
use crate::rule::Condition;
use crate::segment::Segment;
use crate::serve::Serve;
use crate::variant::{FlagType, VariantId, Variants};

/// What a set compiles with: the numbering of comparisons, flags, segments and split sources.
pub(super) struct Compiler<'f, 'm> {
    pub(super) interner: Interner<'f>,
    /// Flag key → number in the sorted set.
    pub(super) flags: &'m BTreeMap<&'f str, u32>,
    /// The flags in the set's order.
    pub(super) sorted: &'m [&'f Flag],
    /// Segment key → (position in the input, number in the set).
    pub(super) segments: &'m BTreeMap<&'f str, (usize, u32)>,
    /// (salt, field number) → number of the split source.
    pub(super) split_sources: BTreeMap<(&'f str, u32), u32>,
}

/// A flag as the hot path reads it. Deciding a set reads every flag of it, so what only answers
/// need (the variants, the result's JSON parts) is kept apart, in the set's [`Answers`], allocated
/// after every flag: the flags, their rules and keys stay packed in fewer cache lines.
#[derive(Clone, Debug)]
pub(super) struct CompiledFlag {
    pub(super) key: String,
    pub(super) enabled: bool,
    /// Whether the flag is boolean (its `enabled` is its value).
    pub(super) boolean: bool,
    pub(super) off: VariantId,
    /// Empty for a disabled flag, like the rules.
    pub(super) prerequisites: Box<[CompiledPrerequisite]>,
    pub(super) rules: Box<[CompiledRule]>,
    pub(super) fallthrough: CompiledFallthrough,
    /// The key, ready to finish the user id's hash for the rollout.
    pub(super) key_hash: PreparedSuffix,
}

/// What a flag's results are made of, at the flag's number in the set.
#[derive(Clone, Debug)]
pub(super) struct Answers {
    pub(super) variants: Variants,
    /// The parts of its results that do not depend on the user, written once.
    #[cfg(feature = "result-json")]
    pub(super) json: crate::json::ResultFragments,
}

impl Answers {
    pub(super) fn new(flag: &Flag) -> Self {
        Self {
            variants: flag.variants().clone(),
            #[cfg(feature = "result-json")]
            json: crate::json::ResultFragments::new(flag.key.as_str(), flag.variants()),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct CompiledPrerequisite {
    /// The flag's number; `None` when it is not in the set (it then fails for every user).
    pub(super) flag: Option<u32>,
    /// The variants of that flag that let this one go on.
    pub(super) accepts: Box<[VariantId]>,
}

/// A rule's conditions, split by kind: comparisons (the common case, a plain list of numbers as in
/// version 1, with no dispatch per condition) and segment checks. All must hold, in any order: each
/// is decided once per user, with no side effect.
#[derive(Clone, Debug)]
pub(super) struct CompiledRule {
    pub(super) comparisons: Box<[u32]>,
    pub(super) segments: Box<[SegmentCheck]>,
    pub(super) serve: CompiledServe,
}

/// A segment condition of a rule, by the segment's number.
#[derive(Clone, Copy, Debug)]
pub(super) enum SegmentCheck {
    Member(u32),
    NotMember(u32),
    /// Membership of a segment that is not in the set: nobody is a member.
    Never,
}

#[derive(Clone, Debug)]
pub(super) enum CompiledServe {
    Variant(VariantId),
    Split(Box<CompiledSplit>),
}

#[derive(Clone, Debug)]
pub(super) struct CompiledSplit {
    /// Number of the (salt, bucketBy) the point comes from.
    pub(super) source: u32,
    /// The running sums of the weights, parallel to `variants`.
    pub(super) ends: Box<[u32]>,
    pub(super) variants: Box<[VariantId]>,
}

#[derive(Clone, Debug)]
pub(super) enum CompiledFallthrough {
    /// A boolean flag's percentage (0 to 100).
    Rollout(u8),
    /// A variant (reason `NO_MATCH`).
    Variant(VariantId),
    /// A split (reason `ROLLOUT`, or the off variant with `NO_MATCH` when the user cannot be placed).
    Split(CompiledServe),
}

#[derive(Clone, Debug)]
pub(super) struct CompiledSegment {
    pub(super) include: IdSet,
    /// Each rule is the comparisons that must all hold.
    pub(super) rules: Box<[Box<[u32]>]>,
}

impl<'f> Compiler<'f, '_> {
    pub(super) fn flag(&mut self, flag: &'f Flag) -> CompiledFlag {
        let (prerequisites, rules) = if flag.enabled {
            let prerequisites = flag
                .prerequisites()
                .iter()
                .map(|prerequisite| {
                    let number = self.flags.get(prerequisite.flag.as_str()).copied();
                    let accepts = number
                        .and_then(|n| self.sorted.get(n as usize))
                        .map(|other| {
                            prerequisite
                                .variants()
                                .iter()
                                .filter_map(|name| other.variants().find(name.as_str()))
                                .collect()
                        })
                        .unwrap_or_default();
                    CompiledPrerequisite {
                        flag: number,
                        accepts,
                    }
                })
                .collect();
            let rules = flag
                .rules()
                .iter()
                .map(|rule| {
                    let mut comparisons = Vec::new();
                    let mut segments = Vec::new();
                    for condition in rule.conditions() {
                        match condition {
                            Condition::Compare(comparison) => {
                                comparisons.push(self.interner.condition(comparison));
                            }
                            Condition::InSegment(_) | Condition::NotInSegment(_) => {
                                segments.push(self.segment_check(condition));
                            }
                        }
                    }
                    CompiledRule {
                        comparisons: comparisons.into(),
                        segments: segments.into(),
                        serve: self.serve(&rule.serve, flag),
                    }
                })
                .collect();
            (prerequisites, rules)
        } else {
            (Box::default(), Box::default())
        };
        let fallthrough = match flag.fallthrough() {
            Fallthrough::Rollout(percent) => CompiledFallthrough::Rollout(percent.get()),
            Fallthrough::Serve(Serve::Variant(variant)) => CompiledFallthrough::Variant(*variant),
            Fallthrough::Serve(serve @ Serve::Split(_)) => {
                CompiledFallthrough::Split(self.serve(serve, flag))
            }
        };
        CompiledFlag {
            key: flag.key.as_str().into(),
            enabled: flag.enabled,
            boolean: flag.flag_type() == FlagType::Boolean,
            off: flag.off_variant(),
            prerequisites,
            rules,
            fallthrough,
            key_hash: PreparedSuffix::new(flag.key.as_str().as_bytes()),
        }
    }

    pub(super) fn segment(&mut self, segment: &'f Segment) -> CompiledSegment {
        CompiledSegment {
            include: IdSet::new(&segment.include),
            rules: segment
                .rules
                .iter()
                .map(|rule| {
                    rule.conditions()
                        .iter()
                        .map(|comparison| self.interner.condition(comparison))
                        .collect()
                })
                .collect(),
        }
    }

    fn segment_check(&self, condition: &Condition) -> SegmentCheck {
        match condition {
            Condition::InSegment(key) => match self.segments.get(key.as_str()) {
                Some(&(_, number)) => SegmentCheck::Member(number),
                None => SegmentCheck::Never,
            },
            Condition::NotInSegment(key) => match self.segments.get(key.as_str()) {
                Some(&(_, number)) => SegmentCheck::NotMember(number),
                // Not a member of a segment that is not there: always true (no such number).
                None => SegmentCheck::NotMember(u32::MAX),
            },
            // Comparisons are numbered by the interner, not here.
            Condition::Compare(_) => SegmentCheck::Never,
        }
    }

    fn serve(&mut self, serve: &'f Serve, flag: &'f Flag) -> CompiledServe {
        match serve {
            Serve::Variant(variant) => CompiledServe::Variant(*variant),
            Serve::Split(split) => {
                let field = self.interner.field(split.bucket_by());
                let salt = split.salt_given().unwrap_or(flag.key.as_str());
                let next = index_u32(self.split_sources.len());
                let source = *self.split_sources.entry((salt, field)).or_insert(next);
                let mut sum = 0u32;
                let ends = split
                    .slices()
                    .iter()
                    .map(|slice| {
                        sum = sum.saturating_add(slice.weight);
                        sum
                    })
                    .collect();
                CompiledServe::Split(Box::new(CompiledSplit {
                    source,
                    ends,
                    variants: split.slices().iter().map(|slice| slice.variant).collect(),
                }))
            }
        }
    }
}

impl CompiledFlag {
    /// "on" or "off", for a boolean flag's rollout.
    pub(super) fn boolean(on: bool) -> VariantId {
        Variants::boolean_id(on)
    }
}
