//! The golden vectors of `tests/vectors/` (shared with the origin, the edge worker and the npm package),
//! run natively through both the compiled set and the per-flag `evaluate`.

use std::fs;
use std::path::{Path, PathBuf};

use evaluator::{
    evaluate_in, CompiledFlagSet, Definitions, EvaluateRequest, EvaluateResponse, Flag, FlagResult,
    RequestError, Segment,
};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_golden_vector_gives_the_expected_response() {
    let files = json_files(&vectors_dir());
    assert!(
        files.len() >= 5,
        "expected the golden vector files, found {files:?}"
    );
    let mut cases = 0;
    for path in files {
        let file = read(&path);
        let name = file["name"].as_str().unwrap();
        let flags: Vec<Flag> = serde_json::from_value(file["flags"].clone())
            .unwrap_or_else(|e| panic!("{name}: flags do not parse: {e}"));
        let segments: Vec<Segment> = match file.get("segments") {
            Some(segments) => serde_json::from_value(segments.clone())
                .unwrap_or_else(|e| panic!("{name}: segments do not parse: {e}")),
            None => Vec::new(),
        };
        let set = CompiledFlagSet::with_segments(&flags, &segments).unwrap();
        let definitions = Definitions {
            flags: &flags,
            segments: &segments,
        };
        for case in file["cases"].as_array().unwrap() {
            let label = format!("{name} / {}", case["name"]);
            let body = serde_json::to_vec(&case["request"]).unwrap();
            let request =
                EvaluateRequest::from_json(&body).unwrap_or_else(|e| panic!("{label}: {e}"));
            let results = match &request.flags {
                Some(keys) => set.evaluate_keys(&request.user, keys),
                None => set.evaluate_all(&request.user),
            };
            let response = EvaluateResponse {
                results: results.clone(),
            };
            let actual = serde_json::to_value(&response).unwrap();
            assert_eq!(actual, case["response"], "{label}");
            // The fast writer the origin and the edge answer with writes serde's bytes exactly.
            assert_eq!(
                String::from_utf8(response.to_json()).unwrap(),
                serde_json::to_string(&response).unwrap(),
                "{label}"
            );

            // The plain evaluator agrees with the compiled set on every flag it has.
            for result in results.iter().filter(|r| set.contains(r.flag_key)) {
                let flag = flags
                    .iter()
                    .find(|f| f.key.as_str() == result.flag_key)
                    .unwrap();
                let plain = evaluate_in(&definitions, flag, &request.user);
                assert_eq!(FlagResult::of(flag, plain), *result, "{label}");
            }
            cases += 1;
        }
    }
    assert!(cases >= 30, "only {cases} cases ran");
}

#[test]
fn every_invalid_flag_is_refused_naming_its_field() {
    let file = read(&vectors_dir().join("invalid/flags.json"));
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 150, "only {} flag cases", cases.len());
    for case in cases {
        let label = case["name"].as_str().unwrap();
        let error = Flag::from_json_value(&case["flag"]).expect_err(label);
        assert_eq!(error.field(), case["field"].as_str().unwrap(), "{label}");
        assert_eq!(
            error.message(),
            case["message"].as_str().unwrap(),
            "{label}"
        );
        // serde goes through the same path and keeps the field in its message.
        let via_serde = serde_json::from_value::<Flag>(case["flag"].clone()).expect_err(label);
        assert_eq!(via_serde.to_string(), error.to_string(), "{label}");
    }
}

#[test]
fn every_invalid_segment_is_refused_naming_its_field() {
    let file = read(&vectors_dir().join("invalid/segments.json"));
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 30, "only {} segment cases", cases.len());
    for case in cases {
        let label = case["name"].as_str().unwrap();
        let error = Segment::from_json_value(&case["segment"]).expect_err(label);
        assert_eq!(error.field(), case["field"].as_str().unwrap(), "{label}");
        assert_eq!(
            error.message(),
            case["message"].as_str().unwrap(),
            "{label}"
        );
        let via_serde =
            serde_json::from_value::<Segment>(case["segment"].clone()).expect_err(label);
        assert_eq!(via_serde.to_string(), error.to_string(), "{label}");
    }
}

/// Every document of a refused set reads on its own, through `from_json_value` and serde alike; the
/// set is refused when it compiles.
#[test]
fn every_invalid_set_is_refused_when_it_compiles() {
    let file = read(&vectors_dir().join("invalid/sets.json"));
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 8, "only {} set cases", cases.len());
    for case in cases {
        let label = case["name"].as_str().unwrap();
        let flags: Vec<Flag> = case["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|flag| Flag::from_json_value(flag).unwrap_or_else(|e| panic!("{label}: {e}")))
            .collect();
        let segments: Vec<Segment> = case
            .get("segments")
            .map(|segments| {
                segments
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| Segment::from_json_value(s).unwrap_or_else(|e| panic!("{label}: {e}")))
                    .collect()
            })
            .unwrap_or_default();
        let error = CompiledFlagSet::with_segments(&flags, &segments).expect_err(label);
        assert_eq!(error.field(), case["field"].as_str().unwrap(), "{label}");
        assert_eq!(
            error.message(),
            case["message"].as_str().unwrap(),
            "{label}"
        );
        let via_serde: Vec<Flag> = serde_json::from_value(case["flags"].clone()).unwrap();
        let segments_via_serde: Vec<Segment> = match case.get("segments") {
            Some(segments) => serde_json::from_value(segments.clone()).unwrap(),
            None => Vec::new(),
        };
        assert_eq!(via_serde, flags, "{label}");
        let again =
            CompiledFlagSet::with_segments(&via_serde, &segments_via_serde).expect_err(label);
        assert_eq!(again, error, "{label}");
    }
}

#[test]
fn every_invalid_request_is_refused_with_its_exact_message() {
    let file = read(&vectors_dir().join("invalid/requests.json"));
    for case in file["cases"].as_array().unwrap() {
        let label = case["name"].as_str().unwrap();
        let body = case["body"].as_str().unwrap();
        let error: RequestError = EvaluateRequest::from_json(body.as_bytes()).expect_err(label);
        assert_eq!(
            error.to_string(),
            case["error"].as_str().unwrap(),
            "{label}"
        );
    }
}

#[test]
fn flags_round_trip_through_json() {
    for path in json_files(&vectors_dir()) {
        let file = read(&path);
        let flags: Vec<Flag> = serde_json::from_value(file["flags"].clone()).unwrap();
        let written = serde_json::to_value(&flags).unwrap();
        let again: Vec<Flag> = serde_json::from_value(written.clone()).unwrap();
        assert_eq!(flags, again, "{}", path.display());
        // Written again, the same text: what the origin answers reads back as itself.
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            written,
            "{}",
            path.display()
        );
        if let Some(segments) = file.get("segments") {
            let segments: Vec<Segment> = serde_json::from_value(segments.clone()).unwrap();
            let again: Vec<Segment> =
                serde_json::from_value(serde_json::to_value(&segments).unwrap()).unwrap();
            assert_eq!(segments, again, "{}", path.display());
        }
    }
}
