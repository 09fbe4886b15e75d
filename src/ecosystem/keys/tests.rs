use std::path::Path;

use super::*;
use crate::ecosystem::{Diagnostics, Severity};

/// The keys of PM2 7.0.3's `lib/API/schema.json`, `^env_\S*$` aside.
const PM2_SCHEMA: [&str; 64] = [
    "script",
    "name",
    "name_prefix",
    "filter_env",
    "namespace",
    "install_url",
    "cwd",
    "args",
    "exec_interpreter",
    "node_args",
    "out_file",
    "error_file",
    "log_file",
    "disable_logs",
    "log_type",
    "log_date_format",
    "time",
    "env",
    "max_memory_restart",
    "pid_file",
    "restart_delay",
    "exp_backoff_restart_delay",
    "source_map_support",
    "disable_source_map_support",
    "wait_ready",
    "instances",
    "kill_timeout",
    "shutdown_with_message",
    "listen_timeout",
    "cron_restart",
    "merge_logs",
    "vizion",
    "autostart",
    "autorestart",
    "stop_exit_codes",
    "watch_delay",
    "watch",
    "ignore_watch",
    "watch_options",
    "min_uptime",
    "max_restarts",
    "execute_command",
    "exec_mode",
    "force",
    "append_env_to_name",
    "post_update",
    "trace",
    "disable_trace",
    "v8",
    "event_loop_inspector",
    "deep_monitoring",
    "increment_var",
    "instance_var",
    "pmx",
    "automation",
    "treekill",
    "port",
    "username",
    "uid",
    "gid",
    "windowsHide",
    "kill_retry_time",
    "write",
    "io",
];

/// Every alias PM2 accepts besides the camelCase spellings: the schema's
/// own, and `cmd`, `command` (`Common.verifyConfs`), with their option.
const PM2_ALIASES: [(&str, &str); 17] = [
    ("exec", "script"),
    ("cmd", "script"),
    ("command", "script"),
    ("interpreter", "exec_interpreter"),
    ("interpreterArgs", "node_args"),
    ("interpreter_args", "node_args"),
    ("out", "out_file"),
    ("output", "out_file"),
    ("out_log", "out_file"),
    ("error", "error_file"),
    ("err", "error_file"),
    ("err_file", "error_file"),
    ("err_log", "error_file"),
    ("log", "log_file"),
    ("pid", "pid_file"),
    ("cron", "cron_restart"),
    ("combine_logs", "merge_logs"),
];

#[test]
fn every_pm2_option_is_known_by_its_name() {
    for key in PM2_SCHEMA {
        let known = find(app_options(), key).unwrap_or_else(|| panic!("`{key}` is not known"));
        assert_eq!(known.name, key);
    }
    assert_eq!(
        find(app_options(), "uid").map(|k| k.aliases),
        Some(&["user"][..])
    );
}

#[test]
fn every_pm2_alias_is_known_as_its_option() {
    for (alias, option) in PM2_ALIASES {
        assert_eq!(
            find(app_options(), alias).map(|k| k.name),
            Some(option),
            "{alias}"
        );
    }
}

#[test]
fn camel_case_spellings_are_pm2s() {
    assert_eq!(
        camel_case("exp_backoff_restart_delay"),
        "expBackoffRestartDelay"
    );
    assert_eq!(camel_case("windowsHide"), "windowsHide");
    assert_eq!(camel_case("v8"), "v8");
    // A part of one letter keeps its case, as in PM2.
    assert_eq!(camel_case("a_b_cd"), "abCd");
    for key in PM2_SCHEMA {
        let camel = camel_case(key);
        assert_eq!(
            find(app_options(), &camel).map(|k| k.name),
            Some(key),
            "{camel}"
        );
    }
    for (camel, option) in [
        ("killTimeout", "kill_timeout"),
        ("nodeArgs", "node_args"),
        ("outFile", "out_file"),
        ("errorFile", "error_file"),
        ("logDateFormat", "log_date_format"),
        ("eventLoopInspector", "event_loop_inspector"),
    ] {
        assert_eq!(find(app_options(), camel).map(|k| k.name), Some(option));
    }
}

#[test]
fn no_spelling_belongs_to_two_options() {
    let mut seen = std::collections::BTreeMap::new();
    for known in app_options() {
        for spelling in known.spellings() {
            if let Some(other) = seen.insert(spelling.clone(), known.name) {
                panic!("`{spelling}` names both `{other}` and `{}`", known.name);
            }
        }
    }
}

/// The diagnostics of a file with one app per `key = value` line.
fn diagnostics_of(lines: &[String]) -> Vec<(Severity, String, String)> {
    let mut source = String::new();
    for (i, line) in lines.iter().enumerate() {
        source += &format!("[[apps]]\nname = \"app{i}\"\nscript = \"app.js\"\n{line}\n");
    }
    let mut diagnostics = Diagnostics::default();
    crate::ecosystem::parse(Path::new("/srv/ecosystem.toml"), &source, &mut diagnostics);
    diagnostics
        .items
        .into_iter()
        .map(|d| (d.severity, d.message, d.help.unwrap_or_default()))
        .collect()
}

#[test]
fn the_validator_reads_every_spelling_of_what_the_table_says_it_reads() {
    let mut lines = Vec::new();
    for known in app_options() {
        for spelling in known.spellings() {
            if !matches!(&*spelling, "name" | "script") {
                // Not PM2's default, which an ignored option takes silently.
                let value = known.pm2_default != Some(super::Pm2Default::Bool(true));
                lines.push(format!("{spelling} = {value}"));
            }
        }
    }
    let diagnostics = diagnostics_of(&lines);
    for known in app_options() {
        for spelling in known.spellings() {
            let unknown = format!("unknown option `{spelling}`");
            let warned = format!("`{spelling}` has no meaning under systemd and is ignored");
            let said = |text: &str| diagnostics.iter().any(|(_, message, _)| message == text);
            assert!(!said(&unknown), "{unknown}");
            match known.handling {
                Handling::Ignored(instead) => assert!(
                    diagnostics.contains(&(
                        Severity::Warning,
                        warned.clone(),
                        format!("instead: {instead}")
                    )),
                    "{warned}"
                ),
                _ => assert!(!said(&warned), "`{spelling}` is read, not ignored"),
            }
        }
    }
}

#[test]
fn typos_are_errors_suggesting_the_option_meant() {
    for (typo, meant) in [
        ("scirpt", Some("script")),
        ("instance", Some("instances")),
        ("instanes", Some("instances")),
        ("kill_timout", Some("kill_timeout")),
        ("killtimeout", Some("kill_timeout")),
        ("killTimout", Some("killTimeout")),
        ("maxRestart", Some("maxRestarts")),
        ("max_memory_restrat", Some("max_memory_restart")),
        ("exec_interpeter", Some("exec_interpreter")),
        ("wait-ready", Some("wait_ready")),
        ("autorestar", Some("autorestart")),
        ("Env", Some("env")),
        ("interpreter_arg", Some("interpreter_args")),
        ("foo", None),
        ("colour", None),
        ("enviroment", None),
        ("memory", None),
    ] {
        assert_eq!(closest(typo, app_options()).as_deref(), meant, "{typo}");
    }
    assert_eq!(closest("app", TOP_LEVEL).as_deref(), Some("apps"));
}
