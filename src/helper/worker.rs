//! The running worker: one poll loop over the signals and the app's IPC
//! channel, with timers for the memory watch and the drain deadline.

use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::SignalFd;
use nix::unistd::Pid;
use sd_notify::NotifyState;

use super::children::{finish_leftovers, kill_tree, reap_all, wait_for_tree};
use super::ipc::{read_stream, send_shutdown, LineBuffer, Message};
use super::launch::Recipe;
use super::memory_lock::MemoryLock;
use super::memory_watch::{self, over_memory, MemoryWatch};
use super::proc_tree;
use super::readiness::{PortTaken, Readiness, ReadyWhen};
use super::replace::{self, Replacement, Successor};
use super::state::{State, StateFile};

/// Why the worker is going away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// systemd (or someone) sent this stop signal.
    Signal(Signal),
    Memory,
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
}

pub fn notify(states: &[NotifyState]) {
    if let Err(error) = sd_notify::notify(states) {
        tracing::debug!("sd_notify: {error}");
    }
}

/// Runs the worker until the app has exited; returns how it ended and why
/// the worker stopped, if it was asked to.
pub fn run(mut worker: Worker, signals: &SignalFd) -> Outcome {
    let mut lines = LineBuffer::default();
    let mut readiness = readiness_from_now(worker.ready_when, worker.launcher);
    let mut stop: Option<(StopReason, Instant)> = None;
    let mut next_memory_check = Instant::now();
    let mut over_memory_logged = false;
    let mut ending = None;
    let mut killed = false;
    if worker.ready_when == ReadyWhen::AtOnce {
        become_ready(&mut worker, &mut readiness);
    } else if worker.ready_when == ReadyWhen::AppNotifies {
        release_restart_lock(&mut worker);
    }
    while ending.is_none() {
        let now = Instant::now();
        let mut wake = None::<Instant>;
        if let Some((_, deadline)) = stop {
            wake = Some(deadline);
        } else if worker.memory.is_some() {
            wake = Some(next_memory_check);
        }
        if stop.is_none() {
            wake = [wake, readiness.deadline()].into_iter().flatten().min();
        }
        wake = [wake, worker.replacement.deadline()]
            .into_iter()
            .flatten()
            .min();
        let timeout = match wake {
            Some(at) => {
                PollTimeout::try_from(at.saturating_duration_since(now).as_millis().max(1) as u64)
                    .unwrap_or(PollTimeout::MAX)
            }
            None => PollTimeout::NONE,
        };
        let (signal_ready, channel_ready, successor_ready) = {
            let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
            let successor_channel = worker
                .replacement
                .successor
                .as_ref()
                .and_then(|successor| successor.channel.as_ref());
            // The successor's channel first: it is there only while one starts.
            if let Some(channel) = successor_channel {
                fds.push(PollFd::new(channel.as_fd(), PollFlags::POLLIN));
            }
            let successor_polled = fds.len() == 2;
            if let Some(channel) = &worker.channel {
                fds.push(PollFd::new(channel.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, timeout) {
                Err(Errno::EINTR) => continue,
                Err(error) => {
                    tracing::error!("poll: {error}");
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
                Ok(_) => {}
            }
            let fired = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
            let own = usize::from(successor_polled) + 1;
            (
                fired(&fds[0]),
                fds.get(own).is_some_and(fired),
                successor_polled && fired(&fds[1]),
            )
        };
        if signal_ready {
            while let Ok(Some(info)) = signals.read_signal() {
                let Ok(signal) = Signal::try_from(info.ssi_signo as i32) else {
                    continue;
                };
                match signal {
                    Signal::SIGCHLD => {
                        for (pid, end) in reap_all() {
                            if pid == worker.app {
                                ending = Some(end);
                            } else {
                                worker.replacement.child_ended(pid, end);
                            }
                        }
                    }
                    Signal::SIGUSR2 => {
                        let (recipe, when) = (&worker.recipe, worker.ready_when);
                        let (launcher, timeout) = (worker.launcher, worker.listen_timeout);
                        let start = || {
                            let started = recipe.start()?;
                            let readiness = readiness_from_now(when, launcher);
                            Ok(Successor::new(started, readiness, timeout))
                        };
                        worker
                            .replacement
                            .request(readiness.is_ready(), stop.is_some(), start);
                    }
                    Signal::SIGHUP => {
                        for pid in serving_or_app(&worker) {
                            forward(pid, Signal::SIGHUP);
                        }
                    }
                    stop_signal => {
                        tracing::info!("{stop_signal} received: draining the app");
                        if stop.is_none() {
                            let signal = worker.drain_signal.unwrap_or(stop_signal);
                            deliver_stop(&mut worker, signal);
                            worker.replacement.stop();
                        }
                        notify(&[NotifyState::Stopping, NotifyState::Status("draining")]);
                        stop = Some((
                            StopReason::Signal(stop_signal),
                            stop.map_or(Instant::now() + drain_time(worker.kill_timeout), |s| s.1),
                        ));
                    }
                }
            }
        }
        if channel_ready {
            for message in read_channel(&mut worker, &mut lines) {
                match message {
                    Message::Attached { pid } => attached(&mut worker, pid),
                    // The launcher's own start says nothing of the app's.
                    Message::Started { pid } if pid != worker.app.as_raw() => {
                        readiness.node_started(Instant::now())
                    }
                    message => {
                        if readiness.on_message(message) {
                            become_ready(&mut worker, &mut readiness);
                        }
                    }
                }
            }
        }
        if successor_ready && replace::take_over(&mut worker, &mut lines, &mut readiness) {
            tracing::info!(
                "the new process {} is ready: it serves, the old one drains",
                worker.app
            );
            record(&worker, State::Ready);
        }
        worker.replacement.tick(Instant::now());
        let now = Instant::now();
        if stop.is_none() && ending.is_none() && readiness.deadline().is_some_and(|at| now >= at) {
            tracing::info!(
                "the app has not listened on any port {} ms after its start: taking it as an app that listens on nothing",
                readiness.settle().as_millis()
            );
            become_ready(&mut worker, &mut readiness);
        }
        if let Some((_, deadline)) = stop {
            if now >= deadline && ending.is_none() {
                tracing::warn!(
                    "the app did not finish within kill_timeout ({} ms, less {} ms to exit before systemd kills): killing it",
                    worker.kill_timeout.as_millis(),
                    (worker.kill_timeout - drain_time(worker.kill_timeout)).as_millis()
                );
                kill_tree(Signal::SIGKILL);
                killed = true;
                stop = stop.map(|(reason, _)| (reason, now + Duration::from_secs(3600)));
            }
        } else if worker.memory.is_some() && now >= next_memory_check && !worker.replacement.busy()
        {
            next_memory_check = now + memory_watch::EVERY;
            if over_memory(
                &mut worker.restart_lock,
                worker.memory.as_ref(),
                &mut over_memory_logged,
            ) {
                deliver_stop(&mut worker, Signal::SIGINT);
                stop = Some((StopReason::Memory, now + drain_time(worker.kill_timeout)));
            }
        }
    }
    let ending = ending.expect("the loop ends with the app");
    // What the app said just before it ended is still in the channel.
    if let Some(channel) = &worker.channel {
        let _ = channel.set_nonblocking(true);
    }
    while worker.channel.is_some() {
        let messages = read_channel(&mut worker, &mut lines);
        if messages.is_empty() {
            break;
        }
        for message in messages {
            readiness.on_message(message);
        }
    }
    if let (true, Some((_, deadline)), false) = (worker.launcher, stop, killed) {
        // The launcher may end before the server it started has drained.
        if !wait_for_tree(signals, deadline) {
            tracing::warn!(
                "the app's processes did not finish within kill_timeout ({} ms): killing them",
                worker.kill_timeout.as_millis()
            );
            kill_tree(Signal::SIGKILL);
            killed = true;
        }
    }
    finish_leftovers(signals);
    Outcome {
        ending,
        stop: stop.map(|(reason, _)| reason),
        killed,
        port_taken: readiness.port_taken().cloned(),
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
