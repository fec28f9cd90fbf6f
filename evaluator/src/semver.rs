//! SemVer 2.0.0 versions (semver.org) and their precedence, for the `semver_*` operators.

use alloc::boxed::Box;
use core::cmp::Ordering;

/// A version parsed from a SemVer 2.0.0 string, ordered by precedence (semver.org §11).
///
/// Build metadata is checked by [`SemVer::parse`] and then dropped: it takes no part in precedence, so
/// `1.0.0+a == 1.0.0+b`. What is kept is canonical (no leading zeros, a number fits `u64` exactly when
/// it is held as one), which makes the derived equality exactly "equal precedence".
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SemVer {
    major: Numeric,
    minor: Numeric,
    patch: Numeric,
    /// The dot-separated pre-release identifiers as written, already checked; `None` for a release.
    /// One string rather than a list so that a pre-release costs one allocation.
    pre: Option<Box<str>>,
}

/// A numeric identifier of any length.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Numeric {
    Small(u64),
    /// The digits of a number above `u64::MAX`, without leading zeros; rare, so it may allocate.
    Big(Box<str>),
}

impl SemVer {
    /// Parses `MAJOR.MINOR.PATCH(-prerelease)?(+build)?` exactly as semver.org's grammar has it; `None`
    /// for anything else (a leading "v", whitespace, leading zeros in numbers, empty identifiers…).
    ///
    /// A plain `1.2.3` does not allocate; a pre-release allocates once.
    pub fn parse(text: &str) -> Option<SemVer> {
        let (version, build) = match text.split_once('+') {
            Some((version, build)) => (version, Some(build)),
            None => (text, None),
        };
        if let Some(build) = build {
            // '+' is not an identifier character, so a second '+' fails here.
            if !build.split('.').all(is_build_identifier) {
                return None;
            }
        }
        // The core has no '-', so the first one starts the pre-release (which may hold more).
        let (core, pre) = match version.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (version, None),
        };
        if let Some(pre) = pre {
            if !pre.split('.').all(is_prerelease_identifier) {
                return None;
            }
        }
        let mut parts = core.split('.');
        let major = Numeric::parse(parts.next()?)?;
        let minor = Numeric::parse(parts.next()?)?;
        let patch = Numeric::parse(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        Some(SemVer {
            major,
            minor,
            patch,
            pre: pre.map(Box::from),
        })
    }
}

impl Numeric {
    /// `0` or a digit string without a leading zero.
    fn parse(text: &str) -> Option<Numeric> {
        if !is_numeric_identifier(text) {
            return None;
        }
        let mut value: u64 = 0;
        for byte in text.bytes() {
            match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(byte - b'0')))
            {
                Some(next) => value = next,
                None => return Some(Numeric::Big(Box::from(text))),
            }
        }
        Some(Numeric::Small(value))
    }
}

impl Ord for Numeric {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Numeric::Small(a), Numeric::Small(b)) => a.cmp(b),
            // Big holds only numbers above u64::MAX.
            (Numeric::Small(_), Numeric::Big(_)) => Ordering::Less,
            (Numeric::Big(_), Numeric::Small(_)) => Ordering::Greater,
            (Numeric::Big(a), Numeric::Big(b)) => compare_digits(a, b),
        }
    }
}

impl PartialOrd for Numeric {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        self.major
            .cmp(&other.major)
            .then_with(|| self.minor.cmp(&other.minor))
            .then_with(|| self.patch.cmp(&other.patch))
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                // A pre-release is lower than its release.
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => compare_prerelease(a, b),
            })
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// §11.4: identifier by identifier; a list that runs out first is lower.
fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let mut a = a.split('.');
    let mut b = b.split('.');
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = compare_identifier(x, y);
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Numeric identifiers compare as integers and below alphanumeric ones, which compare in ASCII order.
fn compare_identifier(a: &str, b: &str) -> Ordering {
    match (is_digits(a), is_digits(b)) {
        (true, true) => compare_digits(a, b),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

/// Compares two digit strings without leading zeros as integers: the longer is larger, equal lengths
/// compare digit by digit.
fn compare_digits(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_numeric_identifier(text: &str) -> bool {
    is_digits(text) && (text == "0" || !text.starts_with('0'))
}

fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-'
}

fn is_build_identifier(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_identifier_byte)
}

fn is_prerelease_identifier(text: &str) -> bool {
    is_build_identifier(text) && (!is_digits(text) || is_numeric_identifier(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, string::String, vec::Vec};
    use proptest::prelude::*;
    use test_case::test_case;

    fn version(text: &str) -> SemVer {
        match SemVer::parse(text) {
            Some(v) => v,
            None => panic!("{text:?} should parse"),
        }
    }

    #[test_case("0.0.0")]
    #[test_case("1.2.3")]
    #[test_case("10.20.30")]
    #[test_case("1.1.2-prerelease+meta")]
    #[test_case("1.1.2+meta")]
    #[test_case("1.1.2+meta-valid")]
    #[test_case("1.0.0-alpha")]
    #[test_case("1.0.0-beta")]
    #[test_case("1.0.0-alpha.beta")]
    #[test_case("1.0.0-alpha.beta.1")]
    #[test_case("1.0.0-alpha.1")]
    #[test_case("1.0.0-alpha0.valid")]
    #[test_case("1.0.0-alpha.0valid")]
    #[test_case("1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay")]
    #[test_case("1.0.0-rc.1+build.1")]
    #[test_case("2.0.0-rc.1+build.123")]
    #[test_case("1.2.3-beta")]
    #[test_case("10.2.3-DEV-SNAPSHOT")]
    #[test_case("1.2.3-SNAPSHOT-123")]
    #[test_case("2.0.0+build.1848")]
    #[test_case("2.0.1-alpha.1227")]
    #[test_case("1.0.0-alpha+beta")]
    #[test_case("1.2.3----RC-SNAPSHOT.12.9.1--.12+788")]
    #[test_case("1.2.3----R-S.12.9.1--.12+meta")]
    #[test_case("1.2.3----RC-SNAPSHOT.12.9.1--.12")]
    #[test_case("1.0.0+0.build.1-rc.10000aaa-kk-0.1")]
    #[test_case("99999999999999999999999.999999999999999999.99999999999999999")]
    #[test_case("1.0.0-0A.is.legal")]
    #[test_case("1.2.3-0A")]
    #[test_case("1.2.3-0")]
    #[test_case("1.2.3--")]
    #[test_case("1.2.3-0-")]
    #[test_case("1.0.0-alpha+001")]
    #[test_case("1.0.0+20130313144700")]
    #[test_case("1.0.0-beta+exp.sha.5114f85")]
    #[test_case("1.0.0+21AF26D3----117B344092BD")]
    #[test_case("1.0.0-x.7.z.92")]
    #[test_case("1.0.0-x-y-z.--")]
    #[test_case("1.0.0-0.3.7")]
    #[test_case("1.0.0+007")]
    #[test_case("18446744073709551615.18446744073709551616.0")]
    fn valid(text: &str) {
        assert!(SemVer::parse(text).is_some(), "{text:?}");
    }

    #[test_case("" ; "empty")]
    #[test_case("1")]
    #[test_case("1.2")]
    #[test_case("1.2.3.4")]
    #[test_case("1.2.3-0123")]
    #[test_case("1.2.3-0123.0123")]
    #[test_case("1.0.0-alpha.01")]
    #[test_case("1.1.2+.123")]
    #[test_case("+invalid")]
    #[test_case("-invalid")]
    #[test_case("-invalid+invalid")]
    #[test_case("-invalid.01")]
    #[test_case("alpha")]
    #[test_case("alpha.beta")]
    #[test_case("alpha.beta.1")]
    #[test_case("alpha.1")]
    #[test_case("alpha+beta")]
    #[test_case("alpha_beta")]
    #[test_case("alpha.")]
    #[test_case("alpha..")]
    #[test_case("beta")]
    #[test_case("1.0.0-alpha_beta")]
    #[test_case("-alpha.")]
    #[test_case("1.0.0-alpha..")]
    #[test_case("1.0.0-alpha..1")]
    #[test_case("1.0.0-alpha...1")]
    #[test_case("1.0.0-alpha....1")]
    #[test_case("1.0.0-alpha.....1")]
    #[test_case("1.0.0-alpha......1")]
    #[test_case("1.0.0-alpha.......1")]
    #[test_case("01.1.1")]
    #[test_case("1.01.1")]
    #[test_case("1.1.01")]
    #[test_case("1.2.3.DEV")]
    #[test_case("1.2-SNAPSHOT")]
    #[test_case("1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788")]
    #[test_case("1.2-RC-SNAPSHOT")]
    #[test_case("-1.0.3-gamma+b7718")]
    #[test_case("+justmeta")]
    #[test_case("9.8.7+meta+meta")]
    #[test_case("9.8.7-whatever+meta+meta")]
    #[test_case("99999999999999999999999.999999999999999999.99999999999999999----RC-SNAPSHOT.12.09.1--------------------------------..12")]
    #[test_case("1.2.3-")]
    #[test_case("1.2.3+")]
    #[test_case("1.2.3-+build")]
    #[test_case("1.2.3-a..b")]
    #[test_case("1.2.3-a.")]
    #[test_case("1.2.3+a..b")]
    #[test_case("1.2.3+a.")]
    #[test_case("v1.2.3")]
    #[test_case("V1.2.3")]
    #[test_case(" 1.2.3")]
    #[test_case("1.2.3 ")]
    #[test_case("1.2.3\n")]
    #[test_case("1. 2.3")]
    #[test_case("1.2.3-a b")]
    #[test_case("=1.2.3")]
    #[test_case("1..3")]
    #[test_case("1.2.")]
    #[test_case(".1.2")]
    #[test_case("-1.2.3")]
    #[test_case("+1.2.3")]
    #[test_case("1.2.+3")]
    #[test_case("1.2.3-é")]
    #[test_case("1.2.3+é")]
    #[test_case("١.2.3" ; "arabic indic digit")]
    #[test_case("1.2.3-\u{0}")]
    #[test_case("1.2.x")]
    #[test_case("1.2.*")]
    fn invalid(text: &str) {
        assert!(SemVer::parse(text).is_none(), "{text:?}");
    }

    /// semver.org §11 examples, each strictly below the next.
    #[test_case(&["1.0.0", "2.0.0", "2.1.0", "2.1.1"] ; "core")]
    #[test_case(&["1.0.0-alpha", "1.0.0"] ; "pre-release below release")]
    #[test_case(&[
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ] ; "pre-release chain")]
    #[test_case(&["1.9.0", "1.10.0", "1.11.0"] ; "numeric not lexical")]
    #[test_case(&["0.0.0-0", "0.0.0-1", "0.0.0-9", "0.0.0-10", "0.0.0--", "0.0.0-0A", "0.0.0-A", "0.0.0-a", "0.0.0"] ; "identifier kinds")]
    #[test_case(&["1.0.0-a", "1.0.0-a.0", "1.0.0-a.0.0", "1.0.0-a.a"] ; "shorter list lower")]
    #[test_case(&["1.0.0-1.a", "1.0.0-1.a-", "1.0.0-1.aa", "1.0.0-1.b"] ; "ascii order")]
    #[test_case(&["1.0.0-99999999999999999999", "1.0.0-100000000000000000000", "1.0.0-x"] ; "long numeric pre-release")]
    #[test_case(&[
        "18446744073709551614.0.0",
        "18446744073709551615.0.0",
        "18446744073709551616.0.0",
        "99999999999999999999999.0.0",
        "100000000000000000000000.0.0",
        "100000000000000000000001.0.0",
    ] ; "big numbers")]
    #[test_case(&["0.18446744073709551615.0", "0.18446744073709551616.0", "1.0.0"] ; "big minor")]
    #[test_case(&["0.0.18446744073709551616", "0.0.99999999999999999999999", "0.1.0"] ; "big patch")]
    fn ascending(texts: &[&str]) {
        let versions: Vec<SemVer> = texts.iter().map(|t| version(t)).collect();
        for (i, a) in versions.iter().enumerate() {
            for (j, b) in versions.iter().enumerate() {
                assert_eq!(a.cmp(b), i.cmp(&j), "{} vs {}", texts[i], texts[j]);
                assert_eq!(a == b, i == j, "{} vs {}", texts[i], texts[j]);
            }
        }
    }

    #[test_case("1.0.0+a", "1.0.0+b")]
    #[test_case("1.0.0", "1.0.0+build.5")]
    #[test_case("1.0.0-rc.1+x", "1.0.0-rc.1+y.z")]
    #[test_case("18446744073709551616.0.0+a", "18446744073709551616.0.0")]
    fn build_metadata_is_ignored(a: &str, b: &str) {
        assert_eq!(version(a), version(b));
        assert_eq!(version(a).cmp(&version(b)), Ordering::Equal);
    }

    #[test]
    fn a_u64_edge_is_held_small_and_one_more_big() {
        assert_eq!(
            version("18446744073709551615.0.0").major,
            Numeric::Small(u64::MAX)
        );
        assert!(matches!(
            version("18446744073709551616.0.0").major,
            Numeric::Big(_)
        ));
        assert!(version("1.2.3").pre.is_none());
    }

    /// A generated version and what an independent reading of §11 says about it: numbers as u128
    /// (wide enough to cross u64::MAX), identifiers as typed values.
    #[derive(Clone, Debug)]
    struct Model {
        core: [u128; 3],
        pre: Vec<Id>,
        build: Vec<String>,
    }

    #[derive(Clone, Debug)]
    enum Id {
        Num(u128),
        Alpha(String),
    }

    impl Model {
        fn text(&self) -> String {
            let mut text = format!("{}.{}.{}", self.core[0], self.core[1], self.core[2]);
            for (i, id) in self.pre.iter().enumerate() {
                text.push(if i == 0 { '-' } else { '.' });
                match id {
                    Id::Num(n) => text.push_str(&format!("{n}")),
                    Id::Alpha(s) => text.push_str(s),
                }
            }
            for (i, id) in self.build.iter().enumerate() {
                text.push(if i == 0 { '+' } else { '.' });
                text.push_str(id);
            }
            text
        }

        fn precedence(&self, other: &Model) -> Ordering {
            let core = self.core.cmp(&other.core);
            if core != Ordering::Equal {
                return core;
            }
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => return Ordering::Equal,
                (true, false) => return Ordering::Greater,
                (false, true) => return Ordering::Less,
                (false, false) => {}
            }
            for (a, b) in self.pre.iter().zip(&other.pre) {
                let order = match (a, b) {
                    (Id::Num(x), Id::Num(y)) => x.cmp(y),
                    (Id::Num(_), Id::Alpha(_)) => Ordering::Less,
                    (Id::Alpha(_), Id::Num(_)) => Ordering::Greater,
                    (Id::Alpha(x), Id::Alpha(y)) => x.as_bytes().cmp(y.as_bytes()),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
            self.pre.len().cmp(&other.pre.len())
        }
    }

    /// Small values so that equal parts, and so ties and deep comparisons, are common; some numbers
    /// well past u64::MAX.
    fn number() -> impl Strategy<Value = u128> {
        prop_oneof![
            4 => 0u128..4,
            1 => Just(u128::from(u64::MAX)),
            1 => (u128::from(u64::MAX) - 2)..(u128::from(u64::MAX) + 3),
            1 => any::<u128>(),
        ]
    }

    fn identifier() -> impl Strategy<Value = Id> {
        prop_oneof![
            number().prop_map(Id::Num),
            // At least one non-digit, so it is alphanumeric; may start with zeros ("0A").
            "[0-9]{0,2}[A-Za-z-][0-9A-Za-z-]{0,2}".prop_map(Id::Alpha),
        ]
    }

    fn model() -> impl Strategy<Value = Model> {
        (
            [number(), number(), number()],
            proptest::collection::vec(identifier(), 0..4),
            proptest::collection::vec("[0-9A-Za-z-]{1,4}", 0..3),
        )
            .prop_map(|(core, pre, build)| Model { core, pre, build })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn precedence_matches_the_model(a in model(), b in model()) {
            let (x, y) = (version(&a.text()), version(&b.text()));
            prop_assert_eq!(x.cmp(&y), a.precedence(&b), "{} vs {}", a.text(), b.text());
            prop_assert_eq!(x == y, a.precedence(&b) == Ordering::Equal);
            prop_assert_eq!(x.partial_cmp(&y), Some(x.cmp(&y)));
        }

        #[test]
        fn the_order_is_total(a in model(), b in model(), c in model()) {
            let v = [version(&a.text()), version(&b.text()), version(&c.text())];
            for x in &v {
                prop_assert_eq!(x.cmp(x), Ordering::Equal);
                for y in &v {
                    prop_assert_eq!(x.cmp(y), y.cmp(x).reverse());
                    prop_assert_eq!(x == y, x.cmp(y) == Ordering::Equal);
                    for z in &v {
                        // Every ordering of the triple is tried, so some x <= y <= z always exists.
                        if x <= y && y <= z {
                            prop_assert!(x <= z);
                        }
                        if x < y && y <= z {
                            prop_assert!(x < z);
                        }
                    }
                }
            }
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = SemVer::parse(&text);
        }

        #[test]
        fn parse_never_panics_near_the_grammar(text in "[0-9a-zA-Z.+ v-]{0,24}") {
            if let Some(v) = SemVer::parse(&text) {
                // Whatever parses is a well-formed version: reparsing without build metadata agrees.
                let core = text.split('+').next().unwrap_or("");
                prop_assert_eq!(SemVer::parse(core), Some(v));
            }
        }

        #[test]
        fn leading_zeros_and_a_v_are_refused(a in model(), zeros in 1usize..3) {
            let text = a.text();
            let refused = [
                format!("v{text}"),
                format!("{}{text}", "0".repeat(zeros)),
                format!("{text} "),
            ];
            for bad in &refused {
                prop_assert_eq!(SemVer::parse(bad), None, "{}", bad);
            }
        }
    }
}
