//! The worker's configuration, read from its vars and secret (`wrangler.toml`, `.dev.vars`,
//! `wrangler secret put EDGE_TOKEN`) through a lookup function, so that parsing is host-tested.

use core::fmt;
use evaluator::Environment;

use crate::signing::PublicKeys;

/// `SNAPSHOT_TTL_SECONDS` when the var is not set.
pub const DEFAULT_TTL_SECONDS: u64 = 10;
/// How long a request may wait for the origin before the last snapshot is served instead.
pub const FETCH_TIMEOUT_MS: u64 = 2_000;
/// The origin's endpoint for evaluation counts (`POST`, the edge token as for the snapshot).
pub const USAGE_PATH: &str = "/api/usage";
/// `HUB_CHECK_MS` when unset: how often, at most, an isolate asks its hub for a newer version.
pub const DEFAULT_HUB_CHECK_MS: u64 = 250;
/// `HUB_REVALIDATE_SECONDS` when unset: the hub's alarm period, against the origin.
pub const DEFAULT_HUB_REVALIDATE_SECONDS: u64 = 5;

#[derive(Debug, Clone)]
pub struct Config {
    pub origin: OriginUrl,
    pub ttl_ms: u64,
    /// `USAGE_REPORT_SECONDS` in ms: how often evaluation counts go to the origin; 0 = never
    /// (nothing is counted).
    pub usage_report_ms: u64,
    /// None: the origin will answer 401, which is logged; nothing else to do without a token.
    pub edge_token: Option<EdgeToken>,
    /// `SNAPSHOT_PUBLIC_KEYS`: when set, a snapshot installs only with a valid signature by one of
    /// them (`crate::signing`); None: snapshots are not verified.
    pub public_keys: Option<PublicKeys>,
    /// `HUB_CHECK_MS`: with a hub (the `SNAPSHOT_HUB` binding), how often at most an isolate asks
    /// it for a newer version, off the request's path.
    pub hub_check_ms: u64,
    /// `HUB_REVALIDATE_SECONDS`: how often the hub revalidates against the origin.
    pub hub_revalidate_ms: u64,
    /// `POINTER_MAX_AGE_SECONDS`: with a hub, the per-location pointer's max-age in the Cache API
    /// (`crate::pointer`); 0: no pointer, every check asks the hub.
    pub pointer_max_age_seconds: u64,
    /// `PURGE_ZONE_ID` + `PURGE_API_TOKEN` (+ `PURGE_API_URL`): the hub purges the pointers of
    /// every location by tag when it changes; None: only its own location's (the Cache API's
    /// delete), the others' expire after their max-age.
    pub purge: Option<PurgeConfig>,
}

/// Cloudflare's purge by tag, for the hub's invalidation of the pointers in every location.
#[derive(Clone, PartialEq, Eq)]
pub struct PurgeConfig {
    /// The API's base URL, without a trailing slash (`https://api.cloudflare.com/client/v4`).
    pub api_url: String,
    pub zone_id: String,
    /// An API token with the zone's Cache Purge permission; never printed.
    pub token: String,
}

impl fmt::Debug for PurgeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PurgeConfig")
            .field("api_url", &self.api_url)
            .field("zone_id", &self.zone_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// A deployment mistake, reported once in the log with the variable's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Config {
    /// `lookup(name)` returns the var or secret of that name.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let origin = lookup("ORIGIN_URL")
            .ok_or_else(|| ConfigError("ORIGIN_URL is not set".into()))
            .and_then(|raw| OriginUrl::parse(&raw))?;
        let ttl_ms = match lookup("SNAPSHOT_TTL_SECONDS") {
            None => DEFAULT_TTL_SECONDS * 1000,
            Some(raw) => parse_seconds("SNAPSHOT_TTL_SECONDS", &raw)? * 1000,
        };
        let usage_report_ms = match lookup("USAGE_REPORT_SECONDS") {
            None => crate::usage::DEFAULT_REPORT_SECONDS * 1000,
            Some(raw) => parse_seconds("USAGE_REPORT_SECONDS", &raw)? * 1000,
        };
        let edge_token = lookup("EDGE_TOKEN")
            .map(|raw| EdgeToken::parse(&raw))
            .transpose()?
            .flatten();
        let public_keys = match lookup("SNAPSHOT_PUBLIC_KEYS") {
            Some(raw) => PublicKeys::parse(&raw).map_err(ConfigError)?,
            None => None,
        };
        let hub_check_ms = match lookup("HUB_CHECK_MS") {
            None => DEFAULT_HUB_CHECK_MS,
            Some(raw) => parse_within(&raw, "HUB_CHECK_MS", "milliseconds", 10, 60_000)?,
        };
        let hub_revalidate_ms = match lookup("HUB_REVALIDATE_SECONDS") {
            None => DEFAULT_HUB_REVALIDATE_SECONDS,
            Some(raw) => parse_within(&raw, "HUB_REVALIDATE_SECONDS", "seconds", 1, 3_600)?,
        } * 1000;
        let pointer_max_age_seconds = match lookup("POINTER_MAX_AGE_SECONDS") {
            None => crate::pointer::DEFAULT_MAX_AGE_SECONDS,
            Some(raw) => parse_within(&raw, "POINTER_MAX_AGE_SECONDS", "seconds", 0, 3_600)?,
        };
        let purge = PurgeConfig::from_lookup(&lookup)?;
        Ok(Config {
            origin,
            ttl_ms,
            usage_report_ms,
            edge_token,
            public_keys,
            hub_check_ms,
            hub_revalidate_ms,
            pointer_max_age_seconds,
            purge,
        })
    }
}

impl PurgeConfig {
    /// Both `PURGE_ZONE_ID` and `PURGE_API_TOKEN`, or neither (blank is unset).
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let read = |name: &str| {
            lookup(name)
                .map(|raw| raw.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let (zone_id, token) =
            match (read("PURGE_ZONE_ID"), read("PURGE_API_TOKEN")) {
                (None, None) => return Ok(None),
                (Some(zone_id), Some(token)) => (zone_id, token),
                (Some(_), None) => return Err(ConfigError(
                    "PURGE_ZONE_ID is set without the secret PURGE_API_TOKEN; set both or neither"
                        .into(),
                )),
                (None, Some(_)) => {
                    return Err(ConfigError(
                        "PURGE_API_TOKEN is set without PURGE_ZONE_ID; set both or neither".into(),
                    ))
                }
            };
        if !zone_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ConfigError(format!(
                "PURGE_ZONE_ID must be the zone's id (letters and digits), not {zone_id:?}"
            )));
        }
        if !token.bytes().all(|b| matches!(b, b' '..=b'~')) {
            return Err(ConfigError(
                "PURGE_API_TOKEN contains a control character or a non-ASCII character, which an \
                 HTTP header cannot carry"
                    .into(),
            ));
        }
        let api_url = match read("PURGE_API_URL") {
            None => crate::pointer::DEFAULT_PURGE_API_URL.to_owned(),
            Some(raw) => {
                OriginUrl::parse(&raw)
                    .map_err(|_| {
                        ConfigError(format!("PURGE_API_URL must be an http(s) URL, not {raw:?}"))
                    })?
                    .0
            }
        };
        Ok(Some(PurgeConfig {
            api_url,
            zone_id,
            token,
        }))
    }
}

fn parse_seconds(name: &str, raw: &str) -> Result<u64, ConfigError> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|seconds| *seconds <= 86_400)
        .ok_or_else(|| {
            ConfigError(format!(
                "{name} must be a whole number of seconds from 0 to 86400, not {raw:?}"
            ))
        })
}

fn parse_within(raw: &str, name: &str, unit: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|value| (min..=max).contains(value))
        .ok_or_else(|| {
            ConfigError(format!(
                "{name} must be a whole number of {unit} from {min} to {max}, not {raw:?}"
            ))
        })
}

/// The origin's base URL, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginUrl(String);

impl OriginUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let trimmed = raw.trim().trim_end_matches('/');
        let rest = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"));
        match rest {
            Some(host) if !host.is_empty() && !host.contains(['?', '#', ' ']) => {
                Ok(OriginUrl(trimmed.to_owned()))
            }
            _ => Err(ConfigError(format!(
                "ORIGIN_URL must be an http(s) URL such as https://flags.example.com, not {raw:?}"
            ))),
        }
    }

    /// `POST` evaluation counts here.
    pub fn usage_url(&self) -> String {
        format!("{}{}", self.0, USAGE_PATH)
    }

    pub fn snapshot_url(&self, environment: Environment) -> String {
        format!(
            "{}{}?environment={}",
            self.0,
            http_contract::path::SNAPSHOT,
            environment.as_str()
        )
    }
}

/// The secret sent as `x-edge-token`; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct EdgeToken(String);

impl EdgeToken {
    /// The origin's rule (`origin/src/config/token.rs`): the whitespace around the value is dropped, as
    /// `fetch` drops it from a header value anyway; a control or non-ASCII character, which a header
    /// cannot carry, is a configuration error naming the variable, never the value. Blank: unset.
    fn parse(raw: &str) -> Result<Option<Self>, ConfigError> {
        let value = raw.trim_matches(|c: char| c.is_ascii_whitespace());
        if value.is_empty() {
            return Ok(None);
        }
        if !value.bytes().all(|b| matches!(b, b' '..=b'~')) {
            return Err(ConfigError(
                "EDGE_TOKEN contains a control character or a non-ASCII character, which an HTTP \
                 header cannot carry; use printable ASCII"
                    .into(),
            ));
        }
        Ok(Some(EdgeToken(value.to_owned())))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `offered` (a request's `x-edge-token`) is this token, in a time that depends on
    /// their lengths only, never on where they first differ.
    pub fn matches(&self, offered: &str) -> bool {
        let (ours, theirs) = (self.0.as_bytes(), offered.as_bytes());
        let differ = ours
            .iter()
            .zip(theirs)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        differ == 0 && ours.len() == theirs.len()
    }
}

impl fmt::Debug for EdgeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EdgeToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn defaults_and_trailing_slash() {
        let cfg = config(&[("ORIGIN_URL", "http://127.0.0.1:3000/")]).expect("valid");
        assert_eq!(cfg.ttl_ms, 10_000);
        assert_eq!(cfg.usage_report_ms, 10_000);
        assert!(cfg.edge_token.is_none());
        assert_eq!(cfg.origin.usage_url(), "http://127.0.0.1:3000/api/usage");
        assert!(cfg.public_keys.is_none());
        assert_eq!(
            cfg.origin.snapshot_url(Environment::Staging),
            "http://127.0.0.1:3000/api/flags/snapshot?environment=staging"
        );
    }

    #[test]
    fn ttl_and_token_are_read() {
        let cfg = config(&[
            ("ORIGIN_URL", "https://flags.example.com"),
            ("SNAPSHOT_TTL_SECONDS", "1"),
            ("USAGE_REPORT_SECONDS", "0"),
            ("EDGE_TOKEN", "s3cret"),
        ])
        .expect("valid");
        assert_eq!(cfg.ttl_ms, 1_000);
        assert_eq!(cfg.usage_report_ms, 0);
        let token = cfg.edge_token.expect("set");
        assert_eq!(token.expose(), "s3cret");
        assert!(!format!("{token:?}").contains("s3cret"));
    }

    #[test]
    fn public_keys_are_read_when_set() {
        let key = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let cfg = config(&[
            ("ORIGIN_URL", "http://x"),
            ("SNAPSHOT_PUBLIC_KEYS", &format!("{key}, {key}")),
        ])
        .expect("valid");
        assert_eq!(
            cfg.public_keys.expect("set").ids(),
            ["21fe31dfa154a261", "21fe31dfa154a261"]
        );
        let blank = config(&[("ORIGIN_URL", "http://x"), ("SNAPSHOT_PUBLIC_KEYS", " ")]);
        assert!(blank.expect("valid").public_keys.is_none());
    }

    #[test]
    fn the_token_is_trimmed_and_must_fit_in_a_header() {
        let with = |token: &str| config(&[("ORIGIN_URL", "http://x"), ("EDGE_TOKEN", token)]);
        let token = with(" s3cret\n").expect("valid").edge_token.expect("set");
        assert_eq!(token.expose(), "s3cret");
        assert!(with(" ").expect("valid").edge_token.is_none());
        for bad in ["s3\u{0}cret", "s3\tcret", "s3cr\u{e9}t"] {
            let err = with(bad).expect_err("refused").to_string();
            assert!(err.starts_with("EDGE_TOKEN contains a control"), "{err}");
            assert!(!err.contains("s3"), "{err}");
        }
    }

    #[test]
    fn hub_periods_are_read_within_bounds() {
        let cfg = config(&[("ORIGIN_URL", "http://x")]).expect("valid");
        assert_eq!((cfg.hub_check_ms, cfg.hub_revalidate_ms), (250, 5_000));
        let cfg = config(&[
            ("ORIGIN_URL", "http://x"),
            ("HUB_CHECK_MS", "100"),
            ("HUB_REVALIDATE_SECONDS", " 2 "),
        ])
        .expect("valid");
        assert_eq!((cfg.hub_check_ms, cfg.hub_revalidate_ms), (100, 2_000));
        for (name, bad) in [
            ("HUB_CHECK_MS", "5"),
            ("HUB_CHECK_MS", "x"),
            ("HUB_REVALIDATE_SECONDS", "0"),
        ] {
            let err = config(&[("ORIGIN_URL", "http://x"), (name, bad)]).expect_err("refused");
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn the_pointer_and_the_purge_are_read() {
        let cfg = config(&[("ORIGIN_URL", "http://x")]).expect("valid");
        assert_eq!(cfg.pointer_max_age_seconds, 1);
        assert!(cfg.purge.is_none());
        let cfg = config(&[
            ("ORIGIN_URL", "http://x"),
            ("POINTER_MAX_AGE_SECONDS", "0"),
            ("PURGE_ZONE_ID", " 023e105f4ecef8ad9ca31a8372d0c353 "),
            ("PURGE_API_TOKEN", "t0ken"),
        ])
        .expect("valid");
        assert_eq!(cfg.pointer_max_age_seconds, 0);
        let purge = cfg.purge.expect("set");
        assert_eq!(purge.api_url, "https://api.cloudflare.com/client/v4");
        assert_eq!(purge.zone_id, "023e105f4ecef8ad9ca31a8372d0c353");
        assert!(!format!("{purge:?}").contains("t0ken"));
        let cfg = config(&[
            ("ORIGIN_URL", "http://x"),
            ("PURGE_ZONE_ID", "z"),
            ("PURGE_API_TOKEN", "t"),
            ("PURGE_API_URL", "http://127.0.0.1:9/"),
        ])
        .expect("valid");
        assert_eq!(cfg.purge.expect("set").api_url, "http://127.0.0.1:9");
        for (vars, named) in [
            (
                vec![("POINTER_MAX_AGE_SECONDS", "3601")],
                "POINTER_MAX_AGE_SECONDS",
            ),
            (
                vec![("POINTER_MAX_AGE_SECONDS", "-1")],
                "POINTER_MAX_AGE_SECONDS",
            ),
            (vec![("PURGE_ZONE_ID", "z")], "PURGE_ZONE_ID"),
            (vec![("PURGE_API_TOKEN", "t")], "PURGE_API_TOKEN"),
            (
                vec![("PURGE_ZONE_ID", "z/.."), ("PURGE_API_TOKEN", "t")],
                "PURGE_ZONE_ID",
            ),
            (
                vec![("PURGE_ZONE_ID", "z"), ("PURGE_API_TOKEN", "t\n1")],
                "PURGE_API_TOKEN",
            ),
            (
                vec![
                    ("PURGE_ZONE_ID", "z"),
                    ("PURGE_API_TOKEN", "t"),
                    ("PURGE_API_URL", "ftp://x"),
                ],
                "PURGE_API_URL",
            ),
        ] {
            let mut all = vec![("ORIGIN_URL", "http://x")];
            all.extend(vars);
            let err = config(&all).expect_err("refused").to_string();
            assert!(err.starts_with(named), "{err}");
        }
    }

    #[test]
    fn the_token_compares_whole() {
        let token = EdgeToken::parse("s3cret").expect("valid").expect("set");
        assert!(token.matches("s3cret"));
        for other in ["", "s3cre", "s3cret!", "S3cret", "x3cret"] {
            assert!(!token.matches(other), "{other}");
        }
    }

    #[test]
    fn mistakes_name_the_variable() {
        for vars in [
            vec![],
            vec![("ORIGIN_URL", "ftp://x")],
            vec![("ORIGIN_URL", "http://")],
            vec![("ORIGIN_URL", "http://x"), ("SNAPSHOT_TTL_SECONDS", "-1")],
            vec![("ORIGIN_URL", "http://x"), ("SNAPSHOT_TTL_SECONDS", "ten")],
            vec![
                ("ORIGIN_URL", "http://x"),
                ("USAGE_REPORT_SECONDS", "86401"),
            ],
            vec![("ORIGIN_URL", "http://x"), ("USAGE_REPORT_SECONDS", "")],
            vec![("ORIGIN_URL", "http://x"), ("SNAPSHOT_PUBLIC_KEYS", "abc")],
        ] {
            let err = config(&vars).expect_err("refused").to_string();
            let named = [
                "ORIGIN_URL",
                "SNAPSHOT_TTL_SECONDS",
                "USAGE_REPORT_SECONDS",
                "SNAPSHOT_PUBLIC_KEYS",
            ];
            assert!(named.iter().any(|name| err.contains(name)), "{err}");
        }
    }
}
