//! How a write on one origin reaches the others.
//!
//! Every committed write announces `{"environment","revision"}`: on Redis pub/sub (channel
//! `<prefix>changes`) when `REDIS_URL` is set, and through PostgreSQL's `NOTIFY` whenever the store
//! is PostgreSQL (sent inside the write transaction, so delivered exactly when it commits). Each
//! origin listens on every channel it has, so a write still propagates in milliseconds while
//! either one is down; a write arrives twice when both are up, and the second copy is a no-op
//! (a message not newer than the revision held changes nothing, see [`FlagSets::on_change`]).
//! A message newer than the set held makes the origin reload that environment in the background.
//! A subscriber that (re)connects may have missed messages, so it resynchronises every environment.
//!
//! The safety net is [`revalidate_periodically`]: a background task compares the revisions held
//! with the store's once per interval, so a lost message (every channel down while a write
//! happened, a SQLite store, which has no notifications) costs at most that long, and never a
//! request's time.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use evaluator::Environment;
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;

use crate::cache::RedisCache;
use crate::config::Secret;
use crate::flagset::FlagSets;
use crate::store::NOTIFY_CHANNEL;

/// One committed write: `environment` is at `revision` now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub environment: Environment,
    pub revision: u64,
}

impl Change {
    pub fn to_json(self) -> String {
        // Two plain fields: serialization cannot fail, but never panic over it.
        serde_json::to_string(&self).unwrap_or_default()
    }

    pub fn from_json(payload: &[u8]) -> Option<Self> {
        serde_json::from_slice(payload).ok()
    }
}

/// A channel that carries change messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Redis,
    Postgres,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redis => "redis",
            Self::Postgres => "postgres",
        }
    }
}

const CONNECTING: u8 = 0;
const LISTENING: u8 = 1;

/// Whether one channel's subscriber is listening right now.
#[derive(Debug)]
pub struct Subscription {
    pub channel: Channel,
    state: AtomicU8,
}

impl Subscription {
    pub fn new(channel: Channel) -> Self {
        Self {
            channel,
            state: AtomicU8::new(CONNECTING),
        }
    }

    pub fn is_listening(&self) -> bool {
        self.state.load(Ordering::Acquire) == LISTENING
    }

    /// `ok` while listening, `reconnecting` otherwise.
    pub fn status(&self) -> &'static str {
        if self.is_listening() {
            "ok"
        } else {
            "reconnecting"
        }
    }

    fn set(&self, state: u8) {
        self.state.store(state, Ordering::Release);
    }
}

/// Every channel this origin listens on, as `/health` reports them.
#[derive(Debug, Default)]
pub struct Subscriptions {
    redis: Option<Arc<Subscription>>,
    postgres: Option<Arc<Subscription>>,
}

impl Subscriptions {
    pub fn new(redis: Option<Arc<Subscription>>, postgres: Option<Arc<Subscription>>) -> Self {
        Self { redis, postgres }
    }

    /// What listens: `redis+postgres`, `redis`, `postgres`, or `none` (SQLite: one origin per
    /// database file, nothing to tell).
    pub fn label(&self) -> &'static str {
        match (&self.redis, &self.postgres) {
            (Some(_), Some(_)) => "redis+postgres",
            (Some(_), None) => "redis",
            (None, Some(_)) => "postgres",
            (None, None) => "none",
        }
    }

    /// Each channel with its status (`ok` or `reconnecting`), Redis first.
    pub fn each(&self) -> impl Iterator<Item = (Channel, &'static str)> + '_ {
        [&self.redis, &self.postgres]
            .into_iter()
            .flatten()
            .map(|s| (s.channel, s.status()))
    }

    /// `ok` when every channel listens (or there is none); `reconnecting` when one of them does
    /// not, even if the other still carries the messages ([`Self::each`] tells which).
    pub fn status(&self) -> &'static str {
        if self.each().all(|(_, status)| status == "ok") {
            "ok"
        } else {
            "reconnecting"
        }
    }
}

const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

fn on_message(flags: &Arc<FlagSets>, payload: &[u8]) {
    match Change::from_json(payload) {
        Some(change) => {
            flags.on_change(change.environment, change.revision);
        }
        None => tracing::warn!(
            payload = %String::from_utf8_lossy(payload),
            "ignoring a change message that does not parse"
        ),
    }
}

/// Listens on Redis pub/sub for as long as the process runs, reconnecting with backoff.
pub async fn subscribe_redis(flags: Arc<FlagSets>, redis: RedisCache, status: Arc<Subscription>) {
    let mut wait = RETRY_FIRST;
    loop {
        match redis.subscribe().await {
            Ok(pubsub) => {
                status.set(LISTENING);
                wait = RETRY_FIRST;
                tracing::info!(channel = %redis.channel(), "listening for flag changes on redis");
                // Subscribed first, then resynchronised: a write in between is caught either way.
                flags.resync(true).await;
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    on_message(&flags, message.get_payload_bytes());
                }
                status.set(CONNECTING);
                tracing::warn!("redis subscription lost; reconnecting");
            }
            Err(err) => {
                status.set(CONNECTING);
                tracing::debug!(%err, "cannot subscribe on redis yet");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
        }
    }
}

/// Listens for PostgreSQL notifications for as long as the process runs, reconnecting with backoff.
///
/// The listener has a connection of its own (not one of the store's pool), and reconnects here
/// rather than inside sqlx, so that a lost connection is seen (and followed by a resync) at once.
pub async fn subscribe_postgres(flags: Arc<FlagSets>, url: Secret, status: Arc<Subscription>) {
    let mut wait = RETRY_FIRST;
    loop {
        let connect = async {
            let mut listener = PgListener::connect(url.expose()).await?;
            listener.eager_reconnect(false);
            listener.listen(NOTIFY_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match tokio::time::timeout(Duration::from_secs(3), connect).await {
            Ok(Ok(listener)) => listener,
            Ok(Err(err)) => {
                status.set(CONNECTING);
                tracing::debug!(%err, "cannot listen on postgres yet");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
                continue;
            }
            Err(_) => {
                status.set(CONNECTING);
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
                continue;
            }
        };
        status.set(LISTENING);
        wait = RETRY_FIRST;
        tracing::info!(
            channel = NOTIFY_CHANNEL,
            "listening for flag changes on postgres"
        );
        flags.resync(false).await;
        loop {
            // `try_recv` answers `None` when the connection was lost: messages may be gone with it.
            match listener.try_recv().await {
                Ok(Some(notification)) => on_message(&flags, notification.payload().as_bytes()),
                Ok(None) => break,
                Err(err) => {
                    tracing::debug!(%err, "postgres listener failed");
                    break;
                }
            }
        }
        status.set(CONNECTING);
        tracing::warn!("postgres notifications lost; reconnecting");
    }
}

/// The safety net: every `interval`, compare the held revisions with the store's, off the hot path.
pub async fn revalidate_periodically(flags: Arc<FlagSets>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        flags.resync(false).await;
    }
}
