//! Properties of version 2 over random sets (see `support`): the compiled set decides exactly as
//! the plain `evaluate_in`; what the evaluator writes reads back as itself, in the contract's shape;
//! a version-1 flag answers exactly as version 1 did.

mod support;

use std::collections::BTreeSet;
use std::io::Cursor;

use evaluator::{
    evaluate, evaluate_in, CompiledFlagSet, Definitions, EvaluateResponse, Flag, FlagResult,
    Reason, Segment, Snapshot, User, VariantValue,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_json::{json, Map, Value};
use support::{set_documents, user_json, SetDocuments, MISSING_FLAG};

fn read_set(documents: &SetDocuments) -> (Vec<Flag>, Vec<Segment>) {
    let flags = documents
        .flags
        .iter()
        .map(|doc| Flag::from_json_value(doc).unwrap_or_else(|e| panic!("{e}: {doc}")))
        .collect();
    let segments = documents
        .segments
        .iter()
        .map(|doc| Segment::from_json_value(doc).unwrap_or_else(|e| panic!("{e}: {doc}")))
        .collect();
    (flags, segments)
}

fn user(json: &Value) -> User {
    User::from_json_value(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Every flag of a random set, for a few random users: `evaluate_all`, `evaluate_flag` and
    /// `evaluate_keys` give exactly what `evaluate_in` gives.
    #[test]
    fn the_compiled_set_agrees_with_evaluate_in(
        documents in set_documents(),
        users in prop::collection::vec(user_json(), 1..4),
    ) {
        let (flags, segments) = read_set(&documents);
        let set = CompiledFlagSet::with_segments(&flags, &segments).unwrap();
        let definitions = Definitions { flags: &flags, segments: &segments };
        for user in users.iter().map(user) {
            let all = set.evaluate_all(&user);
            prop_assert_eq!(all.len(), flags.len());
            prop_assert!(all.windows(2).all(|w| w[0].flag_key < w[1].flag_key));
            for flag in &flags {
                let expected = FlagResult::of(flag, evaluate_in(&definitions, flag, &user));
                let found = all.iter().find(|r| r.flag_key == flag.key.as_str());
                prop_assert_eq!(found, Some(&expected), "evaluate_all, {}", flag.key);
                prop_assert_eq!(set.evaluate_flag(flag.key.as_str(), &user), Some(expected));
            }
            // Every other key, one twice, and one the set does not have.
            let mut keys: Vec<String> = flags.iter().step_by(2).map(|f| f.key.to_string()).collect();
            keys.push(flags[0].key.to_string());
            keys.push(MISSING_FLAG.to_string());
            let some = set.evaluate_keys(&user, &keys);
            let wanted: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
            prop_assert_eq!(some.len(), wanted.len());
            for (result, key) in some.iter().zip(&wanted) {
                prop_assert_eq!(result.flag_key, *key);
                match all.iter().find(|r| r.flag_key == *key) {
                    Some(known) => prop_assert_eq!(result, known),
                    None => prop_assert_eq!(*result, FlagResult::not_found(key)),
                }
            }
            // The fast writer gives serde's bytes, for every type of value and a missing key.
            for results in [all, some] {
                let response = EvaluateResponse { results };
                prop_assert_eq!(
                    String::from_utf8(response.to_json()).unwrap(),
                    serde_json::to_string(&response).unwrap()
                );
            }
        }
    }
}

/// The generator reaches what the agreement above is about: every reason, prerequisites that pass
/// as well as fail, segments that hold users, splits that place users and splits that cannot.
#[test]
fn the_random_sets_reach_every_outcome() {
    let mut runner = TestRunner::deterministic();
    let strategy = (set_documents(), user_json());
    let mut reasons = BTreeSet::new();
    let (mut prerequisite_passed, mut member, mut split_placed, mut split_unplaced) = (0, 0, 0, 0);
    for _ in 0..400 {
        let (documents, user_doc) = strategy.new_tree(&mut runner).unwrap().current();
        let (flags, segments) = read_set(&documents);
        let user = user(&user_doc);
        let set = CompiledFlagSet::with_segments(&flags, &segments).unwrap();
        for (flag, result) in flags.iter().zip(
            flags
                .iter()
                .map(|f| set.evaluate_flag(f.key.as_str(), &user).unwrap()),
        ) {
            reasons.insert(result.reason.as_str());
            let split = matches!(
                flag.fallthrough(),
                evaluator::Fallthrough::Serve(evaluator::Serve::Split(_))
            );
            if !flag.prerequisites().is_empty() && result.reason.as_str() != "FLAG_DISABLED" {
                prerequisite_passed += usize::from(result.reason != Reason::PrerequisiteFailed);
            }
            if split && result.reason == Reason::Rollout {
                split_placed += 1;
            }
            if split && result.reason == Reason::NoMatch {
                split_unplaced += 1;
            }
        }
        for segment in &segments {
            let only = Flag::from_json_value(&json!({
                "key": "probe", "enabled": true, "rules": [{"segment": segment.key.as_str()}]
            }))
            .unwrap();
            let probe = CompiledFlagSet::with_segments(&[only], &segments).unwrap();
            member += usize::from(probe.evaluate_flag("probe", &user).unwrap().enabled);
        }
    }
    let every: BTreeSet<&str> = [
        "FLAG_DISABLED",
        "PREREQUISITE_FAILED",
        "RULE_MATCH",
        "ROLLOUT",
        "NO_MATCH",
    ]
    .into();
    assert_eq!(reasons, every);
    for (what, count) in [
        ("prerequisites that pass", prerequisite_passed),
        ("segment members", member),
        ("users placed by a fallthrough split", split_placed),
        ("users a fallthrough split cannot place", split_unplaced),
    ] {
        assert!(count >= 20, "only {count} {what} in 400 sets");
    }
}

/// The top-level keys of a JSON object's text, in the order written.
fn keys_in_order(text: &str) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                keys.push(key);
            }
            Ok(keys)
        }
    }
    serde_json::Deserializer::from_str(text)
        .deserialize_map(Keys)
        .unwrap()
}

/// What the evaluator writes for a flag document it accepted: the document with every default
/// filled in, a boolean flag's rule that serves "on" without its `serve`.
fn written_form(document: &Value) -> Value {
    let mut flag = document.as_object().unwrap().clone();
    let boolean = flag.get("type").is_none_or(|t| t == "boolean");
    let defaults = [
        ("description", json!("")),
        ("enabled", json!(false)),
        ("type", json!("boolean")),
        ("variants", json!({"off": false, "on": true})),
        ("offVariant", json!("off")),
        ("prerequisites", json!([])),
        ("rules", json!([])),
    ];
    for (name, value) in defaults {
        flag.entry(name).or_insert(value);
    }
    if boolean && !flag.contains_key("fallthrough") {
        flag.entry("rolloutPercentage").or_insert(json!(0));
    }
    if boolean {
        for rule in flag["rules"].as_array_mut().unwrap() {
            if rule.get("serve") == Some(&json!("on")) {
                rule.as_object_mut().unwrap().remove("serve");
            }
        }
    }
    Value::Object(flag)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Written, a flag reads back as itself; written again, the same text; the text is the document
    /// with its defaults, keys in the contract's order. Segments and the snapshot likewise.
    #[test]
    fn documents_round_trip(documents in set_documents()) {
        let (flags, segments) = read_set(&documents);
        for (flag, document) in flags.iter().zip(&documents.flags) {
            let text = serde_json::to_string(flag).unwrap();
            let again = Flag::from_json_value(&serde_json::from_str(&text).unwrap()).unwrap();
            prop_assert_eq!(&again, flag);
            prop_assert_eq!(serde_json::to_string(&again).unwrap(), text.as_str());
            prop_assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), written_form(document));
            let last = if matches!(flag.fallthrough(), evaluator::Fallthrough::Rollout(_)) {
                "rolloutPercentage"
            } else {
                "fallthrough"
            };
            prop_assert_eq!(
                keys_in_order(&text),
                ["key", "description", "enabled", "type", "variants", "offVariant",
                 "prerequisites", "rules", last]
            );
        }
        for (segment, document) in segments.iter().zip(&documents.segments) {
            let text = serde_json::to_string(segment).unwrap();
            let again = Segment::from_json_value(&serde_json::from_str(&text).unwrap()).unwrap();
            prop_assert_eq!(&again, segment);
            prop_assert_eq!(serde_json::to_string(&again).unwrap(), text.as_str());
            let mut expected = document.clone();
            expected.as_object_mut().unwrap().entry("description").or_insert(json!(""));
            prop_assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
            prop_assert_eq!(keys_in_order(&text), ["key", "description", "include", "rules"]);
        }
        let snapshot = Snapshot {
            environment: evaluator::Environment::Prod,
            revision: 7,
            flags,
            segments,
        };
        let text = serde_json::to_string(&snapshot).unwrap();
        let again: Snapshot = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&again, &snapshot);
        prop_assert_eq!(serde_json::to_string(&again).unwrap(), text);
    }
}

// --- version 1 --------------------------------------------------------------------------------------

/// Version 1's values: no integers beyond 2^53, so comparing them as doubles below is exact.
fn v1_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => prop::sample::select(vec!["DE", "US", "", "gold", "10", "Zoë", "u-"]).prop_map(|s| json!(s)),
        2 => prop::sample::select(vec![json!(0), json!(10), json!(10.0), json!(-3), json!(1.5)]),
        1 => any::<bool>().prop_map(|b| json!(b)),
    ]
}

fn v1_condition() -> impl Strategy<Value = Value> {
    let operator_value = prop_oneof![
        (prop::sample::select(vec!["eq", "neq"]), v1_scalar()),
        (
            prop::sample::select(vec!["in", "not_in"]),
            prop::collection::vec(v1_scalar(), 1..4).prop_map(Value::Array)
        ),
        (
            prop::sample::select(vec!["starts_with", "ends_with"]),
            prop::sample::select(vec!["", "D", "E", "o", "ë", "u-"]).prop_map(|s| json!(s))
        ),
    ];
    let field = prop::sample::select(vec![
        "id",
        "email",
        "country",
        "attributes.plan",
        "attributes.age",
        "attributes.org.tier",
    ]);
    (field, operator_value).prop_map(|(f, (op, v))| json!({"field": f, "operator": op, "value": v}))
}

fn v1_flag() -> impl Strategy<Value = Value> {
    let rule = prop_oneof![
        3 => v1_condition(),
        1 => prop::collection::vec(v1_condition(), 1..4).prop_map(|all| json!({"all": all})),
    ];
    (
        "[a-z][a-z0-9_.-]{0,12}",
        any::<bool>(),
        prop_oneof![0u8..=100, Just(0), Just(100)],
        prop::collection::vec(rule, 0..5),
        prop::option::of(Just("a v1 flag")),
    )
        .prop_map(|(key, enabled, rollout, rules, description)| {
            let mut flag = json!({
                "key": key, "enabled": enabled, "rolloutPercentage": rollout, "rules": rules
            });
            if let Some(description) = description {
                flag["description"] = json!(description);
            }
            flag
        })
}

fn v1_user() -> impl Strategy<Value = Value> {
    let attribute = prop_oneof![
        4 => v1_scalar(),
        1 => Just(Value::Null),
        1 => prop::collection::vec(v1_scalar(), 0..3).prop_map(Value::Array),
        1 => v1_scalar().prop_map(|tier| json!({"tier": tier})),
    ];
    (
        prop_oneof!["u-[0-9]{1,3}", "\\PC{1,12}"],
        prop::option::of(prop::sample::select(vec!["DE", "US", "Zoë", ""])),
        prop::option::of(prop::sample::select(vec!["DE", "gold", "u-1"])),
        prop::collection::btree_map(
            prop::sample::select(vec!["plan", "age", "org"]),
            attribute,
            0..3,
        ),
    )
        .prop_map(|(id, email, country, attributes)| {
            json!({"id": id, "email": email, "country": country, "attributes": attributes})
        })
}

/// Version 1's rule, written again from its contract: the kill switch, the rules in order (a
/// group when all its conditions hold), then `murmur3(id ++ key) % 100 < rolloutPercentage`.
fn v1_answer(flag: &Value, user: &Value) -> (bool, &'static str) {
    if flag["enabled"] != json!(true) {
        return (false, "FLAG_DISABLED");
    }
    for rule in flag["rules"].as_array().unwrap() {
        let conditions = match rule.get("all") {
            Some(all) => all.as_array().unwrap().clone(),
            None => vec![rule.clone()],
        };
        if conditions.iter().all(|c| v1_holds(c, user)) {
            return (true, "RULE_MATCH");
        }
    }
    let text = format!(
        "{}{}",
        user["id"].as_str().unwrap(),
        flag["key"].as_str().unwrap()
    );
    let hash = murmur3::murmur3_32(&mut Cursor::new(text.as_bytes()), 0).unwrap();
    if u64::from(hash % 100) < flag["rolloutPercentage"].as_u64().unwrap() {
        (true, "ROLLOUT")
    } else {
        (false, "NO_MATCH")
    }
}

fn v1_lookup<'u>(user: &'u Value, field: &str) -> Option<&'u Value> {
    match field.strip_prefix("attributes.") {
        None => user.get(field),
        Some(path) => path
            .split('.')
            .try_fold(&user["attributes"], |value, key| value.get(key)),
    }
}

/// Same JSON type and equal; numbers by value.
fn v1_same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(_), Value::String(_)) | (Value::Bool(_), Value::Bool(_)) => a == b,
        _ => false,
    }
}

fn v1_holds(condition: &Value, user: &Value) -> bool {
    let value = match v1_lookup(user, condition["field"].as_str().unwrap()) {
        None | Some(Value::Null | Value::Array(_) | Value::Object(_)) => return false,
        Some(value) => value,
    };
    let expected = &condition["value"];
    let any = || {
        expected
            .as_array()
            .unwrap()
            .iter()
            .any(|e| v1_same(value, e))
    };
    let text = |test: fn(&str, &str) -> bool| match (value.as_str(), expected.as_str()) {
        (Some(value), Some(expected)) => test(value, expected),
        _ => false,
    };
    match condition["operator"].as_str().unwrap() {
        "eq" => v1_same(value, expected),
        "neq" => !v1_same(value, expected),
        "in" => any(),
        "not_in" => !any(),
        "starts_with" => text(|v, e| v.starts_with(e)),
        "ends_with" => text(|v, e| v.ends_with(e)),
        other => panic!("not a version-1 operator: {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A version-1 flag through version 2: `enabled` and `reason` exactly as version 1 decides,
    /// variant "on" when enabled and "off" when not, the value the same boolean; written, it is the
    /// version-1 document with its defaults plus the new fields at theirs.
    #[test]
    fn v1_flags_give_their_v1_answers(document in v1_flag(), user_doc in v1_user()) {
        let flag = Flag::from_json_value(&document).unwrap();
        let user = user(&user_doc);
        let (enabled, reason) = v1_answer(&document, &user_doc);
        let plain = evaluate(&flag, &user);
        prop_assert_eq!((plain.enabled, plain.reason.as_str()), (enabled, reason));
        let set = CompiledFlagSet::new(std::slice::from_ref(&flag)).unwrap();
        let compiled = set.evaluate_flag(flag.key.as_str(), &user).unwrap();
        prop_assert_eq!(compiled, FlagResult::of(&flag, plain));
        let name = if enabled { "on" } else { "off" };
        prop_assert_eq!(compiled.variant(), Some(name));
        prop_assert_eq!(compiled.value(), Some(&VariantValue::Bool(enabled)));
        prop_assert_eq!(
            serde_json::to_value(compiled).unwrap(),
            json!({"flagKey": flag.key.as_str(), "enabled": enabled, "reason": reason,
                   "variant": name, "value": enabled})
        );

        let mut written = serde_json::to_value(&flag).unwrap();
        let new_fields = json!({
            "type": "boolean", "variants": {"off": false, "on": true}, "offVariant": "off",
            "prerequisites": []
        });
        for (name, value) in new_fields.as_object().unwrap() {
            let removed = written.as_object_mut().unwrap().remove(name);
            prop_assert_eq!(removed.as_ref(), Some(value));
        }
        let mut expected: Map<String, Value> = document.as_object().unwrap().clone();
        expected.entry("description").or_insert(json!(""));
        prop_assert_eq!(written, Value::Object(expected));
    }
}
