//! Usage gathered since the last batch was written: counts per flag, variant and hour, and each
//! flag's latest evaluation. Pure: the clock and the store are the caller's.

use std::collections::BTreeMap;

use evaluator::Environment;

use crate::store::{HourlyCount, LastEvaluated, UsageBatch};

pub const HOUR_MS: i64 = 3_600_000;

/// The start of the hour `at` falls in (milliseconds since the Unix epoch).
pub fn hour_of(at: i64) -> i64 {
    at.div_euclid(HOUR_MS) * HOUR_MS
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct CountKey {
    environment: Environment,
    flag: String,
    variant: String,
    hour: i64,
}

/// What is waiting for the next batch, bounded: past `limit` series, counts of series it does not
/// hold yet are refused (the caller says so), so a store that stays down cannot take the memory.
#[derive(Debug)]
pub struct Pending {
    counts: BTreeMap<CountKey, u64>,
    last: BTreeMap<(Environment, String), i64>,
    limit: usize,
}

/// One evaluation count to add.
#[derive(Debug, Clone, Copy)]
pub struct Count<'a> {
    pub environment: Environment,
    pub flag: &'a str,
    pub variant: &'a str,
    pub evaluations: u64,
    /// When the last of them was made (milliseconds since the Unix epoch).
    pub at: i64,
}

impl Pending {
    pub fn new(limit: usize) -> Self {
        Self {
            counts: BTreeMap::new(),
            last: BTreeMap::new(),
            limit,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.last.is_empty()
    }

    /// Series held (a flag's variant within one hour).
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Adds `count`, in the hour of its `at`; false (nothing added) when it would be a new series
    /// past the limit.
    pub fn add(&mut self, count: Count<'_>) -> bool {
        if count.evaluations == 0 {
            return true;
        }
        let key = CountKey {
            environment: count.environment,
            flag: count.flag.to_owned(),
            variant: count.variant.to_owned(),
            hour: hour_of(count.at),
        };
        let full = self.counts.len() >= self.limit;
        match self.counts.get_mut(&key) {
            Some(total) => *total = total.saturating_add(count.evaluations),
            None if full => return false,
            None => {
                self.counts.insert(key, count.evaluations);
            }
        }
        let last = self
            .last
            .entry((count.environment, count.flag.to_owned()))
            .or_insert(count.at);
        *last = (*last).max(count.at);
        true
    }

    /// Everything held, and nothing left here.
    pub fn take(&mut self) -> Self {
        std::mem::replace(self, Self::new(self.limit))
    }

    /// Puts back what a failed write took (within the limit; what does not fit is counted in the
    /// return value, lost).
    pub fn restore(&mut self, taken: Self) -> u64 {
        let mut lost = 0;
        let Self { counts, last, .. } = taken;
        for (key, evaluations) in counts {
            let at = last
                .get(&(key.environment, key.flag.clone()))
                .copied()
                .unwrap_or(key.hour)
                .clamp(key.hour, key.hour + HOUR_MS - 1);
            let count = Count {
                environment: key.environment,
                flag: &key.flag,
                variant: &key.variant,
                evaluations,
                at,
            };
            if !self.add(count) {
                lost += evaluations;
            }
        }
        lost
    }

    /// The batch that writes what is held (sorted, each key once), deleting hours before
    /// `keep_from_hour`.
    pub fn batch(&self, keep_from_hour: i64) -> UsageBatch {
        UsageBatch {
            counts: self
                .counts
                .iter()
                .filter(|(key, _)| key.hour >= keep_from_hour)
                .map(|(key, &evaluations)| HourlyCount {
                    environment: key.environment,
                    flag: key.flag.clone(),
                    variant: key.variant.clone(),
                    hour: key.hour,
                    evaluations,
                })
                .collect(),
            last_evaluated: self
                .last
                .iter()
                .map(|((environment, flag), &at)| LastEvaluated {
                    environment: *environment,
                    flag: flag.clone(),
                    at,
                })
                .collect(),
            keep_from_hour,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(flag: &str, variant: &str, evaluations: u64, at: i64) -> Count<'static> {
        Count {
            environment: Environment::Prod,
            flag: Box::leak(flag.to_owned().into_boxed_str()),
            variant: Box::leak(variant.to_owned().into_boxed_str()),
            evaluations,
            at,
        }
    }

    #[test]
    fn hours_start_on_the_hour_also_before_1970() {
        assert_eq!(hour_of(0), 0);
        assert_eq!(hour_of(HOUR_MS - 1), 0);
        assert_eq!(hour_of(HOUR_MS), HOUR_MS);
        assert_eq!(hour_of(-1), -HOUR_MS);
    }

    #[test]
    fn counts_add_up_per_hour_and_the_last_evaluation_is_the_latest() {
        let mut pending = Pending::new(10);
        assert!(pending.add(count("a", "on", 2, 10)));
        assert!(pending.add(count("a", "on", 3, 5)));
        assert!(pending.add(count("a", "on", 1, HOUR_MS + 7)));
        assert!(
            pending.add(count("a", "off", 0, 3 * HOUR_MS)),
            "nothing to add"
        );
        let batch = pending.batch(0);
        let counts: Vec<(i64, u64)> = batch
            .counts
            .iter()
            .map(|c| (c.hour, c.evaluations))
            .collect();
        assert_eq!(counts, vec![(0, 5), (HOUR_MS, 1)]);
        assert_eq!(batch.last_evaluated.len(), 1);
        assert_eq!(batch.last_evaluated[0].at, HOUR_MS + 7);
        assert_eq!(pending.batch(HOUR_MS).counts.len(), 1, "old hours left out");
    }

    #[test]
    fn a_full_pending_refuses_new_series_but_adds_to_held_ones() {
        let mut pending = Pending::new(1);
        assert!(pending.add(count("a", "on", 1, 0)));
        assert!(!pending.add(count("b", "on", 1, 0)));
        assert!(pending.add(count("a", "on", 1, 0)));
        assert_eq!(pending.len(), 1);
        assert_eq!(pending.batch(0).counts[0].evaluations, 2);
    }

    #[test]
    fn what_a_failed_write_took_is_put_back_and_added_to() {
        let mut pending = Pending::new(2);
        pending.add(count("a", "on", 4, 100));
        let taken = pending.take();
        assert!(pending.is_empty());
        pending.add(count("a", "on", 1, 200));
        pending.add(count("b", "on", 1, 200));
        pending.add(count("c", "x", 0, 0));
        assert_eq!(pending.restore(taken), 0);
        let batch = pending.batch(0);
        assert_eq!(batch.counts[0].evaluations, 5);
        assert_eq!(batch.last_evaluated[0].at, 200);
        let mut full = Pending::new(1);
        full.add(count("z", "on", 1, 0));
        let mut other = Pending::new(1);
        other.add(count("y", "on", 7, 0));
        assert_eq!(
            full.restore(other),
            7,
            "what does not fit is lost, and said so"
        );
    }
}
