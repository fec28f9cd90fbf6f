//! How a write on one origin reaches the others.
//!
//! Every committed write announces `{"environment","revision"}`: on Redis pub/sub (channel
//! `<prefix>changes`) when `REDIS_URL` is set, and through PostgreSQL's `NOTIFY` whenever the store
//! is PostgreSQL (sent inside the write transaction, so delivered exactly when it commits). Each
//! origin listens on every channel it has, so a write still propagates in milliseconds while
//! either one is down; a write arrives twice when both are up, and the second copy is a no-op
//! (a message not newer than the revision held changes nothing, see [`FlagSets::on_change`]).
//! The message is a [`Change`]: `{"environment","revision"}` for a flag or segment write, and
//! `{"tokens": revision}` for a token write, on which the verifier reloads its table
//! ([`Tokens::catch_up`]).
//! A message newer than the set held makes the origin reload that environment in the background.
//! A subscriber that (re)connects may have missed messages, so it resynchronises every environment.
//!
//! The safety net is [`revalidate_periodically`]: a background task compares the revisions held
//! with the store's once per interval, so a lost message (every channel down while a write
//! happened, a SQLite store, which has no notifications) costs at most that long, and never a
//! request's time.
//!
//! Whether each subscriber listens right now ([`Subscriptions`]) is what `/health` reports.

mod status;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use sqlx::postgres::PgListener;

pub use self::status::{Channel, ListenStatus, Subscription, Subscriptions};
use crate::cache::RedisCache;
use crate::change::Change;
use crate::config::Secret;
use crate::flagset::FlagSets;
use crate::metrics::ChangeMessages;
use crate::store::NOTIFY_CHANNEL;
use crate::tokens::Tokens;

const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// What the change messages keep fresh: the flag sets and the token table.
#[derive(Debug, Clone)]
pub struct Receivers {
    pub flags: Arc<FlagSets>,
    pub tokens: Arc<Tokens>,
    /// Counted per channel for `GET /metrics`.
    pub messages: Arc<ChangeMessages>,
}

impl Receivers {
    fn on_message(&self, channel: Channel, payload: &[u8]) {
        self.messages.received(channel);
        match Change::from_json(payload) {
            Some(Change::Environment(change)) => {
                self.flags
                    .on_change_committed(change, crate::change::committed_at(payload));
            }
            Some(Change::Tokens(revision)) => {
                let tokens = Arc::clone(&self.tokens);
                tokio::spawn(async move {
                    if let Err(err) = tokens.catch_up(revision).await {
                        tracing::warn!(%err, "tokens not reloaded after a change message");
                    }
                });
            }
            None => tracing::warn!(
                payload = %String::from_utf8_lossy(payload),
                "ignoring a change message that does not parse"
            ),
        }
    }

    /// After a (re)connect, messages may have been missed: compare everything with the store.
    async fn resync(&self, purge_cache: bool) {
        self.flags.resync(purge_cache).await;
        self.tokens.resync().await;
    }
}

/// Listens on Redis pub/sub for as long as the process runs, reconnecting with backoff.
pub async fn subscribe_redis(receivers: Receivers, redis: RedisCache, status: Arc<Subscription>) {
    let mut wait = RETRY_FIRST;
    loop {
        match redis.subscribe().await {
            Ok(pubsub) => {
                status.set_listening(true);
                wait = RETRY_FIRST;
                tracing::info!(channel = %redis.channel(), "listening for flag changes on redis");
                // Subscribed first, then resynchronised: a write in between is caught either way.
                receivers.resync(true).await;
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    receivers.on_message(Channel::Redis, message.get_payload_bytes());
                }
                status.set_listening(false);
                tracing::warn!("redis subscription lost; reconnecting");
            }
            Err(err) => {
                status.set_listening(false);
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
pub async fn subscribe_postgres(receivers: Receivers, url: Secret, status: Arc<Subscription>) {
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
                status.set_listening(false);
                tracing::debug!(%err, "cannot listen on postgres yet");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
                continue;
            }
            Err(_) => {
                status.set_listening(false);
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
                continue;
            }
        };
        status.set_listening(true);
        wait = RETRY_FIRST;
        tracing::info!(
            channel = NOTIFY_CHANNEL,
            "listening for flag changes on postgres"
        );
        receivers.resync(false).await;
        loop {
            // `try_recv` answers `None` when the connection was lost: messages may be gone with it.
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    receivers.on_message(Channel::Postgres, notification.payload().as_bytes())
                }
                Ok(None) => break,
                Err(err) => {
                    tracing::debug!(%err, "postgres listener failed");
                    break;
                }
            }
        }
        status.set_listening(false);
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

/// The token table's safety net: twice per revalidation `interval` (every 500 ms by default), so a
/// revocation that no channel carried is still refused everywhere within a second.
pub async fn revalidate_tokens_periodically(tokens: Arc<Tokens>, interval: Duration) {
    let mut ticker = tokio::time::interval((interval / 2).max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        tokens.resync().await;
    }
}
