//! What a supervisor under test must do; one implementation per supervisor.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};

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
    /// Starts every app of `apps` from one file, as a fleet is started (`pm2
    /// start FILE`, `oxmgr apply FILE`, `nodeunits apply FILE`), and returns
    /// once every instance of each is ready and every port answers.
    fn start_all(&mut self, apps: &[App]) -> Result<()>;
    /// Stops and forgets every app of `apps`.
    fn stop_all(&mut self, apps: &[App]) -> Result<()>;
    /// The command a user lists every process with (`pm2 ls`, `oxmgr
    /// list`, `nodeunits status`), a script for the box, run as typed.
    fn list_command(&self) -> String;
    /// The processes that answer the list command: PM2's daemon, Oxmgr's
    /// daemon, or systemd (PID 1) and the bus daemon that relays to it.
    fn list_servers(&self) -> Result<Vec<u32>>;
    /// The memory of the supervisor's own processes while `apps` run, their
    /// [`pss_kb`] summed: PM2's daemon; Oxmgr's daemon and each app's
    /// cluster primary; nodeunits' helpers.
    fn supervisor_kb(&self, apps: &[App]) -> Result<u64>;
    /// Starts the app as a server runs it, under the supervisor's own
    /// systemd integration (`pm2 startup` and `pm2 save`; Oxmgr's service
    /// unit; nodeunits' units as always), and returns once every instance
    /// serves.
    fn start_in_production(&mut self, app: &App) -> Result<()>;
    /// The process the app's workers depend on that a kill can take down:
    /// PM2's or Oxmgr's daemon; for nodeunits, which has none, the helper of
    /// the app's first instance.
    fn supervisor_pid(&self, app: &App) -> Result<u32>;
    /// Stops what [`Supervisor::start_in_production`] started, and leaves
    /// the supervisor as [`Supervisor::stop`] does.
    fn stop_in_production(&mut self, app: &App) -> Result<()>;
    /// Stops and forgets every app, whatever state a failed measure left
    /// them in, and leaves the supervisor as [`Supervisor::stop`] does: the
    /// next measure starts on a clean box.
    fn clear(&mut self) -> Result<()>;
}

/// Stops every process that a scope of `systemd-run` holds in the box: the
/// load, and what a supervisor's command started (its daemon, its apps).
pub const STOP_SCOPES: &str =
    "systemctl stop load.slice 'run-*.scope' 2>/dev/null; systemctl reset-failed";

/// Waits until every app answers HTTP on its port inside the box, asking
/// them all from one process.
pub fn wait_all_serving(host: &dyn Host, apps: &[App], timeout: Duration) -> Result<()> {
    let ports: Vec<String> = apps.iter().map(|app| app.port.to_string()).collect();
    let script = format!(
        "const http = require(\"http\"); let left = [{}]; const until = Date.now() + {}; \
         const ask = (port) => new Promise((done) => http.get(`http://127.0.0.1:${{port}}/`, \
           (r) => {{ r.resume(); done(r.statusCode < 400); }}).on(\"error\", () => done(false))); \
         (async () => {{ while (left.length) {{ \
           const answered = await Promise.all(left.map(ask)); \
           left = left.filter((_, i) => !answered[i]); \
           if (!left.length) break; \
           if (Date.now() > until) {{ console.error(\"not answering: \" + left.join(\" \")); process.exit(1); }} \
           await new Promise((r) => setTimeout(r, 50)); }} }})();",
        ports.join(", "),
        timeout.as_millis()
    );
    // Single-quoted for the shell: the script has `$` and backquotes.
    host.ok(&format!("node -e '{script}'"))
        .with_context(|| format!("waiting for {} apps to answer on their ports", apps.len()))
        .map(drop)
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

/// The proportional set size of one process of the box, in kB: its pages,
/// each shared one divided among the processes that map it, so that the
/// memory of many processes of one program adds up to what they take.
pub fn pss_kb(host: &dyn Host, pid: u32) -> Result<u64> {
    let text = host.ok(&format!(
        "awk '/^Pss:/ {{print $2}}' /proc/{pid}/smaps_rollup"
    ))?;
    text.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("no Pss for process {pid} in the box: {text:?}"))
}

/// Waits until the app answers HTTP on its port inside the box.
pub fn wait_serving(host: &dyn Host, app: &App, timeout: Duration) -> Result<()> {
    wait_all_serving(host, std::slice::from_ref(app), timeout)
}
