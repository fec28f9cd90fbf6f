//! MurmurHash3 x86_32, written out so that it runs without std, over two strings without joining them.

use alloc::boxed::Box;

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// `murmur3_x86_32(bytes, seed)`, the reference hash of the rollout.
pub fn murmur3_x86_32(bytes: &[u8], seed: u32) -> u32 {
    Murmur3Prefix::new(bytes, seed).finish(&[])
}

/// The rollout bucket of a user for a flag, 0 to 99:
/// `murmur3_x86_32(utf8(user_id ++ flag_key), 0) % 100`.
pub fn bucket(user_id: &str, flag_key: &str) -> u8 {
    Murmur3Prefix::new(user_id.as_bytes(), 0).bucket(flag_key)
}

/// The state of murmur3 after a prefix, to be finished with any suffix: the hash of `prefix ++ suffix`.
///
/// Every flag's bucket hashes the same user id first, so evaluating many flags for one user hashes the
/// id's whole blocks once and only the rest per flag.
#[derive(Clone, Copy, Debug)]
pub struct Murmur3Prefix {
    state: u32,
    /// The prefix's last `pending_len` bytes that do not fill a 4-byte block yet.
    pending: [u8; 4],
    pending_len: usize,
    /// Length of the prefix in bytes; murmur3 mixes the total length in modulo 2^32.
    len: usize,
}

impl Murmur3Prefix {
    /// Hashes the whole 4-byte blocks of `prefix` and keeps the rest for later.
    pub fn new(prefix: &[u8], seed: u32) -> Self {
        let mut blocks = prefix.chunks_exact(4);
        let mut state = seed;
        for block in &mut blocks {
            state = mix_block(state, block);
        }
        let rest = blocks.remainder();
        let mut pending = [0u8; 4];
        pending[..rest.len()].copy_from_slice(rest);
        Self {
            state,
            pending,
            pending_len: rest.len(),
            len: prefix.len(),
        }
    }

    /// The hash of the prefix followed by `suffix`.
    pub fn finish(&self, suffix: &[u8]) -> u32 {
        let total_len = self.len.wrapping_add(suffix.len());
        let mut state = self.state;
        let mut suffix = suffix;
        let mut tail = self.pending;
        let mut tail_len = self.pending_len;
        if tail_len > 0 {
            let needed = 4 - tail_len;
            if suffix.len() >= needed {
                tail[tail_len..].copy_from_slice(&suffix[..needed]);
                state = mix_block(state, &tail);
                suffix = &suffix[needed..];
                tail_len = 0;
            } else {
                tail[tail_len..tail_len + suffix.len()].copy_from_slice(suffix);
                tail_len += suffix.len();
                suffix = &[];
            }
        }
        let mut blocks = suffix.chunks_exact(4);
        for block in &mut blocks {
            state = mix_block(state, block);
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            tail[..rest.len()].copy_from_slice(rest);
            tail_len = rest.len();
        }
        state = mix_tail(state, &tail[..tail_len]);
        // The reference implementation mixes in the length as a u32, wrapping.
        fmix(state ^ (total_len as u32))
    }

    /// The rollout bucket, 0 to 99, of this prefix (a user id) followed by `flag_key`.
    pub fn bucket(&self, flag_key: &str) -> u8 {
        (self.finish(flag_key.as_bytes()) % 100) as u8
    }
}

/// A suffix (a flag key) made ready, once, to finish any prefix (a user id): its 4-byte blocks are read
/// and scrambled in advance for each of the four offsets at which a prefix can leave it, since
/// scrambling a block does not depend on the state. Finishing is then a few operations a block.
#[derive(Clone, Debug)]
pub(crate) struct PreparedSuffix {
    bytes: Box<[u8]>,
    /// Indexed by the prefix's pending length: the blocks after the `(4 - pending) % 4` bytes that fill
    /// the prefix's last block.
    aligned: [AlignedBlocks; 4],
}

#[derive(Clone, Debug, Default)]
struct AlignedBlocks {
    scrambled: Box<[u32]>,
    /// The scrambled last 1 to 3 bytes, if any.
    tail: Option<u32>,
}

impl PreparedSuffix {
    pub(crate) fn new(suffix: &[u8]) -> Self {
        let aligned = core::array::from_fn(|pending| {
            let skip = (4 - pending) % 4;
            let rest = suffix.get(skip..).unwrap_or_default();
            let mut blocks = rest.chunks_exact(4);
            let scrambled = (&mut blocks)
                .map(|block| scramble(read_block(block)))
                .collect();
            let tail = blocks.remainder();
            AlignedBlocks {
                scrambled,
                tail: (!tail.is_empty()).then(|| scramble(read_tail(tail))),
            }
        });
        Self {
            bytes: suffix.into(),
            aligned,
        }
    }

    /// The hash of `prefix` followed by this suffix; equal to `prefix.finish(suffix)`.
    pub(crate) fn finish(&self, prefix: &Murmur3Prefix) -> u32 {
        let pending = prefix.pending_len;
        let fill = (4 - pending) % 4;
        let (Some(head), Some(aligned)) = (self.bytes.get(..fill), self.aligned.get(pending))
        else {
            // A suffix too short to fill the prefix's last block: rare, and the plain way is exact.
            return prefix.finish(&self.bytes);
        };
        let mut state = prefix.state;
        if pending > 0 {
            let mut block = prefix.pending;
            block[pending..].copy_from_slice(head);
            state = mix_block(state, &block);
        }
        for &k in aligned.scrambled.iter() {
            state = mix_scrambled(state, k);
        }
        if let Some(k) = aligned.tail {
            state ^= k;
        }
        fmix(state ^ (prefix.len.wrapping_add(self.bytes.len()) as u32))
    }
}

#[inline(always)]
fn read_block(block: &[u8]) -> u32 {
    u32::from_le_bytes([block[0], block[1], block[2], block[3]])
}

#[inline(always)]
fn read_tail(tail: &[u8]) -> u32 {
    let mut k = 0u32;
    for (i, byte) in tail.iter().enumerate() {
        k ^= u32::from(*byte) << (8 * i);
    }
    k
}

#[inline(always)]
fn mix_block(state: u32, block: &[u8]) -> u32 {
    mix_scrambled(state, scramble(read_block(block)))
}

#[inline(always)]
fn mix_scrambled(state: u32, scrambled: u32) -> u32 {
    (state ^ scrambled)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

#[inline(always)]
fn mix_tail(state: u32, tail: &[u8]) -> u32 {
    if tail.is_empty() {
        state
    } else {
        state ^ scramble(read_tail(tail))
    }
}

#[inline(always)]
fn scramble(k: u32) -> u32 {
    k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

#[inline(always)]
fn fmix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prepared_suffix_finishes_every_prefix_like_the_plain_way() {
        let text = "user-Zoë-用户-🚀-abcdefghij".as_bytes();
        for suffix_len in 0..=text.len() {
            let prepared = PreparedSuffix::new(&text[..suffix_len]);
            for prefix_len in 0..=text.len() {
                let prefix = Murmur3Prefix::new(&text[..prefix_len], 7);
                assert_eq!(
                    prepared.finish(&prefix),
                    prefix.finish(&text[..suffix_len]),
                    "prefix {prefix_len} suffix {suffix_len}"
                );
            }
        }
    }
}
