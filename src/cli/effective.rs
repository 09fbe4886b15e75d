//! The options an installed app runs with, read back from its units
//! (`units::read`) and named as in the ecosystem file, for `describe`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::model::{AppUnits, LogTarget};
use crate::units::format::duration;

/// One option and its value, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Effective {
    pub option: &'static str,
    pub value: String,
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

/// "80.0 MB (83886080 bytes)", as the helper writes its figures.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB ({bytes} bytes)", bytes as f64 / 1_048_576.0)
}

fn path(path: &Path) -> String {
    path.display().to_string()
}

/// Where a stream goes.
pub fn log_destination(target: Option<&LogTarget>) -> String {
    match target {
        None => "the journal".to_owned(),
        Some(LogTarget::Null) => "discarded".to_owned(),
        Some(LogTarget::Append(file)) => format!("appended to {}", file.display()),
    }
}

/// The app's options, in the order of the README's table.
pub fn options(units: &AppUnits) -> Vec<Effective> {
    let worker = &units.worker;
    let helper = &worker.options;
    let command: Vec<String> = helper
        .command
        .iter()
        .map(|word| word.to_string_lossy().into_owned())
        .collect();
    let mut list: Vec<(&'static str, Option<String>)> = vec![
        ("script", Some(command.join(" "))),
        ("cwd", Some(path(&worker.working_directory))),
        ("namespace", units.namespace.clone()),
        (
            "instances",
            Some(if units.scaled {
                format!("{} (set by `nodeunits scale`)", units.instances)
            } else {
                units.instances.to_string()
            }),
        ),
        (
            "listen",
            (!units.listen.is_empty()).then(|| units.listen.join(" ")),
        ),
        (
            "out_file",
            Some(log_destination(worker.standard_output.as_ref())),
        ),
        (
            "error_file",
            Some(log_destination(worker.standard_error.as_ref())),
        ),
        ("env_file", worker.environment_file.as_deref().map(path)),
        (
            "max_memory_restart",
            helper.max_memory.map(|limit| {
                let backstop = worker.memory_max.map_or(String::new(), |max| {
                    format!("; MemoryMax={} as a backstop", megabytes(max.0))
                });
                format!("{}{backstop}", megabytes(limit))
            }),
        ),
        ("restart_delay", Some(duration(worker.restart_delay))),
        (
            "exp_backoff_restart_delay",
            match (worker.restart_steps, helper.exp_backoff) {
                (Some(steps), _) => Some(format!(
                    "{} steps up to {} (systemd's RestartSteps=)",
                    steps.steps,
                    duration(steps.max_delay)
                )),
                (None, Some(first)) => {
                    Some(format!("from {} (emulated by the helper)", duration(first)))
                }
                (None, None) => None,
            },
        ),
        ("wait_ready", Some(yes_no(helper.wait_ready))),
        ("listen_timeout", Some(duration(worker.start_timeout))),
        ("kill_timeout", Some(duration(worker.stop_timeout))),
        (
            "shutdown_with_message",
            Some(yes_no(helper.shutdown_with_message)),
        ),
        (
            "cron_restart",
            units
                .cron
                .as_ref()
                .map(|cron| format!("OnCalendar={}", cron.on_calendar)),
        ),
        ("autorestart", Some(yes_no(worker.restart))),
        (
            "stop_exit_codes",
            (!worker.stop_exit_codes.is_empty()).then(|| {
                let codes: Vec<String> = worker.stop_exit_codes.iter().map(u8::to_string).collect();
                codes.join(" ")
            }),
        ),
        (
            "max_restarts",
            Some(format!(
                "{} within {}",
                worker.start_limit_burst,
                duration(worker.start_limit_interval)
            )),
        ),
        ("increment_var", helper.increment_var.clone()),
        ("instance_var", Some(worker.instance_var.clone())),
        ("uid", worker.user.clone()),
        ("gid", worker.group.clone()),
    ];
    list.retain(|(_, value)| value.is_some());
    list.into_iter()
        .filter_map(|(option, value)| {
            Some(Effective {
                option,
                value: value?,
            })
        })
        .collect()
}

/// The declared environment: every name, each value or, unless `show`,
/// `None` in its place.
pub fn environment(units: &AppUnits, show: bool) -> BTreeMap<String, Option<String>> {
    units
        .worker
        .environment
        .iter()
        .map(|(name, value)| (name.clone(), show.then(|| value.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_read_as_the_helper_writes_them() {
        assert_eq!(megabytes(83_886_080), "80.0 MB (83886080 bytes)");
        assert_eq!(log_destination(None), "the journal");
        assert_eq!(
            log_destination(Some(&LogTarget::Append("/var/log/a.log".into()))),
            "appended to /var/log/a.log"
        );
    }
}
