//! What several commands share: the manager and unit directory the flags
//! select, the connection to it, the installed apps and their instances, a
//! file compiled with its warnings printed; the changes of units
//! ([`changes`]) and rollouts of several apps ([`rollout`]).

/// The unit directory with the apply journal beside it, the apps' locks,
/// and signals between steps: what commands that change units share.
pub(super) mod changes;
/// Rolling reloads of several apps, each recorded for `describe` and `metrics`.
pub(super) mod rollout;
/// What a command's `APP|FILE|all` argument names.
pub(super) mod target;

use std::path::Path;

use anyhow::Context;

use super::args::{CompileArgs, ManagerArgs};
use crate::model::AppName;
use crate::systemd::bus::Systemd;
use crate::systemd::{unit_dir_of, Scope, UnitDir};
use crate::units::Rendered;

/// The manager the flags select and its unit directory.
pub(in crate::cli) fn target(manager: ManagerArgs) -> anyhow::Result<(Scope, UnitDir)> {
    let scope = manager.mode();
    let dir = unit_dir_of(scope).context(
        "neither $XDG_CONFIG_HOME nor $HOME is set, so the user's unit directory is unknown; set HOME, or use --system",
    )?;
    Ok((scope, UnitDir::new(dir)))
}

/// The manager of `scope` over D-Bus; an error says which it is and how to
/// reach the other.
pub(in crate::cli) fn connect(scope: Scope) -> anyhow::Result<Systemd> {
    Systemd::connect(scope).with_context(|| connecting_to(scope))
}

/// [`connect`] for a command that only reads the manager.
pub(in crate::cli) fn connect_to_read(scope: Scope) -> anyhow::Result<Systemd> {
    Systemd::connect_to_read(scope).with_context(|| connecting_to(scope))
}

fn connecting_to(scope: Scope) -> String {
    let which = match scope {
        Scope::System => "the system service manager (use --user for yours)",
        Scope::User => "your user service manager (it runs while you are logged in, or always after `loginctl enable-linger`; use --system for the system's)",
    };
    format!("connecting to {which}")
}

/// The apps nodeunits installed in the unit directory.
pub(in crate::cli) fn installed_apps(units: &UnitDir) -> anyhow::Result<Vec<AppName>> {
    let installed = units
        .read()
        .with_context(|| format!("reading the unit directory {}", units.path().display()))?;
    Ok(installed.apps().into_keys().cloned().collect())
}

/// Whether the service manager has loaded the app unit of `app`.
pub(in crate::cli) fn loaded(systemd: &Systemd, app: &AppName) -> anyhow::Result<bool> {
    Ok(systemd.load_state(&app.units().app())? == "loaded")
}

/// [`loaded`] of each app, in their order: those the manager holds in one
/// listing, any other asked (and so loaded) one by one.
pub(in crate::cli) fn all_loaded(systemd: &Systemd, apps: &[AppName]) -> anyhow::Result<Vec<bool>> {
    let units: Vec<String> = apps.iter().map(|app| app.units().app()).collect();
    let patterns: Vec<&str> = units.iter().map(String::as_str).collect();
    let listed: std::collections::HashMap<String, String> = systemd
        .manager()
        .list_units_by_patterns(&[], &patterns)?
        .into_iter()
        .map(|unit| (unit.0, unit.2))
        .collect();
    let unlisted: Vec<&String> = units.iter().filter(|u| !listed.contains_key(*u)).collect();
    let mut asked =
        crate::systemd::bus::in_parallel(&unlisted, |unit| systemd.load_state(unit)).into_iter();
    units
        .iter()
        .map(|unit| match listed.get(unit) {
            Some(state) => Ok(state == "loaded"),
            None => Ok(asked.next().expect("one answer per unlisted unit")? == "loaded"),
        })
        .collect()
}

/// The app's instance units, from its app unit's `Wants=`.
pub(in crate::cli) fn instances_of(
    systemd: &Systemd,
    app: &AppName,
) -> anyhow::Result<Vec<String>> {
    anyhow::ensure!(loaded(systemd, app)?, not_loaded(app, systemd.scope()));
    let wants = systemd.unit(&app.units().app())?.wants()?;
    let numbers = app
        .units()
        .instances_among(wants.iter().map(String::as_str));
    Ok(app.units().instances(numbers))
}

/// Why `app` is not an app of this service manager.
pub(in crate::cli) fn not_loaded(app: &AppName, scope: Scope) -> String {
    let (this, other) = match scope {
        Scope::System => ("system", "--user"),
        Scope::User => ("user", "--system"),
    };
    format!(
        "no app `{app}` in the {this} service manager: {} is not loaded (installed with {other}? see `nodeunits status {other}`)",
        app.units().app()
    )
}

/// The file compiled, its warnings printed; `None`, its errors printed,
/// when it is invalid.
pub(in crate::cli) fn compile_file(
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

/// Whether the user's manager runs without a session (`loginctl enable-linger`).
fn lingering() -> bool {
    let uid = nix::unistd::getuid();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(user)) => Path::new("/var/lib/systemd/linger")
            .join(user.name)
            .exists(),
        _ => false,
    }
}

/// In user mode, how to have the apps start at boot rather than at login.
/// The ports each app (of `only`, when given) serves and where they come
/// from, one line each.
pub(in crate::cli) fn ports_of(rendered: &Rendered, only: &[String]) -> String {
    rendered
        .apps
        .iter()
        .zip(&rendered.ports)
        .filter(|(app, _)| {
            only.is_empty() || only.iter().any(|name| app.units.name.as_str() == name)
        })
        .map(|(_, ports)| format!("  {ports}\n"))
        .collect()
}

pub(in crate::cli) fn linger_note(scope: Scope) {
    if scope == Scope::User && !lingering() {
        println!(
            "note: your apps run while you are logged in; to start them at boot, run `loginctl enable-linger {}`",
            std::env::var("USER").unwrap_or_else(|_| "$USER".into())
        );
    }
}
