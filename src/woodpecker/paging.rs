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

use std::collections::{BTreeMap, HashSet};
use std::future::Future;

use super::client::{PipelinePage, PER_PAGE};
use super::error::Error;
use crate::domain::{Event, Pipeline};

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RowMark {
    pub number: u64,
    pub created: i64,
}

impl RowMark {
    fn of(p: &Pipeline) -> RowMark {
        RowMark {
            number: p.number,
            created: p.created,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Window {
    /// Finished pipelines that match the entry's events, newest first.
    pub pipelines: Vec<Pipeline>,
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
    events.is_empty() || events.contains(&p.event)
}

impl Window {
    pub fn is_empty(&self) -> bool {
        self.top.is_none()
    }

    pub fn size(&self) -> usize {
        self.pipelines.len() + self.unfinished.len()
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
            let page_low = page.pipelines.last().map_or(u64::MAX, |p| p.number);
            let progressed = page_low < lowest;
            lowest = lowest.min(page_low);
            let mut reached_stop = false;
            for p in page.pipelines {
                if p.number <= plan.stop.number {
                    reached_stop = true;
                }
                let is_new = p.number > old_top.number;
                if is_new {
                    if !seen_new.insert(p.number) {
                        continue; // shifted page: seen on the previous page
                    }
                    if p.number > new_top.number {
                        new_top = RowMark::of(&p);
                    }
                } else if !self.unfinished.contains_key(&p.number) || !rechecked.insert(p.number) {
                    continue; // known and final
                }
                if !matches(events, &p) {
                    continue;
                }
                if p.is_finished() {
                    finished_now.push(p);
                } else {
                    still_unfinished.insert(p.number, p.created);
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
            self.pipelines.extend(finished_now);
            self.pipelines
                .sort_unstable_by_key(|p| std::cmp::Reverse(p.number));
            self.pipelines.dedup_by_key(|p| p.number);
        }
        Ok(page_no)
    }

    /// Pages older pipelines while `need(self)` says so, history is not
    /// exhausted and the window holds fewer than `max_rows` rows. Progress
    /// is kept page by page (each page leaves the window contiguous), so a
    /// failure half-way loses nothing. Returns pages fetched.
    pub async fn extend<F, Fut, N>(
        &mut self,
        events: &[Event],
        max_rows: usize,
        mut fetch: F,
        mut need: N,
    ) -> Result<u32, PassError>
    where
        F: FnMut(u32, Option<i64>) -> Fut,
        Fut: Future<Output = Result<PipelinePage, Error>>,
        N: FnMut(&Window) -> bool,
    {
        let mut fetched = 0u32;
        // The page holding our floor row (index rows-1), so that the first
        // page overlaps the window and a skip would be visible.
        let mut page_no = if self.rows == 0 {
            1
        } else {
            ((self.rows - 1) / PER_PAGE) as u32 + 1
        };
        let mut verified = self.floor.is_none();
        // A resumed pass starts on the page holding the floor, which may add
        // nothing; every later full page must add something.
        let mut may_repeat = self.floor.is_some();
        while !self.complete && need(self) {
            if self.rows >= max_rows {
                self.truncated = true;
                break;
            }
            let page = fetch(page_no, None).await?;
            fetched += 1;
            if !verified {
                let first = page.pipelines.first().map(|p| p.number);
                let floor = self.floor.map(|f| f.number).unwrap_or(u64::MAX);
                if page_no > 1 && first.is_none_or(|n| n < floor) {
                    // Rows were deleted above us: step back until we overlap.
                    page_no -= 1;
                    continue;
                }
                verified = true;
            }
            let rows_before = self.rows;
            for p in page.pipelines {
                if self.floor.is_some_and(|f| p.number >= f.number) {
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
                    self.pipelines.push(p);
                } else {
                    self.unfinished.insert(p.number, p.created);
                }
            }
            if page.rows < PER_PAGE {
                self.complete = true;
                break;
            }
            if self.rows == rows_before && !may_repeat {
                return Err(PassError::Stuck(format!(
                    "page {page_no} repeated pipelines already read instead of older ones, as if the page parameter were ignored"
                )));
            }
            may_repeat = false;
            page_no += 1;
        }
        Ok(fetched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;
    use std::sync::{Arc, Mutex};

    fn pl(number: u64, finished: bool, event: Event) -> Pipeline {
        Pipeline {
            number,
            status: if finished {
                Status::Success
            } else {
                Status::Running
            },
            event,
            branch: "main".into(),
            deploy_to: String::new(),
            created: number as i64 * 10,
            started: number as i64 * 10 + 1,
            finished: if finished { number as i64 * 10 + 5 } else { 0 },
            ..Pipeline::default()
        }
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
        /// The server as `Window::extend`/`refresh` call it.
        fn fetcher(
            &self,
        ) -> impl FnMut(u32, Option<i64>) -> std::future::Ready<Result<PipelinePage, Error>> + '_
        {
            move |p, a| std::future::ready(Ok(self.page(p, a)))
        }
        fn page(&self, page: u32, after: Option<i64>) -> PipelinePage {
            let all = self.0.lock().unwrap();
            let view: Vec<Pipeline> = all
                .iter()
                .filter(|p| after.is_none_or(|a| p.created > a))
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

    #[tokio::test]
    async fn arrivals_between_pages_are_not_double_counted() {
        let mem = Mem::new(120);
        let m = mem.clone();
        let mut w = Window::default();
        let mut calls = 0;
        let pages = w
            .extend(
                &[],
                usize::MAX,
                |page, after| {
                    calls += 1;
                    if calls == 2 {
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
        let numbers: Vec<u64> = w.pipelines.iter().map(|p| p.number).collect();
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
        w.extend(&[], usize::MAX, mem.fetcher(), |w| w.rows < 100)
            .await
            .unwrap();
        assert_eq!(w.rows, 100);
        // Delete 60 rows inside the window: the naive resume page would skip.
        mem.0
            .lock()
            .unwrap()
            .retain(|p| !(250..310).contains(&p.number));
        w.extend(&[], usize::MAX, mem.fetcher(), |_| true)
            .await
            .unwrap();
        let numbers: Vec<u64> = w.pipelines.iter().map(|p| p.number).collect();
        let expected: Vec<u64> = (1..=300).rev().collect();
        assert_eq!(numbers, expected, "nothing skipped, nothing doubled");
    }

    #[tokio::test]
    async fn refresh_rechecks_unfinished_and_commits_only_on_success() {
        let mem = Mem::new(10);
        mem.0.lock().unwrap()[2] = pl(8, false, Event::Push);
        let mut w = Window::default();
        w.extend(&[], usize::MAX, mem.fetcher(), |_| true)
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
        let mut same_page = |_: u32, a: Option<i64>| {
            calls.set(calls.get() + 1);
            std::future::ready(Ok(mem.page(1, a)))
        };
        let err = w_extend(&mut Window::default(), &mut same_page).await;
        assert!(matches!(err, Err(PassError::Stuck(ref m)) if m.contains("page 2 repeated")));
        assert_eq!(
            calls.get(),
            2,
            "stopped at the first page that added nothing"
        );
        // A refresh over more than a page of new pipelines stops likewise.
        let mut w = Window::default();
        w.extend(&[], usize::MAX, mem.fetcher(), |w| w.rows < 50)
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
        let err = w.refresh(plan, &[], usize::MAX, &mut same_page).await;
        assert!(matches!(err, Err(PassError::Stuck(_))));
        assert_eq!(calls.get() - before, 2);
        assert_eq!(w.top.unwrap().number, 500, "nothing committed");
    }

    async fn w_extend<F, Fut>(w: &mut Window, fetch: F) -> Result<u32, PassError>
    where
        F: FnMut(u32, Option<i64>) -> Fut,
        Fut: Future<Output = Result<PipelinePage, Error>>,
    {
        w.extend(&[], usize::MAX, fetch, |_| true).await
    }

    #[tokio::test]
    async fn a_window_stops_growing_at_its_row_bound() {
        let mem = Mem::new(1_000);
        let mut w = Window::default();
        let pages = w.extend(&[], 120, mem.fetcher(), |_| true).await.unwrap();
        assert_eq!(pages, 3);
        assert!(w.truncated && !w.complete);
        assert_eq!(w.rows, 150);
        assert_eq!(
            w.extend(&[], 120, mem.fetcher(), |_| true).await.unwrap(),
            0
        );
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
