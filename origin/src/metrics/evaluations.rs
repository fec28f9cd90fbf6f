//! Evaluation counts by flag, variant and reason, kept with each compiled flag set.
//!
//! A set counts into [`EvaluationCounts`]: one counter per (flag, variant, reason) of that set,
//! indexed by the flag's number and the variant's number, so counting a result is an index and an
//! add to the calling thread's shard (no key is hashed, no lock taken, no line shared). What a set
//! counted moves into its environment's [`EvaluationTotals`] when scraped, when flag usage is
//! gathered and when the set is dropped after a reload, so a total never goes down and nothing
//! counted is lost.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use evaluator::{CompiledFlagSet, FlagResult, Reason};

use super::shards::ShardedCounters;

/// The reasons a flag of the set can be decided for (`FLAG_NOT_FOUND` names no flag).
const REASONS: [Reason; 5] = [
    Reason::FlagDisabled,
    Reason::PrerequisiteFailed,
    Reason::RuleMatch,
    Reason::Rollout,
    Reason::NoMatch,
];

fn reason_index(reason: Reason) -> Option<usize> {
    match reason {
        Reason::FlagDisabled => Some(0),
        Reason::PrerequisiteFailed => Some(1),
        Reason::RuleMatch => Some(2),
        Reason::Rollout => Some(3),
        Reason::NoMatch => Some(4),
        Reason::FlagNotFound => None,
    }
}

/// One set's counts: flag `f`'s counters start at `first[f]`, then one per variant × reason.
#[derive(Debug)]
pub struct EvaluationCounts {
    first: Box<[u32]>,
    counters: ShardedCounters,
}

impl EvaluationCounts {
    pub fn new(compiled: &CompiledFlagSet) -> Self {
        let mut first = Vec::with_capacity(compiled.len());
        let mut next = 0usize;
        for index in 0..compiled.len() {
            first.push(u32::try_from(next).unwrap_or(u32::MAX));
            let variants = compiled.flag_at(index).map_or(0, |(_, v)| v.len());
            next += variants * REASONS.len();
        }
        Self {
            first: first.into_boxed_slice(),
            counters: ShardedCounters::new(next),
        }
    }

    /// Counts the results of one request.
    #[inline]
    pub fn record(&self, results: &[FlagResult<'_>]) {
        let shard = self.counters.shard();
        for result in results {
            if let Some(slot) = self.slot(result) {
                shard.add(slot, 1);
            }
        }
    }

    #[inline]
    pub fn record_one(&self, result: &FlagResult<'_>) {
        if let Some(slot) = self.slot(result) {
            self.counters.add(slot, 1);
        }
    }

    /// The counter of `result`'s (flag, variant, reason); `None` for a flag not found.
    #[inline]
    fn slot(&self, result: &FlagResult<'_>) -> Option<usize> {
        let flag = result.flag_index()?;
        let variant = result.variant_id()?;
        let reason = reason_index(result.reason)?;
        let first = *self.first.get(flag)?;
        Some(first as usize + variant.index() * REASONS.len() + reason)
    }

    /// Moves what was counted into `totals`, named by `compiled` (the set these counts are of).
    pub fn drain_into(&self, compiled: &CompiledFlagSet, totals: &EvaluationTotals) {
        let counts = self.counters.drain();
        if counts.iter().all(|&count| count == 0) {
            return;
        }
        let mut totals = totals.lock();
        for (flag, &first) in self.first.iter().enumerate() {
            let Some((key, variants)) = compiled.flag_at(flag) else {
                continue;
            };
            for (variant, name, _) in variants.iter() {
                let mut of_variant = 0;
                for (r, reason) in REASONS.iter().enumerate() {
                    let slot = first as usize + variant.index() * REASONS.len() + r;
                    let count = counts.get(slot).copied().unwrap_or(0);
                    if count > 0 {
                        of_variant += count;
                        *totals
                            .series
                            .entry(SeriesKey {
                                flag: key.to_owned(),
                                variant: name.as_str().to_owned(),
                                reason: reason.as_str(),
                            })
                            .or_insert(0) += count;
                    }
                }
                if of_variant > 0 {
                    *totals
                        .unreported
                        .entry((key.to_owned(), name.as_str().to_owned()))
                        .or_insert(0) += of_variant;
                }
            }
        }
    }
}

/// One series of `pennon_evaluations_total` within an environment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeriesKey {
    pub flag: String,
    pub variant: String,
    /// As the API names it (`RULE_MATCH`, …).
    pub reason: &'static str,
}

/// An environment's evaluations since start, over every set it held: only the series counted at
/// least once exist. Beside them, what flag usage has not taken yet ([`Self::take_unreported`]).
#[derive(Debug, Default)]
pub struct EvaluationTotals {
    inner: Mutex<Totals>,
}

#[derive(Debug, Default)]
struct Totals {
    series: BTreeMap<SeriesKey, u64>,
    /// Evaluations by (flag, variant) since flag usage last took them.
    unreported: BTreeMap<(String, String), u64>,
}

impl EvaluationTotals {
    fn lock(&self) -> std::sync::MutexGuard<'_, Totals> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every series and its count.
    pub fn snapshot(&self) -> Vec<(SeriesKey, u64)> {
        self.lock()
            .series
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// The evaluations by (flag, variant) moved here since the last call, and none of them again.
    pub fn take_unreported(&self) -> BTreeMap<(String, String), u64> {
        std::mem::take(&mut self.lock().unreported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evaluator::{Flag, User};

    fn set() -> CompiledFlagSet {
        let flags: Vec<Flag> = serde_json::from_str(
            r#"[{"key":"b","enabled":true,"rolloutPercentage":100},
                {"key":"a","enabled":false}]"#,
        )
        .unwrap();
        CompiledFlagSet::new(&flags).unwrap()
    }

    #[test]
    fn results_are_counted_by_flag_variant_and_reason_and_drained_once() {
        let compiled = set();
        let counts = EvaluationCounts::new(&compiled);
        for user in ["u1", "u2", "u3"] {
            counts.record(&compiled.evaluate_all(&User::new(user)));
        }
        let keys = ["b".to_owned(), "missing".to_owned()];
        counts.record(&compiled.evaluate_keys(&User::new("u4"), &keys));
        let totals = EvaluationTotals::default();
        counts.drain_into(&compiled, &totals);
        counts.drain_into(&compiled, &totals);
        let series: Vec<(String, String, &str, u64)> = totals
            .snapshot()
            .into_iter()
            .map(|(key, count)| (key.flag, key.variant, key.reason, count))
            .collect();
        let on_reason = compiled
            .evaluate_flag("b", &User::new("u1"))
            .unwrap()
            .reason;
        assert_eq!(
            series,
            vec![
                ("a".into(), "off".into(), "FLAG_DISABLED", 3),
                ("b".into(), "on".into(), on_reason.as_str(), 4),
            ]
        );
        let unreported: Vec<_> = totals.take_unreported().into_iter().collect();
        assert_eq!(
            unreported,
            vec![
                (("a".into(), "off".into()), 3),
                (("b".into(), "on".into()), 4)
            ]
        );
        assert!(totals.take_unreported().is_empty(), "taken once");
        counts.record(&compiled.evaluate_all(&User::new("u5")));
        counts.drain_into(&compiled, &totals);
        assert_eq!(
            totals.take_unreported().len(),
            2,
            "counted again after a take"
        );
        assert_eq!(totals.snapshot()[0].1, 4, "the totals keep growing");
    }
}
