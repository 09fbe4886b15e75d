//! `nodeunits apply`.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::args::{CompileArgs, ManagerArgs};
use crate::model::AppName;
use crate::systemd::bus::Systemd;
use crate::systemd::lock::{lock_dir, AppLock};
use crate::systemd::plan::plan;
use crate::systemd::plan::{Change, Plan};
use crate::systemd::{apply, unit_dir_of, Scope, UnitDir};

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

pub fn run(
    file: &Path,
    compile: &CompileArgs,
    manager: ManagerArgs,
    dry_run: bool,
    only: &[String],
) -> anyhow::Result<ExitCode> {
    let (scope, units) = target(manager)?;
    let rendered = match crate::units::compile(file, &compile.options(manager)) {
        Ok(rendered) => rendered,
        Err(err) => {
            eprint!("{err}");
            return Ok(ExitCode::from(1));
        }
    };
    super::render::print_warnings(&rendered);
    let planned = |units: &UnitDir| -> anyhow::Result<Plan> {
        let installed = units
            .read()
            .with_context(|| format!("reading the unit directory {}", units.path().display()))?;
        Ok(plan(&rendered, &installed, only, units.path())?)
    };
    let first = planned(&units)?;
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
    // Another rollout may have changed the files while this one waited.
    let plan = planned(&units)?;
    if plan != first {
        print!("the unit files changed meanwhile; the plan now:\n{plan}");
    }
    apply::apply(&plan, &units, &systemd, &mut |line| println!("{line}"))?;
    if scope == Scope::User && !lingering() {
        println!(
            "note: your apps run while you are logged in; to start them at boot, run `loginctl enable-linger {}`",
            std::env::var("USER").unwrap_or_else(|_| "$USER".into())
        );
    }
    Ok(ExitCode::SUCCESS)
}
