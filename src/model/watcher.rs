//! The command line of `nodeunits-helper watch`, the `ExecStart=` of
//! `APP-watch.service`: PM2's `watch`. It watches the app's files with
//! inotify and reloads the app (`systemctl reload APP.service`, one worker
//! at a time) when one changes (docs/ecosystem.md, "Watch").

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::helper_options::{number, text, ArgsError, Request};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watcher {
    pub app: String,
    /// The user's service manager (`--user`), not the system's.
    pub user: bool,
    /// The app's `cwd`: what `watch = true` watches, and what relative
    /// patterns are matched from.
    pub dir: PathBuf,
    /// `watch = [...]`: what is watched, absolute; empty: `dir`.
    pub paths: Vec<PathBuf>,
    /// `ignore_watch`: globs from `dir`; each ignores what it matches and
    /// everything under it.
    pub ignore: Vec<String>,
    /// Without `ignore_watch`, PM2's default: every file or directory whose
    /// name starts with `.`, and every `node_modules`.
    pub default_ignore: bool,
    /// `watch_delay`: how long after the first change the reload starts;
    /// changes meanwhile join it.
    pub delay: Duration,
    /// The app's own log files: their writes are no change.
    pub logs: Vec<PathBuf>,
}

/// The text of `watch --help`.
pub const USAGE: &str = "\
Watches an app's files with inotify and reloads the app (systemctl reload
APP.service: one worker at a time) when one changes; the unit APP-watch.service.

Usage: nodeunits-helper watch --app NAME --dir DIR [OPTIONS]

Options:
  --app NAME          the app's name
  --user              the user's service manager, not the system's
  --dir DIR           the app's directory: watched unless --path, and the base of patterns
  --path PATH         watch PATH (a directory with everything under it, or a file); repeatable
  --ignore GLOB       ignore what GLOB matches from DIR, and everything under it; repeatable
  --default-ignore    ignore names starting with `.` and every node_modules (PM2's default)
  --delay MS          wait MS after the first change before reloading [default: 0]
  --log FILE          the app's log file FILE, and its rotated files, are no change; repeatable
  -h, --help          print this help
";

impl Watcher {
    /// The words after the helper's path, each value through `escape`, in
    /// the order `parse` reads.
    pub fn escaped_words(&self, escape: impl Fn(&str) -> String) -> Vec<String> {
        let mut words = vec!["watch".to_owned(), "--app".to_owned(), escape(&self.app)];
        let mut option = |name: &str, value: Option<String>| {
            words.push(name.to_owned());
            words.extend(value);
        };
        if self.user {
            option("--user", None);
        }
        option("--dir", Some(escape(&self.dir.to_string_lossy())));
        for path in &self.paths {
            option("--path", Some(escape(&path.to_string_lossy())));
        }
        for glob in &self.ignore {
            option("--ignore", Some(escape(glob)));
        }
        if self.default_ignore {
            option("--default-ignore", None);
        }
        if !self.delay.is_zero() {
            option("--delay", Some(self.delay.as_millis().to_string()));
        }
        for log in &self.logs {
            option("--log", Some(escape(&log.to_string_lossy())));
        }
        words
    }
}

/// Reads the command line after the word `watch`.
pub(super) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Request, ArgsError> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut watcher = Watcher {
        app: String::new(),
        user: false,
        dir: PathBuf::new(),
        paths: Vec::new(),
        ignore: Vec::new(),
        default_ignore: false,
        delay: Duration::ZERO,
        logs: Vec::new(),
    };
    let (mut app, mut dir) = (None, None);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("app") => app = Some(text(&mut parser, "--app")?),
            Long("user") => watcher.user = true,
            Long("dir") => dir = Some(PathBuf::from(text(&mut parser, "--dir")?)),
            Long("path") => watcher.paths.push(text(&mut parser, "--path")?.into()),
            Long("ignore") => watcher.ignore.push(text(&mut parser, "--ignore")?),
            Long("default-ignore") => watcher.default_ignore = true,
            Long("delay") => {
                watcher.delay =
                    Duration::from_millis(number(&mut parser, "--delay", "milliseconds")?)
            }
            Long("log") => watcher.logs.push(text(&mut parser, "--log")?.into()),
            Short('h') | Long("help") => return Ok(Request::WatchHelp),
            other => {
                return Err(ArgsError::UnexpectedAfter {
                    subcommand: "watch",
                    unexpected: other.unexpected().to_string(),
                })
            }
        }
    }
    watcher.app = app.ok_or(ArgsError::Missing("watch: --app NAME"))?;
    watcher.dir = dir.ok_or(ArgsError::Missing("watch: --dir DIR"))?;
    Ok(Request::Watch(watcher))
}

#[cfg(test)]
mod tests {
    use super::super::helper_options::parse as parse_helper;
    use super::*;

    #[test]
    fn what_is_written_parses_back_the_same() {
        let watcher = Watcher {
            app: "api".into(),
            user: true,
            dir: "/srv/api".into(),
            paths: vec!["/srv/api/src".into(), "/srv/api/config.json".into()],
            ignore: vec!["logs".into(), "*.tmp".into()],
            default_ignore: false,
            delay: Duration::from_millis(1500),
            logs: vec!["/srv/api/out-%i.log".into()],
        };
        let words = watcher.escaped_words(|word| word.to_owned());
        let parsed = parse_helper(words.into_iter().map(OsString::from));
        assert_eq!(parsed, Ok(Request::Watch(watcher)));
    }

    #[test]
    fn the_app_and_its_directory_are_required() {
        let parsed = parse_helper(["watch", "--app", "api"].map(OsString::from));
        assert_eq!(parsed, Err(ArgsError::Missing("watch: --dir DIR")));
    }
}
