//! Everything nodeunits installs for one app, typed. The compiler builds it
//! from the ecosystem file and renders it into unit files; reading installed
//! unit files gives it back (`units::read`), so `apply`, `scale` and `delete`
//! plan with values, never with unit text. Values are raw: escaping for a
//! unit file happens when rendering, and is undone when reading.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::name::UnitKind;
use super::{AppName, HelperOptions, Scope};

/// A memory size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes", self.0)
    }
}

/// Where a stream goes instead of the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// `append:PATH`.
    Append(PathBuf),
    /// `append:PATH` with the worker's number in it: the path ends in
    /// [`PER_WORKER`], written `-%i.log` (`merge_logs = false`).
    PerWorker(PathBuf),
    /// `null`: discarded.
    Null,
}

/// How a per-worker log file's path ends: `%i` is the instance.
pub const PER_WORKER: &str = "-%i.log";

impl LogTarget {
    /// The file appended to, if any (a per-worker file with `%i` in it).
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            LogTarget::Append(file) | LogTarget::PerWorker(file) => Some(file),
            LogTarget::Null => None,
        }
    }

    /// This target with one file per worker, as PM2 splits a log file when
    /// its logs are not merged: `-N.log` or `.log` at the end becomes
    /// `-%i.log`; a file not ending in `.log` stays shared, as in PM2.
    pub fn per_worker(self) -> LogTarget {
        let LogTarget::Append(file) = &self else {
            return self;
        };
        let text = file.to_string_lossy();
        let Some(stem) = text.strip_suffix(".log") else {
            return self;
        };
        let numbered = stem
            .rsplit_once('-')
            .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        let stem = numbered.map_or(stem, |(before, _)| before);
        LogTarget::PerWorker(PathBuf::from(format!("{stem}{PER_WORKER}")))
    }
}

/// One app's units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUnits {
    pub name: AppName,
    /// `X-Nodeunits-Name=`: PM2's name of the app, when it cannot name
    /// units and `name` is what it maps to.
    pub pm2_name: Option<String>,
    /// `SourcePath=`: the ecosystem file it was compiled from, absolute.
    pub source: PathBuf,
    /// `X-Nodeunits-Namespace=`.
    pub namespace: Option<String>,
    /// `X-Nodeunits-Profile=`: the `--env` it was compiled with.
    pub profile: Option<String>,
    /// The manager the units are for.
    pub scope: Scope,
    /// The addresses of the socket unit, in order, each once (a sticky app's
    /// socket repeats its TCP addresses: [`AppUnits::socket_lines`]); empty:
    /// no socket unit.
    pub listen: Vec<String>,
    /// How many workers the app unit wants: `APP@0` … `APP@N-1`.
    pub instances: u32,
    /// The count was set by `nodeunits scale`, not by the ecosystem file.
    pub scaled: bool,
    /// The `nodeunits` binary the app unit's `ExecReload=` runs.
    pub nodeunits: PathBuf,
    /// `autostart`: apply enables and starts the app; else it installs the
    /// units only (`X-Nodeunits-Autostart=no`), and the app starts with
    /// `nodeunits start`, never at boot.
    pub autostart: bool,
    pub worker: Worker,
    pub cron: Option<Cron>,
    /// `APP-logs.service`: the writer of the log files, when they are
    /// rotated, timestamped or JSON (the worker's streams then go to the
    /// journal, which it follows).
    pub logs: Option<super::LogWriter>,
    /// `APP-watch.service`: PM2's `watch`, which reloads the app when one
    /// of its files changes.
    pub watch: Option<super::Watcher>,
}

/// The worker template `APP@.service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    /// The `nodeunits-helper` binary.
    pub helper: PathBuf,
    /// Its options, the program included; the instance is `%i`.
    pub options: HelperOptions,
    pub working_directory: PathBuf,
    /// The variable set to the instance number (`NODE_APP_INSTANCE`).
    pub instance_var: String,
    /// The declared environment, by name: in the environment file, which
    /// only its owner reads; the template names the variables. A value is
    /// `None` when it could not be read back (the file is root's).
    pub environment: BTreeMap<String, Option<String>>,
    pub environment_file: Option<PathBuf>,
    /// `LoadCredentialEncrypted=` (a `.cred` file) or `LoadCredential=`,
    /// by name: the file each credential is read from.
    pub credentials: BTreeMap<String, PathBuf>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub start_limit_interval: Duration,
    pub start_limit_burst: u32,
    /// `TimeoutStopSec=`: kill_timeout.
    pub stop_timeout: Duration,
    /// `TimeoutStartSec=`.
    pub start_timeout: Duration,
    /// `Restart=always` (else `no`).
    pub restart: bool,
    /// `RestartPreventExitStatus=`.
    pub stop_exit_codes: Vec<u8>,
    /// `RestartForceExitStatus=`: the helper's memory-restart status.
    pub force_restart_status: Option<u8>,
    /// `RestartSec=`.
    pub restart_delay: Duration,
    /// `RestartSteps=` (systemd ≥ 254), with `RestartMaxDelaySec=`.
    pub restart_steps: Option<RestartSteps>,
    /// `MemoryMax=`: the backstop above max_memory_restart.
    pub memory_max: Option<Bytes>,
    pub standard_output: Option<LogTarget>,
    pub standard_error: Option<LogTarget>,
    /// systemd's hardening; `None` with `hardening = "off"`.
    pub sandbox: Option<Sandbox>,
    /// The directives of options that are one directive and nothing else
    /// (`Row::plain` in src/options), by key, with their values as written.
    pub plain: BTreeMap<&'static str, String>,
}

/// The worker's sandbox (systemd.exec(5)): what varies from app to app. The
/// directives that never vary are written by the compiler (`units::sandbox`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    /// `ReadWritePaths=`, under `ProtectSystem=strict`: the app's directory,
    /// its log files' directories and its `read_write_paths`.
    pub read_write_paths: Vec<PathBuf>,
    /// `ProtectHome=`.
    pub protect_home: ProtectHome,
    /// `PrivateTmp=yes`: a `/tmp` and `/var/tmp` of the worker's own; not
    /// for an app that lives, or runs a program, in one of them.
    pub private_tmp: bool,
    /// The systemd release the directives are for: the newest release that
    /// added one of them and is not newer than the target systemd. The
    /// directives newer than it are left out.
    pub systemd: u32,
}

/// `ProtectHome=`: the home directories (`/home`, `/root`, `/run/user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectHome {
    /// `yes`: hidden.
    Hidden,
    /// `read-only`: for an app that lives, or runs a program, in one.
    ReadOnly,
}

/// An exponential restart delay done by systemd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartSteps {
    pub steps: u32,
    pub max_delay: Duration,
}

/// `APP-cron.timer` and the service it triggers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    /// `OnCalendar=`.
    pub on_calendar: String,
    /// The `systemctl` binary its service runs.
    pub systemctl: PathBuf,
}

/// The time systemd gives the app unit's start: every instance may take its
/// start and a stop, one after the other, and some slack.
pub const APP_START_SLACK: Duration = Duration::from_secs(30);

impl AppUnits {
    /// `TimeoutStartSec=` of the app unit, which waits for every instance.
    /// Saturates: units read back from an edited file may hold any values.
    /// The socket unit's `ListenStream=` values, in order.
    pub fn socket_lines(&self) -> Vec<String> {
        super::sockets::lines(&self.listen, self.worker.options.sticky, self.instances)
    }

    /// The file a stream of the app's workers ends in (stderr when `err`),
    /// whoever writes it: the log writer, or systemd (`append:`).
    pub fn log_file(&self, err: bool) -> Option<&std::path::Path> {
        let writer = self.logs.as_ref();
        let written = writer.and_then(|w| if err { &w.err } else { &w.out }.as_deref());
        let target = match err {
            true => &self.worker.standard_error,
            false => &self.worker.standard_output,
        };
        written.or_else(|| target.as_ref()?.file())
    }

    /// The kinds of unit file the app has, in the order they are written:
    /// a socket when it listens, cron units with `cron_restart`.
    pub fn kinds(&self) -> Vec<UnitKind> {
        let listens = !self.listen.is_empty();
        let cron = self.cron.is_some();
        UnitKind::ALL
            .into_iter()
            .filter(|kind| match kind {
                UnitKind::Socket => listens,
                UnitKind::CronTimer | UnitKind::CronService => cron,
                UnitKind::Logs => self.logs.is_some(),
                UnitKind::Watch => self.watch.is_some(),
                UnitKind::Template | UnitKind::App => true,
            })
            .collect()
    }

    pub fn app_start_timeout(&self) -> Duration {
        let worker = &self.worker;
        let one = worker.stop_timeout.saturating_add(worker.start_timeout);
        one.saturating_mul(self.instances)
            .saturating_add(APP_START_SLACK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_file_per_worker_is_named_as_pm2_names_it() {
        let per_worker = |path: &str| LogTarget::Append(path.into()).per_worker();
        let named = |path: &str| LogTarget::PerWorker(path.into());
        assert_eq!(per_worker("/var/log/out.log"), named("/var/log/out-%i.log"));
        assert_eq!(
            per_worker("/var/log/out-3.log"),
            named("/var/log/out-%i.log")
        );
        assert_eq!(
            per_worker("/var/log/out-x.log"),
            named("/var/log/out-x-%i.log")
        );
        let shared = LogTarget::Append("/var/log/out.txt".into());
        assert_eq!(shared.clone().per_worker(), shared);
        assert_eq!(LogTarget::Null.per_worker(), LogTarget::Null);
    }
}
