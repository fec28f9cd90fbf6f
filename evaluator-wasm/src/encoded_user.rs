//! The fast way in for a user. `npm/user-encoding.js` walks a plain user object and hands over all of
//! its strings as one text and its shape as numbers (the "tape"); this reads them into a `User` with
//! no JSON and no call back into JavaScript. Reading the user through `JSON.stringify` and serde_json
//! (`input::user`) was most of the cost of an evaluation.
//!
//! The JavaScript side encodes only users that are certainly valid and in which every value means
//! what its `JSON.stringify` text would; this side answers `None` for anything it would read otherwise
//! (a lone surrogate, an integer that JSON text would not write exactly, a malformed tape). On `None`
//! the caller takes the exact path, so every answer and every error message is that path's.
//!
//! Tape, one `f64` a slot: `id` (its length), `email` and `country` (their lengths, or -1 when absent),
//! `attributes` (-1 when absent, else a map), nothing after. A value is one slot `tag + 8 * n`, a
//! number then its own slot; a map's entries are each a key (its length) then a value. Lengths count
//! UTF-16 units, as JavaScript does, and take the strings from the text in order.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use evaluator::{AttributeValue, Number, User};

/// Nesting beyond this (the user object is 1) is left to the exact path; far below serde_json's 128,
/// so that whatever that path accepts at this depth is read here alike. Equal to `MAX_DEPTH` in
/// `npm/user-encoding.js`.
const MAX_DEPTH: usize = 64;

const NULL: usize = 0;
const FALSE: usize = 1;
const TRUE: usize = 2;
const NUMBER: usize = 3;
const STRING: usize = 4;
const LIST: usize = 5;
const MAP: usize = 6;

const ABSENT: f64 = -1.0;
const TWO_POW_53: f64 = 9_007_199_254_740_992.0;
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// The user `text` and `tape` encode, or `None` when the exact path must read it.
pub(crate) fn user(text: &str, tape: &[f64]) -> Option<User> {
    // wasm-bindgen passes a lone surrogate as U+FFFD: the text can no longer tell the two apart, and
    // only the exact path refuses the first.
    let ascii = text.is_ascii();
    if !ascii && text.contains('\u{FFFD}') {
        return None;
    }
    let mut reader = Reader {
        tape,
        slot: 0,
        text,
        offset: 0,
        ascii,
    };
    let units = reader.slot()?;
    let id = reader.text(units)?;
    if id.is_empty() {
        return None;
    }
    let email = reader.optional_text()?;
    let country = reader.optional_text()?;
    let attributes = match reader.slot()? {
        ABSENT => BTreeMap::new(),
        head => match reader.value(head, 2)? {
            AttributeValue::Map(map) => map,
            _ => return None,
        },
    };
    // Everything handed over was read: anything left means the two sides disagree on the layout.
    if reader.slot != tape.len() || reader.offset != text.len() {
        return None;
    }
    Some(User {
        id,
        email,
        country,
        attributes,
    })
}

struct Reader<'a> {
    tape: &'a [f64],
    slot: usize,
    text: &'a str,
    /// Byte offset of the next string in `text`.
    offset: usize,
    /// Whether `text` is ASCII, where a UTF-16 length is a byte length.
    ascii: bool,
}

impl Reader<'_> {
    fn slot(&mut self) -> Option<f64> {
        let value = *self.tape.get(self.slot)?;
        self.slot += 1;
        Some(value)
    }

    /// The next string, `units` UTF-16 units long (a whole number in a slot).
    fn text(&mut self, units: f64) -> Option<String> {
        self.string(whole(units)?)
    }

    fn string(&mut self, units: usize) -> Option<String> {
        let rest = self.text.get(self.offset..)?;
        let bytes = if self.ascii {
            units
        } else {
            utf8_length(rest, units)?
        };
        let text = rest.get(..bytes)?;
        self.offset += bytes;
        Some(text.to_owned())
    }

    fn optional_text(&mut self) -> Option<Option<String>> {
        match self.slot()? {
            ABSENT => Some(None),
            units => self.text(units).map(Some),
        }
    }

    /// The value whose first slot is `head`, at nesting `depth`.
    fn value(&mut self, head: f64, depth: usize) -> Option<AttributeValue> {
        let head = whole(head)?;
        let (tag, n) = (head % 8, head / 8);
        Some(match tag {
            NULL => AttributeValue::Null,
            FALSE => AttributeValue::Bool(false),
            TRUE => AttributeValue::Bool(true),
            NUMBER => number(self.slot()?)?,
            STRING => AttributeValue::String(self.string(n)?),
            LIST if depth < MAX_DEPTH => {
                // `n` comes from the other side: grow as items arrive rather than trust it.
                let mut items = Vec::new();
                for _ in 0..n {
                    let head = self.slot()?;
                    items.push(self.value(head, depth + 1)?);
                }
                AttributeValue::List(items)
            }
            MAP if depth < MAX_DEPTH => {
                let mut map = BTreeMap::new();
                for _ in 0..n {
                    let units = self.slot()?;
                    let key = self.text(units)?;
                    let head = self.slot()?;
                    let value = self.value(head, depth + 1)?;
                    // A JavaScript object cannot hold a key twice; if the tape says otherwise, the
                    // exact path decides.
                    match map.entry(key) {
                        Entry::Vacant(slot) => {
                            slot.insert(value);
                        }
                        Entry::Occupied(_) => return None,
                    }
                }
                AttributeValue::Map(map)
            }
            _ => return None,
        })
    }
}

/// A slot that holds a count or a length: a whole number from 0 to 2^53.
fn whole(slot: f64) -> Option<usize> {
    if (0.0..=TWO_POW_53).contains(&slot) && slot.fract() == 0.0 {
        usize::try_from(slot as u64).ok()
    } else {
        None
    }
}

/// The bytes of the first `units` UTF-16 units of `text`; `None` past its end or inside a pair.
fn utf8_length(text: &str, units: usize) -> Option<usize> {
    let mut counted = 0;
    for (offset, c) in text.char_indices() {
        if counted == units {
            return Some(offset);
        }
        counted += c.len_utf16();
        if counted > units {
            return None;
        }
    }
    (counted == units).then_some(text.len())
}

/// A number as the exact path reads its `JSON.stringify` text: NaN and ±Infinity are written `null`;
/// a whole number up to 2^53 is written digit for digit and read as an integer. Between 2^53 and
/// 2^64, JavaScript writes the shortest digits that round-trip, padded with zeros, and serde_json
/// reads that integer, which is not the double: the exact path decides those. Anything else is read
/// back as the same double.
fn number(x: f64) -> Option<AttributeValue> {
    if !x.is_finite() {
        return Some(AttributeValue::Null);
    }
    if x.fract() == 0.0 && x.abs() < TWO_POW_64 {
        if x.abs() > TWO_POW_53 {
            return None;
        }
        // Whole and within ±2^53: the cast is exact (and -0 becomes 0, as its text "0" does).
        return Some(AttributeValue::Number(Number::from(x as i64)));
    }
    Number::from_f64(x).map(AttributeValue::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_head(units: usize) -> f64 {
        (STRING + 8 * units) as f64
    }

    fn map_head(entries: usize) -> f64 {
        (MAP + 8 * entries) as f64
    }

    #[test]
    fn reads_a_whole_user() {
        let text = "u1jane@x.orgDEplanproagenested\u{e9}t\u{1f600}";
        let tape = [
            2.0,
            10.0,
            2.0,
            map_head(3),
            4.0,
            text_head(3),
            3.0,
            NUMBER as f64,
            34.0,
            6.0,
            (LIST + 8 * 4) as f64,
            NULL as f64,
            TRUE as f64,
            text_head(1),
            map_head(1),
            1.0,
            text_head(2),
        ];
        let user = user(text, &tape).unwrap();
        let expected = User::from_json_str(
            r#"{"id": "u1", "email": "jane@x.org", "country": "DE", "attributes":
                {"plan": "pro", "age": 34, "nested": [null, true, "é", {"t": "😀"}]}}"#,
        )
        .unwrap();
        assert_eq!(user, expected);
    }

    #[test]
    fn absent_fields_and_an_id_alone() {
        let user = user("u", &[1.0, ABSENT, ABSENT, ABSENT]).unwrap();
        assert_eq!(user, User::new("u"));
    }

    #[test]
    fn numbers_read_as_their_json_text_would() {
        for x in [
            0.0,
            -0.0,
            34.0,
            -7.0,
            0.1,
            -95.24089298036279,
            TWO_POW_53,
            -TWO_POW_53,
            TWO_POW_64,
            1e21,
            1e300,
            f64::MIN_POSITIVE,
            5e-324,
        ] {
            let read = number(x).unwrap();
            let text = serde_json::to_string(&serde_json::Number::from_f64(x).unwrap()).unwrap();
            let via_text: AttributeValue = serde_json::from_str(&text).unwrap();
            assert_eq!(read, via_text, "{x}");
        }
        assert_eq!(number(f64::NAN), Some(AttributeValue::Null));
        assert_eq!(number(f64::NEG_INFINITY), Some(AttributeValue::Null));
        for x in [
            TWO_POW_53 + 2.0,
            -TWO_POW_53 - 2.0,
            2f64.powi(60),
            -(2f64.powi(63)),
        ] {
            assert_eq!(number(x), None, "{x}");
        }
    }

    #[test]
    fn anything_that_does_not_add_up_is_left_to_the_exact_path() {
        let cases: [(&str, &[f64]); 12] = [
            // an empty id
            ("", &[0.0, ABSENT, ABSENT, ABSENT]),
            // a lone surrogate, as wasm-bindgen passes it
            ("u\u{FFFD}", &[2.0, ABSENT, ABSENT, ABSENT]),
            // text or slots left over, or missing
            ("uu", &[1.0, ABSENT, ABSENT, ABSENT]),
            ("u", &[1.0, ABSENT, ABSENT, ABSENT, 0.0]),
            ("u", &[1.0, ABSENT, ABSENT]),
            ("u", &[2.0, ABSENT, ABSENT, ABSENT]),
            // attributes that are not a map
            ("u", &[1.0, ABSENT, ABSENT, TRUE as f64]),
            // a length inside a surrogate pair, and lengths that are not counts
            ("\u{1f600}", &[1.0, ABSENT, ABSENT, ABSENT]),
            ("u", &[0.5, ABSENT, ABSENT, ABSENT]),
            ("u", &[f64::NAN, ABSENT, ABSENT, ABSENT]),
            // an unknown tag, a key given twice
            ("u", &[1.0, ABSENT, ABSENT, 7.0]),
            (
                "uaa",
                &[
                    1.0,
                    ABSENT,
                    ABSENT,
                    map_head(2),
                    1.0,
                    NULL as f64,
                    1.0,
                    NULL as f64,
                ],
            ),
        ];
        for (text, tape) in cases {
            assert_eq!(user(text, tape), None, "{text:?} {tape:?}");
        }
    }

    #[test]
    fn nesting_stops_at_the_bound_without_recursing_further() {
        // Lists in lists, more than MAX_DEPTH deep, then a claim of 2^50 items that is never read.
        let mut tape = vec![1.0, ABSENT, ABSENT, map_head(1), 1.0];
        let list = (LIST + 8) as f64;
        tape.extend(std::iter::repeat_n(list, MAX_DEPTH + 10));
        tape.push(LIST as f64 + 8.0 * 2f64.powi(50));
        assert_eq!(user("ua", &tape), None);
        // Just inside the bound it reads.
        let mut tape = vec![1.0, ABSENT, ABSENT, map_head(1), 1.0];
        tape.extend(std::iter::repeat_n(list, MAX_DEPTH - 3));
        tape.push(NULL as f64);
        assert!(user("ua", &tape).is_some());
    }
}
