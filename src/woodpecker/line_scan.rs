//! The export's own line shape read without serde: objects of plain
//! strings (no escapes), whole numbers, nulls and the workflow tree's
//! arrays, as `export` writes them. Parsing is most of what
//! `report --input` costs, and a generic parser spends it on work these
//! lines never need.
//!
//! Anything else (an escape, a fraction, a repeated key, a value of the
//! wrong type, a syntax error) is not read here but left to the serde
//! parse, which reads every line as before and words every error: this
//! module only ever answers what serde would, or nothing.

use std::borrow::Cow;

use serde::de::IgnoredAny;

use super::model::{WirePipeline, WireStep, WireWorkflow};

/// `line` as the wire model, or `None` when it is not in the plain shape.
pub(super) fn scan_line(line: &str) -> Option<WirePipeline<'_>> {
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

    fn word(&mut self, word: &str) -> Option<()> {
        self.text[self.at..]
            .starts_with(word)
            .then(|| self.at += word.len())
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
            let key = self.plain_string()?;
            self.space();
            self.eat(b':')?;
            self.space();
            let known = match keys.get(next) {
                Some(&guess) if guess == key => Some(next),
                _ => keys.iter().position(|&k| k == key),
            };
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

    /// A string without escapes or control characters, borrowed.
    fn plain_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let len = self.text.as_bytes()[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        self.at = start + len;
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
        let start = self.at;
        let mut value: i64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            let digit = i64::from(d - b'0');
            value = value.checked_mul(10).and_then(|v| {
                if negative {
                    v.checked_sub(digit)
                } else {
                    v.checked_add(digit)
                }
            })?;
            self.at += 1;
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.text.as_bytes()[start] == b'0';
        let more = matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        // serde reads `-0` as a float, which no integer field takes.
        let negative_zero = negative && value == 0;
        (digits > 0 && !leading_zero && !more && !negative_zero).then_some(value)
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
        scan_line(line).map(|w| {
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
    }
}

/// The scanner against serde on lines built from random keys, values and
/// spacing: whatever it reads, serde reads the same; what `export` writes,
/// it reads.
#[cfg(test)]
mod agrees_with_serde {
    use proptest::prelude::*;

    use super::{scan_line, PIPELINE, STEP};
    use crate::domain::Pipeline;
    use crate::woodpecker::model::WirePipeline;
    use crate::woodpecker::pipeline_json_line;

    fn read(w: WirePipeline) -> (Option<String>, Option<Pipeline>) {
        (w.repo.as_ref().map(|r| r.to_string()), w.into_domain())
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn what_it_reads_serde_reads_the_same(line in line()) {
            if let Some(scanned) = scan_line(&line) {
                let serde = serde_json::from_str::<WirePipeline>(&line);
                prop_assert!(serde.is_ok(), "scanned, but serde says {:?}: {}", serde.err(), line);
                prop_assert_eq!(read(scanned), read(serde.unwrap()), "{}", line);
            }
        }
    }

    #[test]
    fn reads_every_line_export_writes() {
        let lines: Vec<String> = crate::source::demo::demo_history(1_780_272_000)
            .iter()
            .flat_map(|r| {
                r.pipelines
                    .iter()
                    .map(|p| pipeline_json_line(r.full_name, p, r.trees.get(&p.number())))
            })
            .collect();
        assert!(lines.len() > 1_000);
        assert!(lines.iter().any(|l| l.contains("\"workflows\":[{")));
        for line in &lines {
            let scanned = scan_line(line).unwrap_or_else(|| panic!("not scanned: {line}"));
            let serde = serde_json::from_str::<WirePipeline>(line).unwrap();
            assert_eq!(read(scanned), read(serde), "{line}");
        }
    }
}
