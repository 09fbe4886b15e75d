//! The worker's state (starting, ready, draining) in a small file of the
//! runtime directory, for `nodeunits-helper probe`: outside systemd there is
//! no `READY=1` to read, so a container's readiness probe reads this.

use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

use crate::durable;
use crate::model::{AppName, InvalidName, ProbeOptions};

/// Where the state files live outside systemd, and the preload with them,
/// when `$NODEUNITS_RUNTIME_DIR` names no directory: `BASE/APP`.
const FALLBACK_BASE: &str = "/tmp/nodeunits";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Starting,
    Ready,
    Draining,
}

impl State {
    fn word(self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::Ready => "ready",
            State::Draining => "draining",
        }
    }
}

/// An app name that cannot be a directory's, where the runtime directory
/// falls back to one under [`FALLBACK_BASE`].
#[derive(Debug, thiserror::Error)]
#[error("--app {app:?} cannot name a directory under {FALLBACK_BASE}: {why} (or set NODEUNITS_RUNTIME_DIR)")]
pub struct NoRuntimeDir {
    app: String,
    why: InvalidName,
}

/// Why `probe` fails: no worker runs, or one is not ready.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    NoRuntimeDir(#[from] NoRuntimeDir),
    #[error("no worker of {app} runs: {} records no state", dir.display())]
    NoState { app: String, dir: PathBuf },
    #[error("instance {instance} of {app} does not run: {} is missing", path.display())]
    NoStateFile {
        app: String,
        instance: u32,
        path: PathBuf,
    },
    #[error("cannot read {}: {err}", path.display())]
    Unreadable { path: PathBuf, err: io::Error },
    #[error("instance {instance} of {app} does not run: its helper (pid {pid}) is gone")]
    HelperGone {
        app: String,
        instance: u32,
        pid: String,
    },
    /// `state`: the state it recorded, `starting` or `draining`.
    #[error("instance {instance} of {app} is {state}")]
    NotReady {
        app: String,
        instance: u32,
        state: String,
    },
}

/// The app's runtime directory: systemd's `RuntimeDirectory=`, else
/// `$NODEUNITS_RUNTIME_DIR`, else `/tmp/nodeunits/APP`. The helper and the
/// probe find it alike, as they run with the container's environment.
pub fn runtime_dir(app: &str) -> Result<PathBuf, NoRuntimeDir> {
    let systemds = std::env::var("RUNTIME_DIRECTORY").ok();
    if let Some(first) = systemds.as_deref().and_then(|dirs| dirs.split(':').next()) {
        return Ok(PathBuf::from(first));
    }
    if let Some(dir) = std::env::var_os("NODEUNITS_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let name = AppName::new(app).map_err(|why| NoRuntimeDir {
        app: app.to_owned(),
        why,
    })?;
    Ok(Path::new(FALLBACK_BASE).join(name.as_str()))
}

/// The state file of one instance: `state.N`, so that instances of one app
/// on a host do not share one.
#[derive(Debug)]
pub struct StateFile {
    dir: PathBuf,
    instance: u32,
}

impl StateFile {
    pub fn new(dir: &Path, instance: u32) -> StateFile {
        StateFile {
            dir: dir.to_owned(),
            instance,
        }
    }

    /// Records the state with the helper's pid, replacing the file whole:
    /// a probe reads the old state or the new, never half of one.
    pub fn write(&self, state: State) {
        let line = format!("{} {}\n", state.word(), std::process::id());
        if let Err(error) = durable::write(&self.path(), line.as_bytes()) {
            tracing::warn!("cannot record the state {}: {error}", state.word());
        }
    }

    fn path(&self) -> PathBuf {
        path(&self.dir, self.instance)
    }
}

fn path(dir: &Path, instance: u32) -> PathBuf {
    dir.join(format!("state.{instance}"))
}

/// The helper is gone, or about to be: no state left for a probe to trust.
impl Drop for StateFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(self.path());
    }
}

/// `probe`: Ok when the instance asked for, or every instance that records
/// a state, is ready; Err says what it is instead.
pub fn probe(options: &ProbeOptions) -> Result<(), ProbeError> {
    probe_in(&runtime_dir(&options.app)?, options)
}

fn probe_in(dir: &Path, options: &ProbeOptions) -> Result<(), ProbeError> {
    let app = || options.app.clone();
    let files: Vec<(u32, PathBuf)> = match options.instance {
        Some(instance) => vec![(instance, path(dir, instance))],
        None => instances(dir),
    };
    if files.is_empty() {
        return Err(ProbeError::NoState {
            app: app(),
            dir: dir.to_owned(),
        });
    }
    for (instance, path) in files {
        let text = fs::read_to_string(&path).map_err(|err| match err.kind() {
            ErrorKind::NotFound => ProbeError::NoStateFile {
                app: app(),
                instance,
                path: path.clone(),
            },
            _ => ProbeError::Unreadable {
                path: path.clone(),
                err,
            },
        })?;
        let (word, pid) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
        if !pid.parse().is_ok_and(alive) {
            return Err(ProbeError::HelperGone {
                app: app(),
                instance,
                pid: pid.to_owned(),
            });
        }
        if word != State::Ready.word() {
            return Err(ProbeError::NotReady {
                app: app(),
                instance,
                state: word.to_owned(),
            });
        }
    }
    Ok(())
}

fn instances(dir: &Path) -> Vec<(u32, PathBuf)> {
    let entries = fs::read_dir(dir).into_iter().flatten().flatten();
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(|entry| {
            let name = entry.file_name();
            let instance = name.to_str()?.strip_prefix("state.")?.parse().ok()?;
            Some((instance, entry.path()))
        })
        .collect();
    found.sort();
    found
}

fn alive(pid: i32) -> bool {
    pid > 0 && matches!(kill(Pid::from_raw(pid), None), Ok(()) | Err(Errno::EPERM))
}

/// Creates the runtime directory outside systemd, private to the app's user.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_reads_what_the_helper_records() {
        let dir = std::env::temp_dir().join(format!("nodeunits-state-test.{}", std::process::id()));
        create_dir(&dir).unwrap();
        let options = |instance| ProbeOptions {
            app: "api".into(),
            instance,
        };
        let probe = |options: ProbeOptions| probe_in(&dir, &options).map_err(|e| e.to_string());
        let none = probe(options(None)).unwrap_err();
        assert!(none.starts_with("no worker of api runs"), "{none}");
        let zero = StateFile::new(&dir, 0);
        zero.write(State::Starting);
        assert_eq!(
            probe(options(Some(0))),
            Err("instance 0 of api is starting".into())
        );
        zero.write(State::Ready);
        assert_eq!(probe(options(None)), Ok(()));
        let one = StateFile::new(&dir, 1);
        one.write(State::Draining);
        assert_eq!(probe(options(Some(0))), Ok(()), "one instance alone");
        assert_eq!(
            probe(options(None)),
            Err("instance 1 of api is draining".into())
        );
        fs::write(dir.join("state.1"), "ready 0\n").unwrap();
        let gone = probe(options(None)).unwrap_err();
        assert!(gone.contains("its helper (pid 0) is gone"), "{gone}");
        drop((one, zero));
        let missing = probe(options(Some(0))).unwrap_err();
        assert!(missing.contains("state.0 is missing"), "{missing}");
        fs::remove_dir(&dir).unwrap();
    }
}
