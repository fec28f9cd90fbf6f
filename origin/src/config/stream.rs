//! `MAX_STREAMS`, `STREAM_HEARTBEAT_SECONDS`: the change stream's limits (`GET /api/stream`).

use std::time::Duration;

use super::ConfigError;

/// How many change streams one origin holds, and how often each says it is alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    /// Streams held at once (`MAX_STREAMS`); one more is answered 503 with `Retry-After`. Each
    /// holds a connection too: the origin also keeps a quarter of `MAX_CONNECTIONS` for requests
    /// (see `crate::stream`).
    pub max_streams: usize,
    /// Between two comment lines on an idle stream (`STREAM_HEARTBEAT_SECONDS`), so that proxies
    /// and load balancers do not close it for silence.
    pub heartbeat: Duration,
}

const MAX_STREAMS_LIMIT: usize = 1_000_000;

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            max_streams: 10_000,
            heartbeat: Duration::from_secs(15),
        }
    }
}

impl StreamLimits {
    /// The two variables through `get` (blank counts as unset); each unset one keeps its default.
    pub(super) fn read(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let max_streams = match get("MAX_STREAMS") {
            Some(s) => match s.trim().parse::<usize>() {
                Ok(n) if n <= MAX_STREAMS_LIMIT => n,
                _ => {
                    return Err(ConfigError::new(
                        "MAX_STREAMS",
                        format!("must be a whole number from 0 to {MAX_STREAMS_LIMIT}"),
                    ))
                }
            },
            None => defaults.max_streams,
        };
        let heartbeat = match get("STREAM_HEARTBEAT_SECONDS") {
            Some(s) => match s.trim().parse::<u64>() {
                Ok(n) if (1..=3600).contains(&n) => Duration::from_secs(n),
                _ => {
                    return Err(ConfigError::new(
                        "STREAM_HEARTBEAT_SECONDS",
                        "must be a whole number of seconds from 1 to 3600",
                    ))
                }
            },
            None => defaults.heartbeat,
        };
        Ok(Self {
            max_streams,
            heartbeat,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<StreamLimits, ConfigError> {
        StreamLimits::read(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn stream_limits_are_read_and_checked() {
        assert_eq!(read(&[]).unwrap(), StreamLimits::default());
        assert_eq!(StreamLimits::default().max_streams, 10_000);
        assert_eq!(StreamLimits::default().heartbeat, Duration::from_secs(15));
        assert_eq!(
            read(&[("MAX_STREAMS", " 0 "), ("STREAM_HEARTBEAT_SECONDS", "2")]).unwrap(),
            StreamLimits {
                max_streams: 0,
                heartbeat: Duration::from_secs(2),
            }
        );
        for bad in ["-1", "x", "1.5", "1000001"] {
            assert_eq!(
                read(&[("MAX_STREAMS", bad)]).unwrap_err().to_string(),
                "MAX_STREAMS: must be a whole number from 0 to 1000000"
            );
        }
        for bad in ["0", "3601", "x"] {
            assert_eq!(
                read(&[("STREAM_HEARTBEAT_SECONDS", bad)])
                    .unwrap_err()
                    .to_string(),
                "STREAM_HEARTBEAT_SECONDS: must be a whole number of seconds from 1 to 3600"
            );
        }
    }
}
