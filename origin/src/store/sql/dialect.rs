//! What differs between PostgreSQL and SQLite, and the query templates written once for both.

use super::token::TokenQueries;
use super::usage::UsageQueries;

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
    /// The larger of two values (SQLite's two-argument `MAX` is PostgreSQL's `GREATEST`).
    pub greatest: &'static str,
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
    greatest: "GREATEST",
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
    greatest: "MAX",
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
    /// Locks one environment's row for the rest of the transaction: every write to a flag or a
    /// segment takes it first, so the checks between documents see no concurrent change.
    pub lock_environment: String,
    /// Locks every environment's row, in name order (the kill switch, which writes several).
    pub lock_environments: String,
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
    pub segments_of_environment: String,
    pub list_segments: String,
    pub segment_by_id: String,
    pub segment_by_id_for_update: String,
    pub insert_segment: String,
    pub update_segment: String,
    pub delete_segment: String,
    pub delete_unreadable_segment: String,
    pub tokens: TokenQueries,
    pub usage: UsageQueries,
}

impl Queries {
    pub fn new(d: Dialect) -> Self {
        let t = d.as_text;
        let columns = format!(
            "id{t} AS id, key, environment, description, enabled, flag_type, \
             variants{t} AS variants, off_variant, prerequisites{t} AS prerequisites, \
             rules{t} AS rules, rollout_percentage, fallthrough{t} AS fallthrough, version, \
             created_at, updated_at"
        );
        let segment_columns = format!(
            "id{t} AS id, key, environment, description, include{t} AS include, \
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
            lock_environment: format!(
                "SELECT revision FROM environments WHERE name = $1{}",
                d.for_update
            ),
            lock_environments: format!(
                "SELECT revision FROM environments ORDER BY name{}",
                d.for_update
            ),
            insert_flag: format!(
                "INSERT INTO flags (id, key, environment, description, enabled, flag_type, \
                 variants, off_variant, prerequisites, rules, rollout_percentage, fallthrough, \
                 version, created_at, updated_at) \
                 VALUES ($1{u}, $2, $3, $4, $5, $6, $7{j}, $8, $9{j}, $10{j}, $11, $12{j}, $13, \
                 $14, $15) \
                 ON CONFLICT (key, environment) DO NOTHING",
                u = d.uuid,
                j = d.json
            ),
            // `AND version = $13`: the compare-and-set that makes concurrent `If-Match` writes safe.
            update_flag: format!(
                "UPDATE flags SET description = $2, enabled = $3, flag_type = $4, \
                 variants = $5{j}, off_variant = $6, prerequisites = $7{j}, rules = $8{j}, \
                 rollout_percentage = $9, fallthrough = $10{j}, version = $11, updated_at = $12 \
                 WHERE id = $1{u} AND version = $13",
                u = d.uuid,
                j = d.json
            ),
            delete_flag: format!("DELETE FROM flags WHERE id = $1{} AND version = $2", d.uuid),
            delete_unreadable: format!("DELETE FROM flags WHERE id = $1{}", d.uuid),
            disable_unreadable: format!(
                "UPDATE flags SET enabled = FALSE, version = version + 1, updated_at = $2 \
                 WHERE id = $1{}",
                d.uuid
            ),
            insert_audit: format!(
                "INSERT INTO audit_log (id, action, entity, entity_id, before, after, actor, \
                 created_at, actor_token_id, note, environment) \
                 VALUES ($1{u}, $2, $3, $4, $5{j}, $6{j}, $7, $8, $9, $10, $11)",
                u = d.uuid,
                j = d.json
            ),
            bump_revision:
                "UPDATE environments SET revision = revision + 1 WHERE name = $1 RETURNING revision"
                    .into(),
            audit_page: format!(
                "SELECT seq, id{t} AS id, action, entity, entity_id, before{t} AS before, \
                 after{t} AS after, actor, created_at, actor_token_id, note, environment \
                 FROM audit_log \
                 WHERE ($1{tx} IS NULL OR entity_id = $1) AND ($2{b} IS NULL OR seq < $2) \
                 AND ($4{tx} IS NULL OR environment = $4 OR environment = $5 \
                      OR environment = $6) \
                 ORDER BY seq DESC LIMIT $3",
                tx = d.text,
                b = d.bigint
            ),
            segments_of_environment: format!(
                "SELECT {segment_columns} FROM segments WHERE environment = $1 ORDER BY key{c}",
                c = d.bytewise
            ),
            list_segments: format!(
                "SELECT {segment_columns} FROM segments WHERE ($1{tx} IS NULL OR environment = $1) \
                 AND ($2{tx} IS NULL OR key = $2) ORDER BY key{c}, environment",
                tx = d.text,
                c = d.bytewise
            ),
            segment_by_id: format!(
                "SELECT {segment_columns} FROM segments WHERE id = $1{}",
                d.uuid
            ),
            segment_by_id_for_update: format!(
                "SELECT {segment_columns} FROM segments WHERE id = $1{}{}",
                d.uuid, d.for_update
            ),
            insert_segment: format!(
                "INSERT INTO segments (id, key, environment, description, include, rules, version, \
                 created_at, updated_at) \
                 VALUES ($1{u}, $2, $3, $4, $5{j}, $6{j}, $7, $8, $9) \
                 ON CONFLICT (key, environment) DO NOTHING",
                u = d.uuid,
                j = d.json
            ),
            update_segment: format!(
                "UPDATE segments SET description = $2, include = $3{j}, rules = $4{j}, \
                 version = $5, updated_at = $6 WHERE id = $1{u} AND version = $7",
                u = d.uuid,
                j = d.json
            ),
            delete_segment: format!(
                "DELETE FROM segments WHERE id = $1{} AND version = $2",
                d.uuid
            ),
            delete_unreadable_segment: format!("DELETE FROM segments WHERE id = $1{}", d.uuid),
            tokens: TokenQueries::new(d),
            usage: UsageQueries::new(d),
        }
    }
}
