//! The read path: each environment's compiled flag set, at three levels.
//!
//! An in-process copy (compiled, ready to evaluate, swapped under a lock), the shared cache (Redis
//! or memory, snapshot JSON with a TTL), and the store. A warm origin answers from the in-process
//! copy with no network I/O at all; it learns of writes from three places, none on the hot path:
//!
//! - its own writes: [`FlagSets::invalidate`] drops the copy before the write answers, so the next
//!   evaluation here loads the new set (read-your-writes);
//! - other origins' writes: a change message ([`crate::invalidation`]) newer than the copy makes
//!   [`FlagSets::on_change`] reload it in the background, while requests keep the copy in hand;
//! - anything missed: the background revalidation compares revisions with the store.
//!
//! Each of those raises the revision this origin knows the environment to be at, and each rise is
//! announced, once this origin serves it, on a `watch` per environment ([`FlagSets::watch`]), which
//! the change streams follow
//! (`crate::stream`): they are fed by exactly what keeps the read path fresh, and nothing on the
//! evaluation path touches the watch.
//!
//! The rules (the revision floor, what may be installed, what a change does) are in [`slot`], with
//! no I/O; this module performs what they decide: the loads, the shared cache's reads and fills,
//! the background reloads.

mod loaded;
mod slot;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use axum::body::Bytes;
use evaluator::Environment;

use self::loaded::CachedEntryError;
pub use self::loaded::LoadedFlagSet;
pub use self::slot::UnreadableRows;
use self::slot::{CachedSet, LoadStart, SlotState};
use crate::cache::{CacheError, FlagCache};
use crate::change::Change;
use crate::metrics::{EvaluationTotals, PropagationLag, SeriesKey, ShardedCounters};
use crate::revision::Revision;
use crate::store::{ReadStore, StoreError, StoredSnapshot};

/// How many loads a background reload tries before leaving the rest to the revalidation.
const RELOAD_ATTEMPTS: usize = 3;

#[derive(Debug, Default)]
struct Slot {
    state: RwLock<SlotState>,
    /// One load at a time per environment: concurrent misses wait and reuse its result.
    reload: tokio::sync::Mutex<()>,
    /// [`SlotState::known`], for the change streams ([`FlagSets::watch`]). Sent to only when it
    /// rises, by the writes, change messages and loads that raise it: never on an evaluation.
    known: tokio::sync::watch::Sender<u64>,
}

impl Slot {
    /// A poisoned lock only means another thread panicked holding it; the state is still valid
    /// (its methods do not panic, and each leaves it consistent).
    fn read(&self) -> RwLockReadGuard<'_, SlotState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`SlotState::install`], announced.
    fn install(&self, set: &Arc<LoadedFlagSet>) -> bool {
        let mut state = self.write();
        let installed = state.install(set);
        if installed {
            self.announce(&state);
        }
        installed
    }

    /// [`SlotState::written`], announced.
    fn written(&self, revision: u64) {
        let mut state = self.write();
        state.written(revision);
        self.announce(&state);
    }

    fn write(&self) -> RwLockWriteGuard<'_, SlotState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells the streams watching when the state's known revision rose (a no-op otherwise, and
    /// nearly free with no stream watching). Called with the state's lock held, so that two
    /// announcements cannot overtake each other.
    fn announce(&self, state: &SlotState) {
        let known = state.known();
        self.known.send_if_modified(|announced| {
            let rose = known > *announced;
            if rose {
                *announced = known;
            }
            rose
        });
    }
}

#[derive(Debug)]
pub struct FlagSets {
    store: Arc<dyn ReadStore>,
    cache: Arc<dyn FlagCache>,
    ttl: Duration,
    slots: [Slot; 3],
    loads: AtomicU64,
    read_path: ReadPathCounts,
}

/// The read path's counts per environment (`GET /metrics`).
#[derive(Debug)]
struct ReadPathCounts {
    /// Answered from the in-process copy: once per request, so sharded by thread.
    held: ShardedCounters,
    cache_hits: [AtomicU64; 3],
    cache_misses: [AtomicU64; 3],
    store_loads: [AtomicU64; 3],
    store_failures: [AtomicU64; 3],
    evaluations: [Arc<EvaluationTotals>; 3],
    propagation: PropagationLag,
}

/// One environment's read-path counts, as scraped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadPathTotals {
    pub in_process_hits: u64,
    pub shared_cache_hits: u64,
    pub shared_cache_misses: u64,
    pub store_loads: u64,
    pub store_load_failures: u64,
}

/// A failure on a Redis already known to be down was logged when the circuit opened: debug only.
fn log_cache_error(err: &CacheError, environment: Environment, what: &str) {
    if matches!(err, CacheError::CircuitOpen) {
        tracing::debug!(%err, environment = environment.as_str(), "{what}");
    } else {
        tracing::warn!(%err, environment = environment.as_str(), "{what}");
    }
}

fn index(environment: Environment) -> usize {
    match environment {
        Environment::Dev => 0,
        Environment::Staging => 1,
        Environment::Prod => 2,
    }
}

impl FlagSets {
    pub fn new(store: Arc<dyn ReadStore>, cache: Arc<dyn FlagCache>, ttl: Duration) -> Self {
        Self {
            store,
            cache,
            ttl,
            slots: Default::default(),
            loads: AtomicU64::new(0),
            read_path: ReadPathCounts {
                held: ShardedCounters::new(3),
                cache_hits: Default::default(),
                cache_misses: Default::default(),
                store_loads: Default::default(),
                store_failures: Default::default(),
                evaluations: Default::default(),
                propagation: PropagationLag::default(),
            },
        }
    }

    /// The environment's read-path counts since start.
    pub fn read_path_totals(&self, environment: Environment) -> ReadPathTotals {
        let i = index(environment);
        let counts = &self.read_path;
        ReadPathTotals {
            in_process_hits: counts.held.get(i),
            shared_cache_hits: counts.cache_hits[i].load(Ordering::Relaxed),
            shared_cache_misses: counts.cache_misses[i].load(Ordering::Relaxed),
            store_loads: counts.store_loads[i].load(Ordering::Relaxed),
            store_load_failures: counts.store_failures[i].load(Ordering::Relaxed),
        }
    }

    /// The lag from other origins' commits to this origin serving them.
    pub fn propagation_lag(&self) -> &PropagationLag {
        &self.read_path.propagation
    }

    /// The environment's evaluations since start by flag, variant and reason: the held set's
    /// counts are moved into the totals first.
    pub fn evaluation_totals(&self, environment: Environment) -> Vec<(SeriesKey, u64)> {
        self.drain_held_counts(environment);
        self.read_path.evaluations[index(environment)].snapshot()
    }

    /// The environment's evaluations by (flag, variant) since the last call (flag usage).
    pub fn take_unreported_evaluations(
        &self,
        environment: Environment,
    ) -> BTreeMap<(String, String), u64> {
        self.drain_held_counts(environment);
        self.read_path.evaluations[index(environment)].take_unreported()
    }

    fn drain_held_counts(&self, environment: Environment) {
        let held = self.slot(environment).read().held().cloned();
        if let Some(set) = held {
            set.drain_counts();
        }
    }

    /// How many times a flag set was read from the store (for tests and diagnostics).
    pub fn store_loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    fn slot(&self, environment: Environment) -> &Slot {
        &self.slots[index(environment)]
    }

    /// The revision of the in-process copy, if there is one.
    pub fn held_revision(&self, environment: Environment) -> Option<u64> {
        self.slot(environment).read().held().map(|set| set.revision)
    }

    /// The newest revision this origin knows `environment` to be at, as a `watch` that changes
    /// each time it rises: a write here ([`Self::invalidate`]), a change message or revalidation
    /// ([`Self::on_change`]), or a load of a newer set. What a change stream follows; its value
    /// is 0 until anything is known (load the set first to know where it stands).
    pub fn watch(&self, environment: Environment) -> tokio::sync::watch::Receiver<u64> {
        self.slot(environment).known.subscribe()
    }

    /// The environment's flag set: in-process, else the shared cache, else the store.
    pub async fn get(&self, environment: Environment) -> Result<Arc<LoadedFlagSet>, StoreError> {
        let held = self.slot(environment).read().held().cloned();
        match held {
            Some(set) => {
                self.read_path.held.add(index(environment), 1);
                Ok(set)
            }
            None => self.load(environment).await,
        }
    }

    /// Loads the environment from the shared cache or the store, one load at a time: whoever
    /// waited for another's load finds its result installed.
    async fn load(&self, environment: Environment) -> Result<Arc<LoadedFlagSet>, StoreError> {
        let slot = self.slot(environment);
        let _loading = slot.reload.lock().await;
        let start = slot.read().start_load();
        if let Some(set) = start.done() {
            return Ok(Arc::clone(set));
        }
        if let Some(set) = self.read_cache(environment, &start).await {
            if slot.install(&set) {
                self.read_path.propagation.served(environment, set.revision);
                return Ok(set);
            }
        }
        match self.read_store(environment).await {
            Ok(set) => {
                if slot.install(&set) {
                    self.read_path.propagation.served(environment, set.revision);
                    self.fill_cache(environment, &set).await;
                }
                Ok(set)
            }
            // The store is down but this origin still holds the latest set it knew: keep serving.
            Err(err @ StoreError::Unavailable(_)) => match start.fallback() {
                Some(set) => {
                    tracing::warn!(%err, "store unavailable; serving the last flag set");
                    Ok(set)
                }
                None => Err(err),
            },
            Err(err) => Err(err),
        }
    }

    /// The shared cache's set, when it is worth installing (see [`LoadStart::judge_cached`]).
    async fn read_cache(
        &self,
        environment: Environment,
        start: &LoadStart,
    ) -> Option<Arc<LoadedFlagSet>> {
        let i = index(environment);
        let json = match self.cache.get(environment).await {
            Ok(Some(json)) => {
                self.read_path.cache_hits[i].fetch_add(1, Ordering::Relaxed);
                json
            }
            Ok(None) => {
                self.read_path.cache_misses[i].fetch_add(1, Ordering::Relaxed);
                return None;
            }
            Err(err) => {
                tracing::debug!(%err, "cache unavailable; reading the store");
                return None;
            }
        };
        let snapshot = match LoadedFlagSet::parse_cached(&json, environment) {
            Ok(snapshot) => snapshot,
            Err(CachedEntryError::Parse(err)) => {
                tracing::warn!(%err, "cached flag set does not parse; reading the store");
                return None;
            }
            Err(CachedEntryError::OtherEnvironment) => {
                tracing::warn!("cached flag set is for another environment; reading the store");
                return None;
            }
        };
        match start.judge_cached(snapshot.revision) {
            CachedSet::Held(set) => Some(set),
            CachedSet::Stale => None,
            CachedSet::Newer => match LoadedFlagSet::from_cached(&snapshot, Bytes::from(json)) {
                Ok(set) => Some(Arc::new(
                    set.counting_into(Arc::clone(&self.read_path.evaluations[i])),
                )),
                Err(err) => {
                    tracing::warn!(%err, "cached flag set does not compile; reading the store");
                    None
                }
            },
        }
    }

    async fn read_store(&self, environment: Environment) -> Result<Arc<LoadedFlagSet>, StoreError> {
        let i = index(environment);
        self.loads.fetch_add(1, Ordering::Relaxed);
        self.read_path.store_loads[i].fetch_add(1, Ordering::Relaxed);
        let stored = match self.store.load_snapshot(environment).await {
            Ok(stored) => stored,
            Err(err) => {
                self.read_path.store_failures[i].fetch_add(1, Ordering::Relaxed);
                return Err(err);
            }
        };
        self.slot(environment)
            .write()
            .record_unreadable(stored.snapshot.revision, unreadable_rows(&stored));
        let set = LoadedFlagSet::from_store(&stored.snapshot)?;
        Ok(Arc::new(
            set.counting_into(Arc::clone(&self.read_path.evaluations[i])),
        ))
    }

    /// Puts a set just installed from the store into the shared cache, which refuses it if told of
    /// a newer revision meanwhile (another origin's write).
    async fn fill_cache(&self, environment: Environment, set: &LoadedFlagSet) {
        let json = String::from_utf8_lossy(&set.snapshot_json);
        match self
            .cache
            .put(environment, &json, set.revision, self.ttl)
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::debug!(
                environment = environment.as_str(),
                "cache refused an older set"
            ),
            Err(err) => tracing::debug!(%err, "cache fill failed"),
        }
    }

    /// The flags and segments the store holds but cannot read, in every environment, as of the
    /// store's current revisions: an environment whose last full read is older (or was never read
    /// here, e.g. only from the shared cache) is read from the store again, so this costs one small
    /// query while nothing changes. On a store error, what the last reads found.
    pub async fn unreadable_rows(&self) -> UnreadableRows {
        if let Err(err) = self.check_unreadable().await {
            tracing::debug!(%err, "unreadable rows not checked: store unavailable");
        }
        let mut all = UnreadableRows::default();
        for environment in Environment::ALL {
            if let Some(rows) = self.slot(environment).read().unreadable() {
                all.flags.extend_from_slice(&rows.flags);
                all.segments.extend_from_slice(&rows.segments);
            }
        }
        all
    }

    async fn check_unreadable(&self) -> Result<(), StoreError> {
        for Revision {
            environment,
            revision,
        } in self.store.revisions().await?
        {
            let known = self.slot(environment).read().unreadable_as_of();
            if known != Some(revision) {
                let stored = self.store.load_snapshot(environment).await?;
                self.slot(environment)
                    .write()
                    .record_unreadable(stored.snapshot.revision, unreadable_rows(&stored));
            }
        }
        Ok(())
    }

    /// Called after a write committed, before it answers, with each environment it changed and the
    /// revision that environment is at now.
    ///
    /// The in-process copy is dropped and the floor raised first, so that a load that read the
    /// store ahead of the commit can neither install nor publish its result; then the shared cache
    /// drops anything older (and refuses it from now on); then the in-process copy is dropped
    /// again, in case a reader installed the old shared entry in between; then the other origins
    /// are told. If Redis cannot be reached, the floor still keeps this origin from serving the old
    /// set, and the others find the write through their revalidation.
    pub async fn invalidate(&self, revisions: &[Revision]) {
        for &change in revisions {
            let Revision {
                environment,
                revision,
            } = change;
            self.slot(environment).written(revision);
            if let Err(err) = self.cache.invalidate(environment, revision).await {
                log_cache_error(&err, environment, "cache invalidation failed");
            }
            self.slot(environment).written(revision);
            if let Err(err) = self.cache.publish(Change::Environment(change)).await {
                log_cache_error(&err, environment, "change not published");
            }
        }
    }

    /// Another origin (or the store) says an environment is at a revision. Raises the floor and,
    /// when the copy held is older, reloads it in the background; requests keep the copy in hand
    /// meanwhile. Returns whether this was news (newer than anything known here).
    pub fn on_change(self: &Arc<Self>, change: Revision) -> bool {
        self.on_change_committed(change, None)
    }

    /// [`Self::on_change`] for a change message that says when its write committed: the time is
    /// kept until the reload it starts is served, for the propagation lag.
    pub fn on_change_committed(
        self: &Arc<Self>,
        change: Revision,
        committed_at: Option<std::time::SystemTime>,
    ) -> bool {
        let environment = change.environment;
        let slot = self.slot(environment);
        let heard = {
            let mut state = slot.write();
            let heard = state.heard(change.revision);
            // Streams are told once this origin serves the change: a copy held is replaced by
            // the reload, whose install announces it (a snapshot fetched on an earlier event
            // would be the old one); with no copy held, the next read loads it, so at once.
            if state.held_revision().is_none() {
                slot.announce(&state);
            }
            heard
        };
        if heard.start_reload {
            if let Some(committed_at) = committed_at {
                self.read_path
                    .propagation
                    .heard(environment, change.revision, committed_at);
            }
            let sets = Arc::clone(self);
            tokio::spawn(async move { sets.reload_in_background(environment).await });
        }
        heard.news
    }

    async fn reload_in_background(self: Arc<Self>, environment: Environment) {
        let slot = self.slot(environment);
        for _ in 0..RELOAD_ATTEMPTS {
            if let Err(err) = self.load(environment).await {
                tracing::warn!(%err, environment = environment.as_str(), "background reload failed");
                break;
            }
            if !slot.read().behind() {
                break;
            }
        }
        slot.write().reload_finished();
    }

    /// Compares every environment with the store's revision and reloads what is behind. With
    /// `purge_cache` (a Redis subscriber that just reconnected) the shared cache also drops sets
    /// older than the store's, which writes made while Redis was away could not delete.
    pub async fn resync(self: &Arc<Self>, purge_cache: bool) {
        let revisions = match self.store.revisions().await {
            Ok(revisions) => revisions,
            Err(err) => {
                tracing::debug!(%err, "revalidation skipped: store unavailable");
                return;
            }
        };
        for revision in revisions {
            let news = self.on_change(revision);
            if news || purge_cache {
                if let Err(err) = self
                    .cache
                    .invalidate(revision.environment, revision.revision)
                    .await
                {
                    tracing::debug!(%err, "cache purge skipped");
                }
            }
        }
    }
}

fn unreadable_rows(stored: &StoredSnapshot) -> UnreadableRows {
    UnreadableRows {
        flags: stored.unreadable.clone(),
        segments: stored.unreadable_segments.clone(),
    }
}
