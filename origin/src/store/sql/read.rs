//! The store's reads for both dialects: [`impl_flag_store!`] implements `FlagStore`, and the
//! decoding of a row that the writes use too.

/// Implements `FlagStore` for `$store`, a struct with a pool of `$db` in `read`, its `queries:
/// Queries` and `dialect: Dialect`, named `$kind` in `/health`. Also gives `$store` the row
/// readers `flag_row`, `flags`, `one_flag`, `segment_row`, `segments` and `one_segment` that
/// [`super::impl_flag_writer!`] uses.
macro_rules! impl_flag_store {
    ($store:ty, $db:ty, $kind:literal) => {
        const _: () = {
            use evaluator::{Environment, FlagKey};
            use uuid::Uuid;

            use $crate::store::model::{FlagSnapshot, StoredSnapshot};
            use $crate::store::row::{AuditRow, FlagList, FlagRow, SegmentList, SegmentRow};
            use $crate::store::{
                AuditPage, AuditQuery, FlagFilter, FlagStore, SegmentFilter, StoreError,
                StoredFlag, StoredSegment,
            };

            impl $store {
                /// Decodes each column on its own: one that does not decode makes the row
                /// unreadable (see `row.rs`), never the query.
                fn flag_row(row: &<$db as sqlx::Database>::Row) -> FlagRow {
                    use sqlx::Row as _;
                    FlagRow {
                        id: row.try_get("id").ok(),
                        key: row.try_get("key").ok(),
                        environment: row.try_get("environment").ok(),
                        description: row.try_get("description").ok(),
                        enabled: row.try_get("enabled").ok(),
                        flag_type: row.try_get("flag_type").ok(),
                        variants: row.try_get("variants").ok(),
                        off_variant: row.try_get("off_variant").ok(),
                        prerequisites: row.try_get("prerequisites").ok(),
                        rules: row.try_get("rules").ok(),
                        rollout_percentage: row.try_get("rollout_percentage").ok(),
                        fallthrough: row.try_get("fallthrough").ok(),
                        version: row.try_get("version").ok(),
                        created_at: row.try_get("created_at").ok(),
                        updated_at: row.try_get("updated_at").ok(),
                    }
                }

                fn segment_row(row: &<$db as sqlx::Database>::Row) -> SegmentRow {
                    use sqlx::Row as _;
                    SegmentRow {
                        id: row.try_get("id").ok(),
                        key: row.try_get("key").ok(),
                        environment: row.try_get("environment").ok(),
                        description: row.try_get("description").ok(),
                        include: row.try_get("include").ok(),
                        rules: row.try_get("rules").ok(),
                        version: row.try_get("version").ok(),
                        created_at: row.try_get("created_at").ok(),
                        updated_at: row.try_get("updated_at").ok(),
                    }
                }

                fn segments(rows: &[<$db as sqlx::Database>::Row]) -> SegmentList {
                    SegmentList::read(rows.iter().map(Self::segment_row))
                }

                /// The one segment a row holds; `UnreadableSegment` (logged) when it cannot be read.
                fn one_segment(
                    row: &<$db as sqlx::Database>::Row,
                ) -> Result<StoredSegment, StoreError> {
                    Self::segment_row(row).read().map_err(|unreadable| {
                        unreadable.log();
                        StoreError::UnreadableSegment(unreadable)
                    })
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
            }

            #[async_trait::async_trait]
            impl $crate::store::ReadStore for $store {
                async fn revisions(&self) -> Result<Vec<$crate::revision::Revision>, StoreError> {
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
                        revisions.push($crate::revision::Revision::new(environment, revision));
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
                    let segment_rows = sqlx::query(&self.queries.segments_of_environment)
                        .bind(environment.as_str())
                        .fetch_all(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    let FlagList { flags, unreadable } = Self::flags(&rows);
                    let segments = Self::segments(&segment_rows);
                    Ok(StoredSnapshot {
                        snapshot: FlagSnapshot {
                            environment,
                            revision: u64::try_from(revision)
                                .map_err(|e| StoreError::Corrupt(format!("revision: {e}")))?,
                            flags,
                            segments: segments.segments,
                        },
                        unreadable,
                        unreadable_segments: segments.unreadable,
                    })
                }
            }

            #[async_trait::async_trait]
            impl FlagStore for $store {
                fn kind(&self) -> &'static str {
                    $kind
                }

                fn pool_usage(&self) -> Vec<$crate::store::PoolUsage> {
                    self.pools()
                }

                async fn ping(&self) -> Result<(), StoreError> {
                    sqlx::query(&self.queries.ping).execute(&self.read).await?;
                    Ok(())
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

                async fn list_segments(
                    &self,
                    filter: &SegmentFilter,
                ) -> Result<SegmentList, StoreError> {
                    let rows = sqlx::query(&self.queries.list_segments)
                        .bind(filter.environment.map(Environment::as_str))
                        .bind(filter.key.as_ref().map(|key| key.as_str()))
                        .fetch_all(&self.read)
                        .await?;
                    Ok(Self::segments(&rows))
                }

                async fn get_segment(&self, id: Uuid) -> Result<StoredSegment, StoreError> {
                    let row = sqlx::query(&self.queries.segment_by_id)
                        .bind(id.to_string())
                        .fetch_optional(&self.read)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    Self::one_segment(&row)
                }

                async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
                    use sqlx::Row as _;
                    if query.environments.is_some_and(|set| set.is_empty()) {
                        return Ok(AuditPage {
                            entries: Vec::new(),
                            next_cursor: None,
                            unreadable: Vec::new(),
                        });
                    }
                    // Up to three environments, each its own parameter (a list would bind
                    // differently in each dialect); unused ones are NULL, which equals nothing.
                    let mut environments = query
                        .environments
                        .into_iter()
                        .flat_map(|set| set.iter())
                        .map(evaluator::Environment::as_str);
                    let rows = sqlx::query(&self.queries.audit_page)
                        .bind(query.entity_id.as_deref())
                        .bind(query.before)
                        .bind(i64::from(query.limit) + 1)
                        .bind(environments.next())
                        .bind(environments.next())
                        .bind(environments.next())
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
                            actor_token_id: row.try_get("actor_token_id").ok(),
                            note: row.try_get("note").ok(),
                            environment: row.try_get("environment").ok(),
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
        };
    };
}

pub(crate) use impl_flag_store;
