//! Every saved fuzzing input, replayed: each file of `fuzz/corpus/<target>/`
//! goes through the function its fuzz target calls (`fuzz/src/lib.rs`), so
//! that a plain `cargo test` checks the whole corpus, regressions included,
//! without cargo-fuzz. Fuzzing itself is `make fuzz` (docs/development.md).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../fuzz/src/lib.rs"]
mod targets;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

/// The files of `dir`, sorted.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    files
}

/// The inputs of `target` that panic.
fn panicking(target: &str, run: targets::Target) -> Vec<String> {
    let dir = corpus_dir().join(target);
    let files = inputs(&dir);
    assert!(
        files.len() >= 10,
        "{}: only {} inputs",
        dir.display(),
        files.len()
    );
    files
        .iter()
        .filter(|file| {
            let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            catch_unwind(AssertUnwindSafe(|| run(&data))).is_err()
        })
        .map(|file| format!("{target}: {}", file.display()))
        .collect()
}

#[test]
fn every_saved_input_replays_without_a_panic() {
    let failures: Vec<String> = targets::TARGETS
        .iter()
        .flat_map(|&(target, run)| panicking(target, run))
        .collect();
    let _ = std::fs::remove_dir_all(targets::scratch_dir());
    assert!(
        failures.is_empty(),
        "these inputs panic (in fuzz/, `cargo fuzz run TARGET FILE` reproduces one):\n{}",
        failures.join("\n")
    );
}

/// Each target of `fuzz/Cargo.toml` is in `TARGETS` and has a corpus, and
/// each corpus a target.
#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let corpora: Vec<String> = inputs(&corpus_dir())
        .iter()
        .map(|dir| {
            dir.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let mut names: Vec<&str> = targets::TARGETS.iter().map(|&(name, _)| name).collect();
    names.sort();
    assert_eq!(corpora, names);
    let manifest = include_str!("../fuzz/Cargo.toml");
    let declared = manifest.matches("[[bin]]").count();
    assert_eq!(
        declared,
        names.len(),
        "fuzz/Cargo.toml declares {declared} targets"
    );
    for name in names {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no target {name}"
        );
    }
}
