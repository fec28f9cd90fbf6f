//! The texts of the errors both servers can answer, each as `{"error": text}`. The 400s carry the
//! evaluator's own messages and the 415 is [`crate::content_type::NOT_JSON`]; the rest are here.

/// 404: no endpoint at this path.
pub const NO_SUCH_ENDPOINT: &str = "no such endpoint";

/// 405: the path exists, not with this method (the same on every route of the origin).
pub const METHOD_NOT_ALLOWED: &str = "method not allowed for this endpoint";

/// 413: the body is over [`crate::MAX_BODY_BYTES`].
pub const BODY_TOO_LARGE: &str = "request body is larger than 1 MiB";

/// 500: anything unexpected. The text never carries the cause, which goes to the server's log.
pub const INTERNAL: &str = "internal error";

#[cfg(test)]
mod tests {
    #[test]
    fn the_413_names_the_limit() {
        assert_eq!(crate::MAX_BODY_BYTES, 1 << 20);
        assert!(super::BODY_TOO_LARGE.ends_with(" 1 MiB"));
    }
}
