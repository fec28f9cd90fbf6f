//! The change streams (`GET /api/stream`): how many are open, and what each one writes.
//!
//! A stream follows its environment's revision on the `watch` that [`FlagSets`] raises whenever
//! this origin learns of a newer one: its own writes, the change messages of the other origins
//! (Redis pub/sub, PostgreSQL `NOTIFY`), its revalidation, its loads. So a write on any origin
//! reaches the streams of every origin as fast as it reaches their read paths, with no polling
//! and nothing on the evaluation path. What each stream writes is decided in [`session`]; this
//! module waits (for a rise, a heartbeat tick, the shutdown) and hands the bytes to the response.
//!
//! Limits: at most [`Streams::limit`] open at once (`MAX_STREAMS`, and never more than three
//! quarters of `MAX_CONNECTIONS`, since each holds a connection and requests must still find
//! one); past it the route answers 503 with `Retry-After`. A stream ends when the origin shuts
//! down ([`Streams::close_all`], so a graceful shutdown is not held open by its streams), when its
//! token is revoked (checked at each heartbeat), or when the client goes away (seen at the next
//! write, a heartbeat at the latest).

pub mod session;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use evaluator::Environment;
use futures_util::Stream;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, MissedTickBehavior};

use self::session::{Session, HEARTBEAT};
use crate::access::TokenId;
use crate::config::StreamLimits;
use crate::tokens::Tokens;

/// The open streams of this origin.
#[derive(Debug)]
pub struct Streams {
    limit: usize,
    slots: Arc<Semaphore>,
    heartbeat: Duration,
    closing: watch::Sender<bool>,
}

/// Seconds a client refused at the cap is told to wait.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// The `retry:` hint, in milliseconds: a base and a random part, so that the clients of an origin
/// that shut down do not all come back in the same instant.
const RETRY_BASE_MS: u64 = 1000;
const RETRY_SPREAD_MS: u64 = 2000;

/// The most streams one origin holds given both limits: `MAX_STREAMS`, and three quarters of
/// `MAX_CONNECTIONS` (a stream holds a connection; the rest stay for requests).
pub fn limit(limits: StreamLimits, max_connections: usize) -> usize {
    limits
        .max_streams
        .min(max_connections - max_connections / 4)
}

/// Where a stream's right to stay open comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// No token (evaluation is public): nothing to revoke.
    Public,
    /// This token, checked at each heartbeat: the stream ends once it is revoked.
    Token(TokenId),
}

/// What one stream needs to run, gathered by the route once the request is authorized.
#[derive(Debug)]
pub struct Opened {
    pub environment: Environment,
    /// The revision the environment is at as the stream opens, and the watch of later ones
    /// (subscribed before that revision was read, so nothing falls in between).
    pub current: u64,
    pub watch: watch::Receiver<u64>,
    /// `Last-Event-ID`, read.
    pub last_seen: Option<u64>,
    pub grant: Grant,
    pub tokens: Arc<Tokens>,
    /// The stream's place under the cap, given back when the stream ends.
    pub slot: OwnedSemaphorePermit,
}

impl Streams {
    pub fn new(limits: StreamLimits, max_connections: usize) -> Self {
        let limit = limit(limits, max_connections);
        Self {
            limit,
            slots: Arc::new(Semaphore::new(limit)),
            heartbeat: limits.heartbeat,
            closing: watch::Sender::new(false),
        }
    }

    /// The most streams held at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// How many are open now.
    pub fn open(&self) -> usize {
        self.limit - self.slots.available_permits()
    }

    /// A place for one more stream, or `None` at the cap (or while shutting down).
    pub fn try_reserve(&self) -> Option<OwnedSemaphorePermit> {
        if *self.closing.borrow() {
            return None;
        }
        Arc::clone(&self.slots).try_acquire_owned().ok()
    }

    /// Ends every stream (the shutdown): each writes nothing more and its response completes, so
    /// the server's graceful shutdown is not held open by them.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// The bytes of one stream, as they are to be written, until it ends.
    pub fn run(&self, opened: Opened) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
        let retry_ms = RETRY_BASE_MS + rand::random::<u64>() % RETRY_SPREAD_MS;
        let (session, first) = Session::open(
            opened.environment,
            opened.current,
            opened.last_seen,
            retry_ms,
        );
        let mut ticker = tokio::time::interval_at(Instant::now() + self.heartbeat, self.heartbeat);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let running = Running {
            session,
            watch: opened.watch,
            ticker,
            closing: self.closing.subscribe(),
            grant: opened.grant,
            tokens: opened.tokens,
            _slot: opened.slot,
        };
        let first = futures_util::stream::once(async move { Ok(Bytes::from(first)) });
        let rest = futures_util::stream::unfold(running, |mut running| async move {
            let bytes = running.next().await?;
            Some((Ok(Bytes::from(bytes)), running))
        });
        futures_util::StreamExt::chain(first, rest)
    }
}

/// A stream between writes.
struct Running {
    session: Session,
    watch: watch::Receiver<u64>,
    ticker: tokio::time::Interval,
    closing: watch::Receiver<bool>,
    grant: Grant,
    tokens: Arc<Tokens>,
    _slot: OwnedSemaphorePermit,
}

impl Running {
    /// What to write next, or `None` when the stream ends.
    async fn next(&mut self) -> Option<String> {
        loop {
            tokio::select! {
                // The shutdown first: a stream ends promptly even while changes keep coming.
                biased;
                _ = self.closing.wait_for(|&closing| closing) => return None,
                changed = self.watch.changed() => {
                    // The sender lives as long as the flag sets, which outlive every request.
                    changed.ok()?;
                    let revision = *self.watch.borrow_and_update();
                    if let Some(event) = self.session.revision(revision) {
                        return Some(event);
                    }
                }
                _ = self.ticker.tick() => {
                    if let Grant::Token(id) = self.grant {
                        if !self.tokens.still_valid(id) {
                            return None;
                        }
                    }
                    return Some(HEARTBEAT.to_owned());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_a_quarter_of_the_connections_to_requests() {
        let limits = |max_streams| StreamLimits {
            max_streams,
            heartbeat: Duration::from_secs(15),
        };
        assert_eq!(limit(limits(10_000), 1024), 768);
        assert_eq!(limit(limits(100), 1024), 100);
        assert_eq!(limit(limits(10_000), 20_000), 10_000);
        assert_eq!(limit(limits(0), 1024), 0);
        assert_eq!(limit(limits(5), 1), 1);
    }

    #[test]
    fn reserving_stops_at_the_cap_and_at_shutdown() {
        let streams = Streams::new(
            StreamLimits {
                max_streams: 2,
                heartbeat: Duration::from_secs(15),
            },
            1024,
        );
        let a = streams.try_reserve().unwrap();
        let _b = streams.try_reserve().unwrap();
        assert_eq!(streams.open(), 2);
        assert!(streams.try_reserve().is_none());
        drop(a);
        assert_eq!(streams.open(), 1);
        streams.close_all();
        assert!(streams.try_reserve().is_none());
    }
}
