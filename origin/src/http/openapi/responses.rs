//! The error answers several routes share, each `{"error": message}`, named once so that each
//! handler's `#[utoipa::path]` lists its own answers and then these sets.
#![allow(dead_code)]

use utoipa::IntoResponses;

use super::schemas::ErrorBody;

/// What the admin routes answer besides their own statuses: the token checks (ISSUE12's roles),
/// the rate limit, and the store's failures.
#[derive(IntoResponses)]
pub enum AdminErrors {
    /// Missing, unknown or revoked token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// A valid token without the role or the environment this request needs.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Over the rate limit (when limits are configured); retry after `Retry-After` seconds.
    #[response(status = 429, headers(("Retry-After" = u32, description = "Whole seconds to wait")))]
    TooManyRequests(ErrorBody),
    /// An internal error (details only in the server's log), or a stored flag or segment that
    /// cannot be read (`flag <id> is stored but cannot be read; delete it …`).
    #[response(status = 500)]
    Internal(ErrorBody),
    /// The store cannot be reached.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// What a route that reads a JSON body answers about the body itself.
#[derive(IntoResponses)]
pub enum BodyErrors {
    /// The body did not arrive in time; the connection is closed after this answer.
    #[response(status = 408)]
    Timeout(ErrorBody),
    /// The body is over 1 MiB.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not declared as `application/json`.
    #[response(status = 415)]
    NotJson(ErrorBody),
}
