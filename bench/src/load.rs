//! Running wrk inside a box: to its end, or stopped when the work under
//! load is done; other clients (the probe) are run and stopped the same way.

use std::path::{Path, PathBuf};
use std::process::Child;

use anyhow::{Context, Result};

use crate::host::{in_scope, Host};
use testhost::wrk::{self, Report};

/// How to load an app.
#[derive(Debug, Clone)]
pub struct Load {
    pub connections: u32,
    pub threads: u32,
    /// `false`: one connection per request (`Connection: close`).
    pub keep_alive: bool,
    /// wrk's upper bound; a load stopped early with SIGINT still reports.
    pub seconds: u32,
    pub port: u16,
    /// A wrk Lua script (`wrk -s`), a path inside the box.
    pub script: Option<PathBuf>,
}

impl Load {
    pub fn command(&self) -> String {
        let close = if self.keep_alive {
            ""
        } else {
            " -H 'Connection: close'"
        };
        let script = match &self.script {
            Some(path) => format!(" -s {}", path.display()),
            None => String::new(),
        };
        format!(
            "wrk --latency -t{} -c{} -d{}s --timeout 5s{close}{script} http://127.0.0.1:{}/",
            self.threads, self.connections, self.seconds, self.port
        )
    }
}

/// A client (wrk, or the probe of [`crate::probe`]) started in the
/// background.
pub struct Running {
    name: &'static str,
    child: Child,
    pid_file: PathBuf,
    out_file: PathBuf,
}

pub fn start(host: &dyn Host, load: &Load, dir: &Path) -> Result<Running> {
    let running = start_client(host, "wrk", &load.command(), dir)?;
    // wrk connects at once; give its connections time to be up before the
    // caller starts disturbing the app.
    std::thread::sleep(std::time::Duration::from_millis(500));
    Ok(running)
}

/// Starts `command` in the background in `load.slice`, as the load is run:
/// its pid in `dir/NAME.pid`, all it prints in `dir/NAME.out`.
pub fn start_client(
    host: &dyn Host,
    name: &'static str,
    command: &str,
    dir: &Path,
) -> Result<Running> {
    let pid_file = dir.join(format!("{name}.pid"));
    let out_file = dir.join(format!("{name}.out"));
    host.ok(&format!(
        "mkdir -p {} && rm -f {} {}",
        dir.display(),
        pid_file.display(),
        out_file.display()
    ))?;
    let child = host.spawn(&format!(
        "echo $$ > {}; exec {} > {} 2>&1",
        pid_file.display(),
        in_scope("load.slice", command),
        out_file.display()
    ))?;
    Ok(Running {
        name,
        child,
        pid_file,
        out_file,
    })
}

impl Running {
    /// Stops wrk (SIGINT: it prints its report) and returns the report.
    pub fn stop(self, host: &dyn Host) -> Result<Report> {
        wrk::parse(&self.stop_text(host)?)
    }

    /// Stops the client with SIGINT and returns all it printed.
    /// A client that has ended already is not an error here: what it
    /// printed, or the lack of it, is what the caller reads.
    pub fn stop_text(self, host: &dyn Host) -> Result<String> {
        host.ok(&format!(
            "kill -INT $(cat {}) 2>/dev/null || true",
            self.pid_file.display()
        ))?;
        self.finish_text(host)
    }

    /// Waits for wrk's own end.
    pub fn finish(self, host: &dyn Host) -> Result<Report> {
        wrk::parse(&self.finish_text(host)?)
    }

    /// Waits for the client's own end and returns all it printed: wrk's
    /// report and what its script printed.
    pub fn finish_text(mut self, host: &dyn Host) -> Result<String> {
        self.child
            .wait()
            .with_context(|| format!("waiting for {}", self.name))?;
        host.read(&self.out_file)
    }
}

/// One load, to its end.
pub fn run(host: &dyn Host, load: &Load, dir: &Path) -> Result<Report> {
    start(host, load, dir)?.finish(host)
}

/// One load, to its end: all wrk printed.
pub fn run_text(host: &dyn Host, load: &Load, dir: &Path) -> Result<String> {
    start(host, load, dir)?.finish_text(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_connection_per_request_command() {
        let load = Load {
            connections: 32,
            threads: 2,
            keep_alive: false,
            seconds: 5,
            port: 3000,
            script: None,
        };
        assert_eq!(
            load.command(),
            "wrk --latency -t2 -c32 -d5s --timeout 5s -H 'Connection: close' http://127.0.0.1:3000/"
        );
    }

    #[test]
    fn passes_a_script_to_wrk() {
        let load = Load {
            connections: 32,
            threads: 2,
            keep_alive: true,
            seconds: 3,
            port: 3000,
            script: Some(PathBuf::from("/b/count.lua")),
        };
        assert_eq!(
            load.command(),
            "wrk --latency -t2 -c32 -d3s --timeout 5s -s /b/count.lua http://127.0.0.1:3000/"
        );
    }
}
