//! The flag and segment readers on any JSON: they answer (a value or an error naming a field) and
//! never panic, and whatever they accept evaluates, compiles and reads back as itself.
//!
//! Two kinds of input: objects of the right fields with random values, and valid documents (from
//! `support`) with one value somewhere inside replaced by random JSON or removed, which reaches
//! deep into the readers.

mod support;

use evaluator::{evaluate, CompiledFlagSet, Flag, Segment, User};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Map, Value};

/// Words the readers look for, so that random objects often hold the fields and values they know.
const WORDS: [&str; 34] = [
    "key",
    "type",
    "variants",
    "offVariant",
    "prerequisites",
    "rules",
    "fallthrough",
    "rolloutPercentage",
    "split",
    "variant",
    "weight",
    "bucketBy",
    "salt",
    "field",
    "operator",
    "value",
    "all",
    "serve",
    "segment",
    "notSegment",
    "flag",
    "include",
    "description",
    "enabled",
    "on",
    "off",
    "boolean",
    "string",
    "number",
    "object",
    "id",
    "attributes.x",
    "semver_lt",
    "in",
];

/// One character too long for a variant name or a salt.
const LONG_NAME: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter_map("finite", |x| serde_json::Number::from_f64(x)
            .map(Value::Number)),
        prop_oneof![0u32..=100_001, Just(100_000)].prop_map(|n| json!(n)),
        "\\PC{0,12}".prop_map(Value::String),
        select(WORDS.to_vec()).prop_map(|w| json!(w)),
        select(vec![
            "1.2.3",
            "v1.2.3",
            "2026-12-01T00:00:00Z",
            "2026-12-31T23:59:60Z",
            "",
            LONG_NAME
        ])
        .prop_map(|w| json!(w)),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        let key = prop_oneof![select(WORDS.to_vec()).prop_map(String::from), "\\PC{0,6}"];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// An object with some of `fields`, each holding random JSON; `key` usually a valid key.
fn shaped(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    (
        prop::collection::vec((select(fields.to_vec()), any_json()), 0..8),
        prop_oneof![3 => "[a-z]{1,8}".prop_map(|k| json!(k)), 1 => any_json()],
    )
        .prop_map(|(fields, key)| {
            let mut map: Map<String, Value> = fields
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect();
            map.insert("key".into(), key);
            Value::Object(map)
        })
}

const FLAG_FIELDS: &[&str] = &[
    "description",
    "enabled",
    "type",
    "variants",
    "offVariant",
    "prerequisites",
    "rules",
    "rolloutPercentage",
    "fallthrough",
    "id",
    "environment",
    "version",
    "createdAt",
];
const SEGMENT_FIELDS: &[&str] = &["description", "include", "rules", "environment", "version"];

/// Every place in `value` (JSON pointers), the root included.
fn places(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                places(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                places(item, format!("{at}/{escaped}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// `document` with the value at one place replaced by `with` (or, when `with` is `None`, removed
/// from its object or array).
fn mutated(mut document: Value, place: Index, with: Option<Value>) -> Value {
    let mut all = Vec::new();
    places(&document, String::new(), &mut all);
    let pointer = &all[place.index(all.len())];
    match with {
        Some(value) => {
            if let Some(slot) = document.pointer_mut(pointer) {
                *slot = value;
            }
        }
        None => {
            if let Some((parent, last)) = pointer.rsplit_once('/') {
                match document.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(i) = last.parse::<usize>() {
                            items.remove(i);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    document
}

fn flag_input() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => shaped(FLAG_FIELDS),
        2 => (support::flag_document(), any::<Index>(), prop::option::weighted(0.8, any_json()))
            .prop_map(|(document, place, with)| mutated(document, place, with)),
        1 => any_json(),
    ]
}

fn segment_input() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => shaped(SEGMENT_FIELDS),
        2 => (support::segment_document(), any::<Index>(), prop::option::weighted(0.8, any_json()))
            .prop_map(|(document, place, with)| mutated(document, place, with)),
        1 => any_json(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_flag_reader_answers_any_json(input in flag_input()) {
        let read = Flag::from_json_value(&input);
        let via_serde = serde_json::from_value::<Flag>(input.clone());
        match (&read, &via_serde) {
            (Ok(flag), Ok(same)) => prop_assert_eq!(flag, same),
            (Err(error), Err(same)) => prop_assert_eq!(error.to_string(), same.to_string()),
            _ => prop_assert!(false, "the readers disagree: {:?} / {:?}", read, via_serde),
        }
        match read {
            Ok(flag) => {
                let again = Flag::from_json_value(&serde_json::to_value(&flag).unwrap());
                prop_assert_eq!(again.as_ref(), Ok(&flag));
                let user = User::new("u-1");
                let plain = evaluate(&flag, &user);
                let set = CompiledFlagSet::new(std::slice::from_ref(&flag)).unwrap();
                let compiled = set.evaluate_flag(flag.key.as_str(), &user).unwrap();
                prop_assert_eq!(compiled, evaluator::FlagResult::of(&flag, plain));
            }
            // Every error names a field (the root is named "flag").
            Err(error) => prop_assert!(!error.field().is_empty(), "{}", error),
        }
    }

    #[test]
    fn the_segment_reader_answers_any_json(input in segment_input()) {
        let read = Segment::from_json_value(&input);
        let via_serde = serde_json::from_value::<Segment>(input.clone());
        match (&read, &via_serde) {
            (Ok(segment), Ok(same)) => prop_assert_eq!(segment, same),
            (Err(error), Err(same)) => prop_assert_eq!(error.to_string(), same.to_string()),
            _ => prop_assert!(false, "the readers disagree: {:?} / {:?}", read, via_serde),
        }
        match read {
            Ok(segment) => {
                let again = Segment::from_json_value(&serde_json::to_value(&segment).unwrap());
                prop_assert_eq!(again.as_ref(), Ok(&segment));
                let flag = Flag::from_json_value(&json!({
                    "key": "probe", "enabled": true, "rules": [{"segment": segment.key.as_str()}]
                })).unwrap();
                let set = CompiledFlagSet::with_segments(&[flag], &[segment]).unwrap();
                set.evaluate_all(&User::new("u-1"));
            }
            Err(error) => prop_assert!(!error.field().is_empty(), "{}", error),
        }
    }
}

/// The inputs are not all refused: some (mostly mutated documents that stay valid) are accepted, so
/// the accepted branch above runs too, and most are refused, so the error branch does.
#[test]
fn random_inputs_are_both_accepted_and_refused() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = flag_input();
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..2000 {
        let input = strategy.new_tree(&mut runner).unwrap().current();
        match Flag::from_json_value(&input) {
            Ok(_) => accepted += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(
        accepted >= 100 && refused >= 1000,
        "{accepted} accepted, {refused} refused"
    );
}
