//! The responses hyper writes by itself when it cannot parse a request head, and what the origin
//! sends instead: the same status with a `{"error"}` body, like every other error.
//!
//! hyper writes such a response as a status line among 400, 414 and 431 and at most the header
//! fields `connection: close`, `content-length: 0` and `date`, as the last bytes of the
//! connection, either alone in the buffer written or after an earlier bodiless head (the server
//! has hyper write vectored, so a response body is a buffer of its own and is written before any
//! later head). No response of the service can look like that: each one carries `x-request-id`
//! and, unless it is bodiless, ends with its JSON body; and a status line must start a line,
//! which no header field (its name has no `/`) nor JSON body (no raw line break) can.

use std::time::Duration;

use axum::http::StatusCode;

/// Header fields (the request line included) are read into a buffer of at most this many bytes
/// (hyper's default `max_buf_size`, set explicitly by the server); a head not complete by then is 431.
pub const MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;
/// More header fields than this is 431 (hyper's default; setting it would move hyper's parser off
/// its inline array).
const MAX_HEADER_FIELDS: usize = 100;
/// A longer request target is 414; fixed inside hyper.
const MAX_URI_BYTES: usize = u16::MAX as usize - 1;

/// The message for each status hyper answers by itself.
pub fn message(status: StatusCode) -> Option<String> {
    match status {
        StatusCode::BAD_REQUEST => Some(
            "malformed request: the request line or a header field is not valid HTTP/1.1".into(),
        ),
        StatusCode::URI_TOO_LONG => Some(format!(
            "request target too long: at most {MAX_URI_BYTES} bytes"
        )),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Some(format!(
            "request header fields too large: at most {MAX_HEADER_FIELDS} fields and \
             {MAX_HEAD_BYTES} bytes with the request line"
        )),
        _ => None,
    }
}

/// One of hyper's error responses found at the end of a buffer about to be written.
#[derive(Debug, PartialEq, Eq)]
pub struct Found {
    /// Where it starts in the buffer.
    pub start: usize,
    /// What to write instead.
    pub replacement: Vec<u8>,
}

/// hyper's error response that `buf` ends with, if it ends with one.
pub fn find(buf: &[u8]) -> Option<Found> {
    // Every response with a body ends with it (JSON: `}`); only a bodiless one ends like this.
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    // hyper's error responses are short; look for their status line near the end only.
    let from = buf.len().saturating_sub(256);
    let start = (from..buf.len())
        .rev()
        .find(|&i| buf[i..].starts_with(b"HTTP/1.") && (i == 0 || buf[i - 1] == b'\n'))?;
    let replacement = replace(&buf[start..])?;
    Some(Found { start, replacement })
}

/// The replacement of `head` if it is one of hyper's error responses, whole.
fn replace(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let text = text.strip_suffix("\r\n\r\n")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    let (version, rest) = status_line.split_once(' ')?;
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return None;
    }
    let (code, reason) = rest.split_once(' ')?;
    let status = StatusCode::from_bytes(code.as_bytes()).ok()?;
    if status.canonical_reason() != Some(reason) {
        return None;
    }
    let message = message(status)?;
    let mut date = None;
    let (mut connection, mut length) = (false, false);
    for line in lines {
        match line {
            "connection: close" if !connection => connection = true,
            "content-length: 0" if !length => length = true,
            _ => match line.strip_prefix("date: ") {
                Some(value) if date.is_none() => date = Some(value),
                _ => return None,
            },
        }
    }
    Some(response(version, status, &message, date))
}

/// A complete `connection: close` response with a `{"error"}` body.
fn response(version: &str, status: StatusCode, message: &str, date: Option<&str>) -> Vec<u8> {
    let body = serde_json::json!({ "error": message }).to_string();
    let mut out = format!(
        "{version} {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    );
    if let Some(date) = date {
        out.push_str("date: ");
        out.push_str(date);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out.into_bytes()
}

/// The 408 sent when a client that started a request did not finish its header fields in time.
pub fn request_timeout(timeout: Duration) -> Vec<u8> {
    let message = format!(
        "request header fields not received within {} s",
        timeout.as_secs()
    );
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    response(
        "HTTP/1.1",
        StatusCode::REQUEST_TIMEOUT,
        &message,
        Some(&date),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "date: Tue, 01 Dec 2026 10:00:00 GMT";

    fn hyper_431() -> String {
        format!(
            "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n{DATE}\r\n\r\n"
        )
    }

    fn body_of(bytes: &[u8]) -> serde_json::Value {
        let text = std::str::from_utf8(bytes).unwrap();
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn hyper_error_responses_get_a_json_body() {
        let found = find(hyper_431().as_bytes()).unwrap();
        assert_eq!(found.start, 0);
        let text = String::from_utf8(found.replacement.clone()).unwrap();
        assert!(
            text.starts_with(
                "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            ),
            "{text}"
        );
        assert!(text.contains(&format!("\r\n{DATE}\r\n\r\n")), "{text}");
        assert!(text.contains("\r\nconnection: close\r\n"), "{text}");
        let body = body_of(&found.replacement);
        assert_eq!(
            body["error"],
            "request header fields too large: at most 100 fields and 417792 bytes with the request line"
        );
        let length: usize = text
            .split("\r\n")
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, serde_json::to_string(&body).unwrap().len());

        for (status, reason) in [(400, "Bad Request"), (414, "URI Too Long")] {
            let head = format!("HTTP/1.0 {status} {reason}\r\ncontent-length: 0\r\n{DATE}\r\n\r\n");
            let found = find(head.as_bytes()).unwrap();
            assert!(found
                .replacement
                .starts_with(format!("HTTP/1.0 {status} {reason}\r\n").as_bytes()));
            assert!(body_of(&found.replacement)["error"].is_string());
        }
    }

    #[test]
    fn found_after_an_earlier_bodiless_response() {
        // hyper (writing vectored, as the server has it) queues a response body in a buffer of its
        // own and writes a new head only once the earlier body is out, so what can precede its
        // error response in one buffer is only an earlier head.
        let bodiless = "HTTP/1.1 204 No Content\r\nx-request-id: x\r\n\r\n";
        let buf = format!("{bodiless}{}", hyper_431());
        assert_eq!(find(buf.as_bytes()).unwrap().start, bodiless.len());
    }

    #[test]
    fn responses_of_the_service_are_left_alone() {
        for response in [
            "HTTP/1.1 204 No Content\r\nx-request-id: 1\r\ndate: x\r\n\r\n".to_owned(),
            // A status hyper answers with, but with a field hyper does not write.
            format!("HTTP/1.1 400 Bad Request\r\nx-request-id: 1\r\ncontent-length: 0\r\n{DATE}\r\n\r\n"),
            format!("HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n{DATE}\r\n\r\n{{}}"),
            // A status hyper never answers with by itself.
            format!("HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n{DATE}\r\n\r\n"),
            format!("HTTP/1.1 400 Not Quite\r\ncontent-length: 0\r\n{DATE}\r\n\r\n"),
            // A repeated field.
            format!("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ncontent-length: 0\r\n{DATE}\r\n\r\n"),
            // Not at the start of a line: the end of a header value (a client's own x-request-id).
            format!("HTTP/1.1 204 No Content\r\nx-request-id: HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n{DATE}\r\n\r\n"),
        ] {
            assert_eq!(find(response.as_bytes()), None, "{response}");
        }
    }

    #[test]
    fn the_request_timeout_answer() {
        let bytes = request_timeout(Duration::from_secs(10));
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\ndate: "), "{text}");
        assert_eq!(
            body_of(&bytes)["error"],
            "request header fields not received within 10 s"
        );
    }
}
