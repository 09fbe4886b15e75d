//! Driving systemd over D-Bus: apply a plan of unit files, rolling reloads,
//! status. Nothing here hard-codes a unit directory or a bus: callers pass a
//! [`UnitDir`] and a [`ServiceManager`], so tests can point them anywhere.

/// Carrying out a plan, with rollback.
pub mod apply;
/// The real service manager, over D-Bus.
pub mod bus;
/// What apply restarts, and what a deploy rolls after it.
pub mod deploy;
/// `journalctl` invocations.
pub mod journal;
/// One rollout per app at a time.
pub mod lock;
/// The directories of the apps' log files, created before they start.
pub mod log_dirs;
/// The trait apply needs from systemd, and its errors.
pub mod manager;
/// Rendered units vs installed ones.
pub mod plan;
/// zbus proxies of org.freedesktop.systemd1.
pub mod proxies;
/// One instance at a time.
pub mod rolling;
/// Properties of apps and instances, for `nodeunits status`.
pub mod status;
/// Reading and writing the unit directory.
pub mod unit_dir;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

pub use manager::{ServiceManager, SystemdError};
pub use unit_dir::UnitDir;

use std::path::PathBuf;

pub use crate::model::Scope;

/// Where administrators' units live: `/etc/systemd/system`, or
/// `$XDG_CONFIG_HOME/systemd/user` (default `~/.config/systemd/user`).
pub fn unit_dir_of(scope: Scope) -> Option<PathBuf> {
    match scope {
        Scope::System => Some(PathBuf::from("/etc/systemd/system")),
        Scope::User => {
            let config = std::env::var_os("XDG_CONFIG_HOME")
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from)
                .or_else(|| Some(PathBuf::from(std::env::var_os("HOME")?).join(".config")))?;
            Some(config.join("systemd/user"))
        }
    }
}
