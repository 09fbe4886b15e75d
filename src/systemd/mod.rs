//! Driving systemd over D-Bus: apply a plan of unit files, rolling reloads,
//! status. Nothing here hard-codes a unit directory or a bus: callers pass a
//! [`UnitDir`] and a [`ServiceManager`], so tests can point them anywhere.

/// Carrying out a plan, with rollback.
pub mod apply;
/// The real service manager, over D-Bus.
pub mod bus;
/// `journalctl` invocations.
pub mod journal;
/// One rollout per app at a time.
pub mod lock;
/// The trait apply needs from systemd, and its errors.
pub mod manager;
/// Rendered units vs installed ones.
pub mod plan;
/// zbus proxies of org.freedesktop.systemd1.
pub mod proxies;
/// One instance at a time.
pub mod rolling;
/// `nodeunits scale`: the installed app unit rewritten.
pub mod scale;
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

/// Which service manager: the system's, or the user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    System,
    User,
}

impl From<crate::units::Mode> for Scope {
    fn from(mode: crate::units::Mode) -> Self {
        match mode {
            crate::units::Mode::System => Scope::System,
            crate::units::Mode::User => Scope::User,
        }
    }
}

impl Scope {
    /// Where administrators' units live: `/etc/systemd/system`, or
    /// `$XDG_CONFIG_HOME/systemd/user` (default `~/.config/systemd/user`).
    pub fn unit_dir(self) -> Option<PathBuf> {
        match self {
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
}
