//! Where the benchmark runs things: test host boxes (real systemd as PID 1,
//! their own network, PID and mount namespaces), so PM2's and Oxmgr's daemons never run
//! on the machine and ports never collide.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Output, Stdio};

use anyhow::{bail, Context, Result};

/// `command` run in a scope of its own in `slice` of the box's systemd.
///
/// Every box has systemd as PID 1, and nodeunits' workers are units of its:
/// cgroups of their own under `system.slice`. Run straight from the
/// runner, wrk, PM2 and bare node would be plain processes of the box's root
/// cgroup, where the kernel weighs each of them against `system.slice` as a
/// whole, and how much CPU the load took from the server side would depend
/// on the supervisor's cgroups. So the load runs in `load.slice`, and PM2,
/// Oxmgr and bare node in a scope under `system.slice` (as PM2 runs under
/// its `pm2 startup` unit): the load and the server side weigh the same in
/// every setup. `systemd-run --scope` runs the command in its own process,
/// so a pid taken before (`echo $$; exec …`) is still the command's.
pub fn in_scope(slice: &str, command: &str) -> String {
    format!("systemd-run --quiet --scope --collect --slice={slice} -- {command}")
}

/// What the measurements need from a box.
pub trait Host {
    /// Runs a shell script in the box and returns what it did, failed or not.
    fn sh(&self, script: &str) -> Result<Output>;
    /// Starts a shell script in the box without waiting for it.
    fn spawn(&self, script: &str) -> Result<Child>;

    /// Runs a shell script that must succeed; returns its stdout.
    fn ok(&self, script: &str) -> Result<String> {
        let output = self.sh(script)?;
        if !output.status.success() {
            bail!(
                "in the box, `{script}` failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn write(&self, path: &Path, contents: &str) -> Result<()>;
    fn read(&self, path: &Path) -> Result<String>;
    /// Copies a program of the machine to `inside`, a path of the box's own
    /// (mode 0755): the box sees the machine's files only where its overlay
    /// shows them, and not in `/tmp`.
    fn install(&self, program: &Path, inside: &Path) -> Result<()>;
}

/// A box with systemd as PID 1: the test host of nodeunits' integration tests.
/// Only booting may panic; every command's failure is an error to report.
impl Host for testhost::TestHost {
    fn sh(&self, script: &str) -> Result<Output> {
        self.command(&["sh", "-c", script])
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("could not run `{script}` in the box"))
    }

    fn spawn(&self, script: &str) -> Result<Child> {
        self.command(&["sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("could not start `{script}` in the box"))
    }

    fn write(&self, path: &Path, contents: &str) -> Result<()> {
        write_bytes(self, path, contents.as_bytes(), None)
    }

    fn read(&self, path: &Path) -> Result<String> {
        Host::ok(self, &format!("cat -- '{}'", utf8(path)?))
    }

    fn install(&self, program: &Path, inside: &Path) -> Result<()> {
        let bytes = std::fs::read(program)
            .with_context(|| format!("reading {} on the machine", program.display()))?;
        write_bytes(self, inside, &bytes, Some("0755"))
    }
}

/// Writes `contents` to `path` in the box, creating its directory, and sets
/// its mode if told.
fn write_bytes(
    host: &testhost::TestHost,
    path: &Path,
    contents: &[u8],
    mode: Option<&str>,
) -> Result<()> {
    let path = utf8(path)?;
    let chmod = mode.map_or(String::new(), |mode| format!(" && chmod {mode} \"$1\""));
    let script = format!("mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\"{chmod}");
    let mut child = host
        .command(&["sh", "-c", &script, "sh", path])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not write {path} in the box"))?;
    child
        .stdin
        .take()
        .context("stdin is piped")?
        .write_all(contents)
        .with_context(|| format!("writing {path} in the box"))?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "could not write {path} in the box: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn utf8(path: &Path) -> Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))
}
