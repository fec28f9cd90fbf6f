//! CORS: the headers of every answer on the endpoints both servers serve ([`crate::path`]),
//! errors and preflights included, so that a page on any origin can call either server and read
//! what it said (a 400's message too).
//!
//! Only those endpoints: the origin's admin and snapshot endpoints send none, so that a browser is
//! never invited to send the admin (or edge) token cross-site.

/// Name and value of each header, lower case, in this order.
pub const HEADERS: [(&str, &str); 5] = [
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "GET, POST, OPTIONS"),
    // `authorization`: a browser sends a client token as `Authorization: Bearer` when the server
    // requires one (`REQUIRE_CLIENT_TOKEN`). What OFREP's web provider sends besides: its API key
    // (`x-api-key`), the bulk answer's ETag back (`if-none-match`), and Pennon's environment header.
    (
        "access-control-allow-headers",
        "content-type, authorization, x-api-key, if-none-match, x-pennon-environment",
    ),
    // `etag`: the OFREP provider in a page reads the bulk answer's ETag to revalidate with it. The
    // other two let a page read which snapshot answered on the edge (`crate::header`; the origin
    // does not send them, but then a page written against either sees the same preflight answer).
    (
        "access-control-expose-headers",
        "etag, x-pennon-revision, x-pennon-snapshot",
    ),
    ("access-control-max-age", "86400"),
];

#[cfg(test)]
mod tests {
    use crate::header;

    #[test]
    fn pages_may_read_the_edges_snapshot_headers() {
        let exposed = super::HEADERS
            .iter()
            .find(|(name, _)| *name == "access-control-expose-headers")
            .map(|(_, value)| *value);
        let expected = format!("etag, {}, {}", header::REVISION, header::SNAPSHOT);
        assert_eq!(exposed, Some(expected.as_str()));
    }

    #[test]
    fn pages_may_send_what_the_ofrep_web_provider_sends() {
        let allowed = super::HEADERS
            .iter()
            .find(|(name, _)| *name == "access-control-allow-headers")
            .map(|(_, value)| *value)
            .unwrap_or_default();
        let allowed: Vec<&str> = allowed.split(", ").collect();
        for name in [
            "content-type",
            "authorization",
            header::API_KEY,
            "if-none-match",
            header::ENVIRONMENT,
        ] {
            assert!(allowed.contains(&name), "{name}");
        }
    }
}
