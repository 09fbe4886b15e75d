//! One box: systemd as PID 1 in private namespaces, its root an overlay of
//! `/` whose upper directory lives on a tmpfs owned by this process, so it
//! survives power-off and the next boot finds /etc and /var as they were.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cgroups::{self, BoxCgroups, Hierarchy};
use crate::processes::{
    child_of, continue_stopped_nsenters, end_entered_commands, exits_within, is_systemd,
};

const BOOT_SCRIPT: &str = include_str!("boot.sh");
const STATE_ROOT: &str = "/run/nodeunits-testhost";
const SYSTEMD: &str = "/usr/lib/systemd/systemd";
const BOOT_TIMEOUT: Duration = Duration::from_secs(60);
const POWER_OFF_TIMEOUT: Duration = Duration::from_secs(30);

/// Units that touch hardware, the network, the kernel or the consoles.
const MASKED_UNITS: &[&str] = &[
    "systemd-networkd.service",
    "systemd-networkd.socket",
    "systemd-networkd-wait-online.service",
    "systemd-network-generator.service",
    "systemd-resolved.service",
    "systemd-timesyncd.service",
    "systemd-udevd.service",
    "systemd-udevd-control.socket",
    "systemd-udevd-kernel.socket",
    "systemd-udev-trigger.service",
    "systemd-udev-settle.service",
    "systemd-modules-load.service",
    "proc-sys-fs-binfmt_misc.automount",
    "systemd-binfmt.service",
    "getty@.service",
    "serial-getty@.service",
    "console-getty.service",
    "container-getty@.service",
    "getty-static.service",
    "dev-hugepages.mount",
    "sys-kernel-debug.mount",
    "sys-kernel-tracing.mount",
    "sys-kernel-config.mount",
    "sys-fs-fuse-connections.mount",
];

/// Moves the command into the box's root cgroup (so it is inside the box by
/// every measure), then runs it.
const JOIN_BOX_CGROUPS: &str =
    "for procs in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs; do \
                                echo $$ 2>/dev/null >\"$procs\" || true; done; exec \"$@\"";

static BOXES_BOOTED: AtomicU32 = AtomicU32::new(0);

pub(crate) struct Machine {
    name: String,
    leaf: String,
    state: PathBuf,
    state_mounted: bool,
    hierarchies: Vec<Hierarchy>,
    cgroups: BoxCgroups,
    binds: Vec<PathBuf>,
    /// `unshare`, the parent of the box's PID 1; it exits when the box does.
    unshare: Option<Child>,
    pid1: Option<u32>,
}

impl Machine {
    pub(crate) fn boot(name: &str) -> Machine {
        preflight();
        let name = host_name(name);
        let leaf = format!(
            "{name}-{}-{}",
            std::process::id(),
            BOXES_BOOTED.fetch_add(1, Ordering::SeqCst)
        );
        let mut machine = Machine {
            state: Path::new(STATE_ROOT).join(&leaf),
            leaf: format!("nodeunits-testhost-{leaf}"),
            name,
            state_mounted: false,
            hierarchies: cgroups::hierarchies().unwrap_or_else(|e| panic!("testhost: {e}")),
            cgroups: BoxCgroups { dirs: Vec::new() },
            binds: shared_directories(),
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
    }

    fn start(&mut self) {
        self.cgroups = BoxCgroups::create(&self.hierarchies, &self.leaf)
            .unwrap_or_else(|e| panic!("testhost: {e}"));
        let console = self.state.join("console.log");
        let log = File::create(&console).expect("testhost: create console.log");
        let child = Command::new("sh")
            .arg(self.state.join("boot.sh"))
            .arg("enter")
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("TESTHOST_NAME", &self.name)
            .env("TESTHOST_STATE", &self.state)
            .env("TESTHOST_CGROUPS", lines(&self.cgroups.dirs))
            .env("TESTHOST_HIERARCHIES", hierarchy_lines(&self.hierarchies))
            .env("TESTHOST_BINDS", lines(&self.binds))
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
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
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
        // Killed first, PID 1 leaves unshare to reap it; a killed unshare
        // would leave a zombie to the machine's init.
        let pid1 = self
            .pid1
            .take()
            .map(|pid| pid as i32)
            .or_else(|| child_of(unshare_pid));
        if let Some(pid1) = pid1.filter(|&pid| is_systemd(pid)) {
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
        if let Some(pid1) = pid1 {
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

/// Panics saying what this machine lacks to boot a box.
fn preflight() {
    if !nix::unistd::geteuid().is_root() {
        panic!("testhost: booting a systemd test host needs root (run the tests with sudo)");
    }
    for tool in ["unshare", "nsenter", "pivot_root", "mount"] {
        let found =
            std::env::split_paths("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
                .any(|dir| dir.join(tool).exists());
        if !found {
            panic!("testhost: `{tool}` is missing (install util-linux)");
        }
    }
    let filesystems = fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if !filesystems.lines().any(|l| l.ends_with("\toverlay")) {
        panic!("testhost: the kernel has no overlayfs (try `modprobe overlay`)");
    }
    if !Path::new(SYSTEMD).exists() {
        panic!("testhost: {SYSTEMD} is missing (install systemd)");
    }
}

/// The box's host name: `name` with anything but letters, digits and '-' made '-'.
fn host_name(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    if name.is_empty() {
        "box".to_string()
    } else {
        name
    }
}

/// The checkout and the cargo target directory, shown inside at the same
/// paths so `env!("CARGO_BIN_EXE_...")` works in the box.
fn shared_directories() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        let checkout = cwd
            .ancestors()
            .find(|d| d.join("Cargo.lock").exists())
            .unwrap_or(&cwd);
        dirs.push(checkout.to_path_buf());
    }
    if let Ok(exe) = std::env::current_exe() {
        let target = exe.ancestors().find(|d| d.join("CACHEDIR.TAG").exists());
        if let Some(target) = target.or_else(|| exe.ancestors().nth(3)) {
            if !dirs.iter().any(|d| target.starts_with(d)) {
                dirs.push(target.to_path_buf());
            }
        }
    }
    dirs
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
