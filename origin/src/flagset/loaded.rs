//! One environment's flag set as the read path holds it: compiled for evaluations, with the
//! snapshot JSON it came from. Built from the store's snapshot or from the shared cache's JSON;
//! no I/O here.

use std::sync::Arc;

use axum::body::Bytes;
use evaluator::{CompiledFlagSet, Environment, Flag, Segment, Snapshot};

use crate::metrics::{EvaluationCounts, EvaluationTotals};
use crate::store::{FlagSnapshot, StoreError};

/// One environment's flag set, ready to serve.
#[derive(Debug)]
pub struct LoadedFlagSet {
    pub revision: u64,
    /// The snapshot JSON, served as it is by the snapshot endpoint and stored in the shared cache.
    pub snapshot_json: Bytes,
    pub compiled: CompiledFlagSet,
    /// What this set decided, by flag, variant and reason (`GET /metrics`).
    pub counts: EvaluationCounts,
    /// Where the counts go when the set is dropped (its environment's totals); none in tests
    /// that build a set alone.
    totals: Option<Arc<EvaluationTotals>>,
}

/// A set replaced by a reload hands what it counted to the totals that outlive it.
impl Drop for LoadedFlagSet {
    fn drop(&mut self) {
        if let Some(totals) = &self.totals {
            self.counts.drain_into(&self.compiled, totals);
        }
    }
}

/// Why a shared cache entry is not used (the caller logs it and reads the store).
#[derive(Debug)]
pub enum CachedEntryError {
    Parse(serde_json::Error),
    OtherEnvironment,
}

impl LoadedFlagSet {
    /// Compiles `flags` and `segments` (the shared cache's evaluator documents, or the store's
    /// stored ones), which `json` holds at `revision`.
    pub fn new<F: AsRef<Flag>, S: AsRef<Segment>>(
        revision: u64,
        flags: &[F],
        segments: &[S],
        json: Bytes,
    ) -> Result<Self, StoreError> {
        let compiled = CompiledFlagSet::with_segments(flags, segments)
            .map_err(|e| StoreError::Corrupt(format!("flag set: {e}")))?;
        Ok(Self {
            revision,
            snapshot_json: json,
            counts: EvaluationCounts::new(&compiled),
            compiled,
            totals: None,
        })
    }

    /// Counts this set's evaluations into `totals` (its environment's) once scraped or dropped.
    pub fn counting_into(mut self, totals: Arc<EvaluationTotals>) -> Self {
        self.totals = Some(totals);
        self
    }

    /// Moves what was counted so far into the totals, for a scrape.
    pub fn drain_counts(&self) {
        if let Some(totals) = &self.totals {
            self.counts.drain_into(&self.compiled, totals);
        }
    }

    /// A shared cache entry's snapshot, whose JSON is `json`.
    pub fn from_cached(snapshot: &Snapshot, json: Bytes) -> Result<Self, StoreError> {
        Self::new(snapshot.revision, &snapshot.flags, &snapshot.segments, json)
    }

    /// What the store read: its JSON is written here, once, and served from then on.
    pub fn from_store(snapshot: &FlagSnapshot) -> Result<Self, StoreError> {
        let json = serde_json::to_vec(snapshot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Self::new(
            snapshot.revision,
            &snapshot.flags,
            &snapshot.segments,
            Bytes::from(json),
        )
    }

    /// The snapshot in a shared cache entry, if it is one of `environment`.
    pub fn parse_cached(
        json: &str,
        environment: Environment,
    ) -> Result<Snapshot, CachedEntryError> {
        let snapshot: Snapshot = serde_json::from_str(json).map_err(CachedEntryError::Parse)?;
        if snapshot.environment != environment {
            return Err(CachedEntryError::OtherEnvironment);
        }
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_entry_must_be_a_snapshot_of_the_environment() {
        let json = r#"{"environment":"prod","revision":3,"flags":[]}"#;
        let snapshot = LoadedFlagSet::parse_cached(json, Environment::Prod).unwrap();
        assert_eq!(snapshot.revision, 3);
        assert!(matches!(
            LoadedFlagSet::parse_cached(json, Environment::Dev),
            Err(CachedEntryError::OtherEnvironment)
        ));
        assert!(matches!(
            LoadedFlagSet::parse_cached("{", Environment::Prod),
            Err(CachedEntryError::Parse(_))
        ));
    }

    #[test]
    fn a_set_from_the_store_serves_the_json_it_was_read_as() {
        let snapshot = FlagSnapshot {
            environment: Environment::Dev,
            revision: 4,
            flags: vec![],
            segments: vec![],
        };
        let set = LoadedFlagSet::from_store(&snapshot).unwrap();
        assert_eq!(set.revision, 4);
        assert_eq!(
            &set.snapshot_json[..],
            br#"{"environment":"dev","revision":4,"flags":[],"segments":[]}"#
        );
    }

    #[test]
    fn a_cached_snapshot_evaluates_with_its_segments() {
        let json = r#"{"environment":"prod","revision":2,
            "flags":[{"key":"k","enabled":true,"rules":[{"segment":"beta"}]}],
            "segments":[{"key":"beta","include":["u1"]}]}"#;
        let snapshot = LoadedFlagSet::parse_cached(json, Environment::Prod).unwrap();
        let set = LoadedFlagSet::from_cached(&snapshot, Bytes::from(json)).unwrap();
        let decide = |user: &str| {
            set.compiled
                .evaluate_flag("k", &evaluator::User::new(user))
                .map(|result| result.enabled)
        };
        assert_eq!((decide("u1"), decide("u2")), (Some(true), Some(false)));
    }
}
