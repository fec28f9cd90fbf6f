//! The SQL of the store, written once for both dialects.
//!
//! PostgreSQL and SQLite differ here only in casts (UUID and JSON columns are bound and read as text)
//! and row locks, so the queries are one template each, and the write logic is one macro body that
//! `postgres.rs` and `sqlite.rs` instantiate with their sqlx types. A generic function over
//! `sqlx::Database` would need a dozen higher-ranked bounds on every call; the macro keeps the logic in
//! one place and every instantiation concretely typed.

/// The dialect-specific fragments spliced into the query templates.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// Cast of a bound text parameter to the UUID column type.
    pub uuid: &'static str,
    /// Cast of a bound text parameter to the JSON column type.
    pub json: &'static str,
    /// Cast of a nullable parameter so PostgreSQL can type `$n IS NULL`.
    pub text: &'static str,
    pub bigint: &'static str,
    /// Cast of a UUID or JSON column back to text.
    pub as_text: &'static str,
    /// Row lock taken by a write before it reads the row it will change.
    pub for_update: &'static str,
    /// Byte-order sorting of keys, whatever the database's locale (SQLite's default already is).
    pub bytewise: &'static str,
    /// Run first in the snapshot read, so the revision and the flags are one consistent view.
    pub snapshot_isolation: Option<&'static str>,
    /// Run inside every write transaction with `{"environment","revision"}` as `$1`: PostgreSQL
    /// delivers a `NOTIFY` to every listening origin exactly when (and only if) the write commits.
    pub notify: Option<&'static str>,
}

pub const POSTGRES: Dialect = Dialect {
    uuid: "::uuid",
    // `json`, not `jsonb`: the column keeps the text written, so every number reads back as the
    // same double (migration 0002).
    json: "::json",
    text: "::text",
    bigint: "::bigint",
    as_text: "::text",
    for_update: " FOR UPDATE",
    bytewise: " COLLATE \"C\"",
    snapshot_isolation: Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
    notify: Some("SELECT pg_notify('pennon_flags', $1)"),
};

/// The PostgreSQL channel every write notifies (see [`Dialect::notify`]).
pub const NOTIFY_CHANNEL: &str = "pennon_flags";

/// SQLite reads inside one transaction see one snapshot (WAL), and writes are serialised by a
/// single-connection pool, so it needs no casts, locks or isolation statement.
pub const SQLITE: Dialect = Dialect {
    uuid: "",
    json: "",
    text: "",
    bigint: "",
    as_text: "",
    for_update: "",
    bytewise: "",
    snapshot_isolation: None,
    notify: None,
};

#[derive(Debug, Clone)]
pub struct Queries {
    pub ping: String,
    pub revision: String,
    pub revisions: String,
    pub flags_of_environment: String,
    pub list_flags: String,
    pub flag_by_id: String,
    pub flag_by_id_for_update: String,
    pub flags_by_key_for_update: String,
    pub insert_flag: String,
    pub update_flag: String,
    pub delete_flag: String,
    /// Deletes a row that cannot be read (its version may not read either); the row is locked.
    pub delete_unreadable: String,
    /// The kill switch on a row that cannot be read: only the columns it needs.
    pub disable_unreadable: String,
    pub insert_audit: String,
    pub bump_revision: String,
    pub audit_page: String,
}

impl Queries {
    pub fn new(d: Dialect) -> Self {
        let t = d.as_text;
        let columns = format!(
            "id{t} AS id, key, environment, description, enabled, rollout_percentage, \
             rules{t} AS rules, version, created_at, updated_at"
        );
        Self {
            ping: "SELECT 1".into(),
            revision: "SELECT revision FROM environments WHERE name = $1".into(),
            revisions: "SELECT name, revision FROM environments".into(),
            flags_of_environment: format!(
                "SELECT {columns} FROM flags WHERE environment = $1 ORDER BY key{c}",
                c = d.bytewise
            ),
            list_flags: format!(
                "SELECT {columns} FROM flags WHERE ($1{tx} IS NULL OR environment = $1) \
                 AND ($2{tx} IS NULL OR key = $2) ORDER BY key{c}, environment",
                tx = d.text,
                c = d.bytewise
            ),
            flag_by_id: format!("SELECT {columns} FROM flags WHERE id = $1{}", d.uuid),
            flag_by_id_for_update: format!(
                "SELECT {columns} FROM flags WHERE id = $1{}{}",
                d.uuid, d.for_update
            ),
            flags_by_key_for_update: format!(
                "SELECT {columns} FROM flags WHERE key = $1 ORDER BY environment{}",
                d.for_update
            ),
            insert_flag: format!(
                "INSERT INTO flags (id, key, environment, description, enabled, rollout_percentage, \
                 rules, version, created_at, updated_at) \
                 VALUES ($1{u}, $2, $3, $4, $5, $6, $7{j}, $8, $9, $10) \
                 ON CONFLICT (key, environment) DO NOTHING",
                u = d.uuid,
                j = d.json
            ),
            // `AND version = $8`: the compare-and-set that makes concurrent `If-Match` writes safe.
            update_flag: format!(
                "UPDATE flags SET description = $2, enabled = $3, rollout_percentage = $4, \
                 rules = $5{j}, version = $6, updated_at = $7 WHERE id = $1{u} AND version = $8",
                u = d.uuid,
                j = d.json
            ),
            delete_flag: format!(
                "DELETE FROM flags WHERE id = $1{} AND version = $2",
                d.uuid
            ),
            delete_unreadable: format!("DELETE FROM flags WHERE id = $1{}", d.uuid),
            disable_unreadable: format!(
                "UPDATE flags SET enabled = FALSE, version = version + 1, updated_at = $2 \
                 WHERE id = $1{}",
                d.uuid
            ),
            insert_audit: format!(
                "INSERT INTO audit_log (id, action, entity, entity_id, before, after, actor, created_at) \
                 VALUES ($1{u}, $2, $3, $4, $5{j}, $6{j}, $7, $8)",
                u = d.uuid,
                j = d.json
            ),
            bump_revision:
                "UPDATE environments SET revision = revision + 1 WHERE name = $1 RETURNING revision"
                    .into(),
            audit_page: format!(
                "SELECT seq, id{t} AS id, action, entity, entity_id, before{t} AS before, \
                 after{t} AS after, actor, created_at FROM audit_log \
                 WHERE ($1{tx} IS NULL OR entity_id = $1) AND ($2{b} IS NULL OR seq < $2) \
                 ORDER BY seq DESC LIMIT $3",
                tx = d.text,
                b = d.bigint
            ),
        }
    }
}

/// Implements `FlagStore` and `FlagWriter` for `$store`, a struct with fields `read` and `write` (pools of `$db`) and
/// `queries: Queries`, using `$kind` as its name in `/health`.
macro_rules! impl_flag_store {
    ($store:ty, $db:ty, $kind:literal) => {
        impl $store {
            /// Decodes each column on its own: one that does not decode makes the row unreadable
            /// (see `row.rs`), never the query.
            fn flag_row(row: &<$db as sqlx::Database>::Row) -> FlagRow {
                use sqlx::Row as _;
                FlagRow {
                    id: row.try_get("id").ok(),
                    key: row.try_get("key").ok(),
                    environment: row.try_get("environment").ok(),
                    description: row.try_get("description").ok(),
                    enabled: row.try_get("enabled").ok(),
                    rollout_percentage: row.try_get("rollout_percentage").ok(),
                    rules: row.try_get("rules").ok(),
                    version: row.try_get("version").ok(),
                    created_at: row.try_get("created_at").ok(),
                    updated_at: row.try_get("updated_at").ok(),
                }
            }

            fn flags(rows: &[<$db as sqlx::Database>::Row]) -> FlagList {
                FlagList::read(rows.iter().map(Self::flag_row))
            }

            /// The one flag a row holds; `Unreadable` (logged) when it cannot be read.
            fn one_flag(row: &<$db as sqlx::Database>::Row) -> Result<StoredFlag, StoreError> {
                Self::flag_row(row).read().map_err(|unreadable| {
                    unreadable.log();
                    StoreError::Unreadable(unreadable)
                })
            }

            async fn insert_audit(
                &self,
                tx: &mut sqlx::Transaction<'_, $db>,
                record: &AuditRecord,
                actor: &str,
            ) -> Result<(), StoreError> {
                sqlx::query(&self.queries.insert_audit)
                    .bind(&record.id)
                    .bind(record.action.as_str())
                    .bind(AUDIT_ENTITY)
                    .bind(&record.entity_id)
                    .bind(&record.before)
                    .bind(&record.after)
                    .bind(actor)
                    .bind(record.at)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// Records the audit entry and bumps the environment's revision; returns the new one.
            async fn audit_and_bump(
                &self,
                tx: &mut sqlx::Transaction<'_, $db>,
                record: AuditRecord,
                environment: Environment,
                actor: &str,
            ) -> Result<(Environment, u64), StoreError> {
                self.insert_audit(tx, &record, actor).await?;
                let revision: i64 = sqlx::query_scalar(&self.queries.bump_revision)
                    .bind(environment.as_str())
                    .fetch_one(&mut **tx)
                    .await?;
                let revision = u64::try_from(revision)
                    .map_err(|e| StoreError::Corrupt(format!("revision: {e}")))?;
                if let Some(notify) = self.dialect.notify {
                    let payload = crate::invalidation::Change {
                        environment,
                        revision,
                    }
                    .to_json();
                    sqlx::query(notify).bind(payload).execute(&mut **tx).await?;
                }
                Ok((environment, revision))
            }

            /// The audit entry of a write to a row that cannot be read, and the revision bump of
            /// its environment when that one reads (a row of no known environment is in no set).
            async fn audit_unreadable(
                &self,
                tx: &mut sqlx::Transaction<'_, $db>,
                record: AuditRecord,
                environment: Option<&str>,
                actor: &str,
            ) -> Result<Option<(Environment, u64)>, StoreError> {
                match environment.and_then(|e| Environment::parse(e).ok()) {
                    Some(environment) => self
                        .audit_and_bump(tx, record, environment, actor)
                        .await
                        .map(Some),
                    None => self.insert_audit(tx, &record, actor).await.map(|()| None),
                }
            }

            /// The row with `id`, locked for the rest of `tx` (PostgreSQL; SQLite's single writer
            /// needs no lock).
            async fn lock_row(
                &self,
                tx: &mut sqlx::Transaction<'_, $db>,
                id: Uuid,
            ) -> Result<<$db as sqlx::Database>::Row, StoreError> {
                sqlx::query(&self.queries.flag_by_id_for_update)
                    .bind(id.to_string())
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound)
            }

            /// Writes `after` over its row, if that row is still at `before`'s version; `Conflict`
            /// otherwise.
            async fn store_update(
                &self,
                tx: &mut sqlx::Transaction<'_, $db>,
                before: &StoredFlag,
                after: &StoredFlag,
            ) -> Result<(), StoreError> {
                let rules = serde_json::to_string(&after.flag.rules)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let done = sqlx::query(&self.queries.update_flag)
                    .bind(after.id.to_string())
                    .bind(&after.flag.description)
                    .bind(after.flag.enabled)
                    .bind(i32::from(after.flag.rollout_percentage.get()))
                    .bind(rules)
                    .bind(after.version.to_column())
                    .bind(after.updated_at)
                    .bind(before.version.to_column())
                    .execute(&mut **tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(
                        "the flag was changed concurrently; retry".into(),
                    ));
                }
                Ok(())
            }

            /// The kill switch on a row that cannot be read: `enabled` off in SQL, so the flag stays
            /// off whatever repairs it, with a `KILL_SWITCH` entry of what could be recovered.
            /// Returns the revision bump, if any; a row already off (or without an id) is left.
            async fn kill_unreadable(
                &self,
                tx: &mut sqlx::Transaction<'_, $db>,
                row: &FlagRow,
                at: chrono::DateTime<chrono::Utc>,
                actor: &str,
            ) -> Result<Option<(Environment, u64)>, StoreError> {
                let Some(id) = row.id.clone().filter(|_| row.enabled != Some(false)) else {
                    return Ok(None);
                };
                sqlx::query(&self.queries.disable_unreadable)
                    .bind(&id)
                    .bind(at)
                    .execute(&mut **tx)
                    .await?;
                let after = FlagRow {
                    enabled: Some(false),
                    version: row.version.map(|v| v.saturating_add(1)),
                    updated_at: Some(at),
                    ..row.clone()
                };
                let record = AuditRecord::raw(
                    AuditAction::KillSwitch,
                    id,
                    Some(row.recovered_json()),
                    Some(after.recovered_json()),
                    at,
                );
                self.audit_unreadable(tx, record, row.environment.as_deref(), actor)
                    .await
            }
        }

        #[async_trait::async_trait]
        impl FlagStore for $store {
            fn kind(&self) -> &'static str {
                $kind
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query(&self.queries.ping).execute(&self.read).await?;
                Ok(())
            }

            async fn revisions(&self) -> Result<Vec<(Environment, u64)>, StoreError> {
                use sqlx::Row as _;
                let rows = sqlx::query(&self.queries.revisions)
                    .fetch_all(&self.read)
                    .await?;
                let mut revisions = Vec::with_capacity(rows.len());
                for row in &rows {
                    let name: String = row.try_get("name")?;
                    let revision: i64 = row.try_get("revision")?;
                    let environment = Environment::parse(&name)
                        .map_err(|e| StoreError::Corrupt(format!("environment: {e}")))?;
                    let revision = u64::try_from(revision)
                        .map_err(|e| StoreError::Corrupt(format!("revision: {e}")))?;
                    revisions.push((environment, revision));
                }
                Ok(revisions)
            }

            async fn load_snapshot(
                &self,
                environment: Environment,
            ) -> Result<StoredSnapshot, StoreError> {
                let mut tx = self.read.begin().await?;
                if let Some(isolation) = self.dialect.snapshot_isolation {
                    sqlx::query(isolation).execute(&mut *tx).await?;
                }
                let revision: i64 = sqlx::query_scalar(&self.queries.revision)
                    .bind(environment.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                let rows = sqlx::query(&self.queries.flags_of_environment)
                    .bind(environment.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                let FlagList { flags, unreadable } = Self::flags(&rows);
                Ok(StoredSnapshot {
                    snapshot: FlagSnapshot {
                        environment,
                        revision: u64::try_from(revision)
                            .map_err(|e| StoreError::Corrupt(format!("revision: {e}")))?,
                        flags,
                    },
                    unreadable,
                })
            }

            async fn list_flags(&self, filter: &FlagFilter) -> Result<FlagList, StoreError> {
                let rows = sqlx::query(&self.queries.list_flags)
                    .bind(filter.environment.map(Environment::as_str))
                    .bind(filter.key.as_ref().map(FlagKey::as_str))
                    .fetch_all(&self.read)
                    .await?;
                Ok(Self::flags(&rows))
            }

            async fn get_flag(&self, id: Uuid) -> Result<StoredFlag, StoreError> {
                let row = sqlx::query(&self.queries.flag_by_id)
                    .bind(id.to_string())
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                Self::one_flag(&row)
            }

            async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
                use sqlx::Row as _;
                let rows = sqlx::query(&self.queries.audit_page)
                    .bind(query.entity_id.as_deref())
                    .bind(query.before)
                    .bind(i64::from(query.limit) + 1)
                    .fetch_all(&self.read)
                    .await?;
                let more = rows.len() > query.limit as usize;
                let mut entries = Vec::with_capacity(rows.len().min(query.limit as usize));
                let mut unreadable = Vec::new();
                let mut last_seq = None;
                for row in rows.iter().take(query.limit as usize) {
                    let audit = AuditRow {
                        seq: row.try_get("seq").ok(),
                        id: row.try_get("id").ok(),
                        action: row.try_get("action").ok(),
                        entity: row.try_get("entity").ok(),
                        entity_id: row.try_get("entity_id").ok(),
                        before: row.try_get("before").ok(),
                        after: row.try_get("after").ok(),
                        actor: row.try_get("actor").ok(),
                        created_at: row.try_get("created_at").ok(),
                    };
                    last_seq = audit.seq.or(last_seq);
                    match audit.read() {
                        Ok(entry) => entries.push(entry),
                        Err(entry) => unreadable.push(entry),
                    }
                }
                Ok(AuditPage {
                    entries,
                    next_cursor: if more { last_seq } else { None },
                    unreadable,
                })
            }
        }

        #[async_trait::async_trait]
        impl FlagWriter for $store {
            async fn create_flag(
                &self,
                new: NewFlag,
                actor: &str,
            ) -> Result<Written<StoredFlag>, StoreError> {
                let at = model::now();
                let created = model::create(new, at);
                let flag = &created.flag;
                let rules = serde_json::to_string(&flag.rules)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let mut tx = self.write.begin().await?;
                let done = sqlx::query(&self.queries.insert_flag)
                    .bind(created.id.to_string())
                    .bind(flag.key.as_str())
                    .bind(created.environment.as_str())
                    .bind(&flag.description)
                    .bind(flag.enabled)
                    .bind(i32::from(flag.rollout_percentage.get()))
                    .bind(rules)
                    .bind(created.version.to_column())
                    .bind(created.created_at)
                    .bind(created.updated_at)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(format!(
                        "flag \"{}\" already exists in environment \"{}\"",
                        flag.key,
                        created.environment.as_str()
                    )));
                }
                let record = AuditRecord::new(
                    AuditAction::CreateFlag,
                    created.id,
                    None,
                    Some(&created),
                    at,
                )?;
                let revision = self
                    .audit_and_bump(&mut tx, record, created.environment, actor)
                    .await?;
                tx.commit().await?;
                Ok(Written {
                    value: created,
                    revisions: vec![revision],
                })
            }

            async fn update_flag(
                &self,
                id: Uuid,
                patch: FlagPatch,
                if_match: Option<u64>,
                actor: &str,
            ) -> Result<Written<StoredFlag>, StoreError> {
                let mut tx = self.write.begin().await?;
                let before = Self::one_flag(&self.lock_row(&mut tx, id).await?)?;
                model::check_version(Some(before.version.get()), if_match)?;
                let at = model::now();
                let Some(after) = model::patched(&before, patch, at)? else {
                    // Nothing to write: the transaction rolls back when dropped.
                    return Ok(Written {
                        value: before,
                        revisions: Vec::new(),
                    });
                };
                self.store_update(&mut tx, &before, &after).await?;
                let record = AuditRecord::new(
                    AuditAction::UpdateFlag,
                    after.id,
                    Some(&before),
                    Some(&after),
                    at,
                )?;
                let revision = self
                    .audit_and_bump(&mut tx, record, after.environment, actor)
                    .await?;
                tx.commit().await?;
                Ok(Written {
                    value: after,
                    revisions: vec![revision],
                })
            }

            async fn delete_flag(
                &self,
                id: Uuid,
                if_match: Option<u64>,
                actor: &str,
            ) -> Result<Written<Option<StoredFlag>>, StoreError> {
                let mut tx = self.write.begin().await?;
                let row = Self::flag_row(&self.lock_row(&mut tx, id).await?);
                // Checked on the locked row (an unreadable version fails any version but `*`); the
                // DELETE's `AND version = $2` is the compare-and-set.
                model::check_version(row.version.and_then(|v| u64::try_from(v).ok()), if_match)?;
                let at = model::now();
                let before = match row.read() {
                    Ok(before) => before,
                    Err(unreadable) => {
                        // The API's one repair of a row it cannot read: delete it, keeping what
                        // can be recovered in the audit log.
                        tracing::warn!(%id, reason = %unreadable.reason, "deleting a flag that cannot be read");
                        sqlx::query(&self.queries.delete_unreadable)
                            .bind(id.to_string())
                            .execute(&mut *tx)
                            .await?;
                        let record = AuditRecord::raw(
                            AuditAction::DeleteFlag,
                            id.to_string(),
                            Some(row.recovered_json()),
                            None,
                            at,
                        );
                        let revision = self
                            .audit_unreadable(&mut tx, record, row.environment.as_deref(), actor)
                            .await?;
                        tx.commit().await?;
                        return Ok(Written {
                            value: None,
                            revisions: revision.into_iter().collect(),
                        });
                    }
                };
                let done = sqlx::query(&self.queries.delete_flag)
                    .bind(id.to_string())
                    .bind(before.version.to_column())
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(
                        "the flag was changed concurrently; retry".into(),
                    ));
                }
                let record =
                    AuditRecord::new(AuditAction::DeleteFlag, before.id, Some(&before), None, at)?;
                let revision = self
                    .audit_and_bump(&mut tx, record, before.environment, actor)
                    .await?;
                tx.commit().await?;
                Ok(Written {
                    value: Some(before),
                    revisions: vec![revision],
                })
            }

            async fn kill_switch(
                &self,
                key: &FlagKey,
                if_match: Option<u64>,
                actor: &str,
            ) -> Result<Written<FlagList>, StoreError> {
                let mut tx = self.write.begin().await?;
                let rows = sqlx::query(&self.queries.flags_by_key_for_update)
                    .bind(key.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
                if rows.is_empty() {
                    return Err(StoreError::NotFound);
                }
                let rows: Vec<_> = rows.iter().map(Self::flag_row).collect();
                // Every row of the key is locked: checked before anything is written.
                let versions = rows.iter().map(|row| {
                    let version = row.version.and_then(|v| u64::try_from(v).ok());
                    (row.environment.as_deref().unwrap_or("?"), version)
                });
                model::check_versions(key, versions, if_match)?;
                let at = model::now();
                let mut result = FlagList::default();
                let mut revisions = Vec::with_capacity(rows.len());
                for row in rows {
                    let before = match row.read() {
                        Ok(before) => before,
                        Err(unreadable) => {
                            unreadable.log();
                            revisions.extend(self.kill_unreadable(&mut tx, &row, at, actor).await?);
                            result.unreadable.push(unreadable);
                            continue;
                        }
                    };
                    let off = FlagPatch {
                        enabled: Some(false),
                        ..FlagPatch::default()
                    };
                    // Already off: nothing changes, so no version bump and no audit entry.
                    let Some(after) = model::patched(&before, off, at)? else {
                        result.flags.push(before);
                        continue;
                    };
                    self.store_update(&mut tx, &before, &after).await?;
                    let record = AuditRecord::new(
                        AuditAction::KillSwitch,
                        after.id,
                        Some(&before),
                        Some(&after),
                        at,
                    )?;
                    revisions.push(
                        self.audit_and_bump(&mut tx, record, after.environment, actor)
                            .await?,
                    );
                    result.flags.push(after);
                }
                tx.commit().await?;
                Ok(Written {
                    value: result,
                    revisions,
                })
            }
        }
    };
}

pub(crate) use impl_flag_store;
