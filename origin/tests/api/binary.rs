//! The `origin` binary itself: the one stdout line, PORT=0, a generated admin token, --seed-demo,
//! and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

pub(crate) struct Running {
    child: Child,
    pub(crate) base: String,
    stderr: std::thread::JoinHandle<String>,
    stdout_rest: std::thread::JoinHandle<String>,
}

pub(crate) fn start(db: &std::path::Path, extra_env: &[(&str, &str)], args: &[&str]) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_origin"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", "0")
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "info")
        .current_dir(db.parent().expect("temp dir"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("origin binary starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut stderr = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut line = String::new();
    stdout.read_line(&mut line).expect("a line on stdout");
    let base = line
        .trim_end()
        .strip_prefix("pennon origin listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"),
        "{base}"
    );
    let stdout_rest = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    Running {
        child,
        base,
        stderr,
        stdout_rest,
    }
}

impl Running {
    /// SIGTERM, then the exit status and what was printed after the first line.
    pub(crate) fn terminate(self) -> (std::process::ExitStatus, String, String) {
        self.sigterm();
        self.wait()
    }

    fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// The exit status (within 10 s) and what was printed after the first line.
    fn wait(mut self) -> (std::process::ExitStatus, String, String) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let exit = loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                break exit;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("origin did not stop within 10 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        (
            exit,
            self.stdout_rest.join().unwrap(),
            self.stderr.join().unwrap(),
        )
    }
}

async fn json_of(response: reqwest::Response) -> Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub(crate) fn temp_db() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pennon-bin-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("pennon.db")
}

#[tokio::test]
async fn prints_one_line_generates_a_token_and_stops_on_sigterm() {
    let db = temp_db();
    let running = start(&db, &[], &[]);
    let client = reqwest::Client::new();
    let health: Value = client
        .get(format!("{}/health", running.base))
        .send()
        .await
        .map(json_of)
        .unwrap()
        .await;
    assert_eq!(health["status"], "ok");
    // An admin call without the (unknown, generated) token is refused.
    let status = client
        .get(format!("{}/api/admin/flags", running.base))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 401);
    let (exit, stdout_rest, stderr) = running.terminate();
    assert!(exit.success(), "exit {exit:?}; stderr: {stderr}");
    assert_eq!(stdout_rest, "", "exactly one line on stdout");
    let token_lines: Vec<_> = stderr
        .lines()
        .filter(|l| l.contains("admin token for this run is: "))
        .collect();
    assert_eq!(token_lines.len(), 1, "{stderr}");
    let token = token_lines[0].rsplit(": ").next().unwrap();
    assert!(token.len() >= 32, "{token}");

    // Not persisted: a second start makes a new one.
    let (_, _, stderr2) = start(&db, &[], &[]).terminate();
    assert!(!stderr2.contains(token), "a fresh token per start");
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

#[tokio::test]
async fn seed_demo_fills_an_empty_store_once() {
    let db = temp_db();
    let running = start(&db, &[("ADMIN_TOKEN", "t")], &["--seed-demo"]);
    let client = reqwest::Client::new();
    let body: Value = client
        .post(format!("{}/api/evaluate", running.base))
        .header("content-type", "application/json")
        .body(
            json!({"environment": "prod", "user": {"id": "user-123", "email": "a@example.com"}})
                .to_string(),
        )
        .send()
        .await
        .map(json_of)
        .unwrap()
        .await;
    let keys: Vec<_> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["flagKey"].as_str().unwrap().to_owned())
        .collect();
    assert!(keys.contains(&"new_checkout_flow".to_owned()), "{body}");
    let count = |base: String| {
        let client = client.clone();
        async move {
            let v: Value = client
                .get(format!("{base}/api/admin/flags"))
                .header("x-admin-token", "t")
                .send()
                .await
                .map(json_of)
                .unwrap()
                .await;
            v["flags"].as_array().unwrap().len()
        }
    };
    let seeded = count(running.base.clone()).await;
    assert!(seeded >= 3, "demo flags in every environment");
    let (exit, _, stderr) = running.terminate();
    assert!(exit.success(), "{stderr}");
    // SEED_DEMO on a store that has flags adds nothing.
    let running = start(&db, &[("ADMIN_TOKEN", "t"), ("SEED_DEMO", "1")], &[]);
    assert_eq!(count(running.base.clone()).await, seeded);
    let (exit, _, stderr) = running.terminate();
    assert!(exit.success(), "{stderr}");
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

#[test]
fn bad_configuration_exits_with_a_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_origin"))
        .env("PORT", "not-a-port")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("PORT"));
    assert!(output.stdout.is_empty());
    for variable in [
        "HEADER_TIMEOUT_SECONDS",
        "BODY_TIMEOUT_SECONDS",
        "IDLE_TIMEOUT_SECONDS",
        "MAX_CONNECTIONS",
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_origin"))
            .env(variable, "0")
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{variable}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("origin: configuration: {variable}: must be")),
            "{stderr}"
        );
    }
    let output = Command::new(env!("CARGO_BIN_EXE_origin"))
        .arg("--bogus")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}

/// `--help` names every variable the origin reads, the ones once left out of it included.
#[test]
fn help_lists_every_variable() {
    let dir = std::env::temp_dir();
    let output = Command::new(env!("CARGO_BIN_EXE_origin"))
        .arg("--help")
        .env_clear()
        .current_dir(&dir)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("usage: origin [--seed-demo]"),
        "{stdout}"
    );
    for variable in [
        "HOST",
        "PORT",
        "DATABASE_URL",
        "REDIS_URL",
        "REDIS_KEY_PREFIX",
        "ADMIN_TOKEN",
        "EDGE_TOKEN",
        "CACHE_TTL_SECONDS",
        "REVALIDATE_INTERVAL_MS",
        "SEED_DEMO",
        "HEADER_TIMEOUT_SECONDS",
        "BODY_TIMEOUT_SECONDS",
        "IDLE_TIMEOUT_SECONDS",
        "MAX_CONNECTIONS",
        "RUST_LOG",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_SERVICE_NAME",
    ] {
        assert!(
            stdout
                .lines()
                .any(|line| line.trim_start().starts_with(variable)),
            "{variable} missing:\n{stdout}"
        );
    }
}

/// HTTP strips the whitespace around a header value, so a token configured with some (a newline
/// left by `echo`) is used without it, and the start says so without printing the token.
#[tokio::test]
async fn tokens_configured_with_whitespace_authenticate_without_it() {
    let db = temp_db();
    let running = start(
        &db,
        &[
            ("ADMIN_TOKEN", "adm-s3cret "),
            ("EDGE_TOKEN", " edge-s3cret\n"),
        ],
        &[],
    );
    let client = reqwest::Client::new();
    let admin = client
        .get(format!("{}/api/admin/flags", running.base))
        .header("x-admin-token", "adm-s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status().as_u16(), 200);
    let edge = client
        .get(format!(
            "{}/api/flags/snapshot?environment=prod",
            running.base
        ))
        .header("x-edge-token", "edge-s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(edge.status().as_u16(), 200);
    let (exit, _, stderr) = running.terminate();
    assert!(exit.success(), "{stderr}");
    for variable in ["ADMIN_TOKEN", "EDGE_TOKEN"] {
        assert!(
            stderr.lines().any(|l| l.contains("WARN")
                && l.contains(&format!(
                    "{variable}: leading or trailing whitespace removed"
                ))),
            "{stderr}"
        );
    }
    assert!(!stderr.contains("s3cret"), "a token in the log: {stderr}");
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

#[test]
fn a_token_no_header_can_carry_stops_the_start_naming_the_variable() {
    for (variable, value) in [
        ("ADMIN_TOKEN", "adm\u{1}s3cret"),
        ("EDGE_TOKEN", "s3cr\u{e9}t"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_origin"))
            .env_clear()
            .env("PORT", "0")
            .env("DATABASE_URL", "sqlite::memory:")
            .env(variable, value)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("{variable}: contains a control character")),
            "{stderr}"
        );
        assert!(!stderr.contains("s3cr"), "{stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[tokio::test]
async fn an_in_memory_sqlite_database_works() {
    let dir = temp_db();
    let mut command = Command::new(env!("CARGO_BIN_EXE_origin"));
    command
        .env_clear()
        .env("PORT", "0")
        .env("ADMIN_TOKEN", "t")
        .env("DATABASE_URL", "sqlite::memory:")
        .current_dir(dir.parent().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base = line.trim_end().rsplit(' ').next().unwrap().to_owned();
    let client = reqwest::Client::new();
    let reply = client
        .post(format!("{base}/api/admin/flags"))
        .header("x-admin-token", "t")
        .header("content-type", "application/json")
        .body(
            json!({"key": "k", "environment": "dev", "enabled": true, "rolloutPercentage": 100})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 201);
    let body = client
        .post(format!("{base}/api/evaluate"))
        .header("content-type", "application/json")
        .body(json!({"environment": "dev", "user": {"id": "u"}}).to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        body,
        r#"{"results":[{"flagKey":"k","enabled":true,"reason":"ROLLOUT","variant":"on","value":true}]}"#
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_and_closes_idle_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    let db = temp_db();
    let running = start(&db, &[("ADMIN_TOKEN", "t")], &[]);
    let addr = running.base.trim_start_matches("http://").to_owned();
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nhost: pennon\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        crate::server::read_response(&mut idle).await.status_line,
        "HTTP/1.1 200 OK"
    );
    // A request whose body is half sent: its handler is waiting for the rest.
    let body = br#"{"environment":"prod","user":{"id":"u"}}"#;
    let mut in_flight = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/evaluate HTTP/1.1\r\nhost: pennon\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    running.sigterm();
    // The idle connection is closed at once; new connections are refused.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(3), idle.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "idle connection still open after SIGTERM");
    assert!(rest.is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        TcpStream::connect(&addr).await.is_err(),
        "a connection accepted after SIGTERM"
    );
    // The request in flight is answered in full, and then the process exits.
    in_flight.write_all(&body[10..]).await.unwrap();
    let response = crate::server::read_response(&mut in_flight).await;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(response.body, r#"{"results":[]}"#);
    let (exit, stdout_rest, stderr) = tokio::task::spawn_blocking(move || running.wait())
        .await
        .unwrap();
    assert!(exit.success(), "exit {exit:?}; stderr: {stderr}");
    assert_eq!(stdout_rest, "");
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}
