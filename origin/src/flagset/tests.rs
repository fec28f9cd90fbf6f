//! The read path's I/O layer against an in-memory cache and a store double: one load for many
//! concurrent misses, a load overtaken by a write, background reloads, the revalidation. (The rules
//! themselves are tested without any of that in `slot.rs`.)

use super::*;
use crate::cache::MemoryCache;
use crate::store::{FlagSnapshot, StoredFlag, StoredSnapshot, Version};
use async_trait::async_trait;
use evaluator::{Flag, FlagKey, RolloutPercentage, Snapshot};
use std::sync::atomic::AtomicBool;

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

#[async_trait]
impl ReadStore for FakeStore {
    async fn revisions(&self) -> Result<Vec<Revision>, StoreError> {
        Ok(vec![Revision::new(
            Environment::Prod,
            self.revision.load(Ordering::SeqCst),
        )])
    }
    async fn load_snapshot(&self, environment: Environment) -> Result<StoredSnapshot, StoreError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        // Read before waiting: a load that started before a write returns the old state.
        let revision = self.revision.load(Ordering::SeqCst);
        let flag = Flag::boolean(
            FlagKey::parse("k").unwrap(),
            self.enabled.load(Ordering::SeqCst),
            Vec::new(),
            RolloutPercentage::new(100).unwrap(),
        )
        .unwrap();
        let flag = StoredFlag {
            id: uuid::Uuid::nil(),
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
                segments: vec![],
            },
            unreadable: Vec::new(),
            unreadable_segments: Vec::new(),
        })
    }
}

fn sets(store: &Arc<FakeStore>, cache: &Arc<MemoryCache>) -> Arc<FlagSets> {
    Arc::new(FlagSets::new(
        Arc::clone(store) as Arc<dyn ReadStore>,
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
    sets.invalidate(&[Revision::new(Environment::Prod, 2)])
        .await;
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
        segments: vec![],
    };
    let json = serde_json::to_string(&old).unwrap();
    cache
        .put(Environment::Prod, &json, 4, Duration::from_secs(60))
        .await
        .unwrap();
    store.set(6, false);
    assert!(sets.on_change(Revision::new(Environment::Prod, 6)));
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
    assert!(!sets.on_change(Revision::new(Environment::Prod, 6)));
    assert!(!sets.on_change(Revision::new(Environment::Prod, 3)));
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

/// A cold origin on a filled shared cache compiles the cached set and leaves the store alone.
#[tokio::test]
async fn a_cold_origin_reads_the_shared_cache_not_the_store() {
    let store = Arc::new(FakeStore::default());
    let cache = Arc::new(MemoryCache::new());
    store.set(1, true);
    let warm = sets(&store, &cache);
    let filled = warm.get(Environment::Prod).await.unwrap();
    assert_eq!(store.loads.load(Ordering::SeqCst), 1);
    let cold = sets(&store, &cache);
    let set = cold.get(Environment::Prod).await.unwrap();
    assert!(!Arc::ptr_eq(&filled, &set), "compiled again from the cache");
    assert_eq!(set.revision, 1);
    assert!(enabled(&set));
    assert_eq!(store.loads.load(Ordering::SeqCst), 1, "not read again");
    assert_eq!(cold.store_loads(), 0);
}

#[tokio::test]
async fn a_stale_shared_entry_after_a_write_is_not_served() {
    let store = Arc::new(FakeStore::default());
    let cache = Arc::new(MemoryCache::new());
    store.set(1, true);
    let sets = sets(&store, &cache);
    let old = sets.get(Environment::Prod).await.unwrap();
    store.set(2, false);
    sets.invalidate(&[Revision::new(Environment::Prod, 2)])
        .await;
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
    sets.invalidate(&[Revision::new(Environment::Prod, 2)])
        .await;
    assert!(!enabled(&sets.get(Environment::Prod).await.unwrap()));
    assert_eq!(sets.store_loads(), 2);
}

/// The streams' watch follows every way the revision rises (a load, a write here, a change heard),
/// once per rise, and not on reads.
#[tokio::test]
async fn the_watch_rises_with_loads_writes_and_changes_heard() {
    let store = Arc::new(FakeStore::default());
    store.set(3, true);
    let sets = sets(&store, &Arc::new(MemoryCache::new()));
    let mut watch = sets.watch(Environment::Prod);
    assert_eq!(*watch.borrow_and_update(), 0);
    sets.get(Environment::Prod).await.unwrap();
    assert!(watch.has_changed().unwrap());
    assert_eq!(*watch.borrow_and_update(), 3);
    // Reads of the set held announce nothing.
    for _ in 0..10 {
        sets.get(Environment::Prod).await.unwrap();
    }
    assert!(!watch.has_changed().unwrap());
    store.set(4, false);
    sets.invalidate(&[Revision::new(Environment::Prod, 4)])
        .await;
    assert_eq!(*watch.borrow_and_update(), 4);
    assert!(sets.on_change(Revision::new(Environment::Prod, 6)));
    assert_eq!(*watch.borrow_and_update(), 6);
    // Older news, or the same again: nothing.
    sets.on_change(Revision::new(Environment::Prod, 5));
    sets.on_change(Revision::new(Environment::Prod, 6));
    assert!(!watch.has_changed().unwrap());
    // Another environment's watch is its own.
    assert_eq!(*sets.watch(Environment::Dev).borrow(), 0);
}

/// A change heard while a copy is held is announced once the reload has installed it, not before:
/// a stream client that fetches the snapshot on the event must get the new one.
#[tokio::test]
async fn a_change_heard_is_announced_when_this_origin_serves_it() {
    let store = Arc::new(FakeStore::default());
    store.set(3, true);
    let sets = sets(&store, &Arc::new(MemoryCache::new()));
    sets.get(Environment::Prod).await.unwrap();
    let mut watch = sets.watch(Environment::Prod);
    assert_eq!(*watch.borrow_and_update(), 3);
    store.set(4, false);
    store.hold.store(true, Ordering::SeqCst);
    assert!(sets.on_change(Revision::new(Environment::Prod, 4)));
    // The reload is held: the copy in hand is still 3, and nothing is announced.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(sets.held_revision(Environment::Prod), Some(3));
    assert!(!watch.has_changed().unwrap());
    store.hold.store(false, Ordering::SeqCst);
    store.gate.notify_waiters();
    tokio::time::timeout(Duration::from_secs(2), watch.changed())
        .await
        .expect("announced once installed")
        .unwrap();
    assert_eq!(*watch.borrow_and_update(), 4);
    assert_eq!(sets.held_revision(Environment::Prod), Some(4));
}
