//! The golden vectors of `tests/vectors/*.json`, through the admin API and `POST /api/evaluate`.

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend};

backend_tests!(every_golden_vector_file_passes);

async fn every_golden_vector_file_passes(backend: Backend) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vector files in {dir}");
    let mut cases_run = 0;
    for path in &files {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = file["name"].as_str().unwrap_or("?");
        let environment = file["environment"].as_str().expect("environment");
        // A fresh origin per file: files may reuse keys.
        let app = spawn_app(backend).await;
        for flag in file["flags"].as_array().expect("flags") {
            let mut flag = flag.clone();
            let object = flag.as_object_mut().expect("flag is an object");
            object
                .entry("environment")
                .or_insert(Value::from(environment));
            app.create_flag(flag).await;
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
