//! The embedded default store: a SQLite file (`./pennon.db`), created when missing.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use super::migrations;
use super::sql::{
    impl_flag_store, impl_flag_writer, impl_token_store, impl_usage_store, Dialect, Queries, SQLITE,
};
use super::StoreError;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    /// One connection: SQLite has one writer at a time, and a transaction that reads before it writes
    /// would otherwise fail with SQLITE_BUSY when another connection wrote in between.
    write: SqlitePool,
    queries: Queries,
    dialect: Dialect,
}

impl SqliteStore {
    fn pools(&self) -> Vec<super::PoolUsage> {
        vec![
            super::PoolUsage::of("read", &self.read),
            super::PoolUsage::of("write", &self.write),
        ]
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and runs the embedded migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // `sqlite::memory:` is one database per connection: keep exactly one, forever, for all.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(u32::from(in_memory))
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await?;
        migrations::migrator(migrations::SQLITE).run(&write).await?;
        let read = if in_memory {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options.read_only(true))
                .await?
        };
        Ok(Self {
            read,
            write,
            queries: Queries::new(SQLITE),
            dialect: SQLITE,
        })
    }
}

impl_flag_store!(SqliteStore, Sqlite, "sqlite");
impl_flag_writer!(SqliteStore, Sqlite);
impl_token_store!(SqliteStore, Sqlite);
impl_usage_store!(SqliteStore, Sqlite);
