//! Running wrk inside a box: to its end, or stopped when the work under
//! load is done.

use std::path::{Path, PathBuf};
use std::process::Child;

use anyhow::{Context, Result};

use crate::host::Host;
use crate::wrk::{self, Load, Report};

/// A wrk started in the background.
pub struct Running {
    child: Child,
    pid_file: PathBuf,
    out_file: PathBuf,
}

pub fn start(host: &dyn Host, load: &Load, dir: &Path) -> Result<Running> {
    let pid_file = dir.join("wrk.pid");
    let out_file = dir.join("wrk.out");
    host.ok(&format!(
        "mkdir -p {} && rm -f {} {}",
        dir.display(),
        pid_file.display(),
        out_file.display()
    ))?;
    let child = host.spawn(&format!(
        "echo $$ > {}; exec {} > {} 2>&1",
        pid_file.display(),
        load.command(),
        out_file.display()
    ))?;
    // wrk connects at once; give its connections time to be up before the
    // caller starts disturbing the app.
    std::thread::sleep(std::time::Duration::from_millis(500));
    Ok(Running {
        child,
        pid_file,
        out_file,
    })
}

impl Running {
    /// Stops wrk (SIGINT: it prints its report) and returns the report.
    pub fn stop(self, host: &dyn Host) -> Result<Report> {
        host.ok(&format!("kill -INT $(cat {})", self.pid_file.display()))?;
        self.finish(host)
    }

    /// Waits for wrk's own end.
    pub fn finish(mut self, host: &dyn Host) -> Result<Report> {
        self.child.wait().context("waiting for wrk")?;
        let output = host.read(&self.out_file)?;
        wrk::parse(&output)
    }
}

/// One load, to its end.
pub fn run(host: &dyn Host, load: &Load, dir: &Path) -> Result<Report> {
    start(host, load, dir)?.finish(host)
}
