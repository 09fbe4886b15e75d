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

/// `--only`'s apps by their units' names: PM2's name of an app names the
/// same units; a text that names none stays as written, for the plan's error.
pub(super) fn only_units(only: Vec<String>) -> Vec<String> {
    only.into_iter()
        .map(|name| match crate::model::AppName::from_pm2(&name) {
            Ok(units) => units.to_string(),
            Err(_) => name,
        })
        .collect()
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

#[cfg(test)]
mod tests {
    #[test]
    fn only_takes_pm2_s_names() {
        let only = ["CodeChat Api", "api", "日本"].map(String::from).to_vec();
        assert_eq!(super::only_units(only), ["CodeChat-Api", "api", "日本"]);
    }
}
