//! The SQL of stored tokens, for both dialects: [`TokenQueries`] and [`impl_token_store!`].
//!
//! A token write takes the `token_revision` row's lock first (its `UPDATE`), so token writes are
//! serialised on PostgreSQL as SQLite's single writer serialises them, and a revocation can never
//! commit with a revision that another write also claims.

use super::Dialect;

/// The token queries, with the dialect's casts spliced in.
#[derive(Debug, Clone)]
pub struct TokenQueries {
    pub revision: String,
    pub all: String,
    pub by_id_for_update: String,
    pub insert: String,
    pub revoke: String,
    pub bump_revision: String,
}

impl TokenQueries {
    pub fn new(d: Dialect) -> Self {
        let t = d.as_text;
        let columns = format!(
            "id{t} AS id, name, role, environments, secret_sha256, created_at, created_by_id, \
             created_by_name, revoked_at"
        );
        Self {
            revision: "SELECT revision FROM token_revision WHERE id = 1".into(),
            all: format!("SELECT {columns} FROM api_tokens ORDER BY created_at, id"),
            by_id_for_update: format!(
                "SELECT {columns} FROM api_tokens WHERE id = $1{u}{f}",
                u = d.uuid,
                f = d.for_update
            ),
            insert: format!(
                "INSERT INTO api_tokens (id, name, role, environments, secret_sha256, created_at, \
                 created_by_id, created_by_name) VALUES ($1{u}, $2, $3, $4, $5, $6, $7, $8)",
                u = d.uuid
            ),
            revoke: format!(
                "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1{u} AND revoked_at IS NULL",
                u = d.uuid
            ),
            bump_revision:
                "UPDATE token_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision"
                    .into(),
        }
    }
}

/// Implements `TokenStore` and `TokenWriter` for `$store`, a struct with `read` and `write` pools
/// of `$db`, its `queries: Queries` and `dialect: Dialect`; needs [`super::impl_flag_writer!`]
/// for the same type (its `insert_audit`).
macro_rules! impl_token_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use sqlx::Row as _;
            use uuid::Uuid;

            use $crate::access::Actor;
            use $crate::store::model::{self, AuditAction, AuditRecord};
            use $crate::store::token::{
                NewToken, StoredToken, TokenRecord, TokenRow, TokenStore, TokenTable, TokenWriter,
                TokenWritten,
            };
            use $crate::store::StoreError;

            fn token_row(row: &<$db as sqlx::Database>::Row) -> TokenRow {
                TokenRow {
                    id: row.try_get("id").ok(),
                    name: row.try_get("name").ok(),
                    role: row.try_get("role").ok(),
                    environments: row.try_get("environments").ok(),
                    secret_sha256: row.try_get("secret_sha256").ok(),
                    created_at: row.try_get("created_at").ok(),
                    created_by_id: row.try_get("created_by_id").ok(),
                    created_by_name: row.try_get("created_by_name").ok(),
                    revoked_at: row.try_get("revoked_at").ok(),
                }
            }

            fn revision(value: i64) -> Result<u64, StoreError> {
                u64::try_from(value)
                    .map_err(|e| StoreError::Corrupt(format!("token revision: {e}")))
            }

            impl $store {
                /// Bumps the token revision (taking its row's lock) and, on PostgreSQL, queues the
                /// change message for the commit.
                async fn bump_token_revision(
                    &self,
                    tx: &mut sqlx::Transaction<'_, $db>,
                ) -> Result<u64, StoreError> {
                    let bumped: i64 = sqlx::query_scalar(&self.queries.tokens.bump_revision)
                        .fetch_one(&mut **tx)
                        .await?;
                    let bumped = revision(bumped)?;
                    if let Some(notify) = self.dialect.notify {
                        let payload = $crate::change::Change::Tokens(bumped).to_json();
                        sqlx::query(notify).bind(payload).execute(&mut **tx).await?;
                    }
                    Ok(bumped)
                }
            }

            #[async_trait::async_trait]
            impl TokenStore for $store {
                async fn token_revision(&self) -> Result<u64, StoreError> {
                    let value: i64 = sqlx::query_scalar(&self.queries.tokens.revision)
                        .fetch_one(&self.read)
                        .await?;
                    revision(value)
                }

                async fn load_tokens(&self) -> Result<TokenTable, StoreError> {
                    let mut tx = self.read.begin().await?;
                    if let Some(isolation) = self.dialect.snapshot_isolation {
                        sqlx::query(isolation).execute(&mut *tx).await?;
                    }
                    let value: i64 = sqlx::query_scalar(&self.queries.tokens.revision)
                        .fetch_one(&mut *tx)
                        .await?;
                    let rows = sqlx::query(&self.queries.tokens.all)
                        .fetch_all(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    let mut tokens = Vec::with_capacity(rows.len());
                    for row in &rows {
                        let row = token_row(row);
                        match row.read() {
                            Ok(token) => tokens.push(token),
                            Err(reason) => tracing::warn!(
                                id = row.id.as_deref().unwrap_or(""),
                                %reason,
                                "a stored token cannot be read; it verifies nothing"
                            ),
                        }
                    }
                    Ok(TokenTable {
                        revision: revision(value)?,
                        tokens,
                    })
                }
            }

            #[async_trait::async_trait]
            impl TokenWriter for $store {
                async fn create_token(
                    &self,
                    new: NewToken,
                    actor: &Actor,
                ) -> Result<TokenWritten<TokenRecord>, StoreError> {
                    let at = chrono::Utc::now();
                    let id = Uuid::new_v4();
                    let record = TokenRecord {
                        id,
                        name: new.name,
                        role: new.role,
                        environments: new.environments,
                        created_at: model::timestamp(at),
                        created_by: $crate::store::token::CreatedBy {
                            token_id: actor.token_id.clone(),
                            name: actor.name.clone(),
                        },
                        revoked_at: None,
                    };
                    let mut tx = self.write.begin().await?;
                    let bumped = self.bump_token_revision(&mut tx).await?;
                    sqlx::query(&self.queries.tokens.insert)
                        .bind(id.to_string())
                        .bind(&record.name)
                        .bind(record.role.as_str())
                        .bind(record.environments.to_json())
                        .bind(new.secret_hash.0.to_vec())
                        .bind(at)
                        .bind(&record.created_by.token_id)
                        .bind(&record.created_by.name)
                        .execute(&mut *tx)
                        .await?;
                    let audit =
                        AuditRecord::new(AuditAction::CreateToken, id, None, Some(&record), at)?;
                    self.insert_audit(&mut tx, &audit, None, actor).await?;
                    tx.commit().await?;
                    Ok(TokenWritten {
                        value: record,
                        revision: bumped,
                    })
                }

                async fn revoke_token(
                    &self,
                    id: Uuid,
                    actor: &Actor,
                ) -> Result<TokenWritten<Option<TokenRecord>>, StoreError> {
                    let at = chrono::Utc::now();
                    let mut tx = self.write.begin().await?;
                    // The revision row first: every token write takes the locks in this order.
                    let bumped = self.bump_token_revision(&mut tx).await?;
                    let row = sqlx::query(&self.queries.tokens.by_id_for_update)
                        .bind(id.to_string())
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    let before: StoredToken = token_row(&row)
                        .read()
                        .map_err(|reason| StoreError::Corrupt(format!("token {id}: {reason}")))?;
                    if before.is_revoked() {
                        // Nothing to do: the bump is rolled back with the transaction.
                        tx.rollback().await?;
                        return Ok(TokenWritten {
                            value: None,
                            revision: bumped.saturating_sub(1),
                        });
                    }
                    let done = sqlx::query(&self.queries.tokens.revoke)
                        .bind(id.to_string())
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    $crate::store::sql::compare_and_set(done.rows_affected(), "token")?;
                    let after = TokenRecord {
                        revoked_at: Some(model::timestamp(at)),
                        ..before.record.clone()
                    };
                    let audit = AuditRecord::new(
                        AuditAction::RevokeToken,
                        id,
                        Some(&before.record),
                        Some(&after),
                        at,
                    )?;
                    self.insert_audit(&mut tx, &audit, None, actor).await?;
                    tx.commit().await?;
                    Ok(TokenWritten {
                        value: Some(after),
                        revision: bumped,
                    })
                }
            }
        };
    };
}

pub(crate) use impl_token_store;
