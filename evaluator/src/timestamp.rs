//! RFC 3339 date-times as instants, for the `before` / `after` operators.

/// An instant parsed from an RFC 3339 date-time, ordered and compared as instants: the offset is
/// applied and every fractional digit is kept, so `2026-01-01T01:00:00+01:00` equals
/// `2026-01-01T00:00:00Z` and `…00.5Z` equals `…00.500000000Z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z (negative before it); compared first, so the field order
    /// matters to the derived `Ord`.
    seconds: i64,
    /// 0..1_000_000_000.
    nanos: u32,
}

impl Timestamp {
    /// Parses `YYYY-MM-DD(T|t)HH:MM:SS(.d{1,9})?(Z|z|(+|-)HH:MM)` and nothing around it; `None` for
    /// anything else.
    ///
    /// Year 0000–9999 (proleptic Gregorian, so 0000 is a leap year), a day that exists in its month,
    /// hour 00–23, minute 00–59, second 00–59 (a leap second, 60, is refused), one to nine fractional
    /// digits, offset hours 00–23 and minutes 00–59 (`-00:00` is UTC).
    pub fn parse(text: &str) -> Option<Timestamp> {
        // Every accepted character is ASCII, so bytes are characters here and no slice can split one.
        let bytes = text.as_bytes();
        let year = digits(bytes, 0, 4)?;
        expect(bytes, 4, b'-')?;
        let month = digits(bytes, 5, 2)?;
        expect(bytes, 7, b'-')?;
        let day = digits(bytes, 8, 2)?;
        if !matches!(bytes.get(10), Some(b'T' | b't')) {
            return None;
        }
        let hour = digits(bytes, 11, 2)?;
        expect(bytes, 13, b':')?;
        let minute = digits(bytes, 14, 2)?;
        expect(bytes, 16, b':')?;
        let second = digits(bytes, 17, 2)?;
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return None;
        }

        let mut at = 19;
        let mut nanos = 0;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            let count = at - start;
            if !(1..=9).contains(&count) {
                return None;
            }
            // Scale to nanoseconds: ".5" is 500_000_000.
            nanos = digits(bytes, start, count)? * 10u32.pow(9 - count as u32);
        }

        let offset_seconds = match bytes.get(at) {
            Some(b'Z' | b'z') => {
                at += 1;
                0
            }
            Some(sign @ (b'+' | b'-')) => {
                let sign = if *sign == b'-' { -1 } else { 1 };
                let hours = digits(bytes, at + 1, 2)?;
                expect(bytes, at + 3, b':')?;
                let minutes = digits(bytes, at + 4, 2)?;
                if hours > 23 || minutes > 59 {
                    return None;
                }
                at += 6;
                sign * i64::from(hours * 3600 + minutes * 60)
            }
            _ => return None,
        };
        if at != bytes.len() {
            return None;
        }

        let local = days_from_civil(year, month, day) * 86_400
            + i64::from(hour * 3600 + minute * 60 + second);
        Some(Timestamp {
            // Local time is UTC plus the offset.
            seconds: local - offset_seconds,
            nanos,
        })
    }
}

/// The number written by `count` ASCII digits at `start`; `None` if any is missing or not a digit.
/// Callers pass at most nine digits, so the value fits a u32.
fn digits(bytes: &[u8], start: usize, count: usize) -> Option<u32> {
    let field = bytes.get(start..start.checked_add(count)?)?;
    field.iter().try_fold(0u32, |value, byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + u32::from(byte - b'0'))
    })
}

fn expect(bytes: &[u8], at: usize, byte: u8) -> Option<()> {
    (bytes.get(at) == Some(&byte)).then_some(())
}

fn is_leap_year(year: u32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Month 1..=12.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a valid proleptic Gregorian date (Howard Hinnant's `days_from_civil`):
/// years are counted from March so that the leap day ends a year, in 400-year eras of 146,097 days.
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, string::String};
    use core::cmp::Ordering;
    use proptest::prelude::*;
    use test_case::test_case;

    fn instant(text: &str) -> Timestamp {
        match Timestamp::parse(text) {
            Some(t) => t,
            None => panic!("{text:?} should parse"),
        }
    }

    #[test_case("1970-01-01T00:00:00Z", 0, 0)]
    #[test_case("1970-01-01t00:00:00z", 0, 0 ; "lowercase t and z")]
    #[test_case("1970-01-01T00:00:01Z", 1, 0)]
    #[test_case("1969-12-31T23:59:59Z", -1, 0)]
    #[test_case("1970-01-01T00:00:00.5Z", 0, 500_000_000)]
    #[test_case("1970-01-01T00:00:00.500000000Z", 0, 500_000_000)]
    #[test_case("1970-01-01T00:00:00.000000001Z", 0, 1)]
    #[test_case("1970-01-01T00:00:00.123456789Z", 0, 123_456_789)]
    #[test_case("1969-12-31T23:59:59.999999999Z", -1, 999_999_999)]
    #[test_case("1970-01-01T00:00:00-00:00", 0, 0 ; "minus zero offset")]
    #[test_case("1970-01-01T00:00:00+00:00", 0, 0 ; "plus zero offset")]
    #[test_case("1970-01-01T01:00:00+01:00", 0, 0 ; "plus one hour")]
    #[test_case("1969-12-31T19:00:00-05:00", 0, 0 ; "minus five hours across midnight and year")]
    #[test_case("1970-01-01T00:00:00+23:59", -86_340, 0 ; "largest positive offset")]
    #[test_case("1970-01-01T00:00:00-23:59", 86_340, 0 ; "largest negative offset")]
    #[test_case("2000-03-01T00:00:00Z", 951_868_800, 0)]
    #[test_case("2000-02-29T00:00:00Z", 951_782_400, 0 ; "leap day 2000")]
    #[test_case("2024-02-29T12:00:00Z", 1_709_208_000, 0 ; "leap day 2024")]
    #[test_case("2026-12-01T00:00:00Z", 1_796_083_200, 0)]
    #[test_case("2038-01-19T03:14:08Z", 2_147_483_648, 0 ; "past i32")]
    #[test_case("0000-01-01T00:00:00Z", -62_167_219_200, 0 ; "year zero")]
    #[test_case("0000-02-29T00:00:00Z", -62_162_121_600, 0 ; "year zero is leap")]
    #[test_case("9999-12-31T23:59:59.999999999Z", 253_402_300_799, 999_999_999 ; "year 9999")]
    #[test_case("9999-12-31T23:59:59-23:59", 253_402_387_139, 0 ; "latest instant")]
    #[test_case("0000-01-01T00:00:00+23:59", -62_167_305_540, 0 ; "earliest instant")]
    fn valid(text: &str, seconds: i64, nanos: u32) {
        assert_eq!(instant(text), Timestamp { seconds, nanos }, "{text:?}");
    }

    #[test_case("" ; "empty")]
    #[test_case("2026-12-01")]
    #[test_case("2026-12-01T00:00Z")]
    #[test_case("2026-12-01T00:00:00" ; "no offset")]
    #[test_case("2026-12-01 00:00:00Z" ; "space separator")]
    #[test_case("2026-12-01_00:00:00Z" ; "underscore separator")]
    #[test_case(" 2026-12-01T00:00:00Z" ; "leading space")]
    #[test_case("2026-12-01T00:00:00Z " ; "trailing space")]
    #[test_case("2026-12-01T00:00:00Z\n" ; "trailing newline")]
    #[test_case("2026-12-01T00:00:00ZZ")]
    #[test_case("+2026-12-01T00:00:00Z")]
    #[test_case("12026-12-01T00:00:00Z")]
    #[test_case("226-12-01T00:00:00Z")]
    #[test_case("2026-1-01T00:00:00Z")]
    #[test_case("2026-12-1T00:00:00Z")]
    #[test_case("2026-12-01T0:00:00Z")]
    #[test_case("2026/12/01T00:00:00Z")]
    #[test_case("2026-12-01T00.00.00Z")]
    #[test_case("2026-00-01T00:00:00Z" ; "month zero")]
    #[test_case("2026-13-01T00:00:00Z" ; "month 13")]
    #[test_case("2026-12-00T00:00:00Z" ; "day zero")]
    #[test_case("2026-12-32T00:00:00Z" ; "day 32")]
    #[test_case("2026-04-31T00:00:00Z" ; "april 31")]
    #[test_case("2026-06-31T00:00:00Z" ; "june 31")]
    #[test_case("2026-09-31T00:00:00Z" ; "september 31")]
    #[test_case("2026-11-31T00:00:00Z" ; "november 31")]
    #[test_case("2026-02-29T00:00:00Z" ; "feb 29 2026")]
    #[test_case("1900-02-29T00:00:00Z" ; "feb 29 1900")]
    #[test_case("2100-02-29T00:00:00Z" ; "feb 29 2100")]
    #[test_case("2024-02-30T00:00:00Z" ; "feb 30 2024")]
    #[test_case("2026-12-01T24:00:00Z" ; "hour 24")]
    #[test_case("2026-12-01T23:60:00Z" ; "minute 60")]
    #[test_case("2026-12-31T23:59:60Z" ; "leap second")]
    #[test_case("2026-12-01T00:00:00.Z" ; "bare dot")]
    #[test_case("2026-12-01T00:00:00.1234567890Z" ; "ten fractional digits")]
    #[test_case("2026-12-01T00:00:00,5Z" ; "comma fraction")]
    #[test_case("2026-12-01T00:00:00.5" ; "fraction no offset")]
    #[test_case("2026-12-01T00:00:00+24:00" ; "offset hour 24")]
    #[test_case("2026-12-01T00:00:00+01:60" ; "offset minute 60")]
    #[test_case("2026-12-01T00:00:00+0100" ; "offset without colon")]
    #[test_case("2026-12-01T00:00:00+01" ; "offset hours only")]
    #[test_case("2026-12-01T00:00:00+01:0" ; "offset short minute")]
    #[test_case("2026-12-01T00:00:00+01:000" ; "offset long minute")]
    #[test_case("2026-12-01T00:00:00UTC" ; "utc name")]
    #[test_case("2026-12-01T00:00:00Z+01:00" ; "z then offset")]
    #[test_case("2026-12-01T00:00:00\u{2212}01:00" ; "unicode minus")]
    #[test_case("٢٠٢٦-12-01T00:00:00Z" ; "arabic indic digits")]
    #[test_case("2026-12-01T00:00:00.５Z" ; "fullwidth digit")]
    #[test_case("2026-12-01T00:00:00é" ; "non ascii offset")]
    #[test_case("2026-12-01\u{e9}00:00:00Z" ; "non ascii separator")]
    #[test_case("-001-12-01T00:00:00Z" ; "negative year")]
    #[test_case("2026-+1-01T00:00:00Z" ; "signed month")]
    fn invalid(text: &str) {
        assert_eq!(Timestamp::parse(text), None, "{text:?}");
    }

    #[test_case("2026-12-01T00:00:00Z", "2026-12-01T01:00:00+01:00")]
    #[test_case("2026-12-01T00:00:00Z", "2026-11-30T19:00:00-05:00" ; "across midnight")]
    #[test_case("2027-01-01T00:30:00+01:00", "2026-12-31T23:30:00Z" ; "across the year")]
    #[test_case("2024-03-01T00:00:00+00:01", "2024-02-29T23:59:00Z" ; "into a leap day")]
    #[test_case("2026-12-01T00:00:00Z", "2026-12-01T00:00:00-00:00")]
    #[test_case("2026-12-01T00:00:00.5Z", "2026-12-01T00:00:00.500000000Z")]
    #[test_case("2026-12-01T00:00:00.1Z", "2026-12-01T00:00:00.10Z")]
    #[test_case("2026-12-01T12:00:00.25+05:30", "2026-12-01t06:30:00.250z")]
    fn equal_instants(a: &str, b: &str) {
        assert_eq!(instant(a), instant(b));
        assert_eq!(instant(a).cmp(&instant(b)), Ordering::Equal);
    }

    #[test_case("2026-12-01T00:00:00Z", "2026-12-01T00:00:00.000000001Z" ; "one nanosecond")]
    #[test_case("2026-12-01T00:00:00.999999999Z", "2026-12-01T00:00:01Z" ; "carry")]
    #[test_case("2026-12-01T00:00:00.09Z", "2026-12-01T00:00:00.1Z" ; "digits not lexical")]
    #[test_case("2026-12-01T00:00:00+01:00", "2026-12-01T00:00:00Z" ; "east is earlier")]
    #[test_case("2026-12-01T00:00:00Z", "2026-12-01T00:00:00-00:01" ; "west is later")]
    #[test_case("2026-12-02T00:30:00Z", "2026-12-01T23:00:00-02:00" ; "offset crosses the day")]
    #[test_case("0000-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z" ; "far past")]
    #[test_case("1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z" ; "far future")]
    #[test_case("1999-12-31T23:59:59.999999999Z", "2000-01-01T00:00:00+00:00" ; "millennium")]
    fn strictly_earlier(a: &str, b: &str) {
        assert!(instant(a) < instant(b), "{a} < {b}");
        assert!(instant(b) > instant(a), "{b} > {a}");
        assert_ne!(instant(a), instant(b));
    }

    /// Days from 1970-01-01, counted one year and one month at a time: no era arithmetic to share a
    /// mistake with `days_from_civil`.
    fn naive_days(year: u32, month: u32, day: u32) -> i64 {
        let year_length = |y: u32| {
            if days_in_month_reference(y, 2) == 29 {
                366
            } else {
                365
            }
        };
        let mut days: i64 = 0;
        if year >= 1970 {
            for y in 1970..year {
                days += year_length(y);
            }
        } else {
            for y in year..1970 {
                days -= year_length(y);
            }
        }
        for m in 1..month {
            days += i64::from(days_in_month_reference(year, m));
        }
        days + i64::from(day) - 1
    }

    #[derive(Clone, Debug)]
    struct Parts {
        year: u32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        /// The fractional digits as written (possibly none), with trailing zeros kept.
        fraction: String,
        /// `None` for "Z"; else (negative, hours, minutes).
        offset: Option<(bool, u32, u32)>,
        lowercase: bool,
    }

    impl Parts {
        fn text(&self) -> String {
            let mut text = format!(
                "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}",
                self.year,
                self.month,
                self.day,
                if self.lowercase { 't' } else { 'T' },
                self.hour,
                self.minute,
                self.second
            );
            if !self.fraction.is_empty() {
                text.push('.');
                text.push_str(&self.fraction);
            }
            match self.offset {
                None => text.push(if self.lowercase { 'z' } else { 'Z' }),
                Some((negative, h, m)) => text.push_str(&format!(
                    "{}{h:02}:{m:02}",
                    if negative { '-' } else { '+' }
                )),
            }
            text
        }

        fn expected(&self) -> Timestamp {
            let offset = match self.offset {
                None => 0,
                Some((negative, h, m)) => {
                    let magnitude = i64::from(h) * 3600 + i64::from(m) * 60;
                    if negative {
                        -magnitude
                    } else {
                        magnitude
                    }
                }
            };
            let mut nanos: u32 = 0;
            for (i, digit) in self.fraction.bytes().enumerate() {
                nanos += u32::from(digit - b'0') * 10u32.pow(8 - i as u32);
            }
            Timestamp {
                seconds: naive_days(self.year, self.month, self.day) * 86_400
                    + i64::from(self.hour) * 3600
                    + i64::from(self.minute) * 60
                    + i64::from(self.second)
                    - offset,
                nanos,
            }
        }
    }

    fn parts() -> impl Strategy<Value = Parts> {
        let date = (
            prop_oneof![0u32..=9999, 1965u32..2105, Just(0u32), Just(9999u32)],
            1u32..=12,
        )
            .prop_flat_map(|(year, month)| {
                (
                    Just(year),
                    Just(month),
                    1u32..=days_in_month_reference(year, month),
                )
            });
        let time = (0u32..24, 0u32..60, 0u32..60, "[0-9]{0,9}");
        let offset = proptest::option::of((any::<bool>(), 0u32..24, 0u32..60));
        (date, time, offset, any::<bool>()).prop_map(
            |((year, month, day), (hour, minute, second, fraction), offset, lowercase)| Parts {
                year,
                month,
                day,
                hour,
                minute,
                second,
                fraction,
                offset,
                lowercase,
            },
        )
    }

    /// The generator's own calendar, written apart from the parser's.
    fn days_in_month_reference(year: u32, month: u32) -> u32 {
        let leap = (year % 400 == 0) || (year % 4 == 0 && year % 100 != 0);
        [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][month as usize - 1]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn parse_matches_a_naive_day_count(p in parts()) {
            prop_assert_eq!(Timestamp::parse(&p.text()), Some(p.expected()), "{}", p.text());
        }

        #[test]
        fn order_matches_the_naive_instants(a in parts(), b in parts()) {
            let (x, y) = (instant(&a.text()), instant(&b.text()));
            let (ea, eb) = (a.expected(), b.expected());
            prop_assert_eq!(
                x.cmp(&y),
                (ea.seconds, ea.nanos).cmp(&(eb.seconds, eb.nanos))
            );
        }

        #[test]
        fn a_day_past_the_month_is_refused(p in parts()) {
            let past = Parts { day: days_in_month_reference(p.year, p.month) + 1, ..p };
            prop_assert_eq!(Timestamp::parse(&past.text()), None, "{}", past.text());
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = Timestamp::parse(&text);
        }

        #[test]
        fn parse_never_panics_near_the_grammar(
            text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9:.]{2,13}[-+Zz0-9:é]{0,7}"
        ) {
            let _ = Timestamp::parse(&text);
        }

        #[test]
        fn every_proper_prefix_of_a_valid_timestamp_is_refused(p in parts(), cut in 0usize..40) {
            let text = p.text();
            let cut = cut.min(text.len() - 1);
            // Dropping the end leaves a string without its offset, which is never valid.
            prop_assert_eq!(Timestamp::parse(&text[..cut]), None);
        }
    }
}
