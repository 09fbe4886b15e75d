//! The worker's `ExecStart=`: nodeunits-helper, its options, then the
//! program; and how restarts are spaced, which decides some of them.

use std::time::Duration;

use super::escape;
use super::facts::CompileOptions;
use super::program::Program;
use crate::ecosystem::settings::{defaults, App};
use crate::ecosystem::values::Bytes;

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
            return fixed;
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

pub fn helper_command_line(
    app: &App,
    options: &CompileOptions,
    listen: &[String],
    program: &Program,
    backoff: &Backoff,
) -> String {
    let helper = options.bin_dir.join("nodeunits-helper");
    let mut words = vec![
        escape::exec_word(&helper.to_string_lossy()),
        "--app".into(),
        escape::exec_word(app.name.get_ref()),
        "--instance".into(),
        "%i".into(),
    ];
    let mut flag = |set: bool, name: &str| {
        if set {
            words.push(name.to_owned());
        }
    };
    flag(program.is_node, "--node");
    flag(app.wait_ready, "--wait-ready");
    for addr in listen {
        words.push("--listen".into());
        words.push(escape::exec_word(addr));
    }
    words.push("--kill-timeout".into());
    words.push(app.kill_timeout.as_millis().to_string());
    if let Some(Bytes(limit)) = app.max_memory_restart {
        words.push("--max-memory".into());
        words.push(limit.to_string());
    }
    if app.shutdown_with_message {
        words.push("--shutdown-with-message".into());
    }
    if let Some(var) = &app.increment_var {
        words.push("--increment-var".into());
        words.push(escape::exec_word(var));
    }
    if let Some(initial) = backoff.emulated {
        words.push("--exp-backoff".into());
        words.push(initial.as_millis().to_string());
    }
    words.push("--".into());
    words.extend(program.argv.iter().map(|word| escape::exec_word(word)));
    words.join(" ")
}
