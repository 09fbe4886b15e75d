//! Where the benchmark runs things: a box with its own network and process
//! namespaces, so the supervisors' daemons never run on the real machine and
//! ports never collide.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

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
}

/// A box for a supervisor that needs no systemd (PM2, bare node): private
/// network, PID and mount namespaces around a placeholder PID 1. Dropping it
/// kills that PID 1, and with it everything started inside.
pub struct Sandbox {
    unshare: Child,
    init_pid: u32,
}

impl Sandbox {
    pub fn boot() -> Result<Sandbox> {
        let unshare = Command::new("unshare")
            .args(["--net", "--pid", "--mount", "--fork", "--mount-proc"])
            .args(["--kill-child", "sh", "-c"])
            .arg("ip link set lo up && exec sleep infinity")
            .stdin(Stdio::null())
            .spawn()
            .context("could not run unshare to make the benchmark's box (util-linux, root)")?;
        let mut sandbox = Sandbox {
            init_pid: 0,
            unshare,
        };
        let children = format!("/proc/{0}/task/{0}/children", sandbox.unshare.id());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(pid) = fs::read_to_string(&children)
                .ok()
                .and_then(|text| text.split_whitespace().next()?.parse().ok())
            {
                let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                if comm.trim() == "sleep" {
                    sandbox.init_pid = pid;
                    return Ok(sandbox);
                }
            }
            if let Some(status) = sandbox.unshare.try_wait()? {
                bail!("the benchmark's box did not come up: unshare exited with {status}");
            }
            sleep(Duration::from_millis(20));
        }
        bail!("the benchmark's box did not come up within 10 s")
    }

    fn command(&self, script: &str) -> Command {
        let mut command = Command::new("nsenter");
        command
            .args([
                "-t",
                &self.init_pid.to_string(),
                "--net",
                "--pid",
                "--mount",
            ])
            .args(["--", "sh", "-c", script])
            .stdin(Stdio::null());
        command
    }
}

impl Host for Sandbox {
    fn sh(&self, script: &str) -> Result<Output> {
        self.command(script)
            .output()
            .with_context(|| format!("could not run `{script}` in the box"))
    }

    fn spawn(&self, script: &str) -> Result<Child> {
        self.command(script)
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("could not start `{script}` in the box"))
    }

    fn write(&self, path: &Path, contents: &str) -> Result<()> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
    }

    fn read(&self, path: &Path) -> Result<String> {
        fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if self.init_pid != 0 {
            let _ = Command::new("kill")
                .args(["-KILL", &self.init_pid.to_string()])
                .status();
        }
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
    }
}

/// A box with systemd as PID 1: the test host of nodeunits' integration tests.
impl Host for testhost::TestHost {
    fn sh(&self, script: &str) -> Result<Output> {
        Ok(testhost::TestHost::sh(self, script))
    }

    fn spawn(&self, script: &str) -> Result<Child> {
        Ok(testhost::TestHost::spawn(self, script))
    }

    fn write(&self, path: &Path, contents: &str) -> Result<()> {
        testhost::TestHost::write(self, &utf8(path)?, contents);
        Ok(())
    }

    fn read(&self, path: &Path) -> Result<String> {
        Ok(testhost::TestHost::read(self, &utf8(path)?))
    }
}

fn utf8(path: &Path) -> Result<String> {
    path.to_str()
        .map(str::to_owned)
        .with_context(|| format!("{} is not UTF-8", path.display()))
}
