//! The skip list (`tests/spec-skips.txt`): which spec commands are known not to pass, and why.
//!
//! Format, one entry per line (`#` starts a comment line, blank lines are ignored):
//!
//! ```text
//! <suite>/<file>.wast[:<line>] <reason>
//! <suite>/<file>.wast[:<line>] !<reason>
//! ```
//!
//! A file entry covers every command of the file; a line entry covers the command that starts on
//! that line (1-based). `<suite>` is the test name (`wasm_v2`, `simd`, `tail_call`,
//! `extended_const`, `multi_memory`; `-` is accepted for `_`). Listed commands still run: a listed
//! command that fails counts as skipped, and a listed entry whose commands all pass is reported as
//! stale so the list stays true. A reason starting with `!` means "do not run at all" (for a case
//! that crashes or hangs the process); such commands are counted as skipped without running.

use std::collections::HashMap;

/// One entry of the skip list.
#[derive(Debug)]
pub struct Entry {
    /// Line of the entry in the skip list, for messages.
    pub list_line: usize,
    /// Suite name, normalized to use `_`.
    pub suite: String,
    /// File name, e.g. `i32.wast`.
    pub file: String,
    /// The covered command's line, or `None` for the whole file.
    pub line: Option<usize>,
    /// Why it is skipped.
    pub reason: String,
    /// Whether the covered commands must not be run at all.
    pub no_run: bool,
}

impl Entry {
    /// `suite/file[:line]`, as written in the list.
    pub fn target(&self) -> String {
        match self.line {
            Some(line) => format!("{}/{}:{line}", self.suite, self.file),
            None => format!("{}/{}", self.suite, self.file),
        }
    }

    /// Whether this entry covers the command at `line`.
    pub fn covers(&self, line: usize) -> bool {
        self.line.is_none_or(|l| l == line)
    }
}

/// The parsed skip list.
#[derive(Debug, Default)]
pub struct Skips {
    entries: Vec<Entry>,
}

impl Skips {
    /// Parses the skip list text.
    ///
    /// # Errors
    /// A malformed entry (no reason, bad target, bad line number), naming its line.
    pub fn parse(text: &str) -> Result<Skips, String> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let list_line = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| Err(format!("spec-skips.txt:{list_line}: {why}: `{raw}`"));
            let Some((target, reason)) = line.split_once(char::is_whitespace) else {
                return bad("entry without a reason");
            };
            let reason = reason.trim();
            let (no_run, reason) = match reason.strip_prefix('!') {
                Some(r) => (true, r.trim()),
                None => (false, reason),
            };
            if reason.is_empty() {
                return bad("entry without a reason");
            }
            let Some((suite, rest)) = target.split_once('/') else {
                return bad("target is not `<suite>/<file>.wast[:<line>]`");
            };
            let (file, cmd_line) = match rest.split_once(':') {
                Some((file, l)) => match l.parse::<usize>() {
                    Ok(l) if l > 0 => (file, Some(l)),
                    _ => return bad("line is not a positive number"),
                },
                None => (rest, None),
            };
            if !file.ends_with(".wast") {
                return bad("file does not end in `.wast`");
            }
            entries.push(Entry {
                list_line,
                suite: suite.replace('-', "_"),
                file: file.to_owned(),
                line: cmd_line,
                reason: reason.to_owned(),
                no_run,
            });
        }
        Ok(Skips { entries })
    }

    /// Loads `tests/spec-skips.txt` of this package.
    ///
    /// # Panics
    /// If the file cannot be read or is malformed.
    pub fn load() -> Skips {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec-skips.txt");
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read the skip list `{path}`: {e}"));
        Skips::parse(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The entries of `suite`, grouped by file name.
    pub fn for_suite(&self, suite: &str) -> HashMap<&str, Vec<&Entry>> {
        let mut res: HashMap<&str, Vec<&Entry>> = HashMap::new();
        for e in self.entries.iter().filter(|e| e.suite == suite) {
            res.entry(e.file.as_str()).or_default().push(e);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries() {
        let skips = Skips::parse(
            "# comment\n\nwasm_v2/i32.wast:12 wrong result\nsimd/simd_lane.wast   !crashes\n\
             tail-call/return_call.wast not yet\n",
        )
        .unwrap();
        let e = &skips.entries;
        assert_eq!(e.len(), 3);
        assert_eq!(
            (e[0].file.as_str(), e[0].line, e[0].no_run),
            ("i32.wast", Some(12), false)
        );
        assert_eq!(e[0].reason, "wrong result");
        assert_eq!(
            (e[1].line, e[1].no_run, e[1].reason.as_str()),
            (None, true, "crashes")
        );
        assert_eq!(e[2].suite, "tail_call");
        assert_eq!(e[2].target(), "tail_call/return_call.wast");
        assert!(e[1].covers(7) && e[0].covers(12) && !e[0].covers(13));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for (text, why) in [
            ("wasm_v2/i32.wast\n", "entry without a reason"),
            ("wasm_v2/i32.wast   !  \n", "entry without a reason"),
            ("i32.wast reason\n", "target is not"),
            ("wasm_v2/i32.wast:0 reason\n", "positive number"),
            ("wasm_v2/i32.wat reason\n", "does not end in"),
        ] {
            let err = Skips::parse(text).unwrap_err();
            assert!(err.contains(why) && err.contains(":1:"), "{err}");
        }
    }
}
