//! `nodeunits apply`.
use std::path::Path;
use std::process::ExitCode;

use super::args::{CompileArgs, ManagerArgs};
use super::shared::changes::Changes;
use super::shared::{compile_file, connect, linger_note, ports_of};
use crate::units::Rendered;

/// Refuses, before anything starts, apps whose user cannot reach what
/// their workers run (the helper, the script...).
pub(super) fn reachable(rendered: &Rendered, only: &[String]) -> anyhow::Result<()> {
    let apps = rendered.apps.iter().map(|app| &app.units);
    Ok(crate::units::reach::check_apps(apps, only)?)
}

pub fn run(
    file: &Path,
    compile: &CompileArgs,
    manager: ManagerArgs,
    (dry_run, show_env): (bool, bool),
    only: &[String],
) -> anyhow::Result<ExitCode> {
    let changes = Changes::new(manager)?;
    let Some(rendered) = compile_file(file, compile, manager) else {
        return Ok(ExitCode::from(1));
    };
    if !dry_run {
        reachable(&rendered, only)?;
    }
    let first = changes.plan(&rendered, only)?;
    print!("{first}");
    if dry_run {
        print!("{}", first.diff(changes.units.path(), show_env));
        return Ok(ExitCode::SUCCESS);
    }
    if first.changes_nothing() {
        return Ok(ExitCode::SUCCESS);
    }
    print!("ports:\n{}", ports_of(&rendered, only));
    let systemd = connect(changes.scope)?;
    changes.apply_changing(&first, &rendered, only, &systemd)?;
    linger_note(changes.scope);
    Ok(ExitCode::SUCCESS)
}
