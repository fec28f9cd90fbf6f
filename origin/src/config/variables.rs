//! Every variable the origin reads, once. `origin --help` prints this table, and its tests check
//! that it is exactly what `Config::from_lookup` reads, that each default it states is the real
//! one, and that `docs/origin.md` and `origin/.env.example` list every variable: the usage text
//! cannot drift from the code or the docs.

use std::fmt::Write as _;

use super::database::DEFAULT_SQLITE_URL;

/// One variable of the configuration.
pub(super) struct Variable {
    pub(super) name: &'static str,
    /// What holds when it is unset, as one would write it; `None` when unset means something no
    /// value says (`meaning` says what).
    pub(super) default: Option<&'static str>,
    meaning: &'static str,
}

const fn variable(
    name: &'static str,
    default: Option<&'static str>,
    meaning: &'static str,
) -> Variable {
    Variable {
        name,
        default,
        meaning,
    }
}

/// What `Config` reads, in the order of `docs/origin.md`'s table.
pub(super) const VARIABLES: &[Variable] = &[
    variable(
        "HOST",
        Some("127.0.0.1"),
        "where to listen: an IP address or a host name",
    ),
    variable(
        "PORT",
        Some("3000"),
        "the port to listen on; 0 picks a free one",
    ),
    variable(
        "DATABASE_URL",
        Some(DEFAULT_SQLITE_URL),
        "postgres://… (PostgreSQL) or sqlite:… (SQLite)",
    ),
    variable(
        "REDIS_URL",
        None,
        "redis://… for the shared Redis cache; unset: in-process cache only",
    ),
    variable(
        "REDIS_KEY_PREFIX",
        Some("pennon:"),
        "prefix of every Redis key",
    ),
    variable(
        "ADMIN_TOKEN",
        None,
        "the bootstrap admin token; unset: generated, printed once at start",
    ),
    variable(
        "EDGE_TOKEN",
        None,
        "a bootstrap server token for every environment (the edge worker's)",
    ),
    variable(
        "EDGE_PUSH_URL",
        None,
        "the edge worker's base URL (http(s)://host[:port]): each write's snapshot is pushed to it; unset: no push",
    ),
    variable(
        "EDGE_PUSH_TOKEN",
        None,
        "sent with the push as x-edge-token (the worker's EDGE_TOKEN); unset: EDGE_TOKEN",
    ),
    variable(
        "EDGE_PUSH_CA_FILE",
        None,
        "PEM file of CAs trusted for an https EDGE_PUSH_URL beside the system's roots",
    ),
    variable(
        "SNAPSHOT_SIGNING_KEY",
        None,
        "Ed25519 seed (64 hex digits or base64) that signs snapshots; unset: unsigned",
    ),
    variable(
        "SNAPSHOT_SIGNATURE_TTL_SECONDS",
        Some("86400"),
        "seconds a snapshot's signature stays installable after signing",
    ),
    variable(
        "REQUIRE_CLIENT_TOKEN",
        Some("off"),
        "on: POST /api/evaluate needs a token (client or higher) for its environment",
    ),
    variable(
        "RATE_LIMIT_EVALUATE",
        None,
        "e.g. 1000/s: evaluations per token (or client address); unset: no limit",
    ),
    variable(
        "RATE_LIMIT_ADMIN_WRITES",
        None,
        "e.g. 60/m: admin writes per token; unset: no limit",
    ),
    variable(
        "CACHE_TTL_SECONDS",
        Some("60"),
        "TTL of an environment's flag set in the shared cache",
    ),
    variable(
        "REVALIDATE_INTERVAL_MS",
        Some("1000"),
        "how often the flag sets held are compared with the store",
    ),
    variable(
        "SEED_DEMO",
        Some("off"),
        "1, true or yes: load the demo flags into an empty store (as --seed-demo)",
    ),
    variable(
        "HEADER_TIMEOUT_SECONDS",
        Some("10"),
        "seconds to send a request's line and header fields",
    ),
    variable(
        "BODY_TIMEOUT_SECONDS",
        Some("30"),
        "seconds from the end of the header fields to the end of the body",
    ),
    variable(
        "IDLE_TIMEOUT_SECONDS",
        Some("60"),
        "seconds a kept-alive connection may wait for its next request",
    ),
    variable(
        "MAX_CONNECTIONS",
        Some("1024"),
        "connections served at once",
    ),
    variable(
        "MAX_STREAMS",
        Some("10000"),
        "change streams (GET /api/stream) held at once; past it 503 (and never over 3/4 of MAX_CONNECTIONS)",
    ),
    variable(
        "STREAM_HEARTBEAT_SECONDS",
        Some("15"),
        "seconds between the heartbeat comments of an idle change stream",
    ),
    variable(
        "METRICS",
        Some("on"),
        "off: count nothing (GET /metrics answers 404; flag usage holds only the edge's reports)",
    ),
    variable(
        "CONTEXT_SAMPLE_SIZE",
        Some("0"),
        "recent evaluation contexts (personal data) held in memory per environment for the console's impact preview; 0: none",
    ),
    variable(
        "USAGE_FLUSH_SECONDS",
        Some("10"),
        "seconds between the batches that write flag usage to the store (1 to 3600)",
    ),
];

/// Read by the binary, not by `Config`: the log filter of `tracing`, and the switch and name of
/// the OTLP traces (`crate::traces`; the exporter reads the other `OTEL_*` variables itself).
pub(super) const BINARY: &[Variable] = &[
    variable(
        "RUST_LOG",
        Some("info"),
        "what is logged on stderr, e.g. origin=debug (every request)",
    ),
    variable(
        crate::traces::ENDPOINT,
        None,
        "e.g. http://127.0.0.1:4318: export traces over OTLP/HTTP there; unset: no traces",
    ),
    variable(
        crate::traces::SERVICE_NAME,
        Some(crate::traces::DEFAULT_SERVICE_NAME),
        "the service.name of the traces",
    ),
];

/// The configuration part of `origin --help`: one line per variable.
pub(super) fn usage() -> String {
    let rows = || VARIABLES.iter().chain(BINARY);
    let width = rows().map(|v| v.name.len()).max().unwrap_or(0);
    let mut text = String::from(
        "configuration: environment variables, or a .env file in the working directory or a \
         parent;\nempty values count as unset (docs/origin.md):\n",
    );
    for v in rows() {
        let _ = write!(text, "  {:width$}  {}", v.name, v.meaning);
        let _ = match v.default {
            Some(default) => writeln!(text, " [{default}]"),
            None => writeln!(text),
        };
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    fn names() -> BTreeSet<&'static str> {
        VARIABLES.iter().map(|v| v.name).collect()
    }

    /// `Config` with only `vars` set, as text: `Config` has no `PartialEq`, and its `Debug` shows
    /// every field (secrets as a placeholder, which no default has).
    fn shown(vars: &[(&str, &str)]) -> String {
        let config = Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        });
        format!("{config:?}")
    }

    #[test]
    fn the_table_is_what_the_configuration_reads() {
        let read = RefCell::new(BTreeSet::new());
        let config = Config::from_lookup(|name| {
            read.borrow_mut().insert(name.to_owned());
            None
        });
        assert!(config.is_ok());
        let read: BTreeSet<String> = read.into_inner();
        let listed: BTreeSet<String> = names().into_iter().map(str::to_owned).collect();
        assert_eq!(read, listed);
        assert_eq!(VARIABLES.len(), listed.len(), "a variable listed twice");
        let warned = RefCell::new(BTreeSet::new());
        Config::warnings(|name| {
            warned.borrow_mut().insert(name.to_owned());
            None
        });
        assert!(warned.into_inner().is_subset(&read));
    }

    #[test]
    fn the_defaults_it_states_are_the_real_ones() {
        let defaults = shown(&[]);
        for v in VARIABLES {
            if let Some(default) = v.default {
                assert_eq!(shown(&[(v.name, default)]), defaults, "{}", v.name);
            }
        }
        // And the test can fail: a value that is not the default shows.
        assert_ne!(shown(&[("PORT", "3001")]), defaults);
    }

    #[test]
    fn the_usage_lists_every_variable_with_its_default() {
        let usage = usage();
        for v in VARIABLES.iter().chain(BINARY) {
            let line = usage
                .lines()
                .find(|line| line.trim_start().starts_with(&format!("{} ", v.name)))
                .unwrap_or_else(|| panic!("{} missing from:\n{usage}", v.name));
            if let Some(default) = v.default {
                assert!(line.ends_with(&format!(" [{default}]")), "{line}");
            }
        }
    }

    #[test]
    fn the_docs_list_every_variable() {
        let docs = include_str!("../../../docs/origin.md");
        for v in VARIABLES.iter().chain(BINARY) {
            assert!(
                docs.contains(&format!("`{}`", v.name)),
                "docs/origin.md: {}",
                v.name
            );
        }
    }

    /// `origin/.env.example` names every variable, and copied to `.env` as it is, it is the
    /// default configuration.
    #[test]
    fn the_example_env_file_lists_every_variable_at_its_default() {
        let example: Vec<(&str, &str)> = include_str!("../../.env.example")
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| line.split_once('=').unwrap_or((line, "")))
            .collect();
        for v in VARIABLES.iter().chain(BINARY) {
            assert!(
                example.iter().any(|(name, _)| *name == v.name),
                "origin/.env.example: {}",
                v.name
            );
        }
        assert_eq!(shown(&example), shown(&[]));
    }
}
