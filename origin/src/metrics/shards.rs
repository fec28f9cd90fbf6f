//! Counters that many threads add to and one scrape reads: each thread adds to a shard of its own
//! (chosen once per thread), so the hot path never shares a written cache line with another thread,
//! and the scrape sums the shards.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Enough for the runtime's worker threads on most machines; more threads share shards, which
/// costs some contention, never a count.
const SHARDS: usize = 16;

/// Counters per cache line; a shard starts on a line of its own.
const PER_LINE: usize = 8;

#[derive(Debug, Default)]
#[repr(align(128))]
struct Line([AtomicU64; PER_LINE]);

/// `len` counters, summed over the threads that add to them. A shard is allocated by the first
/// thread that adds to it: a counter array of 100,000 flags costs its memory once per thread that
/// evaluates, not once per possible shard.
#[derive(Debug)]
pub struct ShardedCounters {
    len: usize,
    shards: [OnceLock<Box<[Line]>>; SHARDS],
}

fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|shard| *shard)
}

impl ShardedCounters {
    pub fn new(len: usize) -> Self {
        Self {
            len,
            shards: Default::default(),
        }
    }

    /// Adds `n` to counter `index`; an index out of range is ignored.
    #[inline]
    pub fn add(&self, index: usize, n: u64) {
        self.shard().add(index, n);
    }

    /// The calling thread's shard, found once for many adds (a request counts a hundred flags:
    /// one thread-local read and one `OnceLock` check for all of them, not one each).
    #[inline]
    pub fn shard(&self) -> Shard<'_> {
        let lines = self.shards[shard_index()].get_or_init(|| {
            (0..self.len.div_ceil(PER_LINE))
                .map(|_| Line::default())
                .collect()
        });
        Shard {
            lines,
            len: self.len,
        }
    }

    /// Counter `index`, summed over the shards.
    pub fn get(&self, index: usize) -> u64 {
        self.shards
            .iter()
            .filter_map(OnceLock::get)
            .filter_map(|lines| lines.get(index / PER_LINE))
            .map(|line| line.0[index % PER_LINE].load(Ordering::Relaxed))
            .sum()
    }

    /// Every counter, summed over the shards.
    pub fn totals(&self) -> Vec<u64> {
        let mut totals = vec![0; self.len];
        for lines in self.shards.iter().filter_map(OnceLock::get) {
            for (total, counter) in totals.iter_mut().zip(lines.iter().flat_map(|line| &line.0)) {
                *total += counter.load(Ordering::Relaxed);
            }
        }
        totals
    }

    /// Every counter, summed over the shards, and set back to zero: what a set being dropped or
    /// scraped hands to a total that outlives it. A count added meanwhile is taken by the next
    /// drain, never lost or taken twice.
    pub fn drain(&self) -> Vec<u64> {
        let mut totals = vec![0; self.len];
        for lines in self.shards.iter().filter_map(OnceLock::get) {
            for (total, counter) in totals.iter_mut().zip(lines.iter().flat_map(|line| &line.0)) {
                *total += counter.swap(0, Ordering::Relaxed);
            }
        }
        totals
    }
}

/// One thread's counters of a [`ShardedCounters`].
#[derive(Clone, Copy, Debug)]
pub struct Shard<'c> {
    lines: &'c [Line],
    len: usize,
}

impl Shard<'_> {
    /// Adds `n` to counter `index`; an index out of range is ignored.
    #[inline]
    pub fn add(self, index: usize, n: u64) {
        if index >= self.len {
            return;
        }
        if let Some(line) = self.lines.get(index / PER_LINE) {
            line.0[index % PER_LINE].fetch_add(n, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn counts_from_many_threads_add_up() {
        let counters = Arc::new(ShardedCounters::new(20));
        let threads: Vec<_> = (0..24)
            .map(|_| {
                let counters = Arc::clone(&counters);
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        counters.add(i % 20, 1);
                    }
                    counters.add(20, 1);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(counters.get(3), 24 * 50);
        assert_eq!(counters.totals(), vec![24 * 50; 20]);
        assert_eq!(counters.drain(), vec![24 * 50; 20]);
        assert_eq!(counters.totals(), vec![0; 20]);
    }
}
