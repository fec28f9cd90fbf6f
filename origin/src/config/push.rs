//! `EDGE_PUSH_URL`: the edge worker's base URL, to which the origin pushes each environment's new
//! snapshot after every committed write (`crate::push`). Unset: no push. `EDGE_PUSH_TOKEN`: what
//! the push sends as `x-edge-token` (the worker's own `EDGE_TOKEN`, which may be a stored server
//! token); `EDGE_TOKEN` when unset. `EDGE_PUSH_CA_FILE`: CA certificates (PEM) trusted for an
//! `https://` worker beside the system's roots, for a worker behind a private CA.

use std::fmt;
use std::sync::Arc;

use super::{ConfigError, Secret};

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

    /// A base URL `http://host[:port]` or `https://host[:port]`; a trailing slash is dropped.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let trimmed = raw.trim().trim_end_matches('/');
        let host = trimmed
            .strip_prefix("http://")
            .or_else(|| trimmed.strip_prefix("https://"));
        let valid = host.is_some_and(|h| {
            !h.is_empty()
                && !h.contains(['?', '#', ' ', '/'])
                && h.bytes().all(|b| b.is_ascii_graphic())
        });
        if valid {
            return Ok(Self(trimmed.to_owned()));
        }
        Err(ConfigError::new(
            "EDGE_PUSH_URL",
            "must be the edge worker's base URL, http(s)://host[:port] (no path or query)",
        ))
    }

    fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

/// `EDGE_PUSH_CA_FILE`'s certificates, checked when read: the file exists and holds at least one
/// PEM certificate.
#[derive(Clone)]
pub struct PushCa {
    pub path: String,
    pub certificates: Arc<[reqwest::Certificate]>,
}

impl fmt::Debug for PushCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PushCa({}: {} certificates)",
            self.path,
            self.certificates.len()
        )
    }
}

impl PushCa {
    pub fn read(path: &str) -> Result<Self, ConfigError> {
        let refuse = |why: String| ConfigError::new("EDGE_PUSH_CA_FILE", why);
        let pem =
            std::fs::read(path).map_err(|err| refuse(format!("cannot read {path}: {err}")))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|err| refuse(format!("{path} is not PEM: {err}")))?;
        if certificates.is_empty() {
            return Err(refuse(format!(
                "{path} holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)"
            )));
        }
        Ok(Self {
            path: path.to_owned(),
            certificates: certificates.into(),
        })
    }
}

/// Where the origin pushes, with what token, and what it trusts there beyond the system's roots.
#[derive(Clone, Debug)]
pub struct EdgePushTarget {
    pub url: PushUrl,
    /// Sent as `x-edge-token`: the worker compares it with its `EDGE_TOKEN`.
    pub token: Secret,
    pub ca: Option<PushCa>,
}

impl fmt::Debug for PushUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PushUrl({})", self.0)
    }
}

/// `EDGE_PUSH_URL`, which needs a token to authenticate the push with (`EDGE_PUSH_TOKEN`, else
/// `EDGE_TOKEN`), and `EDGE_PUSH_CA_FILE`, which needs an `https://` push URL.
pub(super) fn read(
    get: impl Fn(&str) -> Option<String>,
    push_token: Option<Secret>,
    edge_token: Option<&Secret>,
) -> Result<Option<EdgePushTarget>, ConfigError> {
    let ca_file = get("EDGE_PUSH_CA_FILE");
    let Some(raw) = get("EDGE_PUSH_URL") else {
        return match (ca_file, push_token) {
            (Some(_), _) => Err(ConfigError::new(
                "EDGE_PUSH_CA_FILE",
                "needs EDGE_PUSH_URL (an https:// worker it trusts)",
            )),
            (None, Some(_)) => Err(ConfigError::new(
                "EDGE_PUSH_TOKEN",
                "needs EDGE_PUSH_URL (the worker it authenticates the push to)",
            )),
            (None, None) => Ok(None),
        };
    };
    let url = PushUrl::parse(&raw)?;
    let Some(token) = push_token.or_else(|| edge_token.cloned()) else {
        return Err(ConfigError::new(
            "EDGE_PUSH_URL",
            "needs EDGE_PUSH_TOKEN (the worker's EDGE_TOKEN) or EDGE_TOKEN: the push is \
             authenticated with it (x-edge-token)",
        ));
    };
    let ca = match ca_file {
        Some(_) if !url.is_https() => {
            return Err(ConfigError::new(
                "EDGE_PUSH_CA_FILE",
                "is for an https:// EDGE_PUSH_URL; this one is http://",
            ))
        }
        Some(path) => Some(PushCa::read(path.trim())?),
        None => None,
    };
    Ok(Some(EdgePushTarget { url, token, ca }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_one(value: &str, token: bool) -> Result<Option<EdgePushTarget>, ConfigError> {
        let edge_token = Secret::new("edge");
        read(
            |name| (name == "EDGE_PUSH_URL").then(|| value.to_owned()),
            None,
            token.then_some(&edge_token),
        )
    }

    #[test]
    fn a_base_url_is_read_without_its_trailing_slash() {
        for (raw, pushed) in [
            (
                " http://127.0.0.1:8787/ ",
                "http://127.0.0.1:8787/api/edge/push?environment=prod",
            ),
            (
                "https://pennon-edge.example.workers.dev",
                "https://pennon-edge.example.workers.dev/api/edge/push?environment=prod",
            ),
        ] {
            let target = read_one(raw, true).unwrap().unwrap();
            assert_eq!(target.url.push_url(evaluator::Environment::Prod), pushed);
            assert_eq!(target.token.expose(), "edge");
            assert!(target.ca.is_none());
        }
        assert!(read(|_| None, None, None).unwrap().is_none());
    }

    #[test]
    fn the_push_token_is_edge_push_token_else_edge_token() {
        let url = |name: &str| (name == "EDGE_PUSH_URL").then(|| "http://edge".to_owned());
        let edge = Secret::new("bootstrap");
        let stored = || Some(Secret::new("pennon_server_stored"));
        for (push_token, edge_token, sent) in [
            (stored(), Some(&edge), "pennon_server_stored"),
            (stored(), None, "pennon_server_stored"),
            (None, Some(&edge), "bootstrap"),
        ] {
            let target = read(url, push_token, edge_token).unwrap().unwrap();
            assert_eq!(target.token.expose(), sent);
        }
        let err = read(url, None, None).unwrap_err().to_string();
        assert!(err.contains("needs EDGE_PUSH_TOKEN"), "{err}");
        let err = read(|_| None, stored(), Some(&edge))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("EDGE_PUSH_TOKEN: needs EDGE_PUSH_URL"),
            "{err}"
        );
    }

    #[test]
    fn a_ca_file_needs_an_https_url_and_a_certificate() {
        let dir = std::env::temp_dir().join(format!("pennon-push-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let read_with = |url: &str, ca: &str| {
            let (url, ca) = (url.to_owned(), ca.to_owned());
            read(
                move |name| match name {
                    "EDGE_PUSH_URL" => Some(url.clone()),
                    "EDGE_PUSH_CA_FILE" => Some(ca.clone()),
                    _ => None,
                },
                None,
                Some(&Secret::new("edge")),
            )
        };
        for (url, ca, why) in [
            (
                "https://edge",
                "/nonexistent/ca.pem",
                "cannot read /nonexistent/ca.pem",
            ),
            (
                "https://edge",
                empty.to_str().unwrap(),
                "holds no certificate",
            ),
            (
                "http://edge",
                empty.to_str().unwrap(),
                "this one is http://",
            ),
        ] {
            let err = read_with(url, ca).unwrap_err().to_string();
            assert!(
                err.starts_with("EDGE_PUSH_CA_FILE: ") && err.contains(why),
                "{err}"
            );
        }
        let err = read(
            |name| (name == "EDGE_PUSH_CA_FILE").then(|| "x".into()),
            None,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("needs EDGE_PUSH_URL"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mistakes_are_refused_with_the_reason() {
        for (bad, why) in [
            ("ftp://x", "base URL"),
            ("http://", "base URL"),
            ("http://x/path", "base URL"),
            ("http://x?y", "base URL"),
            ("https://", "base URL"),
            ("https://x/api", "base URL"),
        ] {
            let err = read_one(bad, true).unwrap_err().to_string();
            assert!(
                err.starts_with("EDGE_PUSH_URL: ") && err.contains(why),
                "{err}"
            );
        }
        let err = read_one("http://x", false).unwrap_err().to_string();
        assert!(err.contains("or EDGE_TOKEN"), "{err}");
    }
}
