//! The user feed (`/api/user/feed?latest=true`): each repo the token can
//! push to, with its newest pipeline, in one request. The cache reads it
//! before refreshing, to leave out repos whose newest pipeline has not
//! changed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::client::WoodpeckerClient;
use super::deadline::{Deadline, RecentFailure};
use super::model::FeedMark;

/// One read of the user feed.
#[derive(Clone)]
pub(crate) struct FeedRead {
    /// When the read finished: queries that arrived before share it.
    at: Instant,
    /// When it was sent (Unix seconds): a skipped refresh is true as of then.
    pub sent_unix: i64,
    /// Each listed repo's newest pipeline, by repo id.
    pub marks: Arc<HashMap<i64, FeedMark>>,
}

#[derive(Default)]
struct State {
    read: Option<FeedRead>,
    failure: RecentFailure,
}

/// The last read, shared by a data source's queries.
#[derive(Default)]
pub(crate) struct UserFeed(Mutex<State>);

impl UserFeed {
    /// The feed as of a query's arrival: one read for all repos, shared by
    /// the queries that arrive while it runs and reused for `fresh_for`.
    /// `None` when it cannot be read (then each repo is refreshed on its
    /// own; a failure is not retried within the client's backoff).
    pub(crate) async fn read(
        &self,
        client: &WoodpeckerClient,
        arrived: Instant,
        fresh_for: Duration,
        deadline: Deadline,
    ) -> Option<FeedRead> {
        let mut state = deadline.run(self.0.lock()).await?;
        if let Some(read) = &state.read {
            if read.at >= arrived || read.at.elapsed() < fresh_for {
                return Some(read.clone());
            }
        }
        if state
            .failure
            .shared(arrived, client.failure_backoff())
            .is_some()
        {
            return None;
        }
        let sent_unix = chrono::Utc::now().timestamp();
        let result = client.with_deadline(deadline).latest_feed().await;
        state.failure.record(&result);
        match result {
            Ok(marks) => {
                let read = FeedRead {
                    at: Instant::now(),
                    sent_unix,
                    marks: Arc::new(marks),
                };
                state.read = Some(read.clone());
                Some(read)
            }
            Err(e) => {
                tracing::debug!(error = %e, "user feed not read; refreshing repos one by one");
                None
            }
        }
    }
}
