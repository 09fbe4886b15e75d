//! `nodeunits-helper watch`: the process of `APP-watch.service`, PM2's
//! `watch`. It watches the app's directories with inotify, one watch per
//! directory that is not ignored (so an ignored `node_modules` costs
//! nothing), adds the directories created later, and after a change reloads
//! the app with `systemctl reload APP.service`: the workers are replaced
//! one at a time, with no downtime, where PM2 restarts them all. Idle, it
//! sleeps in poll(2); nothing is scanned.

use std::collections::HashMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use sd_notify::NotifyState;

use crate::model::app::PER_WORKER;
use crate::model::Watcher;

/// Changes closer together than this are one change: saving a file is
/// several events (create, write, close, rename).
const SETTLE: Duration = Duration::from_millis(100);
/// How often the watcher looks for a stop signal while idle.
const TICK: Duration = Duration::from_millis(500);

pub fn command(watcher: &Watcher) -> ExitCode {
    super::service_exit("watch", run(watcher))
}

fn run(watcher: &Watcher) -> Result<(), String> {
    let stop = super::stop_flag()?;
    let ignore = Ignore::new(watcher)?;
    let mut tree = Tree::new(ignore)?;
    let roots = if watcher.paths.is_empty() {
        std::slice::from_ref(&watcher.dir)
    } else {
        &watcher.paths[..]
    };
    for root in roots {
        tree.add_root(root)?;
    }
    eprintln!(
        "watching {} director{} of {}",
        tree.dirs.len(),
        if tree.dirs.len() == 1 { "y" } else { "ies" },
        watcher.app
    );
    let _ = sd_notify::notify(&[NotifyState::Ready]);
    let mut pending: Option<Pending> = None;
    while !stop.load(Ordering::Relaxed) {
        let timeout = match &pending {
            Some(p) => p
                .due(watcher.delay)
                .saturating_duration_since(Instant::now()),
            None => TICK,
        };
        if let Some(changed) = tree.wait(timeout)? {
            let now = Instant::now();
            let p = pending.get_or_insert(Pending {
                first: now,
                last: now,
                path: changed,
            });
            p.last = now;
        }
        if pending
            .as_ref()
            .is_some_and(|p| Instant::now() >= p.due(watcher.delay))
        {
            let p = pending.take().expect("pending");
            reload(watcher, &p.path);
        }
    }
    Ok(())
}

/// A change not yet acted on.
struct Pending {
    first: Instant,
    last: Instant,
    /// The first path that changed, for the message.
    path: PathBuf,
}

impl Pending {
    /// When the reload starts: `delay` after the first change, and once no
    /// change came for [`SETTLE`].
    fn due(&self, delay: Duration) -> Instant {
        (self.first + delay).max(self.last + SETTLE)
    }
}

/// `systemctl reload APP.service`, waited for: a change during it is
/// read after it, and reloads again.
fn reload(watcher: &Watcher, changed: &Path) {
    let unit = format!("{}.service", watcher.app);
    eprintln!("{} changed: reloading {unit}", changed.display());
    let mut systemctl = Command::new("systemctl");
    if watcher.user {
        systemctl.arg("--user");
    }
    match systemctl.args(["reload", &unit]).status() {
        Ok(status) if status.success() => eprintln!("{unit} reloaded"),
        Ok(status) => {
            eprintln!("systemctl reload {unit} failed ({status}); the next change tries again")
        }
        Err(err) => eprintln!("running systemctl: {err}"),
    }
}

/// The inotify instance and the directory each watch is on.
struct Tree {
    inotify: Inotify,
    dirs: HashMap<WatchDescriptor, PathBuf>,
    /// Files watched on their own (a `watch` entry that is a file): their
    /// directory is watched, and only their name counts there.
    files: HashMap<WatchDescriptor, Vec<std::ffi::OsString>>,
    ignore: Ignore,
}

/// What a change is: a file written, created, removed or moved.
fn mask() -> AddWatchFlags {
    AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_MOVED_TO
}

impl Tree {
    fn new(ignore: Ignore) -> Result<Tree, String> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .map_err(|err| format!("inotify: {err}"))?;
        Ok(Tree {
            inotify,
            dirs: HashMap::new(),
            files: HashMap::new(),
            ignore,
        })
    }

    fn add_root(&mut self, root: &Path) -> Result<(), String> {
        match std::fs::metadata(root) {
            Ok(meta) if meta.is_dir() => self.add_tree(root),
            Ok(_) => {
                let (Some(dir), Some(name)) = (root.parent(), root.file_name()) else {
                    return Err(format!("{} names no file", root.display()));
                };
                let wd = self.add_dir(dir)?;
                self.files.entry(wd).or_default().push(name.to_owned());
                Ok(())
            }
            Err(err) => Err(format!("watching {}: {err}", root.display())),
        }
    }

    /// A watch on `dir` and each directory under it that is not ignored.
    fn add_tree(&mut self, dir: &Path) -> Result<(), String> {
        let mut todo = vec![dir.to_path_buf()];
        while let Some(dir) = todo.pop() {
            self.add_dir(&dir)?;
            // A directory gone or unreadable meanwhile is no error: a
            // change will be seen in its parent.
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                if is_dir && !self.ignore.ignores(&path) {
                    todo.push(path);
                }
            }
        }
        Ok(())
    }

    fn add_dir(&mut self, dir: &Path) -> Result<WatchDescriptor, String> {
        match self.inotify.add_watch(dir, mask() | AddWatchFlags::IN_ONLYDIR) {
            Ok(wd) => {
                self.dirs.insert(wd, dir.to_path_buf());
                Ok(wd)
            }
            Err(Errno::ENOSPC) => Err(format!(
                "watching {}: the system's limit of inotify watches is reached after {} directories \
                 (sysctl fs.inotify.max_user_watches); list what need not be watched in ignore_watch",
                dir.display(),
                self.dirs.len()
            )),
            Err(err) => Err(format!("watching {}: {err}", dir.display())),
        }
    }

    /// Waits up to `timeout` for events; returns the first path that
    /// changed among them, if any did.
    fn wait(&mut self, timeout: Duration) -> Result<Option<PathBuf>, String> {
        let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.inotify.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(millis)) {
            Ok(0) | Err(Errno::EINTR) => return Ok(None),
            Ok(_) => {}
            Err(err) => return Err(format!("poll: {err}")),
        }
        let events = match self.inotify.read_events() {
            Ok(events) => events,
            Err(Errno::EAGAIN) => return Ok(None),
            Err(err) => return Err(format!("reading inotify events: {err}")),
        };
        let mut changed = None;
        for event in events {
            if event.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                changed.get_or_insert_with(|| PathBuf::from("(too many changes to tell)"));
                continue;
            }
            if event.mask.contains(AddWatchFlags::IN_IGNORED) {
                self.dirs.remove(&event.wd);
                continue;
            }
            let (Some(dir), Some(name)) = (self.dirs.get(&event.wd), &event.name) else {
                continue;
            };
            if let Some(names) = self.files.get(&event.wd) {
                if !names.contains(name) {
                    continue;
                }
            }
            let path = dir.join(name);
            if self.ignore.ignores(&path) {
                continue;
            }
            let new_dir = event.mask.contains(AddWatchFlags::IN_ISDIR)
                && event
                    .mask
                    .intersects(AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO);
            if new_dir && !self.files.contains_key(&event.wd) {
                self.add_tree(&path)?;
            }
            changed.get_or_insert(path);
        }
        Ok(changed)
    }
}

/// What is no change: `ignore_watch`, PM2's default, the app's log files.
struct Ignore {
    dir: PathBuf,
    /// `ignore_watch`'s patterns from `dir`, and its absolute ones.
    relative: GlobSet,
    absolute: GlobSet,
    default: bool,
    /// Each log file's directory and the start of its name (`out` for
    /// `out.log`, `out-%i.log` and `out__2026-12-04_00-00-00.log.gz`).
    logs: Vec<(PathBuf, String)>,
}

impl Ignore {
    fn new(watcher: &Watcher) -> Result<Ignore, String> {
        // A pattern is matched against the path from `dir` (so the
        // directory's own name is never read as a glob), or against the
        // whole path when it is absolute; what it matches, and everything
        // under it, as chokidar reads PM2's ignore_watch.
        let (mut relative, mut absolute) = (GlobSetBuilder::new(), GlobSetBuilder::new());
        for pattern in &watcher.ignore {
            let trimmed = pattern.trim_end_matches('/');
            let set = if Path::new(trimmed).is_absolute() {
                &mut absolute
            } else {
                &mut relative
            };
            for glob in [trimmed.to_owned(), format!("{trimmed}/**")] {
                let glob = GlobBuilder::new(&glob)
                    .literal_separator(true)
                    .build()
                    .map_err(|err| format!("ignore_watch {pattern:?}: {err}"))?;
                set.add(glob);
            }
        }
        let build = |set: GlobSetBuilder| set.build().map_err(|err| format!("ignore_watch: {err}"));
        let (relative, absolute) = (build(relative)?, build(absolute)?);
        let logs = watcher
            .logs
            .iter()
            .filter_map(|file| {
                let name = file.file_name()?.to_string_lossy();
                let stem = name
                    .strip_suffix(PER_WORKER)
                    .or_else(|| name.strip_suffix(".log"))
                    .unwrap_or(&name);
                Some((file.parent()?.to_path_buf(), stem.to_owned()))
            })
            .collect();
        Ok(Ignore {
            dir: watcher.dir.clone(),
            relative,
            absolute,
            default: watcher.default_ignore,
            logs,
        })
    }

    fn ignores(&self, path: &Path) -> bool {
        let relative = path.strip_prefix(&self.dir).ok();
        if self.absolute.is_match(path) || relative.is_some_and(|r| self.relative.is_match(r)) {
            return true;
        }
        if self.default {
            // PM2's `/[\/\\]\.|node_modules/`, from the app's directory.
            let relative = relative.unwrap_or(path);
            let hidden = relative.components().any(|c| {
                let c = c.as_os_str().to_string_lossy();
                c.starts_with('.') || c.contains("node_modules")
            });
            if hidden {
                return true;
            }
        }
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return false;
        };
        let name = name.to_string_lossy();
        self.logs.iter().any(|(dir, stem)| {
            dir == parent
                && name.starts_with(stem.as_str())
                && [".log", ".gz", ".partial"]
                    .iter()
                    .any(|end| name.ends_with(end))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watcher(ignore: &[&str], default_ignore: bool) -> Watcher {
        Watcher {
            app: "api".into(),
            user: false,
            dir: "/srv/api".into(),
            paths: Vec::new(),
            ignore: ignore.iter().map(|p| p.to_string()).collect(),
            default_ignore,
            delay: Duration::ZERO,
            logs: vec!["/srv/api/logs/out-%i.log".into(), "/srv/api/err.log".into()],
        }
    }

    #[test]
    fn pm2_s_default_ignores_hidden_names_and_node_modules() {
        let ignore = Ignore::new(&watcher(&[], true)).unwrap();
        for path in [
            "/srv/api/node_modules",
            "/srv/api/node_modules/express/index.js",
            "/srv/api/.git/HEAD",
            "/srv/api/src/.cache",
        ] {
            assert!(ignore.ignores(Path::new(path)), "{path}");
        }
        for path in ["/srv/api/server.js", "/srv/api/src/routes/index.js"] {
            assert!(!ignore.ignores(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn ignore_watch_globs_match_from_the_app_s_directory_and_below() {
        let ignore =
            Ignore::new(&watcher(&["uploads", "*.tmp", "src/**/*.test.js"], false)).unwrap();
        for path in [
            "/srv/api/uploads",
            "/srv/api/uploads/a/b.png",
            "/srv/api/x.tmp",
            "/srv/api/src/a/b.test.js",
        ] {
            assert!(ignore.ignores(Path::new(path)), "{path}");
        }
        // `*` stays in its directory; without the default, node_modules counts.
        for path in [
            "/srv/api/src/x.tmp",
            "/srv/api/node_modules/x.js",
            "/srv/api/src/a.js",
        ] {
            assert!(!ignore.ignores(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn the_app_s_own_log_files_are_no_change() {
        let ignore = Ignore::new(&watcher(&[], false)).unwrap();
        for path in [
            "/srv/api/logs/out-0.log",
            "/srv/api/logs/out__2026-12-04_00-00-00.log.gz",
            "/srv/api/err.log",
            "/srv/api/err__2026-12-04_00-00-00.log.gz.partial",
        ] {
            assert!(ignore.ignores(Path::new(path)), "{path}");
        }
        for path in [
            "/srv/api/logs/other.log",
            "/srv/api/error.js",
            "/srv/api/out.log",
        ] {
            assert!(!ignore.ignores(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn the_app_s_directory_is_no_glob_and_absolute_patterns_count() {
        let mut watcher = watcher(&["logs/", "/var/cache/api"], false);
        watcher.dir = "/srv/app[1]".into();
        let ignore = Ignore::new(&watcher).unwrap();
        for path in [
            "/srv/app[1]/logs",
            "/srv/app[1]/logs/a.txt",
            "/var/cache/api/x",
        ] {
            assert!(ignore.ignores(Path::new(path)), "{path}");
        }
        assert!(!ignore.ignores(Path::new("/srv/app[1]/server.js")));
    }

    #[test]
    fn a_bad_glob_names_itself() {
        let err = Ignore::new(&watcher(&["src/[a"], false)).err().unwrap();
        assert!(err.starts_with("ignore_watch \"src/[a\": "), "{err}");
    }
}
