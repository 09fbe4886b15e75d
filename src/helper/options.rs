//! The helper's command line, as emitted by the compiler (docs/contract.md).

use std::ffi::OsString;

use clap::Parser;

/// Runs one worker of a nodeunits app under systemd.
#[derive(Debug, Parser)]
#[command(name = "nodeunits-helper", version, about, long_about = None)]
pub struct Options {
    /// The app's name: log identity and the lock directory.
    #[arg(long, value_name = "NAME")]
    pub app: String,
    /// The instance number (`%i`).
    #[arg(long, value_name = "N")]
    pub instance: u32,
    /// PROGRAM is Node: inject the preload and give it an IPC channel.
    #[arg(long)]
    pub node: bool,
    /// READY=1 when the app sends 'ready' over IPC (a non-Node app sends
    /// READY=1 itself).
    #[arg(long)]
    pub wait_ready: bool,
    /// An address of the socket unit, in order: the Nth is fd 3+N-1.
    #[arg(long = "listen", value_name = "ADDR")]
    pub listen: Vec<String>,
    /// How long the drain may take, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1600)]
    pub kill_timeout: u64,
    /// Restart gracefully when the tree's resident memory exceeds BYTES.
    #[arg(long, value_name = "BYTES")]
    pub max_memory: Option<u64>,
    /// Send the IPC message 'shutdown' instead of SIGINT.
    #[arg(long)]
    pub shutdown_with_message: bool,
    /// Set NAME to its value in the environment plus the instance number.
    #[arg(long, value_name = "NAME")]
    pub increment_var: Option<String>,
    /// Delay restarts exponentially from MS (systemd < 254).
    #[arg(long, value_name = "MS")]
    pub exp_backoff: Option<u64>,
    /// The program to run and its arguments.
    #[arg(last = true, required = true, value_name = "PROGRAM")]
    pub command: Vec<OsString>,
}
