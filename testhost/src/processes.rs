//! The box's processes as the machine sees them in /proc.
//!
//! Commands run through nsenter need care at power-off. systemd-shutdown
//! SIGSTOPs every process of the box before it kills them; nsenter, outside
//! the box, then stops itself too and never reaps its child; and shutdown
//! waits for processes that are not its children by polling, up to 10 s per
//! round. So the commands are ended before power-off, and nsenters that
//! stopped anyway are resumed.

use std::fs;
use std::path::Path;
use std::process::Child;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The only child of `pid` (unshare's child is the box's PID 1).
pub(crate) fn child_of(pid: i32) -> Option<i32> {
    let children = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

pub(crate) fn is_systemd(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "systemd")
}

/// Kills the processes nsenter started in the box of `pid1` (those whose
/// parent is outside the box) and waits, up to 2 s, until they are reaped.
/// Their own children fall to the box's PID 1, which ends them as usual.
pub(crate) fn end_entered_commands(pid1: i32) {
    let Ok(box_ns) = fs::read_link(format!("/proc/{pid1}/ns/pid")) else {
        return;
    };
    let entered: Vec<i32> = pids()
        .filter(|&pid| pid != pid1)
        .filter(|&pid| fs::read_link(format!("/proc/{pid}/ns/pid")).is_ok_and(|ns| ns == box_ns))
        .filter(|&pid| {
            let parent = status_field(pid, "PPid:").parse::<i32>().unwrap_or(0);
            fs::read_link(format!("/proc/{parent}/ns/pid")).map_or(true, |ns| ns != box_ns)
        })
        .collect();
    for &pid in &entered {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while entered
        .iter()
        .any(|pid| Path::new(&format!("/proc/{pid}")).exists())
        && Instant::now() < deadline
    {
        continue_stopped_nsenters(pid1);
        sleep(Duration::from_millis(5));
    }
}

/// Resumes this process's nsenter children into the box of `pid1` that
/// stopped themselves.
pub(crate) fn continue_stopped_nsenters(pid1: i32) {
    let me = std::process::id().to_string();
    let target = format!("\0--target\0{pid1}\0");
    for pid in pids() {
        if status_field(pid, "Name:") != "nsenter"
            || status_field(pid, "PPid:") != me
            || !status_field(pid, "State:").starts_with('T')
        {
            continue;
        }
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&target) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGCONT);
        }
    }
}

/// Waits for `child` to exit, calling `meanwhile` every 10 ms.
pub(crate) fn exits_within(
    child: &mut Child,
    timeout: Duration,
    mut meanwhile: impl FnMut(),
) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() < deadline => {
                meanwhile();
                sleep(Duration::from_millis(10));
            }
            Ok(None) => return false,
        }
    }
}

fn pids() -> impl Iterator<Item = i32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
}

fn status_field(pid: i32, name: &str) -> String {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| {
            line.strip_prefix(name)
                .map(|value| value.trim().to_string())
        })
        .unwrap_or_default()
}
