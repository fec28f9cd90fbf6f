//! `EDGE_PUSH_URL`: the edge worker's base URL, to which the origin pushes each environment's new
//! snapshot after every committed write (`crate::push`). Unset: no push.

use std::fmt;

use super::ConfigError;

/// The worker's base URL, without a trailing slash; the push goes to
/// `<url>/api/edge/push?environment=<env>`.
#[derive(Clone, PartialEq, Eq)]
pub struct PushUrl(String);

impl PushUrl {
    pub fn push_url(&self, environment: evaluator::Environment) -> String {
        format!(
            "{}/api/edge/push?environment={}",
            self.0,
            environment.as_str()
        )
    }

    pub fn base(&self) -> &str {
        &self.0
    }

    /// A base URL `http://host[:port]`; a trailing slash is dropped.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let trimmed = raw.trim().trim_end_matches('/');
        let host = trimmed.strip_prefix("http://");
        let valid = host.is_some_and(|h| {
            !h.is_empty()
                && !h.contains(['?', '#', ' ', '/'])
                && h.bytes().all(|b| b.is_ascii_graphic())
        });
        if valid {
            return Ok(Self(trimmed.to_owned()));
        }
        let why = if trimmed.starts_with("https://") {
            "https is not supported by this build (no TLS client); use http://host[:port]"
        } else {
            "must be the edge worker's base URL, http://host[:port] (no path or query)"
        };
        Err(ConfigError::new("EDGE_PUSH_URL", why))
    }
}

impl fmt::Debug for PushUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PushUrl({})", self.0)
    }
}

/// `EDGE_PUSH_URL`, which needs `EDGE_TOKEN` (the push is authenticated with it). Only `http://`:
/// this build of the origin has no TLS client (a worker behind HTTPS is reached through a local
/// proxy, or by a build with reqwest's TLS feature).
pub(super) fn read(
    get: impl Fn(&str) -> Option<String>,
    edge_token_set: bool,
) -> Result<Option<PushUrl>, ConfigError> {
    let Some(raw) = get("EDGE_PUSH_URL") else {
        return Ok(None);
    };
    let url = PushUrl::parse(&raw)?;
    if !edge_token_set {
        return Err(ConfigError::new(
            "EDGE_PUSH_URL",
            "needs EDGE_TOKEN: the push is authenticated with it (x-edge-token)",
        ));
    }
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_one(value: &str, token: bool) -> Result<Option<PushUrl>, ConfigError> {
        read(
            |name| (name == "EDGE_PUSH_URL").then(|| value.to_owned()),
            token,
        )
    }

    #[test]
    fn a_base_url_is_read_without_its_trailing_slash() {
        let url = read_one(" http://127.0.0.1:8787/ ", true).unwrap().unwrap();
        assert_eq!(
            url.push_url(evaluator::Environment::Prod),
            "http://127.0.0.1:8787/api/edge/push?environment=prod"
        );
        assert!(read(|_| None, false).unwrap().is_none());
    }

    #[test]
    fn mistakes_are_refused_with_the_reason() {
        for (bad, why) in [
            ("ftp://x", "base URL"),
            ("http://", "base URL"),
            ("http://x/path", "base URL"),
            ("http://x?y", "base URL"),
            ("https://x", "https is not supported"),
        ] {
            let err = read_one(bad, true).unwrap_err().to_string();
            assert!(
                err.starts_with("EDGE_PUSH_URL: ") && err.contains(why),
                "{err}"
            );
        }
        let err = read_one("http://x", false).unwrap_err().to_string();
        assert!(err.contains("needs EDGE_TOKEN"), "{err}");
    }
}
