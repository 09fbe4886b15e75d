//! A worker's reload with its successor first, as PM2's cluster reload: on
//! SIGUSR2 (from `nodeunits-helper replace`, the unit's `ExecReload=`) the
//! helper starts the app again beside the running process, waits until the
//! new process is ready (it accepts from the same socket meanwhile), then
//! drains the old one. The worker never stops serving, and keeps its unit,
//! its instance number and its place in systemd. A successor that ends or
//! is not ready within listen_timeout is drained and the old process serves
//! on; the reload fails.
//!
//! The request is done once the old process is gone and the successor has
//! been up min_uptime (PM2's: up that long, a process counts as started;
//! at most listen_timeout), so that a rolling reload starts the next
//! worker's successor beside a warm one, not beside one still compiling its
//! code, and stops at the first successor that ends soon after it was
//! ready, leaving the other workers on the old code.
//!
//! The outcome goes to `replace.N` in the runtime directory as `SEQ ok` or
//! `SEQ failed: WHY`, where the `replace` command waits for it.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::children::{any_alive, subtree};
use super::ipc::{read_stream, send_shutdown, LineBuffer, Message};
use super::launch::Started;
use super::readiness::Readiness;
use super::shared_ports::Asker;
use super::worker::{describe, Ending, Worker};
use crate::durable;
use crate::model::helper_options::Instance;
use crate::model::ReplaceOptions;

/// How often the end of a leaving tree is looked for.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// A process of the app on its way out: a replaced one, or a successor
/// that failed. It drains as a stopped worker's app does.
struct Leaving {
    pid: Pid,
    /// Its processes when it was told to go (a launcher's whole tree).
    tree: Vec<Pid>,
    /// Held open while it drains: a process reading it sees no end meanwhile.
    _channel: Option<UnixStream>,
    deadline: Instant,
    killed: bool,
}

/// The process starting beside the running one.
pub struct Successor {
    pub pid: Pid,
    pub serving: Vec<Pid>,
    pub channel: Option<UnixStream>,
    pub lines: LineBuffer,
    pub readiness: Readiness,
    started: Instant,
    deadline: Instant,
}

/// What the helper's loop keeps of replacements.
pub struct Replacement {
    /// How old processes, and successors that failed, are told to go.
    drain: Drain,
    results: Option<ResultFile>,
    /// The request being served: its number.
    pending: Option<u64>,
    pub successor: Option<Successor>,
    leaving: Vec<Leaving>,
    /// How long a successor must be up before the request is done.
    settle: Duration,
    /// The successor took over: the request is done once the old process is
    /// gone and the successor has been up `settle`.
    promoted: Option<Promoted>,
}

/// A successor that took over while its request is not done yet.
struct Promoted {
    pid: Pid,
    started: Instant,
}

impl Replacement {
    pub fn new(
        runtime_dir: Option<&Path>,
        instance: u32,
        drain: Drain,
        settle: Duration,
    ) -> Replacement {
        Replacement {
            drain,
            results: runtime_dir.map(|dir| ResultFile::new(dir, instance)),
            pending: None,
            successor: None,
            leaving: Vec::new(),
            settle,
            promoted: None,
        }
    }

    /// A successor starts, or old processes drain: the tree holds more than
    /// the app, so its memory is no measure of the app's.
    pub fn busy(&self) -> bool {
        self.successor.is_some() || !self.leaving.is_empty()
    }

    /// The next moment a deadline passes.
    pub fn deadline(&self) -> Option<Instant> {
        let successor = self.successor.iter().map(|s| s.deadline);
        let leaving = self
            .leaving
            .iter()
            .filter(|l| !l.killed)
            .map(|l| l.deadline);
        // A grandchild's end wakes no one: look for it now and then.
        let look = (!self.leaving.is_empty()).then(|| Instant::now() + LOOK_EVERY);
        let settled = self.promoted.as_ref().map(|p| self.settled_at(p));
        successor.chain(leaving).chain(look).chain(settled).min()
    }

    /// SIGUSR2: a request to replace. Refused while the worker starts or
    /// stops; one under way already answers it too.
    pub fn request(
        &mut self,
        ready: bool,
        stopping: bool,
        start: impl FnOnce() -> Result<Successor, String>,
    ) {
        if self.pending.is_some() {
            tracing::info!("SIGUSR2 received: a replacement is under way already");
            return;
        }
        self.pending = Some(self.results.as_ref().map_or(0, ResultFile::last) + 1);
        if stopping {
            return self.finish(Err("the worker is stopping".to_owned()));
        }
        if !ready {
            return self.finish(Err("the app is not ready yet; reload once it is".to_owned()));
        }
        match start() {
            Err(why) => self.finish(Err(why)),
            Ok(successor) => {
                tracing::info!(
                    "replacing the app: pid {} starts beside the running one",
                    successor.pid
                );
                self.successor = Some(successor);
                self.promoted = None;
            }
        }
    }

    /// A child of the helper ended that is not the running app.
    pub fn child_ended(&mut self, pid: Pid, ending: Ending) {
        if self.successor.as_ref().is_some_and(|s| s.pid == pid) {
            let successor = self.successor.take().expect("checked");
            drop(successor);
            self.finish(Err(format!(
                "the new process (pid {pid}) ended before it was ready: {}",
                describe(ending)
            )));
        } else if let Some(leaving) = self.leaving.iter().find(|l| l.pid == pid) {
            tracing::info!(
                "the replaced process {} ended: {}",
                leaving.pid,
                describe(ending)
            );
        }
    }

    /// Timers and the end of old processes; `kill_timeout` bounds a drain.
    pub fn tick(&mut self, now: Instant) {
        if self.successor.as_ref().is_some_and(|s| now >= s.deadline) {
            let successor = self.successor.take().expect("checked");
            let why = format!(
                "the new process (pid {}) was not ready within listen_timeout: it is stopped, the running one serves on",
                successor.pid
            );
            self.fail_successor(successor);
            self.finish(Err(why));
        }
        for leaving in &mut self.leaving {
            if !leaving.killed && now >= leaving.deadline {
                tracing::warn!(
                    "the replaced process {} did not finish within kill_timeout: killing it",
                    leaving.pid
                );
                for &pid in &leaving.tree {
                    let _ = kill(pid, Signal::SIGKILL);
                }
                leaving.killed = true;
            }
        }
        self.leaving.retain(|leaving| any_alive(&leaving.tree));
        let settled = self
            .promoted
            .as_ref()
            .is_some_and(|p| now >= self.settled_at(p));
        if self.leaving.is_empty() && settled {
            self.promoted = None;
            self.finish(Ok(()));
        }
    }

    /// When a promoted successor has been up long enough for its request.
    fn settled_at(&self, promoted: &Promoted) -> Instant {
        promoted.started + self.settle
    }

    /// The successor is ready: it becomes the running app; the old one,
    /// given back here, drains.
    pub fn promoted(&mut self, old: Old, successor: Pid, started: Instant) {
        self.leave(old);
        self.promoted = Some(Promoted {
            pid: successor,
            started,
        });
    }

    /// The running app ended: a successor that took over and ended before
    /// its request was done fails the request (the worker restarts).
    pub fn app_ended(&mut self, pid: Pid, ending: Ending) {
        let Some(promoted) = self.promoted.take().filter(|p| p.pid == pid) else {
            return;
        };
        let up = promoted.started.elapsed();
        let soon = if up < self.settle {
            format!(", within min_uptime ({} ms)", self.settle.as_millis())
        } else {
            String::new()
        };
        self.finish(Err(format!(
            "the new process (pid {pid}) took over, then ended {} ms after it started{soon}: {}",
            up.as_millis(),
            describe(ending)
        )));
    }

    /// A stop: the successor drains with the rest; the request fails.
    pub fn stop(&mut self) {
        if let Some(successor) = self.successor.take() {
            self.fail_successor(successor);
        }
        if self.pending.is_some() {
            self.promoted = None;
            self.finish(Err("the worker is stopping".to_owned()));
        }
    }

    fn fail_successor(&mut self, successor: Successor) {
        let old = Old {
            pid: successor.pid,
            serving: successor.serving,
            channel: successor.channel,
        };
        self.leave(old);
    }

    fn leave(&mut self, mut old: Old) {
        let how = &self.drain;
        let tree = if how.launcher {
            subtree(old.pid)
        } else {
            vec![old.pid]
        };
        if how.message && send_shutdown(old.channel.as_mut(), how.launcher, &old.serving) {
            tracing::info!(
                "sent the replaced process {} the message 'shutdown'",
                old.pid
            );
        } else {
            for &pid in &tree {
                let _ = kill(pid, how.signal);
            }
        }
        self.leaving.push(Leaving {
            pid: old.pid,
            tree,
            _channel: old.channel,
            deadline: Instant::now() + how.time,
            killed: false,
        });
    }

    fn finish(&mut self, outcome: Result<(), String>) {
        let Some(seq) = self.pending.take() else {
            return;
        };
        match &outcome {
            Ok(()) => tracing::info!("replaced: the new process serves, the old one is gone"),
            Err(why) => tracing::warn!("replacement failed: {why}"),
        }
        if let Some(results) = &self.results {
            results.write(seq, &outcome);
        }
    }
}

/// Reads the successor's channel; once it is ready, it becomes the running
/// app and the old process drains. True when it took over.
pub fn take_over(worker: &mut Worker, lines: &mut LineBuffer, readiness: &mut Readiness) -> bool {
    let Some(mut successor) = worker.replacement.successor.take() else {
        return false;
    };
    let messages = match successor.channel.as_mut() {
        Some(channel) => read_stream(channel, &mut successor.lines),
        None => Some(Vec::new()),
    };
    let Some(messages) = messages else {
        // Its channel closed: it is ending, and SIGCHLD will say how.
        successor.channel = None;
        worker.replacement.successor = Some(successor);
        return false;
    };
    for message in &messages {
        if let Message::Bind(request) = message {
            let channel = successor.channel.as_mut();
            worker.ports.answer(request, channel, Asker::Successor);
        }
    }
    if !successor.hear(messages) {
        worker.replacement.successor = Some(successor);
        return false;
    }
    successor.readiness.set_ready();
    let (pid, started) = (successor.pid, successor.started);
    let old = Old {
        pid: std::mem::replace(&mut worker.app, successor.pid),
        serving: std::mem::replace(&mut worker.serving, successor.serving),
        channel: std::mem::replace(&mut worker.channel, successor.channel),
    };
    *lines = successor.lines;
    *readiness = successor.readiness;
    worker.replacement.promoted(old, pid, started);
    worker.ports.promoted();
    true
}

/// The running app's process, handed over when it leaves.
pub struct Old {
    pub pid: Pid,
    pub serving: Vec<Pid>,
    pub channel: Option<UnixStream>,
}

/// How an old process is told to go.
pub struct Drain {
    pub signal: Signal,
    pub launcher: bool,
    /// The message 'shutdown' instead of the signal.
    pub message: bool,
    pub time: Duration,
}

impl Successor {
    pub fn new(started: Started, readiness: Readiness, listen_timeout: Duration) -> Successor {
        Successor {
            pid: started.pid,
            serving: Vec::new(),
            channel: started.channel,
            lines: LineBuffer::default(),
            readiness,
            started: Instant::now(),
            deadline: Instant::now() + listen_timeout,
        }
    }

    /// Reads what the successor said; true once it is ready.
    pub fn hear(&mut self, messages: Vec<Message>) -> bool {
        let mut ready = false;
        for message in messages {
            match message {
                Message::Attached { pid } => {
                    tracing::info!("pid {pid} serves the new process");
                    self.serving.push(Pid::from_raw(pid));
                }
                message => ready |= self.readiness.on_message(message),
            }
        }
        ready
    }
}

/// `replace.N`: the last request's number and outcome.
struct ResultFile {
    path: PathBuf,
}

impl ResultFile {
    fn new(dir: &Path, instance: u32) -> ResultFile {
        ResultFile {
            path: result_path(dir, instance),
        }
    }

    fn last(&self) -> u64 {
        read_result(&self.path).map_or(0, |(seq, _)| seq)
    }

    fn write(&self, seq: u64, outcome: &Result<(), String>) {
        let line = match outcome {
            Ok(()) => format!("{seq} ok\n"),
            Err(why) => format!("{seq} failed: {why}\n"),
        };
        if let Err(error) = durable::write(&self.path, line.as_bytes()) {
            tracing::warn!(
                "cannot record the replacement's outcome in {}: {error}",
                self.path.display()
            );
        }
    }
}

fn result_path(dir: &Path, instance: u32) -> PathBuf {
    dir.join(format!("replace.{instance}"))
}

fn read_result(path: &Path) -> Option<(u64, String)> {
    let text = std::fs::read_to_string(path).ok()?;
    let (seq, outcome) = text.trim_end().split_once(' ')?;
    Some((seq.parse().ok()?, outcome.to_owned()))
}

/// `nodeunits-helper replace`: signals the worker's helper and waits for
/// the outcome.
pub fn command(options: &ReplaceOptions) -> ExitCode {
    match replace(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("nodeunits-helper replace: {why}");
            ExitCode::FAILURE
        }
    }
}

fn replace(options: &ReplaceOptions) -> Result<(), String> {
    let Instance::Number(instance) = options.instance else {
        return Err(
            "--instance %i: run it as a worker unit's ExecReload=, where systemd expands %i".into(),
        );
    };
    let pid = std::env::var("MAINPID")
        .ok()
        .and_then(|pid| pid.parse::<i32>().ok())
        .filter(|&pid| pid > 1)
        .ok_or("$MAINPID names no process: run it as a worker unit's ExecReload=, where systemd sets it")?;
    let helper = Pid::from_raw(pid);
    let dir = super::state::runtime_dir(&options.app).map_err(|e| e.to_string())?;
    let path = result_path(&dir, instance);
    let before = read_result(&path).map_or(0, |(seq, _)| seq);
    kill(helper, Signal::SIGUSR2)
        .map_err(|e| format!("cannot signal the worker's helper (pid {pid}): {e}"))?;
    loop {
        std::thread::sleep(Duration::from_millis(50));
        if let Some((seq, outcome)) = read_result(&path).filter(|(seq, _)| *seq > before) {
            return match outcome.strip_prefix("failed: ") {
                None if outcome == "ok" => Ok(()),
                None => Err(format!("request {seq}: {outcome}")),
                Some(why) => Err(why.to_owned()),
            };
        }
        if kill(helper, None).is_err() {
            return Err(format!(
                "the worker's helper (pid {pid}) ended before the replacement finished"
            ));
        }
    }
}
