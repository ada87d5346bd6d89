//! The per-repo window of pipelines the cache holds, and the two ways it
//! grows: `refresh` (newer pipelines, and re-checks of unfinished ones) and
//! `extend` (older pipelines).
//!
//! The window is always a contiguous run of the server's newest-first list,
//! from `top` (newest row seen) down to `floor` (oldest row seen), in the
//! server's view for the entry's filter. Offset paging shifts when new
//! pipelines arrive between pages; rows are therefore recognised by their
//! per-repo `number`: a row newer than `top` is new, a row older than
//! `floor` extends the window, anything in between is already known (and is
//! skipped unless it was unfinished). So nothing is counted twice, and a
//! shift can only repeat rows, never skip them. Deletions could make a page
//! start past the floor; `extend` checks that its first page overlaps the
//! window and steps back a page when it does not.
//!
//! A server that does not page (a proxy that drops `?page=`, a server whose
//! history never ends) must not cost a request per page forever: a full
//! page that adds nothing is reported as [`PassError::Stuck`], and a window
//! stops growing at `max_rows` (it is then `truncated`).
//!
//! `extend` reads ahead: a cold read of a big repo sends several pages at
//! once, in rounds (every request of a round is sent together; the next
//! round waits for all of them). Rounds start at one page and widen as
//! pages show that history goes on, up to [`ReadAhead::depth`] and to the
//! request slots free. Pages are applied strictly in page order; pages read
//! past the end of history, or past what `need` asks for, are dropped: at
//! most a round of them (two, when pages wait for the check below). A pass
//! resumed below page 1 knows no newest pipeline yet, so its first held
//! pages are read twice.
//!
//! Pages sent together may be served in any order, and a pipeline created
//! between two of them served out of order shifts the later page down past
//! rows nobody read. So a page read alongside the one before it is applied
//! at once only when it touches it (its first row's number is at least the
//! floor's minus one, which leaves no room for a row between). Otherwise it
//! is held for the next round, which also reads page 1: if the newest
//! pipeline is still the one seen before the held page's round was sent,
//! nothing arrived while it was read, and it is applied; if not, it is read
//! again. A round's first page is always safe: it was sent after every page
//! before it had been served, so a shift can only repeat rows. Unfiltered
//! histories touch page after page; filtered ones (3.x `event=`) cost one
//! page-1 read per round.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use super::client::{PipelinePage, PER_PAGE};
use super::error::Error;
use crate::domain::{Event, Pipeline, Trees};

/// Why a paging pass stopped early.
#[derive(Debug)]
pub(crate) enum PassError {
    /// A request failed.
    Fetch(Error),
    /// The server's pages make no progress; what it does, in words.
    Stuck(String),
}

impl From<Error> for PassError {
    fn from(e: Error) -> Self {
        PassError::Fetch(e)
    }
}

/// How far [`Window::extend`] may read ahead. The caller's own request slot
/// carries one request of a round; every other holds a `spare` slot until
/// the round ends, so the caller bounds the requests in flight (the cache
/// takes permits with `try_acquire`: read-ahead uses only capacity nothing
/// else is waiting for).
pub(crate) struct ReadAhead<S> {
    /// Most pages in one round; 1 reads one page at a time.
    pub depth: usize,
    /// One more request slot, or `None` when none is free.
    pub spare: S,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RowMark {
    pub number: u64,
    pub created: i64,
}

impl RowMark {
    fn of(p: &Pipeline) -> RowMark {
        RowMark {
            number: p.number(),
            created: p.created(),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Window {
    /// Finished pipelines that match the entry's events, newest first.
    /// Shared with the histories served from it: a change copies them only
    /// while a query still holds the old ones.
    pub pipelines: Arc<Vec<Pipeline>>,
    /// The workflow trees read for some of `pipelines`, by number; shared
    /// like them. Rows are never dropped from a window (it is replaced
    /// whole), so every tree has its row.
    pub trees: Arc<Trees>,
    /// Unfinished matching pipelines to re-check: number → created.
    pub unfinished: BTreeMap<u64, i64>,
    pub top: Option<RowMark>,
    pub floor: Option<RowMark>,
    /// Distinct server rows (any event, any status) from `top` to `floor`.
    pub rows: usize,
    /// The oldest pipeline of the repo has been seen.
    pub complete: bool,
    /// Paging stopped at the row bound before the oldest pipeline.
    pub truncated: bool,
}

/// What a refresh pass needs to know.
pub(crate) struct RefreshPlan {
    /// Refresh down to this number (inclusive).
    pub stop: RowMark,
    /// `after=` hint (the client sends it only to 2.5+ servers).
    pub after: Option<i64>,
}

pub(crate) fn matches(events: &[Event], p: &Pipeline) -> bool {
    events.is_empty() || events.contains(&p.event())
}

impl Window {
    pub fn is_empty(&self) -> bool {
        self.top.is_none()
    }

    pub fn size(&self) -> usize {
        self.pipelines.len() + self.unfinished.len()
    }

    /// Gives back the room the rows' vector grew into (pushes double its
    /// capacity, and a refresh of shared rows copies then extends them).
    /// Called when a refresh is done, before the rows are handed out:
    /// once shared they cannot shrink without a copy.
    pub fn fit(&mut self) {
        if let Some(rows) = Arc::get_mut(&mut self.pipelines) {
            rows.shrink_to_fit();
        }
        if let Some(trees) = Arc::get_mut(&mut self.trees) {
            trees.shrink_to_fit();
        }
    }

    /// Plans a refresh: everything newer than `top`, plus the unfinished
    /// pipelines created after `now - pending_recheck_secs` (older ones are
    /// forgotten). `None` when the window is empty (a cold fetch is an
    /// `extend`).
    pub(crate) fn plan_refresh(
        &mut self,
        now: i64,
        pending_recheck_secs: i64,
        after_margin_secs: i64,
    ) -> Option<RefreshPlan> {
        let top = self.top?;
        self.unfinished
            .retain(|_, created| *created >= now.saturating_sub(pending_recheck_secs));
        let stop = match self.unfinished.iter().next() {
            Some((&number, &created)) if number < top.number => RowMark { number, created },
            _ => top,
        };
        // `after` is exclusive: keep the stop row itself in view.
        let after = (stop.created > 0).then(|| stop.created - after_margin_secs - 1);
        Some(RefreshPlan { stop, after })
    }

    /// Pages from the newest pipeline down to `plan.stop`. The window is
    /// changed only when the whole pass succeeds. Returns pages fetched.
    pub async fn refresh<F, Fut>(
        &mut self,
        plan: RefreshPlan,
        events: &[Event],
        max_rows: usize,
        mut fetch: F,
    ) -> Result<u32, PassError>
    where
        F: FnMut(u32, Option<i64>) -> Fut,
        Fut: Future<Output = Result<PipelinePage, Error>>,
    {
        let Some(old_top) = self.top else {
            return Ok(0);
        };
        let mut seen_new: HashSet<u64> = HashSet::new();
        let mut new_top = old_top;
        let mut finished_now: Vec<Pipeline> = Vec::new();
        let mut still_unfinished: BTreeMap<u64, i64> = BTreeMap::new();
        let mut rechecked: HashSet<u64> = HashSet::new();
        let mut page_no = 1u32;
        let mut lowest = u64::MAX;
        loop {
            let page = fetch(page_no, plan.after).await?;
            let full = page.rows >= PER_PAGE;
            // Progress: the page reaches further down than any before it.
            let page_low = page.pipelines.last().map_or(u64::MAX, |p| p.number());
            let progressed = page_low < lowest;
            lowest = lowest.min(page_low);
            let mut reached_stop = false;
            for p in page.pipelines {
                if p.number() <= plan.stop.number {
                    reached_stop = true;
                }
                let is_new = p.number() > old_top.number;
                if is_new {
                    if !seen_new.insert(p.number()) {
                        continue; // shifted page: seen on the previous page
                    }
                    if p.number() > new_top.number {
                        new_top = RowMark::of(&p);
                    }
                } else if !self.unfinished.contains_key(&p.number())
                    || !rechecked.insert(p.number())
                {
                    continue; // known and final
                }
                if !matches(events, &p) {
                    continue;
                }
                if p.is_finished() {
                    finished_now.push(p);
                } else {
                    still_unfinished.insert(p.number(), p.created());
                }
            }
            if reached_stop || !full {
                break;
            }
            if !progressed {
                return Err(PassError::Stuck(format!(
                    "page {page_no} repeated pipelines already read instead of older ones, as if the page parameter were ignored"
                )));
            }
            if self.rows + seen_new.len() > max_rows {
                return Err(PassError::Stuck(format!(
                    "a refresh kept finding new pipelines past {max_rows}, the most one repo may hold"
                )));
            }
            page_no += 1;
        }
        // Commit. Unfinished rows not seen again were deleted; forget them.
        self.rows += seen_new.len();
        self.top = Some(new_top);
        self.unfinished = still_unfinished;
        if !finished_now.is_empty() {
            let pipelines = Arc::make_mut(&mut self.pipelines);
            pipelines.extend(finished_now);
            pipelines.sort_unstable_by_key(|p| std::cmp::Reverse(p.number()));
            pipelines.dedup_by_key(|p| p.number());
        }
        Ok(page_no)
    }

    /// Pages older pipelines while `need(self)` says so, history is not
    /// exhausted and the window holds fewer than `max_rows` rows, reading
    /// ahead as the module docs say. Pages are applied in page order and
    /// each leaves the window contiguous, so a failure half-way loses
    /// nothing applied. Returns requests sent.
    pub async fn extend<F, Fut, N, S, T>(
        &mut self,
        events: &[Event],
        max_rows: usize,
        mut ahead: ReadAhead<S>,
        fetch: F,
        mut need: N,
    ) -> Result<u32, PassError>
    where
        F: Fn(u32, Option<i64>) -> Fut,
        Fut: Future<Output = Result<PipelinePage, Error>>,
        N: FnMut(&Window) -> bool,
        S: FnMut() -> Option<T>,
    {
        let mut fetched = 0u32;
        // The page holding our floor row (index rows-1), so that the first
        // page overlaps the window and a skip would be visible.
        let mut next = if self.rows == 0 {
            1
        } else {
            ((self.rows - 1) / PER_PAGE) as u32 + 1
        };
        // The newest row a page 1 showed, and the pages of this pass that
        // added rows.
        let (mut seen_top, mut proven) = (None, 0usize);
        if let Some(floor) = self.floor {
            // A resumed pass reads the floor's page alone; it may add
            // nothing, but must overlap.
            loop {
                if !self.wants(max_rows, &mut need) {
                    return Ok(fetched);
                }
                let page = fetch(next, None).await?;
                fetched += 1;
                if next > 1
                    && page
                        .pipelines
                        .first()
                        .is_none_or(|p| p.number() < floor.number)
                {
                    // Rows were deleted above us: step back until we overlap.
                    next -= 1;
                    continue;
                }
                if next == 1 {
                    seen_top = top_of(&page);
                }
                let rows_before = self.rows;
                if !self.apply(page, next, events, true)? {
                    return Ok(fetched);
                }
                proven += usize::from(self.rows > rows_before);
                next += 1;
                break;
            }
        }
        // Pages read from `next` on that are not yet known to touch the
        // page before them, and the top seen before their round was sent.
        let mut held: Vec<PipelinePage> = Vec::new();
        let mut held_top = None;
        loop {
            if !self.wants(max_rows, &mut need) {
                return Ok(fetched);
            }
            let check = !held.is_empty();
            let from = next + held.len() as u32;
            let wanted = if held.last().is_some_and(|p| p.rows < PER_PAGE) {
                0 // the held pages reach the end of history
            } else {
                self.round_pages(next, from, ahead.depth, proven, max_rows)
            };
            let requests = wanted + usize::from(check);
            let mut slots = Vec::new();
            while slots.len() + 1 < requests {
                match (ahead.spare)() {
                    Some(slot) => slots.push(slot),
                    None => break,
                }
            }
            let pages_n = (slots.len() + 1).min(requests) - usize::from(check);
            let round = futures::future::join_all((from..).take(pages_n).map(|p| fetch(p, None)));
            let probe = async {
                match check {
                    true => Some(fetch(1, None).await),
                    false => None,
                }
            };
            let (pages, probe) = futures::future::join(round, probe).await;
            drop(slots);
            fetched += (pages_n + usize::from(check)) as u32;
            let round_top = seen_top;
            if let Some(probe) = probe {
                seen_top = top_of(&probe?);
                if seen_top.is_none() || seen_top != held_top {
                    // Pipelines may have arrived while the held pages were
                    // read: read them again, and this round's after them.
                    held.clear();
                    continue;
                }
                for page in held.drain(..) {
                    if !self.wants(max_rows, &mut need) {
                        return Ok(fetched);
                    }
                    let rows_before = self.rows;
                    if !self.apply(page, next, events, false)? {
                        return Ok(fetched);
                    }
                    proven += usize::from(self.rows > rows_before);
                    next += 1;
                }
            }
            for (i, page) in pages.into_iter().enumerate() {
                let page = page?;
                // The round's first page was sent after every page before it
                // was served: a shift can only make it repeat rows.
                if held.is_empty() && (i == 0 || self.touches(&page)) {
                    if !self.wants(max_rows, &mut need) {
                        return Ok(fetched);
                    }
                    if next == 1 {
                        seen_top = top_of(&page);
                    }
                    let rows_before = self.rows;
                    if !self.apply(page, next, events, false)? {
                        return Ok(fetched);
                    }
                    proven += usize::from(self.rows > rows_before);
                    next += 1;
                } else if held.last().is_none_or(|p| p.rows >= PER_PAGE) {
                    held.push(page);
                }
            }
            held_top = round_top;
        }
    }

    /// Whether a pass should read on; marks the window `truncated` when it
    /// stops at the row bound.
    fn wants<N: FnMut(&Window) -> bool>(&mut self, max_rows: usize, need: &mut N) -> bool {
        if self.complete || !need(self) {
            return false;
        }
        if self.rows >= max_rows {
            self.truncated = true;
            return false;
        }
        true
    }

    /// Adds the rows of page `page_no` older than the floor. `Ok(false)`
    /// when it was the last page; a full page that adds nothing is `Stuck`
    /// unless it `may_repeat`.
    fn apply(
        &mut self,
        page: PipelinePage,
        page_no: u32,
        events: &[Event],
        may_repeat: bool,
    ) -> Result<bool, PassError> {
        let rows_before = self.rows;
        let last = page.rows < PER_PAGE;
        for p in page.pipelines {
            if self.floor.is_some_and(|f| p.number() >= f.number) {
                continue; // already in the window
            }
            self.rows += 1;
            self.floor = Some(RowMark::of(&p));
            if self.top.is_none() {
                self.top = Some(RowMark::of(&p));
            }
            if !matches(events, &p) {
                continue;
            }
            if p.is_finished() {
                Arc::make_mut(&mut self.pipelines).push(p);
            } else {
                self.unfinished.insert(p.number(), p.created());
            }
        }
        if last {
            self.complete = true;
            return Ok(false);
        }
        if self.rows == rows_before && !may_repeat {
            return Err(PassError::Stuck(format!(
                "page {page_no} repeated pipelines already read instead of older ones, as if the page parameter were ignored"
            )));
        }
        Ok(true)
    }

    /// Whether `page` starts at or above the row just below the floor, so
    /// that no row can lie between them, whenever it was served. An empty
    /// page touches pipeline #1 (numbers start at 1).
    fn touches(&self, page: &PipelinePage) -> bool {
        let Some(floor) = self.floor else {
            return false;
        };
        page.pipelines.first().map_or(1, |p| p.number() + 1) >= floor.number
    }

    /// Pages the next round reads from page `from` (`next` being the next
    /// page to apply): no more than `depth`, nor than the pages this pass
    /// has seen add rows (a short read wastes little, and a server that
    /// does not page is caught after 2 requests), nor past the last page
    /// history can reach: by `max_rows`, or by the floor's number (a repo
    /// numbers its pipelines from 1, so fewer than `floor` rows are older).
    /// At least one: past those estimates the pass reads a page at a time.
    fn round_pages(
        &self,
        next: u32,
        from: u32,
        depth: usize,
        proven: usize,
        max_rows: usize,
    ) -> usize {
        let by_rows = next as usize + (max_rows - self.rows).div_ceil(PER_PAGE) - 1;
        let by_numbers = self.floor.map_or(usize::MAX, |f| {
            (self.rows + f.number as usize - 1) / PER_PAGE + 1
        });
        let room = (by_rows.min(by_numbers) + 1).saturating_sub(from as usize);
        depth.min(proven).min(room).max(1)
    }
}

/// The newest row number on a page 1.
fn top_of(page: &PipelinePage) -> Option<u64> {
    page.pipelines.first().map(|p| p.number())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PipelineFields;
    use crate::domain::Status;
    use std::cell::Cell;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    fn pl(number: u64, finished: bool, event: Event) -> Pipeline {
        Pipeline::from(PipelineFields {
            number,
            status: if finished {
                Status::Success
            } else {
                Status::Running
            },
            event,
            branch: "main",
            deploy_to: "",
            created: number as i64 * 10,
            started: number as i64 * 10 + 1,
            finished: if finished { number as i64 * 10 + 5 } else { 0 },
            ..PipelineFields::default()
        })
    }

    /// An in-memory server: newest first, offset paging, honours `after`.
    #[derive(Clone)]
    struct Mem(Arc<Mutex<Vec<Pipeline>>>);

    impl Mem {
        fn new(n: u64) -> Mem {
            Mem(Arc::new(Mutex::new(
                (1..=n).rev().map(|i| pl(i, true, Event::Push)).collect(),
            )))
        }
        /// Pipelines numbered `step`, `2 × step`, … `n × step`: with a step
        /// above 1, a view whose pages never touch by number, as a 3.x
        /// server's `event=` filter gives.
        fn every(step: u64, n: u64) -> Mem {
            Mem(Arc::new(Mutex::new(
                (1..=n)
                    .rev()
                    .map(|i| pl(i * step, true, Event::Push))
                    .collect(),
            )))
        }
        /// The server as `Window::extend`/`refresh` call it.
        fn fetcher(
            &self,
        ) -> impl Fn(u32, Option<i64>) -> std::future::Ready<Result<PipelinePage, Error>> + '_
        {
            move |p, a| std::future::ready(Ok(self.page(p, a)))
        }
        /// A new pipeline at the top, numbered `step` above the newest.
        fn arrive(&self, step: u64) {
            let mut all = self.0.lock().unwrap();
            let n = all.first().map_or(step, |p| p.number() + step);
            all.insert(0, pl(n, true, Event::Push));
        }
        fn numbers(&self) -> Vec<u64> {
            self.0.lock().unwrap().iter().map(|p| p.number()).collect()
        }
        fn page(&self, page: u32, after: Option<i64>) -> PipelinePage {
            let all = self.0.lock().unwrap();
            let view: Vec<Pipeline> = all
                .iter()
                .filter(|p| after.is_none_or(|a| p.created() > a))
                .cloned()
                .collect();
            let start = (page as usize - 1) * PER_PAGE;
            let rows: Vec<Pipeline> = view.iter().skip(start).take(PER_PAGE).cloned().collect();
            PipelinePage {
                rows: rows.len(),
                pipelines: rows,
            }
        }
    }

    /// One page at a time, as before read-ahead.
    fn one_by_one() -> ReadAhead<impl FnMut() -> Option<()>> {
        ReadAhead {
            depth: 1,
            spare: || None,
        }
    }

    /// Up to `depth` pages a round, request slots never short.
    fn ahead(depth: usize) -> ReadAhead<impl FnMut() -> Option<()>> {
        ReadAhead {
            depth,
            spare: || Some(()),
        }
    }

    #[tokio::test]
    async fn arrivals_between_pages_are_not_double_counted() {
        let mem = Mem::new(120);
        let m = mem.clone();
        let mut w = Window::default();
        let calls = std::cell::Cell::new(0);
        let pages = w
            .extend(
                &[],
                usize::MAX,
                one_by_one(),
                |page, after| {
                    calls.set(calls.get() + 1);
                    if calls.get() == 2 {
                        // 7 new pipelines arrive between page 1 and page 2
                        let mut all = m.0.lock().unwrap();
                        for i in (121..=127).rev() {
                            all.insert(0, pl(i, true, Event::Push));
                        }
                    }
                    let p = m.page(page, after);
                    async move { Ok(p) }
                },
                |_| true,
            )
            .await
            .unwrap();
        assert_eq!(pages, 3);
        assert!(w.complete);
        assert_eq!(w.pipelines.len(), 120);
        assert_eq!(w.rows, 120);
        let numbers: Vec<u64> = w.pipelines.iter().map(|p| p.number()).collect();
        assert_eq!(numbers, (1..=120).rev().collect::<Vec<_>>());
        // A refresh then picks up exactly the 7 new ones.
        let plan = w.plan_refresh(0, 1, 0).unwrap();
        w.refresh(plan, &[], usize::MAX, mem.fetcher())
            .await
            .unwrap();
        assert_eq!(w.pipelines.len(), 127);
        assert_eq!(w.rows, 127);
    }

    #[tokio::test]
    async fn extend_resumes_and_steps_back_after_deletions() {
        let mem = Mem::new(300);
        let mut w = Window::default();
        // Stop after 2 pages.
        w.extend(&[], usize::MAX, ahead(4), mem.fetcher(), |w| w.rows < 100)
            .await
            .unwrap();
        assert_eq!(w.rows, 100);
        // Delete 60 rows inside the window: the naive resume page would skip.
        mem.0
            .lock()
            .unwrap()
            .retain(|p| !(250..310).contains(&p.number()));
        w.extend(&[], usize::MAX, ahead(4), mem.fetcher(), |_| true)
            .await
            .unwrap();
        let numbers: Vec<u64> = w.pipelines.iter().map(|p| p.number()).collect();
        let expected: Vec<u64> = (1..=300).rev().collect();
        assert_eq!(numbers, expected, "nothing skipped, nothing doubled");
    }

    #[tokio::test]
    async fn refresh_rechecks_unfinished_and_commits_only_on_success() {
        let mem = Mem::new(10);
        mem.0.lock().unwrap()[2] = pl(8, false, Event::Push);
        let mut w = Window::default();
        w.extend(&[], usize::MAX, ahead(4), mem.fetcher(), |_| true)
            .await
            .unwrap();
        assert_eq!(w.pipelines.len(), 9);
        assert!(w.unfinished.contains_key(&8));
        let plan = w.plan_refresh(0, i64::MAX / 2, 0).unwrap();
        assert_eq!(plan.stop.number, 8);
        let failed = w
            .refresh(plan, &[], usize::MAX, |_, _| async {
                Err(Error::NotFound {
                    endpoint: "x".into(),
                })
            })
            .await;
        assert!(failed.is_err());
        assert!(w.unfinished.contains_key(&8));
        mem.0.lock().unwrap()[2] = pl(8, true, Event::Push);
        let plan = w.plan_refresh(0, i64::MAX / 2, 0).unwrap();
        w.refresh(plan, &[], usize::MAX, mem.fetcher())
            .await
            .unwrap();
        assert_eq!(w.pipelines.len(), 10);
        assert!(w.unfinished.is_empty());
    }

    #[tokio::test]
    async fn a_server_that_ignores_the_page_parameter_is_stuck_not_endless() {
        let mem = Mem::new(500);
        let calls = std::cell::Cell::new(0);
        let same_page = |_: u32, a: Option<i64>| {
            calls.set(calls.get() + 1);
            std::future::ready(Ok(mem.page(1, a)))
        };
        let err = w_extend(&mut Window::default(), &same_page).await;
        assert!(matches!(err, Err(PassError::Stuck(ref m)) if m.contains("page 2 repeated")));
        assert_eq!(
            calls.get(),
            2,
            "stopped at the first page that added nothing"
        );
        // A refresh over more than a page of new pipelines stops likewise.
        let mut w = Window::default();
        w.extend(&[], usize::MAX, ahead(8), mem.fetcher(), |w| w.rows < 50)
            .await
            .unwrap();
        {
            let mut all = mem.0.lock().unwrap();
            for i in (501..=700).rev() {
                all.insert(0, pl(i, true, Event::Push));
            }
        }
        let plan = w.plan_refresh(0, 1, 0).unwrap();
        let before = calls.get();
        let err = w.refresh(plan, &[], usize::MAX, &same_page).await;
        assert!(matches!(err, Err(PassError::Stuck(_))));
        assert_eq!(calls.get() - before, 2);
        assert_eq!(w.top.unwrap().number, 500, "nothing committed");

        // One that pages for a while, then serves page 5 for every later
        // page, is caught within the round that repeats it.
        let mem = Mem::new(5_000);
        calls.set(0);
        let stops_at_5 = |p: u32, a: Option<i64>| {
            calls.set(calls.get() + 1);
            std::future::ready(Ok(mem.page(p.min(5), a)))
        };
        let err = w_extend(&mut Window::default(), &stops_at_5).await;
        assert!(matches!(err, Err(PassError::Stuck(ref m)) if m.contains("page 6 repeated")));
        assert_eq!(calls.get(), 8, "rounds of 1, 1, 2 and 4 pages");
    }

    async fn w_extend<F, Fut>(w: &mut Window, fetch: F) -> Result<u32, PassError>
    where
        F: Fn(u32, Option<i64>) -> Fut,
        Fut: Future<Output = Result<PipelinePage, Error>>,
    {
        w.extend(&[], usize::MAX, ahead(8), fetch, |_| true).await
    }

    #[tokio::test]
    async fn a_window_stops_growing_at_its_row_bound() {
        let mem = Mem::new(1_000);
        let mut w = Window::default();
        let pages = w
            .extend(&[], 120, ahead(8), mem.fetcher(), |_| true)
            .await
            .unwrap();
        assert_eq!(pages, 3);
        assert!(w.truncated && !w.complete);
        assert_eq!(w.rows, 150);
        assert_eq!(
            w.extend(&[], 120, ahead(8), mem.fetcher(), |_| true)
                .await
                .unwrap(),
            0
        );
    }

    /// `Mem` behind requests that take time, as concurrent HTTP requests
    /// do: each is served (its page computed) after a delay that scrambles
    /// the order within a round (time is paused, so the order is the same
    /// on every run); with `arrivals`, a new pipeline arrives just before
    /// each is served. Counts requests and the most in flight.
    struct Slow {
        mem: Mem,
        /// Arrivals are numbered this far apart, as `Mem::every`.
        step: u64,
        arrivals: bool,
        fail_page: Option<u32>,
        requests: Cell<u32>,
        in_flight: Cell<usize>,
        most: Cell<usize>,
    }

    impl Slow {
        fn new(mem: Mem) -> Slow {
            Slow {
                mem,
                step: 1,
                arrivals: false,
                fail_page: None,
                requests: Cell::new(0),
                in_flight: Cell::new(0),
                most: Cell::new(0),
            }
        }

        async fn get(&self, page: u32, after: Option<i64>) -> Result<PipelinePage, Error> {
            let n = self.requests.get() + 1;
            self.requests.set(n);
            self.in_flight.set(self.in_flight.get() + 1);
            self.most.set(self.most.get().max(self.in_flight.get()));
            tokio::time::sleep(Duration::from_millis(u64::from(n * 7 % 11))).await;
            self.in_flight.set(self.in_flight.get() - 1);
            if self.arrivals {
                self.mem.arrive(self.step);
            }
            if self.fail_page == Some(page) {
                return Err(Error::NotFound {
                    endpoint: format!("page {page}"),
                });
            }
            Ok(self.mem.page(page, after))
        }
    }

    fn numbers(w: &Window) -> Vec<u64> {
        w.pipelines.iter().map(|p| p.number()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn read_ahead_sends_pages_together_and_applies_them_in_order() {
        // (pipelines, pages one at a time reads, most in flight): rounds of
        // 1, 1, 2, 4, then 6 pages; 500 ends on an empty page.
        for (n, pages, most) in [(1_234, 25, 6), (500, 11, 4), (30, 1, 1)] {
            let slow = Slow::new(Mem::new(n));
            let mut w = Window::default();
            let fetch = |p, a| slow.get(p, a);
            let sent = w.extend(&[], usize::MAX, ahead(6), fetch, |_| true);
            assert_eq!(sent.await.unwrap(), pages);
            assert_eq!(numbers(&w), (1..=n).rev().collect::<Vec<_>>());
            assert!(w.complete && w.rows == n as usize);
            assert_eq!(slow.requests.get(), pages, "no page past the end");
            assert_eq!(slow.most.get(), most, "{n} pipelines");
        }
        // A filtered view's pages never touch by number: page 1 is read
        // again each round to check that nothing arrived.
        let slow = Slow::new(Mem::every(3, 1_234));
        let mut w = Window::default();
        let fetch = |p, a| slow.get(p, a);
        let sent = w.extend(&[], usize::MAX, ahead(6), fetch, |_| true);
        let sent = sent.await.unwrap();
        assert_eq!(
            numbers(&w),
            (1..=1_234).rev().map(|i| i * 3).collect::<Vec<_>>()
        );
        assert!((26..=25 + 8 + 5).contains(&sent), "{sent} requests");
        assert_eq!(slow.most.get(), 7, "6 pages and page 1");
    }

    #[tokio::test(start_paused = true)]
    async fn read_ahead_takes_no_more_slots_than_are_free() {
        let slow = Slow::new(Mem::new(2_000));
        let free = tokio::sync::Semaphore::new(2);
        let limited = ReadAhead {
            depth: 6,
            spare: || free.try_acquire().ok(),
        };
        let mut w = Window::default();
        w.extend(&[], usize::MAX, limited, |p, a| slow.get(p, a), |_| true)
            .await
            .unwrap();
        assert_eq!(w.rows, 2_000);
        assert_eq!(slow.most.get(), 3, "its own slot and the 2 free");
        assert_eq!(free.available_permits(), 2, "all given back");
    }

    #[tokio::test(start_paused = true)]
    async fn pipelines_arriving_during_a_read_ahead_are_neither_skipped_nor_counted_twice() {
        // A new pipeline before every request is served, in a scrambled
        // order; with step 2 no page touches the one before by number.
        for step in [1, 2] {
            let mem = Mem::every(step, 2_000);
            let slow = Slow {
                step,
                arrivals: true,
                ..Slow::new(mem.clone())
            };
            let mut w = Window::default();
            let fetch = |p, a| slow.get(p, a);
            w.extend(&[], usize::MAX, ahead(6), fetch, |_| true)
                .await
                .unwrap();
            assert!(w.complete);
            let top = w.top.unwrap().number;
            let reference: Vec<u64> = mem.numbers().into_iter().filter(|n| *n <= top).collect();
            let got = numbers(&w);
            let skipped: Vec<&u64> = reference.iter().filter(|n| !got.contains(n)).collect();
            assert!(skipped.is_empty(), "step {step}: skipped {skipped:?}");
            assert_eq!(got, reference, "step {step}: newest first, each once");
            assert_eq!(w.rows, reference.len());
            assert!(slow.most.get() > 1);
            // The next refresh picks up exactly the arrivals.
            let plan = w.plan_refresh(0, 1, 0).unwrap();
            w.refresh(plan, &[], usize::MAX, mem.fetcher())
                .await
                .unwrap();
            assert_eq!(numbers(&w), mem.numbers(), "step {step}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_page_keeps_the_pages_before_it() {
        let mut slow = Slow {
            fail_page: Some(7),
            ..Slow::new(Mem::new(1_000))
        };
        let mut w = Window::default();
        let failed = w
            .extend(&[], usize::MAX, ahead(6), |p, a| slow.get(p, a), |_| true)
            .await;
        assert!(
            matches!(failed, Err(PassError::Fetch(Error::NotFound { ref endpoint })) if endpoint == "page 7")
        );
        assert_eq!(numbers(&w), (701..=1_000).rev().collect::<Vec<_>>());
        slow.fail_page = None;
        w.extend(&[], usize::MAX, ahead(6), |p, a| slow.get(p, a), |_| true)
            .await
            .unwrap();
        assert_eq!(numbers(&w), (1..=1_000).rev().collect::<Vec<_>>());
    }

    #[tokio::test(start_paused = true)]
    async fn reading_ahead_stops_once_need_is_met() {
        let slow = Slow::new(Mem::new(10_000));
        let mut w = Window::default();
        let fetch = |p, a| slow.get(p, a);
        w.extend(&[], usize::MAX, ahead(6), fetch, |w| w.rows < 1_000)
            .await
            .unwrap();
        assert_eq!(w.rows, 1_000);
        let sent = slow.requests.get();
        assert!((20..20 + 6).contains(&sent), "{sent} requests for 20 pages");
    }

    #[test]
    fn long_unfinished_pipelines_stop_being_rechecked() {
        let mut w = Window {
            top: Some(RowMark {
                number: 100,
                created: 10_000,
            }),
            floor: Some(RowMark {
                number: 1,
                created: 100,
            }),
            rows: 100,
            ..Window::default()
        };
        w.unfinished.insert(40, 4_000); // blocked long ago
        w.unfinished.insert(90, 9_000);
        let plan = w.plan_refresh(10_000, 2_000, 60).unwrap();
        assert_eq!(plan.stop.number, 90);
        assert_eq!(plan.after, Some(9_000 - 60 - 1));
        assert!(!w.unfinished.contains_key(&40));
        assert!(Window::default().plan_refresh(0, 1, 1).is_none());
    }
}
