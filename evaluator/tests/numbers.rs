//! Numbers are read and written exactly: every finite double written as a rule value, in any of the
//! spellings a client or a store may use, reads back as the same double, prints as its shortest
//! round-trip form, and decides the same as the double itself.
//!
//! The reference is Rust's own `str::parse::<f64>` and `{:e}` formatting (correctly rounded and
//! shortest), not the JSON reader under test.

use evaluator::{
    evaluate, CompiledFlagSet, Condition, Flag, Match, Operator, Reason, Rule, Scalar, User,
};
use proptest::prelude::*;

/// Every finite double: any bit pattern, the extremes, and 17-significant-digit decimals.
fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("finite", |x| x.is_finite()),
        2 => (1u64..10, 0u64..10u64.pow(16), -330i32..310, any::<bool>()).prop_filter_map(
            "a finite 17-digit decimal",
            |(lead, rest, exp, negative)| {
                let sign = if negative { "-" } else { "" };
                let x: f64 = format!("{sign}{lead}.{rest:016}e{exp}").parse().ok()?;
                x.is_finite().then_some(x)
            }
        ),
        // Small decimals with 17 significant digits, as a client's arithmetic leaves them.
        2 => -1000.0..1000.0f64,
        1 => prop::sample::select(vec![
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            f64::from_bits(1),                    // the least subnormal, 5e-324
            f64::from_bits(0x000F_FFFF_FFFF_FFFF), // the greatest subnormal
            -f64::from_bits(1),
            f64::EPSILON,
            0.0,
            -0.0,
            1.7e308,
            1.797_693_134_862_315e308,
            -95.240_892_980_362_79,
            0.1,
            9_007_199_254_740_993.0,
            18_446_744_073_709_551_616.0, // 2^64, just past the integers kept exactly
        ]),
    ]
}

/// The spellings of `x` that JSON allows and that clients and stores produce: the shortest
/// exponent form (serde_json, Python), 17 significant digits (`%.17g`), and plain decimal without
/// exponent (JavaScript below 1e21; PostgreSQL's `numeric` prints 1.7976931348623157e308 as 309
/// digits).
///
/// Between 2^53 and 2^64 an integer literal is read as that integer, exactly, so the plain spelling
/// there is the double's exact integer: the shortest digits padded with zeros (JavaScript's
/// `2686617455949154300` for the double 2686617455949154304) spell another number.
fn spellings(x: f64) -> Vec<String> {
    const TWO_POW_53: f64 = 9_007_199_254_740_992.0;
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    let plain = if (TWO_POW_53..TWO_POW_64).contains(&x.abs()) && x.fract() == 0.0 {
        (x as i128).to_string()
    } else {
        format!("{x}")
    };
    let mut texts = vec![format!("{x:e}"), format!("{x:.16e}"), plain];
    // Plain decimal with a fraction part, as `numeric` keeps `1.50`.
    if x.fract() == 0.0 && x.abs() < 1e300 {
        texts.push(format!("{x:.2}"));
    }
    texts
}

/// The double a rule `eq` holds, through the public API.
fn rule_value(flag: &Flag) -> f64 {
    match &flag.rules()[..] {
        [Rule {
            when: Match::One(Condition::Compare(condition)),
            ..
        }] => match condition.operator() {
            Operator::Eq(Scalar::Number(n)) => n.as_f64(),
            other => panic!("not a numeric eq: {other:?}"),
        },
        other => panic!("one condition expected, got {other:?}"),
    }
}

fn flag_with(text: &str) -> Flag {
    let json = format!(
        r#"{{"key":"n","enabled":true,"rules":[{{"field":"attributes.n","operator":"eq","value":{text}}}]}}"#
    );
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn user_with(text: &str) -> User {
    User::from_json_str(&format!(r#"{{"id":"u","attributes":{{"n":{text}}}}}"#))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The significant digits of a decimal spelling: no sign, point, exponent or leading/trailing zeros.
fn digits(text: &str) -> String {
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    let all: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    all.trim_start_matches('0').trim_end_matches('0').to_owned()
}

/// The same double; `-0` and `0` are one number (and `-0` spelt as an integer is the integer 0).
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a == 0.0 && b == 0.0)
}

/// The doubles next to `x` (where they are finite), which a rule `eq x` must not match.
/// (By bits: `f64::next_up` is newer than the crate's minimum Rust.)
fn neighbours(x: f64) -> Vec<f64> {
    let bits = x.to_bits();
    let mut next = vec![f64::from_bits(bits.wrapping_add(1))];
    if x == 0.0 {
        next.push(-f64::from_bits(1));
        next.push(f64::from_bits(1));
    } else {
        next.push(f64::from_bits(bits - 1));
    }
    next.into_iter()
        .filter(|n| n.is_finite() && *n != x)
        .collect()
}

fn decides(flag: &Flag, user: &User) -> Reason {
    let plain = evaluate(flag, user).reason;
    let set = CompiledFlagSet::new(std::slice::from_ref(flag)).unwrap();
    let compiled = set.evaluate_all(user)[0].reason;
    assert_eq!(plain, compiled, "evaluate and the compiled set disagree");
    plain
}

fn check(x: f64) {
    for text in spellings(x) {
        assert_eq!(text.parse::<f64>().map(|p| same(p, x)), Ok(true), "{text}");
        let flag = flag_with(&text);
        let read = rule_value(&flag);
        assert!(same(read, x), "{text} read as {read:e}, not {x:e}");

        // Written back: the shortest spelling that reads as the same double, and it reads back.
        let written = serde_json::to_string(&flag).unwrap();
        let again: Flag = serde_json::from_str(&written).unwrap();
        assert!(same(rule_value(&again), x), "{written}");
        assert_eq!(again, flag);
        let value = serde_json::to_value(&flag).unwrap();
        let printed = value["rules"][0]["value"].to_string();
        // A number read as an integer is printed as that integer, exactly; any other with as few
        // significant digits as read back (as many as `{:e}` prints; when two such spellings are
        // equally near, serde_json and Rust may pick different ones).
        if printed.contains(['.', 'e']) {
            assert_eq!(
                printed.parse::<f64>().map(|p| same(p, x)),
                Ok(true),
                "{printed}"
            );
            let shortest = digits(&format!("{x:e}"));
            assert_eq!(digits(&printed).len(), shortest.len(), "{printed} vs {x:e}");
        }

        // The same decision as the double itself, in both evaluators; never for its neighbours.
        for user_text in spellings(x) {
            let user = user_with(&user_text);
            assert_eq!(
                decides(&flag, &user),
                Reason::RuleMatch,
                "{text} vs {user_text}"
            );
        }
        for next in neighbours(x) {
            let user = user_with(&format!("{next:e}"));
            assert_eq!(decides(&flag, &user), Reason::NoMatch, "{text} vs {next:e}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_finite_double_reads_back_exactly_and_decides_the_same(x in finite_f64()) {
        check(x);
    }
}

#[test]
fn the_reported_values_are_exact() {
    for x in [
        -95.240_892_980_362_79,
        f64::MAX,
        f64::MIN,
        1.7e308,
        1.797_693_134_862_315e308,
        f64::from_bits(1),
        f64::from_bits(0x000F_FFFF_FFFF_FFFF),
        f64::MIN_POSITIVE,
    ] {
        check(x);
    }
    // PostgreSQL's `numeric` spelling of f64::MAX, digit for digit.
    let text = format!("179769313486231570{}", "0".repeat(291));
    assert_eq!(text.len(), 309);
    assert_eq!(rule_value(&flag_with(&text)).to_bits(), f64::MAX.to_bits());
    assert_eq!(
        serde_json::to_value(flag_with(&text)).unwrap()["rules"][0]["value"].to_string(),
        "1.7976931348623157e+308"
    );
}
