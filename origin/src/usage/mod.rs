//! Flag usage: how often each flag was evaluated, per variant, over the last 24 hours, and when it
//! was last evaluated, across every origin and edge worker (`docs/metrics.md`, "Flag usage").
//!
//! Nothing is written per evaluation. This origin's evaluations are counted by the sets that make
//! them (`metrics::EvaluationCounts`, shared with `/metrics`); every `USAGE_FLUSH_SECONDS` the
//! counts made since the last batch are gathered, with what edge workers reported
//! (`POST /api/usage`) in between, into one batch that the store adds to its hourly rows in one
//! transaction. A batch the store refuses is kept for the next (bounded: [`PENDING_LIMIT`]), so a
//! store outage loses counts only past that bound, and never an evaluation.

mod pending;
mod report;
mod stale;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::DateTime;
use evaluator::{CompiledFlagSet, Environment};
use serde::Serialize;

use self::pending::{hour_of, Count, Pending, HOUR_MS};
pub use self::report::{Report, ReportError};
pub use self::stale::StaleFor;
use crate::flagset::FlagSets;
use crate::store::{StoreError, StoredUsage, UsageQuery, UsageStore, UsageTable};

/// Series (a flag's variant within an hour) held between batches, at most. A thousand flags of
/// three variants evaluated every hour of a day is 72,000.
pub const PENDING_LIMIT: usize = 200_000;

/// The window of the counts read back: the current hour and the 23 before it.
const WINDOW_HOURS: i64 = 24;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The first hour of the window at `now`.
fn window_start(now: i64) -> i64 {
    hour_of(now) - (WINDOW_HOURS - 1) * HOUR_MS
}

fn timestamp(ms: i64) -> Option<String> {
    DateTime::from_timestamp_millis(ms).map(crate::store::timestamp)
}

/// A flag's usage as the admin API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagUsage {
    /// Evaluations per variant since `windowStart`; a variant never evaluated there is absent.
    pub last24h: BTreeMap<String, u64>,
    /// The start of the first hour counted (the window is the current hour and the 23 before).
    pub window_start: String,
    /// When the flag was last evaluated, by any origin or edge worker; `null` when never (or not
    /// since usage was first kept).
    pub last_evaluated_at: Option<String>,
}

/// Usage as read for some flags, at one time.
#[derive(Debug)]
pub struct UsageView {
    table: UsageTable,
    now: i64,
}

impl UsageView {
    /// The usage of `flag` in `environment` (empty when it has none).
    pub fn of(&self, environment: Environment, flag: &str) -> FlagUsage {
        let stored = self.stored(environment, flag);
        FlagUsage {
            last24h: stored.map(|s| s.variants.clone()).unwrap_or_default(),
            window_start: timestamp(window_start(self.now)).unwrap_or_default(),
            last_evaluated_at: stored.and_then(|s| s.last_evaluated_at).and_then(timestamp),
        }
    }

    /// Whether `flag` has not been evaluated for `stale` (or never).
    pub fn is_stale(&self, environment: Environment, flag: &str, stale: StaleFor) -> bool {
        let last = self
            .stored(environment, flag)
            .and_then(|s| s.last_evaluated_at);
        stale.holds(last, self.now)
    }

    fn stored(&self, environment: Environment, flag: &str) -> Option<&StoredUsage> {
        // The table is small per query (the flags listed); a lookup needs an owned key.
        self.table.get(&(environment, flag.to_owned()))
    }
}

/// What `POST /api/usage` did with a report's entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// Added to the next batch.
    pub accepted: usize,
    /// Naming a flag or a variant the environment does not have (deleted since, or a typo).
    pub ignored: usize,
    /// Not added: the origin holds too much usage it could not write yet.
    pub dropped: usize,
}

/// How the batches went, for `GET /metrics`.
#[derive(Debug, Default)]
struct Outcomes {
    written: AtomicU64,
    failed: AtomicU64,
    /// Evaluations never counted because too much was held (the store down for long).
    lost: AtomicU64,
}

/// What `GET /metrics` shows of flag usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageTotals {
    pub batches_written: u64,
    pub batches_failed: u64,
    pub lost_evaluations: u64,
    pub pending_series: usize,
}

/// Usage gathered between batches, and where batches go.
#[derive(Debug)]
pub struct Usage {
    store: Arc<dyn UsageStore>,
    flags: Arc<FlagSets>,
    /// Whether this origin counts its own evaluations (`METRICS=on`).
    counting: bool,
    pending: Mutex<Pending>,
    outcomes: Outcomes,
}

impl Usage {
    pub fn new(store: Arc<dyn UsageStore>, flags: Arc<FlagSets>, counting: bool) -> Self {
        Self {
            store,
            flags,
            counting,
            pending: Mutex::new(Pending::new(PENDING_LIMIT)),
            outcomes: Outcomes::default(),
        }
    }

    fn pending(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lost(&self, evaluations: u64) {
        if evaluations > 0 {
            self.outcomes.lost.fetch_add(evaluations, Ordering::Relaxed);
            tracing::warn!(
                evaluations,
                "flag usage: evaluations not counted (too much held for the store)"
            );
        }
    }

    pub fn totals(&self) -> UsageTotals {
        UsageTotals {
            batches_written: self.outcomes.written.load(Ordering::Relaxed),
            batches_failed: self.outcomes.failed.load(Ordering::Relaxed),
            lost_evaluations: self.outcomes.lost.load(Ordering::Relaxed),
            pending_series: self.pending().len(),
        }
    }

    /// Adds a report's entries that name a flag and variant of `set` (the environment's current
    /// set) to the next batch.
    pub fn add_report(&self, report: &Report, set: &CompiledFlagSet) -> Accepted {
        let mut result = Accepted::default();
        let mut lost = 0;
        let mut pending = self.pending();
        for entry in &report.entries {
            let known = set
                .variants_of(&entry.flag)
                .is_some_and(|variants| variants.find(&entry.variant).is_some());
            if !known {
                result.ignored += 1;
                continue;
            }
            let added = pending.add(Count {
                environment: report.environment,
                flag: &entry.flag,
                variant: &entry.variant,
                evaluations: entry.count,
                at: entry.last_evaluated_at,
            });
            if added {
                result.accepted += 1;
            } else {
                result.dropped += 1;
                lost += entry.count;
            }
        }
        drop(pending);
        self.lost(lost);
        result
    }

    /// Writes everything gathered since the last batch (this origin's evaluations first) in one
    /// batch. On failure what was taken is held for the next one.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let now = now_ms();
        let (taken, lost) = {
            let mut pending = self.pending();
            let lost = if self.counting {
                self.gather_own(&mut pending, now)
            } else {
                0
            };
            (pending.take(), lost)
        };
        self.lost(lost);
        if taken.is_empty() {
            return Ok(());
        }
        let batch = taken.batch(window_start(now) - HOUR_MS);
        match self.store.add_usage(&batch).await {
            Ok(()) => {
                self.outcomes.written.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(err) => {
                self.outcomes.failed.fetch_add(1, Ordering::Relaxed);
                let lost = self.pending().restore(taken);
                self.lost(lost);
                Err(err)
            }
        }
    }

    /// This origin's evaluations since the last batch, as made now; returns the evaluations that
    /// did not fit.
    fn gather_own(&self, pending: &mut Pending, now: i64) -> u64 {
        let mut lost = 0u64;
        for environment in Environment::ALL {
            for ((flag, variant), evaluations) in
                self.flags.take_unreported_evaluations(environment)
            {
                let count = Count {
                    environment,
                    flag: &flag,
                    variant: &variant,
                    evaluations,
                    at: now,
                };
                if !pending.add(count) {
                    lost += evaluations;
                }
            }
        }
        lost
    }

    /// Writes a batch every `interval`, for as long as the runtime runs.
    pub async fn flush_periodically(self: Arc<Self>, interval: Duration) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if let Err(err) = self.flush().await {
                tracing::warn!(%err, "flag usage not written; kept for the next batch");
            }
        }
    }

    /// The stored usage of every flag of `environment` (or of every environment), or of one key.
    pub async fn read(
        &self,
        environment: Option<Environment>,
        flag: Option<&str>,
    ) -> Result<UsageView, StoreError> {
        let now = now_ms();
        let table = self
            .store
            .usage(UsageQuery {
                environment,
                flag,
                since_hour: window_start(now),
            })
            .await?;
        Ok(UsageView { table, now })
    }
}
