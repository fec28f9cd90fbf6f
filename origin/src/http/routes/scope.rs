//! The role and environment checks of the admin routes, in one place.
//!
//! A role is checked before anything is read (a viewer's write is refused before its body is); an
//! environment once it is known: from the body of a create, from the stored row of an update, a
//! delete or a get. A token that acts in every environment skips that read.

use evaluator::Environment;
use uuid::Uuid;

use crate::access::{Action, EnvironmentSet, Principal};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::StoreError;

/// The environments a stored row names; a name that does not read (a hand-edited row) counts as
/// every environment, so only a token of all of them may touch it.
pub(super) fn stored_environment(name: &str) -> EnvironmentSet {
    Environment::parse(name).map_or(EnvironmentSet::ALL, |e| [e].into_iter().collect())
}

/// May `caller` do `action` to the flag `id`? Reads the flag's environment when it must;
/// `Ok` when the flag does not exist (the write that follows answers 404).
pub(super) async fn check_flag(
    state: &AppState,
    caller: &Principal,
    action: Action,
    id: Uuid,
) -> Result<(), ApiError> {
    caller.require(action)?;
    if caller.environments.is_all() {
        return Ok(());
    }
    let environments = match state.store.get_flag(id).await {
        Ok(flag) => [flag.environment].into_iter().collect(),
        Err(StoreError::Unreadable(flag)) => stored_environment(&flag.environment),
        Err(StoreError::NotFound) => return Ok(()),
        Err(other) => return Err(other.into()),
    };
    Ok(caller.require_all(action, environments)?)
}

/// [`check_flag`] for a segment.
pub(super) async fn check_segment(
    state: &AppState,
    caller: &Principal,
    action: Action,
    id: Uuid,
) -> Result<(), ApiError> {
    caller.require(action)?;
    if caller.environments.is_all() {
        return Ok(());
    }
    let environments = match state.store.get_segment(id).await {
        Ok(segment) => [segment.environment].into_iter().collect(),
        Err(StoreError::UnreadableSegment(segment)) => stored_environment(&segment.environment),
        Err(StoreError::NotFound) => return Ok(()),
        Err(other) => return Err(other.into()),
    };
    Ok(caller.require_all(action, environments)?)
}

/// What a list may show `caller`: with an `environment` filter, that environment (403 outside
/// the token's); without one, the token's environments (`None`: all, nothing to leave out).
pub(super) fn listed(
    caller: &Principal,
    filter: Option<Environment>,
) -> Result<Option<EnvironmentSet>, ApiError> {
    caller.require(Action::ReadDefinitions)?;
    match filter {
        Some(environment) => {
            caller.require_in(Action::ReadDefinitions, environment)?;
            Ok(None)
        }
        None if caller.environments.is_all() => Ok(None),
        None => Ok(Some(caller.environments)),
    }
}
