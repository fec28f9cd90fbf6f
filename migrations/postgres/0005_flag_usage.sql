-- Flag usage: evaluations per flag, variant and hour, and when each flag was last evaluated.
-- Written by every origin in batches (never once per evaluation), each batch adding its counts to
-- the rows, so the counts of several origins and edge workers add up. Keyed by the flag's key, not
-- its id: usage is about what code asks for, and a flag deleted and created again under the same key
-- is the same flag to that code. Times are milliseconds since the Unix epoch.
CREATE TABLE flag_usage (
    environment TEXT NOT NULL REFERENCES environments (name),
    flag_key    TEXT NOT NULL,
    variant     TEXT NOT NULL,
    -- The start of the hour the evaluations were counted in.
    hour        BIGINT NOT NULL,
    evaluations BIGINT NOT NULL CHECK (evaluations >= 0),
    PRIMARY KEY (environment, flag_key, variant, hour)
);
-- Hours older than the window are deleted by the batches as they go.
CREATE INDEX flag_usage_hour ON flag_usage (hour);

-- Kept after the hourly counts are gone: what `?stale=7d` reads.
CREATE TABLE flag_last_evaluated (
    environment       TEXT NOT NULL REFERENCES environments (name),
    flag_key          TEXT NOT NULL,
    last_evaluated_at BIGINT NOT NULL,
    PRIMARY KEY (environment, flag_key)
);
