//! The apply journal. Before an apply (or `reload FILE`, `scale`, `delete`)
//! changes anything, it writes one entry per app it changes: what each file
//! it writes or deletes held before. It removes the entries when it ends,
//! done or rolled back. An entry left behind is an apply that was killed,
//! or whose rollback failed: the next apply of the app plans from the files
//! the entry remembers, not from the half-written ones, and so finishes the
//! job even where the files on disk already look applied.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Scope;
use crate::durable;
use crate::model::AppName;

/// An apply of one app that has begun and not ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unfinished {
    /// The ecosystem file applied (or the app's, for `scale` and `delete`).
    pub source: PathBuf,
    /// Every unit file the apply writes or deletes, with what it held
    /// before it began (`None`: there was no such file).
    pub previous: BTreeMap<String, Option<String>>,
    /// The most instances that may have run since: the apply's before and
    /// after counts, and those of the unfinished applies before it.
    pub instances: u32,
    /// Whether the app was running when the first unfinished apply began:
    /// the next apply starts it again only then, as an app a person
    /// stopped stays stopped.
    pub running: bool,
}

/// An entry that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {why}; it is the apply journal's record of an apply of `{app}` that did not finish: fix or delete the file, then apply again", .path.display())]
pub struct ApplyJournalError {
    pub path: PathBuf,
    pub app: String,
    pub why: String,
}

/// The directory of the entries.
#[derive(Debug, Clone)]
pub struct ApplyJournal {
    dir: PathBuf,
}

impl ApplyJournal {
    pub fn new(dir: impl Into<PathBuf>) -> ApplyJournal {
        ApplyJournal { dir: dir.into() }
    }

    /// `/var/lib/nodeunits/apply-journal`, or in user mode
    /// `$XDG_STATE_HOME/nodeunits/apply-journal` (default
    /// `~/.local/state/nodeunits/apply-journal`); `None` when neither
    /// `$XDG_STATE_HOME` nor `$HOME` is set.
    pub fn of(scope: Scope) -> Option<ApplyJournal> {
        let state = match scope {
            Scope::System => PathBuf::from("/var/lib"),
            Scope::User => std::env::var_os("XDG_STATE_HOME")
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from)
                .or_else(|| Some(PathBuf::from(std::env::var_os("HOME")?).join(".local/state")))?,
        };
        Some(ApplyJournal::new(state.join("nodeunits/apply-journal")))
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Every entry, by app; none when the directory does not exist.
    pub fn read(&self) -> Result<BTreeMap<AppName, Unfinished>, ApplyJournalError> {
        let failed = |path: &Path, app: &str, why: String| ApplyJournalError {
            path: path.to_owned(),
            app: app.to_owned(),
            why,
        };
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(err) => return Err(failed(&self.dir, "an app", err.to_string())),
        };
        let mut found = BTreeMap::new();
        for entry in entries {
            let path = entry
                .map_err(|err| failed(&self.dir, "an app", err.to_string()))?
                .path();
            let Some(stem) = path
                .file_name()
                .and_then(|name| name.to_str()?.strip_suffix(".json"))
            else {
                continue;
            };
            let app =
                AppName::new(stem).map_err(|why| failed(&path, stem, why.said_of("its name")))?;
            let text =
                fs::read_to_string(&path).map_err(|err| failed(&path, stem, err.to_string()))?;
            let unfinished = serde_json::from_str(&text).map_err(|err| {
                failed(&path, stem, format!("not an entry nodeunits wrote: {err}"))
            })?;
            found.insert(app, unfinished);
        }
        Ok(found)
    }

    /// Writes the entry of `app` durably: it must outlive a crash. Only its
    /// owner reads it (mode 0600): it may hold the app's environment file.
    pub fn write(&self, app: &AppName, unfinished: &Unfinished) -> io::Result<()> {
        let text = serde_json::to_string_pretty(unfinished).map_err(io::Error::other)?;
        fs::create_dir_all(&self.dir)?;
        durable::write_private(&self.entry_path(app), (text + "\n").as_bytes())
    }

    pub fn remove(&self, app: &AppName) -> io::Result<()> {
        durable::remove(&self.entry_path(app))
    }

    /// Where the entry of `app` is, for messages.
    pub fn entry_path(&self, app: &AppName) -> PathBuf {
        self.dir.join(app.units().journal_entry())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_written_read_back_and_removed() {
        let dir = std::env::temp_dir().join(format!("nodeunits-journal-{}", std::process::id()));
        let journal = ApplyJournal::new(&dir);
        assert!(journal.read().unwrap().is_empty(), "no directory, no entry");
        let api = AppName::new("api").unwrap();
        let entry = Unfinished {
            source: PathBuf::from("/srv/ecosystem.toml"),
            previous: [("api.service".to_owned(), None)].into(),
            instances: 2,
            running: true,
        };
        journal.write(&api, &entry).unwrap();
        assert_eq!(journal.read().unwrap(), [(api.clone(), entry)].into());
        let mode = fs::metadata(journal.entry_path(&api)).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600
        );
        fs::write(dir.join("web.json"), "{").unwrap();
        let err = journal.read().unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "{}: not an entry nodeunits wrote: EOF while parsing an object at line 1 column 1; it is the apply journal's record of an apply of `web` that did not finish",
                dir.join("web.json").display()
            )),
            "{err}"
        );
        fs::remove_file(dir.join("web.json")).unwrap();
        journal.remove(&api).unwrap();
        journal.remove(&api).unwrap();
        assert!(journal.read().unwrap().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }
}
