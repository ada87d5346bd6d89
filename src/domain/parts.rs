//! Work over many repos or groups, split across the machine's cores: the
//! engine's costly passes over a big history are per repo or per group,
//! and on one core they would leave the others idle.

use std::sync::OnceLock;

/// Below this much weight (about pipelines) in all, a thread costs more
/// than it saves: a dashboard's usual query stays on its own thread.
const MIN_WEIGHT: usize = 100_000;

/// `f` over consecutive parts of `items` of about equal `weight`, the
/// parts side by side, one thread each; the results in order.
pub(crate) fn map_parts<T: Send, R: Send>(
    mut items: Vec<T>,
    weight: impl Fn(&T) -> usize,
    f: impl Fn(Vec<T>) -> R + Sync,
) -> Vec<R> {
    let total: usize = items.iter().map(&weight).sum();
    let n = cores().min(total / MIN_WEIGHT).max(1);
    if n == 1 {
        return vec![f(items)];
    }
    // Cut from the end, so each part is split off without moving the rest.
    let share = total.div_ceil(n);
    let mut parts = Vec::with_capacity(n);
    let mut held = 0;
    for i in (1..items.len()).rev() {
        held += weight(&items[i]);
        if held >= share && parts.len() + 1 < n {
            parts.push(items.split_off(i));
            held = 0;
        }
    }
    parts.push(items);
    parts.reverse();
    let f = &f;
    std::thread::scope(|s| {
        let mut parts = parts.into_iter();
        let first = parts.next().expect("at least one part");
        let others: Vec<_> = parts.map(|p| s.spawn(move || f(p))).collect();
        let mut results = vec![f(first)];
        for other in others {
            match other.join() {
                Ok(r) => results.push(r),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    })
}

/// How many threads work may be split across.
pub(crate) fn cores() -> usize {
    // Asked once: the answer reads cgroup files on Linux.
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_every_item_in_order() {
        for len in [0, 1, 2, 3, 10, 301] {
            let items: Vec<usize> = (0..len).collect();
            let parts = map_parts(items.clone(), |_| MIN_WEIGHT, |p| p);
            assert!(parts.len() <= cores().max(1), "{len}: {}", parts.len());
            assert_eq!(parts.concat(), items);
            assert!(parts.iter().all(|p| !p.is_empty()) || len == 0);
        }
    }

    #[test]
    fn light_work_stays_whole() {
        let parts = map_parts((0..1000).collect::<Vec<u32>>(), |_| 1, |p| p.len());
        assert_eq!(parts, [1000]);
    }
}
