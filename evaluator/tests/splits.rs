//! Splits: every user placed where the contract puts them (checked against `murmur3` from another
//! crate), the shares of 100,000 users within statistical bounds of the weights, and a change of
//! weights that moves only the users it has to.

use std::io::Cursor;

use evaluator::{evaluate, CompiledFlagSet, Flag, Reason, User};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};

const TOTAL: u32 = 100_000;

/// The contract's split point, computed independently of the evaluator.
fn reference_point(salt: &str, value: &str) -> u32 {
    let text = format!("{salt}/{value}");
    murmur3::murmur3_32(&mut Cursor::new(text.as_bytes()), 0).unwrap() % TOTAL
}

/// The first variant whose running sum of weights exceeds `point`.
fn reference_variant<'a>(slices: &[(&'a str, u32)], point: u32) -> &'a str {
    let mut sum = 0;
    for (name, weight) in slices {
        sum += weight;
        if sum > point {
            return name;
        }
    }
    unreachable!("the weights sum to 100000")
}

/// A string flag whose fallthrough (or, with `in_rule`, a rule that every user matches) is this
/// split; each variant's value is its name in capitals.
fn split_flag(
    key: &str,
    slices: &[(&str, u32)],
    salt: Option<&str>,
    bucket_by: Option<&str>,
    in_rule: bool,
) -> Flag {
    let mut split = json!({
        "split": slices.iter().map(|(v, w)| json!({"variant": v, "weight": w})).collect::<Vec<_>>()
    });
    if let Some(salt) = salt {
        split["salt"] = json!(salt);
    }
    if let Some(field) = bucket_by {
        split["bucketBy"] = json!(field);
    }
    let variants: serde_json::Map<String, Value> = slices
        .iter()
        .map(|(name, _)| (name.to_string(), json!(name.to_uppercase())))
        .chain([("off".to_string(), json!("OFF"))])
        .collect();
    let mut flag = json!({
        "key": key, "enabled": true, "type": "string", "variants": variants, "offVariant": "off",
    });
    if in_rule {
        flag["rules"] =
            json!([{"field": "id", "operator": "exists", "value": true, "serve": split}]);
        flag["fallthrough"] = json!("off");
    } else {
        flag["fallthrough"] = split;
    }
    Flag::from_json_value(&flag).unwrap()
}

/// 100,000 fixed ids shaped like UUIDs: splitmix64 of 0, 1, 2… (a fixed seed, so the test always
/// sees the same users).
fn fixed_ids() -> Vec<String> {
    (0u64..100_000)
        .map(|n| {
            let mut z = n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}",
                z >> 32,
                (z >> 16) & 0xffff,
                z & 0xfff,
                n & 0xffff
            )
        })
        .collect()
}

/// How many of `ids` the compiled set serves each of `slices`' variants, after checking that each
/// is served exactly the variant of its reference point, with reason ROLLOUT.
fn counts(flag: &Flag, salt: &str, slices: &[(&str, u32)], ids: &[String]) -> Vec<u64> {
    let set = CompiledFlagSet::new(std::slice::from_ref(flag)).unwrap();
    let mut counts = vec![0u64; slices.len()];
    for id in ids {
        let result = set
            .evaluate_flag(flag.key.as_str(), &User::new(id.as_str()))
            .unwrap();
        let served = result.variant().unwrap();
        assert_eq!(
            served,
            reference_variant(slices, reference_point(salt, id)),
            "{id}"
        );
        assert_eq!(result.reason, Reason::Rollout);
        let slot = slices.iter().position(|(name, _)| *name == served).unwrap();
        counts[slot] += 1;
    }
    counts
}

/// Pearson's chi-square of `counts` against the shares `slices` expect.
fn chi_square(counts: &[u64], slices: &[(&str, u32)]) -> f64 {
    let n: u64 = counts.iter().sum();
    counts
        .iter()
        .zip(slices)
        .map(|(&count, (_, weight))| {
            let expected = n as f64 * f64::from(*weight) / f64::from(TOTAL);
            (count as f64 - expected).powi(2) / expected
        })
        .sum()
}

/// The chi-square distribution's upper 0.1 % point with 2 degrees of freedom (three variants):
/// `-2 ln(0.001)`. A fair split of fixed ids exceeds it with probability 0.001; these ids are fixed,
/// so the test is deterministic, and a split skewed by even 1 % of users (about 100 chi-square
/// here) cannot pass it.
const CHI_SQUARE_2_DF_P_0_001: f64 = 13.816;

#[test]
fn thirds_of_33333_33333_33334_are_within_bounds() {
    let slices = [("a", 33_333), ("b", 33_333), ("c", 33_334)];
    let ids = fixed_ids();
    let flag = split_flag("checkout", &slices, Some("checkout-v2"), None, false);
    let counts = counts(&flag, "checkout-v2", &slices, &ids);
    let chi = chi_square(&counts, &slices);
    assert!(
        chi < CHI_SQUARE_2_DF_P_0_001,
        "{counts:?}: chi-square {chi:.2}"
    );
    // Sequential ids, salted by the key (no salt given), in a rule rather than the fallthrough.
    let ids: Vec<String> = (0..100_000).map(|n| format!("user-{n}")).collect();
    let flag = split_flag("checkout", &slices, None, None, true);
    let set = CompiledFlagSet::new(std::slice::from_ref(&flag)).unwrap();
    let mut counts = [0u64; 3];
    for id in &ids {
        let result = set
            .evaluate_flag("checkout", &User::new(id.as_str()))
            .unwrap();
        assert_eq!(result.reason, Reason::RuleMatch);
        let served = result.variant().unwrap();
        assert_eq!(
            served,
            reference_variant(&slices, reference_point("checkout", id))
        );
        counts[slices.iter().position(|(n, _)| *n == served).unwrap()] += 1;
    }
    let chi = chi_square(&counts, &slices);
    assert!(
        chi < CHI_SQUARE_2_DF_P_0_001,
        "sequential ids {counts:?}: chi-square {chi:.2}"
    );
}

#[test]
fn a_skewed_split_of_10_20_70_percent_is_within_bounds() {
    let slices = [("small", 10_000), ("medium", 20_000), ("large", 70_000)];
    let flag = split_flag("pricing", &slices, Some("pricing-2026"), None, false);
    let counts = counts(&flag, "pricing-2026", &slices, &fixed_ids());
    let chi = chi_square(&counts, &slices);
    assert!(
        chi < CHI_SQUARE_2_DF_P_0_001,
        "{counts:?}: chi-square {chi:.2}"
    );
}

/// A weight of 1 (0.001 %) is the point 0 and nothing else: too rare for a chi-square (one user
/// expected in 100,000), so checked exactly, with a Poisson(1) bound on how many there are.
#[test]
fn a_weight_of_1_serves_exactly_the_users_at_point_0() {
    let slices = [("rare", 1), ("common", 99_999)];
    let ids = fixed_ids();
    let flag = split_flag("canary", &slices, Some("canary"), None, false);
    let counts = counts(&flag, "canary", &slices, &ids);
    let at_zero = ids
        .iter()
        .filter(|id| reference_point("canary", id) == 0)
        .count() as u64;
    assert_eq!(counts[0], at_zero);
    // P(Poisson(1) >= 9) is about 1e-6.
    assert!(at_zero <= 8, "{at_zero} users at point 0");
}

/// `bucketBy: attributes.companyId`: every user of a company gets the company's variant, and the
/// companies spread by the weights.
#[test]
fn a_company_level_split_keeps_each_company_together() {
    let slices = [("a", 33_333), ("b", 33_333), ("c", 33_334)];
    let flag = split_flag(
        "billing",
        &slices,
        None,
        Some("attributes.companyId"),
        false,
    );
    let set = CompiledFlagSet::new(std::slice::from_ref(&flag)).unwrap();
    let mut counts = [0u64; 3];
    for company in 0..20_000 {
        let company_id = format!("company-{company}");
        let expected = reference_variant(&slices, reference_point("billing", &company_id));
        for member in 0..3 {
            let user = User::from_json_value(&json!({
                "id": format!("{company_id}-user-{member}"), "attributes": {"companyId": company_id}
            }))
            .unwrap();
            let result = set.evaluate_flag("billing", &user).unwrap();
            assert_eq!(result.variant().unwrap(), expected, "{company_id}");
        }
        counts[slices.iter().position(|(n, _)| *n == expected).unwrap()] += 1;
    }
    let chi = chi_square(&counts, &slices);
    assert!(
        chi < CHI_SQUARE_2_DF_P_0_001,
        "{counts:?}: chi-square {chi:.2}"
    );
    // A user without the field cannot be placed: the off variant, NO_MATCH.
    let result = set.evaluate_flag("billing", &User::new("lonely")).unwrap();
    assert_eq!(
        (result.variant().unwrap(), result.reason),
        ("off", Reason::NoMatch)
    );
}

const NAMES: [&str; 6] = ["v0", "v1", "v2", "v3", "v4", "v5"];

/// Two to six weights summing to 100000, from cut points (equal cuts give weights of 0).
fn weights() -> impl Strategy<Value = Vec<u32>> {
    let cut = prop_oneof![0u32..=TOTAL, Just(0), Just(TOTAL)];
    prop::collection::vec(cut, 1..6).prop_map(|mut cuts| {
        cuts.sort_unstable();
        cuts.push(TOTAL);
        let mut last = 0;
        cuts.into_iter()
            .map(|cut| {
                let weight = cut - last;
                last = cut;
                weight
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Moving weight from the second-to-last variant to the last moves exactly the users whose
    /// point lies in the slice given away, each from the second-to-last to the last; every other
    /// user keeps their variant. Through the compiled set and `evaluate`, in a rule or the
    /// fallthrough, salted or not.
    #[test]
    fn moving_weight_to_the_last_variant_moves_only_the_users_given_away(
        weights in weights(),
        given in any::<Index>(),
        ids in prop::collection::vec("[A-Za-z0-9-]{1,16}", 300),
        salt in prop::option::of(prop::sample::select(vec!["s", "checkout-v2", "é"])),
        in_rule in any::<bool>(),
    ) {
        let k = weights.len();
        let moved = u32::try_from(given.index(weights[k - 2] as usize + 1)).unwrap();
        let before: Vec<(&str, u32)> = NAMES.iter().copied().zip(weights.iter().copied()).collect();
        let mut after = before.clone();
        after[k - 2].1 -= moved;
        after[k - 1].1 += moved;
        let flag_before = split_flag("exp", &before, salt, None, in_rule);
        let flag_after = split_flag("exp", &after, salt, None, in_rule);
        let set_before = CompiledFlagSet::new(std::slice::from_ref(&flag_before)).unwrap();
        let set_after = CompiledFlagSet::new(std::slice::from_ref(&flag_after)).unwrap();
        // The slice given away ends where the second-to-last variant's share ends.
        let end: u32 = weights[..k - 1].iter().sum();
        for id in &ids {
            let user = User::new(id.as_str());
            let was = set_before.evaluate_flag("exp", &user).unwrap().variant().unwrap();
            let now = set_after.evaluate_flag("exp", &user).unwrap().variant().unwrap();
            let plain_was = flag_before.variants().name(evaluate(&flag_before, &user).variant);
            let plain_now = flag_after.variants().name(evaluate(&flag_after, &user).variant);
            prop_assert_eq!((plain_was, plain_now), (was, now));
            let point = reference_point(salt.unwrap_or("exp"), id);
            let given_away = end - moved <= point && point < end;
            if given_away {
                prop_assert_eq!((was, now), (NAMES[k - 2], NAMES[k - 1]), "{}", id);
            } else {
                prop_assert_eq!(was, now, "{}", id);
            }
        }
    }
}

/// The property above on 100,000 users with a large move: a tenth of the users move, all of them
/// from "b" to "c".
#[test]
fn moving_a_tenth_of_the_weight_moves_a_tenth_of_the_users() {
    let before = [("a", 33_333), ("b", 33_333), ("c", 33_334)];
    let after = [("a", 33_333), ("b", 23_333), ("c", 43_334)];
    let ids = fixed_ids();
    let set_before =
        CompiledFlagSet::new(&[split_flag("exp", &before, None, None, false)]).unwrap();
    let set_after = CompiledFlagSet::new(&[split_flag("exp", &after, None, None, false)]).unwrap();
    let mut moved = 0u32;
    for id in &ids {
        let user = User::new(id.as_str());
        let was = set_before
            .evaluate_flag("exp", &user)
            .unwrap()
            .variant()
            .unwrap();
        let now = set_after
            .evaluate_flag("exp", &user)
            .unwrap()
            .variant()
            .unwrap();
        if was != now {
            assert_eq!((was, now), ("b", "c"), "{id}");
            moved += 1;
        }
    }
    // Binomial(100000, 0.1): a standard deviation of about 95.
    assert!((9_500..=10_500).contains(&moved), "{moved} users moved");
}
