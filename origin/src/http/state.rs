//! What every handler shares.

use std::sync::Arc;

use crate::metrics::{HttpMetrics, Metrics};

use crate::admin::Admin;
use crate::cache::FlagCache;
use crate::contexts::ContextSample;
use crate::flagset::FlagSets;
use crate::http::rate_limit::RateLimiters;
use crate::invalidation::Subscriptions;
use crate::signing::SnapshotSigner;
use crate::store::FlagStore;
use crate::stream::Streams;
use crate::tokens::Tokens;
use crate::usage::Usage;

/// Cloned by every extractor that takes `State`, so it is one `Arc`: a clone is one reference
/// count to raise, not one per part (the parts' counts would be raised and lowered from both
/// worker threads on every request, bouncing their cache lines).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Debug)]
pub struct Shared {
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
    /// `GET /metrics`; its request counts are also kept by the server, which counts every request.
    pub metrics: Arc<Metrics>,
    pub http_metrics: Arc<HttpMetrics>,
    /// `SNAPSHOT_SIGNING_KEY`: signs every snapshot answer; `None`: they go unsigned.
    pub signer: Option<Arc<SnapshotSigner>>,
    /// `METRICS`: requests and evaluations are counted (for `/metrics` and flag usage).
    pub counting: bool,
    /// Flag usage: gathered here, written in batches, read by the admin API.
    pub usage: Arc<Usage>,
    /// `CONTEXT_SAMPLE_SIZE` above 0: recent evaluation contexts, for the console.
    pub contexts: Option<ContextSample>,
}
