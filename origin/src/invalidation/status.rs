//! Whether each change-message subscriber is listening right now, as `/health` reports it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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

/// The state of one subscriber, or of all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenStatus {
    /// Listening (all of them, for [`Subscriptions::status`]; also when there is none).
    Ok,
    /// Not listening, (re)connecting with backoff (for [`Subscriptions::status`]: at least one).
    Reconnecting,
}

impl ListenStatus {
    /// `ok` or `reconnecting`, as `/health` says it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Reconnecting => "reconnecting",
        }
    }
}

/// Whether one channel's subscriber is listening right now.
#[derive(Debug)]
pub struct Subscription {
    pub channel: Channel,
    listening: AtomicBool,
}

impl Subscription {
    /// Not listening until the subscriber says so.
    pub fn new(channel: Channel) -> Self {
        Self {
            channel,
            listening: AtomicBool::new(false),
        }
    }

    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    pub fn status(&self) -> ListenStatus {
        if self.is_listening() {
            ListenStatus::Ok
        } else {
            ListenStatus::Reconnecting
        }
    }

    /// What the subscriber task says of itself: subscribed, or connection lost.
    pub(super) fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::Release);
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

    /// Each channel with its status, Redis first.
    pub fn each(&self) -> impl Iterator<Item = (Channel, ListenStatus)> + '_ {
        [&self.redis, &self.postgres]
            .into_iter()
            .flatten()
            .map(|s| (s.channel, s.status()))
    }

    /// `Ok` when every channel listens (or there is none); `Reconnecting` when one of them does
    /// not, even if the other still carries the messages ([`Self::each`] tells which).
    pub fn status(&self) -> ListenStatus {
        if self.each().all(|(_, status)| status == ListenStatus::Ok) {
            ListenStatus::Ok
        } else {
            ListenStatus::Reconnecting
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_must_listen_for_the_whole_to_be_ok() {
        assert_eq!(Subscriptions::default().status(), ListenStatus::Ok);
        assert_eq!(Subscriptions::default().label(), "none");
        let redis = Arc::new(Subscription::new(Channel::Redis));
        let postgres = Arc::new(Subscription::new(Channel::Postgres));
        let both = Subscriptions::new(Some(Arc::clone(&redis)), Some(Arc::clone(&postgres)));
        assert_eq!(both.label(), "redis+postgres");
        assert_eq!(
            both.status(),
            ListenStatus::Reconnecting,
            "none listens yet"
        );
        postgres.set_listening(true);
        assert_eq!(both.status(), ListenStatus::Reconnecting);
        assert_eq!(
            both.each()
                .map(|(c, s)| (c.as_str(), s.as_str()))
                .collect::<Vec<_>>(),
            [("redis", "reconnecting"), ("postgres", "ok")]
        );
        redis.set_listening(true);
        assert_eq!(both.status().as_str(), "ok");
        redis.set_listening(false);
        assert_eq!(both.status().as_str(), "reconnecting");
    }
}
