//! `POST /api/admin/kill-switch`: one key off in every environment, in one transaction.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use evaluator::FlagKey;
use serde::Deserialize;

use super::flags::FlagsBody;
use crate::auth::Actor;
use crate::body::parse_json;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StoreError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KillSwitchBody {
    key: FlagKey,
}

pub async fn kill_flag(
    State(state): State<AppState>,
    Actor(actor): Actor,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FlagsBody>, ApiError> {
    let body: KillSwitchBody = parse_json(&body?)?;
    let flags = match state.store.kill_switch(&body.key, &actor).await {
        Err(StoreError::NotFound) => {
            return Err(ApiError::NotFound(format!(
                "no flag with key \"{}\" in any environment",
                body.key
            )))
        }
        other => other?,
    };
    // Every environment that holds the key, changed or not: cheap, and never misses one.
    for environment in flags.iter().filter_map(|f| f.environment) {
        state.flags.invalidate(environment).await;
    }
    Ok(Json(FlagsBody { flags }))
}
