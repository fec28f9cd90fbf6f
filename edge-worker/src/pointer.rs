//! The per-location pointer: a small Cache API entry per environment that names the version its
//! hub holds and whether the hub is stale, so that the isolates of a location ask their hub only
//! when the pointer is missing (expired, invalidated, never written) instead of on every check.
//!
//! This module is the pure part, host-tested: the entry's key, tag and body, what an isolate does
//! with what it read (`decide`), what it writes after asking the hub (`after_hub`), and the
//! request of the production purge by tag (`purge_request`). `pointer_cache.rs` reads, writes and
//! purges it with the Workers runtime; `sync.rs` drives the check; the hub invalidates.
//!
//! Forward only: a pointer naming a version at or below the one an isolate serves is "nothing
//! newer", never a reason to go back; a newer one is installed only from a copy of at least that
//! version (the location's last good snapshot) or from the hub.

use evaluator::Environment;

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

/// What an isolate does at its check, from the pointer it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// No pointer (none, expired, purged, unreadable, or unparsable): ask the hub, as without a
    /// pointer, then write one.
    AskHub,
    /// The hub holds nothing newer than this isolate: no request anywhere; `stale` is the hub's.
    Current { stale: bool },
    /// The hub holds `version`, newer than what this isolate serves: install the location's last
    /// good copy when it is at least `version`, else ask the hub.
    Newer { version: u64, stale: bool },
}

/// `pointer`: what the Cache API gave (None for a miss or a failed read); `held`: the version
/// this isolate serves (None when cold).
pub fn decide(pointer: Option<Pointer>, held: Option<u64>) -> Check {
    match (pointer, held) {
        (None, _) => Check::AskHub,
        (Some(Pointer { version, stale }), Some(held)) if version <= held => {
            Check::Current { stale }
        }
        (Some(Pointer { version, stale }), _) => Check::Newer { version, stale },
    }
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

    const fn at(version: u64, stale: bool) -> Option<Pointer> {
        Some(Pointer { version, stale })
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
        assert_eq!(decide(None, Some(4)), Check::AskHub);
        assert_eq!(decide(None, None), Check::AskHub);
        // A read that failed or a body that does not parse is a miss (pointer_cache::read).
        assert_eq!(decide(Pointer::parse("garbage"), Some(4)), Check::AskHub);
    }

    #[test]
    fn nothing_newer_costs_nothing_and_carries_the_hubs_staleness() {
        assert_eq!(
            decide(at(4, false), Some(4)),
            Check::Current { stale: false }
        );
        assert_eq!(decide(at(4, true), Some(4)), Check::Current { stale: true });
    }

    #[test]
    fn a_pointer_below_the_version_served_is_never_a_reason_to_go_back() {
        // The race of a pointer written just after a push (below), or a location behind:
        // the isolate keeps what it serves and asks no one.
        assert_eq!(
            decide(at(3, false), Some(9)),
            Check::Current { stale: false }
        );
    }

    #[test]
    fn a_newer_pointer_takes_the_locations_copy_only_when_it_is_that_new() {
        assert_eq!(
            decide(at(5, false), Some(4)),
            Check::Newer {
                version: 5,
                stale: false
            }
        );
        assert_eq!(
            decide(at(5, true), None),
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
