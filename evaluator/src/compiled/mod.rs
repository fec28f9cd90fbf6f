//! A flag set turned, once, into a form that is ready to run: the hot path of the origin and the edge.
//!
//! Compared with [`crate::evaluate_in`]:
//! - the set is sorted by key, so results come out in the contract's order with no sort per request;
//! - disabled flags carry no rules, and every rule is a flat list of comparison numbers (and of
//!   segment checks, when it has any);
//! - the distinct comparisons of the whole set (flags' and segments' alike) are numbered, and so are
//!   the distinct fields they read: evaluating many flags for one user looks each field up once and
//!   decides each comparison once, however many flags share it;
//! - segments are numbered too, and each is decided once per user; an `include` list is a hash set
//!   probed with the user id's hash, computed once per user;
//! - prerequisites point at flags by number; a flag's result is kept once decided, so a flag that
//!   many others depend on is evaluated once per user; cycles are refused when the set compiles;
//! - each distinct (salt, bucketBy) of the splits is numbered, and a user's point is hashed once;
//! - `in` lists are sets; the user id's murmur3 blocks are hashed once per user, and each key's
//!   blocks once per set.

mod condition;
mod context;
mod flag;
mod id_set;
mod prerequisites;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::ValidationError;
use crate::evaluate::{Evaluation, Reason};
use crate::flag::Flag;
use crate::hash::Murmur3Prefix;
use crate::rule::Field;
use crate::segment::Segment;
use crate::user::User;
use crate::variant::{VariantId, VariantValue, Variants};

use condition::{index_u32, CompiledCondition, Interner};
use context::UserContext;
use flag::{Answers, CompiledFlag, CompiledSegment, Compiler};

/// Many flags (and the segments they target), compiled once, evaluated for one user at a time.
#[derive(Clone, Debug, Default)]
pub struct CompiledFlagSet {
    /// Sorted by key, keys unique.
    flags: Vec<CompiledFlag>,
    /// What each flag's results are made of, parallel to `flags`.
    answers: Vec<Answers>,
    /// Every distinct comparison of the set; rules and segments hold indexes into it.
    conditions: Vec<CompiledCondition>,
    /// Every distinct field the comparisons and splits read.
    fields: Vec<Field>,
    /// Every segment, in key order.
    segments: Vec<CompiledSegment>,
    /// Every distinct (salt, bucketBy) of the set's splits.
    split_sources: Vec<SplitSource>,
    /// Whether any flag has a prerequisite: only then are results kept per user.
    has_prerequisites: bool,
}

/// Where a split's points come from: `murmur3(salt ++ "/" ++ value)`, the salt's part hashed once.
#[derive(Clone, Debug)]
struct SplitSource {
    salt: Murmur3Prefix,
    field: u32,
}

/// One flag's answer inside a set, serialized as `{"flagKey", "enabled", "reason", "variant",
/// "value"}`.
///
/// The variant is kept as its number among the flag's variants, and its name and value are looked
/// up when asked for ([`FlagResult::variant`], [`FlagResult::value`]): deciding a set of a thousand
/// flags then reads nothing of the variants it does not write out.
#[derive(Clone, Copy, Debug)]
pub struct FlagResult<'a> {
    /// The flag's key.
    pub flag_key: &'a str,
    /// A boolean flag's value; for the other types, whether the flag counts as on for the user.
    pub enabled: bool,
    /// Why.
    pub reason: Reason,
    /// The flag's variants and the one served; `None` for [`Reason::FlagNotFound`].
    served: Option<(&'a Variants, VariantId)>,
    /// The flag's number in its compiled set; `None` outside a compiled set.
    index: Option<u32>,
    /// The compiled flag's fixed parts of its results, for [`crate::EvaluateResponse::to_json`];
    /// `None` outside a compiled set.
    #[cfg(feature = "result-json")]
    pub(crate) prepared: Option<&'a crate::json::ResultFragments>,
}

/// Equal when they say the same: how a result may be written is not part of it.
impl PartialEq for FlagResult<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.flag_key == other.flag_key
            && self.enabled == other.enabled
            && self.reason == other.reason
            && self.variant() == other.variant()
            && self.value() == other.value()
    }
}

impl<'a> FlagResult<'a> {
    /// The answer for a key the set does not have.
    pub fn not_found(flag_key: &'a str) -> Self {
        Self {
            flag_key,
            enabled: false,
            reason: Reason::FlagNotFound,
            served: None,
            index: None,
            #[cfg(feature = "result-json")]
            prepared: None,
        }
    }

    /// The answer of `evaluation`, which decided `flag`.
    pub fn of(flag: &'a Flag, evaluation: Evaluation) -> Self {
        Self {
            flag_key: flag.key.as_str(),
            enabled: evaluation.enabled,
            reason: evaluation.reason,
            served: Some((flag.variants(), evaluation.variant)),
            index: None,
            #[cfg(feature = "result-json")]
            prepared: None,
        }
    }

    pub(crate) fn compiled(
        flag_key: &'a str,
        index: u32,
        enabled: bool,
        reason: Reason,
        served: (&'a Variants, VariantId),
        #[cfg(feature = "result-json")] prepared: &'a crate::json::ResultFragments,
    ) -> Self {
        Self {
            flag_key,
            enabled,
            reason,
            served: Some(served),
            index: Some(index),
            #[cfg(feature = "result-json")]
            prepared: Some(prepared),
        }
    }

    /// The name of the variant served; `None` for [`Reason::FlagNotFound`].
    pub fn variant(&self) -> Option<&'a str> {
        self.served.map(|(variants, id)| variants.name(id))
    }

    /// The value of the variant served; `None` for [`Reason::FlagNotFound`].
    pub fn value(&self) -> Option<&'a VariantValue> {
        self.served.and_then(|(variants, id)| variants.value(id))
    }

    /// The number of the variant served among its flag's variants (sorted by name).
    pub fn variant_id(&self) -> Option<VariantId> {
        self.served.map(|(_, id)| id)
    }

    /// The flag's number in the compiled set that decided it ([`CompiledFlagSet::flag_at`]), so
    /// that counts kept per flag are indexed, not looked up by key; `None` for a key the set does
    /// not have and outside a compiled set.
    pub fn flag_index(&self) -> Option<usize> {
        self.index.map(|index| index as usize)
    }
}

impl CompiledFlagSet {
    /// Compiles `flags` without segments; see [`CompiledFlagSet::with_segments`].
    pub fn new(flags: &[Flag]) -> Result<Self, ValidationError> {
        Self::from_flags(flags)
    }

    /// [`CompiledFlagSet::new`] of anything that holds a flag, such as the origin's stored flags
    /// (a flag with the origin's bookkeeping), without copying the flags out first.
    pub fn from_flags<F: AsRef<Flag>>(flags: &[F]) -> Result<Self, ValidationError> {
        Self::with_segments::<F, Segment>(flags, &[])
    }

    /// Compiles `flags` and the `segments` their conditions name. Refused, naming the field: two
    /// flags or two segments with one key (the second is named), and prerequisites that make a
    /// cycle. A prerequisite naming a flag that is not in the set fails for every user, and a
    /// condition naming a segment that is not in the set finds no members, as [`crate::evaluate_in`]
    /// decides them.
    pub fn with_segments<F: AsRef<Flag>, S: AsRef<Segment>>(
        flags: &[F],
        segments: &[S],
    ) -> Result<Self, ValidationError> {
        let mut order: Vec<usize> = (0..flags.len()).collect();
        // Ties (a key given twice) by position, as a stable sort would: the same flag is named.
        order.sort_unstable_by(|&a, &b| {
            (flags[a].as_ref().key.as_str(), a).cmp(&(flags[b].as_ref().key.as_str(), b))
        });
        if let Some(pair) = order
            .windows(2)
            .find(|pair| flags[pair[0]].as_ref().key == flags[pair[1]].as_ref().key)
        {
            let second = pair[0].max(pair[1]);
            return Err(ValidationError::new(
                alloc::format!("flags[{second}].key"),
                alloc::format!("duplicate key {:?}", flags[second].as_ref().key.as_str()),
            ));
        }
        let segment_index = segment_index(segments)?;
        let flag_index: BTreeMap<&str, u32> = order
            .iter()
            .enumerate()
            .map(|(sorted, &original)| (flags[original].as_ref().key.as_str(), index_u32(sorted)))
            .collect();
        let sorted: Vec<&Flag> = order.iter().map(|&i| flags[i].as_ref()).collect();
        prerequisites::refuse_cycles(&sorted, &order, &flag_index)?;

        let mut compiler = Compiler {
            interner: Interner::default(),
            flags: &flag_index,
            sorted: &sorted,
            segments: &segment_index,
            split_sources: BTreeMap::new(),
        };
        let compiled_segments: Vec<CompiledSegment> = segment_index
            .values()
            .map(|&(position, _)| compiler.segment(segments[position].as_ref()))
            .collect();
        let compiled_flags: Vec<CompiledFlag> =
            sorted.iter().map(|flag| compiler.flag(flag)).collect();
        // After every flag: see `CompiledFlag`.
        let answers: Vec<Answers> = sorted.iter().map(|flag| Answers::new(flag)).collect();
        // Each at its number (numbers are 0..n, given in order of first use): no sort needed.
        let mut split_sources: Vec<Option<SplitSource>> =
            alloc::vec![None; compiler.split_sources.len()];
        for ((salt, field), index) in compiler.split_sources {
            let mut prefix = String::with_capacity(salt.len() + 1);
            prefix.push_str(salt);
            prefix.push('/');
            let salt = Murmur3Prefix::new(prefix.as_bytes(), 0);
            if let Some(slot) = split_sources.get_mut(index as usize) {
                *slot = Some(SplitSource { salt, field });
            }
        }
        Ok(Self {
            has_prerequisites: sorted.iter().any(|flag| !flag.prerequisites().is_empty()),
            flags: compiled_flags,
            answers,
            conditions: compiler.interner.conditions,
            fields: compiler.interner.fields,
            segments: compiled_segments,
            split_sources: split_sources.into_iter().flatten().collect(),
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

    /// Flag number `index` (the set's flags are numbered in key order): its key and variants.
    pub fn flag_at(&self, index: usize) -> Option<(&str, &Variants)> {
        let flag = self.flags.get(index)?;
        let answers = self.answers.get(index)?;
        Some((flag.key.as_str(), &answers.variants))
    }

    /// The variants of the flag with this key.
    pub fn variants_of(&self, key: &str) -> Option<&Variants> {
        let index = usize::try_from(self.find(key)?).ok()?;
        self.flag_at(index).map(|(_, variants)| variants)
    }

    /// The keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.flags.iter().map(|flag| flag.key.as_str())
    }

    /// Every flag of the set for `user`, sorted by key.
    pub fn evaluate_all(&self, user: &User) -> Vec<FlagResult<'_>> {
        let mut context = UserContext::new(self, user);
        // Sized once: a list grown by doubling moves every result it holds again and again.
        let mut results = Vec::with_capacity(self.flags.len());
        results.extend((0..self.flags.len()).filter_map(|index| context.result(index_u32(index))));
        results
    }

    /// The flags named in `keys` for `user`, sorted by key, each key once; a key the set does not have
    /// comes out disabled with [`Reason::FlagNotFound`].
    pub fn evaluate_keys<'a>(&'a self, user: &User, keys: &'a [String]) -> Vec<FlagResult<'a>> {
        let mut wanted: Vec<&'a str> = keys.iter().map(String::as_str).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut context = UserContext::new(self, user);
        wanted
            .into_iter()
            .map(|key| {
                self.find(key)
                    .and_then(|index| context.result(index))
                    .unwrap_or_else(|| FlagResult::not_found(key))
            })
            .collect()
    }

    /// One flag of the set for `user`; `None` when the set has no flag with this key.
    pub fn evaluate_flag(&self, key: &str, user: &User) -> Option<FlagResult<'_>> {
        let index = self.find(key)?;
        let flag = self.flags.get(index as usize)?;
        match flag.decide_alone(user) {
            Some((variant, reason)) => {
                Some(flag.result(index, self.answers.get(index as usize)?, variant, reason))
            }
            None => UserContext::new(self, user).result(index),
        }
    }

    fn find(&self, key: &str) -> Option<u32> {
        self.flags
            .binary_search_by(|flag| flag.key.as_str().cmp(key))
            .ok()
            .map(index_u32)
    }
}

/// The segments by key: (position in the input, number in the set); a key given twice is refused,
/// naming the second.
fn segment_index<S: AsRef<Segment>>(
    segments: &[S],
) -> Result<BTreeMap<&str, (usize, u32)>, ValidationError> {
    let mut by_key: BTreeMap<&str, (usize, u32)> = BTreeMap::new();
    for (position, segment) in segments.iter().enumerate() {
        let key = segment.as_ref().key.as_str();
        if by_key.insert(key, (position, 0)).is_some() {
            return Err(ValidationError::new(
                alloc::format!("segments[{position}].key"),
                alloc::format!("duplicate key {key:?}"),
            ));
        }
    }
    // Numbered in key order, the order `values()` visits them.
    for (number, entry) in by_key.values_mut().enumerate() {
        entry.1 = index_u32(number);
    }
    Ok(by_key)
}

#[cfg(test)]
mod tests;
