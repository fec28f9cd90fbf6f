-- Scoped API tokens. Only the SHA-256 of a token's secret is kept: the secret is 256 random bits,
-- so a fast hash is as strong as a slow one, and a lookup by hash needs no per-token comparison.
CREATE TABLE api_tokens (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer', 'server', 'client')),
    -- A JSON array of environment names, e.g. ["prod"].
    environments    TEXT NOT NULL,
    secret_sha256   BYTEA NOT NULL UNIQUE CHECK (octet_length(secret_sha256) = 32),
    created_at      TIMESTAMPTZ NOT NULL,
    created_by_id   TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    revoked_at      TIMESTAMPTZ
);

-- One row: grows with every token write, in the same transaction, so each origin can tell with one
-- number whether the tokens it holds are current.
CREATE TABLE token_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL CHECK (revision >= 0)
);
INSERT INTO token_revision (id, revision) VALUES (1, 0);

-- The audit log records the token that acted (`actor` is its name), the free-text note of
-- `x-actor`, and the environment of the entity, by which scoped tokens read it. Entries written
-- before keep `actor` as it was claimed, with no token id.
ALTER TABLE audit_log
    ADD COLUMN actor_token_id TEXT,
    ADD COLUMN note TEXT,
    ADD COLUMN environment TEXT,
    DROP CONSTRAINT audit_log_action_check,
    ADD CONSTRAINT audit_log_action_check CHECK (action IN (
        'CREATE_FLAG', 'UPDATE_FLAG', 'DELETE_FLAG', 'KILL_SWITCH',
        'CREATE_SEGMENT', 'UPDATE_SEGMENT', 'DELETE_SEGMENT',
        'CREATE_TOKEN', 'REVOKE_TOKEN'
    ));
UPDATE audit_log
    SET environment = COALESCE(after::json ->> 'environment', before::json ->> 'environment');
CREATE INDEX audit_log_environment_seq ON audit_log (environment, seq DESC);
