//! SIGINT, SIGTERM and SIGHUP (a lost terminal) while nodeunits changes
//! units: noted rather than fatal, so that the change stops after its
//! current step and rolls back. A second signal ends the process at once;
//! the apply journal ([`super::apply_journal`]) lets the next apply finish.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use nix::sys::signal::Signal;

/// The signals that interrupt a change.
const SIGNALS: [Signal; 3] = [Signal::SIGHUP, Signal::SIGINT, Signal::SIGTERM];

/// Whether a signal asked the command to stop, and which.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    signal: Arc<AtomicUsize>,
    seen: Arc<AtomicBool>,
}

/// A change stopped by a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub struct Interrupted(pub Signal);

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interrupted by {}", self.0.as_str())
    }
}

impl Interrupted {
    /// 128 + the signal's number, as a shell reports a command it killed:
    /// 129 for SIGHUP, 130 for SIGINT, 143 for SIGTERM.
    pub fn exit_status(self) -> u8 {
        128u8.saturating_add(self.0 as u8)
    }
}

impl Interrupt {
    /// From now on SIGINT, SIGTERM and SIGHUP are noted here instead of
    /// ending the process; a second one ends it, with 128 + its number.
    pub fn on_signals() -> std::io::Result<Interrupt> {
        let interrupt = Interrupt::default();
        for signal in SIGNALS {
            let number = signal as i32;
            // Registered first, so it sees `seen` as the previous signal left it.
            signal_hook::flag::register_conditional_shutdown(
                number,
                128 + number,
                Arc::clone(&interrupt.seen),
            )?;
            signal_hook::flag::register_usize(
                number,
                Arc::clone(&interrupt.signal),
                number as usize,
            )?;
            signal_hook::flag::register(number, Arc::clone(&interrupt.seen))?;
        }
        Ok(interrupt)
    }

    /// Fails with the signal received, if one was.
    pub fn check(&self) -> Result<(), Interrupted> {
        if !self.seen.load(Ordering::SeqCst) {
            return Ok(());
        }
        let number = self.signal.load(Ordering::SeqCst) as i32;
        Err(Interrupted(
            Signal::try_from(number).unwrap_or(Signal::SIGINT),
        ))
    }

    /// As if `signal` had arrived (tests, and the test hook below).
    pub fn note(&self, signal: Signal) {
        self.signal.store(signal as usize, Ordering::SeqCst);
        self.seen.store(true, Ordering::SeqCst);
    }
}

/// The variable of the test hook: `N` or `N:SIGNAL`.
#[cfg(feature = "test-hooks")]
pub const TEST_HOOK: &str = "NODEUNITS_TEST_SIGNAL_AT_STEP";

/// A value of [`TEST_HOOK`] that is not a step.
#[cfg(feature = "test-hooks")]
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{TEST_HOOK}={0}: expected a step number from 1, optionally followed by :KILL, :INT, :TERM or :HUP")]
pub struct BadTestHook(String);

/// For the tests of interruptions: with `NODEUNITS_TEST_SIGNAL_AT_STEP=N`
/// (or `N:KILL`, `N:INT`, `N:TERM`, `N:HUP`), a change sends itself that
/// signal (SIGKILL by default) just before its step N. Its steps, counted
/// from 1 once the apply journal is written: every unit file written or
/// deleted and every request to systemd, in the order apply makes them.
/// Only in builds with the `test-hooks` feature (the test suite's), so that
/// a release binary neither reads the variable nor names it.
#[cfg(feature = "test-hooks")]
pub fn test_hook() -> Result<Option<(usize, Signal)>, BadTestHook> {
    let Some(value) = std::env::var_os(TEST_HOOK) else {
        return Ok(None);
    };
    parse_hook(&value.to_string_lossy())
}

/// Without the `test-hooks` feature: no hook.
#[cfg(not(feature = "test-hooks"))]
pub fn test_hook() -> Result<Option<(usize, Signal)>, std::convert::Infallible> {
    Ok(None)
}

#[cfg(feature = "test-hooks")]
fn parse_hook(value: &str) -> Result<Option<(usize, Signal)>, BadTestHook> {
    let (step, signal) = value.split_once(':').unwrap_or((value, "KILL"));
    let signal = match signal {
        "KILL" => Signal::SIGKILL,
        "INT" => Signal::SIGINT,
        "TERM" => Signal::SIGTERM,
        "HUP" => Signal::SIGHUP,
        _ => Signal::SIGSYS,
    };
    match step.parse::<usize>() {
        Ok(step) if step > 0 && signal != Signal::SIGSYS => Ok(Some((step, signal))),
        _ => Err(BadTestHook(value.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_status_is_128_plus_the_signal() {
        let statuses = SIGNALS.map(|signal| Interrupted(signal).exit_status());
        assert_eq!(statuses, [129, 130, 143]);
        assert_eq!(
            Interrupted(Signal::SIGINT).to_string(),
            "interrupted by SIGINT"
        );
        let interrupt = Interrupt::default();
        assert_eq!(interrupt.check(), Ok(()));
        interrupt.note(Signal::SIGTERM);
        assert_eq!(interrupt.check(), Err(Interrupted(Signal::SIGTERM)));
    }

    #[test]
    #[cfg(feature = "test-hooks")]
    fn the_test_hook_takes_a_step_and_a_signal() {
        assert_eq!(parse_hook("3"), Ok(Some((3, Signal::SIGKILL))));
        assert_eq!(parse_hook("12:INT"), Ok(Some((12, Signal::SIGINT))));
        assert_eq!(
            parse_hook("0:STOP").map_err(|e| e.to_string()),
            Err(format!("{TEST_HOOK}=0:STOP: expected a step number from 1, optionally followed by :KILL, :INT, :TERM or :HUP"))
        );
    }
}
