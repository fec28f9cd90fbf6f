//! Start-up: connect the store and cache, bind, serve until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::admin::Admin;
use crate::cache::{CacheError, FlagCache, MemoryCache, RedisCache};
use crate::config::{Config, DatabaseUrl, HttpLimits, Secret};
use crate::contexts::ContextSample;
use crate::demo;
use crate::flagset::FlagSets;
use crate::http::rate_limit::{self, RateLimiters, RouteClass};
use crate::http::routes::router;
use crate::http::server;
use crate::http::state::{AppState, Shared};
use crate::invalidation::{self, Channel, ListenStatus, Receivers, Subscription, Subscriptions};
use crate::metrics::{ChangeMessages, HttpMetrics, Metrics, Sources};
use crate::push::EdgePush;
use crate::signing::SnapshotSigner;
use crate::store::{PostgresStore, ReadStore, SqliteStore, StoreError, StoreHandles};
use crate::stream::Streams;
use crate::tokens::Tokens;
use crate::usage::Usage;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the {kind} store: {source}")]
    Store {
        kind: &'static str,
        #[source]
        source: StoreError,
    },
    #[error("cannot connect to Redis: {0}")]
    Cache(#[source] CacheError),
    #[error("cannot start pushing to the edge (EDGE_PUSH_URL): {0}")]
    Push(#[source] reqwest::Error),
    #[error("cannot seed the demo flags: {0}")]
    Seed(#[source] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// A bound, ready-to-serve origin.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    /// The admin token this start made up, when none was configured.
    generated_admin_token: Option<Secret>,
    http: HttpLimits,
}

async fn open_store(database: &DatabaseUrl) -> Result<StoreHandles, StartError> {
    match database {
        DatabaseUrl::Postgres(url) => PostgresStore::connect(url.expose())
            .await
            .map(StoreHandles::new)
            .map_err(|source| StartError::Store {
                kind: "postgres",
                source,
            }),
        DatabaseUrl::Sqlite(url) => SqliteStore::connect(url)
            .await
            .map(StoreHandles::new)
            .map_err(|source| StartError::Store {
                kind: "sqlite",
                source,
            }),
    }
}

impl App {
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let store = open_store(&config.database).await?;
        let postgres = match &config.database {
            DatabaseUrl::Postgres(url) => Some(url.clone()),
            DatabaseUrl::Sqlite(_) => None,
        };
        let redis = match &config.redis_url {
            Some(url) => Some(
                RedisCache::connect(url.expose(), config.redis_key_prefix.clone())
                    .await
                    .map_err(StartError::Cache)?,
            ),
            None => None,
        };
        let cache: Arc<dyn FlagCache> = match &redis {
            Some(redis) => Arc::new(redis.clone()),
            None => Arc::new(MemoryCache::new()),
        };
        let (admin_token, generated_admin_token) = match &config.admin_token {
            Some(token) => (token.clone(), None),
            None => {
                let token = Secret::new(uuid::Uuid::new_v4().simple().to_string());
                (token.clone(), Some(token))
            }
        };
        let flags = Arc::new(FlagSets::new(
            Arc::clone(&store.reads) as Arc<dyn ReadStore>,
            Arc::clone(&cache),
            config.cache_ttl,
        ));
        let tokens = Arc::new(Tokens::new(
            Arc::clone(&store.tokens),
            admin_token.clone(),
            config.edge_token.clone(),
        ));
        // Loaded before serving when the store answers; otherwise on first use or by the periodic
        // check (a stored token is answered 503 until then, the configured ones work).
        if let Err(err) = tokens.reload().await {
            tracing::warn!(%err, "stored tokens not loaded yet; retrying in the background");
        }
        let signer = config.signing.as_ref().map(|signing| {
            let signer = SnapshotSigner::new(signing);
            tracing::info!(
                key_id = %signer.public_key().kid,
                "snapshots are signed (GET /api/flags/signing-keys publishes the public key)"
            );
            Arc::new(signer)
        });
        let push = match &config.edge_push {
            Some(target) => Some(
                EdgePush::start(target.clone(), Arc::clone(&flags), signer.clone())
                    .map_err(StartError::Push)?,
            ),
            None => None,
        };
        let admin = Admin::new(
            store.writes,
            Arc::clone(&flags),
            store.token_writes,
            Arc::clone(&tokens),
            Arc::clone(&cache),
        )
        .with_push(push.clone());
        if config.seed_demo {
            let created = demo::seed(store.reads.as_ref(), &admin)
                .await
                .map_err(StartError::Seed)?;
            tracing::info!(created, "demo flags seeded");
        }
        // The tasks that keep the in-process sets fresh; they end with the runtime. On PostgreSQL
        // the store's NOTIFY is listened to even with Redis: either channel alone carries a write.
        let messages = Arc::new(ChangeMessages::default());
        let receivers = Receivers {
            flags: Arc::clone(&flags),
            tokens: Arc::clone(&tokens),
            messages: Arc::clone(&messages),
        };
        let mut channels = Vec::new();
        if redis.is_some() {
            channels.push(Channel::Redis);
        }
        if postgres.is_some() {
            channels.push(Channel::Postgres);
        }
        let redis_for_metrics = redis.clone();
        let redis_listener = redis.map(|redis| {
            let status = Arc::new(Subscription::new(Channel::Redis));
            tokio::spawn(invalidation::subscribe_redis(
                receivers.clone(),
                redis,
                Arc::clone(&status),
            ));
            status
        });
        let postgres_listener = postgres.map(|url| {
            let status = Arc::new(Subscription::new(Channel::Postgres));
            tokio::spawn(invalidation::subscribe_postgres(
                receivers.clone(),
                url,
                Arc::clone(&status),
            ));
            status
        });
        let subscription = Arc::new(Subscriptions::new(redis_listener, postgres_listener));
        // Start listening before serving, so that a freshly started origin is told of the next
        // write; a channel that cannot be reached yet does not stop the start (it is retried).
        let listening = async {
            while subscription.status() != ListenStatus::Ok {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        };
        if tokio::time::timeout(std::time::Duration::from_secs(2), listening)
            .await
            .is_err()
        {
            tracing::warn!("not listening for flag changes yet; retrying in the background");
        }
        tokio::spawn(invalidation::revalidate_periodically(
            Arc::clone(&flags),
            config.revalidate_interval,
        ));
        tokio::spawn(invalidation::revalidate_tokens_periodically(
            Arc::clone(&tokens),
            config.revalidate_interval,
        ));
        let streams = Arc::new(Streams::new(config.stream, config.http.max_connections));
        let http_metrics = Arc::new(HttpMetrics::default());
        let usage = Arc::new(Usage::new(
            Arc::clone(&store.usage),
            Arc::clone(&flags),
            config.metrics,
        ));
        tokio::spawn(Arc::clone(&usage).flush_periodically(config.usage_flush_interval));
        let metrics = Arc::new(Metrics::new(Sources {
            http: Arc::clone(&http_metrics),
            flags: Arc::clone(&flags),
            store: Arc::clone(&store.reads),
            redis: redis_for_metrics,
            streams: Arc::clone(&streams),
            changes: messages,
            channels,
            usage: Arc::clone(&usage),
            pushes: push.as_ref().map(|push| Arc::clone(&push.counts)),
        }));
        let state = AppState::new(Shared {
            store: store.reads,
            admin,
            cache,
            flags,
            subscription,
            tokens,
            require_client_token: config.require_client_token,
            rate_limits: Arc::new(RateLimiters::new(config.rate_limits)),
            streams,
            metrics,
            http_metrics,
            signer,
            counting: config.metrics,
            usage,
            contexts: ContextSample::new(config.context_sample_size),
        });
        let bind_error = |source| StartError::Bind {
            addr: format!("{}:{}", config.host, config.port),
            source,
        };
        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .await
            .map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        Ok(Self {
            listener,
            addr,
            state,
            generated_admin_token,
            http: config.http,
        })
    }

    /// The address really bound (`PORT=0` picks a free port).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The admin token, when none was configured and this start made one up.
    pub fn generated_admin_token(&self) -> Option<&Secret> {
        self.generated_admin_token.as_ref()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish; the change streams
    /// end at once (they would never finish by themselves).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let client_addresses = self.state.rate_limits.counts_addresses();
        if client_addresses || self.state.rate_limits.is_limited(RouteClass::AdminWrite) {
            tokio::spawn(rate_limit::forget_idle_callers_periodically(Arc::clone(
                &self.state.rate_limits,
            )));
        }
        let streams = Arc::clone(&self.state.streams);
        let shutdown = async move {
            shutdown.await;
            streams.close_all();
        };
        let http_metrics = Arc::clone(&self.state.http_metrics);
        let usage = Arc::clone(&self.state.usage);
        let router = router(self.state);
        server::serve(
            self.listener,
            router,
            self.http,
            client_addresses,
            http_metrics,
            shutdown,
        )
        .await;
        // What was counted since the last batch would be lost with the process.
        if let Err(err) = usage.flush().await {
            tracing::warn!(%err, "flag usage of the last seconds not written");
        }
        Ok(())
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
