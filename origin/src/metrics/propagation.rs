//! The lag from a write's commit (on any origin) to this origin serving it: a histogram per
//! environment.
//!
//! A change message carries the writer's wall-clock time of the commit (`committedAtMs`, see
//! [`crate::change`]); when the message makes this origin reload a set it holds, the time is kept
//! until a set at least that new is installed, and the difference observed then. Messages from
//! origins older than this field carry no time and are not observed; nor are this origin's own
//! writes (it drops its copy before the write answers: the next request loads it). The two
//! clocks are different hosts' when the writer is another origin: skew adds to (or is clamped
//! from) the figure.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use evaluator::Environment;

/// Upper bounds in seconds: from a message on the same host (a millisecond) to a revalidation.
pub const LAG_BOUNDS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Changes heard but not yet served, per revision, at most this many per environment (a
/// reload that never comes must not grow it without bound).
const MAX_PENDING: usize = 64;

#[derive(Debug, Default)]
struct EnvironmentLag {
    pending: Mutex<BTreeMap<u64, SystemTime>>,
    /// One per bound and one above them all.
    buckets: [AtomicU64; LAG_BOUNDS.len() + 1],
    sum_nanos: AtomicU64,
}

#[derive(Debug, Default)]
pub struct PropagationLag {
    environments: [EnvironmentLag; 3],
}

/// One environment's histogram, as scraped: per bucket (not cumulative), the last `f64::MAX`.
#[derive(Debug, Clone, PartialEq)]
pub struct LagSeries {
    pub environment: Environment,
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

fn index(environment: Environment) -> usize {
    match environment {
        Environment::Dev => 0,
        Environment::Staging => 1,
        Environment::Prod => 2,
    }
}

impl PropagationLag {
    /// A message says `revision` of `environment` committed at `committed_at`, and a reload
    /// started. The first time heard for a revision is kept (the other channel's copy is later).
    pub fn heard(&self, environment: Environment, revision: u64, committed_at: SystemTime) {
        let lag = &self.environments[index(environment)];
        let mut pending = lag.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.entry(revision).or_insert(committed_at);
        while pending.len() > MAX_PENDING {
            pending.pop_first();
        }
    }

    /// A set at `revision` is served now: every change up to it has arrived.
    pub fn served(&self, environment: Environment, revision: u64) {
        let lag = &self.environments[index(environment)];
        let arrived: Vec<SystemTime> = {
            let mut pending = lag.pending.lock().unwrap_or_else(PoisonError::into_inner);
            let later = pending.split_off(&(revision + 1));
            std::mem::replace(&mut *pending, later)
                .into_values()
                .collect()
        };
        let now = SystemTime::now();
        for committed_at in arrived {
            // A writer's clock ahead of this one's counts as no lag, not a negative one.
            let elapsed = now.duration_since(committed_at).unwrap_or(Duration::ZERO);
            let seconds = elapsed.as_secs_f64();
            let bucket = LAG_BOUNDS
                .iter()
                .position(|&bound| seconds <= bound)
                .unwrap_or(LAG_BOUNDS.len());
            lag.buckets[bucket].fetch_add(1, Ordering::Relaxed);
            let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
            lag.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        }
    }

    /// The environments with at least one observation.
    pub fn series(&self) -> Vec<LagSeries> {
        Environment::ALL
            .into_iter()
            .filter_map(|environment| {
                let lag = &self.environments[index(environment)];
                let counts: Vec<u64> = lag
                    .buckets
                    .iter()
                    .map(|bucket| bucket.load(Ordering::Relaxed))
                    .collect();
                let count: u64 = counts.iter().sum();
                (count > 0).then(|| LagSeries {
                    environment,
                    buckets: LAG_BOUNDS
                        .iter()
                        .chain([&f64::MAX])
                        .copied()
                        .zip(counts)
                        .collect(),
                    count,
                    sum_seconds: lag.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_observed_once_when_a_set_at_least_as_new_is_served() {
        let lag = PropagationLag::default();
        let now = SystemTime::now();
        lag.heard(Environment::Prod, 5, now - Duration::from_millis(30));
        // The other channel's copy of the same message.
        lag.heard(Environment::Prod, 5, now);
        lag.heard(Environment::Prod, 7, now + Duration::from_secs(60));
        lag.served(Environment::Prod, 4);
        assert!(lag.series().is_empty());
        lag.served(Environment::Prod, 6);
        lag.served(Environment::Prod, 6);
        let series = lag.series();
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].count, 1);
        assert!(series[0].sum_seconds >= 0.03, "{series:?}");
        // 30 ms and a little: within 50 ms.
        let at = |bound: f64| {
            series[0]
                .buckets
                .iter()
                .find(|(b, _)| *b == bound)
                .unwrap()
                .1
        };
        assert_eq!((at(0.025), at(0.05)), (0, 1));
        // A writer's clock ahead of this one's: no lag.
        lag.served(Environment::Prod, 7);
        let series = lag.series();
        assert_eq!((series[0].count, series[0].buckets[0].1), (2, 1));
    }
}
