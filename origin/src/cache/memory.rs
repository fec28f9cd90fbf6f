//! The in-process cache used when `REDIS_URL` is not set: same contract as Redis, TTL included.
//!
//! Only one origin sees it, and the read path's revision floor already keeps older sets out, so it
//! needs no revision guard of its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use evaluator::Environment;

use super::{CacheError, FlagCache};
use crate::change::Change;

#[derive(Debug, Default)]
pub struct MemoryCache {
    entries: Mutex<HashMap<Environment, (String, Instant)>>,
}

impl MemoryCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// A poisoned lock only means another thread panicked mid-insert; the map itself is still valid.
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Environment, (String, Instant)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl FlagCache for MemoryCache {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, environment: Environment) -> Result<Option<String>, CacheError> {
        let mut entries = self.entries();
        match entries.get(&environment) {
            Some((json, expires)) if *expires > Instant::now() => Ok(Some(json.clone())),
            Some(_) => {
                entries.remove(&environment);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn put(
        &self,
        environment: Environment,
        snapshot_json: &str,
        _revision: u64,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        self.entries().insert(
            environment,
            (snapshot_json.to_owned(), Instant::now() + ttl),
        );
        Ok(true)
    }

    async fn invalidate(&self, environment: Environment, _revision: u64) -> Result<(), CacheError> {
        self.entries().remove(&environment);
        Ok(())
    }

    async fn publish(&self, _change: Change) -> Result<(), CacheError> {
        Ok(())
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_expire_and_invalidate() {
        let cache = MemoryCache::new();
        let env = Environment::Prod;
        cache
            .put(env, "a", 1, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(cache.get(env).await.unwrap().as_deref(), Some("a"));
        assert_eq!(cache.get(Environment::Dev).await.unwrap(), None);
        cache.invalidate(env, 2).await.unwrap();
        assert_eq!(cache.get(env).await.unwrap(), None);
        cache.put(env, "b", 2, Duration::ZERO).await.unwrap();
        assert_eq!(cache.get(env).await.unwrap(), None);
    }
}
