//! The summary `expected.txt` starts with: the counts of each part of the
//! corpus, its cluster apps, and its files by the reason of their errors
//! and warnings.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::cluster::ClusterApp;
use super::record::Record;

/// `N cluster apps in F files, K with no socket in G files`.
fn cluster_counts(records: &[&Record]) -> String {
    let all: Vec<Vec<&ClusterApp>> = records
        .iter()
        .map(|record| match &record.cluster {
            Some(Some(apps)) => apps.iter().collect(),
            _ => Vec::new(),
        })
        .collect();
    let bare: Vec<Vec<&ClusterApp>> = all
        .iter()
        .map(|apps| {
            apps.iter()
                .copied()
                .filter(|a| a.listens.is_empty())
                .collect()
        })
        .collect();
    let count = |of: &[Vec<&ClusterApp>]| {
        (
            of.iter().map(Vec::len).sum::<usize>(),
            of.iter().filter(|apps| !apps.is_empty()).count(),
        )
    };
    let ((apps, files), (without, files_without)) = (count(&all), count(&bare));
    format!(
        "{apps} cluster apps accepted, in {files} files; {without} of them with no socket \
         (no port in any option: the app's code has it, or it listens on none), in {files_without} files"
    )
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
        let _ = writeln!(out, "  {}", cluster_counts(&of));
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
        let files = match tally.files {
            1 => "1 file".to_owned(),
            n => format!("{n} files"),
        };
        let _ = write!(out, "  {what} ({files}): {reason}");
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
         # Paths: <dir> is the file's directory in its copy, <copy> the copy, <tmp> the test's.\n\n",
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
fn reasons_leave_values_out() {
    assert_eq!(
        reason("`x.sh` is neither a file in `a` nor"),
        "`…` is neither a file in `…` nor"
    );
    assert_eq!(first_value("unknown option `max`"), Some("max"));
}
