//! What apply and the rolling reload need from a service manager, as a trait:
//! the real one speaks D-Bus ([`super::bus::Systemd`]), unit tests use a fake.

use std::fmt;

/// The operations apply performs, each waiting for systemd's jobs to finish.
pub trait ServiceManager {
    /// `daemon-reload`: systemd rereads the unit files.
    fn daemon_reload(&self) -> Result<(), SystemdError>;
    /// Fails, naming the unit, unless systemd loaded every one of these
    /// units (its file exists and is valid).
    fn check_loaded(&self, units: &[String]) -> Result<(), SystemdError>;
    /// Creates the `[Install]` symlinks of these units.
    fn enable(&self, units: &[String]) -> Result<(), SystemdError>;
    /// Removes the `[Install]` symlinks of these units.
    fn disable(&self, units: &[String]) -> Result<(), SystemdError>;
    /// Starts these units together; each must end up active.
    fn start(&self, units: &[String]) -> Result<(), SystemdError>;
    /// Stops these units together.
    fn stop(&self, units: &[String]) -> Result<(), SystemdError>;
    /// Restarts one unit; it must end up active (for `Type=notify`: ready).
    fn restart(&self, unit: &str) -> Result<(), SystemdError>;
    /// Replaces one running instance's app, its successor first (the
    /// unit's `ExecReload=`), or restarts a unit that has no reload.
    fn replace(&self, unit: &str) -> Result<(), SystemdError>;
    /// The unit's main process runs a program whose file was replaced or
    /// removed since it started (`/proc/PID/exe` ends with ` (deleted)`):
    /// after a package upgrade, the old helper.
    fn program_replaced(&self, unit: &str) -> bool;
    /// `active`, `activating`, `inactive`, `failed`, … (`inactive` for a
    /// unit systemd does not know).
    fn active_state(&self, unit: &str) -> Result<String, SystemdError>;
    /// The unit's last journal lines, for error messages.
    fn journal_tail(&self, unit: &str) -> String;
}

/// Why an operation on systemd failed.
#[derive(Debug, thiserror::Error)]
pub enum SystemdError {
    #[error("talking to systemd over D-Bus: {0}")]
    Bus(Box<zbus::Error>),
    #[error("{0}")]
    Unit(Box<UnitFailure>),
}

/// A unit that did not reach the state asked for.
#[derive(Debug)]
pub struct UnitFailure {
    pub unit: String,
    /// A sentence fragment: "did not start: the job ended with result `failed` …".
    pub why: String,
    /// Its last journal lines, possibly empty.
    pub journal: String,
}

impl From<zbus::Error> for SystemdError {
    fn from(err: zbus::Error) -> Self {
        SystemdError::Bus(Box::new(err))
    }
}

impl SystemdError {
    pub fn unit(unit: &str, why: impl Into<String>, journal: String) -> Self {
        SystemdError::Unit(Box::new(UnitFailure {
            unit: unit.to_owned(),
            why: why.into(),
            journal,
        }))
    }

    /// The unit at fault, when there is one.
    pub fn failed_unit(&self) -> Option<&str> {
        match self {
            SystemdError::Unit(failure) => Some(&failure.unit),
            SystemdError::Bus(_) => None,
        }
    }
}

impl fmt::Display for UnitFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.unit, self.why)?;
        if !self.journal.trim().is_empty() {
            write!(f, "\nits last journal lines:\n{}", self.journal.trim_end())?;
        }
        Ok(())
    }
}
