//! `compile_snapshot FILE [ITERATIONS]`: what an edge isolate does with a snapshot it fetched
//! (edge-worker/src/snapshot.rs: parse the body, compile the flags with their segments), timed
//! natively on the same bytes that tests/edge/cpu.mjs times inside workerd, so that the two can be
//! compared. Prints the median of ITERATIONS (default 50) of the parse, the compile and the two.

use std::time::{Duration, Instant};

use evaluator::{CompiledFlagSet, Snapshot};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: compile_snapshot FILE [ITERATIONS]")?;
    let iterations: usize = args.next().map_or(Ok(50), |n| n.parse())?;
    let body = std::fs::read(&path)?;
    let (mut parse, mut compile, mut both) = (Vec::new(), Vec::new(), Vec::new());
    let mut flags = 0;
    // One more than asked: the first round warms the allocator and the caches and is not counted.
    for round in 0..=iterations {
        let start = Instant::now();
        let snapshot: Snapshot = serde_json::from_slice(&body)?;
        let parsed = Instant::now();
        let set = CompiledFlagSet::with_segments(&snapshot.flags, &snapshot.segments)?;
        let compiled = Instant::now();
        flags = set.len();
        // Dropped inside the timing: an install replaces (and frees) the previous set.
        drop((set, snapshot));
        let done = Instant::now();
        if round > 0 {
            parse.push(parsed - start);
            compile.push(compiled - parsed);
            both.push(done - start);
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{flags} flags, {} B: parse {:.2} ms, compile {:.2} ms, parse + compile + drop {:.2} ms (medians of {iterations})",
        body.len(),
        ms(median(parse)),
        ms(median(compile)),
        ms(median(both)),
    );
    Ok(())
}
