//! What a rule or the fallthrough serves: one variant, or a weighted split of users between several.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::ValidationError;
use crate::hash::murmur3_x86_32;
use crate::rule::Field;
use crate::variant::VariantId;

/// The total of a split's weights: a weight is in thousandths of a percent.
pub const SPLIT_TOTAL: u32 = 100_000;
/// The longest salt, in Unicode scalar values.
const MAX_SALT_CHARS: usize = 64;

/// A variant, or a split of users between variants.
#[derive(Clone, Debug, PartialEq)]
pub enum Serve {
    /// Every user gets this variant.
    Variant(VariantId),
    /// Users are placed by the hash of a field.
    Split(Split),
}

/// One share of a split: a variant and its weight (0 to 100000, in thousandths of a percent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    /// The variant served to the users placed here.
    pub variant: VariantId,
    /// The share, out of [`SPLIT_TOTAL`].
    pub weight: u32,
}

/// A weighted split: weights that sum to exactly 100000, each variant at most once.
///
/// A user is placed at `murmur3_x86_32(salt ++ "/" ++ value, 0) % 100000`, where `value` is the
/// user's `bucketBy` field (a string), and gets the first variant whose running sum of weights
/// exceeds that point.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    slices: Vec<Slice>,
    /// Upper bounds of each slice (the running sums), parallel to `slices`.
    ends: Vec<u32>,
    bucket_by: Option<Field>,
    salt: Option<String>,
}

impl Split {
    /// Checks the slices (weights sum to exactly 100000, no variant twice) and the salt (1 to 64
    /// characters). Errors name the path from the serve (`split`, `split[2].variant`, `salt`).
    pub fn new(
        slices: Vec<Slice>,
        bucket_by: Option<Field>,
        salt: Option<String>,
    ) -> Result<Self, ValidationError> {
        if slices.is_empty() {
            return Err(ValidationError::new(
                "split",
                "must be a non-empty array of {\"variant\", \"weight\"}",
            ));
        }
        for (i, slice) in slices.iter().enumerate() {
            if slice.weight > SPLIT_TOTAL {
                return Err(weight_out_of_range(i));
            }
            if slices[..i].iter().any(|seen| seen.variant == slice.variant) {
                return Err(ValidationError::new(
                    alloc::format!("split[{i}].variant"),
                    "already in this split: each variant at most once",
                ));
            }
        }
        let mut ends = Vec::with_capacity(slices.len());
        let mut total: u32 = 0;
        for slice in &slices {
            // At most 50 slices of at most 100000: no overflow.
            total = total.saturating_add(slice.weight);
            ends.push(total);
        }
        if total != SPLIT_TOTAL {
            return Err(ValidationError::new(
                "split",
                alloc::format!("the weights must sum to {SPLIT_TOTAL} (100%), got {total}"),
            ));
        }
        if let Some(salt) = &salt {
            let chars = salt.chars().count();
            if chars == 0 || chars > MAX_SALT_CHARS {
                return Err(salt_out_of_range());
            }
        }
        Ok(Self {
            slices,
            ends,
            bucket_by,
            salt,
        })
    }

    /// The slices, in order.
    pub fn slices(&self) -> &[Slice] {
        &self.slices
    }

    /// The field given as `bucketBy`, if any (the user id when none).
    pub fn bucket_by_given(&self) -> Option<&Field> {
        self.bucket_by.as_ref()
    }

    /// The field whose value places a user.
    pub fn bucket_by(&self) -> &Field {
        self.bucket_by.as_ref().unwrap_or(&Field::Id)
    }

    /// The salt given, if any (the flag's key when none).
    pub fn salt_given(&self) -> Option<&str> {
        self.salt.as_deref()
    }

    /// The variant at `point` (0 to 99999): the first whose running sum exceeds it.
    pub fn variant_at(&self, point: u32) -> Option<VariantId> {
        let slot = self.ends.partition_point(|&end| end <= point);
        self.slices.get(slot).map(|slice| slice.variant)
    }

    /// Where `value` falls with `salt`: `murmur3_x86_32(salt ++ "/" ++ value, 0) % 100000`.
    pub fn point(salt: &str, value: &str) -> u32 {
        let mut text = String::with_capacity(salt.len() + 1 + value.len());
        text.push_str(salt);
        text.push('/');
        text.push_str(value);
        murmur3_x86_32(text.as_bytes(), 0) % SPLIT_TOTAL
    }
}

/// A salt that is not a string of 1 to 64 characters, whether too short, too long or not text.
pub(crate) fn salt_out_of_range() -> ValidationError {
    ValidationError::new("salt", "must be a string of 1 to 64 characters")
}

pub(crate) fn weight_out_of_range(i: usize) -> ValidationError {
    ValidationError::new(
        alloc::format!("split[{i}].weight"),
        "must be an integer from 0 to 100000",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variant::{FlagType, VariantName, VariantValue, Variants};

    fn ids() -> (VariantId, VariantId, VariantId) {
        let name = |n: &str| VariantName::parse(n).unwrap();
        let v = Variants::new(
            FlagType::String,
            alloc::vec![
                (name("a"), VariantValue::String("A".into())),
                (name("b"), VariantValue::String("B".into())),
                (name("c"), VariantValue::String("C".into())),
            ],
        )
        .unwrap();
        (
            v.find("a").unwrap(),
            v.find("b").unwrap(),
            v.find("c").unwrap(),
        )
    }

    #[test]
    fn the_contract_known_points() {
        assert_eq!(Split::point("checkout-v2", "user-123"), 60842);
        assert_eq!(Split::point("new_checkout_flow", "user-123"), 72699);
    }

    #[test]
    fn placement_follows_running_sums_and_skips_empty_slices() {
        let (a, b, c) = ids();
        let split = Split::new(
            alloc::vec![
                Slice {
                    variant: a,
                    weight: 33_333
                },
                Slice {
                    variant: b,
                    weight: 0
                },
                Slice {
                    variant: c,
                    weight: 66_667
                },
            ],
            None,
            None,
        )
        .unwrap();
        assert_eq!(split.variant_at(0), Some(a));
        assert_eq!(split.variant_at(33_332), Some(a));
        assert_eq!(split.variant_at(33_333), Some(c));
        assert_eq!(split.variant_at(99_999), Some(c));
    }

    #[test]
    fn refuses_bad_sums_repeats_and_salts() {
        let (a, b, _) = ids();
        let err = Split::new(
            alloc::vec![Slice {
                variant: a,
                weight: 99_999
            }],
            None,
            None,
        );
        assert_eq!(
            err.unwrap_err().to_string(),
            "split: the weights must sum to 100000 (100%), got 99999"
        );
        let err = Split::new(
            alloc::vec![
                Slice {
                    variant: a,
                    weight: 50_000
                },
                Slice {
                    variant: a,
                    weight: 50_000
                },
            ],
            None,
            None,
        );
        assert_eq!(err.unwrap_err().field(), "split[1].variant");
        let one = || {
            alloc::vec![Slice {
                variant: b,
                weight: SPLIT_TOTAL
            }]
        };
        assert!(Split::new(one(), None, Some("é".repeat(64))).is_ok());
        assert!(Split::new(one(), None, Some("é".repeat(65))).is_err());
        assert!(Split::new(one(), None, Some(String::new())).is_err());
    }
}
