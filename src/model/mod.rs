//! The typed model every stage shares: the ecosystem stage produces it, the
//! compiler renders it into unit files and reads installed files back into
//! it, the D-Bus driver plans with it, the helper parses its own options
//! from it. Nothing here knows TOML, templates or D-Bus.

/// The typed form of one app's units.
pub mod app;
/// Constants two stages must agree on: exit statuses, timeouts.
pub mod defaults;
/// The options of `nodeunits-helper`, rendered by the compiler and parsed
/// by the helper.
pub mod helper_options;
/// The options of `nodeunits-helper write-logs`, an app's log files.
pub mod log_writer;
/// `AppName`, and `UnitNames`: the one speller of unit names.
pub mod name;
/// The options of `nodeunits-helper probe`, a container's readiness probe.
pub mod probe_options;
/// The options of `nodeunits-helper replace`, a worker's reload.
pub mod replace_options;
/// What the helper runs: Node, a launcher of Node, another program.
pub mod runtime;
/// The socket unit's sockets: one per address, or one per instance (sticky).
pub mod sockets;
/// The options of `nodeunits-helper watch`, PM2's `watch`.
pub mod watcher;

pub use app::{AppUnits, Bytes, Cron, LogTarget, ProtectHome, RestartSteps, Sandbox, Worker};
pub use helper_options::HelperOptions;
pub use log_writer::{LogWriter, Rotate};
pub use name::{AppName, InvalidName, UnitNames};
pub use probe_options::ProbeOptions;
pub use replace_options::ReplaceOptions;
pub use watcher::Watcher;

/// Which systemd manager: the system's, or the user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Scope {
    #[default]
    System,
    User,
}

impl Scope {
    /// `--system` or `--user`, as systemctl and nodeunits take it.
    pub fn flag(self) -> &'static str {
        match self {
            Scope::System => "--system",
            Scope::User => "--user",
        }
    }
}
