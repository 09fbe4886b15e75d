//! `nodeunits reload APP|FILE|all`: the rolling reload of one app (also run
//! by `systemctl reload APP`), of every installed app, or of every app of an
//! ecosystem file after applying it (`deploy`).
use std::process::ExitCode;

use super::args::TargetArgs;
use super::shared::changes::Changes;
use super::shared::rollout::{roll_recorded, rollout, Step};
use super::shared::target::{read, Target};
use super::shared::{connect, installed_apps, instances_of};
use crate::model::AppName;
use crate::systemd::bus::Systemd;

pub fn run(args: &TargetArgs) -> anyhow::Result<ExitCode> {
    let changes = Changes::new(args.manager)?;
    let systemd = connect(changes.scope)?;
    let target = read(args, "reloading", &systemd, &changes.units)?;
    if let Target::File(file) = &target {
        let then = super::deploy::Then::Roll;
        return super::deploy::run(file, &args.compile, args.manager, &changes, &systemd, then);
    }
    match target {
        Target::App(app) => one(&systemd, &app, &changes),
        _ => all(&systemd, &changes),
    }
}

/// `nodeunits reload APP`: every instance the app unit wants, whatever its
/// state, with a line per instance.
fn one(systemd: &Systemd, app: &AppName, changes: &Changes) -> anyhow::Result<ExitCode> {
    let instances = instances_of(systemd, app)?;
    let _lock = changes.lock([app])?;
    roll_recorded(systemd, app, &instances, &changes.interrupt, |line| {
        println!("{line}")
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `nodeunits reload all`: every app installed in the unit directory.
fn all(systemd: &Systemd, changes: &Changes) -> anyhow::Result<ExitCode> {
    let units = &changes.units;
    let apps = installed_apps(units)?;
    if apps.is_empty() {
        println!("no app is installed in {}", units.path().display());
        return Ok(ExitCode::SUCCESS);
    }
    let _locks = changes.lock(&apps)?;
    let mut steps = Vec::new();
    for app in apps {
        let instances = instances_of(systemd, &app)?;
        steps.push((app, Step::Roll(instances)));
    }
    rollout(systemd, &steps, &changes.interrupt)?;
    Ok(ExitCode::SUCCESS)
}
