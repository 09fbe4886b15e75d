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
    let mut ending = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == app => ending = Some(Ending::Exited(code)),
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == app => {
                ending = Some(Ending::Killed(signal))
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return ending,
            Ok(_) => {}
        }
    }
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
