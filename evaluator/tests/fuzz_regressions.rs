//! Inputs that once broke a property of a fuzz target (`fuzz/`, run by `scripts/fuzz`), kept here as
//! plain tests on stable, each with the input the fuzzer found. The same inputs are in the seed
//! corpus (`fuzz/corpus/<target>/regression-*`).

use evaluator::fields::refuse_unknown;
use evaluator::{strict, EvaluateRequest, Flag};

/// Every refusal names a field: an empty key is named `""`, not left out (`: unknown field`).
#[test]
fn an_empty_key_is_named_by_its_quotes() {
    // evaluate_request: the user given under the key "".
    let body = br#"{"":{"id":"user-1","attributes":{"name":""}},"flags":["text.contains.contains.rocket","text.ends_$ith.combining","text.neq.Joanna"]}"#;
    let error = EvaluateRequest::from_json(body).unwrap_err();
    assert_eq!(error.to_string(), r#""": unknown field"#);
    let body = br#"{"environment":"prod","user":{"id":"u","":1}}"#;
    let error = EvaluateRequest::from_json(body).unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"user."": unknown field; custom attributes go under user.attributes"#
    );
    let body = br#"{"environment":"prod","user":{"id":"u","attributes":{"a":{"":1,"":2}}}}"#;
    let error = EvaluateRequest::from_json(body).unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"user.attributes.a."": duplicate field"#
    );

    // flag_document: the key "" twice, read by the admin API's strict reader.
    let body = br#"{"key":"rule.beats.rollout","":2,"r":"rule.beats.rollout","":2,"rules":[]}"#;
    let error = strict::from_slice(body).unwrap_err();
    assert_eq!(error.to_string(), r#""": duplicate field"#);
    let error = strict::from_slice(br#"{"rules":[{"":1,"":2}]}"#).unwrap_err();
    assert_eq!(error.to_string(), r#"rules[0]."": duplicate field"#);

    // admin_patch: an unknown field "" in a PUT body.
    let body = br#"{"type":"string","":"a","fallthrough":"a","rules":[{"serve":"b"}]}"#;
    let patch = strict::object_from_slice(body).unwrap();
    let error = refuse_unknown(&patch, &["type", "fallthrough", "rules"]).unwrap_err();
    assert_eq!(error.to_string(), r#""": unknown field"#);
    // The flag reader itself ignores unknown fields, "" among them.
    let flag = serde_json::json!({"key": "k", "": 1});
    assert!(Flag::from_json_value(&flag).is_ok());
}
