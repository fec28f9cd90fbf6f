-- One row per environment: `revision` grows by one in the same transaction as every write to that
-- environment, so a cached or synced flag set can be compared against the database with one number.
CREATE TABLE environments (
    name     TEXT PRIMARY KEY CHECK (name IN ('dev', 'staging', 'prod')),
    revision BIGINT NOT NULL DEFAULT 0 CHECK (revision >= 0)
);
INSERT INTO environments (name) VALUES ('dev'), ('staging'), ('prod');

CREATE TABLE flags (
    id                 UUID PRIMARY KEY,
    key                TEXT NOT NULL,
    environment        TEXT NOT NULL REFERENCES environments (name),
    description        TEXT NOT NULL DEFAULT '',
    enabled            BOOLEAN NOT NULL DEFAULT FALSE,
    rollout_percentage INTEGER NOT NULL CHECK (rollout_percentage BETWEEN 0 AND 100),
    rules              JSONB NOT NULL DEFAULT '[]'::jsonb,
    version            BIGINT NOT NULL CHECK (version >= 1),
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (key, environment)
);

-- `seq` orders the log (newest first) and is the cursor: ids are random and timestamps can tie.
CREATE TABLE audit_log (
    seq        BIGSERIAL PRIMARY KEY,
    id         UUID NOT NULL UNIQUE,
    action     TEXT NOT NULL CHECK (action IN ('CREATE_FLAG', 'UPDATE_FLAG', 'DELETE_FLAG', 'KILL_SWITCH')),
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    before     JSONB,
    after      JSONB,
    actor      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_entity_seq ON audit_log (entity_id, seq DESC);
