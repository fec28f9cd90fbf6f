//! One change stream's conversation, decided without I/O: what to write on connect, on each
//! revision announced, and on each heartbeat tick. The shell (`super`) waits for those and writes
//! what this answers; the HTTP route (`crate::http::routes::stream`) authorizes and frames it.
//!
//! The wire format is Server-Sent Events as OFREP's ADR 0008 uses them: events of the default type
//! (`message`), each `id: <revision>` and one `data:` line of JSON
//! `{"type":"refetchEvaluation","environment":"prod","revision":7}`; comment lines
//! (`: heartbeat`) that clients ignore and proxies see as traffic; a `retry:` field first, the
//! reconnection delay `EventSource` uses after the stream ends.

use evaluator::Environment;

/// The state of one stream: which revision the client was last told of (or said it had seen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    environment: Environment,
    told: u64,
}

/// The comment a stream writes when nothing happened for a heartbeat interval.
pub const HEARTBEAT: &str = ": heartbeat\n\n";

/// A `Last-Event-ID` header's value as a revision: the ids this stream writes are revisions in
/// decimal; anything else (another server's id, garbage) is no id.
pub fn last_event_id(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(value).ok()?.trim();
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// One event: the environment is at `revision`.
fn event(environment: Environment, revision: u64) -> String {
    format!(
        "id: {revision}\ndata: {{\"type\":\"refetchEvaluation\",\"environment\":\"{}\",\"revision\":{revision}}}\n\n",
        environment.as_str()
    )
}

impl Session {
    /// A stream opens on an environment at `current`, for a client that last saw `last_seen`
    /// (`Last-Event-ID`): what to write first, the `retry:` hint (`retry_ms`) and, unless the
    /// client already saw exactly this revision, an event for it (a client that comes back from
    /// an origin further ahead, or from another store, refetches too: refetching is harmless,
    /// missing a change is not).
    pub fn open(
        environment: Environment,
        current: u64,
        last_seen: Option<u64>,
        retry_ms: u64,
    ) -> (Self, String) {
        let mut first = format!("retry: {retry_ms}\n\n");
        if last_seen != Some(current) {
            first.push_str(&event(environment, current));
        }
        let session = Self {
            environment,
            told: current,
        };
        (session, first)
    }

    /// The environment's revision rose to `revision` (a `watch` may skip values, never go back):
    /// an event when it is newer than what the client was told.
    pub fn revision(&mut self, revision: u64) -> Option<String> {
        if revision <= self.told {
            return None;
        }
        self.told = revision;
        Some(event(self.environment, revision))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_opens_with_the_retry_hint_and_the_current_revision() {
        let (_, first) = Session::open(Environment::Prod, 7, None, 2000);
        assert_eq!(
            first,
            "retry: 2000\n\nid: 7\ndata: {\"type\":\"refetchEvaluation\",\"environment\":\"prod\",\"revision\":7}\n\n"
        );
        // The data line is the protocol's JSON.
        let data = first
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "refetchEvaluation", "environment": "prod", "revision": 7})
        );
    }

    #[test]
    fn a_client_that_saw_the_current_revision_gets_no_event_on_connect() {
        let (mut session, first) = Session::open(Environment::Dev, 7, Some(7), 1500);
        assert_eq!(first, "retry: 1500\n\n");
        assert_eq!(session.revision(7), None);
        assert!(session.revision(8).unwrap().starts_with("id: 8\n"));
        // Behind or ahead of it: told the current one.
        for seen in [Some(3), Some(9), None] {
            let (_, first) = Session::open(Environment::Dev, 7, seen, 1500);
            assert!(first.ends_with("\"revision\":7}\n\n"), "{seen:?}");
        }
    }

    #[test]
    fn each_rise_is_one_event_and_nothing_goes_back() {
        let (mut session, _) = Session::open(Environment::Staging, 2, None, 1000);
        assert_eq!(session.revision(2), None);
        assert_eq!(session.revision(1), None);
        let three = session.revision(3).unwrap();
        assert_eq!(
            three,
            "id: 3\ndata: {\"type\":\"refetchEvaluation\",\"environment\":\"staging\",\"revision\":3}\n\n"
        );
        // A watch skips values under load: the newest is what counts.
        assert!(session.revision(9).unwrap().starts_with("id: 9\n"));
        assert_eq!(session.revision(4), None);
    }

    #[test]
    fn last_event_ids() {
        assert_eq!(last_event_id(b"7"), Some(7));
        assert_eq!(last_event_id(b" 12 "), Some(12));
        assert_eq!(last_event_id(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"-1",
            b"+1",
            b"1.0",
            b"abc",
            b"18446744073709551616",
            b"\xff",
        ] {
            assert_eq!(last_event_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_heartbeat_is_a_comment() {
        assert!(HEARTBEAT.starts_with(':') && HEARTBEAT.ends_with("\n\n"));
    }
}
