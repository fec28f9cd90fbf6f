//! The contract's Flag JSON as the evaluator reads and writes it: it keeps what decides a flag, and
//! checks the origin's fields (`id`, `environment`, `version`, timestamps) without keeping them.

use evaluator::Flag;
use serde_json::{json, Value};

fn origin_flag() -> Value {
    json!({
        "id": "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "key": "checkout",
        "environment": "prod",
        "description": "d",
        "enabled": true,
        "rolloutPercentage": 25,
        "rules": [{"field": "email", "operator": "ends_with", "value": "@example.com"}],
        "version": 3,
        "createdAt": "2026-11-25T15:27:19.443Z",
        "updatedAt": "2026-11-26T09:02:11.017Z",
        "someNewerField": {"ignored": true}
    })
}

#[test]
fn a_flag_as_the_origin_serves_it_reads_as_what_decides_it() {
    let flag = Flag::from_json_value(&origin_flag()).unwrap();
    assert_eq!(
        serde_json::to_string(&flag).unwrap(),
        concat!(
            r#"{"key":"checkout","description":"d","enabled":true,"type":"boolean","#,
            r#""variants":{"off":false,"on":true},"offVariant":"off","prerequisites":[],"#,
            r#""rules":[{"field":"email","operator":"ends_with","value":"@example.com"}],"#,
            r#""rolloutPercentage":25}"#
        )
    );
    let mut bare = origin_flag();
    for name in ["id", "environment", "version", "createdAt", "updatedAt"] {
        bare.as_object_mut().unwrap().remove(name);
    }
    assert_eq!(Flag::from_json_value(&bare).unwrap(), flag);
}

#[test]
fn the_origin_s_fields_are_checked_when_present() {
    for (name, value, message) in [
        ("id", json!(5), "id: must be a string"),
        (
            "environment",
            json!("qa"),
            r#"environment: must be one of "dev", "staging", "prod", not "qa""#,
        ),
        (
            "environment",
            json!(1),
            r#"environment: must be one of "dev", "staging", "prod""#,
        ),
        (
            "version",
            json!(-1),
            "version: must be a non-negative integer",
        ),
        (
            "version",
            json!("3"),
            "version: must be a non-negative integer",
        ),
        (
            "version",
            json!(1.5),
            "version: must be a non-negative integer",
        ),
        ("createdAt", json!(1), "createdAt: must be a string"),
        ("updatedAt", json!(false), "updatedAt: must be a string"),
    ] {
        let mut flag = origin_flag();
        flag[name] = value;
        let error = Flag::from_json_value(&flag).expect_err(name);
        assert_eq!(error.to_string(), message);
        let via_serde = serde_json::from_value::<Flag>(flag).expect_err(name);
        assert_eq!(via_serde.to_string(), message);
    }
    // `null` is absent, as for every optional field.
    let mut flag = origin_flag();
    for name in ["id", "environment", "version", "createdAt", "updatedAt"] {
        flag[name] = Value::Null;
    }
    assert!(Flag::from_json_value(&flag).is_ok());
}

#[test]
fn they_are_checked_in_the_contract_s_order() {
    // `environment` before `description`, `version` after `rules`, as the fields are listed.
    let mut flag = origin_flag();
    flag["environment"] = json!("qa");
    flag["description"] = json!(1);
    assert!(Flag::from_json_value(&flag)
        .unwrap_err()
        .to_string()
        .starts_with("environment:"));
    let mut flag = origin_flag();
    flag["rules"] = json!({});
    flag["version"] = json!(-1);
    assert_eq!(
        Flag::from_json_value(&flag).unwrap_err().to_string(),
        "rules: must be an array"
    );
}
