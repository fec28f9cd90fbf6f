//! The read path: each environment's compiled flag set, cache-aside.
//!
//! Three levels: an in-process copy (compiled, ready to evaluate), the shared cache (Redis or memory,
//! snapshot JSON with a TTL), and the store. The in-process copy is used as it is for
//! `LOCAL_REVALIDATE` at most, then checked against the shared cache (recompiled only when the
//! revision changed), so another origin's write on the same Redis is seen within about that long.
//! A write on this origin invalidates both levels before it answers, so it is seen by the next
//! evaluation here at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use evaluator::{CompiledFlagSet, Environment, Snapshot};

use crate::cache::FlagCache;
use crate::store::{FlagStore, StoreError};

/// How long the in-process copy is trusted before it is compared with the shared cache.
pub const LOCAL_REVALIDATE: Duration = Duration::from_secs(1);

/// One environment's flag set, ready to serve.
#[derive(Debug)]
pub struct LoadedFlagSet {
    pub revision: u64,
    /// The snapshot JSON, served as it is by the snapshot endpoint and stored in the shared cache.
    pub snapshot_json: Bytes,
    pub compiled: CompiledFlagSet,
}

impl LoadedFlagSet {
    fn from_snapshot(snapshot: &Snapshot, json: Bytes) -> Result<Self, StoreError> {
        let compiled = CompiledFlagSet::new(&snapshot.flags)
            .map_err(|e| StoreError::Corrupt(format!("flag set: {e}")))?;
        Ok(Self {
            revision: snapshot.revision,
            snapshot_json: json,
            compiled,
        })
    }
}

#[derive(Debug)]
struct Local {
    set: Arc<LoadedFlagSet>,
    checked_at: Instant,
}

#[derive(Debug, Default)]
struct SlotState {
    /// The lowest revision this origin may still serve: raised by every write it made, so neither
    /// a load that started before the write nor a late refill of the shared cache brings an older
    /// set back.
    floor: u64,
    local: Option<Local>,
}

#[derive(Debug, Default)]
struct Slot {
    state: RwLock<SlotState>,
    /// One reload at a time per environment: concurrent misses wait and reuse its result.
    reload: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
pub struct FlagSets {
    store: Arc<dyn FlagStore>,
    cache: Arc<dyn FlagCache>,
    ttl: Duration,
    revalidate: Duration,
    slots: [Slot; 3],
    loads: AtomicU64,
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
        Self {
            store,
            cache,
            ttl,
            revalidate: LOCAL_REVALIDATE.min(ttl),
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

    /// The current in-process copy if it is still within its revalidation window.
    fn fresh(&self, slot: &Slot) -> Option<Arc<LoadedFlagSet>> {
        let state = slot.state.read().unwrap_or_else(|e| e.into_inner());
        match &state.local {
            Some(l) if l.checked_at.elapsed() < self.revalidate => Some(Arc::clone(&l.set)),
            _ => None,
        }
    }

    /// The in-process copy whatever its age; `None` once a write invalidated it.
    fn aged(&self, slot: &Slot) -> Option<Arc<LoadedFlagSet>> {
        let state = slot.state.read().unwrap_or_else(|e| e.into_inner());
        state.local.as_ref().map(|l| Arc::clone(&l.set))
    }

    /// The environment's flag set: in-process, else the shared cache, else the store.
    pub async fn get(&self, environment: Environment) -> Result<Arc<LoadedFlagSet>, StoreError> {
        let slot = self.slot(environment);
        if let Some(set) = self.fresh(slot) {
            return Ok(set);
        }
        // While one request revalidates an aged copy, the others keep serving it rather than queue
        // behind a Redis round trip: an aged copy was not invalidated, so no write on this origin is
        // missing from it. Without a copy (cold, or just invalidated) they wait and share the load.
        let _reloading = match slot.reload.try_lock() {
            Ok(guard) => guard,
            Err(_) => match self.aged(slot) {
                Some(set) => return Ok(set),
                None => slot.reload.lock().await,
            },
        };
        if let Some(set) = self.fresh(slot) {
            return Ok(set);
        }
        let (floor, previous) = {
            let state = slot.state.read().unwrap_or_else(|e| e.into_inner());
            (
                state.floor,
                state.local.as_ref().map(|l| Arc::clone(&l.set)),
            )
        };
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
                    if let Err(err) = self.cache.put(environment, &json, self.ttl).await {
                        tracing::warn!(%err, environment = environment.as_str(), "cache fill failed");
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
                tracing::warn!(%err, "cache unavailable; reading the store");
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
            // Older than a write this origin made: a refill that lost a race. The store has the truth.
            return None;
        }
        match previous {
            Some(prev) if prev.revision == snapshot.revision => Some(Arc::clone(prev)),
            // Older than what this origin already saw: a late refill; the store has the truth.
            Some(prev) if prev.revision > snapshot.revision => None,
            _ => match LoadedFlagSet::from_snapshot(&snapshot, Bytes::from(json)) {
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
        let snapshot = self.store.load_snapshot(environment).await?;
        let json = serde_json::to_vec(&snapshot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Arc::new(LoadedFlagSet::from_snapshot(
            &snapshot,
            Bytes::from(json),
        )?))
    }

    /// Installs `set` as the in-process copy unless a write since raised the floor above it.
    fn install(&self, slot: &Slot, set: &Arc<LoadedFlagSet>) -> bool {
        let mut state = slot.state.write().unwrap_or_else(|e| e.into_inner());
        if set.revision < state.floor {
            return false;
        }
        state.local = Some(Local {
            set: Arc::clone(set),
            checked_at: Instant::now(),
        });
        true
    }

    /// Called after a write committed, before it answers, with each environment it changed and the
    /// revision that environment is at now.
    ///
    /// The in-process copy is dropped and the floor raised first, so that a load that read the
    /// store ahead of the commit can neither install nor publish its result; then the shared cache
    /// entry is deleted; then the in-process copy is dropped again, in case a reader installed the
    /// old shared entry in between. If Redis cannot be reached, the floor still keeps this origin
    /// from serving the old set when Redis comes back with it.
    pub async fn invalidate(&self, revisions: &[(Environment, u64)]) {
        for &(environment, revision) in revisions {
            self.drop_local(environment, revision);
            if let Err(err) = self.cache.invalidate(environment).await {
                tracing::error!(%err, environment = environment.as_str(), "cache invalidation failed");
            }
            self.drop_local(environment, revision);
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::MemoryCache;
    use crate::store::{
        AuditPage, AuditQuery, FlagFilter, FlagPatch, NewFlag, StoreError, Written,
    };
    use async_trait::async_trait;
    use evaluator::{Flag, FlagKey, RolloutPercentage};
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
        async fn load_snapshot(&self, environment: Environment) -> Result<Snapshot, StoreError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            // Read before waiting: a load that started before a write returns the old state.
            let revision = self.revision.load(Ordering::SeqCst);
            let mut flag = Flag::new(FlagKey::parse("k").unwrap());
            flag.enabled = self.enabled.load(Ordering::SeqCst);
            flag.rollout_percentage = RolloutPercentage::new(100).unwrap();
            flag.environment = Some(environment);
            if self.hold.load(Ordering::SeqCst) {
                self.gate.notified().await;
            }
            Ok(Snapshot {
                environment,
                revision,
                flags: vec![flag],
            })
        }
        async fn list_flags(&self, _: &FlagFilter) -> Result<Vec<Flag>, StoreError> {
            Err(unused())
        }
        async fn get_flag(&self, _: Uuid) -> Result<Flag, StoreError> {
            Err(unused())
        }
        async fn create_flag(&self, _: NewFlag, _: &str) -> Result<Written<Flag>, StoreError> {
            Err(unused())
        }
        async fn update_flag(
            &self,
            _: Uuid,
            _: FlagPatch,
            _: Option<u64>,
            _: &str,
        ) -> Result<Written<Flag>, StoreError> {
            Err(unused())
        }
        async fn delete_flag(&self, _: Uuid, _: &str) -> Result<Written<Flag>, StoreError> {
            Err(unused())
        }
        async fn kill_switch(
            &self,
            _: &FlagKey,
            _: &str,
        ) -> Result<Written<Vec<Flag>>, StoreError> {
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

    #[tokio::test]
    async fn a_cached_set_older_than_the_local_one_is_not_taken() {
        let store = Arc::new(FakeStore::default());
        let cache = Arc::new(MemoryCache::new());
        store.set(5, true);
        let sets = FlagSets {
            revalidate: Duration::ZERO,
            ..Arc::try_unwrap(sets(&store, &cache)).unwrap()
        };
        assert_eq!(sets.get(Environment::Prod).await.unwrap().revision, 5);
        // A late refill puts revision 4 back into the shared cache.
        let old = Snapshot {
            environment: Environment::Prod,
            revision: 4,
            flags: vec![],
        };
        let json = serde_json::to_string(&old).unwrap();
        cache
            .put(Environment::Prod, &json, Duration::from_secs(60))
            .await
            .unwrap();
        let set = sets.get(Environment::Prod).await.unwrap();
        assert_eq!(set.revision, 5, "the store, not the stale cache");
        assert_eq!(store.loads.load(Ordering::SeqCst), 2);
        let cached: Snapshot =
            serde_json::from_str(&cache.get(Environment::Prod).await.unwrap().unwrap()).unwrap();
        assert_eq!(cached.revision, 5, "and the cache is repaired");
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
            .put(Environment::Prod, &json, Duration::from_secs(60))
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
