//! The shared Redis cache: one key per environment, `<prefix>flags:<environment>`, set with a TTL.

use std::time::Duration;

use async_trait::async_trait;
use evaluator::Environment;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use super::{CacheError, FlagCache};

#[derive(Clone)]
pub struct RedisCache {
    connection: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// Connects once; the manager reconnects on its own after that.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, CacheError> {
        let client = redis::Client::open(url)?;
        // Bounded waits: a slow or gone Redis must turn into a cache miss quickly, not a hung request.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connection = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            connection,
            prefix: prefix.into(),
        })
    }

    /// The key that holds an environment's snapshot JSON.
    pub fn key(prefix: &str, environment: Environment) -> String {
        format!("{prefix}flags:{}", environment.as_str())
    }
}

#[async_trait]
impl FlagCache for RedisCache {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, environment: Environment) -> Result<Option<String>, CacheError> {
        let mut connection = self.connection.clone();
        Ok(connection.get(Self::key(&self.prefix, environment)).await?)
    }

    async fn put(
        &self,
        environment: Environment,
        snapshot_json: &str,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        let seconds = ttl.as_secs().max(1);
        let () = connection
            .set_ex(Self::key(&self.prefix, environment), snapshot_json, seconds)
            .await?;
        Ok(())
    }

    async fn invalidate(&self, environment: Environment) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        let _: u64 = connection.del(Self::key(&self.prefix, environment)).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        let _: String = redis::cmd("PING").query_async(&mut connection).await?;
        Ok(())
    }
}
