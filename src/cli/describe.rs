//! `nodeunits describe APP [--json] [--show-env]`.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::apply::{connect, target};
use super::args::ManagerArgs;
use crate::model::{AppName, AppUnits, Scope};
use crate::options::describe::log_destination;
use crate::options::{effective, Effective};
use crate::systemd::describe::{ago, live_state, InstanceDescription, SocketState, UnitState};
use crate::systemd::reload_record::ReloadRecord;
use crate::systemd::status::{memory, uptime};

/// Everything `describe` shows; `--json` prints it as it is.
#[derive(Serialize)]
struct Description {
    app: AppName,
    scope: Scope,
    source: PathBuf,
    profile: Option<String>,
    units: Vec<UnitState>,
    socket: Option<SocketState>,
    instances: Vec<InstanceDescription>,
    last_reload: Option<ReloadRecord>,
    logs: Logs,
    options: Vec<Effective>,
    /// Names, and values with `--show-env` (else `null`).
    environment: BTreeMap<String, Option<String>>,
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
    let systemd = connect(scope)?;
    let live = live_state(&systemd, &units)?;
    let description = Description {
        app: app.clone(),
        scope,
        source: units.source.clone(),
        profile: units.profile.clone(),
        logs: Logs {
            stdout: log_destination(units.worker.standard_output.as_ref()),
            stderr: log_destination(units.worker.standard_error.as_ref()),
        },
        options: effective(&units),
        environment: units
            .worker
            .environment
            .iter()
            .map(|(name, value)| (name.clone(), show_env.then(|| value.clone())))
            .collect(),
        commands: commands(app, scope),
        units: live.units,
        socket: live.socket,
        instances: live.instances,
        last_reload: live.reload,
        journal_note: live.journal_note,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&description)?);
    } else {
        print!("{}", text(&description));
    }
    Ok(ExitCode::SUCCESS)
}

fn text(d: &Description) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| {
        let _ = writeln!(out, "  {label:<20} {value}");
    };
    line("ecosystem file", &d.source.display().to_string());
    line(
        "profile",
        d.profile
            .as_deref()
            .map_or("none (applied without --env)", |p| p),
    );
    line("manager", d.scope.flag());
    for (i, unit) in d.units.iter().enumerate() {
        let state = format!(
            "{:<24} {} ({}), {}",
            unit.unit, unit.state, unit.sub_state, unit.file_state
        );
        line(if i == 0 { "units" } else { "" }, &state);
    }
    line("worker template", &d.app.units().template());
    match &d.socket {
        Some(socket) => {
            let refused = socket
                .refused
                .map_or(String::new(), |n| format!(", {n} refused"));
            line(
                "listen",
                &format!(
                    "{} ({} accepted by systemd, {} open{refused})",
                    socket.listen.join(" "),
                    socket.accepted,
                    socket.connections
                ),
            );
        }
        None => line("listen", "no socket unit: the app binds its ports itself"),
    }
    line("stdout", &d.logs.stdout);
    line("stderr", &d.logs.stderr);
    if let Some(reload) = &d.last_reload {
        let outcome = if reload.succeeded {
            "every instance came back"
        } else {
            "stopped at an instance that did not come back"
        };
        let at = ago((reload.started_at * 1e6) as u64);
        line(
            "last reload",
            &format!(
                "{at}, {} instances in {:.1}s, {outcome}",
                reload.instances, reload.duration_seconds
            ),
        );
    }
    let mut out = format!("{}\n{out}", d.app);
    out += "\ninstances\n";
    for instance in &d.instances {
        let s = &instance.status;
        let pid = if s.pid == 0 {
            "-".to_owned()
        } else {
            s.pid.to_string()
        };
        let _ = writeln!(
            out,
            "  {}  {} ({})  pid {pid}  up {}  restarts {}  cpu {}  memory {}",
            s.unit,
            s.state,
            s.sub_state,
            s.uptime_secs.map_or("-".into(), uptime),
            s.restarts,
            s.cpu_nsec
                .map_or("-".into(), |ns| format!("{:.1}s", ns as f64 / 1e9)),
            s.memory_bytes.map_or("-".into(), memory),
        );
        let last = match &instance.last_restart {
            Some(last) => format!("{}, {}", last.summary, ago(last.at_usec)),
            None => "none this boot".to_owned(),
        };
        let _ = writeln!(out, "    last restart: {last}");
        if instance.status.result != "success" {
            let how = instance.exec_main_code.unwrap_or("ended");
            let _ = writeln!(
                out,
                "    last run: Result={}, {how} with status {}",
                instance.status.result, instance.exec_main_status
            );
        }
    }
    if let Some(note) = &d.journal_note {
        let _ = writeln!(out, "  (restart reasons unknown: {note})");
    }
    out += "\noptions (from the installed units)\n";
    for effective in &d.options {
        let _ = writeln!(out, "  {:<26} {}", effective.option, effective.value);
    }
    let env: Vec<String> = d
        .environment
        .iter()
        .map(|(name, value)| format!("{name}={}", value.as_deref().unwrap_or("****")))
        .collect();
    let masked = d.environment.values().any(Option::is_none);
    let _ = writeln!(
        out,
        "  {:<26} {}{}",
        "env",
        if env.is_empty() {
            "none".to_owned()
        } else {
            env.join(" ")
        },
        if masked {
            "  (values masked: --show-env shows them)"
        } else {
            ""
        }
    );
    out += "\nmore\n";
    for command in &d.commands {
        let _ = writeln!(out, "  {command}");
    }
    out
}
