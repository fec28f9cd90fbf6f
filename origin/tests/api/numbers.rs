//! Every number a rule holds comes back as the same double from every store and every read path:
//! the create answer, GET, the list, the audit log, the snapshot and evaluate, on the origin that
//! wrote it and on a fresh one reading the store (and, with Redis, one reading the shared cache).

use std::collections::HashMap;

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, SiblingCache, TestApp, EDGE_TOKEN};

backend_tests!(
    every_number_reads_back_as_the_same_double,
    the_store_keeps_the_text_the_origin_wrote,
);

/// The numbers of issue 16 as their text, then a few hundred random doubles written with 17
/// significant digits (enough to name every double): uniform over bit patterns (every magnitude,
/// subnormals included), and uniform in [-1000, 1000] (where 1 in 10 came back one unit off).
fn numbers() -> Vec<(String, f64)> {
    let mut texts: Vec<String> = [
        "1.7976931348623157e308",
        "-1.7976931348623157e308",
        "1.797693134862315e308",
        "1.7e308",
        "1e16",
        "5e-324",
        "-0.0",
        "-95.24089298036279",
    ]
    .map(str::to_owned)
    .to_vec();
    // splitmix64: a fixed seed, so a failure names the same text on every run.
    let mut state: u64 = 0x5EED_0016;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    while texts.len() < 158 {
        let value = f64::from_bits(next());
        if value.is_finite() {
            texts.push(format!("{value:.16e}"));
        }
    }
    while texts.len() < 308 {
        let unit = (next() >> 11) as f64 / (1u64 << 53) as f64;
        texts.push(format!("{:.16e}", unit * 2000.0 - 1000.0));
    }
    texts
        .into_iter()
        .map(|text| {
            let value: f64 = text.parse().expect("a number");
            (text, value)
        })
        .collect()
}

/// The double a JSON number holds, read correctly rounded.
fn double(value: &Value, what: &str) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {value}"))
}

impl TestApp {
    /// `{enabled, reason}` of one flag for a user with these `attributes` (JSON text, so that a
    /// number is sent exactly as given).
    async fn decide_for(&self, environment: &str, attributes: &str, key: &str) -> (bool, String) {
        let body = format!(
            r#"{{"environment":"{environment}","user":{{"id":"u","attributes":{attributes}}},"flags":["{key}"]}}"#
        );
        let reply = self.post("/api/evaluate").raw(body).send().await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
        let result = &reply.json()["results"][0];
        (
            result["enabled"].as_bool().expect("enabled"),
            result["reason"].as_str().expect("reason").to_owned(),
        )
    }
}

fn assert_same(got: f64, want: f64, text: &str, what: &str) {
    assert_eq!(
        got.to_bits(),
        want.to_bits(),
        "{what}: {text} came back as {got:e} (want {want:e})"
    );
}

/// The next double away from zero, or toward it at the top of the range: a user holding it must
/// not match a rule on `value`.
fn neighbour(value: f64) -> f64 {
    let next = f64::from_bits(value.to_bits() + 1);
    if next.is_finite() {
        next
    } else {
        f64::from_bits(value.to_bits() - 1)
    }
}

/// `rules[0].value` of each flag in a list, by key.
fn values_by_key(flags: &Value, what: &str) -> HashMap<String, f64> {
    flags
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no flags"))
        .iter()
        .map(|flag| {
            (
                flag["key"].as_str().expect("key").to_owned(),
                double(&flag["rules"][0]["value"], what),
            )
        })
        .collect()
}

async fn every_number_reads_back_as_the_same_double(backend: Backend) {
    let app = spawn_app(backend).await;
    let numbers = numbers();
    let mut ids = Vec::with_capacity(numbers.len());
    for (i, (text, value)) in numbers.iter().enumerate() {
        let body = format!(
            r#"{{"key":"n{i}","environment":"prod","enabled":true,"rules":[{{"field":"attributes.n","operator":"eq","value":{text}}}]}}"#
        );
        let reply = app.post("/api/admin/flags").admin().raw(body).send().await;
        assert_eq!(reply.status.as_u16(), 201, "{text}: {}", reply.text);
        let flag = &reply.json()["flag"];
        assert_same(
            double(&flag["rules"][0]["value"], "create"),
            *value,
            text,
            "create answer",
        );
        ids.push(flag["id"].as_str().expect("id").to_owned());
    }

    // The audit log keeps each create's `after`.
    let audit = app.audit("?limit=500").await;
    let after: HashMap<&str, f64> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| {
            (
                entry["entityId"].as_str().expect("entityId"),
                double(&entry["after"]["rules"][0]["value"], "audit"),
            )
        })
        .collect();
    for ((text, value), id) in numbers.iter().zip(&ids) {
        assert_same(after[id.as_str()], *value, text, "audit after");
    }

    read_back(&app, &numbers, &ids, "the origin that wrote them").await;

    // A restart: nothing in process, the store read afresh (a fresh Redis prefix, so not the cache).
    let fresh = app.sibling(SiblingCache::Fresh, None).await;
    read_back(&fresh, &numbers, &ids, "a fresh origin").await;
    assert!(fresh.state.flags.store_loads() >= 1, "read from the store");

    if backend == Backend::PostgresRedis {
        // The first origin's evaluations filled Redis: a third origin on the same prefix must get
        // the same doubles from the cached snapshot JSON without touching the store.
        let cached = app.sibling(SiblingCache::Shared, None).await;
        read_back(&cached, &numbers, &ids, "an origin reading Redis").await;
        assert_eq!(
            cached.state.flags.store_loads(),
            0,
            "served from the shared cache"
        );
    }
}

async fn read_back(app: &TestApp, numbers: &[(String, f64)], ids: &[String], origin: &str) {
    let snapshot = app
        .get("/api/flags/snapshot?environment=prod")
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await;
    assert_eq!(snapshot.status.as_u16(), 200, "{}", snapshot.text);
    let in_snapshot = values_by_key(&snapshot.json()["flags"], "snapshot");
    let list = app
        .get("/api/admin/flags?environment=prod")
        .admin()
        .send()
        .await;
    assert_eq!(list.status.as_u16(), 200, "{}", list.text);
    let in_list = values_by_key(&list.json()["flags"], "list");
    for (i, ((text, value), id)) in numbers.iter().zip(ids).enumerate() {
        let key = format!("n{i}");
        let at = |what: &str| format!("{what} ({origin})");
        assert_same(in_snapshot[&key], *value, text, &at("snapshot"));
        assert_same(in_list[&key], *value, text, &at("list"));
        let get = app
            .get(&format!("/api/admin/flags/{id}"))
            .admin()
            .send()
            .await;
        assert_eq!(get.status.as_u16(), 200, "{}", get.text);
        assert_same(
            double(&get.json()["flag"]["rules"][0]["value"], "get"),
            *value,
            text,
            &at("GET"),
        );
        for (attribute, matches) in [(*value, true), (neighbour(*value), false)] {
            // The attribute as serde_json writes a double: its shortest round-trip form.
            let attributes = format!(r#"{{"n":{}}}"#, Value::from(attribute));
            let (_, reason) = app.decide_for("prod", &attributes, &key).await;
            assert_eq!(
                reason == "RULE_MATCH",
                matches,
                "evaluate ({origin}): rule {text}, user {attribute:e}: {reason}"
            );
        }
    }
}

/// The column holds exactly the JSON the origin wrote, on every store: no store re-spells a number
/// (PostgreSQL's `json` keeps the text; SQLite's TEXT column alters nothing).
async fn the_store_keeps_the_text_the_origin_wrote(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(
            serde_json::json!({"key": "poison", "environment": "prod", "rules": [
                {"field": "attributes.n", "operator": "in", "value": [
                    f64::MAX, -f64::MAX, 1.7e308, 1e16, 5e-324, -0.0, -95.24089298036279
                ]}
            ]}),
        )
        .await;
    let id = flag["id"].as_str().expect("id");
    let written = serde_json::to_string(&flag["rules"]).expect("json");
    assert!(written.contains("1.7976931348623157e+308") && written.contains("-0.0"));
    let cast = if backend == Backend::Sqlite {
        ""
    } else {
        "::text"
    };
    let stored = app
        .sql(&format!("SELECT rules{cast} FROM flags WHERE id = '{id}'"))
        .await;
    assert_eq!(stored, vec![written.clone()]);
    let after = app
        .sql(&format!(
            "SELECT after{cast} FROM audit_log WHERE entity_id = '{id}'"
        ))
        .await;
    assert_eq!(after.len(), 1);
    assert!(after[0].contains(&written), "{}", after[0]);
}

/// A database written before migration 0002 holds jsonb's spelling of every number (f64::MAX as a
/// 309-digit integer: the outage of issue 16). After the migration, those rows read back as the
/// doubles they were written as, on every read path; new writes keep their text.
#[tokio::test]
async fn rows_written_as_jsonb_read_back_as_the_same_doubles_after_migration_0002() {
    use origin::store::migrations::{migrator, POSTGRES};
    use origin::{DatabaseUrl, Secret};

    let database = crate::helpers::Database::create().await;
    let url = database.url.clone();

    // The schema of migration 0001 only, and rows as the origin wrote them then (`$n::jsonb`).
    let old = sqlx::PgPool::connect(&url).await.expect("old database");
    migrator(&POSTGRES[..1]).run(&old).await.expect("0001");
    let values = [
        ("1.7976931348623157e308", f64::MAX),
        ("-1.7976931348623157e308", -f64::MAX),
        ("1.797693134862315e308", 1.797693134862315e308),
        ("1.7e308", 1.7e308),
        ("1e16", 1e16),
        ("5e-324", 5e-324),
        ("-95.24089298036279", -95.24089298036279),
        // jsonb had already dropped the sign of a negative zero: it reads back as 0.0.
        ("-0.0", 0.0),
    ];
    let mut ids = Vec::new();
    for (i, (text, _)) in values.iter().enumerate() {
        let id = uuid::Uuid::new_v4().to_string();
        let flag = format!(
            r#"{{"id":"{id}","key":"old{i}","environment":"prod","description":"","enabled":true,"rolloutPercentage":0,"rules":[{{"field":"attributes.n","operator":"eq","value":{text}}}],"version":1,"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z"}}"#
        );
        sqlx::query(
            "INSERT INTO flags (id, key, environment, description, enabled, rollout_percentage, \
             rules, version, created_at, updated_at) \
             VALUES ($1::uuid, $2, 'prod', '', TRUE, 0, $3::jsonb, 1, now(), now())",
        )
        .bind(&id)
        .bind(format!("old{i}"))
        .bind(format!(
            r#"[{{"field":"attributes.n","operator":"eq","value":{text}}}]"#
        ))
        .execute(&old)
        .await
        .expect("insert flag");
        sqlx::query(
            "INSERT INTO audit_log (id, action, entity, entity_id, before, after, actor, created_at) \
             VALUES ($1::uuid, 'CREATE_FLAG', 'FeatureFlag', $2, NULL, $3::jsonb, 'admin', now())",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&id)
        .bind(flag)
        .execute(&old)
        .await
        .expect("insert audit entry");
        ids.push(id);
    }
    sqlx::query("UPDATE environments SET revision = $1 WHERE name = 'prod'")
        .bind(values.len() as i64)
        .execute(&old)
        .await
        .expect("revision");
    let spelled: String = sqlx::query_scalar("SELECT rules::text FROM flags WHERE key = 'old0'")
        .fetch_one(&old)
        .await
        .expect("old row");
    assert!(
        spelled.contains("179769313486231570000000000"),
        "jsonb's spelling: {spelled}"
    );
    old.close().await;

    // An origin starting on it applies 0002.
    let any = spawn_app(Backend::Postgres).await;
    let app = any
        .sibling(
            SiblingCache::Fresh,
            Some(DatabaseUrl::Postgres(Secret::new(url))),
        )
        .await;
    let types = app
        .sql(
            "SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns \
             WHERE column_name IN ('rules', 'before', 'after') ORDER BY 1",
        )
        .await;
    assert_eq!(
        types,
        [
            "audit_log.after json",
            "audit_log.before json",
            "flags.rules json",
            "segments.rules json"
        ]
    );

    let health = app.get("/health").send().await.json();
    assert_eq!(health["status"], "ok", "{health}");
    let audit = app.audit("?limit=500").await;
    let list = app
        .get("/api/admin/flags?environment=prod")
        .admin()
        .send()
        .await;
    assert_eq!(list.status.as_u16(), 200, "{}", list.text);
    let in_list = values_by_key(&list.json()["flags"], "list");
    let snapshot = app
        .get("/api/flags/snapshot?environment=prod")
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await;
    assert_eq!(snapshot.status.as_u16(), 200, "{}", snapshot.text);
    let in_snapshot = values_by_key(&snapshot.json()["flags"], "snapshot");
    for (i, ((text, value), id)) in values.iter().zip(&ids).enumerate() {
        let key = format!("old{i}");
        assert_same(in_list[&key], *value, text, "list");
        assert_same(in_snapshot[&key], *value, text, "snapshot");
        let get = app
            .get(&format!("/api/admin/flags/{id}"))
            .admin()
            .send()
            .await;
        assert_eq!(get.status.as_u16(), 200, "{}", get.text);
        assert_same(
            double(&get.json()["flag"]["rules"][0]["value"], "get"),
            *value,
            text,
            "GET",
        );
        let entry = audit["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["entityId"] == id.as_str())
            .expect("audit entry");
        assert_same(
            double(&entry["after"]["rules"][0]["value"], "audit"),
            *value,
            text,
            "audit",
        );
        let (enabled, reason) = app
            .decide_for("prod", &format!(r#"{{"n":{}}}"#, Value::from(*value)), &key)
            .await;
        assert_eq!((enabled, reason.as_str()), (true, "RULE_MATCH"), "{text}");
        if *value != 0.0 {
            let (_, reason) = app
                .decide_for(
                    "prod",
                    &format!(r#"{{"n":{}}}"#, Value::from(neighbour(*value))),
                    &key,
                )
                .await;
            assert_eq!(reason, "NO_MATCH", "{text}");
        }
    }

    // The poison row of the issue, written through the API now: kept as written.
    let flag = app
        .create_flag(
            serde_json::json!({"key": "poison", "environment": "prod", "enabled": true,
            "rules": [{"field": "attributes.n", "operator": "eq", "value": f64::MAX}]}),
        )
        .await;
    let stored = app
        .sql(&format!(
            "SELECT rules::text FROM flags WHERE id = '{}'",
            flag["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(
        stored,
        [r#"[{"field":"attributes.n","operator":"eq","value":1.7976931348623157e+308}]"#]
    );
    let (enabled, _) = app
        .decide_for("prod", r#"{"n":1.7976931348623157e308}"#, "poison")
        .await;
    assert!(enabled);
}
