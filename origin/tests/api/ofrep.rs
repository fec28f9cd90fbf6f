//! OFREP (`POST /ofrep/v1/evaluate/flags/{key}`, `POST /ofrep/v1/evaluate/flags`): every golden
//! vector against `POST /api/evaluate`'s answer for the same user, every error code with its status
//! and shape, tokens and the environment they select, the bulk ETag and 304, the rate limit, CORS.
//! Pure HTTP behaviour over the shared compiled set: SQLite only.

use std::num::NonZeroU32;
use std::time::Duration;

use origin::{Rate, RateLimits};
use serde_json::{json, Map, Value};

use crate::helpers::{spawn_app, spawn_app_with, Backend, Options, Reply, TestApp};

const BULK: &str = "/ofrep/v1/evaluate/flags";

fn single(key: &str) -> String {
    format!("{BULK}/{key}")
}

fn vector_dir() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors")
}

/// The evaluate request's user as an OFREP context: `id` → `targetingKey`, `email` and `country`
/// as they are, the attributes beside them.
pub fn context_of(user: &Value) -> Value {
    let mut context = Map::new();
    context.insert("targetingKey".into(), user["id"].clone());
    for field in ["email", "country"] {
        if let Some(value) = user.get(field) {
            context.insert(field.into(), value.clone());
        }
    }
    for (key, value) in user["attributes"].as_object().into_iter().flatten() {
        context.insert(key.clone(), value.clone());
    }
    json!({ "context": context })
}

/// Pennon's reason as OpenFeature's (the contract's table).
fn open_feature_reason(reason: &str) -> &'static str {
    match reason {
        "RULE_MATCH" => "TARGETING_MATCH",
        "ROLLOUT" => "SPLIT",
        "NO_MATCH" => "DEFAULT",
        "FLAG_DISABLED" | "PREREQUISITE_FAILED" => "DISABLED",
        other => panic!("no OFREP reason for {other}"),
    }
}

/// The OFREP item an evaluate result must be (a found flag's).
fn expected_item(result: &Value) -> Value {
    let reason = result["reason"].as_str().expect("reason");
    json!({
        "key": result["flagKey"],
        "variant": result["variant"],
        "value": result["value"],
        "reason": open_feature_reason(reason),
        "metadata": {"pennonReason": reason},
    })
}

async fn ofrep(app: &TestApp, path: &str, environment: &str, body: &Value) -> Reply {
    app.post(path)
        .header("x-pennon-environment", environment)
        .json(body)
        .send()
        .await
}

fn assert_cors(reply: &Reply, what: &str) {
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("*"),
        "{what}"
    );
}

/// Every case of every vector file (but the dangling one, which the origin refuses to store):
/// the bulk answer is `POST /api/evaluate`'s answer for the whole environment, mapped; each key
/// through the single route too, those the case names included (an unknown one is a 404).
#[tokio::test]
async fn every_golden_vector_answers_as_post_api_evaluate_does() {
    let mut files: Vec<_> = std::fs::read_dir(vector_dir())
        .expect("vectors")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter(|path| path.file_name().is_some_and(|n| n != "v2-dangling.json"))
        .collect();
    files.sort();
    let (mut cases, mut singles) = (0, 0);
    for path in &files {
        let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let name = file["name"].as_str().unwrap_or("?").to_owned();
        let environment = file["environment"].as_str().expect("environment");
        let app = spawn_app(Backend::Sqlite).await;
        for segment in file["segments"].as_array().into_iter().flatten() {
            let mut segment = segment.clone();
            segment["environment"] = environment.into();
            app.create_segment(segment).await;
        }
        for flag in file["flags"].as_array().expect("flags") {
            let mut flag = flag.clone();
            flag["environment"] = environment.into();
            app.create_flag(flag).await;
        }
        for case in file["cases"].as_array().expect("cases") {
            let what = format!("{name} / {}", case["name"]);
            let user = &case["request"]["user"];
            let body = context_of(user);
            // The vector's own answer is what /api/evaluate says (tests/api/vectors.rs).
            let all = app
                .evaluate(json!({"environment": environment, "user": user}))
                .await;
            let results = all["results"].as_array().expect("results");
            let reply = ofrep(&app, BULK, environment, &body).await;
            assert_eq!(reply.status.as_u16(), 200, "{what}: {}", reply.text);
            assert_eq!(reply.header("content-type"), Some("application/json"));
            assert!(reply.header("etag").is_some(), "{what}");
            let expected: Vec<Value> = results.iter().map(expected_item).collect();
            // The origin also advertises its change stream (no token here: no ticket).
            let stream = format!("/api/stream?environment={environment}");
            assert_eq!(
                reply.json(),
                json!({ "flags": expected,
                    "eventStreams": [{"type": "sse", "endpoint": {"requestUri": stream}}] }),
                "{what}"
            );

            let mut keys: Vec<String> = results
                .iter()
                .map(|r| r["flagKey"].as_str().unwrap().to_owned())
                .collect();
            let named: Vec<&Value> = case["response"]["results"]
                .as_array()
                .into_iter()
                .flatten()
                .collect();
            keys.extend(
                named
                    .iter()
                    .map(|r| r["flagKey"].as_str().unwrap().to_owned()),
            );
            keys.sort();
            keys.dedup();
            for key in keys {
                let reply = ofrep(&app, &single(&key), environment, &body).await;
                let result = results.iter().find(|r| r["flagKey"] == key.as_str());
                match result {
                    Some(result) => {
                        assert_eq!(reply.status.as_u16(), 200, "{what} {key}: {}", reply.text);
                        assert_eq!(reply.json(), expected_item(result), "{what} {key}");
                    }
                    None => {
                        assert_eq!(reply.status.as_u16(), 404, "{what} {key}: {}", reply.text);
                        assert_eq!(reply.json()["errorCode"], "FLAG_NOT_FOUND", "{what}");
                        // The case's own answer agrees: the key is not there.
                        assert!(named.iter().any(
                            |r| r["flagKey"] == key.as_str() && r["reason"] == "FLAG_NOT_FOUND"
                        ));
                    }
                }
                singles += 1;
            }
            cases += 1;
        }
    }
    assert!(
        cases > 200 && singles > cases,
        "{cases} cases, {singles} singles"
    );
}

async fn app_with_flags() -> TestApp {
    let app = spawn_app(Backend::Sqlite).await;
    for environment in ["dev", "staging", "prod"] {
        app.create_flag(
            json!({"key": "shown", "environment": environment, "enabled": true,
            "type": "string", "variants": {"env": environment}, "offVariant": "env",
            "fallthrough": "env"}),
        )
        .await;
    }
    app.create_flag(
        json!({"key": "pro.only", "environment": "prod", "enabled": true,
        "rules": [{"field": "attributes.plan", "operator": "eq", "value": "pro"}]}),
    )
    .await;
    app
}

fn user_body() -> Value {
    json!({"context": {"targetingKey": "u-1", "plan": "pro"}})
}

#[tokio::test]
async fn a_flag_that_does_not_exist_is_404_flag_not_found() {
    let app = app_with_flags().await;
    let reply = app.post(&single("nope")).json(&user_body()).send().await;
    assert_eq!(reply.status.as_u16(), 404);
    assert_eq!(
        reply.text,
        r#"{"key":"nope","errorCode":"FLAG_NOT_FOUND","errorDetails":"no flag \"nope\" in prod"}"#
    );
    assert_cors(&reply, "404");
    // A key of another environment only.
    app.create_flag(json!({"key": "dev.only", "environment": "dev", "enabled": true}))
        .await;
    let reply = app
        .post(&single("dev.only"))
        .json(&user_body())
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 404);
    let reply = ofrep(&app, &single("dev.only"), "dev", &user_body()).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    // A path with no key, or more than one segment, is no endpoint.
    for path in [format!("{BULK}/"), format!("{BULK}/a/b")] {
        let reply = app.post(&path).json(&user_body()).send().await;
        assert_eq!(reply.error(404), "no such endpoint", "{path}");
    }
}

/// Each 400 code, on both routes, in the route's shape; and the errors of the HTTP layer
/// (415, 413) as `GENERAL` with the HTTP API's message and status.
#[tokio::test]
async fn every_error_code_with_its_status_and_shape() {
    let app = app_with_flags().await;
    let cases: [(&str, u16, &str, &str); 8] = [
        (
            "{",
            400,
            "PARSE_ERROR",
            "invalid JSON: EOF while parsing an object at line 1 column 1",
        ),
        (
            "[]",
            400,
            "PARSE_ERROR",
            "body: must be a JSON object {\"context\": {...}}",
        ),
        (
            r#"{"context":"u-1"}"#,
            400,
            "INVALID_CONTEXT",
            "context: must be a JSON object",
        ),
        (
            r#"{"context":{"targetingKey":7}}"#,
            400,
            "INVALID_CONTEXT",
            "context.targetingKey: must be a string",
        ),
        (
            r#"{"context":{"targetingKey":"u","email":false}}"#,
            400,
            "INVALID_CONTEXT",
            "context.email: must be a string or null",
        ),
        (
            r#"{"context":{"targetingKey":"u","plan":1,"plan":2}}"#,
            400,
            "INVALID_CONTEXT",
            "context.plan: duplicate field",
        ),
        (
            r#"{"context":{"plan":"pro"}}"#,
            400,
            "TARGETING_KEY_MISSING",
            "context.targetingKey: required, a non-empty string (the user's id)",
        ),
        (
            r#"{"context":{"targetingKey":""}}"#,
            400,
            "TARGETING_KEY_MISSING",
            "context.targetingKey: required, a non-empty string (the user's id)",
        ),
    ];
    for (body, status, code, details) in cases {
        let reply = app.post(&single("shown")).raw(body).send().await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {}", reply.text);
        assert_eq!(
            reply.json(),
            json!({"key": "shown", "errorCode": code, "errorDetails": details}),
            "{body}"
        );
        assert_cors(&reply, body);
        let reply = app.post(BULK).raw(body).send().await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {}", reply.text);
        assert_eq!(
            reply.json(),
            json!({"errorCode": code, "errorDetails": details}),
            "{body}"
        );
    }
    // An unknown environment: 400 GENERAL naming the header.
    let reply = ofrep(&app, &single("shown"), "moon", &user_body()).await;
    assert_eq!(reply.status.as_u16(), 400);
    assert_eq!(
        reply.json(),
        json!({"key": "shown", "errorCode": "GENERAL",
            "errorDetails": "x-pennon-environment: must be one of \"dev\", \"staging\", \"prod\", not \"moon\""})
    );
    // Not declared as JSON, too large: the HTTP API's statuses and messages, OFREP's shape.
    let reply = app
        .post(BULK)
        .typed(Some("text/plain"), user_body().to_string())
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 415);
    assert_eq!(
        reply.json(),
        json!({"errorCode": "GENERAL", "errorDetails": "content-type: must be application/json"})
    );
    let big = format!(
        r#"{{"context":{{"targetingKey":"{}"}}}}"#,
        "x".repeat(1 << 20)
    );
    let reply = app.post(&single("shown")).raw(big).send().await;
    assert_eq!(reply.status.as_u16(), 413);
    assert_eq!(
        reply.json(),
        json!({"key": "shown", "errorCode": "GENERAL", "errorDetails": "request body is larger than 1 MiB"})
    );
    // A wrong method is the API's 405.
    let reply = app.get(BULK).send().await;
    assert_eq!(reply.error(405), "method not allowed for this endpoint");
    assert_cors(&reply, "405");
}

async fn create_token(app: &TestApp, role: &str, environments: &[&str]) -> (String, String) {
    let reply = app
        .post("/api/admin/tokens")
        .admin()
        .json(&json!({"name": "t", "role": role, "environments": environments}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let created = reply.json();
    (
        created["token"]["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// What `shown` answers (its value is the environment's name), or the error's status and code.
async fn shown_in(app: &TestApp, headers: &[(&str, &str)]) -> Result<String, (u16, String)> {
    let mut call = app.post(&single("shown"));
    for (name, value) in headers {
        call = call.header(name, value);
    }
    let reply = call.json(&user_body()).send().await;
    let body = reply.json();
    match reply.status.as_u16() {
        200 => Ok(body["value"].as_str().unwrap().to_owned()),
        status => {
            assert_eq!(body["key"], "shown", "{}", reply.text);
            Err((status, body["errorCode"].as_str().unwrap().to_owned()))
        }
    }
}

/// ISSUE13's environment selection, every row, with tokens in each header providers send.
#[tokio::test]
async fn tokens_and_the_environment_they_select() {
    let app = app_with_flags().await;
    let env = "x-pennon-environment";
    let general = |status| Err((status, "GENERAL".to_owned()));
    // No token: the header, else prod.
    assert_eq!(shown_in(&app, &[]).await, Ok("prod".into()));
    assert_eq!(shown_in(&app, &[(env, "dev")]).await, Ok("dev".into()));
    // A token that does not verify is 401 even while tokens are not required.
    assert_eq!(shown_in(&app, &[("x-api-key", "nope")]).await, general(401));
    assert_eq!(
        shown_in(&app, &[("authorization", "Basic YTpi")]).await,
        general(401)
    );
    let (staging_id, staging) = create_token(&app, "client", &["staging"]).await;
    let (_, dev_staging) = create_token(&app, "client", &["dev", "staging"]).await;
    let (_, dev_prod) = create_token(&app, "server", &["dev", "prod"]).await;
    let bearer = |secret: &str| format!("Bearer {secret}");
    // Its only environment; the header when it acts there; 403 when not.
    for header in ["x-api-key", "x-admin-token", "x-edge-token"] {
        assert_eq!(
            shown_in(&app, &[(header, &staging)]).await,
            Ok("staging".into())
        );
    }
    assert_eq!(
        shown_in(&app, &[("authorization", &bearer(&staging))]).await,
        Ok("staging".into())
    );
    assert_eq!(
        shown_in(&app, &[("x-api-key", &staging), (env, "staging")]).await,
        Ok("staging".into())
    );
    assert_eq!(
        shown_in(&app, &[("x-api-key", &staging), (env, "prod")]).await,
        general(403)
    );
    // Several environments: prod when it acts there, else the header is required.
    assert_eq!(
        shown_in(&app, &[("x-api-key", &dev_prod)]).await,
        Ok("prod".into())
    );
    assert_eq!(
        shown_in(&app, &[("x-api-key", &dev_staging)]).await,
        general(400)
    );
    assert_eq!(
        shown_in(&app, &[("x-api-key", &dev_staging), (env, "dev")]).await,
        Ok("dev".into())
    );
    // An admin token acts everywhere: prod.
    assert_eq!(
        shown_in(&app, &[("x-api-key", crate::helpers::ADMIN_TOKEN)]).await,
        Ok("prod".into())
    );
    // Revoked: 401.
    let reply = app
        .delete(&format!("/api/admin/tokens/{staging_id}"))
        .admin()
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 204);
    let reply = app
        .post(BULK)
        .header("x-api-key", &staging)
        .json(&user_body())
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 401);
    assert_eq!(
        reply.json(),
        json!({"errorCode": "GENERAL", "errorDetails": "this token was revoked"})
    );
}

#[tokio::test]
async fn with_require_client_token_a_token_is_needed() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            require_client_token: true,
            ..Options::default()
        },
    )
    .await;
    let reply = app.post(BULK).json(&user_body()).send().await;
    assert_eq!(reply.status.as_u16(), 401);
    assert_eq!(
        reply.json(),
        json!({"errorCode": "GENERAL", "errorDetails": "missing token"})
    );
    assert_cors(&reply, "401");
    let (_, client) = create_token(&app, "client", &["dev"]).await;
    let reply = app
        .post(BULK)
        .header("x-api-key", &client)
        .json(&user_body())
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    // The stream's advert carries a ticket for this token (tests/api/stream.rs).
    let prefix = r#"{"flags":[],"eventStreams":[{"type":"sse","endpoint":{"requestUri":"/api/stream?environment=dev&ticket="#;
    assert!(reply.text.starts_with(prefix), "{}", reply.text);
    let reply = app
        .post(BULK)
        .header("x-api-key", &client)
        .header("x-pennon-environment", "prod")
        .json(&user_body())
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 403);
    assert_eq!(
        reply.json(),
        json!({"errorCode": "GENERAL",
            "errorDetails": "this token cannot act in the environment prod; it acts in: dev"})
    );
}

/// The bulk answer's ETag: `If-None-Match` with it is 304 (no body, the ETag again, CORS); it
/// changes with the context and with the environment's revision.
#[tokio::test]
async fn the_bulk_etag_revalidates_with_304() {
    let app = app_with_flags().await;
    let first = app.post(BULK).json(&user_body()).send().await;
    assert_eq!(first.status.as_u16(), 200);
    let etag = first.header("etag").expect("etag").to_owned();
    let again = app
        .post(BULK)
        .header("if-none-match", &etag)
        .json(&user_body())
        .send()
        .await;
    assert_eq!(again.status.as_u16(), 304);
    assert_eq!(again.text, "");
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_cors(&again, "304");
    // Weak, or in a list: the same.
    let weak = app
        .post(BULK)
        .header("if-none-match", &format!("\"x\", W/{etag}"))
        .json(&user_body())
        .send()
        .await;
    assert_eq!(weak.status.as_u16(), 304);
    // Another context: another ETag, a 200.
    let other = app
        .post(BULK)
        .header("if-none-match", &etag)
        .json(&json!({"context": {"targetingKey": "u-2"}}))
        .send()
        .await;
    assert_eq!(other.status.as_u16(), 200);
    assert_ne!(other.header("etag"), Some(etag.as_str()));
    // Another environment: another ETag.
    let dev = app
        .post(BULK)
        .header("if-none-match", &etag)
        .header("x-pennon-environment", "dev")
        .json(&user_body())
        .send()
        .await;
    assert_eq!(dev.status.as_u16(), 200);
    // A write to the environment: a new revision, a new ETag, a 200 with the change.
    app.create_flag(json!({"key": "new", "environment": "prod", "enabled": true}))
        .await;
    let changed = app
        .post(BULK)
        .header("if-none-match", &etag)
        .json(&user_body())
        .send()
        .await;
    assert_eq!(changed.status.as_u16(), 200, "{}", changed.text);
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    assert!(changed.text.contains(r#""key":"new""#));
    // The single route has no ETag.
    let one = app.post(&single("shown")).json(&user_body()).send().await;
    assert_eq!(one.header("etag"), None);
}

#[tokio::test]
async fn past_the_evaluate_rate_limit_429_with_retry_after_in_ofreps_shape() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            rate_limits: RateLimits {
                evaluate: Some(Rate {
                    count: NonZeroU32::new(2).unwrap(),
                    period: Duration::from_secs(60),
                }),
                admin_writes: None,
            },
            ..Options::default()
        },
    )
    .await;
    for _ in 0..2 {
        let reply = app.post(BULK).json(&user_body()).send().await;
        assert_eq!(reply.status.as_u16(), 200);
    }
    let bulk = app.post(BULK).json(&user_body()).send().await;
    assert_eq!(bulk.status.as_u16(), 429);
    let retry: u64 = bulk.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert_eq!(
        bulk.json(),
        json!({"errorCode": "GENERAL", "errorDetails": format!("too many requests; retry after {retry} s")})
    );
    assert_cors(&bulk, "429");
    let one = app.post(&single("k")).json(&user_body()).send().await;
    assert_eq!(one.status.as_u16(), 429);
    assert_eq!(one.json()["key"], "k");
    // The same class as /api/evaluate: its allowance is spent too.
    let evaluate = app
        .post("/api/evaluate")
        .json(&json!({"environment": "prod", "user": {"id": "u"}}))
        .send()
        .await;
    assert_eq!(evaluate.status.as_u16(), 429);
}

#[tokio::test]
async fn browsers_may_call_both_routes() {
    let app = app_with_flags().await;
    for path in [BULK.to_owned(), single("shown")] {
        let reply = app
            .call(reqwest::Method::OPTIONS, &path)
            .header("origin", "https://shop.example")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, x-api-key, if-none-match, x-pennon-environment",
            )
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 204, "{path}");
        let allowed = reply.header("access-control-allow-headers").unwrap();
        for header in [
            "x-api-key",
            "if-none-match",
            "x-pennon-environment",
            "authorization",
        ] {
            assert!(allowed.contains(header), "{path}: {allowed}");
        }
        assert!(reply
            .header("access-control-expose-headers")
            .unwrap()
            .contains("etag"));
        let ok = app.post(&path).json(&user_body()).send().await;
        assert_eq!(ok.status.as_u16(), 200);
        assert_cors(&ok, &path);
    }
}
