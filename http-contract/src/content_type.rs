//! Whether a request declares its body as JSON: the one rule of every server that reads a body (the
//! origin on every write, the edge worker on evaluate), so that both answer the same request alike.

/// The message of the 415 answered to a body not declared as JSON.
pub const NOT_JSON: &str = "content-type: must be application/json";

/// True when `value`, a `Content-Type` header's value, declares JSON: `application/json` in any
/// case, with or without parameters (`application/json; charset=utf-8`), which are not read (JSON is
/// UTF-8). Anything else is not JSON here, `application/*+json` included: those name other formats
/// (JSON:API, JSON Merge Patch, …) whose rules the API does not follow. Several `Content-Type`
/// headers must be passed joined by `", "`, as `fetch` joins them; the result is then not JSON.
pub fn declares_json(value: &[u8]) -> bool {
    const JSON: &[u8] = b"application/json";
    let essence = value
        .iter()
        .position(|b| *b == b';')
        .map_or(value, |end| &value[..end]);
    trim_whitespace(essence).eq_ignore_ascii_case(JSON)
}

/// Without the spaces and tabs HTTP allows around a header value and before its parameters.
fn trim_whitespace(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("application/json")]
    #[test_case("APPLICATION/JSON")]
    #[test_case("Application/Json")]
    #[test_case("application/json; charset=utf-8")]
    #[test_case("application/json;charset=UTF-8")]
    #[test_case(" application/json ; charset=\"utf-8\"")]
    #[test_case("application/json\t;")]
    #[test_case("application/json; charset=latin1")]
    fn json_is_declared(value: &str) {
        assert!(declares_json(value.as_bytes()), "{value:?}");
    }

    #[test_case(""; "missing or empty")]
    #[test_case("text/plain")]
    #[test_case("text/plain;charset=UTF-8")]
    #[test_case("application/x-www-form-urlencoded")]
    #[test_case("multipart/form-data; boundary=x")]
    #[test_case("application/vnd.api+json")]
    #[test_case("application/merge-patch+json")]
    #[test_case("application/jsonx")]
    #[test_case("application/json5")]
    #[test_case("application /json")]
    #[test_case("text/json")]
    #[test_case("json")]
    #[test_case("application/json, text/plain"; "two headers joined")]
    #[test_case("application/json, application/json"; "the same header twice")]
    fn anything_else_is_not(value: &str) {
        assert!(!declares_json(value.as_bytes()), "{value:?}");
    }

    #[test]
    fn bytes_outside_ascii_are_not_json() {
        assert!(!declares_json(b"application/js\xc3\xb6n"));
        assert!(declares_json(b"application/json; x=\xff"));
    }
}
