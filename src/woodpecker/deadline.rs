//! Time limits shared by many callers: a query's overall deadline, and the
//! memory of a failure that callers waiting on the same work share.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::error::Error;

/// When a whole query must be answered by. Every request made for it is
/// cut to the time left, and no request starts once it has passed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Deadline(Option<(Instant, Duration)>);

impl Deadline {
    /// No limit (the CLI, tests).
    pub const NONE: Deadline = Deadline(None);

    pub fn after(limit: Duration) -> Deadline {
        Deadline(Some((Instant::now() + limit, limit)))
    }

    /// Time left; `None` without a deadline.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.0
            .map(|(at, _)| at.saturating_duration_since(Instant::now()))
    }

    /// The limit as configured, for messages.
    pub fn limit(&self) -> Duration {
        self.0.map_or(Duration::MAX, |(_, l)| l)
    }

    /// Runs `f` until the deadline; `None` when the deadline came first.
    pub async fn run<F: Future>(&self, f: F) -> Option<F::Output> {
        match self.0 {
            None => Some(f.await),
            Some((at, _)) => tokio::time::timeout_at(at, f).await.ok(),
        }
    }

    /// The error for work that `endpoint` could not finish in time.
    pub(crate) fn exceeded(&self, endpoint: &str) -> Error {
        Error::Deadline {
            endpoint: endpoint.to_string(),
            limit: self.limit(),
        }
    }
}

/// The last failure of some shared work (a refresh, the repo list, the
/// server version). Callers that waited while it failed share it instead
/// of running the work again one after another, and so do callers that
/// arrive within `backoff` of it, so a struggling server is not hammered.
/// `E` is what callers are told: Woodpecker's [`Error`], or the shared
/// store's message.
#[derive(Debug)]
pub(crate) struct RecentFailure<E = Error>(Option<(Instant, E)>);

impl<E> Default for RecentFailure<E> {
    fn default() -> Self {
        RecentFailure(None)
    }
}

impl<E: Clone> RecentFailure<E> {
    /// The failure a caller that arrived at `arrived` should share.
    pub fn shared(&self, arrived: Instant, backoff: Duration) -> Option<E> {
        let (at, e) = self.0.as_ref()?;
        (*at >= arrived || at.elapsed() < backoff).then(|| e.clone())
    }

    pub fn record<T>(&mut self, result: &Result<T, E>) {
        self.0 = result.as_ref().err().map(|e| (Instant::now(), e.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waiters_and_late_comers_within_the_backoff_share_a_failure() {
        let mut f = RecentFailure::default();
        let waiting_since = Instant::now();
        tokio::time::advance(Duration::from_secs(30)).await;
        f.record::<()>(&Err(Error::InvalidToken));
        assert!(f.shared(waiting_since, Duration::ZERO).is_some());
        tokio::time::advance(Duration::from_secs(5)).await;
        let late = Instant::now();
        assert!(f.shared(late, Duration::from_secs(10)).is_some());
        assert!(f.shared(late, Duration::from_secs(5)).is_none());
        f.record(&Ok(()));
        assert!(f.shared(waiting_since, Duration::MAX).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_cuts_work_short() {
        let d = Deadline::after(Duration::from_secs(2));
        assert_eq!(d.remaining(), Some(Duration::from_secs(2)));
        let out = d.run(tokio::time::sleep(Duration::from_secs(3))).await;
        assert!(out.is_none() && d.remaining() == Some(Duration::ZERO));
        assert!(Deadline::NONE.run(async { 1 }).await.is_some());
        assert!(Deadline::NONE.remaining().is_none());
    }
}
