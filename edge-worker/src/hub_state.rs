//! The state of one environment's hub (the `SnapshotHub` Durable Object, `hub.rs`), as a plain
//! value: the latest snapshot (its exact body bytes, its `Pennon-Signature` when signed, its
//! version), whether the origin confirmed it on the last attempt, and what the hub was asked.
//! No clock and no I/O, so every decision is host-tested; `hub.rs` performs.
//!
//! Versions only move forward: a push or a revalidation of a version at or below the one held is
//! ignored, so pushes that arrive twice or out of order are harmless.

use std::rc::Rc;

use evaluator::Environment;
use serde::Serialize;

use crate::signing::{self, PublicKeys};
use crate::snapshot;

/// A snapshot the hub holds: what it hands to isolates, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub version: u64,
    pub body: Rc<[u8]>,
    /// The `Pennon-Signature` it came with, passed on to isolates as it is.
    pub signature: Option<String>,
}

/// Where a snapshot offered to the hub came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Push,
    Origin,
    Storage,
}

/// What the hub did with a snapshot offered to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    Installed,
    /// At or below the version held: nothing changes.
    NotNewer {
        held: u64,
    },
}

/// What the hub answers an isolate that holds `have`.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer<'a> {
    /// Nothing newer than `have`: the version held, for the isolate's information.
    NotModified {
        version: u64,
    },
    Snapshot(&'a Held),
    /// The hub holds nothing yet.
    Empty,
}

/// Counters, shown by `GET /api/edge/hub`.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Every request of an isolate (a version check or a snapshot fetch): the hub's load.
    pub isolate_requests: u64,
    /// Of those, the ones answered with a whole snapshot.
    pub snapshots_sent: u64,
    pub pushes_installed: u64,
    pub pushes_not_newer: u64,
    pub pushes_refused: u64,
    pub revalidations: u64,
    pub revalidations_failed: u64,
}

#[derive(Debug, Default)]
pub struct HubState {
    held: Option<Held>,
    /// The last revalidation against the origin failed (cleared by a success or a push).
    origin_failing: bool,
    pub counts: Counts,
}

/// A body and its signature header, checked as an isolate would install it: the signature (when
/// `keys` is set) against the version held, and the body compiled. Ok: its revision.
pub fn check(
    body: &[u8],
    signature: Option<&str>,
    environment: Environment,
    held: Option<u64>,
    keys: Option<&PublicKeys>,
    now_ms: u64,
) -> Result<u64, String> {
    let verified = keys
        .map(|keys| signing::verify(keys, signature, body, environment, held, now_ms))
        .transpose()
        .map_err(|reason| format!("snapshot refused: {reason}"))?;
    let compiled = snapshot::compile(body, environment)?;
    if let Some(verified) = &verified {
        signing::check_revision(verified, compiled.revision)
            .map_err(|reason| format!("snapshot refused: {reason}"))?;
    }
    Ok(compiled.revision)
}

impl HubState {
    pub fn held(&self) -> Option<&Held> {
        self.held.as_ref()
    }

    pub fn version(&self) -> Option<u64> {
        self.held.as_ref().map(|held| held.version)
    }

    /// True while the origin could not be reached on the last revalidation.
    pub fn stale(&self) -> bool {
        self.origin_failing
    }

    /// A snapshot already checked (`check`) at `version`: installed only when newer.
    pub fn offer(&mut self, held: Held, source: Source) -> Offered {
        if source != Source::Storage {
            // The origin spoke (a push comes from it, a revalidation answered).
            self.origin_failing = false;
        }
        let outcome = match self.version() {
            Some(current) if held.version <= current => Offered::NotNewer { held: current },
            _ => {
                self.held = Some(held);
                Offered::Installed
            }
        };
        if source == Source::Push {
            match outcome {
                Offered::Installed => self.counts.pushes_installed += 1,
                Offered::NotNewer { .. } => self.counts.pushes_not_newer += 1,
            }
        }
        outcome
    }

    pub fn push_refused(&mut self) {
        self.counts.pushes_refused += 1;
    }

    /// The origin answered a revalidation (304, or a 200 offered separately).
    pub fn origin_confirmed(&mut self) {
        self.counts.revalidations += 1;
        self.origin_failing = false;
    }

    pub fn origin_failed(&mut self) {
        self.counts.revalidations += 1;
        self.counts.revalidations_failed += 1;
        self.origin_failing = true;
    }

    /// An isolate that holds `have` asks: counted, and answered without any I/O.
    pub fn answer(&mut self, have: Option<u64>) -> Answer<'_> {
        self.counts.isolate_requests += 1;
        match &self.held {
            None => Answer::Empty,
            Some(held) if have.is_some_and(|have| have >= held.version) => Answer::NotModified {
                version: held.version,
            },
            Some(held) => {
                self.counts.snapshots_sent += 1;
                Answer::Snapshot(held)
            }
        }
    }
}

/// `text` in pieces of at most `max` bytes, cut on character boundaries.
pub fn split_chunks(text: &str, max: usize) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if end == 0 {
            // `max` is smaller than this character: it goes whole.
            end = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (chunk, tail) = rest.split_at(end);
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(version: u64) -> Held {
        let body = format!(r#"{{"environment":"prod","revision":{version},"flags":[]}}"#);
        Held {
            version,
            body: body.into_bytes().into(),
            signature: None,
        }
    }

    #[test]
    fn bodies_are_stored_in_chunks_cut_between_characters() {
        assert!(split_chunks("", 4).is_empty());
        assert_eq!(split_chunks("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        // "é" is two bytes: never cut in half.
        let text = "aéébé";
        let chunks = split_chunks(text, 2);
        assert_eq!(chunks, ["a", "é", "é", "b", "é"]);
        assert_eq!(chunks.concat(), text);
        assert_eq!(split_chunks("€a", 1), ["€", "a"]);
    }

    #[test]
    fn versions_only_move_forward() {
        let mut hub = HubState::default();
        assert_eq!(hub.offer(held(3), Source::Push), Offered::Installed);
        assert_eq!(
            hub.offer(held(3), Source::Push),
            Offered::NotNewer { held: 3 }
        );
        assert_eq!(
            hub.offer(held(2), Source::Origin),
            Offered::NotNewer { held: 3 }
        );
        assert_eq!(hub.offer(held(5), Source::Origin), Offered::Installed);
        // A push that arrives after the revalidation that brought a later version.
        assert_eq!(
            hub.offer(held(4), Source::Push),
            Offered::NotNewer { held: 5 }
        );
        assert_eq!(hub.version(), Some(5));
        assert_eq!(
            (hub.counts.pushes_installed, hub.counts.pushes_not_newer),
            (1, 2)
        );
    }

    #[test]
    fn isolates_get_the_snapshot_only_when_they_lack_it() {
        let mut hub = HubState::default();
        assert_eq!(hub.answer(None), Answer::Empty);
        hub.offer(held(7), Source::Storage);
        assert_eq!(hub.answer(None), Answer::Snapshot(&held(7)));
        assert_eq!(hub.answer(Some(6)), Answer::Snapshot(&held(7)));
        assert_eq!(hub.answer(Some(7)), Answer::NotModified { version: 7 });
        // An isolate ahead of the hub (it fell back to the origin) is not sent anything older.
        assert_eq!(hub.answer(Some(9)), Answer::NotModified { version: 7 });
        assert_eq!(
            (hub.counts.isolate_requests, hub.counts.snapshots_sent),
            (5, 2)
        );
    }

    #[test]
    fn the_origin_failing_marks_the_hub_stale_until_it_speaks_again() {
        let mut hub = HubState::default();
        hub.offer(held(1), Source::Storage);
        assert!(!hub.stale());
        hub.origin_failed();
        assert!(hub.stale());
        hub.offer(held(1), Source::Storage);
        assert!(
            hub.stale(),
            "a copy from storage says nothing of the origin"
        );
        hub.origin_confirmed();
        assert!(!hub.stale());
        hub.origin_failed();
        hub.offer(held(1), Source::Push);
        assert!(!hub.stale(), "a push comes from the origin");
        assert_eq!(
            (hub.counts.revalidations, hub.counts.revalidations_failed),
            (3, 2)
        );
    }

    #[test]
    fn check_compiles_and_verifies_what_is_offered() {
        let body = br#"{"environment":"prod","revision":4,"flags":[]}"#;
        assert_eq!(check(body, None, Environment::Prod, None, None, 0), Ok(4));
        let err = check(body, None, Environment::Dev, None, None, 0).unwrap_err();
        assert!(err.starts_with("asked for dev"), "{err}");
        let keys = PublicKeys::parse("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap()
            .unwrap();
        let err = check(body, None, Environment::Prod, None, Some(&keys), 0).unwrap_err();
        assert!(err.starts_with("snapshot refused: unsigned"), "{err}");
        assert!(check(b"{", None, Environment::Prod, None, None, 0).is_err());
    }
}
