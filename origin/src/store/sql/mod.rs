//! The SQL of the store, written once for both dialects.
//!
//! PostgreSQL and SQLite differ here only in casts (UUID and JSON columns are bound and read as
//! text) and row locks, so the queries are one template each ([`dialect`]), and the logic is one
//! macro body for the reads ([`read`]) and one for the writes ([`write`]), which `postgres.rs` and
//! `sqlite.rs` instantiate with their sqlx types. A generic function over `sqlx::Database` would
//! need a dozen higher-ranked bounds on every call; the macros keep the logic in one place and
//! every instantiation concretely typed.

mod dialect;
mod read;
mod token;
pub(crate) mod usage;
mod write;

pub use self::dialect::{Dialect, Queries, NOTIFY_CHANNEL, POSTGRES, SQLITE};
pub(crate) use self::read::impl_flag_store;
pub(crate) use self::token::impl_token_store;
pub(crate) use self::usage::impl_usage_store;
pub(crate) use self::write::{compare_and_set, impl_flag_writer};
