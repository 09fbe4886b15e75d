//! The steps of an apply, each undone on rollback: stopping what goes,
//! writing the files, creating, changing and starting apps.

use std::collections::BTreeSet;

use super::{at, step, Applier, ApplyCause, StepResult};
use crate::model::name::UnitKind;
use crate::systemd::deploy::{restart, Restart};
use crate::systemd::manager::SystemdError;
use crate::systemd::plan::{AppPlan, Change, Plan};
use crate::systemd::undo::Undo;
use crate::systemd::{rolling, starting};

/// The units of an app's files that are started on their own, in order: its
/// socket, app unit, timer and log writer (not the template, not the
/// service a timer triggers). They are also the ones with an `[Install]`
/// section.
fn startable(app: &AppPlan, names: &[&str]) -> Vec<String> {
    let mut order: Vec<(UnitKind, String)> = names
        .iter()
        .filter_map(|name| Some((app.kind(name)?, (*name).to_owned())))
        .filter(|(kind, _)| {
            matches!(
                kind,
                UnitKind::Socket
                    | UnitKind::App
                    | UnitKind::CronTimer
                    | UnitKind::Logs
                    | UnitKind::Watch
            )
        })
        .collect();
    order.sort();
    order.dedup();
    order.into_iter().map(|(_, name)| name).collect()
}

/// Whether apply enables and starts the app (`autostart`).
fn autostarts(app: &AppPlan) -> bool {
    app.after.as_ref().is_none_or(|units| units.autostart)
}

/// Sockets first, then instances, then the app unit and timers: systemd
/// refuses to start a socket whose service (the app unit) is already active.
fn start_order(app: &AppPlan, units: &[String]) -> Vec<Vec<String>> {
    (0..3)
        .map(|r| {
            units
                .iter()
                .filter(|u| rank(app, u) == r)
                .cloned()
                .collect::<Vec<_>>()
        })
        .filter(|batch| !batch.is_empty())
        .collect()
}

/// 0 for a socket, 1 for an instance, 2 for the app unit and the others.
fn rank(app: &AppPlan, unit: &str) -> usize {
    let units_of_app = app.units();
    if units_of_app.kind(unit) == Some(UnitKind::Socket) {
        0
    } else if units_of_app.instance_number(unit).is_some() {
        1
    } else {
        2
    }
}

/// A new app's units, for `start_created`.
pub(super) struct Created {
    /// Every unit, to check that systemd loaded it.
    check: Vec<String>,
    /// Its unit files with an `[Install]` section; none when it does not
    /// start.
    enable: Vec<String>,
    /// Its units to start, socket, instances, app unit; none when it does
    /// not start.
    start: Vec<Vec<String>>,
}

/// A failure of a request for several new apps, said under the app whose
/// unit failed (the first app when systemd names none).
fn blame(created: &[(&AppPlan, Created)], err: SystemdError) -> (String, ApplyCause) {
    let owner = match &err {
        SystemdError::Unit(failure) => created.iter().find(|(app, _)| {
            let units = app.units();
            units.kind(&failure.unit).is_some() || units.instance_number(&failure.unit).is_some()
        }),
        SystemdError::Bus(_) => None,
    };
    let (app, _) = owner.unwrap_or(&created[0]);
    at(app)(err)
}

/// The units of one rank among an app's start batches.
fn batch_of_rank(app: &AppPlan, batches: &[Vec<String>], rank_wanted: usize) -> Vec<String> {
    batches
        .iter()
        .flatten()
        .filter(|unit| rank(app, unit) == rank_wanted)
        .cloned()
        .collect()
}

/// An app that ran before an unfinished apply, which that apply changed
/// and did not remove: this apply makes sure it runs.
fn resumes(app: &AppPlan) -> bool {
    app.unfinished.as_ref().is_some_and(|u| u.running)
        && matches!(app.change, Change::Changed | Change::Unchanged)
}

/// The instances a changed app restarts: those it keeps, or after an
/// unfinished apply all it wants, as some may run what that apply wrote.
fn restarted(app: &AppPlan) -> Vec<String> {
    match app.unfinished {
        Some(_) => app.units().instances(0..app.instances_after()),
        None => app.units().instances(app.kept_instances()),
    }
}

/// Why a rolling reload within apply stopped.
enum RollStop {
    Step((String, ApplyCause)),
    Failed(SystemdError),
}

impl From<SystemdError> for RollStop {
    fn from(err: SystemdError) -> Self {
        RollStop::Failed(err)
    }
}

impl Applier<'_> {
    /// A rollback starts an app that ran before an unfinished apply as it
    /// was then: the apply may have stopped it.
    pub(super) fn run_again_on_rollback(&mut self, app: &AppPlan) {
        if let (true, Some(before)) = (resumes(app), &app.before) {
            self.undo.push(Undo::StartApp {
                app: app.app.clone(),
                listens: !before.listen.is_empty(),
                instances: app.units().instances(0..before.instances),
            });
        }
    }

    /// Removed apps, removed files and dropped instances: stopped and
    /// disabled while their files still exist. A new app that an unfinished
    /// apply may have started from other files stops first.
    pub(super) fn stop_what_goes(&mut self, app: &AppPlan) -> StepResult {
        let mut stop = app.units().instances(app.dropped_instances());
        let mut disable = startable(app, &app.deleted());
        stop.extend(disable.iter().cloned());
        if let (Change::Created, Some(earlier)) = (app.change, &app.unfinished) {
            stop.extend(app.units().instances(0..earlier.instances));
            let names: Vec<&str> = earlier.previous.keys().map(String::as_str).collect();
            stop.extend(startable(app, &names));
        }
        let mut seen = BTreeSet::new();
        stop.retain(|unit| seen.insert(unit.clone()));
        disable.sort();
        // Only what ran before the apply (or before an unfinished one) comes back.
        let ran_before = |unit: &String| match app.units().instance_number(unit) {
            Some(number) => number < app.instances_before(),
            None => app.existed(unit),
        };
        if !stop.is_empty() {
            let back: Vec<String> = stop.iter().filter(|u| ran_before(u)).cloned().collect();
            if !back.is_empty() {
                self.undo.push(Undo::Start(start_order(app, &back)));
            }
            self.say(&format!("{}: stopping {}", app.app, stop.join(" ")));
            self.call(app, |systemd| systemd.stop(&stop))?;
        }
        if !disable.is_empty() {
            let back: Vec<String> = disable.iter().filter(|u| ran_before(u)).cloned().collect();
            if !back.is_empty() {
                self.undo.push(Undo::Enable(back));
            }
            self.call(app, |systemd| systemd.disable(&disable))?;
        }
        Ok(())
    }

    pub(super) fn write_files(&mut self, plan: &Plan) -> StepResult {
        for app in &plan.apps {
            for file in &app.files {
                self.step(&app.app)?;
                self.touched
                    .push((file.name.clone(), file.previous.clone()));
                let written = match &file.contents {
                    Some(contents) => self.context.units.write(&file.name, contents),
                    None => self.context.units.remove(&file.name),
                };
                written.map_err(|err| (app.app.to_string(), err.into()))?;
            }
        }
        Ok(())
    }

    /// What a new app needs: its units to check loaded and to enable, and
    /// its units to start in the order they start (`start_order`), which
    /// `start_created` does with every other new app's.
    pub(super) fn create(&mut self, app: &AppPlan) -> Created {
        let files = app.written();
        let names: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
        let mut units = app.units().instances(0..app.instances_after());
        let enable = startable(app, &names);
        units.extend(enable.iter().cloned());
        self.undo.push(Undo::Stop(units.clone()));
        if !autostarts(app) {
            let name = &app.app;
            self.say(&format!(
                "{name}: installed, not started (autostart = false): `nodeunits start {name}` starts it"
            ));
            return Created {
                check: units,
                enable: Vec::new(),
                start: Vec::new(),
            };
        }
        self.undo.push(Undo::Disable(enable.clone()));
        self.say(&format!(
            "{}: starting {} instances",
            app.app,
            app.instances_after()
        ));
        Created {
            start: start_order(app, &units),
            check: units,
            enable,
        }
    }

    /// Checks, enables and starts the new apps together, as `pm2 start`
    /// starts a file's apps: one check of every unit, one enable, then every
    /// socket, every instance and every app unit, each batch one set of
    /// jobs systemd runs at once, rather than one app after the other. A
    /// unit that fails is said under its own app.
    pub(super) fn start_created(&mut self, created: &[(&AppPlan, Created)]) -> StepResult {
        let Some((first, _)) = created.first() else {
            return Ok(());
        };
        let all = |units: fn(&Created) -> &[String]| -> Vec<String> {
            created
                .iter()
                .flat_map(|(_, c)| units(c).to_vec())
                .collect()
        };
        let check = all(|c| &c.check);
        self.step(&first.app)?;
        self.context
            .systemd
            .check_loaded(&check)
            .map_err(|err| blame(created, err))?;
        let enable = all(|c| &c.enable);
        if !enable.is_empty() {
            self.step(&first.app)?;
            self.context
                .systemd
                .enable(&enable)
                .map_err(|err| blame(created, err))?;
        }
        for rank in 0..3 {
            let batch: Vec<String> = created
                .iter()
                .flat_map(|(app, c)| batch_of_rank(app, &c.start, rank))
                .collect();
            if batch.is_empty() {
                continue;
            }
            self.step(&first.app)?;
            self.context
                .systemd
                .start(&batch)
                .map_err(|err| blame(created, err))?;
        }
        Ok(())
    }

    pub(super) fn change(&mut self, app: &AppPlan) -> StepResult {
        let written = app.written();
        let names: Vec<&str> = written.iter().map(|(name, _)| *name).collect();
        let mut loaded = app.units().instances(0..app.instances_after());
        loaded.extend(startable(app, &names));
        self.call(app, |systemd| systemd.check_loaded(&loaded))?;
        // An [Install] section depends on the kind of unit and the manager:
        // only new files, or all of them for another manager (or after an
        // unfinished apply), need enabling.
        let scope_changed =
            app.before.as_ref().map(|b| b.scope) != app.after.as_ref().map(|a| a.scope);
        let new_files: Vec<&str> = names
            .iter()
            .copied()
            .filter(|name| scope_changed || app.unfinished.is_some() || !app.existed(name))
            .collect();
        let enable = startable(app, &new_files);
        if !enable.is_empty() && autostarts(app) {
            self.call(app, |systemd| systemd.enable(&enable))?;
        }
        self.follow_autostart(app)?;
        self.restart_writer(app, &names)?;
        let instances = restarted(app);
        match restart(app) {
            Restart::WholeApp => self.restart_on_new_addresses(app, &instances)?,
            Restart::Rolling => self.roll(app, &instances)?,
            Restart::Nothing => {}
        }
        self.start_added(app)
    }

    /// A log writer or watcher whose unit changed takes its new settings:
    /// restarted (a writer goes on from the journal cursor it recorded).
    fn restart_writer(&mut self, app: &AppPlan, written: &[&str]) -> StepResult {
        for unit in [app.units().logs(), app.units().watch()] {
            let changed = written.contains(&unit.as_str()) && app.existed(&unit);
            if changed && autostarts(app) {
                self.undo.push(Undo::Restart(unit.clone()));
                self.call(app, |systemd| systemd.restart(&unit))?;
            }
        }
        Ok(())
    }

    /// An app whose `autostart` changed: enabled and started when it became
    /// true, disabled (it keeps running) when it became false.
    fn follow_autostart(&mut self, app: &AppPlan) -> StepResult {
        let (Some(before), Some(after)) = (&app.before, &app.after) else {
            return Ok(());
        };
        let files: Vec<String> = after
            .kinds()
            .into_iter()
            .map(|k| app.units().of(k))
            .collect();
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        let enable = startable(app, &files);
        match (before.autostart, after.autostart) {
            (true, false) => {
                self.undo.push(Undo::Enable(enable.clone()));
                self.call(app, |systemd| systemd.disable(&enable))
            }
            (false, true) => {
                self.undo.push(Undo::Disable(enable.clone()));
                self.call(app, |systemd| systemd.enable(&enable))?;
                let mut units = app.units().instances(0..app.instances_after());
                units.extend(enable);
                self.undo.push(Undo::Stop(units.clone()));
                for batch in start_order(app, &units) {
                    self.call(app, |systemd| systemd.start(&batch))?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn roll(&mut self, app: &AppPlan, instances: &[String]) -> StepResult {
        let Applier {
            context,
            report,
            undo,
            steps,
            ..
        } = self;
        let before = |unit: &str| {
            step(context, steps, &app.app).map_err(RollStop::Step)?;
            undo.push(Undo::Restart(unit.to_owned()));
            Ok(())
        };
        let name = &app.app;
        let report = |line: &str| report(&format!("{name}: {line}"));
        rolling::roll(
            context.systemd,
            instances,
            rolling::How::Restart,
            before,
            report,
        )
        .map_err(|stop| match stop {
            RollStop::Step(stopped) => stopped,
            RollStop::Failed(err) => at(app)(err),
        })
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
        self.call(app, |systemd| systemd.stop(&[app_unit, socket]))?;
        for batch in start_order(app, &units) {
            self.call(app, |systemd| systemd.start(&batch))?;
        }
        Ok(())
    }

    /// Added instances, and the timers (or a socket, unless restarted above)
    /// of files the app did not have before. After an unfinished apply, the
    /// instances restarted above are left out, and every written file counts.
    fn start_added(&mut self, app: &AppPlan) -> StepResult {
        let new_files: Vec<&str> = app
            .files
            .iter()
            .filter(|f| f.contents.is_some() && (app.unfinished.is_some() || f.previous.is_none()))
            .map(|f| f.name.as_str())
            .collect();
        let mut start = match (&app.unfinished, restart(app)) {
            (Some(_), Restart::Rolling | Restart::WholeApp) => Vec::new(),
            _ => app.units().instances(app.added_instances()),
        };
        let socket = app.units().socket();
        start.extend(
            startable(app, &new_files)
                .into_iter()
                .filter(|unit| !(app.listen_changed() && *unit == socket))
                .filter(|unit| *unit != app.units().app()),
        );
        if !start.is_empty() {
            self.say(&format!("{}: starting {}", app.app, start.join(" ")));
            self.undo.push(Undo::Stop(start.clone()));
            self.call(app, |systemd| systemd.start(&start))?;
        }
        Ok(())
    }

    /// After an unfinished apply, an app that ran before it runs again,
    /// whatever that apply had stopped.
    pub(super) fn resume(&mut self, app: &AppPlan) -> StepResult {
        let Some(units) = app.after.as_ref() else {
            return Ok(());
        };
        if !resumes(app) {
            return Ok(());
        }
        let instances = app.units().instances(0..units.instances);
        let steps = starting::steps(
            self.context.systemd,
            &app.app,
            !units.listen.is_empty(),
            instances,
        )
        .map_err(at(app))?;
        for step in steps {
            self.call(app, |systemd| step.run(systemd))?;
        }
        Ok(())
    }
}
