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
//! Each environment has a revision floor, raised by every write and change message seen: no set
//! older than the floor is installed or cached, whoever loaded it and however late it arrives.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use evaluator::{CompiledFlagSet, Environment, Flag, Snapshot};

use crate::cache::{CacheError, FlagCache};
use crate::invalidation::Change;
use crate::store::{FlagStore, StoreError, StoredSnapshot, UnreadableFlag};

/// How many loads a background reload tries before leaving the rest to the revalidation.
const RELOAD_ATTEMPTS: usize = 3;

/// One environment's flag set, ready to serve.
#[derive(Debug)]
pub struct LoadedFlagSet {
    pub revision: u64,
    /// The snapshot JSON, served as it is by the snapshot endpoint and stored in the shared cache.
    pub snapshot_json: Bytes,
    pub compiled: CompiledFlagSet,
}

impl LoadedFlagSet {
    /// Compiles `flags` (the shared cache's evaluator flags, or the store's stored ones), which
    /// `json` holds at `revision`.
    fn new<F: AsRef<Flag>>(revision: u64, flags: &[F], json: Bytes) -> Result<Self, StoreError> {
        let compiled = CompiledFlagSet::from_flags(flags)
            .map_err(|e| StoreError::Corrupt(format!("flag set: {e}")))?;
        Ok(Self {
            revision,
            snapshot_json: json,
            compiled,
        })
    }
}

#[derive(Debug, Default)]
struct SlotState {
    /// The lowest revision this origin may still install: raised by every write it made and every
    /// change it heard of, so neither a load that started before the write nor a late refill of
    /// the shared cache brings an older set back.
    floor: u64,
    local: Option<Arc<LoadedFlagSet>>,
    /// A background reload is running (at most one per environment).
    reloading: bool,
    /// The rows the store's latest full read of the environment could not read, and the revision
    /// of that read (for `/health`; the read path never looks at it).
    unreadable: Option<(u64, Vec<UnreadableFlag>)>,
}

#[derive(Debug, Default)]
struct Slot {
    state: RwLock<SlotState>,
    /// One load at a time per environment: concurrent misses wait and reuse its result.
    reload: tokio::sync::Mutex<()>,
}

/// Whether evaluations use the in-process level. `Off` is a diagnostic: every evaluation reads
/// the shared cache, parses and compiles, as before the in-process level existed (what
/// `scripts/load-test --no-in-process` measures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InProcess {
    On,
    Off,
}

#[derive(Debug)]
pub struct FlagSets {
    store: Arc<dyn FlagStore>,
    cache: Arc<dyn FlagCache>,
    ttl: Duration,
    in_process: InProcess,
    slots: [Slot; 3],
    loads: AtomicU64,
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
    pub fn new(store: Arc<dyn FlagStore>, cache: Arc<dyn FlagCache>, ttl: Duration) -> Self {
        Self::with_in_process(store, cache, ttl, InProcess::On)
    }

    pub fn with_in_process(
        store: Arc<dyn FlagStore>,
        cache: Arc<dyn FlagCache>,
        ttl: Duration,
        in_process: InProcess,
    ) -> Self {
        Self {
            store,
            cache,
            ttl,
            in_process,
            slots: Default::default(),
            loads: AtomicU64::new(0),
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
        self.local(self.slot(environment)).map(|set| set.revision)
    }

    fn local(&self, slot: &Slot) -> Option<Arc<LoadedFlagSet>> {
        let state = slot.state.read().unwrap_or_else(|e| e.into_inner());
        state.local.clone()
    }

    /// The environment's flag set: in-process, else the shared cache, else the store.
    pub async fn get(&self, environment: Environment) -> Result<Arc<LoadedFlagSet>, StoreError> {
        let slot = self.slot(environment);
        match self.in_process {
            InProcess::On => {
                if let Some(set) = self.local(slot) {
                    return Ok(set);
                }
            }
            InProcess::Off => {
                let floor = slot.state.read().unwrap_or_else(|e| e.into_inner()).floor;
                if let Some(set) = self.read_cache(environment, floor, None).await {
                    return Ok(set);
                }
            }
        }
        self.load(environment).await
    }

    /// Loads the environment from the shared cache or the store, one load at a time: whoever
    /// waited for another's load finds its result installed.
    async fn load(&self, environment: Environment) -> Result<Arc<LoadedFlagSet>, StoreError> {
        let slot = self.slot(environment);
        let _loading = slot.reload.lock().await;
        let (floor, previous) = {
            let state = slot.state.read().unwrap_or_else(|e| e.into_inner());
            (state.floor, state.local.clone())
        };
        if let Some(set) = &previous {
            if self.in_process == InProcess::On && set.revision >= floor {
                return Ok(Arc::clone(set));
            }
        }
        if let Some(set) = self.read_cache(environment, floor, previous.as_ref()).await {
            if self.install(slot, &set) {
                return Ok(set);
            }
        }
        match self.read_store(environment).await {
            Ok(set) => {
                // Only a load that no write overtook may fill the caches.
                if self.install(slot, &set) {
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
                Ok(set)
            }
            // The store is down but this origin still holds the latest set it knew: keep serving.
            Err(err @ StoreError::Unavailable(_)) => match previous {
                Some(set) => {
                    tracing::warn!(%err, "store unavailable; serving the last flag set");
                    Ok(set)
                }
                None => Err(err),
            },
            Err(err) => Err(err),
        }
    }

    async fn read_cache(
        &self,
        environment: Environment,
        floor: u64,
        previous: Option<&Arc<LoadedFlagSet>>,
    ) -> Option<Arc<LoadedFlagSet>> {
        let json = match self.cache.get(environment).await {
            Ok(Some(json)) => json,
            Ok(None) => return None,
            Err(err) => {
                tracing::debug!(%err, "cache unavailable; reading the store");
                return None;
            }
        };
        let snapshot: Snapshot = match serde_json::from_str(&json) {
            Ok(s) => s,
            Err(err) => {
                tracing::warn!(%err, "cached flag set does not parse; reading the store");
                return None;
            }
        };
        if snapshot.environment != environment {
            tracing::warn!("cached flag set is for another environment; reading the store");
            return None;
        }
        if snapshot.revision < floor {
            // Older than a write this origin made or heard of: a refill that lost a race.
            return None;
        }
        match previous {
            Some(prev) if prev.revision == snapshot.revision => Some(Arc::clone(prev)),
            // Older than what this origin already saw: a late refill; the store has the truth.
            Some(prev) if prev.revision > snapshot.revision => None,
            _ => match LoadedFlagSet::new(snapshot.revision, &snapshot.flags, Bytes::from(json)) {
                Ok(set) => Some(Arc::new(set)),
                Err(err) => {
                    tracing::warn!(%err, "cached flag set does not compile; reading the store");
                    None
                }
            },
        }
    }

    async fn read_store(&self, environment: Environment) -> Result<Arc<LoadedFlagSet>, StoreError> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        let stored = self.store.load_snapshot(environment).await?;
        self.record_unreadable(&stored);
        let snapshot = stored.snapshot;
        let json = serde_json::to_vec(&snapshot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Arc::new(LoadedFlagSet::new(
            snapshot.revision,
            &snapshot.flags,
            Bytes::from(json),
        )?))
    }

    /// Remembers what a full read of the store found unreadable, unless a newer read did already.
    fn record_unreadable(&self, stored: &StoredSnapshot) {
        let revision = stored.snapshot.revision;
        let mut state = self
            .slot(stored.snapshot.environment)
            .state
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if state
            .unreadable
            .as_ref()
            .is_none_or(|(r, _)| *r <= revision)
        {
            state.unreadable = Some((revision, stored.unreadable.clone()));
        }
    }

    /// The flags the store holds but cannot read, in every environment, as of the store's current
    /// revisions: an environment whose last full read is older (or was never read here, e.g. only
    /// from the shared cache) is read from the store again, so this costs one small query while
    /// nothing changes. On a store error, what the last reads found.
    pub async fn unreadable_flags(&self) -> Vec<UnreadableFlag> {
        if let Err(err) = self.check_unreadable().await {
            tracing::debug!(%err, "unreadable flags not checked: store unavailable");
        }
        Environment::ALL
            .iter()
            .flat_map(|&environment| {
                let state = self
                    .slot(environment)
                    .state
                    .read()
                    .unwrap_or_else(|e| e.into_inner());
                state
                    .unreadable
                    .as_ref()
                    .map(|(_, list)| list.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    async fn check_unreadable(&self) -> Result<(), StoreError> {
        for (environment, revision) in self.store.revisions().await? {
            let known = {
                let state = self
                    .slot(environment)
                    .state
                    .read()
                    .unwrap_or_else(|e| e.into_inner());
                state.unreadable.as_ref().map(|(r, _)| *r)
            };
            if known != Some(revision) {
                self.record_unreadable(&self.store.load_snapshot(environment).await?);
            }
        }
        Ok(())
    }

    /// Installs `set` as the in-process copy unless it is older than the floor or than the copy.
    fn install(&self, slot: &Slot, set: &Arc<LoadedFlagSet>) -> bool {
        let mut state = slot.state.write().unwrap_or_else(|e| e.into_inner());
        if set.revision < state.floor
            || state
                .local
                .as_ref()
                .is_some_and(|l| l.revision > set.revision)
        {
            return false;
        }
        state.local = Some(Arc::clone(set));
        true
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
    pub async fn invalidate(&self, revisions: &[(Environment, u64)]) {
        for &(environment, revision) in revisions {
            self.drop_local(environment, revision);
            if let Err(err) = self.cache.invalidate(environment, revision).await {
                log_cache_error(&err, environment, "cache invalidation failed");
            }
            self.drop_local(environment, revision);
            let change = Change {
                environment,
                revision,
            };
            if let Err(err) = self.cache.publish(change).await {
                log_cache_error(&err, environment, "change not published");
            }
        }
    }

    fn drop_local(&self, environment: Environment, revision: u64) {
        let mut state = self
            .slot(environment)
            .state
            .write()
            .unwrap_or_else(|e| e.into_inner());
        state.floor = state.floor.max(revision);
        state.local = None;
    }

    /// Another origin (or the store) says `environment` is at `revision`. Raises the floor and,
    /// when the copy held is older, reloads it in the background; requests keep the copy in hand
    /// meanwhile. Returns whether this was news (newer than anything known here).
    pub fn on_change(self: &Arc<Self>, environment: Environment, revision: u64) -> bool {
        let slot = self.slot(environment);
        let mut state = slot.state.write().unwrap_or_else(|e| e.into_inner());
        let held = state.local.as_ref().map(|l| l.revision);
        let news = revision > state.floor.max(held.unwrap_or(0));
        state.floor = state.floor.max(revision);
        let behind = held.is_some_and(|h| h < revision);
        if behind && !state.reloading {
            state.reloading = true;
            drop(state);
            let sets = Arc::clone(self);
            tokio::spawn(async move { sets.reload_in_background(environment).await });
        }
        news
    }

    async fn reload_in_background(self: Arc<Self>, environment: Environment) {
        let slot = self.slot(environment);
        for _ in 0..RELOAD_ATTEMPTS {
            let loaded = self.load(environment).await;
            let state = slot.state.read().unwrap_or_else(|e| e.into_inner());
            let behind = state
                .local
                .as_ref()
                .is_some_and(|l| l.revision < state.floor);
            if let Err(err) = &loaded {
                tracing::warn!(%err, environment = environment.as_str(), "background reload failed");
                break;
            }
            if !behind {
                break;
            }
        }
        slot.state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .reloading = false;
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
        for (environment, revision) in revisions {
            let news = self.on_change(environment, revision);
            if news || purge_cache {
                if let Err(err) = self.cache.invalidate(environment, revision).await {
                    tracing::debug!(%err, "cache purge skipped");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::MemoryCache;
    use crate::store::{
        AuditPage, AuditQuery, FlagFilter, FlagList, FlagSnapshot, StoreError, StoredFlag, Version,
    };
    use async_trait::async_trait;
    use evaluator::{FlagKey, RolloutPercentage};
    use std::sync::atomic::AtomicBool;
    use uuid::Uuid;

    /// A store that serves one environment's flags at a revision the test sets, counts its loads,
    /// and can hold a load until released.
    #[derive(Debug, Default)]
    struct FakeStore {
        revision: AtomicU64,
        enabled: AtomicBool,
        loads: AtomicU64,
        gate: tokio::sync::Notify,
        hold: AtomicBool,
    }

    impl FakeStore {
        fn set(&self, revision: u64, enabled: bool) {
            self.revision.store(revision, Ordering::SeqCst);
            self.enabled.store(enabled, Ordering::SeqCst);
        }
    }

    fn unused() -> StoreError {
        StoreError::Corrupt("not used by these tests".into())
    }

    #[async_trait]
    impl FlagStore for FakeStore {
        fn kind(&self) -> &'static str {
            "fake"
        }
        async fn ping(&self) -> Result<(), StoreError> {
            Ok(())
        }
        async fn revisions(&self) -> Result<Vec<(Environment, u64)>, StoreError> {
            Ok(vec![(
                Environment::Prod,
                self.revision.load(Ordering::SeqCst),
            )])
        }
        async fn load_snapshot(
            &self,
            environment: Environment,
        ) -> Result<StoredSnapshot, StoreError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            // Read before waiting: a load that started before a write returns the old state.
            let revision = self.revision.load(Ordering::SeqCst);
            let mut flag = Flag::new(FlagKey::parse("k").unwrap());
            flag.enabled = self.enabled.load(Ordering::SeqCst);
            flag.rollout_percentage = RolloutPercentage::new(100).unwrap();
            let flag = StoredFlag {
                id: Uuid::nil(),
                environment,
                version: Version::FIRST,
                created_at: chrono::DateTime::UNIX_EPOCH,
                updated_at: chrono::DateTime::UNIX_EPOCH,
                flag,
            };
            if self.hold.load(Ordering::SeqCst) {
                self.gate.notified().await;
            }
            Ok(StoredSnapshot {
                snapshot: FlagSnapshot {
                    environment,
                    revision,
                    flags: vec![flag],
                },
                unreadable: Vec::new(),
            })
        }
        async fn list_flags(&self, _: &FlagFilter) -> Result<FlagList, StoreError> {
            Err(unused())
        }
        async fn get_flag(&self, _: Uuid) -> Result<StoredFlag, StoreError> {
            Err(unused())
        }
        async fn audit(&self, _: &AuditQuery) -> Result<AuditPage, StoreError> {
            Err(unused())
        }
    }

    fn sets(store: &Arc<FakeStore>, cache: &Arc<MemoryCache>) -> Arc<FlagSets> {
        Arc::new(FlagSets::new(
            Arc::clone(store) as Arc<dyn FlagStore>,
            Arc::clone(cache) as Arc<dyn FlagCache>,
            Duration::from_secs(60),
        ))
    }

    fn enabled(set: &LoadedFlagSet) -> bool {
        set.compiled
            .evaluate_flag("k", &evaluator::User::new("u"))
            .map(|e| e.enabled)
            .unwrap_or(false)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_cold_reads_share_one_load() {
        let store = Arc::new(FakeStore::default());
        store.set(1, true);
        let sets = sets(&store, &Arc::new(MemoryCache::new()));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let sets = Arc::clone(&sets);
                tokio::spawn(async move { sets.get(Environment::Prod).await.map(|s| s.revision) })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), 1);
        }
        assert_eq!(store.loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_load_overtaken_by_a_write_fills_no_cache() {
        let store = Arc::new(FakeStore::default());
        let cache = Arc::new(MemoryCache::new());
        store.set(1, true);
        store.hold.store(true, Ordering::SeqCst);
        let sets = sets(&store, &cache);
        let reader = {
            let sets = Arc::clone(&sets);
            tokio::spawn(async move { sets.get(Environment::Prod).await })
        };
        // Let the reader read revision 1, then commit "a write" and invalidate before it finishes.
        while store.loads.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        store.set(2, false);
        sets.invalidate(&[(Environment::Prod, 2)]).await;
        store.hold.store(false, Ordering::SeqCst);
        store.gate.notify_one();
        let old = reader.await.unwrap().unwrap();
        assert_eq!(
            old.revision, 1,
            "the in-flight reader answers with what it read"
        );
        assert_eq!(
            cache.get(Environment::Prod).await.unwrap(),
            None,
            "but caches nothing"
        );
        let next = sets.get(Environment::Prod).await.unwrap();
        assert_eq!(next.revision, 2);
        assert!(!enabled(&next));
    }

    /// Waits (briefly) until the in-process copy of prod is at `revision`.
    async fn held(sets: &FlagSets, revision: u64) {
        for _ in 0..500 {
            if sets.held_revision(Environment::Prod) == Some(revision) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!(
            "still at {:?}, not {revision}",
            sets.held_revision(Environment::Prod)
        );
    }

    #[tokio::test]
    async fn a_change_message_reloads_in_the_background_past_a_stale_cache() {
        let store = Arc::new(FakeStore::default());
        let cache = Arc::new(MemoryCache::new());
        store.set(5, true);
        let sets = sets(&store, &cache);
        assert_eq!(sets.get(Environment::Prod).await.unwrap().revision, 5);
        // A late refill puts revision 4 back into the shared cache; another origin writes 6.
        let old = Snapshot {
            environment: Environment::Prod,
            revision: 4,
            flags: vec![],
        };
        let json = serde_json::to_string(&old).unwrap();
        cache
            .put(Environment::Prod, &json, 4, Duration::from_secs(60))
            .await
            .unwrap();
        store.set(6, false);
        assert!(sets.on_change(Environment::Prod, 6));
        // Requests meanwhile are answered from the copy in hand, never waiting on the reload.
        held(&sets, 6).await;
        assert!(!enabled(&sets.get(Environment::Prod).await.unwrap()));
        assert_eq!(
            store.loads.load(Ordering::SeqCst),
            2,
            "the store, not the stale cache"
        );
        let cached: Snapshot =
            serde_json::from_str(&cache.get(Environment::Prod).await.unwrap().unwrap()).unwrap();
        assert_eq!(cached.revision, 6, "and the cache is repaired");
        // An old or repeated message changes nothing.
        assert!(!sets.on_change(Environment::Prod, 6));
        assert!(!sets.on_change(Environment::Prod, 3));
        assert_eq!(store.loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn resync_catches_up_with_the_store() {
        let store = Arc::new(FakeStore::default());
        let cache = Arc::new(MemoryCache::new());
        store.set(1, true);
        let sets = sets(&store, &cache);
        assert_eq!(sets.get(Environment::Prod).await.unwrap().revision, 1);
        store.set(2, false);
        sets.resync(false).await;
        held(&sets, 2).await;
        assert!(!enabled(&sets.get(Environment::Prod).await.unwrap()));
    }

    #[tokio::test]
    async fn the_diagnostic_mode_reads_the_shared_cache_every_time() {
        let store = Arc::new(FakeStore::default());
        let cache = Arc::new(MemoryCache::new());
        store.set(1, true);
        let sets = FlagSets::with_in_process(
            Arc::clone(&store) as Arc<dyn FlagStore>,
            Arc::clone(&cache) as Arc<dyn FlagCache>,
            Duration::from_secs(60),
            InProcess::Off,
        );
        let a = sets.get(Environment::Prod).await.unwrap();
        let b = sets.get(Environment::Prod).await.unwrap();
        assert!(!Arc::ptr_eq(&a, &b), "compiled again from the cache");
        assert_eq!(store.loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_stale_shared_entry_after_a_write_is_not_served() {
        let store = Arc::new(FakeStore::default());
        let cache = Arc::new(MemoryCache::new());
        store.set(1, true);
        let sets = sets(&store, &cache);
        let old = sets.get(Environment::Prod).await.unwrap();
        store.set(2, false);
        sets.invalidate(&[(Environment::Prod, 2)]).await;
        // The old set comes back into the shared cache after the invalidation (a racing refill, or
        // a Redis that missed the DEL): this origin must not serve it.
        let json = String::from_utf8(old.snapshot_json.to_vec()).unwrap();
        cache
            .put(Environment::Prod, &json, 1, Duration::from_secs(60))
            .await
            .unwrap();
        let set = sets.get(Environment::Prod).await.unwrap();
        assert_eq!(set.revision, 2);
        assert!(!enabled(&set));
    }

    #[tokio::test]
    async fn warm_reads_do_not_touch_the_store_and_writes_are_seen_at_once() {
        let store = Arc::new(FakeStore::default());
        let cache = Arc::new(MemoryCache::new());
        store.set(1, true);
        let sets = sets(&store, &cache);
        for _ in 0..100 {
            assert!(enabled(&sets.get(Environment::Prod).await.unwrap()));
        }
        assert_eq!(store.loads.load(Ordering::SeqCst), 1);
        store.set(2, false);
        sets.invalidate(&[(Environment::Prod, 2)]).await;
        assert!(!enabled(&sets.get(Environment::Prod).await.unwrap()));
        assert_eq!(sets.store_loads(), 2);
    }
}
