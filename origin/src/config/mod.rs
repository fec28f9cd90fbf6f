//! Typed configuration, read once at start from the environment (and `.env` when present).
//!
//! One module per concern: [`database`] (where flags are stored), [`token`] (the admin and edge
//! tokens), [`http`] (what a client may hold of the HTTP server), [`stream`] (the change stream's
//! limits), [`secret`] (a value that never prints); the listening address, the cache settings and the demo seed are read here.
//! [`variables`] lists every variable once, for `origin --help`, and checks itself against what
//! is read here and what the docs say.

mod database;
mod http;
mod limits;
mod push;
mod secret;
mod signing;
mod stream;
mod token;
mod variables;

use std::time::Duration;

pub use self::database::DatabaseUrl;
pub use self::http::HttpLimits;
pub use self::limits::{Rate, RateLimits};
pub use self::push::{EdgePushTarget, PushCa, PushUrl};
pub use self::secret::Secret;
pub use self::signing::{Signing, SigningSeed};
pub use self::stream::StreamLimits;

#[derive(Clone, Debug)]
pub struct Config {
    /// An IP address or a host name (`localhost`), resolved when binding.
    pub host: String,
    pub port: u16,
    pub database: DatabaseUrl,
    pub redis_url: Option<Secret>,
    /// Prefix of every Redis key this origin writes, so several deployments (or tests) share a server.
    pub redis_key_prefix: String,
    /// `None`: generate one at start and print it once.
    pub admin_token: Option<Secret>,
    /// `None`: the snapshot endpoint answers 401.
    pub edge_token: Option<Secret>,
    /// `EDGE_PUSH_URL` (and `EDGE_PUSH_CA_FILE`): the edge worker that each committed write's new
    /// snapshot is pushed to (`crate::push`); `None`: no push, the edge revalidates on its own.
    pub edge_push: Option<EdgePushTarget>,
    pub cache_ttl: Duration,
    /// How often the background task compares the in-process sets with the store's revisions
    /// (the safety net behind the change messages).
    pub revalidate_interval: Duration,
    pub seed_demo: bool,
    /// Timeouts and the connection cap of the HTTP server (`server`).
    pub http: HttpLimits,
    /// Evaluation needs a token (of any role) for the environment it asks for.
    pub require_client_token: bool,
    pub rate_limits: RateLimits,
    /// The change stream's cap and heartbeat (`crate::stream`).
    pub stream: StreamLimits,
    /// `SNAPSHOT_SIGNING_KEY`: signs every snapshot (`crate::signing`); `None`: unsigned.
    pub signing: Option<Signing>,
    /// `METRICS`: whether this origin counts its requests and evaluations (`GET /metrics` and flag
    /// usage); off, `/metrics` answers 404 and usage holds only what edge workers report.
    pub metrics: bool,
    /// `USAGE_FLUSH_SECONDS`: how often the flag usage gathered is written to the store.
    pub usage_flush_interval: Duration,
    /// `CONTEXT_SAMPLE_SIZE`: recent evaluation contexts held per environment for the console's
    /// impact preview (`crate::contexts`); 0 holds none.
    pub context_sample_size: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    variable: &'static str,
    message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

impl Config {
    /// Reads the process environment; `.env` is loaded by the binary before this is called.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// What the start should warn about in a configuration that `from_lookup` accepts: each line
    /// names a variable and never holds its value.
    pub fn warnings(lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
        token::warnings(&lookup)
    }

    /// The configuration part of `origin --help`: every variable, its meaning and its default.
    pub fn usage() -> String {
        variables::usage()
    }

    /// Reads variables through `lookup`, so tests can configure without touching the process env.
    /// Empty values count as unset: `ADMIN_TOKEN=` in a `.env` must not become an empty token.
    pub(crate) fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let host = match get("HOST") {
            Some(h) if h.trim().chars().any(char::is_whitespace) => {
                return Err(ConfigError::new("HOST", "not a host name or IP address"))
            }
            Some(h) => h.trim().to_owned(),
            None => "127.0.0.1".to_owned(),
        };
        let port = match get("PORT") {
            Some(p) => p
                .trim()
                .parse()
                .map_err(|_| ConfigError::new("PORT", "not a port number (0..=65535)"))?,
            None => 3000,
        };
        let database = DatabaseUrl::read(get)?;
        let cache_ttl = match get("CACHE_TTL_SECONDS") {
            Some(s) => match s.trim().parse::<u64>() {
                Ok(n) if n > 0 => Duration::from_secs(n),
                _ => {
                    return Err(ConfigError::new(
                        "CACHE_TTL_SECONDS",
                        "must be a positive whole number",
                    ))
                }
            },
            None => Duration::from_secs(60),
        };
        let revalidate_interval = match get("REVALIDATE_INTERVAL_MS") {
            Some(s) => match s.trim().parse::<u64>() {
                Ok(n) if n > 0 => Duration::from_millis(n),
                _ => {
                    return Err(ConfigError::new(
                        "REVALIDATE_INTERVAL_MS",
                        "must be a positive whole number of milliseconds",
                    ))
                }
            },
            None => Duration::from_secs(1),
        };
        let http = HttpLimits::read(get)?;
        let require_client_token = limits::read_switch(get, "REQUIRE_CLIENT_TOKEN")?;
        let rate_limits = RateLimits::read(get)?;
        let stream = StreamLimits::read(get)?;
        let signing = signing::read(get)?;
        let metrics = limits::read_switch_or(get, "METRICS", true)?;
        let usage_flush_interval = match get("USAGE_FLUSH_SECONDS") {
            Some(s) => match s.trim().parse::<u64>() {
                Ok(n) if (1..=3600).contains(&n) => Duration::from_secs(n),
                _ => {
                    return Err(ConfigError::new(
                        "USAGE_FLUSH_SECONDS",
                        "must be a whole number of seconds from 1 to 3600",
                    ))
                }
            },
            None => Duration::from_secs(10),
        };
        let context_sample_size = match get("CONTEXT_SAMPLE_SIZE") {
            Some(s) => match s.trim().parse::<usize>() {
                Ok(n) if n <= crate::contexts::MAX_SIZE => n,
                _ => {
                    return Err(ConfigError::new(
                        "CONTEXT_SAMPLE_SIZE",
                        "must be a whole number from 0 (off) to 100000",
                    ))
                }
            },
            None => 0,
        };
        let seed_demo = matches!(
            get("SEED_DEMO").as_deref().map(str::trim),
            Some("1" | "true" | "yes")
        );
        let edge_token = token::read(&lookup, "EDGE_TOKEN")?;
        let edge_push = push::read(
            get,
            token::read(&lookup, "EDGE_PUSH_TOKEN")?,
            edge_token.as_ref(),
        )?;
        Ok(Self {
            host,
            port,
            database,
            redis_url: get("REDIS_URL").map(Secret::new),
            redis_key_prefix: get("REDIS_KEY_PREFIX").unwrap_or_else(|| "pennon:".to_owned()),
            admin_token: token::read(&lookup, "ADMIN_TOKEN")?,
            edge_token,
            edge_push,
            cache_ttl,
            revalidate_interval,
            seed_demo,
            http,
            require_client_token,
            rate_limits,
            stream,
            signing,
            metrics,
            usage_flush_interval,
            context_sample_size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = config(&[]).unwrap();
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!(c.port, 3000);
        assert_eq!(
            c.database,
            DatabaseUrl::Sqlite(database::DEFAULT_SQLITE_URL.into())
        );
        assert!(c.redis_url.is_none() && c.admin_token.is_none() && c.edge_token.is_none());
        assert_eq!(c.cache_ttl, Duration::from_secs(60));
        assert_eq!(c.revalidate_interval, Duration::from_secs(1));
        assert!(!c.seed_demo);
        assert_eq!(c.http, HttpLimits::default());
        assert_eq!(c.http.header_timeout, Duration::from_secs(10));
        assert_eq!(c.http.body_timeout, Duration::from_secs(30));
        assert_eq!(c.http.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.http.max_connections, 1024);
        assert!(c.metrics);
        assert_eq!(c.context_sample_size, 0);
        assert_eq!(c.usage_flush_interval, Duration::from_secs(10));
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(config(&[("PORT", "x")]).unwrap_err().variable, "PORT");
        assert_eq!(config(&[("HOST", "no pe")]).unwrap_err().variable, "HOST");
        assert_eq!(config(&[("HOST", "localhost")]).unwrap().host, "localhost");
        assert_eq!(
            config(&[("DATABASE_URL", "mysql://x")])
                .unwrap_err()
                .variable,
            "DATABASE_URL"
        );
        assert_eq!(
            config(&[("CACHE_TTL_SECONDS", "0")]).unwrap_err().variable,
            "CACHE_TTL_SECONDS"
        );
        assert_eq!(
            config(&[("REVALIDATE_INTERVAL_MS", "0")])
                .unwrap_err()
                .variable,
            "REVALIDATE_INTERVAL_MS"
        );
        // The HTTP limits are read here too (their rules: `http`).
        assert_eq!(
            config(&[("MAX_CONNECTIONS", "0")]).unwrap_err().variable,
            "MAX_CONNECTIONS"
        );
        assert_eq!(
            config(&[("IDLE_TIMEOUT_SECONDS", " 4 ")])
                .unwrap()
                .http
                .idle_timeout,
            Duration::from_secs(4)
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let c = config(&[
            ("ADMIN_TOKEN", "hunter2"),
            ("DATABASE_URL", "postgres://u:pw@h/db"),
            (
                "SNAPSHOT_SIGNING_KEY",
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            ),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("pw@h") && !shown.contains("9d61"),
            "{shown}"
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[("ADMIN_TOKEN", ""), ("PORT", "0")]).unwrap();
        assert!(c.admin_token.is_none());
        assert_eq!(c.port, 0);
    }
}
