//! Driving systemd over D-Bus: apply a plan of unit files, rolling reloads,
//! reading the properties and journal entries that `status`, `describe` and
//! `metrics` show (their wording is the command line's). Nothing here hard-codes a unit directory or a bus: callers pass a
//! [`UnitDir`] and a [`ServiceManager`], so tests can point them anywhere.

/// Carrying out a plan, with rollback.
pub mod apply;
/// The apply journal: applies that did not finish.
pub mod apply_journal;
/// The real service manager, over D-Bus.
pub mod bus;
/// What apply restarts, and what a deploy rolls after it.
pub mod deploy;
/// Why instances restarted, from the journal.
pub mod history;
/// SIGINT, SIGTERM and SIGHUP during a change.
pub mod interrupt;
/// `journalctl` invocations: the systemd journal of apps and instances.
pub mod journalctl;
/// One installed app as systemd runs it now, for `nodeunits describe`.
pub mod live;
/// One rollout per app at a time.
pub mod lock;
/// The directories of the apps' log files, created before they start.
pub mod log_dirs;
/// Journal entries as `logs` and `monit` show them.
pub mod log_entry;
/// The trait apply needs from systemd, and its errors.
pub mod manager;
/// Rendered units vs installed ones.
pub mod plan;
/// zbus proxies of org.freedesktop.systemd1.
pub mod proxies;
/// The last rolling reload of each app, for `describe` and `metrics`.
pub mod reload_record;
/// One instance at a time.
pub mod rolling;
/// The figures a worker's Node process publishes from inside.
pub mod runtime_stats;
/// What `nodeunits metrics` exposes: every app's instances, sockets and reloads.
pub mod samples;
/// Starting an app in the order systemd needs.
pub mod starting;
/// Properties of an app's instances, for `status`, `describe`, `metrics` and `monit`.
pub mod status;
/// What undoes each step of an apply.
mod undo;
/// Reading and writing the unit directory.
pub mod unit_dir;

#[cfg(test)]
mod fake;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_apply_journal;
#[cfg(test)]
mod tests_autostart;

pub use manager::{ServiceManager, SystemdError};
pub use unit_dir::UnitDir;

use std::path::PathBuf;

pub use crate::model::Scope;

/// Where administrators' units live: `/etc/systemd/system`, or
/// `$XDG_CONFIG_HOME/systemd/user` (default `~/.config/systemd/user`).
pub fn unit_dir_of(scope: Scope) -> Option<PathBuf> {
    Some(config_dir(scope)?.join(match scope {
        Scope::System => "systemd/system",
        Scope::User => "systemd/user",
    }))
}

/// Where `nodeunits start SCRIPT` writes each app's ecosystem file:
/// `/etc/nodeunits/apps`, or `$XDG_CONFIG_HOME/nodeunits/apps` (default
/// `~/.config/nodeunits/apps`).
pub fn started_apps_dir(scope: Scope) -> Option<PathBuf> {
    Some(config_dir(scope)?.join("nodeunits/apps"))
}

/// `/etc`, or the user's `$XDG_CONFIG_HOME` (default `~/.config`).
fn config_dir(scope: Scope) -> Option<PathBuf> {
    match scope {
        Scope::System => Some(PathBuf::from("/etc")),
        Scope::User => std::env::var_os("XDG_CONFIG_HOME")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from(std::env::var_os("HOME")?).join(".config"))),
    }
}
