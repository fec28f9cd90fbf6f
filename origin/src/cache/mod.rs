//! The shared cache of each environment's flag set (cache-aside), behind a small trait.
//!
//! Values are the snapshot JSON of an environment (`{environment, revision, flags}`); the read path in
//! [`crate::flagset`] decides what to cache and when to invalidate.

mod memory;
mod redis;

use std::time::Duration;

use async_trait::async_trait;
use evaluator::Environment;

pub use self::memory::MemoryCache;
pub use self::redis::RedisCache;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
}

#[async_trait]
pub trait FlagCache: Send + Sync + std::fmt::Debug {
    /// `"redis"` or `"memory"`, as `/health` reports it.
    fn kind(&self) -> &'static str;
    async fn get(&self, environment: Environment) -> Result<Option<String>, CacheError>;
    async fn put(
        &self,
        environment: Environment,
        snapshot_json: &str,
        ttl: Duration,
    ) -> Result<(), CacheError>;
    async fn invalidate(&self, environment: Environment) -> Result<(), CacheError>;
    async fn ping(&self) -> Result<(), CacheError>;
}
