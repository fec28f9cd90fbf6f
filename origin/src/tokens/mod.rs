//! Verifying a presented token: the two configured at start (`ADMIN_TOKEN`, `EDGE_TOKEN`) and the
//! stored ones, which every origin holds in memory as one table.
//!
//! A request never waits on the store for a token once the table is loaded: a secret is hashed and
//! looked up ([`table`]). The table is kept current the way flag sets are: a token write reloads it
//! on the origin that made it before answering, and announces the new token revision on the change
//! channels (Redis pub/sub, PostgreSQL `NOTIFY`), on which every other origin reloads in
//! milliseconds; where no channel reaches (SQLite, every channel down) the periodic check compares
//! the token revision with the store's twice per `REVALIDATE_INTERVAL_MS` (every 500 ms by
//! default). So a revoked token is refused everywhere within a second. While the store is unreachable the table held keeps
//! verifying (no revocation can commit then either); an origin that never loaded it answers 503
//! for stored tokens until the periodic check loads it, and keeps accepting the configured ones.

mod table;

use std::sync::{Arc, PoisonError, RwLock};

use subtle::ConstantTimeEq;

use evaluator::Environment;

use self::table::{replaces, HeldTokens, Lookup};
use crate::access::ticket::{self, Ticket, TicketError};
use crate::access::{Principal, SecretHash, TokenId, SECRET_PREFIX};
use crate::config::Secret;
use crate::store::{StoreError, TokenStore};

/// Why a presented token is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum Unverified {
    #[error("invalid token")]
    Unknown,
    #[error("this token was revoked")]
    Revoked,
    /// The stored tokens could not be loaded yet (the store was down since the start): neither
    /// accepted nor refused. The periodic check loads them as soon as the store answers.
    #[error("stored tokens cannot be verified yet: storage is unavailable")]
    NotLoaded,
}

/// Why a stream ticket is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TicketRefused {
    /// Malformed, forged or expired.
    #[error(transparent)]
    Ticket(#[from] TicketError),
    /// Well made, for a token that is unknown here, revoked, or not loaded yet.
    #[error(transparent)]
    Token(#[from] Unverified),
}

#[derive(Debug)]
pub struct Tokens {
    store: Arc<dyn TokenStore>,
    admin_token: Secret,
    admin: Arc<Principal>,
    edge_token: Option<Secret>,
    edge: Arc<Principal>,
    /// The SHA-256 of each configured token: their stream tickets' keys.
    admin_hash: SecretHash,
    edge_hash: Option<SecretHash>,
    held: RwLock<Option<Arc<HeldTokens>>>,
    /// One load at a time: a burst of change messages costs one reload, not one each.
    loading: tokio::sync::Mutex<()>,
}

/// Compares without an early exit on the first differing byte, so response times do not reveal how
/// much of a guess was right. (Only the length can leak, which a random token does not protect.)
fn matches(given: &[u8], expected: &Secret) -> bool {
    given.ct_eq(expected.expose().as_bytes()).into()
}

impl Tokens {
    pub fn new(
        store: Arc<dyn TokenStore>,
        admin_token: Secret,
        edge_token: Option<Secret>,
    ) -> Self {
        let admin_hash = SecretHash::of(admin_token.expose().as_bytes());
        let edge_hash = edge_token
            .as_ref()
            .map(|edge| SecretHash::of(edge.expose().as_bytes()));
        Self {
            store,
            admin_token,
            admin: Arc::new(Principal::bootstrap_admin()),
            edge_token,
            edge: Arc::new(Principal::bootstrap_edge()),
            admin_hash,
            edge_hash,
            held: RwLock::new(None),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// Who `presented` is. The configured tokens are compared in constant time; a stored token is
    /// found by the SHA-256 of the secret (a lookup by hash reveals nothing an attacker can steer
    /// towards a secret).
    pub fn verify(&self, presented: &[u8]) -> Result<Arc<Principal>, Unverified> {
        if matches(presented, &self.admin_token) {
            return Ok(Arc::clone(&self.admin));
        }
        if let Some(edge) = &self.edge_token {
            if matches(presented, edge) {
                return Ok(Arc::clone(&self.edge));
            }
        }
        if !presented.starts_with(SECRET_PREFIX.as_bytes()) {
            return Err(Unverified::Unknown);
        }
        // Never a load on the request path: a down store would hold every request for its
        // time-out, one after another.
        let held = self.current().ok_or(Unverified::NotLoaded)?;
        match held.lookup(&SecretHash::of(presented)) {
            Lookup::Valid(principal) => Ok(principal),
            Lookup::Revoked => Err(Unverified::Revoked),
            Lookup::Unknown => Err(Unverified::Unknown),
        }
    }

    /// The token with this id as the table held says it is now, and its ticket key.
    fn by_id(&self, id: TokenId) -> Result<(Arc<Principal>, SecretHash), Unverified> {
        match id {
            TokenId::AdminToken => Ok((Arc::clone(&self.admin), self.admin_hash)),
            TokenId::EdgeToken => match self.edge_hash {
                Some(hash) => Ok((Arc::clone(&self.edge), hash)),
                None => Err(Unverified::Unknown),
            },
            TokenId::Stored(id) => {
                let held = self.current().ok_or(Unverified::NotLoaded)?;
                match held.lookup_id(id) {
                    (Lookup::Valid(principal), Some(hash)) => Ok((principal, hash)),
                    (Lookup::Revoked, _) => Err(Unverified::Revoked),
                    _ => Err(Unverified::Unknown),
                }
            }
        }
    }

    /// A stream ticket for `token` (verified by the caller) in `environment`, issued at `now`
    /// (unix seconds): see [`crate::access::ticket`]. `None` when the token is not in the table
    /// (revoked a moment ago).
    pub fn issue_ticket(
        &self,
        token: &Principal,
        environment: Environment,
        now: u64,
    ) -> Option<String> {
        let (_, key) = self.by_id(token.id).ok()?;
        Some(ticket::issue(
            &key,
            token.id,
            environment,
            ticket::expiry(now),
        ))
    }

    /// The token a stream ticket was issued for, when the ticket is well made, unexpired at `now`
    /// and its token still valid. The caller checks the environment and the token's rights.
    pub fn verify_ticket(
        &self,
        text: &str,
        now: u64,
    ) -> Result<(Arc<Principal>, Environment), TicketRefused> {
        let ticket = Ticket::parse(text)?;
        let (principal, key) = self.by_id(ticket.token)?;
        ticket.check(&key, now)?;
        Ok((principal, ticket.environment))
    }

    /// Whether the token with this id is still valid (not revoked): a stream asks at each
    /// heartbeat, and ends when it is not. While the table cannot be loaded, yes.
    pub fn still_valid(&self, id: TokenId) -> bool {
        !matches!(
            self.by_id(id),
            Err(Unverified::Revoked | Unverified::Unknown)
        )
    }

    /// The store the tokens come from (the admin API lists them from it).
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    fn current(&self) -> Option<Arc<HeldTokens>> {
        self.held
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The token revision held; `None` before the first load.
    pub fn held_revision(&self) -> Option<u64> {
        self.current().map(|held| held.revision())
    }

    /// Loads the table and installs it when newer than the one held.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.loading.lock().await;
        let loaded = HeldTokens::new(self.store.load_tokens().await?);
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        if replaces(held.as_deref(), &loaded) {
            *held = Some(Arc::new(loaded));
        }
        Ok(())
    }

    /// The store is at token revision `revision` (a change message, or a write of this origin):
    /// reloads unless the table held is as new.
    pub async fn catch_up(&self, revision: u64) -> Result<(), StoreError> {
        if self.held_revision().is_some_and(|held| held >= revision) {
            return Ok(());
        }
        self.reload().await
    }

    /// Compares the revision held with the store's, and reloads when behind (the safety net).
    pub async fn resync(&self) {
        let revision = match self.store.token_revision().await {
            Ok(revision) => revision,
            Err(err) => {
                tracing::debug!(%err, "token revalidation skipped: store unavailable");
                return;
            }
        };
        if self.held_revision().is_none() || self.held_revision() < Some(revision) {
            if let Err(err) = self.reload().await {
                tracing::warn!(%err, "tokens not reloaded");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Actor, EnvironmentSet, Role, TokenSecret};
    use crate::store::{NewToken, SqliteStore, StoreHandles};

    #[test]
    fn configured_tokens_match_exactly() {
        let secret = Secret::new("s3cret");
        assert!(matches(b"s3cret", &secret));
        assert!(!matches(b"s3cre", &secret));
        assert!(!matches(b"s3cret!", &secret));
        assert!(!matches(b"S3cret", &secret));
        assert!(!matches(b"", &secret));
    }

    #[tokio::test]
    async fn stored_tokens_verify_once_loaded_and_stop_at_their_revocation() {
        let store = StoreHandles::new(SqliteStore::connect("sqlite::memory:").await.unwrap());
        let tokens = Tokens::new(
            Arc::clone(&store.tokens),
            Secret::new("root"),
            Some(Secret::new("edge")),
        );
        let secret = TokenSecret::generate();
        let new = NewToken {
            name: "ci".into(),
            role: Role::Editor,
            environments: EnvironmentSet::ALL,
            secret_hash: secret.hash(),
        };
        let created = store
            .token_writes
            .create_token(new, &Actor::system())
            .await
            .unwrap();
        // Not loaded: a stored token is neither accepted nor refused; the configured ones work.
        assert!(matches!(
            tokens.verify(secret.expose().as_bytes()),
            Err(Unverified::NotLoaded)
        ));
        assert_eq!(tokens.verify(b"root").unwrap().role, Role::Admin);
        assert_eq!(tokens.verify(b"edge").unwrap().role, Role::Server);
        assert!(matches!(tokens.verify(b"other"), Err(Unverified::Unknown)));
        tokens.resync().await;
        assert_eq!(tokens.held_revision(), Some(created.revision));
        let principal = tokens.verify(secret.expose().as_bytes()).unwrap();
        assert_eq!(principal.name, "ci");
        // A ticket issued for it verifies while it is valid, as this token.
        let ticket = tokens
            .issue_ticket(&principal, Environment::Staging, 1_000)
            .unwrap();
        let (by_ticket, environment) = tokens.verify_ticket(&ticket, 1_000).unwrap();
        assert_eq!(
            (by_ticket.id, environment),
            (principal.id, Environment::Staging)
        );
        assert!(tokens.still_valid(principal.id));
        assert!(matches!(
            tokens.verify_ticket(&ticket, 1_000_000),
            Err(TicketRefused::Ticket(TicketError::Expired))
        ));
        // The configured tokens' tickets are keyed by the SHA-256 of their values.
        let edge = tokens.verify(b"edge").unwrap();
        let edge_ticket = tokens
            .issue_ticket(&edge, Environment::Prod, 1_000)
            .unwrap();
        assert_eq!(
            edge_ticket,
            ticket::issue(
                &SecretHash::of(b"edge"),
                TokenId::EdgeToken,
                Environment::Prod,
                ticket::expiry(1_000)
            )
        );
        assert!(tokens.verify_ticket(&edge_ticket, 1_000).is_ok());
        let revoked_ticket = ticket.clone();
        let unknown = TokenSecret::generate();
        assert!(matches!(
            tokens.verify(unknown.expose().as_bytes()),
            Err(Unverified::Unknown)
        ));
        let revoked = store
            .token_writes
            .revoke_token(created.value.id, &Actor::system())
            .await
            .unwrap();
        // Held until told: the table is as of its revision.
        assert!(tokens.verify(secret.expose().as_bytes()).is_ok());
        tokens.catch_up(revoked.revision).await.unwrap();
        assert!(matches!(
            tokens.verify(secret.expose().as_bytes()),
            Err(Unverified::Revoked)
        ));
        assert!(matches!(
            tokens.verify_ticket(&revoked_ticket, 1_000),
            Err(TicketRefused::Token(Unverified::Revoked))
        ));
        // Its tickets go with it.
        assert!(!tokens.still_valid(principal.id));
        assert!(tokens
            .issue_ticket(&principal, Environment::Prod, 1_000)
            .is_none());
        // A second revocation writes nothing and moves nothing.
        let again = store
            .token_writes
            .revoke_token(created.value.id, &Actor::system())
            .await
            .unwrap();
        assert!(again.value.is_none());
        assert_eq!(again.revision, revoked.revision);
    }
}
