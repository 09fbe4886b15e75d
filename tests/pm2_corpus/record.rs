//! What nodeunits made of one corpus file, read from what the binary printed,
//! and how the records are written into `expected.txt`.

use std::collections::BTreeMap;
use std::fmt::Write;

/// One error or warning, as the binary reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `error` or `warning`.
    pub kind: String,
    /// Where, without the file's name: `apps[0].watch`, `6:5`.
    pub place: String,
    pub message: String,
}

/// What one command said of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Its exit status; `None` when killed by a signal.
    pub status: Option<i32>,
    pub findings: Vec<Finding>,
    /// Its last line: `2 apps ok`, `1 error in ...`, `converted`...
    pub verdict: String,
}

impl Outcome {
    /// Reads what the binary, run on `file`, wrote on stderr.
    pub fn read(status: Option<i32>, stderr: &str, file: &str) -> Outcome {
        let mut findings: Vec<Finding> = Vec::new();
        let mut node_says = false;
        for line in stderr.lines() {
            // What node said of a file it could not evaluate: its first line.
            if std::mem::take(&mut node_says) {
                if let Some(last) = findings.last_mut() {
                    last.message = format!("{}: {}", last.message, line.trim());
                }
                continue;
            }
            node_says = line.trim() == "= node says:";
            let headline = line
                .strip_prefix("error: ")
                .map(|m| ("error", m))
                .or(line.strip_prefix("warning: ").map(|m| ("warning", m)));
            if let Some((kind, message)) = headline {
                findings.push(Finding {
                    kind: kind.into(),
                    place: String::new(),
                    message: message.into(),
                });
            } else if let Some(place) = line.trim_start().strip_prefix("--> ") {
                if let Some(last) = findings.last_mut().filter(|f| f.place.is_empty()) {
                    let place = place.strip_prefix(file).unwrap_or(place);
                    last.place = place.trim_start_matches([':', ' ']).into();
                }
            }
        }
        // The summary line `check` and `import` end with: `FILE: 2 apps ok`,
        // `1 error in FILE; ...`, `FILE: converted, with 1 error, ...`.
        let last = stderr.lines().last().unwrap_or_default();
        let verdict = if let Some(rest) = last.strip_prefix(file) {
            rest.trim_start_matches([':', ' '])
        } else if last.starts_with([' ', '=', '|'])
            || last.starts_with("error: ")
            || last.starts_with("warning: ")
        {
            ""
        } else {
            last
        };
        Outcome {
            status,
            findings,
            verdict: verdict.into(),
        }
    }

    pub fn accepted(&self) -> bool {
        self.status == Some(0)
    }

    /// `accepted: 2 apps ok`, `refused: 1 error ...`, or how it crashed.
    fn headline(&self) -> String {
        let verdict = if self.verdict.is_empty() {
            String::new()
        } else {
            format!(": {}", self.verdict)
        };
        match self.status {
            Some(0) => format!("accepted{verdict}"),
            Some(1) => format!("refused{verdict}"),
            Some(code) => format!("CRASHED with exit status {code}: {}", self.verdict),
            None => format!("CRASHED, killed by a signal: {}", self.verdict),
        }
    }

    /// The findings without their places: what stays the same when the
    /// same apps are written in another format.
    fn messages(&self) -> Vec<(&str, &str)> {
        let mut messages: Vec<(&str, &str)> = self
            .findings
            .iter()
            .map(|f| (f.kind.as_str(), f.message.as_str()))
            .collect();
        messages.sort();
        messages
    }
}

/// What nodeunits made of one file of the corpus.
#[derive(Debug)]
pub struct Record {
    /// Its path under `tests/corpus`.
    pub entry: String,
    pub check: Outcome,
    pub render: Outcome,
    /// The units `render` printed, by name.
    pub units: Vec<String>,
    pub import: Outcome,
    /// `check` of the TOML `import` printed, when it printed one.
    pub imported: Option<Outcome>,
}

impl Record {
    fn corpus(&self) -> &str {
        self.entry.split('/').next().unwrap_or_default()
    }

    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "\n== {}", self.entry);
        let _ = writeln!(out, "check: {}", self.check.headline());
        write_findings(out, &self.check.findings);
        if self.render.findings == self.check.findings {
            let _ = writeln!(out, "render: {}, the same findings", self.render.headline());
        } else {
            let _ = writeln!(out, "render: {}", self.render.headline());
            write_findings(out, &self.render.findings);
        }
        if !self.units.is_empty() {
            let _ = writeln!(out, "  units: {}", self.units.join(" "));
        }
        let import = match (self.import.status, self.import.verdict.as_str()) {
            (Some(0), "") => "converted".to_owned(),
            (Some(0 | 1), verdict) => verdict.to_owned(),
            _ => self.import.headline(),
        };
        let _ = writeln!(out, "import: {import}");
        if let Some(imported) = &self.imported {
            if imported.messages() == self.check.messages() {
                let _ = writeln!(
                    out,
                    "  its TOML: {}, the same findings",
                    imported.headline()
                );
            } else {
                let _ = writeln!(out, "  its TOML: {}", imported.headline());
                write_findings(out, &imported.findings);
            }
        }
    }
}

fn write_findings(out: &mut String, findings: &[Finding]) {
    for Finding {
        kind,
        place,
        message,
    } in findings
    {
        let _ = if place.is_empty() {
            writeln!(out, "    {kind}: {message}")
        } else {
            writeln!(out, "    {kind} {place}: {message}")
        };
    }
}

/// A finding's reason: its message with every `quoted` value left out, so
/// that the same rule broken by different values counts once.
pub fn reason(message: &str) -> String {
    let mut out = String::new();
    for (i, part) in message.split('`').enumerate() {
        out.push_str(if i % 2 == 1 { "`…`" } else { part });
    }
    out
}

/// The files that broke one rule, and the values they broke it with.
#[derive(Default)]
struct Tally {
    files: usize,
    /// The first quoted value of each finding, by the number of files.
    values: BTreeMap<String, usize>,
}

/// The first `quoted` value of a message, if it has one.
fn first_value(message: &str) -> Option<&str> {
    message.split('`').nth(1).filter(|value| !value.is_empty())
}

/// The counts of each corpus, and its files by reason.
pub fn summary(records: &[Record]) -> String {
    let mut out = String::new();
    let mut corpora: Vec<&str> = records.iter().map(Record::corpus).collect();
    corpora.dedup();
    for corpus in corpora {
        let of: Vec<&Record> = records.iter().filter(|r| r.corpus() == corpus).collect();
        let accepted = of.iter().filter(|r| r.check.accepted()).count();
        let _ = writeln!(
            out,
            "{corpus}: {} files, {accepted} accepted, {} refused",
            of.len(),
            of.len() - accepted
        );
        for record in of.iter().filter(|r| !matches!(r.check.status, Some(0 | 1))) {
            let _ = writeln!(out, "  CRASHED: {}", record.entry);
        }
        let (errors, warnings) = tallies(&of);
        write_tallies(&mut out, "refused for", &errors);
        write_tallies(&mut out, "warned of", &warnings);
    }
    out
}

/// The errors and the warnings of `records`, by reason.
fn tallies(records: &[&Record]) -> (BTreeMap<String, Tally>, BTreeMap<String, Tally>) {
    let mut errors: BTreeMap<String, Tally> = BTreeMap::new();
    let mut warnings: BTreeMap<String, Tally> = BTreeMap::new();
    for record in records {
        let mut seen: Vec<(&str, String, Option<&str>)> = record
            .check
            .findings
            .iter()
            .map(|f| (f.kind.as_str(), reason(&f.message), first_value(&f.message)))
            .collect();
        seen.sort();
        seen.dedup();
        let mut reasons: Vec<(&str, &String)> = seen.iter().map(|(k, r, _)| (*k, r)).collect();
        reasons.dedup();
        for (kind, reason) in reasons {
            let tallies = if kind == "error" {
                &mut errors
            } else {
                &mut warnings
            };
            tallies.entry(reason.clone()).or_default().files += 1;
        }
        for (kind, reason, value) in &seen {
            let tallies = if *kind == "error" {
                &mut errors
            } else {
                &mut warnings
            };
            if let (Some(tally), Some(value)) = (tallies.get_mut(reason), value) {
                *tally.values.entry((*value).to_owned()).or_default() += 1;
            }
        }
    }
    (errors, warnings)
}

fn write_tallies(out: &mut String, what: &str, tallies: &BTreeMap<String, Tally>) {
    const SHOWN: usize = 8;
    let mut sorted: Vec<(&String, &Tally)> = tallies.iter().collect();
    sorted.sort_by(|a, b| b.1.files.cmp(&a.1.files).then(a.0.cmp(b.0)));
    for (reason, tally) in sorted {
        let _ = write!(out, "  {what} ({} files): {reason}", tally.files);
        let mut values: Vec<(&String, &usize)> = tally.values.iter().collect();
        values.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        if values.len() > 1 || values.first().is_some_and(|(_, n)| **n != tally.files) {
            let shown: Vec<String> = values
                .iter()
                .take(SHOWN)
                .map(|(value, files)| format!("`{value}` {files}"))
                .collect();
            let more = if values.len() > SHOWN { ", ..." } else { "" };
            let _ = write!(out, " [{}{more}]", shown.join(", "));
        } else if let Some((value, _)) = values.first() {
            let _ = write!(out, " [`{value}`]");
        }
        out.push('\n');
    }
}

/// The whole of `expected.txt`: the summary, then every file's record.
pub fn expectations(records: &[Record]) -> String {
    let mut out = String::from(
        "# What nodeunits makes of each file of the corpus: see tests/corpus/README.md.\n\
         # Written by NODEUNITS_BLESS=1 cargo test --test pm2_corpus; do not edit.\n\
         # Paths: <copy> is the copy's directory, <tmp> the test's.\n\n",
    );
    for line in summary(records).lines() {
        let _ = writeln!(out, "# {line}");
    }
    for record in records {
        record.write(&mut out);
    }
    out
}

#[test]
fn findings_are_read_with_their_places() {
    let stderr = "warning: `watch` has no meaning under systemd and is ignored\n  \
                  --> ecosystem.config.js: apps[0].watch\n  = instead: nothing\n\
                  error: `x.sh` is neither a file nor a command\n --> e.json:1:72\n  |\n\
                  1 error in e.json; no units were generated\n";
    let outcome = Outcome::read(Some(1), stderr, "ecosystem.config.js");
    assert_eq!(outcome.findings.len(), 2);
    assert_eq!(outcome.findings[0].place, "apps[0].watch");
    assert_eq!(outcome.findings[1].place, "e.json:1:72");
    assert_eq!(
        outcome.verdict,
        "1 error in e.json; no units were generated"
    );
    assert_eq!(
        reason("`x.sh` is neither a file in `a` nor"),
        "`…` is neither a file in `…` nor"
    );
}
