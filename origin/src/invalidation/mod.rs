//! How a write on one origin reaches the others.
//!
//! Every committed write announces `{"environment","revision"}`: on Redis pub/sub (channel
//! `<prefix>changes`) when `REDIS_URL` is set, and through PostgreSQL's `NOTIFY` whenever the store
//! is PostgreSQL (sent inside the write transaction, so delivered exactly when it commits). Each
//! origin listens on every channel it has, so a write still propagates in milliseconds while
//! either one is down; a write arrives twice when both are up, and the second copy is a no-op
//! (a message not newer than the revision held changes nothing, see [`FlagSets::on_change`]).
//! The message is a [`Revision`], `{"environment","revision"}`.
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
use crate::config::Secret;
use crate::flagset::FlagSets;
use crate::revision::Revision;
use crate::store::NOTIFY_CHANNEL;

const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

fn on_message(flags: &Arc<FlagSets>, payload: &[u8]) {
    match Revision::from_json(payload) {
        Some(change) => {
            flags.on_change(change);
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
                status.set_listening(true);
                wait = RETRY_FIRST;
                tracing::info!(channel = %redis.channel(), "listening for flag changes on redis");
                // Subscribed first, then resynchronised: a write in between is caught either way.
                flags.resync(true).await;
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    on_message(&flags, message.get_payload_bytes());
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
