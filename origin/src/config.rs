//! Typed configuration, read once at start from the environment (and `.env` when present).

use std::fmt;
use std::time::Duration;

/// A value that must never reach a log line: `Debug` prints a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where flags are stored; chosen from `DATABASE_URL`'s scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(Secret),
    Sqlite(String),
}

pub const DEFAULT_SQLITE_URL: &str = "sqlite://pennon.db";

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(Secret::new(url)))
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(url.to_owned()))
        } else {
            Err(ConfigError::new(
                "DATABASE_URL",
                "must start with postgres://, postgresql:// or sqlite:",
            ))
        }
    }
}

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
    pub cache_ttl: Duration,
    /// How often the background task compares the in-process sets with the store's revisions
    /// (the safety net behind the change messages).
    pub revalidate_interval: Duration,
    pub seed_demo: bool,
    /// Timeouts and the connection cap of the HTTP server (`server`).
    pub http: HttpLimits,
}

/// What one client may hold of the server: how long it may take to send a request, how long an
/// idle connection is kept, and how many connections are served at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// From the connection's start (or the first byte of a later request) to the end of the
    /// request's header fields (`HEADER_TIMEOUT_SECONDS`).
    pub header_timeout: Duration,
    /// From the end of the header fields to the end of the body (`BODY_TIMEOUT_SECONDS`).
    pub body_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request (`IDLE_TIMEOUT_SECONDS`).
    pub idle_timeout: Duration,
    /// Connections served at once; beyond it the server stops accepting (`MAX_CONNECTIONS`).
    pub max_connections: usize,
}

/// Upper bound of `MAX_CONNECTIONS`: far beyond what one process's file descriptors allow, and
/// small enough for a semaphore's permit count.
pub const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

/// The variables that hold a token compared with a request header.
const TOKEN_VARIABLES: [&str; 2] = ["ADMIN_TOKEN", "EDGE_TOKEN"];

/// A token as configured, ready to compare with the header a client sends.
struct Token {
    secret: Secret,
    /// The value had whitespace around it, which was removed.
    trimmed: bool,
}

/// Reads the token in `variable`; `None` when unset or blank (as every variable).
///
/// HTTP strips the whitespace around a header value (and a value with a control character or a
/// non-ASCII byte is refused, or sent differently by curl, browsers and `fetch`), so a token with
/// either could never match what a client sends: whitespace around it, typically a newline left by
/// `echo` or a file, is removed (the start warns, see [`Config::warnings`]); any other character
/// outside printable ASCII stops the start, naming the variable, never the value.
fn token(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<Token>, ConfigError> {
    let Some(raw) = lookup(variable) else {
        return Ok(None);
    };
    let value = raw.trim_matches(|c: char| c.is_ascii_whitespace());
    if value.is_empty() {
        return Ok(None);
    }
    if !value.bytes().all(|b| matches!(b, b' '..=b'~')) {
        return Err(ConfigError::new(
            variable,
            "contains a control character or a non-ASCII character, which an HTTP header \
             cannot carry; use printable ASCII",
        ));
    }
    Ok(Some(Token {
        secret: Secret::new(value),
        trimmed: value.len() != raw.len(),
    }))
}

impl Config {
    /// Reads the process environment; `.env` is loaded by the binary before this is called.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// What the start should warn about in a configuration that `from_lookup` accepts: each line
    /// names a variable and never holds its value.
    pub fn warnings(lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
        TOKEN_VARIABLES
            .into_iter()
            .filter(|variable| matches!(token(&lookup, variable), Ok(Some(t)) if t.trimmed))
            .map(|variable| {
                format!(
                    "{variable}: leading or trailing whitespace removed; an HTTP header cannot \
                     carry it, so clients send the token without it"
                )
            })
            .collect()
    }

    /// Reads variables through `lookup`, so tests can configure without touching the process env.
    /// Empty values count as unset: `ADMIN_TOKEN=` in a `.env` must not become an empty token.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
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
        let database = DatabaseUrl::parse(
            get("DATABASE_URL")
                .as_deref()
                .unwrap_or(DEFAULT_SQLITE_URL)
                .trim(),
        )?;
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
        let defaults = HttpLimits::default();
        let seconds = |variable: &'static str, default: Duration| match get(variable) {
            Some(s) => match s.trim().parse::<u64>() {
                Ok(n) if (1..=86_400).contains(&n) => Ok(Duration::from_secs(n)),
                _ => Err(ConfigError::new(
                    variable,
                    "must be a whole number of seconds from 1 to 86400",
                )),
            },
            None => Ok(default),
        };
        let http = HttpLimits {
            header_timeout: seconds("HEADER_TIMEOUT_SECONDS", defaults.header_timeout)?,
            body_timeout: seconds("BODY_TIMEOUT_SECONDS", defaults.body_timeout)?,
            idle_timeout: seconds("IDLE_TIMEOUT_SECONDS", defaults.idle_timeout)?,
            max_connections: match get("MAX_CONNECTIONS") {
                Some(s) => match s.trim().parse::<usize>() {
                    Ok(n) if (1..=MAX_CONNECTIONS_LIMIT).contains(&n) => n,
                    _ => {
                        return Err(ConfigError::new(
                            "MAX_CONNECTIONS",
                            format!("must be a whole number from 1 to {MAX_CONNECTIONS_LIMIT}"),
                        ))
                    }
                },
                None => defaults.max_connections,
            },
        };
        let seed_demo = matches!(
            get("SEED_DEMO").as_deref().map(str::trim),
            Some("1" | "true" | "yes")
        );
        Ok(Self {
            host,
            port,
            database,
            redis_url: get("REDIS_URL").map(Secret::new),
            redis_key_prefix: get("REDIS_KEY_PREFIX").unwrap_or_else(|| "pennon:".to_owned()),
            admin_token: token(&lookup, "ADMIN_TOKEN")?.map(|t| t.secret),
            edge_token: token(&lookup, "EDGE_TOKEN")?.map(|t| t.secret),
            cache_ttl,
            revalidate_interval,
            seed_demo,
            http,
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
        assert_eq!(c.database, DatabaseUrl::Sqlite(DEFAULT_SQLITE_URL.into()));
        assert!(c.redis_url.is_none() && c.admin_token.is_none() && c.edge_token.is_none());
        assert_eq!(c.cache_ttl, Duration::from_secs(60));
        assert_eq!(c.revalidate_interval, Duration::from_secs(1));
        assert!(!c.seed_demo);
        assert_eq!(c.http, HttpLimits::default());
        assert_eq!(c.http.header_timeout, Duration::from_secs(10));
        assert_eq!(c.http.body_timeout, Duration::from_secs(30));
        assert_eq!(c.http.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.http.max_connections, 1024);
    }

    #[test]
    fn http_limits_are_read_and_checked() {
        let c = config(&[
            ("HEADER_TIMEOUT_SECONDS", "2"),
            ("BODY_TIMEOUT_SECONDS", " 3 "),
            ("IDLE_TIMEOUT_SECONDS", "4"),
            ("MAX_CONNECTIONS", "5"),
        ])
        .unwrap();
        assert_eq!(
            c.http,
            HttpLimits {
                header_timeout: Duration::from_secs(2),
                body_timeout: Duration::from_secs(3),
                idle_timeout: Duration::from_secs(4),
                max_connections: 5,
            }
        );
        for variable in [
            "HEADER_TIMEOUT_SECONDS",
            "BODY_TIMEOUT_SECONDS",
            "IDLE_TIMEOUT_SECONDS",
        ] {
            for bad in ["0", "-1", "1.5", "x", "86401"] {
                let err = config(&[(variable, bad)]).unwrap_err();
                assert_eq!(err.variable, variable, "{bad}");
                assert_eq!(
                    err.to_string(),
                    format!("{variable}: must be a whole number of seconds from 1 to 86400")
                );
            }
        }
        for bad in ["0", "-3", "many", "1000001"] {
            let err = config(&[("MAX_CONNECTIONS", bad)]).unwrap_err();
            assert_eq!(
                err.to_string(),
                "MAX_CONNECTIONS: must be a whole number from 1 to 1000000",
                "{bad}"
            );
        }
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
    }

    #[test]
    fn secrets_do_not_print() {
        let c = config(&[
            ("ADMIN_TOKEN", "hunter2"),
            ("DATABASE_URL", "postgres://u:pw@h/db"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("pw@h"),
            "{shown}"
        );
    }

    #[test]
    fn whitespace_around_a_token_is_removed_with_a_warning_naming_the_variable() {
        let vars = [("ADMIN_TOKEN", "adm "), ("EDGE_TOKEN", "\tedge-s3cret\r\n")];
        let c = config(&vars).unwrap();
        assert_eq!(c.admin_token.unwrap().expose(), "adm");
        assert_eq!(c.edge_token.unwrap().expose(), "edge-s3cret");
        let map: HashMap<&str, &str> = vars.into_iter().collect();
        let warnings = Config::warnings(|k| map.get(k).map(|v| (*v).to_owned()));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("ADMIN_TOKEN: leading or trailing whitespace removed"));
        assert!(warnings[1].starts_with("EDGE_TOKEN: "));
        assert!(warnings
            .iter()
            .all(|w| !w.contains("adm ") && !w.contains("s3cret")));
        // Inner spaces can be sent in a header: kept, and nothing to warn about.
        let c = config(&[("ADMIN_TOKEN", "two words")]).unwrap();
        assert_eq!(c.admin_token.unwrap().expose(), "two words");
        assert!(Config::warnings(|k| (k == "ADMIN_TOKEN").then(|| "two words".into())).is_empty());
        assert!(Config::warnings(|_| None).is_empty());
    }

    #[test]
    fn a_token_a_header_cannot_carry_stops_the_start() {
        for bad in [
            "a\u{0}b",
            "a\tb",
            "a\nb",
            "a\u{7f}",
            "caf\u{e9}",
            "\u{a0}tok",
        ] {
            for variable in ["ADMIN_TOKEN", "EDGE_TOKEN"] {
                let err = config(&[(variable, bad)]).unwrap_err();
                assert_eq!(err.variable, variable, "{bad:?}");
                let shown = err.to_string();
                assert!(shown.starts_with(&format!("{variable}: contains a control")));
                assert!(!shown.contains(bad), "{shown}");
            }
        }
        // Blank is unset, as for every variable: a token is generated (admin) or none (edge).
        assert!(config(&[("ADMIN_TOKEN", " \n")])
            .unwrap()
            .admin_token
            .is_none());
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[("ADMIN_TOKEN", ""), ("PORT", "0")]).unwrap();
        assert!(c.admin_token.is_none());
        assert_eq!(c.port, 0);
    }
}
