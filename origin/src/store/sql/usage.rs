//! The SQL of flag usage, for both dialects: [`UsageQueries`] and [`impl_usage_store!`].
//!
//! A batch is written with multi-row `INSERT … ON CONFLICT DO UPDATE` statements of at most
//! [`ROWS_PER_STATEMENT`] rows each: a batch of a thousand flags is a handful of statements, not a
//! thousand round trips, and stays far below either database's limit on bound parameters.

use super::Dialect;

/// Rows per `INSERT` (5 parameters each: 1,000 parameters per statement at most).
pub const ROWS_PER_STATEMENT: usize = 200;

/// The usage queries, with the dialect's functions and casts spliced in. The inserts are built per
/// statement for the number of rows it carries ([`UsageQueries::add_counts`]).
#[derive(Debug, Clone)]
pub struct UsageQueries {
    greatest: &'static str,
    pub delete_before: String,
    pub counts_since: String,
    pub last_evaluated: String,
}

/// `($1, $2, $3), ($4, $5, $6), …`: `rows` tuples of `columns` parameters.
fn placeholders(rows: usize, columns: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|row| {
            let params: Vec<String> = (1..=columns)
                .map(|column| format!("${}", row * columns + column))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    tuples.join(", ")
}

impl UsageQueries {
    pub fn new(d: Dialect) -> Self {
        Self {
            greatest: d.greatest,
            delete_before: "DELETE FROM flag_usage WHERE hour < $1".into(),
            // `CAST`: PostgreSQL sums a BIGINT column as NUMERIC.
            counts_since: format!(
                "SELECT environment, flag_key, variant, CAST(SUM(evaluations) AS BIGINT) AS evaluations \
                 FROM flag_usage WHERE hour >= $1 AND ($2{tx} IS NULL OR environment = $2) \
                 AND ($3{tx} IS NULL OR flag_key = $3) GROUP BY environment, flag_key, variant",
                tx = d.text
            ),
            last_evaluated: format!(
                "SELECT environment, flag_key, last_evaluated_at FROM flag_last_evaluated \
                 WHERE ($1{tx} IS NULL OR environment = $1) AND ($2{tx} IS NULL OR flag_key = $2)",
                tx = d.text
            ),
        }
    }

    /// Adds `rows` hourly counts to the stored ones.
    pub fn add_counts(&self, rows: usize) -> String {
        format!(
            "INSERT INTO flag_usage (environment, flag_key, variant, hour, evaluations) VALUES {} \
             ON CONFLICT (environment, flag_key, variant, hour) \
             DO UPDATE SET evaluations = flag_usage.evaluations + excluded.evaluations",
            placeholders(rows, 5)
        )
    }

    /// Moves `rows` flags' last evaluation forward, never back.
    pub fn advance_last_evaluated(&self, rows: usize) -> String {
        format!(
            "INSERT INTO flag_last_evaluated (environment, flag_key, last_evaluated_at) VALUES {} \
             ON CONFLICT (environment, flag_key) DO UPDATE SET last_evaluated_at = \
             {}(flag_last_evaluated.last_evaluated_at, excluded.last_evaluated_at)",
            placeholders(rows, 3),
            self.greatest
        )
    }
}

/// Implements `UsageStore` for `$store`, a struct with `read` and `write` pools of `$db` and its
/// `queries: Queries`.
macro_rules! impl_usage_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use evaluator::Environment;
            use sqlx::Row as _;

            use $crate::store::sql::usage::ROWS_PER_STATEMENT;
            use $crate::store::usage::{UsageBatch, UsageQuery, UsageStore, UsageTable};
            use $crate::store::StoreError;

            fn environment(name: &str) -> Result<Environment, StoreError> {
                Environment::parse(name)
                    .map_err(|e| StoreError::Corrupt(format!("flag usage environment: {e}")))
            }

            #[async_trait::async_trait]
            impl UsageStore for $store {
                async fn add_usage(&self, batch: &UsageBatch) -> Result<(), StoreError> {
                    let queries = &self.queries.usage;
                    let mut tx = self.write.begin().await?;
                    for rows in batch.counts.chunks(ROWS_PER_STATEMENT) {
                        let sql = queries.add_counts(rows.len());
                        let mut insert = sqlx::query(&sql);
                        for row in rows {
                            insert = insert
                                .bind(row.environment.as_str())
                                .bind(row.flag.as_str())
                                .bind(row.variant.as_str())
                                .bind(row.hour)
                                .bind(i64::try_from(row.evaluations).unwrap_or(i64::MAX));
                        }
                        insert.execute(&mut *tx).await?;
                    }
                    for rows in batch.last_evaluated.chunks(ROWS_PER_STATEMENT) {
                        let sql = queries.advance_last_evaluated(rows.len());
                        let mut insert = sqlx::query(&sql);
                        for row in rows {
                            insert = insert
                                .bind(row.environment.as_str())
                                .bind(row.flag.as_str())
                                .bind(row.at);
                        }
                        insert.execute(&mut *tx).await?;
                    }
                    sqlx::query(&queries.delete_before)
                        .bind(batch.keep_from_hour)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn usage(&self, query: UsageQuery<'_>) -> Result<UsageTable, StoreError> {
                    let queries = &self.queries.usage;
                    let environment_name = query.environment.map(Environment::as_str);
                    let counts = sqlx::query(&queries.counts_since)
                        .bind(query.since_hour)
                        .bind(environment_name)
                        .bind(query.flag)
                        .fetch_all(&self.read)
                        .await?;
                    let last = sqlx::query(&queries.last_evaluated)
                        .bind(environment_name)
                        .bind(query.flag)
                        .fetch_all(&self.read)
                        .await?;
                    let mut table = UsageTable::new();
                    for row in &counts {
                        let name: String = row.try_get("environment")?;
                        let flag: String = row.try_get("flag_key")?;
                        let variant: String = row.try_get("variant")?;
                        let evaluations: i64 = row.try_get("evaluations")?;
                        table
                            .entry((environment(&name)?, flag))
                            .or_default()
                            .variants
                            .insert(variant, u64::try_from(evaluations).unwrap_or(0));
                    }
                    for row in &last {
                        let name: String = row.try_get("environment")?;
                        let flag: String = row.try_get("flag_key")?;
                        let at: i64 = row.try_get("last_evaluated_at")?;
                        table
                            .entry((environment(&name)?, flag))
                            .or_default()
                            .last_evaluated_at = Some(at);
                    }
                    Ok(table)
                }
            }
        };
    };
}

pub(crate) use impl_usage_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_parameter_once() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(1, 5), "($1, $2, $3, $4, $5)");
    }

    #[test]
    fn the_last_evaluation_only_moves_forward_in_either_dialect() {
        let postgres = UsageQueries::new(super::super::POSTGRES);
        let sqlite = UsageQueries::new(super::super::SQLITE);
        assert!(postgres.advance_last_evaluated(1).contains(
            "GREATEST(flag_last_evaluated.last_evaluated_at, excluded.last_evaluated_at)"
        ));
        assert!(sqlite
            .advance_last_evaluated(1)
            .contains("MAX(flag_last_evaluated.last_evaluated_at, excluded.last_evaluated_at)"));
    }
}
