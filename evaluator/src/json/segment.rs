//! A segment: `{key, description, include, rules}`, read in that order.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use super::rule::segment_rules;
use super::{check_identity, check_versioning, object};
use crate::error::ValidationError;
use crate::fields::optional;
use crate::segment::{IncludeList, Segment, SegmentKey};

impl Segment {
    /// Reads the contract's Segment JSON. `key` is required; the rest default to no members. As for
    /// a flag, the origin's fields are checked when present but not kept, and unknown fields are
    /// ignored.
    pub fn from_json_value(value: &Value) -> Result<Self, ValidationError> {
        let map = object(value, "segment")?;
        let key = match map.get("key") {
            Some(key) => SegmentKey::from_json_value(key)?,
            None => return Err(ValidationError::new("key", "required")),
        };
        check_identity(map)?;
        let mut segment = Segment::new(key);
        if let Some(description) = optional(map, "description") {
            segment.description = description
                .as_str()
                .map(ToString::to_string)
                .ok_or_else(|| ValidationError::new("description", "must be a string"))?;
        }
        if let Some(include) = optional(map, "include") {
            segment.include = Self::include_from_json_value(include)?;
        }
        if let Some(rules) = optional(map, "rules") {
            segment.rules = segment_rules(rules)?;
        }
        check_versioning(map)?;
        Ok(segment)
    }

    /// Reads a segment's `include`: an array of at most 10,000 distinct, non-empty user ids.
    pub fn include_from_json_value(value: &Value) -> Result<IncludeList, ValidationError> {
        let items = value
            .as_array()
            .ok_or_else(|| ValidationError::new("include", "must be an array of user ids"))?;
        let ids = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str().map(String::from).ok_or_else(|| {
                    ValidationError::new(format!("include[{i}]"), "must be a non-empty string")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        IncludeList::try_from(ids)
    }
}
