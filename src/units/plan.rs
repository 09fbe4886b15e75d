//! A validated app, the machine's facts and the options → the values of
//! every directive, escaped for its context. The templates only place them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::command::{helper_command_line, Backoff};
use super::escape;
use super::facts::{CompileOptions, Mode};
use super::program::program;
use crate::ecosystem::settings::{defaults, App, Listen, LogTarget};
use crate::ecosystem::values::{systemd_duration, Bytes};
use crate::ecosystem::{Diagnostics, Ecosystem};

/// The exit status of a worker the helper restarted for its memory.
const MEMORY_RESTART_STATUS: u8 = 75;

#[derive(Debug, Serialize)]
pub struct AppPlan {
    pub name: String,
    pub instances: u32,
    /// `ListenStream=` values before escaping, for [`super::AppUnits::listen`].
    pub listen_raw: Vec<String>,
    pub unit: UnitSection,
    pub listen: Vec<String>,
    pub worker: Worker,
    pub app: AppService,
    pub cron: Option<Cron>,
}

/// What every file of an app carries in `[Unit]`.
#[derive(Debug, Serialize)]
pub struct UnitSection {
    pub name: String,
    pub source_path: String,
    pub namespace: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Worker {
    pub start_limit_interval: String,
    pub start_limit_burst: u32,
    pub exec_start: String,
    pub working_directory: String,
    pub environment: Vec<String>,
    pub environment_file: Option<String>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub timeout_stop: String,
    pub timeout_start: String,
    pub restart: &'static str,
    pub restart_prevent_exit_status: Option<String>,
    pub restart_force_exit_status: Option<u8>,
    pub restart_sec: String,
    pub restart_steps: Option<u32>,
    pub restart_max_delay: Option<String>,
    pub memory_max: Option<String>,
    pub standard_output: Option<String>,
    pub standard_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AppService {
    /// "4 instances"
    pub instances_label: String,
    pub wants: String,
    pub exec_reload: String,
    pub timeout_start: String,
    pub wanted_by: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Cron {
    pub on_calendar: String,
    pub exec_start: String,
}

/// Plans every app; `None` when one of them has an error (recorded).
pub fn plan(
    eco: &Ecosystem,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<AppPlan>> {
    if let Some(profile) = &options.profile {
        // An app left out for its errors may be the one defining the profile.
        if !diagnostics.has_errors()
            && !eco
                .apps
                .iter()
                .any(|app| app.profiles.contains_key(profile))
        {
            let defined: BTreeSet<&str> = eco
                .apps
                .iter()
                .flat_map(|a| a.profiles.keys())
                .map(String::as_str)
                .collect();
            let help = if defined.is_empty() {
                "no app has an `env_<profile>` table; run without --env".to_owned()
            } else {
                format!(
                    "defined profiles: {}",
                    defined.into_iter().collect::<Vec<_>>().join(", ")
                )
            };
            diagnostics.error(
                None,
                format!("no app defines the profile `{profile}` (`env_{profile}`)"),
                help,
            );
            return None;
        }
    }
    let source_path = match escape::path(&eco.path) {
        Ok(path) => path,
        Err(why) => {
            diagnostics.error(
                None,
                "the ecosystem file's path cannot be written into a unit",
                format!("it contains {}", why.0),
            );
            return None;
        }
    };
    let plans: Vec<Option<AppPlan>> = eco
        .apps
        .iter()
        .map(|app| plan_app(app, &source_path, options, diagnostics))
        .collect();
    plans.into_iter().collect()
}

fn plan_app(
    app: &App,
    source_path: &str,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> Option<AppPlan> {
    let name = app.name.get_ref().clone();
    let errors_before = diagnostics.count(crate::ecosystem::Severity::Error);
    let instances = app.instances.resolve(options.facts.cpus).get();
    let listen_raw = listen_values(app);
    let environment = environment(app, options, diagnostics);
    let program = program(app, options, diagnostics);
    let (user, group) = accounts(app, options.mode, diagnostics);
    let backoff = Backoff::new(app, options.systemd_version);
    let timeout_start = app.listen_timeout + backoff.emulated_max;
    let escaped_paths = paths(app, diagnostics);
    if diagnostics.count(crate::ecosystem::Severity::Error) > errors_before {
        return None;
    }
    let (
        program,
        environment,
        (working_directory, environment_file, standard_output, standard_error),
    ) = (program?, environment?, escaped_paths?);
    let exec_start = helper_command_line(app, options, &listen_raw, &program, &backoff);
    let worker = Worker {
        start_limit_interval: systemd_duration(
            (app.min_uptime + backoff.restart_sec) * app.max_restarts.get(),
        ),
        start_limit_burst: app.max_restarts.get(),
        exec_start,
        working_directory,
        environment,
        environment_file,
        user,
        group,
        timeout_stop: systemd_duration(app.kill_timeout),
        timeout_start: systemd_duration(timeout_start),
        restart: if app.autorestart { "always" } else { "no" },
        restart_prevent_exit_status: (app.autorestart && !app.stop_exit_codes.is_empty()).then(
            || {
                app.stop_exit_codes
                    .iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        ),
        restart_force_exit_status: app.max_memory_restart.map(|_| MEMORY_RESTART_STATUS),
        restart_sec: systemd_duration(backoff.restart_sec),
        restart_steps: backoff.steps,
        restart_max_delay: backoff
            .steps
            .map(|_| systemd_duration(defaults::MAX_BACKOFF)),
        memory_max: app
            .max_memory_restart
            .map(|Bytes(limit)| Bytes(limit + limit / 2).to_string()),
        standard_output,
        standard_error,
    };
    let (manager_flag, systemctl_flag, wanted_by) = match options.mode {
        Mode::System => ("--system", None, "multi-user.target"),
        Mode::User => ("--user", Some("--user"), "default.target"),
    };
    let nodeunits = escape::exec_word(&options.bin_dir.join("nodeunits").to_string_lossy());
    let per_instance = app.kill_timeout + timeout_start;
    let systemctl = options
        .facts
        .which("systemctl")
        .unwrap_or_else(|| PathBuf::from("/usr/bin/systemctl"));
    Some(AppPlan {
        instances,
        listen: listen_raw
            .iter()
            .map(|l| escape::specifiers(l).expect("validated"))
            .collect(),
        listen_raw,
        unit: UnitSection {
            name: name.clone(),
            source_path: source_path.to_owned(),
            namespace: app.namespace.clone(),
        },
        worker,
        app: AppService {
            instances_label: format!(
                "{instances} instance{}",
                if instances == 1 { "" } else { "s" }
            ),
            wants: (0..instances)
                .map(|i| format!("{name}@{i}.service"))
                .collect::<Vec<_>>()
                .join(" "),
            exec_reload: format!("{nodeunits} reload {manager_flag} {name}"),
            timeout_start: systemd_duration(per_instance * instances + Duration::from_secs(30)),
            wanted_by,
        },
        cron: app.cron_restart.as_ref().map(|on_calendar| Cron {
            on_calendar: on_calendar.clone(),
            exec_start: [escape::exec_word(&systemctl.to_string_lossy())]
                .into_iter()
                .chain(systemctl_flag.map(str::to_owned))
                .chain([
                    "try-reload-or-restart".to_owned(),
                    format!("{name}.service"),
                ])
                .collect::<Vec<_>>()
                .join(" "),
        }),
        name,
    })
}

fn listen_values(app: &App) -> Vec<String> {
    let mut listen: Vec<String> = app
        .listen
        .iter()
        .map(|entry| match entry {
            Listen::Tcp(addr) => addr.clone(),
            Listen::Unix(path) => path.to_string_lossy().into_owned(),
        })
        .collect();
    if let (true, Some(port)) = (listen.is_empty(), &app.port) {
        listen.push(port.get_ref().to_string());
    }
    listen
}

/// The declared environment, one `Environment=` value per variable: the
/// instance variable first, then by name. Later sources win: `inherit_env`,
/// `port`, `env`, `env_<profile>`.
fn environment(
    app: &App,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<String>> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for name in &app.inherit_env {
        match options.facts.environment.get(name.get_ref()) {
            Some(value) => {
                env.insert(name.get_ref().clone(), value.clone());
            }
            None => diagnostics.warning(
                Some(name.span()),
                format!(
                    "`{}` is not set in the environment of nodeunits; the units do not get it",
                    name.get_ref()
                ),
                "inherit_env copies variables when the units are rendered",
            ),
        }
    }
    env.extend(app.env.clone());
    if let Some(profile) = options.profile.as_ref().and_then(|p| app.profiles.get(p)) {
        env.extend(profile.clone());
    }
    if let Some(port) = &app.port {
        let port_text = port.get_ref().to_string();
        match env.get("PORT") {
            Some(declared) if *declared != port_text => {
                diagnostics.error(
                    Some(port.span()),
                    format!("`port` is {port_text} but the environment sets PORT to {declared}"),
                    "set the port once: `port` sets PORT",
                );
                return None;
            }
            _ => {
                env.insert("PORT".into(), port_text);
            }
        }
    }
    env.remove(&app.instance_var);
    let instance = format!("\"{}=%i\"", app.instance_var);
    Some(
        std::iter::once(instance)
            .chain(
                env.iter()
                    .map(|(name, value)| escape::environment(name, value)),
            )
            .collect(),
    )
}

fn accounts(
    app: &App,
    mode: Mode,
    diagnostics: &mut Diagnostics,
) -> (Option<String>, Option<String>) {
    if mode == Mode::User {
        for (key, account) in [("user", &app.user), ("group", &app.group)] {
            if let Some(account) = account {
                diagnostics.error(
                    Some(account.span()),
                    format!("`{key}` needs the system service manager"),
                    "a user's service manager runs everything as that user: render with --system, or remove it",
                );
            }
        }
    }
    (
        app.user.as_ref().map(|u| u.get_ref().clone()),
        app.group.as_ref().map(|g| g.get_ref().clone()),
    )
}

type EscapedPaths = (String, Option<String>, Option<String>, Option<String>);

fn paths(app: &App, diagnostics: &mut Diagnostics) -> Option<EscapedPaths> {
    let mut escape_path = |what: &str, path: &Path| match escape::path(path) {
        Ok(text) => Some(text),
        Err(why) => {
            diagnostics.error(
                Some(app.name.span()),
                format!("the {what} of this app cannot be written into a unit"),
                format!("it contains {}", why.0),
            );
            None
        }
    };
    let log = |target: &Option<LogTarget>,
               escape_path: &mut dyn FnMut(&str, &Path) -> Option<String>| {
        match target {
            None => Some(None),
            Some(LogTarget::Null) => Some(Some("null".to_owned())),
            Some(LogTarget::Append(path)) => {
                escape_path("log file", path).map(|p| Some(format!("append:{p}")))
            }
        }
    };
    let working_directory = escape_path("working directory", &app.cwd);
    let env_file = match &app.env_file {
        Some(path) => escape_path("env_file", path).map(Some),
        None => Some(None),
    };
    let out = log(&app.out_file, &mut escape_path);
    let err = log(&app.error_file, &mut escape_path);
    Some((working_directory?, env_file?, out?, err?))
}
