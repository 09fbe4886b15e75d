//! The corpus: real PM2 ecosystem files nobody on this project wrote,
//! through the real binary. `tests/corpus/pm2/` holds the ecosystem files of
//! PM2's own test fixtures and examples, `tests/corpus/public/` files of
//! public repositories; `tests/corpus/sources.tsv` says where each comes
//! from and under which licence, and `tools/fetch-corpus` puts them in
//! place. See `tests/corpus/README.md`.
//!
//! Each file is copied into a directory of its own as a checkout of its
//! repository would have it (the stubs of `pm2_corpus/stubs.rs`), given to an
//! unprivileged user when the test runs as root, and run through `nodeunits
//! import`, `check` and `render`, and the TOML `import` printed through
//! `check` again. What nodeunits made of it, accepted or refused with every
//! error and warning, is compared exactly with `tests/corpus/expected.txt`,
//! which starts with the counts and the refusals grouped by reason.
//!
//! The files are in the repository, as test data with their source and
//! licence; `make corpus-test` checks them against `sources.tsv` (and
//! downloads any missing) before running this test, which `cargo test` runs
//! too. Re-bless after an intended change: `NODEUNITS_BLESS=1 make
//! corpus-test`; then review the diff of `expected.txt`.

#[path = "pm2_corpus/cluster.rs"]
mod cluster;
#[path = "pm2_corpus/record.rs"]
mod record;
#[path = "pm2_corpus/run.rs"]
mod run;
#[path = "pm2_corpus/sources.rs"]
mod sources;
#[path = "pm2_corpus/stubs.rs"]
mod stubs;
#[path = "pm2_corpus/summary.rs"]
mod summary;
#[path = "pm2_corpus/workers.rs"]
mod workers;

use std::path::{Path, PathBuf};

use record::Record;

/// What nodeunits reads as an ecosystem file, by the end of its name.
const ECOSYSTEM_EXTENSIONS: &[&str] = &[
    ".json", ".json5", ".yml", ".yaml", ".js", ".cjs", ".mjs", ".toml",
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Whether `name` is an entry of the corpus: a file in a format nodeunits
/// reads, but not a `package.json`, which is there for an ecosystem file
/// that reads it.
fn is_entry(name: &str) -> bool {
    name != "package.json" && ECOSYSTEM_EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// Every entry under `dir`, by its path relative to `corpus_dir()`, sorted.
fn entries(dir: &Path, found: &mut Vec<String>) {
    let listing = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in listing {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            entries(&path, found);
        } else if is_entry(&name) {
            let relative = path.strip_prefix(corpus_dir()).expect("in the corpus");
            found.push(relative.to_string_lossy().into_owned());
        }
    }
}

fn corpus() -> Vec<String> {
    let mut found = Vec::new();
    for part in ["pm2", "public"] {
        let dir = corpus_dir().join(part);
        if dir.is_dir() {
            entries(&dir, &mut found);
        }
    }
    found.sort();
    found
}

fn bless() -> bool {
    std::env::var_os("NODEUNITS_BLESS").is_some_and(|value| value == "1")
}

#[test]
fn the_corpus_is_taken_as_recorded() {
    let entries = corpus();
    if let Err(problem) = sources::check_in_place(&entries) {
        panic!("{problem}");
    }
    let workspace = run::Workspace::new();
    let records: Vec<Record> = run::run_all(&workspace, &entries);
    let actual = summary::expectations(&records);
    let overview = summary::summary(&records);
    println!("{overview}");

    let file = corpus_dir().join("expected.txt");
    if bless() {
        std::fs::write(&file, &actual).expect("bless expected.txt");
    }
    let crashed: Vec<&str> = records
        .iter()
        .filter(|record| record.crashed())
        .map(|record| record.entry.as_str())
        .collect();
    assert!(
        crashed.is_empty(),
        "nodeunits crashed on: {} (see expected.txt with NODEUNITS_BLESS=1)",
        crashed.join(", ")
    );
    if bless() {
        return;
    }
    let expected = std::fs::read_to_string(&file).unwrap_or_default();
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, &actual);
        panic!(
            "what nodeunits makes of the corpus changed:\n{}\n{overview}\n\
             (if the change is intended: NODEUNITS_BLESS=1 cargo test --test pm2_corpus, \
             then review the diff of tests/corpus/expected.txt)",
            diff.unified_diff()
                .context_radius(2)
                .header("expected.txt", "actual")
        );
    }
}

#[test]
fn entries_are_files_nodeunits_reads() {
    assert!(is_entry("ecosystem.config.js"));
    assert!(is_entry("process.yml"));
    assert!(is_entry("pm2.json5"));
    assert!(!is_entry("package.json"));
    assert!(!is_entry("README.md"));
    assert!(!is_entry("LICENSE"));
}
