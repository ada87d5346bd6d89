//! The store's byte layout: a pipeline row and a window's bookkeeping, in
//! varints, with a 40-hex commit packed into 20 bytes. Decoding is total: a
//! truncated or foreign value is `None`, never a panic or a wrong row.

use crate::domain::{Commit, Event, Pipeline, PipelineFields, Status, Step, Tree, Workflow};

/// A stored row: a pipeline and its workflow tree, when one is held (the
/// tree is written inside the row, though memory keeps it apart).
pub(crate) type Row<'a> = (&'a Pipeline, Option<&'a Tree>);

/// A window's bookkeeping, as kept beside its rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StoredMeta {
    pub repo_id: i64,
    pub full_name: String,
    /// `(number, created)` of the newest and oldest server rows seen.
    pub top: Option<(u64, i64)>,
    pub floor: Option<(u64, i64)>,
    pub rows: u64,
    pub complete: bool,
    pub truncated: bool,
    pub fetched_at: i64,
    /// The user feed's newest pipeline before the last refresh.
    pub feed_mark: Option<(u64, Status)>,
    /// Unfinished matching pipelines to re-check: `(number, created)`.
    pub unfinished: Vec<(u64, i64)>,
    /// Bytes of the stored rows, for the store's bound.
    pub bytes: u64,
    /// Unix seconds of the last write, for least-recently-used eviction.
    pub last_used: i64,
}

struct Writer(Vec<u8>);

impl Writer {
    fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }
    fn byte(&mut self, b: u8) {
        self.0.push(b);
    }
    fn str(&mut self, s: &str) {
        self.u(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.0.split_first()?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
    fn i(&mut self) -> Option<i64> {
        let v = self.u()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        (self.0.len() >= n).then(|| {
            let (head, rest) = self.0.split_at(n);
            self.0 = rest;
            head
        })
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = usize::try_from(self.u()?).ok()?;
        std::str::from_utf8(self.bytes(n)?).ok()
    }
    fn len(&mut self) -> Option<usize> {
        // A count can never exceed the bytes left: guards allocations.
        usize::try_from(self.u()?)
            .ok()
            .filter(|n| *n <= self.0.len())
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// A status or event as its index in `ALL` (255 for `Other`), so the byte
/// stays the same whatever the enum's representation.
fn index_in<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).map_or(255, |i| i as u8)
}

fn from_index<T: Copy>(all: &[T], b: u8, other: T) -> T {
    all.get(usize::from(b)).copied().unwrap_or(other)
}

fn status_id(s: Status) -> u8 {
    index_in(&Status::ALL, &s)
}

fn status_of(b: u8) -> Status {
    from_index(&Status::ALL, b, Status::Other)
}

/// A SHA-1 as its 20 bytes; anything else as text.
fn put_commit(w: &mut Writer, commit: &Commit) {
    match commit {
        Commit::Sha1(bytes) => {
            w.byte(1);
            w.0.extend_from_slice(bytes);
        }
        Commit::None => {
            w.byte(0);
            w.str("");
        }
        Commit::Text(text) => {
            w.byte(0);
            w.str(text);
        }
    }
}

fn get_commit(r: &mut Reader) -> Option<Commit> {
    match r.byte()? {
        1 => Some(Commit::Sha1(r.bytes(20)?.try_into().ok()?)),
        0 => Some(Commit::parse(r.str()?)),
        _ => None,
    }
}

/// Times are kept relative to `created`: small numbers, short varints.
fn put_times(w: &mut Writer, started: i64, finished: i64, base: i64) {
    w.i(started.wrapping_sub(base));
    w.i(finished.wrapping_sub(base));
}

fn get_times(r: &mut Reader, base: i64) -> Option<(i64, i64)> {
    Some((r.i()?.wrapping_add(base), r.i()?.wrapping_add(base)))
}

pub(crate) fn encode_pipeline((p, tree): Row<'_>) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(48));
    w.u(p.number());
    w.byte(status_id(p.status()));
    w.byte(index_in(&Event::ALL, &p.event()));
    w.u(p.parent());
    w.i(p.created());
    put_times(&mut w, p.started(), p.finished(), p.created());
    w.str(p.branch());
    w.str(p.deploy_to());
    put_commit(&mut w, p.commit());
    match tree {
        None => w.byte(0),
        Some(ws) => {
            w.byte(1);
            w.u(ws.len() as u64);
            for wf in ws.iter() {
                w.str(&wf.name);
                w.byte(status_id(wf.state));
                put_times(&mut w, wf.started, wf.finished, p.created());
                w.u(wf.steps.len() as u64);
                for s in &wf.steps {
                    w.str(&s.name);
                    w.byte(status_id(s.state));
                    put_times(&mut w, s.started, s.finished, p.created());
                }
            }
        }
    }
    w.0
}

pub(crate) fn decode_pipeline(bytes: &[u8]) -> Option<(Pipeline, Option<Tree>)> {
    let mut r = Reader(bytes);
    let number = r.u()?;
    let status = status_of(r.byte()?);
    let event = from_index(&Event::ALL, r.byte()?, Event::Other);
    let parent = r.u()?;
    let created = r.i()?;
    let (started, finished) = get_times(&mut r, created)?;
    let branch = r.str()?;
    let deploy_to = r.str()?;
    let commit = get_commit(&mut r)?;
    let workflows = match r.byte()? {
        0 => None,
        1 => {
            let n = r.len()?;
            let mut ws = Vec::with_capacity(n);
            for _ in 0..n {
                let name = r.str()?.to_owned();
                let state = status_of(r.byte()?);
                let (ws_started, ws_finished) = get_times(&mut r, created)?;
                let m = r.len()?;
                let mut steps = Vec::with_capacity(m);
                for _ in 0..m {
                    let name = r.str()?.to_owned();
                    let state = status_of(r.byte()?);
                    let (started, finished) = get_times(&mut r, created)?;
                    steps.push(Step {
                        name,
                        state,
                        started,
                        finished,
                    });
                }
                ws.push(Workflow {
                    name,
                    state,
                    started: ws_started,
                    finished: ws_finished,
                    steps,
                });
            }
            Some(Tree::new(ws))
        }
        _ => return None,
    };
    let pipeline = Pipeline::from(PipelineFields {
        number,
        status,
        event,
        branch,
        deploy_to,
        parent,
        commit,
        created,
        started,
        finished,
    });
    r.done().then_some((pipeline, workflows))
}

fn put_mark(w: &mut Writer, m: Option<(u64, i64)>) {
    match m {
        None => w.byte(0),
        Some((n, c)) => {
            w.byte(1);
            w.u(n);
            w.i(c);
        }
    }
}

fn get_mark(r: &mut Reader) -> Option<Option<(u64, i64)>> {
    match r.byte()? {
        0 => Some(None),
        1 => Some(Some((r.u()?, r.i()?))),
        _ => None,
    }
}

pub(crate) fn encode_meta(m: &StoredMeta) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(64));
    w.i(m.repo_id);
    w.str(&m.full_name);
    put_mark(&mut w, m.top);
    put_mark(&mut w, m.floor);
    w.u(m.rows);
    w.byte(u8::from(m.complete) | u8::from(m.truncated) << 1);
    w.i(m.fetched_at);
    put_mark(
        &mut w,
        m.feed_mark.map(|(n, s)| (n, i64::from(status_id(s)))),
    );
    w.u(m.unfinished.len() as u64);
    for (n, c) in &m.unfinished {
        w.u(*n);
        w.i(*c);
    }
    w.u(m.bytes);
    w.i(m.last_used);
    w.0
}

pub(crate) fn decode_meta(bytes: &[u8]) -> Option<StoredMeta> {
    let mut r = Reader(bytes);
    let repo_id = r.i()?;
    let full_name = r.str()?;
    let top = get_mark(&mut r)?;
    let floor = get_mark(&mut r)?;
    let rows = r.u()?;
    let flags = r.byte()?;
    let fetched_at = r.i()?;
    let feed_mark = get_mark(&mut r)?.map(|(n, s)| (n, status_of(s as u8)));
    let n = r.len()?;
    let mut unfinished = Vec::with_capacity(n);
    for _ in 0..n {
        unfinished.push((r.u()?, r.i()?));
    }
    let meta = StoredMeta {
        repo_id,
        full_name: full_name.to_owned(),
        top,
        floor,
        rows,
        complete: flags & 1 != 0,
        truncated: flags & 2 != 0,
        fetched_at,
        feed_mark,
        unfinished,
        bytes: r.u()?,
        last_used: r.i()?,
    };
    r.done().then_some(meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PipelineFields;
    use proptest::prelude::*;

    fn status() -> impl Strategy<Value = Status> {
        let mut all = Status::ALL.to_vec();
        all.push(Status::Other);
        prop::sample::select(all)
    }

    fn pipeline() -> impl Strategy<Value = (Pipeline, Option<Tree>)> {
        let commit = prop_oneof![
            "[0-9a-f]{40}",
            "[0-9A-Za-z]{0,45}",
            Just("pipelines.commit".to_string())
        ];
        let tree = prop::option::of(prop::collection::vec(
            (
                "[a-z-]{0,12}",
                status(),
                -5i64..100_000,
                prop::collection::vec(("[a-z]{0,8}", status(), -5i64..9_000), 0..4),
            ),
            0..4,
        ));
        (
            (1u64..u64::MAX, status(), 0usize..10, 0u64..5_000),
            (0i64..2_000_000_000, -10i64..100_000, -10i64..100_000),
            ("[a-z/_-]{0,20}", "[a-z0-9.-]{0,12}", commit, tree),
        )
            .prop_map(
                |(
                    (number, status, ev, parent),
                    (created, ds, df),
                    (branch, deploy_to, commit, tree),
                )| {
                    let tree = tree.map(|ws| {
                        ws.into_iter()
                            .map(|(name, state, t, steps)| Workflow {
                                name,
                                state,
                                started: created + t,
                                finished: created + t + 10,
                                steps: steps
                                    .into_iter()
                                    .map(|(name, state, t)| Step {
                                        name,
                                        state,
                                        started: created + t,
                                        finished: 0,
                                    })
                                    .collect(),
                            })
                            .collect()
                    });
                    let pipeline = Pipeline::from(PipelineFields {
                        number,
                        status,
                        event: Event::ALL.get(ev).copied().unwrap_or(Event::Other),
                        parent,
                        created,
                        started: created + ds,
                        finished: created + df,
                        branch: &branch,
                        deploy_to: &deploy_to,
                        commit: commit.as_str().into(),
                    });
                    (pipeline, tree.map(Tree::new))
                },
            )
    }

    proptest! {
        #[test]
        fn pipelines_round_trip((p, tree) in pipeline()) {
            let bytes = encode_pipeline((&p, tree.as_ref()));
            prop_assert_eq!(decode_pipeline(&bytes), Some((p, tree)));
        }

        /// A cut or garbled value is no row, never a panic or a wrong one.
        #[test]
        fn truncated_rows_are_rejected((p, tree) in pipeline(), cut in 0usize..64) {
            let bytes = encode_pipeline((&p, tree.as_ref()));
            let cut = cut.min(bytes.len().saturating_sub(1));
            prop_assert_eq!(decode_pipeline(&bytes[..cut]), None);
        }

        #[test]
        fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_pipeline(&bytes);
            let _ = decode_meta(&bytes);
        }
    }

    #[test]
    fn a_typical_row_is_small() {
        let p = Pipeline::from(PipelineFields {
            number: 48_213,
            status: Status::Success,
            event: Event::Deployment,
            branch: "main",
            deploy_to: "production",
            parent: 48_190,
            commit: "9f1c2e7a9f1c2e7a9f1c2e7a9f1c2e7a9f1c2e7a".into(),
            created: 1_760_011_200,
            started: 1_760_011_205,
            finished: 1_760_011_500,
        });
        let bytes = encode_pipeline((&p, None));
        // 21 of them are the commit, 16 the branch and environment.
        assert!(bytes.len() <= 56, "{} bytes", bytes.len());
    }

    #[test]
    fn meta_round_trips() {
        let m = StoredMeta {
            repo_id: 42,
            full_name: "acme/api".into(),
            top: Some((900, 1_760_000_000)),
            floor: Some((1, 1_700_000_000)),
            rows: 900,
            complete: true,
            truncated: false,
            fetched_at: 1_760_000_100,
            feed_mark: Some((901, Status::Running)),
            unfinished: vec![(899, 1_759_999_000)],
            bytes: 40_000,
            last_used: 1_760_000_200,
        };
        assert_eq!(decode_meta(&encode_meta(&m)), Some(m.clone()));
        let bytes = encode_meta(&m);
        assert_eq!(decode_meta(&bytes[..bytes.len() - 1]), None);
        assert_eq!(
            decode_meta(&encode_meta(&StoredMeta::default())),
            Some(StoredMeta::default())
        );
    }
}
