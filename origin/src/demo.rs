//! `SEED_DEMO=1` / `--seed-demo`: example flags for a first look, loaded only into an empty store.

use evaluator::Environment;
use serde_json::json;

use crate::access::Actor;
use crate::admin::Admin;
use crate::http::routes::new_flag_from_json;
use crate::store::{FlagFilter, FlagStore, NewFlag, StoreError};

/// The seed acts as the process itself: `SEED_DEMO` names what made it.
fn actor() -> Actor {
    Actor {
        name: "seed-demo".to_owned(),
        token_id: "SEED_DEMO".to_owned(),
        note: None,
    }
}

/// The demo flags of one environment, in the admin API's create shape (so they pass the same
/// validation as any client's).
fn demo_flags(environment: Environment) -> Vec<serde_json::Value> {
    let env = environment.as_str();
    vec![
        // The contract's worked example: bucket("user-123", "new_checkout_flow") = 56.
        json!({
            "key": "new_checkout_flow", "environment": env,
            "description": "The redesigned checkout: staff first, then a gradual rollout",
            "enabled": true, "rolloutPercentage": 25,
            "rules": [{ "field": "email", "operator": "ends_with", "value": "@example.com" }]
        }),
        json!({
            "key": "beta_dashboard", "environment": env,
            "description": "Dashboard beta for pro customers in Germany and France",
            "enabled": true, "rolloutPercentage": 0,
            "rules": [{ "all": [
                { "field": "country", "operator": "in", "value": ["DE", "FR"] },
                { "field": "attributes.plan", "operator": "eq", "value": "pro" }
            ]}]
        }),
        json!({
            "key": "maintenance_banner", "environment": env,
            "description": "Shown during maintenance windows; off by default",
            "enabled": false, "rolloutPercentage": 100
        }),
    ]
}

fn demo_flag(value: &serde_json::Value) -> Result<NewFlag, StoreError> {
    value
        .as_object()
        .ok_or_else(|| StoreError::Corrupt("demo flag: not an object".into()))
        .and_then(|map| {
            new_flag_from_json(map).map_err(|e| StoreError::Corrupt(format!("demo flag: {e}")))
        })
}

/// Returns how many flags were created (0 when the store already had flags). They are written
/// through `admin`, as any client's, so the shared cache and the other origins learn of them.
pub async fn seed(store: &dyn FlagStore, admin: &Admin) -> Result<usize, StoreError> {
    if !store.list_flags(&FlagFilter::default()).await?.is_empty() {
        return Ok(0);
    }
    let mut created = 0;
    for environment in Environment::ALL {
        for value in demo_flags(environment) {
            let new = demo_flag(&value)?;
            admin.create_flag(new, &actor()).await?;
            created += 1;
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_flags_are_valid() {
        for environment in Environment::ALL {
            for value in demo_flags(environment) {
                demo_flag(&value).unwrap();
            }
        }
    }
}
