//! The store's writes for both dialects: [`impl_flag_writer!`] implements `FlagWriter`.
//!
//! Each write is one transaction: the row, its audit entry, the revision bump of its environment
//! and, on PostgreSQL, the `NOTIFY` that tells the other origins, committed together or not at all.
//!
//! On PostgreSQL a write locks its environment's row in `environments` first, then the row it
//! changes (SQLite has a single writer and needs neither). Every write takes them in that order
//! (environments by name, then flags and segments), so two writes never wait for each other in a
//! circle; and while one write of an environment checks what its documents name of each other
//! (`references.rs`), no other can change them.

/// A compare-and-set write (`... AND version = $n`) that changed no row: another write got there
/// first.
pub(crate) fn compare_and_set(
    rows_affected: u64,
    what: &str,
) -> Result<(), crate::store::StoreError> {
    if rows_affected == 0 {
        return Err(crate::store::StoreError::Conflict(format!(
            "the {what} was changed concurrently; retry"
        )));
    }
    Ok(())
}

/// Implements `FlagWriter` for `$store`, a struct with a pool of `$db` in `write`, its `queries:
/// Queries` and `dialect: Dialect`; needs [`super::impl_flag_store!`] for the same type (its row
/// readers).
macro_rules! impl_flag_writer {
    ($store:ty, $db:ty) => {
        const _: () = {
            use evaluator::{Environment, FlagKey};
            use uuid::Uuid;

            use $crate::access::Actor;
            use $crate::store::model::{self, AuditRecord, FlagColumns};
            use $crate::store::references::{self, Documents};
            use $crate::store::row::{FlagList, FlagRow, SegmentRow};
            use $crate::store::sql::compare_and_set;
            use $crate::store::{
                AuditAction, FlagPatch, FlagWriter, NewFlag, NewSegment, SegmentPatch, StoreError,
                StoredFlag, StoredSegment, Written,
            };

            impl $store {
                async fn insert_audit(
                    &self,
                    tx: &mut sqlx::Transaction<'_, $db>,
                    record: &AuditRecord,
                    environment: Option<&str>,
                    actor: &Actor,
                ) -> Result<(), StoreError> {
                    sqlx::query(&self.queries.insert_audit)
                        .bind(&record.id)
                        .bind(record.action.as_str())
                        .bind(record.action.entity())
                        .bind(&record.entity_id)
                        .bind(&record.before)
                        .bind(&record.after)
                        .bind(&actor.name)
                        .bind(record.at)
                        .bind(&actor.token_id)
                        .bind(actor.note.as_deref())
                        .bind(environment)
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
                    actor: &Actor,
                ) -> Result<$crate::revision::Revision, StoreError> {
                    self.insert_audit(tx, &record, Some(environment.as_str()), actor)
                        .await?;
                    let revision: i64 = sqlx::query_scalar(&self.queries.bump_revision)
                        .bind(environment.as_str())
                        .fetch_one(&mut **tx)
                        .await?;
                    let revision = u64::try_from(revision)
                        .map_err(|e| StoreError::Corrupt(format!("revision: {e}")))?;
                    let revision = $crate::revision::Revision::new(environment, revision);
                    if let Some(notify) = self.dialect.notify {
                        let payload = $crate::change::Change::Environment(revision).to_json();
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
                    actor: &Actor,
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
                    actor: &Actor,
                ) -> Result<Option<$crate::revision::Revision>, StoreError> {
                    match environment.and_then(|e| Environment::parse(e).ok()) {
                        Some(environment) => self
                            .audit_and_bump(tx, record, environment, actor)
                            .await
                            .map(Some),
                        None => self
                            .insert_audit(tx, &record, environment, actor)
                            .await
                            .map(|()| None),
                    }
                }

                /// The row `query` finds by `id` (a flag or a segment; with a `..._for_update`
                /// query locked for the rest of `tx` on PostgreSQL, where SQLite's single writer
                /// needs no lock); `NotFound` when there is none.
                async fn row_by_id(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    query: &str,
                    id: Uuid,
                ) -> Result<<$db as sqlx::Database>::Row, StoreError> {
                    sqlx::query(query)
                        .bind(id.to_string())
                        .fetch_optional(&mut **tx)
                        .await?
                        .ok_or(StoreError::NotFound)
                }

                /// Locks `environment` for the rest of `tx` (PostgreSQL), before any row of it.
                async fn lock_environment(
                    &self,
                    tx: &mut sqlx::Transaction<'_, $db>,
                    environment: Environment,
                ) -> Result<(), StoreError> {
                    sqlx::query(&self.queries.lock_environment)
                        .bind(environment.as_str())
                        .fetch_optional(&mut **tx)
                        .await?;
                    Ok(())
                }

                /// Locks the environment the stored `environment` column names, when it names
                /// one: a row of no known environment is in no set and names nothing.
                async fn lock_stored_environment(
                    &self,
                    tx: &mut sqlx::Transaction<'_, $db>,
                    environment: Option<&str>,
                ) -> Result<Option<Environment>, StoreError> {
                    match environment.and_then(|e| Environment::parse(e).ok()) {
                        Some(environment) => {
                            self.lock_environment(tx, environment).await?;
                            Ok(Some(environment))
                        }
                        None => Ok(None),
                    }
                }

                /// The environment's flags and segments as `tx` sees them (after its lock).
                async fn documents(
                    &self,
                    tx: &mut sqlx::Transaction<'_, $db>,
                    environment: Environment,
                ) -> Result<Documents, StoreError> {
                    let flags = sqlx::query(&self.queries.flags_of_environment)
                        .bind(environment.as_str())
                        .fetch_all(&mut **tx)
                        .await?;
                    let segments = sqlx::query(&self.queries.segments_of_environment)
                        .bind(environment.as_str())
                        .fetch_all(&mut **tx)
                        .await?;
                    Ok(Documents {
                        environment: Some(environment),
                        flags: Self::flags(&flags),
                        segments: Self::segments(&segments),
                    })
                }

                /// A segment's `include` and `rules` columns: the JSON the API answers.
                fn segment_columns(
                    segment: &StoredSegment,
                ) -> Result<(String, String), StoreError> {
                    let json = |value: Result<String, serde_json::Error>| {
                        value.map_err(|e| StoreError::Corrupt(e.to_string()))
                    };
                    Ok((
                        json(serde_json::to_string(&*segment.segment.include))?,
                        json(serde_json::to_string(&*segment.segment.rules))?,
                    ))
                }

                /// Writes `after` over its row, if that row is still at `before`'s version;
                /// `Conflict` otherwise.
                async fn store_update(
                    &self,
                    tx: &mut sqlx::Transaction<'_, $db>,
                    before: &StoredFlag,
                    after: &StoredFlag,
                ) -> Result<(), StoreError> {
                    let columns = FlagColumns::of(&after.flag)?;
                    let done = sqlx::query(&self.queries.update_flag)
                        .bind(after.id.to_string())
                        .bind(&after.flag.description)
                        .bind(after.flag.enabled)
                        .bind(columns.flag_type)
                        .bind(columns.variants)
                        .bind(columns.off_variant)
                        .bind(columns.prerequisites)
                        .bind(columns.rules)
                        .bind(columns.rollout_percentage)
                        .bind(columns.fallthrough)
                        .bind(after.version.to_column())
                        .bind(after.updated_at)
                        .bind(before.version.to_column())
                        .execute(&mut **tx)
                        .await?;
                    compare_and_set(done.rows_affected(), "flag")?;
                    Ok(())
                }

                /// The API's one repair of a flag or segment row it cannot read: delete it
                /// (`query`), keeping what can be recovered of it in the audit log under `action`.
                /// Returns the revision bump, if any.
                async fn delete_unreadable(
                    &self,
                    tx: &mut sqlx::Transaction<'_, $db>,
                    (query, action): (&str, AuditAction),
                    id: Uuid,
                    (recovered, environment): (String, Option<&str>),
                    at: chrono::DateTime<chrono::Utc>,
                    actor: &Actor,
                ) -> Result<Option<$crate::revision::Revision>, StoreError> {
                    sqlx::query(query)
                        .bind(id.to_string())
                        .execute(&mut **tx)
                        .await?;
                    let record =
                        AuditRecord::raw(action, id.to_string(), Some(recovered), None, at);
                    self.audit_unreadable(tx, record, environment, actor).await
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
                    actor: &Actor,
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
                    actor: &Actor,
                ) -> Result<Written<StoredFlag>, StoreError> {
                    let at = model::now();
                    let created = model::create(new, at);
                    let flag = &created.flag;
                    let columns = FlagColumns::of(flag)?;
                    let mut tx = self.write.begin().await?;
                    self.lock_environment(&mut tx, created.environment).await?;
                    let done = sqlx::query(&self.queries.insert_flag)
                        .bind(created.id.to_string())
                        .bind(flag.key.as_str())
                        .bind(created.environment.as_str())
                        .bind(&flag.description)
                        .bind(flag.enabled)
                        .bind(columns.flag_type)
                        .bind(columns.variants)
                        .bind(columns.off_variant)
                        .bind(columns.prerequisites)
                        .bind(columns.rules)
                        .bind(columns.rollout_percentage)
                        .bind(columns.fallthrough)
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
                    let documents = self.documents(&mut tx, created.environment).await?;
                    references::check_flag(flag, &documents)?;
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
                    actor: &Actor,
                ) -> Result<Written<StoredFlag>, StoreError> {
                    let mut tx = self.write.begin().await?;
                    // A flag never changes environment: read unlocked to learn which one to lock
                    // first, then read again under the locks.
                    let found = Self::row_by_id(&mut tx, &self.queries.flag_by_id, id).await?;
                    let environment = Self::one_flag(&found)?.environment;
                    self.lock_environment(&mut tx, environment).await?;
                    let before = Self::one_flag(
                        &Self::row_by_id(&mut tx, &self.queries.flag_by_id_for_update, id).await?,
                    )?;
                    model::check_version(Some(before.version.get()), if_match)?;
                    let at = model::now();
                    let Some(after) = model::patched(&before, &patch, at)? else {
                        // Nothing to write: the transaction rolls back when dropped.
                        return Ok(Written {
                            value: before,
                            revisions: Vec::new(),
                        });
                    };
                    let documents = self.documents(&mut tx, environment).await?;
                    references::check_flag(&after.flag, &documents)?;
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
                    actor: &Actor,
                ) -> Result<Written<Option<StoredFlag>>, StoreError> {
                    let mut tx = self.write.begin().await?;
                    let found = Self::row_by_id(&mut tx, &self.queries.flag_by_id, id).await?;
                    let environment = self
                        .lock_stored_environment(
                            &mut tx,
                            Self::flag_row(&found).environment.as_deref(),
                        )
                        .await?;
                    let row = Self::flag_row(
                        &Self::row_by_id(&mut tx, &self.queries.flag_by_id_for_update, id).await?,
                    );
                    // Checked on the locked row (an unreadable version fails any version but `*`);
                    // the DELETE's `AND version = $2` is the compare-and-set.
                    model::check_version(row.stored_version(), if_match)?;
                    // What other flags name by key, whether or not the rest of the row reads.
                    if let (Some(environment), Some(key)) = (environment, row.key.as_deref()) {
                        let documents = self.documents(&mut tx, environment).await?;
                        references::check_flag_deletion(key, &documents)?;
                    }
                    let at = model::now();
                    let before = match row.read() {
                        Ok(before) => before,
                        Err(unreadable) => {
                            tracing::warn!(
                                %id,
                                reason = %unreadable.reason,
                                "deleting a flag that cannot be read"
                            );
                            let delete =
                                (&*self.queries.delete_unreadable, AuditAction::DeleteFlag);
                            let recovered = (row.recovered_json(), row.environment.as_deref());
                            let revision = self
                                .delete_unreadable(&mut tx, delete, id, recovered, at, actor)
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
                    compare_and_set(done.rows_affected(), "flag")?;
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

                async fn create_segment(
                    &self,
                    new: NewSegment,
                    actor: &Actor,
                ) -> Result<Written<StoredSegment>, StoreError> {
                    let at = model::now();
                    let created = model::create_segment(new, at);
                    let (include, rules) = Self::segment_columns(&created)?;
                    let mut tx = self.write.begin().await?;
                    self.lock_environment(&mut tx, created.environment).await?;
                    let done = sqlx::query(&self.queries.insert_segment)
                        .bind(created.id.to_string())
                        .bind(created.segment.key.as_str())
                        .bind(created.environment.as_str())
                        .bind(&created.segment.description)
                        .bind(include)
                        .bind(rules)
                        .bind(created.version.to_column())
                        .bind(created.created_at)
                        .bind(created.updated_at)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::Conflict(format!(
                            "segment \"{}\" already exists in environment \"{}\"",
                            created.segment.key,
                            created.environment.as_str()
                        )));
                    }
                    let record = AuditRecord::new(
                        AuditAction::CreateSegment,
                        created.id,
                        None,
                        Some(&created),
                        at,
                    )?;
                    self.commit_audited(tx, record, created.environment, actor, created)
                        .await
                }

                async fn update_segment(
                    &self,
                    id: Uuid,
                    patch: SegmentPatch,
                    if_match: Option<u64>,
                    actor: &Actor,
                ) -> Result<Written<StoredSegment>, StoreError> {
                    let mut tx = self.write.begin().await?;
                    let found = Self::row_by_id(&mut tx, &self.queries.segment_by_id, id).await?;
                    let environment = Self::one_segment(&found)?.environment;
                    self.lock_environment(&mut tx, environment).await?;
                    let before = Self::one_segment(
                        &Self::row_by_id(&mut tx, &self.queries.segment_by_id_for_update, id)
                            .await?,
                    )?;
                    model::check_version(Some(before.version.get()), if_match)?;
                    let at = model::now();
                    let Some(after) = model::patched_segment(&before, &patch, at)? else {
                        return Ok(Written {
                            value: before,
                            revisions: Vec::new(),
                        });
                    };
                    let (include, rules) = Self::segment_columns(&after)?;
                    let done = sqlx::query(&self.queries.update_segment)
                        .bind(after.id.to_string())
                        .bind(&after.segment.description)
                        .bind(include)
                        .bind(rules)
                        .bind(after.version.to_column())
                        .bind(after.updated_at)
                        .bind(before.version.to_column())
                        .execute(&mut *tx)
                        .await?;
                    compare_and_set(done.rows_affected(), "segment")?;
                    let record = AuditRecord::new(
                        AuditAction::UpdateSegment,
                        after.id,
                        Some(&before),
                        Some(&after),
                        at,
                    )?;
                    self.commit_audited(tx, record, after.environment, actor, after)
                        .await
                }

                async fn delete_segment(
                    &self,
                    id: Uuid,
                    if_match: Option<u64>,
                    actor: &Actor,
                ) -> Result<Written<Option<StoredSegment>>, StoreError> {
                    let mut tx = self.write.begin().await?;
                    let found = Self::row_by_id(&mut tx, &self.queries.segment_by_id, id).await?;
                    let environment = self
                        .lock_stored_environment(
                            &mut tx,
                            Self::segment_row(&found).environment.as_deref(),
                        )
                        .await?;
                    let row: SegmentRow = Self::segment_row(
                        &Self::row_by_id(&mut tx, &self.queries.segment_by_id_for_update, id)
                            .await?,
                    );
                    model::check_version(row.stored_version(), if_match)?;
                    if let (Some(environment), Some(key)) = (environment, row.key.as_deref()) {
                        let documents = self.documents(&mut tx, environment).await?;
                        references::check_segment_deletion(key, &documents)?;
                    }
                    let at = model::now();
                    let before = match row.read() {
                        Ok(before) => before,
                        Err(unreadable) => {
                            tracing::warn!(
                                %id,
                                reason = %unreadable.reason,
                                "deleting a segment that cannot be read"
                            );
                            let delete = (
                                &*self.queries.delete_unreadable_segment,
                                AuditAction::DeleteSegment,
                            );
                            let recovered = (row.recovered_json(), row.environment.as_deref());
                            let revision = self
                                .delete_unreadable(&mut tx, delete, id, recovered, at, actor)
                                .await?;
                            tx.commit().await?;
                            return Ok(Written {
                                value: None,
                                revisions: revision.into_iter().collect(),
                            });
                        }
                    };
                    let done = sqlx::query(&self.queries.delete_segment)
                        .bind(id.to_string())
                        .bind(before.version.to_column())
                        .execute(&mut *tx)
                        .await?;
                    compare_and_set(done.rows_affected(), "segment")?;
                    let record = AuditRecord::new(
                        AuditAction::DeleteSegment,
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
                    actor: &Actor,
                ) -> Result<Written<FlagList>, StoreError> {
                    let mut tx = self.write.begin().await?;
                    // Every environment before any flag row, in the order every write takes them.
                    // Switching a flag off breaks no reference, so nothing is checked.
                    sqlx::query(&self.queries.lock_environments)
                        .fetch_all(&mut *tx)
                        .await?;
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
                        // Already off: nothing changes, so no version bump and no audit entry.
                        let Some(after) = model::disabled(&before, at)? else {
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
