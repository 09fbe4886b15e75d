//! The worker's poll loop: it sleeps until a signal, a message of the app
//! (or of its successor) or the next deadline, handles what came, and ends
//! with the app.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::signalfd::SignalFd;
use sd_notify::NotifyState;

use super::{
    attached, become_ready, deliver_stop, drain_time, forward, notify, read_channel,
    readiness_from_now, record, release_restart_lock, serving_or_app, Ending, Outcome, StopReason,
    Worker,
};
use crate::helper::children::{finish_leftovers, kill_tree, reap_all, wait_for_tree};
use crate::helper::ipc::{LineBuffer, Message};
use crate::helper::memory_watch::{self, over_memory};
use crate::helper::readiness::{Readiness, ReadyWhen};
use crate::helper::replace::{self, Successor};
use crate::helper::shared_ports::Asker;
use crate::helper::state::State;

/// What the loop keeps from one wake-up to the next.
struct Watch {
    lines: LineBuffer,
    readiness: Readiness,
    /// Why the app is stopping, and when it is killed if it has not ended.
    stop: Option<(StopReason, Instant)>,
    next_memory_check: Instant,
    over_memory_logged: bool,
    /// The app's last heartbeat; none before its first.
    last_beat: Option<Instant>,
    ending: Option<Ending>,
    killed: bool,
}

/// Which of the polled descriptors have something to read.
struct Ready {
    signals: bool,
    channel: bool,
    successor: bool,
}

/// Runs the worker until the app has exited; returns how it ended and why
/// the worker stopped, if it was asked to.
pub fn run(mut worker: Worker, signals: &SignalFd) -> Outcome {
    let mut watch = Watch {
        lines: LineBuffer::default(),
        readiness: readiness_from_now(worker.ready_when, worker.launcher),
        stop: None,
        next_memory_check: Instant::now(),
        over_memory_logged: false,
        last_beat: None,
        ending: None,
        killed: false,
    };
    if worker.ready_when == ReadyWhen::AtOnce {
        become_ready(&mut worker, &mut watch.readiness);
    } else if worker.ready_when == ReadyWhen::AppNotifies {
        release_restart_lock(&mut worker);
    }
    while watch.ending.is_none() {
        let Some(ready) = wait(&worker, &watch, signals) else {
            continue;
        };
        if ready.signals {
            on_signals(&mut worker, &mut watch, signals);
        }
        if ready.channel {
            on_messages(&mut worker, &mut watch);
        }
        let Watch {
            lines, readiness, ..
        } = &mut watch;
        if ready.successor && replace::take_over(&mut worker, lines, readiness) {
            tracing::info!(
                "the new process {} is ready: it serves, the old one drains",
                worker.app
            );
            record(&worker, State::Ready);
            // The successor beats from its own first turn on.
            watch.last_beat = None;
        }
        worker.replacement.tick(Instant::now());
        if worker.replacement.successor.is_none() {
            worker.ports.without_successor();
        }
        on_time(&mut worker, &mut watch);
    }
    after_the_end(&mut worker, watch, signals)
}

/// Sleeps until a descriptor is ready or the next deadline; `None` when
/// the poll was interrupted or failed (the loop polls again).
fn wait(worker: &Worker, watch: &Watch, signals: &SignalFd) -> Option<Ready> {
    let now = Instant::now();
    let mut wake = None::<Instant>;
    if let Some((_, deadline)) = watch.stop {
        wake = Some(deadline);
    } else if worker.memory.is_some() {
        wake = Some(watch.next_memory_check);
    }
    if watch.stop.is_none() {
        wake = [
            wake,
            watch.readiness.deadline(),
            beat_deadline(worker, watch),
        ]
        .into_iter()
        .flatten()
        .min();
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
        Err(Errno::EINTR) => return None,
        Err(error) => {
            tracing::error!("poll: {error}");
            std::thread::sleep(Duration::from_millis(100));
            return None;
        }
        Ok(_) => {}
    }
    let fired = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
    let own = usize::from(successor_polled) + 1;
    Some(Ready {
        signals: fired(&fds[0]),
        channel: fds.get(own).is_some_and(fired),
        successor: successor_polled && fired(&fds[1]),
    })
}

/// Every signal pending: children ended, a replacement asked for (SIGUSR2),
/// SIGHUP passed on, a stop.
fn on_signals(worker: &mut Worker, watch: &mut Watch, signals: &SignalFd) {
    while let Ok(Some(info)) = signals.read_signal() {
        let Ok(signal) = Signal::try_from(info.ssi_signo as i32) else {
            continue;
        };
        match signal {
            Signal::SIGCHLD => {
                for (pid, end) in reap_all() {
                    if pid == worker.app {
                        watch.ending = Some(end);
                        worker.replacement.app_ended(pid, end);
                    } else {
                        worker.replacement.child_ended(pid, end);
                    }
                }
            }
            Signal::SIGUSR2 => {
                let (recipe, when) = (&worker.recipe, worker.ready_when);
                let (launcher, timeout) = (worker.launcher, worker.listen_timeout);
                let start = || {
                    let started = recipe.start().map_err(|e| e.to_string())?;
                    let readiness = readiness_from_now(when, launcher);
                    Ok(Successor::new(started, readiness, timeout))
                };
                worker
                    .replacement
                    .request(watch.readiness.is_ready(), watch.stop.is_some(), start);
            }
            Signal::SIGHUP => {
                for pid in serving_or_app(worker) {
                    forward(pid, Signal::SIGHUP);
                }
            }
            stop_signal => {
                tracing::info!("{stop_signal} received: draining the app");
                if watch.stop.is_none() {
                    let signal = worker.drain_signal.unwrap_or(stop_signal);
                    deliver_stop(worker, signal);
                    worker.replacement.stop();
                }
                notify(&[NotifyState::Stopping, NotifyState::Status("draining")]);
                watch.stop = Some((
                    StopReason::Signal(stop_signal),
                    watch
                        .stop
                        .map_or(Instant::now() + drain_time(worker.kill_timeout), |s| s.1),
                ));
            }
        }
    }
}

/// The app's messages: a launcher's child attached, the app started or
/// ready.
fn on_messages(worker: &mut Worker, watch: &mut Watch) {
    for message in read_channel(worker, &mut watch.lines) {
        match message {
            Message::Attached { pid } => attached(worker, pid),
            Message::Beat => watch.last_beat = Some(Instant::now()),
            Message::Bind(request) => {
                worker
                    .ports
                    .answer(&request, worker.channel.as_mut(), Asker::Current)
            }
            // The launcher's own start says nothing of the app's.
            Message::Started { pid } if pid != worker.app.as_raw() => {
                watch.readiness.node_started(Instant::now())
            }
            message => {
                if watch.readiness.on_message(message) {
                    become_ready(worker, &mut watch.readiness);
                }
            }
        }
    }
}

/// The deadlines: an app that never listened taken as ready, a drain past
/// kill_timeout killed, the memory watch.
fn on_time(worker: &mut Worker, watch: &mut Watch) {
    let now = Instant::now();
    if watch.stop.is_none()
        && watch.ending.is_none()
        && watch.readiness.deadline().is_some_and(|at| now >= at)
    {
        tracing::info!(
            "the app has not listened on any port {} ms after its start: taking it as an app that listens on nothing",
            watch.readiness.settle().as_millis()
        );
        become_ready(worker, &mut watch.readiness);
    }
    if let Some((_, deadline)) = watch.stop {
        if now >= deadline && watch.ending.is_none() {
            tracing::warn!(
                "the app did not finish within kill_timeout ({} ms, less {} ms to exit before systemd kills): killing it",
                worker.kill_timeout.as_millis(),
                (worker.kill_timeout - drain_time(worker.kill_timeout)).as_millis()
            );
            kill_tree(Signal::SIGKILL);
            watch.killed = true;
            watch.stop = watch
                .stop
                .map(|(reason, _)| (reason, now + Duration::from_secs(3600)));
        }
    } else if beat_deadline(worker, watch).is_some_and(|at| now >= at)
        && watch.ending.is_none()
        && !worker.replacement.busy()
    {
        let silent = now.saturating_duration_since(watch.last_beat.unwrap_or(now));
        tracing::warn!(
            "{}",
            crate::model::defaults::unresponsive_line(
                silent,
                worker.unresponsive.unwrap_or_default()
            )
        );
        notify(&[NotifyState::Status("unresponsive: killed, restarting")]);
        // A loop that does not turn handles no stop signal: the app cannot
        // drain. Its open connections are closed with it; the socket's
        // other workers take the new ones meanwhile.
        kill_tree(Signal::SIGKILL);
        watch.killed = true;
        watch.stop = Some((StopReason::Unresponsive, now + Duration::from_secs(3600)));
    } else if worker.memory.is_some()
        && now >= watch.next_memory_check
        && !worker.replacement.busy()
    {
        watch.next_memory_check = now + memory_watch::EVERY;
        if over_memory(
            &mut worker.restart_lock,
            worker.memory.as_ref(),
            &mut watch.over_memory_logged,
        ) {
            deliver_stop(worker, Signal::SIGINT);
            watch.stop = Some((StopReason::Memory, now + drain_time(worker.kill_timeout)));
        }
    }
}

/// When the app counts as unresponsive: its last beat and the timeout.
fn beat_deadline(worker: &Worker, watch: &Watch) -> Option<Instant> {
    Some(watch.last_beat? + worker.unresponsive?)
}

/// Once the app has ended: what it said last, a launcher's tree given until
/// the deadline, then the outcome.
fn after_the_end(worker: &mut Worker, mut watch: Watch, signals: &SignalFd) -> Outcome {
    let ending = watch.ending.expect("the loop ends with the app");
    // What the app said just before it ended is still in the channel.
    if let Some(channel) = &worker.channel {
        let _ = channel.set_nonblocking(true);
    }
    while worker.channel.is_some() {
        let messages = read_channel(worker, &mut watch.lines);
        if messages.is_empty() {
            break;
        }
        for message in messages {
            watch.readiness.on_message(message);
        }
    }
    if let (true, Some((_, deadline)), false) = (worker.launcher, watch.stop, watch.killed) {
        // The launcher may end before the server it started has drained.
        if !wait_for_tree(signals, deadline) {
            tracing::warn!(
                "the app's processes did not finish within kill_timeout ({} ms): killing them",
                worker.kill_timeout.as_millis()
            );
            kill_tree(Signal::SIGKILL);
            watch.killed = true;
        }
    }
    finish_leftovers(signals);
    Outcome {
        ending,
        stop: watch.stop.map(|(reason, _)| reason),
        killed: watch.killed,
        port_taken: watch.readiness.port_taken().cloned(),
    }
}
