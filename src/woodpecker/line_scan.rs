//! The export's own line shape read without serde: a flat object of plain
//! strings (no escapes), whole numbers and nulls, as `export` writes it.
//! Parsing is most of what `report --input` costs, and a generic parser
//! spends it on work these lines never need.
//!
//! Anything else (an escape, a fraction, a repeated key, a value of the
//! wrong type, a syntax error) is not read here but left to the serde
//! parse, which reads every line as before and words every error: this
//! module only ever answers what serde would, or nothing.

use std::borrow::Cow;

use serde::de::IgnoredAny;

use super::model::{WirePipeline, WireWorkflow};

/// `line` as the wire model, or `None` when it is not in the plain shape.
/// The workflow tree, when present, is read by serde (it is checked as
/// strictly as before).
pub(super) fn scan_line(line: &str) -> Option<WirePipeline<'_>> {
    let mut c = Cursor { text: line, at: 0 };
    let mut wire = WirePipeline::default();
    // Each key once: serde rejects a repeated field, which the tree parse
    // then reads (the last one counts).
    let mut seen = 0u32;
    // Lines written by `export` name the keys in FIELDS' order: guess the
    // next one before searching.
    let mut next = 0;
    c.space();
    c.eat(b'{')?;
    c.space();
    if c.eat(b'}').is_none() {
        loop {
            c.space();
            let key = c.plain_string()?;
            c.space();
            c.eat(b':')?;
            c.space();
            let field = match FIELDS.get(next) {
                Some(&guess) if guess == key => Some(next),
                _ => FIELDS.iter().position(|&f| f == key),
            };
            match field {
                None => c.plain_value()?,
                Some(i) if seen & (1 << i) != 0 => return None,
                Some(i) => {
                    seen |= 1 << i;
                    next = i + 1;
                    c.field(i, &mut wire)?;
                }
            }
            c.space();
            if c.eat(b',').is_none() {
                c.eat(b'}')?;
                break;
            }
        }
    }
    c.space();
    // `number` is the one field serde requires.
    (c.at == line.len() && seen & 2 != 0).then_some(wire)
}

/// The keys read; any other is skipped when its value is plain.
const FIELDS: [&str; 15] = [
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

    /// The value of `FIELDS[i]`, into `wire`.
    fn field(&mut self, i: usize, wire: &mut WirePipeline<'a>) -> Option<()> {
        match i {
            0 => wire.repo = self.string_or_null()?.map(Cow::Borrowed),
            1 => wire.number = self.integer()?,
            2 => wire.status = self.text()?,
            3 => wire.event = self.text()?,
            4 => wire.branch = self.text()?,
            5 => wire.deploy_to = self.text()?,
            6 => wire.parent = self.integer_or_null()?,
            7 => wire.commit = self.text()?,
            8 => wire.created = self.integer_or_null()?,
            9 => wire.started = self.integer_or_null()?,
            10 => wire.finished = self.integer_or_null()?,
            11 => wire.workflows = self.workflows()?,
            12 => wire.created_at = self.integer_or_null()?,
            13 => wire.started_at = self.integer_or_null()?,
            _ => wire.finished_at = self.integer_or_null()?,
        }
        Some(())
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
        match self.peek()? {
            b'"' => self.plain_string().map(Some),
            _ => self.null().map(|()| None),
        }
    }

    /// A string field of the wire model: `null` reads as empty.
    fn text(&mut self) -> Option<Cow<'a, str>> {
        Some(Cow::Borrowed(self.string_or_null()?.unwrap_or("")))
    }

    /// A JSON integer that fits an `i64`: no fraction, exponent or
    /// leading zero (serde reads or rejects those; they are left to it).
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
        (digits > 0 && !leading_zero && !more).then_some(value)
    }

    fn integer_or_null(&mut self) -> Option<i64> {
        match self.peek()? {
            b'n' => self.null().map(|()| 0),
            _ => self.integer(),
        }
    }

    /// The tree, read by serde from where it starts to where it ends.
    fn workflows(&mut self) -> Option<Option<Vec<WireWorkflow<'a>>>> {
        if self.peek()? == b'n' {
            return self.null().map(|()| None);
        }
        let rest = &self.text[self.at..];
        let mut values =
            serde_json::Deserializer::from_str(rest).into_iter::<Vec<WireWorkflow<'a>>>();
        let tree = values.next()?.ok()?;
        self.at += values.byte_offset();
        Some(Some(tree))
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
        assert_eq!(n("-0"), Some(0));
        assert_eq!(n("9223372036854775807"), Some(i64::MAX));
        assert_eq!(n("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(n("-"), None);
        assert_eq!(n("-01"), None);
    }
}
