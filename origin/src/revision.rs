//! "Environment E is now at revision R": the one shape of that idea, shared by every layer.
//!
//! The store returns it for each environment ([`crate::store::ReadStore::revisions`]) and for each
//! environment a write changed ([`crate::store::Written`]); the read path raises its floors with it
//! ([`crate::flagset::FlagSets::invalidate`], [`crate::flagset::FlagSets::on_change`]); and it
//! travels between origins as a change message, on Redis pub/sub and PostgreSQL `NOTIFY`. A leaf:
//! it imports nothing of the origin's, so each of those layers can use it without reaching into
//! another.

use evaluator::Environment;
use serde::{Deserialize, Serialize};

/// `environment` is at `revision` now. On the wire (a change message) it is
/// `{"environment":"prod","revision":7}`; ordered by environment, then revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Revision {
    pub environment: Environment,
    pub revision: u64,
}

impl Revision {
    pub fn new(environment: Environment, revision: u64) -> Self {
        Self {
            environment,
            revision,
        }
    }

    /// The change message that announces it.
    pub fn to_json(self) -> String {
        // Two plain fields: serialization cannot fail, but never panic over it.
        serde_json::to_string(&self).unwrap_or_default()
    }

    /// A change message, or `None` when the payload is not one.
    pub fn from_json(payload: &[u8]) -> Option<Self> {
        serde_json::from_slice(payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_message_is_environment_then_revision() {
        let revision = Revision::new(Environment::Staging, 7);
        assert_eq!(
            revision.to_json(),
            r#"{"environment":"staging","revision":7}"#
        );
        assert_eq!(
            Revision::from_json(br#"{"environment":"staging","revision":7}"#),
            Some(revision)
        );
        assert_eq!(
            Revision::from_json(br#"{"revision":7,"environment":"staging"}"#),
            Some(revision)
        );
    }

    #[test]
    fn what_is_not_a_change_message_is_none() {
        for payload in [
            &b""[..],
            b"{}",
            br#"{"environment":"qa","revision":1}"#,
            br#"{"environment":"prod","revision":-1}"#,
            br#"{"environment":"prod"}"#,
            br#"{"environment":"prod","revision":"1"}"#,
        ] {
            assert_eq!(Revision::from_json(payload), None, "{payload:?}");
        }
    }
}
