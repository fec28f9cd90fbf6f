//! The prerequisite graph of a set: refused when it has a cycle, before anything is evaluated, so
//! that deciding a flag's prerequisites always ends.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::ValidationError;
use crate::flag::Flag;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Visit {
    New,
    /// On the current path: meeting it again closes a cycle.
    Open,
    Done,
}

/// Refuses the first cycle met walking the flags in key order, prerequisites in their order. The
/// error names the prerequisite that closes it, by the flag's position in the input (`order` maps
/// a number in the set to that position): `flags[3].prerequisites[0].flag: makes a cycle: a → b → a`.
pub(super) fn refuse_cycles(
    sorted: &[&Flag],
    order: &[usize],
    numbers: &BTreeMap<&str, u32>,
) -> Result<(), ValidationError> {
    let edges: Vec<Vec<usize>> = sorted
        .iter()
        .map(|flag| {
            flag.prerequisites()
                .iter()
                .filter_map(|p| numbers.get(p.flag.as_str()).map(|&n| n as usize))
                .collect()
        })
        .collect();
    let mut visit = alloc::vec![Visit::New; sorted.len()];
    for start in 0..sorted.len() {
        if visit[start] != Visit::New {
            continue;
        }
        // An explicit stack of (flag, next edge to follow): a long chain cannot overflow the
        // call stack here.
        let mut stack: Vec<(usize, usize)> = alloc::vec![(start, 0)];
        visit[start] = Visit::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(&target) = edges[node].get(*next) else {
                visit[node] = Visit::Done;
                stack.pop();
                continue;
            };
            let edge = *next;
            *next += 1;
            match visit[target] {
                Visit::Done => {}
                Visit::New => {
                    visit[target] = Visit::Open;
                    stack.push((target, 0));
                }
                Visit::Open => {
                    return Err(cycle_error(sorted, order, &stack, node, edge, target));
                }
            }
        }
    }
    Ok(())
}

fn cycle_error(
    sorted: &[&Flag],
    order: &[usize],
    stack: &[(usize, usize)],
    node: usize,
    edge: usize,
    target: usize,
) -> ValidationError {
    let from = stack.iter().position(|(n, _)| *n == target).unwrap_or(0);
    let mut path = String::new();
    for (n, _) in &stack[from..] {
        path.push_str(sorted[*n].key.as_str());
        path.push_str(" → ");
    }
    path.push_str(sorted[target].key.as_str());
    // The edge's index among the flag's prerequisites that name flags of the set.
    let written = sorted[node]
        .prerequisites()
        .iter()
        .enumerate()
        .filter(|(_, p)| sorted.iter().any(|f| f.key == p.flag))
        .nth(edge)
        .map_or(0, |(i, _)| i);
    ValidationError::new(
        alloc::format!("flags[{}].prerequisites[{written}].flag", order[node]),
        alloc::format!("makes a cycle: {path}"),
    )
}
