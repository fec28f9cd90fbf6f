//! One number per result, for the hot path `Evaluator.evaluate(user)`: bits 0-2 index [`REASONS`],
//! bit 3 is `enabled`, bits 4 and up the served variant's index among the flag's variants (sorted by
//! name; a `VariantId` is a byte, so it fits). The JavaScript side decodes with the names from `reasonNames()` and the
//! variants from `variantTable()`, so this table is the only place the encoding is written down.

use evaluator::{FlagResult, Reason};

/// Every reason, at the index its code uses.
pub(crate) const REASONS: [Reason; 6] = [
    Reason::FlagDisabled,
    Reason::PrerequisiteFailed,
    Reason::RuleMatch,
    Reason::Rollout,
    Reason::NoMatch,
    Reason::FlagNotFound,
];

const ENABLED: u16 = 8;
const VARIANT_SHIFT: u32 = 4;

/// The code of `result`.
pub(crate) fn of(result: &FlagResult<'_>) -> u16 {
    let variant = result.variant_id().map_or(0, |id| id.index());
    encode(result.enabled, result.reason, variant)
}

/// The code of one result; `variant` is the served variant's index.
pub(crate) fn encode(enabled: bool, reason: Reason, variant: usize) -> u16 {
    let index = match reason {
        Reason::FlagDisabled => 0,
        Reason::PrerequisiteFailed => 1,
        Reason::RuleMatch => 2,
        Reason::Rollout => 3,
        Reason::NoMatch => 4,
        Reason::FlagNotFound => 5,
    };
    // A variant's index is below 256 (a `VariantId` is a byte): 12 bits are left for it.
    let variant = u16::try_from(variant).unwrap_or(0) << VARIANT_SHIFT;
    variant | if enabled { index | ENABLED } else { index }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_and_variant_decodes_to_itself() {
        for (index, reason) in REASONS.into_iter().enumerate() {
            for enabled in [false, true] {
                for variant in [0, 1, 49, 255] {
                    let code = encode(enabled, reason, variant);
                    assert_eq!(REASONS[usize::from(code & 7)], reason);
                    assert_eq!(usize::from(code & 7), index);
                    assert_eq!(code & ENABLED != 0, enabled);
                    assert_eq!(usize::from(code >> VARIANT_SHIFT), variant);
                }
            }
        }
    }
}
