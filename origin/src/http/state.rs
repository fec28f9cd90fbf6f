//! What every handler shares.

use std::sync::Arc;

use crate::admin::Admin;
use crate::cache::FlagCache;
use crate::flagset::FlagSets;
use crate::http::rate_limit::RateLimiters;
use crate::invalidation::Subscriptions;
use crate::store::FlagStore;
use crate::stream::Streams;
use crate::tokens::Tokens;

#[derive(Debug, Clone)]
pub struct AppState {
    /// The store's reads. Writes go through `admin`, which invalidates after each.
    pub store: Arc<dyn FlagStore>,
    pub admin: Admin,
    pub cache: Arc<dyn FlagCache>,
    pub flags: Arc<FlagSets>,
    /// The change-message subscribers' states, for `/health`.
    pub subscription: Arc<Subscriptions>,
    /// Verifies the tokens requests present.
    pub tokens: Arc<Tokens>,
    /// `REQUIRE_CLIENT_TOKEN`: evaluation needs a token (of any role) for the environment asked.
    pub require_client_token: bool,
    pub rate_limits: Arc<RateLimiters>,
    /// The open change streams and their cap (`GET /api/stream`).
    pub streams: Arc<Streams>,
}
