//! The tokens an origin holds, and what it knows of newer ones: pure decisions, no I/O (the shell
//! in `mod.rs` loads and installs).

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use crate::access::{Principal, SecretHash, TokenId};
use crate::store::{StoredToken, TokenTable};

/// What a presented secret is, by the table held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Valid(Arc<Principal>),
    Revoked,
    Unknown,
}

/// The stored tokens by the hash of their secret, at one token revision.
#[derive(Debug, Default)]
pub struct HeldTokens {
    revision: u64,
    by_hash: HashMap<SecretHash, Entry>,
    /// The hash of each token's secret by its id: what a stream ticket, which names the token by
    /// id, is checked with. Not on the path of a presented secret, which is looked up by hash.
    by_id: HashMap<Uuid, SecretHash>,
}

#[derive(Debug)]
enum Entry {
    Active(Arc<Principal>),
    Revoked,
}

impl HeldTokens {
    pub fn new(table: TokenTable) -> Self {
        let by_id = table
            .tokens
            .iter()
            .map(|token| (token.record.id, token.secret_hash))
            .collect();
        let by_hash = table
            .tokens
            .into_iter()
            .map(|token| (token.secret_hash, entry(token)))
            .collect();
        Self {
            revision: table.revision,
            by_hash,
            by_id,
        }
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn lookup(&self, hash: &SecretHash) -> Lookup {
        match self.by_hash.get(hash) {
            Some(Entry::Active(principal)) => Lookup::Valid(Arc::clone(principal)),
            Some(Entry::Revoked) => Lookup::Revoked,
            None => Lookup::Unknown,
        }
    }

    /// The token with this id, and the hash of its secret (a stream ticket's key).
    pub fn lookup_id(&self, id: Uuid) -> (Lookup, Option<SecretHash>) {
        match self.by_id.get(&id) {
            Some(hash) => (self.lookup(hash), Some(*hash)),
            None => (Lookup::Unknown, None),
        }
    }
}

fn entry(token: StoredToken) -> Entry {
    if token.is_revoked() {
        return Entry::Revoked;
    }
    let record = token.record;
    Entry::Active(Arc::new(Principal {
        id: TokenId::Stored(record.id),
        name: record.name,
        role: record.role,
        environments: record.environments,
    }))
}

/// Whether a load that read `loaded` should replace `held`: only a newer table does, so a slow
/// load that started before a revocation cannot put the revoked token back.
pub fn replaces(held: Option<&HeldTokens>, loaded: &HeldTokens) -> bool {
    held.is_none_or(|held| loaded.revision > held.revision)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::access::{EnvironmentSet, Role};
    use crate::store::{CreatedBy, TokenRecord};

    fn token(secret: &str, revoked: bool) -> StoredToken {
        StoredToken {
            record: TokenRecord {
                id: Uuid::new_v4(),
                name: secret.into(),
                role: Role::Client,
                environments: EnvironmentSet::ALL,
                created_at: "2026-01-01T00:00:00.000Z".into(),
                created_by: CreatedBy {
                    token_id: "ADMIN_TOKEN".into(),
                    name: "admin".into(),
                },
                revoked_at: revoked.then(|| "2026-01-02T00:00:00.000Z".into()),
            },
            secret_hash: SecretHash::of(secret.as_bytes()),
        }
    }

    #[test]
    fn a_table_finds_active_and_revoked_tokens_by_hash() {
        let held = HeldTokens::new(TokenTable {
            revision: 2,
            tokens: vec![token("a", false), token("b", true)],
        });
        let Lookup::Valid(a) = held.lookup(&SecretHash::of(b"a")) else {
            panic!("a is active");
        };
        assert_eq!(a.name, "a");
        assert_eq!(held.lookup(&SecretHash::of(b"b")), Lookup::Revoked);
        assert_eq!(held.lookup(&SecretHash::of(b"c")), Lookup::Unknown);
        // By id, with the hash that keys its tickets.
        let Lookup::Valid(a) = held.lookup(&SecretHash::of(b"a")) else {
            panic!("a is active");
        };
        let TokenId::Stored(id) = a.id else {
            panic!("a stored token");
        };
        assert_eq!(
            held.lookup_id(id),
            (Lookup::Valid(Arc::clone(&a)), Some(SecretHash::of(b"a")))
        );
        assert_eq!(held.lookup_id(Uuid::nil()), (Lookup::Unknown, None));
    }

    #[test]
    fn only_a_newer_table_replaces_the_one_held() {
        let at = |revision| {
            HeldTokens::new(TokenTable {
                revision,
                tokens: vec![],
            })
        };
        assert!(replaces(None, &at(0)));
        assert!(replaces(Some(&at(1)), &at(2)));
        assert!(!replaces(Some(&at(2)), &at(2)));
        assert!(!replaces(Some(&at(3)), &at(2)));
    }
}
