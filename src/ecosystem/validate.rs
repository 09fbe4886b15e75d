//! One `[[apps]]` table → a validated [`App`].

use std::num::NonZeroU32;
use std::path::Path;

use toml::Spanned;

use super::cron;
use super::fields::{integer, Fields};
use super::places::{account, listen, log_target, normalize};
use super::settings::{defaults, App, Interpreter, LogTarget};
use super::typed::{
    aliased, inherit_env, instances, namespace, positive, profiles, stop_exit_codes, variable,
};
use super::values::Instances;
use crate::model::AppName;

/// Validates one app; `None` when it has errors (they are recorded).
pub fn app(fields: &mut Fields, table_span: std::ops::Range<usize>, dir: &Path) -> Option<App> {
    let errors_before = fields.diagnostics.count(super::diagnostic::Severity::Error);
    let name = fields
        .string("name")
        .and_then(|name| match AppName::new(name.get_ref()) {
            Ok(valid) => Some(Spanned::new(name.span(), valid)),
            Err(why) => {
                fields.diagnostics.error(
                    Some(name.span()),
                    format!("`{}` cannot name units", name.get_ref().escape_debug()),
                    format!("allowed: {why}"),
                );
                None
            }
        });
    if name.is_none() && fields.get("name").is_none() {
        fields.diagnostics.error(
            Some(table_span.clone()),
            "this app has no `name`",
            "every app needs a name, such as `name = \"api\"`: it names the app's units",
        );
    }
    let script = fields.string("script").filter(|s| {
        let valid = !s.get_ref().is_empty() && !s.get_ref().chars().any(char::is_control);
        if !valid {
            fields.diagnostics.error(
                Some(s.span()),
                "invalid value for `script`",
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
    let cwd = match fields.string("cwd") {
        Some(cwd) => normalize(&dir.join(cwd.get_ref())),
        None => dir.to_path_buf(),
    };
    let interpreter = match aliased(fields, "interpreter", "exec_interpreter") {
        None => Interpreter::ByExtension,
        Some(key) => match fields.string(key) {
            Some(s) if s.get_ref() == "none" => Interpreter::None,
            Some(s) if s.get_ref().contains('/') => {
                let path = normalize(&dir.join(s.get_ref()));
                Interpreter::Program(Spanned::new(s.span(), path.to_string_lossy().into_owned()))
            }
            Some(s) if !s.get_ref().is_empty() => Interpreter::Program(s),
            _ => Interpreter::ByExtension,
        },
    };
    let interpreter_args = aliased(fields, "interpreter_args", "node_args")
        .and_then(|key| fields.words(key))
        .unwrap_or_default();
    let source_map_span = fields.get("source_map_support").map(|v| v.span());
    let source_map_support = fields
        .bool("source_map_support")
        .zip(source_map_span)
        .map(|(b, span)| Spanned::new(span, b));
    let exec_mode = fields.string("exec_mode");
    if let Some(mode) = &exec_mode {
        if !["fork", "cluster", "fork_mode", "cluster_mode"].contains(&mode.get_ref().as_str()) {
            fields.diagnostics.error(
                Some(mode.span()),
                "invalid value for `exec_mode`",
                "allowed: \"fork\" or \"cluster\"",
            );
        }
    }
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
    let user = aliased(fields, "user", "uid").and_then(|key| account(fields, key));
    let group = aliased(fields, "group", "gid").and_then(|key| account(fields, key));
    let stop_exit_codes = stop_exit_codes(fields);
    let restart_delay = fields.duration("restart_delay").map(|d| d.into_inner());
    let exp_backoff = fields.duration("exp_backoff_restart_delay");
    if let (Some(_), Some(backoff)) = (restart_delay, &exp_backoff) {
        fields.diagnostics.error(
            Some(backoff.span()),
            "`exp_backoff_restart_delay` and `restart_delay` are both set",
            "set one: a fixed delay between restarts, or one that grows after each crash",
        );
    }
    let kill_timeout = positive(fields, "kill_timeout").unwrap_or(defaults::KILL_TIMEOUT);
    let listen_timeout = positive(fields, "listen_timeout").unwrap_or(defaults::LISTEN_TIMEOUT);
    let instance_var =
        variable(fields, "instance_var").unwrap_or_else(|| defaults::INSTANCE_VAR.to_owned());
    let increment_var = variable(fields, "increment_var");
    let cron_restart = fields.string("cron_restart").and_then(|expr| {
        cron::to_on_calendar(expr.get_ref())
            .map_err(|why| {
                fields.diagnostics.error(
                    Some(expr.span()),
                    "`cron_restart` cannot become a timer",
                    why,
                )
            })
            .ok()
    });
    let out_file =
        aliased(fields, "out_file", "output").and_then(|key| log_target(fields, key, dir));
    let error_file =
        aliased(fields, "error_file", "error").and_then(|key| log_target(fields, key, dir));
    let (out_file, error_file) = match fields.bool("disable_logs") {
        Some(true) => (Some(LogTarget::Null), Some(LogTarget::Null)),
        _ => (out_file, error_file),
    };
    if let Some((_, value)) = fields.entry("autostart") {
        if value.get_ref().as_bool() == Some(false) {
            fields.diagnostics.warning(
                Some(value.span()),
                "`autostart = false` is not supported and is ignored",
                "the app is enabled and started like the others; stop it with `nodeunits stop APP`",
            );
        }
    }
    let app = App {
        namespace: namespace(fields),
        args: fields.words("args").unwrap_or_default(),
        source_map_support,
        instances,
        env,
        profiles,
        env_file,
        inherit_env,
        port,
        listen,
        user,
        group,
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
        exp_backoff_restart_delay: exp_backoff.map(Spanned::into_inner),
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
        interpreter,
        interpreter_args,
        cwd,
        name: name?,
        script: script?,
    };
    let errors_after = fields.diagnostics.count(super::diagnostic::Severity::Error);
    (errors_after == errors_before).then_some(app)
}
