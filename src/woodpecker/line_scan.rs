//! The export's own line shape read without serde: objects of plain
//! strings (no escapes), whole numbers, nulls and the workflow tree's
//! arrays, as `export` writes them. Parsing is most of what
//! `report --input` costs, and a generic parser spends it on work these
//! lines never need.
//!
//! A line exactly as `export` writes it is read by its literals, in order;
//! one in any other order or spacing, key by key.
//!
//! Anything else (an escape, a fraction, a repeated key, a value of the
//! wrong type, a syntax error) is not read here but left to the serde
//! parse, which reads every line as before and words every error: this
//! module only ever answers what serde would, or nothing.

use std::borrow::Cow;

use serde::de::IgnoredAny;

use super::model::{WirePipeline, WireStep, WireWorkflow};
use crate::domain::short_text;

/// A line read: the wire model, and for a line in the export's own shape
/// the text of its workflow tree, checked but not read (a report keeps
/// few trees, and building one to drop it costs as much as the rest of
/// the line).
pub(super) struct Scanned<'a> {
    pub wire: WirePipeline<'a>,
    pub tree_text: Option<&'a str>,
}

#[cfg(test)]
impl<'a> Scanned<'a> {
    /// The wire model with its workflows read.
    pub fn into_wire(mut self) -> WirePipeline<'a> {
        if let Some(text) = self.tree_text {
            self.wire.workflows = Some(read_tree(text));
        }
        self.wire
    }
}

/// `line` as the wire model, or `None` when it is not in the plain shape.
pub(super) fn scan_line(line: &str) -> Option<Scanned<'_>> {
    let exported = exported_prefix(line).filter(|&(_, len)| len == line.len());
    exported.map(|(scanned, _)| scanned).or_else(|| {
        any_order(line).map(|wire| Scanned {
            wire,
            tree_text: None,
        })
    })
}

/// The workflows of a tree text that [`scan_line`] checked.
pub(super) fn read_tree(text: &str) -> Vec<WireWorkflow<'_>> {
    Cursor { text, at: 0 }
        .list(Cursor::workflow)
        .expect("the tree was checked as the line was scanned")
}

/// A line exactly as `export` writes it at the start of `text`, and its
/// length: its keys in its order, without space or `null`. Read by
/// literals, not key by key: most lines read are these. Where the line
/// ends is found by reading it, not by a search beforehand.
pub(super) fn exported_prefix(text: &str) -> Option<(Scanned<'_>, usize)> {
    let mut c = Cursor { text, at: 0 };
    let wire = WirePipeline {
        repo: Some(c.text_after(r#"{"repo":"#)?),
        number: c.integer_after(r#","number":"#)?,
        status: c.text_after(r#","status":"#)?,
        event: c.text_after(r#","event":"#)?,
        branch: c.text_after(r#","branch":"#)?,
        deploy_to: c.text_after(r#","deploy_to":"#)?,
        parent: c.integer_after(r#","parent":"#)?,
        commit: c.text_after(r#","commit":"#)?,
        created: c.integer_after(r#","created":"#)?,
        started: c.integer_after(r#","started":"#)?,
        finished: c.integer_after(r#","finished":"#)?,
        ..WirePipeline::default()
    };
    let tree_text = match c.word(r#","workflows":"#) {
        Some(()) => {
            let start = c.at;
            if c.exported_tree().is_none() {
                // A tree of another shape: checked by the reader for any,
                // within this line (it skips line breaks as space, and
                // `text` may hold the lines after this one).
                let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
                let mut line = Cursor {
                    text: &text[..end],
                    at: start,
                };
                line.list(Cursor::workflow)?;
                c.at = line.at;
            }
            Some(&text[start..c.at])
        }
        None => None,
    };
    c.word("}")?;
    Some((Scanned { wire, tree_text }, c.at))
}

/// A line of plain values, its keys in any order and spaced any way.
fn any_order(line: &str) -> Option<WirePipeline<'_>> {
    let mut c = Cursor { text: line, at: 0 };
    let mut wire = WirePipeline::default();
    c.space();
    let seen = c.object(&PIPELINE, |c, i| {
        match i {
            0 => wire.repo = c.string_or_null()?.map(Cow::Borrowed),
            1 => wire.number = c.integer()?,
            2 => wire.status = c.text()?,
            3 => wire.event = c.text()?,
            4 => wire.branch = c.text()?,
            5 => wire.deploy_to = c.text()?,
            6 => wire.parent = c.integer_or_null()?,
            7 => wire.commit = c.text()?,
            8 => wire.created = c.integer_or_null()?,
            9 => wire.started = c.integer_or_null()?,
            10 => wire.finished = c.integer_or_null()?,
            11 => wire.workflows = c.or_null(|c| c.list(Cursor::workflow))?,
            12 => wire.created_at = c.integer_or_null()?,
            13 => wire.started_at = c.integer_or_null()?,
            _ => wire.finished_at = c.integer_or_null()?,
        }
        Some(())
    })?;
    c.space();
    // `number` is the one field serde requires.
    (c.at == line.len() && seen & 2 != 0).then_some(wire)
}

/// The keys read of each object, in the order `export` writes them (the
/// next key is guessed before the list is searched); any other key is
/// skipped.
const PIPELINE: [&str; 15] = [
    "repo",
    "number",
    "status",
    "event",
    "branch",
    "deploy_to",
    "parent",
    "commit",
    "created",
    "started",
    "finished",
    "workflows",
    "created_at",
    "started_at",
    "finished_at",
];
const WORKFLOW: [&str; 7] = [
    "name",
    "state",
    "started",
    "finished",
    "children",
    "start_time",
    "end_time",
];
/// A step's keys are a workflow's but `children`.
const STEP: [&str; 6] = [
    "name",
    "state",
    "started",
    "finished",
    "start_time",
    "end_time",
];

/// Where `text` has its first `"`, `\\` or control character: eight bytes
/// at a time, as most strings of a line are longer than that.
fn string_end(text: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // High bit set in each byte of `v` that is zero (exact up to the first).
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut words = text.chunks_exact(8);
    let mut at = 0;
    for w in words.by_ref() {
        let v = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        let hit = zero(v ^ (ONES * u64::from(b'"')))
            | zero(v ^ (ONES * u64::from(b'\\')))
            | (v.wrapping_sub(ONES * 0x20) & !v & HIGH);
        if hit != 0 {
            return Some(at + hit.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let rest = words.remainder();
    rest.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    #[inline(always)]
    fn word(&mut self, word: &str) -> Option<()> {
        let end = self.at + word.len();
        (self.text.as_bytes().get(self.at..end)? == word.as_bytes()).then(|| self.at = end)
    }

    /// `before` (a key, its colon and what precedes it), then a plain
    /// string.
    #[inline(always)]
    fn text_after(&mut self, before: &str) -> Option<Cow<'a, str>> {
        self.word(before)?;
        self.plain_string().map(Cow::Borrowed)
    }

    /// `before`, then an integer.
    #[inline(always)]
    fn integer_after(&mut self, before: &str) -> Option<i64> {
        self.word(before)?;
        self.integer()
    }

    /// A workflow tree exactly as `export` writes it, checked, not read:
    /// what the reader for any shape would read.
    fn exported_tree(&mut self) -> Option<()> {
        self.exported_list(|c| {
            c.exported_unit()?;
            c.word(r#","children":"#)?;
            c.exported_list(|c| {
                c.exported_unit()?;
                c.eat(b'}')
            })?;
            c.eat(b'}')
        })
    }

    /// A list as `export` writes it: `[`, items read by `item` between
    /// commas, `]`, no space (space would let it run past the line).
    fn exported_list(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            item(self)?;
            if self.eat(b',').is_none() {
                return self.eat(b']');
            }
        }
    }

    /// What a workflow and a step both start with: name, state and times
    /// (the object is left open).
    fn exported_unit(&mut self) -> Option<()> {
        self.text_after(r#"{"name":"#)?;
        self.text_after(r#","state":"#)?;
        self.integer_after(r#","started":"#)?;
        self.integer_after(r#","finished":"#)?;
        Some(())
    }

    /// An object whose known keys (`keys`) are read by `value`, each at
    /// most once (serde refuses a repeated field); which ones were seen.
    fn object(
        &mut self,
        keys: &[&str],
        mut value: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<u32> {
        let mut seen = 0u32;
        let mut next = 0;
        self.eat(b'{')?;
        self.space();
        if self.eat(b'}').is_some() {
            return Some(seen);
        }
        loop {
            self.space();
            // The key `export` writes next is tried in place first: most
            // lines are its own.
            let known = match keys.get(next) {
                Some(&guess) if self.quoted(guess) => Some(next),
                _ => {
                    let key = self.plain_string()?;
                    keys.iter().position(|&k| k == key)
                }
            };
            self.space();
            self.eat(b':')?;
            self.space();
            match known {
                None => self.plain_value()?,
                Some(i) if seen & (1 << i) != 0 => return None,
                Some(i) => {
                    seen |= 1 << i;
                    next = i + 1;
                    value(self, i)?;
                }
            }
            self.space();
            if self.eat(b',').is_none() {
                self.eat(b'}')?;
                return Some(seen);
            }
        }
    }

    /// An array of what `item` reads.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let mut items = Vec::new();
        self.eat(b'[')?;
        self.space();
        if self.eat(b']').is_some() {
            return Some(items);
        }
        loop {
            self.space();
            items.push(item(self)?);
            self.space();
            if self.eat(b',').is_none() {
                self.eat(b']')?;
                return Some(items);
            }
        }
    }

    /// `null` as `None`, else what `read` reads.
    fn or_null<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.peek()? {
            b'n' => self.null().map(|()| None),
            _ => read(self).map(Some),
        }
    }

    fn workflow(&mut self) -> Option<WireWorkflow<'a>> {
        let mut w = WireWorkflow::default();
        self.object(&WORKFLOW, |c, i| {
            match i {
                0 => w.name = c.text()?,
                1 => w.state = c.text()?,
                2 => w.started = c.integer_or_null()?,
                3 => w.finished = c.integer_or_null()?,
                4 => w.children = c.or_null(|c| c.list(Cursor::step))?.unwrap_or_default(),
                5 => w.start_time = c.integer_or_null()?,
                _ => w.end_time = c.integer_or_null()?,
            }
            Some(())
        })?;
        Some(w)
    }

    fn step(&mut self) -> Option<WireStep<'a>> {
        let mut s = WireStep::default();
        self.object(&STEP, |c, i| {
            match i {
                0 => s.name = c.text()?,
                1 => s.state = c.text()?,
                2 => s.started = c.integer_or_null()?,
                3 => s.finished = c.integer_or_null()?,
                4 => s.start_time = c.integer_or_null()?,
                _ => s.end_time = c.integer_or_null()?,
            }
            Some(())
        })?;
        Some(s)
    }

    /// Reads `"word"` if that is what is next.
    fn quoted(&mut self, word: &str) -> bool {
        let (w, n) = (word.as_bytes(), word.len());
        let Some(t) = self.text.as_bytes().get(self.at..self.at + n + 2) else {
            return false;
        };
        let hit = t[0] == b'"' && t[n + 1] == b'"' && short_text::same(&t[1..=n], w);
        if hit {
            self.at += n + 2;
        }
        hit
    }

    /// A string without escapes or control characters, borrowed.
    fn plain_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        self.at = start + string_end(&self.text.as_bytes()[start..])?;
        let len = self.at - start;
        self.eat(b'"')?;
        Some(&self.text[start..start + len])
    }

    fn null(&mut self) -> Option<()> {
        self.word("null")
    }

    fn string_or_null(&mut self) -> Option<Option<&'a str>> {
        self.or_null(Cursor::plain_string)
    }

    /// A string field of the wire model: `null` reads as empty.
    fn text(&mut self) -> Option<Cow<'a, str>> {
        Some(Cow::Borrowed(self.string_or_null()?.unwrap_or("")))
    }

    /// A JSON integer that fits an `i64`: no fraction, exponent, leading
    /// zero or `-0` (serde reads or rejects those; they are left to it).
    fn integer(&mut self) -> Option<i64> {
        let negative = self.eat(b'-').is_some();
        let (bytes, start) = (self.text.as_bytes(), self.at);
        // Wraps past 19 digits, which are then refused: no check per digit.
        let mut magnitude = 0u64;
        while let Some(d @ b'0'..=b'9') = bytes.get(self.at).copied() {
            magnitude = magnitude.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            self.at += 1;
        }
        let digits = self.at - start;
        if digits == 0 || digits > 19 || (digits > 1 && bytes[start] == b'0') {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        if negative {
            // serde reads `-0` as a float, which no integer field takes.
            (magnitude != 0).then(|| 0i64.checked_sub_unsigned(magnitude))?
        } else {
            i64::try_from(magnitude).ok()
        }
    }

    /// A time or number field of the wire model: `null` reads as 0.
    fn integer_or_null(&mut self) -> Option<i64> {
        Some(self.or_null(Cursor::integer)?.unwrap_or(0))
    }

    /// An unread key's value: a plain string, a whole number, `true`,
    /// `false`, `null`, or an array or object checked as JSON and skipped,
    /// as serde skips it; anything else is left to serde.
    fn plain_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.plain_string().map(drop),
            b't' => self.word("true"),
            b'f' => self.word("false"),
            b'n' => self.null(),
            b'[' | b'{' => {
                // Checked as JSON, not read.
                let rest = &self.text[self.at..];
                let mut values = serde_json::Deserializer::from_str(rest).into_iter::<IgnoredAny>();
                values.next()?.ok()?;
                self.at += values.byte_offset();
                Some(())
            }
            _ => self.integer().map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Option<String> {
        scan_line(line).map(Scanned::into_wire).map(|w| {
            format!(
                "{:?} {} {} {} {} {} {} {} {} {} {} {}",
                w.repo,
                w.number,
                w.status,
                w.event,
                w.branch,
                w.deploy_to,
                w.commit,
                w.created,
                w.created_at,
                w.finished,
                w.parent,
                w.workflows.map_or(0, |t| t.len()),
            )
        })
    }

    #[test]
    fn reads_the_plain_shape() {
        let line = r#" { "repo" : "a/b", "number":7,"status":"success","event":null,"branch":"main","deploy_to":"","commit":"ab","created":-5,"created_at":null,"finished":9,"parent":0,"x":true,"y":1,"z":[{"a":[1]}],"workflows":[{"name":"w","children":[]}]} "#;
        assert_eq!(
            fields(line).as_deref(),
            Some(r#"Some("a/b") 7 success  main  ab -5 0 9 0 1"#)
        );
    }

    /// What serde may read otherwise, or reject, is left to it.
    #[test]
    fn leaves_everything_else_to_serde() {
        for line in [
            r#"{"repo":"a\/b","number":1}"#,
            r#"{"repo":"a/b","number":1.0}"#,
            r#"{"repo":"a/b","number":1e3}"#,
            r#"{"repo":"a/b","number":01}"#,
            r#"{"repo":"a/b","number":9223372036854775808}"#,
            r#"{"repo":"a/b","number":1,"number":2}"#,
            r#"{"repo":"a/b"}"#,
            r#"{"repo":5,"number":1}"#,
            r#"{"repo":"a/b","number":1,"status":5}"#,
            r#"{"repo":"a/b","number":1,"x":1.5}"#,
            r#"{"repo":"a/b","number":1,}"#,
            r#"{"repo":"a/b","number":1} x"#,
            r#"{"repo":"a/b","number":1,"workflows":[{"started":"soon"}]}"#,
            r#"{"repo":"a/b","number":1,"workflows":[}"#,
            "{\"repo\":\"a\tb\",\"number\":1}",
            r#"[{"repo":"a/b","number":1}]"#,
            "",
        ] {
            assert_eq!(fields(line), None, "{line}");
        }
    }

    #[test]
    fn integers_at_the_edges() {
        let n = |text: &str| {
            let mut c = Cursor { text, at: 0 };
            c.integer().filter(|_| c.at == text.len())
        };
        assert_eq!(n("0"), Some(0));
        assert_eq!(n("-0"), None);
        assert_eq!(n("9223372036854775807"), Some(i64::MAX));
        assert_eq!(n("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(n("-"), None);
        assert_eq!(n("-01"), None);
        // Past what an `i64` holds, with 19 digits and with 20.
        assert_eq!(n("9999999999999999999"), None);
        assert_eq!(n("-9223372036854775809"), None);
        assert_eq!(n("18446744073709551616"), None);
    }
}

/// The scanner against serde on lines built from random keys, values and
/// spacing: whatever it reads, serde reads the same; what `export` writes,
/// it reads.
#[cfg(test)]
mod agrees_with_serde {
    use proptest::prelude::*;

    use super::{exported_prefix, scan_line, PIPELINE, STEP};
    use crate::domain::{Pipeline, Tree};
    use crate::woodpecker::model::{tree, WirePipeline};
    use crate::woodpecker::pipeline_json_line;

    fn read(mut w: WirePipeline) -> (Option<String>, Option<Pipeline>, Option<Tree>) {
        let tree = w.workflows.take().map(tree);
        (
            w.repo.as_ref().map(|r| r.to_string()),
            w.into_domain(),
            tree,
        )
    }

    /// The keys read, and one that is not.
    fn keys(read: &[&'static str], other: &'static str) -> Vec<&'static str> {
        read.iter().copied().chain([other]).collect()
    }

    fn space() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", "", "", " ", "\t", " \r\n "])
    }

    fn text() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            r#""main""#,
            r#""""#,
            r#""deployment""#,
            r#""success""#,
            r#""0123456789abcdef0123456789abcdef01234567""#,
            r#""a\/b""#,
            r#""f\u00fcr""#,
            r#""wé b""#,
            "null",
        ])
        .prop_map(String::from)
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            (-5i64..5_000_000_000).prop_map(|n| n.to_string()),
            prop::sample::select(vec![
                "0",
                "-0",
                "01",
                "1.0",
                "1e3",
                "9223372036854775807",
                "9223372036854775808",
                "-9223372036854775808",
                "null",
                "\"7\"",
                "true",
            ])
            .prop_map(String::from),
        ]
    }

    fn object(entries: Vec<(String, String)>, gaps: Vec<&'static str>) -> String {
        let body: Vec<String> = entries
            .iter()
            .zip(gaps.iter().cycle())
            .map(|((k, v), gap)| format!("{gap}\"{k}\"{gap}:{gap}{v}{gap}"))
            .collect();
        format!("{{{}}}", body.join(","))
    }

    fn step() -> impl Strategy<Value = String> {
        let key = prop::sample::select(keys(&STEP, "exit_code"));
        (
            prop::collection::vec((key, prop_oneof![text(), number()]), 0..6),
            prop::collection::vec(space(), 1..4),
        )
            .prop_map(|(kv, gaps)| {
                object(
                    kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                    gaps,
                )
            })
    }

    fn workflows() -> impl Strategy<Value = String> {
        let children = prop_oneof![
            Just("null".to_string()),
            prop::collection::vec(step(), 0..3).prop_map(|s| format!("[{}]", s.join(","))),
        ];
        let workflow = (step(), children).prop_map(|(s, c)| match s.strip_suffix('}') {
            Some(open) if open.len() > 1 => format!("{open},\"children\":{c}}}"),
            _ => format!("{{\"children\":{c}}}"),
        });
        prop_oneof![
            Just("null".to_string()),
            prop::collection::vec(workflow, 0..3).prop_map(|w| format!("[{}]", w.join(","))),
        ]
    }

    fn line() -> impl Strategy<Value = String> {
        let key = prop::sample::select(keys(&PIPELINE, "author"));
        let value = prop_oneof![
            text(),
            number(),
            workflows(),
            Just(r#"{"login":"a","x":[1,{"y":null}]}"#.to_string()),
        ];
        (
            prop::collection::vec((key, value), 0..14),
            prop::collection::vec(space(), 1..4),
            any::<bool>(),
        )
            .prop_map(|(kv, gaps, cut)| {
                let mut entries = vec![
                    ("repo".to_string(), r#""acme/api""#.to_string()),
                    ("number".to_string(), "7".to_string()),
                ];
                entries.extend(kv.into_iter().map(|(k, v)| (k.to_string(), v)));
                let line = object(entries, gaps);
                let mut end = if cut { line.len() * 2 / 3 } else { line.len() };
                while !line.is_char_boundary(end) {
                    end -= 1;
                }
                line[..end].to_string()
            })
    }

    /// Whatever the scanner reads of `line`, serde reads the same.
    fn agrees(line: &str) -> Result<(), TestCaseError> {
        if let Some(scanned) = scan_line(line) {
            let serde = serde_json::from_str::<WirePipeline>(line);
            prop_assert!(
                serde.is_ok(),
                "scanned, but serde says {:?}: {}",
                serde.err(),
                line
            );
            prop_assert_eq!(read(scanned.into_wire()), read(serde.unwrap()), "{}", line);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn what_it_reads_serde_reads_the_same(line in line()) {
            agrees(&line)?;
        }
    }

    /// Bytes a string may end at, or hold, among others.
    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            4 => 0x20u8..0x7f,
            1 => prop::sample::select(vec![b'"', b'\\', 0x00, 0x1f, 0x7f, 0x80, 0xa0, 0xff]),
        ];
        prop::collection::vec(byte, 0..40)
    }

    /// An export's line with a byte changed, added or cut.
    fn damaged_line() -> impl Strategy<Value = String> {
        let lines = demo_lines();
        let swaps = b"\"\\{}[],:-.e0 9an";
        (
            prop::sample::select(lines),
            any::<prop::sample::Index>(),
            prop::sample::select(swaps.to_vec()),
            0..3u8,
        )
            .prop_map(|(line, at, byte, how)| {
                let mut b = line.into_bytes();
                let at = at.index(b.len());
                match how {
                    0 => b[at] = byte,
                    1 => b.insert(at, byte),
                    _ => b.truncate(at),
                }
                String::from_utf8_lossy(&b).into_owned()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn string_end_finds_the_first_quote_backslash_or_control(b in bytes()) {
            let simple = b.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(super::string_end(&b), simple);
        }

        #[test]
        fn a_damaged_export_line_reads_as_serde_reads_it(line in damaged_line()) {
            agrees(&line)?;
        }
    }

    /// Every line `export` writes of the demo history.
    fn demo_lines() -> Vec<String> {
        crate::source::demo::demo_history(1_780_272_000)
            .iter()
            .flat_map(|r| {
                r.pipelines
                    .iter()
                    .map(|p| pipeline_json_line(r.full_name, p, r.trees.get(&p.number())))
            })
            .collect()
    }

    #[test]
    fn reads_every_line_export_writes() {
        let lines = demo_lines();
        assert!(lines.len() > 1_000);
        assert!(lines.iter().any(|l| l.contains("\"workflows\":[{")));
        for line in &lines {
            // By the literal reader, not the one for any order.
            let (scanned, len) =
                exported_prefix(line).unwrap_or_else(|| panic!("not scanned: {line}"));
            assert_eq!(len, line.len());
            let serde = serde_json::from_str::<WirePipeline>(line).unwrap();
            assert_eq!(read(scanned.into_wire()), read(serde), "{line}");
        }
    }
}
