//! `cargo bench -p evaluator`: one flag with 0, 5 and 20 rules through `evaluate`, and `evaluate_all`
//! over 10, 100 and 1000 mixed flags for one user; then the figures of version 2: a rule-less boolean
//! flag through the compiled set, 1000 mixed v2 flags (splits, segments, prerequisites, all four
//! types) for one user, and a segment of 10,000 included ids against one of 10.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use evaluator::{
    evaluate, CompiledFlagSet, EvaluateRequest, EvaluateResponse, Flag, Segment, User,
};
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

/// A rule-less boolean flag at 50 % through the compiled set, as the origin and the edge decide one
/// flag: `evaluate_flag` (the per-user context, the id's hash, the rollout) and `evaluate_all` of a
/// set of that one flag (plus the result list). `evaluate/rules/0` above is the same flag through
/// the plain `evaluate`.
fn rule_less_flag(c: &mut Criterion) {
    let user = user();
    let flag = flag_with_rules("new_checkout_flow", 0, 0);
    let set = CompiledFlagSet::new(std::slice::from_ref(&flag)).unwrap();
    let mut group = c.benchmark_group("rule_less_boolean");
    group.bench_function("evaluate_flag", |b| {
        b.iter(|| set.evaluate_flag(black_box("new_checkout_flow"), black_box(&user)))
    });
    group.bench_function("evaluate_all", |b| {
        b.iter(|| set.evaluate_all(black_box(&user)))
    });
    group.finish();
}

const SEGMENTS: [&str; 4] = ["beta", "staff", "eu", "enterprise"];

/// The four segments of the v2 set: an include list of 1000 ids and rules.
fn v2_segments() -> Vec<Segment> {
    let include: Vec<String> = (0..1000).map(|i| format!("user-{i:04}")).collect();
    [
        json!({"key": "beta", "include": include}),
        json!({"key": "staff", "include": ["u-1", "u-2"],
               "rules": [{"field": "email", "operator": "ends_with", "value": "@pennon.dev"}]}),
        json!({"key": "eu", "rules": [{"field": "country", "operator": "in",
                                        "value": ["DE", "FR", "IT", "ES", "NL"]}]}),
        json!({"key": "enterprise", "rules": [{"all": [
            {"field": "attributes.org.seats", "operator": "gte", "value": 100},
            {"field": "attributes.plan", "operator": "eq", "value": "enterprise"}]}]}),
    ]
    .iter()
    .map(|doc| Segment::from_json_value(doc).unwrap())
    .collect()
}

/// A v2 rule for flag `i`, of the version-2 operators or a version-1 one; most miss the bench user.
fn v2_condition(i: usize) -> Value {
    match i % 7 {
        0 => {
            json!({"field": "attributes.version", "operator": "semver_lt", "value": format!("2.{}.0", i % 5)})
        }
        1 => json!({"field": "attributes.age", "operator": "lt", "value": 18 + i % 9}),
        2 => json!({"field": "attributes.signedUpAt", "operator": "before",
                    "value": format!("2024-{:02}-01T00:00:00Z", 1 + i % 12)}),
        3 => json!({"field": "email", "operator": "contains", "value": format!("+test{}", i % 11)}),
        4 => json!({"field": "attributes.trial", "operator": "exists", "value": true}),
        _ => missing_rule(i),
    }
}

/// The variants of flag `i`'s type: on/off, or three typed values.
fn v2_variants(i: usize) -> (&'static str, Value, [&'static str; 3]) {
    let names = ["control", "treatment-a", "treatment-b"];
    match i % 4 {
        0 => (
            "boolean",
            json!({"on": true, "off": false}),
            ["off", "on", "on"],
        ),
        1 => (
            "string",
            json!({"control": "blue", "treatment-a": "green", "treatment-b": "red"}),
            names,
        ),
        2 => (
            "number",
            json!({"control": 10, "treatment-a": 12.5, "treatment-b": 15}),
            names,
        ),
        _ => (
            "object",
            json!({"control": {"limit": 10, "mode": "a"}, "treatment-a": {"limit": 20},
                               "treatment-b": {"limit": 30, "beta": true}}),
            names,
        ),
    }
}

/// 1000 flags as issue 11 describes them: a third split (by id, or by company, some salted), a fifth
/// with segment conditions, every eighth with prerequisites on earlier flags, the rest with 1 to 5
/// varied rules; the four types in turn; a tenth disabled.
fn mixed_v2_flags(n: usize) -> Vec<Flag> {
    (0..n)
        .map(|i| {
            let key = format!("team-{}.v2_{i:04}", i % 7);
            let (kind, variants, [off, first, second]) = v2_variants(i);
            let mut split = if kind == "boolean" {
                json!({"split": [{"variant": "off", "weight": 50_000},
                                 {"variant": "on", "weight": 50_000}]})
            } else {
                json!({"split": [{"variant": off, "weight": 33_333},
                                 {"variant": first, "weight": 33_333},
                                 {"variant": second, "weight": 33_334}]})
            };
            if i % 2 == 1 {
                split["bucketBy"] = json!("attributes.org.id");
            }
            if i % 5 == 3 {
                split["salt"] = json!(format!("experiment-{}", i % 13));
            }
            let mut rules: Vec<Value> = Vec::new();
            if i % 5 == 0 {
                let key = SEGMENTS[i % 4];
                rules.push(if i % 10 == 0 {
                    json!({"notSegment": key})
                } else {
                    json!({"segment": key})
                });
            }
            let extra = if i % 3 == 0 { i % 2 } else { 1 + i % 5 };
            rules.extend((0..extra).map(|r| v2_condition(i * 5 + r)));
            for (r, rule) in rules.iter_mut().enumerate() {
                let serve = if r % 2 == 0 { json!(first) } else { json!(off) };
                if kind != "boolean" || r % 2 == 1 {
                    rule["serve"] = serve;
                }
            }
            let mut flag = json!({
                "key": key, "enabled": i % 10 != 0, "type": kind, "variants": variants,
                "offVariant": off, "rules": rules,
            });
            if i % 8 == 0 && i > 0 {
                let on = |j: usize| {
                    let (_, _, [_, first, _]) = v2_variants(j);
                    json!({"flag": format!("team-{}.v2_{j:04}", j % 7), "variants": [first]})
                };
                flag["prerequisites"] = json!([on(i - 1), on(i / 2)]);
            }
            if i % 3 == 0 {
                flag["fallthrough"] = split;
            } else if kind == "boolean" {
                flag["rolloutPercentage"] = json!(i % 101);
            } else {
                flag["fallthrough"] = json!(second);
            }
            Flag::from_json_value(&flag).unwrap_or_else(|e| panic!("{key}: {e}"))
        })
        .collect()
}

/// The bench user with what the v2 rules read: a version, a sign-up time, a company.
fn v2_user() -> User {
    User::from_json_value(&json!({
        "id": "user-8f14e45f-ceea-467e-a9b6",
        "email": "jane@example.com",
        "country": "DE",
        "attributes": {"plan": "pro", "age": 34, "beta": true, "version": "2.3.0",
                       "signedUpAt": "2025-03-14T09:26:53.589Z",
                       "org": {"tier": "gold", "seats": 40, "id": "company-42"}}
    }))
    .unwrap()
}

fn v2_flag_set(c: &mut Criterion) {
    let user = v2_user();
    let segments = v2_segments();
    let mut group = c.benchmark_group("evaluate_all_v2");
    for n in [100, 1000] {
        let set = CompiledFlagSet::with_segments(&mixed_v2_flags(n), &segments).unwrap();
        group.bench_with_input(BenchmarkId::new("flags", n), &set, |b, set| {
            b.iter(|| set.evaluate_all(black_box(&user)))
        });
    }
    group.finish();
}

/// The answer of `POST /api/evaluate` for the v2 set's results, written as the origin and the edge
/// write it (`EvaluateResponse::to_json`): its cost per request is beside the evaluation's.
fn write_response(c: &mut Criterion) {
    let user = v2_user();
    let set = CompiledFlagSet::with_segments(&mixed_v2_flags(100), &v2_segments()).unwrap();
    let response = EvaluateResponse {
        results: set.evaluate_all(&user),
    };
    c.bench_function("write_response_v2/flags/100", |b| {
        b.iter(|| black_box(&response).to_json())
    });
}

/// A flag whose one rule is membership of a segment of 10 or of 10,000 included ids, for a user
/// who is in the list and one who is not: a hash probe either way, so the four cost alike.
fn segment_include(c: &mut Criterion) {
    let flag = Flag::from_json_value(&json!({
        "key": "beta-feature", "enabled": true, "rules": [{"segment": "beta"}]
    }))
    .unwrap();
    let mut group = c.benchmark_group("segment_include");
    for size in [10, 10_000] {
        let include: Vec<String> = (0..size).map(|i| format!("user-{i:05}")).collect();
        let segment =
            Segment::from_json_value(&json!({"key": "beta", "include": include})).unwrap();
        let set = CompiledFlagSet::with_segments(std::slice::from_ref(&flag), &[segment]).unwrap();
        for (who, id) in [
            ("member", "user-00007"),
            ("outsider", "user-8f14e45f-ceea-467e-a9b6"),
        ] {
            let user = User::new(id);
            let expected = who == "member";
            assert_eq!(
                set.evaluate_flag("beta-feature", &user).unwrap().enabled,
                expected
            );
            group.bench_with_input(BenchmarkId::new(who, size), &user, |b, user| {
                b.iter(|| set.evaluate_flag(black_box("beta-feature"), black_box(user)))
            });
        }
    }
    group.finish();
}

criterion_group!(
    benches,
    single_flag,
    flag_set,
    parse_request,
    rule_less_flag,
    v2_flag_set,
    write_response,
    segment_include
);
criterion_main!(benches);
