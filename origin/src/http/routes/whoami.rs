//! `GET /api/admin/whoami`: the token presented, as the origin verified it. What a client (the web
//! console) needs to show who is signed in and offer only what the token may do.

use axum::Json;
use serde::Serialize;

use crate::access::{EnvironmentSet, Role};
use crate::http::auth::Caller;
use crate::http::openapi::responses::AdminErrors;
use crate::http::openapi::schemas;

#[derive(Debug, Serialize)]
pub struct WhoamiBody {
    token: Identity,
}

#[derive(Debug, Serialize)]
pub struct Identity {
    id: String,
    name: String,
    role: Role,
    environments: EnvironmentSet,
}

/// Any valid token may ask: it learns only its own name, role and environments.
#[utoipa::path(
    get,
    path = "/whoami",
    tag = "tokens",
    operation_id = "whoami",
    summary = "The token presented: its id, name, role and environments (any role)",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    responses(
        (status = 200, description = "The token as verified", body = schemas::Whoami),
        AdminErrors,
    )
)]
pub async fn whoami(Caller(caller): Caller) -> Json<WhoamiBody> {
    Json(WhoamiBody {
        token: Identity {
            id: caller.id.to_string(),
            name: caller.name.clone(),
            role: caller.role,
            environments: caller.environments,
        },
    })
}
