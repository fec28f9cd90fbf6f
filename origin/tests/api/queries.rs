//! The query strings of the reads: flag ids in any spelling in `?entityId=`, `limit` in canonical
//! decimal only, unknown snapshot parameters refused, and no client text echoed whole in a 400.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, Reply, TestApp, EDGE_TOKEN};

backend_tests!(
    audit_finds_a_flag_id_in_every_spelling_the_paths_accept,
    audit_limit_is_canonical_decimal,
    snapshot_refuses_unknown_parameters,
    long_client_text_is_cut_in_every_message,
);

/// The first 64 characters of a client's text and `…`: what a message repeats of a longer one.
fn cut(text: &str) -> String {
    format!("{}…", text.chars().take(64).collect::<String>())
}

fn ids(page: &Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn audit_finds_a_flag_id_in_every_spelling_the_paths_accept(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
    app.create_flag(json!({"key": "other", "environment": "prod"}))
        .await;
    let id = flag["id"].as_str().expect("id").to_owned();
    let reply = app
        .put(&format!("/api/admin/flags/{id}"))
        .admin()
        .json(&json!({"enabled": true}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let expected = ids(&app.audit(&format!("?entityId={id}")).await);
    assert_eq!(expected.len(), 2);
    let upper = id.to_uppercase();
    let simple = id.replace('-', "");
    for spelling in [
        upper.clone(),
        format!("%7B{id}%7D"),
        format!("%7B{upper}%7D"),
        simple,
        format!("urn:uuid:{id}"),
    ] {
        // The path takes the same spellings.
        let path = app
            .get(&format!("/api/admin/flags/{spelling}"))
            .admin()
            .send()
            .await;
        assert_eq!(path.status.as_u16(), 200, "{spelling}: {}", path.text);
        let page = app.audit(&format!("?entityId={spelling}")).await;
        assert_eq!(ids(&page), expected, "{spelling}");
    }
    // Anything that is not a UUID is matched as it is: no entity has that id.
    for other in ["k", "not-a-uuid", "%7Bk%7D"] {
        let page = app.audit(&format!("?entityId={other}")).await;
        assert_eq!(ids(&page), Vec::<String>::new(), "{other}");
    }
}

async fn audit_limit_is_canonical_decimal(backend: Backend) {
    let app = spawn_app(backend).await;
    for key in ["a", "b", "c"] {
        app.create_flag(json!({"key": key, "environment": "dev"}))
            .await;
    }
    assert_eq!(ids(&app.audit("?limit=2").await).len(), 2);
    assert_eq!(ids(&app.audit("?limit=").await).len(), 3);
    for bad in ["05", "%2B5", "+5", "-0", "007", "5.0", "%205", "0x5", "٥"] {
        let reply = app
            .get(&format!("/api/admin/audit?limit={bad}"))
            .admin()
            .send()
            .await;
        assert_eq!(
            reply.error(400),
            "limit: must be a whole number from 1 to 500, in decimal digits without a sign or \
             leading zeros",
            "{bad}"
        );
    }
}

async fn snapshot_refuses_unknown_parameters(backend: Backend) {
    let app = spawn_app(backend).await;
    let snapshot = |query: &str| {
        app.get(&format!("/api/flags/snapshot?{query}"))
            .header("x-edge-token", EDGE_TOKEN)
            .send()
    };
    assert_eq!(snapshot("environment=prod").await.status.as_u16(), 200);
    for (query, message) in [
        (
            "environment=prod&enviroment=dev",
            "enviroment: unknown field `enviroment`, expected `environment`",
        ),
        (
            "env=prod",
            "env: unknown field `env`, expected `environment`",
        ),
        (
            "environment=prod&environment=dev",
            "duplicate field `environment`",
        ),
    ] {
        assert_eq!(snapshot(query).await.error(400), message, "{query}");
    }
    // The token is checked first: without it, nothing about the query is said.
    let reply = app.get("/api/flags/snapshot?env=prod").send().await;
    assert_eq!(reply.error(401), "missing token");
}

/// An 8 KB value or name is repeated only as its first 64 characters and `…`: in the query
/// (parameter names, environments) and in bodies (operators, fields, unknown keys).
async fn long_client_text_is_cut_in_every_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let long = "z".repeat(8 * 1024);
    let z = cut(&long);
    let get = |path: String, edge: bool| {
        let call = app.get(&path);
        if edge {
            call.header("x-edge-token", EDGE_TOKEN)
        } else {
            call.admin()
        }
        .send()
    };
    let environment =
        format!("environment: must be one of \"dev\", \"staging\", \"prod\", not \"{z}\"");
    let cases = [
        (
            get(format!("/api/admin/flags?{long}=1"), false).await,
            format!("{z}: unknown field `{z}`, expected one of `environment`, `key`, `stale`, `include`"),
        ),
        (
            get(format!("/api/admin/flags?environment={long}"), false).await,
            environment.clone(),
        ),
        (
            get(format!("/api/admin/audit?{long}"), false).await,
            format!("{z}: unknown field `{z}`, expected one of `entityId`, `limit`, `before`"),
        ),
        (
            get(format!("/api/flags/snapshot?environment={long}"), true).await,
            environment.clone(),
        ),
        (
            get(
                format!("/api/flags/snapshot?environment=prod&{long}=1"),
                true,
            )
            .await,
            format!("{z}: unknown field `{z}`, expected `environment`"),
        ),
    ];
    for (reply, expected) in cases {
        assert_eq!(reply.error(400), expected);
    }
    let body_cases = [
        (
            post(
                &app,
                "/api/evaluate",
                json!({"environment": long, "user": {"id": "u"}}),
            )
            .await,
            environment,
        ),
        (
            post(
                &app,
                "/api/evaluate",
                json!({"environment": "prod", "user": {"id": "u", long.as_str(): 1}}),
            )
            .await,
            format!("user.{z}: unknown field; custom attributes go under user.attributes"),
        ),
        (
            post(
                &app,
                "/api/admin/flags",
                json!({"key": "k", "environment": "prod", long.as_str(): 1}),
            )
            .await,
            format!("{z}: unknown field"),
        ),
        (
            post(
                &app,
                "/api/admin/flags",
                json!({"key": "k", "environment": "prod",
                       "rules": [{"field": "id", "operator": long, "value": "x"}]}),
            )
            .await,
            format!(
                "rules[0].operator: unknown operator \"{z}\"; use one of eq, neq, in, not_in, \
                 starts_with, ends_with, contains, lt, lte, gt, gte, semver_eq, semver_lt, \
                 semver_gt, before, after, exists"
            ),
        ),
        (
            post(
                &app,
                "/api/admin/flags",
                json!({"key": "k", "environment": "prod",
                       "rules": [{"field": long, "operator": "eq", "value": "x"}]}),
            )
            .await,
            format!(
                "rules[0].field: unknown field \"{z}\"; use \"id\", \"email\", \"country\" or \
                 \"attributes.<path>\""
            ),
        ),
        (
            post(
                &app,
                "/api/admin/kill-switch",
                json!({"key": "k", long.as_str(): 1}),
            )
            .await,
            format!("{z}: unknown field"),
        ),
    ];
    for (reply, expected) in body_cases {
        assert_eq!(reply.error(400), expected);
    }
    assert_nothing_written(&app).await;
}

async fn post(app: &TestApp, path: &str, body: Value) -> Reply {
    let call = app.post(path).json(&body);
    if path.starts_with("/api/admin") {
        call.admin()
    } else {
        call
    }
    .send()
    .await
}

async fn assert_nothing_written(app: &TestApp) {
    assert_eq!(ids(&app.audit("").await), Vec::<String>::new());
}
