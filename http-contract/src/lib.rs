//! What Pennon's two HTTP servers must say identically: the origin (`origin/`, axum) and the edge
//! worker (`edge-worker/`, the Workers runtime) both answer `POST /api/evaluate` and `GET /health`,
//! and a client (a browser page above all) must not be able to tell which one answered. Everything
//! both write that is not the evaluator's (whose 400 messages and 200 bodies are already one code)
//! lives here, once:
//!
//! - [`path`]: the endpoints both serve, and the one the edge syncs from;
//! - [`MAX_BODY_BYTES`], and the texts of the errors either can answer ([`error`]);
//! - [`cors::HEADERS`]: the CORS headers of those endpoints;
//! - [`content_type`]: whether a request declares its body as JSON, and the 415's text;
//! - [`header`]: Pennon's own header names (the edge's token, the edge's snapshot headers).
//!
//! - [`conditional`]: whether an `If-None-Match` holds an ETag.
//! - [`signature`]: the `Pennon-Signature` header of signed snapshots, the bytes it signs, and the
//!   checks besides the signature (environment, version, expiry).
//!
//! OFREP's bodies (answers and errors) are the evaluator's (`evaluator::ofrep`), like the evaluate
//! API's; its paths and headers are here.
//!
//! # Why a crate of its own
//!
//! The evaluator is the flag model and its evaluation; it knows nothing of HTTP, and it is also the
//! npm package, which serves no request. Routes, limits and headers would be a second concern in
//! it, behind a feature that only two of its three users turn on. Here the contract is constants
//! and one pure function, with no dependency at all (`no_std`, not even `alloc`), so each server
//! takes exactly this and nothing else, and a change to the contract is one diff seen by the tests
//! of both. Each server keeps its own types around these strings (axum `HeaderValue`s on the
//! origin, the `worker` crate's builder on the edge), and each serializes the `{"error": message}`
//! body with serde_json, compact, so the same message gives the same bytes; the workerd tests
//! (`tests/edge/`) compare the two servers' answers byte for byte.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod conditional;
pub mod content_type;
pub mod cors;
pub mod error;
pub mod header;
pub mod signature;

/// The largest request body either server reads; a larger one is 413 [`error::BODY_TOO_LARGE`].
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The paths both servers answer, and the origin's endpoint that the edge calls (the origin's
/// admin API is its own).
pub mod path {
    /// `POST`: evaluate flags for a user.
    pub const EVALUATE: &str = "/api/evaluate";
    /// `GET` (and `HEAD`): the server's health.
    pub const HEALTH: &str = "/health";
    /// `GET ?environment=`, on the origin only: the flag set the edge worker syncs from, with
    /// [`crate::header::EDGE_TOKEN`].
    pub const SNAPSHOT: &str = "/api/flags/snapshot";
    /// `POST`: OFREP, every flag of the environment for a context (`{"flags": [...]}`, `ETag`).
    pub const OFREP_FLAGS: &str = "/ofrep/v1/evaluate/flags";
    /// `POST`: OFREP, one flag, its key after this prefix (`/ofrep/v1/evaluate/flags/{key}`).
    pub const OFREP_FLAG_PREFIX: &str = "/ofrep/v1/evaluate/flags/";
    /// `GET`, on the origin only: its OpenAPI 3.1 document, generated from its routes (public,
    /// with the CORS headers of [`crate::cors`]).
    pub const OPENAPI: &str = "/openapi.json";
}
