//! One box: systemd as PID 1 in private namespaces, its root an overlay of
//! `/` whose upper directory lives on a tmpfs owned by this process, so it
//! survives power-off and the next boot finds /etc and /var as they were.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cgroups::{self, BoxCgroups, Hierarchy};
use crate::layout::{host_name, preflight, shared_directories, MASKED_UNITS, SEARCH_PATH};
use crate::leftovers;
use crate::processes::{
    child_of, continue_stopped_nsenters, end_entered_commands, exits_within, is_systemd,
};
use crate::programs::{self, Program};

const BOOT_SCRIPT: &str = include_str!("boot.sh");
const STATE_ROOT: &str = "/run/nodeunits-testhost";
const BOOT_TIMEOUT: Duration = Duration::from_secs(60);
const POWER_OFF_TIMEOUT: Duration = Duration::from_secs(30);

/// Moves the command into the box's root cgroup (so it is inside the box by
/// every measure), then runs it.
const JOIN_BOX_CGROUPS: &str = concat!(
    "for procs in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs; do ",
    "echo $$ 2>/dev/null >\"$procs\" || true; done; exec \"$@\"",
);

static BOXES_BOOTED: AtomicU32 = AtomicU32::new(0);
static ORPHANS_REMOVED: Once = Once::new();

pub(crate) struct Machine {
    name: String,
    cgroup_name: String,
    state: PathBuf,
    state_mounted: bool,
    hierarchies: Vec<Hierarchy>,
    cgroups: BoxCgroups,
    binds: Vec<PathBuf>,
    programs: Vec<Program>,
    /// `unshare`, the parent of the box's PID 1; it exits when the box does.
    unshare: Option<Child>,
    pid1: Option<u32>,
}

impl Machine {
    pub(crate) fn boot(name: &str) -> Machine {
        preflight();
        let hierarchies = cgroups::hierarchies().unwrap_or_else(|e| panic!("testhost: {e}"));
        ORPHANS_REMOVED.call_once(|| take_down_orphans(&hierarchies));
        let name = host_name(name);
        let state_name = format!(
            "{name}-{}-{}",
            std::process::id(),
            BOXES_BOOTED.fetch_add(1, Ordering::SeqCst)
        );
        let mut machine = Machine {
            state: Path::new(STATE_ROOT).join(&state_name),
            cgroup_name: leftovers::cgroup_name(&state_name),
            name,
            state_mounted: false,
            hierarchies,
            cgroups: BoxCgroups { dirs: Vec::new() },
            binds: shared_directories(),
            programs: programs::built(),
            unshare: None,
            pid1: None,
        };
        machine.make_state();
        machine.start();
        machine
    }

    pub(crate) fn pid1(&self) -> u32 {
        self.pid1.expect("the box is running")
    }

    pub(crate) fn state_dir(&self) -> &Path {
        &self.state
    }

    pub(crate) fn cgroup_dirs(&self) -> &[PathBuf] {
        &self.cgroups.dirs
    }

    /// `argv` run inside every namespace of the box.
    pub(crate) fn command(&self, argv: &[&str]) -> Command {
        let mut command = Command::new("nsenter");
        command
            .args(["--target", &self.pid1().to_string(), "--all", "--"])
            .args(["sh", "-c", JOIN_BOX_CGROUPS, "testhost-enter"])
            .args(argv);
        command
    }

    pub(crate) fn reboot(&mut self) {
        if let Err(e) = self.power_off() {
            panic!("testhost: reboot of {}: {e}", self.name);
        }
        self.start();
    }

    /// The tmpfs holding the overlay's upper and work directories.
    fn make_state(&mut self) {
        let fail = |what: &str, e: &dyn std::fmt::Display| -> ! {
            panic!("testhost: cannot {what} {}: {e}", self.state.display())
        };
        fs::create_dir_all(&self.state).unwrap_or_else(|e| fail("create", &e));
        mount(
            Some("tmpfs"),
            &self.state,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=700"),
        )
        .unwrap_or_else(|e| fail("mount a tmpfs on", &e));
        self.state_mounted = true;
        for dir in ["upper", "work", "root"] {
            fs::create_dir(self.state.join(dir)).unwrap_or_else(|e| fail("fill", &e));
        }
        fs::write(self.state.join("boot.sh"), BOOT_SCRIPT).unwrap_or_else(|e| fail("fill", &e));
        fs::write(
            self.state.join(leftovers::OWNER_NAMESPACE_FILE),
            leftovers::own_pid_namespace(),
        )
        .unwrap_or_else(|e| fail("fill", &e));
    }

    fn start(&mut self) {
        self.cgroups = BoxCgroups::create(&self.hierarchies, &self.cgroup_name)
            .unwrap_or_else(|e| panic!("testhost: {e}"));
        let console = self.state.join("console.log");
        let log = File::create(&console).expect("testhost: create console.log");
        let child = Command::new("sh")
            .arg(self.state.join("boot.sh"))
            .arg("enter")
            .env_clear()
            .env("PATH", SEARCH_PATH)
            .env("TESTHOST_NAME", &self.name)
            .env("TESTHOST_STATE", &self.state)
            .env("TESTHOST_CGROUPS", lines(&self.cgroups.dirs))
            .env("TESTHOST_HIERARCHIES", hierarchy_lines(&self.hierarchies))
            .env("TESTHOST_BINDS", lines(&self.binds))
            .env("TESTHOST_PROGRAMS", programs::lines(&self.programs))
            .env("TESTHOST_MASK", MASKED_UNITS.join(" "))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("testhost: console.log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("testhost: cannot run sh to boot the box: {e}"));
        let unshare_pid = child.id() as i32;
        self.unshare = Some(child);
        self.pid1 = Some(self.wait_for_systemd(unshare_pid));
        self.wait_until_running();
    }

    fn console_log(&self) -> String {
        fs::read_to_string(self.state.join("console.log")).unwrap_or_default()
    }

    /// The host PID of the box's PID 1 once it has become systemd.
    fn wait_for_systemd(&mut self, unshare_pid: i32) -> u32 {
        let deadline = Instant::now() + BOOT_TIMEOUT;
        loop {
            let exited = self
                .unshare
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                panic!(
                    "testhost: box {} did not boot ({status}); its console:\n{}",
                    self.name,
                    self.console_log()
                );
            }
            if let Some(pid) = child_of(unshare_pid).filter(|&pid| is_systemd(pid)) {
                return pid as u32;
            }
            if Instant::now() > deadline {
                panic!(
                    "testhost: box {} did not start systemd within {BOOT_TIMEOUT:?}; its console:\n{}",
                    self.name,
                    self.console_log()
                );
            }
            sleep(Duration::from_millis(5));
        }
    }

    fn inside(&self, argv: &[&str]) -> Output {
        self.command(argv)
            .env_clear()
            .env("PATH", SEARCH_PATH)
            .stdin(Stdio::null())
            .output()
            .expect("testhost: run nsenter")
    }

    fn wait_until_running(&self) {
        let deadline = Instant::now() + BOOT_TIMEOUT;
        loop {
            let state = self.inside(&["systemctl", "is-system-running", "--wait"]);
            let state = String::from_utf8_lossy(&state.stdout).trim().to_string();
            match state.as_str() {
                "running" => return,
                "degraded" => panic!(
                    "testhost: box {} booted degraded; failed units:\n{}",
                    self.name,
                    self.failed_units()
                ),
                // The manager's private bus is not listening yet.
                _ if Instant::now() < deadline => sleep(Duration::from_millis(10)),
                _ => panic!(
                    "testhost: box {} is {state:?}, not running, after {BOOT_TIMEOUT:?}; its console:\n{}",
                    self.name,
                    self.console_log()
                ),
            }
        }
    }

    fn failed_units(&self) -> String {
        let script = "for unit in $(systemctl --failed --plain --no-legend | cut -d' ' -f1); do \
                      echo \"== $unit\"; journalctl -u \"$unit\" --no-pager -o cat -n 20; done";
        String::from_utf8_lossy(&self.inside(&["sh", "-c", script]).stdout).into_owned()
    }

    /// Asks PID 1 to power off and waits until the box's namespaces are gone.
    fn power_off(&mut self) -> Result<(), String> {
        let Some(mut unshare) = self.unshare.take() else {
            return Ok(());
        };
        let unshare_pid = unshare.id() as i32;
        // PID 1's PID is ours to signal only while unshare, its parent, has
        // not reaped it: after that the PID may be another process's.
        let still_up = |unshare: &mut Child| matches!(unshare.try_wait(), Ok(None));
        let pid1 = self
            .pid1
            .take()
            .map(|pid| pid as i32)
            .or_else(|| child_of(unshare_pid));
        if let Some(pid1) = pid1.filter(|&pid| still_up(&mut unshare) && is_systemd(pid)) {
            end_entered_commands(pid1);
            // SAFETY: kill(2) with a valid signal number touches no memory.
            unsafe { nix::libc::kill(pid1, nix::libc::SIGRTMIN() + 4) };
            let powered_off = exits_within(&mut unshare, POWER_OFF_TIMEOUT, || {
                continue_stopped_nsenters(pid1)
            });
            if !powered_off {
                eprintln!("testhost: box {} did not power off; killing it", self.name);
            }
        }
        // Killed before unshare, PID 1 is reaped by it; a killed unshare would
        // leave PID 1 a zombie for the machine's init.
        if let Some(pid1) = pid1.filter(|_| still_up(&mut unshare)) {
            let _ = kill(Pid::from_raw(pid1), Signal::SIGKILL);
        }
        if !exits_within(&mut unshare, Duration::from_secs(10), || ()) {
            let _ = unshare.kill();
            let _ = unshare.wait();
        }
        self.cgroups.remove()
    }

    fn unmount_state(&mut self) -> Result<(), String> {
        if self.state_mounted {
            umount2(&self.state, MntFlags::empty())
                .or_else(|_| umount2(&self.state, MntFlags::MNT_DETACH))
                .map_err(|e| format!("cannot unmount {}: {e}", self.state.display()))?;
            self.state_mounted = false;
        }
        match fs::remove_dir(&self.state) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(format!("cannot remove {}: {e}", self.state.display()))
            }
            _ => Ok(()),
        }
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let results = [self.power_off(), self.unmount_state()];
        for e in results.into_iter().filter_map(Result::err) {
            eprintln!("testhost: cleaning up box {}: {e}", self.name);
        }
    }
}

/// Takes down the boxes of test processes that died without dropping them.
pub(crate) fn take_down_orphans(hierarchies: &[Hierarchy]) {
    leftovers::remove_orphaned_boxes(Path::new(STATE_ROOT), hierarchies);
}

fn lines(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| format!("{}\n", p.display())).collect()
}

fn hierarchy_lines(hierarchies: &[Hierarchy]) -> String {
    hierarchies
        .iter()
        .map(|h| format!("{} {} {}\n", h.dir, h.fstype, h.options))
        .collect()
}
