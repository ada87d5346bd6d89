//! The cache's side of the stores: an entry filled from the local store,
//! a turn taken through the shared store, and what a refresh read queued
//! to both. Only what changed since a store last took the window is sent.

use std::sync::Arc;

use super::{Entry, Key, PipelineCache};
use crate::domain::Pipeline;
use crate::woodpecker::counters::bump;
use crate::woodpecker::deadline::Deadline;
use crate::woodpecker::model::{FeedMark, Repo};
use crate::woodpecker::paging::{RowMark, Window};
use crate::woodpecker::store::codec::{Row, StoredMeta};
use crate::woodpecker::store::{Adopt, Loaded, Lock};

/// The rows a store holds of a window: every pipeline from `floor` to
/// `top`, as of when `unfinished` were still unfinished.
#[derive(Clone)]
pub(super) struct StoredRange {
    top: u64,
    floor: u64,
    unfinished: Vec<u64>,
}

impl StoredRange {
    fn of(w: &Window) -> Option<StoredRange> {
        Some(StoredRange {
            top: w.top?.number,
            floor: w.floor?.number,
            unfinished: w.unfinished.keys().copied().collect(),
        })
    }

    fn of_meta(m: &StoredMeta) -> Option<StoredRange> {
        Some(StoredRange {
            top: m.top?.0,
            floor: m.floor?.0,
            unfinished: m.unfinished.iter().map(|(n, _)| *n).collect(),
        })
    }

    /// `w` holds every row this range does.
    fn within(&self, w: &Window) -> bool {
        w.top.is_some_and(|t| t.number >= self.top)
            && w.floor.is_some_and(|f| f.number <= self.floor)
    }
}

/// A window's bookkeeping, with the repo, as-of time and feed mark that
/// `owner` gives.
fn meta_of(
    (repo, fetched_at, feed_mark): (&Repo, i64, Option<FeedMark>),
    w: &Window,
) -> StoredMeta {
    StoredMeta {
        repo_id: repo.id,
        full_name: repo.full_name.clone(),
        top: w.top.map(|m| (m.number, m.created)),
        floor: w.floor.map(|m| (m.number, m.created)),
        rows: w.rows as u64,
        complete: w.complete,
        truncated: w.truncated,
        fetched_at,
        feed_mark: feed_mark.map(|m| (m.number, m.status)),
        unfinished: w.unfinished.iter().map(|(n, c)| (*n, *c)).collect(),
        ..StoredMeta::default()
    }
}

/// The rows of `w` a store holding `held` lacks: rows above its top or
/// below its floor, rows unfinished then, and the rows whose tree was just
/// read; each with its tree when one is held.
fn new_rows<'a>(w: &'a Window, held: Option<&StoredRange>, trees: &[u64]) -> Vec<Row<'a>> {
    let row = |p: &'a Pipeline| (p, w.trees.get(&p.number()));
    let Some(held) = held else {
        return w.pipelines.iter().map(row).collect();
    };
    // Newest first: the new rows are a head and a tail.
    let mut rows: Vec<Row> = w
        .pipelines
        .iter()
        .take_while(|p| p.number() > held.top)
        .map(row)
        .collect();
    rows.extend(
        w.pipelines
            .iter()
            .rev()
            .take_while(|p| p.number() < held.floor)
            .map(row),
    );
    let find = |n: &u64| {
        let i = w.pipelines.binary_search_by(|p| n.cmp(&p.number())).ok()?;
        Some(row(&w.pipelines[i]))
    };
    rows.extend(held.unfinished.iter().chain(trees).filter_map(find));
    rows
}

/// Puts a stored window into an entry.
fn fill(
    entry: &mut Entry,
    Loaded {
        meta,
        pipelines,
        trees,
    }: Loaded,
) {
    take_as_of(entry, &meta);
    let mark = |(number, created)| RowMark { number, created };
    entry.repo = Some(Repo {
        id: meta.repo_id,
        full_name: meta.full_name,
    });
    entry.window = Window {
        pipelines: Arc::new(pipelines),
        trees: Arc::new(trees),
        unfinished: meta.unfinished.into_iter().collect(),
        top: meta.top.map(mark),
        floor: meta.floor.map(mark),
        rows: meta.rows as usize,
        complete: meta.complete,
        truncated: meta.truncated,
    };
}

/// A stored window's as-of time and feed mark, which go together.
fn take_as_of(entry: &mut Entry, meta: &StoredMeta) {
    entry.fetched_at = meta.fetched_at;
    entry.feed_mark = meta
        .feed_mark
        .map(|(number, status)| FeedMark { number, status });
}

/// The store's name for an entry's window.
fn store_window(key: &Key) -> String {
    let events: Vec<&str> = key.1.iter().map(|e| e.as_str()).collect();
    format!("{}\0{}", key.0, events.join(","))
}

impl PipelineCache {
    /// Fills an entry from the store, once per slot.
    pub(super) async fn restore(&self, entry: &mut Entry, key: &Key) {
        entry.restored = true;
        let Some(slot) = self.inner.cfg.store.clone() else {
            return;
        };
        let window = store_window(key);
        let loaded = tokio::task::spawn_blocking(move || slot.store.load(slot.namespace, &window))
            .await
            .ok()
            .flatten();
        let Some(loaded) = loaded else {
            return;
        };
        fill(entry, loaded);
        entry.stored = StoredRange::of(&entry.window);
        bump(&self.inner.counters.restored, 1);
    }

    /// Before reading Woodpecker for an entry: takes what another replica
    /// stored when it holds more, then this replica's turn (see
    /// `store::shared`). Returns the lock to hold while reading, and
    /// whether a replica this one waited for refreshed the entry at or
    /// after `arrived_unix` (then it needs no refresh).
    pub(super) async fn take_turn(
        &self,
        entry: &mut Entry,
        key: &Key,
        deadline: Deadline,
        arrived_unix: i64,
    ) -> (Option<Lock>, bool) {
        let Some(slot) = &self.inner.cfg.shared else {
            return (None, false);
        };
        let ours = entry
            .repo
            .as_ref()
            .map(|repo| meta_of((repo, entry.fetched_at, entry.feed_mark), &entry.window));
        let turn = slot
            .store
            .turn(slot.namespace, &store_window(key), ours.as_ref(), deadline)
            .await;
        entry.shared = turn.holds.as_ref().and_then(StoredRange::of_meta);
        match turn.adopt {
            Some(Adopt::Whole(loaded)) => fill(entry, loaded),
            Some(Adopt::Meta(meta)) => take_as_of(entry, &meta),
            None => {}
        }
        (turn.lock, turn.waited && entry.fetched_at >= arrived_unix)
    }

    /// Queues to the store what changed in the entry's window since it was
    /// last stored. Returns whether it did.
    pub(super) fn persist(&self, entry: &mut Entry, key: &Key, trees: &[u64]) -> bool {
        let Entry {
            repo: Some(repo),
            window,
            stored,
            shared,
            fetched_at,
            feed_mark,
            ..
        } = entry
        else {
            return false;
        };
        let owner = (&*repo, *fetched_at, *feed_mark);
        self.persist_window(key, owner, window, (stored, shared), trees)
    }

    /// Queues a window's changes to each store (since what it holds, see
    /// [`new_rows`]), with the bookkeeping `owner` gives (repo, as-of time,
    /// feed mark). Returns whether it did.
    pub(super) fn persist_window(
        &self,
        key: &Key,
        owner: (&Repo, i64, Option<FeedMark>),
        w: &Window,
        (stored, shared): (&mut Option<StoredRange>, &mut Option<StoredRange>),
        trees: &[u64],
    ) -> bool {
        if w.is_empty() {
            return false;
        }
        let (cfg, meta, window) = (&self.inner.cfg, meta_of(owner, w), store_window(key));
        let mut queued = false;
        if let Some(slot) = &cfg.shared {
            // Never over another replica's window that reaches further:
            // its rows would outlive the range its bookkeeping names.
            if shared.as_ref().is_none_or(|held| held.within(w)) {
                let (base, rows) = (shared.as_ref(), new_rows(w, shared.as_ref(), trees));
                let base = base.map(|held| (held.top, held.floor));
                slot.store.save(slot.namespace, &window, base, &meta, &rows);
                *shared = StoredRange::of(w);
                queued = true;
            }
        }
        if let Some(slot) = &cfg.store {
            let rows = new_rows(w, stored.as_ref(), trees);
            // Nothing stored yet: whatever the store holds under this name
            // is from an earlier life of the window and is replaced.
            let replace = stored.is_none();
            slot.store
                .save(slot.namespace, &window, meta, &rows, replace);
            *stored = StoredRange::of(w);
            queued = true;
        }
        queued
    }

    /// Waits (within the deadline) until what was queued to the stores is
    /// written.
    pub(super) async fn flushed(&self, deadline: Deadline) {
        let cfg = &self.inner.cfg;
        let disk = async {
            if let Some(slot) = &cfg.store {
                slot.store.flushed().await;
            }
        };
        let shared = async {
            if let Some(slot) = &cfg.shared {
                slot.store.flushed().await;
            }
        };
        deadline.run(futures::future::join(disk, shared)).await;
    }
}
