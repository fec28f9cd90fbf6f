//! `cargo bench -p evaluator`: one flag with 0, 5 and 20 rules through `evaluate`, and `evaluate_all`
//! over 10, 100 and 1000 mixed flags for one user.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use evaluator::{evaluate, CompiledFlagSet, EvaluateRequest, Flag, User};
use serde_json::{json, Value};

fn user() -> User {
    User::from_json_value(&json!({
        "id": "user-8f14e45f-ceea-467e-a9b6",
        "email": "jane@example.com",
        "country": "DE",
        "attributes": {"plan": "pro", "age": 34, "beta": true, "org": {"tier": "gold", "seats": 40}}
    }))
    .unwrap()
}

/// A rule that does not match the bench user, so every rule is checked and the rollout runs.
/// A rule that does not match the bench user, so that every rule is checked and the rollout runs.
/// Values vary with `i` (about 60 distinct conditions over 1000 flags): real flag sets share audiences
/// between flags, but not all of them.
fn missing_rule(i: usize) -> Value {
    const COUNTRIES: [&str; 8] = ["US", "CA", "MX", "BR", "AR", "CL", "FR", "IT"];
    match i % 5 {
        0 => json!({"field": "country", "operator": "in", "value": COUNTRIES[..2 + i % 6]}),
        1 => {
            json!({"field": "email", "operator": "ends_with", "value": format!("@team{}.pennon.dev", i % 13)})
        }
        2 => {
            json!({"field": "attributes.org.tier", "operator": "eq", "value": format!("tier-{}", i % 11)})
        }
        3 => json!({"all": [{"field": "attributes.plan", "operator": "eq", "value": "pro"},
                            {"field": "attributes.age", "operator": "in", "value": [18 + i % 7, 19, 20, 21]}]}),
        _ => {
            json!({"field": "id", "operator": "starts_with", "value": format!("internal-{}", i % 17)})
        }
    }
}

/// `seed` varies the rules' values from flag to flag.
fn flag_with_rules(key: &str, rules: usize, seed: usize) -> Flag {
    let rules: Vec<Value> = (0..rules).map(|r| missing_rule(seed * 5 + r)).collect();
    Flag::from_json_value(
        &json!({"key": key, "enabled": true, "rolloutPercentage": 50, "rules": rules}),
    )
    .unwrap()
}

/// A realistic mix: a tenth disabled, a third without rules, the rest with 1 to 5 rules, some matching.
fn mixed_flags(n: usize) -> Vec<Flag> {
    (0..n)
        .map(|i| {
            let key = format!("team-{}.feature_{i:04}", i % 7);
            let mut flag = flag_with_rules(&key, if i % 3 == 0 { 0 } else { 1 + i % 5 }, i);
            flag.enabled = i % 10 != 0;
            flag
        })
        .collect()
}

fn single_flag(c: &mut Criterion) {
    let user = user();
    let mut group = c.benchmark_group("evaluate");
    for rules in [0, 5, 20] {
        let flag = flag_with_rules("new_checkout_flow", rules, 0);
        group.bench_with_input(BenchmarkId::new("rules", rules), &flag, |b, flag| {
            b.iter(|| evaluate(black_box(flag), black_box(&user)))
        });
    }
    group.finish();
}

fn flag_set(c: &mut Criterion) {
    let user = user();
    let mut group = c.benchmark_group("evaluate_all");
    for n in [10, 100, 1000] {
        let set = CompiledFlagSet::new(&mixed_flags(n)).unwrap();
        group.bench_with_input(BenchmarkId::new("flags", n), &set, |b, set| {
            b.iter(|| set.evaluate_all(black_box(&user)))
        });
    }
    group.finish();
}

/// The request parser every `POST /api/evaluate` goes through, origin and edge alike.
fn parse_request(c: &mut Criterion) {
    let body = serde_json::to_vec(&json!({
        "environment": "prod",
        "user": {
            "id": "user-8f14e45f-ceea-467e-a9b6",
            "email": "jane@example.com",
            "country": "DE",
            "attributes": {"plan": "pro", "age": 34, "beta": true, "org": {"tier": "gold", "seats": 40}}
        }
    }))
    .unwrap();
    c.bench_function("parse_request", |b| {
        b.iter(|| EvaluateRequest::from_json(black_box(&body)).unwrap())
    });
}

criterion_group!(benches, single_flag, flag_set, parse_request);
criterion_main!(benches);
