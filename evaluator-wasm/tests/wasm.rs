//! The wrapper, run in Node by `wasm-bindgen-test-runner`:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test -p evaluator-wasm --target wasm32-unknown-unknown`
//!
//! Values are made with `JSON.parse`, as JavaScript would pass them; answers are read back with
//! `JSON.stringify` and compared as JSON. The golden vectors are compiled in.
#![cfg(target_arch = "wasm32")]

use evaluator_wasm::{evaluate, evaluate_all, reason_names, Evaluator};
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsError, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const VECTORS: [&str; 15] = [
    include_str!("../../tests/vectors/contract-boundary.json"),
    include_str!("../../tests/vectors/contract-examples.json"),
    include_str!("../../tests/vectors/docs-examples.json"),
    include_str!("../../tests/vectors/flags-filter.json"),
    include_str!("../../tests/vectors/operators.json"),
    include_str!("../../tests/vectors/rollout.json"),
    include_str!("../../tests/vectors/rules-and-groups.json"),
    include_str!("../../tests/vectors/v2-dangling.json"),
    include_str!("../../tests/vectors/v2-operators.json"),
    include_str!("../../tests/vectors/v2-prerequisites.json"),
    include_str!("../../tests/vectors/v2-segments.json"),
    include_str!("../../tests/vectors/v2-semver.json"),
    include_str!("../../tests/vectors/v2-splits.json"),
    include_str!("../../tests/vectors/v2-timestamps.json"),
    include_str!("../../tests/vectors/v2-variants.json"),
];
const INVALID_FLAGS: &str = include_str!("../../tests/vectors/invalid/flags.json");

fn js(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap()
}

fn back(value: &JsValue) -> Value {
    serde_json::from_str(&js_sys::JSON::stringify(value).unwrap().as_string().unwrap()).unwrap()
}

fn message(error: JsError) -> String {
    JsValue::from(error)
        .dyn_into::<js_sys::Error>()
        .unwrap()
        .message()
        .into()
}

fn user() -> JsValue {
    js(&json!({"id": "user-123", "country": "DE"}))
}

#[wasm_bindgen_test]
fn every_golden_vector_through_an_evaluator_and_evaluate_all() {
    let mut checked = 0;
    for text in VECTORS {
        let vector: Value = serde_json::from_str(text).unwrap();
        let flags = js(&vector["flags"]);
        let has_segments = vector.get("segments").is_some();
        let snapshot = js(&json!({
            "flags": vector["flags"],
            "segments": vector.get("segments").cloned().unwrap_or(json!([])),
        }));
        let evaluator = Evaluator::new(&snapshot).unwrap();
        let names = reason_names();
        let table = back(&evaluator.variant_table());
        for case in vector["cases"].as_array().unwrap() {
            let request = &case["request"];
            assert_eq!(request["environment"], vector["environment"]);
            let expected = &case["response"]["results"];
            let user = js(&request["user"]);
            let keys = request.get("flags").map_or(JsValue::UNDEFINED, js);
            let got = back(&evaluator.evaluate(&user, &keys).unwrap());
            assert_eq!(&got, expected, "{}", case["name"]);
            if keys.is_undefined() {
                // Segments exist only in an Evaluator: evaluateAll takes flags alone.
                if !has_segments {
                    assert_eq!(&back(&evaluate_all(&flags, &user).unwrap()), expected);
                }
                // The hot path's codes, decoded as npm/core.js does, give the same answers.
                let decoded: Vec<Value> = evaluator
                    .evaluate_codes(&user)
                    .unwrap()
                    .iter()
                    .zip(evaluator.keys())
                    .enumerate()
                    .map(|(i, (code, key))| {
                        let variant = &table[i][usize::from(code >> 4)];
                        json!({
                            "flagKey": key,
                            "enabled": code & 8 != 0,
                            "reason": names[usize::from(code & 7)],
                            "variant": variant[0],
                            "value": variant[1],
                        })
                    })
                    .collect();
                assert_eq!(&Value::Array(decoded), expected, "{}", case["name"]);
            }
            checked += 1;
        }
    }
    assert!(checked > 0);
}

#[wasm_bindgen_test]
fn every_invalid_flag_is_refused_with_the_evaluators_message() {
    let invalid: Value = serde_json::from_str(INVALID_FLAGS).unwrap();
    let good = json!({"key": "good", "enabled": true});
    for case in invalid["cases"].as_array().unwrap() {
        let expected = format!(
            "{}: {}",
            case["field"].as_str().unwrap(),
            case["message"].as_str().unwrap()
        );
        let flag = js(&case["flag"]);
        assert_eq!(message(evaluate(&flag, &user()).unwrap_err()), expected);
        // In a list the element is named first; a flag that is not an object at all, by its place.
        let in_list = if case["field"] == "flag" {
            format!("flags[1]: {}", case["message"].as_str().unwrap())
        } else {
            format!("flags[1].{expected}")
        };
        let list = js(&json!([good, case["flag"]]));
        assert_eq!(message(evaluate_all(&list, &user()).unwrap_err()), in_list);
        assert_eq!(message(Evaluator::new(&list).unwrap_err()), in_list);
    }
}

#[wasm_bindgen_test]
fn results_are_plain_objects_of_the_http_shape() {
    let flag = js(&json!({"key": "new_checkout_flow", "enabled": true, "rolloutPercentage": 57}));
    let result = evaluate(&flag, &user()).unwrap();
    let plain = js_sys::Object::get_prototype_of(&js_sys::Object::new());
    assert_eq!(
        JsValue::from(js_sys::Object::get_prototype_of(&result)),
        JsValue::from(plain.clone())
    );
    assert_eq!(
        back(&result),
        json!({"flagKey": "new_checkout_flow", "enabled": true, "reason": "ROLLOUT", "variant": "on", "value": true})
    );
    // An object flag's value is a plain object too, as JSON.parse of the origin's answer makes it.
    let config = js(&json!({
        "key": "config", "enabled": true, "type": "object", "offVariant": "small",
        "variants": {"small": {"limit": 10, "tags": ["a"], "__proto__": 1}}, "fallthrough": "small"
    }));
    let result = evaluate(&config, &user()).unwrap();
    let value = js_sys::Reflect::get(&result, &"value".into()).unwrap();
    assert_eq!(
        JsValue::from(js_sys::Object::get_prototype_of(&value)),
        JsValue::from(plain)
    );
    assert_eq!(
        back(&result)["value"],
        json!({"limit": 10, "tags": ["a"], "__proto__": 1})
    );
}

#[wasm_bindgen_test]
fn flags_of_an_evaluate_all_list_are_prerequisites_of_each_other() {
    let flags = js(&json!([
        {"key": "parent", "enabled": true, "rolloutPercentage": 100},
        {"key": "child", "enabled": true, "prerequisites": [{"flag": "parent", "variants": ["on"]}],
         "rolloutPercentage": 100}
    ]));
    assert_eq!(
        back(&evaluate_all(&flags, &user()).unwrap())[0],
        json!({"flagKey": "child", "enabled": true, "reason": "ROLLOUT", "variant": "on", "value": true})
    );
    // Alone, the prerequisite is missing: it fails.
    let child = js_sys::Reflect::get_u32(&flags, 1).unwrap();
    assert_eq!(
        back(&evaluate(&child, &user()).unwrap())["reason"],
        "PREREQUISITE_FAILED"
    );
    let cycle = js(&json!([
        {"key": "a", "enabled": true, "prerequisites": [{"flag": "b", "variants": ["on"]}]},
        {"key": "b", "enabled": true, "prerequisites": [{"flag": "a", "variants": ["on"]}]}
    ]));
    let message = message(evaluate_all(&cycle, &user()).unwrap_err());
    assert!(message.contains("makes a cycle"), "{message}");
}

#[wasm_bindgen_test]
fn a_snapshot_keeps_its_environment_and_revision() {
    let snapshot = js(&json!({
        "environment": "staging", "revision": 12, "etag": "ignored",
        "flags": [{"key": "a", "enabled": false}, {"key": "b", "enabled": true, "rolloutPercentage": 100}]
    }));
    let evaluator = Evaluator::new(&snapshot).unwrap();
    assert_eq!(evaluator.size(), 2);
    assert_eq!(evaluator.environment().as_deref(), Some("staging"));
    assert_eq!(evaluator.revision(), Some(12.0));
    let list = Evaluator::new(&js(&json!([]))).unwrap();
    assert_eq!(
        (list.size(), list.environment(), list.revision()),
        (0, None, None)
    );
    assert_eq!(
        back(&evaluator.evaluate_flag(&"b".into(), &user()).unwrap()),
        json!({"flagKey": "b", "enabled": true, "reason": "ROLLOUT", "variant": "on", "value": true})
    );
    assert_eq!(
        back(&evaluator.evaluate_flag(&"zz".into(), &user()).unwrap()),
        json!({"flagKey": "zz", "enabled": false, "reason": "FLAG_NOT_FOUND", "variant": null, "value": null})
    );
    assert_eq!(
        back(
            &evaluator
                .evaluate(&user(), &js(&json!(["b", "zz", "a", "b"])))
                .unwrap()
        ),
        json!([
            {"flagKey": "a", "enabled": false, "reason": "FLAG_DISABLED", "variant": "off", "value": false},
            {"flagKey": "b", "enabled": true, "reason": "ROLLOUT", "variant": "on", "value": true},
            {"flagKey": "zz", "enabled": false, "reason": "FLAG_NOT_FOUND", "variant": null, "value": null}
        ])
    );
    // Environment and revision are optional: `{flags, segments}` alone is a snapshot too.
    let bare = Evaluator::new(&js(&json!({
        "flags": [{"key": "beta.only", "enabled": true, "rules": [{"segment": "beta"}]}],
        "segments": [{"key": "beta", "include": ["user-123"]}]
    })))
    .unwrap();
    assert_eq!((bare.environment(), bare.revision()), (None, None));
    assert_eq!(
        back(&bare.evaluate_flag(&"beta.only".into(), &user()).unwrap())["reason"],
        "RULE_MATCH"
    );
}

#[wasm_bindgen_test]
fn values_that_are_not_json_are_refused_without_trapping() {
    let flag = js(&json!({"key": "k", "enabled": true, "rolloutPercentage": 100}));
    // A cycle: user.attributes.self === user.
    let cyclic = user();
    let attributes = js_sys::Object::new();
    js_sys::Reflect::set(&attributes, &"self".into(), &cyclic).unwrap();
    js_sys::Reflect::set(&cyclic, &"attributes".into(), &attributes).unwrap();
    assert_eq!(
        message(evaluate(&flag, &cyclic).unwrap_err()),
        "user: must be JSON data (no cycles or BigInt)"
    );
    let big = js(&json!({"id": "u", "attributes": {}}));
    let attributes = js_sys::Reflect::get(&big, &"attributes".into()).unwrap();
    js_sys::Reflect::set(&attributes, &"n".into(), &js_sys::BigInt::from(5u32).into()).unwrap();
    assert_eq!(
        message(evaluate(&flag, &big).unwrap_err()),
        "user: must be JSON data (no cycles or BigInt)"
    );
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let deep_user =
        js_sys::JSON::parse(&format!(r#"{{"id":"u","attributes":{{"a":{deep}}}}}"#)).unwrap();
    assert_eq!(
        message(evaluate(&flag, &deep_user).unwrap_err()),
        "user: is nested too deeply (at most 128 levels)"
    );
    let function = js_sys::Function::new_no_args("return 1");
    assert_eq!(
        message(evaluate(&function, &user()).unwrap_err()),
        "flag: must be JSON data, not a function or a symbol"
    );
    assert_eq!(
        message(evaluate(&JsValue::UNDEFINED, &user()).unwrap_err()),
        "flag: required"
    );
    assert_eq!(
        message(evaluate(&flag, &JsValue::NULL).unwrap_err()),
        "user: must be a JSON object"
    );
    // Still working afterwards.
    assert_eq!(
        back(&evaluate(&flag, &user()).unwrap())["reason"],
        "ROLLOUT"
    );
}

#[wasm_bindgen_test]
fn bad_arguments_of_the_evaluator_name_their_field() {
    let evaluator = Evaluator::new(&js(&json!([{"key": "a"}]))).unwrap();
    let cases: [(Result<JsValue, JsError>, &str); 6] = [
        (
            evaluator.evaluate_flag(&JsValue::from(5), &user()),
            "key: must be a string",
        ),
        (
            evaluator.evaluate(&user(), &"a".into()),
            "keys: must be an array of flag keys",
        ),
        (
            evaluator.evaluate(&user(), &js(&json!(["a", 1]))),
            "keys[1]: must be a string",
        ),
        (
            evaluator.evaluate(&js(&json!({"id": ""})), &JsValue::NULL),
            "user.id: must be a non-empty string",
        ),
        (
            evaluate_all(&js(&json!({})), &user()),
            "flags: must be an array of flags",
        ),
        (
            evaluate_all(&js(&json!([{"key": "a"}, {"key": "a"}])), &user()),
            "flags[1].key: duplicate key \"a\"",
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(message(result.unwrap_err()), expected);
    }
    let snapshots = [
        (
            json!(7),
            "flagsOrSnapshot: must be an array of flags or a snapshot {flags, segments}",
        ),
        (
            json!({"environment": "qa", "flags": []}),
            "environment: must be one of \"dev\", \"staging\", \"prod\", not \"qa\"",
        ),
        (
            json!({"environment": "prod", "revision": 1.5, "flags": []}),
            "revision: must be a non-negative integer",
        ),
        (
            json!({"environment": "prod", "revision": 1}),
            "flags: required",
        ),
        (
            json!({"environment": "prod", "revision": 1, "flags": [null]}),
            "flags[0]: must be a JSON object",
        ),
        (
            json!({"flags": [], "segments": {}}),
            "segments: must be an array of segments",
        ),
        (
            json!({"flags": [], "segments": [7]}),
            "segments[0]: must be a JSON object",
        ),
        (
            json!({"flags": [], "segments": [{"key": "s", "include": [1]}]}),
            "segments[0].include[0]: must be a non-empty string",
        ),
        (
            json!({"flags": [], "segments": [{"key": "s"}, {"key": "s"}]}),
            "segments[1].key: duplicate key \"s\"",
        ),
    ];
    for (snapshot, expected) in snapshots {
        assert_eq!(
            message(Evaluator::new(&js(&snapshot)).unwrap_err()),
            expected
        );
    }
}
