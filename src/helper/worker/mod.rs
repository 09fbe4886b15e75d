//! The running worker: one poll loop over the signals and the app's IPC
//! channel, with timers for the memory watch and the drain deadline.

/// The poll loop.
mod event_loop;

use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use sd_notify::NotifyState;

use super::children::kill_tree;
use super::ipc::{read_stream, send_shutdown, LineBuffer, Message};
use super::launch::Recipe;
use super::memory_lock::MemoryLock;
use super::memory_watch::MemoryWatch;
use super::proc_tree;
use super::readiness::{PortTaken, Readiness, ReadyWhen};
use super::replace::Replacement;
use super::shared_ports::SharedPorts;
use super::state::{State, StateFile};
pub use event_loop::run;

/// Why the worker is going away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// systemd (or someone) sent this stop signal.
    Signal(Signal),
    Memory,
    /// The app's event loop stopped turning (`--unresponsive-timeout`).
    Unresponsive,
}

/// How the worker ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ending: Ending,
    pub stop: Option<StopReason>,
    /// The app outlived kill_timeout and was killed.
    pub killed: bool,
    /// A port the app found taken and did not listen on after.
    pub port_taken: Option<PortTaken>,
}

/// How the app ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    Killed(Signal),
}

pub struct Worker {
    pub app: Pid,
    /// The app runs under a launcher (npm, npx…): a stop signals the whole
    /// tree, as PM2's treekill, and waits for all of it.
    pub launcher: bool,
    /// Under a launcher: the processes whose preload took the channel, the
    /// ones that serve.
    pub serving: Vec<Pid>,
    pub channel: Option<UnixStream>,
    pub ready_when: ReadyWhen,
    pub shutdown_with_message: bool,
    /// kill_timeout: systemd SIGKILLs the unit at TimeoutStopSec=, the same
    /// value, and marks it failed.
    pub kill_timeout: Duration,
    pub memory: Option<MemoryWatch>,
    /// The lock a memory restart of this instance took, released once ready.
    pub restart_lock: Option<MemoryLock>,
    /// What `nodeunits-helper probe` reads.
    pub state: Option<StateFile>,
    /// Every stop signal reaches the app as this one, when set.
    pub drain_signal: Option<Signal>,
    /// How the app starts, for a successor.
    pub recipe: Recipe,
    /// How long a successor has to be ready.
    pub listen_timeout: Duration,
    pub replacement: Replacement,
    /// The sockets of ports in the app's code (`--share-ports`).
    pub ports: SharedPorts,
    /// How long the app's event loop may go without a beat.
    pub unresponsive: Option<Duration>,
}

pub fn notify(states: &[NotifyState]) {
    if let Err(error) = sd_notify::notify(states) {
        tracing::debug!("sd_notify: {error}");
    }
}

/// How long the app may drain: up to kill_timeout less a margin, so that the
/// helper kills what is left and exits before systemd's own SIGKILL, and the
/// stop ends cleanly.
pub fn drain_time(kill_timeout: Duration) -> Duration {
    kill_timeout - (kill_timeout / 4).min(Duration::from_millis(500))
}

fn become_ready(worker: &mut Worker, readiness: &mut Readiness) {
    readiness.set_ready();
    worker.ports.ready();
    tracing::info!("ready");
    notify(&[NotifyState::Ready, NotifyState::Status("ready")]);
    record(worker, State::Ready);
    release_restart_lock(worker);
}

/// The readiness of an app process starting now.
fn readiness_from_now(when: ReadyWhen, launcher: bool) -> Readiness {
    let readiness = Readiness::new(when, Instant::now());
    if launcher {
        readiness.under_launcher()
    } else {
        readiness
    }
}

fn record(worker: &Worker, state: State) {
    if let Some(file) = &worker.state {
        file.write(state);
    }
}

fn release_restart_lock(worker: &mut Worker) {
    if let Some(lock) = worker.restart_lock.take() {
        lock.release();
    }
}

fn forward(app: Pid, signal: Signal) {
    if let Err(error) = kill(app, signal) {
        tracing::debug!("forwarding {signal} to the app: {error}");
    }
}

/// A process of the app's tree says it serves; a pid from elsewhere is
/// not the helper's to signal.
fn attached(worker: &mut Worker, pid: i32) {
    if proc_tree::descendants_of(nix::unistd::getpid().as_raw()).contains(&pid) {
        tracing::info!("pid {pid} serves the app");
        worker.serving.push(Pid::from_raw(pid));
    } else {
        tracing::warn!("the IPC channel names pid {pid}, which is not one of the app's processes");
    }
}

/// Where SIGHUP goes: a launcher has no use for it, the server may.
fn serving_or_app(worker: &Worker) -> Vec<Pid> {
    if worker.serving.is_empty() {
        vec![worker.app]
    } else {
        worker.serving.clone()
    }
}

fn deliver_stop(worker: &mut Worker, signal: Signal) {
    record(worker, State::Draining);
    if worker.shutdown_with_message
        && send_shutdown(worker.channel.as_mut(), worker.launcher, &worker.serving)
    {
        tracing::info!("sent the app the message 'shutdown'");
        return;
    }
    if worker.launcher {
        // npm forwards a stop signal to its `sh -c`, which does not pass it
        // on: each process gets it, the server once from the helper.
        kill_tree(signal);
    } else {
        forward(worker.app, signal);
    }
}

fn read_channel(worker: &mut Worker, lines: &mut LineBuffer) -> Vec<Message> {
    let Some(channel) = &mut worker.channel else {
        return Vec::new();
    };
    read_stream(channel, lines).unwrap_or_else(|| {
        worker.channel = None;
        Vec::new()
    })
}

/// How an app ended, in words.
pub fn describe(ending: Ending) -> String {
    match ending {
        Ending::Exited(code) => format!("exit status {code}"),
        Ending::Killed(signal) => format!("killed by {signal}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drain_ends_before_systemd_kills() {
        let ms = |ms| drain_time(Duration::from_millis(ms)).as_millis();
        assert_eq!(ms(1600), 1200, "a quarter off short timeouts");
        assert_eq!(ms(10_000), 9_500, "at most 500 ms off");
        assert_eq!(ms(0), 0);
    }
}
