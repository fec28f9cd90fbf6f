//! The messages origins exchange about committed writes, on Redis pub/sub and PostgreSQL `NOTIFY`.
//!
//! A leaf, like [`crate::revision`]: the store writes them inside its transactions, the cache
//! publishes them, the subscribers read them.

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensMessage {
    tokens: u64,
}

impl Change {
    pub fn to_json(self) -> String {
        match self {
            Change::Environment(revision) => revision.to_json(),
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
        for bad in [&b"{}"[..], br#"{"tokens":-1}"#, br#"{"tokens":"1"}"#, b"x"] {
            assert_eq!(Change::from_json(bad), None, "{bad:?}");
        }
    }
}
