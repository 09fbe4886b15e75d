//! `tests/corpus/sources.tsv`: where each file of the corpus comes from
//! (repository, commit, path), under which licence, and its SHA-256. The
//! files themselves are put in place by `tools/fetch-corpus`.

use std::collections::BTreeSet;
use std::process::Command;

use super::corpus_dir;

/// One file of the corpus, as `sources.tsv` records it.
#[derive(Debug, PartialEq, Eq)]
pub struct Source {
    /// Its path under `tests/corpus`.
    pub entry: String,
    pub repository: String,
    pub commit: String,
    pub path: String,
    pub licence: String,
    pub sha256: String,
}

/// Reads `sources.tsv`: a line per file, tab-separated, `#` for comments.
pub fn parse(text: &str) -> Result<Vec<Source>, String> {
    let mut sources = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [entry, repository, commit, path, licence, sha256] = fields[..] else {
            return Err(format!(
                "sources.tsv:{}: {} fields, where 6 are expected: entry, repository, commit, path, licence, sha256",
                number + 1,
                fields.len()
            ));
        };
        sources.push(Source {
            entry: entry.into(),
            repository: repository.into(),
            commit: commit.into(),
            path: path.into(),
            licence: licence.into(),
            sha256: sha256.into(),
        });
    }
    Ok(sources)
}

/// Checks that the corpus in `tests/corpus` is the one `sources.tsv`
/// records: every file there, none besides, each with its SHA-256.
pub fn check_in_place(found: &[String]) -> Result<(), String> {
    let text = std::fs::read_to_string(corpus_dir().join("sources.tsv"))
        .map_err(|e| format!("tests/corpus/sources.tsv: {e}"))?;
    let sources = parse(&text)?;
    let listed: BTreeSet<&str> = sources.iter().map(|s| s.entry.as_str()).collect();
    let found_set: BTreeSet<&str> = found.iter().map(String::as_str).collect();
    let missing: Vec<&str> = listed.difference(&found_set).copied().collect();
    if !missing.is_empty() {
        return Err(format!(
            "the corpus is not in place: {} of the {} files of tests/corpus/sources.tsv are missing, \
             {} the first; run `tools/fetch-corpus` (`make corpus`) to download them",
            missing.len(),
            listed.len(),
            missing[0]
        ));
    }
    let unlisted: Vec<&str> = found_set.difference(&listed).copied().collect();
    if !unlisted.is_empty() {
        return Err(format!(
            "files of the corpus that tests/corpus/sources.tsv does not list: {}; \
             add a line for each (see tests/corpus/README.md)",
            unlisted.join(", ")
        ));
    }
    let changed = changed(&sources)?;
    if !changed.is_empty() {
        return Err(format!(
            "files of the corpus that are not those tests/corpus/sources.tsv records (SHA-256): {}; \
             run `tools/fetch-corpus` to put the recorded ones back",
            changed.join(", ")
        ));
    }
    Ok(())
}

/// The entries whose file is not the one recorded, by `sha256sum`.
fn changed(sources: &[Source]) -> Result<Vec<String>, String> {
    let output = Command::new("sha256sum")
        .arg("--")
        .args(sources.iter().map(|s| &s.entry))
        .current_dir(corpus_dir())
        .output()
        .map_err(|e| format!("cannot run sha256sum: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let sums: Vec<&str> = text.lines().filter_map(|l| l.split(' ').next()).collect();
    if !output.status.success() || sums.len() != sources.len() {
        return Err(format!(
            "sha256sum failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(sources
        .iter()
        .zip(sums)
        .filter(|(source, sum)| source.sha256 != *sum)
        .map(|(source, _)| source.entry.clone())
        .collect())
}

#[test]
fn sources_are_read_by_their_six_fields() {
    let text = "# entry\trepository\n\
                pm2/a.json\tUnitech/pm2\tabc\ta.json\tAGPL-3.0\t0123\n";
    let sources = parse(text).expect("parses");
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].repository, "Unitech/pm2");
    assert_eq!(sources[0].sha256, "0123");
    assert!(parse("a\tb\n")
        .unwrap_err()
        .contains("sources.tsv:1: 2 fields"));
}

#[test]
fn every_source_names_its_repository_commit_and_licence() {
    let text = std::fs::read_to_string(corpus_dir().join("sources.tsv")).expect("sources.tsv");
    let sources = parse(&text).expect("parses");
    for source in &sources {
        assert!(source.repository.contains('/'), "{}", source.entry);
        assert_eq!(source.commit.len(), 40, "{}: a full commit", source.entry);
        assert_eq!(source.sha256.len(), 64, "{}: a SHA-256", source.entry);
        assert!(!source.licence.is_empty(), "{}: a licence", source.entry);
        assert!(!source.path.is_empty(), "{}: a path", source.entry);
        let expected = match source.entry.split_once('/') {
            Some(("pm2", rest)) => source.repository == "Unitech/pm2" && rest == source.path,
            Some(("public", rest)) => {
                rest == format!("{}/{}", source.repository.replace('/', "__"), source.path)
            }
            _ => false,
        };
        assert!(expected, "{}: not where its source says", source.entry);
    }
}
