//! An export's JSON lines, grouped by repository. The input is read a
//! block at a time (a 1M-pipeline export need not be held whole next to
//! its pipelines); each block is cut at line breaks into one chunk per
//! core, and the chunks are parsed side by side: parsing is most of what
//! `report --input` costs.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{ErrorKind, Read};

use crate::domain::parts::cores;
use crate::domain::short_text::same;
use crate::domain::{Pipeline, Tree, Trees};
use crate::woodpecker::{parse_export_line, parse_exported_line};

/// How much input is parsed at a time.
const BLOCK: usize = 8 << 20;
/// Below this much text per chunk, another thread costs more than it saves.
const MIN_CHUNK: usize = 1 << 20;

/// Which pipelines keep their workflow tree (deploy steps judge them).
pub type KeepTree<'a> = &'a (dyn Fn(&Pipeline) -> bool + Sync);

/// Each repository named in `input` with its pipelines in file order and
/// their workflow trees, sorted by name; only pipelines `keep_tree` names
/// keep their tree. An error names `origin`, and the first bad line.
pub(crate) fn read_json_lines(
    mut input: impl Read,
    origin: &str,
    keep_tree: KeepTree,
) -> Result<Vec<(String, Vec<Pipeline>, Trees)>, String> {
    let cores = cores();
    let unreadable = |e: std::io::Error| format!("cannot read {origin}: {e}");
    let mut repos = Repos::default();
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK);
    let mut next: Vec<u8> = Vec::with_capacity(BLOCK);
    let mut ended = fill(&mut input, &mut buf).map_err(unreadable)?;
    loop {
        // Whole lines only, but at the end; a line longer than the block
        // waits for the block to grow.
        let cut = match buf.iter().rposition(|&b| b == b'\n') {
            _ if ended => buf.len(),
            Some(at) => at + 1,
            None => {
                buf.reserve(buf.len());
                ended = fill(&mut input, &mut buf).map_err(unreadable)?;
                continue;
            }
        };
        // A cut at a line break never splits a character.
        let text = std::str::from_utf8(&buf[..cut]).map_err(|_| {
            unreadable(std::io::Error::new(
                ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ))
        })?;
        next.clear();
        next.reserve(buf.capacity());
        next.extend_from_slice(&buf[cut..]);
        let n = cores.min(text.len() / MIN_CHUNK).max(1);
        // The next block is read while this one is parsed.
        let (parsed, next_ended) = parse_while(&chunks(text, n), keep_tree, || {
            if ended {
                Ok(true)
            } else {
                fill(&mut input, &mut next)
            }
        });
        repos.add(parsed, origin)?;
        if ended {
            return Ok(repos.sorted());
        }
        ended = next_ended.map_err(unreadable)?;
        std::mem::swap(&mut buf, &mut next);
    }
}

/// Reads until `buf` is full (to its capacity) or the input ends; whether
/// it ended.
fn fill(input: &mut impl Read, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let room = buf.capacity() - buf.len();
    let got = Read::take(input, room as u64).read_to_end(buf)?;
    Ok(got < room)
}

/// Parses `parts` (consecutive pieces of one text), one thread each, while
/// `meanwhile` runs on this thread.
fn parse_while<'a, T>(
    parts: &[&'a str],
    keep_tree: KeepTree,
    meanwhile: impl FnOnce() -> T,
) -> (Vec<Result<Chunk<'a>, BadLine>>, T) {
    std::thread::scope(|s| {
        let running: Vec<_> = parts
            .iter()
            .map(|part| s.spawn(|| parse_chunk(part, keep_tree)))
            .collect();
        let other = meanwhile();
        let parsed = running
            .into_iter()
            .map(|t| t.join().expect("parsing a line does not panic"))
            .collect();
        (parsed, other)
    })
}

/// The repositories read so far, and how many lines that took.
#[derive(Default)]
struct Repos {
    repos: Vec<(String, Vec<Pipeline>, Trees)>,
    index: HashMap<String, usize>,
    lines: usize,
}

impl Repos {
    /// Adds the chunks in order; the first bad line fails the read.
    fn add(&mut self, chunks: Vec<Result<Chunk, BadLine>>, origin: &str) -> Result<(), String> {
        for chunk in chunks {
            let chunk = chunk
                .map_err(|BadLine(line, m)| format!("{origin}, line {}: {m}", self.lines + line))?;
            self.lines += chunk.lines;
            for Run {
                repo,
                pipelines,
                trees,
            } in chunk.runs
            {
                match self.index.get(&*repo) {
                    Some(&i) => {
                        self.repos[i].1.extend(pipelines);
                        self.repos[i].2.extend(trees);
                    }
                    None => {
                        self.index.insert(repo.to_string(), self.repos.len());
                        let trees = trees.into_iter().collect();
                        self.repos.push((repo.into_owned(), pipelines, trees));
                    }
                }
            }
        }
        Ok(())
    }

    fn sorted(mut self) -> Vec<(String, Vec<Pipeline>, Trees)> {
        self.repos.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.repos
    }
}

/// `text` cut into at most `n` pieces of about equal size, each ending
/// with a line break (but the last), so each holds whole lines.
fn chunks(text: &str, n: usize) -> Vec<&str> {
    let size = text.len() / n;
    let mut parts = Vec::with_capacity(n);
    let mut rest = text;
    while parts.len() + 1 < n && rest.len() > size {
        let Some(at) = rest.as_bytes()[size..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let (part, tail) = rest.split_at(size + at + 1);
        parts.push(part);
        rest = tail;
    }
    parts.push(rest);
    parts
}

/// The lines of one chunk: how many there were (blank ones too, for the
/// line numbers of later chunks) and the runs of consecutive lines of one
/// repository (an export writes a repository's lines together).
struct Chunk<'a> {
    lines: usize,
    runs: Vec<Run<'a>>,
}

/// Consecutive lines of one repository: its pipelines, and the trees kept
/// of them by number (few: only deploy candidates keep one).
struct Run<'a> {
    repo: Cow<'a, str>,
    pipelines: Vec<Pipeline>,
    trees: Vec<(u64, Tree)>,
}

/// The first bad line of a chunk, counted from 1 within it.
struct BadLine(usize, String);

fn parse_chunk<'a>(text: &'a str, keep_tree: KeepTree) -> Result<Chunk<'a>, BadLine> {
    let mut chunk = Chunk {
        lines: 0,
        runs: Vec::new(),
    };
    let mut rest = text;
    while !rest.is_empty() {
        chunk.lines += 1;
        let n = chunk.lines;
        // The export's own lines are read where they stand; any other is
        // cut at its line break first.
        let (read, len) = match parse_exported_line(rest, keep_tree) {
            Some((read, len)) => (Some(read), len),
            None => {
                let len = rest.find('\n').unwrap_or(rest.len());
                let line = &rest[..len];
                let line = line.strip_suffix('\r').unwrap_or(line);
                let read = if line.trim().is_empty() {
                    None
                } else {
                    Some(parse_export_line(line, keep_tree).map_err(|m| BadLine(n, m))?)
                };
                (read, len)
            }
        };
        rest = rest.get(len + 1..).unwrap_or("");
        let Some((repo, p, tree)) = read else {
            continue;
        };
        let run = match chunk.runs.last_mut() {
            Some(run) if same(run.repo.as_bytes(), repo.as_bytes()) => run,
            _ => {
                // Runs are mostly whole repos of similar size: start at the
                // last one's, not at 1 and a dozen copies while doubling.
                let hint = chunk.runs.last().map_or(16, |r| r.pipelines.len());
                chunk.runs.push(Run {
                    repo,
                    pipelines: Vec::with_capacity(hint),
                    trees: Vec::new(),
                });
                chunk.runs.last_mut().expect("just pushed")
            }
        };
        if let Some(t) = tree {
            run.trees.push((p.number(), t));
        }
        run.pipelines.push(p);
    }
    Ok(chunk)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of two repos, interleaved in runs, with blank lines and one
    /// escaped name: as many ways to cut them, the same repos.
    #[test]
    fn any_cut_reads_the_same_and_names_the_same_bad_line() {
        let line = |repo: &str, n: u64| {
            format!(r#"{{"repo":"{repo}","number":{n},"status":"success","finished":{n}}}"#)
        };
        let mut lines = Vec::new();
        for n in 1..=40 {
            lines.push(line(if n % 7 < 3 { "a/x" } else { " b\\/y " }, n));
            if n % 9 == 0 {
                lines.push(String::new());
            }
        }
        let text = lines.join("\n");
        let whole = read_json_lines(text.as_bytes(), "h.jsonl", &|_| true).unwrap();
        assert_eq!(
            whole
                .iter()
                .map(|(r, p, _)| (r.as_str(), p.len()))
                .collect::<Vec<_>>(),
            [("a/x", 17), ("b/y", 23)]
        );
        let bad = text.replace(r#""number":31,"#, r#""number":"x","#);
        let at = 1 + bad.lines().position(|l| l.contains(r#""x""#)).unwrap();
        let read = |text: &str, n| {
            let mut repos = Repos::default();
            repos
                .add(parse_while(&chunks(text, n), &|_| true, || ()).0, "h.jsonl")
                .map(|()| repos.sorted())
        };
        for n in 2..9 {
            assert_eq!(read(&text, n).unwrap(), whole);
            let e = read(&bad, n).unwrap_err();
            assert!(e.starts_with(&format!("h.jsonl, line {at}: ")), "{n}: {e}");
        }
    }

    /// The export's own lines, read where they stand, against each line
    /// cut first and read alone: with line feeds and CRLFs, blank lines,
    /// no break at the end, and a bad line in the export's shape.
    #[test]
    fn exported_lines_read_in_place_as_each_line_alone() {
        let mut text = String::new();
        for (i, r) in crate::source::demo::demo_history(1_780_272_000)
            .iter()
            .enumerate()
        {
            for (j, p) in r.pipelines.iter().enumerate() {
                let line =
                    crate::woodpecker::pipeline_json_line(r.full_name, p, r.trees.get(&p.number()));
                text.push_str(&line);
                text.push_str(match (i + j) % 5 {
                    0 => "\r\n",
                    1 => "\n\n",
                    _ => "\n",
                });
            }
        }
        let text = text.trim_end();
        let mut alone: Vec<(String, Vec<Pipeline>, Trees)> = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (repo, p, tree) = parse_export_line(line, &|_| true).unwrap();
            if alone.last().is_none_or(|(r, _, _)| *r != repo) {
                alone.push((repo.into_owned(), Vec::new(), Trees::default()));
            }
            let (_, pipelines, trees) = alone.last_mut().unwrap();
            trees.extend(tree.map(|t| (p.number(), t)));
            pipelines.push(p);
        }
        alone.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(alone.iter().any(|(_, _, t)| !t.is_empty()));
        let read = read_json_lines(text.as_bytes(), "h.jsonl", &|_| true).unwrap();
        assert_eq!(read, alone);

        let n = text.lines().count() * 2 / 3;
        let line = text.lines().nth(n - 1).unwrap();
        let number = format!(
            r#","number":{},"#,
            parse_export_line(line, &|_| true).unwrap().1.number()
        );
        let bad = text.replacen(line, &line.replacen(&number, r#","number":0,"#, 1), 1);
        let e = read_json_lines(bad.as_bytes(), "h.jsonl", &|_| true).unwrap_err();
        assert!(e.starts_with(&format!("h.jsonl, line {n}: ")), "{e}");
    }

    /// A pipeline written across two lines is two bad lines, however
    /// much of it the reader for the export's own shape could read.
    #[test]
    fn a_pipeline_across_lines_is_refused_at_its_first_line() {
        let head = r#"{"repo":"o/r","number":1,"status":"success","event":"push","branch":"main","deploy_to":"","parent":0,"commit":"c","created":1,"started":1,"finished":2,"workflows":"#;
        for tail in ["[\n]}", "[{\"name\":\"w\",\n\"state\":\"x\"}]}", "[ \n ]}"] {
            let text = format!("{head}{tail}\n{head}[]}}");
            let e = read_json_lines(text.as_bytes(), "h.jsonl", &|_| true).unwrap_err();
            assert!(e.starts_with("h.jsonl, line 1: "), "{tail}: {e}");
        }
    }

    #[test]
    fn chunks_hold_whole_lines_and_all_the_text() {
        let text = "aaaa\nbb\n\ncccccc\nd\ne";
        for n in 1..8 {
            let parts = chunks(text, n);
            assert!(parts.len() <= n, "{n}: {parts:?}");
            assert_eq!(parts.concat(), text);
            assert!(parts[..parts.len() - 1].iter().all(|p| p.ends_with('\n')));
        }
    }
}
