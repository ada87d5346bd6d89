//! Plain counters for logs and tests.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of what a client or cache has done since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Of those, retries after a connect error, 429 or 5xx.
    pub retries: u64,
    /// Pipeline list pages received.
    pub pages: u64,
    /// Pipeline rows parsed from those pages.
    pub pipelines_parsed: u64,
    /// Workflow trees received from the pipeline detail endpoint.
    pub trees: u64,
    /// `history` calls that found the repo already cached, and `repos`
    /// calls answered from the cached list.
    pub cache_hits: u64,
    /// `history` calls that had to start from nothing.
    pub cache_misses: u64,
    /// `history` calls that were answered by a fetch another call made.
    pub shared_fetches: u64,
    /// Refreshes left out because the user feed showed the repo's newest
    /// pipeline unchanged.
    pub refreshes_skipped: u64,
    /// Repo histories filled from the on-disk store.
    pub restored: u64,
    /// Repos evicted to stay under `max_pipelines`.
    pub evictions: u64,
    /// `history` calls answered with the failure of a refresh they waited
    /// on, or of one that failed within the backoff.
    pub shared_failures: u64,
    /// `history` calls that found the cache above `max_pipelines` with
    /// nothing left to evict (every repo held is in use).
    pub over_bound: u64,
    /// Queries whose deadline passed before every repo was refreshed.
    pub deadlines_hit: u64,
}

#[derive(Default, Debug)]
pub(crate) struct AtomicCounters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub pages: AtomicU64,
    pub pipelines_parsed: AtomicU64,
    pub trees: AtomicU64,
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    pub shared_fetches: AtomicU64,
    pub refreshes_skipped: AtomicU64,
    pub restored: AtomicU64,
    pub evictions: AtomicU64,
    pub shared_failures: AtomicU64,
    pub over_bound: AtomicU64,
    pub deadlines_hit: AtomicU64,
}

pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl AtomicCounters {
    pub(crate) fn snapshot(&self) -> Counters {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Counters {
            requests: g(&self.requests),
            retries: g(&self.retries),
            pages: g(&self.pages),
            pipelines_parsed: g(&self.pipelines_parsed),
            trees: g(&self.trees),
            cache_hits: g(&self.cache_hits),
            cache_misses: g(&self.cache_misses),
            shared_fetches: g(&self.shared_fetches),
            refreshes_skipped: g(&self.refreshes_skipped),
            restored: g(&self.restored),
            evictions: g(&self.evictions),
            shared_failures: g(&self.shared_failures),
            over_bound: g(&self.over_bound),
            deadlines_hit: g(&self.deadlines_hit),
        }
    }
}
