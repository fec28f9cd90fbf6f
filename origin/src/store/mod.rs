//! Flag storage behind a small trait, with PostgreSQL and SQLite implementations on sqlx.
//!
//! Every write stores the flag, its audit entry and the environment's `revision` bump in one
//! transaction: a failed write leaves none of them. Reads ([`FlagStore`]) and writes
//! ([`FlagWriter`]) are separate traits, so that what may write is visible in the types.

mod flag;
pub mod migrations;
mod model;
mod postgres;
mod references;
mod row;
mod segment;
mod sql;
mod sqlite;
mod token;
mod usage;

use std::sync::Arc;

use async_trait::async_trait;
use evaluator::{Environment, FlagKey, ValidationError};
use uuid::Uuid;

pub use self::flag::{StoredFlag, Version};
use crate::access::Actor;
use crate::revision::Revision;

pub(crate) use self::model::timestamp;
pub use self::model::{
    AuditAction, AuditEntry, AuditPage, AuditQuery, Audited, FlagFilter, FlagPatch, FlagSnapshot,
    NewFlag, NewSegment, SegmentFilter, SegmentPatch, StoredSnapshot, Written,
};
pub use self::postgres::PostgresStore;
pub use self::row::{FlagList, SegmentList, UnreadableEntry, UnreadableFlag, UnreadableSegment};
pub use self::segment::StoredSegment;
pub use self::sql::NOTIFY_CHANNEL;
pub use self::sqlite::SqliteStore;
pub use self::token::{
    CreatedBy, NewToken, StoredToken, TokenRecord, TokenStore, TokenTable, TokenWriter,
    TokenWritten,
};
pub use self::usage::{
    HourlyCount, LastEvaluated, StoredUsage, UsageBatch, UsageQuery, UsageStore, UsageTable,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The flag or segment asked for does not exist (the caller knows which it asked for).
    #[error("not found")]
    NotFound,
    /// A unique key taken, an `If-Match` version that is not the current one, or a write that
    /// would break what other documents of the environment name (see `references.rs`).
    #[error("{0}")]
    Conflict(String),
    /// A write whose result is not a valid document, or names what the environment does not
    /// have: a 400 naming the field.
    #[error("{0}")]
    Invalid(ValidationError),
    /// The database cannot be reached (connect, I/O or pool time-out).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row that no longer parses: a bug or a hand edit, never the client's fault.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The flag asked for is stored but cannot be read (see `row.rs`); only deleting it works.
    #[error("flag {} cannot be read: {}", .0.id, .0.reason)]
    Unreadable(UnreadableFlag),
    /// The segment asked for is stored but cannot be read; only deleting it works.
    #[error("segment {} cannot be read: {}", .0.id, .0.reason)]
    UnreadableSegment(UnreadableSegment),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_) => Self::Unavailable(err),
            sqlx::Error::Database(ref db) if db.code().as_deref().is_some_and(unreachable_code) => {
                Self::Unavailable(err)
            }
            other => Self::Database(other),
        }
    }
}

/// PostgreSQL states that mean "the server or database is not there right now", not "this query is
/// wrong": connection exceptions (class 08), shutdowns (57P01..57P03), a dropped database (3D000).
fn unreachable_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "3D000")
}

/// What the read path ([`crate::flagset`]) needs from storage, and all it needs: its test doubles
/// implement these two methods and nothing else.
#[async_trait]
pub trait ReadStore: Send + Sync + std::fmt::Debug {
    /// Every environment's current revision: one small query, what the background revalidation
    /// compares the in-process sets with.
    async fn revisions(&self) -> Result<Vec<Revision>, StoreError>;
    /// The environment's flags and segments (each sorted by key) and its revision, read
    /// consistently; rows that cannot be read are left out of the snapshot and reported beside it.
    async fn load_snapshot(&self, environment: Environment) -> Result<StoredSnapshot, StoreError>;
}

/// One connection pool's connections, open and idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub name: &'static str,
    pub size: u32,
    pub idle: usize,
}

impl PoolUsage {
    pub fn of<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>) -> Self {
        Self {
            name,
            size: pool.size(),
            idle: pool.num_idle(),
        }
    }
}

/// What the admin API needs from storage, on top of what the read path reads.
#[async_trait]
pub trait FlagStore: ReadStore {
    /// `"postgres"` or `"sqlite"`, as `/health` reports it.
    fn kind(&self) -> &'static str;
    /// Each connection pool's connections, for `GET /metrics`.
    fn pool_usage(&self) -> Vec<PoolUsage>;
    async fn ping(&self) -> Result<(), StoreError>;
    async fn list_flags(&self, filter: &FlagFilter) -> Result<FlagList, StoreError>;
    /// `Unreadable` when the row exists but cannot be read (so does `update_flag`).
    async fn get_flag(&self, id: Uuid) -> Result<StoredFlag, StoreError>;
    async fn list_segments(&self, filter: &SegmentFilter) -> Result<SegmentList, StoreError>;
    /// `UnreadableSegment` when the row exists but cannot be read.
    async fn get_segment(&self, id: Uuid) -> Result<StoredSegment, StoreError>;
    async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, StoreError>;
}

/// The store's writes. Each commits the change, its audit entry and the revision bump of every
/// environment it changes in one transaction, and returns those revisions in [`Written`]: the read
/// path must not serve those environments below them again. In a running origin only
/// [`crate::admin::Admin`] holds one, and it invalidates after every write before it answers.
///
/// A write to a flag or a segment locks its environment first (PostgreSQL: the environment's row,
/// `FOR UPDATE`; SQLite has one writer) and checks what the documents of the environment name of
/// each other on what it holds then (`references.rs`): `Invalid` when the written flag names a
/// flag, variant or segment the environment does not have, or makes a prerequisite cycle;
/// `Conflict` when the write would take away what other flags name. So no two writers can
/// together leave a dangling reference or a cycle.
#[async_trait]
pub trait FlagWriter: Send + Sync + std::fmt::Debug {
    /// `Conflict` when the key exists in that environment.
    async fn create_flag(
        &self,
        new: NewFlag,
        actor: &Actor,
    ) -> Result<Written<StoredFlag>, StoreError>;
    /// `Conflict` when `if_match` is given and is not the current version (compare-and-set).
    async fn update_flag(
        &self,
        id: Uuid,
        patch: FlagPatch,
        if_match: Option<u64>,
        actor: &Actor,
    ) -> Result<Written<StoredFlag>, StoreError>;
    /// Returns the deleted flag, or `None` when its row could not be read (it is deleted all the
    /// same, and the audit entry's `before` holds what could be recovered of it). `Conflict` when
    /// another flag names it as a prerequisite, or `if_match` is given and is not the current
    /// version.
    async fn delete_flag(
        &self,
        id: Uuid,
        if_match: Option<u64>,
        actor: &Actor,
    ) -> Result<Written<Option<StoredFlag>>, StoreError>;
    /// `Conflict` when the key exists in that environment.
    async fn create_segment(
        &self,
        new: NewSegment,
        actor: &Actor,
    ) -> Result<Written<StoredSegment>, StoreError>;
    /// `Conflict` when `if_match` is given and is not the current version.
    async fn update_segment(
        &self,
        id: Uuid,
        patch: SegmentPatch,
        if_match: Option<u64>,
        actor: &Actor,
    ) -> Result<Written<StoredSegment>, StoreError>;
    /// Returns the deleted segment, or `None` when its row could not be read. `Conflict` when a
    /// flag's condition names it, or `if_match` is given and is not the current version.
    async fn delete_segment(
        &self,
        id: Uuid,
        if_match: Option<u64>,
        actor: &Actor,
    ) -> Result<Written<Option<StoredSegment>>, StoreError>;
    /// Disables `key` in every environment, unreadable rows included (their `enabled` column);
    /// returns every flag with that key, sorted by environment, and the rows that cannot be read.
    /// `Conflict`, and nothing written, when `if_match` is given and a flag of the key (in any
    /// environment) is at another version.
    async fn kill_switch(
        &self,
        key: &FlagKey,
        if_match: Option<u64>,
        actor: &Actor,
    ) -> Result<Written<FlagList>, StoreError>;
}

/// One opened store, seen as its reads (for the read path and the admin API's reads) and as its
/// writes (for the admin service alone).
#[derive(Debug, Clone)]
pub struct StoreHandles {
    pub reads: Arc<dyn FlagStore>,
    pub writes: Arc<dyn FlagWriter>,
    /// The token verifier's reads.
    pub tokens: Arc<dyn TokenStore>,
    /// The admin service's token writes.
    pub token_writes: Arc<dyn TokenWriter>,
    /// Flag usage, written in batches and read by the admin API.
    pub usage: Arc<dyn UsageStore>,
}

impl StoreHandles {
    pub fn new<S: FlagStore + FlagWriter + TokenStore + TokenWriter + UsageStore + 'static>(
        store: S,
    ) -> Self {
        let store = Arc::new(store);
        Self {
            usage: Arc::clone(&store) as Arc<dyn UsageStore>,
            reads: Arc::clone(&store) as Arc<dyn FlagStore>,
            writes: Arc::clone(&store) as Arc<dyn FlagWriter>,
            tokens: Arc::clone(&store) as Arc<dyn TokenStore>,
            token_writes: store,
        }
    }
}
