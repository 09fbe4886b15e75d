//! What apply does to the instances an app keeps, and what a deploy
//! (`nodeunits reload FILE`: apply, then roll) still has to roll after it:
//! every instance that runs the code it ran before, while apply restarted or
//! started the others already.

use super::plan::{AppPlan, Change};

/// How apply restarts the instances an app keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// Not at all: they run on as they were.
    Nothing,
    /// One at a time: the worker template changed.
    Rolling,
    /// The whole app stops and starts again on its new listen addresses.
    WholeApp,
}

/// What apply does to the instances `app` keeps. systemd starts a socket
/// only while its service is inactive, so new addresses restart the app; an
/// app that stops listening only loses its socket.
pub fn restart(app: &AppPlan) -> Restart {
    let socket_written = app
        .file(&app.units().socket())
        .is_some_and(|file| file.contents.is_some());
    if app.change != Change::Changed {
        Restart::Nothing
    } else if app.listen_changed() && socket_written {
        Restart::WholeApp
    } else if app.template_changed() {
        Restart::Rolling
    } else {
        Restart::Nothing
    }
}

/// What a deploy does with an app of the file once apply is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterApply {
    /// Apply removed it.
    Removed,
    /// Apply started, rolled or restarted every instance: they run the new
    /// code already. Says which, for the output.
    DoneByApply(&'static str),
    /// These instances still run what they ran before apply.
    Roll(Vec<String>),
}

pub fn after_apply(app: &AppPlan) -> AfterApply {
    match (app.change, restart(app)) {
        (Change::Removed, _) => AfterApply::Removed,
        (Change::Created, _) => AfterApply::DoneByApply("started by apply"),
        (_, Restart::Rolling) => AfterApply::DoneByApply("reloaded by apply"),
        (_, Restart::WholeApp) => {
            AfterApply::DoneByApply("restarted by apply on its new listen addresses")
        }
        // Instances apply added are new; the kept ones, all when unchanged, are not.
        (Change::Changed | Change::Unchanged, Restart::Nothing) => {
            AfterApply::Roll(app.units().instances(app.kept_instances()))
        }
    }
}
