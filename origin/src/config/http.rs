//! `HEADER_TIMEOUT_SECONDS`, `BODY_TIMEOUT_SECONDS`, `IDLE_TIMEOUT_SECONDS`, `MAX_CONNECTIONS`:
//! what one client may hold of the HTTP server (`crate::http::server`).

use std::time::Duration;

use super::ConfigError;

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
const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;

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

impl HttpLimits {
    /// The four variables through `get` (blank counts as unset); each unset one keeps its default.
    pub(super) fn read(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
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
        Ok(Self {
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<HttpLimits, ConfigError> {
        HttpLimits::read(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_defaults() {
        let limits = read(&[]).unwrap();
        assert_eq!(limits, HttpLimits::default());
        assert_eq!(limits.header_timeout, Duration::from_secs(10));
        assert_eq!(limits.body_timeout, Duration::from_secs(30));
        assert_eq!(limits.idle_timeout, Duration::from_secs(60));
        assert_eq!(limits.max_connections, 1024);
    }

    #[test]
    fn http_limits_are_read_and_checked() {
        assert_eq!(
            read(&[
                ("HEADER_TIMEOUT_SECONDS", "2"),
                ("BODY_TIMEOUT_SECONDS", " 3 "),
                ("IDLE_TIMEOUT_SECONDS", "4"),
                ("MAX_CONNECTIONS", "5"),
            ])
            .unwrap(),
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
                let err = read(&[(variable, bad)]).unwrap_err();
                assert_eq!(err.variable, variable, "{bad}");
                assert_eq!(
                    err.to_string(),
                    format!("{variable}: must be a whole number of seconds from 1 to 86400")
                );
            }
        }
        for bad in ["0", "-3", "many", "1000001"] {
            let err = read(&[("MAX_CONNECTIONS", bad)]).unwrap_err();
            assert_eq!(
                err.to_string(),
                "MAX_CONNECTIONS: must be a whole number from 1 to 1000000",
                "{bad}"
            );
        }
    }
}
