//! What undoes each step of an apply, and the rollback that runs them.

use super::manager::{ServiceManager, SystemdError};
use super::starting;
use super::unit_dir::UnitDir;
use crate::model::AppName;

/// What undoes one step, once the previous files are back.
#[derive(Debug)]
pub enum Undo {
    Stop(Vec<String>),
    Disable(Vec<String>),
    /// Batches started one after the other (socket, instances, app unit).
    Start(Vec<Vec<String>>),
    Enable(Vec<String>),
    Restart(String),
    /// The app as it ran before an unfinished apply: started, as
    /// `nodeunits start` starts it.
    StartApp {
        app: AppName,
        listens: bool,
        instances: Vec<String>,
    },
}

impl Undo {
    /// Stopping and disabling need the new files; the others the old ones.
    fn before_restore(&self) -> bool {
        matches!(self, Undo::Stop(_) | Undo::Disable(_))
    }

    fn run(&self, systemd: &dyn ServiceManager) -> Result<(), SystemdError> {
        match self {
            Undo::Stop(units) => systemd.stop(units),
            Undo::Disable(units) => systemd.disable(units),
            Undo::Start(batches) => batches.iter().try_for_each(|batch| systemd.start(batch)),
            Undo::Enable(units) => systemd.enable(units),
            Undo::Restart(unit) => systemd.restart(unit),
            Undo::StartApp {
                app,
                listens,
                instances,
            } => starting::start(systemd, app, *listens, instances.clone()),
        }
    }
}

/// Stops and disables what was new, puts every file back as it was
/// (`touched`: names with their previous contents), reloads, then restarts,
/// starts and enables what had been changed or stopped. Returns what went
/// wrong, if anything.
pub fn roll_back(
    undo: &[Undo],
    touched: &[(String, Option<String>)],
    units: &UnitDir,
    systemd: &dyn ServiceManager,
) -> Vec<String> {
    let mut problems = Vec::new();
    for step in undo.iter().rev().filter(|s| s.before_restore()) {
        if let Err(err) = step.run(systemd) {
            problems.push(err.to_string());
        }
    }
    for (name, previous) in touched.iter().rev() {
        if let Err(err) = units.restore(name, previous.as_deref()) {
            problems.push(format!("{}: {err}", units.path().join(name).display()));
        }
    }
    if let Err(err) = systemd.daemon_reload() {
        problems.push(err.to_string());
    }
    for step in undo.iter().rev().filter(|s| !s.before_restore()) {
        if let Err(err) = step.run(systemd) {
            problems.push(err.to_string());
        }
    }
    problems
}
