//! The golden vectors of `tests/vectors/*.json`, through the admin API and `POST /api/evaluate`:
//! each file's segments, then its flags in file order, then every case.

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, TestApp};

backend_tests!(
    every_golden_vector_file_passes,
    dangling_documents_are_refused_on_write
);

/// The file whose documents name a flag or a segment that is not there: the origin refuses them by
/// design (the runtimes that may be handed such a set evaluate it; the origin never stores one).
const DANGLING: &str = "v2-dangling.json";

fn vector_dir() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors")
}

fn read(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `document` with the file's environment, as the admin API needs it.
fn in_environment(document: &Value, environment: &str) -> Value {
    let mut document = document.clone();
    document
        .as_object_mut()
        .expect("a document is an object")
        .entry("environment")
        .or_insert(Value::from(environment));
    document
}

async fn create_segments(app: &TestApp, file: &Value, environment: &str) {
    for segment in file["segments"].as_array().into_iter().flatten() {
        app.create_segment(in_environment(segment, environment))
            .await;
    }
}

async fn every_golden_vector_file_passes(backend: Backend) {
    let dir = vector_dir();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter(|path| path.file_name().is_some_and(|name| name != DANGLING))
        .collect();
    files.sort();
    assert!(files.len() > 1, "no vector files in {dir}");
    let mut cases_run = 0;
    for path in &files {
        let file = read(path);
        let name = file["name"].as_str().unwrap_or("?");
        let environment = file["environment"].as_str().expect("environment");
        // A fresh origin per file: files may reuse keys.
        let app = spawn_app(backend).await;
        create_segments(&app, &file, environment).await;
        for flag in file["flags"].as_array().expect("flags") {
            app.create_flag(in_environment(flag, environment)).await;
        }
        for case in file["cases"].as_array().expect("cases") {
            let reply = app
                .post("/api/evaluate")
                .json(&case["request"])
                .send()
                .await;
            assert_eq!(
                reply.status.as_u16(),
                200,
                "{name} / {}: {}",
                case["name"],
                reply.text
            );
            assert_eq!(reply.json(), case["response"], "{name} / {}", case["name"]);
            cases_run += 1;
        }
    }
    assert!(cases_run > 0);
}

/// Every flag of the dangling file names a flag or a segment the environment does not have (or a
/// flag that was itself refused), so every one is refused with 400 naming what is missing, and
/// nothing of them is stored.
async fn dangling_documents_are_refused_on_write(backend: Backend) {
    let file = read(&std::path::Path::new(vector_dir()).join(DANGLING));
    let environment = file["environment"].as_str().expect("environment");
    let app = spawn_app(backend).await;
    create_segments(&app, &file, environment).await;
    let flags = file["flags"].as_array().expect("flags");
    assert!(!flags.is_empty());
    for flag in flags {
        let reply = app
            .post("/api/admin/flags")
            .admin()
            .json(&in_environment(flag, environment))
            .send()
            .await;
        let message = reply.error(400);
        let (field, rest) = message.split_once(": ").expect("field: message");
        assert!(
            field.starts_with("prerequisites[") || field.starts_with("rules["),
            "{}: {message}",
            flag["key"]
        );
        assert!(
            (rest.starts_with("no flag \"") || rest.starts_with("no segment \""))
                && rest.ends_with(&format!("\" in {environment}")),
            "{}: {message}",
            flag["key"]
        );
    }
    let snapshot = app.snapshot(environment).await;
    assert_eq!(snapshot["flags"], serde_json::json!([]));
}
