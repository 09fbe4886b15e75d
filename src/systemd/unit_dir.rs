//! The unit directory: reading the files nodeunits installed (and, app by
//! app, the typed model they were rendered from), writing new ones
//! atomically, putting old ones back.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::apply_journal::Unfinished;
use crate::durable;
use crate::model::name::ENVIRONMENT_FILE_SUFFIX;
use crate::model::{AppName, AppUnits};
use crate::units::read::{file_owner, read_app, ReadError};
use crate::units::GENERATED_MARKER;

/// A generated file found in the unit directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledFile {
    pub contents: String,
    /// `X-Nodeunits-App=`.
    pub app: Option<AppName>,
    /// `SourcePath=`: the ecosystem file it was compiled from.
    pub source: Option<PathBuf>,
}

/// What the unit directory holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    /// The generated files, by name.
    pub generated: BTreeMap<String, InstalledFile>,
    /// Every other file name: written by someone else, never touched.
    pub foreign: BTreeSet<String>,
    /// The environment files this user may not read (root's, mode 0600).
    pub private: BTreeSet<String>,
    /// The apps whose last apply did not finish (from the apply journal).
    pub unfinished: BTreeMap<AppName, Unfinished>,
}

impl Installed {
    /// The files as they were before the unfinished applies began.
    pub fn before_unfinished(&self) -> Installed {
        let mut before = Installed {
            generated: self.generated.clone(),
            foreign: self.foreign.clone(),
            private: self.private.clone(),
            unfinished: BTreeMap::new(),
        };
        let previous = self.unfinished.values().flat_map(|entry| &entry.previous);
        for (name, contents) in previous {
            match contents.clone().and_then(|c| parse_file(name, c)) {
                Some(file) => before.generated.insert(name.clone(), file),
                None => before.generated.remove(name),
            };
        }
        before
    }

    /// Files of one app, by name.
    pub fn app_files(&self, app: &AppName) -> BTreeMap<&str, &InstalledFile> {
        self.generated
            .iter()
            .filter(|(_, file)| file.app.as_ref() == Some(app))
            .map(|(name, file)| (name.as_str(), file))
            .collect()
    }

    /// The installed apps with the ecosystem file each came from (which
    /// an environment file does not say).
    pub fn apps(&self) -> BTreeMap<&AppName, Option<&Path>> {
        let mut apps = BTreeMap::new();
        for file in self.generated.values() {
            if let Some(app) = &file.app {
                let source = apps.entry(app).or_insert(None);
                *source = source.or(file.source.as_deref());
            }
        }
        apps
    }

    /// The typed units of an installed app; `None` when it has no file here.
    pub fn app(&self, app: &AppName) -> Result<Option<AppUnits>, ReadError> {
        let files: BTreeMap<String, String> = self
            .app_files(app)
            .into_iter()
            .map(|(name, file)| (name.to_owned(), file.contents.clone()))
            .collect();
        if files.is_empty() {
            return Ok(None);
        }
        read_app(app, &files).map(Some)
    }
}

/// A generated file found under `name`, or `None` for a file nodeunits did
/// not write. An environment file is its app's by its name.
pub fn parse_file(name: &str, contents: String) -> Option<InstalledFile> {
    match name.strip_suffix(ENVIRONMENT_FILE_SUFFIX) {
        Some(app) => contents
            .starts_with(GENERATED_MARKER)
            .then(|| InstalledFile {
                app: AppName::new(app).ok(),
                source: None,
                contents,
            }),
        None => parse_installed(contents),
    }
}

/// A generated unit's owner, or `None` for a file nodeunits did not write.
pub fn parse_installed(contents: String) -> Option<InstalledFile> {
    let owner = file_owner(&contents)?;
    Some(InstalledFile {
        app: owner.app,
        source: owner.source,
        contents,
    })
}

/// A directory of unit files: `/etc/systemd/system`, `~/.config/systemd/user`,
/// or anywhere in tests.
#[derive(Debug, Clone)]
pub struct UnitDir {
    path: PathBuf,
}

impl UnitDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        UnitDir { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads every unit file; a missing directory holds nothing.
    pub fn read(&self) -> io::Result<Installed> {
        let mut installed = Installed::default();
        let entries = match fs::read_dir(&self.path) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(installed),
            Err(err) => return Err(err),
        };
        for entry in entries {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !entry.file_type()?.is_file() {
                installed.foreign.insert(name);
                continue;
            }
            let contents = match fs::read_to_string(entry.path()) {
                Err(err)
                    if err.kind() == io::ErrorKind::PermissionDenied
                        && name.ends_with(ENVIRONMENT_FILE_SUFFIX) =>
                {
                    installed.private.insert(name);
                    continue;
                }
                contents => contents.ok(),
            };
            // Binary or unreadable files are not ours either.
            match contents.and_then(|contents| parse_file(&name, contents)) {
                Some(file) => {
                    installed.generated.insert(name, file);
                }
                None => {
                    installed.foreign.insert(name);
                }
            }
        }
        Ok(installed)
    }

    /// The file's contents, `None` when it does not exist.
    pub fn read_file(&self, name: &str) -> io::Result<Option<String>> {
        match fs::read_to_string(self.path.join(name)) {
            Ok(contents) => Ok(Some(contents)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Writes `name` whole ([`durable::write`]), creating the directory;
    /// an environment file only its owner reads, from the start.
    pub fn write(&self, name: &str, contents: &str) -> io::Result<()> {
        fs::create_dir_all(&self.path)?;
        let path = self.path.join(name);
        match name.ends_with(ENVIRONMENT_FILE_SUFFIX) {
            true => durable::write_private(&path, contents.as_bytes()),
            false => durable::write(&path, contents.as_bytes()),
        }
    }

    pub fn remove(&self, name: &str) -> io::Result<()> {
        durable::remove(&self.path.join(name))
    }

    /// Puts a file back as it was: its old contents, or no file.
    pub fn restore(&self, name: &str, previous: Option<&str>) -> io::Result<()> {
        match previous {
            Some(contents) => self.write(name, contents),
            None => self.remove(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_generated_files_and_writes_atomically() {
        let dir =
            std::env::temp_dir().join(format!("nodeunits-systemd-unit-dir-{}", std::process::id()));
        let units = UnitDir::new(&dir);
        units
            .write(
                "api.service",
                &format!("{GENERATED_MARKER} from /srv/e.toml.\n[Unit]\nSourcePath=/srv/e.toml\nX-Nodeunits-App=api\n"),
            )
            .unwrap();
        units
            .write("mine.service", "[Unit]\nX-Nodeunits-App=api\n")
            .unwrap();
        let installed = units.read().unwrap();
        assert_eq!(installed.generated.len(), 1);
        let api = &installed.generated["api.service"];
        assert_eq!(api.app.as_ref().map(AppName::as_str), Some("api"));
        assert_eq!(api.source.as_deref(), Some(Path::new("/srv/e.toml")));
        assert!(installed.foreign.contains("mine.service"));
        units.restore("api.service", None).unwrap();
        units.restore("mine.service", Some("x")).unwrap();
        assert_eq!(
            units.read_file("mine.service").unwrap().as_deref(),
            Some("x")
        );
        assert_eq!(units.read_file("api.service").unwrap(), None);
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
