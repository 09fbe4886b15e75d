//! The validated, typed form of an ecosystem file. Nothing here is raw TOML;
//! relative paths are already resolved against the file's directory. What
//! depends on the machine (CPU count, `PATH`, the environment) is resolved
//! later, when the units are planned.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::values::Instances;
use crate::model::AppName;
pub use crate::model::{Bytes, LogTarget};

/// A whole ecosystem file.
#[derive(Debug, Clone)]
pub struct Ecosystem {
    /// The file, absolute.
    pub path: PathBuf,
    pub apps: Vec<App>,
}

/// What `watch` watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// `watch = true`: the app's `cwd`.
    Cwd,
    /// `watch = "src"` or a list: these paths, relative to `cwd`.
    Paths(Vec<String>),
}

/// One `[[apps]]` entry.
#[derive(Debug, Clone)]
pub struct App {
    /// The name of the app's units.
    pub name: Spanned<AppName>,
    /// PM2's name, when it is not the units' (`AppName::from_pm2`).
    pub pm2_name: Option<String>,
    pub namespace: Option<String>,
    /// As written: a path (relative to `cwd`) or a command looked up in `PATH`.
    pub script: Spanned<String>,
    pub args: Vec<String>,
    pub interpreter: Interpreter,
    pub interpreter_args: Vec<String>,
    pub source_map_support: Option<Spanned<bool>>,
    /// The working directory, absolute.
    pub cwd: PathBuf,
    pub instances: Instances,
    pub exec_mode: ExecMode,
    /// `env`.
    pub env: BTreeMap<String, String>,
    /// `env_<profile>`, by profile.
    pub profiles: BTreeMap<String, BTreeMap<String, String>>,
    pub env_file: Option<PathBuf>,
    pub inherit_env: Vec<Spanned<String>>,
    /// `credentials`: systemd credentials by name, each a file (absolute).
    pub credentials: BTreeMap<String, PathBuf>,
    /// `log_rotate`: pm2-logrotate's settings for the log files.
    pub log_rotate: Option<crate::model::Rotate>,
    /// `log_date_format` (or `time = true`): each line in the files starts
    /// with its time so formatted.
    pub log_date_format: Option<String>,
    /// `log_type = "json"`: PM2's JSON lines in the files.
    pub log_json: bool,
    /// `merge_logs`: one log file for every worker; `None`: PM2's default.
    pub merge_logs: Option<bool>,
    /// `watch`: reload the app when its files change; `None`: off.
    pub watch: Option<Watch>,
    /// `ignore_watch`: globs from `cwd`; `None`: PM2's default.
    pub ignore_watch: Option<Vec<String>>,
    /// `watch_delay`: from the first change to the reload.
    pub watch_delay: Duration,
    /// `credentials_env`: the helper sets each credential as a variable.
    pub credentials_env: bool,
    pub port: Option<Spanned<u16>>,
    pub listen: Vec<Listen>,
    /// `sticky`: a client address keeps reaching one worker.
    pub sticky: bool,
    pub user: Option<Spanned<String>>,
    pub group: Option<Spanned<String>>,
    /// `autostart`: apply starts the app (else it only installs it).
    pub autostart: bool,
    pub autorestart: bool,
    pub stop_exit_codes: Vec<u8>,
    pub min_uptime: Duration,
    pub max_restarts: NonZeroU32,
    pub restart_delay: Option<Duration>,
    pub exp_backoff_restart_delay: Option<Duration>,
    pub max_memory_restart: Option<Bytes>,
    /// `unresponsive_timeout`: the event-loop watchdog's bound.
    pub unresponsive_timeout: Option<Spanned<Duration>>,
    /// `pmx`: the preload measures the process from inside (heap, event
    /// loop, HTTP requests) for `metrics`, `describe` and `monit`.
    pub pmx: bool,
    pub kill_timeout: Duration,
    pub listen_timeout: Duration,
    pub wait_ready: bool,
    pub shutdown_with_message: bool,
    pub instance_var: String,
    pub increment_var: Option<String>,
    /// `cron_restart`, already in `OnCalendar=` syntax.
    pub cron_restart: Option<String>,
    pub out_file: Option<LogFile>,
    pub error_file: Option<LogFile>,
    /// `log_file`: both streams, where no file of their own takes them.
    pub log_file: Option<Spanned<LogFile>>,
    /// `hardening`: the workers run in systemd's sandbox unless it is `"off"`.
    pub hardening: bool,
    /// `read_write_paths`, absolute: more the sandbox lets the app write.
    pub read_write_paths: Vec<PathBuf>,
    /// The options that are one directive of the worker and nothing else
    /// (`Row::plain` in src/options): the directive's value, by its key.
    pub plain: BTreeMap<&'static str, String>,
}

impl App {
    /// The app `name` running `script` from `dir`, every other option at
    /// its default: what the option table's rows then set.
    pub fn new(name: Spanned<AppName>, script: Spanned<String>, dir: &std::path::Path) -> App {
        App {
            name,
            pm2_name: None,
            namespace: None,
            script,
            args: Vec::new(),
            interpreter: Interpreter::ByExtension,
            interpreter_args: Vec::new(),
            source_map_support: None,
            cwd: dir.to_path_buf(),
            instances: Instances::Count(NonZeroU32::MIN),
            exec_mode: ExecMode::Fork,
            env: BTreeMap::new(),
            profiles: BTreeMap::new(),
            env_file: None,
            inherit_env: Vec::new(),
            credentials: BTreeMap::new(),
            credentials_env: true,
            merge_logs: None,
            log_rotate: None,
            log_date_format: None,
            log_json: false,
            watch: None,
            ignore_watch: None,
            watch_delay: Duration::ZERO,
            port: None,
            listen: Vec::new(),
            sticky: false,
            user: None,
            group: None,
            autostart: true,
            autorestart: true,
            stop_exit_codes: Vec::new(),
            min_uptime: defaults::MIN_UPTIME,
            max_restarts: NonZeroU32::new(defaults::MAX_RESTARTS).expect("non-zero"),
            restart_delay: None,
            exp_backoff_restart_delay: None,
            max_memory_restart: None,
            unresponsive_timeout: None,
            pmx: true,
            kill_timeout: defaults::KILL_TIMEOUT,
            listen_timeout: defaults::LISTEN_TIMEOUT,
            wait_ready: false,
            shutdown_with_message: false,
            instance_var: defaults::INSTANCE_VAR.to_owned(),
            increment_var: None,
            cron_restart: None,
            out_file: None,
            error_file: None,
            log_file: None,
            hardening: true,
            read_write_paths: Vec::new(),
            plain: BTreeMap::new(),
        }
    }
}

/// What runs the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interpreter {
    /// Not set: Node for `.js`, `.mjs` and `.cjs` scripts, else none.
    ByExtension,
    /// `"none"`: the script is executed directly.
    None,
    /// A command looked up in `PATH`, or an absolute path.
    Program(Spanned<String>),
}

/// A log path as written, resolved but for the home directory, which
/// depends on the account the app runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFile {
    /// `"NULL"` or `"/dev/null"`: discarded.
    Null,
    /// Absolute: relative paths are from `cwd`, as in PM2.
    Path(std::path::PathBuf),
    /// `~/...`: this path under the home directory of the app's account.
    Home(std::path::PathBuf),
}

/// `exec_mode`, or PM2's choice when it is not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecMode {
    Fork,
    Cluster,
    /// Not written, but `instances` is: PM2 runs a Node app in cluster
    /// mode, anything else in fork mode.
    ClusterIfNode,
}

/// One socket systemd holds for the workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// `ListenStream=` host:port, `[v6]:port`, or a bare port for all addresses.
    Tcp(String),
    /// An absolute path to a unix socket.
    Unix(PathBuf),
}

/// PM2's defaults, or systemd's where it offers better.
pub mod defaults {
    use std::time::Duration;

    /// Defined in the model: the compiler and the helper both use them.
    pub use crate::model::defaults::{
        INSTANCE_VAR, KILL_TIMEOUT, LISTEN_TIMEOUT, MAX_BACKOFF, MIN_UPTIME,
    };
    /// PM2's.
    pub const MAX_RESTARTS: u32 = 16;
    /// systemd's: PM2's 0 restarts a crashing app in a tight loop.
    pub const RESTART_DELAY: Duration = Duration::from_millis(100);
}
