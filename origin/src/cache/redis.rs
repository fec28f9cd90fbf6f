//! The shared Redis cache: one key per environment, `<prefix>flags:<environment>`, set with a TTL,
//! next to `<prefix>revision:<environment>`, the newest revision any origin wrote. Fills and
//! invalidations are Lua scripts that compare the two, so a slow origin cannot put back a set that
//! a write on another origin already replaced (the stale refill, across instances).
//!
//! A circuit breaker sits in front of every command: after a connection failure or time-out the
//! cache answers `CircuitOpen` at once, without touching the network, until a background probe
//! gets a `PONG` again. Without it every cache miss would wait on the client's reconnect attempt
//! while Redis is down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use evaluator::Environment;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::io::tcp::socket2::TcpKeepalive;
use redis::{AsyncCommands, IntoConnectionInfo as _, RedisError};

use super::{CacheError, FlagCache};
use crate::change::Change;

/// The longest a cache command may take before it counts as a failure (and opens the circuit).
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// First and longest wait between probes of a Redis that failed.
const PROBE_FIRST: Duration = Duration::from_millis(100);
const PROBE_MAX: Duration = Duration::from_secs(2);
/// TCP keepalive on every connection: the pub/sub subscriber only reads, so without probes a
/// Redis that vanished without a FIN/RST (a dead host, a dropped NAT entry) would leave it
/// waiting forever. Idle 10 s, then 3 probes 5 s apart: noticed within about 25 s.
const KEEPALIVE: TcpKeepalive = TcpKeepalive::new()
    .with_time(Duration::from_secs(10))
    .with_interval(Duration::from_secs(5))
    .with_retries(3);

/// KEYS: flags key, revision key. ARGV: revision, snapshot JSON, TTL seconds.
const FILL: &str = r"
local newest = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) < newest then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
";

/// KEYS: flags key, revision key. ARGV: revision. Raises the revision key and deletes a cached set
/// older than it (or one that does not parse); a set already at that revision stays.
const INVALIDATE: &str = r"
local revision = tonumber(ARGV[1])
local newest = tonumber(redis.call('GET', KEYS[2]) or '0')
if revision > newest then redis.call('SET', KEYS[2], ARGV[1]) end
local cached = redis.call('GET', KEYS[1])
if cached then
  local ok, snapshot = pcall(cjson.decode, cached)
  if not ok or type(snapshot) ~= 'table' or type(snapshot.revision) ~= 'number'
     or snapshot.revision < revision then
    redis.call('DEL', KEYS[1])
  end
end
return 1
";

#[derive(Debug, Default)]
struct Breaker {
    open: AtomicBool,
}

#[derive(Clone)]
pub struct RedisCache {
    client: redis::Client,
    connection: ConnectionManager,
    prefix: String,
    breaker: Arc<Breaker>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.prefix)
            .field("open", &self.breaker.open.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Errors that say "Redis is not there", as opposed to "this command was wrong".
fn is_unreachable(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_refusal()
        || err.is_connection_dropped()
        || err.is_timeout()
        || err.is_unrecoverable_error()
}

impl RedisCache {
    /// Connects once; the manager reconnects on its own after that.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, CacheError> {
        let info = url.into_connection_info()?;
        let tcp = info.tcp_settings().clone().set_keepalive(KEEPALIVE);
        let client = redis::Client::open(info.set_tcp_settings(tcp))?;
        // Bounded waits: a slow or gone Redis must turn into a cache miss quickly, not a hung request.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connection = ConnectionManager::new_with_config(client.clone(), config).await?;
        Ok(Self {
            client,
            connection,
            prefix: prefix.into(),
            breaker: Arc::default(),
        })
    }

    /// The key that holds an environment's snapshot JSON.
    pub fn key(prefix: &str, environment: Environment) -> String {
        format!("{prefix}flags:{}", environment.as_str())
    }

    /// The key that holds the newest revision written to an environment.
    pub fn revision_key(prefix: &str, environment: Environment) -> String {
        format!("{prefix}revision:{}", environment.as_str())
    }

    /// The pub/sub channel of committed writes.
    pub fn channel(&self) -> String {
        format!("{}changes", self.prefix)
    }

    /// True while the circuit is open (Redis failed and has not answered a probe since).
    pub fn is_open(&self) -> bool {
        self.breaker.open.load(Ordering::Acquire)
    }

    /// A dedicated pub/sub connection subscribed to [`Self::channel`].
    pub async fn subscribe(&self) -> Result<redis::aio::PubSub, CacheError> {
        let connect = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(self.channel()).await?;
            Ok::<_, RedisError>(pubsub)
        };
        tokio::time::timeout(Duration::from_secs(2), connect)
            .await
            .map_err(|_| CacheError::Timeout(Duration::from_secs(2)))?
            .map_err(CacheError::from)
    }

    /// Runs one command through the breaker.
    async fn run<T>(
        &self,
        command: impl std::future::Future<Output = Result<T, RedisError>>,
    ) -> Result<T, CacheError> {
        if self.is_open() {
            return Err(CacheError::CircuitOpen);
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, command).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => {
                if is_unreachable(&err) {
                    self.trip();
                }
                Err(err.into())
            }
            Err(_) => {
                self.trip();
                Err(CacheError::Timeout(COMMAND_TIMEOUT))
            }
        }
    }

    /// Opens the circuit and starts the one probe task that closes it when Redis answers again.
    fn trip(&self) {
        if self.breaker.open.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!("redis unreachable; cache bypassed until it answers again");
        let breaker = Arc::clone(&self.breaker);
        let mut connection = self.connection.clone();
        tokio::spawn(async move {
            let mut wait = PROBE_FIRST;
            loop {
                tokio::time::sleep(wait).await;
                let ping = redis::cmd("PING");
                let answer = ping.query_async::<String>(&mut connection);
                if let Ok(Ok(_)) = tokio::time::timeout(COMMAND_TIMEOUT, answer).await {
                    breaker.open.store(false, Ordering::Release);
                    tracing::info!("redis answers again; cache back in use");
                    return;
                }
                wait = (wait * 2).min(PROBE_MAX);
            }
        });
    }
}

#[async_trait]
impl FlagCache for RedisCache {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, environment: Environment) -> Result<Option<String>, CacheError> {
        let mut connection = self.connection.clone();
        let key = Self::key(&self.prefix, environment);
        self.run(async move { connection.get(key).await }).await
    }

    async fn put(
        &self,
        environment: Environment,
        snapshot_json: &str,
        revision: u64,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let mut connection = self.connection.clone();
        let seconds = ttl.as_secs().max(1);
        let mut command = redis::cmd("EVAL");
        command
            .arg(FILL)
            .arg(2)
            .arg(Self::key(&self.prefix, environment))
            .arg(Self::revision_key(&self.prefix, environment))
            .arg(revision)
            .arg(snapshot_json)
            .arg(seconds);
        let stored: i64 = self
            .run(async move { command.query_async(&mut connection).await })
            .await?;
        Ok(stored == 1)
    }

    async fn invalidate(&self, environment: Environment, revision: u64) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("EVAL");
        command
            .arg(INVALIDATE)
            .arg(2)
            .arg(Self::key(&self.prefix, environment))
            .arg(Self::revision_key(&self.prefix, environment))
            .arg(revision);
        let _: i64 = self
            .run(async move { command.query_async(&mut connection).await })
            .await?;
        Ok(())
    }

    async fn publish(&self, change: Change) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        let channel = self.channel();
        let _: i64 = self
            .run(async move { connection.publish(channel, change.to_json()).await })
            .await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        let _: String = self
            .run(async move { redis::cmd("PING").query_async(&mut connection).await })
            .await?;
        Ok(())
    }
}
