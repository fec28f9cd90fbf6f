//! The evaluator's own murmur3 against the `murmur3` crate, the reference.

use std::io::Cursor;

use evaluator::{bucket, murmur3_x86_32, Murmur3Prefix};
use proptest::prelude::*;

fn reference(bytes: &[u8], seed: u32) -> u32 {
    murmur3::murmur3_32(&mut Cursor::new(bytes), seed).unwrap()
}

#[test]
fn the_contracts_known_values() {
    assert_eq!(murmur3_x86_32(b"hello", 0), 613_153_351);
    assert_eq!(
        murmur3_x86_32(b"The quick brown fox jumps over the lazy dog", 0),
        776_992_547
    );
    assert_eq!(bucket("user-123", "new_checkout_flow"), 56);
}

#[test]
fn every_tail_length_and_split_point_matches_the_reference() {
    let text = "abcdefghijklmnopqrstuvwxyz-Zoë-用户-🚀";
    let bytes = text.as_bytes();
    for len in 0..=bytes.len() {
        let whole = &bytes[..len];
        let expected = reference(whole, 0);
        assert_eq!(murmur3_x86_32(whole, 0), expected, "len {len}");
        for split in 0..=len {
            let (prefix, suffix) = whole.split_at(split);
            assert_eq!(
                Murmur3Prefix::new(prefix, 0).finish(suffix),
                expected,
                "len {len} split {split}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_and_seeds_match_the_reference(bytes in proptest::collection::vec(any::<u8>(), 0..200), seed in any::<u32>()) {
        prop_assert_eq!(murmur3_x86_32(&bytes, seed), reference(&bytes, seed));
    }

    #[test]
    fn bucket_hashes_the_joined_strings(id in "\\PC{0,40}", key in "[A-Za-z0-9_.-]{1,128}") {
        let joined = format!("{id}{key}");
        prop_assert_eq!(u32::from(bucket(&id, &key)), reference(joined.as_bytes(), 0) % 100);
    }
}
