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

use crate::access::Actor;
use crate::store::NewToken;

use crate::cache::FlagCache;
use crate::change::Change;
use crate::flagset::FlagSets;
use crate::push::EdgePush;
use crate::store::{
    FlagList, FlagPatch, FlagWriter, NewFlag, NewSegment, SegmentPatch, StoreError, StoredFlag,
    StoredSegment, TokenRecord, TokenWriter, TokenWritten, Written,
};
use crate::tokens::Tokens;

#[derive(Debug, Clone)]
pub struct Admin {
    store: Arc<dyn FlagWriter>,
    flags: Arc<FlagSets>,
    token_store: Arc<dyn TokenWriter>,
    tokens: Arc<Tokens>,
    /// Where token changes are announced to the other origins (flag changes go through `flags`).
    cache: Arc<dyn FlagCache>,
    /// `EDGE_PUSH_URL`: told of each committed flag or segment write (never awaited).
    push: Option<Arc<EdgePush>>,
}

impl Admin {
    pub fn new(
        store: Arc<dyn FlagWriter>,
        flags: Arc<FlagSets>,
        token_store: Arc<dyn TokenWriter>,
        tokens: Arc<Tokens>,
        cache: Arc<dyn FlagCache>,
    ) -> Self {
        Self {
            store,
            flags,
            token_store,
            tokens,
            cache,
            push: None,
        }
    }

    /// Pushes each committed write's new snapshot to the edge (`crate::push`).
    pub fn with_push(mut self, push: Option<Arc<EdgePush>>) -> Self {
        self.push = push;
        self
    }

    pub async fn create_token(
        &self,
        new: NewToken,
        actor: &Actor,
    ) -> Result<TokenRecord, StoreError> {
        self.write_token(self.token_store.create_token(new, actor))
            .await
    }

    /// The revoked token; `None` when it was revoked already (nothing written).
    pub async fn revoke_token(
        &self,
        id: Uuid,
        actor: &Actor,
    ) -> Result<Option<TokenRecord>, StoreError> {
        self.write_token(self.token_store.revoke_token(id, actor))
            .await
    }

    /// Runs a token write and, once it committed, has this origin's verifier hold it before
    /// answering (a revoked token is refused by the next request here), then tells the others.
    /// When the reload fails (the store went away right after the commit) the write stands, and
    /// the periodic check installs it once the store answers.
    async fn write_token<T>(
        &self,
        write: impl Future<Output = Result<TokenWritten<T>, StoreError>>,
    ) -> Result<T, StoreError> {
        let written = write.await?;
        if let Err(err) = self.tokens.catch_up(written.revision).await {
            tracing::warn!(%err, "tokens not reloaded after a token write");
        }
        if let Err(err) = self.cache.publish(Change::Tokens(written.revision)).await {
            tracing::warn!(%err, "token change not published");
        }
        Ok(written.value)
    }

    pub async fn create_flag(&self, new: NewFlag, actor: &Actor) -> Result<StoredFlag, StoreError> {
        self.write(self.store.create_flag(new, actor)).await
    }

    pub async fn update_flag(
        &self,
        id: Uuid,
        patch: FlagPatch,
        if_match: Option<u64>,
        actor: &Actor,
    ) -> Result<StoredFlag, StoreError> {
        self.write(self.store.update_flag(id, patch, if_match, actor))
            .await
    }

    /// The deleted flag; `None` when its row could not be read (see [`FlagWriter::delete_flag`]).
    pub async fn delete_flag(
        &self,
        id: Uuid,
        if_match: Option<u64>,
        actor: &Actor,
    ) -> Result<Option<StoredFlag>, StoreError> {
        self.write(self.store.delete_flag(id, if_match, actor))
            .await
    }

    pub async fn create_segment(
        &self,
        new: NewSegment,
        actor: &Actor,
    ) -> Result<StoredSegment, StoreError> {
        self.write(self.store.create_segment(new, actor)).await
    }

    pub async fn update_segment(
        &self,
        id: Uuid,
        patch: SegmentPatch,
        if_match: Option<u64>,
        actor: &Actor,
    ) -> Result<StoredSegment, StoreError> {
        self.write(self.store.update_segment(id, patch, if_match, actor))
            .await
    }

    /// The deleted segment; `None` when its row could not be read.
    pub async fn delete_segment(
        &self,
        id: Uuid,
        if_match: Option<u64>,
        actor: &Actor,
    ) -> Result<Option<StoredSegment>, StoreError> {
        self.write(self.store.delete_segment(id, if_match, actor))
            .await
    }

    pub async fn kill_switch(
        &self,
        key: &FlagKey,
        if_match: Option<u64>,
        actor: &Actor,
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
        if let Some(push) = &self.push {
            push.changed(&written.revisions);
        }
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
    use crate::config::Secret;
    use crate::store::{SqliteStore, StoreHandles};

    async fn admin() -> (Admin, Arc<FlagSets>) {
        let store = StoreHandles::new(SqliteStore::connect("sqlite::memory:").await.unwrap());
        let cache: Arc<dyn FlagCache> = Arc::new(MemoryCache::new());
        let flags = Arc::new(FlagSets::new(
            store.reads,
            Arc::clone(&cache),
            Duration::from_secs(60),
        ));
        let tokens = Arc::new(Tokens::new(store.tokens, Secret::new("root"), None));
        let admin = Admin::new(
            store.writes,
            Arc::clone(&flags),
            store.token_writes,
            tokens,
            cache,
        );
        (admin, flags)
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
        let created = admin.create_flag(new, &Actor::system()).await.unwrap();
        assert_eq!(served(&flags).await, (1, Some(false)));
        let everyone = FlagPatch {
            fields: json!({"rolloutPercentage": 100})
                .as_object()
                .unwrap()
                .clone(),
        };
        admin
            .update_flag(created.id, everyone, None, &Actor::system())
            .await
            .unwrap();
        assert_eq!(served(&flags).await, (2, Some(true)));
        let killed = admin
            .kill_switch(&created.flag.key, None, &Actor::system())
            .await;
        assert_eq!(killed.unwrap().flags.len(), 1);
        assert_eq!(served(&flags).await, (3, Some(false)));
        // A write the store refuses changed nothing: the set in hand stays.
        let stale = admin
            .delete_flag(created.id, Some(1), &Actor::system())
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))));
        assert_eq!(flags.held_revision(Environment::Prod), Some(3));
        admin
            .delete_flag(created.id, None, &Actor::system())
            .await
            .unwrap();
        assert_eq!(served(&flags).await, (4, None));
    }

    #[tokio::test]
    async fn segment_writes_are_served_by_the_next_read_too() {
        let (admin, flags) = admin().await;
        let segment = NewSegment {
            environment: Environment::Prod,
            segment: Segment::from_json_value(&json!({"key": "beta"})).unwrap(),
        };
        let beta = admin
            .create_segment(segment, &Actor::system())
            .await
            .unwrap();
        let new = NewFlag {
            environment: Environment::Prod,
            flag: Flag::from_json_value(
                &json!({"key": "k", "enabled": true, "rules": [{"segment": "beta"}]}),
            )
            .unwrap(),
        };
        admin.create_flag(new, &Actor::system()).await.unwrap();
        assert_eq!(served(&flags).await, (2, Some(false)));
        let include = SegmentPatch {
            fields: json!({"include": ["u"]}).as_object().unwrap().clone(),
        };
        admin
            .update_segment(beta.id, include, None, &Actor::system())
            .await
            .unwrap();
        assert_eq!(served(&flags).await, (3, Some(true)));
        let used = admin.delete_segment(beta.id, None, &Actor::system()).await;
        assert!(matches!(used, Err(StoreError::Conflict(_))), "{used:?}");
        assert_eq!(flags.held_revision(Environment::Prod), Some(3));
    }
}
