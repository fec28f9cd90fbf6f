//! The shared cache of each environment's flag set (cache-aside), behind a small trait.
//!
//! Values are the snapshot JSON of an environment (`{environment, revision, flags}`); the read path in
//! [`crate::flagset`] decides what to cache and when to invalidate. Every value carries its
//! revision, so a cache can refuse to be refilled with a set older than a write it was told about.

mod memory;
mod redis;

use std::time::Duration;

use async_trait::async_trait;
use evaluator::Environment;

pub use self::memory::MemoryCache;
pub use self::redis::RedisCache;

use crate::change::Change;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// Redis failed recently and is left alone until a background probe finds it back.
    #[error("redis: unavailable (circuit open, reconnecting in the background)")]
    CircuitOpen,
    #[error("redis: no answer within {0:?}")]
    Timeout(Duration),
}

#[async_trait]
pub trait FlagCache: Send + Sync + std::fmt::Debug {
    /// `"redis"` or `"memory"`, as `/health` reports it.
    fn kind(&self) -> &'static str;
    async fn get(&self, environment: Environment) -> Result<Option<String>, CacheError>;
    /// Stores `snapshot_json` (at `revision`) unless the cache was told of a newer revision since;
    /// returns whether it stored it.
    async fn put(
        &self,
        environment: Environment,
        snapshot_json: &str,
        revision: u64,
        ttl: Duration,
    ) -> Result<bool, CacheError>;
    /// The environment is at `revision` now: drop any cached set older than that, and refuse
    /// older ones from now on.
    async fn invalidate(&self, environment: Environment, revision: u64) -> Result<(), CacheError>;
    /// Tells the other origins of a committed write. A no-op where the store does it (PostgreSQL's
    /// `NOTIFY` inside the write transaction) or nothing else can listen (the in-process cache).
    async fn publish(&self, change: Change) -> Result<(), CacheError>;
    async fn ping(&self) -> Result<(), CacheError>;
}
