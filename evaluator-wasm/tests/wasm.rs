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

const VECTORS: [&str; 6] = [
    include_str!("../../tests/vectors/contract-boundary.json"),
    include_str!("../../tests/vectors/contract-examples.json"),
    include_str!("../../tests/vectors/flags-filter.json"),
    include_str!("../../tests/vectors/operators.json"),
    include_str!("../../tests/vectors/rollout.json"),
    include_str!("../../tests/vectors/rules-and-groups.json"),
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
        let evaluator = Evaluator::new(&flags).unwrap();
        for case in vector["cases"].as_array().unwrap() {
            let request = &case["request"];
            assert_eq!(request["environment"], vector["environment"]);
            let expected = &case["response"]["results"];
            let user = js(&request["user"]);
            let keys = request.get("flags").map_or(JsValue::UNDEFINED, js);
            let got = back(&evaluator.evaluate(&user, &keys).unwrap());
            assert_eq!(&got, expected, "{}", case["name"]);
            if keys.is_undefined() {
                assert_eq!(&back(&evaluate_all(&flags, &user).unwrap()), expected);
                // The hot path's codes, decoded as npm/core.js does, give the same answers.
                let names = reason_names();
                let decoded: Vec<Value> = evaluator
                    .evaluate_codes(&user)
                    .unwrap()
                    .iter()
                    .zip(evaluator.keys())
                    .map(|(code, key)| {
                        json!({"flagKey": key, "enabled": code & 8 != 0, "reason": names[usize::from(code & 7)]})
                    })
                    .collect();
                assert_eq!(&Value::Array(decoded), expected);
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
        let list = js(&json!([good, case["flag"]]));
        assert_eq!(
            message(evaluate_all(&list, &user()).unwrap_err()),
            format!("flags[1].{expected}")
        );
        assert_eq!(
            message(Evaluator::new(&list).unwrap_err()),
            format!("flags[1].{expected}")
        );
    }
}

#[wasm_bindgen_test]
fn results_are_plain_objects_of_the_http_shape() {
    let flag = js(&json!({"key": "new_checkout_flow", "enabled": true, "rolloutPercentage": 57}));
    let result = evaluate(&flag, &user()).unwrap();
    let plain = js_sys::Object::get_prototype_of(&js_sys::Object::new());
    assert_eq!(
        JsValue::from(js_sys::Object::get_prototype_of(&result)),
        JsValue::from(plain)
    );
    assert_eq!(
        back(&result),
        json!({"flagKey": "new_checkout_flow", "enabled": true, "reason": "ROLLOUT"})
    );
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
        json!({"flagKey": "b", "enabled": true, "reason": "ROLLOUT"})
    );
    assert_eq!(
        back(&evaluator.evaluate_flag(&"zz".into(), &user()).unwrap()),
        json!({"flagKey": "zz", "enabled": false, "reason": "FLAG_NOT_FOUND"})
    );
    assert_eq!(
        back(
            &evaluator
                .evaluate(&user(), &js(&json!(["b", "zz", "a", "b"])))
                .unwrap()
        ),
        json!([
            {"flagKey": "a", "enabled": false, "reason": "FLAG_DISABLED"},
            {"flagKey": "b", "enabled": true, "reason": "ROLLOUT"},
            {"flagKey": "zz", "enabled": false, "reason": "FLAG_NOT_FOUND"}
        ])
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
        (json!(7), "flagsOrSnapshot: must be an array of flags or a snapshot {environment, revision, flags}"),
        (json!({"revision": 1, "flags": []}), "environment: required"),
        (json!({"environment": "prod", "revision": 1.5, "flags": []}), "revision: must be a non-negative integer"),
        (json!({"environment": "prod", "revision": 1}), "flags: required"),
        (json!({"environment": "prod", "revision": 1, "flags": [null]}), "flags[0]: must be a JSON object"),
    ];
    for (snapshot, expected) in snapshots {
        assert_eq!(
            message(Evaluator::new(&js(&snapshot)).unwrap_err()),
            expected
        );
    }
}
