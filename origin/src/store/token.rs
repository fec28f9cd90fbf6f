//! Stored API tokens: what the admin API answers of one (never its secret), and what the verifier
//! loads (the secret's hash beside it).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::StoreError;
use crate::access::{Actor, EnvironmentSet, Role, SecretHash};

/// A token as the API shows it and the audit log records it: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub environments: EnvironmentSet,
    /// RFC 3339, UTC, milliseconds, as every timestamp of the API.
    pub created_at: String,
    pub created_by: CreatedBy,
    pub revoked_at: Option<String>,
}

/// The token that created this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedBy {
    pub token_id: String,
    pub name: String,
}

/// A stored token with the hash of its secret, which only the verifier reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub record: TokenRecord,
    pub secret_hash: SecretHash,
}

impl StoredToken {
    pub fn is_revoked(&self) -> bool {
        self.record.revoked_at.is_some()
    }
}

/// A create request, checked: the secret was made by the caller, and only its hash comes here.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub environments: EnvironmentSet,
    pub secret_hash: SecretHash,
}

/// Every stored token (revoked ones too: the audit log names them) and the token revision they
/// were read at, read consistently.
#[derive(Debug, Clone, Default)]
pub struct TokenTable {
    pub revision: u64,
    pub tokens: Vec<StoredToken>,
}

/// A committed token write, and the token revision it moved the store to: the verifiers of every
/// origin must not accept what it revoked once they hold that revision.
#[derive(Debug, Clone)]
pub struct TokenWritten<T> {
    pub value: T,
    pub revision: u64,
}

/// The token reads: what the verifier and the admin API need.
#[async_trait]
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// One small query: what the periodic revalidation compares with the table held.
    async fn token_revision(&self) -> Result<u64, StoreError>;
    /// Every token, oldest first, with the revision, in one consistent read.
    async fn load_tokens(&self) -> Result<TokenTable, StoreError>;
}

/// The token writes. Each commits the row, its audit entry and the token revision bump in one
/// transaction (and, on PostgreSQL, the `NOTIFY` that tells the other origins).
#[async_trait]
pub trait TokenWriter: Send + Sync + std::fmt::Debug {
    async fn create_token(
        &self,
        new: NewToken,
        actor: &Actor,
    ) -> Result<TokenWritten<TokenRecord>, StoreError>;
    /// Revokes `id`; `NotFound` when there is no such token. A token revoked already is answered
    /// as it is, with nothing written (`None` revision change: the revision returned is current).
    async fn revoke_token(
        &self,
        id: Uuid,
        actor: &Actor,
    ) -> Result<TokenWritten<Option<TokenRecord>>, StoreError>;
}

/// One `api_tokens` row, each column as the dialect decoded it.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub environments: Option<String>,
    pub secret_sha256: Option<Vec<u8>>,
    pub created_at: Option<DateTime<Utc>>,
    pub created_by_id: Option<String>,
    pub created_by_name: Option<String>,
    pub revoked_at: Option<Option<DateTime<Utc>>>,
}

impl TokenRow {
    /// The token, or why the row cannot be one. A row that cannot be read verifies nothing: the
    /// caller leaves it out and logs it.
    pub fn read(&self) -> Result<StoredToken, String> {
        fn column<'a, T>(value: &'a Option<T>, name: &str) -> Result<&'a T, String> {
            value
                .as_ref()
                .ok_or_else(|| format!("{name}: cannot be decoded"))
        }
        let id = column(&self.id, "id")?;
        let id = Uuid::parse_str(id).map_err(|e| format!("id: {e}"))?;
        let role = column(&self.role, "role")?;
        let role = Role::parse(role).ok_or_else(|| format!("role: unknown {role:?}"))?;
        let names: Vec<String> = serde_json::from_str(column(&self.environments, "environments")?)
            .map_err(|e| format!("environments: {e}"))?;
        let environments = names
            .iter()
            .map(|name| evaluator::Environment::parse(name).map_err(|e| e.to_string()))
            .collect::<Result<EnvironmentSet, String>>()?;
        if environments.is_empty() {
            return Err("environments: empty".into());
        }
        let secret_hash = SecretHash::from_slice(column(&self.secret_sha256, "secret_sha256")?)
            .ok_or("secret_sha256: not 32 bytes")?;
        Ok(StoredToken {
            record: TokenRecord {
                id,
                name: column(&self.name, "name")?.clone(),
                role,
                environments,
                created_at: super::model::timestamp(*column(&self.created_at, "created_at")?),
                created_by: CreatedBy {
                    token_id: column(&self.created_by_id, "created_by_id")?.clone(),
                    name: column(&self.created_by_name, "created_by_name")?.clone(),
                },
                revoked_at: column(&self.revoked_at, "revoked_at")?.map(super::model::timestamp),
            },
            secret_hash,
        })
    }
}
