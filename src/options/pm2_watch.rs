//! The rows of PM2's `watch`, `ignore_watch`, `watch_delay` and
//! `watch_options`: `APP-watch.service` (`nodeunits-helper watch`) reloads
//! the app when one of its files changes (see "Watch").

use super::{Doc, Row};
use crate::ecosystem::document::Value as V;
use crate::ecosystem::fields::Fields;
use crate::ecosystem::findings::Allowed;
use crate::ecosystem::settings::Watch;

pub(super) fn rows() -> Vec<Row> {
    vec![
        Row::read(
            "watch_delay",
            &[],
            Doc {
                default: "`0`",
                becomes: "how long after the first change the reload starts, in milliseconds or with units (`\"1s\"`); changes meanwhile join it, and changes less than 100 ms apart are one",
            },
        )
        .validate(|f, _, app| {
            if let Some(delay) = f.duration("watch_delay") {
                app.watch_delay = delay.into_inner();
            }
        })
        .describe(|units| {
            let delay = units.watch.as_ref()?.delay;
            (!delay.is_zero()).then(|| format!("{} ms", delay.as_millis()))
        }),
        Row::read(
            "watch",
            &[],
            Doc {
                default: "`false`",
                becomes: "`true`: `APP-watch.service` watches the app's `cwd` with inotify (one watch per directory, none polled) and reloads the app when a file is written, created, removed or moved: `systemctl reload APP.service`, one worker at a time with no downtime, where PM2 restarts every worker at once; a path or a list of paths (relative to `cwd`): those only. A change during a reload reloads again after it. See \"Watch\"",
            },
        )
        .validate(|f, _, app| app.watch = watch(f))
        .describe(|units| {
            let watcher = units.watch.as_ref()?;
            Some(match watcher.paths.is_empty() {
                true => watcher.dir.display().to_string(),
                false => watcher
                    .paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            })
        })
        .unmapped(|units, _| {
            units.watch.as_ref()?;
            Some("watch: a pod runs its image's files, which do not change; roll a new image instead".to_owned())
        }),
        Row::read(
            "ignore_watch",
            &[],
            Doc {
                default: "PM2's: names starting with `.`, and `node_modules`",
                becomes: "a glob or a list of globs (`*`, `?`, `[…]`, `**`), each from `cwd` as PM2's watcher reads them: a match and everything under it is no change (`\"logs\"`, `\"*.log\"`, `\"src/**/*.test.js\"`); given, it replaces PM2's default. The app's own log files are never a change",
            },
        )
        .validate(|f, _, app| app.ignore_watch = ignore_watch(f))
        .describe(|units| {
            let watcher = units.watch.as_ref()?;
            (!watcher.default_ignore).then(|| watcher.ignore.join(" "))
        }),
        Row::ignored(
            "watch_options",
            &[],
            "chokidar's options: nodeunits watches with inotify, which needs none (no polling)",
        ),
    ]
}

/// `watch`: `true`, `false`, a path or a list of paths; `[]` is `true`, as
/// in PM2.
fn watch(f: &mut Fields) -> Option<Watch> {
    let value = f.get("watch")?;
    match value.get_ref() {
        V::Boolean(true) => Some(Watch::Cwd),
        V::Boolean(false) => None,
        V::String(path) if !path.is_empty() => Some(Watch::Paths(vec![path.to_string()])),
        V::Array(items) if items.is_empty() => Some(Watch::Cwd),
        V::Array(items) => {
            let paths: Option<Vec<String>> = items
                .iter()
                .map(|item| {
                    item.get_ref()
                        .as_str()
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                })
                .collect();
            if paths.is_none() {
                f.wrong("watch", value, Allowed::Watch);
            }
            paths.map(Watch::Paths)
        }
        _ => {
            f.wrong("watch", value, Allowed::Watch);
            None
        }
    }
}

/// `ignore_watch`: a glob or a list of them, each one that globset takes.
fn ignore_watch(f: &mut Fields) -> Option<Vec<String>> {
    let value = f.get("ignore_watch")?;
    let globs: Option<Vec<String>> = match value.get_ref() {
        V::String(glob) => Some(vec![glob.to_string()]),
        V::Array(items) => items
            .iter()
            .map(|item| item.get_ref().as_str().map(str::to_owned))
            .collect(),
        _ => None,
    };
    match globs {
        Some(globs) if globs.iter().all(|g| globset::Glob::new(g).is_ok()) => Some(globs),
        _ => {
            f.wrong("ignore_watch", value, Allowed::Globs);
            None
        }
    }
}
