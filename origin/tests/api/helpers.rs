//! `spawn_app(backend)`: a real origin on 127.0.0.1:0 with its own database (and Redis key prefix),
//! cleaned up when the returned `TestApp` drops, even after a failed assertion.

use std::path::PathBuf;
use std::time::Duration;

use origin::{
    App, AppState, Config, DatabaseUrl, EdgePushTarget, HttpLimits, PushCa, PushUrl, RateLimits,
    Secret, Signing, StreamLimits,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection as _;

pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const EDGE_TOKEN: &str = "test-edge-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    PostgresRedis,
}

/// Instantiates each scenario `async fn name(backend: Backend)` once per set-up, in modules
/// `sqlite`, `postgres` and `postgres_redis`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() { super::$name($crate::helpers::Backend::Postgres).await } )*
        }
        mod postgres_redis {
            $( #[tokio::test] async fn $name() { super::$name($crate::helpers::Backend::PostgresRedis).await } )*
        }
    };
}

pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let root = match base.rfind('/') {
        Some(i) if base[..i].contains("//") && i > base.find("//").unwrap_or(0) + 1 => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}

/// What to remove when the test ends.
#[derive(Debug)]
enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase(Database),
}

#[derive(Debug)]
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub redis_prefix: Option<String>,
    /// What it was started with, so that [`TestApp::sibling`] can start another like it.
    pub config: Config,
    cleanup: Cleanup,
}

pub struct Options {
    pub edge_token: Option<&'static str>,
    pub cache_ttl: Duration,
    pub http: HttpLimits,
    pub require_client_token: bool,
    pub rate_limits: RateLimits,
    pub stream: StreamLimits,
    /// `SNAPSHOT_SIGNING_KEY` and its TTL; `None`: snapshots unsigned.
    pub signing: Option<Signing>,
    /// `METRICS`: counting requests and evaluations.
    pub metrics: bool,
    /// `CONTEXT_SAMPLE_SIZE`.
    pub context_sample_size: usize,
    /// `EDGE_PUSH_URL`: where each write's snapshot is pushed.
    pub edge_push_url: Option<String>,
    /// `EDGE_PUSH_CA_FILE`: a PEM file of CAs trusted for an https push.
    pub edge_push_ca_file: Option<String>,
    /// `EDGE_PUSH_TOKEN`: sent with the push instead of `EDGE_TOKEN`.
    pub edge_push_token: Option<&'static str>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            edge_token: Some(EDGE_TOKEN),
            cache_ttl: Duration::from_secs(60),
            http: HttpLimits::default(),
            require_client_token: false,
            rate_limits: RateLimits::default(),
            stream: StreamLimits::default(),
            signing: None,
            metrics: true,
            context_sample_size: 0,
            edge_push_url: None,
            edge_push_ca_file: None,
            edge_push_token: None,
        }
    }
}

/// The actor of writes made straight on a store (below the HTTP layer).
pub fn test_actor() -> origin::access::Actor {
    origin::access::Actor {
        name: "test".into(),
        token_id: "test".into(),
        note: None,
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Options::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: Options) -> TestApp {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let (database, cleanup) = match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("pennon-test-{unique}.db"));
            let url = format!("sqlite://{}", path.display());
            (DatabaseUrl::Sqlite(url), Cleanup::SqliteFile(path))
        }
        Backend::Postgres | Backend::PostgresRedis => {
            let database = Database::create().await;
            (
                DatabaseUrl::Postgres(Secret::new(database.url.clone())),
                Cleanup::PostgresDatabase(database),
            )
        }
    };
    let redis_prefix =
        (backend == Backend::PostgresRedis).then(|| format!("pennon-test:{unique}:"));
    if redis_prefix.is_some() {
        let url = redis_url();
        let mut conn = redis_connection().await;
        let pong: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("Redis at {url} does not answer PING ({e})"));
        assert_eq!(pong, "PONG");
    }
    let config = Config {
        host: "127.0.0.1".into(),
        port: 0,
        database,
        redis_url: redis_prefix.as_ref().map(|_| Secret::new(redis_url())),
        redis_key_prefix: redis_prefix.clone().unwrap_or_default(),
        admin_token: Some(Secret::new(ADMIN_TOKEN)),
        edge_token: options.edge_token.map(Secret::new),
        edge_push: options.edge_push_url.map(|url| EdgePushTarget {
            url: PushUrl::parse(&url).expect("a valid EDGE_PUSH_URL"),
            token: Secret::new(
                options
                    .edge_push_token
                    .or(options.edge_token)
                    .expect("EDGE_PUSH_TOKEN or EDGE_TOKEN for the push"),
            ),
            ca: options
                .edge_push_ca_file
                .as_deref()
                .map(|path| PushCa::read(path).expect("a valid EDGE_PUSH_CA_FILE")),
        }),
        cache_ttl: options.cache_ttl,
        revalidate_interval: Duration::from_secs(1),
        seed_demo: false,
        http: options.http,
        require_client_token: options.require_client_token,
        rate_limits: options.rate_limits,
        stream: options.stream,
        signing: options.signing,
        metrics: options.metrics,
        // Tests write usage when they choose (`state.usage.flush()`), never on a timer's whim.
        usage_flush_interval: Duration::from_secs(3600),
        context_sample_size: options.context_sample_size,
    };
    start(config, redis_prefix, cleanup, &format!("{backend:?}")).await
}

/// Builds and serves an origin with `config` in this runtime; the `TestApp` cleans up after it.
async fn start(
    config: Config,
    redis_prefix: Option<String>,
    cleanup: Cleanup,
    what: &str,
) -> TestApp {
    let app = App::build(config.clone())
        .await
        .unwrap_or_else(|e| panic!("origin did not start ({what}): {e}"));
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        base,
        client: reqwest::Client::new(),
        state,
        redis_prefix,
        config,
        cleanup,
    }
}

pub async fn redis_connection() -> redis::aio::MultiplexedConnection {
    let url = redis_url();
    let client =
        redis::Client::open(url.as_str()).unwrap_or_else(|e| panic!("bad Redis URL {url}: {e}"));
    tokio::time::timeout(
        Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    .unwrap_or_else(|_| panic!("Redis at {url} did not answer within 5 s"))
    .unwrap_or_else(|e| {
        panic!("Redis at {url} is unreachable ({e}); start it or set TEST_REDIS_URL")
    })
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let cleanup = std::mem::replace(&mut self.cleanup, Cleanup::SqliteFile(PathBuf::new()));
        let prefix = self.redis_prefix.take();
        // Best effort, on a thread of its own: Drop cannot await, and this runs during a panic too.
        let done = std::thread::spawn(move || {
            if let Some(prefix) = prefix {
                if let Ok(client) = redis::Client::open(redis_url()) {
                    if let Ok(mut conn) = client.get_connection() {
                        let keys: Vec<String> = redis::cmd("KEYS")
                            .arg(format!("{prefix}*"))
                            .query(&mut conn)
                            .unwrap_or_default();
                        if !keys.is_empty() {
                            let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
                        }
                    }
                }
            }
            match cleanup {
                Cleanup::SqliteFile(path) => {
                    if !path.as_os_str().is_empty() {
                        for suffix in ["", "-wal", "-shm"] {
                            let mut p = path.clone().into_os_string();
                            p.push(suffix);
                            let _ = std::fs::remove_file(p);
                        }
                    }
                }
                // Its own Drop removes it (connections and all).
                Cleanup::PostgresDatabase(database) => drop(database),
            }
        });
        let _ = done.join();
    }
}

/// Drops a test database, best effort, on a runtime of its own: callers are `Drop` impls, which cannot
/// await and also run during a panic.
pub fn drop_postgres_database(admin_url: &str, name: &str) {
    if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        rt.block_on(async {
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        });
    }
}

/// A response read in full: status, headers and body (text and, when it parses, JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?} (status {})", self.text, self.status))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `{"error": ...}` message; asserts the status and the body's shape.
    pub fn error(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        let body = self.json();
        let object = body.as_object().expect("error body is an object");
        assert_eq!(object.len(), 1, "error body has only `error`: {body}");
        body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message: {body}"))
            .to_owned()
    }
}

/// A request under construction; `admin()` adds the admin token.
pub struct Call {
    builder: reqwest::RequestBuilder,
}

impl Call {
    pub fn admin(self) -> Self {
        self.header("x-admin-token", ADMIN_TOKEN)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.builder = self
            .builder
            .header("content-type", "application/json")
            .body(body.to_string());
        self
    }

    pub fn raw(mut self, body: impl Into<reqwest::Body>) -> Self {
        self.builder = self
            .builder
            .header("content-type", "application/json")
            .body(body);
        self
    }

    /// `body` declared as `content_type`, or with no `content-type` header at all.
    pub fn typed(mut self, content_type: Option<&str>, body: impl Into<reqwest::Body>) -> Self {
        if let Some(content_type) = content_type {
            self.builder = self.builder.header("content-type", content_type);
        }
        self.builder = self.builder.body(body);
        self
    }

    pub async fn send(self) -> Reply {
        let response = self
            .builder
            .send()
            .await
            .expect("request reaches the origin");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        Reply {
            status,
            headers,
            text,
        }
    }
}

impl TestApp {
    /// Drops this test's PostgreSQL database under the running origin (its connections are
    /// terminated), to see how the service behaves without its store.
    pub async fn drop_database(&self) {
        let Cleanup::PostgresDatabase(Database {
            admin_url, name, ..
        }) = &self.cleanup
        else {
            panic!("drop_database needs a PostgreSQL backend");
        };
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is unreachable ({e})"));
        sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot drop {name}: {e}"));
    }

    pub fn call(&self, method: Method, path: &str) -> Call {
        Call {
            builder: self.client.request(method, format!("{}{path}", self.base)),
        }
    }

    pub fn get(&self, path: &str) -> Call {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call {
        self.call(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> Call {
        self.call(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> Call {
        self.call(Method::DELETE, path)
    }

    /// Updates a flag through the admin API (`PUT`, with the admin token) and returns it; panics
    /// unless 200.
    pub async fn update_flag(&self, id: &str, body: Value) -> Value {
        let reply = self
            .put(&format!("/api/admin/flags/{id}"))
            .admin()
            .json(&body)
            .send()
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "update {body}: {}",
            reply.text
        );
        reply.json()["flag"].clone()
    }

    /// `GET /api/admin/flags<query>` with the admin token: each flag listed as `key/environment`,
    /// in the answer's order; panics unless 200.
    pub async fn listed_flags(&self, query: &str) -> Vec<String> {
        let reply = self
            .get(&format!("/api/admin/flags{query}"))
            .admin()
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.text);
        reply.json()["flags"]
            .as_array()
            .expect("flags")
            .iter()
            .map(|f| {
                format!(
                    "{}/{}",
                    f["key"].as_str().expect("key"),
                    f["environment"].as_str().expect("environment")
                )
            })
            .collect()
    }

    /// Creates a token with the bootstrap admin token; returns (record, secret). Panics unless 201
    /// with `Cache-Control: no-store`.
    pub async fn create_token(&self, body: Value) -> (Value, String) {
        let reply = self
            .post("/api/admin/tokens")
            .admin()
            .json(&body)
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 201, "{body}: {}", reply.text);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let created = reply.json();
        let secret = created["secret"].as_str().expect("secret").to_owned();
        (created["token"].clone(), secret)
    }

    /// Creates a flag through the admin API and returns it; panics unless 201.
    pub async fn create_flag(&self, body: Value) -> Value {
        let reply = self
            .post("/api/admin/flags")
            .admin()
            .json(&body)
            .send()
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "create {body}: {}",
            reply.text
        );
        reply.json()["flag"].clone()
    }

    /// Creates a segment through the admin API and returns it; panics unless 201.
    pub async fn create_segment(&self, body: Value) -> Value {
        let reply = self
            .post("/api/admin/segments")
            .admin()
            .json(&body)
            .send()
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "create segment {body}: {}",
            reply.text
        );
        reply.json()["segment"].clone()
    }

    /// The environment's snapshot, as the edge reads it.
    pub async fn snapshot(&self, environment: &str) -> Value {
        let reply = self
            .get(&format!("/api/flags/snapshot?environment={environment}"))
            .header("x-edge-token", EDGE_TOKEN)
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json()
    }

    pub async fn evaluate(&self, body: Value) -> Value {
        let reply = self.post("/api/evaluate").json(&body).send().await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "evaluate {body}: {}",
            reply.text
        );
        reply.json()
    }

    /// `{enabled, reason}` of one flag for one user in `environment`.
    pub async fn decide(&self, environment: &str, user: &str, key: &str) -> (bool, String) {
        let body = self
            .evaluate(json!({"environment": environment, "user": {"id": user}, "flags": [key]}))
            .await;
        let result = &body["results"][0];
        (
            result["enabled"].as_bool().expect("enabled"),
            result["reason"].as_str().expect("reason").to_owned(),
        )
    }

    pub async fn audit(&self, query: &str) -> Value {
        let reply = self
            .get(&format!("/api/admin/audit{query}"))
            .admin()
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json()
    }
}

/// Which Redis key prefix a sibling origin uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiblingCache {
    /// This origin's: the sibling reads what this one cached.
    Shared,
    /// A fresh one (deleted when the sibling drops): the sibling reads the store.
    Fresh,
}

impl TestApp {
    /// Another origin on this test's database (or on `database`), configured like this one and
    /// starting with nothing in process: what a restart reads. Dropping it cleans up nothing of
    /// this test's database.
    pub async fn sibling(&self, cache: SiblingCache, database: Option<DatabaseUrl>) -> TestApp {
        let mut config = self.config.clone();
        if let Some(database) = database {
            config.database = database;
        }
        let fresh = (cache == SiblingCache::Fresh && config.redis_url.is_some())
            .then(|| format!("pennon-test:{}:", uuid::Uuid::new_v4().simple()));
        if let Some(prefix) = &fresh {
            config.redis_key_prefix = prefix.clone();
        }
        start(
            config,
            fresh,
            Cleanup::SqliteFile(PathBuf::new()),
            "sibling",
        )
        .await
    }

    /// Runs `statement` on this origin's database directly (to make rows the API would never
    /// write) and returns the first column of each row it yields, as text.
    pub async fn sql(&self, statement: &str) -> Vec<String> {
        use sqlx::Row as _;
        // The same steps on two connection types (a generic function over sqlx needs a dozen bounds).
        macro_rules! run {
            ($conn:expr) => {
                sqlx::query(statement)
                    .fetch_all(&mut $conn)
                    .await
                    .unwrap_or_else(|e| panic!("{statement}: {e}"))
                    .iter()
                    .map(|row| row.try_get::<String, _>(0).unwrap_or_default())
                    .collect()
            };
        }
        match &self.config.database {
            DatabaseUrl::Sqlite(url) => {
                let mut conn = sqlx::SqliteConnection::connect(url).await.expect("sqlite");
                run!(conn)
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = sqlx::PgConnection::connect(url.expose())
                    .await
                    .expect("postgres");
                run!(conn)
            }
        }
    }
}

#[test]
fn database_names_are_replaced() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u@h/test?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}

/// A fresh PostgreSQL database, dropped (connections and all) when this drops.
#[derive(Debug)]
pub struct Database {
    admin_url: String,
    name: String,
    pub url: String,
}

impl Database {
    pub async fn create() -> Self {
        let admin_url = postgres_url();
        let name = format!("pennon_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!("PostgreSQL at {admin_url} is unreachable ({e}); start it or set TEST_DATABASE_URL")
        });
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name} on {admin_url}: {e}"));
        let _ = conn.close().await;
        let url = with_database(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // A thread of its own: this may run inside the test's runtime, which cannot be blocked on.
        let _ = std::thread::spawn(move || drop_postgres_database(&admin_url, &name)).join();
    }
}
