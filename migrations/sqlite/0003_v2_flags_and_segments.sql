-- Contract version 2, as migrations/postgres/0003 does it, in SQLite's types (JSON as TEXT checked
-- with json_valid). SQLite cannot drop a NOT NULL or change a CHECK in place, so `flags` and
-- `audit_log` are rebuilt: a new table, every row copied, the old one dropped, the new one renamed
-- (nothing references either table, so the foreign keys are untouched).
--
-- Every column added to `flags` is NULL or defaults to what a version-1 flag meant, so each copied
-- row reads back as the same boolean flag: `flag_type` 'boolean', `variants` and `off_variant` NULL
-- (a boolean flag's fixed {"on": true, "off": false} and "off"), `prerequisites` '[]',
-- `fallthrough` NULL (the rollout percentage is the fallthrough). A flag has either a rollout
-- percentage or a fallthrough, never both, never neither.
CREATE TABLE flags_v2 (
    id                 TEXT PRIMARY KEY,
    key                TEXT NOT NULL,
    environment        TEXT NOT NULL REFERENCES environments (name),
    description        TEXT NOT NULL DEFAULT '',
    enabled            BOOLEAN NOT NULL DEFAULT FALSE,
    flag_type          TEXT NOT NULL DEFAULT 'boolean'
                           CHECK (flag_type IN ('boolean', 'string', 'number', 'object')),
    variants           TEXT CHECK (variants IS NULL OR json_valid(variants)),
    off_variant        TEXT,
    prerequisites      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(prerequisites)),
    rules              TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(rules)),
    rollout_percentage INTEGER CHECK (rollout_percentage BETWEEN 0 AND 100),
    fallthrough        TEXT CHECK (fallthrough IS NULL OR json_valid(fallthrough)),
    version            INTEGER NOT NULL CHECK (version >= 1),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (key, environment),
    CHECK ((rollout_percentage IS NULL) <> (fallthrough IS NULL))
);
INSERT INTO flags_v2 (id, key, environment, description, enabled, rules, rollout_percentage,
                      version, created_at, updated_at)
    SELECT id, key, environment, description, enabled, rules, rollout_percentage,
           version, created_at, updated_at
    FROM flags;
DROP TABLE flags;
ALTER TABLE flags_v2 RENAME TO flags;

CREATE TABLE segments (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL,
    environment TEXT NOT NULL REFERENCES environments (name),
    description TEXT NOT NULL DEFAULT '',
    include     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(include)),
    rules       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(rules)),
    version     INTEGER NOT NULL CHECK (version >= 1),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (key, environment)
);

-- The audit log's actions gain the segment writes. `seq` values are copied as they are, and the
-- AUTOINCREMENT counter is carried over, so cursors handed out before stay valid and no position
-- is ever reused.
CREATE TABLE audit_log_v2 (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    action     TEXT NOT NULL CHECK (action IN (
                   'CREATE_FLAG', 'UPDATE_FLAG', 'DELETE_FLAG', 'KILL_SWITCH',
                   'CREATE_SEGMENT', 'UPDATE_SEGMENT', 'DELETE_SEGMENT'
               )),
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    before     TEXT,
    after      TEXT,
    actor      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO audit_log_v2 (seq, id, action, entity, entity_id, before, after, actor, created_at)
    SELECT seq, id, action, entity, entity_id, before, after, actor, created_at FROM audit_log;
UPDATE sqlite_sequence
    SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'audit_log')
    WHERE name = 'audit_log_v2';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'audit_log_v2', seq FROM sqlite_sequence
    WHERE name = 'audit_log'
      AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'audit_log_v2');
DROP TABLE audit_log;
ALTER TABLE audit_log_v2 RENAME TO audit_log;
CREATE INDEX audit_log_entity_seq ON audit_log (entity_id, seq DESC);
