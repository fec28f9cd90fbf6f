use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::json;
use test_case::test_case;

use super::*;
use crate::{CompiledFlagSet, EvaluateRequest, Flag, FlagResult, User};

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[test]
fn the_context_becomes_the_user_as_the_evaluate_api_reads_it() {
    let body = br#"{"context": {"targetingKey": "user-123", "email": "a@example.com",
        "country": "DE", "plan": "pro", "org": {"tier": 2, "tags": ["x", 1.5]}, "beta": true,
        "gone": null, "id": "not the id", "attributes": {"a": 1}}, "other": [1, 2]}"#;
    let user = read_context(body).unwrap();
    let expected = User::from_json_str(
        r#"{"id": "user-123", "email": "a@example.com", "country": "DE",
            "attributes": {"plan": "pro", "org": {"tier": 2, "tags": ["x", 1.5]}, "beta": true,
            "gone": null, "id": "not the id", "attributes": {"a": 1}}}"#,
    )
    .unwrap();
    assert_eq!(user, expected);
    // `null` for email and country is leaving them out.
    let user =
        read_context(br#"{"context":{"targetingKey":"u","email":null,"country":null}}"#).unwrap();
    assert_eq!(user, User::new("u"));
}

#[test_case(b"", ErrorCode::ParseError, "invalid JSON: EOF while parsing a value at line 1 column 0"; "empty body")]
#[test_case(b"{", ErrorCode::ParseError, "invalid JSON: EOF while parsing an object at line 1 column 1"; "not json")]
#[test_case(b"{} x", ErrorCode::ParseError, "invalid JSON: trailing characters at line 1 column 4"; "trailing")]
#[test_case(b"[]", ErrorCode::ParseError, "body: must be a JSON object {\"context\": {...}}"; "array body")]
#[test_case(b"null", ErrorCode::ParseError, "body: must be a JSON object {\"context\": {...}}"; "null body")]
#[test_case(br#"{"context":{"targetingKey":"u"},"context":{"targetingKey":"v"}}"#, ErrorCode::ParseError, "context: duplicate field"; "context twice")]
#[test_case(br#"{"context":[]}"#, ErrorCode::InvalidContext, "context: must be a JSON object"; "array context")]
#[test_case(br#"{"context":"user-1"}"#, ErrorCode::InvalidContext, "context: must be a JSON object"; "string context")]
#[test_case(br#"{"context":7}"#, ErrorCode::InvalidContext, "context: must be a JSON object"; "number context")]
#[test_case(br#"{"context":{"targetingKey":"u","plan":1,"plan":2}}"#, ErrorCode::InvalidContext, "context.plan: duplicate field"; "attribute twice")]
#[test_case(br#"{"context":{"targetingKey":"u","targetingKey":"v"}}"#, ErrorCode::InvalidContext, "context.targetingKey: duplicate field"; "targeting key twice")]
#[test_case(br#"{"context":{"targetingKey":"u","email":"a","email":"a"}}"#, ErrorCode::InvalidContext, "context.email: duplicate field"; "email twice")]
#[test_case(br#"{"context":{"targetingKey":"u","org":{"l":[{"a":1,"a":2}]}}}"#, ErrorCode::InvalidContext, "context.org.l[0].a: duplicate field"; "deep key twice")]
#[test_case(br#"{"context":{"z":1,"z":2,"b":{"x":1,"x":1}}}"#, ErrorCode::InvalidContext, "context.b.x: duplicate field"; "the least path whatever the order")]
#[test_case(br#"{"context":{"targetingKey":5}}"#, ErrorCode::InvalidContext, "context.targetingKey: must be a string"; "number targeting key")]
#[test_case(br#"{"context":{"targetingKey":{"id":"u"}}}"#, ErrorCode::InvalidContext, "context.targetingKey: must be a string"; "object targeting key")]
#[test_case(br#"{"context":{"targetingKey":"u","email":5}}"#, ErrorCode::InvalidContext, "context.email: must be a string or null"; "number email")]
#[test_case(br#"{"context":{"targetingKey":"u","email":"a","country":["DE"]}}"#, ErrorCode::InvalidContext, "context.country: must be a string or null"; "array country")]
#[test_case(br#"{}"#, ErrorCode::TargetingKeyMissing, "context.targetingKey: required, a non-empty string (the user's id)"; "no context")]
#[test_case(br#"{"context":null}"#, ErrorCode::TargetingKeyMissing, "context.targetingKey: required, a non-empty string (the user's id)"; "null context")]
#[test_case(br#"{"context":{}}"#, ErrorCode::TargetingKeyMissing, "context.targetingKey: required, a non-empty string (the user's id)"; "empty context")]
#[test_case(br#"{"context":{"targetingKey":null}}"#, ErrorCode::TargetingKeyMissing, "context.targetingKey: required, a non-empty string (the user's id)"; "null targeting key")]
#[test_case(br#"{"context":{"targetingKey":""}}"#, ErrorCode::TargetingKeyMissing, "context.targetingKey: required, a non-empty string (the user's id)"; "empty targeting key")]
#[test_case(br#"{"context":{"email":5,"plan":"pro"}}"#, ErrorCode::TargetingKeyMissing, "context.targetingKey: required, a non-empty string (the user's id)"; "the targeting key is checked before email")]
fn bad_bodies(body: &[u8], code: ErrorCode, details: &str) {
    let error = read_context(body).unwrap_err();
    assert_eq!(error, OfrepError::new(code, details));
    assert_eq!(error.status(), 400);
}

/// The depth limit is serde_json's, as on the evaluate request: the same message.
#[test]
fn the_depth_limit_is_the_evaluate_apis() {
    let deep = "[".repeat(200) + &"]".repeat(200);
    let ofrep = alloc::format!(r#"{{"context":{{"targetingKey":"u","a":{deep}}}}}"#);
    let evaluate = alloc::format!(
        r#"{{"environment":"dev","user":{{"id":"u","attributes":{{"a":{deep}}}}}}}"#
    );
    let ofrep = read_context(ofrep.as_bytes()).unwrap_err();
    let evaluate = EvaluateRequest::from_json(evaluate.as_bytes()).unwrap_err();
    assert_eq!(ofrep.code, ErrorCode::ParseError);
    assert!(ofrep
        .details
        .starts_with("invalid JSON: recursion limit exceeded"));
    assert!(evaluate
        .to_string()
        .starts_with("invalid JSON: recursion limit exceeded"));
}

#[test]
fn a_long_key_is_echoed_cut() {
    let key = "k".repeat(100);
    let body = alloc::format!(r#"{{"context":{{"targetingKey":"u","{key}":1,"{key}":2}}}}"#);
    let error = read_context(body.as_bytes()).unwrap_err();
    assert_eq!(
        error.details,
        alloc::format!("context.{}…: duplicate field", "k".repeat(64))
    );
}

#[test_case(Reason::RuleMatch, "TARGETING_MATCH")]
#[test_case(Reason::Rollout, "SPLIT")]
#[test_case(Reason::NoMatch, "DEFAULT")]
#[test_case(Reason::FlagDisabled, "DISABLED")]
#[test_case(Reason::PrerequisiteFailed, "DISABLED")]
fn reasons_map_to_open_feature(reason: Reason, expected: &str) {
    assert_eq!(open_feature_reason(reason), expected);
}

fn flags() -> Vec<Flag> {
    [
        json!({"key": "disabled", "enabled": false, "rolloutPercentage": 100}),
        json!({"key": "gated", "enabled": true, "type": "string",
            "variants": {"a": "A", "b": "B"}, "offVariant": "a", "fallthrough": "b",
            "prerequisites": [{"flag": "disabled", "variants": ["on"]}]}),
        json!({"key": "matched", "enabled": true, "type": "number",
            "variants": {"x": 100.0, "y": -0.5}, "offVariant": "y", "fallthrough": "y",
            "rules": [{"field": "attributes.plan", "operator": "eq", "value": "pro", "serve": "x"}]}),
        json!({"key": "rolled", "enabled": true, "rolloutPercentage": 100}),
        json!({"key": "o.bj", "enabled": true, "type": "object",
            "variants": {"v_1": {"k": ["\u{1}", 1e-7]}}, "offVariant": "v_1", "fallthrough": "v_1"}),
    ]
    .iter()
    .map(|document| Flag::from_json_value(document).unwrap())
    .collect()
}

fn user() -> User {
    read_context(br#"{"context":{"targetingKey":"user-1","plan":"pro"}}"#).unwrap()
}

/// Each reason, each type of value, and a key and a variant that need escaping: the bytes written
/// from a compiled set's parts are those written through serde for a result outside a set, and
/// what they say is the contract's mapping.
#[test]
fn a_success_is_key_variant_value_reason_and_pennons_reason() {
    let flags = flags();
    let set = CompiledFlagSet::new(&flags).unwrap();
    let user = user();
    let expected = [
        (
            "disabled",
            json!({"key": "disabled", "variant": "off", "value": false,
            "reason": "DISABLED", "metadata": {"pennonReason": "FLAG_DISABLED"}}),
        ),
        (
            "gated",
            json!({"key": "gated", "variant": "a", "value": "A",
            "reason": "DISABLED", "metadata": {"pennonReason": "PREREQUISITE_FAILED"}}),
        ),
        (
            "matched",
            json!({"key": "matched", "variant": "x", "value": 100.0,
            "reason": "TARGETING_MATCH", "metadata": {"pennonReason": "RULE_MATCH"}}),
        ),
        (
            "o.bj",
            json!({"key": "o.bj", "variant": "v_1", "value": {"k": ["\u{1}", 1e-7]},
            "reason": "DEFAULT", "metadata": {"pennonReason": "NO_MATCH"}}),
        ),
        (
            "rolled",
            json!({"key": "rolled", "variant": "on", "value": true,
            "reason": "SPLIT", "metadata": {"pennonReason": "ROLLOUT"}}),
        ),
    ];
    for (key, expected) in &expected {
        let compiled = set.evaluate_flag(key, &user).unwrap();
        let written = text(flag_body(&compiled, Environment::Prod));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&written).unwrap(),
            *expected,
            "{written}"
        );
        let flag = flags.iter().find(|f| f.key.as_str() == *key).unwrap();
        let alone = FlagResult::of(
            flag,
            crate::evaluate_in(
                &crate::Definitions {
                    flags: &flags,
                    segments: &[],
                },
                flag,
                &user,
            ),
        );
        assert_eq!(text(flag_body(&alone, Environment::Prod)), written);
    }
    // The stored number as it was written: 100.0 stays a float, as in the evaluate API.
    let matched = set.evaluate_flag("matched", &user).unwrap();
    assert!(text(flag_body(&matched, Environment::Prod)).contains(r#""value":100.0,"#));
}

#[test]
fn the_bulk_answer_lists_every_flag_then_the_event_streams() {
    let set = CompiledFlagSet::new(&flags()).unwrap();
    let user = user();
    let results = set.evaluate_all(&user);
    let bulk = text(bulk_body(&results, Environment::Dev, None));
    let items: Vec<String> = results
        .iter()
        .map(|result| text(flag_body(result, Environment::Dev)))
        .collect();
    assert_eq!(bulk, alloc::format!("{{\"flags\":[{}]}}", items.join(",")));
    let streams = r#"[{"type":"sse","url":"https://o.example/api/stream?environment=dev"}]"#;
    let with_streams = text(bulk_body(&results, Environment::Dev, Some(streams)));
    assert_eq!(
        with_streams,
        alloc::format!(
            "{{\"flags\":[{}],\"eventStreams\":{streams}}}",
            items.join(",")
        )
    );
    assert_eq!(
        text(bulk_body(&[], Environment::Dev, None)),
        r#"{"flags":[]}"#
    );
}

#[test]
fn errors_name_the_key_and_escape_the_details() {
    let missing = OfrepError::flag_not_found("no\"pe", Environment::Staging);
    assert_eq!(missing.status(), 404);
    assert_eq!(
        text(error_body("no\"pe", &missing)),
        r#"{"key":"no\"pe","errorCode":"FLAG_NOT_FOUND","errorDetails":"no flag \"no\\\"pe\" in staging"}"#
    );
    let general = OfrepError::general("too many requests; retry after 2 s");
    assert_eq!(
        text(bulk_error_body(&general)),
        r#"{"errorCode":"GENERAL","errorDetails":"too many requests; retry after 2 s"}"#
    );
    // A key the set does not have, written as a success, is that error.
    let result = FlagResult::not_found("gone");
    assert_eq!(
        text(flag_body(&result, Environment::Prod)),
        r#"{"key":"gone","errorCode":"FLAG_NOT_FOUND","errorDetails":"no flag \"gone\" in prod"}"#
    );
    for code in [
        ErrorCode::ParseError,
        ErrorCode::InvalidContext,
        ErrorCode::TargetingKeyMissing,
        ErrorCode::FlagNotFound,
        ErrorCode::General,
    ] {
        let body = text(bulk_error_body(&OfrepError::new(code, "d")));
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["errorCode"], code.as_str());
        assert_eq!(value["errorDetails"], "d");
    }
}

#[test]
fn the_environment_header() {
    assert_eq!(environment(None), Ok(None));
    assert_eq!(
        environment(Some(b"staging")),
        Ok(Some(Environment::Staging))
    );
    for (value, shown) in [
        (&b"moon"[..], "moon"),
        (b"Prod", "Prod"),
        (b"\xff", "\u{fffd}"),
    ] {
        let error = environment(Some(value)).unwrap_err();
        assert_eq!(error.code, ErrorCode::General);
        assert_eq!(
            error.details,
            alloc::format!(
                "x-pennon-environment: must be one of \"dev\", \"staging\", \"prod\", not {shown:?}"
            )
        );
    }
}

#[test]
fn the_bulk_etag_changes_with_the_environment_the_revision_and_the_body() {
    let body = br#"{"context":{"targetingKey":"u"}}"#;
    let tag = bulk_etag(Environment::Prod, 7, body);
    assert_eq!(tag, bulk_etag(Environment::Prod, 7, body));
    assert!(
        tag.starts_with("\"7-") && tag.ends_with('"') && tag.len() == 20,
        "{tag}"
    );
    let others = [
        bulk_etag(Environment::Prod, 8, body),
        bulk_etag(Environment::Dev, 7, body),
        bulk_etag(Environment::Prod, 7, br#"{"context":{"targetingKey":"v"}}"#),
        bulk_etag(Environment::Prod, 7, b""),
    ];
    for other in &others {
        assert_ne!(*other, tag);
    }
}
