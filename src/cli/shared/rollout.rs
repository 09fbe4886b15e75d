//! Rolling reloads of several apps, one after the other, each recorded.

use std::time::{Instant, SystemTime};

use crate::model::AppName;
use crate::systemd::bus::Systemd;
use crate::systemd::interrupt::Interrupt;
use crate::systemd::lock::lock_dir;
use crate::systemd::reload_record::ReloadRecord;
use crate::systemd::rolling::{roll_app, seconds, RolloutError};

/// What a rollout of several apps does with one of them.
pub(in crate::cli) enum Step {
    /// Nothing: why, for the output.
    Say(&'static str),
    /// Roll these instances, if the app is running.
    Roll(Vec<String>),
}

/// Rolls each app in turn, a line per instance and one per app, while its
/// lock is held. An app whose app unit is stopped stays stopped. Stops at
/// the first instance that does not come back, or before the next one on a
/// signal noted by `interrupt`, naming the apps not reached.
pub(in crate::cli) fn rollout(
    systemd: &Systemd,
    steps: &[(AppName, Step)],
    interrupt: &Interrupt,
) -> anyhow::Result<()> {
    for (index, (app, step)) in steps.iter().enumerate() {
        let instances = match step {
            Step::Say(what) => {
                println!("{app}: {what}");
                continue;
            }
            Step::Roll(instances) => instances,
        };
        let state = systemd.unit(&app.units().app())?.active_state()?;
        // `reloading`: a `systemctl reload` of it waits for the lock we hold.
        if state != "active" && state != "reloading" {
            println!("{app}: {state}, so not reloaded; `nodeunits start {app}` starts it");
            continue;
        }
        let started = Instant::now();
        let report = |line: &str| println!("{app}: {line}");
        roll_recorded(systemd, app, instances, interrupt, report).map_err(|mut err| {
            err.not_reached = steps[index + 1..]
                .iter()
                .filter(|(_, step)| matches!(step, Step::Roll(_)))
                .map(|(app, _)| app.clone())
                .collect();
            err
        })?;
        let count = instances.len();
        let plural = if count == 1 { "" } else { "s" };
        println!(
            "{app}: reloaded ({count} instance{plural} in {})",
            seconds(started.elapsed())
        );
    }
    Ok(())
}

/// [`roll_app`], its duration and outcome recorded for `describe` and
/// `metrics` (see [`ReloadRecord`]).
pub(in crate::cli) fn roll_recorded(
    systemd: &Systemd,
    app: &AppName,
    instances: &[String],
    interrupt: &Interrupt,
    report: impl FnMut(&str),
) -> Result<(), RolloutError> {
    let started = SystemTime::now();
    let result = roll_app(systemd, app, instances, interrupt, report);
    let record = ReloadRecord::ended(started, instances.len() as u32, result.is_ok());
    let dir = lock_dir(systemd.scope());
    if let Err(err) = record.save(&dir, app) {
        eprintln!(
            "{app}: note: this reload is not recorded for `nodeunits metrics`: writing {}: {err}",
            dir.join(app.units().reload_record_file()).display()
        );
    }
    result
}
