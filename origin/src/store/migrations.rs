//! The migrations of `migrations/<dialect>/` at the repository root, embedded in the binary.
//!
//! `sqlx::migrate!` would need sqlx's `macros` feature (and its compile-time driver build); the
//! migrator it generates is this same list, so `sqlx migrate` from the CLI stays compatible.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

/// (version, description, SQL) of each migration, in order.
type Source = (i64, &'static str, &'static str);

pub const POSTGRES: &[Source] = &[
    (
        1,
        "flags and audit",
        include_str!("../../../migrations/postgres/0001_flags_and_audit.sql"),
    ),
    (
        2,
        "json keeps numbers as written",
        include_str!("../../../migrations/postgres/0002_json_keeps_numbers_as_written.sql"),
    ),
    (
        3,
        "v2 flags and segments",
        include_str!("../../../migrations/postgres/0003_v2_flags_and_segments.sql"),
    ),
    (
        4,
        "tokens and audit actor",
        include_str!("../../../migrations/postgres/0004_tokens_and_audit_actor.sql"),
    ),
    (
        5,
        "flag usage",
        include_str!("../../../migrations/postgres/0005_flag_usage.sql"),
    ),
];

/// SQLite needed no 0002 (its JSON was always the text written), so it goes from 1 to 3: the
/// numbers stay those of the PostgreSQL migrations that do the same change.
pub const SQLITE: &[Source] = &[
    (
        1,
        "flags and audit",
        include_str!("../../../migrations/sqlite/0001_flags_and_audit.sql"),
    ),
    (
        3,
        "v2 flags and segments",
        include_str!("../../../migrations/sqlite/0003_v2_flags_and_segments.sql"),
    ),
    (
        4,
        "tokens and audit actor",
        include_str!("../../../migrations/sqlite/0004_tokens_and_audit_actor.sql"),
    ),
    (
        5,
        "flag usage",
        include_str!("../../../migrations/sqlite/0005_flag_usage.sql"),
    ),
];

pub fn migrator(sources: &[Source]) -> Migrator {
    let migrations: Vec<Migration> = sources
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}
