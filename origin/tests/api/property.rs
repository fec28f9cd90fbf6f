//! The property of issue 16: every flag the API accepts reads back equal and evaluates identically
//! on SQLite and PostgreSQL.
//!
//! Random valid flags (every operator, every field kind, unicode strings, numbers across the whole
//! range with its extremes, `all` groups) are created through the HTTP API on a SQLite origin and on
//! a PostgreSQL origin. On each, the create answer holds exactly what was sent (numbers compared by
//! their shortest round-trip spelling, so the same double, sign of zero included), and GET, the
//! list and the snapshot give back the create answer; the two origins' answers are equal but for
//! ids and timestamps; random users, and users built to satisfy each condition, get identical
//! evaluations from both. At the end, fresh origins reading each store give the same lists.
//! `PROPTEST_CASES` sets the number of cases (default 48, a few seconds).

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

use crate::helpers::{spawn_app, Backend, SiblingCache, TestApp, EDGE_TOKEN};

const ENVIRONMENTS: [&str; 3] = ["dev", "staging", "prod"];
const OPERATORS: [&str; 6] = ["eq", "neq", "in", "not_in", "starts_with", "ends_with"];
/// Attribute paths users are also built from, so that rules on them can match.
const ATTRIBUTE_PATHS: [&str; 5] = ["plan", "n", "org.tier", "ü", "emoji🚀"];

/// A string with no NUL (refused in admin bodies): short unicode from a pool, or anything.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "a",
            "pro",
            "free",
            "DE",
            "a@example.com",
            "ü",
            "日本語",
            "🚀",
            "A\u{301}",
            "\"q\"",
            "x\ny",
        ])
        .prop_map(str::to_owned),
        "[^\u{0}]{0,12}",
    ]
}

/// Numbers across the whole range: the extremes, any finite double, integers of every size, and
/// ordinary decimals, each as serde_json spells it (the shortest round-trip form).
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            f64::MAX,
            -f64::MAX,
            1.797_693_134_862_315e308,
            1.7e308,
            1e16,
            5e-324,
            -5e-324,
            f64::MIN_POSITIVE,
            -0.0,
            0.0,
            0.1,
            -95.240_892_980_362_79,
        ])
        .prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        (-1000.0..1000.0f64).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::from),
        number(),
        any::<bool>().prop_map(Value::from)
    ]
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["id", "email", "country"]).prop_map(str::to_owned),
        prop::sample::select(ATTRIBUTE_PATHS.to_vec()).prop_map(|p| format!("attributes.{p}")),
    ]
}

fn condition() -> impl Strategy<Value = Value> {
    (field(), 0..OPERATORS.len()).prop_flat_map(|(field, operator)| {
        let value: BoxedStrategy<Value> = match OPERATORS[operator] {
            "eq" | "neq" => scalar().boxed(),
            "in" | "not_in" => prop::collection::vec(scalar(), 1..4)
                .prop_map(Value::from)
                .boxed(),
            _ => text().prop_map(Value::from).boxed(),
        };
        value.prop_map(move |value| {
            json!({"field": field.clone(), "operator": OPERATORS[operator], "value": value})
        })
    })
}

fn rule() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => condition(),
        1 => prop::collection::vec(condition(), 1..4).prop_map(|all| json!({"all": all})),
    ]
}

/// A create body without its key (each case gets unique keys).
fn flag() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(ENVIRONMENTS.to_vec()),
        text(),
        any::<bool>(),
        0..=100u8,
        prop::collection::vec(rule(), 0..5),
        "[A-Za-z0-9_.-]{0,12}",
    )
        .prop_map(
            |(environment, description, enabled, rollout, rules, suffix)| {
                json!({
                    "environment": environment, "description": description, "enabled": enabled,
                    "rolloutPercentage": rollout, "rules": rules, "suffix": suffix,
                })
            },
        )
}

fn attributes() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (prop::sample::select(ATTRIBUTE_PATHS.to_vec()), scalar()),
        0..4,
    )
    .prop_map(|pairs| {
        let mut user = json!({"id": "x"});
        for (path, value) in pairs {
            set_field(&mut user, &format!("attributes.{path}"), value);
        }
        user["attributes"].take()
    })
}

fn user() -> impl Strategy<Value = Value> {
    (
        "[^\u{0}]{1,8}",
        proptest::option::of(text()),
        proptest::option::of(text()),
        attributes(),
    )
        .prop_map(|(id, email, country, attributes)| {
            let mut user = json!({"id": id});
            if let Some(email) = email {
                user["email"] = email.into();
            }
            if let Some(country) = country {
                user["country"] = country.into();
            }
            if attributes.is_object() {
                user["attributes"] = attributes;
            }
            user
        })
}

#[derive(Debug, Clone)]
struct Case {
    flags: Vec<Value>,
    users: Vec<Value>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(flag(), 1..4),
        prop::collection::vec(user(), 1..4),
    )
        .prop_map(|(flags, users)| Case { flags, users })
}

/// Puts `value` at a rule's field of `user`; false when the user cannot hold it there (`id`,
/// `email` and `country` are strings, and `id` is never empty).
fn set_field(user: &mut Value, field: &str, value: Value) -> bool {
    match field.strip_prefix("attributes.") {
        Some(path) => {
            let mut node = &mut user["attributes"];
            let keys: Vec<&str> = path.split('.').collect();
            for key in &keys[..keys.len() - 1] {
                if !node[*key].is_object() {
                    node[*key] = Value::Object(Map::new());
                }
                node = &mut node[*key];
            }
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            node[keys[keys.len() - 1]] = value;
            true
        }
        None => match value.as_str() {
            Some(s) if !(field == "id" && s.is_empty()) => {
                user[field] = value;
                true
            }
            _ => false,
        },
    }
}

/// Users that satisfy (or, for the negated operators, fail) each condition of the case's rules.
fn targeted_users(flags: &[Value]) -> Vec<Value> {
    let mut users = Vec::new();
    for rule in flags
        .iter()
        .flat_map(|f| f["rules"].as_array().cloned().unwrap_or_default())
    {
        let conditions = match rule.get("all") {
            Some(all) => all.as_array().cloned().unwrap_or_default(),
            None => vec![rule],
        };
        let mut user = json!({"id": "targeted"});
        for condition in conditions {
            let field = condition["field"].as_str().unwrap_or_default().to_owned();
            let value = &condition["value"];
            let held = match condition["operator"].as_str() {
                Some("in" | "not_in") => value[0].clone(),
                Some("starts_with") => format!("{}tail", value.as_str().unwrap_or("")).into(),
                Some("ends_with") => format!("head{}", value.as_str().unwrap_or("")).into(),
                _ => value.clone(),
            };
            set_field(&mut user, &field, held);
        }
        users.push(user);
    }
    users
}

/// The flag without what each origin assigns for itself.
fn portable(flag: &Value) -> Value {
    let mut flag = flag.clone();
    if let Some(map) = flag.as_object_mut() {
        for origin_owned in ["id", "createdAt", "updatedAt"] {
            map.remove(origin_owned);
        }
    }
    flag
}

/// Equal as JSON and spelled the same (serde_json writes each double in its one shortest form, so
/// equal text is the same double; `Value`'s `==` alone would take -0.0 for 0.0).
fn same(a: &Value, b: &Value) -> bool {
    a == b && serde_json::to_string(a).ok() == serde_json::to_string(b).ok()
}

async fn get_json(app: &TestApp, path: &str, edge: bool) -> Value {
    let call = app.get(path);
    let call = if edge {
        call.header("x-edge-token", EDGE_TOKEN)
    } else {
        call.admin()
    };
    let reply = call.send().await;
    assert_eq!(reply.status.as_u16(), 200, "{path}: {}", reply.text);
    reply.json()
}

async fn evaluate(app: &TestApp, body: &Value) -> Value {
    let reply = app.post("/api/evaluate").json(body).send().await;
    assert_eq!(reply.status.as_u16(), 200, "{body}: {}", reply.text);
    reply.json()
}

async fn check(apps: &[TestApp; 2], case: Case, n: usize) -> Result<(), TestCaseError> {
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut answers: std::collections::HashMap<String, Vec<Value>> = Default::default();
    for (i, flag) in case.flags.iter().enumerate() {
        let mut body = flag.clone();
        let suffix = body["suffix"].take();
        body.as_object_mut().map(|m| m.remove("suffix"));
        let key = format!("p{n}-{i}{}", suffix.as_str().unwrap_or(""));
        body["key"] = key.clone().into();
        let environment = body["environment"].as_str().unwrap_or("prod").to_owned();
        let mut created = Vec::new();
        for app in apps {
            let answer = app.create_flag(body.clone()).await;
            for (name, sent) in body.as_object().into_iter().flatten() {
                prop_assert!(
                    same(&answer[name], sent),
                    "{}: sent {sent}, answered {}",
                    name,
                    answer[name]
                );
            }
            let id = answer["id"].as_str().unwrap_or_default().to_owned();
            let got = get_json(app, &format!("/api/admin/flags/{id}"), false).await;
            prop_assert!(same(&got["flag"], &answer), "GET {}", got);
            let listed = get_json(
                app,
                &format!("/api/admin/flags?environment={environment}&key={key}"),
                false,
            )
            .await;
            prop_assert!(
                same(&listed, &json!({"flags": [answer.clone()]})),
                "list {}",
                listed
            );
            created.push(answer);
        }
        prop_assert!(
            same(&portable(&created[0]), &portable(&created[1])),
            "sqlite {} vs postgres {}",
            created[0],
            created[1]
        );
        answers.insert(key.clone(), created);
        keys.push((environment, key));
    }

    // Each snapshot holds the create answer (this case's flags only: a failed case must not fail
    // every later one, which would make shrinking point at the wrong input).
    for (environment, key) in &keys {
        let path = format!("/api/flags/snapshot?environment={environment}");
        for (app, answer) in apps.iter().zip(&answers[key]) {
            let snapshot = get_json(app, &path, true).await;
            let held = snapshot["flags"]
                .as_array()
                .and_then(|flags| flags.iter().find(|f| f["key"] == key.as_str()));
            prop_assert!(
                held.is_some_and(|held| same(held, answer)),
                "snapshot holds {:?}, answered {}",
                held,
                answer
            );
        }
    }

    let mut users = case.users.clone();
    users.extend(targeted_users(&case.flags));
    for user in &users {
        for environment in ENVIRONMENTS {
            let named: Vec<&str> = keys
                .iter()
                .filter(|(e, _)| e == environment)
                .map(|(_, k)| k.as_str())
                .collect();
            let body = json!({"environment": environment, "user": user, "flags": named});
            let a = evaluate(&apps[0], &body).await;
            let b = evaluate(&apps[1], &body).await;
            prop_assert!(same(&a, &b), "{}: sqlite {} vs postgres {}", body, a, b);
        }
    }
    Ok(())
}

#[test]
fn every_accepted_flag_reads_back_equal_and_evaluates_identically_on_sqlite_and_postgres() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let apps = runtime.block_on(async {
        [
            spawn_app(Backend::Sqlite).await,
            spawn_app(Backend::Postgres).await,
        ]
    });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let counter = AtomicUsize::new(0);
    let result = runner.run(&case(), |case| {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        runtime.block_on(check(&apps, case, n))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }

    // What every case wrote, read by fresh origins from each store: the same as the writers list.
    runtime.block_on(async {
        let mut lists = Vec::new();
        for app in &apps {
            let fresh = app.sibling(SiblingCache::Fresh, None).await;
            let list = get_json(&fresh, "/api/admin/flags", false).await;
            assert!(same(&list, &get_json(app, "/api/admin/flags", false).await));
            let flags = list["flags"].as_array().cloned().unwrap_or_default();
            lists.push(flags.iter().map(portable).collect::<Vec<_>>());
        }
        assert!(lists[0].len() >= cases as usize, "{} flags", lists[0].len());
        assert!(same(
            &Value::from(lists[0].clone()),
            &Value::from(lists[1].clone())
        ));
        // And every flag of each environment, all cases together, evaluates the same on both.
        for environment in ENVIRONMENTS {
            for user in [
                json!({"id": "u"}),
                json!({"id": "v", "email": "a@example.com", "country": "DE",
                       "attributes": {"plan": "pro", "n": 0.1, "org": {"tier": "ü"}}}),
            ] {
                let body = json!({"environment": environment, "user": user});
                let a = evaluate(&apps[0], &body).await;
                let b = evaluate(&apps[1], &body).await;
                assert!(same(&a, &b), "{body}: sqlite {a} vs postgres {b}");
            }
        }
    });
    drop(apps);
}
