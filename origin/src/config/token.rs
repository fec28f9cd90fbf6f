//! `ADMIN_TOKEN`, `EDGE_TOKEN`, `EDGE_PUSH_TOKEN`: the tokens sent in or compared with a request
//! header, and what the start warns about them.

use super::{ConfigError, Secret};

/// The variables that hold a token compared with a request header.
const TOKEN_VARIABLES: [&str; 3] = ["ADMIN_TOKEN", "EDGE_TOKEN", "EDGE_PUSH_TOKEN"];

/// A token as configured, ready to compare with the header a client sends.
struct Token {
    secret: Secret,
    /// The value had whitespace around it, which was removed.
    trimmed: bool,
}

/// The token in `variable`; `None` when unset or blank (as every variable).
///
/// HTTP strips the whitespace around a header value (and a value with a control character or a
/// non-ASCII byte is refused, or sent differently by curl, browsers and `fetch`), so a token with
/// either could never match what a client sends: whitespace around it, typically a newline left by
/// `echo` or a file, is removed (the start warns, see [`warnings`]); any other character outside
/// printable ASCII stops the start, naming the variable, never the value.
pub(super) fn read(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    Ok(token(lookup, variable)?.map(|t| t.secret))
}

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

/// A line per token that had whitespace removed: it names the variable, never the value.
pub(super) fn warnings(lookup: &impl Fn(&str) -> Option<String>) -> Vec<String> {
    TOKEN_VARIABLES
        .into_iter()
        .filter(|variable| matches!(token(lookup, variable), Ok(Some(t)) if t.trimmed))
        .map(|variable| {
            format!(
                "{variable}: leading or trailing whitespace removed; an HTTP header cannot \
                 carry it, so clients send the token without it"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        move |name| map.get(name).map(|v| (*v).to_owned())
    }

    fn exposed(vars: &[(&str, &str)], variable: &'static str) -> Option<String> {
        read(&lookup(vars), variable)
            .unwrap()
            .map(|secret| secret.expose().to_owned())
    }

    #[test]
    fn whitespace_around_a_token_is_removed_with_a_warning_naming_the_variable() {
        let vars = [("ADMIN_TOKEN", "adm "), ("EDGE_TOKEN", "\tedge-s3cret\r\n")];
        assert_eq!(exposed(&vars, "ADMIN_TOKEN").as_deref(), Some("adm"));
        assert_eq!(exposed(&vars, "EDGE_TOKEN").as_deref(), Some("edge-s3cret"));
        let warnings = warnings(&lookup(&vars));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("ADMIN_TOKEN: leading or trailing whitespace removed"));
        assert!(warnings[1].starts_with("EDGE_TOKEN: "));
        assert!(warnings
            .iter()
            .all(|w| !w.contains("adm ") && !w.contains("s3cret")));
        // Inner spaces can be sent in a header: kept, and nothing to warn about.
        let vars = [("ADMIN_TOKEN", "two words")];
        assert_eq!(exposed(&vars, "ADMIN_TOKEN").as_deref(), Some("two words"));
        assert!(super::warnings(&lookup(&vars)).is_empty());
        assert!(super::warnings(&lookup(&[])).is_empty());
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
            for variable in TOKEN_VARIABLES {
                let Err(err) = read(&lookup(&[(variable, bad)]), variable) else {
                    panic!("{variable}={bad:?} accepted");
                };
                assert_eq!(err.variable, variable, "{bad:?}");
                let shown = err.to_string();
                assert!(shown.starts_with(&format!("{variable}: contains a control")));
                assert!(!shown.contains(bad), "{shown}");
            }
        }
        // Blank is unset, as for every variable: a token is generated (admin) or none (edge).
        assert_eq!(exposed(&[("ADMIN_TOKEN", " \n")], "ADMIN_TOKEN"), None);
    }
}
