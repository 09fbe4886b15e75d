//! `nodeunits describe APP [--json] [--show-env]`: what one app is and how
//! it runs, from its installed units (the effective options) and from
//! systemd as it runs it now.

/// How an instance's last run ended and why it restarted, in words.
mod instance;
/// The description as text.
mod text;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::args::ManagerArgs;
use super::shared::{connect_to_read, target};
use crate::model::{AppName, AppUnits, Scope};
use crate::options::describe::log_destination;
use crate::options::{effective, Effective};
use crate::systemd::live::{live_state, InstanceState, SocketState, UnitState};
use crate::systemd::reload_record::ReloadRecord;
use instance::InstanceDescription;

/// Everything `describe` shows; `--json` prints it as it is.
#[derive(Serialize)]
struct Description {
    app: AppName,
    /// PM2's name, when it is not the units'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pm2_name: Option<String>,
    scope: Scope,
    source: PathBuf,
    profile: Option<String>,
    units: Vec<UnitState>,
    socket: Option<SocketState>,
    instances: Vec<InstanceDescription>,
    last_reload: Option<ReloadRecord>,
    logs: Logs,
    options: Vec<Effective>,
    /// Names, and values with `--show-env` (else `null`, also for a user
    /// who may not read them).
    environment: BTreeMap<String, Option<String>>,
    #[serde(skip)]
    show_env: bool,
    commands: Vec<String>,
    /// Why the restart reasons are missing, when the journal could not be read.
    journal_note: Option<String>,
}

#[derive(Serialize)]
struct Logs {
    stdout: String,
    stderr: String,
}

/// The commands that show more, for this app and manager.
fn commands(app: &AppName, scope: Scope) -> Vec<String> {
    let names = app.units();
    let (systemctl, unit) = match scope {
        Scope::System => ("systemctl", "--unit"),
        Scope::User => ("systemctl --user", "--user-unit"),
    };
    let glob = names.instance_glob();
    vec![
        format!("{systemctl} status {} '{glob}'", names.app()),
        format!("{systemctl} show {}", names.instance(0)),
        format!("journalctl {unit}='{glob}' {unit}={} -e", names.app()),
        format!("nodeunits logs {app} {}", scope.flag()),
    ]
}

/// The environment's names, and with `show_env` its values: from the
/// environment file, or where this user may not read it (root's) from a
/// running instance, whose environment the kernel shows only to its own
/// user and root. For anyone else they stay unknown.
fn environment(
    units: &AppUnits,
    instances: &[InstanceState],
    show_env: bool,
) -> BTreeMap<String, Option<String>> {
    let mut env = units.worker.environment.clone();
    if !show_env {
        env.values_mut().for_each(|value| *value = None);
    } else if env.values().any(Option::is_none) {
        let running = instances
            .iter()
            .map(|instance| instance.status.pid)
            .filter(|pid| *pid != 0)
            .find_map(process_environment);
        for (name, value) in env.iter_mut().filter(|(_, value)| value.is_none()) {
            *value = running.as_ref().and_then(|r| r.get(name).cloned());
        }
    }
    env
}

/// `/proc/PID/environ`, when this user may read it.
fn process_environment(pid: u32) -> Option<BTreeMap<String, String>> {
    let bytes = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let variables = bytes.split(|b| *b == 0).filter_map(|assignment| {
        let text = String::from_utf8_lossy(assignment);
        let (name, value) = text.split_once('=')?;
        Some((name.to_owned(), value.to_owned()))
    });
    Some(variables.collect())
}

pub fn run(
    app: &AppName,
    manager: ManagerArgs,
    json: bool,
    show_env: bool,
) -> anyhow::Result<ExitCode> {
    let (scope, dir) = target(manager)?;
    let installed = dir
        .read()
        .with_context(|| format!("reading the unit directory {}", dir.path().display()))?;
    let units: AppUnits = installed.app(app)?.with_context(|| {
        let apps: Vec<&str> = installed.apps().into_keys().map(AppName::as_str).collect();
        let listed = if apps.is_empty() {
            "none is installed".to_owned()
        } else {
            format!("installed: {}", apps.join(", "))
        };
        format!(
            "no app `{app}` is installed in {} ({listed}); for an app of the other service manager, add {}",
            dir.path().display(),
            match scope {
                Scope::System => "--user",
                Scope::User => "--system",
            }
        )
    })?;
    let systemd = connect_to_read(scope)?;
    let live = live_state(&systemd, &units)?;
    let environment = environment(&units, &live.instances, show_env);
    let instances = live
        .instances
        .into_iter()
        .map(|instance| InstanceDescription::new(instance, live.reload.as_ref()))
        .collect();
    let description = Description {
        app: app.clone(),
        pm2_name: units.pm2_name.clone(),
        scope,
        source: units.source.clone(),
        profile: units.profile.clone(),
        logs: Logs {
            stdout: log_destination(units.worker.standard_output.as_ref()),
            stderr: log_destination(units.worker.standard_error.as_ref()),
        },
        options: effective(&units),
        environment,
        show_env,
        commands: commands(app, scope),
        units: live.units,
        socket: live.socket,
        instances,
        last_reload: live.reload,
        journal_note: live.journal_note,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&description)?);
    } else {
        print!("{}", text::text(&description));
    }
    Ok(ExitCode::SUCCESS)
}
