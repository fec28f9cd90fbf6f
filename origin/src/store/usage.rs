//! Flag usage as the store keeps it: evaluations per flag, variant and hour, and each flag's last
//! evaluation (`crate::usage` gathers them and reads them back). Every origin adds its batches to
//! the same rows, so the counts of several origins and edge workers add up in the store.

use std::collections::BTreeMap;

use async_trait::async_trait;
use evaluator::Environment;

use super::StoreError;

/// Evaluations of one variant of one flag, counted within one hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourlyCount {
    pub environment: Environment,
    pub flag: String,
    pub variant: String,
    /// The start of the hour, in milliseconds since the Unix epoch.
    pub hour: i64,
    pub evaluations: u64,
}

/// The latest evaluation of a flag in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEvaluated {
    pub environment: Environment,
    pub flag: String,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
}

/// One batch of usage, written in one transaction. Each list is sorted and holds each key once,
/// so batches from several origins lock the rows they share in the same order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageBatch {
    pub counts: Vec<HourlyCount>,
    pub last_evaluated: Vec<LastEvaluated>,
    /// Hours that start before this are deleted with the batch (they have left the window).
    pub keep_from_hour: i64,
}

/// What usage to read: every flag (of one environment, or of all), or one key.
#[derive(Debug, Clone, Copy)]
pub struct UsageQuery<'a> {
    pub environment: Option<Environment>,
    pub flag: Option<&'a str>,
    /// Counts of the hours that start at or after this.
    pub since_hour: i64,
}

/// One flag's usage, as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredUsage {
    /// Evaluations per variant name since the query's hour; variants never evaluated are absent.
    pub variants: BTreeMap<String, u64>,
    /// Milliseconds since the Unix epoch; `None` when never evaluated.
    pub last_evaluated_at: Option<i64>,
}

/// Usage by environment and flag key.
pub type UsageTable = BTreeMap<(Environment, String), StoredUsage>;

#[async_trait]
pub trait UsageStore: Send + Sync + std::fmt::Debug {
    /// Adds the batch's counts to the stored ones, moves each flag's last evaluation forward
    /// (never back) and deletes the hours before `keep_from_hour`, in one transaction.
    async fn add_usage(&self, batch: &UsageBatch) -> Result<(), StoreError>;
    /// The usage the query names; flags with no row are absent.
    async fn usage(&self, query: UsageQuery<'_>) -> Result<UsageTable, StoreError>;
}
