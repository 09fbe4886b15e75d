//! Values the compiler writes into units and the helper acts on: one
//! definition each, so the two sides cannot drift apart.

use std::time::Duration;

/// The helper's exit status after a memory restart; the worker unit's
/// `RestartForceExitStatus=` restarts it even with `autorestart = false`.
pub const EXIT_MEMORY_RESTART: u8 = 75;
/// The helper's exit status after it killed an app whose event loop did
/// not turn for `unresponsive_timeout`.
pub const EXIT_UNRESPONSIVE: u8 = 76;
/// The helper's exit status when its command line or environment is wrong
/// (`EX_CONFIG` of sysexits.h).
pub const EXIT_CONFIG: u8 = 78;
/// PM2's 1600 ms: the time an app has to drain before SIGKILL.
pub const KILL_TIMEOUT: Duration = Duration::from_millis(1600);
/// PM2 waits 3 s and then carries on as if the app were ready; systemd
/// fails the start instead, so the default leaves a slow boot more room.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(30);
/// PM2's: a process up this long counts as started. A reload moves on to
/// the next worker only once its successor has been up this long.
pub const MIN_UPTIME: Duration = Duration::from_millis(1000);
/// PM2's: `exp_backoff_restart_delay` grows by 1.5 up to 15 s.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15);
/// The most workers an app may have: each is a unit for systemd to track,
/// all named on the app unit's one `Wants=` line.
pub const MAX_INSTANCES: u32 = 1024;
/// The variable holding the instance number, as in PM2.
pub const INSTANCE_VAR: &str = "NODE_APP_INSTANCE";

/// The delay before the start that follows `restarts` quick restarts:
/// none for the first start, then `base`, then ×1.5 each time up to
/// `MAX_BACKOFF`, as PM2 does.
pub fn backoff_delay(base: Duration, restarts: u32) -> Duration {
    // In whole milliseconds: PM2 floors at each step.
    let (base_ms, max_ms) = (base.as_millis() as u64, MAX_BACKOFF.as_millis() as u64);
    let mut delay_ms = 0u64;
    for restart in 0..restarts {
        delay_ms = if restart == 0 {
            base_ms
        } else {
            delay_ms.saturating_mul(3) / 2
        };
        if delay_ms >= max_ms {
            delay_ms = max_ms;
            break;
        }
    }
    Duration::from_millis(delay_ms.min(max_ms))
}

/// The helper's journal line when it kills an app whose event loop has
/// not turned for `timeout`.
pub fn unresponsive_line(silent: Duration, timeout: Duration) -> String {
    format!(
        "the app's event loop has not turned for {} ms, over unresponsive_timeout ({} ms): killing it, as it cannot drain, to restart it (exit status {EXIT_UNRESPONSIVE})",
        silent.as_millis(),
        timeout.as_millis()
    )
}

const MEMORY_RESTART_START: &str = "resident memory of the app's processes is ";
const MEMORY_RESTART_END: &str = ": restarting it gracefully (exit status 75)";

/// The helper's journal line when it restarts a worker for memory, with
/// its figures; `nodeunits describe` reads the figures back with
/// [`memory_restart_figures`].
pub fn memory_restart_line(figures: &str) -> String {
    format!("{MEMORY_RESTART_START}{figures}{MEMORY_RESTART_END}")
}

/// The figures of a [`memory_restart_line`]; `None` for any other line.
pub fn memory_restart_figures(line: &str) -> Option<&str> {
    line.strip_prefix(MEMORY_RESTART_START)?
        .strip_suffix(MEMORY_RESTART_END)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_grows_by_half_and_stops_at_fifteen_seconds() {
        let ms = |restarts| backoff_delay(Duration::from_millis(100), restarts).as_millis();
        assert_eq!([ms(0), ms(1), ms(2), ms(3), ms(4)], [0, 100, 150, 225, 337]);
        assert_eq!(ms(12), 8_614, "floored at each step, as PM2 does");
        assert_eq!(ms(14), 15_000);
        assert_eq!(ms(1000), 15_000);
        assert_eq!(backoff_delay(Duration::from_secs(60), 1), MAX_BACKOFF);
    }

    #[test]
    fn the_memory_restart_line_gives_its_figures_back() {
        let figures =
            "150.2 MB (157483008 bytes), over max_memory_restart 143.1 MB (150000000 bytes)";
        let line = memory_restart_line(figures);
        assert!(line.ends_with(&format!("(exit status {EXIT_MEMORY_RESTART})")));
        assert_eq!(memory_restart_figures(&line), Some(figures));
        assert_eq!(memory_restart_figures("ready"), None);
    }
}
