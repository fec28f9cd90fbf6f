//! The worked examples of `docs/evaluation.md` are the documents of
//! `tests/vectors/docs-examples.json`, whose answers every runtime checks: the page cannot show a
//! document that answers otherwise than it says.

use std::fs;
use std::path::Path;

use evaluator::{Flag, Segment};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The ```json blocks of the page's "Worked examples" section.
fn example_blocks() -> Vec<Value> {
    let page = fs::read_to_string(root().join("docs/evaluation.md")).unwrap();
    let start = page.find("## Worked examples").expect("the section");
    let section = &page[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut blocks = Vec::new();
    let mut rest = &section[..end];
    while let Some(open) = rest.find("```json\n") {
        let body = &rest[open + 8..];
        let close = body.find("```").expect("a closed block");
        blocks.push(serde_json::from_str(&body[..close]).unwrap_or_else(|e| {
            panic!(
                "a block of the worked examples is not JSON: {e}\n{}",
                &body[..close]
            )
        }));
        rest = &body[close + 3..];
    }
    blocks
}

#[test]
fn the_worked_examples_are_the_documents_the_vectors_check() {
    let file: Value = serde_json::from_str(
        &fs::read_to_string(root().join("tests/vectors/docs-examples.json")).unwrap(),
    )
    .unwrap();
    let flags: Vec<Flag> = serde_json::from_value(file["flags"].clone()).unwrap();
    let segments: Vec<Segment> = serde_json::from_value(file["segments"].clone()).unwrap();
    let blocks = example_blocks();
    let documents: Vec<&Value> = blocks.iter().filter(|b| b.get("key").is_some()).collect();
    assert_eq!(
        documents.len(),
        flags.len() + segments.len(),
        "every flag and segment of the file is shown once"
    );
    for document in documents {
        let key = document["key"].as_str().unwrap();
        assert_eq!(document["environment"], "prod", "{key}: a create body");
        if document.get("include").is_some() {
            let shown = Segment::from_json_value(document).unwrap();
            let checked = segments.iter().find(|s| s.key.as_str() == key);
            assert_eq!(Some(&shown), checked, "{key}");
        } else {
            let shown = Flag::from_json_value(document).unwrap();
            let checked = flags.iter().find(|f| f.key.as_str() == key);
            assert_eq!(Some(&shown), checked, "{key}");
        }
    }
}
