//! Conditional requests: whether an `If-None-Match` header holds the current ETag (the origin's
//! snapshot and both servers' OFREP bulk answers), one rule for both servers.

/// True when `if_none_match` (one header's value, or several joined by `", "` as `fetch` joins
/// them) lists `etag`, weak (`W/"…"`) or strong, or is `*`. The comparison is weak, as RFC 9110
/// has it for `If-None-Match`.
pub fn none_match_holds(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_forms() {
        assert!(none_match_holds("\"3\"", "\"3\""));
        assert!(none_match_holds("W/\"3\"", "\"3\""));
        assert!(none_match_holds("\"1\", \"3\"", "\"3\""));
        assert!(none_match_holds("\"1\",\"3\"", "\"3\""));
        assert!(none_match_holds("*", "\"3\""));
        assert!(!none_match_holds("\"2\"", "\"3\""));
        assert!(!none_match_holds("3", "\"3\""));
        assert!(!none_match_holds("", "\"3\""));
    }
}
