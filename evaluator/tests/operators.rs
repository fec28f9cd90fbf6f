//! One row per operator and edge case, through `evaluate` and through the compiled set.

use evaluator::{
    evaluate, CompiledFlagSet, Fallthrough, Flag, FlagResult, FlagType, Reason, RolloutPercentage,
    User,
};
use serde_json::{json, Value};
use test_case::test_case;

fn user(value: Value) -> User {
    User::from_json_value(&value).unwrap()
}

/// Whether a flag with the single rule `field operator value` (enabled, 0%) matches `user`; checks
/// that the compiled set agrees.
fn matches(field: &str, operator: &str, value: Value, user_json: Value) -> bool {
    let flag = Flag::from_json_value(&json!({
        "key": "f", "enabled": true, "rolloutPercentage": 0,
        "rules": [{"field": field, "operator": operator, "value": value}]
    }))
    .unwrap();
    let user = user(user_json);
    let plain = evaluate(&flag, &user);
    let set = CompiledFlagSet::new(std::slice::from_ref(&flag)).unwrap();
    let compiled = set.evaluate_flag("f", &user).unwrap();
    assert_eq!(FlagResult::of(&flag, plain), compiled);
    assert!(matches!(plain.reason, Reason::RuleMatch | Reason::NoMatch));
    plain.enabled
}

// eq
#[test_case("country", json!("DE"), json!({"id": "u", "country": "DE"}), true ; "eq string")]
#[test_case("country", json!("DE"), json!({"id": "u", "country": "de"}), false ; "eq is case sensitive")]
#[test_case("country", json!("DE"), json!({"id": "u"}), false ; "eq missing field")]
#[test_case("country", json!("DE"), json!({"id": "u", "country": null}), false ; "eq null field")]
#[test_case("attributes.n", json!(10), json!({"id": "u", "attributes": {"n": 10}}), true ; "eq int int")]
#[test_case("attributes.n", json!(10), json!({"id": "u", "attributes": {"n": 10.0}}), true ; "eq int float")]
#[test_case("attributes.n", json!(10.0), json!({"id": "u", "attributes": {"n": 10}}), true ; "eq float int")]
#[test_case("attributes.n", json!(10), json!({"id": "u", "attributes": {"n": "10"}}), false ; "eq int string")]
#[test_case("attributes.n", json!("10"), json!({"id": "u", "attributes": {"n": 10}}), false ; "eq string int")]
#[test_case("attributes.n", json!(10), json!({"id": "u", "attributes": {"n": 10.5}}), false ; "eq int fraction")]
#[test_case("attributes.n", json!(-3), json!({"id": "u", "attributes": {"n": -3.0}}), true ; "eq negative")]
#[test_case("attributes.n", json!(0), json!({"id": "u", "attributes": {"n": -0.0}}), true ; "eq zero negative zero")]
#[test_case("attributes.n", json!(9007199254740993_u64), json!({"id": "u", "attributes": {"n": 9007199254740992_u64}}), false ; "eq big ints exact")]
#[test_case("attributes.n", json!(18446744073709551615_u64), json!({"id": "u", "attributes": {"n": 18446744073709551615_u64}}), true ; "eq u64 max")]
#[test_case("attributes.n", json!(1e300), json!({"id": "u", "attributes": {"n": 1e300}}), true ; "eq huge float")]
#[test_case("attributes.b", json!(true), json!({"id": "u", "attributes": {"b": true}}), true ; "eq bool")]
#[test_case("attributes.b", json!(true), json!({"id": "u", "attributes": {"b": 1}}), false ; "eq bool vs number")]
#[test_case("attributes.b", json!(1), json!({"id": "u", "attributes": {"b": true}}), false ; "eq number vs bool")]
#[test_case("attributes.b", json!("true"), json!({"id": "u", "attributes": {"b": true}}), false ; "eq string vs bool")]
#[test_case("attributes.s", json!(""), json!({"id": "u", "attributes": {"s": ""}}), true ; "eq empty string")]
#[test_case("attributes.s", json!(""), json!({"id": "u", "attributes": {"s": []}}), false ; "eq array value")]
#[test_case("attributes.s", json!(""), json!({"id": "u", "attributes": {"s": {}}}), false ; "eq object value")]
#[test_case("attributes.org.tier", json!("gold"), json!({"id": "u", "attributes": {"org": {"tier": "gold"}}}), true ; "eq nested path")]
#[test_case("attributes.org.tier", json!("gold"), json!({"id": "u", "attributes": {"org.tier": "gold"}}), false ; "eq dotted key is not a path")]
#[test_case("attributes.org.tier", json!("gold"), json!({"id": "u", "attributes": {"org": "gold"}}), false ; "eq path through a string")]
#[test_case("attributes.a.b.c", json!(1), json!({"id": "u", "attributes": {"a": {"b": {"c": 1}}}}), true ; "eq deep path")]
#[test_case("email", json!("zoë@例え.jp"), json!({"id": "u", "email": "zoë@例え.jp"}), true ; "eq non ascii")]
#[test_case("id", json!("u"), json!({"id": "u"}), true ; "eq id")]
fn eq(field: &str, value: Value, user: Value, expected: bool) {
    assert_eq!(matches(field, "eq", value, user), expected);
}

// neq fails closed: a missing, null, list or object field is not "not equal".
#[test_case(json!({"id": "u", "country": "FR"}), true ; "neq other value")]
#[test_case(json!({"id": "u", "country": "DE"}), false ; "neq same value")]
#[test_case(json!({"id": "u"}), false ; "neq missing fails closed")]
#[test_case(json!({"id": "u", "country": null}), false ; "neq null fails closed")]
fn neq(user: Value, expected: bool) {
    assert_eq!(matches("country", "neq", json!("DE"), user), expected);
}

#[test_case(json!({"id": "u", "attributes": {"x": "10"}}), true ; "neq other type is not equal")]
#[test_case(json!({"id": "u", "attributes": {"x": [10]}}), false ; "neq list fails closed")]
#[test_case(json!({"id": "u", "attributes": {"x": {"y": 10}}}), false ; "neq object fails closed")]
fn neq_types(user: Value, expected: bool) {
    assert_eq!(matches("attributes.x", "neq", json!(10), user), expected);
}

#[test_case(json!({"id": "u", "attributes": {"x": "b"}}), true ; "in string")]
#[test_case(json!({"id": "u", "attributes": {"x": 2}}), true ; "in number")]
#[test_case(json!({"id": "u", "attributes": {"x": 2.0}}), true ; "in number by value")]
#[test_case(json!({"id": "u", "attributes": {"x": false}}), true ; "in bool")]
#[test_case(json!({"id": "u", "attributes": {"x": true}}), false ; "in other bool")]
#[test_case(json!({"id": "u", "attributes": {"x": "2"}}), false ; "in string of number")]
#[test_case(json!({"id": "u", "attributes": {"x": "B"}}), false ; "in case sensitive")]
#[test_case(json!({"id": "u", "attributes": {"x": ["b"]}}), false ; "in list value")]
#[test_case(json!({"id": "u"}), false ; "in missing")]
fn in_list(user: Value, expected: bool) {
    assert_eq!(
        matches("attributes.x", "in", json!(["a", "b", 2, false]), user),
        expected
    );
}

#[test_case(json!({"id": "u", "attributes": {"x": "c"}}), true ; "not_in absent value")]
#[test_case(json!({"id": "u", "attributes": {"x": "a"}}), false ; "not_in present value")]
#[test_case(json!({"id": "u", "attributes": {"x": 2}}), false ; "not_in present number")]
#[test_case(json!({"id": "u"}), false ; "not_in missing fails closed")]
#[test_case(json!({"id": "u", "attributes": {"x": null}}), false ; "not_in null fails closed")]
#[test_case(json!({"id": "u", "attributes": {"x": ["c"]}}), false ; "not_in list fails closed")]
fn not_in(user: Value, expected: bool) {
    assert_eq!(
        matches("attributes.x", "not_in", json!(["a", "b", 2]), user),
        expected
    );
}

#[test_case("starts_with", "admin@", "admin@pennon.dev", true ; "starts_with prefix")]
#[test_case("starts_with", "admin@", "Admin@pennon.dev", false ; "starts_with case sensitive")]
#[test_case("starts_with", "", "anything", true ; "starts_with empty prefix")]
#[test_case("starts_with", "日本", "日本@例え.jp", true ; "starts_with non ascii")]
#[test_case("ends_with", "@pennon.dev", "ops@pennon.dev", true ; "ends_with suffix")]
#[test_case("ends_with", "@pennon.dev", "ops@pennon.dev.evil", false ; "ends_with not suffix")]
#[test_case("ends_with", "ë", "Zoë", true ; "ends_with non ascii")]
fn affixes(operator: &str, value: &str, email: &str, expected: bool) {
    assert_eq!(
        matches(
            "email",
            operator,
            json!(value),
            json!({"id": "u", "email": email})
        ),
        expected
    );
}

#[test_case(json!({"id": "u", "attributes": {"x": 5}}) ; "number")]
#[test_case(json!({"id": "u", "attributes": {"x": true}}) ; "bool")]
#[test_case(json!({"id": "u", "attributes": {"x": null}}) ; "null")]
#[test_case(json!({"id": "u"}) ; "missing")]
fn affixes_need_a_string_field(user: Value) {
    assert!(!matches(
        "attributes.x",
        "starts_with",
        json!(""),
        user.clone()
    ));
    assert!(!matches("attributes.x", "ends_with", json!(""), user));
}

fn flag(value: Value) -> Flag {
    Flag::from_json_value(&value).unwrap()
}

#[test]
fn the_kill_switch_comes_before_everything() {
    let killed = flag(
        json!({"key": "k", "enabled": false, "rolloutPercentage": 100,
        "rules": [{"field": "id", "operator": "eq", "value": "u"}]}),
    );
    let result = evaluate(&killed, &User::new("u"));
    assert_eq!(
        (result.enabled, result.reason),
        (false, Reason::FlagDisabled)
    );
}

#[test]
fn rules_come_before_the_rollout_and_any_rule_matches() {
    let f = flag(
        json!({"key": "k", "enabled": true, "rolloutPercentage": 100, "rules": [
            {"field": "country", "operator": "eq", "value": "DE"},
            {"all": [{"field": "country", "operator": "eq", "value": "US"},
                     {"field": "attributes.plan", "operator": "eq", "value": "pro"}]}
        ]}),
    );
    let reason = |u: Value| evaluate(&f, &user(u)).reason;
    assert_eq!(
        reason(json!({"id": "a", "country": "DE"})),
        Reason::RuleMatch
    );
    assert_eq!(
        reason(json!({"id": "a", "country": "US", "attributes": {"plan": "pro"}})),
        Reason::RuleMatch
    );
    // The group needs both conditions; without a match the 100% rollout decides.
    assert_eq!(
        reason(json!({"id": "a", "country": "US", "attributes": {"plan": "free"}})),
        Reason::Rollout
    );
}

#[test]
fn the_rollout_compares_the_bucket_strictly() {
    // bucket("user-123", "new_checkout_flow") = 56 (the contract's example).
    let at = |percent: u8| {
        let f = flag(
            json!({"key": "new_checkout_flow", "enabled": true, "rolloutPercentage": percent}),
        );
        evaluate(&f, &User::new("user-123"))
    };
    assert_eq!((at(57).enabled, at(57).reason), (true, Reason::Rollout));
    assert_eq!((at(56).enabled, at(56).reason), (false, Reason::NoMatch));
    assert_eq!(at(0).reason, Reason::NoMatch);
    assert_eq!(at(100).reason, Reason::Rollout);
}

#[test]
fn a_compiled_set_refuses_duplicate_keys_and_answers_unknown_keys() {
    let flags = vec![
        flag(json!({"key": "a"})),
        flag(json!({"key": "b"})),
        flag(json!({"key": "a"})),
    ];
    let error = CompiledFlagSet::new(&flags).unwrap_err();
    assert_eq!(error.to_string(), "flags[2].key: duplicate key \"a\"");

    let set = CompiledFlagSet::new(&flags[..2]).unwrap();
    assert_eq!(set.len(), 2);
    assert_eq!(set.evaluate_flag("zzz", &User::new("u")), None);
    let keys = vec!["zzz".to_string(), "a".to_string(), "a".to_string()];
    let results = set.evaluate_keys(&User::new("u"), &keys);
    let got: Vec<_> = results.iter().map(|r| (r.flag_key, r.reason)).collect();
    assert_eq!(
        got,
        [("a", Reason::FlagDisabled), ("zzz", Reason::FlagNotFound)]
    );
}

#[test]
fn results_serialize_as_the_api_says() {
    let f = flag(json!({"key": "k", "enabled": true, "rolloutPercentage": 100}));
    let result = evaluate(&f, &User::new("u"));
    assert_eq!(
        serde_json::to_string(&result).unwrap(),
        r#"{"enabled":true,"reason":"ROLLOUT"}"#
    );
    let set = CompiledFlagSet::new(&[f]).unwrap();
    let all = set.evaluate_all(&User::new("u"));
    assert_eq!(
        serde_json::to_string(&evaluator::EvaluateResponse { results: all }).unwrap(),
        r#"{"results":[{"flagKey":"k","enabled":true,"reason":"ROLLOUT","variant":"on","value":true}]}"#
    );
}

#[test]
fn limits_on_rules_and_groups() {
    let rule = json!({"field": "id", "operator": "eq", "value": "x"});
    let rules: Vec<Value> = std::iter::repeat_n(rule.clone(), 100).collect();
    assert!(Flag::from_json_value(&json!({"key": "k", "rules": rules})).is_ok());
    let rules: Vec<Value> = std::iter::repeat_n(rule.clone(), 101).collect();
    let error = Flag::from_json_value(&json!({"key": "k", "rules": rules})).unwrap_err();
    assert_eq!(error.to_string(), "rules: at most 100 rules, got 101");

    let group: Vec<Value> = std::iter::repeat_n(rule.clone(), 20).collect();
    assert!(Flag::from_json_value(&json!({"key": "k", "rules": [{"all": group}]})).is_ok());
    let group: Vec<Value> = std::iter::repeat_n(rule, 21).collect();
    let error = Flag::from_json_value(&json!({"key": "k", "rules": [{"all": group}]})).unwrap_err();
    assert_eq!(
        error.to_string(),
        "rules[0].all: a group needs 1 to 20 conditions, got 21"
    );
}

#[test]
fn a_flag_reads_with_defaults_and_ignores_unknown_fields() {
    let f = flag(json!({"key": "k", "futureField": {"x": 1}, "description": null}));
    assert!(!f.enabled);
    assert_eq!(f.flag_type(), FlagType::Boolean);
    assert_eq!(
        f.fallthrough(),
        &Fallthrough::Rollout(RolloutPercentage::new(0).unwrap())
    );
    assert!(f.rules().is_empty());
    assert_eq!(f.description, "");
}
