//! `GET /openapi.json`: the document is valid OpenAPI 3.1, it describes exactly the routes the
//! server has, and every answer the server gives in a run over every route has a documented status
//! and a body that validates against the documented schema. Pure HTTP behaviour: SQLite only.
//!
//! Validation is done in Rust by the `jsonschema` crate (draft 2020-12, `$dynamicRef` included)
//! against the OpenAPI Initiative's own schemas, vendored in `tests/openapi/` (see its README): no
//! Python or network in CI, and the same validator checks the answers against the document.
//! `a_broken_document_is_refused` proves that it really rejects what it must, Schema Objects
//! included (which only the `$dynamicRef` to the OAS dialect reaches).

use std::collections::BTreeSet;

use http_contract::path;
use jsonschema::{Draft, Registry, Validator};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    spawn_app, spawn_app_with, Backend, Options, Reply, TestApp, ADMIN_TOKEN, EDGE_TOKEN,
};

const OAS_SCHEMA: &str = include_str!("../openapi/oas-3.1-schema.json");
const OAS_DIALECT: &str = include_str!("../openapi/oas-3.1-dialect-base.json");
const OAS_META: &str = include_str!("../openapi/oas-3.1-meta-base.json");

/// Where the document under test is registered, so that its `#/components/...` references resolve.
const DOCUMENT_URI: &str = "https://pennon.invalid/openapi.json";

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("vendored JSON")
}

/// A validator of whole OpenAPI 3.1 documents: the OAI's `schema` with Schema Objects checked
/// against the OAS dialect, composed as the OAI's `schema-base` composes them.
fn oas_validator() -> Validator {
    let registry = Registry::new()
        .add(
            "https://spec.openapis.org/oas/3.1/schema/2022-10-07",
            parse(OAS_SCHEMA),
        )
        .and_then(|r| {
            r.add(
                "https://spec.openapis.org/oas/3.1/dialect/base",
                parse(OAS_DIALECT),
            )
        })
        .and_then(|r| {
            r.add(
                "https://spec.openapis.org/oas/3.1/meta/base",
                parse(OAS_META),
            )
        })
        .and_then(|r| r.prepare())
        .expect("the OAS schemas register");
    let schema_base = json!({
        "$id": "https://spec.openapis.org/oas/3.1/schema-base/2022-10-07",
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "https://spec.openapis.org/oas/3.1/schema/2022-10-07",
        "properties": {"jsonSchemaDialect": {"$ref": "#/$defs/dialect"}},
        "$defs": {
            "dialect": {"const": "https://spec.openapis.org/oas/3.1/dialect/base"},
            "schema": {
                "$dynamicAnchor": "meta",
                "$ref": "https://spec.openapis.org/oas/3.1/dialect/base",
                "properties": {"$schema": {"$ref": "#/$defs/dialect"}}
            }
        }
    });
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(&registry)
        .build(&schema_base)
        .expect("the OAS 3.1 schema builds")
}

fn oas_errors(validator: &Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

async fn document(app: &TestApp) -> Value {
    let reply = app.get(path::OPENAPI).send().await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    reply.json()
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let app = spawn_app(Backend::Sqlite).await;
    let document = document(&app).await;
    assert_eq!(document["openapi"], "3.1.0");
    let errors = oas_errors(&oas_validator(), &document);
    assert!(errors.is_empty(), "{errors:#?}");
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["adminTokenHeader"]["name"], "x-admin-token");
    assert_eq!(schemes["edgeTokenHeader"]["name"], "x-edge-token");
}

/// One way of breaking a document.
type Break = fn(&mut Value);

/// The validator is no rubber stamp: each of these breaks one rule of OpenAPI 3.1 (the second
/// only through the `$dynamicRef` to the Schema Object dialect, the third only through
/// `unevaluatedProperties`).
#[tokio::test]
async fn a_broken_document_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let good = document(&app).await;
    let validator = oas_validator();
    let breaks: [(&str, Break); 5] = [
        ("no info", |d| {
            d.as_object_mut().unwrap().remove("info");
        }),
        ("a Schema Object with an unknown type", |d| {
            d["components"]["schemas"]["Flag"]["properties"]["key"]["type"] = json!("strnig");
        }),
        ("a path without its leading slash", |d| {
            d["paths"]["health"] = json!({});
        }),
        ("a parameter in the body", |d| {
            d["paths"]["/api/admin/flags"]["get"]["parameters"][0]["in"] = json!("body");
        }),
        ("a status that is not one", |d| {
            let responses = &mut d["paths"]["/health"]["get"]["responses"];
            responses["2000"] = responses["200"].clone();
        }),
    ];
    for (what, break_it) in breaks {
        let mut broken = good.clone();
        break_it(&mut broken);
        assert!(
            !oas_errors(&validator, &broken).is_empty(),
            "{what}: accepted"
        );
    }
}

const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
];

/// The document and the route table agree, both ways, for every path the document names: each
/// documented method is routed (the answer is not the router's 404 or 405 fallback, whatever the
/// handler then says of the made-up id and body), and every other method is 405 (`HEAD` is
/// answered wherever `GET` is, as HTTP has it). A route at a path the document does not name at
/// all cannot be probed from here: `routes::tests::routes_are_only_added_with_their_description`
/// keeps the router from registering anything but described routes.
#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_exists() {
    let app = spawn_app(Backend::Sqlite).await;
    let document = document(&app).await;
    let paths = document["paths"].as_object().expect("paths");
    for shared in [path::EVALUATE, path::HEALTH, path::SNAPSHOT, path::OPENAPI] {
        assert!(paths.contains_key(shared), "{shared} is not documented");
    }
    for (template, item) in paths {
        let concrete = template
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{key}", "some.flag");
        let documented: BTreeSet<String> = item
            .as_object()
            .expect("path item")
            .keys()
            .map(|m| m.to_ascii_uppercase())
            .filter(|m| METHODS.contains(&m.as_str()))
            .collect();
        for method in METHODS {
            let routed =
                documented.contains(method) || (method == "HEAD" && documented.contains("GET"));
            let reply = app
                .call(Method::from_bytes(method.as_bytes()).unwrap(), &concrete)
                .header("x-admin-token", ADMIN_TOKEN)
                .header("x-edge-token", EDGE_TOKEN)
                .raw("{}")
                .send()
                .await;
            let status = reply.status.as_u16();
            let fallback = status == 405
                || (status == 404 && reply.text.contains(http_contract::error::NO_SUCH_ENDPOINT));
            if routed {
                assert!(
                    !fallback,
                    "{method} {template} is documented but answers {status}: {}",
                    reply.text
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {template} is not documented: {}",
                    reply.text
                );
            }
        }
    }
    let reply = app
        .get("/api/admin/nope")
        .header("x-admin-token", ADMIN_TOKEN)
        .send()
        .await;
    assert_eq!(reply.error(404), http_contract::error::NO_SUCH_ENDPOINT);
}

/// The document, and a validator per documented response schema.
struct Contract {
    document: Value,
    registry: Registry<'static>,
    /// (method, path template, status) of every answer checked so far.
    seen: BTreeSet<(String, String, u16)>,
}

impl Contract {
    fn new(document: Value) -> Self {
        let registry = Registry::new()
            .add(DOCUMENT_URI, document.clone())
            .and_then(|r| r.prepare())
            .expect("the document registers");
        Self {
            document,
            registry,
            seen: BTreeSet::new(),
        }
    }

    /// `Ok` when `reply`'s status is documented for `method template`, its documented headers are
    /// there, and its body is empty when none is documented or validates against the documented
    /// schema (formats included).
    fn check(&mut self, method: &str, template: &str, reply: &Reply) -> Result<(), String> {
        let status = reply.status.as_u16();
        let what = format!("{method} {template} → {status}");
        let operation = &self.document["paths"][template][method.to_ascii_lowercase()];
        if operation.is_null() {
            return Err(format!("{what}: no such operation in the document"));
        }
        let response = &operation["responses"][status.to_string()];
        if response.is_null() {
            return Err(format!(
                "{what}: status not documented; body {}",
                reply.text
            ));
        }
        for name in response["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(n, _)| n)
        {
            if name != "Retry-After" && reply.header(name).is_none() {
                return Err(format!("{what}: documented header {name} is missing"));
            }
        }
        // A text answer (`/metrics`): its content type must be the one documented, as a string.
        if let Some(content_type) = reply.header("content-type") {
            let documented = &response["content"][content_type];
            if content_type != "application/json" && documented.is_object() {
                if documented["schema"]["type"] != "string" || reply.text.is_empty() {
                    return Err(format!(
                        "{what}: {content_type} is documented as {documented}"
                    ));
                }
                self.seen
                    .insert((method.to_owned(), template.to_owned(), status));
                return Ok(());
            }
        }
        match response["content"]["application/json"]["schema"].clone() {
            Value::Null => {
                if !reply.text.is_empty() {
                    return Err(format!("{what}: no body documented, got {}", reply.text));
                }
            }
            schema => {
                let body: Value = serde_json::from_str(&reply.text)
                    .map_err(|e| format!("{what}: not JSON ({e}): {}", reply.text))?;
                let validator = jsonschema::options()
                    .with_draft(Draft::Draft202012)
                    .with_registry(&self.registry)
                    .should_validate_formats(true)
                    .build(&absolute_refs(schema))
                    .map_err(|e| format!("{what}: schema does not build: {e}"))?;
                let errors: Vec<String> = validator
                    .iter_errors(&body)
                    .map(|e| format!("{e} at {}", e.instance_path()))
                    .collect();
                if !errors.is_empty() {
                    return Err(format!("{what}: {errors:#?}\nbody: {body}"));
                }
            }
        }
        self.seen
            .insert((method.to_owned(), template.to_owned(), status));
        Ok(())
    }

    /// Sends `method path` (a JSON body when given), checks the answer, and returns it.
    async fn send(
        &mut self,
        app: &TestApp,
        method: Method,
        template: &str,
        concrete: &str,
        prepare: impl FnOnce(crate::helpers::Call) -> crate::helpers::Call,
    ) -> Reply {
        let reply = prepare(app.call(method.clone(), concrete)).send().await;
        if let Err(message) = self.check(method.as_str(), template, &reply) {
            panic!("{message}");
        }
        reply
    }

    /// `GET template` for a stream: a documented 200 whose documented content type and headers
    /// it has, and whose first bytes are the `retry:` field. The body is not read to its end.
    async fn check_stream(&mut self, app: &TestApp, template: &str, concrete: &str) {
        let response = app
            .client
            .get(format!("{}{concrete}", app.base))
            .send()
            .await
            .expect("the stream opens");
        let what = format!("GET {template} ({concrete})");
        assert_eq!(response.status().as_u16(), 200, "{what}");
        let documented = &self.document["paths"][template]["get"]["responses"]["200"];
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            documented["content"][&content_type].is_object(),
            "{what}: {content_type} is not documented"
        );
        for (name, _) in documented["headers"].as_object().into_iter().flatten() {
            assert!(
                response.headers().contains_key(name.as_str()),
                "{what}: {name}"
            );
        }
        let mut response = response;
        let first = response
            .chunk()
            .await
            .expect("reads")
            .expect("a first chunk");
        assert!(first.starts_with(b"retry: "), "{what}: {first:?}");
        self.seen.insert(("GET".into(), template.into(), 200));
    }

    /// Every documented operation was answered at least once.
    fn assert_every_operation_seen(&self) {
        for (template, item) in self.document["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("item").keys() {
                let method = method.to_ascii_uppercase();
                assert!(
                    self.seen
                        .iter()
                        .any(|(m, t, _)| *m == method && t == template),
                    "{method} {template} was never checked"
                );
            }
        }
    }
}

/// `#/components/...` → `<DOCUMENT_URI>#/components/...`, so a schema taken out of the document
/// resolves its references inside it.
fn absolute_refs(schema: Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| match (key.as_str(), value) {
                    ("$ref", Value::String(r)) if r.starts_with('#') => {
                        (key, Value::String(format!("{DOCUMENT_URI}{r}")))
                    }
                    (_, value) => (key, absolute_refs(value)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(absolute_refs).collect()),
        other => other,
    }
}

fn admin(call: crate::helpers::Call) -> crate::helpers::Call {
    call.admin()
}

/// A run over every route and its main statuses, each answer checked against the document.
#[tokio::test]
async fn every_answer_matches_the_document() {
    // Signing on: the snapshot's answers carry their documented `Pennon-Signature`.
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            signing: Some(crate::signing::signing()),
            ..Options::default()
        },
    )
    .await;
    let mut c = Contract::new(document(&app).await);
    let (get, post, put, delete) = (Method::GET, Method::POST, Method::PUT, Method::DELETE);
    let nobody = uuid::Uuid::new_v4().to_string();

    c.send(&app, get.clone(), "/health", "/health", |x| x).await;
    c.send(&app, get.clone(), "/openapi.json", "/openapi.json", |x| x)
        .await;
    for public in [
        "/health",
        "/api/evaluate",
        "/openapi.json",
        "/ofrep/v1/evaluate/flags",
        "/ofrep/v1/evaluate/flags/{key}",
        "/api/stream",
        "/api/flags/signing-keys",
    ] {
        c.send(&app, Method::OPTIONS, public, public, |x| x).await;
    }

    // Segments.
    let segs = "/api/admin/segments";
    let seg = "/api/admin/segments/{id}";
    let beta = json!({"key": "beta", "environment": "prod", "description": "Beta",
        "include": ["u1", "u2"],
        "rules": [{"field": "attributes.plan", "operator": "eq", "value": "pro"},
                  {"all": [{"field": "country", "operator": "in", "value": ["DE", "AT", 3, true]},
                           {"field": "attributes.seen", "operator": "before", "value": "2030-01-01T00:00:00Z"}]}]});
    let reply = c
        .send(&app, post.clone(), segs, segs, |x| x.admin().json(&beta))
        .await;
    assert_eq!(reply.status.as_u16(), 201);
    let beta_id = reply.json()["segment"]["id"].as_str().unwrap().to_owned();
    let beta_path = format!("{segs}/{beta_id}");
    let reply = c
        .send(&app, post.clone(), segs, segs, |x| x.admin().json(&beta))
        .await;
    assert_eq!(reply.status.as_u16(), 409);
    c.send(&app, post.clone(), segs, segs, |x| x.json(&beta))
        .await
        .error(401);
    c.send(&app, post.clone(), segs, segs, |x| {
        x.admin().typed(Some("text/plain"), "{}")
    })
    .await
    .error(415);
    c.send(&app, post.clone(), segs, segs, |x| {
        x.admin().json(&json!({"key": "x"}))
    })
    .await
    .error(400);
    c.send(
        &app,
        get.clone(),
        segs,
        "/api/admin/segments?environment=prod",
        admin,
    )
    .await;
    c.send(
        &app,
        get.clone(),
        segs,
        "/api/admin/segments?enviroment=prod",
        admin,
    )
    .await
    .error(400);
    c.send(&app, get.clone(), seg, &beta_path, admin).await;
    c.send(&app, get.clone(), seg, &format!("{segs}/{nobody}"), admin)
        .await
        .error(404);
    let update = json!({"description": "Beta customers"});
    c.send(&app, put.clone(), seg, &beta_path, |x| {
        x.admin().header("if-match", "7").json(&update)
    })
    .await
    .error(409);
    let reply = c
        .send(&app, put.clone(), seg, &beta_path, |x| {
            x.admin().header("if-match", "1").json(&update)
        })
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    c.send(&app, put.clone(), seg, &beta_path, |x| {
        x.admin().json(&json!({"key": "b"}))
    })
    .await
    .error(400);
    c.send(&app, put.clone(), seg, &format!("{segs}/{nobody}"), |x| {
        x.admin().json(&update)
    })
    .await
    .error(404);

    // Flags of every type, with v2's fields.
    let flags = "/api/admin/flags";
    let flag = "/api/admin/flags/{id}";
    let checkout = json!({"key": "checkout", "environment": "prod", "enabled": true,
        "description": "New checkout",
        "rules": [{"field": "email", "operator": "ends_with", "value": "@example.com"},
                  {"segment": "beta"},
                  {"all": [{"field": "attributes.org.tier", "operator": "gte", "value": 2},
                           {"notSegment": "beta"}], "serve": "off"},
                  {"field": "attributes.version", "operator": "semver_gt", "value": "1.2.3"}],
        "rolloutPercentage": 25});
    let theme = json!({"key": "theme", "environment": "prod", "enabled": true, "type": "string",
        "variants": {"dark": "dark", "light": "light"}, "offVariant": "light",
        "prerequisites": [{"flag": "checkout", "variants": ["on"]}],
        "rules": [{"segment": "beta", "serve": "dark"},
                  {"field": "country", "operator": "eq", "value": "DE",
                   "serve": {"split": [{"variant": "dark", "weight": 30000}, {"variant": "light", "weight": 70000}],
                             "bucketBy": "attributes.companyId", "salt": "s1"}}],
        "fallthrough": {"split": [{"variant": "dark", "weight": 50000}, {"variant": "light", "weight": 50000}]}});
    let limits = json!({"key": "limits", "environment": "prod", "enabled": true, "type": "object",
        "variants": {"small": {"n": 1}, "big": {"n": 10, "tags": ["a"], "nested": {"x": null}}},
        "offVariant": "small", "fallthrough": "big"});
    let ratio = json!({"key": "ratio", "environment": "dev", "type": "number",
        "variants": {"low": 0.5, "high": 2}, "offVariant": "low", "fallthrough": "high"});
    let mut ids = Vec::new();
    for body in [&checkout, &theme, &limits, &ratio] {
        let reply = c
            .send(&app, post.clone(), flags, flags, |x| x.admin().json(body))
            .await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
        ids.push(reply.json()["flag"]["id"].as_str().unwrap().to_owned());
    }
    let checkout_path = format!("{flags}/{}", ids[0]);
    let theme_path = format!("{flags}/{}", ids[1]);
    c.send(&app, post.clone(), flags, flags, |x| {
        x.admin().json(&checkout)
    })
    .await
    .error(409);
    c.send(&app, post.clone(), flags, flags, |x| {
        x.admin()
            .json(&json!({"key": "k", "environment": "prod", "enable": true}))
    })
    .await
    .error(400);
    let big = format!(
        "{{\"key\": \"k\", \"environment\": \"prod\", \"description\": \"{}\"}}",
        "x".repeat(1 << 20)
    );
    c.send(&app, post.clone(), flags, flags, |x| x.admin().raw(big))
        .await
        .error(413);
    c.send(&app, get.clone(), flags, flags, admin).await;
    c.send(
        &app,
        get.clone(),
        flags,
        "/api/admin/flags?environment=prod&key=theme",
        admin,
    )
    .await;
    c.send(
        &app,
        get.clone(),
        flags,
        "/api/admin/flags?environment=nope",
        admin,
    )
    .await
    .error(400);
    c.send(
        &app,
        get.clone(),
        flags,
        "/api/admin/flags?include=usage&stale=1d",
        admin,
    )
    .await;
    c.send(&app, get.clone(), flags, "/api/admin/flags?stale=1w", admin)
        .await
        .error(400);
    c.send(&app, get.clone(), flags, flags, |x| x)
        .await
        .error(401);
    c.send(&app, get.clone(), flag, &theme_path, admin).await;
    c.send(&app, get.clone(), flag, &format!("{flags}/{nobody}"), admin)
        .await
        .error(404);
    let update = json!({"description": "Checkout v2", "rolloutPercentage": 50});
    c.send(&app, put.clone(), flag, &checkout_path, |x| {
        x.admin().header("if-match", "\"9\"").json(&update)
    })
    .await
    .error(409);
    c.send(&app, put.clone(), flag, &checkout_path, |x| {
        x.admin()
            .header("if-match", "\"1\"")
            .header("x-actor", "alice")
            .json(&update)
    })
    .await;
    c.send(&app, put.clone(), flag, &checkout_path, |x| {
        x.admin().header("if-match", "nope").json(&update)
    })
    .await
    .error(400);
    c.send(&app, put.clone(), flag, &checkout_path, |x| {
        x.admin().typed(None, "{}")
    })
    .await
    .error(415);
    c.send(&app, put.clone(), flag, &format!("{flags}/{nobody}"), |x| {
        x.admin().json(&update)
    })
    .await
    .error(404);

    // The kill switch.
    let kill = "/api/admin/kill-switch";
    c.send(&app, post.clone(), kill, kill, |x| {
        x.admin()
            .header("if-match", "1")
            .json(&json!({"key": "checkout"}))
    })
    .await
    .error(409);
    c.send(&app, post.clone(), kill, kill, |x| {
        x.admin().json(&json!({"key": "limits"}))
    })
    .await;
    c.send(&app, post.clone(), kill, kill, |x| {
        x.admin().json(&json!({"key": "nope"}))
    })
    .await
    .error(404);
    c.send(&app, post.clone(), kill, kill, |x| {
        x.admin().json(&json!({"flag": "nope"}))
    })
    .await
    .error(400);

    // Evaluate, with every type of value.
    let evaluate = "/api/evaluate";
    let user = json!({"id": "u1", "email": "a@example.com", "country": "DE",
        "attributes": {"plan": "pro", "org": {"tier": 2}, "companyId": "c9", "version": "1.3.0"}});
    c.send(&app, post.clone(), evaluate, evaluate, |x| {
        x.json(&json!({"environment": "prod", "user": user}))
    })
    .await;
    let reply = c
        .send(&app, post.clone(), evaluate, evaluate, |x| {
            x.json(&json!({"environment": "dev", "user": {"id": "u2"}, "flags": ["ratio", "nope"]}))
        })
        .await;
    let results = reply.json()["results"].clone();
    assert_eq!(results[0]["flagKey"], "nope");
    assert_eq!(results[0]["reason"], "FLAG_NOT_FOUND");
    c.send(&app, post.clone(), evaluate, evaluate, |x| {
        x.json(&json!({"user": {"id": "u"}}))
    })
    .await
    .error(400);
    c.send(&app, post.clone(), evaluate, evaluate, |x| {
        x.typed(Some("text/plain"), "{}")
    })
    .await
    .error(415);

    // OFREP: a success of every type, each error code and status, the bulk answer and its 304.
    let one = "/ofrep/v1/evaluate/flags/{key}";
    let bulk = "/ofrep/v1/evaluate/flags";
    let context = json!({"context": {"targetingKey": "u1", "email": "a@example.com",
        "country": "DE", "plan": "pro", "org": {"tier": 2}, "companyId": "c9", "version": "1.3.0"}});
    let flags_of_prod = c
        .send(&app, post.clone(), bulk, bulk, |x| x.json(&context))
        .await;
    assert_eq!(flags_of_prod.status.as_u16(), 200, "{}", flags_of_prod.text);
    let items = flags_of_prod.json()["flags"].as_array().unwrap().clone();
    assert!(!items.is_empty());
    for item in &items {
        let key = item["key"].as_str().unwrap();
        let reply = c
            .send(
                &app,
                post.clone(),
                one,
                &format!("/ofrep/v1/evaluate/flags/{key}"),
                |x| x.json(&context),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    }
    let etag = flags_of_prod.header("etag").expect("etag").to_owned();
    let reply = c
        .send(&app, post.clone(), bulk, bulk, |x| {
            x.header("if-none-match", &etag).json(&context)
        })
        .await;
    assert_eq!(reply.status.as_u16(), 304);
    let nope = "/ofrep/v1/evaluate/flags/nope";
    c.send(&app, post.clone(), one, nope, |x| x.json(&context))
        .await;
    for (body, path) in [
        ("{", one),
        (r#"{"context":{}}"#, bulk),
        (r#"{"context":7}"#, one),
    ] {
        let concrete = if path == one { nope } else { bulk };
        let reply = c
            .send(&app, post.clone(), path, concrete, |x| x.raw(body))
            .await;
        assert_eq!(reply.status.as_u16(), 400);
    }
    for path in [one, bulk] {
        let concrete = if path == one { nope } else { bulk };
        c.send(&app, post.clone(), path, concrete, |x| {
            x.header("x-api-key", "wrong").json(&context)
        })
        .await;
        c.send(&app, post.clone(), path, concrete, |x| {
            x.typed(Some("text/plain"), "{}")
        })
        .await;
    }
    let reply = c
        .send(&app, post.clone(), bulk, bulk, |x| {
            x.header("x-pennon-environment", "moon").json(&context)
        })
        .await;
    assert_eq!(reply.status.as_u16(), 400);

    // The change stream: its errors as usual, its 200 (which never ends) through `check_stream`.
    let stream = "/api/stream";
    let advert = c
        .send(&app, post.clone(), bulk, bulk, |x| x.admin().json(&context))
        .await;
    let ticketed = advert.json()["eventStreams"][0]["endpoint"]["requestUri"]
        .as_str()
        .expect("an advert")
        .to_owned();
    assert!(ticketed.starts_with("/api/stream?environment=prod&ticket="));
    for (concrete, status) in [
        ("/api/stream".to_owned(), 400),
        ("/api/stream?environment=prod&ticket=forged".to_owned(), 401),
        (
            ticketed.replacen("environment=prod", "environment=dev", 1),
            403,
        ),
    ] {
        c.send(&app, get.clone(), stream, &concrete, |x| x)
            .await
            .error(status);
    }
    c.check_stream(&app, stream, &ticketed).await;
    c.check_stream(&app, stream, "/api/stream?environment=dev")
        .await;

    // The snapshot, and the key that verifies its signature.
    let keys = "/api/flags/signing-keys";
    c.send(&app, get.clone(), keys, keys, |x| x).await;
    let snapshot = "/api/flags/snapshot";
    let reply = c
        .send(
            &app,
            get.clone(),
            snapshot,
            "/api/flags/snapshot?environment=prod",
            |x| x.header("x-edge-token", EDGE_TOKEN),
        )
        .await;
    let etag = reply.header("etag").expect("etag").to_owned();
    let reply = c
        .send(
            &app,
            get.clone(),
            snapshot,
            "/api/flags/snapshot?environment=prod",
            |x| {
                x.header("x-edge-token", EDGE_TOKEN)
                    .header("if-none-match", &etag)
            },
        )
        .await;
    assert_eq!(reply.status.as_u16(), 304);
    c.send(
        &app,
        get.clone(),
        snapshot,
        "/api/flags/snapshot?environment=prod",
        |x| x,
    )
    .await
    .error(401);
    c.send(&app, get.clone(), snapshot, snapshot, |x| {
        x.header("x-edge-token", EDGE_TOKEN)
    })
    .await
    .error(400);

    // Deletes, the ones refused first.
    c.send(&app, delete.clone(), flag, &checkout_path, admin)
        .await
        .error(409);
    c.send(&app, delete.clone(), seg, &beta_path, admin)
        .await
        .error(409);
    c.send(&app, delete.clone(), flag, &theme_path, |x| {
        x.admin().header("if-match", "5")
    })
    .await
    .error(409);
    let reply = c
        .send(&app, delete.clone(), flag, &theme_path, |x| {
            x.admin().header("if-match", "1")
        })
        .await;
    assert_eq!(reply.status.as_u16(), 204);
    c.send(
        &app,
        delete.clone(),
        flag,
        &format!("{flags}/{nobody}"),
        admin,
    )
    .await
    .error(404);
    c.send(&app, delete.clone(), flag, &checkout_path, admin)
        .await;
    c.send(&app, delete.clone(), seg, &beta_path, |x| {
        x.admin().header("x-actor", "bob")
    })
    .await;
    c.send(
        &app,
        delete.clone(),
        seg,
        &format!("{segs}/{nobody}"),
        admin,
    )
    .await
    .error(404);

    // Tokens: created (the secret once), listed, read, revoked; a viewer is refused (403); a bad
    // body names the field.
    let tokens = "/api/admin/tokens";
    let token = "/api/admin/tokens/{id}";
    let reply = c
        .send(&app, post.clone(), tokens, tokens, |x| {
            x.admin()
                .json(&json!({"name": "ci", "role": "viewer", "environments": ["dev"]}))
        })
        .await;
    assert_eq!(reply.status.as_u16(), 201);
    let viewer = reply.json()["secret"].as_str().unwrap().to_owned();
    let token_path = format!("{tokens}/{}", reply.json()["token"]["id"].as_str().unwrap());
    c.send(&app, post.clone(), tokens, tokens, |x| {
        x.admin().json(&json!({"name": "ci", "role": "root"}))
    })
    .await
    .error(400);
    c.send(&app, get.clone(), tokens, tokens, admin).await;
    c.send(&app, get.clone(), tokens, tokens, |x| {
        x.header("authorization", &format!("Bearer {viewer}"))
    })
    .await
    .error(403);
    c.send(&app, get.clone(), token, &token_path, admin).await;
    c.send(
        &app,
        get.clone(),
        token,
        &format!("{tokens}/{nobody}"),
        admin,
    )
    .await
    .error(404);
    let reply = c
        .send(&app, delete.clone(), token, &token_path, admin)
        .await;
    assert_eq!(reply.status.as_u16(), 204);
    c.send(
        &app,
        delete.clone(),
        token,
        &format!("{tokens}/{nobody}"),
        admin,
    )
    .await
    .error(404);
    // The revoked token's record is a side of its audit entries.
    c.send(
        &app,
        get.clone(),
        "/api/admin/audit",
        &format!(
            "/api/admin/audit?entityId={}",
            token_path.rsplit('/').next().unwrap()
        ),
        admin,
    )
    .await;

    // The audit log: flags and segments on both sides, and a page with a cursor.
    let audit = "/api/admin/audit";
    let reply = c.send(&app, get.clone(), audit, audit, admin).await;
    let actions: BTreeSet<String> = reply.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for action in [
        "CREATE_FLAG",
        "UPDATE_FLAG",
        "DELETE_FLAG",
        "KILL_SWITCH",
        "CREATE_SEGMENT",
        "UPDATE_SEGMENT",
        "DELETE_SEGMENT",
    ] {
        assert!(actions.contains(action), "{action} not in {actions:?}");
    }
    let reply = c
        .send(&app, get.clone(), audit, "/api/admin/audit?limit=1", admin)
        .await;
    assert!(reply.json()["nextCursor"].is_string());
    c.send(
        &app,
        get.clone(),
        audit,
        &format!("/api/admin/audit?entityId={}", ids[0]),
        admin,
    )
    .await;
    c.send(&app, get.clone(), audit, "/api/admin/audit?limit=0", admin)
        .await
        .error(400);
    c.send(&app, get.clone(), audit, audit, |x| {
        x.header("x-admin-token", "wrong")
    })
    .await
    .error(401);

    // The context sample: off here (404, documented).
    let contexts = "/api/admin/contexts";
    c.send(
        &app,
        get.clone(),
        contexts,
        "/api/admin/contexts?environment=prod",
        admin,
    )
    .await
    .error(404);
    c.send(&app, get.clone(), contexts, contexts, admin)
        .await
        .error(400);

    // Usage reports, with the edge token.
    let usage = "/api/usage";
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let report = json!({"environment": "prod", "counts": [
        {"flag": "theme", "variant": "dark", "count": 3, "lastEvaluatedAt": now_ms}]});
    let reply = c
        .send(&app, post.clone(), usage, usage, |x| {
            x.header("x-edge-token", EDGE_TOKEN).json(&report)
        })
        .await;
    assert_eq!(reply.status.as_u16(), 202, "{}", reply.text);
    c.send(&app, post.clone(), usage, usage, |x| {
        x.header("x-edge-token", EDGE_TOKEN)
            .json(&json!({"environment": "prod"}))
    })
    .await
    .error(400);
    c.send(&app, post.clone(), usage, usage, |x| x.json(&report))
        .await
        .error(401);
    c.send(&app, post.clone(), usage, usage, |x| {
        x.header("x-edge-token", EDGE_TOKEN)
            .typed(Some("text/plain"), "{}")
    })
    .await
    .error(415);

    // The metrics, read with the admin token; without one, 401.
    let metrics = "/metrics";
    let reply = c.send(&app, get.clone(), metrics, metrics, admin).await;
    assert!(
        reply.text.contains("pennon_http_requests_total"),
        "{}",
        reply.text
    );
    c.send(&app, get.clone(), metrics, metrics, |x| x)
        .await
        .error(401);

    c.assert_every_operation_seen();
}

/// The check is no rubber stamp either: a schema that does not fit the answer, or a status the
/// document does not list, fails it.
#[tokio::test]
async fn an_answer_that_breaks_the_document_fails_the_check() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut document = document(&app).await;
    document["components"]["schemas"]["Flag"]["properties"]["version"] = json!({"type": "string"});
    let mut wrong = Contract::new(document);
    let body = json!({"key": "k", "environment": "dev"});
    let reply = app
        .post("/api/admin/flags")
        .admin()
        .json(&body)
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 201);
    let error = wrong.check("POST", "/api/admin/flags", &reply).unwrap_err();
    assert!(error.contains("version"), "{error}");

    let reply = app.get("/health").send().await;
    let mut right = Contract::new(crate::openapi::document(&app).await);
    right
        .check("GET", "/health", &reply)
        .expect("health as documented");
    let mut teapot = reply;
    teapot.status = reqwest::StatusCode::IM_A_TEAPOT;
    assert!(right
        .check("GET", "/health", &teapot)
        .unwrap_err()
        .contains("not documented"));
}
