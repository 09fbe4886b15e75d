//! [`AppUnits`] → unit files, through the templates in `templates/`. Every
//! value is escaped here for the context it lands in; the templates only
//! place them.

use std::path::Path;
use std::sync::OnceLock;

use serde::Serialize;
use tera::{Context, Tera};

use super::escape::{self, Unrepresentable};
use super::format::duration;
use super::{UnitFile, GENERATED_MARKER};
use crate::model::name::UnitKind;
use crate::model::{AppUnits, ProtectHome, Sandbox, Scope};
use crate::options::{self, DirectiveValues};

const TEMPLATES: &[(&str, &str)] = &[
    ("header", include_str!("../../templates/header.tera")),
    (
        "unit-section",
        include_str!("../../templates/unit-section.tera"),
    ),
    (
        "app.socket",
        include_str!("../../templates/app.socket.tera"),
    ),
    (
        "logs.service",
        include_str!("../../templates/logs.service.tera"),
    ),
    (
        "watch.service",
        include_str!("../../templates/watch.service.tera"),
    ),
    ("sandbox", include_str!("../../templates/sandbox.tera")),
    (
        "worker.service",
        include_str!("../../templates/worker.service.tera"),
    ),
    (
        "app.service",
        include_str!("../../templates/app.service.tera"),
    ),
    (
        "cron.timer",
        include_str!("../../templates/cron.timer.tera"),
    ),
    (
        "cron.service",
        include_str!("../../templates/cron.service.tera"),
    ),
    (
        "environment",
        include_str!("../../templates/environment.tera"),
    ),
];

fn templates() -> &'static Tera {
    static TERA: OnceLock<Tera> = OnceLock::new();
    TERA.get_or_init(|| tera(TEMPLATES))
}

/// Embedded templates, as the unit files want them: nothing escaped (the
/// values are, before).
pub(super) fn tera(templates: &[(&str, &str)]) -> Tera {
    let mut tera = Tera::default();
    tera.autoescape_on(Vec::new());
    // Partials end without a newline so that an include fills one line.
    tera.add_raw_templates(
        templates
            .iter()
            .map(|(name, text)| (*name, text.trim_end())),
    )
    .expect("the embedded templates parse");
    tera
}

/// What the templates read: every value already escaped.
#[derive(Serialize)]
struct Values {
    marker: &'static str,
    source_comment: String,
    name: String,
    units: Names,
    unit: UnitSection,
    listen: Vec<String>,
    reuse_port: bool,
    worker: WorkerValues,
    app: AppValues,
    cron: Option<CronValues>,
    logs: Option<LogsValues>,
    watch: Option<WatchValues>,
}

/// `APP-watch.service`, PM2's `watch`.
#[derive(Serialize)]
struct WatchValues {
    exec_start: String,
    /// In the system's manager: the watcher's sandbox (it reads the app's
    /// files and talks to systemd, nothing else).
    sandbox: bool,
}

/// `APP-logs.service`, the writer of the log files.
#[derive(Serialize)]
struct LogsValues {
    exec_start: String,
    /// The directories of the log files, which the sandbox leaves
    /// writable; none in a user's manager, which has no sandbox here.
    read_write_paths: Option<String>,
}

/// Unit names the templates refer to, as [`crate::model::UnitNames`] spells them.
#[derive(Serialize)]
struct Names {
    socket: String,
    template: String,
    app: String,
    cron_service: String,
    logs: String,
    runtime_directory: String,
}

#[derive(Serialize)]
struct UnitSection {
    name: String,
    source_path: String,
    namespace: Option<String>,
}

/// The worker template's values: the directives options set, by key (the
/// option table's), and the rest.
#[derive(Serialize)]
struct WorkerValues {
    #[serde(flatten)]
    directives: DirectiveValues,
    exec_start: String,
    exec_reload: Option<String>,
    /// The helper binds ports in the app's code and stores their sockets.
    share_ports: bool,
    /// `Key=value`: the directives of plain options (`Row::plain`).
    plain: Vec<String>,
    /// `Environment=` lines: the instance variable only.
    environment: Vec<String>,
    /// The environment file's `NAME='value'` lines, and the names alone
    /// and its path for the template; none without variables.
    assignments: Vec<String>,
    environment_names: String,
    environment_file: Option<String>,
    /// `LoadCredential[Encrypted]=NAME:FILE` lines.
    credentials: Vec<String>,
    sandbox: Option<SandboxValues>,
}

#[derive(Serialize)]
struct SandboxValues {
    read_write_paths: String,
    protect_home: &'static str,
    private_tmp: bool,
    private_users: bool,
    fixed: Vec<&'static str>,
}

#[derive(Serialize)]
struct AppValues {
    /// The directives options set, by key (the option table's).
    #[serde(flatten)]
    directives: DirectiveValues,
    /// "4 instances"
    instances_label: String,
    wants: String,
    instances: u32,
    scaled: bool,
    profile: Option<String>,
    exec_reload: String,
    timeout_start: String,
    wanted_by: &'static str,
}

#[derive(Serialize)]
struct CronValues {
    on_calendar: String,
    exec_start: String,
}

/// The app's files, in a stable order: socket, worker template and its
/// environment file, app unit, cron timer and service.
pub fn render(app: &AppUnits) -> Result<Vec<UnitFile>, Unrepresentable> {
    let context = Context::from_serialize(values(app)?).expect("the values serialize");
    let units = app.name.units();
    let mut files = Vec::new();
    let mut add = |template: &str, name: String| {
        let mut contents = templates()
            .render(template, &context)
            .unwrap_or_else(|err| panic!("template {template}: {err:?}"));
        contents.push('\n');
        files.push(UnitFile { name, contents });
    };
    for kind in app.kinds() {
        let template = match kind {
            UnitKind::Socket => "app.socket",
            UnitKind::Template => "worker.service",
            UnitKind::App => "app.service",
            UnitKind::CronTimer => "cron.timer",
            UnitKind::CronService => "cron.service",
            UnitKind::Logs => "logs.service",
            UnitKind::Watch => "watch.service",
        };
        add(template, units.of(kind));
        if kind == UnitKind::Template && !app.worker.environment.is_empty() {
            add("environment", units.environment_file());
        }
    }
    Ok(files)
}

fn values(app: &AppUnits) -> Result<Values, Unrepresentable> {
    let units = app.name.units();
    let name = app.name.to_string();
    let nodeunits = exec_path(&app.nodeunits)?;
    let instances = app.instances;
    Ok(Values {
        marker: GENERATED_MARKER,
        source_comment: app.source.to_string_lossy().into_owned(),
        units: Names {
            socket: units.socket(),
            template: units.template(),
            app: units.app(),
            cron_service: units.cron_service(),
            logs: units.logs(),
            runtime_directory: units.runtime_directory(),
        },
        unit: UnitSection {
            name: name.clone(),
            source_path: escape::path(&app.source)?,
            namespace: app.namespace.clone(),
        },
        listen: app
            .socket_lines()
            .iter()
            .map(|address| escape::specifiers(address))
            .collect::<Result<_, _>>()?,
        reuse_port: app.worker.options.sticky,
        worker: worker(app)?,
        app: AppValues {
            directives: directive_values(app, UnitKind::App)?,
            instances_label: format!(
                "{instances} instance{}",
                if instances == 1 { "" } else { "s" }
            ),
            wants: units.instances(0..instances).join(" "),
            instances,
            scaled: app.scaled,
            profile: app.profile.as_deref().map(escape::specifiers).transpose()?,
            exec_reload: format!("{nodeunits} reload {} {name}", app.scope.flag()),
            timeout_start: duration(app.app_start_timeout()),
            wanted_by: match app.scope {
                Scope::System => "multi-user.target",
                Scope::User => "default.target",
            },
        },
        cron: match &app.cron {
            None => None,
            Some(cron) => {
                let mut words = vec![exec_path(&cron.systemctl)?];
                if app.scope == Scope::User {
                    words.push("--user".to_owned());
                }
                words.extend(["try-reload-or-restart".to_owned(), units.app()]);
                Some(CronValues {
                    on_calendar: cron.on_calendar.clone(),
                    exec_start: words.join(" "),
                })
            }
        },
        logs: match &app.logs {
            None => None,
            Some(writer) => {
                let mut words = vec![exec_path(&app.worker.helper)?];
                words.extend(writer.escaped_words(escape::exec_word));
                let dirs: Vec<String> = writer
                    .dirs()
                    .into_iter()
                    .map(escape::path)
                    .collect::<Result<_, _>>()?;
                Some(LogsValues {
                    exec_start: words.join(" "),
                    read_write_paths: (app.scope == Scope::System).then(|| dirs.join(" ")),
                })
            }
        },
        watch: match &app.watch {
            None => None,
            Some(watcher) => {
                let mut words = vec![exec_path(&app.worker.helper)?];
                words.extend(watcher.escaped_words(escape::exec_word));
                Some(WatchValues {
                    exec_start: words.join(" "),
                    sandbox: app.scope == Scope::System,
                })
            }
        },
        name,
    })
}

fn worker(app: &AppUnits) -> Result<WorkerValues, Unrepresentable> {
    let worker = &app.worker;
    // Only the instance variable, which needs the specifier, is in the
    // unit: the values are in the environment file.
    let environment = vec![format!("\"{}=%i\"", worker.instance_var)];
    let assignments = worker
        .environment
        .iter()
        .map(|(name, value)| {
            let value = value.as_deref().ok_or(Unrepresentable(
                "a variable whose value could not be read back (its environment file is missing, or only root reads it)",
            ))?;
            Ok(super::env_file::assignment(name, value))
        })
        .collect::<Result<_, Unrepresentable>>()?;
    let names: Vec<&str> = worker.environment.keys().map(String::as_str).collect();
    let environment_file = (!names.is_empty())
        .then(|| super::env_file::path_in_unit(&app.name, app.scope))
        .transpose()?;
    let helper = exec_path(&worker.helper)?;
    let mut exec_start = vec![helper.clone()];
    exec_start.extend(super::command::exec_words(&worker.options));
    let exec_reload = super::command::replace_words(&worker.options, &app.listen).map(|words| {
        std::iter::once(helper)
            .chain(words)
            .collect::<Vec<_>>()
            .join(" ")
    });
    Ok(WorkerValues {
        directives: directive_values(app, UnitKind::Template)?,
        exec_start: exec_start.join(" "),
        exec_reload,
        share_ports: worker.options.share_ports,
        plain: plain_lines(app)?,
        environment,
        assignments,
        environment_names: names.join(" "),
        environment_file,
        credentials: credentials(worker)?,
        sandbox: worker
            .sandbox
            .as_ref()
            .map(|sandbox| sandbox_values(sandbox, app.scope))
            .transpose()?,
    })
}

/// The directives of plain options, `Key=value`, in table order.
fn plain_lines(app: &AppUnits) -> Result<Vec<String>, Unrepresentable> {
    let plain = options::directives(UnitKind::Template).filter(|d| !d.placed);
    let mut lines = Vec::new();
    for directive in plain {
        if let Some(value) = directive.write(app)? {
            lines.push(format!("{}={value}", directive.key));
        }
    }
    Ok(lines)
}

/// `LoadCredentialEncrypted=` for a file `systemd-creds` encrypted (its
/// name ends in `.cred`), else `LoadCredential=`; systemd reads the file
/// as root when a worker starts.
fn credentials(worker: &crate::model::Worker) -> Result<Vec<String>, Unrepresentable> {
    worker
        .credentials
        .iter()
        .map(|(name, file)| {
            let encrypted = file.extension().is_some_and(|ext| ext == "cred");
            let key = match encrypted {
                true => "LoadCredentialEncrypted",
                false => "LoadCredential",
            };
            Ok(format!("{key}={name}:{}", escape::path(file)?))
        })
        .collect()
}

/// The values of the directives options set in the units of `kind`.
fn directive_values(app: &AppUnits, kind: UnitKind) -> Result<DirectiveValues, Unrepresentable> {
    options::directives(kind)
        .map(|directive| Ok((directive.key, directive.write(app)?)))
        .collect()
}

fn sandbox_values(sandbox: &Sandbox, scope: Scope) -> Result<SandboxValues, Unrepresentable> {
    let paths: Vec<String> = sandbox
        .read_write_paths
        .iter()
        .map(|path| escape::path_word(path))
        .collect::<Result<_, _>>()?;
    Ok(SandboxValues {
        read_write_paths: paths.join(" "),
        protect_home: match sandbox.protect_home {
            ProtectHome::Hidden => "yes",
            ProtectHome::ReadOnly => "read-only",
        },
        private_tmp: sandbox.private_tmp,
        private_users: scope == Scope::User,
        fixed: super::sandbox::fixed(sandbox.systemd).collect(),
    })
}

/// The directives of `sandbox` alone, as a worker of `scope` holds them,
/// for units written by hand (the helper's tests).
pub fn sandbox_directives(sandbox: &Sandbox, scope: Scope) -> Result<String, Unrepresentable> {
    let values = serde_json::json!({ "worker": { "sandbox": sandbox_values(sandbox, scope)? } });
    let context = Context::from_serialize(values).expect("the values serialize");
    let mut text = templates()
        .render("sandbox", &context)
        .unwrap_or_else(|err| panic!("template sandbox: {err:?}"));
    text.push('\n');
    Ok(text.trim_start().to_owned())
}

/// A binary's path as the first word of a command line.
fn exec_path(path: &Path) -> Result<String, Unrepresentable> {
    Ok(escape::exec_word(&path.to_string_lossy()))
}
