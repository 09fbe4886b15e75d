//! Node with no supervisor: the ceiling for throughput and the baseline for
//! memory. The workers share one listening socket that systemd-socket-activate
//! holds, as a socket unit would, with nothing around them.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::apps::{bench_dir, App};
use crate::host::{in_scope, Host};
use crate::supervisor::{rss_kb, wait_serving};

pub struct Bare {
    launcher: Child,
    launcher_pid_file: PathBuf,
    pids_file: PathBuf,
}

impl Bare {
    pub fn start(host: &dyn Host, app: &App, dir: &Path) -> Result<Bare> {
        let pids_file = dir.join("bare.pids");
        let launcher_pid_file = dir.join("bare-launcher.pid");
        host.ok(&format!(
            "mkdir -p {0} && rm -f {1}",
            dir.display(),
            pids_file.display()
        ))?;
        let launcher = host.spawn(&format!(
            "echo $$ > {}; exec {} 2>{}",
            launcher_pid_file.display(),
            in_scope("system.slice", &Self::command(app, &pids_file)),
            dir.join("bare.log").display()
        ))?;
        let bare = Bare {
            launcher,
            launcher_pid_file,
            pids_file,
        };
        wait_serving(host, app, Duration::from_secs(20))?;
        Ok(bare)
    }

    /// The command that runs the app's workers on one socket that
    /// systemd-socket-activate holds; their PIDs go to `pids_file`.
    pub fn command(app: &App, pids_file: &Path) -> String {
        // systemd-socket-activate passes on only the environment it is told.
        let env: String = app
            .env()
            .iter()
            .map(|(key, value)| format!(" -E {key}={value}"))
            .collect();
        format!(
            "systemd-socket-activate -l 127.0.0.1:{}{env} node {} {} {} {}",
            app.port,
            bench_dir().join("apps/bare-launch.js").display(),
            app.instances,
            pids_file.display(),
            app.script_path().display(),
        )
    }

    /// Each worker's resident set, in kB.
    pub fn workers_kb(&self, host: &dyn Host) -> Result<Vec<u64>> {
        let pids = host.read(&self.pids_file)?;
        pids.split_whitespace()
            .map(|pid| rss_kb(host, pid.parse().context("bare.pids")?))
            .collect()
    }

    pub fn stop(mut self, host: &dyn Host) -> Result<()> {
        // The launcher kills its workers on SIGTERM.
        host.ok(&format!("kill $(cat {})", self.launcher_pid_file.display()))?;
        self.launcher.wait()?;
        Ok(())
    }
}
