-- Contract version 2: typed variants, prerequisites, fallthrough serves, and segments.
--
-- Every column added to `flags` is NULL or defaults to what a version-1 flag meant, so each row
-- written before this migration reads back as the same boolean flag: `flag_type` 'boolean',
-- `variants` and `off_variant` NULL (a boolean flag's fixed {"on": true, "off": false} and "off"),
-- `prerequisites` '[]', `fallthrough` NULL (the rollout percentage is the fallthrough). A flag has
-- either a rollout percentage or a fallthrough, never both, never neither.
--
-- JSON columns are `json`, not `jsonb`, for the reason migration 0002 gives: every number keeps the
-- text the origin wrote, so it reads back as the same double.
ALTER TABLE flags
    ADD COLUMN flag_type TEXT NOT NULL DEFAULT 'boolean'
        CHECK (flag_type IN ('boolean', 'string', 'number', 'object')),
    ADD COLUMN variants json,
    ADD COLUMN off_variant TEXT,
    ADD COLUMN prerequisites json NOT NULL DEFAULT '[]'::json,
    ADD COLUMN fallthrough json,
    ALTER COLUMN rollout_percentage DROP NOT NULL,
    ADD CONSTRAINT flags_rollout_or_fallthrough
        CHECK ((rollout_percentage IS NULL) <> (fallthrough IS NULL));

-- Named audiences of one environment; flags name them by key in `segment` / `notSegment`
-- conditions.
CREATE TABLE segments (
    id          UUID PRIMARY KEY,
    key         TEXT NOT NULL,
    environment TEXT NOT NULL REFERENCES environments (name),
    description TEXT NOT NULL DEFAULT '',
    include     json NOT NULL DEFAULT '[]'::json,
    rules       json NOT NULL DEFAULT '[]'::json,
    version     BIGINT NOT NULL CHECK (version >= 1),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (key, environment)
);

ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_action_check,
    ADD CONSTRAINT audit_log_action_check CHECK (action IN (
        'CREATE_FLAG', 'UPDATE_FLAG', 'DELETE_FLAG', 'KILL_SWITCH',
        'CREATE_SEGMENT', 'UPDATE_SEGMENT', 'DELETE_SEGMENT'
    ));
