//! PM2's `watch`, `ignore_watch` and `watch_delay`: what `APP-watch.service`
//! watches (`nodeunits-helper watch`), from the app's settings and units.

use std::path::PathBuf;

use crate::ecosystem::places::normalize;
use crate::ecosystem::settings::{App, Watch};
use crate::model::{AppUnits, Scope, Watcher};

/// The app's watcher, when it has `watch`: its `cwd` or the paths listed
/// (relative to `cwd`), PM2's default ignores unless `ignore_watch`, and
/// the app's own log files, whose writes are no change.
pub fn watcher(app: &App, units: &AppUnits) -> Option<Watcher> {
    let watch = app.watch.as_ref()?;
    let paths = match watch {
        Watch::Cwd => Vec::new(),
        Watch::Paths(paths) => paths.iter().map(|p| normalize(&app.cwd.join(p))).collect(),
    };
    let mut logs: Vec<PathBuf> = [false, true]
        .into_iter()
        .filter_map(|err| units.log_file(err).map(PathBuf::from))
        .collect();
    logs.dedup();
    Some(Watcher {
        app: units.name.to_string(),
        user: units.scope == Scope::User,
        dir: app.cwd.clone(),
        paths,
        ignore: app.ignore_watch.clone().unwrap_or_default(),
        default_ignore: app.ignore_watch.is_none(),
        delay: app.watch_delay,
        logs,
    })
}
