//! PM2's options of `pm2 start SCRIPT`, which `nodeunits start SCRIPT`
//! writes into an ecosystem file of the app's own (see `cli::start`).

use std::path::PathBuf;

use clap::Args;

/// The options of an app started from the command line. Each is the
/// ecosystem key of the same name (`--max-memory-restart` is
/// `max_memory_restart`), with PM2's meaning.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Options for a SCRIPT (PM2's)")]
pub struct ScriptArgs {
    /// The app's name [default: the script's file name without its extension].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// How many workers: a number, `max` (one per CPU) or `-1` (one fewer).
    #[arg(
        short = 'i',
        long,
        value_name = "N|max|-1",
        allow_negative_numbers = true
    )]
    pub instances: Option<String>,
    /// The working directory, which a relative SCRIPT is found from [default: the current directory].
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub cwd: Option<PathBuf>,
    /// The interpreter [default: by the script's extension, as PM2 picks it].
    #[arg(long, value_name = "PATH")]
    pub interpreter: Option<String>,
    /// Options for node itself (`--node-args="--max-old-space-size=512"`).
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub node_args: Option<String>,
    /// For a script: a variable of the app's environment, KEY=VALUE
    /// (repeatable; the shell's own variables are not taken). For an
    /// ecosystem file: select `env_NAME`.
    #[arg(long = "env", value_name = "KEY=VALUE|NAME")]
    pub env: Vec<String>,
    /// Restart a worker above this much memory (`200M`, `1G`).
    #[arg(long, value_name = "SIZE")]
    pub max_memory_restart: Option<String>,
    /// The app says it is ready with `process.send('ready')`.
    #[arg(long)]
    pub wait_ready: bool,
    /// How long a worker may take to be ready, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub listen_timeout: Option<u64>,
    /// How long a worker may take to stop before it is killed, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub kill_timeout: Option<u64>,
    /// Restart the app on this schedule (`0 3 * * *`).
    #[arg(long, visible_alias = "cron", value_name = "CRON")]
    pub cron_restart: Option<String>,
    /// nodeunits' own: a socket for the workers (`3000`, `127.0.0.1:3000`); repeatable.
    #[arg(long, value_name = "ADDRESS")]
    pub port: Vec<String>,
    /// Run the app as this user (PM2's `--user`: here `--user` selects the
    /// user's service manager).
    #[arg(long, value_name = "USER")]
    pub uid: Option<String>,
    /// The combined log file of stdout and stderr.
    #[arg(short = 'l', long = "log", value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// The file of stdout [default: the journal].
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub out_file: Option<PathBuf>,
    /// The file of stderr [default: the journal].
    #[arg(short = 'e', long = "error", value_name = "PATH")]
    pub error_file: Option<PathBuf>,
    /// Prefix each line of the log files with its time.
    #[arg(long)]
    pub time: bool,
    /// Do not restart a worker that exits.
    #[arg(long)]
    pub no_autorestart: bool,
    /// Fork mode: one process per instance, no socket shared by PM2's cluster.
    #[arg(short = 'x', long = "execute-command")]
    pub fork: bool,
    /// The script's arguments, after `--`.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

impl ScriptArgs {
    /// The options given that only a script takes, as written on the
    /// command line (`--env` is also a file's).
    pub fn given(&self) -> Vec<&'static str> {
        [
            (self.name.is_some(), "--name"),
            (self.instances.is_some(), "--instances"),
            (self.cwd.is_some(), "--cwd"),
            (self.interpreter.is_some(), "--interpreter"),
            (self.node_args.is_some(), "--node-args"),
            (self.max_memory_restart.is_some(), "--max-memory-restart"),
            (self.wait_ready, "--wait-ready"),
            (self.listen_timeout.is_some(), "--listen-timeout"),
            (self.kill_timeout.is_some(), "--kill-timeout"),
            (self.cron_restart.is_some(), "--cron-restart"),
            (!self.port.is_empty(), "--port"),
            (self.uid.is_some(), "--uid"),
            (self.log_file.is_some(), "--log"),
            (self.out_file.is_some(), "--output"),
            (self.error_file.is_some(), "--error"),
            (self.time, "--time"),
            (self.no_autorestart, "--no-autorestart"),
            (self.fork, "--execute-command"),
            (!self.args.is_empty(), "-- ARGS"),
        ]
        .into_iter()
        .filter_map(|(given, flag)| given.then_some(flag))
        .collect()
    }
}
