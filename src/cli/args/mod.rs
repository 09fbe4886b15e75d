//! The clap definition of `nodeunits`: the one source of the man pages and
//! shell completions (see `packaging/`).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::model::AppName;

/// The flags several commands share: the manager, the compile options.
mod flags;
/// The subcommands' own subcommands: `export kubernetes`, `secret set`.
mod nested;
/// PM2's options of `pm2 start SCRIPT`.
mod script;
pub use flags::{CompileArgs, HostArgs, ManagerArgs, TargetArgs};
pub use nested::{ExportTarget, SecretAction};
pub use script::ScriptArgs;

/// Where `nodeunits metrics --install` listens unless told otherwise.
pub const DEFAULT_METRICS_ADDRESS: &str = "127.0.0.1:9209";

/// PM2's features, compiled into plain systemd units.
#[derive(Debug, Parser)]
#[command(name = "nodeunits", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the units an ecosystem file compiles into.
    Render {
        /// The ecosystem file, in the format its name says: *.toml, *.yaml,
        /// *.yml, *.json, *.json5, or *.js, *.cjs, *.mjs (evaluated by node).
        file: PathBuf,
        #[command(flatten)]
        compile: CompileArgs,
        #[command(flatten)]
        manager: ManagerArgs,
        /// Write the unit files into DIR instead of printing them (each
        /// app's environment file with its values, mode 0600).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print the environment files' values instead of masking them.
        #[arg(long)]
        show_env: bool,
    },
    /// Validate an ecosystem file and print its warnings.
    Check {
        /// The ecosystem file, in the format its name says: *.toml, *.yaml,
        /// *.yml, *.json, *.json5, or *.js, *.cjs, *.mjs (evaluated by node).
        file: PathBuf,
        #[command(flatten)]
        compile: CompileArgs,
    },
    /// Print an ecosystem file of any format as an equivalent ecosystem.toml.
    ///
    /// Reads FILE as `check` does (YAML, JSON, JSON5, or JavaScript evaluated
    /// by node) and prints it in TOML on stdout: every key in the order of
    /// the file, values as the file has them (for JavaScript, as it evaluated
    /// to), each app's tables after its other keys. A key nodeunits ignores or
    /// rejects is followed by a comment saying what happens instead, or what
    /// is wrong. Relative paths stay relative: save the result beside FILE.
    Import {
        /// The ecosystem file, in the format its name says: *.toml, *.yaml,
        /// *.yml, *.json, *.json5, or *.js, *.cjs, *.mjs (evaluated by node).
        file: PathBuf,
        /// Check the result for `env_NAME`, as `check --env NAME` does.
        #[arg(long = "env", value_name = "NAME")]
        env: Option<String>,
    },
    /// Print an ecosystem file's apps for another platform.
    Export {
        #[command(subcommand)]
        target: ExportTarget,
    },
    /// Install the units of an ecosystem file and bring systemd in line with them.
    ///
    /// Prints the plan, one line per app (created, changed, removed,
    /// unchanged), writes the changed unit files atomically, reloads systemd
    /// once, starts new apps, rolls changed workers one at a time, and stops
    /// and removes the apps gone from the file. Applying the same file twice
    /// does nothing. On any failure the previous unit files come back; on
    /// SIGINT, SIGTERM or SIGHUP too, after the step under way, with exit
    /// status 130, 143 or 129. An apply that was killed is finished by the
    /// next one (see the apply journal in FILES).
    Apply {
        /// The ecosystem file, in the format its name says: *.toml, *.yaml,
        /// *.yml, *.json, *.json5, or *.js, *.cjs, *.mjs (evaluated by node).
        #[arg(default_value = "ecosystem.toml")]
        file: PathBuf,
        #[command(flatten)]
        compile: CompileArgs,
        #[command(flatten)]
        manager: ManagerArgs,
        /// Print the plan and the diff of each changed file; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run, show the environment files' values instead of
        /// masking them.
        #[arg(long, requires = "dry_run")]
        show_env: bool,
        /// Apply only these apps.
        #[arg(long, value_name = "APP,...", value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Restart an app, every app of an ecosystem file, or all, one instance at a time.
    ///
    /// The zero-downtime deploy: for APP@0, a new process of the app starts
    /// beside the running one and is ready before the old one drains (an app
    /// without a socket unit, or not Node, restarts instead); then APP@1, and
    /// so on. If a new process does not come up, the rollout stops there: that
    /// instance serves on with what it ran, as do the instances and the apps
    /// after it, and the exit status is 1.
    ///
    /// The argument is read in this order: `all` is every installed app; a
    /// name the service manager has loaded as an app is that app (with a
    /// note when a file has the same name: write ./NAME for the file); else
    /// it is the path of an ecosystem file. A file is applied as `nodeunits
    /// apply` does (the same plan, messages and rollback), then every app of
    /// it that apply did not just start or roll is rolled, changed or not,
    /// so that it runs the code now on disk.
    ///
    /// An app whose app unit is stopped stays stopped, except when named
    /// alone. --env, --bin-dir and --target-systemd apply to a file only.
    ///
    /// With --host (or --deploy), on each host over ssh in turn: the first
    /// that fails stops the others, as a rollout across hosts.
    Reload {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        hosts: HostArgs,
    },
    /// Show apps and their instances, like `pm2 ls` (also `list`, `ls`).
    ///
    /// With --host (or --deploy), the instances of every host in one table,
    /// each row naming its host: `nodeunits status --json` run on each over
    /// the machine's ssh.
    #[command(visible_aliases = ["list", "ls"])]
    Status {
        /// An installed app, by its units' name or PM2's [default: every installed app].
        #[arg(value_parser = app_name)]
        app: Option<AppName>,
        #[command(flatten)]
        manager: ManagerArgs,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        hosts: HostArgs,
    },
    /// Deploy to the hosts of an environment of the file's `deploy` section,
    /// as `pm2 deploy` does.
    ///
    /// `nodeunits deploy [FILE] ENV [setup | update | revert [N] | curr | prev
    /// | list | exec CMD]`, FILE by default the ecosystem file of the current
    /// directory. Over the machine's own ssh (its config, agent and known
    /// hosts), one host at a time: the first host that fails stops the
    /// rollout, and the message names the host, the step, the command and its
    /// output. Each deploy is a release of its own (PATH/releases/N, a git
    /// worktree of PATH/source) and PATH/current a symlink swapped
    /// atomically; post-deploy runs in the new release, its `pm2 reload|
    /// restart|start FILE` as `nodeunits reload FILE` (successor first), so
    /// the next host starts once every instance of this one is ready. A
    /// failed post-deploy puts the previous release back. `revert N` is a
    /// swap back and a reload. Each host needs nodeunits and git; `setup`
    /// checks.
    Deploy {
        /// [FILE] ENV [COMMAND [ARGS...]]
        #[arg(required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
        words: Vec<String>,
    },
    /// Show one app in full, like `pm2 describe`.
    ///
    /// The ecosystem file and profile it was applied from; its units and
    /// their states; per instance the PID, uptime, restarts and why it last
    /// restarted (memory, with the figures; a crash, with the exit status or
    /// signal; a reload), memory and CPU, and what its Node process measures
    /// from inside (heap, event-loop delay, HTTP requests); the listen
    /// addresses; where the
    /// logs go; the options as the installed units have them (the
    /// environment's names, values masked unless --show-env); and the
    /// systemctl and journalctl commands that show more.
    Describe {
        /// The app, by its units' name or PM2's (`CodeChat Api` for `CodeChat-Api`).
        #[arg(value_parser = app_name)]
        app: AppName,
        #[command(flatten)]
        manager: ManagerArgs,
        /// Print one JSON object with the same content.
        #[arg(long)]
        json: bool,
        /// Show the environment's values instead of masking them.
        #[arg(long)]
        show_env: bool,
        #[command(flatten)]
        hosts: HostArgs,
    },
    /// Print Prometheus metrics of every app, or install an endpoint serving them.
    ///
    /// Without options, prints every installed app and instance in the
    /// Prometheus text format: state, restarts, memory restarts, memory, CPU
    /// seconds, uptime, the app sockets' counters and the last reload, and
    /// what each worker's Node process measures from inside and publishes in
    /// the runtime directory every 2 s (heap, event-loop delay, active
    /// handles, HTTP requests by status class and their latency histogram;
    /// off with `pmx = false`); each worker's number under the label
    /// `worker` (Prometheus owns `instance`). With --pm2-names,
    /// pm2-prometheus-exporter's series too (pm2_up, pm2_cpu, pm2_memory,
    /// pm2_uptime, pm2_instances, pm2_restarts, and @pm2/io's
    /// pm2_used_heap_size, pm2_heap_size, pm2_heap_usage,
    /// pm2_event_loop_latency, pm2_event_loop_latency_p95,
    /// pm2_active_handles, pm2_http, pm2_http_mean_latency,
    /// pm2_http_p95_latency; labels id, name, instance), for the dashboards
    /// built on them.
    ///
    /// --install puts a socket-activated endpoint in place:
    /// nodeunits-metrics.socket (Accept=yes) on ADDRESS, and
    /// nodeunits-metrics@.service, of which each scrape starts one short-lived,
    /// sandboxed instance that answers one HTTP GET and exits; nothing runs
    /// between scrapes. --uninstall removes it.
    Metrics {
        #[command(flatten)]
        manager: ManagerArgs,
        /// Install the endpoint, listening on ADDRESS [default: 127.0.0.1:9209].
        #[arg(
            long,
            value_name = "ADDRESS",
            num_args = 0..=1,
            default_missing_value = DEFAULT_METRICS_ADDRESS,
            conflicts_with_all = ["uninstall", "http"]
        )]
        install: Option<String>,
        /// Stop and remove the endpoint.
        #[arg(long, conflicts_with = "http")]
        uninstall: bool,
        /// Answer one HTTP request on stdin and stdout (what the endpoint runs).
        #[arg(long)]
        http: bool,
        /// Also serve pm2-prometheus-exporter's series and labels; with
        /// --install, the endpoint serves them.
        #[arg(long, conflicts_with = "uninstall")]
        pm2_names: bool,
        #[command(flatten)]
        hosts: HostArgs,
    },
    /// Show the apps' logs from the journal, like `pm2 logs`.
    ///
    /// The last lines of every installed app, or of APP, merged in time
    /// order, each naming its instance: `api@1 | listening`. Lines of
    /// systemd about the app's units name the unit. What an app writes to
    /// stderr is logged at priority err (3), its stdout at info (6): `--err`
    /// shows the former (`journalctl -p err` finds them too). Files named by
    /// out_file or error_file are not in the journal.
    Logs {
        /// An installed app, by its units' name or PM2's [default: every installed app].
        #[arg(value_parser = app_name)]
        app: Option<AppName>,
        #[command(flatten)]
        manager: ManagerArgs,
        /// Follow the journal: print new lines as they are logged.
        #[arg(short, long)]
        follow: bool,
        /// Show the last N lines.
        #[arg(short = 'n', long, value_name = "N", default_value_t = 15)]
        lines: u32,
        /// Only this instance of APP.
        #[arg(long, value_name = "I", requires = "app")]
        instance: Option<u32>,
        /// Only what the apps wrote to stderr.
        #[arg(long)]
        err: bool,
        /// Print one JSON object per line: timestamp_usec, app, instance,
        /// unit, priority, transport, message.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        hosts: HostArgs,
    },
    /// A live view of every app and instance, like `pm2 monit`.
    ///
    /// State, CPU, memory, restarts and uptime of each instance, with its
    /// Node process's heap, event-loop p99 delay and requests per second,
    /// refreshed every second, and the last log lines of the selected app. Up and down
    /// select an instance; q or Esc quits.
    Monit {
        #[command(flatten)]
        manager: ManagerArgs,
    },
    /// Write a starter ecosystem.toml for the app in the current directory.
    ///
    /// The app's name comes from package.json's `name` (else the
    /// directory's), the script from SCRIPT, else package.json's `start`
    /// script (`node FILE`) or `main`, else index.js, server.js or app.js;
    /// the port from PORT in .env, package.json's `config.port`, or a
    /// `listen(PORT)` in the script. An existing ecosystem.toml is never
    /// overwritten.
    Init {
        /// The app's entry point, relative to the current directory.
        #[arg(value_hint = clap::ValueHint::FilePath)]
        script: Option<PathBuf>,
    },
    /// Start an installed app, an ecosystem file's apps, or a script, like `pm2 start`.
    ///
    /// TARGET is read as `reload` reads it: `all` is every installed app; a
    /// name the service manager has loaded as an app is that app, started
    /// with `systemctl start APP.socket APP.service` until every instance is
    /// ready; else it is a file. A file named as PM2 names ecosystem files
    /// (`*.config.js`, `*.config.cjs`, `*.config.mjs`, `*.json`, `*.json5`,
    /// `*.yaml`, `*.yml`, `*.toml`) is applied as `apply` does, and its apps
    /// are started.
    ///
    /// Any other file is a script, as in `pm2 start app.js -i max`: its app,
    /// with the options below, is written into an ecosystem file of its own,
    /// /etc/nodeunits/apps/NAME.toml (~/.config/nodeunits/apps/NAME.toml for
    /// the user's manager; mode 0600), which is applied and started. The app
    /// gets the units of any app: it starts at boot, `reload` replaces its
    /// workers with no downtime, `describe` names its file. Starting the
    /// script again with other options rewrites the file and applies the
    /// change; the file may be edited and applied as any other; `dump`
    /// prints every app started this way. The app's environment is what
    /// --env gives: unlike PM2, nodeunits takes nothing from this shell.
    Start {
        /// An installed app, an ecosystem file, a script, or `all`.
        #[arg(value_name = "APP|FILE|SCRIPT|all", value_hint = clap::ValueHint::AnyPath)]
        target: OsString,
        #[command(flatten)]
        script: Box<ScriptArgs>,
        #[command(flatten)]
        manager: ManagerArgs,
        /// Directory holding `nodeunits` and `nodeunits-helper`, as written
        /// into the units [default: the directory of this executable].
        #[arg(long, value_name = "DIR")]
        bin_dir: Option<PathBuf>,
        /// The systemd version the units are for [default: the installed one].
        #[arg(long, value_name = "VERSION")]
        target_systemd: Option<u32>,
    },
    /// Print every app started from a script as one ecosystem file, like `pm2 save`.
    ///
    /// The apps of the files `start SCRIPT` wrote (see `start`), in TOML on
    /// stdout, to keep or to `apply` on another machine. The environment's
    /// values are masked unless --show-env.
    Dump {
        #[command(flatten)]
        manager: ManagerArgs,
        /// Print the environment's values instead of masking them.
        #[arg(long)]
        show_env: bool,
    },
    /// Print every app as JSON, like `pm2 jlist`: `status --json`.
    Jlist {
        #[command(flatten)]
        manager: ManagerArgs,
    },
    /// Stop an app: `systemctl stop APP.socket APP.service`.
    ///
    /// TARGET is an installed app, `all` of them, or an ecosystem file:
    /// every app installed from it, as `pm2 stop FILE` does.
    Stop {
        /// An installed app, the path of an ecosystem file, or `all`.
        #[arg(value_name = "APP|FILE|all", value_hint = clap::ValueHint::AnyPath)]
        target: OsString,
        #[command(flatten)]
        manager: ManagerArgs,
    },
    /// Restart all instances of an app at once: `systemctl restart APP.service`.
    ///
    /// TARGET is an installed app, `all` of them, or an ecosystem file, which
    /// is applied first (as `apply` does) and then every app of it that the
    /// apply did not just start is restarted, as `pm2 restart FILE` does.
    /// For no downtime, use `reload`.
    Restart {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Stop an app and remove its units.
    ///
    /// Only files that nodeunits generated are removed. TARGET is an
    /// installed app, `all` of them, or an ecosystem file: every app
    /// installed from it, as `pm2 delete FILE` does.
    Delete {
        /// An installed app, the path of an ecosystem file, or `all`.
        #[arg(value_name = "APP|FILE|all", value_hint = clap::ValueHint::AnyPath)]
        target: OsString,
        #[command(flatten)]
        manager: ManagerArgs,
    },
    /// Keep a secret out of the ecosystem file: a systemd credential.
    Secret {
        #[command(subcommand)]
        action: SecretAction,
    },
    /// Change the number of running instances of an app.
    ///
    /// Persists in the installed app unit, so a reboot starts INSTANCES
    /// workers; the next `apply` restores the ecosystem file's count.
    Scale {
        /// The app, by its units' name or PM2's (`CodeChat Api` for `CodeChat-Api`).
        #[arg(value_parser = app_name)]
        app: AppName,
        instances: u32,
        #[command(flatten)]
        manager: ManagerArgs,
    },
}

/// An app named by the user: its units' name, or PM2's name of it, which
/// names the same units (`model::AppName::from_pm2`).
/// A credential's name, which becomes an environment variable.
fn variable_name(text: &str) -> Result<String, String> {
    match crate::ecosystem::fields::is_variable_name(text) {
        true => Ok(text.to_owned()),
        false => Err(format!(
            "`{text}` cannot name a variable: allowed: letters, digits and `_`, not starting with a digit"
        )),
    }
}

fn app_name(text: &str) -> Result<AppName, String> {
    AppName::from_pm2(text).map_err(|why| format!("`{text}` names no app: allowed: {why}"))
}
