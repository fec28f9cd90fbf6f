//! Migration 0003 (contract version 2) keeps every row of version 1 valid and answering the same:
//! a database in the state before it (SQLite after 0001, PostgreSQL after 0002) is filled with
//! the flags of every version-1 golden vector file as the origin of version 1 wrote them, an
//! origin starts on it (running 0003), and every case of the file gets its exact answer; each
//! flag reads back as the same boolean flag with the new fields at their defaults, and an audit
//! entry written before the migration still reads.

use chrono::{DateTime, Utc};
use origin::store::migrations::{migrator, POSTGRES, SQLITE};
use origin::{DatabaseUrl, Secret};
use serde_json::{json, Value};
use sqlx::Connection as _;

use crate::helpers::{spawn_app, Backend, Database, SiblingCache, TestApp};

/// Every file whose flags are of version 1's shape (the v2 files use fields 0003 adds).
fn version_1_files() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let v1_fields = [
        "key",
        "description",
        "enabled",
        "rolloutPercentage",
        "rules",
    ];
    let chosen: Vec<(String, Value)> = files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("vector file");
            let file: Value = serde_json::from_str(&text).expect("JSON");
            (path.display().to_string(), file)
        })
        .filter(|(_, file)| {
            file.get("segments").is_none()
                && file["flags"].as_array().expect("flags").iter().all(|flag| {
                    flag.as_object()
                        .expect("object")
                        .keys()
                        .all(|k| v1_fields.contains(&k.as_str()))
                })
        })
        .collect();
    assert!(chosen.len() >= 5, "the version-1 files are there");
    chosen
}

/// One flag of a file as the version-1 origin stored it, and the audit entry it wrote.
struct OldRow {
    id: String,
    key: String,
    description: String,
    enabled: bool,
    rollout: i32,
    rules: String,
    audit: String,
}

fn old_rows(file: &Value, environment: &str, at: DateTime<Utc>) -> Vec<OldRow> {
    let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    file["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .map(|flag| {
            let id = uuid::Uuid::new_v4().to_string();
            let row = OldRow {
                id: id.clone(),
                key: flag["key"].as_str().expect("key").to_owned(),
                description: flag["description"].as_str().unwrap_or("").to_owned(),
                enabled: flag["enabled"].as_bool().unwrap_or(false),
                rollout: flag["rolloutPercentage"].as_i64().unwrap_or(0) as i32,
                rules: flag.get("rules").cloned().unwrap_or(json!([])).to_string(),
                audit: String::new(),
            };
            // Version 1's Flag JSON: exactly these fields.
            let audit = json!({"id": id, "key": row.key, "environment": environment,
                "description": row.description, "enabled": row.enabled,
                "rolloutPercentage": row.rollout,
                "rules": serde_json::from_str::<Value>(&row.rules).expect("rules"),
                "version": 1, "createdAt": stamp, "updatedAt": stamp});
            OldRow {
                audit: audit.to_string(),
                ..row
            }
        })
        .collect()
}

const INSERT_FLAG_SQLITE: &str = "INSERT INTO flags (id, key, environment, description, enabled, \
     rollout_percentage, rules, version, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)";
const INSERT_FLAG_POSTGRES: &str = "INSERT INTO flags (id, key, environment, description, \
     enabled, rollout_percentage, rules, version, created_at, updated_at) \
     VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::json, 1, $8, $8)";
const INSERT_AUDIT_SQLITE: &str = "INSERT INTO audit_log (id, action, entity, entity_id, before, \
     after, actor, created_at) VALUES ($1, 'CREATE_FLAG', 'FeatureFlag', $2, NULL, $3, 'admin', $4)";
const INSERT_AUDIT_POSTGRES: &str = "INSERT INTO audit_log (id, action, entity, entity_id, \
     before, after, actor, created_at) \
     VALUES ($1::uuid, 'CREATE_FLAG', 'FeatureFlag', $2, NULL, $3::json, 'admin', $4)";

/// Fills a database at the version-1 schema with `rows` and the environment's revision.
macro_rules! fill {
    ($conn:expr, $flag_sql:expr, $audit_sql:expr, $rows:expr, $environment:expr, $at:expr) => {{
        for row in $rows {
            sqlx::query($flag_sql)
                .bind(&row.id)
                .bind(&row.key)
                .bind($environment)
                .bind(&row.description)
                .bind(row.enabled)
                .bind(row.rollout)
                .bind(&row.rules)
                .bind($at)
                .execute(&mut $conn)
                .await
                .expect("insert a version-1 flag");
            sqlx::query($audit_sql)
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(&row.id)
                .bind(&row.audit)
                .bind($at)
                .execute(&mut $conn)
                .await
                .expect("insert its audit entry");
        }
        sqlx::query("UPDATE environments SET revision = $1 WHERE name = $2")
            .bind($rows.len() as i64)
            .bind($environment)
            .execute(&mut $conn)
            .await
            .expect("revision");
    }};
}

async fn check_file(app: &TestApp, name: &str, file: &Value, rows: &[OldRow], environment: &str) {
    for case in file["cases"].as_array().expect("cases") {
        let reply = app
            .post("/api/evaluate")
            .json(&case["request"])
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{name}: {}", reply.text);
        assert_eq!(reply.json(), case["response"], "{name} / {}", case["name"]);
    }
    let audit = app.audit("?limit=500").await;
    for row in rows {
        let reply = app
            .get(&format!("/api/admin/flags/{}", row.id))
            .admin()
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{name}: {}", reply.text);
        let flag = reply.json()["flag"].clone();
        let mut expected: Value = serde_json::from_str(&row.audit).expect("v1 JSON");
        let object = expected.as_object_mut().expect("object");
        object.insert("type".into(), json!("boolean"));
        object.insert("variants".into(), json!({"on": true, "off": false}));
        object.insert("offVariant".into(), json!("off"));
        object.insert("prerequisites".into(), json!([]));
        object.insert("createdAt".into(), flag["createdAt"].clone());
        object.insert("updatedAt".into(), flag["updatedAt"].clone());
        assert_eq!(flag, expected, "{name}: {}", row.key);
        assert_eq!(flag["environment"], environment);
        let entry = audit["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["entityId"] == row.id.as_str())
            .unwrap_or_else(|| panic!("{name}: no audit entry for {}", row.key));
        assert!(entry.get("unreadable").is_none(), "{entry}");
        // Migration 0004: the actor stays as it was claimed, with no token; the environment is
        // taken from the flag the entry records.
        assert_eq!(entry["actor"], "admin", "{entry}");
        assert_eq!(entry["actorTokenId"], Value::Null, "{entry}");
        assert_eq!(entry["note"], Value::Null, "{entry}");
        assert_eq!(entry["environment"], environment, "{entry}");
        let mut after = entry["after"].clone();
        after["createdAt"] = flag["createdAt"].clone();
        after["updatedAt"] = flag["updatedAt"].clone();
        assert_eq!(
            after, flag,
            "{name}: the audit entry reads as the same flag"
        );
    }
    let health = app.get("/health").send().await.json();
    assert_eq!(health["status"], "ok", "{health}");
}

#[tokio::test]
async fn version_1_rows_answer_the_same_after_migration_0003_on_sqlite() {
    let any = spawn_app(Backend::Sqlite).await;
    let at = DateTime::from_timestamp_millis(1_767_225_600_000).expect("a time");
    for (name, file) in version_1_files() {
        let environment = file["environment"].as_str().expect("environment");
        let path = std::env::temp_dir().join(format!(
            "pennon-migration-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let rows = old_rows(&file, environment, at);
        {
            let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
            migrator(&SQLITE[..1]).run(&mut conn).await.expect("0001");
            fill!(
                conn,
                INSERT_FLAG_SQLITE,
                INSERT_AUDIT_SQLITE,
                &rows,
                environment,
                at
            );
            // A hand-edited side that is not JSON: migration 0004 reads the environment out of
            // the sides, and must not fail on it (the entry gets none).
            sqlx::query(INSERT_AUDIT_SQLITE)
                .bind(uuid::Uuid::new_v4().to_string())
                .bind("hand-edited")
                .bind("{not json")
                .bind(at)
                .execute(&mut conn)
                .await
                .expect("a broken audit row");
            conn.close().await.expect("close");
        }
        let app = any
            .sibling(SiblingCache::Fresh, Some(DatabaseUrl::Sqlite(url)))
            .await;
        check_file(&app, &name, &file, &rows, environment).await;
        assert_eq!(
            app.sql("SELECT COALESCE(environment, 'none') FROM audit_log WHERE entity_id = 'hand-edited'")
                .await,
            ["none"]
        );
        drop(app);
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

#[tokio::test]
async fn version_1_rows_answer_the_same_after_migration_0003_on_postgres() {
    let any = spawn_app(Backend::Postgres).await;
    let at = DateTime::from_timestamp_millis(1_767_225_600_000).expect("a time");
    for (name, file) in version_1_files() {
        let environment = file["environment"].as_str().expect("environment");
        let database = Database::create().await;
        let rows = old_rows(&file, environment, at);
        {
            let mut conn = sqlx::PgConnection::connect(&database.url)
                .await
                .expect("postgres");
            migrator(&POSTGRES[..2])
                .run(&mut conn)
                .await
                .expect("0001, 0002");
            fill!(
                conn,
                INSERT_FLAG_POSTGRES,
                INSERT_AUDIT_POSTGRES,
                &rows,
                environment,
                at
            );
            conn.close().await.expect("close");
        }
        let app = any
            .sibling(
                SiblingCache::Fresh,
                Some(DatabaseUrl::Postgres(Secret::new(database.url.clone()))),
            )
            .await;
        check_file(&app, &name, &file, &rows, environment).await;
        drop(app);
    }
}
