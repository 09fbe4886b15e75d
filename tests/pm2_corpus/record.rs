//! What nodeunits made of one corpus file, read from what the binary printed,
//! and how each record is written into `expected.txt`.

use std::fmt::Write;

use super::cluster::ClusterApp;

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
    /// Its summary line: `2 apps ok`, `1 error in ...`, `converted`...
    pub verdict: String,
    /// What `check` says each app serves, after its summary line.
    pub ports: Vec<String>,
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
        let lines: Vec<&str> = stderr.lines().collect();
        let summary = lines.iter().rposition(|line| line.starts_with(file));
        let last =
            summary.map_or_else(|| lines.last().copied().unwrap_or_default(), |at| lines[at]);
        let ports = summary.map_or_else(Vec::new, |at| {
            lines[at + 1..]
                .iter()
                .map(|line| line.trim().to_owned())
                .collect()
        });
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
            ports,
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
    /// How each app's workers run, a line per app (`workers.rs`).
    pub workers: Vec<String>,
    /// When `render` accepted it: its cluster apps, `None` when they could
    /// not be told.
    pub cluster: Option<Option<Vec<ClusterApp>>>,
    pub import: Outcome,
    /// `check` of the TOML `import` printed, when it printed one.
    pub imported: Option<Outcome>,
}

impl Record {
    /// Whether a command exited other than 0 or 1: a crash.
    pub fn crashed(&self) -> bool {
        [&self.check, &self.render, &self.import]
            .into_iter()
            .chain(&self.imported)
            .any(|outcome| !matches!(outcome.status, Some(0 | 1)))
    }

    pub fn corpus(&self) -> &str {
        self.entry.split('/').next().unwrap_or_default()
    }

    pub fn write(&self, out: &mut String) {
        let _ = writeln!(out, "\n== {}", self.entry);
        let _ = writeln!(out, "check: {}", self.check.headline());
        write_findings(out, &self.check.findings);
        for ports in &self.check.ports {
            let _ = writeln!(out, "  ports: {ports}");
        }
        if self.render.findings == self.check.findings {
            let _ = writeln!(out, "render: {}, the same findings", self.render.headline());
        } else {
            let _ = writeln!(out, "render: {}", self.render.headline());
            write_findings(out, &self.render.findings);
        }
        if !self.units.is_empty() {
            let _ = writeln!(out, "  units: {}", self.units.join(" "));
        }
        for worker in &self.workers {
            let _ = writeln!(out, "  app {worker}");
        }
        match &self.cluster {
            Some(Some(apps)) if !apps.is_empty() => {
                let apps: Vec<String> = apps.iter().map(describe_cluster_app).collect();
                let _ = writeln!(out, "  cluster apps: {}", apps.join(", "));
            }
            Some(None) => {
                let _ = writeln!(
                    out,
                    "  cluster apps: not told (the apps of import and render differ)"
                );
            }
            _ => {}
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

fn describe_cluster_app(app: &ClusterApp) -> String {
    if app.listens.is_empty() {
        format!("{} (no socket)", app.name)
    } else {
        format!("{} (socket {})", app.name, app.listens.join(" "))
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
}
