//! Carries out a [`Plan`]: writes the files, one daemon-reload, then starts,
//! rolls, or stops each app. On failure everything is put back.

use std::io;

use super::deploy::{restart, Restart};
use super::log_dirs::{self, LogDirError};
use super::manager::{ServiceManager, SystemdError};
use super::plan::{AppPlan, Change, Plan};
use super::rolling;
use super::unit_dir::UnitDir;
use crate::model::name::UnitKind;

/// An apply that failed, after the previous unit files came back.
#[derive(Debug, thiserror::Error)]
#[error("app `{app}`: {cause}{}", rollback_note(.rollback_problems))]
pub struct ApplyError {
    pub app: String,
    pub cause: ApplyCause,
    /// What went wrong while putting things back, if anything.
    pub rollback_problems: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyCause {
    #[error("{0}")]
    Systemd(#[from] SystemdError),
    #[error("writing the unit files: {0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    LogDirectory(#[from] LogDirError),
}

fn rollback_note(problems: &[String]) -> String {
    if problems.is_empty() {
        "\nthe previous unit files are back and systemd reloaded them".into()
    } else {
        format!(
            "\nputting the previous unit files back also failed:\n  {}",
            problems.join("\n  ")
        )
    }
}

/// What undoes one step, once the previous files are back.
#[derive(Debug)]
enum Undo {
    Stop(Vec<String>),
    Disable(Vec<String>),
    /// Batches started one after the other (see [`start_order`]).
    Start(Vec<Vec<String>>),
    Enable(Vec<String>),
    Restart(String),
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
            Undo::Start(batches) => start_in_order(systemd, batches),
            Undo::Enable(units) => systemd.enable(units),
            Undo::Restart(unit) => systemd.restart(unit),
        }
    }
}

struct Applier<'a> {
    units: &'a UnitDir,
    systemd: &'a dyn ServiceManager,
    report: &'a mut dyn FnMut(&str),
    undo: Vec<Undo>,
    /// Files written or deleted so far, with their previous contents.
    touched: Vec<(String, Option<String>)>,
}

/// Applies the plan; prints progress through `report`. Does nothing, not even
/// a daemon-reload, when no file changes.
pub fn apply(
    plan: &Plan,
    units: &UnitDir,
    systemd: &dyn ServiceManager,
    report: &mut dyn FnMut(&str),
) -> Result<(), ApplyError> {
    if plan.changes_nothing() {
        return Ok(());
    }
    let mut applier = Applier {
        units,
        systemd,
        report,
        undo: Vec::new(),
        touched: Vec::new(),
    };
    match applier.run(plan) {
        Ok(()) => Ok(()),
        Err((app, cause)) => {
            let rollback_problems = applier.roll_back();
            Err(ApplyError {
                app,
                cause,
                rollback_problems,
            })
        }
    }
}

type StepResult = Result<(), (String, ApplyCause)>;

fn at(app: &AppPlan) -> impl Fn(SystemdError) -> (String, ApplyCause) + '_ {
    move |err| (app.app.to_string(), ApplyCause::Systemd(err))
}

/// The units of an app's files that are started on their own, in order: its
/// socket, app unit and timer (not the template, not the service a timer
/// triggers). They are also the ones with an `[Install]` section.
fn startable(app: &AppPlan, names: &[&str]) -> Vec<String> {
    let mut order: Vec<(UnitKind, String)> = names
        .iter()
        .filter_map(|name| Some((app.kind(name)?, (*name).to_owned())))
        .filter(|(kind, _)| matches!(kind, UnitKind::Socket | UnitKind::App | UnitKind::CronTimer))
        .collect();
    order.sort();
    order.into_iter().map(|(_, name)| name).collect()
}

/// Sockets first, then instances, then the app unit and timers: systemd
/// refuses to start a socket whose service (the app unit) is already active.
fn start_order(app: &AppPlan, units: &[String]) -> Vec<Vec<String>> {
    let units_of_app = app.units();
    let rank = |unit: &String| {
        if units_of_app.kind(unit) == Some(UnitKind::Socket) {
            0
        } else if units_of_app.instance_number(unit).is_some() {
            1
        } else {
            2
        }
    };
    (0..3)
        .map(|r| {
            units
                .iter()
                .filter(|u| rank(u) == r)
                .cloned()
                .collect::<Vec<_>>()
        })
        .filter(|batch| !batch.is_empty())
        .collect()
}

fn start_in_order(
    systemd: &dyn ServiceManager,
    batches: &[Vec<String>],
) -> Result<(), SystemdError> {
    batches.iter().try_for_each(|batch| systemd.start(batch))
}

impl Applier<'_> {
    fn run(&mut self, plan: &Plan) -> StepResult {
        for app in &plan.apps {
            self.stop_what_goes(app)?;
        }
        self.write_files(plan)?;
        self.systemd
            .daemon_reload()
            .map_err(|err| (plan.apps[0].app.to_string(), err.into()))?;
        for app in &plan.apps {
            if let (Change::Created | Change::Changed, Some(units)) = (app.change, &app.after) {
                let created =
                    log_dirs::create(units).map_err(|err| (app.app.to_string(), err.into()))?;
                for line in created {
                    self.say(&line);
                }
            }
            match app.change {
                Change::Created => self.create(app)?,
                Change::Changed => self.change(app)?,
                Change::Removed | Change::Unchanged => {}
            }
        }
        Ok(())
    }

    fn say(&mut self, line: &str) {
        (self.report)(line);
    }

    /// Removed apps, removed files and dropped instances: stopped and
    /// disabled while their files still exist.
    fn stop_what_goes(&mut self, app: &AppPlan) -> StepResult {
        let going = app.deleted();
        let names: Vec<&str> = going.iter().map(|(name, _)| *name).collect();
        let mut stop = app.units().instances(app.dropped_instances());
        let mut disable = startable(app, &names);
        stop.extend(disable.iter().cloned());
        disable.sort();
        if !stop.is_empty() {
            self.undo.push(Undo::Start(start_order(app, &stop)));
            self.say(&format!("{}: stopping {}", app.app, stop.join(" ")));
            self.systemd.stop(&stop).map_err(at(app))?;
        }
        if !disable.is_empty() {
            self.undo.push(Undo::Enable(disable.clone()));
            self.systemd.disable(&disable).map_err(at(app))?;
        }
        Ok(())
    }

    fn write_files(&mut self, plan: &Plan) -> StepResult {
        for app in &plan.apps {
            for file in &app.files {
                self.touched
                    .push((file.name.clone(), file.previous.clone()));
                let written = match &file.contents {
                    Some(contents) => self.units.write(&file.name, contents),
                    None => self.units.remove(&file.name),
                };
                written.map_err(|err| (app.app.to_string(), err.into()))?;
            }
        }
        Ok(())
    }

    fn create(&mut self, app: &AppPlan) -> StepResult {
        let files = app.written();
        let names: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
        let mut units = app.units().instances(0..app.instances_after());
        let enable = startable(app, &names);
        units.extend(enable.iter().cloned());
        self.undo.push(Undo::Stop(units.clone()));
        self.systemd.check_loaded(&units).map_err(at(app))?;
        self.undo.push(Undo::Disable(enable.clone()));
        self.systemd.enable(&enable).map_err(at(app))?;
        self.say(&format!(
            "{}: starting {} instances",
            app.app,
            app.instances_after()
        ));
        start_in_order(self.systemd, &start_order(app, &units)).map_err(at(app))
    }

    fn change(&mut self, app: &AppPlan) -> StepResult {
        let written = app.written();
        let names: Vec<&str> = written.iter().map(|(name, _)| *name).collect();
        let mut loaded = app.units().instances(0..app.instances_after());
        loaded.extend(startable(app, &names));
        self.systemd.check_loaded(&loaded).map_err(at(app))?;
        // An [Install] section depends on the kind of unit and the manager:
        // only new files, or all of them for another manager, need enabling.
        let scope_changed =
            app.before.as_ref().map(|b| b.scope) != app.after.as_ref().map(|a| a.scope);
        let new_files: Vec<&str> = names
            .iter()
            .copied()
            .filter(|name| scope_changed || app.file(name).is_some_and(|f| f.previous.is_none()))
            .collect();
        let enable = startable(app, &new_files);
        if !enable.is_empty() {
            self.systemd.enable(&enable).map_err(at(app))?;
        }
        let kept = app.units().instances(app.kept_instances());
        match restart(app) {
            Restart::WholeApp => self.restart_on_new_addresses(app, &kept)?,
            Restart::Rolling => {
                let (systemd, undo, report) = (self.systemd, &mut self.undo, &mut *self.report);
                rolling::roll(
                    systemd,
                    &kept,
                    |unit| undo.push(Undo::Restart(unit.to_owned())),
                    |line| report(&format!("{}: {line}", app.app)),
                )
                .map_err(at(app))?;
            }
            Restart::Nothing => {}
        }
        self.start_added(app)
    }

    /// systemd starts a socket only while its service, the app unit, is
    /// inactive: the whole app stops and starts again on the new addresses.
    fn restart_on_new_addresses(&mut self, app: &AppPlan, kept: &[String]) -> StepResult {
        let (socket, app_unit) = (app.units().socket(), app.units().app());
        let mut units = vec![socket.clone()];
        units.extend(kept.iter().cloned());
        units.push(app_unit.clone());
        self.say(&format!(
            "{}: listen addresses changed, restarting the app",
            app.app
        ));
        self.undo.push(Undo::Start(start_order(app, &units)));
        self.undo
            .push(Undo::Stop(vec![app_unit.clone(), socket.clone()]));
        self.systemd.stop(&[app_unit, socket]).map_err(at(app))?;
        start_in_order(self.systemd, &start_order(app, &units)).map_err(at(app))
    }

    /// Added instances, and the timers (or a socket, unless restarted above)
    /// of files the app did not have before.
    fn start_added(&mut self, app: &AppPlan) -> StepResult {
        let new_files: Vec<&str> = app
            .files
            .iter()
            .filter(|f| f.previous.is_none() && f.contents.is_some())
            .map(|f| f.name.as_str())
            .collect();
        let mut start = app.units().instances(app.added_instances());
        let socket = app.units().socket();
        start.extend(
            startable(app, &new_files)
                .into_iter()
                .filter(|unit| !(app.listen_changed() && *unit == socket)),
        );
        if !start.is_empty() {
            self.say(&format!("{}: starting {}", app.app, start.join(" ")));
            self.undo.push(Undo::Stop(start.clone()));
            self.systemd.start(&start).map_err(at(app))?;
        }
        Ok(())
    }

    /// Stops and disables what was new, puts every file back, reloads, then
    /// restarts, starts and enables what had been changed or stopped.
    fn roll_back(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        let undo = std::mem::take(&mut self.undo);
        for step in undo.iter().rev().filter(|s| s.before_restore()) {
            if let Err(err) = step.run(self.systemd) {
                problems.push(err.to_string());
            }
        }
        for (name, previous) in self.touched.iter().rev() {
            if let Err(err) = self.units.restore(name, previous.as_deref()) {
                problems.push(format!("{}: {err}", self.units.path().join(name).display()));
            }
        }
        if let Err(err) = self.systemd.daemon_reload() {
            problems.push(err.to_string());
        }
        for step in undo.iter().rev().filter(|s| !s.before_restore()) {
            if let Err(err) = step.run(self.systemd) {
                problems.push(err.to_string());
            }
        }
        problems
    }
}
