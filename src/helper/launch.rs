//! How the helper starts the app: at its own start, and again for each
//! successor (`replace`). The same program, environment and sockets each
//! time, with an IPC channel of its own.

use std::cell::Cell;
use std::os::fd::RawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use nix::unistd::Pid;

use super::environment::{self, Vars};
use super::{log, node, spawn};
use crate::model::HelperOptions;

/// Why the app could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Prepare(#[from] node::PrepareError),
    #[error("cannot start {program}: {err}")]
    Spawn { program: String, err: nix::Error },
}

/// An app process just started.
pub struct Started {
    pub pid: Pid,
    /// The helper's end of its IPC channel (a Node app).
    pub channel: Option<UnixStream>,
}

pub struct Recipe {
    options: HelperOptions,
    runtime_dir: Option<PathBuf>,
    listen_fds: usize,
    /// The worker's own sockets: each address with its fd.
    listen: Vec<(String, RawFd)>,
    vars: Vars,
    balance: Option<Balance>,
}

/// Where the processes accepting from the app's shared sockets count their
/// connections (balance.cjs): this instance has two records, one for the
/// running process and one for its successor, used in turn.
pub struct Balance {
    file: PathBuf,
    instance: u32,
    starts: Cell<u32>,
}

impl Balance {
    /// Records the module reads: 2 per instance.
    const RECORDS: u32 = 1024;

    pub fn new(runtime_dir: &Path, instance: u32) -> Option<Balance> {
        (instance < Self::RECORDS / 2).then(|| Balance {
            file: runtime_dir.join(super::preload::BALANCE_FILE),
            instance,
            starts: Cell::new(0),
        })
    }

    /// `NODEUNITS_BALANCE` for the next start.
    fn next(&self) -> String {
        let starts = self.starts.get();
        self.starts.set(starts.wrapping_add(1));
        let slot = self.instance * 2 + (starts & 1);
        serde_json::json!({ "file": self.file, "slot": slot }).to_string()
    }
}

impl Recipe {
    pub fn new(
        options: &HelperOptions,
        runtime_dir: Option<PathBuf>,
        listen_fds: usize,
        listen: Vec<(String, RawFd)>,
        vars: Vars,
        balance: Option<Balance>,
    ) -> Recipe {
        Recipe {
            options: options.clone(),
            runtime_dir,
            listen_fds,
            listen,
            vars,
            balance,
        }
    }

    pub fn start(&self) -> Result<Started, LaunchError> {
        let program = self.options.command[0].to_string_lossy().into_owned();
        let mut argv = self.options.command.clone();
        let mut vars = self.vars.clone();
        let (ours, theirs) = if self.options.runtime.runs_node() {
            let channel = node::prepare(
                &self.options,
                self.runtime_dir.as_deref(),
                &self.listen,
                self.listen_fds,
                &mut argv,
                &mut vars,
            )?;
            if let Some(balance) = &self.balance {
                environment::set(&mut vars, "NODEUNITS_BALANCE", balance.next());
            }
            (Some(channel.ours), Some((channel.theirs, channel.target)))
        } else {
            (None, None)
        };
        let launch = spawn::Launch {
            argv,
            vars,
            listen_fds: self.listen_fds > 0,
            channel: theirs,
            stderr: log::app_stderr(&self.options.app),
        };
        let pid = spawn::spawn(&launch).map_err(|err| LaunchError::Spawn {
            program: program.clone(),
            err,
        })?;
        tracing::info!("started {program} as pid {pid}");
        Ok(Started { pid, channel: ours })
    }
}
