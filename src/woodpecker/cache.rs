//! The per-data-source pipeline cache.
//!
//! * One entry per (repo, event filter). The key includes the event filter
//!   because on 3.x servers it is sent server-side (`event=`), which makes a
//!   deploy-only history a small fraction of a repo's pipelines; the rows of
//!   a filtered and an unfiltered entry are different server views and are
//!   not mixed. On 2.x servers the filter is applied on the client only.
//! * Finished pipelines never change, so each is fetched once. A refresh
//!   pages from the newest pipeline down to the newest row already held (or
//!   the oldest unfinished row still worth re-checking), usually one request.
//! * Single flight: queries for one entry are serialised on the entry's
//!   lock; a query whose data was refreshed while it waited is answered
//!   without another request.
//! * Bounded: when the pipelines held exceed `max_pipelines`, least recently
//!   used entries are dropped.
//! * A failed refresh returns the error and leaves the entry as it was (with
//!   its `fetched_at`), so a later call can fall back or retry.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::client::{PageQuery, WoodpeckerClient};
use super::config::CacheConfig;
use super::counters::{bump, AtomicCounters, Counters};
use super::error::Error;
use super::model::Repo;
use super::paging::Window;
use crate::domain::{Event, Pipeline};

/// What one query needs from a repo's history.
pub struct HistoryNeed<'a> {
    /// Start of the query range (Unix seconds). Pipelines are fetched at
    /// least back to the first one created before it.
    pub since: i64,
    /// Only these events (empty = all). Sent server-side on 3.x.
    pub events: &'a [Event],
    /// Says whether the pipelines fetched so far (finished, newest first)
    /// reach back far enough, e.g. each environment's chain crossing `since`
    /// has its previous success. Paging continues while it returns false, at
    /// most `max_lookback_secs` before `since`.
    pub covered: &'a (dyn Fn(&[Pipeline]) -> bool + Send + Sync),
}

impl HistoryNeed<'_> {
    /// A need that is satisfied as soon as `since` is reached.
    pub fn since(since: i64, events: &[Event]) -> HistoryNeed<'_> {
        HistoryNeed {
            since,
            events,
            covered: &|_| true,
        }
    }
}

/// A repo's cached history, as of `fetched_at`.
#[derive(Clone, Debug)]
pub struct RepoHistory {
    pub repo: Repo,
    /// Finished pipelines (`finished > 0`) matching the events, ordered by
    /// `number`, newest first. May reach further back than asked for.
    pub pipelines: Arc<[Pipeline]>,
    /// Paging stopped at `since - max_lookback_secs` while `covered` still
    /// said false: the history before that point was not read.
    pub capped: bool,
    /// The repo's first pipeline is included (nothing older exists).
    pub complete: bool,
    /// Unix seconds of the last successful refresh.
    pub fetched_at: i64,
    /// Why this is older than asked: the refresh failed with a transient
    /// error (server down, timeout, 5xx, 429) and held data was served.
    pub stale: Option<Error>,
}

type Key = (String, Vec<Event>);

struct Slot {
    state: tokio::sync::Mutex<Entry>,
    last_used: AtomicU64,
    size: AtomicUsize,
}

#[derive(Default)]
struct Entry {
    repo: Option<Repo>,
    window: Window,
    snapshot: Option<Arc<[Pipeline]>>,
    refreshed: Option<Instant>,
    fetched_at: i64,
}

struct Inner {
    client: WoodpeckerClient,
    cfg: CacheConfig,
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
    repo_ids: Mutex<HashMap<String, Repo>>,
    repo_list: tokio::sync::Mutex<Option<(Instant, Vec<Repo>)>>,
    permits: Semaphore,
    tick: AtomicU64,
    counters: Arc<AtomicCounters>,
}

/// One per data-source instance. Clones share everything.
#[derive(Clone)]
pub struct PipelineCache {
    inner: Arc<Inner>,
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

fn key_for(repo: &str, events: &[Event]) -> Key {
    let mut ev = events.to_vec();
    ev.sort_unstable();
    ev.dedup();
    (repo.trim().trim_matches('/').to_lowercase(), ev)
}

impl PipelineCache {
    pub fn new(client: WoodpeckerClient, cfg: CacheConfig) -> Self {
        let counters = client.atomic_counters().clone();
        let permits = Semaphore::new(cfg.concurrency.max(1));
        PipelineCache {
            inner: Arc::new(Inner {
                client,
                cfg,
                slots: Mutex::new(HashMap::new()),
                repo_ids: Mutex::new(HashMap::new()),
                repo_list: tokio::sync::Mutex::new(None),
                permits,
                tick: AtomicU64::new(0),
                counters,
            }),
        }
    }

    pub fn client(&self) -> &WoodpeckerClient {
        &self.inner.client
    }

    pub fn config(&self) -> &CacheConfig {
        &self.inner.cfg
    }

    /// Requests, pages, pipelines parsed, cache hits... of this cache and
    /// its client.
    pub fn counters(&self) -> Counters {
        self.inner.counters.snapshot()
    }

    /// Pipelines currently held, across all repos.
    pub fn held_pipelines(&self) -> usize {
        let slots = self.inner.slots.lock().unwrap();
        slots.values().map(|s| s.size.load(Ordering::Relaxed)).sum()
    }

    /// `/api/user/repos`, reused for `repos_ttl`.
    pub async fn repos(&self) -> Result<Vec<Repo>, Error> {
        let mut list = self.inner.repo_list.lock().await;
        if let Some((at, repos)) = list.as_ref() {
            if at.elapsed() < self.inner.cfg.repos_ttl {
                bump(&self.inner.counters.cache_hits, 1);
                return Ok(repos.clone());
            }
        }
        let repos = self.inner.client.user_repos().await?;
        {
            let mut ids = self.inner.repo_ids.lock().unwrap();
            for r in &repos {
                ids.insert(r.full_name.to_lowercase(), r.clone());
            }
        }
        *list = Some((Instant::now(), repos.clone()));
        Ok(repos)
    }

    async fn resolve(&self, name: &str) -> Result<Repo, Error> {
        if let Some(r) = self.inner.repo_ids.lock().unwrap().get(name) {
            return Ok(r.clone());
        }
        let repo = self.inner.client.lookup_repo(name).await?;
        self.inner
            .repo_ids
            .lock()
            .unwrap()
            .insert(name.to_string(), repo.clone());
        Ok(repo)
    }

    fn slot(&self, key: &Key) -> Arc<Slot> {
        let tick = self.inner.tick.fetch_add(1, Ordering::Relaxed) + 1;
        let mut slots = self.inner.slots.lock().unwrap();
        let slot = slots
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(Slot {
                    state: tokio::sync::Mutex::new(Entry::default()),
                    last_used: AtomicU64::new(0),
                    size: AtomicUsize::new(0),
                })
            })
            .clone();
        slot.last_used.store(tick, Ordering::Relaxed);
        slot
    }

    /// Drops least recently used entries (never `keep`) until the total is
    /// within `max_pipelines`.
    fn evict(&self, keep: &Key) {
        let mut slots = self.inner.slots.lock().unwrap();
        let mut total: usize = slots.values().map(|s| s.size.load(Ordering::Relaxed)).sum();
        while total > self.inner.cfg.max_pipelines {
            let victim = slots
                .iter()
                .filter(|(k, _)| *k != keep)
                .min_by_key(|(_, s)| s.last_used.load(Ordering::Relaxed))
                .map(|(k, s)| (k.clone(), s.size.load(Ordering::Relaxed)));
            let Some((k, size)) = victim else { break };
            slots.remove(&k);
            total -= size;
            bump(&self.inner.counters.evictions, 1);
            tracing::debug!(repo = %k.0, pipelines = size, "evicted repo from pipeline cache");
        }
    }

    /// The history of one repo (`owner/name`, case-insensitive), refreshed
    /// and extended as `need` requires.
    pub async fn history(&self, repo: &str, need: &HistoryNeed<'_>) -> Result<RepoHistory, Error> {
        let arrived = Instant::now();
        let key = key_for(repo, need.events);
        let slot = self.slot(&key);
        let mut entry = slot.state.lock().await;
        let cfg = &self.inner.cfg;
        let floor_limit = need.since.saturating_sub(cfg.max_lookback_secs);
        let wants_more = |w: &Window| match w.floor {
            None => true,
            Some(f) => {
                f.created >= need.since
                    || (f.created >= floor_limit && !(need.covered)(&w.pipelines))
            }
        };

        let had_data = !entry.window.is_empty();
        let fresh = entry
            .refreshed
            .is_some_and(|t| t >= arrived || t.elapsed() < cfg.fresh_for);
        if had_data {
            bump(&self.inner.counters.cache_hits, 1);
            if entry.refreshed.is_some_and(|t| t >= arrived) {
                bump(&self.inner.counters.shared_fetches, 1);
            }
        } else {
            bump(&self.inner.counters.cache_misses, 1);
        }

        let mut stale = None;
        let needs_network =
            !fresh || (!entry.window.complete && wants_more(&entry.window)) || entry.repo.is_none();
        if needs_network {
            let _permit = self.inner.permits.acquire().await.expect("never closed");
            let result = self
                .fetch(&mut entry, &key, need.events, fresh, &wants_more)
                .await;
            let size = entry.window.size();
            slot.size.store(size, Ordering::Relaxed);
            if let Err(e) = result {
                // Keep whatever pages did arrive (extend commits page by page).
                entry.snapshot = None;
                // While Woodpecker is down, what is held is still true as of
                // `fetched_at`: serve it and say why it is old.
                if !(had_data && entry.repo.is_some() && e.is_transient()) {
                    return Err(e);
                }
                stale = Some(e);
            }
        }
        self.evict(&key);

        let Entry {
            repo,
            window,
            snapshot,
            fetched_at,
            ..
        } = &mut *entry;
        let pipelines = snapshot
            .get_or_insert_with(|| Arc::from(window.pipelines.as_slice()))
            .clone();
        let capped = !window.complete
            && window.floor.is_some_and(|f| f.created < floor_limit)
            && !(need.covered)(&window.pipelines);
        if capped {
            tracing::debug!(repo = %key.0, since = need.since, "history capped at max lookback");
        }
        Ok(RepoHistory {
            repo: repo.clone().expect("resolved above"),
            pipelines,
            capped,
            complete: window.complete,
            fetched_at: *fetched_at,
            stale,
        })
    }

    async fn fetch(
        &self,
        entry: &mut Entry,
        key: &Key,
        events: &[Event],
        fresh: bool,
        wants_more: &(dyn Fn(&Window) -> bool + Send + Sync),
    ) -> Result<(), Error> {
        let cfg = &self.inner.cfg;
        let repo = match &entry.repo {
            Some(r) => r.clone(),
            None => {
                let r = self.resolve(&key.0).await?;
                entry.repo = Some(r.clone());
                r
            }
        };
        let client = &self.inner.client;
        let fetch = |page: u32, after: Option<i64>| {
            let q = PageQuery {
                page,
                events: events.to_vec(),
                after,
                before: None,
            };
            let repo = repo.clone();
            async move { client.pipelines_page(&repo, &q).await }
        };
        let started_at = now_unix();
        let mut changed = false;
        if !fresh {
            if let Some(plan) = entry.window.plan_refresh(
                started_at,
                cfg.pending_recheck_secs,
                cfg.after_margin_secs,
            ) {
                let before = (entry.window.top, entry.window.pipelines.len());
                entry.window.refresh(plan, events, fetch).await?;
                changed |= before != (entry.window.top, entry.window.pipelines.len());
            }
        }
        let before = entry.window.pipelines.len();
        let res = entry.window.extend(events, fetch, wants_more).await;
        changed |= before != entry.window.pipelines.len();
        if changed {
            entry.snapshot = None;
        }
        res?;
        if !fresh {
            entry.refreshed = Some(Instant::now());
            entry.fetched_at = started_at;
        }
        Ok(())
    }

    /// Histories of several repos, at most `concurrency` at a time, in the
    /// order given. One repo's error does not affect the others.
    pub async fn histories(
        &self,
        repos: &[String],
        need: &HistoryNeed<'_>,
    ) -> Vec<(String, Result<RepoHistory, Error>)> {
        // Owned names keep the future `Send` for async-trait callers
        // (borrowed ones trip rustc's higher-ranked lifetime check).
        let fetches = repos.iter().cloned().map(|r| async move {
            let h = self.history(&r, need).await;
            (r, h)
        });
        futures::stream::iter(fetches)
            .buffered(self.inner.cfg.concurrency.max(1))
            .collect()
            .await
    }
}
