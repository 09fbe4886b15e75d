//! Where a worker's stdout and stderr go: `out_file`, `error_file` and
//! PM2's combined `log_file`, as systemd can write them. PM2 copies each
//! stream to its own file and to the combined one; systemd writes a stream
//! to one place, so the combined file receives the streams that have no
//! file of their own (not set, or `"NULL"`), and a stream with one goes
//! there only, with a warning.

use std::path::{Path, PathBuf};

use super::findings::Finding;
use super::interpreter::Runner;
use crate::ecosystem::settings::{App, ExecMode, LogFile, LogTarget};
use crate::ecosystem::values::Instances;
use crate::ecosystem::Diagnostics;
use crate::model::LogWriter;

/// `StandardOutput=` and `StandardError=`; `None` on an error (recorded).
pub fn targets(
    app: &App,
    runner: &Runner,
    diagnostics: &mut Diagnostics,
) -> Option<[Option<LogTarget>; 2]> {
    let mut resolve = |file: &LogFile, key: &'static str| -> Option<LogTarget> {
        match file {
            LogFile::Null => Some(LogTarget::Null),
            LogFile::Path(path) => Some(LogTarget::Append(path.clone())),
            LogFile::Home(rest) => match &runner.home {
                Some(home) => Some(LogTarget::Append(home.join(rest))),
                None => {
                    let user = runner.user.clone().unwrap_or_else(|| "you".to_owned());
                    Finding::NoHome { key, user }.report(diagnostics, Some(app.name.span()));
                    None
                }
            },
        }
    };
    // Each resolved (an error recorded for each), then `None` if any failed.
    let mut failed = false;
    let mut each = |file: Option<&LogFile>, key| {
        let target = file.map(|file| resolve(file, key));
        failed |= matches!(target, Some(None));
        target.flatten()
    };
    let combined = each(app.log_file.as_ref().map(|f| f.get_ref()), "log_file");
    let out = each(app.out_file.as_ref(), "out_file");
    let err = each(app.error_file.as_ref(), "error_file");
    if failed {
        return None;
    }
    let [out, err] = combine(app, [out, err], combined, diagnostics);
    match merged(app) {
        true => Some([out, err]),
        false => Some([out, err].map(|target| target.map(LogTarget::per_worker))),
    }
}

/// Whether the workers share their log files: `merge_logs`, else PM2's
/// default, shared only by the one process of a fork-mode app.
fn merged(app: &App) -> bool {
    let single = matches!(app.instances, Instances::Count(n) if n.get() == 1);
    app.merge_logs
        .unwrap_or(single && app.exec_mode != ExecMode::Cluster)
}

/// The streams with `log_file`, PM2's combined log, for each that has no
/// file of its own.
fn combine(
    app: &App,
    [out, err]: [Option<LogTarget>; 2],
    combined: Option<LogTarget>,
    diagnostics: &mut Diagnostics,
) -> [Option<LogTarget>; 2] {
    let Some(combined) = combined else {
        return [out, err];
    };
    let span = app.log_file.as_ref().map(|f| f.span());
    let mut stream = |own: Option<LogTarget>, stream: &'static str, key: &'static str| match own {
        Some(LogTarget::Null) | None => Some(combined.clone()),
        Some(file) => {
            Finding::LogFileMisses { stream, key }.report(diagnostics, span.clone());
            Some(file)
        }
    };
    [
        stream(out, "stdout", "out_file"),
        stream(err, "stderr", "error_file"),
    ]
}

/// The writer of the log files (`APP-logs.service`), when the app asks for
/// what only it does: rotation (`log_rotate`), timestamps
/// (`log_date_format`, `time`) or JSON lines (`log_type`). The streams it
/// writes then go to the journal, which it follows; a discarded one stays
/// discarded. Without a file to write, there is no writer.
pub fn writer(
    app: &App,
    scope: crate::model::Scope,
    targets: [Option<LogTarget>; 2],
) -> (Option<LogWriter>, [Option<LogTarget>; 2]) {
    let wanted = app.log_rotate.is_some() || app.log_date_format.is_some() || app.log_json;
    let file = |target: &Option<LogTarget>| target.as_ref()?.file().map(Path::to_owned);
    let [out, err] = [file(&targets[0]), file(&targets[1])];
    if !wanted || (out.is_none() && err.is_none()) {
        return (None, targets);
    }
    let writer = LogWriter {
        app: app.name.get_ref().to_string(),
        user: scope == crate::model::Scope::User,
        out,
        err,
        date_format: app.log_date_format.clone(),
        json: app.log_json,
        rotate: app.log_rotate.clone(),
    };
    let journal = targets.map(|target| target.filter(|t| t == &LogTarget::Null));
    (Some(writer), journal)
}

/// The home of the account an app runs as: the `user` (or the file's
/// owner) in the system's manager, `$HOME` in a user's.
pub fn home(user: Option<&str>, options: &super::facts::CompileOptions) -> Option<PathBuf> {
    match user {
        Some(user) => options.facts.home_of(user),
        None => options.facts.environment.get("HOME").map(PathBuf::from),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use toml::Spanned;

    use super::*;
    use crate::model::AppName;

    fn app(out: Option<LogFile>, err: Option<LogFile>, log: Option<LogFile>) -> App {
        let name = Spanned::new(0..0, AppName::new("api").unwrap());
        let mut app = App::new(
            name,
            Spanned::new(0..0, "a.js".into()),
            Path::new("/srv/api"),
        );
        (app.out_file, app.error_file) = (out, err);
        app.log_file = log.map(|file| Spanned::new(0..0, file));
        app
    }

    fn targets_of(app: &App, home: Option<&str>) -> (Option<[Option<LogTarget>; 2]>, Vec<String>) {
        let runner = Runner {
            user: Some("deploy".into()),
            home: home.map(PathBuf::from),
        };
        let mut diagnostics = Diagnostics::default();
        let targets = targets(app, &runner, &mut diagnostics);
        (
            targets,
            diagnostics.items.into_iter().map(|d| d.message).collect(),
        )
    }

    fn file(path: &str) -> Option<LogTarget> {
        Some(LogTarget::Append(PathBuf::from(path)))
    }

    #[test]
    fn the_combined_log_takes_the_streams_without_a_file_of_their_own() {
        let all = || Some(LogFile::Path("/srv/api/all.log".into()));
        // PM2's fixture: out and error "NULL", everything in log_file.
        for (out, err) in [(None, None), (Some(LogFile::Null), Some(LogFile::Null))] {
            let (targets, messages) = targets_of(&app(out, err, all()), None);
            assert_eq!(
                targets,
                Some([file("/srv/api/all.log"), file("/srv/api/all.log")])
            );
            assert!(messages.is_empty(), "{messages:?}");
        }
        // A stream with its own file goes there only, with a warning.
        let out = Some(LogFile::Path("/srv/api/out.log".into()));
        let (targets, messages) = targets_of(&app(out, None, all()), None);
        assert_eq!(
            targets,
            Some([file("/srv/api/out.log"), file("/srv/api/all.log")])
        );
        assert_eq!(
            messages,
            ["`log_file` does not receive stdout: it goes to `out_file` only"]
        );
        // Without log_file, as written.
        let (targets, _) = targets_of(&app(Some(LogFile::Null), None, None), None);
        assert_eq!(targets, Some([Some(LogTarget::Null), None]));
    }

    #[test]
    fn a_tilde_is_the_home_of_the_apps_account() {
        let in_home = || Some(LogFile::Home("logs/api.log".into()));
        let (targets, _) = targets_of(&app(in_home(), None, None), Some("/home/deploy"));
        assert_eq!(targets, Some([file("/home/deploy/logs/api.log"), None]));
        let (targets, messages) = targets_of(&app(None, in_home(), None), None);
        assert_eq!(targets, None);
        assert_eq!(
            messages,
            ["`error_file` starts with `~`, but `deploy`, who runs the app, has no home directory here"]
        );
    }
}
