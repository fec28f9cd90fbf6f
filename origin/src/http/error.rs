//! The one error type of the HTTP boundary: every failure becomes a status and `{"error": "..."}`.

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::access::Denied;
use crate::cache::CacheError;
use crate::http::server::BodyError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input; the message names the field.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A valid token outside its role or environments; the message names what it lacks.
    #[error("{0}")]
    Forbidden(String),
    /// A rate limit: retry after that many whole seconds (at least 1).
    #[error("too many requests; retry after {0} s")]
    TooManyRequests(u64),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{}", http_contract::error::BODY_TOO_LARGE)]
    PayloadTooLarge,
    /// The body did not arrive within the body timeout; the connection is closed after the answer.
    #[error("{0}")]
    RequestTimeout(String),
    /// A body not declared as `application/json`.
    #[error("{}", http_contract::content_type::NOT_JSON)]
    UnsupportedMediaType,
    /// The path exists, not with this method.
    #[error("{}", http_contract::error::METHOD_NOT_ALLOWED)]
    MethodNotAllowed,
    /// The store cannot be reached: the client may retry.
    #[error("storage is unavailable")]
    Unavailable(#[source] StoreError),
    /// `MAX_STREAMS` change streams are open: retry after that many seconds.
    #[error("too many change streams on this origin; retry after {0} s")]
    TooManyStreams(u64),
    /// A stored token presented to an origin that could not load the tokens since it started.
    #[error("tokens cannot be verified yet: storage is unavailable")]
    TokensNotLoaded,
    /// The flag with this id is stored but cannot be read (the reason is logged by the store):
    /// its own 500, telling the one way out, rather than a generic "internal error".
    #[error(
        "flag {0} is stored but cannot be read; delete it (DELETE /api/admin/flags/{0}) and create it again"
    )]
    Unreadable(String),
    /// The same for a segment.
    #[error(
        "segment {0} is stored but cannot be read; delete it (DELETE /api/admin/segments/{0}) and create it again"
    )]
    UnreadableSegment(String),
    /// Anything else: logged in full, answered without details.
    #[error("{}", http_contract::error::INTERNAL)]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) | Self::TokensNotLoaded | Self::TooManyStreams(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Unreadable(_) | Self::UnreadableSegment(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(err))
    }

    /// Logs what the answer hides (an internal error's cause, the store's failure).
    pub fn log(&self) {
        match self {
            Self::Internal(source) => tracing::error!(error = %source, "internal error"),
            Self::Unavailable(source) => tracing::warn!(error = %source, "store unavailable"),
            _ => {}
        }
    }

    /// The headers an answer of this error carries besides its body: `Retry-After` on a 429 and
    /// on the streams' 503, `Connection: close` on a 408.
    pub fn add_headers(&self, headers: &mut axum::http::HeaderMap) {
        if let Self::TooManyRequests(seconds) | Self::TooManyStreams(seconds) = self {
            headers.insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*seconds),
            );
        }
        if let Self::RequestTimeout(_) = self {
            // The rest of the body may still come; the connection cannot carry another request.
            headers.insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
    }
}

/// The `{"error": message}` body shared by every error response.
fn error_body(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message });
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = error_body(self.status(), &self.to_string());
        self.add_headers(response.headers_mut());
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound("flag not found".into()),
            StoreError::Conflict(message) => Self::Conflict(message),
            StoreError::Invalid(err) => Self::BadRequest(err.to_string()),
            StoreError::UnreadableSegment(segment) => Self::UnreadableSegment(segment.id),
            StoreError::Unavailable(_) => Self::Unavailable(err),
            StoreError::Unreadable(flag) => Self::Unreadable(flag.id),
            other => Self::internal(other),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        Self::Forbidden(denied.0)
    }
}

impl From<CacheError> for ApiError {
    fn from(err: CacheError) -> Self {
        Self::internal(err)
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::PayloadTooLarge;
        }
        match BodyError::find(&rejection) {
            Some(err @ BodyError::TimedOut(_)) => Self::RequestTimeout(err.to_string()),
            Some(err @ (BodyError::Incomplete(_) | BodyError::Malformed(_))) => {
                Self::BadRequest(err.to_string())
            }
            // Not a failure of the connection (none is known today): axum's own words.
            None => Self::BadRequest(format!("body: {}", rejection.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_source() {
        let err = ApiError::internal(std::io::Error::other("password=hunter2"));
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(err.to_string(), "internal error");
    }

    #[test]
    fn store_errors_map_to_statuses() {
        assert_eq!(
            ApiError::from(StoreError::NotFound).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ApiError::from(StoreError::Conflict("x".into())).status(),
            StatusCode::CONFLICT
        );
    }
}
