//! One `[[apps]]` table → a validated [`App`].

use std::num::NonZeroU32;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::cron;
use super::diagnostic::Severity;
use super::fields::{integer, Fields};
use super::places::{account, hardening, listen, log_target, normalize, read_write_paths};
use super::settings::{defaults, App, ExecMode, Interpreter, LogTarget};
use super::typed::{
    inherit_env, instances, namespace, positive, profiles, restart_delays, stop_exit_codes,
    variable,
};
use super::values::Instances;
use crate::model::AppName;

/// Validates one app: its name, written or taken from `script` as PM2 does
/// (for the check that no two apps share one), and the app, `None` when it
/// has errors (they are recorded).
pub fn app(
    fields: &mut Fields,
    table_span: Range<usize>,
    dir: &Path,
) -> (Option<Spanned<String>>, Option<App>) {
    let errors_before = fields.diagnostics.count(Severity::Error);
    let script = script(fields, table_span.clone());
    let (name_text, name) = name(fields, table_span, script.as_ref());
    let app = options(fields, dir, name, script);
    let errors_after = fields.diagnostics.count(Severity::Error);
    (name_text, app.filter(|_| errors_after == errors_before))
}

/// `script` (or `cmd`, `command`, `exec`), required.
fn script(fields: &mut Fields, table_span: Range<usize>) -> Option<Spanned<String>> {
    let script = fields.string("script").filter(|s| {
        let valid = !s.get_ref().is_empty() && !s.get_ref().chars().any(char::is_control);
        if !valid {
            let key = fields.spelling("script").to_owned();
            fields.diagnostics.error(
                Some(s.span()),
                format!("invalid value for `{key}`"),
                "allowed: a path to the program, or a command found in PATH",
            );
        }
        valid
    });
    if script.is_none() && fields.get("script").is_none() {
        fields.diagnostics.error(
            Some(table_span),
            "this app has no `script`",
            "set the program to run, such as `script = \"dist/server.js\"`",
        );
    }
    script
}

/// The name as written, or as PM2 makes it when there is none: the file name
/// of `script` without its extension; and the name, valid.
fn name(
    fields: &mut Fields,
    table_span: Range<usize>,
    script: Option<&Spanned<String>>,
) -> (Option<Spanned<String>>, Option<Spanned<AppName>>) {
    let written = fields.get("name").is_some();
    let text = match script {
        _ if written => fields.string("name"),
        Some(script) => Some(Spanned::new(script.span(), name_from(script.get_ref()))),
        None => {
            fields.diagnostics.error(
                Some(table_span),
                "this app has no `name`",
                "every app needs a name, such as `name = \"api\"`: it names the app's units",
            );
            None
        }
    };
    let name = text.as_ref().and_then(|name| match AppName::new(name.get_ref()) {
        Ok(valid) => Some(Spanned::new(name.span(), valid)),
        Err(why) => {
            let shown = name.get_ref().escape_debug();
            let (message, help) = if written {
                (format!("`{shown}` cannot name units"), format!("allowed: {why}"))
            } else {
                (
                    format!("this app has no `name`, and `{shown}`, which PM2 would take from `script`, cannot name units"),
                    format!("set `name`, such as `name = \"api\"`; {why}"),
                )
            };
            fields.diagnostics.error(Some(name.span()), message, help);
            None
        }
    });
    (text, name)
}

/// PM2's name for an app without one (`Common.renderApplicationName`).
fn name_from(script: &str) -> String {
    let file = script.rsplit('/').next().unwrap_or(script);
    match file.rfind('.') {
        Some(dot) if dot > 0 => file[..dot].to_owned(),
        _ => file.to_owned(),
    }
}

fn options(
    fields: &mut Fields,
    dir: &Path,
    name: Option<Spanned<AppName>>,
    script: Option<Spanned<String>>,
) -> Option<App> {
    let cwd = match fields.string("cwd") {
        Some(cwd) => normalize(&dir.join(cwd.get_ref())),
        None => dir.to_path_buf(),
    };
    let interpreter = match fields.string("exec_interpreter") {
        Some(s) if s.get_ref() == "none" => Interpreter::None,
        Some(s) if s.get_ref().contains('/') => {
            let path = normalize(&dir.join(s.get_ref()));
            Interpreter::Program(Spanned::new(s.span(), path.to_string_lossy().into_owned()))
        }
        Some(s) => Interpreter::Program(s),
        None => Interpreter::ByExtension,
    };
    let interpreter_args = fields.words("node_args").unwrap_or_default();
    let source_map_span = fields.get("source_map_support").map(|v| v.span());
    let source_map_support = fields
        .bool("source_map_support")
        .zip(source_map_span)
        .map(|(b, span)| Spanned::new(span, b));
    let exec_mode = match fields.get("exec_mode") {
        Some(mode) => match mode.get_ref().as_str() {
            Some("cluster" | "cluster_mode") => ExecMode::Cluster,
            Some("fork" | "fork_mode") => ExecMode::Fork,
            _ => {
                fields.wrong("exec_mode", mode, "\"fork\" or \"cluster\"");
                ExecMode::Fork
            }
        },
        None if fields.get("instances").is_some() => ExecMode::ClusterIfNode,
        None => ExecMode::Fork,
    };
    let instances = instances(fields).unwrap_or(Instances::Count(NonZeroU32::MIN));
    let env = fields.environment("env").unwrap_or_default();
    let profiles = profiles(fields);
    let env_file = fields
        .string("env_file")
        .map(|f| normalize(&dir.join(f.get_ref())));
    let inherit_env = inherit_env(fields);
    let port = fields.get("port").and_then(|value| {
        let port = integer(value)
            .and_then(|n| u16::try_from(n).ok())
            .filter(|&p| p > 0);
        if port.is_none() {
            fields.wrong("port", value, "a TCP port number from 1 to 65535");
        }
        port.map(|p| Spanned::new(value.span(), p))
    });
    let listen = listen(fields, dir);
    let user = account(fields, "uid");
    let group = account(fields, "gid");
    let stop_exit_codes = stop_exit_codes(fields);
    let (restart_delay, exp_backoff) = restart_delays(fields);
    let kill_timeout = positive(fields, "kill_timeout").unwrap_or(defaults::KILL_TIMEOUT);
    let listen_timeout = positive(fields, "listen_timeout").unwrap_or(defaults::LISTEN_TIMEOUT);
    let instance_var =
        variable(fields, "instance_var").unwrap_or_else(|| defaults::INSTANCE_VAR.to_owned());
    let increment_var = variable(fields, "increment_var");
    let cron_restart = fields.string("cron_restart").and_then(|expr| {
        // PM2's way to say "no cron restart".
        if expr.get_ref() == "0" {
            return None;
        }
        cron::to_on_calendar(expr.get_ref())
            .map_err(|why| {
                let key = fields.spelling("cron_restart").to_owned();
                let message = format!("`{key}` cannot become a timer");
                fields.diagnostics.error(Some(expr.span()), message, why)
            })
            .ok()
    });
    let out_file = log_target(fields, "out_file", dir);
    let error_file = log_target(fields, "error_file", dir);
    let (out_file, error_file) = match fields.bool("disable_logs") {
        Some(true) => (Some(LogTarget::Null), Some(LogTarget::Null)),
        _ => (out_file, error_file),
    };
    let hardening = hardening(fields);
    let read_write_paths = read_write_paths(fields, dir);
    if let (false, Some((_, value))) = (hardening, fields.entry("read_write_paths")) {
        fields.diagnostics.warning(
            Some(value.span()),
            "`read_write_paths` has no effect: `hardening = \"off\"` lets the app write anywhere its user may",
            "remove one of them",
        );
    }
    let app = App {
        namespace: namespace(fields),
        args: fields.words("args").unwrap_or_default(),
        source_map_support,
        instances,
        exec_mode,
        env,
        profiles,
        env_file,
        inherit_env,
        port,
        listen,
        sticky: fields.bool("sticky").unwrap_or(false),
        user,
        group,
        autostart: fields.bool("autostart").unwrap_or(true),
        autorestart: fields.bool("autorestart").unwrap_or(true),
        stop_exit_codes,
        min_uptime: fields
            .duration("min_uptime")
            .map_or(defaults::MIN_UPTIME, Spanned::into_inner),
        max_restarts: fields
            .integer("max_restarts", 1, i64::from(u32::MAX))
            .and_then(|n| NonZeroU32::new(n as u32))
            .unwrap_or(NonZeroU32::new(defaults::MAX_RESTARTS).expect("non-zero")),
        restart_delay,
        exp_backoff_restart_delay: exp_backoff,
        max_memory_restart: fields.bytes("max_memory_restart"),
        kill_timeout,
        listen_timeout,
        wait_ready: fields.bool("wait_ready").unwrap_or(false),
        shutdown_with_message: fields.bool("shutdown_with_message").unwrap_or(false),
        instance_var,
        increment_var,
        cron_restart,
        out_file,
        error_file,
        hardening,
        read_write_paths,
        interpreter,
        interpreter_args,
        cwd,
        name: name?,
        script: script?,
    };
    Some(app)
}

#[cfg(test)]
mod tests;
