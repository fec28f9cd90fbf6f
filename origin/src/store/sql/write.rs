//! The store's writes for both dialects: [`impl_flag_writer!`] implements `FlagWriter`.
//!
//! Each write is one transaction: the row (locked first on PostgreSQL; SQLite has a single
//! writer), its audit entry, the revision bump of its environment and, on PostgreSQL, the `NOTIFY`
//! that tells the other origins, committed together or not at all.

/// Implements `FlagWriter` for `$store`, a struct with a pool of `$db` in `write`, its `queries:
/// Queries` and `dialect: Dialect`; needs [`super::impl_flag_store!`] for the same type (its row
/// readers).
macro_rules! impl_flag_writer {
    ($store:ty, $db:ty) => {
        const _: () = {
            use evaluator::{Environment, FlagKey};
            use uuid::Uuid;

            use $crate::store::model::{self, AuditRecord, AUDIT_ENTITY};
            use $crate::store::row::{FlagList, FlagRow};
            use $crate::store::{
                AuditAction, FlagPatch, FlagWriter, NewFlag, StoreError, StoredFlag, Written,
            };

            impl $store {
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

                /// Records the audit entry and bumps the environment's revision; returns the new
                /// one.
                async fn audit_and_bump(
                    &self,
                    tx: &mut sqlx::Transaction<'_, $db>,
                    record: AuditRecord,
                    environment: Environment,
                    actor: &str,
                ) -> Result<$crate::revision::Revision, StoreError> {
                    self.insert_audit(tx, &record, actor).await?;
                    let revision: i64 = sqlx::query_scalar(&self.queries.bump_revision)
                        .bind(environment.as_str())
                        .fetch_one(&mut **tx)
                        .await?;
                    let revision = u64::try_from(revision)
                        .map_err(|e| StoreError::Corrupt(format!("revision: {e}")))?;
                    let revision = $crate::revision::Revision::new(environment, revision);
                    if let Some(notify) = self.dialect.notify {
                        let payload = revision.to_json();
                        sqlx::query(notify).bind(payload).execute(&mut **tx).await?;
                    }
                    Ok(revision)
                }

                /// The end of every write of one flag: its audit entry, its environment's revision
                /// bump, the commit; `value` is what the write answers.
                async fn commit_audited<T: Send>(
                    &self,
                    mut tx: sqlx::Transaction<'_, $db>,
                    record: AuditRecord,
                    environment: Environment,
                    actor: &str,
                    value: T,
                ) -> Result<Written<T>, StoreError> {
                    let revision = self
                        .audit_and_bump(&mut tx, record, environment, actor)
                        .await?;
                    tx.commit().await?;
                    Ok(Written {
                        value,
                        revisions: vec![revision],
                    })
                }

                /// The audit entry of a write to a row that cannot be read, and the revision bump
                /// of its environment when that one reads (a row of no known environment is in no
                /// set).
                async fn audit_unreadable(
                    &self,
                    tx: &mut sqlx::Transaction<'_, $db>,
                    record: AuditRecord,
                    environment: Option<&str>,
                    actor: &str,
                ) -> Result<Option<$crate::revision::Revision>, StoreError> {
                    match environment.and_then(|e| Environment::parse(e).ok()) {
                        Some(environment) => self
                            .audit_and_bump(tx, record, environment, actor)
                            .await
                            .map(Some),
                        None => self.insert_audit(tx, &record, actor).await.map(|()| None),
                    }
                }

                /// The row with `id`, locked for the rest of `tx` (PostgreSQL; SQLite's single
                /// writer needs no lock).
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

                /// Writes `after` over its row, if that row is still at `before`'s version;
                /// `Conflict` otherwise.
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

                /// The API's one repair of a row it cannot read: delete it, keeping what can be
                /// recovered of it in the audit log. Returns the revision bump, if any.
                async fn delete_unreadable(
                    &self,
                    tx: &mut sqlx::Transaction<'_, $db>,
                    id: Uuid,
                    row: &FlagRow,
                    at: chrono::DateTime<chrono::Utc>,
                    actor: &str,
                ) -> Result<Option<$crate::revision::Revision>, StoreError> {
                    sqlx::query(&self.queries.delete_unreadable)
                        .bind(id.to_string())
                        .execute(&mut **tx)
                        .await?;
                    let record = AuditRecord::raw(
                        AuditAction::DeleteFlag,
                        id.to_string(),
                        Some(row.recovered_json()),
                        None,
                        at,
                    );
                    self.audit_unreadable(tx, record, row.environment.as_deref(), actor)
                        .await
                }

                /// The kill switch on a row that cannot be read: `enabled` off in SQL, so the flag
                /// stays off whatever repairs it, with a `KILL_SWITCH` entry of what could be
                /// recovered. Returns the revision bump, if any; a row already off (or without an
                /// id) is left.
                async fn kill_unreadable(
                    &self,
                    tx: &mut sqlx::Transaction<'_, $db>,
                    row: &FlagRow,
                    at: chrono::DateTime<chrono::Utc>,
                    actor: &str,
                ) -> Result<Option<$crate::revision::Revision>, StoreError> {
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
                    self.commit_audited(tx, record, created.environment, actor, created)
                        .await
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
                    self.commit_audited(tx, record, after.environment, actor, after)
                        .await
                }

                async fn delete_flag(
                    &self,
                    id: Uuid,
                    if_match: Option<u64>,
                    actor: &str,
                ) -> Result<Written<Option<StoredFlag>>, StoreError> {
                    let mut tx = self.write.begin().await?;
                    let row = Self::flag_row(&self.lock_row(&mut tx, id).await?);
                    // Checked on the locked row (an unreadable version fails any version but `*`);
                    // the DELETE's `AND version = $2` is the compare-and-set.
                    model::check_version(row.stored_version(), if_match)?;
                    let at = model::now();
                    let before = match row.read() {
                        Ok(before) => before,
                        Err(unreadable) => {
                            tracing::warn!(
                                %id,
                                reason = %unreadable.reason,
                                "deleting a flag that cannot be read"
                            );
                            let revision =
                                self.delete_unreadable(&mut tx, id, &row, at, actor).await?;
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
                    let record = AuditRecord::new(
                        AuditAction::DeleteFlag,
                        before.id,
                        Some(&before),
                        None,
                        at,
                    )?;
                    self.commit_audited(tx, record, before.environment, actor, Some(before))
                        .await
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
                        (
                            row.environment.as_deref().unwrap_or("?"),
                            row.stored_version(),
                        )
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
                                let killed = self.kill_unreadable(&mut tx, &row, at, actor).await?;
                                revisions.extend(killed);
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
    };
}

pub(crate) use impl_flag_writer;
