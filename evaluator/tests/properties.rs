//! Invariants over random flags and users.

use evaluator::{bucket, evaluate, CompiledFlagSet, Flag, FlagResult, Reason, User};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{json, Value};

/// Scalars from a small pool, so that random rules and users meet often.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec!["DE", "US", "", "gold", "10", "Zoë"]).prop_map(|s| json!(s)),
        prop::sample::select(vec![0, 1, 10, -3]).prop_map(|n| json!(n)),
        prop::sample::select(vec![10.0, 1.5]).prop_map(|n| json!(n)),
        any::<bool>().prop_map(|b| json!(b)),
    ]
}

fn attribute_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => scalar(),
        1 => Just(Value::Null),
        1 => prop::collection::vec(scalar(), 0..3).prop_map(Value::Array),
        1 => scalar().prop_map(|v| json!({"tier": v})),
    ]
}

fn field() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "id",
        "email",
        "country",
        "attributes.a",
        "attributes.b",
        "attributes.org.tier",
    ])
}

fn condition() -> impl Strategy<Value = Value> {
    let operator_value = prop_oneof![
        (prop::sample::select(vec!["eq", "neq"]), scalar()).prop_map(|(op, v)| (op, v)),
        (
            prop::sample::select(vec!["in", "not_in"]),
            prop::collection::vec(scalar(), 1..4)
        )
            .prop_map(|(op, v)| (op, Value::Array(v))),
        (
            prop::sample::select(vec!["starts_with", "ends_with"]),
            prop::sample::select(vec!["", "D", "E", "o", "ë", "u-"])
        )
            .prop_map(|(op, v)| (op, json!(v))),
    ];
    (field(), operator_value)
        .prop_map(|(f, (op, v))| json!({"field": f, "operator": op, "value": v}))
}

fn rule() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => condition(),
        1 => prop::collection::vec(condition(), 1..4).prop_map(|all| json!({"all": all})),
    ]
}

fn flag() -> impl Strategy<Value = Flag> {
    (
        "[a-z][a-z0-9_.-]{0,12}",
        any::<bool>(),
        0u8..=100,
        prop::collection::vec(rule(), 0..5),
    )
        .prop_map(|(key, enabled, rollout, rules)| {
            Flag::from_json_value(&json!({
                "key": key, "enabled": enabled, "rolloutPercentage": rollout, "rules": rules
            }))
            .unwrap()
        })
}

fn user() -> impl Strategy<Value = User> {
    (
        prop_oneof!["u-[0-9]{1,3}", "\\PC{1,12}"],
        prop::option::of(prop::sample::select(vec!["DE", "US", "Zoë", ""])),
        prop::option::of(prop::sample::select(vec!["DE", "gold", "u-1"])),
        prop::collection::btree_map(
            prop::sample::select(vec!["a", "b", "org"]),
            attribute_value(),
            0..3,
        ),
    )
        .prop_map(|(id, email, country, attributes)| {
            User::from_json_value(&json!({
                "id": id, "email": email, "country": country, "attributes": attributes
            }))
            .unwrap()
        })
}

/// Random flags with distinct keys.
fn flags() -> impl Strategy<Value = Vec<Flag>> {
    prop::collection::vec(flag(), 0..20).prop_map(|mut flags| {
        flags.sort_by(|a, b| a.key.cmp(&b.key));
        flags.dedup_by(|a, b| a.key == b.key);
        flags
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_compiled_set_agrees_with_evaluate(flags in flags(), user in user()) {
        let set = CompiledFlagSet::new(&flags).unwrap();
        let results = set.evaluate_all(&user);
        prop_assert_eq!(results.len(), flags.len());
        // Sorted by key, each flag once.
        prop_assert!(results.windows(2).all(|w| w[0].flag_key < w[1].flag_key));
        for flag in &flags {
            let plain = FlagResult::of(flag, evaluate(flag, &user));
            prop_assert!(results.contains(&plain));
            prop_assert_eq!(set.evaluate_flag(flag.key.as_str(), &user), Some(plain));
        }
    }

    #[test]
    fn evaluation_is_deterministic(flag in flag(), user in user()) {
        let first = evaluate(&flag, &user);
        prop_assert_eq!(evaluate(&flag.clone(), &user.clone()), first);
        let set = CompiledFlagSet::new(std::slice::from_ref(&flag)).unwrap();
        prop_assert_eq!(set.evaluate_flag(flag.key.as_str(), &user), Some(FlagResult::of(&flag, first)));
    }

    #[test]
    fn the_rollout_is_monotonic(id in "\\PC{1,30}", key in "[A-Za-z0-9_.-]{1,40}", p in 0u8..=100, q in 0u8..=100) {
        let (low, high) = (p.min(q), p.max(q));
        let at = |percent: u8| {
            let flag = Flag::from_json_value(&json!({"key": key, "enabled": true, "rolloutPercentage": percent})).unwrap();
            evaluate(&flag, &User::new(id.clone()))
        };
        if at(low).enabled {
            prop_assert!(at(high).enabled);
        }
        // In exactly when the bucket is below the percentage.
        prop_assert_eq!(at(low).reason == Reason::Rollout, bucket(&id, &key) < low);
    }
}

/// 100k random ids over 100 buckets: chi-square with 99 degrees of freedom stays under 150 (p ≈ 0.0007)
/// unless the buckets are skewed.
#[test]
fn buckets_are_uniform() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let ids = prop::collection::vec("[A-Za-z0-9-]{4,24}", 100_000)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let mut counts = [0u32; 100];
    for id in &ids {
        counts[usize::from(bucket(id, "new_checkout_flow"))] += 1;
    }
    let expected = ids.len() as f64 / 100.0;
    let chi_square: f64 = counts
        .iter()
        .map(|&c| (f64::from(c) - expected).powi(2) / expected)
        .sum();
    assert!(
        chi_square < 150.0,
        "chi-square {chi_square:.1} over 99 degrees of freedom: buckets are skewed"
    );
    // And sequential ids, the common real-world shape, spread as well.
    let mut counts = [0u32; 100];
    for n in 0..100_000 {
        counts[usize::from(bucket(&format!("user-{n}"), "dark_mode"))] += 1;
    }
    let chi_square: f64 = counts
        .iter()
        .map(|&c| (f64::from(c) - 1000.0).powi(2) / 1000.0)
        .sum();
    assert!(
        chi_square < 150.0,
        "sequential ids: chi-square {chi_square:.1}"
    );
}
