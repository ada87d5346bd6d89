//! The on-disk pipeline store: finished pipelines never change, so what a
//! cache has read survives a restart, and the first query after one costs a
//! warm refresh, not a cold fetch.
//!
//! * One [redb](https://docs.rs/redb) file for the whole plugin process,
//!   shared by its data sources: an embedded, crash-safe (copy-on-write,
//!   checksummed commits) and maintained key-value store; no server to run.
//! * Keys start with a namespace: a SHA-256 of the data source's uid, URL
//!   and token, so a data source with fewer rights never reads another's
//!   rows, and a changed URL or token starts afresh.
//! * One value per repo window (its bookkeeping, [`codec::StoredMeta`]) and
//!   one per pipeline row. Writes go to one writer thread, which commits
//!   what is queued in one transaction: a `kill -9` loses at most the writes
//!   still queued, never a half-written window.
//! * A store of another layout version is discarded and rebuilt, not
//!   misread; total bytes are bounded, least recently written windows are
//!   dropped first.

pub(crate) mod codec;
mod location;
mod shared;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use sha2::{Digest, Sha256};

use crate::domain::{Pipeline, Tree, Trees};
use codec::{decode_meta, decode_pipeline, encode_meta, Row, StoredMeta};
pub use location::{open_from_env, StoreChoice, STORE_MAX_MB_ENV, STORE_PATH_ENV};
pub use shared::SharedStore;
pub(crate) use shared::{Adopt, Lock};

/// Bumped whenever the byte layout or the meaning of a key changes (in
/// this store and in the shared one).
const LAYOUT: u64 = 1;
const FILE: &str = "pipelines.redb";

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const WINDOWS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("windows");
const ROWS: TableDefinition<(&[u8], u64), &[u8]> = TableDefinition::new("rows");

/// Which data source's rows: see the module docs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Namespace([u8; 16]);

impl Namespace {
    pub fn of(uid: &str, url: &str, token: Option<&str>) -> Namespace {
        let mut h = Sha256::new();
        for part in [uid, url.trim_end_matches('/'), token.unwrap_or("")] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let mut ns = [0u8; 16];
        ns.copy_from_slice(&h.finalize()[..16]);
        Namespace(ns)
    }

    fn key(&self, window: &str) -> Vec<u8> {
        [&self.0[..], window.as_bytes()].concat()
    }

    /// For the shared store's text keys.
    fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Namespace(..)")
    }
}

/// A window read back: its bookkeeping, rows (newest first) and the
/// workflow trees stored with them.
pub(crate) struct Loaded {
    pub meta: StoredMeta,
    pub pipelines: Vec<Pipeline>,
    pub trees: Trees,
}

impl Loaded {
    /// A window from its bookkeeping and decoded rows, in any order.
    fn new(meta: StoredMeta, rows: Vec<(Pipeline, Option<Tree>)>) -> Loaded {
        let mut trees = Trees::new();
        let mut pipelines: Vec<Pipeline> = rows
            .into_iter()
            .map(|(p, tree)| {
                if let Some(t) = tree {
                    trees.insert(p.number(), t);
                }
                p
            })
            .collect();
        pipelines.sort_unstable_by_key(|p| std::cmp::Reverse(p.number()));
        Loaded {
            meta,
            pipelines,
            trees,
        }
    }
}

/// A window's bookkeeping and its new or changed rows (number, bytes).
struct Write {
    key: Vec<u8>,
    meta: StoredMeta,
    rows: Vec<(u64, Vec<u8>)>,
    /// Drop the window's stored rows first.
    replace: bool,
}

enum Job {
    Write(Box<Write>),
    /// Answered once everything queued before it is committed.
    Barrier(tokio::sync::oneshot::Sender<()>),
}

pub struct DiskStore {
    db: Arc<Database>,
    path: PathBuf,
    /// `None` once dropping: the writer then commits what is queued and ends.
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for DiskStore {
    fn drop(&mut self) {
        self.jobs.lock().unwrap().take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl std::fmt::Debug for DiskStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskStore")
            .field("path", &self.path)
            .finish()
    }
}

fn db_error(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl DiskStore {
    /// Opens (or creates) the store in `dir`, holding at most `max_bytes`
    /// of rows. A file of another layout, or one that cannot be read, is
    /// replaced by an empty store.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<DiskStore, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(FILE);
        let db = match Database::create(&path) {
            Ok(db) if layout(&db) == Some(LAYOUT) => db,
            Ok(db) => {
                if layout(&db).is_some() {
                    tracing::info!(path = %path.display(), "pipeline store of another layout version; starting afresh");
                }
                drop(db);
                fresh(&path)?
            }
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(format!("{} is in use by another process", path.display()))
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "pipeline store unreadable; starting afresh");
                fresh(&path)?
            }
        };
        let db = Arc::new(db);
        let total = Arc::new(AtomicU64::new(stored_bytes(&db).map_err(db_error)?));
        let (tx, rx) = mpsc::channel();
        let writer = Writer {
            db: db.clone(),
            total,
            max_bytes,
        };
        let writer = std::thread::Builder::new()
            .name("pipeline-store".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| format!("cannot start the store's writer: {e}"))?;
        Ok(DiskStore {
            db,
            path,
            jobs: Mutex::new(Some(tx)),
            writer: Some(writer),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The window stored under `ns` and `window`, if a whole one is.
    pub(crate) fn load(&self, ns: Namespace, window: &str) -> Option<Loaded> {
        let key = ns.key(window);
        let read = || -> Result<Option<Loaded>, redb::Error> {
            let tx = self.db.begin_read()?;
            let Some(meta) = tx.open_table(WINDOWS)?.get(key.as_slice())? else {
                return Ok(None);
            };
            let Some(meta) = decode_meta(meta.value()) else {
                return Ok(None);
            };
            let rows = tx.open_table(ROWS)?;
            let mut decoded = Vec::new();
            for row in rows.range(window_rows(&key))? {
                match decode_pipeline(row?.1.value()) {
                    Some(row) => decoded.push(row),
                    None => return Ok(None),
                }
            }
            Ok(Some(Loaded::new(meta, decoded)))
        };
        read().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "pipeline store read failed; fetching instead");
            None
        })
    }

    /// Queues a window's bookkeeping and new or changed rows (all its rows,
    /// replacing what is stored, with `replace`); committed together, in
    /// order with the other writes.
    pub(crate) fn save(
        &self,
        ns: Namespace,
        window: &str,
        meta: StoredMeta,
        rows: &[Row<'_>],
        replace: bool,
    ) {
        let rows = rows
            .iter()
            .map(|&row| (row.0.number(), codec::encode_pipeline(row)))
            .collect();
        self.send(Job::Write(Box::new(Write {
            key: ns.key(window),
            meta,
            rows,
            replace,
        })));
    }

    /// Waits until every write queued so far is committed.
    pub(crate) async fn flushed(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Job::Barrier(tx));
        let _ = rx.await;
    }

    fn send(&self, job: Job) {
        // The writer runs until the store is dropped; a send cannot fail before.
        if let Some(jobs) = &*self.jobs.lock().unwrap() {
            let _ = jobs.send(job);
        }
    }
}

/// The row keys of one window.
fn window_rows(key: &[u8]) -> std::ops::RangeInclusive<(&[u8], u64)> {
    (key, 0)..=(key, u64::MAX)
}

fn layout(db: &Database) -> Option<u64> {
    let tx = db.begin_read().ok()?;
    let table = tx.open_table(META).ok()?;
    let v = table.get("layout").ok()??.value();
    Some(v)
}

/// An empty store of this layout at `path`, replacing whatever was there.
fn fresh(path: &Path) -> Result<Database, String> {
    let cannot = |e: &dyn std::fmt::Display| format!("cannot create {}: {e}", path.display());
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(cannot(&e)),
    }
    let db = Database::create(path).map_err(|e| cannot(&e))?;
    let init = || -> Result<(), redb::Error> {
        let tx = db.begin_write()?;
        tx.open_table(META)?.insert("layout", LAYOUT)?;
        tx.open_table(WINDOWS)?;
        tx.open_table(ROWS)?;
        tx.commit()?;
        Ok(())
    };
    init().map_err(|e| cannot(&e))?;
    Ok(db)
}

fn stored_bytes(db: &Database) -> Result<u64, redb::Error> {
    let tx = db.begin_read()?;
    let mut total = 0;
    for w in tx.open_table(WINDOWS)?.iter()? {
        total += decode_meta(w?.1.value()).map_or(0, |m| m.bytes);
    }
    Ok(total)
}

struct Writer {
    db: Arc<Database>,
    total: Arc<AtomicU64>,
    max_bytes: u64,
}

impl Writer {
    fn run(self, rx: mpsc::Receiver<Job>) {
        while let Ok(first) = rx.recv() {
            // Everything queued goes into one transaction: fewer syncs, and
            // each window's bookkeeping stays with its rows.
            let mut batch = vec![first];
            batch.extend(rx.try_iter());
            let mut barriers = Vec::new();
            let mut writes = Vec::new();
            for job in batch {
                match job {
                    Job::Barrier(done) => barriers.push(done),
                    Job::Write(w) => writes.push(*w),
                }
            }
            if !writes.is_empty() {
                if let Err(e) = self.commit(writes) {
                    tracing::warn!(error = %e, "pipeline store write failed; those pipelines will be fetched again");
                }
            }
            for done in barriers {
                let _ = done.send(());
            }
        }
    }

    fn commit(&self, writes: Vec<Write>) -> Result<(), redb::Error> {
        let tx = self.db.begin_write()?;
        let mut written = Vec::new();
        {
            let mut windows = tx.open_table(WINDOWS)?;
            let mut rows = tx.open_table(ROWS)?;
            for Write {
                key,
                mut meta,
                rows: new_rows,
                replace,
            } in writes
            {
                let was = windows
                    .get(key.as_slice())?
                    .and_then(|m| decode_meta(m.value()))
                    .map_or(0, |m| m.bytes);
                let mut bytes = was;
                if replace {
                    rows.retain_in(window_rows(&key), |_, _| false)?;
                    bytes = 0;
                }
                for (number, row) in &new_rows {
                    let replaced = rows.insert((key.as_slice(), *number), row.as_slice())?;
                    bytes = bytes.saturating_sub(replaced.map_or(0, |r| r.value().len() as u64));
                    bytes += row.len() as u64;
                }
                let before = self.total.load(Ordering::Relaxed);
                self.total
                    .store(before.saturating_sub(was) + bytes, Ordering::Relaxed);
                meta.bytes = bytes;
                meta.last_used = chrono::Utc::now().timestamp();
                windows.insert(key.as_slice(), encode_meta(&meta).as_slice())?;
                written.push(key);
            }
            self.evict(&mut windows, &mut rows, &written)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Drops least recently written windows (never one just written) until
    /// the rows fit the bound.
    fn evict(
        &self,
        windows: &mut redb::Table<&[u8], &[u8]>,
        rows: &mut redb::Table<(&[u8], u64), &[u8]>,
        keep: &[Vec<u8>],
    ) -> Result<(), redb::Error> {
        if self.total.load(Ordering::Relaxed) <= self.max_bytes {
            return Ok(());
        }
        let mut all: Vec<(i64, u64, Vec<u8>)> = Vec::new();
        for w in windows.iter()? {
            let (k, v) = w?;
            let key = k.value().to_vec();
            if keep.contains(&key) {
                continue;
            }
            let meta = decode_meta(v.value()).unwrap_or_default();
            all.push((meta.last_used, meta.bytes, key));
        }
        all.sort();
        for (_, bytes, key) in all {
            if self.total.load(Ordering::Relaxed) <= self.max_bytes {
                break;
            }
            windows.remove(key.as_slice())?;
            rows.retain_in(window_rows(&key), |_, _| false)?;
            self.total.fetch_sub(
                bytes.min(self.total.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
            tracing::debug!(bytes, "evicted a repo window from the pipeline store");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PipelineFields;
    use crate::domain::{Event, Status};

    fn dir(label: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("wdora-unit-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn row(number: u64) -> Pipeline {
        Pipeline::from(PipelineFields {
            number,
            status: Status::Success,
            event: Event::Deployment,
            branch: "main",
            deploy_to: "production",
            created: 1_760_000_000 + number as i64 * 600,
            started: 1_760_000_010 + number as i64 * 600,
            finished: 1_760_000_300 + number as i64 * 600,
            ..PipelineFields::default()
        })
    }

    fn meta(top: u64) -> StoredMeta {
        StoredMeta {
            repo_id: 7,
            full_name: "acme/api".into(),
            top: Some((top, 1)),
            floor: Some((1, 1)),
            rows: top,
            ..StoredMeta::default()
        }
    }

    async fn save(
        store: &DiskStore,
        ns: Namespace,
        window: &str,
        numbers: std::ops::RangeInclusive<u64>,
    ) {
        let rows: Vec<Pipeline> = numbers.clone().map(row).collect();
        let refs: Vec<Row> = rows.iter().map(|p| (p, None)).collect();
        store.save(ns, window, meta(*numbers.end()), &refs, false);
        store.flushed().await;
    }

    #[tokio::test]
    async fn windows_come_back_newest_first_and_only_under_their_namespace() {
        let d = dir("ns");
        let store = DiskStore::open(&d, 1 << 30).unwrap();
        let a = Namespace::of("uid-a", "https://ci.example.com", Some("t1"));
        save(&store, a, "acme/api\0deployment", 1..=3).await;
        save(&store, a, "acme/api\0deployment", 4..=5).await;
        let got = store.load(a, "acme/api\0deployment").unwrap();
        let numbers: Vec<u64> = got.pipelines.iter().map(|p| p.number()).collect();
        assert_eq!(numbers, [5, 4, 3, 2, 1]);
        assert_eq!(got.pipelines[0], row(5));
        assert_eq!(got.meta.top, Some((5, 1)));
        // Another token, URL or uid sees nothing; another filter neither.
        for other in [
            Namespace::of("uid-a", "https://ci.example.com", Some("t2")),
            Namespace::of("uid-a", "https://ci.example.com/", None),
            Namespace::of("uid-b", "https://ci.example.com", Some("t1")),
        ] {
            assert!(store.load(other, "acme/api\0deployment").is_none());
        }
        assert!(store.load(a, "acme/api\0").is_none());
        // A trailing slash is the same server.
        assert!(Namespace::of("u", "https://x/", None) == Namespace::of("u", "https://x", None));
        drop(store);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test]
    async fn another_layout_or_a_foreign_file_is_discarded_not_misread() {
        let d = dir("layout");
        let store = DiskStore::open(&d, 1 << 30).unwrap();
        let ns = Namespace::of("u", "https://x", None);
        save(&store, ns, "w", 1..=2).await;
        drop(store);
        // Reopened as it is: kept.
        let store = DiskStore::open(&d, 1 << 30).unwrap();
        assert!(store.load(ns, "w").is_some());
        drop(store);
        // An older layout version: rebuilt empty.
        {
            let db = Database::create(d.join(FILE)).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(META).unwrap().insert("layout", 0).unwrap();
            tx.commit().unwrap();
        }
        let store = DiskStore::open(&d, 1 << 30).unwrap();
        assert!(store.load(ns, "w").is_none());
        assert_eq!(layout(&store.db), Some(LAYOUT));
        drop(store);
        // Not a store at all: replaced.
        std::fs::write(d.join(FILE), b"not a database, just bytes").unwrap();
        let store = DiskStore::open(&d, 1 << 30).unwrap();
        assert!(store.load(ns, "w").is_none());
        save(&store, ns, "w", 1..=1).await;
        assert!(store.load(ns, "w").is_some());
        drop(store);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test]
    async fn the_least_recently_written_windows_go_when_the_bound_is_passed() {
        let d = dir("bound");
        // Room for two and a half windows of 100 rows.
        let bound = codec::encode_pipeline((&row(50), None)).len() as u64 * 250;
        let store = DiskStore::open(&d, bound).unwrap();
        let ns = Namespace::of("u", "https://x", None);
        for w in ["a", "b", "c"] {
            save(&store, ns, w, 1..=100).await;
            // Whole seconds apart, so "least recently" is unambiguous.
            tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        }
        assert!(store.load(ns, "a").is_none(), "the oldest went");
        assert!(store.load(ns, "b").is_some() && store.load(ns, "c").is_some());
        let total = stored_bytes(&store.db).unwrap();
        assert!(total <= bound, "{total} bytes kept of {bound}");
        drop(store);
        let _ = std::fs::remove_dir_all(&d);
    }
}
