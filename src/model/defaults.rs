//! Values the compiler writes into units and the helper acts on: one
//! definition each, so the two sides cannot drift apart.

use std::time::Duration;

/// The helper's exit status after a memory restart; the worker unit's
/// `RestartForceExitStatus=` restarts it even with `autorestart = false`.
pub const EXIT_MEMORY_RESTART: u8 = 75;
/// The helper's exit status when its command line or environment is wrong
/// (`EX_CONFIG` of sysexits.h).
pub const EXIT_CONFIG: u8 = 78;
/// PM2's 1600 ms: the time an app has to drain before SIGKILL.
pub const KILL_TIMEOUT: Duration = Duration::from_millis(1600);
/// PM2's: `exp_backoff_restart_delay` grows by 1.5 up to 15 s.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15);
/// The most workers an app may have: each is a unit for systemd to track,
/// all named on the app unit's one `Wants=` line.
pub const MAX_INSTANCES: u32 = 1024;
/// The variable holding the instance number, as in PM2.
pub const INSTANCE_VAR: &str = "NODE_APP_INSTANCE";
