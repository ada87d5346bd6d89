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
//!   lock. A query whose data was refreshed while it waited is answered
//!   without another request, and so is one whose refresh failed while it
//!   waited, or within `failure_backoff` after: it shares the failure, so
//!   queries never run a failing refresh one after another.
//! * A cold read of a big repo reads several pages at once (`paging`), with
//!   the permits other fetches are not waiting for.
//! * Deadlines: every request is cut to the query's deadline; a query that
//!   cannot get the entry by then is answered with what was served last.
//! * Bounded: when the pipelines held exceed `max_pipelines`, least recently
//!   used entries are dropped, but never one that a query being answered
//!   needs (it is pinned), so a query over more than the bound does not
//!   evict its own repos and refetch them on every refresh.
//! * A failed refresh returns the error and leaves the entry as it was (with
//!   its `fetched_at`), so a later call can fall back or retry.
//! * One request when nothing changed: before refreshing, the cache reads
//!   the user feed (`/api/user/feed?latest=true`: every repo the token can
//!   push to, with its newest pipeline), once for all repos and shared like
//!   a refresh. A repo whose newest pipeline (number and status) is what it
//!   was when the repo was last refreshed, and that holds no unfinished
//!   pipeline to re-check, is not asked again. The feed shows only each
//!   repo's newest pipeline, so a repo with an older unfinished one, or one
//!   the feed does not list (pull-only repos), is refreshed as before; so is
//!   every repo when the feed cannot be read.
//! * Persistent: with a store (`CacheConfig::store`), an entry is first
//!   filled from what the store holds, and what a query reads is queued to
//!   it and committed before the query is answered. After a restart the
//!   first query costs a warm refresh, not a cold fetch (`persistence`).
//! * Shared between replicas: with a shared store (`CacheConfig::shared`,
//!   Redis), a refresh first takes what another replica stored when it
//!   holds more, and this replica's turn to read Woodpecker
//!   (`store::shared`); what is read goes to both stores. Without an
//!   answer from Redis the cache reads on its own and the query says so.
//! * Workflow trees (for deploy steps) are read from the pipeline detail
//!   endpoint only for the pipelines a query says need one, after a
//!   successful refresh, and kept beside the held pipelines, by number
//!   (most rows need none): finished pipelines never change, so each tree
//!   is read once. A tree that could not be read stays missing and is
//!   asked for again by a later query (after the failure backoff, like a
//!   refresh).

mod persistence;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::client::{PageQuery, WoodpeckerClient};
use super::config::CacheConfig;
use super::counters::{bump, AtomicCounters, Counters};
use super::deadline::{Deadline, RecentFailure};
use super::error::Error;
use super::feed::UserFeed;
use super::model::{FeedMark, Repo};
use super::paging::{PassError, ReadAhead, Window};
use crate::domain::{check_repo_name, Event, Pipeline, Trees};
use persistence::StoredRange;

/// What one query needs from a repo's history.
pub struct HistoryNeed<'a> {
    /// Start of the query range (Unix seconds). Pipelines are fetched at
    /// least back to the first one created before it.
    pub since: i64,
    /// Only these events (empty = all). Sent server-side on 3.x.
    pub events: &'a [Event],
    /// Says whether the pipelines fetched so far (finished, newest first)
    /// reach back far enough, e.g. each environment's chain crossing `since`
    /// has its previous success (judged with the trees held, by number).
    /// Paging continues while it returns false, at most `max_lookback_secs`
    /// before `since`.
    pub covered: &'a (dyn Fn(&[Pipeline], &Trees) -> bool + Send + Sync),
    /// Which finished pipelines need their workflow tree; `None` when none
    /// does (no detail request is sent).
    pub needs_tree: Option<&'a (dyn Fn(&Pipeline) -> bool + Send + Sync)>,
    /// When the query must be answered by.
    pub deadline: Deadline,
}

impl HistoryNeed<'_> {
    /// A need that is satisfied as soon as `since` is reached, with no
    /// deadline.
    pub fn since(since: i64, events: &[Event]) -> HistoryNeed<'_> {
        HistoryNeed {
            since,
            events,
            covered: &|_, _| true,
            needs_tree: None,
            deadline: Deadline::NONE,
        }
    }
}

/// A repo's cached history, as of `fetched_at`.
#[derive(Clone, Debug)]
pub struct RepoHistory {
    pub repo: Repo,
    /// Finished pipelines (`finished > 0`) matching the events, ordered by
    /// `number`, newest first. May reach further back than asked for.
    pub pipelines: Arc<Vec<Pipeline>>,
    /// The workflow trees held for them, by number.
    pub trees: Arc<Trees>,
    /// Paging stopped at `since - max_lookback_secs` while `covered` still
    /// said false: the history before that point was not read.
    pub capped: bool,
    /// The repo's first pipeline is included (nothing older exists).
    pub complete: bool,
    /// Paging stopped at `max_rows_per_repo`: older history is not held.
    pub truncated: bool,
    /// Unix seconds of the last successful refresh.
    pub fetched_at: i64,
    /// Why this is older or shorter than asked: the refresh failed with a
    /// transient error (server down, timeout, 5xx, 429), ran out of the
    /// query's time, or the server stopped paging, and held data was
    /// served.
    pub stale: Option<Error>,
    /// Why some pipelines that need a workflow tree lack it: the last
    /// detail request that failed (or the refresh's failure, which skips
    /// them). They are asked for again by a later query.
    pub tree_error: Option<Error>,
}

/// The histories of a query's repos, and what it learnt about the cache.
#[derive(Debug)]
pub struct Histories {
    /// In the order asked; one repo's error does not affect the others.
    pub repos: Vec<(String, Result<RepoHistory, Error>)>,
    /// The cache held more than `max_pipelines` after answering, because
    /// the repos in use need more: `(held, bound)`.
    pub over_bound: Option<(usize, usize)>,
    /// Why the shared store did not answer while this query was answered
    /// (it was read without it).
    pub shared_trouble: Option<String>,
}

type Key = (String, Vec<Event>);
/// One repo of a `histories` call: its key and pinned slot.
type Job = (Key, Arc<Slot>);

struct Slot {
    state: tokio::sync::Mutex<Entry>,
    last_used: AtomicU64,
    size: AtomicUsize,
    /// Queries being answered that need this entry; it is not evicted
    /// while any does.
    pins: AtomicUsize,
    /// The last history served, for a query whose deadline passes while
    /// another query holds `state`.
    served: Mutex<Option<RepoHistory>>,
}

#[derive(Default)]
struct Entry {
    repo: Option<Repo>,
    window: Window,
    refreshed: Option<Instant>,
    fetched_at: i64,
    failure: RecentFailure,
    /// The last failed read of workflow trees, shared like `failure`.
    tree_failure: RecentFailure,
    /// The repo's newest pipeline in the feed read before the last
    /// refresh: while the feed still shows it, nothing is new.
    feed_mark: Option<FeedMark>,
    /// The store has been asked for this entry.
    restored: bool,
    /// What the store holds of the window.
    stored: Option<StoredRange>,
    /// What the shared store holds of it, as last read or written.
    shared: Option<StoredRange>,
}

#[derive(Default)]
struct RepoList {
    fetched: Option<(Instant, Vec<Repo>)>,
    failure: RecentFailure,
}

struct Inner {
    client: WoodpeckerClient,
    cfg: CacheConfig,
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
    /// By lowercase name. One cell per name, so entries of one repo under
    /// different event filters look it up once between them.
    repo_ids: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Repo>>>>,
    repo_list: tokio::sync::Mutex<RepoList>,
    feed: UserFeed,
    /// `concurrency` requests in flight: a repo fetch holds one for its
    /// requests one after another, each workflow-tree read one, and each
    /// page read ahead one more (`paging::ReadAhead`).
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
    (repo.trim().to_lowercase(), ev)
}

/// Unpins its slots when the query is answered (or dropped).
struct Pins(Vec<Arc<Slot>>);

impl Drop for Pins {
    fn drop(&mut self) {
        for slot in &self.0 {
            slot.pins.fetch_sub(1, Ordering::Relaxed);
        }
    }
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
                repo_list: tokio::sync::Mutex::new(RepoList::default()),
                feed: UserFeed::default(),
                permits,
                tick: AtomicU64::new(0),
                counters,
            }),
        }
    }

    pub fn client(&self) -> &WoodpeckerClient {
        &self.inner.client
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

    /// `/api/user/repos`, reused for `repos_ttl`. Callers that wait on a
    /// read that fails share its failure; while Woodpecker is unreachable
    /// an older list is served.
    pub async fn repos(&self, deadline: Deadline) -> Result<Vec<Repo>, Error> {
        const ENDPOINT: &str = "GET /api/user/repos";
        let arrived = Instant::now();
        let Some(mut list) = deadline.run(self.inner.repo_list.lock()).await else {
            return Err(deadline.exceeded(ENDPOINT));
        };
        if let Some((at, repos)) = &list.fetched {
            if *at >= arrived || at.elapsed() < self.inner.cfg.repos_ttl {
                bump(&self.inner.counters.cache_hits, 1);
                return Ok(repos.clone());
            }
        }
        let result = match list
            .failure
            .shared(arrived, self.inner.client.failure_backoff())
        {
            Some(e) => {
                bump(&self.inner.counters.shared_failures, 1);
                Err(e)
            }
            None => {
                let r = self.inner.client.with_deadline(deadline).user_repos().await;
                list.failure.record(&r);
                r
            }
        };
        let repos = match (result, &list.fetched) {
            (Ok(repos), _) => repos,
            (Err(e), Some((_, old))) if e.is_transient() => return Ok(old.clone()),
            (Err(e), _) => return Err(e),
        };
        {
            let mut ids = self.inner.repo_ids.lock().unwrap();
            for r in &repos {
                let cell = tokio::sync::OnceCell::new_with(Some(r.clone()));
                ids.insert(r.full_name.to_lowercase(), Arc::new(cell));
            }
        }
        list.fetched = Some((Instant::now(), repos.clone()));
        Ok(repos)
    }

    async fn resolve(&self, name: &str, deadline: Deadline) -> Result<Repo, Error> {
        let cell = self
            .inner
            .repo_ids
            .lock()
            .unwrap()
            .entry(name.to_string())
            .or_default()
            .clone();
        let client = self.inner.client.with_deadline(deadline);
        let lookup = cell.get_or_try_init(|| client.lookup_repo(name));
        match deadline.run(lookup).await {
            Some(found) => found.cloned(),
            None => Err(deadline.exceeded(&format!("the lookup of {name}"))),
        }
    }

    /// The slots of `keys`, created if need be, pinned until the guard is
    /// dropped. Creating and pinning under one lock means eviction cannot
    /// drop a slot in between.
    fn pin(&self, keys: &[&Key]) -> Pins {
        let mut slots = self.inner.slots.lock().unwrap();
        Pins(
            keys.iter()
                .map(|key| {
                    let tick = self.inner.tick.fetch_add(1, Ordering::Relaxed) + 1;
                    let slot = slots
                        .entry((*key).clone())
                        .or_insert_with(|| {
                            Arc::new(Slot {
                                state: tokio::sync::Mutex::new(Entry::default()),
                                last_used: AtomicU64::new(0),
                                size: AtomicUsize::new(0),
                                pins: AtomicUsize::new(0),
                                served: Mutex::new(None),
                            })
                        })
                        .clone();
                    slot.last_used.store(tick, Ordering::Relaxed);
                    slot.pins.fetch_add(1, Ordering::Relaxed);
                    slot
                })
                .collect(),
        )
    }

    /// Drops least recently used entries that no query is using until the
    /// total is within `max_pipelines`.
    fn evict(&self) {
        let mut slots = self.inner.slots.lock().unwrap();
        let mut total: usize = slots.values().map(|s| s.size.load(Ordering::Relaxed)).sum();
        while total > self.inner.cfg.max_pipelines {
            let victim = slots
                .iter()
                .filter(|(_, s)| s.pins.load(Ordering::Relaxed) == 0)
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
        check_repo_name(repo.trim())?;
        let key = key_for(repo, need.events);
        let pins = self.pin(&[&key]);
        self.history_of(&key, &pins.0[0], need, Instant::now())
            .await
    }

    /// `asked`: when the query asked for all its repos; a feed read that
    /// finished after that serves every one of them.
    async fn history_of(
        &self,
        key: &Key,
        slot: &Slot,
        need: &HistoryNeed<'_>,
        asked: Instant,
    ) -> Result<RepoHistory, Error> {
        let (arrived, arrived_unix) = (Instant::now(), now_unix());
        let deadline = need.deadline;
        let Some(mut entry) = deadline.run(slot.state.lock()).await else {
            // Another query's refresh of this repo is still running.
            bump(&self.inner.counters.deadlines_hit, 1);
            let e = deadline.exceeded(&format!("the refresh of {}", key.0));
            return match slot.served.lock().unwrap().clone() {
                Some(held) => Ok(RepoHistory {
                    stale: Some(e),
                    ..held
                }),
                None => Err(e),
            };
        };
        if !entry.restored {
            self.restore(&mut entry, key).await;
        }
        let cfg = &self.inner.cfg;
        let floor_limit = need.since.saturating_sub(cfg.max_lookback_secs);
        let wants_more = |w: &Window| match w.floor {
            _ if w.truncated => false,
            None => true,
            Some(f) => {
                f.created >= need.since
                    || (f.created >= floor_limit && !(need.covered)(&w.pipelines, &w.trees))
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
        // Held until what was read is queued to the shared store.
        let mut turn = None;
        if needs_network {
            let backoff = self.inner.client.failure_backoff();
            let result = match entry.failure.shared(arrived, backoff) {
                Some(e) => {
                    bump(&self.inner.counters.shared_failures, 1);
                    Err(e)
                }
                None => {
                    let (lock, elsewhere) = self
                        .take_turn(&mut entry, key, deadline, arrived_unix)
                        .await;
                    turn = lock;
                    let fresh = fresh || elsewhere;
                    let r = match deadline.run(self.inner.permits.acquire()).await {
                        Some(_permit) => {
                            let held = entry.repo.is_some();
                            let mut r = self
                                .fetch(&mut entry, key, need, asked, fresh, &wants_more)
                                .await;
                            if held && matches!(r, Err(Error::RepoNotFound { .. })) {
                                // Deleted, or re-created under a new id (held
                                // ids outlive restarts): forget what is held
                                // and look the name up again.
                                self.forget(&mut entry, key);
                                r = self
                                    .fetch(&mut entry, key, need, asked, false, &wants_more)
                                    .await;
                            }
                            r
                        }
                        None => Err(deadline.exceeded(&format!("a turn to read {}", key.0))),
                    };
                    entry.failure.record(&r);
                    r
                }
            };
            slot.size.store(entry.window.size(), Ordering::Relaxed);
            if let Err(e) = result {
                if matches!(e, Error::Deadline { .. }) {
                    bump(&self.inner.counters.deadlines_hit, 1);
                }
                // Whatever pages did arrive are kept (extend commits page by
                // page).
                // While Woodpecker is down, what is held is still true as of
                // `fetched_at`: serve it and say why it is old. A server that
                // stops paging gives all it will ever give.
                let serve = entry.repo.is_some()
                    && !entry.window.is_empty()
                    && (matches!(e, Error::Paging { .. }) || (had_data && e.is_transient()));
                if !serve {
                    return Err(e);
                }
                stale = Some(e);
            }
        }
        let mut trees = Vec::new();
        let tree_error = self
            .fetch_trees(&mut entry, need, arrived, stale.as_ref(), &mut trees)
            .await;
        let queued = (needs_network || !trees.is_empty()) && self.persist(&mut entry, key, &trees);
        // Released behind the writes, so a replica that waited reads them.
        let released = turn.take().is_some();
        if queued || released {
            self.flushed(deadline).await;
        }
        self.evict();

        let Entry {
            repo,
            window,
            fetched_at,
            ..
        } = &mut *entry;
        window.fit();
        let (pipelines, trees) = (window.pipelines.clone(), window.trees.clone());
        let capped = !window.complete
            && !window.truncated
            && window.floor.is_some_and(|f| f.created < floor_limit)
            && !(need.covered)(&pipelines, &trees);
        if capped {
            tracing::debug!(repo = %key.0, since = need.since, "history capped at max lookback");
        }
        let history = RepoHistory {
            repo: repo.clone().expect("resolved above"),
            pipelines,
            trees,
            capped,
            complete: window.complete,
            truncated: window.truncated,
            fetched_at: *fetched_at,
            stale,
            tree_error,
        };
        *slot.served.lock().unwrap() = Some(RepoHistory {
            stale: None,
            ..history.clone()
        });
        Ok(history)
    }

    /// Reads the workflow trees `need` asks for that the entry lacks, each
    /// request within the cache's concurrency permits and cut to the
    /// deadline, and keeps them beside the held pipelines. Returns why some
    /// are still missing. After a failed refresh none are asked for: the
    /// server is struggling, and that failure is the reason.
    async fn fetch_trees(
        &self,
        entry: &mut Entry,
        need: &HistoryNeed<'_>,
        arrived: Instant,
        refresh_failure: Option<&Error>,
        fetched: &mut Vec<u64>,
    ) -> Option<Error> {
        let needs_tree = need.needs_tree?;
        let window = &entry.window;
        let wanted: Vec<u64> = window
            .pipelines
            .iter()
            .filter(|p| needs_tree(p) && !window.trees.contains_key(&p.number()))
            .map(|p| p.number())
            .collect();
        if wanted.is_empty() {
            return None;
        }
        if let Some(e) = refresh_failure {
            return Some(e.clone());
        }
        let repo = entry.repo.clone()?;
        if let Some(e) = entry
            .tree_failure
            .shared(arrived, self.inner.client.failure_backoff())
        {
            bump(&self.inner.counters.shared_failures, 1);
            return Some(e);
        }
        let (deadline, client) = (
            need.deadline,
            self.inner.client.with_deadline(need.deadline),
        );
        let reads = wanted.into_iter().map(|number| {
            let (client, repo) = (&client, &repo);
            async move {
                let tree = match deadline.run(self.inner.permits.acquire()).await {
                    Some(_permit) => client.workflow_tree(repo, number).await,
                    None => Err(deadline.exceeded(&format!(
                        "a turn to read the workflow trees of {}",
                        repo.full_name
                    ))),
                };
                (number, tree)
            }
        });
        let trees: Vec<(u64, Result<_, Error>)> = futures::stream::iter(reads)
            .buffer_unordered(self.inner.cfg.concurrency.max(1))
            .collect()
            .await;
        let mut failure = None;
        for (number, tree) in trees {
            match tree {
                Ok(t) => {
                    Arc::make_mut(&mut entry.window.trees).insert(number, t);
                    fetched.push(number);
                }
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        let outcome = failure.map_or(Ok(()), Err);
        entry.tree_failure.record(&outcome);
        if matches!(outcome, Err(Error::Deadline { .. })) {
            bump(&self.inner.counters.deadlines_hit, 1);
        }
        outcome.err()
    }

    /// Drops what is held of an entry's repo, in memory and (with the next
    /// write, which replaces the stored window) on disk.
    fn forget(&self, entry: &mut Entry, key: &Key) {
        tracing::info!(repo = %key.0, "repo not found under its held id; reading it afresh");
        *entry = Entry {
            restored: true,
            ..Entry::default()
        };
        self.inner.repo_ids.lock().unwrap().remove(&key.0);
    }

    async fn fetch(
        &self,
        entry: &mut Entry,
        key: &Key,
        need: &HistoryNeed<'_>,
        asked: Instant,
        fresh: bool,
        wants_more: &(dyn Fn(&Window) -> bool + Send + Sync),
    ) -> Result<(), Error> {
        let cfg = &self.inner.cfg;
        let events = need.events;
        let repo = match &entry.repo {
            Some(r) => r.clone(),
            None => {
                let r = self.resolve(&key.0, need.deadline).await?;
                entry.repo = Some(r.clone());
                r
            }
        };
        let client = self.inner.client.with_deadline(need.deadline);
        let fetch = |page: u32, after: Option<i64>| {
            let q = PageQuery {
                page,
                events: events.to_vec(),
                after,
                before: None,
            };
            let (client, repo) = (client.clone(), repo.clone());
            async move { client.pipelines_page(&repo, &q).await }
        };
        let stuck = |detail: String| Error::Paging {
            repo: repo.full_name.clone(),
            detail,
        };
        let started_at = now_unix();
        // Read before the refresh, so the mark kept with the window is never
        // newer than what the window holds.
        let feed = match !fresh && cfg.use_feed {
            true => {
                let client = &self.inner.client;
                let feed = &self.inner.feed;
                feed.read(client, asked, cfg.fresh_for, need.deadline).await
            }
            false => None,
        };
        let mark = feed.as_ref().and_then(|f| f.marks.get(&repo.id).copied());
        let unchanged = mark.is_some()
            && mark == entry.feed_mark
            && entry.window.unfinished.is_empty()
            && !entry.window.is_empty();
        let mut as_of = started_at;
        let mut refreshed = fresh;
        let mut outcome = Ok(());
        if !fresh && unchanged {
            bump(&self.inner.counters.refreshes_skipped, 1);
            refreshed = true;
            as_of = feed.map_or(started_at, |f| f.sent_unix);
        } else if !fresh {
            if let Some(plan) = entry.window.plan_refresh(
                started_at,
                cfg.pending_recheck_secs,
                cfg.after_margin_secs,
            ) {
                match entry
                    .window
                    .refresh(plan, events, cfg.max_rows_per_repo, fetch)
                    .await
                {
                    Ok(_) => refreshed = true,
                    Err(PassError::Fetch(e)) => return Err(e),
                    Err(PassError::Stuck(detail)) => outcome = Err(stuck(detail)),
                }
            } else {
                refreshed = true;
            }
        }
        if outcome.is_ok() {
            // The permit `history_of` holds carries one request; pages read
            // ahead take the permits nothing is waiting for.
            let ahead = ReadAhead {
                depth: cfg.read_ahead,
                spare: || self.inner.permits.try_acquire().ok(),
            };
            // Each page read is stored as it lands, so a restart or a crash
            // mid-read keeps the pages before it. Its as-of time is this
            // read's start and its feed mark unknown: the next refresh asks.
            let owner = (&repo, entry.fetched_at.max(started_at), None);
            let (mut stored, mut shared) = (entry.stored.take(), entry.shared.take());
            let mut stored_rows = entry.window.rows;
            let need_and_store = |w: &Window| {
                if w.rows != stored_rows {
                    stored_rows = w.rows;
                    self.persist_window(key, owner, w, (&mut stored, &mut shared), &[]);
                }
                wants_more(w)
            };
            let res = entry
                .window
                .extend(events, cfg.max_rows_per_repo, ahead, fetch, need_and_store)
                .await;
            (entry.stored, entry.shared) = (stored, shared);
            match res {
                Ok(_) => {}
                Err(PassError::Fetch(e)) => outcome = Err(e),
                // What was read is a true, contiguous, newest part of the
                // history: keep it as refreshed.
                Err(PassError::Stuck(detail)) => outcome = Err(stuck(detail)),
            }
        }
        let stuck_only = matches!(outcome, Err(Error::Paging { .. }));
        if !fresh && refreshed && (outcome.is_ok() || stuck_only) {
            entry.refreshed = Some(Instant::now());
            entry.fetched_at = entry.fetched_at.max(as_of);
            entry.feed_mark = mark;
        }
        outcome
    }

    /// Histories of several repos, at most `concurrency` at a time, in the
    /// order given. One repo's error does not affect the others. Every
    /// repo asked for stays held until all are answered.
    pub async fn histories(&self, repos: &[String], need: &HistoryNeed<'_>) -> Histories {
        let keys: Vec<Result<Key, Error>> = repos
            .iter()
            .map(|r| {
                check_repo_name(r.trim())?;
                Ok(key_for(r, need.events))
            })
            .collect();
        let valid: Vec<&Key> = keys.iter().filter_map(|k| k.as_ref().ok()).collect();
        let asked = Instant::now();
        let pins = self.pin(&valid);
        // Owned keys and slots keep the future `Send` for async-trait
        // callers (borrowed ones trip rustc's higher-ranked lifetime check).
        let mut slots = pins.0.iter().cloned();
        let jobs: Vec<(String, Result<Job, Error>)> = repos
            .iter()
            .zip(keys)
            .map(|(name, key)| {
                let job = key.map(|k| (k, slots.next().expect("one slot per valid key")));
                (name.clone(), job)
            })
            .collect();
        let fetches = jobs.into_iter().map(|(name, job)| async move {
            let h = match job {
                Ok((key, slot)) => self.history_of(&key, &slot, need, asked).await,
                Err(e) => Err(e),
            };
            (name, h)
        });
        let answered = futures::stream::iter(fetches)
            .buffered(self.inner.cfg.concurrency.max(1))
            .collect()
            .await;
        let held = self.held_pipelines();
        let bound = self.inner.cfg.max_pipelines;
        let over_bound = (held > bound).then(|| {
            bump(&self.inner.counters.over_bound, 1);
            tracing::info!(
                held,
                bound,
                "pipeline cache above its bound: every repo held is in use"
            );
            (held, bound)
        });
        drop(pins);
        let shared_trouble = (self.inner.cfg.shared.as_ref()).and_then(|s| s.store.trouble(asked));
        Histories {
            repos: answered,
            over_bound,
            shared_trouble,
        }
    }
}
