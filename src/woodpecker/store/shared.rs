//! The shared store: Redis (or Valkey), so that Grafana replicas behind a
//! load balancer read each Woodpecker page once between them.
//!
//! * Keys: `wdora:v<layout>:<namespace hex>:<repo>#<events>`, one hash per
//!   window: field `m` its bookkeeping, one field per pipeline number its
//!   row, both in the local store's byte layout (`codec`), and `r` the
//!   range (`top:floor`) the rows cover. The namespace is
//!   the local store's (uid, URL and token), so a data source with fewer
//!   rights never reads another's rows; the layout version keeps an older
//!   layout from being misread.
//! * Bounded: every write refreshes a 30-day expiry on the window, so a
//!   window nobody reads for 30 days goes; Redis's own `maxmemory` policy
//!   bounds the rest.
//! * A turn to read Woodpecker: before a repo's refresh a replica takes
//!   the shared window when it holds more, then a lock (`SET … NX PX`) that
//!   expires with the query's deadline, so a dead holder frees it. Without
//!   the lock it waits (at most half its time left) for the holder, then
//!   reads what the holder stored.
//! * Best effort: every call is cut to `timeout`, and a failure is shared
//!   for the failure backoff, so a Redis that is down costs one timeout per
//!   backoff, not one per repo. The cache then reads Woodpecker on its own
//!   and the query says so.
//! * Writes are queued and sent in order by one task, so the cache's
//!   page-by-page hook does not wait on the network; [`SharedStore::flushed`]
//!   waits for them. A write adds the rows a window has beyond the range it
//!   read or wrote last, and is applied (one script, atomic) only while
//!   Redis still holds that range: a lost write, an expiry or a flushed
//!   Redis never leaves bookkeeping that names rows it lacks. Rows are
//!   only added, so writes of replicas in a race keep every range whole.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ConnectionInfo, RedisError};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::codec::{decode_meta, decode_pipeline, encode_meta, encode_pipeline, Row, StoredMeta};
use super::{Loaded, Namespace, LAYOUT};
use crate::woodpecker::deadline::{Deadline, RecentFailure};

/// How long a window nobody writes is kept.
const EXPIRY: Duration = Duration::from_secs(30 * 86_400);
/// A lock's life when the query has no deadline (the holder's requests are
/// cut to its deadline, so it never needs longer than that).
const LOCK_WITHOUT_DEADLINE: Duration = Duration::from_secs(30);
const META_FIELD: &str = "m";
const RANGE_FIELD: &str = "r";
/// Adds rows and bookkeeping to a window still holding the range `base`
/// (ARGV[1]; empty: replaces the window). ARGV: base, new range, expiry
/// ms, then field, value pairs.
const WRITE: &str = r"
if ARGV[1] == '' then
  redis.call('del', KEYS[1])
elseif redis.call('hget', KEYS[1], 'r') ~= ARGV[1] then
  return 0
end
for i = 4, #ARGV, 2 do
  redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('hset', KEYS[1], 'r', ARGV[2])
redis.call('pexpire', KEYS[1], ARGV[3])
return 1
";
/// Deletes a lock only while it is still the caller's.
const UNLOCK: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// One data source's Redis. Clones of the `Arc` share a connection.
pub struct SharedStore {
    link: Arc<Link>,
    /// The writer task, started by the first write (inside the runtime).
    jobs: OnceLock<mpsc::UnboundedSender<Job>>,
}

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The address only: the connection info holds the password.
        f.debug_struct("SharedStore")
            .field("address", &self.link.address)
            .finish()
    }
}

/// The connection, and the failure callers share.
struct Link {
    client: redis::Client,
    address: String,
    /// Redacted from error text, in case a server or the driver echoes it.
    password: Option<String>,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    timeout: Duration,
    backoff: Duration,
    failure: Mutex<RecentFailure<String>>,
}

enum Job {
    Write {
        key: String,
        base: String,
        range: String,
        /// Rows, then the bookkeeping.
        fields: Vec<(Vec<u8>, Vec<u8>)>,
    },
    Unlock {
        key: String,
        id: String,
    },
    /// Answered once everything queued before it is sent (or failed).
    Barrier(oneshot::Sender<()>),
}

/// What a replica learnt before reading Woodpecker for a window.
#[derive(Default)]
pub(crate) struct Turn {
    /// The shared window, when it holds more than the caller's.
    pub adopt: Option<Adopt>,
    /// The shared window's bookkeeping as last read (`None`: nothing there,
    /// or Redis did not answer): what later writes add to.
    pub holds: Option<StoredMeta>,
    /// Another replica held the lock and this one waited for it.
    pub waited: bool,
    /// Held while this replica reads Woodpecker.
    pub lock: Option<Lock>,
}

pub(crate) enum Adopt {
    /// A window that reaches further: take it whole.
    Whole(Loaded),
    /// The same rows, refreshed later: take its bookkeeping.
    Meta(StoredMeta),
}

/// A held lock; dropping it queues its release behind the writes queued
/// before, so a waiting replica finds them stored.
pub(crate) struct Lock {
    store: Arc<SharedStore>,
    key: String,
    id: String,
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.store.send(Job::Unlock {
            key: std::mem::take(&mut self.key),
            id: std::mem::take(&mut self.id),
        });
    }
}

impl SharedStore {
    /// A store at `info` (not connected until first used). `timeout` cuts
    /// every call; a failure is shared for `backoff`.
    pub fn new(info: ConnectionInfo, timeout: Duration, backoff: Duration) -> SharedStore {
        let address = info.addr().to_string();
        let password = info.redis_settings().password().map(str::to_string);
        let client = redis::Client::open(info).expect("a ConnectionInfo is always accepted");
        SharedStore {
            link: Arc::new(Link {
                client,
                address,
                password,
                conn: tokio::sync::Mutex::new(None),
                timeout,
                backoff,
                failure: Mutex::new(RecentFailure::default()),
            }),
            jobs: OnceLock::new(),
        }
    }

    /// The failure of a call made since `since` or within the backoff:
    /// what a query answered then should tell the user.
    pub(crate) fn trouble(&self, since: Instant) -> Option<String> {
        let failure = self.link.failure.lock().unwrap();
        failure.shared(since, self.link.backoff)
    }

    /// One round trip, for the health check.
    pub async fn ping(&self) -> Result<(), String> {
        self.link
            .call(|mut c| async move { redis::cmd("PING").query_async::<()>(&mut c).await })
            .await
    }

    /// Reads the shared window, takes it if it holds more than `ours`, and
    /// takes this replica's turn to read Woodpecker: the lock, or else the
    /// holder's result once it is done (waiting at most half the time
    /// `deadline` leaves). Never fails: without Redis the turn is empty.
    pub(crate) async fn turn(
        self: &Arc<Self>,
        ns: Namespace,
        window: &str,
        ours: Option<&StoredMeta>,
        deadline: Deadline,
    ) -> Turn {
        let key = key(ns, window);
        let mut turn = Turn::default();
        if self.look(&key, ours, &mut turn).await.is_err() {
            return turn;
        }
        let life = deadline.remaining().unwrap_or(LOCK_WITHOUT_DEADLINE);
        match self.lock(&key, life).await {
            Ok(Some(lock)) => turn.lock = Some(lock),
            Ok(None) => {
                turn.waited = true;
                let until = Instant::now() + life / 2;
                if self.wait_unlocked(&key, until).await.is_ok() {
                    let ours = match &turn.adopt {
                        Some(Adopt::Whole(l)) => Some(l.meta.clone()),
                        Some(Adopt::Meta(m)) => Some(m.clone()),
                        None => ours.cloned(),
                    };
                    let _ = self.look(&key, ours.as_ref(), &mut turn).await;
                }
            }
            Err(_) => {}
        }
        turn
    }

    /// Reads the window's bookkeeping, and its rows when it reaches further
    /// than `ours`, into `turn`.
    async fn look(
        &self,
        key: &str,
        ours: Option<&StoredMeta>,
        turn: &mut Turn,
    ) -> Result<(), String> {
        let found = self.meta(key).await;
        turn.holds = found.clone().ok().flatten();
        let Some(theirs) = found? else {
            return Ok(());
        };
        match compare(&theirs, ours) {
            Holds::Less => {}
            Holds::Later => turn.adopt = Some(Adopt::Meta(theirs)),
            Holds::Further => {
                if let Some(loaded) = self.load(key).await? {
                    turn.holds = Some(loaded.meta.clone());
                    turn.adopt = Some(Adopt::Whole(loaded));
                }
            }
        }
        Ok(())
    }

    async fn meta(&self, key: &str) -> Result<Option<StoredMeta>, String> {
        let key = key.to_string();
        let bytes: Option<Vec<u8>> = self
            .link
            .call(|mut c| async move {
                redis::cmd("HGET")
                    .arg(&key)
                    .arg(META_FIELD)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(bytes.as_deref().and_then(decode_meta))
    }

    /// The whole window, if it reads back whole.
    async fn load(&self, key: &str) -> Result<Option<Loaded>, String> {
        let key = key.to_string();
        let fields: Vec<(Vec<u8>, Vec<u8>)> = self
            .link
            .call(|mut c| async move { redis::cmd("HGETALL").arg(&key).query_async(&mut c).await })
            .await?;
        Ok(loaded(fields))
    }

    async fn lock(self: &Arc<Self>, key: &str, life: Duration) -> Result<Option<Lock>, String> {
        let (lock_key, id) = (format!("{key}:lock"), lock_id());
        let (k, v) = (lock_key.clone(), id.clone());
        let millis = life.as_millis().clamp(1, u64::MAX as u128) as u64;
        let set: Option<String> = self
            .link
            .call(|mut c| async move {
                redis::cmd("SET")
                    .arg(&k)
                    .arg(&v)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(set.map(|_| Lock {
            store: self.clone(),
            key: lock_key,
            id,
        }))
    }

    /// Polls, backing off to 200 ms, until the window's lock is gone or
    /// `until`.
    async fn wait_unlocked(&self, key: &str, until: Instant) -> Result<(), String> {
        let lock_key = format!("{key}:lock");
        let mut pause = Duration::from_millis(10);
        loop {
            let k = lock_key.clone();
            let held: bool = self
                .link
                .call(|mut c| async move { redis::cmd("EXISTS").arg(&k).query_async(&mut c).await })
                .await?;
            if !held || Instant::now() + pause > until {
                return Ok(());
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// Queues a window's bookkeeping and its rows beyond `base` (the range
    /// `(top, floor)` the caller read or wrote last; `None`: all its rows),
    /// written together and in order with the other writes; see the module
    /// docs.
    pub(crate) fn save(
        &self,
        ns: Namespace,
        window: &str,
        base: Option<(u64, u64)>,
        meta: &StoredMeta,
        rows: &[Row<'_>],
    ) {
        let range = |(top, floor): (u64, u64)| format!("{top}:{floor}");
        let mut fields: Vec<(Vec<u8>, Vec<u8>)> = rows
            .iter()
            .map(|&row| {
                (
                    row.0.number().to_string().into_bytes(),
                    encode_pipeline(row),
                )
            })
            .collect();
        fields.push((META_FIELD.into(), encode_meta(meta)));
        self.send(Job::Write {
            key: key(ns, window),
            base: base.map(range).unwrap_or_default(),
            range: meta
                .top
                .zip(meta.floor)
                .map_or_else(String::new, |(t, f)| range((t.0, f.0))),
            fields,
        });
    }

    /// Waits until every write queued so far is sent (or has failed).
    pub(crate) async fn flushed(&self) {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Barrier(tx));
        let _ = rx.await;
    }

    fn send(&self, job: Job) {
        let jobs = self.jobs.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write(self.link.clone(), rx));
            tx
        });
        // The writer runs while a sender does: this send cannot fail.
        let _ = jobs.send(job);
    }
}

/// Sends queued jobs one after another until the store is dropped.
async fn write(link: Arc<Link>, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = rx.recv().await {
        let sent = match job {
            Job::Barrier(done) => {
                let _ = done.send(());
                continue;
            }
            Job::Write {
                key,
                base,
                range,
                fields,
            } => {
                link.call(|mut c| async move {
                    let mut cmd = redis::cmd("EVAL");
                    cmd.arg(WRITE).arg(1).arg(&key).arg(&base).arg(&range);
                    cmd.arg(EXPIRY.as_millis() as u64);
                    for (name, value) in &fields {
                        cmd.arg(name).arg(value);
                    }
                    cmd.query_async::<()>(&mut c).await
                })
                .await
            }
            Job::Unlock { key, id } => {
                link.call(|mut c| async move {
                    redis::cmd("EVAL")
                        .arg(UNLOCK)
                        .arg(1)
                        .arg(&key)
                        .arg(&id)
                        .query_async::<()>(&mut c)
                        .await
                })
                .await
            }
        };
        if let Err(e) = sent {
            tracing::debug!(error = %e, "shared store write skipped");
        }
    }
}

impl Link {
    /// Runs one call within the timeout, unless a failure is being shared.
    async fn call<T, F, Fut>(&self, f: F) -> Result<T, String>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let arrived = Instant::now();
        if let Some(e) = self.failure.lock().unwrap().shared(arrived, self.backoff) {
            return Err(e);
        }
        let attempt = async { f(self.connection().await?).await };
        let result = match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.describe(&e)),
            Err(_) => Err(format!(
                "{} did not answer within {} ms",
                self.address,
                self.timeout.as_millis()
            )),
        };
        if let Err(e) = &result {
            // A fresh connection next time: this one may be broken.
            *self.conn.lock().await = None;
            tracing::warn!(error = %e, "shared store (Redis) call failed; reading Woodpecker on our own for a while");
        }
        self.failure.lock().unwrap().record(&result);
        result
    }

    async fn connection(&self) -> Result<MultiplexedConnection, RedisError> {
        let mut held = self.conn.lock().await;
        if let Some(c) = &*held {
            return Ok(c.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let c = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        *held = Some(c.clone());
        Ok(c)
    }

    /// One clause for the user: what failed, never the password.
    fn describe(&self, e: &RedisError) -> String {
        let auth = e.kind() == redis::ErrorKind::AuthenticationFailed
            || matches!(e.code(), Some("NOAUTH" | "WRONGPASS"));
        let text = if auth {
            format!(
                "{} refused the authentication: check redisUser and redisPassword",
                self.address
            )
        } else if e.is_connection_refusal() {
            format!("{} refused the connection", self.address)
        } else {
            format!("{}: {e}", self.address)
        };
        match &self.password {
            Some(p) if !p.is_empty() => text.replace(p.as_str(), "[redacted]"),
            _ => text,
        }
    }
}

fn key(ns: Namespace, window: &str) -> String {
    // `#` is never in a repo name, and `:` never in the event list, so no
    // window's key is another's lock.
    format!("wdora:v{LAYOUT}:{}:{}", ns.hex(), window.replace('\0', "#"))
}

/// Unique across replicas: a per-process random seed and a counter.
fn lock_id() -> String {
    static SEED: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| RandomState::new().hash_one(std::process::id()));
    format!("{seed:016x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[derive(Debug, PartialEq)]
enum Holds {
    Less,
    /// The same rows, refreshed later.
    Later,
    /// Every row the caller holds and more.
    Further,
}

/// What a shared window holds compared with the caller's. A window that
/// lacks some of the caller's rows is never taken (it would lose them).
fn compare(theirs: &StoredMeta, ours: Option<&StoredMeta>) -> Holds {
    let Some(ours) = ours.filter(|o| o.top.is_some()) else {
        return if theirs.top.is_some() {
            Holds::Further
        } else {
            Holds::Less
        };
    };
    let number = |m: Option<(u64, i64)>| m.map(|(n, _)| n);
    let (t_top, t_floor) = (number(theirs.top), number(theirs.floor));
    let (o_top, o_floor) = (number(ours.top), number(ours.floor));
    let covers = t_top >= o_top && t_floor.is_some() && t_floor <= o_floor;
    if !covers {
        Holds::Less
    } else if (t_top, t_floor, theirs.complete) != (o_top, o_floor, ours.complete) {
        Holds::Further
    } else if theirs.fetched_at <= ours.fetched_at {
        Holds::Less
    } else if theirs.unfinished != ours.unfinished {
        // Some of its rows finished after ours were read.
        Holds::Further
    } else {
        Holds::Later
    }
}

/// A window from its hash fields; `None` unless every field reads back.
fn loaded(fields: Vec<(Vec<u8>, Vec<u8>)>) -> Option<Loaded> {
    let mut meta = None;
    let mut rows = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        if name == META_FIELD.as_bytes() {
            meta = Some(decode_meta(&value)?);
        } else if name != RANGE_FIELD.as_bytes() {
            rows.push(decode_pipeline(&value)?);
        }
    }
    let meta: StoredMeta = meta?;
    // Rows another replica wrote outside this window's range are not its.
    let (top, floor) = (meta.top?.0, meta.floor?.0);
    rows.retain(|(p, _)| (floor..=top).contains(&p.number()));
    let mut loaded = Loaded::new(meta, rows);
    // A row is finished: it is no longer one to re-check.
    let pipelines = &loaded.pipelines;
    loaded
        .meta
        .unfinished
        .retain(|(n, _)| pipelines.binary_search_by(|p| n.cmp(&p.number())).is_err());
    Some(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Pipeline, PipelineFields};

    fn meta(top: u64, floor: u64, fetched_at: i64) -> StoredMeta {
        StoredMeta {
            top: Some((top, 0)),
            floor: Some((floor, 0)),
            rows: top - floor + 1,
            fetched_at,
            ..StoredMeta::default()
        }
    }

    #[test]
    fn only_a_window_that_keeps_every_row_is_taken() {
        assert_eq!(compare(&meta(300, 1, 5), None), Holds::Further);
        assert_eq!(compare(&StoredMeta::default(), None), Holds::Less);
        let ours = meta(300, 100, 5);
        assert_eq!(compare(&meta(310, 100, 5), Some(&ours)), Holds::Further);
        assert_eq!(compare(&meta(300, 1, 5), Some(&ours)), Holds::Further);
        assert_eq!(compare(&meta(300, 100, 9), Some(&ours)), Holds::Later);
        assert_eq!(compare(&meta(300, 100, 5), Some(&ours)), Holds::Less);
        // Newer, but shallower: ours would lose rows 100..199.
        assert_eq!(compare(&meta(400, 200, 9), Some(&ours)), Holds::Less);
        // The same range read later, when a pipeline ours awaits finished.
        let mut waiting = meta(300, 100, 5);
        waiting.unfinished = vec![(290, 0)];
        assert_eq!(compare(&meta(300, 100, 9), Some(&waiting)), Holds::Further);
        assert_eq!(compare(&meta(300, 100, 5), Some(&waiting)), Holds::Less);
    }

    #[test]
    fn keys_carry_the_layout_and_namespace_and_never_meet_a_lock() {
        let ns = Namespace::of("uid", "https://ci", Some("t"));
        let k = key(ns, "acme/api\0deployment,push");
        assert_eq!(
            k,
            format!("wdora:v{LAYOUT}:{}:acme/api#deployment,push", ns.hex())
        );
        assert_ne!(
            key(Namespace::of("uid", "https://ci", Some("u")), "w"),
            key(ns, "w")
        );
        assert_ne!(lock_id(), lock_id());
    }

    #[test]
    fn a_window_reads_back_within_its_range_and_only_whole() {
        let row = |number| {
            Pipeline::from(PipelineFields {
                number,
                finished: 1,
                ..PipelineFields::default()
            })
        };
        let mut m = meta(3, 2, 1);
        m.unfinished = vec![(3, 0), (4, 0)];
        let field = |n: u64| (n.to_string().into_bytes(), encode_pipeline((&row(n), None)));
        let fields = vec![
            field(1),
            field(3),
            (b"m".to_vec(), encode_meta(&m)),
            field(2),
        ];
        let l = loaded(fields.clone()).unwrap();
        let numbers: Vec<u64> = l.pipelines.iter().map(|p| p.number()).collect();
        assert_eq!(numbers, [3, 2], "newest first, row 1 is below the floor");
        assert_eq!(l.meta.unfinished, [(4, 0)], "row 3 has finished");
        let mut broken = fields;
        broken.push((b"9".to_vec(), b"\xff".to_vec()));
        assert!(loaded(broken).is_none());
        assert!(loaded(vec![field(1)]).is_none(), "no meta");
    }
}
