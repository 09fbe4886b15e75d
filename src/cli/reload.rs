//! `nodeunits reload APP|FILE|all`: the rolling reload of one app (also run
//! by `systemctl reload APP`), of every installed app, or of every app of an
//! ecosystem file after applying it (`deploy`).
use std::ffi::OsStr;
use std::path::Path;
use std::process::ExitCode;

use super::args::{CompileArgs, ManagerArgs};
use super::shared::changes::Changes;
use super::shared::rollout::{roll_recorded, rollout, Step};
use super::shared::target::{resolve, Target};
use super::shared::{connect, installed_apps, instances_of};
use crate::model::AppName;
use crate::systemd::bus::Systemd;

/// `update_env`: `--update-env`, which changes nothing but a note.
pub fn run(
    arg: &OsStr,
    compile: &CompileArgs,
    manager: ManagerArgs,
    update_env: bool,
) -> anyhow::Result<ExitCode> {
    if update_env {
        super::control::update_env_note();
    }
    let changes = Changes::new(manager)?;
    let (scope, units) = (changes.scope, &changes.units);
    let systemd = connect(scope)?;
    let target = resolve(arg, "reloading", &systemd, units)?;
    if let Target::File(file) = &target {
        let then = super::deploy::Then::Roll;
        return super::deploy::run(file, compile, manager, &changes, &systemd, then);
    }
    let flags = compile.given();
    anyhow::ensure!(
        flags.is_empty(),
        "{} only appl{} to an ecosystem file, and `{}` is {}; to deploy a file, name it",
        flags.join(", "),
        if flags.len() == 1 { "ies" } else { "y" },
        Path::new(arg).display(),
        if target == Target::All {
            "every installed app"
        } else {
            "an installed app"
        },
    );
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
