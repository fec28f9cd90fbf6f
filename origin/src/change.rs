//! The messages origins exchange about committed writes, on Redis pub/sub and PostgreSQL `NOTIFY`.
//!
//! A leaf, like [`crate::revision`]: the store writes them inside its transactions, the cache
//! publishes them, the subscribers read them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::revision::Revision;

/// One committed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `{"environment":"prod","revision":7}`: a flag or segment write (the message since version 1).
    Environment(Revision),
    /// `{"tokens":3}`: a token was created or revoked; the tokens are at that revision now. Origins
    /// from before tokens ignore it (and log that they did).
    Tokens(u64),
}

/// The commit time an environment's message may carry beside its revision.
#[derive(Deserialize)]
struct CommitTime {
    #[serde(rename = "committedAtMs")]
    committed_at_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensMessage {
    tokens: u64,
}

impl Change {
    /// An environment's message carries the time it is written, `committedAtMs` (milliseconds
    /// since the Unix epoch): written inside the commit's transaction (`NOTIFY`) or just after it
    /// (Redis), it is the commit's time to a millisecond or so, for the receivers' propagation lag.
    /// Origins from before it ignore the field (a revision message reads unknown fields as
    /// nothing).
    pub fn to_json(self) -> String {
        match self {
            Change::Environment(revision) => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or(Duration::ZERO)
                    .as_millis();
                format!(
                    r#"{{"environment":"{}","revision":{},"committedAtMs":{now}}}"#,
                    revision.environment.as_str(),
                    revision.revision
                )
            }
            Change::Tokens(revision) => format!(r#"{{"tokens":{revision}}}"#),
        }
    }

    /// The change a message announces, or `None` when the payload is not one.
    pub fn from_json(payload: &[u8]) -> Option<Self> {
        if let Some(revision) = Revision::from_json(payload) {
            return Some(Change::Environment(revision));
        }
        serde_json::from_slice::<TokensMessage>(payload)
            .ok()
            .map(|message| Change::Tokens(message.tokens))
    }
}

/// When the write a message announces committed, if the message says (see [`Change::to_json`]).
pub fn committed_at(payload: &[u8]) -> Option<SystemTime> {
    let time = serde_json::from_slice::<CommitTime>(payload).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_millis(time.committed_at_ms?))
}

#[cfg(test)]
mod tests {
    use evaluator::Environment;

    use super::*;

    #[test]
    fn messages_read_back() {
        for change in [
            Change::Environment(Revision::new(Environment::Prod, 7)),
            Change::Tokens(3),
        ] {
            assert_eq!(Change::from_json(change.to_json().as_bytes()), Some(change));
        }
        assert_eq!(Change::Tokens(3).to_json(), r#"{"tokens":3}"#);
        let message = Change::Environment(Revision::new(Environment::Prod, 7)).to_json();
        let committed = committed_at(message.as_bytes()).expect("a commit time");
        let age = SystemTime::now().duration_since(committed).unwrap();
        assert!(age < Duration::from_secs(5), "{age:?}");
        // An older origin's message: the revision, no time.
        let old = br#"{"environment":"prod","revision":7}"#;
        assert_eq!(
            Change::from_json(old),
            Some(Change::Environment(Revision::new(Environment::Prod, 7)))
        );
        assert_eq!(committed_at(old), None);
        assert_eq!(
            committed_at(br#"{"environment":"prod","revision":7,"committedAtMs":"x"}"#),
            None
        );
        for bad in [&b"{}"[..], br#"{"tokens":-1}"#, br#"{"tokens":"1"}"#, b"x"] {
            assert_eq!(Change::from_json(bad), None, "{bad:?}");
        }
    }
}
