-- Same schema as migrations/postgres, in SQLite's types: UUIDs and JSON as TEXT, timestamps as
-- RFC 3339 TEXT (what sqlx writes for chrono's DateTime<Utc>).
CREATE TABLE environments (
    name     TEXT PRIMARY KEY CHECK (name IN ('dev', 'staging', 'prod')),
    revision INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0)
);
INSERT INTO environments (name) VALUES ('dev'), ('staging'), ('prod');

CREATE TABLE flags (
    id                 TEXT PRIMARY KEY,
    key                TEXT NOT NULL,
    environment        TEXT NOT NULL REFERENCES environments (name),
    description        TEXT NOT NULL DEFAULT '',
    enabled            BOOLEAN NOT NULL DEFAULT FALSE,
    rollout_percentage INTEGER NOT NULL CHECK (rollout_percentage BETWEEN 0 AND 100),
    rules              TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(rules)),
    version            INTEGER NOT NULL CHECK (version >= 1),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (key, environment)
);

-- AUTOINCREMENT: a deleted newest row's seq is never reused, so a cursor stays stable.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    action     TEXT NOT NULL CHECK (action IN ('CREATE_FLAG', 'UPDATE_FLAG', 'DELETE_FLAG', 'KILL_SWITCH')),
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    before     TEXT,
    after      TEXT,
    actor      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_log_entity_seq ON audit_log (entity_id, seq DESC);
