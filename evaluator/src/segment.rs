//! Segments: named audiences of one environment, which any flag there can target by key.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;

use crate::error::ValidationError;
use crate::flag::check_key;
use crate::rule::{check_rule_count, Comparison, Match};

/// The most user ids a segment may include.
pub(crate) const MAX_INCLUDED: usize = 10_000;

/// A segment's key: 1 to 128 characters of `[A-Za-z0-9_.-]`, unique per environment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SegmentKey(String);

impl SegmentKey {
    /// Checks `key` and wraps it; the error names the field `key`.
    pub fn parse(key: &str) -> Result<Self, ValidationError> {
        check_key(key).map(Self)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SegmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The user ids a segment always includes: at most 10,000, each once, none empty; in the order
/// they were written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncludeList(Vec<String>);

impl TryFrom<Vec<String>> for IncludeList {
    type Error = ValidationError;
    fn try_from(ids: Vec<String>) -> Result<Self, Self::Error> {
        if ids.len() > MAX_INCLUDED {
            return Err(ValidationError::new(
                "include",
                alloc::format!("at most {MAX_INCLUDED} user ids, got {}", ids.len()),
            ));
        }
        if let Some(i) = ids.iter().position(String::is_empty) {
            return Err(ValidationError::new(
                alloc::format!("include[{i}]"),
                "must be a non-empty string",
            ));
        }
        let mut sorted: Vec<(&str, usize)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        sorted.sort_unstable();
        // Of the repeats, name the one written last: the first copy is the one that stands.
        if let Some(repeat) = sorted
            .windows(2)
            .filter(|pair| pair[0].0 == pair[1].0)
            .map(|pair| pair[1].1)
            .min()
        {
            return Err(ValidationError::new(
                alloc::format!("include[{repeat}]"),
                alloc::format!(
                    "{:?} is listed twice",
                    crate::echo(ids.get(repeat).map_or("", String::as_str))
                ),
            ));
        }
        Ok(Self(ids))
    }
}

impl Deref for IncludeList {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

/// A segment's rules: at most 100, without `serve` and without segment conditions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SegmentRules(Vec<Match<Comparison>>);

impl TryFrom<Vec<Match<Comparison>>> for SegmentRules {
    type Error = ValidationError;
    fn try_from(rules: Vec<Match<Comparison>>) -> Result<Self, Self::Error> {
        check_rule_count(rules.len())?;
        Ok(Self(rules))
    }
}

impl Deref for SegmentRules {
    type Target = [Match<Comparison>];
    fn deref(&self) -> &[Match<Comparison>] {
        &self.0
    }
}

/// A named audience: the users in `include`, and every user whom any of `rules` matches.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// The key flags name it by.
    pub key: SegmentKey,
    /// Free text for people.
    pub description: String,
    /// User ids that always belong.
    pub include: IncludeList,
    /// Any one matching makes the user a member.
    pub rules: SegmentRules,
}

impl Segment {
    /// A segment with this key and no members.
    pub fn new(key: SegmentKey) -> Self {
        Self {
            key,
            description: String::new(),
            include: IncludeList::default(),
            rules: SegmentRules::default(),
        }
    }
}

impl AsRef<Segment> for Segment {
    fn as_ref(&self) -> &Segment {
        self
    }
}
