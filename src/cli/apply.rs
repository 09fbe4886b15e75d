//! `nodeunits apply`.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::args::{CompileArgs, ManagerArgs};
use crate::model::AppName;
use crate::systemd::bus::Systemd;
use crate::systemd::lock::{lock_dir, AppLock};
use crate::systemd::plan::{plan, Change, Plan};
use crate::systemd::{apply, unit_dir_of, Scope, UnitDir};
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

/// Holds the rollout lock of each app, waiting for other rollouts of them.
pub(super) fn lock_apps<'a>(
    scope: Scope,
    apps: impl IntoIterator<Item = &'a AppName>,
) -> anyhow::Result<Vec<AppLock>> {
    let dir = lock_dir(scope);
    let mut apps: Vec<&AppName> = apps.into_iter().collect();
    // One order for everyone, so two commands never wait for each other.
    apps.sort_unstable();
    apps.dedup();
    apps.into_iter()
        .map(|app| {
            AppLock::acquire(&dir, app, || {
                eprintln!("{app}: waiting for another rollout of it to finish");
            })
            .with_context(|| format!("locking {}", dir.join(app.units().lock_file()).display()))
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

/// The plan of `rendered` against the unit files as they are now.
pub(super) fn plan_now(
    rendered: &Rendered,
    units: &UnitDir,
    only: &[String],
) -> anyhow::Result<Plan> {
    let installed = units
        .read()
        .with_context(|| format!("reading the unit directory {}", units.path().display()))?;
    Ok(plan(rendered, &installed, only, units.path())?)
}

/// Applies `first`, the plan printed, once the apps' locks are held: the plan
/// is made again, as another rollout may have changed the files meanwhile.
/// Returns the plan carried out.
pub(super) fn apply_locked(
    first: Plan,
    rendered: &Rendered,
    units: &UnitDir,
    only: &[String],
    systemd: &Systemd,
) -> anyhow::Result<Plan> {
    let plan = plan_now(rendered, units, only)?;
    if plan != first {
        print!("the unit files changed meanwhile; the plan now:\n{plan}");
    }
    apply::apply(&plan, units, systemd, &mut |line| println!("{line}"))?;
    Ok(plan)
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
    let (scope, units) = target(manager)?;
    let Some(rendered) = compile_file(file, compile, manager) else {
        return Ok(ExitCode::from(1));
    };
    let first = plan_now(&rendered, &units, only)?;
    print!("{first}");
    if dry_run {
        print!("{}", first.diff(units.path()));
        return Ok(ExitCode::SUCCESS);
    }
    if first.changes_nothing() {
        return Ok(ExitCode::SUCCESS);
    }
    let systemd = connect(scope)?;
    let changing = first
        .apps
        .iter()
        .filter(|app| app.change != Change::Unchanged);
    let _locks = lock_apps(scope, changing.map(|app| &app.app))?;
    apply_locked(first, &rendered, &units, only, &systemd)?;
    linger_note(scope);
    Ok(ExitCode::SUCCESS)
}
