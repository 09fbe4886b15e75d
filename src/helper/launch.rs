//! How the helper starts the app: at its own start, and again for each
//! successor (`replace`). The same program, environment and sockets each
//! time, with an IPC channel of its own.

use std::os::fd::RawFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use nix::unistd::Pid;

use super::environment::Vars;
use super::{log, node, spawn};
use crate::model::HelperOptions;

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
}

impl Recipe {
    pub fn new(
        options: &HelperOptions,
        runtime_dir: Option<PathBuf>,
        listen_fds: usize,
        listen: Vec<(String, RawFd)>,
        vars: Vars,
    ) -> Recipe {
        Recipe {
            options: options.clone(),
            runtime_dir,
            listen_fds,
            listen,
            vars,
        }
    }

    pub fn start(&self) -> Result<Started, String> {
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
        let pid = spawn::spawn(&launch).map_err(|e| format!("cannot start {program}: {e}"))?;
        tracing::info!("started {program} as pid {pid}");
        Ok(Started { pid, channel: ours })
    }
}
