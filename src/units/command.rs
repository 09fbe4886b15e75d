//! The worker's `ExecStart=`: nodeunits-helper, its options, then the
//! program; and how restarts are spaced, which decides some of them.

use std::ffi::OsString;
use std::time::Duration;

use super::escape;
use super::program::Program;
use crate::ecosystem::settings::{defaults, App};
use crate::model::defaults::backoff_delay;
use crate::model::helper_options::{parse, ArgsError, HelperOptions, Instance, Request};
use crate::model::{Bytes, ReplaceOptions};

/// `RestartSteps=` and `RestartMaxDelaySec=` appeared in systemd 254.
const RESTART_STEPS_SINCE: u32 = 254;

/// How restarts are spaced: a fixed delay, or PM2's exponential backoff
/// (by systemd when it has `RestartSteps=`, else emulated by the helper).
pub struct Backoff {
    pub restart_sec: Duration,
    pub steps: Option<u32>,
    emulated: Option<Duration>,
    /// How much longer a start may take while the helper waits out a backoff.
    pub emulated_max: Duration,
}

impl Backoff {
    pub fn new(app: &App, systemd_version: u32) -> Backoff {
        let fixed = Backoff {
            restart_sec: app.restart_delay.unwrap_or(defaults::RESTART_DELAY),
            steps: None,
            emulated: None,
            emulated_max: Duration::ZERO,
        };
        let Some(initial) = app.exp_backoff_restart_delay else {
            // Quick failures back off all the same, from `restart_delay`:
            // a crash loop stays cheap. The helper counts them, as it
            // forgets them once the app runs well (RestartSteps= does not).
            if fixed.restart_sec.is_zero() {
                return fixed;
            }
            return Backoff {
                emulated: Some(fixed.restart_sec),
                emulated_max: defaults::MAX_BACKOFF.max(fixed.restart_sec),
                ..fixed
            };
        };
        if systemd_version >= RESTART_STEPS_SINCE {
            let ratio = defaults::MAX_BACKOFF.as_secs_f64() / initial.as_secs_f64().max(0.001);
            let steps = ratio.ln() / 1.5f64.ln();
            Backoff {
                restart_sec: initial,
                steps: (steps > 0.0).then(|| steps.ceil() as u32),
                ..fixed
            }
        } else {
            Backoff {
                emulated: Some(initial),
                emulated_max: defaults::MAX_BACKOFF.max(initial),
                ..fixed
            }
        }
    }
}

impl Backoff {
    /// `StartLimitIntervalSec=`: long enough for `max_restarts` quick
    /// failures, each up to `min_uptime` and its delay, so that a crash
    /// loop ends failed at `max_restarts` (`StartLimitBurst=`).
    pub fn start_limit_interval(&self, min_uptime: Duration, max_restarts: u32) -> Duration {
        let delay = |restart| match (self.emulated, self.steps) {
            // systemd waits RestartSec=, then the helper its delay.
            (Some(base), _) => self.restart_sec + backoff_delay(base, restart),
            // RestartSec= grows by about 1.5 a step, as the helper's delay.
            (None, Some(_)) => backoff_delay(self.restart_sec, restart),
            (None, None) => self.restart_sec,
        };
        (1..=max_restarts)
            .map(|restart| min_uptime + delay(restart))
            .sum()
    }
}

/// The helper's options for a worker of `app`; the instance is `%i`.
pub fn helper_options(
    app: &App,
    listen: &[String],
    program: &Program,
    backoff: &Backoff,
) -> HelperOptions {
    // Every field written out: a new option is the compiler's to decide.
    HelperOptions {
        app: app.name.get_ref().to_string(),
        instance: Instance::Specifier,
        runtime: program.runtime,
        wait_ready: app.wait_ready,
        listen: listen.to_vec(),
        sticky: app.sticky,
        share_ports: super::ports::shares_code_ports(app, program.runtime),
        serve: program.serve,
        kill_timeout: app.kill_timeout,
        listen_timeout: app.listen_timeout,
        min_uptime: app.min_uptime,
        max_memory: app.max_memory_restart.map(|Bytes(limit)| limit),
        unresponsive_timeout: app
            .unresponsive_timeout
            .as_ref()
            .filter(|_| program.runtime.runs_node())
            .map(|timeout| *timeout.get_ref()),
        // Only Node has a preload to measure with.
        runtime_metrics: app.pmx || !program.runtime.runs_node(),
        shutdown_with_message: app.shutdown_with_message,
        increment_var: app.increment_var.clone(),
        credentials: match app.credentials_env {
            true => app.credentials.keys().cloned().collect(),
            false => Vec::new(),
        },
        exp_backoff: backoff.emulated,
        command: program.argv.iter().map(OsString::from).collect(),
    }
}

/// The words of a worker's `ExecReload=`, after the helper's path: the
/// successor-first reload of a Node app that serves from the socket unit or
/// from the sockets its helper holds for ports in its code. Other workers
/// restart: an app that binds its own port would find it taken by the
/// running process, and the helper cannot see when a program other than
/// Node is ready.
pub fn replace_words(options: &HelperOptions, listen: &[String]) -> Option<Vec<String>> {
    let replace = ReplaceOptions {
        app: options.app.clone(),
        instance: Instance::Specifier,
    };
    (options.runtime.runs_node() && (!listen.is_empty() || options.share_ports))
        .then(|| replace.escaped_words(escape::exec_word))
}

/// The options as words of `ExecStart=`, after the helper's path.
pub fn exec_words(options: &HelperOptions) -> Vec<String> {
    options.escaped_words(escape::exec_word)
}

/// The options read back from the words after the helper's path.
pub fn parse_helper_options(words: &[String]) -> Result<HelperOptions, ArgsError> {
    match parse(words.iter().map(OsString::from))? {
        Request::Run(options) => Ok(options),
        _ => Err(ArgsError::NotARun),
    }
}
