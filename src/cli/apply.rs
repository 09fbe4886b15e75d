//! `nodeunits apply`.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::args::{CompileArgs, ManagerArgs};
use super::changes::Changes;
use crate::model::AppName;
use crate::systemd::bus::Systemd;
use crate::systemd::interrupt::Interrupt;
use crate::systemd::lock::{lock_dir, AppLock, LockError};
use crate::systemd::{unit_dir_of, Scope, UnitDir};
use crate::units::Rendered;

/// The manager the flags select and its unit directory.
pub(super) fn target(manager: ManagerArgs) -> anyhow::Result<(Scope, UnitDir)> {
    let scope = manager.mode();
    let dir = unit_dir_of(scope).context(
        "neither $XDG_CONFIG_HOME nor $HOME is set, so the user's unit directory is unknown; set HOME, or use --system",
    )?;
    Ok((scope, UnitDir::new(dir)))
}

pub(super) fn connect(scope: Scope) -> anyhow::Result<Systemd> {
    let which = match scope {
        Scope::System => "the system service manager (use --user for yours)",
        Scope::User => "your user service manager (it runs while you are logged in, or always after `loginctl enable-linger`; use --system for the system's)",
    };
    Systemd::connect(scope).with_context(|| format!("connecting to {which}"))
}

/// Holds the rollout lock of each app, waiting for other rollouts of them;
/// a signal noted by `interrupt` ends the wait.
pub(super) fn lock_apps<'a>(
    scope: Scope,
    apps: impl IntoIterator<Item = &'a AppName>,
    interrupt: &Interrupt,
) -> anyhow::Result<Vec<AppLock>> {
    let dir = lock_dir(scope);
    let mut apps: Vec<&AppName> = apps.into_iter().collect();
    // One order for everyone, so two commands never wait for each other.
    apps.sort_unstable();
    apps.dedup();
    apps.into_iter()
        .map(|app| {
            let waiting = || eprintln!("{app}: waiting for another rollout of it to finish");
            AppLock::acquire(&dir, app, waiting, interrupt).map_err(|err| match err {
                LockError::Interrupted(signal) => anyhow::Error::new(signal).context(format!(
                    "stopped waiting for another rollout of `{app}`; nothing was changed"
                )),
                LockError::Io(err) => anyhow::Error::new(err).context(format!(
                    "locking {}",
                    dir.join(app.units().lock_file()).display()
                )),
            })
        })
        .collect()
}

fn lingering() -> bool {
    let uid = nix::unistd::getuid();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(user)) => Path::new("/var/lib/systemd/linger")
            .join(user.name)
            .exists(),
        _ => false,
    }
}

/// The file compiled, its warnings printed; `None`, its errors printed,
/// when it is invalid.
pub(super) fn compile_file(
    file: &Path,
    compile: &CompileArgs,
    manager: ManagerArgs,
) -> Option<Rendered> {
    match crate::units::compile(file, &compile.options(manager)) {
        Ok(rendered) => {
            super::render::print_warnings(&rendered);
            Some(rendered)
        }
        Err(err) => {
            eprint!("{err}");
            None
        }
    }
}

/// Refuses, before anything starts, apps whose user cannot reach what
/// their workers run (the helper, the script...).
pub(super) fn reachable(rendered: &Rendered, only: &[String]) -> anyhow::Result<()> {
    let apps = rendered.apps.iter().map(|app| &app.units);
    Ok(crate::units::reach::check_apps(apps, only)?)
}

/// In user mode, how to have the apps start at boot rather than at login.
pub(super) fn linger_note(scope: Scope) {
    if scope == Scope::User && !lingering() {
        println!(
            "note: your apps run while you are logged in; to start them at boot, run `loginctl enable-linger {}`",
            std::env::var("USER").unwrap_or_else(|_| "$USER".into())
        );
    }
}

pub fn run(
    file: &Path,
    compile: &CompileArgs,
    manager: ManagerArgs,
    dry_run: bool,
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
        print!("{}", first.diff(changes.units.path()));
        return Ok(ExitCode::SUCCESS);
    }
    if first.changes_nothing() {
        return Ok(ExitCode::SUCCESS);
    }
    let systemd = connect(changes.scope)?;
    changes.apply_changing(&first, &rendered, only, &systemd)?;
    linger_note(changes.scope);
    Ok(ExitCode::SUCCESS)
}
