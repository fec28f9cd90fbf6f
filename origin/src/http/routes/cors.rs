//! CORS on the public endpoints: the shared contract's headers (`http_contract::cors`), as on the
//! edge worker, so a browser page can call either one on any origin.
//!
//! Only `POST /api/evaluate`, the OFREP routes, `GET /api/stream` (a page's `EventSource`; it is
//! never preflighted, and its `Last-Event-ID` needs no allowance), `GET /openapi.json` and
//! `GET /health` get them. The admin and snapshot endpoints stay
//! without CORS on purpose: a browser must not be invited to send the admin (or edge) token
//! cross-site, so a preflight there gets the usual 405 and no `access-control-*` header.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_contract::cors::HEADERS;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, OperationBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::ResponseBuilder;
use utoipa_axum::router::UtoipaMethodRouter;

use crate::http::error::ApiError;

/// The contract's headers as axum's types, built (and checked) at compile time: nothing is parsed
/// per response on the hot path. The array's length is the contract's, so a header added there and
/// forgotten here does not compile.
const CORS_HEADERS: [(HeaderName, HeaderValue); HEADERS.len()] = {
    const fn header(i: usize) -> (HeaderName, HeaderValue) {
        let (name, value) = HEADERS[i];
        (
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    }
    [header(0), header(1), header(2), header(3), header(4)]
};

/// A public route: `OPTIONS` is the preflight, and a wrong method gets its 405 with the headers.
/// The preflight is described in the OpenAPI document here, where it is added, as an `OPTIONS`
/// operation of each of the route's paths.
///
/// Done per route, in the handlers, rather than as a router-wide middleware: nothing to decide
/// from the path at run time, and no extra boxed layer on the hot path.
pub fn public<S>((schemas, mut paths, route): UtoipaMethodRouter<S>) -> UtoipaMethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    for (path, item) in paths.paths.iter_mut() {
        item.options = Some(preflight_operation(path));
    }
    (
        schemas,
        paths,
        route.options(preflight).fallback(method_not_allowed),
    )
}

/// `OPTIONS <path>`: 204 with the contract's headers, as the edge answers it.
fn preflight_operation(path: &str) -> Operation {
    let headers = HEADERS.iter().fold(
        ResponseBuilder::new()
            .description("No body; the CORS headers of every answer of this path"),
        |response, (name, value)| {
            let header = HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(format!("`{value}`")))
                .build();
            response.header(*name, header)
        },
    );
    let id: String = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    OperationBuilder::new()
        .tag("meta")
        .operation_id(Some(format!("preflight_{id}")))
        .summary(Some("CORS preflight (any origin)"))
        .response("204", headers.build())
        .build()
}

/// The CORS headers onto a response of a public route (errors included: a browser can only read
/// a 400's message when they are there).
pub fn with_cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.reserve(CORS_HEADERS.len());
    for (name, value) in CORS_HEADERS {
        headers.insert(name, value);
    }
    response
}

async fn preflight() -> Response {
    with_cors(StatusCode::NO_CONTENT.into_response())
}

async fn method_not_allowed() -> Response {
    with_cors(ApiError::MethodNotAllowed.into_response())
}
