//! The query strings of the reads (flag list, audit, snapshot), read in one place: a parameter the
//! route does not know is 400 naming it (a misspelt filter must not silently widen a read), and so is
//! one given twice. The messages are serde's (what these routes answered before), except that a
//! client's parameter name is repeated cut to its first characters (`evaluator::echo`), so an 8 KB
//! name does not come back whole. Values are checked by each route, whose messages cut them too
//! (the evaluator's `Environment::parse`) or do not repeat them.

use axum::extract::Query;
use axum::http::Uri;
use evaluator::{echo, ValidationError};

use crate::http::error::ApiError;

#[derive(Debug)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// The parameters of `uri`, each one of `known` and given at most once. Percent-decoded; an
    /// invalid UTF-8 sequence becomes U+FFFD.
    pub fn read(uri: &Uri, known: &[&str]) -> Result<Self, ApiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|_| ApiError::BadRequest("query: not a query string".into()))?;
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !known.contains(&name.as_str()) {
                let name = echo(name);
                return Err(ApiError::BadRequest(format!(
                    "{name}: unknown field `{name}`, {}",
                    expected(known)
                )));
            }
            if pairs[..i].iter().any(|(seen, _)| seen == name) {
                return Err(ApiError::BadRequest(format!("duplicate field `{name}`")));
            }
        }
        Ok(Self(pairs))
    }

    /// The value of `name`: `None` when absent or empty (an empty value means no filter).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(given, _)| given == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// The value of `name` read by `parse` (an environment, a key): `None` when absent or empty; a
    /// value `parse` refuses is 400 `name: <its message>`.
    pub fn parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, ValidationError>,
    ) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(parse)
            .transpose()
            .map_err(|e| ApiError::BadRequest(format!("{name}: {}", e.message())))
    }
}

/// serde's list of the expected names: `` expected `a` ``, `` expected `a` or `b` ``,
/// `` expected one of `a`, `b`, `c` ``.
fn expected(known: &[&str]) -> String {
    let quoted: Vec<String> = known.iter().map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [] => "there are no fields".to_owned(),
        [one] => format!("expected {one}"),
        [a, b] => format!("expected {a} or {b}"),
        many => format!("expected one of {}", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(query: &str, known: &[&str]) -> Result<QueryParams, String> {
        let uri: Uri = format!("/p?{query}").parse().expect("a uri");
        QueryParams::read(&uri, known).map_err(|e| e.to_string())
    }

    #[test]
    fn known_parameters_are_read_and_empty_means_absent() {
        let params = read(
            "environment=prod&key=&limit=5",
            &["environment", "key", "limit"],
        )
        .expect("valid");
        assert_eq!(params.get("environment"), Some("prod"));
        assert_eq!(params.get("key"), None);
        assert_eq!(params.get("before"), None);
        assert!(read("", &["environment"]).is_ok());
        let decoded = read("key=a%2Bb+c", &["key"]).expect("valid");
        assert_eq!(decoded.get("key"), Some("a+b c"));
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused_with_serdes_words() {
        assert_eq!(
            read("enviroment=x", &["environment", "key"]).unwrap_err(),
            "enviroment: unknown field `enviroment`, expected `environment` or `key`"
        );
        assert_eq!(
            read("limit=1&entity=1", &["entityId", "limit", "before"]).unwrap_err(),
            "entity: unknown field `entity`, expected one of `entityId`, `limit`, `before`"
        );
        assert_eq!(
            read("x", &["environment"]).unwrap_err(),
            "x: unknown field `x`, expected `environment`"
        );
        assert_eq!(
            read("environment=dev&environment=prod", &["environment"]).unwrap_err(),
            "duplicate field `environment`"
        );
    }

    #[test]
    fn a_long_unknown_name_is_cut() {
        let name = "n".repeat(8 * 1024);
        let message = read(&format!("{name}=1"), &["environment"]).unwrap_err();
        let cut = format!("{}…", "n".repeat(evaluator::ECHO_CHARS));
        assert_eq!(
            message,
            format!("{cut}: unknown field `{cut}`, expected `environment`")
        );
    }
}
