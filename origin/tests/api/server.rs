//! The HTTP server itself, on the wire (raw TCP where a client library would hide it): slow
//! clients are closed within the configured timeouts while others are served, a body that comes
//! too slowly or malformed gets `{"error"}`, the errors hyper makes by itself get a JSON body,
//! connections beyond `MAX_CONNECTIONS` wait for a free slot, request ids are random.
//! Transport behaviour is the same on every store: SQLite only, except where a body reaches a
//! handler that writes (all three).

use std::time::{Duration, Instant};

use origin::HttpLimits;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::backend_tests;
use crate::helpers::{spawn_app_with, Backend, Options, TestApp, ADMIN_TOKEN};

backend_tests!(
    a_body_sent_too_slowly_is_408_and_nothing_is_written,
    a_malformed_or_cut_short_body_is_400_and_nothing_is_written,
);

async fn spawn(backend: Backend, http: HttpLimits) -> TestApp {
    spawn_app_with(
        backend,
        Options {
            http,
            ..Options::default()
        },
    )
    .await
}

fn limits(header: u64, body: u64, idle: u64, max_connections: usize) -> HttpLimits {
    HttpLimits {
        header_timeout: Duration::from_secs(header),
        body_timeout: Duration::from_secs(body),
        idle_timeout: Duration::from_secs(idle),
        max_connections,
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.base.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connects")
}

/// Everything the server sends until it closes the connection, and when it did; panics if it is
/// still open after `limit`. A reset counts as closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Instant) {
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (out, Instant::now()),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "connection still open after {limit:?}; received {:?}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
}

/// One response read off a keep-alive connection (its body sized by `content-length`).
pub async fn read_response(stream: &mut TcpStream) -> Response {
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&out[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.parse().unwrap());
            if out.len() >= end + 4 + length {
                let rest = out.split_off(end + 4 + length);
                assert!(rest.is_empty(), "unexpected bytes after the response");
                return Response::parse(&out);
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("a response within 10 s")
            .expect("read");
        assert!(n > 0, "closed before a whole response: {out:?}");
        out.extend_from_slice(&buf[..n]);
    }
}

#[derive(Debug)]
pub struct Response {
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The first response in `bytes`; the rest is left out.
    fn parse(bytes: &[u8]) -> Self {
        Self::parse_all(bytes).remove(0)
    }

    fn parse_all(mut bytes: &[u8]) -> Vec<Self> {
        let mut all = Vec::new();
        while !bytes.is_empty() {
            let end = bytes
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .unwrap_or_else(|| {
                    panic!("no end of head in {:?}", String::from_utf8_lossy(bytes))
                });
            let head = std::str::from_utf8(&bytes[..end]).expect("head is text");
            let mut lines = head.split("\r\n");
            let status_line = lines.next().unwrap().to_owned();
            let headers: Vec<(String, String)> = lines
                .map(|l| {
                    let (k, v) = l.split_once(": ").expect("a header field");
                    (k.to_owned(), v.to_owned())
                })
                .collect();
            let length: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let body = &bytes[end + 4..end + 4 + length];
            all.push(Self {
                status_line,
                headers,
                body: String::from_utf8(body.to_vec()).expect("body is text"),
            });
            bytes = &bytes[end + 4 + length..];
        }
        all
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the status line and a JSON `{"error": message}` body, declared as such.
    fn assert_error(&self, status_line: &str, message: &str) {
        assert_eq!(self.status_line, status_line, "{self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{self:?}"
        );
        let body: Value = serde_json::from_str(&self.body).expect("a JSON body");
        assert_eq!(body, json!({ "error": message }), "{self:?}");
    }
}

fn assert_between(elapsed: Duration, low: Duration, high: Duration, what: &str) {
    assert!(
        elapsed >= low && elapsed <= high,
        "{what}: closed after {elapsed:?}, expected between {low:?} and {high:?}"
    );
}

/// Slack for a loaded machine: a timer fires on time, the task that acts on it may run late.
const LATE: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn slow_clients_are_closed_within_their_timeouts_while_others_are_served() {
    // The idle timeout is longer than the header timeout, so a connection closed at the header
    // timeout after its request would show that the two are not told apart.
    let header = Duration::from_secs(1);
    let idle = Duration::from_secs(3);
    let app = spawn(Backend::Sqlite, limits(1, 1, 3, 1024)).await;
    let timeout_answer = "request header fields not received within 1 s";

    // Half a request line, then nothing.
    let half_lines = (0..10).map(|_| async {
        let mut stream = connect(&app).await;
        let start = Instant::now();
        stream.write_all(b"GET /hea").await.unwrap();
        let (bytes, closed) = read_until_closed(&mut stream, header + LATE).await;
        assert_between(closed - start, header, header + LATE, "half a request line");
        Response::parse(&bytes).assert_error("HTTP/1.1 408 Request Timeout", timeout_answer);
    });
    // Header fields trickled a byte every 300 ms: the whole request would take 10 s.
    let trickles = (0..10).map(|_| async {
        let stream = connect(&app).await;
        let start = Instant::now();
        let (mut read, mut write) = stream.into_split();
        let writer = tokio::spawn(async move {
            for byte in b"GET /health HTTP/1.1\r\nhost: pennon\r\nx-slow: yes\r\n\r\n" {
                if write.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            panic!("the whole trickled request was taken");
        });
        let mut bytes = Vec::new();
        let closed = tokio::time::timeout(header + LATE, read.read_to_end(&mut bytes)).await;
        assert!(closed.is_ok(), "still open after {:?}", header + LATE);
        assert_between(
            start.elapsed(),
            header,
            header + LATE,
            "trickled header fields",
        );
        Response::parse(&bytes).assert_error("HTTP/1.1 408 Request Timeout", timeout_answer);
        writer.await.unwrap();
    });
    // One request, answered, then nothing: open past the header timeout, closed at the idle one.
    let idles = (0..10).map(|_| async {
        let mut stream = connect(&app).await;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nhost: pennon\r\n\r\n")
            .await
            .unwrap();
        let response = read_response(&mut stream).await;
        assert_eq!(response.status_line, "HTTP/1.1 200 OK");
        let answered = Instant::now();
        let (bytes, closed) = read_until_closed(&mut stream, idle + LATE).await;
        assert!(
            bytes.is_empty(),
            "an idle connection is closed without a word"
        );
        // Well past the header timeout: the idle wait is not counted as reading header fields.
        let early = Duration::from_millis(500);
        assert_between(closed - answered, idle - early, idle + LATE, "idle");
    });
    // A connection that never sends anything.
    let silent = (0..10).map(|_| async {
        let mut stream = connect(&app).await;
        let start = Instant::now();
        let (bytes, closed) = read_until_closed(&mut stream, header + LATE).await;
        assert!(bytes.is_empty());
        assert_between(closed - start, header, header + LATE, "silent");
    });
    // Meanwhile everyone else is answered promptly, on new and on kept-alive connections.
    let others = async {
        let fresh = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let start = Instant::now();
        let mut served = 0;
        while start.elapsed() < idle + Duration::from_millis(500) {
            for client in [&app.client, &fresh] {
                let asked = Instant::now();
                let reply = client
                    .get(format!("{}/health", app.base))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status().as_u16(), 200);
                assert!(asked.elapsed() < Duration::from_secs(3), "slow answer");
                served += 1;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(served > 20, "{served}");
    };
    tokio::join!(
        futures_util::future::join_all(half_lines),
        futures_util::future::join_all(trickles),
        futures_util::future::join_all(idles),
        futures_util::future::join_all(silent),
        others,
    );
}

#[tokio::test]
async fn a_body_that_pauses_less_than_the_timeout_is_taken() {
    let app = spawn(Backend::Sqlite, limits(5, 1, 5, 1024)).await;
    let body = br#"{"environment":"prod","user":{"id":"u"}}"#;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/evaluate HTTP/1.1\r\nhost: pennon\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    stream.write_all(&body[10..]).await.unwrap();
    let response = read_response(&mut stream).await;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK", "{response:?}");
    assert_eq!(response.body, r#"{"results":[]}"#);
    // The body timeout is per request: the next one on this connection has its own.
    stream.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    stream.write_all(body).await.unwrap();
    assert_eq!(
        read_response(&mut stream).await.status_line,
        "HTTP/1.1 200 OK"
    );
}

async fn a_body_sent_too_slowly_is_408_and_nothing_is_written(backend: Backend) {
    let body_timeout = Duration::from_secs(1);
    let app = spawn(backend, limits(5, 1, 5, 1024)).await;
    let flag = json!({"key": "slow", "environment": "prod", "enabled": true}).to_string();
    let evaluate = r#"{"environment":"prod","user":{"id":"u"}}"#.to_owned();
    let cases = [
        ("/api/admin/flags", flag.clone(), false),
        ("/api/evaluate", evaluate.clone(), false),
        ("/api/admin/flags", flag, true),
        ("/api/evaluate", evaluate, true),
    ];
    for (path, body, chunked) in cases {
        let mut stream = connect(&app).await;
        let framing = if chunked {
            "transfer-encoding: chunked".to_owned()
        } else {
            format!("content-length: {}", body.len())
        };
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: pennon\r\nx-admin-token: {ADMIN_TOKEN}\r\n\
             content-type: application/json\r\n{framing}\r\n\r\n"
        );
        let start = Instant::now();
        stream.write_all(head.as_bytes()).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let trickle = body.clone();
        let writer = tokio::spawn(async move {
            // A byte every 300 ms: the body would take many seconds.
            for byte in trickle.bytes() {
                let piece = if chunked {
                    let mut chunk = b"1\r\n".to_vec();
                    chunk.push(byte);
                    chunk.extend_from_slice(b"\r\n");
                    chunk
                } else {
                    vec![byte]
                };
                if write.write_all(&piece).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        });
        let mut bytes = Vec::new();
        tokio::time::timeout(body_timeout + LATE, read.read_to_end(&mut bytes))
            .await
            .unwrap_or_else(|_| panic!("{path}: still open after {:?}", body_timeout + LATE))
            .ok();
        assert_between(start.elapsed(), body_timeout, body_timeout + LATE, path);
        let response = Response::parse(&bytes);
        response.assert_error(
            "HTTP/1.1 408 Request Timeout",
            "body: not received within 1 s",
        );
        assert_eq!(response.header("connection"), Some("close"), "{path}");
        assert!(response.header("x-request-id").is_some(), "{path}");
        writer.abort();
    }
    let list = app.get("/api/admin/flags").admin().send().await;
    assert_eq!(list.json()["flags"], json!([]), "no flag was created");
}

async fn a_malformed_or_cut_short_body_is_400_and_nothing_is_written(backend: Backend) {
    let app = spawn(backend, HttpLimits::default()).await;
    for path in ["/api/admin/flags", "/api/evaluate"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: pennon\r\nx-admin-token: {ADMIN_TOKEN}\r\ncontent-type: application/json\r\n"
        );
        // A chunk size that is not hexadecimal, a chunk longer than its size, no CR LF after a chunk.
        for chunks in [
            "zz\r\n{}\r\n0\r\n\r\n",
            "2\r\n{\"key\":\"k\"}\r\n0\r\n\r\n",
            "2\r\n{}XX0\r\n\r\n",
        ] {
            let mut stream = connect(&app).await;
            let request = format!("{head}transfer-encoding: chunked\r\n\r\n{chunks}");
            stream.write_all(request.as_bytes()).await.unwrap();
            let (bytes, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
            let response = Response::parse(&bytes);
            response.assert_error(
                "HTTP/1.1 400 Bad Request",
                "body: malformed chunked encoding",
            );
            assert!(response.header("x-request-id").is_some());
        }
        // A content-length longer than what is sent before the client stops sending.
        let mut stream = connect(&app).await;
        let request = format!("{head}content-length: 100\r\n\r\n{{\"key\":");
        stream.write_all(request.as_bytes()).await.unwrap();
        stream.shutdown().await.unwrap();
        let (bytes, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
        Response::parse(&bytes).assert_error(
            "HTTP/1.1 400 Bad Request",
            "body: incomplete, the connection ended before the whole body was received",
        );
    }
    let list = app.get("/api/admin/flags").admin().send().await;
    assert_eq!(list.json()["flags"], json!([]), "no flag was created");
    // 413 keeps its message.
    let reply = app
        .post("/api/evaluate")
        .raw(vec![b' '; 1024 * 1024 + 1])
        .send()
        .await;
    assert_eq!(reply.error(413), "request body is larger than 1 MiB");
}

#[tokio::test]
async fn errors_of_the_http_layer_have_json_bodies() {
    let app = spawn(Backend::Sqlite, HttpLimits::default()).await;
    let too_long_uri = format!(
        "GET /{} HTTP/1.1\r\nhost: pennon\r\n\r\n",
        "a".repeat(65_535)
    );
    let many_fields = format!(
        "GET /health HTTP/1.1\r\nhost: pennon\r\n{}\r\n",
        (0..100)
            .map(|i| format!("x-f{i}: v\r\n"))
            .collect::<String>()
    );
    // Exactly the most hyper buffers for a head, with no end: all of it is read (nothing left
    // unread to make the close a reset), and the head is still incomplete.
    let prefix = "GET /health HTTP/1.1\r\nhost: pennon\r\nx-big: ";
    let huge_head = format!("{prefix}{}", "b".repeat(417_792 - prefix.len()));
    let cases = [
        (
            too_long_uri,
            "HTTP/1.1 414 URI Too Long",
            "request target too long: at most 65534 bytes",
        ),
        (
            many_fields,
            "HTTP/1.1 431 Request Header Fields Too Large",
            "request header fields too large: at most 100 fields and 417792 bytes with the request line",
        ),
        (
            huge_head,
            "HTTP/1.1 431 Request Header Fields Too Large",
            "request header fields too large: at most 100 fields and 417792 bytes with the request line",
        ),
        (
            "GET /health HTTP/1.1\r\nhost: pennon\r\nx-bad\u{1}byte: v\r\n\r\n".to_owned(),
            "HTTP/1.1 400 Bad Request",
            "malformed request: the request line or a header field is not valid HTTP/1.1",
        ),
        (
            "GET /health HTTP/1.1\r\nhost: pennon\r\nx-bad: v\u{7f}\r\n\r\n".to_owned(),
            "HTTP/1.1 400 Bad Request",
            "malformed request: the request line or a header field is not valid HTTP/1.1",
        ),
        (
            "NOT A REQUEST\r\n\r\n".to_owned(),
            "HTTP/1.1 400 Bad Request",
            "malformed request: the request line or a header field is not valid HTTP/1.1",
        ),
    ];
    for (request, status_line, message) in &cases {
        let mut stream = connect(&app).await;
        stream.write_all(request.as_bytes()).await.unwrap();
        let (bytes, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
        let responses = Response::parse_all(&bytes);
        assert_eq!(responses.len(), 1, "{responses:?}");
        responses[0].assert_error(status_line, message);
        assert_eq!(responses[0].header("connection"), Some("close"));
        assert!(responses[0].header("date").is_some());
    }
    // After answered requests on the same connection: kept alive, then pipelined with one.
    let bad = "GET /health HTTP/1.1\r\nhost: pennon\r\nx-bad\u{1}byte: v\r\n\r\n";
    let good = "GET /health HTTP/1.1\r\nhost: pennon\r\n\r\n";
    let preflight = "OPTIONS /health HTTP/1.1\r\nhost: pennon\r\norigin: https://a.example\r\n\r\n";
    let mut stream = connect(&app).await;
    stream.write_all(good.as_bytes()).await.unwrap();
    assert_eq!(
        read_response(&mut stream).await.status_line,
        "HTTP/1.1 200 OK"
    );
    stream
        .write_all(format!("{good}{preflight}{bad}").as_bytes())
        .await
        .unwrap();
    let (bytes, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    let responses = Response::parse_all(&bytes);
    assert_eq!(responses.len(), 3, "{responses:?}");
    assert_eq!(responses[0].status_line, "HTTP/1.1 200 OK");
    assert_eq!(responses[1].status_line, "HTTP/1.1 204 No Content");
    responses[2].assert_error(
        "HTTP/1.1 400 Bad Request",
        "malformed request: the request line or a header field is not valid HTTP/1.1",
    );
}

#[tokio::test]
async fn beyond_max_connections_new_connections_wait_for_a_free_slot() {
    let app = spawn(Backend::Sqlite, limits(10, 10, 30, 3)).await;
    let request = b"GET /health HTTP/1.1\r\nhost: pennon\r\n\r\n";
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut stream = connect(&app).await;
        stream.write_all(request).await.unwrap();
        assert_eq!(
            read_response(&mut stream).await.status_line,
            "HTTP/1.1 200 OK"
        );
        open.push(stream);
    }
    for round in 0..2 {
        // The kernel completes the handshake and takes the request; nobody reads it yet.
        let mut waiting = connect(&app).await;
        waiting.write_all(request).await.unwrap();
        let mut byte = [0u8; 1];
        let early = tokio::time::timeout(Duration::from_millis(800), waiting.read(&mut byte)).await;
        assert!(early.is_err(), "round {round}: answered beyond the cap");
        // The open connections are still served meanwhile.
        for stream in &mut open {
            stream.write_all(request).await.unwrap();
            assert_eq!(read_response(stream).await.status_line, "HTTP/1.1 200 OK");
        }
        // A connection closes: its slot goes to the one waiting.
        drop(open.remove(0));
        let answered = tokio::time::timeout(Duration::from_secs(5), read_response(&mut waiting))
            .await
            .unwrap_or_else(|_| panic!("round {round}: not answered after a slot was freed"));
        assert_eq!(answered.status_line, "HTTP/1.1 200 OK");
        open.push(waiting);
    }
}

#[tokio::test]
async fn request_ids_are_random_and_a_given_one_is_kept() {
    let app = spawn(Backend::Sqlite, HttpLimits::default()).await;
    let mut ids = std::collections::HashSet::new();
    for _ in 0..50 {
        let reply = app.get("/health").send().await;
        let id = reply.header("x-request-id").expect("an id").to_owned();
        let uuid = uuid::Uuid::parse_str(&id).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(uuid.get_version_num(), 4, "{id}");
        assert_eq!(id, uuid.hyphenated().to_string(), "lowercase, hyphenated");
        assert!(ids.insert(id));
    }
    let given = app
        .get("/health")
        .header("x-request-id", "trace-me-42")
        .send()
        .await;
    assert_eq!(given.header("x-request-id"), Some("trace-me-42"));
}
