//! The per-environment snapshot cache of one isolate, as a plain state machine.
//!
//! It holds no clock and does no I/O: the caller passes `now_ms` and reports what the origin said, so
//! every decision (serve, revalidate, wait for a fetch already running, keep serving after a failure)
//! is unit-tested on the host. The wasm glue in `sync.rs` drives it.

use std::rc::Rc;

use evaluator::Environment;

/// What the origin answered to one snapshot fetch.
#[derive(Debug)]
pub enum Outcome<T> {
    /// 200: a new snapshot, already compiled. `stale`: its source (the hub) could not confirm
    /// it with the origin lately.
    Fresh {
        value: T,
        revision: u64,
        etag: String,
        stale: bool,
    },
    /// 304: the cached snapshot is still current.
    NotModified,
    /// Unreachable, too slow, an unexpected status or a body that does not parse.
    Failed,
}

/// What a request must do before it can answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// The cached snapshot (or its absence) is the answer; do not call the origin.
    Serve,
    /// This request fetches for everyone; `etag` is sent as `If-None-Match` when there is one.
    Lead { ticket: u64, etag: Option<String> },
    /// Another request is fetching for a cold slot; wait until `ticket` is settled, then serve
    /// what is cached (if anything).
    Wait { ticket: u64 },
}

/// A compiled snapshot and what is known about its freshness.
#[derive(Debug)]
pub struct Cached<T> {
    pub value: Rc<T>,
    pub revision: u64,
    pub etag: String,
    /// When the origin last confirmed (200/304) or failed to confirm this snapshot.
    pub checked_at_ms: u64,
    /// True while the last attempt to reach the origin failed: the answer may be out of date.
    pub stale: bool,
}

#[derive(Debug)]
struct InFlight {
    ticket: u64,
    started_at_ms: u64,
}

#[derive(Debug)]
struct Slot<T> {
    cached: Option<Cached<T>>,
    in_flight: Option<InFlight>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            cached: None,
            in_flight: None,
        }
    }
}

/// One slot per environment.
#[derive(Debug)]
pub struct SnapshotCache<T> {
    ttl_ms: u64,
    /// A fetch older than this is presumed lost (its request was cancelled) and is replaced.
    in_flight_limit_ms: u64,
    next_ticket: u64,
    slots: [Slot<T>; 3],
}

fn index(environment: Environment) -> usize {
    match environment {
        Environment::Dev => 0,
        Environment::Staging => 1,
        Environment::Prod => 2,
    }
}

impl<T> SnapshotCache<T> {
    pub fn new(ttl_ms: u64, in_flight_limit_ms: u64) -> Self {
        SnapshotCache {
            ttl_ms,
            in_flight_limit_ms,
            next_ticket: 1,
            slots: Default::default(),
        }
    }

    pub fn ttl_ms(&self) -> u64 {
        self.ttl_ms
    }

    /// Changing the TTL (the var was edited between deployments of the same isolate) keeps the data.
    pub fn set_ttl_ms(&mut self, ttl_ms: u64) {
        self.ttl_ms = ttl_ms;
    }

    pub fn get(&self, environment: Environment) -> Option<&Cached<T>> {
        self.slots[index(environment)].cached.as_ref()
    }

    /// Decides what a request for `environment` does now; `Lead` registers the caller's fetch.
    pub fn plan(&mut self, environment: Environment, now_ms: u64) -> Plan {
        let ttl_ms = self.ttl_ms;
        let limit_ms = self.in_flight_limit_ms;
        let slot = &mut self.slots[index(environment)];
        if let Some(cached) = &slot.cached {
            // saturating: a clock that went backwards counts as "just checked".
            if now_ms.saturating_sub(cached.checked_at_ms) < ttl_ms {
                return Plan::Serve;
            }
        }
        if let Some(in_flight) = &slot.in_flight {
            if now_ms.saturating_sub(in_flight.started_at_ms) < limit_ms {
                // Only the request that revalidates waits on the origin; the others answer from
                // the snapshot in hand (at most one round trip older). A cold slot has none: wait.
                return if slot.cached.is_some() {
                    Plan::Serve
                } else {
                    Plan::Wait {
                        ticket: in_flight.ticket,
                    }
                };
            }
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        slot.in_flight = Some(InFlight {
            ticket,
            started_at_ms: now_ms,
        });
        Plan::Lead {
            ticket,
            etag: slot.cached.as_ref().map(|cached| cached.etag.clone()),
        }
    }

    /// True once the fetch `ticket` has finished (or was given up and replaced).
    pub fn is_settled(&self, environment: Environment, ticket: u64) -> bool {
        !matches!(&self.slots[index(environment)].in_flight, Some(f) if f.ticket == ticket)
    }

    /// Records what the fetch `ticket` brought back.
    pub fn finish(
        &mut self,
        environment: Environment,
        ticket: u64,
        outcome: Outcome<T>,
        now_ms: u64,
    ) {
        let slot = &mut self.slots[index(environment)];
        let current = matches!(&slot.in_flight, Some(f) if f.ticket == ticket);
        if current {
            slot.in_flight = None;
        }
        match outcome {
            Outcome::Fresh {
                value,
                revision,
                etag,
                stale,
            } => {
                // A late answer from a fetch that was given up must not roll a newer snapshot back.
                // The current fetch's answer is the origin's word, even with a lower revision: its
                // database was restored or replaced and counts from there again. Refusing it would
                // serve the old flags for good and fetch the whole snapshot on every request.
                if !current && slot.cached.as_ref().is_some_and(|c| c.revision > revision) {
                    return;
                }
                slot.cached = Some(Cached {
                    value: Rc::new(value),
                    revision,
                    etag,
                    checked_at_ms: now_ms,
                    stale,
                });
            }
            Outcome::NotModified => {
                if let Some(cached) = &mut slot.cached {
                    cached.checked_at_ms = now_ms;
                    cached.stale = false;
                }
            }
            Outcome::Failed => {
                // Keep serving what we have, say so, and let the origin rest for one TTL before
                // the next attempt rather than making every request wait for the time-out.
                if let Some(cached) = &mut slot.cached {
                    cached.checked_at_ms = now_ms;
                    cached.stale = true;
                }
            }
        }
    }

    /// The environments that hold a snapshot, for `/health`.
    pub fn entries(&self) -> impl Iterator<Item = (Environment, &Cached<T>)> {
        Environment::ALL
            .into_iter()
            .filter_map(|env| self.get(env).map(|cached| (env, cached)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    const TTL: u64 = 10_000;
    const LIMIT: u64 = 3_000;
    const PROD: Environment = Environment::Prod;

    fn fresh(value: &'static str, revision: u64) -> Outcome<&'static str> {
        Outcome::Fresh {
            value,
            revision,
            etag: format!("\"{revision}\""),
            stale: false,
        }
    }

    fn lead(cache: &mut SnapshotCache<&'static str>, now: u64) -> (u64, Option<String>) {
        match cache.plan(PROD, now) {
            Plan::Lead { ticket, etag } => (ticket, etag),
            other => panic!("expected Lead, got {other:?}"),
        }
    }

    #[test]
    fn a_cold_cache_leads_one_fetch_and_others_wait_for_it() {
        let mut cache = SnapshotCache::new(TTL, LIMIT);
        let (ticket, etag) = lead(&mut cache, 0);
        assert_eq!(etag, None);
        assert_eq!(cache.plan(PROD, 5), Plan::Wait { ticket });
        assert_eq!(cache.plan(PROD, 6), Plan::Wait { ticket });
        assert!(!cache.is_settled(PROD, ticket));
        cache.finish(PROD, ticket, fresh("a", 1), 10);
        assert!(cache.is_settled(PROD, ticket));
        assert_eq!(cache.plan(PROD, 11), Plan::Serve);
        let cached = cache.get(PROD).expect("stored");
        assert_eq!(
            (*cached.value, cached.revision, cached.stale),
            ("a", 1, false)
        );
    }

    #[test]
    fn environments_are_independent() {
        let mut cache = SnapshotCache::new(TTL, LIMIT);
        let (ticket, _) = lead(&mut cache, 0);
        cache.finish(PROD, ticket, fresh("p", 1), 0);
        assert!(matches!(cache.plan(Environment::Dev, 1), Plan::Lead { .. }));
        assert!(cache.get(Environment::Dev).is_none());
        assert_eq!(cache.plan(PROD, 1), Plan::Serve);
    }

    #[test]
    fn after_the_ttl_the_next_request_revalidates_with_the_etag() {
        let mut cache = SnapshotCache::new(TTL, LIMIT);
        let (ticket, _) = lead(&mut cache, 0);
        cache.finish(PROD, ticket, fresh("a", 7), 0);
        assert_eq!(cache.plan(PROD, TTL - 1), Plan::Serve);
        let (ticket, etag) = lead(&mut cache, TTL);
        assert_eq!(etag.as_deref(), Some("\"7\""));
        cache.finish(PROD, ticket, Outcome::NotModified, TTL + 3);
        let cached = cache.get(PROD).expect("kept");
        assert_eq!((*cached.value, cached.checked_at_ms), ("a", TTL + 3));
        assert_eq!(cache.plan(PROD, TTL + 4), Plan::Serve);
    }

    #[test]
    fn while_one_request_revalidates_the_others_serve_the_snapshot_in_hand() {
        let mut cache = SnapshotCache::new(TTL, LIMIT);
        let (ticket, _) = lead(&mut cache, 0);
        cache.finish(PROD, ticket, fresh("a", 1), 0);
        let (ticket, _) = lead(&mut cache, TTL);
        assert_eq!(cache.plan(PROD, TTL + 1), Plan::Serve);
        assert_eq!(*cache.get(PROD).expect("kept").value, "a");
        cache.finish(PROD, ticket, fresh("b", 2), TTL + 5);
        assert_eq!(*cache.get(PROD).expect("replaced").value, "b");
    }

    #[test]
    fn a_failure_keeps_the_snapshot_marks_it_stale_and_backs_off_one_ttl() {
        let mut cache = SnapshotCache::new(TTL, LIMIT);
        let (ticket, _) = lead(&mut cache, 0);
        cache.finish(PROD, ticket, fresh("a", 2), 0);
        let (ticket, _) = lead(&mut cache, TTL);
        cache.finish(PROD, ticket, Outcome::Failed, TTL + 2_000);
        let cached = cache.get(PROD).expect("kept");
        assert_eq!((*cached.value, cached.stale), ("a", true));
        assert_eq!(cache.plan(PROD, TTL + 2_001), Plan::Serve);
        // The origin is back: the next revalidation clears the stale mark.
        let (ticket, _) = lead(&mut cache, 2 * TTL + 2_000);
        cache.finish(PROD, ticket, Outcome::NotModified, 2 * TTL + 2_001);
        assert!(!cache.get(PROD).expect("kept").stale);
    }

    #[test]
    fn a_failure_on_a_cold_cache_leaves_it_empty_and_the_next_request_tries_again() {
        let mut cache: SnapshotCache<&'static str> = SnapshotCache::new(TTL, LIMIT);
        let (ticket, _) = lead(&mut cache, 0);
        cache.finish(PROD, ticket, Outcome::Failed, 100);
        assert!(cache.get(PROD).is_none());
        assert!(cache.is_settled(PROD, ticket));
        assert!(matches!(cache.plan(PROD, 101), Plan::Lead { .. }));
    }

    #[test]
    fn a_fetch_that_never_returns_is_replaced_after_the_limit() {
        let mut cache = SnapshotCache::new(TTL, LIMIT);
        let (lost, _) = lead(&mut cache, 0);
        assert_eq!(cache.plan(PROD, LIMIT - 1), Plan::Wait { ticket: lost });
        let (ticket, _) = lead(&mut cache, LIMIT);
        assert_ne!(ticket, lost);
        assert!(cache.is_settled(PROD, lost));
        cache.finish(PROD, ticket, fresh("new", 5), LIMIT + 1);
        // The lost fetch answers late with an older revision: it does not roll back.
        cache.finish(PROD, lost, fresh("old", 4), LIMIT + 2);
        assert_eq!(*cache.get(PROD).expect("kept").value, "new");
    }

    #[test]
    fn a_lower_revision_from_the_current_fetch_replaces_the_snapshot() {
        // The origin's database was replaced: its revisions start again from a lower number.
        let mut cache = SnapshotCache::new(TTL, LIMIT);
        let (ticket, _) = lead(&mut cache, 0);
        cache.finish(PROD, ticket, fresh("old database", 40), 0);
        let (ticket, etag) = lead(&mut cache, TTL);
        assert_eq!(etag.as_deref(), Some("\"40\""));
        cache.finish(PROD, ticket, fresh("new database", 2), TTL + 1);
        let cached = cache.get(PROD).expect("replaced");
        assert_eq!(
            (*cached.value, cached.revision, cached.checked_at_ms),
            ("new database", 2, TTL + 1)
        );
        assert_eq!(cache.plan(PROD, TTL + 2), Plan::Serve);
    }

    #[test]
    fn a_clock_that_goes_backwards_serves_the_cache() {
        let mut cache = SnapshotCache::new(TTL, LIMIT);
        let (ticket, _) = lead(&mut cache, 50_000);
        cache.finish(PROD, ticket, fresh("a", 1), 50_000);
        assert_eq!(cache.plan(PROD, 10), Plan::Serve);
    }

    #[test]
    fn a_new_ttl_applies_to_the_cached_snapshot() {
        let mut cache = SnapshotCache::new(TTL, LIMIT);
        let (ticket, _) = lead(&mut cache, 0);
        cache.finish(PROD, ticket, fresh("a", 1), 0);
        cache.set_ttl_ms(1_000);
        assert_eq!(cache.ttl_ms(), 1_000);
        assert!(matches!(cache.plan(PROD, 1_000), Plan::Lead { .. }));
        assert_eq!(
            cache
                .entries()
                .map(|(e, _)| e.as_str().to_string())
                .collect::<Vec<_>>(),
            ["prod"]
        );
    }
}
