//! Installed unit files → the typed [`AppUnits`] they were rendered from:
//! the inverse of `render`, so that `apply`, `scale` and `delete` plan with
//! values. Rendering what was read gives back the same files (tested on
//! every golden case).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::env_file;
use super::escape::{
    unescape_environment, unescape_exec_words, unescape_path_words, unescape_specifiers,
};
use crate::model::name::UnitKind;
use crate::model::{AppName, AppUnits, Cron, ProtectHome, Sandbox, Scope, Worker};
use crate::options::{self, path};
use std::time::Duration;

/// Why an installed file cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {what}; it was not written by this version of nodeunits, or was edited: run `nodeunits apply` on its ecosystem file again, or `nodeunits delete` the app", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ReadError {
    pub file: String,
    /// 1-based.
    pub line: Option<usize>,
    pub what: String,
}

/// One `Key=value` line.
struct Directive<'a> {
    line: usize,
    section: &'a str,
    key: &'a str,
    value: &'a str,
}

/// A unit file as sections of directives (systemd.syntax(7), without the
/// line continuations nodeunits never writes).
struct UnitText<'a> {
    file: &'a str,
    directives: Vec<Directive<'a>>,
}

impl<'a> UnitText<'a> {
    fn parse(file: &'a str, text: &'a str) -> Result<Self, ReadError> {
        let mut section = "";
        let mut directives = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name;
                continue;
            }
            let Some((key, value)) = trimmed.split_once('=') else {
                return Err(error(file, Some(line_no), "a line that is no directive"));
            };
            directives.push(Directive {
                line: line_no,
                section,
                key: key.trim_end(),
                value: value.trim_start(),
            });
        }
        Ok(UnitText { file, directives })
    }

    fn all(&self, section: &'a str, key: &'a str) -> impl Iterator<Item = &Directive<'a>> {
        self.directives
            .iter()
            .filter(move |d| d.section == section && d.key == key)
    }

    fn get(&self, section: &str, key: &str) -> Option<&Directive<'a>> {
        self.directives
            .iter()
            .rev()
            .find(|d| d.section == section && d.key == key)
    }

    fn require(&self, section: &str, key: &str) -> Result<&Directive<'a>, ReadError> {
        self.get(section, key)
            .ok_or_else(|| error(self.file, None, &format!("it has no {key}= in [{section}]")))
    }

    /// The value of a directive, converted; an error names its line.
    fn value<T>(
        &self,
        section: &str,
        key: &str,
        convert: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ReadError> {
        self.get(section, key)
            .map(|d| {
                convert(d.value).ok_or_else(|| {
                    error(
                        self.file,
                        Some(d.line),
                        &format!("{key}={} cannot be read", d.value),
                    )
                })
            })
            .transpose()
    }

    fn required<T>(
        &self,
        section: &str,
        key: &str,
        convert: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, ReadError> {
        self.require(section, key)?;
        Ok(self.value(section, key, convert)?.expect("present"))
    }
}

/// What a unit that runs a helper subcommand (`APP-logs.service`,
/// `APP-watch.service`) asks of it, read back from its `ExecStart=`:
/// `pick` keeps the request of its kind.
fn helper_service<T>(
    unit: Option<UnitText<'_>>,
    pick: impl FnOnce(crate::model::helper_options::Request) -> Option<T>,
) -> Result<Option<T>, ReadError> {
    let Some(unit) = unit else {
        return Ok(None);
    };
    unit.required("Service", "ExecStart", |line| {
        let words = unescape_exec_words(line)?;
        let args = words.into_iter().skip(1).map(std::ffi::OsString::from);
        pick(crate::model::helper_options::parse(args).ok()?)
    })
    .map(Some)
}

fn error(file: &str, line: Option<usize>, what: &str) -> ReadError {
    ReadError {
        file: file.to_owned(),
        line,
        what: what.to_owned(),
    }
}

/// Whose a generated unit file is.
pub struct FileOwner {
    /// `X-Nodeunits-App=`.
    pub app: Option<AppName>,
    /// `SourcePath=`.
    pub source: Option<PathBuf>,
}

/// The owner of a file whose first line is nodeunits' marker; `None` for
/// any other file, which nodeunits never reads, changes or deletes.
pub fn file_owner(text: &str) -> Option<FileOwner> {
    if !text.starts_with(super::GENERATED_MARKER) {
        return None;
    }
    let unit = UnitText::parse("", text).ok();
    let value = |key| Some(unit.as_ref()?.get("Unit", key)?.value);
    Some(FileOwner {
        app: value("X-Nodeunits-App").and_then(|name| AppName::new(name).ok()),
        source: value("SourcePath").and_then(path),
    })
}

/// Reads the files of the app `name`, by unit name. The worker template and
/// the app unit must be there; the socket and cron units are optional.
pub fn read_app(name: &AppName, files: &BTreeMap<String, String>) -> Result<AppUnits, ReadError> {
    let units = name.units();
    let text = |kind: UnitKind| -> Result<Option<UnitText<'_>>, ReadError> {
        let file = units.of(kind);
        let key = files.get_key_value(&file);
        key.map(|(file, text)| UnitText::parse(file, text))
            .transpose()
    };
    let missing = |kind: UnitKind| error(&units.of(kind), None, "the file is missing");
    let app_unit = text(UnitKind::App)?.ok_or_else(|| missing(UnitKind::App))?;
    let mut template = text(UnitKind::Template)?.ok_or_else(|| missing(UnitKind::Template))?;
    let reload = app_unit.required("Service", "ExecReload", unescape_exec_words)?;
    let scope = match reload.get(2).map(String::as_str) {
        Some("--system") => Scope::System,
        Some("--user") => Scope::User,
        _ => return Err(error(&units.app(), None, "ExecReload= names no manager")),
    };
    let wants: Vec<&str> = app_unit
        .all("Unit", "Wants")
        .flat_map(|d| d.value.split_whitespace())
        .collect();
    let instances = units.instances_among(wants.iter().copied());
    if instances.iter().enumerate().any(|(i, &n)| i as u32 != n) {
        return Err(error(
            &units.app(),
            None,
            "its Wants= are not instances 0 to N-1",
        ));
    }
    let listen = match text(UnitKind::Socket)? {
        Some(socket) => {
            let lines: Vec<String> = socket
                .all("Socket", "ListenStream")
                .map(|d| unescape_specifiers(d.value))
                .collect();
            match socket.get("Socket", "ReusePort") {
                Some(_) => crate::model::sockets::addresses(&lines),
                None => lines,
            }
        }
        None => Vec::new(),
    };
    let cron = match (text(UnitKind::CronTimer)?, text(UnitKind::CronService)?) {
        (Some(timer), Some(service)) => Some(Cron {
            on_calendar: timer.require("Timer", "OnCalendar")?.value.to_owned(),
            systemctl: service.required("Service", "ExecStart", |line| {
                Some(PathBuf::from(
                    unescape_exec_words(line)?.into_iter().next()?,
                ))
            })?,
        }),
        _ => None,
    };
    use crate::model::helper_options::Request;
    let logs = helper_service(text(UnitKind::Logs)?, |request| match request {
        Request::WriteLogs(writer) => Some(writer),
        _ => None,
    })?;
    let watch = helper_service(text(UnitKind::Watch)?, |request| match request {
        Request::Watch(watcher) => Some(watcher),
        _ => None,
    })?;
    let mut app = AppUnits {
        name: name.clone(),
        pm2_name: None,
        source: app_unit.required("Unit", "SourcePath", path)?,
        namespace: app_unit
            .get("Unit", "X-Nodeunits-Namespace")
            .map(|d| d.value.to_owned()),
        profile: app_unit
            .get("Unit", "X-Nodeunits-Profile")
            .map(|d| unescape_specifiers(d.value)),
        scope,
        listen,
        instances: instances.len() as u32,
        scaled: app_unit.get("Unit", "X-Nodeunits-Scaled").is_some(),
        nodeunits: PathBuf::from(&reload[0]),
        autostart: true,
        worker: worker(&template)?,
        cron,
        logs,
        watch,
    };
    read_environment_file(&mut app, &mut template, files)?;
    read_directives(&mut app, &template, UnitKind::Template)?;
    read_directives(&mut app, &app_unit, UnitKind::App)?;
    Ok(app)
}

/// The variables the template names (`X-Nodeunits-Environment=`), with
/// their values from the environment file when it is among `files` (it is
/// not for a user who may not read it: the values are unknown). The
/// template's `EnvironmentFile=` of that file is taken out: any other is
/// the app's own `env_file`.
fn read_environment_file(
    app: &mut AppUnits,
    template: &mut UnitText,
    files: &BTreeMap<String, String>,
) -> Result<(), ReadError> {
    let Some(names) = template.get("Service", "X-Nodeunits-Environment") else {
        return Ok(());
    };
    let names: Vec<String> = names.value.split_whitespace().map(str::to_owned).collect();
    let path = env_file::path_in_unit(&app.name, app.scope)
        .map_err(|why| error(template.file, None, why.0))?;
    template
        .directives
        .retain(|d| !(d.section == "Service" && d.key == "EnvironmentFile" && d.value == path));
    let file = app.name.units().environment_file();
    let values = match files.get(&file) {
        Some(text) => Some(
            env_file::parse(text)
                .ok_or_else(|| error(&file, None, "it is no environment file nodeunits wrote"))?,
        ),
        None => None,
    };
    for name in names {
        let value = values.as_ref().and_then(|v| v.get(&name).cloned());
        app.worker.environment.insert(name, value);
    }
    Ok(())
}

/// Reads what options set in the units of `kind` into `app`.
fn read_directives(app: &mut AppUnits, unit: &UnitText, kind: UnitKind) -> Result<(), ReadError> {
    for directive in options::directives(kind) {
        let found = match directive.required {
            true => Some(unit.require(directive.section, directive.key)?),
            false => unit.get(directive.section, directive.key),
        };
        if let Some(found) = found {
            directive.read(app, found.value).ok_or_else(|| {
                let what = format!("{}={} cannot be read", directive.key, found.value);
                error(unit.file, Some(found.line), &what)
            })?;
        }
    }
    Ok(())
}

fn worker(unit: &UnitText) -> Result<Worker, ReadError> {
    let exec = unit.require("Service", "ExecStart")?;
    let words = unescape_exec_words(exec.value).unwrap_or_default();
    let (helper, options) = words
        .split_first()
        .ok_or_else(|| error(unit.file, Some(exec.line), "ExecStart= cannot be read"))?;
    let options = super::command::parse_helper_options(options).map_err(|why| {
        error(
            unit.file,
            Some(exec.line),
            &format!("the helper's options: {why}"),
        )
    })?;
    let mut instance_var = None;
    let mut environment = BTreeMap::new();
    for directive in unit.all("Service", "Environment") {
        // The instance variable is the one whose value is the bare specifier.
        let instance = directive
            .value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix("=%i\""));
        match (instance, &instance_var) {
            (Some(name), None) => instance_var = Some(name.to_owned()),
            _ => {
                let (name, value) = unescape_environment(directive.value).ok_or_else(|| {
                    error(
                        unit.file,
                        Some(directive.line),
                        "Environment= cannot be read",
                    )
                })?;
                // Written by an older nodeunits: the value in the unit.
                environment.insert(name, Some(value));
            }
        }
    }
    let worker = Worker {
        helper: PathBuf::from(helper),
        options,
        working_directory: PathBuf::new(),
        instance_var: instance_var
            .ok_or_else(|| error(unit.file, None, "no Environment= holds the instance"))?,
        environment,
        environment_file: None,
        credentials: credentials(unit)?,
        user: None,
        group: None,
        start_limit_interval: Duration::ZERO,
        start_limit_burst: 0,
        stop_timeout: Duration::ZERO,
        start_timeout: Duration::ZERO,
        restart: false,
        stop_exit_codes: Vec::new(),
        force_restart_status: None,
        restart_delay: Duration::ZERO,
        restart_steps: None,
        memory_max: None,
        standard_output: None,
        standard_error: None,
        sandbox: sandbox(unit)?,
        plain: BTreeMap::new(),
    };
    Ok(worker)
}

/// `LoadCredential=NAME:PATH` and `LoadCredentialEncrypted=NAME:PATH`.
fn credentials(unit: &UnitText) -> Result<BTreeMap<String, PathBuf>, ReadError> {
    let lines = unit.directives.iter().filter(|d| {
        d.section == "Service" && matches!(d.key, "LoadCredential" | "LoadCredentialEncrypted")
    });
    lines
        .map(|d| {
            let (name, file) = d.value.split_once(':').ok_or_else(|| {
                let what = format!("{}={} names no file", d.key, d.value);
                error(unit.file, Some(d.line), &what)
            })?;
            Ok((name.to_owned(), PathBuf::from(unescape_specifiers(file))))
        })
        .collect()
}

/// The sandbox, when the unit has one: it is written with `ProtectSystem=`.
fn sandbox(unit: &UnitText) -> Result<Option<Sandbox>, ReadError> {
    if unit.get("Service", "ProtectSystem").is_none() {
        return Ok(None);
    }
    let read_write_paths = unit.required("Service", "ReadWritePaths", |line| {
        let words = unescape_path_words(line)?;
        let paths = words.into_iter().map(PathBuf::from);
        paths.map(|p| Some(p).filter(|p| p.is_absolute())).collect()
    })?;
    let protect_home = unit.required("Service", "ProtectHome", |value| match value {
        "yes" => Some(ProtectHome::Hidden),
        "read-only" => Some(ProtectHome::ReadOnly),
        _ => None,
    })?;
    let lines: Vec<String> = unit
        .directives
        .iter()
        .filter(|d| d.section == "Service")
        .map(|d| format!("{}={}", d.key, d.value))
        .collect();
    Ok(Some(Sandbox {
        read_write_paths,
        protect_home,
        private_tmp: unit.get("Service", "PrivateTmp").is_some(),
        systemd: super::sandbox::level_of(lines.iter().map(String::as_str)),
    }))
}
