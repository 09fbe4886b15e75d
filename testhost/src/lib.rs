//! A real systemd booted as PID 1 in private namespaces over an overlay of `/`.
//!
//! ```no_run
//! let host = testhost::TestHost::boot("example");
//! host.write("/etc/systemd/system/hello.service", "[Service]\nExecStart=/bin/echo hello\n");
//! host.ok("systemctl daemon-reload && systemctl start hello");
//! host.wait_until("journalctl -u hello | grep -q hello", std::time::Duration::from_secs(10));
//! ```
//!
//! - Every box has its own PID, mount, network, UTS, IPC and cgroup
//!   namespaces: boxes run side by side (tests run in parallel) and may use
//!   the same unit names and ports. The loopback is up; target 127.0.0.1.
//! - Files go in with [`TestHost::write`]; the checkout and the cargo target
//!   directory are visible inside, read-only, at their own paths (for
//!   root: a home directory of mode 0700 keeps other users out, and a
//!   worker's private `/tmp` hides a checkout in `/tmp`).
//! - nodeunits' programs, as built beside the test (`nodeunits`,
//!   `nodeunits-helper`), are in [`BIN_DIR`] inside, where every user
//!   reaches them as if installed: run [`bin_dir!`]`/nodeunits`, whose units
//!   then point at [`BIN_DIR`]`/nodeunits-helper`. Files an app of another
//!   user runs go in with [`TestHost::write`], not from the checkout.
//! - Commands inside run as root with a clean environment (see
//!   [`TestHost::command`]), not the test's.
//! - A load generator: `let wrk = host.spawn("wrk -d5s http://127.0.0.1:8080/")`,
//!   then `wrk.wait_with_output()`. Power-off and [`TestHost::reboot`] kill
//!   whatever was started this way.
//! - The journal is written asynchronously: wait for a line with
//!   [`TestHost::wait_until`] rather than reading [`TestHost::journal`] once.
//! - Keep a TestHost in a local, not in a static: a static is never dropped,
//!   so its box outlives the test process (the next test run takes it down).
//!
//! Set `NODEUNITS_TEST_HOST=local` to run the tests against the machine's own
//! systemd when it is PID 1 instead (never in CI, where `CI=true` forces a box).

mod cgroups;
mod layout;
mod leftovers;
mod machine;
mod processes;
mod programs;
/// Reading wrk's report: requests served and failed, latency.
pub mod wrk;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub use layout::SEARCH_PATH;
use machine::Machine;

/// [`BIN_DIR`] as a literal, for `concat!(testhost::bin_dir!(), "/nodeunits")`.
#[macro_export]
macro_rules! bin_dir {
    () => {
        "/usr/local/lib/nodeunits-test/bin"
    };
}

/// Where a box has nodeunits' programs, readable and executable by every
/// user (on the machine's own systemd, they are copied there).
pub const BIN_DIR: &str = bin_dir!();

/// The variable that points the tests at the machine's own systemd.
pub const HOST_VARIABLE: &str = "NODEUNITS_TEST_HOST";

/// A systemd to run tests against: a box, or the machine's own systemd.
pub struct TestHost {
    machine: Option<Machine>,
}

impl TestHost {
    /// Boots a box. Panics with a reason that says what is missing (not root,
    /// no unshare, no overlayfs...) if it cannot, or the failed units if it
    /// boots degraded.
    pub fn boot(name: &str) -> TestHost {
        if uses_local_systemd() {
            programs::install_locally(&programs::built());
            return TestHost { machine: None };
        }
        TestHost {
            machine: Some(Machine::boot(name)),
        }
    }

    /// A command running `argv` inside (every namespace of the box), with a
    /// clean environment (PATH, HOME=/root, LANG=C.UTF-8). Add to it freely.
    pub fn command(&self, argv: &[&str]) -> Command {
        let mut command = match &self.machine {
            Some(machine) => machine.command(argv),
            None => {
                let mut command = Command::new(argv[0]);
                command.args(&argv[1..]);
                command
            }
        };
        command
            .env_clear()
            .env("PATH", layout::SEARCH_PATH)
            .env("HOME", "/root")
            .env("LANG", "C.UTF-8")
            .env("SYSTEMD_PAGER", "")
            .env("SYSTEMD_COLORS", "0");
        for passed in ["RUST_BACKTRACE", "RUST_LOG"] {
            if let Ok(value) = std::env::var(passed) {
                command.env(passed, value);
            }
        }
        command
    }

    /// Runs `sh -c script` inside, returns the Output.
    pub fn sh(&self, script: &str) -> Output {
        self.command(&["sh", "-c", script])
            .stdin(Stdio::null())
            .output()
            .expect("testhost: cannot run a command inside the box")
    }

    /// Like `sh`, but panics (showing the script, stdout and stderr) unless it
    /// succeeds; returns stdout.
    pub fn ok(&self, script: &str) -> String {
        let output = self.sh(script);
        if !output.status.success() {
            panic!(
                "testhost: {} inside the box:\n{}",
                output.status,
                describe(script, &output)
            );
        }
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Starts `sh -c script` inside without waiting (for load generators),
    /// stdout and stderr piped: collect them with `wait_with_output` (a
    /// command writing more than a pipe holds blocks until they are read).
    /// Returns once the command is inside; a box powering off ends it.
    pub fn spawn(&self, script: &str) -> Child {
        let mut child = self
            .command(&["sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("testhost: cannot start a command inside the box");
        // Once nsenter has forked it, the command is in the box, where a
        // power-off right after finds and ends it.
        if self.machine.is_some() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while processes::child_of(child.id() as i32).is_none() && Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                sleep(Duration::from_millis(2));
            }
        }
        child
    }

    /// Runs `script` inside until it succeeds; returns its stdout. Panics
    /// with its last output after `timeout`.
    pub fn wait_until(&self, script: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let output = self.sh(script);
            if output.status.success() {
                return String::from_utf8_lossy(&output.stdout).into_owned();
            }
            if Instant::now() > deadline {
                panic!(
                    "testhost: still failing after {timeout:?} inside the box:\n{}",
                    describe(script, &output)
                );
            }
            sleep(Duration::from_millis(50));
        }
    }

    /// Writes a file inside (path as seen inside), making its directory.
    /// Takes text or bytes.
    pub fn write(&self, path: &str, contents: impl AsRef<[u8]>) {
        let script = "mkdir -p \"$(dirname \"$1\")\" && cat >\"$1\"";
        let mut child = self
            .command(&["sh", "-c", script, "sh", path])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("testhost: cannot write inside the box");
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin
            .write_all(contents.as_ref())
            .unwrap_or_else(|e| panic!("testhost: cannot write {path} inside the box: {e}"));
        drop(stdin);
        let output = child
            .wait_with_output()
            .expect("testhost: wait for the write");
        if !output.status.success() {
            panic!(
                "testhost: cannot write {path} inside the box:\n{}",
                describe(script, &output)
            );
        }
    }

    /// Reads a file inside (path as seen inside).
    pub fn read(&self, path: &str) -> String {
        let output = self
            .command(&["cat", "--", path])
            .output()
            .expect("testhost: run cat");
        if !output.status.success() {
            panic!(
                "testhost: cannot read {path} inside the box:\n{}",
                describe("cat", &output)
            );
        }
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Powers off and boots again, keeping /etc, /var and every other change
    /// to the box's files (not /run, /tmp). Panics on the machine's own systemd.
    pub fn reboot(&mut self) {
        match &mut self.machine {
            Some(machine) => machine.reboot(),
            None => {
                panic!("testhost: reboot() needs a box; unset {HOST_VARIABLE} to run this test")
            }
        }
    }

    /// The journal of a unit inside (`journalctl -u UNIT --no-pager -o cat`).
    pub fn journal(&self, unit: &str) -> String {
        let output = self
            .command(&["journalctl", "-u", unit, "--no-pager", "-o", "cat"])
            .output()
            .expect("testhost: run journalctl");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The host PID of the box's PID 1 (None on the machine's own systemd).
    pub fn pid1(&self) -> Option<u32> {
        self.machine.as_ref().map(Machine::pid1)
    }

    /// The directory on the machine holding the box's overlay and console log.
    pub fn state_dir(&self) -> Option<&Path> {
        self.machine.as_ref().map(Machine::state_dir)
    }

    /// The box's cgroup directories on the machine, one per hierarchy.
    pub fn cgroup_dirs(&self) -> Vec<PathBuf> {
        self.machine
            .as_ref()
            .map(|m| m.cgroup_dirs().to_vec())
            .unwrap_or_default()
    }
}

/// Takes down boxes left by test processes that died without dropping them
/// (killed, or a TestHost kept in a static, which is never dropped). The
/// first boot of every test process does this too.
pub fn take_down_orphaned_boxes() {
    match cgroups::hierarchies() {
        Ok(hierarchies) => machine::take_down_orphans(&hierarchies),
        Err(e) => panic!("testhost: {e}"),
    }
}

/// True when the tests should use the machine's own systemd: asked for with
/// NODEUNITS_TEST_HOST=local, never in CI. Panics if asked for but systemd
/// is not PID 1.
fn uses_local_systemd() -> bool {
    if std::env::var(HOST_VARIABLE).as_deref() != Ok("local") {
        return false;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        eprintln!("testhost: CI=true: ignoring {HOST_VARIABLE}=local, booting a box");
        return false;
    }
    let pid1 = std::fs::read_to_string("/proc/1/comm").unwrap_or_default();
    if pid1.trim() != "systemd" {
        panic!(
            "testhost: {HOST_VARIABLE}=local but PID 1 is {:?}, not systemd; unset it to boot a box",
            pid1.trim()
        );
    }
    true
}

fn describe(script: &str, output: &Output) -> String {
    format!(
        "--- script\n{script}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
