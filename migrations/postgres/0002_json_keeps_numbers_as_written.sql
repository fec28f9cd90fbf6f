-- Rules and audit snapshots as `json`, not `jsonb`: `json` keeps the exact text the origin wrote,
-- while `jsonb` stores numbers as `numeric` and prints them back in another spelling (f64::MAX as a
-- 309-digit integer, `1e16` as `10000000000000000`, `-0.0` as `0.0`). The origin writes every number
-- in its shortest round-trip form and reads it back correctly rounded, so with `json` each number
-- comes back as the same double. No query uses jsonb operators, indexes or equality on these columns.
--
-- Rows written before this migration keep jsonb's text (`jsonb::json` prints what jsonb held); the
-- origin reads those numbers correctly rounded too, so they stay the doubles they were written as
-- (except the sign of a negative zero, which jsonb had already dropped).
ALTER TABLE flags ALTER COLUMN rules DROP DEFAULT;
ALTER TABLE flags ALTER COLUMN rules TYPE json USING rules::json;
ALTER TABLE flags ALTER COLUMN rules SET DEFAULT '[]'::json;

ALTER TABLE audit_log
    ALTER COLUMN before TYPE json USING before::json,
    ALTER COLUMN after TYPE json USING after::json;
