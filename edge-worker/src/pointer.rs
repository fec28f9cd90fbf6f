//! The per-location pointer: a small Cache API entry per environment that names the version its
//! hub holds and whether the hub is stale, so that the isolates of a location ask their hub only
//! when the pointer is missing (expired, invalidated, never written) instead of on every check.
//!
//! This module is the pure part, host-tested: the entry's key, tag and body (a pointer or a
//! refresh lease: `Entry`), what an isolate does with what it read (`decide`), the lease it takes
//! before asking the hub and its lifetime (`lease_to_take`, `lease_ms`), what it writes after
//! asking the hub (`after_hub`), and the request of the production purge by tag
//! (`purge_request`).
//!
//! The refresh lease thins the herd at a miss: a warm isolate about to ask the hub first writes a
//! lease in the pointer's place; the location's other warm isolates that read it while it lives
//! ask nobody and keep what they serve until their next check. The Cache API has no
//! compare-and-set: isolates that read the miss before the first lease was written ask too. `pointer_cache.rs` reads, writes and
//! purges it with the Workers runtime; `sync.rs` drives the check; the hub invalidates.
//!
//! Forward only: a pointer naming a version at or below the one an isolate serves is "nothing
//! newer", never a reason to go back; a newer one is installed only from a copy of at least that
//! version (the location's last good snapshot) or from the hub.

use evaluator::Environment;

use crate::config::FETCH_TIMEOUT_MS;

/// `POINTER_MAX_AGE_SECONDS` when unset: how long a pointer lives in the Cache API without
/// being invalidated (the safety net for a purge that did not arrive, and for the race of a
/// pointer written just after the hub changed).
pub const DEFAULT_MAX_AGE_SECONDS: u64 = 1;

/// The Cloudflare API that `PURGE_ZONE_ID` is purged through (`PURGE_API_URL` overrides it, for
/// tests against a scripted server).
pub const DEFAULT_PURGE_API_URL: &str = "https://api.cloudflare.com/client/v4";

/// The Cache API key of `environment`'s pointer (a URL of a host nobody serves: it is never
/// fetched, only matched).
pub fn key(environment: Environment) -> String {
    format!("https://pennon-edge.internal/pointer/{environment}")
}

/// Its `Cache-Tag`, what the purge by tag names.
pub fn tag(environment: Environment) -> String {
    format!("pennon-pointer-{environment}")
}

/// Its `Cache-Control`.
pub fn cache_control(max_age_seconds: u64) -> String {
    format!("max-age={max_age_seconds}")
}

/// What a pointer says: the version the hub holds, and whether its last revalidation against the
/// origin failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pointer {
    pub version: u64,
    pub stale: bool,
}

impl Pointer {
    /// The entry's body: `"<version> fresh"` or `"<version> stale"`.
    pub fn body(&self) -> String {
        let freshness = if self.stale { "stale" } else { "fresh" };
        format!("{} {freshness}", self.version)
    }

    /// A body as `body` writes it; anything else is no pointer (a miss).
    pub fn parse(text: &str) -> Option<Pointer> {
        let (version, freshness) = text.trim().split_once(' ')?;
        let stale = match freshness {
            "fresh" => false,
            "stale" => true,
            _ => return None,
        };
        let version = version.parse().ok()?;
        Some(Pointer { version, stale })
    }
}

/// The shortest refresh lease, in ms: long enough for a hub's answer within a location or across
/// the world (tens to a few hundred ms) with room to spare.
pub const LEASE_MIN_MS: u64 = 500;
/// The longest: the time-out of a request to the hub, after which its leaseholder gives up anyway.
pub const LEASE_MAX_MS: u64 = FETCH_TIMEOUT_MS;

/// A refresh lease: an isolate of the location is asking the hub until `until_ms` (the clock of
/// the isolate that wrote it, ms since the Unix epoch); the others ask nobody meanwhile. It carries
/// the pointer it replaced when there was one (an isolate that found a newer version the location's
/// copy lacks), none when it replaced a miss: it never names a version of its own, so it can
/// neither make an isolate install nor hide the hub's staleness (beyond its lifetime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub until_ms: u64,
    pub pointer: Option<Pointer>,
}

/// What the pointer's Cache API entry holds: what the hub said, or a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Pointer(Pointer),
    Lease(Lease),
}

impl Entry {
    /// The body: a pointer's (`"<version> fresh|stale"`), or a lease's: `"lease-until=<ms>"`, or
    /// `"<version> fresh|stale lease-until=<ms>"` with the pointer it carries. A worker of the
    /// previous version (during a deploy) reads a lease as a body that does not parse: a miss, so
    /// it asks the hub as it always did.
    pub fn body(&self) -> String {
        match self {
            Entry::Pointer(pointer) => pointer.body(),
            Entry::Lease(Lease {
                until_ms,
                pointer: None,
            }) => format!("lease-until={until_ms}"),
            Entry::Lease(Lease {
                until_ms,
                pointer: Some(pointer),
            }) => format!("{} lease-until={until_ms}", pointer.body()),
        }
    }

    /// A body as `body` writes it (or as the previous version wrote a pointer); anything else is
    /// none (a miss).
    pub fn parse(text: &str) -> Option<Entry> {
        let text = text.trim();
        let lease = |until: &str| until.strip_prefix("lease-until=")?.parse::<u64>().ok();
        if let Some(until_ms) = lease(text) {
            return Some(Entry::Lease(Lease {
                until_ms,
                pointer: None,
            }));
        }
        if let Some((said, until)) = text.rsplit_once(' ') {
            if let Some(until_ms) = lease(until) {
                let pointer = Some(Pointer::parse(said)?);
                return Some(Entry::Lease(Lease { until_ms, pointer }));
            }
        }
        Pointer::parse(text).map(Entry::Pointer)
    }
}

/// What an isolate does at its check, from the pointer it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// No pointer (none, expired, purged, unreadable, or unparsable), or a lease this isolate may
    /// not wait on: ask the hub, as without a pointer, then write one.
    AskHub,
    /// The hub holds nothing newer than this isolate: no request anywhere; `stale` is the hub's.
    Current { stale: bool },
    /// The hub holds `version`, newer than what this isolate serves: install the location's last
    /// good copy when it is at least `version`, else ask the hub.
    Newer { version: u64, stale: bool },
    /// A live lease: another isolate is asking the hub. Keep what is served as it is (its
    /// staleness too), ask nobody, and read the pointer again at the next check.
    Leased,
}

/// `entry`: what the Cache API gave (None for a miss or a failed read); `held`: the version this
/// isolate serves (None when cold); `now_ms`: its clock; `deferring_since_ms`: when this isolate
/// began to defer to leases, checks in a row (None when its last check did not).
///
/// A lease is live while `now_ms < until_ms`, and only when `until_ms` is at most `LEASE_MAX_MS`
/// ahead (a lease further out comes from a clock ahead of this one: not trusted). A cold isolate
/// never waits on a lease: it holds nothing to serve. A warm one that has deferred for
/// `LEASE_MAX_MS` already asks the hub itself (the leaseholders answer nothing: the hub is
/// unreachable or they died): leases then thin nothing, as without them, rather than hide a
/// failing hub. A lease carrying a pointer at or below the version held is that pointer.
pub fn decide(
    entry: Option<Entry>,
    held: Option<u64>,
    now_ms: u64,
    deferring_since_ms: Option<u64>,
) -> Check {
    let pointer = match entry {
        None => return Check::AskHub,
        Some(Entry::Pointer(pointer)) => pointer,
        Some(Entry::Lease(Lease { until_ms, pointer })) => {
            let live = now_ms < until_ms && until_ms - now_ms <= LEASE_MAX_MS;
            match (pointer, held) {
                (Some(pointer), Some(held)) if live && pointer.version <= held => pointer,
                (_, None) => return Check::AskHub,
                (_, Some(_)) if !live => return Check::AskHub,
                (_, Some(_))
                    if deferring_since_ms
                        .is_some_and(|since| now_ms.saturating_sub(since) >= LEASE_MAX_MS) =>
                {
                    return Check::AskHub
                }
                (_, Some(_)) => return Check::Leased,
            }
        }
    };
    match (pointer, held) {
        (Pointer { version, stale }, Some(held)) if version <= held => Check::Current { stale },
        (Pointer { version, stale }, _) => Check::Newer { version, stale },
    }
}

/// How long a lease lives: twice this isolate's last round trip to the hub (`hub_round_trip_ms`,
/// None before its first), at least `LEASE_MIN_MS`, at most `LEASE_MAX_MS`.
pub fn lease_ms(hub_round_trip_ms: Option<u64>) -> u64 {
    hub_round_trip_ms
        .unwrap_or(0)
        .saturating_mul(2)
        .clamp(LEASE_MIN_MS, LEASE_MAX_MS)
}

/// The `max-age` of a lease's entry, in whole seconds (the Cache API's unit), rounded up: the
/// backstop of a lease nobody replaces (its holder died); `until_ms` is the exact end.
pub fn lease_max_age_seconds(lease_ms: u64) -> u64 {
    lease_ms.div_ceil(1000).max(1)
}

/// The lease an isolate writes before it asks the hub, or None: not when cold (it asks the hub
/// anyway and must not spend a write before it can answer), not with the pointer off
/// (`max_age_seconds` 0). `replaced`: the pointer it found (a newer version the location's copy
/// lacks), carried so that the isolates at or above it still read the hub's word.
pub fn lease_to_take(
    max_age_seconds: u64,
    held: Option<u64>,
    replaced: Option<Pointer>,
    now_ms: u64,
    lease_ms: u64,
) -> Option<Lease> {
    if max_age_seconds == 0 || held.is_none() {
        return None;
    }
    Some(Lease {
        until_ms: now_ms.saturating_add(lease_ms),
        pointer: replaced,
    })
}

/// Whether the location's last good copy at version `copy` may stand in for the hub's answer to
/// a pointer at `version`, in an isolate that serves `held`: only when it is at least the
/// pointer's version (else the hub has something newer) and newer than what is served.
pub fn copy_will_do(copy: u64, version: u64, held: Option<u64>) -> bool {
    copy >= version && held.is_none_or(|held| copy > held)
}

/// The pointer an isolate writes after its hub answered (`hub_version`: the version the hub
/// said it holds, `stale`: its freshness): exactly what the hub said, never anything of the
/// isolate's own. None when the pointer is off (`max_age_seconds` 0) or the hub named no version.
pub fn after_hub(max_age_seconds: u64, hub_version: Option<u64>, stale: bool) -> Option<Pointer> {
    if max_age_seconds == 0 {
        return None;
    }
    hub_version.map(|version| Pointer { version, stale })
}

/// Whether the hub must invalidate the pointers: what it holds or its staleness changed.
pub fn hub_changed(before: (Option<u64>, bool), after: (Option<u64>, bool)) -> bool {
    before != after
}

/// The production purge: Cloudflare's purge by tag of the zone the worker runs on.
#[derive(Debug, PartialEq, Eq)]
pub struct PurgeRequest {
    pub url: String,
    /// JSON: `{"tags":["pennon-pointer-<environment>"]}`.
    pub body: String,
}

/// `POST <api_url>/zones/<zone_id>/purge_cache` with the pointer's tag, sent with
/// `Authorization: Bearer <PURGE_API_TOKEN>`.
pub fn purge_request(api_url: &str, zone_id: &str, environment: Environment) -> PurgeRequest {
    let body = serde_json::json!({ "tags": [tag(environment)] }).to_string();
    PurgeRequest {
        url: format!(
            "{}/zones/{zone_id}/purge_cache",
            api_url.trim_end_matches('/')
        ),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    const fn at(version: u64, stale: bool) -> Option<Pointer> {
        Some(Pointer { version, stale })
    }

    const fn entry(version: u64, stale: bool) -> Option<Entry> {
        Some(Entry::Pointer(Pointer { version, stale }))
    }

    const fn lease(until_ms: u64, pointer: Option<Pointer>) -> Option<Entry> {
        Some(Entry::Lease(Lease { until_ms, pointer }))
    }

    #[test]
    fn the_entry_is_named_tagged_and_read_back() {
        assert_eq!(
            key(Environment::Prod),
            "https://pennon-edge.internal/pointer/prod"
        );
        assert_eq!(tag(Environment::Staging), "pennon-pointer-staging");
        assert_eq!(cache_control(1), "max-age=1");
        for pointer in [at(0, false), at(7, true), at(u64::MAX, false)] {
            let pointer = pointer.expect("some");
            assert_eq!(pointer.body().len(), pointer.body().trim().len());
            assert_eq!(Pointer::parse(&pointer.body()), Some(pointer));
        }
        assert_eq!(Pointer::parse("12 fresh\n"), at(12, false));
        for junk in [
            "",
            "12",
            "12 maybe",
            "-1 fresh",
            "x fresh",
            "12  fresh",
            "<html>",
        ] {
            assert_eq!(Pointer::parse(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn a_miss_or_a_failed_read_asks_the_hub() {
        assert_eq!(decide(None, Some(4), NOW, None), Check::AskHub);
        assert_eq!(decide(None, None, NOW, None), Check::AskHub);
        // A read that failed or a body that does not parse is a miss (pointer_cache::read).
        assert_eq!(
            decide(Entry::parse("garbage"), Some(4), NOW, None),
            Check::AskHub
        );
    }

    #[test]
    fn nothing_newer_costs_nothing_and_carries_the_hubs_staleness() {
        assert_eq!(
            decide(entry(4, false), Some(4), NOW, None),
            Check::Current { stale: false }
        );
        assert_eq!(
            decide(entry(4, true), Some(4), NOW, None),
            Check::Current { stale: true }
        );
    }

    #[test]
    fn a_pointer_below_the_version_served_is_never_a_reason_to_go_back() {
        // The race of a pointer written just after a push (below), or a location behind:
        // the isolate keeps what it serves and asks no one.
        assert_eq!(
            decide(entry(3, false), Some(9), NOW, None),
            Check::Current { stale: false }
        );
    }

    #[test]
    fn a_newer_pointer_takes_the_locations_copy_only_when_it_is_that_new() {
        assert_eq!(
            decide(entry(5, false), Some(4), NOW, None),
            Check::Newer {
                version: 5,
                stale: false
            }
        );
        assert_eq!(
            decide(entry(5, true), None, NOW, None),
            Check::Newer {
                version: 5,
                stale: true
            }
        );
        assert!(copy_will_do(5, 5, Some(4)));
        assert!(copy_will_do(6, 5, Some(4)), "a later copy is as good");
        assert!(copy_will_do(5, 5, None), "a cold isolate");
        assert!(
            !copy_will_do(4, 5, Some(3)),
            "older than the pointer: ask the hub"
        );
        assert!(
            !copy_will_do(5, 5, Some(5)),
            "not newer than what is served"
        );
        assert!(
            !copy_will_do(5, 5, Some(7)),
            "never older than what is served"
        );
    }

    #[test]
    fn a_lease_is_written_and_read_back_and_old_bodies_still_parse() {
        let cases = [
            (lease(NOW + 500, None), format!("lease-until={}", NOW + 500)),
            (
                lease(NOW + 500, at(7, true)),
                format!("7 stale lease-until={}", NOW + 500),
            ),
            (entry(7, false), "7 fresh".to_owned()),
        ];
        for (entry, body) in cases {
            let entry = entry.expect("some");
            assert_eq!(entry.body(), body);
            assert_eq!(Entry::parse(&body), Some(entry), "{body:?}");
        }
        // The bodies of the previous version's pointers (a deploy: both run for a while).
        assert_eq!(Entry::parse("12 fresh"), entry(12, false));
        assert_eq!(Entry::parse("12 stale\n"), entry(12, true));
        // The previous version reads a lease as a miss: it asks the hub, as it always did.
        assert_eq!(Pointer::parse("lease-until=5"), None);
        assert_eq!(Pointer::parse("12 fresh lease-until=5"), None);
        for junk in [
            "lease-until=",
            "lease-until=x",
            "lease-until=-1",
            "12 lease-until=5",
            "12 maybe lease-until=5",
            "12 fresh lease-until=5 x",
            "12 fresh 13",
        ] {
            assert_eq!(Entry::parse(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn a_warm_isolate_defers_to_a_live_lease_and_asks_once_it_expires() {
        let live = lease(NOW + 400, None);
        assert_eq!(decide(live, Some(4), NOW, None), Check::Leased);
        assert_eq!(decide(live, Some(4), NOW + 399, Some(NOW)), Check::Leased);
        assert_eq!(decide(live, Some(4), NOW + 400, Some(NOW)), Check::AskHub);
        assert_eq!(decide(live, Some(4), NOW + 5_000, None), Check::AskHub);
        // A lease further ahead than any lease lives: a clock ahead of ours, not trusted.
        let ahead = lease(NOW + LEASE_MAX_MS + 1, None);
        assert_eq!(decide(ahead, Some(4), NOW, None), Check::AskHub);
        let longest = lease(NOW + LEASE_MAX_MS, None);
        assert_eq!(decide(longest, Some(4), NOW, None), Check::Leased);
    }

    #[test]
    fn a_cold_isolate_never_waits_on_a_lease() {
        assert_eq!(
            decide(lease(NOW + 400, None), None, NOW, None),
            Check::AskHub
        );
        assert_eq!(
            decide(lease(NOW + 400, at(5, false)), None, NOW, None),
            Check::AskHub
        );
        assert_eq!(lease_to_take(1, None, None, NOW, 500), None);
    }

    #[test]
    fn a_lease_hides_a_silent_hub_for_one_lease_period_at_most() {
        // Leases in a row (each holder failed to get an answer and wrote nothing): after
        // LEASE_MAX_MS of deferring, this isolate asks the hub itself and learns it fails.
        let since = NOW - LEASE_MAX_MS + 1;
        assert_eq!(
            decide(lease(NOW + 400, None), Some(4), NOW, Some(since)),
            Check::Leased
        );
        assert_eq!(
            decide(lease(NOW + 400, None), Some(4), NOW + 1, Some(since)),
            Check::AskHub
        );
    }

    #[test]
    fn a_lease_carrying_a_pointer_is_that_pointer_for_the_isolates_at_or_above_it() {
        let carrying = lease(NOW + 400, at(5, true));
        assert_eq!(
            decide(carrying, Some(5), NOW, None),
            Check::Current { stale: true }
        );
        assert_eq!(
            decide(carrying, Some(9), NOW, None),
            Check::Current { stale: true },
            "never a reason to go back"
        );
        // Below it: the copy lacked that version (else no lease): wait for the leaseholder.
        assert_eq!(decide(carrying, Some(4), NOW, None), Check::Leased);
        // Expired: no longer the hub's word.
        assert_eq!(decide(carrying, Some(5), NOW + 400, None), Check::AskHub);
    }

    #[test]
    fn a_warm_isolate_takes_a_lease_for_twice_its_round_trip_within_bounds() {
        assert_eq!(lease_ms(None), LEASE_MIN_MS);
        assert_eq!(lease_ms(Some(40)), 500);
        assert_eq!(lease_ms(Some(400)), 800);
        assert_eq!(lease_ms(Some(5_000)), LEASE_MAX_MS);
        assert_eq!(lease_ms(Some(u64::MAX)), LEASE_MAX_MS);
        assert_eq!(lease_max_age_seconds(500), 1);
        assert_eq!(lease_max_age_seconds(1_000), 1);
        assert_eq!(lease_max_age_seconds(1_001), 2);
        assert_eq!(lease_max_age_seconds(LEASE_MAX_MS), 2);
        assert_eq!(
            lease_to_take(1, Some(4), None, NOW, 500),
            Some(Lease {
                until_ms: NOW + 500,
                pointer: None
            })
        );
        assert_eq!(
            lease_to_take(1, Some(4), at(5, false), NOW, 800),
            Some(Lease {
                until_ms: NOW + 800,
                pointer: at(5, false)
            })
        );
        assert_eq!(
            lease_to_take(0, Some(4), None, NOW, 500),
            None,
            "pointer off"
        );
    }

    #[test]
    fn an_isolate_writes_exactly_what_the_hub_said() {
        assert_eq!(after_hub(1, Some(8), false), at(8, false));
        assert_eq!(after_hub(30, Some(8), true), at(8, true));
        assert_eq!(after_hub(1, None, false), None, "no version named");
        assert_eq!(after_hub(0, Some(8), false), None, "the pointer is off");
    }

    #[test]
    fn the_hub_invalidates_on_a_new_version_or_a_change_of_staleness() {
        assert!(!hub_changed((Some(3), false), (Some(3), false)));
        assert!(hub_changed((Some(3), false), (Some(4), false)));
        assert!(hub_changed((None, false), (Some(1), false)));
        assert!(hub_changed((Some(3), false), (Some(3), true)));
        assert!(hub_changed((Some(3), true), (Some(3), false)));
    }

    #[test]
    fn the_purge_names_the_zone_and_the_tag() {
        let request = purge_request(
            DEFAULT_PURGE_API_URL,
            "023e105f4ecef8ad9ca31a8372d0c353",
            Environment::Prod,
        );
        assert_eq!(
            request.url,
            "https://api.cloudflare.com/client/v4/zones/023e105f4ecef8ad9ca31a8372d0c353/purge_cache"
        );
        assert_eq!(request.body, r#"{"tags":["pennon-pointer-prod"]}"#);
        let local = purge_request("http://127.0.0.1:9/", "z", Environment::Dev);
        assert_eq!(local.url, "http://127.0.0.1:9/zones/z/purge_cache");
    }
}
