//! A set of user ids that answers "is this id in it" with one hash probe, however many ids it holds:
//! a segment's `include` of 10,000 ids costs what one of 10 costs.
//!
//! The probe uses `murmur3_x86_32(id, 0)`, which one evaluation computes once per user and shares
//! between every segment of the set.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::hash::murmur3_x86_32;

/// Open addressing with linear probing, at most half full.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdSet {
    ids: Box<[String]>,
    /// `hash & mask` is where an id's probe starts; a slot holds `index + 1` into `ids`, 0 when empty.
    slots: Box<[u32]>,
    hashes: Box<[u32]>,
    mask: usize,
}

impl IdSet {
    pub(crate) fn new(ids: &[String]) -> Self {
        if ids.is_empty() {
            return Self::default();
        }
        let capacity = (ids.len() * 2).next_power_of_two();
        let mask = capacity - 1;
        let mut slots = alloc::vec![0u32; capacity];
        let hashes: Vec<u32> = ids.iter().map(|id| id_hash(id)).collect();
        for (index, hash) in hashes.iter().enumerate() {
            let mut slot = *hash as usize & mask;
            while slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            // At most 10,000 ids (the segment's limit), so the index fits.
            slots[slot] = u32::try_from(index + 1).unwrap_or(u32::MAX);
        }
        Self {
            ids: ids.into(),
            slots: slots.into(),
            hashes: hashes.into(),
            mask,
        }
    }

    /// Whether `id`, whose [`id_hash`] is `hash`, is in the set.
    pub(crate) fn contains(&self, id: &str, hash: u32) -> bool {
        if self.ids.is_empty() {
            return false;
        }
        let mut slot = hash as usize & self.mask;
        loop {
            let Some(&entry) = self.slots.get(slot) else {
                return false;
            };
            if entry == 0 {
                return false;
            }
            let index = entry as usize - 1;
            if self.hashes.get(index) == Some(&hash)
                && self.ids.get(index).is_some_and(|known| known == id)
            {
                return true;
            }
            slot = (slot + 1) & self.mask;
        }
    }
}

/// The hash an id is stored under.
pub(crate) fn id_hash(id: &str) -> u32 {
    murmur3_x86_32(id.as_bytes(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn finds_exactly_the_ids_it_holds() {
        let ids: Vec<String> = (0..1000).map(|i| format!("user-{i}")).collect();
        let set = IdSet::new(&ids);
        for i in 0..2000 {
            let id = format!("user-{i}");
            assert_eq!(set.contains(&id, id_hash(&id)), i < 1000, "{id}");
        }
        assert!(!IdSet::new(&[]).contains("x", id_hash("x")));
        // The stored hash must agree too: a wrong one finds nothing, even for an id that is there.
        assert!(!set.contains("user-1", id_hash("user-1").wrapping_add(1)));
    }
}
