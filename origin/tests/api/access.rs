//! Who may do what: scoped tokens (created, used, revoked), every role against every class of
//! endpoint in and out of its environments, the audit actor taken from the token, client tokens
//! for evaluation, rate limits, and the headers every answer carries.

use std::num::NonZeroU32;
use std::time::Duration;

use origin::{Rate, RateLimits};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app_with, Backend, Options, TestApp};

backend_tests!(
    every_role_on_every_endpoint_class_in_and_out_of_its_environments,
    a_token_is_created_once_listed_without_its_secret_and_revoked,
    the_audit_actor_is_the_token_whatever_x_actor_claims,
    scoped_readers_see_only_their_environments,
);

fn bearer(secret: &str) -> String {
    format!("Bearer {secret}")
}

/// What one request of each class answers for `token` (`None`: no token at all), as a status.
async fn statuses(
    app: &TestApp,
    token: Option<&str>,
    environment: &str,
    flag_id: &str,
) -> Vec<u16> {
    let with = |call: crate::helpers::Call| match token {
        Some(token) => call.header("authorization", &bearer(token)),
        None => call,
    };
    let mut replies = Vec::new();
    // evaluate
    let reply = with(app.post("/api/evaluate"))
        .json(&json!({"environment": environment, "user": {"id": "u"}}))
        .send()
        .await;
    replies.push(reply);
    // snapshot
    let reply = with(app.get(&format!("/api/flags/snapshot?environment={environment}")))
        .send()
        .await;
    replies.push(reply);
    // read definitions: the flag of this environment by id
    let reply = with(app.get(&format!("/api/admin/flags/{flag_id}")))
        .send()
        .await;
    replies.push(reply);
    // write definitions: a new flag in this environment
    let key = format!("k{}", uuid::Uuid::new_v4().simple());
    let reply = with(app.post("/api/admin/flags"))
        .json(&json!({"key": key, "environment": environment}))
        .send()
        .await;
    replies.push(reply);
    // manage tokens
    let reply = with(app.get("/api/admin/tokens")).send().await;
    replies.push(reply);
    replies
        .iter()
        .map(|reply| {
            let status = reply.status.as_u16();
            if matches!(status, 401 | 403) {
                // Every refusal is the `{"error"}` body, and says why.
                assert!(!reply.error(status).is_empty());
            }
            status
        })
        .collect()
}

async fn every_role_on_every_endpoint_class_in_and_out_of_its_environments(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options {
            require_client_token: true,
            ..Options::default()
        },
    )
    .await;
    let dev_flag = app
        .create_flag(json!({"key": "f", "environment": "dev"}))
        .await;
    let prod_flag = app
        .create_flag(json!({"key": "f", "environment": "prod"}))
        .await;
    let id = |flag: &Value| flag["id"].as_str().expect("id").to_owned();
    // The expected table, written out (not derived from the code under test): per role, whether
    // it may [evaluate, read the snapshot, read definitions, write definitions, manage tokens].
    let table: [(&str, [bool; 5]); 5] = [
        ("admin", [true, true, true, true, true]),
        ("editor", [true, true, true, true, false]),
        ("viewer", [true, true, true, false, false]),
        ("server", [true, true, false, false, false]),
        ("client", [true, false, false, false, false]),
    ];
    for (role, may) in table {
        let environments = if role == "admin" {
            json!(["dev", "staging", "prod"])
        } else {
            json!(["dev", "staging"])
        };
        let body =
            json!({"name": format!("{role} token"), "role": role, "environments": environments});
        let (_, secret) = app.create_token(body).await;
        for (environment, flag) in [("dev", &dev_flag), ("prod", &prod_flag)] {
            let inside = role == "admin" || environment == "dev";
            let got = statuses(&app, Some(&secret), environment, &id(flag)).await;
            let expected: Vec<u16> = may
                .iter()
                .enumerate()
                .map(|(class, &may)| match (may, inside || class == 4) {
                    (false, _) => 403,
                    (true, false) => 403,
                    (true, true) if class == 3 => 201,
                    (true, true) => 200,
                })
                .collect();
            assert_eq!(got, expected, "{role} in {environment}");
        }
    }
    // No token, an unknown one, and a revoked one: 401 on every class.
    assert_eq!(statuses(&app, None, "dev", &id(&dev_flag)).await, [401; 5]);
    let unknown = format!("pennon_{}", "0".repeat(64));
    assert_eq!(
        statuses(&app, Some(&unknown), "dev", &id(&dev_flag)).await,
        [401; 5]
    );
    assert_eq!(
        statuses(&app, Some("not-even-a-pennon-token"), "dev", &id(&dev_flag)).await,
        [401; 5]
    );
    let (record, secret) = app
        .create_token(json!({"name": "to revoke", "role": "admin"}))
        .await;
    let path = format!("/api/admin/tokens/{}", record["id"].as_str().expect("id"));
    assert_eq!(app.delete(&path).admin().send().await.status.as_u16(), 204);
    assert_eq!(
        statuses(&app, Some(&secret), "dev", &id(&dev_flag)).await,
        [401; 5]
    );
    let reply = app
        .get("/api/admin/tokens")
        .header("authorization", &bearer(&secret))
        .send()
        .await;
    assert_eq!(reply.error(401), "this token was revoked");
    // A 403 names what the token lacks.
    let (_, viewer) = app
        .create_token(json!({"name": "v", "role": "viewer", "environments": ["dev"]}))
        .await;
    let reply = app
        .post("/api/admin/flags")
        .header("authorization", &bearer(&viewer))
        .json(&json!({"key": "x", "environment": "dev"}))
        .send()
        .await;
    assert_eq!(
        reply.error(403),
        "this token (role viewer) cannot write flags and segments; that needs the role admin or editor"
    );
    let reply = app
        .get(&format!("/api/admin/flags/{}", id(&prod_flag)))
        .header("authorization", &bearer(&viewer))
        .send()
        .await;
    assert_eq!(
        reply.error(403),
        "this token cannot act in the environment prod; it acts in: dev"
    );
    // The aliases carry the same tokens: what a token may do does not depend on the header.
    let reply = app
        .get("/api/admin/flags?environment=dev")
        .header("x-admin-token", &viewer)
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let reply = app
        .get("/api/admin/tokens")
        .header("x-edge-token", &viewer)
        .send()
        .await;
    reply.error(403);
    // Another scheme is refused, not ignored.
    let reply = app
        .get("/api/admin/flags")
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await;
    assert_eq!(
        reply.error(401),
        "Authorization: only the Bearer scheme is accepted"
    );
}

async fn a_token_is_created_once_listed_without_its_secret_and_revoked(backend: Backend) {
    let app = spawn_app_with(backend, Options::default()).await;
    let (record, secret) = app
        .create_token(
            json!({"name": "ci deploys", "role": "editor", "environments": ["staging", "dev"]}),
        )
        .await;
    assert!(
        secret.starts_with("pennon_") && secret.len() == 7 + 64,
        "{secret}"
    );
    assert_eq!(record["name"], "ci deploys");
    assert_eq!(record["role"], "editor");
    assert_eq!(record["environments"], json!(["dev", "staging"]));
    assert_eq!(
        record["createdBy"],
        json!({"tokenId": "ADMIN_TOKEN", "name": "admin"})
    );
    assert_eq!(record["revokedAt"], Value::Null);
    let id = record["id"].as_str().expect("id").to_owned();
    // The secret is answered once: never listed, never in the audit log, only its hash stored.
    let listed = app.get("/api/admin/tokens").admin().send().await;
    assert_eq!(listed.status.as_u16(), 200);
    assert!(!listed.text.contains(&secret[7..]), "{}", listed.text);
    assert_eq!(listed.json()["tokens"], json!([record.clone()]));
    let one = app
        .get(&format!("/api/admin/tokens/{id}"))
        .admin()
        .send()
        .await;
    assert_eq!(one.json()["token"], record);
    let stored = app.sql("SELECT name FROM api_tokens").await;
    assert_eq!(stored, ["ci deploys"]);
    // 32 bytes: the SHA-256, not the 71 characters of the secret.
    assert_eq!(
        app.sql("SELECT CAST(length(secret_sha256) AS TEXT) FROM api_tokens")
            .await,
        ["32"]
    );
    // A token made by a token names it.
    let (_, admin2) = app
        .create_token(json!({"name": "second admin", "role": "admin"}))
        .await;
    let reply = app
        .post("/api/admin/tokens")
        .header("authorization", &bearer(&admin2))
        .json(&json!({"name": "made by a token", "role": "client", "environments": ["prod"]}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    assert_eq!(reply.json()["token"]["createdBy"]["name"], "second admin");
    // Revoked: 204, then again 204 with nothing written twice; unknown ids are 404.
    let path = format!("/api/admin/tokens/{id}");
    assert_eq!(app.delete(&path).admin().send().await.status.as_u16(), 204);
    assert_eq!(app.delete(&path).admin().send().await.status.as_u16(), 204);
    let revoked = app.get(&path).admin().send().await.json()["token"].clone();
    assert!(revoked["revokedAt"].is_string(), "{revoked}");
    let missing = format!("/api/admin/tokens/{}", uuid::Uuid::new_v4());
    assert_eq!(
        app.delete(&missing).admin().send().await.error(404),
        "token not found"
    );
    assert_eq!(
        app.get("/api/admin/tokens/nope")
            .admin()
            .send()
            .await
            .error(404),
        "token not found"
    );
    // Each write is audited with the record, never the secret.
    let page = app.audit(&format!("?entityId={id}")).await;
    let entries = page["entries"].as_array().expect("entries");
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["REVOKE_TOKEN", "CREATE_TOKEN"]);
    assert_eq!(entries[1]["entity"], "Token");
    assert_eq!(entries[1]["after"], record);
    assert_eq!(entries[1]["environment"], Value::Null);
    assert_eq!(entries[0]["before"], record);
    assert_eq!(entries[0]["after"], revoked);
    assert!(!page.to_string().contains(&secret[7..]));
    // Bad requests name the field; nothing is created.
    let reply = app
        .post("/api/admin/tokens")
        .admin()
        .json(&json!({"name": "x", "role": "owner", "environments": ["dev"]}))
        .send()
        .await;
    assert!(reply.error(400).starts_with("role: must be one of"));
    let reply = app
        .post("/api/admin/tokens")
        .admin()
        .json(&json!({"name": "x", "role": "client"}))
        .send()
        .await;
    assert!(reply.error(400).starts_with("environments: required"));
    assert_eq!(
        app.sql("SELECT CAST(count(*) AS TEXT) FROM api_tokens")
            .await,
        ["3"]
    );
}

async fn the_audit_actor_is_the_token_whatever_x_actor_claims(backend: Backend) {
    let app = spawn_app_with(backend, Options::default()).await;
    let (record, secret) = app
        .create_token(
            json!({"name": "mallory's editor", "role": "editor", "environments": ["prod"]}),
        )
        .await;
    let reply = app
        .post("/api/admin/flags")
        .header("authorization", &bearer(&secret))
        .header("x-actor", "alice")
        .json(&json!({"key": "k", "environment": "prod"}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let flag_id = reply.json()["flag"]["id"].as_str().expect("id").to_owned();
    let entry = app.audit(&format!("?entityId={flag_id}")).await["entries"][0].clone();
    assert_eq!(entry["actor"], "mallory's editor");
    assert_eq!(entry["actorTokenId"], record["id"]);
    assert_eq!(entry["note"], "alice");
}

async fn scoped_readers_see_only_their_environments(backend: Backend) {
    let app = spawn_app_with(backend, Options::default()).await;
    for environment in ["dev", "staging", "prod"] {
        app.create_flag(json!({"key": "k", "environment": environment}))
            .await;
        app.create_segment(json!({"key": "s", "environment": environment}))
            .await;
    }
    let (_, viewer) = app
        .create_token(json!({"name": "v", "role": "viewer", "environments": ["dev", "prod"]}))
        .await;
    let get = |path: String| {
        let viewer = viewer.clone();
        let app = &app;
        async move {
            app.get(&path)
                .header("authorization", &bearer(&viewer))
                .send()
                .await
        }
    };
    let environments = |list: &Value, field: &str| -> Vec<String> {
        list[field]
            .as_array()
            .expect("list")
            .iter()
            .map(|item| item["environment"].as_str().unwrap_or("-").to_owned())
            .collect()
    };
    let flags = get("/api/admin/flags".into()).await.json();
    assert_eq!(environments(&flags, "flags"), ["dev", "prod"]);
    let segments = get("/api/admin/segments".into()).await.json();
    assert_eq!(environments(&segments, "segments"), ["dev", "prod"]);
    get("/api/admin/flags?environment=staging".into())
        .await
        .error(403);
    let audit = get("/api/admin/audit".into()).await.json();
    let mut seen = environments(&audit, "entries");
    seen.sort();
    assert_eq!(seen, ["dev", "dev", "prod", "prod"], "{audit}");
    // The admin sees every entry, the token's own creation (of no environment) included.
    let all = app.audit("").await;
    assert_eq!(all["entries"].as_array().expect("entries").len(), 7);
}

/// REQUIRE_CLIENT_TOKEN: evaluation needs a token acting in the body's environment; off (the
/// default), evaluation stays open and tokens are not even looked at.
#[tokio::test]
async fn client_tokens_gate_evaluation_only_when_required() {
    let open = spawn_app_with(Backend::Sqlite, Options::default()).await;
    let body = json!({"environment": "prod", "user": {"id": "u"}});
    let reply = open
        .post("/api/evaluate")
        .header("authorization", "Bearer whatever")
        .json(&body)
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let gated = spawn_app_with(
        Backend::Sqlite,
        Options {
            require_client_token: true,
            ..Options::default()
        },
    )
    .await;
    let reply = gated.post("/api/evaluate").json(&body).send().await;
    assert_eq!(reply.error(401), "missing token");
    // The CORS headers are on the refusal too: a browser can read why.
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let (_, client) = gated
        .create_token(json!({"name": "web", "role": "client", "environments": ["prod"]}))
        .await;
    let reply = gated
        .post("/api/evaluate")
        .header("authorization", &bearer(&client))
        .json(&body)
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let reply = gated
        .post("/api/evaluate")
        .header("authorization", &bearer(&client))
        .json(&json!({"environment": "dev", "user": {"id": "u"}}))
        .send()
        .await;
    assert_eq!(
        reply.error(403),
        "this token cannot act in the environment dev; it acts in: prod"
    );
}

fn rate(count: u32, period: Duration) -> Option<Rate> {
    Some(Rate {
        count: NonZeroU32::new(count).expect("positive"),
        period,
    })
}

/// A burst past the rate is answered 429 with `Retry-After`, per caller, and recovers once the
/// allowance has come back.
#[tokio::test]
async fn bursts_past_a_rate_limit_get_429_with_retry_after_and_recover() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            rate_limits: RateLimits {
                evaluate: rate(5, Duration::from_secs(1)),
                admin_writes: rate(2, Duration::from_secs(60)),
            },
            ..Options::default()
        },
    )
    .await;
    let body = json!({"environment": "prod", "user": {"id": "u"}});
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.post("/api/evaluate").json(&body).send().await);
    }
    let codes: Vec<u16> = statuses.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(&codes[..5], [200; 5], "{codes:?}");
    let refused = statuses
        .iter()
        .find(|r| r.status.as_u16() == 429)
        .expect("a 429");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(refused.error(429).starts_with("too many requests"));
    assert_eq!(refused.header("access-control-allow-origin"), Some("*"));
    // One request comes back every 200 ms.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let reply = app.post("/api/evaluate").json(&body).send().await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    // Admin writes count per token (the token created here is the admin token's first write);
    // reads do not count.
    let (_, other) = app
        .create_token(json!({"name": "other", "role": "editor", "environments": ["dev"]}))
        .await;
    app.create_flag(json!({"key": "k1", "environment": "dev"}))
        .await;
    let reply = app
        .post("/api/admin/flags")
        .admin()
        .json(&json!({"key": "k2", "environment": "dev"}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 429);
    let wait: u64 = reply
        .header("retry-after")
        .expect("retry-after")
        .parse()
        .expect("seconds");
    assert!((1..=30).contains(&wait), "{wait}");
    assert_eq!(
        app.get("/api/admin/flags")
            .admin()
            .send()
            .await
            .status
            .as_u16(),
        200
    );
    let reply = app
        .post("/api/admin/flags")
        .header("authorization", &bearer(&other))
        .json(&json!({"key": "k3", "environment": "dev"}))
        .send()
        .await;
    assert_eq!(
        reply.status.as_u16(),
        201,
        "another token has its own allowance: {}",
        reply.text
    );
}

/// Every answer says `nosniff` and names no server software.
#[tokio::test]
async fn every_answer_carries_nosniff_and_no_server_header() {
    let app = spawn_app_with(Backend::Sqlite, Options::default()).await;
    for reply in [
        app.get("/health").send().await,
        app.get("/nope").send().await,
        app.post("/api/evaluate").json(&json!({})).send().await,
        app.get("/api/admin/flags").send().await,
        app.get("/api/admin/flags").admin().send().await,
    ] {
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{}",
            reply.text
        );
        assert_eq!(reply.header("server"), None);
    }
}
