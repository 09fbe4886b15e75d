//! `nodeunits apply`.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::args::{CompileArgs, ManagerArgs};
use crate::systemd::bus::Systemd;
use crate::systemd::plan::plan;
use crate::systemd::{apply, Scope, UnitDir};

/// The manager the flags select and its unit directory.
pub(super) fn target(manager: ManagerArgs) -> anyhow::Result<(Scope, UnitDir)> {
    let scope = Scope::from(manager.mode());
    let dir = scope.unit_dir().context(
        "neither $XDG_CONFIG_HOME nor $HOME is set, so the user's unit directory is unknown; set HOME, or use --system",
    )?;
    Ok((scope, UnitDir::new(dir)))
}

pub(super) fn connect(scope: Scope) -> anyhow::Result<Systemd> {
    let which = match scope {
        Scope::System => "the system service manager (use --user for yours)",
        Scope::User => "your user service manager (is `systemctl --user` working? use --system for the system's)",
    };
    Systemd::connect(scope).with_context(|| format!("connecting to {which}"))
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
    let installed = units
        .read()
        .with_context(|| format!("reading the unit directory {}", units.path().display()))?;
    let plan = plan(&rendered, &installed, only, units.path())?;
    print!("{plan}");
    if dry_run {
        print!("{}", plan.diff(units.path()));
        return Ok(ExitCode::SUCCESS);
    }
    if plan.changes_nothing() {
        return Ok(ExitCode::SUCCESS);
    }
    let systemd = connect(scope)?;
    apply::apply(&plan, &units, &systemd, &mut |line| println!("{line}"))?;
    if scope == Scope::User && !lingering() {
        println!(
            "note: your apps run while you are logged in; to start them at boot, run `loginctl enable-linger {}`",
            std::env::var("USER").unwrap_or_else(|_| "$USER".into())
        );
    }
    Ok(ExitCode::SUCCESS)
}
