//! What every handler shares.

use std::sync::Arc;

use crate::cache::FlagCache;
use crate::config::Secret;
use crate::flagset::FlagSets;
use crate::invalidation::Subscription;
use crate::store::FlagStore;

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn FlagStore>,
    pub cache: Arc<dyn FlagCache>,
    pub flags: Arc<FlagSets>,
    /// The change-message subscriber's state, for `/health`.
    pub subscription: Arc<Subscription>,
    pub admin_token: Secret,
    pub edge_token: Option<Secret>,
}
