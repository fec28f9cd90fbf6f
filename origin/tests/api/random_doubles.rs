//! Random doubles (any bit pattern) come back exactly as written: a rule value is the same double in the create answer, when
//! read back, in the snapshot, and it decides evaluations as that double (its neighbours do not
//! match), on every store.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, EDGE_TOKEN};

backend_tests!(random_doubles_round_trip_exactly_through_every_read,);

/// splitmix64: a fixed, seeded sequence, so that a failure can be replayed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The reported values, the extremes, and random doubles: any bit pattern, and 17-significant-digit
/// decimals of everyday size (`-95.24089298036279`).
fn doubles() -> Vec<f64> {
    let mut values = vec![
        -95.240_892_980_362_79,
        1.7e308,
        1.797_693_134_862_315e308,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        0.1,
        -0.0,
        // A whole double between 2^53 and 2^64: jsonb printed it as the integer
        // 2686617455949154300, which compares exactly, so it no longer matched the double.
        2.686_617_455_949_154_3e18,
    ];
    let mut random = Random(0x5EED_0016);
    while values.len() < 60 {
        let x = f64::from_bits(random.next());
        if x.is_finite() {
            values.push(x);
        }
    }
    while values.len() < 120 {
        // Most doubles between -100 and 100 need 16 or 17 significant digits.
        values.push((random.next() >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0);
    }
    values
}

/// The doubles next to `x`, which a rule `eq x` must not match.
fn neighbours(x: f64) -> Vec<f64> {
    let bits = x.to_bits();
    let mut next = vec![f64::from_bits(bits.wrapping_add(1))];
    if x == 0.0 {
        next.extend([f64::from_bits(1), -f64::from_bits(1)]);
    } else {
        next.push(f64::from_bits(bits - 1));
    }
    next.into_iter()
        .filter(|n| n.is_finite() && *n != x)
        .collect()
}

fn rule_value(flag: &Value) -> f64 {
    flag["rules"][0]["value"]
        .as_f64()
        .unwrap_or_else(|| panic!("no number in {flag}"))
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a == 0.0 && b == 0.0)
}

async fn random_doubles_round_trip_exactly_through_every_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let values = doubles();
    for (i, x) in values.iter().enumerate() {
        // Written as the shortest text that reads back as `x`, as JavaScript and serde_json do.
        let body = format!(
            r#"{{"key": "n{i}", "environment": "prod", "enabled": true,
                "rules": [{{"field": "attributes.n", "operator": "eq", "value": {x:e}}}]}}"#
        );
        let reply = app.post("/api/admin/flags").admin().raw(body).send().await;
        assert_eq!(reply.status.as_u16(), 201, "{x:e}: {}", reply.text);
        let answered = rule_value(&reply.json()["flag"]);
        assert!(same(answered, *x), "create answered {answered:e} for {x:e}");
    }

    let listed = app
        .get("/api/admin/flags?environment=prod")
        .admin()
        .send()
        .await
        .json();
    let snapshot = app
        .get("/api/flags/snapshot?environment=prod")
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await
        .json();
    for (what, flags) in [("list", &listed["flags"]), ("snapshot", &snapshot["flags"])] {
        let flags = flags.as_array().expect("flags");
        assert_eq!(flags.len(), values.len());
        for flag in flags {
            let key = flag["key"].as_str().expect("key");
            let i: usize = key[1..].parse().expect("n<i>");
            let read = rule_value(flag);
            assert!(
                same(read, values[i]),
                "{what}: {read:e} for {:e}",
                values[i]
            );
        }
    }

    for (i, x) in values.iter().enumerate() {
        let key = format!("n{i}");
        let decide = |n: f64| {
            let body = format!(
                r#"{{"environment": "prod", "user": {{"id": "u", "attributes": {{"n": {n:e}}}}}, "flags": ["{key}"]}}"#
            );
            let app = &app;
            async move {
                let reply = app.post("/api/evaluate").raw(body).send().await;
                assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
                reply.json()["results"][0]["reason"].clone()
            }
        };
        assert_eq!(decide(*x).await, json!("RULE_MATCH"), "{x:e}");
        for next in neighbours(*x) {
            assert_eq!(decide(next).await, json!("NO_MATCH"), "{x:e} vs {next:e}");
        }
    }
}
