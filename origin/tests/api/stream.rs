//! `GET /api/stream`: the change stream. Events on connect and after flag and segment writes (on
//! each backend: the feed is the read path's, which differs by backend), `Last-Event-ID`,
//! heartbeats through the server's timeouts, access by header token and by ticket (forged,
//! expired, revoked, another environment), the cap, the OFREP bulk answer's advert, the shutdown,
//! and a write on one origin process reaching a stream on another (timed over 50 writes).

use std::time::{Duration, Instant};

use evaluator::Environment;
use origin::access::{ticket, SecretHash, TokenId};
use origin::{App, HttpLimits, StreamLimits};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::cluster::{percentile, Origin, Prefix, NO_REVALIDATION};
use crate::helpers::{
    redis_url, spawn_app, spawn_app_with, Backend, Database, Options, TestApp, ADMIN_TOKEN,
};

const BULK: &str = "/ofrep/v1/evaluate/flags";

/// An open stream, read frame by frame (a frame ends with a blank line).
struct Sse {
    response: reqwest::Response,
    buffer: String,
}

/// A frame of the stream.
#[derive(Debug, Clone, PartialEq)]
enum Frame {
    Retry(u64),
    Heartbeat,
    Event { id: u64, data: Value },
}

/// What a stream that did not open answered.
#[derive(Debug)]
struct Refusal {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

impl Refusal {
    fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.body.as_object().map(|o| o.len()),
            Some(1),
            "{}",
            self.body
        );
        self.body["error"].as_str().expect("error").to_owned()
    }
}

async fn connect(base: &str, path: &str, headers: &[(&str, &str)]) -> Result<Sse, Refusal> {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the origin answers");
    if response.status() != StatusCode::OK {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        return Err(Refusal {
            status,
            retry_after,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        });
    }
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("text/event-stream"));
    assert_eq!(header("cache-control").as_deref(), Some("no-cache"));
    assert_eq!(header("access-control-allow-origin").as_deref(), Some("*"));
    Ok(Sse {
        response,
        buffer: String::new(),
    })
}

async fn open(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Sse {
    match connect(&app.base, path, headers).await {
        Ok(sse) => sse,
        Err(refusal) => panic!("{path}: {refusal:?}"),
    }
}

async fn refused(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Refusal {
    match connect(&app.base, path, headers).await {
        Ok(_) => panic!("{path} opened"),
        Err(refusal) => refusal,
    }
}

impl Sse {
    /// The next frame within `limit`; `None` when the stream ended.
    async fn frame(&mut self, limit: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let text: String = self.buffer.drain(..end + 2).collect();
                return Some(parse_frame(text.trim_end()));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no frame within {limit:?}; have {:?}", self.buffer))
                .expect("the stream reads");
            match chunk {
                Some(bytes) => self
                    .buffer
                    .push_str(std::str::from_utf8(&bytes).expect("UTF-8")),
                None => {
                    assert!(self.buffer.is_empty(), "a partial frame: {:?}", self.buffer);
                    return None;
                }
            }
        }
    }

    /// The next event, skipping heartbeats, within `limit`.
    async fn event(&mut self, limit: Duration) -> (u64, Value) {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.frame(left).await {
                Some(Frame::Event { id, data }) => return (id, data),
                Some(Frame::Heartbeat) => {}
                other => panic!("expected an event, got {other:?}"),
            }
        }
    }

    /// The `retry:` frame every stream starts with; returns its value.
    async fn retry(&mut self) -> u64 {
        match self.frame(Duration::from_secs(5)).await {
            Some(Frame::Retry(ms)) => {
                assert!((1000..3000).contains(&ms), "{ms}");
                ms
            }
            other => panic!("expected retry first, got {other:?}"),
        }
    }

    /// Waits for the stream to end, within `limit`, skipping what comes before.
    async fn ended(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self
            .frame(deadline.saturating_duration_since(Instant::now()))
            .await
            .is_some()
        {}
    }
}

fn parse_frame(text: &str) -> Frame {
    if text == ": heartbeat" {
        return Frame::Heartbeat;
    }
    if let Some(ms) = text.strip_prefix("retry: ") {
        return Frame::Retry(ms.parse().expect("retry is a number"));
    }
    let mut lines = text.lines();
    let id = lines
        .next()
        .and_then(|l| l.strip_prefix("id: "))
        .unwrap_or_else(|| panic!("not an event: {text:?}"));
    let data = lines
        .next()
        .and_then(|l| l.strip_prefix("data: "))
        .unwrap_or_else(|| panic!("no data: {text:?}"));
    assert!(lines.next().is_none(), "{text:?}");
    let data: Value = serde_json::from_str(data).expect("data is JSON");
    let id = id.parse().expect("the id is a revision");
    assert_eq!(data["revision"], json!(id), "{text}");
    assert_eq!(data["type"], "refetchEvaluation");
    Frame::Event { id, data }
}

/// The environment's revision as the snapshot says.
async fn revision(app: &TestApp, environment: &str) -> u64 {
    app.snapshot(environment).await["revision"]
        .as_u64()
        .expect("revision")
}

const SECOND: Duration = Duration::from_secs(1);

async fn events_on_connect_and_after_writes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_flag(json!({"key": "a", "environment": "prod"}))
        .await;
    let start = revision(&app, "prod").await;
    let mut sse = open(&app, "/api/stream?environment=prod", &[]).await;
    sse.retry().await;
    let (id, data) = sse.event(SECOND).await;
    assert_eq!(id, start);
    assert_eq!(
        data,
        json!({"type": "refetchEvaluation", "environment": "prod", "revision": start})
    );
    // A flag write, a segment write, in prod: an event each, with the revision the write made.
    let flag = app
        .create_flag(json!({"key": "b", "environment": "prod"}))
        .await;
    assert_eq!(sse.event(SECOND).await.0, revision(&app, "prod").await);
    app.update_flag(flag["id"].as_str().unwrap(), json!({"enabled": true}))
        .await;
    assert_eq!(sse.event(SECOND).await.0, revision(&app, "prod").await);
    let segment = app
        .create_segment(json!({"key": "beta", "environment": "prod"}))
        .await;
    assert_eq!(sse.event(SECOND).await.0, revision(&app, "prod").await);
    let reply = app
        .put(&format!(
            "/api/admin/segments/{}",
            segment["id"].as_str().unwrap()
        ))
        .admin()
        .json(&json!({"include": ["u"]}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(sse.event(SECOND).await.0, revision(&app, "prod").await);
    // A write to another environment says nothing here: the next event is prod's next write.
    app.create_flag(json!({"key": "d", "environment": "dev"}))
        .await;
    let reply = app
        .delete(&format!(
            "/api/admin/flags/{}",
            flag["id"].as_str().unwrap()
        ))
        .admin()
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 204, "{}", reply.text);
    let (id, data) = sse.event(SECOND).await;
    assert_eq!(id, revision(&app, "prod").await);
    assert_eq!(data["environment"], "prod");
    // A kill switch writes every environment where the key is on: prod's stream hears of it.
    app.create_flag(json!({"key": "d", "environment": "prod", "enabled": true}))
        .await;
    assert_eq!(sse.event(SECOND).await.0, revision(&app, "prod").await);
    let reply = app
        .post("/api/admin/kill-switch")
        .admin()
        .json(&json!({"key": "d"}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(sse.event(SECOND).await.0, revision(&app, "prod").await);
}

async fn last_event_id_resumes(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options {
            stream: StreamLimits {
                heartbeat: SECOND,
                ..StreamLimits::default()
            },
            ..Options::default()
        },
    )
    .await;
    app.create_flag(json!({"key": "a", "environment": "staging"}))
        .await;
    let current = revision(&app, "staging").await;
    // Seen the current revision: nothing on connect, the next thing is a heartbeat, then the
    // next write.
    let seen = current.to_string();
    let mut sse = open(
        &app,
        "/api/stream?environment=staging",
        &[("last-event-id", &seen)],
    )
    .await;
    sse.retry().await;
    assert_eq!(sse.frame(3 * SECOND).await, Some(Frame::Heartbeat));
    app.create_flag(json!({"key": "b", "environment": "staging"}))
        .await;
    assert_eq!(sse.event(SECOND).await.0, current + 1);
    // Seen an older one (or something that is no revision): told the current one at once.
    for seen in [current.to_string(), "junk".to_owned()] {
        let mut sse = open(
            &app,
            "/api/stream?environment=staging",
            &[("last-event-id", &seen)],
        )
        .await;
        sse.retry().await;
        assert_eq!(sse.event(SECOND).await.0, current + 1, "{seen}");
    }
}

backend_tests!(events_on_connect_and_after_writes, last_event_id_resumes);

/// Heartbeats keep an idle stream open past every timeout of the server (header, body and idle
/// all at 1 s), and the stream still carries the next write.
#[tokio::test]
async fn heartbeats_keep_an_idle_stream_open_through_the_timeouts() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            http: HttpLimits {
                header_timeout: SECOND,
                body_timeout: SECOND,
                idle_timeout: SECOND,
                ..HttpLimits::default()
            },
            stream: StreamLimits {
                heartbeat: SECOND,
                ..StreamLimits::default()
            },
            ..Options::default()
        },
    )
    .await;
    let mut sse = open(&app, "/api/stream?environment=dev", &[]).await;
    sse.retry().await;
    assert_eq!(sse.event(SECOND).await.0, 0);
    let started = Instant::now();
    let mut beats = 0;
    while started.elapsed() < Duration::from_millis(3500) {
        assert_eq!(sse.frame(2 * SECOND).await, Some(Frame::Heartbeat));
        beats += 1;
    }
    assert!((3..=5).contains(&beats), "{beats} heartbeats in 3.5 s");
    app.create_flag(json!({"key": "a", "environment": "dev"}))
        .await;
    assert_eq!(sse.event(SECOND).await.0, 1);
}

#[tokio::test]
async fn a_bad_request_is_400() {
    let app = spawn_app(Backend::Sqlite).await;
    for (path, message) in [
        ("/api/stream", "environment: missing"),
        ("/api/stream?environment=", "environment: missing"),
        (
            "/api/stream?environment=qa",
            "environment: must be one of \"dev\", \"staging\", \"prod\", not \"qa\"",
        ),
        (
            "/api/stream?environment=prod&env=dev",
            "env: unknown field `env`, expected `environment` or `ticket`",
        ),
        (
            "/api/stream?environment=prod&environment=dev",
            "duplicate field `environment`",
        ),
    ] {
        assert_eq!(refused(&app, path, &[]).await.error(400), message, "{path}");
    }
}

async fn create_token(app: &TestApp, role: &str, environments: &[&str]) -> (String, String) {
    let reply = app
        .post("/api/admin/tokens")
        .admin()
        .json(&json!({"name": role, "role": role, "environments": environments}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let body = reply.json();
    (
        body["token"]["id"].as_str().expect("id").to_owned(),
        body["secret"].as_str().expect("secret").to_owned(),
    )
}

/// The advert of the OFREP bulk answer for `headers`: its `requestUri` and the answer's ETag.
async fn advert(app: &TestApp, headers: &[(&str, &str)]) -> (String, String) {
    let mut call = app.post(BULK);
    for (name, value) in headers {
        call = call.header(name, value);
    }
    let reply = call
        .json(&json!({"context": {"targetingKey": "u"}}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let body = reply.json();
    let streams = body["eventStreams"].as_array().expect("eventStreams");
    assert_eq!(streams.len(), 1, "{body}");
    let stream = streams[0].as_object().expect("an object");
    assert_eq!(stream["type"], "sse");
    // An endpoint relative to the origin the provider is configured with; no `url`, no `origin`.
    assert_eq!(stream.len(), 2, "{body}");
    let endpoint = stream["endpoint"].as_object().expect("endpoint");
    assert_eq!(endpoint.len(), 1, "{body}");
    (
        endpoint["requestUri"]
            .as_str()
            .expect("requestUri")
            .to_owned(),
        reply.header("etag").expect("etag").to_owned(),
    )
}

/// Who may open a stream while tokens are required: a token that may evaluate there (header or
/// ticket); not one of another environment, not a ticket forged, expired, for another
/// environment or of a revoked token. Revoking a token also ends its open streams.
#[tokio::test]
async fn access_by_header_token_and_by_ticket() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            require_client_token: true,
            stream: StreamLimits {
                heartbeat: Duration::from_millis(300),
                ..StreamLimits::default()
            },
            ..Options::default()
        },
    )
    .await;
    let (id, secret) = create_token(&app, "client", &["prod"]).await;
    let bearer = format!("Bearer {secret}");
    let prod = "/api/stream?environment=prod";
    let dev = "/api/stream?environment=dev";

    assert_eq!(refused(&app, prod, &[]).await.error(401), "missing token");
    assert_eq!(
        refused(&app, prod, &[("authorization", "Bearer pennon_nope")])
            .await
            .error(401),
        "invalid token"
    );
    assert_eq!(
        refused(&app, dev, &[("authorization", &bearer)])
            .await
            .error(403),
        "this token cannot act in the environment dev; it acts in: prod"
    );
    for header in [("authorization", bearer.as_str()), ("x-api-key", &secret)] {
        let mut sse = open(&app, prod, &[header]).await;
        sse.retry().await;
        sse.event(SECOND).await;
    }
    // The configured tokens too.
    let mut sse = open(&app, dev, &[("x-edge-token", crate::helpers::EDGE_TOKEN)]).await;
    sse.retry().await;

    // The bulk answer advertises the stream with a ticket for the token presented.
    let (uri, etag) = advert(&app, &[("x-api-key", &secret)]).await;
    let prefix = format!("/api/stream?environment=prod&ticket={id}.prod.");
    assert!(uri.starts_with(&prefix), "{uri}");
    assert!(
        etag.contains("-w"),
        "the ETag names the ticket's window: {etag}"
    );
    let mut by_ticket = open(&app, &uri, &[]).await;
    by_ticket.retry().await;
    assert_eq!(
        by_ticket.event(SECOND).await.0,
        revision(&app, "prod").await
    );
    app.create_flag(json!({"key": "a", "environment": "prod"}))
        .await;
    assert_eq!(
        by_ticket.event(SECOND).await.0,
        revision(&app, "prod").await
    );
    // The same ticket within its window, and a 304 for the same request.
    let (again, _) = advert(&app, &[("authorization", &bearer)]).await;
    assert_eq!(again, uri);
    let reply = app
        .post(BULK)
        .header("x-api-key", &secret)
        .header(
            "if-none-match",
            &advert(&app, &[("x-api-key", &secret)]).await.1,
        )
        .json(&json!({"context": {"targetingKey": "u"}}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 304, "{}", reply.text);

    let ticket_text = uri.split("ticket=").nth(1).expect("a ticket").to_owned();
    // For another environment: 403, even if the query names that one.
    assert_eq!(
        refused(&app, &format!("{dev}&ticket={ticket_text}"), &[])
            .await
            .error(403),
        "this ticket is for the environment prod"
    );
    // Forged: the MAC of another key, one changed digit, a changed expiry, another token's id.
    let key = SecretHash::of(secret.as_bytes());
    let token = TokenId::Stored(id.parse().expect("a uuid"));
    let far = u64::MAX / 2;
    let mut flipped = ticket_text.clone();
    let last = if flipped.ends_with('0') { "1" } else { "0" };
    flipped.replace_range(flipped.len() - 1.., last);
    for forged in [
        ticket::issue(
            &SecretHash::of(b"pennon_guess"),
            token,
            Environment::Prod,
            far,
        ),
        flipped,
        ticket_text.replacen(".prod.", &format!(".prod.{far}"), 1),
        ticket::issue(
            &key,
            TokenId::Stored(uuid::Uuid::new_v4()),
            Environment::Prod,
            far,
        ),
        "nonsense".to_owned(),
    ] {
        assert_eq!(
            refused(&app, &format!("{prod}&ticket={forged}"), &[])
                .await
                .error(401),
            "invalid ticket",
            "{forged}"
        );
    }
    // Expired: made with the right key, a second ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expired = ticket::issue(&key, token, Environment::Prod, now - 1);
    assert_eq!(
        refused(&app, &format!("{prod}&ticket={expired}"), &[])
            .await
            .error(401),
        "expired ticket"
    );
    assert_eq!(
        ticket::issue(&key, token, Environment::Prod, ticket::expiry(now)),
        ticket_text,
        "the origin's ticket is the documented construction"
    );

    // Revoked: its ticket is refused, and its open streams end at the next heartbeat.
    let reply = app
        .delete(&format!("/api/admin/tokens/{id}"))
        .admin()
        .send()
        .await;
    assert!(reply.status.is_success(), "{}", reply.text);
    assert_eq!(
        refused(&app, &uri, &[]).await.error(401),
        "this token was revoked"
    );
    by_ticket.ended(2 * SECOND).await;
    // The edge token's stream goes on.
    assert_eq!(sse.frame(SECOND).await.map(|_| ()), Some(()));
}

/// Evaluation is public (the default): a stream needs no token, and the advert carries no ticket
/// (nor does the ETag name a window); a token presented is still verified.
#[tokio::test]
async fn public_streams_and_their_advert() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut sse = open(&app, "/api/stream?environment=prod", &[]).await;
    sse.retry().await;
    sse.event(SECOND).await;
    let (uri, etag) = advert(&app, &[]).await;
    assert_eq!(uri, "/api/stream?environment=prod");
    assert!(!etag.contains("-w"), "{etag}");
    let (uri, _) = advert(&app, &[("x-pennon-environment", "staging")]).await;
    assert_eq!(uri, "/api/stream?environment=staging");
    assert_eq!(
        refused(
            &app,
            "/api/stream?environment=prod",
            &[("authorization", "Bearer wrong")]
        )
        .await
        .error(401),
        "invalid token"
    );
    // The admin token's advert has a ticket keyed by the SHA-256 of ADMIN_TOKEN.
    let (uri, _) = advert(&app, &[("x-admin-token", ADMIN_TOKEN)]).await;
    assert!(
        uri.starts_with("/api/stream?environment=prod&ticket=ADMIN_TOKEN.prod."),
        "{uri}"
    );
    let mut sse = open(&app, &uri, &[]).await;
    sse.retry().await;
}

/// `MAX_STREAMS` open: one more is 503 with `Retry-After` and `{"error"}`; a stream that closes
/// gives its place back.
#[tokio::test]
async fn the_cap_answers_503() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            stream: StreamLimits {
                max_streams: 2,
                heartbeat: Duration::from_millis(200),
            },
            ..Options::default()
        },
    )
    .await;
    let path = "/api/stream?environment=prod";
    let first = open(&app, path, &[]).await;
    let _second = open(&app, path, &[]).await;
    let refusal = refused(&app, path, &[]).await;
    assert_eq!(
        refusal.error(503),
        "too many change streams on this origin; retry after 5 s"
    );
    assert_eq!(refusal.retry_after.as_deref(), Some("5"));
    assert_eq!(app.state.streams.open(), 2);
    // Evaluation is not held up by the streams.
    app.evaluate(json!({"environment": "prod", "user": {"id": "u"}}))
        .await;
    drop(first);
    // The server sees the client gone at its next write (a heartbeat at the latest).
    let deadline = Instant::now() + 2 * SECOND;
    while app.state.streams.open() > 1 {
        assert!(
            Instant::now() < deadline,
            "the closed stream kept its place"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut third = open(&app, path, &[]).await;
    third.retry().await;
}

/// A shutdown ends every stream at once, and the server's graceful shutdown completes.
#[tokio::test]
async fn a_shutdown_ends_the_streams() {
    let app = spawn_app(Backend::Sqlite).await;
    let origin = App::build(app.config.clone()).await.expect("starts");
    let base = format!("http://{}", origin.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(origin.run_until(async {
        let _ = stopped.await;
    }));
    let mut streams = Vec::new();
    for environment in ["dev", "prod", "prod"] {
        let path = format!("/api/stream?environment={environment}");
        let mut sse = connect(&base, &path, &[]).await.expect("opens");
        sse.retry().await;
        sse.event(SECOND).await;
        streams.push(sse);
    }
    let started = Instant::now();
    stop.send(()).expect("the server waits");
    for sse in &mut streams {
        sse.ended(SECOND).await;
    }
    tokio::time::timeout(2 * SECOND, server)
        .await
        .expect("the server stopped")
        .expect("no panic")
        .expect("served");
    println!("shutdown with 3 open streams took {:?}", started.elapsed());
}

/// Writes on one origin process, a stream on another: each write's event is timed from the moment
/// the write was sent (so the write's own time is counted; the change message goes out at its
/// commit, often before its answer is back) and from its answer, over 50 writes.
async fn measure_across_origins(label: &str, writer: &Origin, reader: &Origin) {
    let flag = writer
        .create(json!({"key": "k", "environment": "prod"}))
        .await;
    let id = flag["id"].as_str().expect("id").to_owned();
    let mut sse = connect(&reader.base, "/api/stream?environment=prod", &[])
        .await
        .expect("opens");
    sse.retry().await;
    let (mut last, _) = sse.event(SECOND).await;
    // The stream may have opened just before the create reached this origin.
    while last < 1 {
        last = sse.event(SECOND).await.0;
    }
    let (mut times, mut after_answer) = (Vec::new(), Vec::new());
    for i in 0..50 {
        let sent = Instant::now();
        assert_eq!(
            writer.update(&id, json!({"enabled": i % 2 == 0})).await,
            200
        );
        let answered = Instant::now();
        let (id, data) = sse.event(SECOND).await;
        times.push(sent.elapsed());
        after_answer.push(answered.elapsed());
        assert_eq!(id, last + 1, "one event per write, in order: {data}");
        last = id;
    }
    times.sort();
    after_answer.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "stream on another origin ({label}): {} writes; from the write sent: median {:.1} ms, p90 {:.1} ms, max {:.1} ms; from its answer: median {:.1} ms, max {:.1} ms",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.9)),
        ms(times[times.len() - 1]),
        ms(percentile(&after_answer, 0.5)),
        ms(after_answer[after_answer.len() - 1]),
    );
    assert!(times[times.len() - 1] <= SECOND);
    assert!(percentile(&times, 0.5) <= Duration::from_millis(50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_reaches_a_stream_on_another_origin_over_postgres_notify() {
    let db = Database::create().await;
    let a = Origin::start(&db.url, None, &[NO_REVALIDATION]);
    let b = Origin::start(&db.url, None, &[NO_REVALIDATION]);
    measure_across_origins("postgres notify", &a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_reaches_a_stream_on_another_origin_over_redis() {
    let db = Database::create().await;
    let redis = redis_url();
    let prefix = Prefix::new(&redis);
    let a = Origin::start(&db.url, Some((&redis, &prefix.prefix)), &[NO_REVALIDATION]);
    let b = Origin::start(&db.url, Some((&redis, &prefix.prefix)), &[NO_REVALIDATION]);
    measure_across_origins("redis pub/sub + postgres notify", &a, &b).await;
}

/// SQLite has no notifications: the periodic revalidation (here every 100 ms) feeds the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_reaches_a_stream_on_another_origin_on_sqlite_by_revalidation() {
    let path = std::env::temp_dir().join(format!(
        "pennon-stream-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let url = format!("sqlite://{}", path.display());
    let often = ("REVALIDATE_INTERVAL_MS", "100");
    let a = Origin::start(&url, None, &[often]);
    let b = Origin::start(&url, None, &[often]);
    let flag = a.create(json!({"key": "k", "environment": "prod"})).await;
    let mut sse = connect(&b.base, "/api/stream?environment=prod", &[])
        .await
        .expect("opens");
    sse.retry().await;
    sse.event(SECOND).await;
    let id = flag["id"].as_str().expect("id");
    assert_eq!(a.update(id, json!({"enabled": true})).await, 200);
    let written = Instant::now();
    let (revision, _) = sse.event(SECOND).await;
    println!(
        "stream on another origin (sqlite, revalidation every 100 ms): {:?}",
        written.elapsed()
    );
    assert!(revision >= 2);
    drop((a, b));
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}
