//! The keys an app may have, and what is said of every other key: a PM2
//! option that means nothing under systemd is a warning, anything else an
//! error with the closest known option.

use super::fields::{Fields, Unread};
use super::pm2;

/// Every option of an app, aliases included (`env_<profile>` aside).
pub const OPTIONS: &[&str] = &[
    "name",
    "namespace",
    "script",
    "args",
    "interpreter",
    "exec_interpreter",
    "interpreter_args",
    "node_args",
    "source_map_support",
    "cwd",
    "instances",
    "exec_mode",
    "env",
    "env_file",
    "inherit_env",
    "port",
    "listen",
    "user",
    "uid",
    "group",
    "gid",
    "autorestart",
    "stop_exit_codes",
    "min_uptime",
    "max_restarts",
    "restart_delay",
    "exp_backoff_restart_delay",
    "max_memory_restart",
    "kill_timeout",
    "listen_timeout",
    "wait_ready",
    "shutdown_with_message",
    "instance_var",
    "increment_var",
    "cron_restart",
    "out_file",
    "output",
    "error_file",
    "error",
    "disable_logs",
    "autostart",
];

/// Reports the keys of an app that no option read.
pub fn unknown_keys(fields: &mut Fields) {
    fields.report_unread(|key| match pm2::ignored(pm2::IGNORED_APP_OPTIONS, key) {
        Some(instead) => Unread::Warning(
            format!("`{key}` has no meaning under systemd and is ignored"),
            format!("instead: {instead}"),
        ),
        None => {
            let help = match pm2::closest(key, OPTIONS) {
                Some(known) => format!("did you mean `{known}`? See \"The ecosystem file\" in the README for every option"),
                None => "see \"The ecosystem file\" in the README for every option".to_owned(),
            };
            Unread::Error(format!("unknown option `{key}`"), help)
        }
    });
}

/// Reports the top-level keys other than `apps`.
pub fn unknown_top_level_keys(fields: &mut Fields) {
    fields.report_unread(|key| match pm2::ignored(pm2::IGNORED_TOP_LEVEL, key) {
        Some(why) => Unread::Warning(
            format!("`{key}` has no meaning under systemd"),
            why.to_owned(),
        ),
        None => Unread::Error(
            format!("unknown top-level key `{key}`"),
            "an ecosystem file holds its apps under `apps`; put app options inside an app"
                .to_owned(),
        ),
    });
}
