//! A validated app, the machine's facts and the options → the typed
//! [`AppUnits`] of each app. What cannot be written into a unit is an error
//! here, with its place in the file; rendering then cannot fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::command::{helper_options, Backoff};
use super::escape;
use super::facts::CompileOptions;
use super::findings::Finding;
use super::interpreter::Runner;
use super::logs;
use super::ports;
use super::program::{program, Program};
use super::sandbox;
use crate::ecosystem::settings::{App, LogTarget};
use crate::ecosystem::values::Instances;
use crate::ecosystem::{Diagnostics, Ecosystem};
use crate::model::{defaults, sockets, AppUnits, Bytes, Cron, RestartSteps, Scope, Worker};

/// An app's units, and what `check` and `apply` say of its ports.
pub struct Planned {
    pub units: AppUnits,
    pub ports: String,
}

/// The typed units of every app; `None` when one of them has an error
/// (recorded).
pub fn from_ecosystem(
    eco: &Ecosystem,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<Planned>> {
    if let Some(profile) = &options.profile {
        // An app left out for its errors may be the one defining the profile.
        if !diagnostics.has_errors()
            && !eco
                .apps
                .iter()
                .any(|app| app.profiles.contains_key(profile))
        {
            let defined: BTreeSet<&String> =
                eco.apps.iter().flat_map(|a| a.profiles.keys()).collect();
            let defined = defined.into_iter().cloned().collect();
            let profile = profile.clone();
            Finding::UnknownProfile { profile, defined }.report(diagnostics, None);
            return None;
        }
    }
    if let Err(why) = escape::path(&eco.path) {
        {
            Finding::EcosystemPathUnwritable { why: why.0 }.report(diagnostics, None);
            return None;
        }
    }
    let apps: Vec<Option<Planned>> = eco
        .apps
        .iter()
        .map(|app| app_units(app, &eco.path, options, diagnostics))
        .collect();
    apps.into_iter().collect()
}

/// `sticky = true` steers each client address to one worker's own socket:
/// the app must be Node (the preload serves the worker's socket) and listen
/// on a TCP address (a unix socket's clients have no address).
fn sticky_possible(
    app: &App,
    listen: &[String],
    program: &Program,
    diagnostics: &mut Diagnostics,
) -> bool {
    let why = if !program.runtime.runs_node() {
        "its program is not Node: the Node preload is what serves each worker's own socket"
    } else if listen.iter().all(|address| sockets::is_unix(address)) {
        "it has no TCP address to listen on: clients are told apart by their address"
    } else {
        return true;
    };
    Finding::StickyImpossible { why }.report(diagnostics, Some(app.name.span()));
    false
}

/// `credentials`: `LoadCredential=` came with systemd 247 and
/// `LoadCredentialEncrypted=` with 250; a user manager cannot decrypt
/// what `systemd-creds` encrypted with the machine's key.
fn credentials_possible(
    app: &App,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> bool {
    let version = options.systemd_version;
    let mut possible = true;
    for (name, file) in &app.credentials {
        let encrypted = file.extension().is_some_and(|ext| ext == "cred");
        let why = if version < 247 {
            format!("systemd {version} has no LoadCredential= (247 and later)")
        } else if encrypted && version < 250 {
            format!("{} is encrypted, and systemd {version} has no LoadCredentialEncrypted= (250 and later)", file.display())
        } else if encrypted && options.mode == crate::model::Scope::User {
            format!("{} is encrypted with the machine's key, which a user's service manager cannot read", file.display())
        } else {
            continue;
        };
        let finding = Finding::CredentialImpossible {
            name: name.clone(),
            why,
        };
        finding.report(diagnostics, Some(app.name.span()));
        possible = false;
    }
    possible
}

/// One app's typed units; `None` when it has an error (recorded).
fn app_units(
    app: &App,
    source: &Path,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Planned> {
    let errors_before = diagnostics.count(crate::ecosystem::Severity::Error);
    let environment = environment(app, options, diagnostics);
    let (user, group) = accounts(app, source, options, diagnostics);
    let runner = Runner {
        home: logs::home(user.as_deref(), options),
        user: user.clone(),
    };
    let program = program(app, options, &runner, diagnostics);
    let logs = logs::targets(app, &runner, diagnostics);
    let backoff = Backoff::new(app, options.systemd_version);
    if let Some(logs) = &logs {
        check_paths(app, logs, diagnostics);
    }
    if diagnostics.count(crate::ecosystem::Severity::Error) > errors_before {
        return None;
    }
    let (program, mut environment) = (program?, environment?);
    if let Some(timeout) = app
        .unresponsive_timeout
        .as_ref()
        .filter(|_| !program.runtime.runs_node())
    {
        Finding::UnresponsiveNotNode.report(diagnostics, Some(timeout.span()));
    }
    if options.for_pods && !matches!(app.instances, Instances::Count(_)) {
        let count = app.instances.resolve(options.facts.cpus).get();
        Finding::InstancesPerCpuInPods { count }.report(diagnostics, Some(app.name.span()));
    }
    let (writer, [standard_output, standard_error]) = logs::writer(app, options.mode, logs?);
    for (name, value) in &program.environment {
        environment
            .entry((*name).to_owned())
            .or_insert_with(|| (*value).to_owned());
    }
    let ports::Sockets { listen, from } = ports::shared_sockets(
        app,
        program.runtime.runs_node(),
        options.profile.as_deref(),
        &mut environment,
        diagnostics,
    );
    if app.sticky && !sticky_possible(app, &listen, &program, diagnostics) {
        return None;
    }
    if !credentials_possible(app, options, diagnostics) {
        return None;
    }
    let helper = options.bin_dir.join("nodeunits-helper");
    let sandbox = sandbox::plan(
        app,
        &program.argv,
        [&standard_output, &standard_error],
        &helper,
        options,
        diagnostics,
    );
    let worker = worker(
        app,
        &backoff,
        Decided {
            options: helper_options(app, &listen, &program, &backoff),
            helper,
            environment,
            user,
            group,
            standard_output,
            standard_error,
            sandbox,
        },
    );
    let mut units = assemble(app, source, options, listen, worker);
    units.logs = writer;
    units.watch = super::watch::watcher(app, &units);
    let ports = ports::summary(&units, from.as_deref());
    Some(Planned { units, ports })
}

/// What the compiler decided for a worker beyond the app's own options.
struct Decided {
    helper: PathBuf,
    options: crate::model::HelperOptions,
    environment: BTreeMap<String, String>,
    user: Option<String>,
    group: Option<String>,
    standard_output: Option<LogTarget>,
    standard_error: Option<LogTarget>,
    sandbox: Option<crate::model::Sandbox>,
}

/// The worker template of `app`.
fn worker(app: &App, backoff: &Backoff, decided: Decided) -> Worker {
    Worker {
        helper: decided.helper,
        options: decided.options,
        working_directory: app.cwd.clone(),
        instance_var: app.instance_var.clone(),
        environment: decided
            .environment
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect(),
        environment_file: app.env_file.clone(),
        credentials: app.credentials.clone(),
        user: decided.user,
        group: decided.group,
        start_limit_interval: backoff.start_limit_interval(app.min_uptime, app.max_restarts.get()),
        start_limit_burst: app.max_restarts.get(),
        stop_timeout: app.kill_timeout,
        start_timeout: app.listen_timeout + backoff.emulated_max,
        restart: app.autorestart,
        stop_exit_codes: if app.autorestart {
            app.stop_exit_codes.clone()
        } else {
            Vec::new()
        },
        force_restart_status: app
            .max_memory_restart
            .map(|_| defaults::EXIT_MEMORY_RESTART),
        restart_delay: backoff.restart_sec,
        restart_steps: backoff.steps.map(|steps| RestartSteps {
            steps,
            max_delay: defaults::MAX_BACKOFF,
        }),
        memory_max: app
            .max_memory_restart
            .map(|Bytes(limit)| Bytes(limit + limit / 2)),
        standard_output: decided.standard_output,
        standard_error: decided.standard_error,
        sandbox: decided.sandbox,
        plain: app.plain.clone(),
    }
}

/// The app's units around its `worker`.
fn assemble(
    app: &App,
    source: &Path,
    options: &CompileOptions,
    listen: Vec<String>,
    worker: Worker,
) -> AppUnits {
    let systemctl = options
        .facts
        .which("systemctl")
        .unwrap_or_else(|| PathBuf::from("/usr/bin/systemctl"));
    AppUnits {
        name: app.name.get_ref().clone(),
        pm2_name: app.pm2_name.clone(),
        source: source.to_owned(),
        namespace: app.namespace.clone(),
        profile: options.profile.clone(),
        scope: options.mode,
        listen,
        instances: app.instances.resolve(options.facts.cpus).get(),
        scaled: false,
        nodeunits: options.bin_dir.join("nodeunits"),
        autostart: app.autostart,
        worker,
        cron: app.cron_restart.as_ref().map(|on_calendar| Cron {
            on_calendar: on_calendar.clone(),
            systemctl,
        }),
        logs: None,
        watch: None,
    }
}

/// The declared environment, by name, without the instance variable. Later
/// sources win: `inherit_env`, `port`, `env`, `env_<profile>`.
fn environment(
    app: &App,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> Option<BTreeMap<String, String>> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for name in &app.inherit_env {
        match options.facts.environment.get(name.get_ref()) {
            Some(value) => {
                env.insert(name.get_ref().clone(), value.clone());
            }
            None => Finding::InheritedVariableUnset {
                name: name.get_ref().clone(),
            }
            .report(diagnostics, Some(name.span())),
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
                let declared = declared.clone();
                Finding::PortDisagrees {
                    port: port_text,
                    declared,
                }
                .report(diagnostics, Some(port.span()));
                return None;
            }
            _ => {
                env.insert("PORT".into(), port_text);
            }
        }
    }
    env.remove(&app.instance_var);
    Some(env)
}

/// `User=` and `Group=`. In system mode an app without `user` runs as the
/// owner of the ecosystem file, as PM2 runs apps as the user who runs it;
/// never as root by accident: a file of root's must say `user = "root"`.
fn accounts(
    app: &App,
    source: &Path,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> (Option<String>, Option<String>) {
    let group = app.group.as_ref().map(|g| g.get_ref().clone());
    if options.mode == Scope::User {
        for (key, account) in [("user", &app.user), ("group", &app.group)] {
            if let Some(account) = account {
                Finding::NeedsSystemManager { key }.report(diagnostics, Some(account.span()));
            }
        }
        return (None, group);
    }
    if let Some(user) = &app.user {
        return (Some(user.get_ref().clone()), group);
    }
    if options.for_pods {
        // The image's user: the export warns unless it is a non-root uid.
        return (None, group);
    }
    match &options.facts.owner {
        Some(owner) if !owner.is_root() => (Some(owner.user()), group),
        owner => {
            let whose = match owner {
                Some(_) => "belongs to root",
                None => "has no owner nodeunits could read",
            };
            let source = source.to_owned();
            Finding::WouldRunAsRoot { whose, source }.report(diagnostics, Some(app.name.span()));
            (None, group)
        }
    }
}

/// Reports the paths of the app that no unit can hold.
fn check_paths(app: &App, logs: &[Option<LogTarget>; 2], diagnostics: &mut Diagnostics) {
    fn log(target: &Option<LogTarget>) -> Option<&Path> {
        target.as_ref()?.file()
    }
    let paths = [
        ("working directory", Some(app.cwd.as_path())),
        ("env_file", app.env_file.as_deref()),
        ("log file", log(&logs[0])),
        ("log file", log(&logs[1])),
    ]
    .into_iter()
    .chain(
        app.read_write_paths
            .iter()
            .map(|path| ("`read_write_paths`", Some(path.as_path()))),
    );
    for (what, path) in paths {
        if let Some(Err(why)) = path.map(escape::path) {
            Finding::PathUnwritable { what, why: why.0 }.report(diagnostics, Some(app.name.span()));
        }
    }
}
