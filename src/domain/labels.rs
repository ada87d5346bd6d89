//! A pipeline's branch and deploy target, interned: a history holds
//! thousands of pipelines on a handful of (branch, target) pairs, so each
//! pipeline holds one pointer to a shared pair instead of two strings.
//!
//! The table is process-wide and holds every pair in use; pairs no
//! pipeline holds any more are swept out whenever it has doubled since the
//! last sweep, so it never grows beyond twice what is in use.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasher;

use foldhash::fast::RandomState;

use super::short_text::same;
use std::sync::{Arc, Mutex, OnceLock};

/// Aligned to a cache line of its own: threads reading a pair every row
/// must not share a line with its reference count, which every row's
/// clone writes (a third of the time `report --input` spent interning).
#[derive(Debug)]
#[repr(align(64))]
struct Pair {
    branch: Box<str>,
    deploy_to: Box<str>,
}

impl Pair {
    fn is(&self, branch: &str, deploy_to: &str) -> bool {
        same(self.branch.as_bytes(), branch.as_bytes())
            && same(self.deploy_to.as_bytes(), deploy_to.as_bytes())
    }
}

/// An interned (branch, deploy target) pair: 8 bytes, cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Labels(Arc<Pair>);

impl Labels {
    pub(crate) fn new(branch: &str, deploy_to: &str) -> Labels {
        RECENT.with(|r| {
            let mut recent = r.borrow_mut();
            let slot = recent.slot(branch, deploy_to);
            if let Some(hit) = recent.slots[slot]
                .as_ref()
                .filter(|l| l.0.is(branch, deploy_to))
            {
                return hit.clone();
            }
            let labels = table()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .intern(branch, deploy_to);
            recent.slots[slot] = Some(labels.clone());
            labels
        })
    }

    pub(crate) fn branch(&self) -> &str {
        &self.0.branch
    }

    /// Which interned pair this is, the same for all its clones: a pass
    /// over many pipelines looks up what it needs of a pair once, not by
    /// hashing its names per pipeline. (A pair swept and interned again is
    /// another, which only costs that pass one more lookup.)
    pub(crate) fn identity(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    pub(crate) fn deploy_to(&self) -> &str {
        &self.0.deploy_to
    }
}

impl Default for Labels {
    fn default() -> Labels {
        Labels::new("", "")
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Labels) -> bool {
        // Interned, so equal pairs share one allocation; the comparison of
        // the strings is only for a pair swept and interned again.
        Arc::ptr_eq(&self.0, &other.0) || other.0.is(&self.0.branch, &self.0.deploy_to)
    }
}

impl Eq for Labels {}

#[derive(Default)]
struct Table {
    /// Hash of the pair → the pairs with that hash.
    buckets: HashMap<u64, Vec<Arc<Pair>>>,
    hasher: RandomState,
    len: usize,
    /// `len` after the last sweep.
    swept: usize,
}

/// Below this many pairs the table is never swept.
const SWEEP_FLOOR: usize = 1024;

impl Table {
    fn intern(&mut self, branch: &str, deploy_to: &str) -> Labels {
        let hash = self.hasher.hash_one((branch, deploy_to));
        if let Some(found) = self
            .buckets
            .get(&hash)
            .and_then(|b| b.iter().find(|p| p.is(branch, deploy_to)))
        {
            return Labels(found.clone());
        }
        if self.len >= 2 * self.swept.max(SWEEP_FLOOR) {
            self.sweep();
        }
        let pair = Arc::new(Pair {
            branch: branch.into(),
            deploy_to: deploy_to.into(),
        });
        self.buckets.entry(hash).or_default().push(pair.clone());
        self.len += 1;
        Labels(pair)
    }

    /// Drops the pairs only the table holds.
    fn sweep(&mut self) {
        self.buckets.retain(|_, bucket| {
            bucket.retain(|p| Arc::strong_count(p) > 1);
            !bucket.is_empty()
        });
        self.len = self.buckets.values().map(Vec::len).sum();
        self.swept = self.len;
    }
}

fn table() -> &'static Mutex<Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE.get_or_init(Mutex::default)
}

/// The pairs this thread interned last, one per slot of a direct-mapped
/// cache: rows of one history mostly repeat a few pairs (a few hundred with
/// feature branches), and a hit here takes no lock. Bounded (8 KiB), so it
/// keeps few pairs from a sweep.
struct Recent {
    slots: [Option<Labels>; RECENT_SLOTS],
    hasher: RandomState,
}

const RECENT_SLOTS: usize = 1024;

impl Recent {
    fn slot(&self, branch: &str, deploy_to: &str) -> usize {
        self.hasher.hash_one((branch, deploy_to)) as usize % RECENT_SLOTS
    }
}

impl Default for Recent {
    fn default() -> Recent {
        Recent {
            slots: std::array::from_fn(|_| None),
            hasher: RandomState::default(),
        }
    }
}

thread_local! {
    static RECENT: RefCell<Recent> = RefCell::default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_pairs_share_one_allocation() {
        let a = Labels::new("main", "production");
        let b = Labels::new("main", "production");
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!((a.branch(), a.deploy_to()), ("main", "production"));
        assert_ne!(a, Labels::new("main", "staging"));
        assert_ne!(Labels::new("ab", ""), Labels::new("a", "b"));
    }

    #[test]
    fn pairs_no_one_holds_are_swept() {
        let mut t = Table::default();
        let kept = t.intern("kept", "");
        for i in 0..10 * SWEEP_FLOOR {
            t.intern(&format!("gone-{i}"), "");
        }
        assert!(t.len <= 2 * SWEEP_FLOOR, "table holds {}", t.len);
        let again = t.intern("kept", "");
        assert!(Arc::ptr_eq(&kept.0, &again.0));
    }
}
