//! `JsonContentType`: the request declares its body as JSON, or is answered 415.
//!
//! Every route that reads a body (evaluate, create, update, kill switch) takes it, first among its
//! extractors: after the admin token (the middleware answers 401 before any extractor runs), before
//! the body is read, so a body sent as `text/plain` or a form is 415 whatever its size or content.
//! The rule itself is the shared HTTP contract's (`http_contract::content_type`), as on the edge.

use axum::extract::FromRequestParts;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use http_contract::content_type::declares_json;

use crate::http::error::ApiError;

#[derive(Debug, Clone, Copy)]
pub struct JsonContentType;

impl<S: Send + Sync> FromRequestParts<S> for JsonContentType {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mut values = parts.headers.get_all(CONTENT_TYPE).iter();
        let declared = match (values.next(), values.next()) {
            (None, _) => false,
            (Some(only), None) => declares_json(only.as_bytes()),
            // Judged joined, as `fetch` (the edge worker) sees several headers of one name.
            (Some(first), Some(second)) => {
                let mut joined = [first.as_bytes(), second.as_bytes()].join(&b", "[..]);
                for value in values {
                    joined.extend_from_slice(b", ");
                    joined.extend_from_slice(value.as_bytes());
                }
                declares_json(&joined)
            }
        };
        if declared {
            Ok(Self)
        } else {
            Err(ApiError::UnsupportedMediaType)
        }
    }
}
