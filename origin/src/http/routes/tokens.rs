//! `/api/admin/tokens`: create (the secret is answered once), list, get, revoke. Admin tokens only.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use evaluator::{Environment, ValidationError};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::content_type::JsonContentType;
use crate::access::{Action, Actor, EnvironmentSet, Role, TokenSecret};
use crate::http::auth::Caller;
use crate::http::body::{json_object, optional, refuse_nul, refuse_unknown};
use crate::http::error::ApiError;
use crate::http::openapi::responses::{AdminErrors, BodyErrors};
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use crate::store::{NewToken, StoreError, TokenRecord};

const CREATE_FIELDS: &[&str] = &["name", "role", "environments"];
const MAX_NAME_LEN: usize = 100;

/// `{name, role, environments}` → what the store keeps, and the secret to answer once.
fn new_token_from_json(body: &Map<String, Value>) -> Result<(NewToken, TokenSecret), ApiError> {
    refuse_unknown(body, CREATE_FIELDS)?;
    refuse_nul(body)?;
    let name = match optional(body, "name") {
        None => return Err(ValidationError::new("name", "required").into()),
        Some(Value::String(name)) => name.trim(),
        Some(_) => return Err(ValidationError::new("name", "must be a string").into()),
    };
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control)
    {
        return Err(ValidationError::new(
            "name",
            format!("must be 1 to {MAX_NAME_LEN} characters, without control characters"),
        )
        .into());
    }
    let roles = || {
        Role::ALL
            .iter()
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let role = match optional(body, "role") {
        None => return Err(ValidationError::new("role", "required").into()),
        Some(Value::String(role)) => Role::parse(role)
            .ok_or_else(|| ValidationError::new("role", format!("must be one of {}", roles())))?,
        Some(_) => {
            return Err(ValidationError::new("role", format!("must be one of {}", roles())).into())
        }
    };
    let environments = match optional(body, "environments") {
        None if role == Role::Admin => EnvironmentSet::ALL,
        None => {
            return Err(ValidationError::new(
                "environments",
                "required: the environments the token acts in, e.g. [\"prod\"]",
            )
            .into())
        }
        Some(Value::Array(names)) => {
            let mut set = EnvironmentSet::NONE;
            for (i, name) in names.iter().enumerate() {
                let environment = Environment::from_json_value(name).map_err(|err| {
                    ValidationError::new(format!("environments[{i}]"), err.message().to_owned())
                })?;
                if set.contains(environment) {
                    return Err(ValidationError::new(
                        format!("environments[{i}]"),
                        format!("\"{environment}\" is listed twice"),
                    )
                    .into());
                }
                set.insert(environment);
            }
            if set.is_empty() {
                return Err(ValidationError::new("environments", "must not be empty").into());
            }
            set
        }
        Some(_) => {
            return Err(ValidationError::new("environments", "must be an array").into());
        }
    };
    if role == Role::Admin && !environments.is_all() {
        return Err(ValidationError::new(
            "environments",
            "an admin token acts in every environment: list them all or leave the field out",
        )
        .into());
    }
    let secret = TokenSecret::generate();
    let new = NewToken {
        name: name.to_owned(),
        role,
        environments,
        secret_hash: secret.hash(),
    };
    Ok((new, secret))
}

/// Ids are UUIDs; anything else cannot name a token (404, as an unknown id).
fn token_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found())
}

fn not_found() -> ApiError {
    ApiError::NotFound("token not found".into())
}

#[derive(Debug, Serialize)]
pub struct CreatedTokenBody {
    token: TokenRecord,
    /// Shown this once: only its hash is stored.
    secret: String,
}

#[derive(Debug, Serialize)]
pub struct TokenBody {
    token: TokenRecord,
}

#[derive(Debug, Serialize)]
pub struct TokensBody {
    tokens: Vec<TokenRecord>,
}

#[utoipa::path(
    post,
    path = "/tokens",
    tag = "tokens",
    operation_id = "createToken",
    summary = "Create a token (admin); its secret is answered this once",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("x-actor" = Option<String>, Header, description = "A note on who acts, kept in the audit entry (`note`): trimmed, at most 200 visible ASCII characters (else 400)")),
    request_body(content = schemas::TokenCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Cache-Control: no-store`", body = schemas::TokenCreated,
            headers(("Cache-Control" = String, description = "`no-store`: no cache may keep the secret"))),
        (status = 400, description = "Invalid: the message names the field", body = schemas::ErrorBody),
        BodyErrors,
        AdminErrors,
    )
)]
pub async fn create_token(
    State(state): State<AppState>,
    _: JsonContentType,
    Caller(caller): Caller,
    actor: Actor,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageTokens)?;
    let (new, secret) = new_token_from_json(&json_object(&body?)?)?;
    let token = state.admin.create_token(new, &actor).await?;
    let body = CreatedTokenBody {
        token,
        secret: secret.expose().to_owned(),
    };
    // The secret must not be kept by any cache on the way.
    Ok((
        StatusCode::CREATED,
        [(CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/tokens",
    tag = "tokens",
    operation_id = "listTokens",
    summary = "List tokens (admin), never their secrets",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    responses(
        (status = 200, description = "Every token, oldest first, revoked ones included", body = schemas::TokenList),
        AdminErrors,
    )
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<TokensBody>, ApiError> {
    caller.require(Action::ManageTokens)?;
    let table = state.tokens.store().load_tokens().await?;
    let tokens = table.tokens.into_iter().map(|t| t.record).collect();
    Ok(Json(TokensBody { tokens }))
}

#[utoipa::path(
    get,
    path = "/tokens/{id}",
    tag = "tokens",
    operation_id = "getToken",
    summary = "Get a token (admin)",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("id" = String, Path, description = "The token's id (a UUID; anything else is 404)")),
    responses(
        (status = 200, description = "The token", body = schemas::TokenBody),
        (status = 404, description = "No token with this id", body = schemas::ErrorBody),
        AdminErrors,
    )
)]
pub async fn get_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<TokenBody>, ApiError> {
    caller.require(Action::ManageTokens)?;
    let id = token_id(&id)?;
    let table = state.tokens.store().load_tokens().await?;
    let token = table
        .tokens
        .into_iter()
        .find(|t| t.record.id == id)
        .ok_or_else(not_found)?;
    Ok(Json(TokenBody {
        token: token.record,
    }))
}

/// 204 whether it was revoked now or before (nothing is written twice); 404 for an unknown id.
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    tag = "tokens",
    operation_id = "revokeToken",
    summary = "Revoke a token (admin): refused by every origin within a second",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(
        ("id" = String, Path, description = "The token's id (a UUID; anything else is 404)"),
        ("x-actor" = Option<String>, Header, description = "A note on who acts, kept in the audit entry (`note`)"),
    ),
    responses(
        (status = 204, description = "Revoked (now, or before: nothing is written twice)"),
        (status = 404, description = "No token with this id", body = schemas::ErrorBody),
        AdminErrors,
    )
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Action::ManageTokens)?;
    let id = token_id(&id)?;
    match state.admin.revoke_token(id, &actor).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(not_found()),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<NewToken, String> {
        let body = json_object(json.as_bytes()).map_err(|e| e.to_string())?;
        new_token_from_json(&body)
            .map(|(new, _)| new)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_create_request_is_read_whole() {
        let new =
            read(r#"{"name": " ci ", "role": "server", "environments": ["prod", "dev"]}"#).unwrap();
        assert_eq!(new.name, "ci");
        assert_eq!(new.role, Role::Server);
        assert_eq!(new.environments.to_json(), r#"["dev","prod"]"#);
        assert!(read(r#"{"name": "root", "role": "admin"}"#)
            .unwrap()
            .environments
            .is_all());
    }

    #[test]
    fn bad_requests_name_the_field() {
        for (body, message) in [
            (
                r#"{"role": "client", "environments": ["dev"]}"#,
                "name: required",
            ),
            (
                r#"{"name": "", "role": "client", "environments": ["dev"]}"#,
                "name: must be 1 to 100",
            ),
            (
                r#"{"name": 1, "role": "client", "environments": ["dev"]}"#,
                "name: must be a string",
            ),
            (
                r#"{"name": "a", "environments": ["dev"]}"#,
                "role: required",
            ),
            (
                r#"{"name": "a", "role": "root", "environments": ["dev"]}"#,
                "role: must be one of \"admin\"",
            ),
            (
                r#"{"name": "a", "role": "client"}"#,
                "environments: required",
            ),
            (
                r#"{"name": "a", "role": "client", "environments": []}"#,
                "environments: must not be empty",
            ),
            (
                r#"{"name": "a", "role": "client", "environments": "dev"}"#,
                "environments: must be an array",
            ),
            (
                r#"{"name": "a", "role": "client", "environments": ["qa"]}"#,
                "environments[0]: must be one of",
            ),
            (
                r#"{"name": "a", "role": "client", "environments": ["dev", "dev"]}"#,
                "environments[1]: \"dev\" is listed twice",
            ),
            (
                r#"{"name": "a", "role": "admin", "environments": ["dev"]}"#,
                "environments: an admin token acts in every environment",
            ),
            (
                r#"{"name": "a", "role": "client", "environments": ["dev"], "secret": "x"}"#,
                "secret: unknown field",
            ),
        ] {
            let err = read(body).unwrap_err();
            assert!(err.starts_with(message), "{body}: {err}");
        }
    }
}
