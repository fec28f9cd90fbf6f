use alloc::vec::Vec;

use super::*;
use crate::flag::{FlagKey, RolloutPercentage};
use crate::rule::{AttributePath, Comparison, Condition, Match, Operator, ScalarList};
use crate::value::{Number, Scalar};

fn flag(key: &str, comparisons: Vec<Comparison>) -> Flag {
    Flag::boolean(
        FlagKey::parse(key).unwrap(),
        true,
        comparisons
            .into_iter()
            .map(|c| Match::One(Condition::Compare(c)))
            .collect(),
        RolloutPercentage::new(0).unwrap(),
    )
    .unwrap()
}

fn eq(field: Field, value: impl Into<Scalar>) -> Comparison {
    Comparison::new(field, Operator::Eq(value.into()))
}

fn plan() -> Field {
    Field::Attribute(AttributePath::parse("plan").unwrap())
}

#[test]
fn equal_conditions_share_one_slot_and_numbers_key_by_value() {
    let ten = Number::from(10);
    let ten_point_zero = Number::from_f64(10.0).unwrap();
    let set = CompiledFlagSet::new(&[
        flag("a", alloc::vec![eq(plan(), ten), eq(Field::Id, "x")]),
        flag(
            "b",
            alloc::vec![eq(plan(), ten_point_zero), eq(Field::Id, "x")],
        ),
        flag(
            "c",
            alloc::vec![eq(plan(), Number::from_f64(-0.0).unwrap())],
        ),
        flag("d", alloc::vec![eq(plan(), Number::from(0))]),
    ])
    .unwrap();
    assert_eq!(set.conditions.len(), 3, "10 = 10.0, id = x, 0 = -0.0");
    assert_eq!(set.fields.len(), 2);
}

#[test]
fn conditions_that_differ_in_anything_stay_apart() {
    let list = |values: Vec<Scalar>| ScalarList::try_from(values).unwrap();
    let set = CompiledFlagSet::new(&[flag(
        "a",
        alloc::vec![
            eq(plan(), "10"),
            eq(plan(), Number::from(10)),
            eq(plan(), Number::from_f64(10.5).unwrap()),
            eq(plan(), true),
            eq(Field::Email, "10"),
            Comparison::new(plan(), Operator::Neq("10".into())),
            Comparison::new(plan(), Operator::StartsWith("10".into())),
            Comparison::new(plan(), Operator::EndsWith("10".into())),
            Comparison::new(plan(), Operator::Contains("10".into())),
            Comparison::new(plan(), Operator::In(list(alloc::vec!["10".into()]))),
            Comparison::new(
                plan(),
                Operator::In(list(alloc::vec!["10".into(), "11".into()]))
            ),
            Comparison::new(plan(), Operator::NotIn(list(alloc::vec!["10".into()]))),
            Comparison::new(plan(), Operator::Lt(Number::from(10))),
            Comparison::new(plan(), Operator::Lte(Number::from(10))),
            Comparison::new(plan(), Operator::Exists(true)),
            Comparison::new(plan(), Operator::Exists(false)),
            eq(
                Field::Attribute(AttributePath::parse("plan.x").unwrap()),
                "10",
            ),
        ],
    )])
    .unwrap();
    assert_eq!(set.conditions.len(), 17);
}

fn from_json(json: &str) -> Flag {
    Flag::from_json_value(&serde_json::from_str(json).unwrap()).unwrap()
}

#[test]
fn a_cycle_of_prerequisites_is_refused_naming_the_edge_that_closes_it() {
    let a = from_json(
        r#"{"key": "a", "enabled": true, "prerequisites": [{"flag": "zz", "variants": ["on"]}, {"flag": "b", "variants": ["on"]}]}"#,
    );
    let b = from_json(
        r#"{"key": "b", "enabled": true, "prerequisites": [{"flag": "c", "variants": ["on"]}]}"#,
    );
    let c = from_json(
        r#"{"key": "c", "enabled": true, "prerequisites": [{"flag": "a", "variants": ["on"]}]}"#,
    );
    let err = CompiledFlagSet::new(&[c.clone(), a.clone(), b.clone()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "flags[0].prerequisites[0].flag: makes a cycle: a → b → c → a"
    );
    // Without the closing edge, the chain compiles, and a missing prerequisite fails.
    let set = CompiledFlagSet::new(&[a, b]).unwrap();
    let user = crate::User::new("u");
    assert_eq!(
        set.evaluate_flag("b", &user).unwrap().reason,
        Reason::PrerequisiteFailed
    );
}

#[test]
fn a_long_chain_of_prerequisites_compiles_and_evaluates() {
    let flags: Vec<Flag> = (0..2000)
        .map(|i| {
            let prerequisites = if i + 1 < 2000 {
                alloc::format!(r#"[{{"flag": "f{}", "variants": ["on"]}}]"#, i + 1)
            } else {
                "[]".into()
            };
            from_json(&alloc::format!(
                r#"{{"key": "f{i}", "enabled": true, "rolloutPercentage": 100, "prerequisites": {prerequisites}}}"#
            ))
        })
        .collect();
    let set = CompiledFlagSet::new(&flags).unwrap();
    let result = set.evaluate_flag("f0", &crate::User::new("u")).unwrap();
    assert_eq!((result.enabled, result.reason), (true, Reason::Rollout));
}

#[test]
fn a_flag_decided_without_a_context_answers_as_with_one() {
    let flags = [
        from_json(r#"{"key": "rollout", "enabled": true, "rolloutPercentage": 37}"#),
        from_json(r#"{"key": "none", "enabled": true, "rolloutPercentage": 0}"#),
        from_json(r#"{"key": "all", "enabled": true, "rolloutPercentage": 100}"#),
        from_json(r#"{"key": "off", "enabled": false, "rolloutPercentage": 100}"#),
        from_json(
            r#"{"key": "colour", "enabled": true, "type": "string", "variants": {"a": "A", "b": "B"},
                "offVariant": "a", "fallthrough": "b"}"#,
        ),
    ];
    let set = CompiledFlagSet::new(&flags).unwrap();
    let mut rolled_out = 0;
    for n in 0..1000 {
        let user = crate::User::new(alloc::format!("user-{n}"));
        // `evaluate_all` decides every flag in a context; `evaluate_flag` decides these alone.
        for result in set.evaluate_all(&user) {
            let index = set.find(result.flag_key).unwrap() as usize;
            assert!(set.flags[index].decide_alone(&user).is_some());
            assert_eq!(set.evaluate_flag(result.flag_key, &user), Some(result));
            rolled_out += usize::from(result.flag_key == "rollout" && result.enabled);
        }
    }
    assert!(
        (300..450).contains(&rolled_out),
        "{rolled_out} of 1000 at 37%"
    );
    // A flag with rules needs the context.
    let ruled = from_json(
        r#"{"key": "r", "enabled": true, "rules": [{"field": "id", "operator": "eq", "value": "x"}]}"#,
    );
    let set = CompiledFlagSet::new(&[ruled]).unwrap();
    assert!(set.flags[0].decide_alone(&crate::User::new("x")).is_none());
}
