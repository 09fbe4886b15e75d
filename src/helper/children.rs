//! The app's processes, below the helper (their subreaper): reaping them,
//! signalling them all, waiting for them to end.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::proc_tree;
use super::worker::Ending;

/// How long the app's leftover processes get between SIGTERM and SIGKILL.
const LEFTOVER_GRACE: Duration = Duration::from_secs(2);

/// Reaps every exited child (the helper is their subreaper); returns how
/// the app ended if it did.
pub fn reap(app: Pid) -> Option<Ending> {
    reap_all()
        .into_iter()
        .find_map(|(pid, ending)| (pid == app).then_some(ending))
}

/// Reaps every exited child; returns each with how it ended.
pub fn reap_all() -> Vec<(Pid, Ending)> {
    let mut ended = Vec::new();
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => ended.push((pid, Ending::Exited(code))),
            Ok(WaitStatus::Signaled(pid, signal, _)) => ended.push((pid, Ending::Killed(signal))),
            Ok(WaitStatus::StillAlive) | Err(_) => return ended,
            Ok(_) => {}
        }
    }
}

/// `pid` and the processes below it now.
pub fn subtree(pid: Pid) -> Vec<Pid> {
    std::iter::once(pid)
        .chain(
            proc_tree::descendants_of(pid.as_raw())
                .into_iter()
                .map(Pid::from_raw),
        )
        .collect()
}

/// Whether any of `pids` still runs (a zombie not yet reaped counts).
pub fn any_alive(pids: &[Pid]) -> bool {
    pids.iter().any(|&pid| kill(pid, None).is_ok())
}

/// Sends `signal` to every process below the helper.
pub fn kill_tree(signal: Signal) {
    for pid in proc_tree::descendants_of(nix::unistd::getpid().as_raw()) {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

/// Reaps the processes below the helper until none is left (true) or the
/// deadline passes (false).
pub fn wait_for_tree(signals: &SignalFd, deadline: Instant) -> bool {
    loop {
        reap(Pid::from_raw(0));
        if proc_tree::descendants_of(nix::unistd::getpid().as_raw()).is_empty() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        let mut fds = [PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::from(100u16));
        while let Ok(Some(_)) = signals.read_signal() {}
    }
}

/// The app is gone: its leftover processes, reparented to the helper, get
/// SIGTERM, then SIGKILL, and are reaped.
pub fn finish_leftovers(signals: &SignalFd) {
    // Processes that have just exited are still listed until reaped.
    reap(Pid::from_raw(0));
    if proc_tree::descendants_of(nix::unistd::getpid().as_raw()).is_empty() {
        return;
    }
    tracing::info!("stopping the processes the app left behind");
    kill_tree(Signal::SIGTERM);
    if wait_for_tree(signals, Instant::now() + LEFTOVER_GRACE) {
        return;
    }
    kill_tree(Signal::SIGKILL);
    std::thread::sleep(Duration::from_millis(50));
    reap(Pid::from_raw(0));
}
