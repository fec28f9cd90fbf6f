-- Scoped API tokens. Only the SHA-256 of a token's secret is kept: the secret is 256 random bits,
-- so a fast hash is as strong as a slow one, and a lookup by hash needs no per-token comparison.
CREATE TABLE api_tokens (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer', 'server', 'client')),
    -- A JSON array of environment names, e.g. ["prod"].
    environments    TEXT NOT NULL,
    secret_sha256   BLOB NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
    created_at      TEXT NOT NULL,
    created_by_id   TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    revoked_at      TEXT
);

-- One row: grows with every token write, in the same transaction, so each origin can tell with one
-- number whether the tokens it holds are current.
CREATE TABLE token_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL CHECK (revision >= 0)
);
INSERT INTO token_revision (id, revision) VALUES (1, 0);

-- The audit log records the token that acted (`actor` is its name), the free-text note of
-- `x-actor`, and the environment of the entity, by which scoped tokens read it. Entries written
-- before keep `actor` as it was claimed, with no token id. The action's CHECK changes, which SQLite
-- can only do by rebuilding the table: every row and `seq` is copied, and the AUTOINCREMENT
-- counter carried over, so cursors handed out before stay valid (as in 0003).
CREATE TABLE audit_log_v3 (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    action         TEXT NOT NULL CHECK (action IN (
                       'CREATE_FLAG', 'UPDATE_FLAG', 'DELETE_FLAG', 'KILL_SWITCH',
                       'CREATE_SEGMENT', 'UPDATE_SEGMENT', 'DELETE_SEGMENT',
                       'CREATE_TOKEN', 'REVOKE_TOKEN'
                   )),
    entity         TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    before         TEXT,
    after          TEXT,
    actor          TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    actor_token_id TEXT,
    note           TEXT,
    environment    TEXT
);
-- A side that is not valid JSON (a hand edit) gives no environment rather than failing the
-- migration; such an entry is then read by admin tokens only.
INSERT INTO audit_log_v3 (seq, id, action, entity, entity_id, before, after, actor, created_at,
                          environment)
    SELECT seq, id, action, entity, entity_id, before, after, actor, created_at,
           COALESCE(
               CASE WHEN json_valid(after) THEN json_extract(after, '$.environment') END,
               CASE WHEN json_valid(before) THEN json_extract(before, '$.environment') END
           )
    FROM audit_log;
UPDATE sqlite_sequence
    SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'audit_log')
    WHERE name = 'audit_log_v3';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'audit_log_v3', seq FROM sqlite_sequence
    WHERE name = 'audit_log'
      AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'audit_log_v3');
DROP TABLE audit_log;
ALTER TABLE audit_log_v3 RENAME TO audit_log;
CREATE INDEX audit_log_entity_seq ON audit_log (entity_id, seq DESC);
CREATE INDEX audit_log_environment_seq ON audit_log (environment, seq DESC);
