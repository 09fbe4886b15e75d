//! What a supervisor under test must do; one implementation per supervisor.

use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::apps::{App, Logging, Rotation};
use crate::host::Host;

/// Resident memory, in kB.
#[derive(Debug, Clone, Default)]
pub struct Footprint {
    /// The supervisor's own processes: PM2's daemon, Oxmgr's daemon and
    /// cluster primary, or the helpers.
    pub supervisor_kb: u64,
    /// Each worker's node process.
    pub workers_kb: Vec<u64>,
}

pub trait Supervisor {
    fn name(&self) -> &'static str;
    fn host(&self) -> &dyn Host;
    /// A directory of this supervisor's own, for scratch files.
    fn work_dir(&self) -> &Path;
    /// Starts the app and returns once every instance is ready.
    fn start(&mut self, app: &App) -> Result<()>;
    /// One rolling reload of every instance; returns when it is done.
    fn reload(&mut self, app: &App) -> Result<()>;
    fn stop(&mut self, app: &App) -> Result<()>;
    fn footprint(&self, app: &App) -> Result<Footprint>;
    /// The PIDs (in the box) of the processes that stand for the workers:
    /// a reload replaces every one of them.
    fn worker_pids(&self, app: &App) -> Result<Vec<u32>>;
    /// Restarts of the app's workers since it started, for any reason.
    fn restarts(&self, app: &App) -> Result<u64>;
    /// Rotates the log files of the apps started from now on with these
    /// settings, or stops rotating (`None`). PM2 runs pm2-logrotate;
    /// nodeunits needs nothing, as each app's `log_rotate` says it; Oxmgr
    /// cannot (an error).
    fn rotate_logs(&mut self, rotation: Option<Rotation>) -> Result<()>;
    /// A shell command for the box that prints every line the app wrote on
    /// stdout where this supervisor keeps it by default.
    fn default_log(&self, app: &App) -> String;
    /// The process that watches the app's files: PM2's or Oxmgr's daemon
    /// (with or without a watch), or nodeunits' watcher (none without a
    /// watch).
    fn watcher_pid(&self, app: &App) -> Result<Option<u32>>;
}

/// The CPU time a process of the box has used, in milliseconds.
pub fn cpu_ms(host: &dyn Host, pid: u32) -> Result<f64> {
    // utime and stime, fields 14 and 15, in clock ticks; the name (field 2)
    // is in parentheses and may hold spaces, so count after its `)`.
    let stat = host.ok(&format!("cat /proc/{pid}/stat; getconf CLK_TCK"))?;
    let mut lines = stat.lines();
    let fields = lines.next().unwrap_or_default();
    let after_name = fields.rsplit_once(')').map_or("", |(_, rest)| rest);
    let words: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| words.get(i).and_then(|w| w.parse::<f64>().ok());
    let hz: f64 = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(100.0);
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => Ok((user + system) * 1000.0 / hz),
        _ => bail!("no CPU times in /proc/{pid}/stat: {fields:?}"),
    }
}

/// A shell command for the box that prints every line the app wrote on
/// stdout: its log files, the current and the rotated ones decompressed,
/// or the supervisor's default place.
pub fn logged_lines(supervisor: &dyn Supervisor, app: &App) -> String {
    match &app.logging {
        Logging::Default => supervisor.default_log(app),
        Logging::RotatedFile { path, .. } => {
            let dir = path.parent().unwrap_or(path);
            format!(
                "find {} -name '*.log' -o -name '*.log.gz' | xargs -r zcat -f",
                dir.display()
            )
        }
    }
}

/// The resident set of one process of the box, in kB.
pub fn rss_kb(host: &dyn Host, pid: u32) -> Result<u64> {
    let text = host.ok(&format!("awk '/^VmRSS:/ {{print $2}}' /proc/{pid}/status"))?;
    text.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("no VmRSS for process {pid} in the box: {text:?}"))
}

/// Waits until the app answers HTTP on its port inside the box.
pub fn wait_serving(host: &dyn Host, app: &App, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let probe = format!(
        "node -e \"require('http').get('http://127.0.0.1:{}/', (r) => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))\"",
        app.port
    );
    while Instant::now() < deadline {
        if host.sh(&probe)?.status.success() {
            return Ok(());
        }
        sleep(Duration::from_millis(50));
    }
    bail!(
        "{} did not answer on 127.0.0.1:{} within {timeout:?}",
        app.name,
        app.port
    )
}
