//! The production store: PostgreSQL (rules as `json`, timestamps as timestamptz).

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions, Postgres};

use super::migrations;
use super::sql::{
    impl_flag_store, impl_flag_writer, impl_token_store, impl_usage_store, Dialect, Queries,
    POSTGRES,
};
use super::StoreError;

#[derive(Debug, Clone)]
pub struct PostgresStore {
    read: PgPool,
    write: PgPool,
    queries: Queries,
    dialect: Dialect,
}

impl PostgresStore {
    /// Reads and writes share one pool.
    fn pools(&self) -> Vec<super::PoolUsage> {
        vec![super::PoolUsage::of("main", &self.read)]
    }
}

impl PostgresStore {
    /// Connects and runs the embedded migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            // A down database must fail a request quickly rather than hold it for the default 30 s.
            .acquire_timeout(Duration::from_secs(3))
            .connect(url)
            .await?;
        migrations::migrator(migrations::POSTGRES)
            .run(&pool)
            .await?;
        Ok(Self {
            read: pool.clone(),
            write: pool,
            queries: Queries::new(POSTGRES),
            dialect: POSTGRES,
        })
    }
}

impl_flag_store!(PostgresStore, Postgres, "postgres");
impl_flag_writer!(PostgresStore, Postgres);
impl_token_store!(PostgresStore, Postgres);
impl_usage_store!(PostgresStore, Postgres);
