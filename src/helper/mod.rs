//! The runtime of one worker: runs the app, tells systemd when it is ready,
//! drains it on stop, restarts it gracefully over its memory limit. Outside
//! systemd (a container's entrypoint) the same, with its state recorded for
//! `nodeunits-helper probe`. Its command line is `model::HelperOptions`;
//! docs/contract.md describes it and the units that run it.

mod backoff;
mod children;
mod environment;
/// The IPC channel to a Node app; public for the fuzz target that reads it.
pub mod ipc;
mod launch;
mod log;
/// `write-logs`: an app's log files from the journal.
mod log_writer;
mod memory_lock;
mod memory_watch;
mod node;
mod port_conflict;
mod preload;
mod proc_tree;
mod readiness;
mod replace;
mod shared_ports;
mod spawn;
mod state;
mod sticky;
/// `watch`: PM2's watch, with inotify.
mod watch;

/// The exit of a helper subcommand that runs as a unit's service
/// (`write-logs`, `watch`): its error, on stderr for the journal, is a
/// configuration error.
fn service_exit(subcommand: &str, result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("nodeunits-helper {subcommand}: {message}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// Set once SIGTERM or SIGINT arrives: a service's loop looks at it between
/// its steps, and stops.
fn stop_flag() -> Result<std::sync::Arc<std::sync::atomic::AtomicBool>, String> {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, std::sync::Arc::clone(&stop))
            .map_err(|e| e.to_string())?;
    }
    Ok(stop)
}
mod worker;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nix::sys::signal::{raise, sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use sd_notify::NotifyState;

use crate::model::defaults::{EXIT_CONFIG, EXIT_MEMORY_RESTART, EXIT_UNRESPONSIVE};
use crate::model::helper_options::{self, Instance, Request, Runtime};
use crate::model::{probe_options, replace_options, AppName, HelperOptions, ProbeOptions};
use memory_watch::MemoryWatch;
use readiness::ReadyWhen;
use worker::{describe, Ending, StopReason, Worker};

/// Entry point of the `nodeunits-helper` binary.
pub fn main() -> ExitCode {
    let options = match helper_options::parse(std::env::args_os().skip(1)) {
        Ok(Request::Run(options)) => options,
        Ok(Request::Help) => {
            print!("{}", helper_options::usage());
            return ExitCode::SUCCESS;
        }
        Ok(Request::Version) => {
            println!("nodeunits-helper {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(Request::ProbeHelp) => {
            print!("{}", probe_options::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Request::Probe(options)) => return probe(&options),
        Ok(Request::ReplaceHelp) => {
            print!("{}", replace_options::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Request::Replace(options)) => return replace::command(&options),
        Ok(Request::WriteLogsHelp) => {
            print!("{}", crate::model::log_writer::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Request::WriteLogs(writer)) => return log_writer::command(&writer),
        Ok(Request::WatchHelp) => {
            print!("{}", crate::model::watcher::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Request::Watch(watcher)) => return watch::command(&watcher),
        Err(message) => {
            eprintln!("nodeunits-helper: {message}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    log::init(&options.app);
    match run(&options) {
        Ok(Ending::Exited(code)) => ExitCode::from(code.clamp(0, 255) as u8),
        Ok(Ending::Killed(signal)) => die_like(signal),
        Err(message) => {
            tracing::error!("{message}");
            notify(&message);
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// Dies of the signal that killed the app, so systemd sees the same ending.
fn die_like(signal: Signal) -> ExitCode {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: restoring the default disposition has no handler to be unsafe.
    let _ = unsafe { sigaction(signal, &default) };
    // The app's core dump, if any, is the app's: none of the helper.
    let no_core = nix::libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads the struct it is given and nothing else.
    unsafe { nix::libc::setrlimit(nix::libc::RLIMIT_CORE, &no_core) };
    let mut only = SigSet::empty();
    only.add(signal);
    let _ = only.thread_unblock();
    let _ = raise(signal);
    ExitCode::from(128 + signal as u8)
}

fn probe(options: &ProbeOptions) -> ExitCode {
    match state::probe(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("nodeunits-helper probe: {why}");
            ExitCode::FAILURE
        }
    }
}

/// systemd's RuntimeDirectory=, or outside systemd one the helper creates.
fn runtime_dir(app: &str) -> Option<PathBuf> {
    let dir = state::runtime_dir(app)
        .map_err(|e| e.to_string())
        .and_then(|dir| match state::create_dir(&dir) {
            Ok(()) => Ok(dir),
            Err(e) => Err(format!("cannot create {}: {e}", dir.display())),
        })
        .map_err(|why| tracing::warn!("{why}: no state for `probe`, no memory lock"));
    dir.ok()
}

fn run(options: &HelperOptions) -> Result<Ending, String> {
    // `parse` reads only numbers: systemd has expanded the unit's `%i`.
    let Instance::Number(instance) = options.instance else {
        return Err(format!("--instance {} is not a number", options.instance));
    };
    let signals = signal_fd()?;
    if let Err(error) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!("cannot become the subreaper of the app's processes: {error}");
    }
    let runtime_dir = runtime_dir(&options.app);
    let state = runtime_dir
        .as_deref()
        .map(|dir| state::StateFile::new(dir, instance));
    if let Some(state) = &state {
        state.write(state::State::Starting);
    }
    let restarts = runtime_dir
        .as_deref()
        .filter(|_| options.exp_backoff.is_some())
        .map(|dir| backoff::RestartCount::new(dir, instance));
    let previous_restarts = restarts.as_ref().map_or(0, backoff::RestartCount::read);
    if back_off(options, restarts.as_ref(), previous_restarts, &signals) {
        return Ok(Ending::Exited(0));
    }

    let mut vars: environment::Vars = std::env::vars_os().collect();
    let inherited = environment::inherited_listen_fds(&vars, std::process::id());
    let (listen_fds, stored) = environment::take_stored(&mut vars, inherited);
    environment::pass_listen_fds(&mut vars, listen_fds);
    if let Some(name) = &options.increment_var {
        environment::increment(&mut vars, name, instance).map_err(|e| e.to_string())?;
    }
    for name in &options.credentials {
        environment::from_credential(&mut vars, name).map_err(|e| e.to_string())?;
    }
    let own = if listen_fds == 0 && !options.listen.is_empty() {
        tracing::info!("no sockets passed (no socket unit, as in a container): the app binds its addresses itself");
        Vec::new()
    } else {
        sticky::own_sockets(options, instance, listen_fds)
    };
    let runs_node = options.runtime.runs_node();
    // Sticky workers each have sockets of their own: nothing to share.
    let balance = runtime_dir
        .as_deref()
        .filter(|_| !options.sticky && !own.is_empty())
        .and_then(|dir| launch::Balance::new(dir, instance));
    let recipe = launch::Recipe::new(options, runtime_dir.clone(), listen_fds, own, vars, balance);
    notify(&format!(
        "starting {}",
        options.command[0].to_string_lossy()
    ));
    let started = Instant::now();
    let app = recipe.start().map_err(|e| e.to_string())?;

    let ready = ready_when(options, listen_fds);
    let mut worker = worker_of(
        options,
        instance,
        runtime_dir.as_deref(),
        app,
        recipe,
        ready,
        state,
    );
    worker.ports = shared_ports::SharedPorts::adopt(stored);
    let outcome = worker::run(worker, &signals);
    tracing::info!("the app ended: {}", describe(outcome.ending));
    if let Some(count) = &restarts {
        let healthy = started.elapsed() >= backoff::HEALTHY_AFTER;
        count.write(match outcome.stop {
            // A stop, or a restart for memory, is no crash to back off from.
            Some(StopReason::Signal(_) | StopReason::Memory | StopReason::Unresponsive) => 0,
            _ if healthy => 1,
            _ => previous_restarts.saturating_add(1),
        });
    }
    if runtime_dir.is_none() && runs_node {
        let _ = std::fs::remove_dir_all(preload::private_dir());
    }
    // No figures of a process that is gone.
    if let Some(file) = node::stats_file(options, runtime_dir.as_deref()) {
        let _ = std::fs::remove_file(file);
    }
    Ok(ending(options, instance, outcome))
}

/// SIGINT, SIGTERM, SIGHUP, SIGUSR2 and SIGCHLD, blocked and read from a
/// signalfd by the worker's loop.
fn signal_fd() -> Result<SignalFd, String> {
    let mut handled = SigSet::empty();
    for signal in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGUSR2,
        Signal::SIGCHLD,
    ] {
        handled.add(signal);
    }
    handled
        .thread_block()
        .map_err(|e| format!("cannot block signals: {e}"))?;
    SignalFd::with_flags(&handled, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| format!("cannot create a signalfd: {e}"))
}

/// `exp_backoff_restart_delay`: waits before a restart after `previous`
/// quick ones; true when a stop came meanwhile (the count starts again).
fn back_off(
    options: &HelperOptions,
    restarts: Option<&backoff::RestartCount>,
    previous: u32,
    signals: &SignalFd,
) -> bool {
    let Some(base) = options.exp_backoff else {
        return false;
    };
    // A start the delay has passed for already (the unit failed, then was
    // started by hand) does not wait.
    let waited = restarts.and_then(backoff::RestartCount::since_last_end);
    let delay = backoff::delay(base, previous);
    let due = waited.is_some_and(|waited| waited >= delay);
    if !delay.is_zero() && !due && wait_or_stop(signals, delay, previous) {
        if let Some(count) = restarts {
            count.write(0);
        }
        return true;
    }
    false
}

/// When the worker counts as ready, from how it runs and what it listens on.
fn ready_when(options: &HelperOptions, listen_fds: usize) -> ReadyWhen {
    match (options.runtime.runs_node(), options.wait_ready) {
        (true, true) => ReadyWhen::AppSendsReady,
        (false, true) => ReadyWhen::AppNotifies,
        (true, false) if listen_fds > 0 && !options.listen.is_empty() => ReadyWhen::Listening,
        (true, false) if !options.listen.is_empty() => ReadyWhen::ListeningItself,
        (true, false) => ReadyWhen::ListeningOrSettled,
        (false, false) => ReadyWhen::AtOnce,
    }
}

/// The worker of the app just started.
fn worker_of(
    options: &HelperOptions,
    instance: u32,
    runtime_dir: Option<&Path>,
    app: launch::Started,
    recipe: launch::Recipe,
    ready_when: ReadyWhen,
    state: Option<state::StateFile>,
) -> Worker {
    let kill_timeout = options.kill_timeout;
    // A lock this old belongs to an instance whose replacement never came.
    let stale_after = kill_timeout + Duration::from_secs(60);
    let lock = || {
        let dir = runtime_dir?;
        Some(memory_lock::MemoryLock::new(dir, instance, stale_after))
    };
    // A container's stop is SIGTERM: the app drains as on systemd's SIGINT.
    let drain_signal = std::env::var_os("NOTIFY_SOCKET")
        .is_none()
        .then_some(Signal::SIGINT);
    let drain = replace::Drain {
        signal: drain_signal.unwrap_or(Signal::SIGINT),
        launcher: options.runtime == Runtime::Launcher,
        message: options.shutdown_with_message,
        time: worker::drain_time(kill_timeout),
    };
    Worker {
        app: app.pid,
        launcher: options.runtime == Runtime::Launcher,
        serving: Vec::new(),
        channel: app.channel,
        ready_when,
        shutdown_with_message: options.shutdown_with_message,
        kill_timeout,
        memory: options.max_memory.map(|limit| MemoryWatch {
            limit,
            lock: lock(),
        }),
        restart_lock: lock(),
        state,
        drain_signal,
        replacement: replace::Replacement::new(
            runtime_dir,
            instance,
            drain,
            options.min_uptime.min(options.listen_timeout),
        ),
        ports: shared_ports::SharedPorts::default(),
        recipe,
        listen_timeout: options.listen_timeout,
        unresponsive: options.unresponsive_timeout,
    }
}

/// How the helper ends after the app's end: a port taken is a
/// configuration error; a restart for memory has its own exit status.
fn ending(options: &HelperOptions, instance: u32, outcome: worker::Outcome) -> Ending {
    if let (Some(taken), None) = (&outcome.port_taken, outcome.stop) {
        let why = port_conflict::explain(&options.app, &options.listen, taken);
        let unit = AppName::new(&options.app).map_or_else(
            |_| options.app.clone(),
            |name| name.units().instance(instance),
        );
        tracing::error!("{unit}: {why}");
        notify(&why);
        return Ending::Exited(EXIT_CONFIG.into());
    }
    match outcome.stop {
        Some(StopReason::Memory) => Ending::Exited(EXIT_MEMORY_RESTART.into()),
        Some(StopReason::Unresponsive) => Ending::Exited(EXIT_UNRESPONSIVE.into()),
        // Killed at kill_timeout on a stop, as PM2 does: still a stop, not a crash.
        Some(StopReason::Signal(signal)) if outcome.killed => Ending::Killed(signal),
        _ => outcome.ending,
    }
}

fn notify(status: &str) {
    worker::notify(&[NotifyState::Status(status)]);
}

/// Waits out the exp_backoff delay; true when a stop signal came first.
fn wait_or_stop(signals: &SignalFd, delay: Duration, restarts: u32) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let status = format!(
        "waiting {} ms before restart {}: quick restarts back off",
        delay.as_millis(),
        restarts
    );
    tracing::info!("{status}");
    notify(&status);
    let deadline = Instant::now() + delay;
    while let Some(left) = deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
    {
        let mut fds = [PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        let _ = poll(
            &mut fds,
            PollTimeout::try_from(left.as_millis() as u64 + 1).unwrap_or(PollTimeout::MAX),
        );
        while let Ok(Some(info)) = signals.read_signal() {
            if info.ssi_signo as i32 != Signal::SIGCHLD as i32 {
                return true;
            }
        }
    }
    false
}
