//! Carries out a [`Plan`]: records it in the apply journal, writes the
//! files, one daemon-reload, then starts, rolls, or stops each app. On a
//! failure, or a signal noted between two steps, everything is put back.
//! The journal's entries go once the apply is done or put back.

use std::io;
use std::path::PathBuf;

use nix::sys::signal::Signal;

use super::apply_journal::{ApplyJournal, Unfinished};
use super::interrupt::{Interrupt, Interrupted};
use super::log_dirs::{self, LogDirError};
use super::manager::{ServiceManager, SystemdError};
use super::plan::{AppPlan, Change, Plan};
use super::undo::{roll_back, Undo};
use super::unit_dir::UnitDir;
use crate::model::AppName;

/// The steps, each undone on rollback.
mod steps;

/// Where and how an apply runs.
pub struct Context<'a> {
    pub units: &'a UnitDir,
    pub systemd: &'a dyn ServiceManager,
    pub journal: &'a ApplyJournal,
    /// Checked before each step.
    pub interrupt: &'a Interrupt,
    /// The test hook of [`super::interrupt::test_hook`].
    pub signal_at_step: Option<(usize, Signal)>,
}

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
    #[error("writing the apply journal {}: {err}", .path.display())]
    Journal { path: PathBuf, err: io::Error },
    #[error("{0}")]
    Interrupted(Interrupted),
}

impl ApplyError {
    /// The signal that stopped the apply, if one did.
    pub fn interrupted(&self) -> Option<Interrupted> {
        match self.cause {
            ApplyCause::Interrupted(signal) => Some(signal),
            _ => None,
        }
    }
}

fn rollback_note(problems: &[String]) -> String {
    if problems.is_empty() {
        "\nthe previous unit files are back and systemd reloaded them".into()
    } else {
        format!(
            "\nputting the previous unit files back also failed:\n  {}\nthe next `nodeunits apply` of the app finishes the job",
            problems.join("\n  ")
        )
    }
}

struct Applier<'a> {
    context: &'a Context<'a>,
    report: &'a mut dyn FnMut(&str),
    undo: Vec<Undo>,
    /// Files written or deleted so far, with their previous contents.
    touched: Vec<(String, Option<String>)>,
    /// The apps with an entry in the journal.
    recorded: Vec<AppName>,
    /// Steps begun, for the test hook.
    steps: usize,
}

/// Applies the plan; prints progress through `report`. Does nothing, not even
/// a daemon-reload, when no file changes and no earlier apply is unfinished.
pub fn apply(
    plan: &Plan,
    context: &Context,
    report: &mut dyn FnMut(&str),
) -> Result<(), ApplyError> {
    if plan.changes_nothing() {
        return Ok(());
    }
    let mut applier = Applier {
        context,
        report,
        undo: Vec::new(),
        touched: Vec::new(),
        recorded: Vec::new(),
        steps: 0,
    };
    let done = applier.record(plan).and_then(|()| applier.run(plan));
    let Err((app, cause)) = done else {
        for problem in applier.forget() {
            applier.say(&format!("note: {problem}"));
        }
        for app in plan.apps.iter().filter(|app| app.change == Change::Removed) {
            if let Some(problem) = forget_log_writer(context.journal, &app.app) {
                applier.say(&format!("note: {problem}"));
            }
        }
        return Ok(());
    };
    let mut rollback_problems = roll_back(
        &applier.undo,
        &applier.touched,
        context.units,
        context.systemd,
    );
    // Put back in full: nothing is left to finish. Else the entries stay.
    if rollback_problems.is_empty() {
        rollback_problems = applier.forget();
    }
    Err(ApplyError {
        app,
        cause,
        rollback_problems,
    })
}

/// Removes the state of a removed app's log writer (`StateDirectory=`
/// `nodeunits/logs/APP`, beside the apply journal): an app installed again
/// under the same name writes its files from then on, not from where the
/// removed one's writer stopped. Returns what could not be removed.
fn forget_log_writer(journal: &ApplyJournal, app: &AppName) -> Option<String> {
    let dir = journal.path().parent()?.join("logs").join(app.as_str());
    match std::fs::remove_dir_all(&dir) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Some(format!(
            "removing {}, the log writer's cursor: {err}; remove it before installing `{app}` again",
            dir.display()
        )),
        _ => None,
    }
}

type StepResult = Result<(), (String, ApplyCause)>;

/// Before each step: the test hook, then a signal noted since the last.
fn step(context: &Context, steps: &mut usize, app: &AppName) -> StepResult {
    *steps += 1;
    if let Some((step, signal)) = context.signal_at_step {
        if step == *steps {
            let _ = nix::sys::signal::raise(signal);
        }
    }
    let interrupted = context.interrupt.check();
    interrupted.map_err(|signal| (app.to_string(), ApplyCause::Interrupted(signal)))
}

fn at(app: &AppPlan) -> impl Fn(SystemdError) -> (String, ApplyCause) + '_ {
    move |err| (app.app.to_string(), ApplyCause::Systemd(err))
}

impl Applier<'_> {
    /// Writes the journal entry of every app the plan changes, before
    /// anything changes.
    fn record(&mut self, plan: &Plan) -> StepResult {
        let changing = plan
            .apps
            .iter()
            .filter(|app| app.change != Change::Unchanged || app.unfinished.is_some());
        for app in changing {
            let entry = self.entry(plan, app)?;
            let journal = self.context.journal;
            journal.write(&app.app, &entry).map_err(|err| {
                let path = journal.entry_path(&app.app);
                (app.app.to_string(), ApplyCause::Journal { path, err })
            })?;
            self.recorded.push(app.app.clone());
        }
        Ok(())
    }

    fn entry(&self, plan: &Plan, app: &AppPlan) -> Result<Unfinished, (String, ApplyCause)> {
        let earlier = app.unfinished.as_ref();
        let running = match (earlier, app.change) {
            (Some(earlier), _) => earlier.running,
            (None, Change::Created) => true,
            (None, _) => {
                let state = self
                    .context
                    .systemd
                    .active_state(&app.units().app())
                    .map_err(at(app))?;
                matches!(state.as_str(), "active" | "activating" | "reloading")
            }
        };
        let mut previous = earlier.map(|e| e.previous.clone()).unwrap_or_default();
        for file in &app.files {
            previous
                .entry(file.name.clone())
                .or_insert_with(|| file.previous.clone());
        }
        let instances = [
            app.instances_before(),
            app.instances_after(),
            earlier.map_or(0, |e| e.instances),
        ];
        Ok(Unfinished {
            source: plan.source.clone(),
            previous,
            instances: instances.into_iter().max().unwrap_or(0),
            running,
        })
    }

    /// Removes the journal's entries; returns what could not be removed.
    fn forget(&mut self) -> Vec<String> {
        let journal = self.context.journal;
        std::mem::take(&mut self.recorded)
            .iter()
            .filter_map(|app| {
                let err = journal.remove(app).err()?;
                let path = journal.entry_path(app);
                Some(format!("removing {}: {err}; the next apply of `{app}` restarts its instances once more", path.display()))
            })
            .collect()
    }

    fn step(&mut self, app: &AppName) -> StepResult {
        step(self.context, &mut self.steps, app)
    }

    /// One request to systemd, as a step.
    fn call(
        &mut self,
        app: &AppPlan,
        request: impl FnOnce(&dyn ServiceManager) -> Result<(), SystemdError>,
    ) -> StepResult {
        self.step(&app.app)?;
        request(self.context.systemd).map_err(at(app))
    }

    fn run(&mut self, plan: &Plan) -> StepResult {
        for app in &plan.apps {
            self.run_again_on_rollback(app);
        }
        for app in &plan.apps {
            self.stop_what_goes(app)?;
        }
        self.write_files(plan)?;
        let first = &plan.apps[0];
        self.call(first, |systemd| systemd.daemon_reload())?;
        let mut created = Vec::new();
        for app in &plan.apps {
            if let (Change::Created | Change::Changed, Some(units)) = (app.change, &app.after) {
                let created =
                    log_dirs::create(units).map_err(|err| (app.app.to_string(), err.into()))?;
                for line in created {
                    self.say(&line);
                }
            }
            match app.change {
                Change::Created => {
                    let units = self.create(app);
                    created.push((app, units));
                }
                Change::Changed => self.change(app)?,
                Change::Removed | Change::Unchanged => {}
            }
            self.resume(app)?;
        }
        self.start_created(&created)
    }

    fn say(&mut self, line: &str) {
        (self.report)(line);
    }
}
