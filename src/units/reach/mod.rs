//! Whether an app's user can reach what its workers run: the helper, the
//! program, the script and the working directory, every directory on the
//! way included. systemd starts a worker as that user; one who cannot
//! reach the helper fails with 203/EXEC, again and again. `apply` asks
//! before it starts anything and says which directory or file stops whom.
//!
//! Permission bits only, as the kernel reads them without ACLs: the
//! owner's bits for the file's owner, the group's for a member of its
//! group, the others' for everyone else; root is always let through.

use std::fmt;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::model::{AppUnits, Scope};

mod account;
#[cfg(test)]
mod tests;

pub use account::Who;

/// What the user must be allowed to do with the path itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Run a file: `x` on it.
    Execute,
    /// Read a file: `r` on it.
    Read,
    /// Enter a directory: `x` on it.
    Search,
}

impl Need {
    fn bit(self) -> u32 {
        match self {
            Need::Execute | Need::Search => 0o1,
            Need::Read => 0o4,
        }
    }

    fn letter(self) -> char {
        match self {
            Need::Execute | Need::Search => 'x',
            Need::Read => 'r',
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Need::Execute => "execute",
            Need::Read => "read",
            Need::Search => "enter",
        }
    }
}

/// What stops a user on the way to a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// The path, or a directory on its way, does not exist.
    Missing(PathBuf),
    /// A directory on the way the user may not search.
    Directory(Denied),
    /// The path itself, without the permission needed.
    Target(Denied, Need),
    /// The path exists, but is not a file (or, to enter, a directory).
    WrongKind(PathBuf, Need),
}

/// A path whose bits deny the user, and which of them apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub path: PathBuf,
    pub mode: u32,
    pub owner: u32,
    /// `u`, `g` or `o`: the bits that apply to the user.
    pub class: char,
}

/// What stops `who` from reaching `path` to do `need` with it, if anything:
/// each directory on the way must let them search it, both on the path as
/// written and on the one its symbolic links lead to.
pub fn blocker(path: &Path, who: &Who, need: Need) -> Option<Blocked> {
    if who.uid == 0 {
        return None;
    }
    let resolved = path.canonicalize().ok();
    let ways = std::iter::once(path).chain(resolved.as_deref().filter(|r| *r != path));
    for way in ways {
        let dirs: Vec<&Path> = way.ancestors().skip(1).collect();
        for dir in dirs.into_iter().rev() {
            if let Some(blocked) = check(dir, who, Need::Search, Blocked::Directory) {
                return Some(blocked);
            }
        }
    }
    check(path, who, need, |denied| Blocked::Target(denied, need))
}

/// `need` on `path` itself (symbolic links followed).
fn check(
    path: &Path,
    who: &Who,
    need: Need,
    denied: impl FnOnce(Denied) -> Blocked,
) -> Option<Blocked> {
    let meta = match path.metadata() {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Some(Blocked::Missing(path.to_path_buf()))
        }
        // Not ours to tell (a loop, an unreadable mount): systemd will.
        Err(_) => return None,
    };
    let kind_fits = match need {
        Need::Search => meta.is_dir(),
        Need::Execute | Need::Read => meta.is_file(),
    };
    if !kind_fits {
        return Some(Blocked::WrongKind(path.to_path_buf(), need));
    }
    let (shift, class) = if meta.uid() == who.uid {
        (6, 'u')
    } else if who.gids.contains(&meta.gid()) {
        (3, 'g')
    } else {
        (0, 'o')
    };
    let mode = meta.mode() & 0o7777;
    (mode >> shift & need.bit() == 0).then(|| {
        denied(Denied {
            path: path.to_path_buf(),
            mode,
            owner: meta.uid(),
            class,
        })
    })
}

/// One path of an app its user cannot reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    pub app: String,
    pub user: String,
    /// What the path is to the app: "the helper", "the script"...
    pub what: &'static str,
    pub path: PathBuf,
    pub blocked: Blocked,
}

/// The apps whose user cannot reach what their workers run; nothing of
/// them should start.
#[derive(Debug, thiserror::Error)]
#[error("{}nothing was started", .0.iter().map(|u| format!("{u}\n")).collect::<String>())]
pub struct CannotStart(pub Vec<Unreachable>);

/// Checks each app of `apps` (of those named in `only`, when not empty)
/// as the account its workers run as.
pub fn check_apps<'a>(
    apps: impl IntoIterator<Item = &'a AppUnits>,
    only: &[String],
) -> Result<(), CannotStart> {
    let problems: Vec<Unreachable> = apps
        .into_iter()
        .filter(|app| only.is_empty() || only.iter().any(|o| o == app.name.as_str()))
        .filter_map(check_app)
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CannotStart(problems))
    }
}

/// The first path of the app its user cannot reach. An account that does
/// not exist here is not looked at: systemd reports it (217/USER).
pub fn check_app(app: &AppUnits) -> Option<Unreachable> {
    let worker = &app.worker;
    let who = match app.scope {
        Scope::System => Who::named(worker.user.as_deref()?, worker.group.as_deref())?,
        Scope::User => Who::this_process()?,
    };
    paths_of(app).into_iter().find_map(|(what, path, need)| {
        let blocked = blocker(&path, &who, need)?;
        Some(Unreachable {
            app: app.name.to_string(),
            user: who.name.clone(),
            what,
            path,
            blocked,
        })
    })
}

/// What a worker of the app runs and reads, in the order it gets there.
fn paths_of(app: &AppUnits) -> Vec<(&'static str, PathBuf, Need)> {
    let worker = &app.worker;
    let mut paths = vec![("the helper", worker.helper.clone(), Need::Execute)];
    let mut command = worker.options.command.iter().map(PathBuf::from);
    let program = command.next().filter(|p| p.is_absolute());
    // The script: the first argument naming an existing file; the program
    // before it is its interpreter (one found in root's PATH, say).
    let script = command.find(|arg| arg.is_absolute() && arg.is_file());
    if let Some(program) = program {
        let what = if script.is_some() {
            "the interpreter"
        } else {
            "the program"
        };
        paths.push((what, program, Need::Execute));
    }
    if let Some(script) = script {
        paths.push(("the script", script, Need::Read));
    }
    paths.push((
        "the working directory",
        worker.working_directory.clone(),
        Need::Search,
    ));
    paths
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Unreachable {
            app,
            user,
            what,
            path,
            blocked,
        } = self;
        write!(
            f,
            "app `{app}` cannot start: its user `{user}` cannot reach {what} {}: ",
            path.display()
        )?;
        let (stop, fix) = match blocked {
            Blocked::Missing(missing) => (
                format!("{} does not exist", missing.display()),
                String::new(),
            ),
            Blocked::Directory(denied) => (
                format!(
                    "the directory {} (mode {:04o}, owner {}) does not let `{user}` through: every directory on the way needs `x` for the user",
                    denied.path.display(),
                    denied.mode,
                    account::user_name(denied.owner),
                ),
                format!("`chmod {}+x {}`", denied.class, denied.path.display()),
            ),
            Blocked::Target(denied, need) => (
                format!(
                    "its mode {:04o} (owner {}) does not let `{user}` {} it",
                    denied.mode,
                    account::user_name(denied.owner),
                    need.verb(),
                ),
                format!(
                    "`chmod {}+{} {}`",
                    denied.class,
                    need.letter(),
                    denied.path.display()
                ),
            ),
            Blocked::WrongKind(path, Need::Search) => {
                (format!("{} is not a directory", path.display()), String::new())
            }
            Blocked::WrongKind(path, _) => (format!("{} is not a file", path.display()), String::new()),
        };
        let fix = match (fix.is_empty(), *what == "the helper") {
            (false, true) => format!("{fix}, or install nodeunits where every user reaches it (its package, or `make install`), or render the units with `--bin-dir DIR`, a directory `{user}` reaches"),
            (true, true) => format!("install nodeunits (its package, or `make install`), or render the units with `--bin-dir DIR`, a directory holding nodeunits-helper that `{user}` reaches"),
            (false, false) => format!("{fix}, or move the app where `{user}` reaches it"),
            (true, false) => "set `script`, `interpreter` and `cwd` to paths that exist: a file to run or read, a directory to work in".to_owned(),
        };
        write!(f, "{stop}\n  = allowed: {fix}")
    }
}
