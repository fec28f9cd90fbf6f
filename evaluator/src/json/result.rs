//! A result written as JSON without serde's per-field work: everything in `{"flagKey": …,
//! "enabled": …, "reason": …, "variant": …, "value": …}` but `enabled` and `reason` depends only on
//! the flag and the variant served, so a compiled set writes those parts once (escaped by serde_json,
//! so the bytes are the same) and an answer is a few copies per flag. Writing results was most of
//! the origin's time per request once results carried the variant and its value.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::compiled::FlagResult;
use crate::evaluate::Reason;
use crate::variant::Variants;

/// A variant's part longer than this (a large object value) is written by serde each time rather
/// than kept: a set of many flags with 50 large object variants would otherwise hold megabytes.
const MAX_KEPT_TAIL: usize = 512;

const HEAD_START: &str = "{\"flagKey\":";
const HEAD_END: &str = ",\"enabled\":";

/// One flag's fixed parts of its results.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResultFragments {
    /// `{"flagKey":"<key>","enabled":`
    head: Box<str>,
    /// Per variant: `,"variant":"<name>","value":<value>}`, when short enough to keep.
    tails: Box<[Option<Box<str>>]>,
    /// The longest of those parts, kept or not: with the head, the most a result takes.
    longest_tail: usize,
}

impl ResultFragments {
    pub(crate) fn new(key: &str, variants: &Variants) -> Self {
        let mut head = String::from(HEAD_START);
        head.push_str(&quoted(key));
        head.push_str(HEAD_END);
        let mut longest_tail = 0;
        let tails = variants
            .iter()
            .map(|(_, name, value)| {
                let mut tail = String::from(",\"variant\":");
                tail.push_str(&quoted(name.as_str()));
                tail.push_str(",\"value\":");
                tail.push_str(&serde_json::to_string(value).ok()?);
                tail.push('}');
                longest_tail = longest_tail.max(tail.len());
                (tail.len() <= MAX_KEPT_TAIL).then(|| tail.into_boxed_str())
            })
            .collect();
        Self {
            head: head.into_boxed_str(),
            tails,
            longest_tail,
        }
    }

    /// Writes `result`, a result of this flag serving variant number `variant`; `false` when that
    /// variant's part was not kept (the caller writes the result with serde).
    pub(crate) fn write(&self, result: &FlagResult<'_>, variant: usize, out: &mut Vec<u8>) -> bool {
        let Some(Some(tail)) = self.tails.get(variant) else {
            return false;
        };
        out.extend_from_slice(self.head.as_bytes());
        out.extend_from_slice(if result.enabled { b"true" } else { b"false" });
        out.extend_from_slice(reason_part(result.reason).as_bytes());
        out.extend_from_slice(tail.as_bytes());
        true
    }

    /// The key as a JSON string (quotes and escapes included), cut from the kept head.
    pub(crate) fn quoted_key(&self) -> &str {
        self.head
            .get(HEAD_START.len()..self.head.len().saturating_sub(HEAD_END.len()))
            .unwrap_or("\"\"")
    }

    /// `,"variant":"<name>","value":<value>` of variant number `variant`, when it was kept.
    pub(crate) fn variant_and_value(&self, variant: usize) -> Option<&str> {
        let tail = self.tails.get(variant)?.as_deref()?;
        tail.strip_suffix('}')
    }

    /// The most bytes a result of this flag takes: the answer's buffer is sized once, never grown
    /// (growing it copied the results written so far, twice or three times per answer).
    pub(crate) fn size_hint(&self) -> usize {
        self.head.len() + "false".len() + LONGEST_REASON_PART + self.longest_tail
    }
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// The length of the longest [`reason_part`].
const LONGEST_REASON_PART: usize = ",\"reason\":\"PREREQUISITE_FAILED\"".len();

fn reason_part(reason: Reason) -> &'static str {
    match reason {
        Reason::FlagDisabled => ",\"reason\":\"FLAG_DISABLED\"",
        Reason::PrerequisiteFailed => ",\"reason\":\"PREREQUISITE_FAILED\"",
        Reason::RuleMatch => ",\"reason\":\"RULE_MATCH\"",
        Reason::Rollout => ",\"reason\":\"ROLLOUT\"",
        Reason::NoMatch => ",\"reason\":\"NO_MATCH\"",
        Reason::FlagNotFound => ",\"reason\":\"FLAG_NOT_FOUND\"",
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::string::ToString;

    use crate::{CompiledFlagSet, EvaluateResponse, Flag, User};

    #[test]
    fn no_reason_is_longer_than_the_longest() {
        use crate::evaluate::Reason;
        for reason in [
            Reason::FlagDisabled,
            Reason::PrerequisiteFailed,
            Reason::RuleMatch,
            Reason::Rollout,
            Reason::NoMatch,
            Reason::FlagNotFound,
        ] {
            assert!(super::reason_part(reason).len() <= super::LONGEST_REASON_PART);
        }
    }

    /// Keys and names that need escaping, a value of every kind, an object too large to keep, and a
    /// key the set does not have: the fast writer and serde write the same bytes.
    #[test]
    fn writes_what_serde_writes() {
        let big: alloc::vec::Vec<serde_json::Value> = (0..200)
            .map(|i| serde_json::json!(format!("é\"{i}")))
            .collect();
        let flags: alloc::vec::Vec<Flag> = [
            serde_json::json!({"key": "a.b-c_d", "enabled": true, "rolloutPercentage": 50}),
            serde_json::json!({"key": "n", "enabled": true, "type": "number",
                "variants": {"x": 1e-7, "y": -0.0, "z": 12345678901234567u64}, "offVariant": "x",
                "fallthrough": {"split": [{"variant": "x", "weight": 30000},
                    {"variant": "y", "weight": 30000}, {"variant": "z", "weight": 40000}]}}),
            serde_json::json!({"key": "o", "enabled": true, "type": "object",
                "variants": {"big": {"list": big}, "small": {"q\"uote": "\u{1}\n☃"}},
                "offVariant": "small", "rules": [{"field": "id", "operator": "ends_with",
                "value": "7", "serve": "big"}], "fallthrough": "small"}),
            serde_json::json!({"key": "s", "enabled": false, "type": "string",
                "variants": {"a": "\u{7f}</script>", "b": "日本"}, "offVariant": "a",
                "fallthrough": "b"}),
        ]
        .iter()
        .map(|document| Flag::from_json_value(document).unwrap())
        .collect();
        let set = CompiledFlagSet::new(&flags).unwrap();
        let keys = ["missing".to_string(), "o".to_string(), "n".to_string()];
        for id in ["user-7", "user-1", "user-2", "user-3"] {
            let user = User::new(id);
            for results in [set.evaluate_all(&user), set.evaluate_keys(&user, &keys)] {
                let response = EvaluateResponse { results };
                assert_eq!(
                    alloc::string::String::from_utf8(response.to_json()).unwrap(),
                    serde_json::to_string(&response).unwrap()
                );
            }
        }
    }
}
