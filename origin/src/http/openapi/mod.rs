//! The OpenAPI 3.1 document of the API, generated from the code and served at `GET /openapi.json`.
//!
//! Each handler carries its own description (`#[utoipa::path]` beside it, in `routes/`); the router
//! (`routes::router`) registers every route through utoipa-axum's `routes!`, which adds the route
//! and its description together, so the two cannot drift (see `routes/mod.rs` and the tests in
//! `tests/api/openapi.rs`). This module holds what is not one handler's: the document's frame
//! (`base`: title, conventions, the security schemes), the bodies (`schemas`), and the handler that
//! serves the finished document.
//!
//! The document is built once, when the router is, and served from memory as bytes: nothing of it
//! runs per request on any other route.

pub mod responses;
pub mod schemas;

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{UtoipaMethodRouter, UtoipaMethodRouterExt};

use super::routes::cors;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The names of the security schemes, as the operations' `security(...)` lists name them: one
/// token space, carried by any of the three headers (`ISSUE12`: the lead's token model).
pub const BEARER: &str = "bearer";
pub const ADMIN_TOKEN_HEADER: &str = "adminTokenHeader";
pub const EDGE_TOKEN_HEADER: &str = "edgeTokenHeader";
/// `X-API-Key`, read on the OFREP routes only (what OFREP's providers send an API key in).
pub const API_KEY_HEADER: &str = "apiKeyHeader";

const DESCRIPTION: &str = "\
Pennon's origin: the admin API (flags, segments, kill switch, audit log, tokens), the evaluate endpoint, \
the snapshot the edge workers sync from, and health. The model and every rule are described in \
`docs/api.md`; this document is generated from the code.

Conventions: bodies are JSON objects of at most 1 MiB sent as `application/json` (415 otherwise); \
a key given twice in any object, an unknown field or an unknown query parameter is 400 naming it; \
every error is `{\"error\": message}`; every answer carries `x-request-id` and \
`x-content-type-options: nosniff`. A `GET` also answers `HEAD`. Connection-level answers that no \
route chooses (408 when a request's headers do not arrive in time, 414, 431, 400 for a malformed \
request line) are described in `docs/api.md`.

Credentials: one token space carried by `Authorization: Bearer <token>` or either alias header \
(`x-admin-token`, `x-edge-token`; on the OFREP routes `x-api-key` too): any of them carries any token. Roles: admin (everything), \
editor (flags, segments, kill switch, audit in its environments), viewer (read flags, segments, \
audit), server (snapshot), client (evaluate). A missing, unknown or revoked token is 401; a valid \
token lacking the role or environment is 403. With rate limits configured, 429 with `Retry-After` \
(whole seconds) on evaluate, OFREP and the admin routes. The OFREP routes answer their errors in \
OFREP's shape (`{key?, errorCode, errorDetails}`) instead of `{\"error\"}`.";

#[derive(OpenApi)]
#[openapi(
    info(title = "Pennon origin API", description = DESCRIPTION, license(name = "Apache-2.0")),
    modifiers(&SecuritySchemes),
    components(schemas(schemas::ErrorBody)),
    tags(
        (name = "evaluate", description = "Deciding flags for a user (public; edges answer it too)"),
        (name = "ofrep", description = "OpenFeature Remote Evaluation Protocol (public; edges answer it too; docs/api.md#ofrep)"),
        (name = "flags", description = "Admin: flags"),
        (name = "segments", description = "Admin: segments"),
        (name = "audit", description = "Admin: the audit log"),
        (name = "tokens", description = "Admin: scoped tokens (docs/access.md)"),
        (name = "edge", description = "What the edge workers sync from, and report their evaluation counts to"),
        (name = "console", description = "Admin: what the web console reads beyond flags and segments"),
        (name = "meta", description = "Health and this document"),
        (name = "operations", description = "What an operator scrapes (docs/metrics.md)"),
    )
)]
struct Base;

/// The three ways of sending a token.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("pennon_<64 hex digits>")
            .description(Some(
                "`Authorization: Bearer <token>`: the usual way of sending any token.",
            ))
            .build();
        components.add_security_scheme(BEARER, SecurityScheme::Http(bearer));
        for (name, header, what) in [
            (
                API_KEY_HEADER,
                "x-api-key",
                "OFREP's API-key header, read on the OFREP routes only",
            ),
            (
                ADMIN_TOKEN_HEADER,
                "x-admin-token",
                "the admin API's header",
            ),
            (
                EDGE_TOKEN_HEADER,
                "x-edge-token",
                "the edge workers' header",
            ),
        ] {
            let description = format!(
                "`{header}: <token>`, {what}: an alias of `Authorization: Bearer`, carrying any token."
            );
            components.add_security_scheme(
                name,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    header.to_owned(),
                    description,
                ))),
            );
        }
    }
}

/// The document's frame, to which the router adds every route's description.
pub fn base() -> Document {
    Base::openapi()
}

/// The finished document as JSON bytes, filled in once the router is built (`Served::fill`) and
/// shared by the `/openapi.json` route alone (an extension of that route, not of the router).
#[derive(Debug, Clone, Default)]
pub struct Served(Arc<OnceLock<Bytes>>);

impl Served {
    /// The `/openapi.json` route (public: CORS as on `/health`), reading this document.
    pub fn routes(&self) -> UtoipaMethodRouter<AppState> {
        let served = self.clone();
        cors::public(utoipa_axum::routes!(get_openapi)).map(|route| route.layer(Extension(served)))
    }

    /// Writes `document` as the bytes the route answers.
    pub fn fill(&self, mut document: Document) {
        parameters_are_never_null(&mut document);
        match serde_json::to_vec(&document) {
            Ok(json) => {
                let _ = self.0.set(Bytes::from(json));
            }
            Err(err) => tracing::error!(error = %err, "the OpenAPI document does not serialize"),
        }
    }
}

/// An optional parameter is written `Option<T>` in the descriptions, which utoipa also makes
/// nullable; a header or query parameter is absent or a string, never `null`, so `null` is taken
/// out of the parameters' types again.
fn parameters_are_never_null(document: &mut Document) {
    let operations = document.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
    });
    let parameters = operations.flat_map(|operation| operation.parameters.iter_mut().flatten());
    for parameter in parameters {
        match &mut parameter.schema {
            Some(RefOr::T(Schema::Object(object))) => {
                if let SchemaType::Array(types) = &object.schema_type {
                    let kept: Vec<Type> = types
                        .iter()
                        .filter(|t| **t != Type::Null)
                        .cloned()
                        .collect();
                    if let [only] = kept.as_slice() {
                        object.schema_type = SchemaType::Type(only.clone());
                    }
                }
            }
            Some(RefOr::T(Schema::OneOf(one_of))) => {
                let null = |item: &RefOr<Schema>| matches!(item, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
                one_of.items.retain(|item| !null(item));
                if let [only] = one_of.items.as_slice() {
                    parameter.schema = Some(only.clone());
                }
            }
            _ => {}
        }
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    operation_id = "getOpenApi",
    responses(
        (status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json",
         body = Object),
        (status = 500, description = "The document could not be built (logged)", body = schemas::ErrorBody),
    )
)]
pub async fn get_openapi(Extension(served): Extension<Served>) -> Response {
    let response = match served.0.get() {
        Some(json) => ([(CONTENT_TYPE, "application/json")], json.clone()).into_response(),
        None => ApiError::internal(std::io::Error::other("no OpenAPI document")).into_response(),
    };
    cors::with_cors(response)
}
