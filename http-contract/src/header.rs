//! The header names of Pennon's own that both servers use.

/// The edge worker's token on [`crate::path::SNAPSHOT`]: the edge sends its `EDGE_TOKEN`, the origin
/// compares it with its own.
pub const EDGE_TOKEN: &str = "x-edge-token";

/// On the edge's evaluate answers: the revision of the snapshot that answered (exposed to pages by
/// [`crate::cors::HEADERS`]).
pub const REVISION: &str = "x-pennon-revision";

/// On the edge's evaluate answers: `fresh`, or `stale` when the origin could not confirm the
/// snapshot (exposed to pages by [`crate::cors::HEADERS`]).
pub const SNAPSHOT: &str = "x-pennon-snapshot";

/// On OFREP requests: the environment to evaluate in (`dev`, `staging`, `prod`); `prod` without
/// it, unless the token presented acts in one environment only (origin).
pub const ENVIRONMENT: &str = "x-pennon-environment";

/// On OFREP requests: a token, as OFREP's providers send an API key (`X-API-Key`), an alias of
/// `Authorization: Bearer` on those routes (origin; the edge reads no token).
pub const API_KEY: &str = "x-api-key";
