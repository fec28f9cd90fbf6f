//! What every handler shares.

use std::sync::Arc;

use crate::admin::Admin;
use crate::cache::FlagCache;
use crate::config::Secret;
use crate::flagset::FlagSets;
use crate::invalidation::Subscriptions;
use crate::store::FlagStore;

#[derive(Debug, Clone)]
pub struct AppState {
    /// The store's reads. Writes go through `admin`, which invalidates after each.
    pub store: Arc<dyn FlagStore>,
    pub admin: Admin,
    pub cache: Arc<dyn FlagCache>,
    pub flags: Arc<FlagSets>,
    /// The change-message subscribers' states, for `/health`.
    pub subscription: Arc<Subscriptions>,
    pub admin_token: Secret,
    pub edge_token: Option<Secret>,
}
