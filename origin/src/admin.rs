//! The admin API's writes, in one place: each commits in the store, then invalidates the read path
//! (this origin's flag sets, the shared cache, the other origins), and only then returns the value.
//!
//! So a write is never answered before the origin that made it serves it (read-your-writes), and
//! no handler can forget the second step: handlers hold the store's reads ([`FlagStore`]) and this,
//! never a [`FlagWriter`]. A new writer (segments, tokens) is a `FlagWriter` method that returns
//! [`Written`], and a method here that hands that call to [`Admin::write`].
//!
//! [`FlagStore`]: crate::store::FlagStore

use std::future::Future;
use std::sync::Arc;

use evaluator::FlagKey;
use uuid::Uuid;

use crate::flagset::FlagSets;
use crate::store::{
    FlagList, FlagPatch, FlagWriter, NewFlag, NewSegment, SegmentPatch, StoreError, StoredFlag,
    StoredSegment, Written,
};

#[derive(Debug, Clone)]
pub struct Admin {
    store: Arc<dyn FlagWriter>,
    flags: Arc<FlagSets>,
}

impl Admin {
    pub fn new(store: Arc<dyn FlagWriter>, flags: Arc<FlagSets>) -> Self {
        Self { store, flags }
    }

    pub async fn create_flag(&self, new: NewFlag, actor: &str) -> Result<StoredFlag, StoreError> {
        self.write(self.store.create_flag(new, actor)).await
    }

    pub async fn update_flag(
        &self,
        id: Uuid,
        patch: FlagPatch,
        if_match: Option<u64>,
        actor: &str,
    ) -> Result<StoredFlag, StoreError> {
        self.write(self.store.update_flag(id, patch, if_match, actor))
            .await
    }

    /// The deleted flag; `None` when its row could not be read (see [`FlagWriter::delete_flag`]).
    pub async fn delete_flag(
        &self,
        id: Uuid,
        if_match: Option<u64>,
        actor: &str,
    ) -> Result<Option<StoredFlag>, StoreError> {
        self.write(self.store.delete_flag(id, if_match, actor))
            .await
    }

    pub async fn create_segment(
        &self,
        new: NewSegment,
        actor: &str,
    ) -> Result<StoredSegment, StoreError> {
        self.write(self.store.create_segment(new, actor)).await
    }

    pub async fn update_segment(
        &self,
        id: Uuid,
        patch: SegmentPatch,
        if_match: Option<u64>,
        actor: &str,
    ) -> Result<StoredSegment, StoreError> {
        self.write(self.store.update_segment(id, patch, if_match, actor))
            .await
    }

    /// The deleted segment; `None` when its row could not be read.
    pub async fn delete_segment(
        &self,
        id: Uuid,
        if_match: Option<u64>,
        actor: &str,
    ) -> Result<Option<StoredSegment>, StoreError> {
        self.write(self.store.delete_segment(id, if_match, actor))
            .await
    }

    pub async fn kill_switch(
        &self,
        key: &FlagKey,
        if_match: Option<u64>,
        actor: &str,
    ) -> Result<FlagList, StoreError> {
        self.write(self.store.kill_switch(key, if_match, actor))
            .await
    }

    /// Runs `write` (one transaction in the store) and, once it committed, invalidates every
    /// environment it changed; a write that failed changed nothing and invalidates nothing.
    async fn write<T>(
        &self,
        write: impl Future<Output = Result<Written<T>, StoreError>>,
    ) -> Result<T, StoreError> {
        let written = write.await?;
        self.flags.invalidate(&written.revisions).await;
        Ok(written.value)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use evaluator::{Environment, Flag, Segment, User};
    use serde_json::json;

    use super::*;
    use crate::cache::MemoryCache;
    use crate::store::{SqliteStore, StoreHandles};

    async fn admin() -> (Admin, Arc<FlagSets>) {
        let store = StoreHandles::new(SqliteStore::connect("sqlite::memory:").await.unwrap());
        let flags = Arc::new(FlagSets::new(
            store.reads,
            Arc::new(MemoryCache::new()),
            Duration::from_secs(60),
        ));
        (Admin::new(store.writes, Arc::clone(&flags)), flags)
    }

    /// The prod set this origin serves now: its revision and whether `k` is on for a user.
    async fn served(flags: &FlagSets) -> (u64, Option<bool>) {
        let set = flags.get(Environment::Prod).await.unwrap();
        let k = set.compiled.evaluate_flag("k", &User::new("u"));
        (set.revision, k.map(|e| e.enabled))
    }

    #[tokio::test]
    async fn every_write_is_served_by_the_next_read() {
        let (admin, flags) = admin().await;
        assert_eq!(served(&flags).await, (0, None));
        let new = NewFlag {
            environment: Environment::Prod,
            flag: Flag::from_json_value(&json!({"key": "k", "enabled": true})).unwrap(),
        };
        let created = admin.create_flag(new, "t").await.unwrap();
        assert_eq!(served(&flags).await, (1, Some(false)));
        let everyone = FlagPatch {
            fields: json!({"rolloutPercentage": 100})
                .as_object()
                .unwrap()
                .clone(),
        };
        admin
            .update_flag(created.id, everyone, None, "t")
            .await
            .unwrap();
        assert_eq!(served(&flags).await, (2, Some(true)));
        let killed = admin.kill_switch(&created.flag.key, None, "t").await;
        assert_eq!(killed.unwrap().flags.len(), 1);
        assert_eq!(served(&flags).await, (3, Some(false)));
        // A write the store refuses changed nothing: the set in hand stays.
        let stale = admin.delete_flag(created.id, Some(1), "t").await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))));
        assert_eq!(flags.held_revision(Environment::Prod), Some(3));
        admin.delete_flag(created.id, None, "t").await.unwrap();
        assert_eq!(served(&flags).await, (4, None));
    }

    #[tokio::test]
    async fn segment_writes_are_served_by_the_next_read_too() {
        let (admin, flags) = admin().await;
        let segment = NewSegment {
            environment: Environment::Prod,
            segment: Segment::from_json_value(&json!({"key": "beta"})).unwrap(),
        };
        let beta = admin.create_segment(segment, "t").await.unwrap();
        let new = NewFlag {
            environment: Environment::Prod,
            flag: Flag::from_json_value(
                &json!({"key": "k", "enabled": true, "rules": [{"segment": "beta"}]}),
            )
            .unwrap(),
        };
        admin.create_flag(new, "t").await.unwrap();
        assert_eq!(served(&flags).await, (2, Some(false)));
        let include = SegmentPatch {
            fields: json!({"include": ["u"]}).as_object().unwrap().clone(),
        };
        admin
            .update_segment(beta.id, include, None, "t")
            .await
            .unwrap();
        assert_eq!(served(&flags).await, (3, Some(true)));
        let used = admin.delete_segment(beta.id, None, "t").await;
        assert!(matches!(used, Err(StoreError::Conflict(_))), "{used:?}");
        assert_eq!(flags.held_revision(Environment::Prod), Some(3));
    }
}
