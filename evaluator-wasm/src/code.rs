//! One byte per result, for the hot path `Evaluator.evaluate(user)`: bits 0-2 index [`REASONS`],
//! bit 3 is `enabled`. The JavaScript side decodes with the names from `reasonNames()`, so this table
//! is the only place the encoding is written down.

use evaluator::Reason;

/// Every reason, at the index its code uses.
pub(crate) const REASONS: [Reason; 5] = [
    Reason::FlagDisabled,
    Reason::RuleMatch,
    Reason::Rollout,
    Reason::NoMatch,
    Reason::FlagNotFound,
];

const ENABLED: u8 = 8;

/// The code of one result.
pub(crate) fn encode(enabled: bool, reason: Reason) -> u8 {
    let index = match reason {
        Reason::FlagDisabled => 0,
        Reason::RuleMatch => 1,
        Reason::Rollout => 2,
        Reason::NoMatch => 3,
        Reason::FlagNotFound => 4,
    };
    if enabled {
        index | ENABLED
    } else {
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_decodes_to_itself() {
        for (index, reason) in REASONS.into_iter().enumerate() {
            for enabled in [false, true] {
                let code = encode(enabled, reason);
                assert_eq!(REASONS[usize::from(code & 7)], reason);
                assert_eq!(usize::from(code & 7), index);
                assert_eq!(code & ENABLED != 0, enabled);
            }
        }
    }
}
