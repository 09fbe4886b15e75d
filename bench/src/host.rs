//! Where the benchmark runs things: test host boxes (real systemd as PID 1,
//! their own network, PID and mount namespaces), so PM2's daemon never runs
//! on the machine and ports never collide.

use std::path::Path;
use std::process::{Child, Output};

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
