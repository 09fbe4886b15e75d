//! The command line of `nodeunits-helper` (docs/contract.md): one type the
//! compiler renders into a worker's `ExecStart=` and the helper parses back,
//! so an option cannot be written by one side and unknown to the other.
//! Parsed with lexopt rather than clap: the helper runs once per worker and
//! its resident memory is mostly its own code.

use std::ffi::OsString;
use std::fmt;
use std::time::Duration;

use super::defaults;
use super::probe_options::{self, ProbeOptions};
use super::replace_options::{self, ReplaceOptions};
pub use super::runtime::Runtime;
pub use error::ArgsError;

/// Mistakes on the command line.
mod error;

/// Which worker: in a template unit the specifier `%i`, which systemd
/// expands to the number the helper then reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    Specifier,
    Number(u32),
}

impl fmt::Display for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Instance::Specifier => f.write_str("%i"),
            Instance::Number(number) => write!(f, "{number}"),
        }
    }
}

/// The helper's options; see [`usage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperOptions {
    pub app: String,
    pub instance: Instance,
    pub runtime: Runtime,
    pub wait_ready: bool,
    pub listen: Vec<String>,
    /// `sticky = true`: each TCP address has a socket per instance; the
    /// worker serves its own and steers clients to it by their address.
    pub sticky: bool,
    /// Cluster mode: a TCP port the app's code listens on that no socket
    /// unit holds is bound by the helper and shared by the workers.
    pub share_ports: bool,
    /// `script = "serve"`: the program's argument `serve` is nodeunits'
    /// static file server, PM2's `pm2 serve`; the helper puts its path there.
    pub serve: bool,
    /// Written and read in whole milliseconds.
    pub kill_timeout: Duration,
    /// How long a successor (`replace`) has to become ready; whole
    /// milliseconds, written only when not the default.
    pub listen_timeout: Duration,
    /// `min_uptime`: a replacement is done once its successor has been up
    /// this long (at most listen_timeout); whole milliseconds, written only
    /// when not the default.
    pub min_uptime: Duration,
    /// Bytes.
    pub max_memory: Option<u64>,
    /// `unresponsive_timeout`: the app's event loop beats (the preload);
    /// silent this long, the app is killed and the worker restarted.
    /// Whole milliseconds.
    pub unresponsive_timeout: Option<Duration>,
    /// `pmx`: the preload publishes the process's heap, event loop and
    /// HTTP figures in the runtime directory (`stats.N`). Written only when
    /// off: `--no-runtime-metrics`.
    pub runtime_metrics: bool,
    pub shutdown_with_message: bool,
    pub increment_var: Option<String>,
    /// systemd credentials the app gets as environment variables, each read
    /// from `$CREDENTIALS_DIRECTORY/NAME`.
    pub credentials: Vec<String>,
    /// The first delay of the emulated backoff, in whole milliseconds.
    pub exp_backoff: Option<Duration>,
    /// The program and its arguments, after `--`.
    pub command: Vec<OsString>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    Run(HelperOptions),
    Help,
    Version,
    /// `probe`: is the running worker ready?
    Probe(ProbeOptions),
    ProbeHelp,
    /// `replace`: a worker's reload, its successor first.
    Replace(ReplaceOptions),
    ReplaceHelp,
    /// `write-logs`: an app's log files from the journal.
    WriteLogs(super::log_writer::LogWriter),
    WriteLogsHelp,
    /// `watch`: PM2's watch, a reload when a file changes.
    Watch(super::watcher::Watcher),
    WatchHelp,
}

/// The text of `--help`.
pub fn usage() -> String {
    format!(
        "\
Runs one worker of a nodeunits app under systemd, or as a container's entrypoint.

Usage: nodeunits-helper --app NAME --instance N [OPTIONS] -- PROGRAM [ARGS...]
       nodeunits-helper probe --app NAME [--instance N]
       nodeunits-helper replace --app NAME --instance N
       nodeunits-helper write-logs --app NAME [OPTIONS]
       nodeunits-helper watch --app NAME --dir DIR [OPTIONS]

Options:
  --app NAME               the app's name: log identity and lock directory
  --instance N             the instance number (%i)
  --node                   PROGRAM is Node: inject the preload, give it an IPC channel
  --launcher               PROGRAM starts Node (npm, npx, yarn...): the same for the Node
                           process that serves, through NODE_OPTIONS
  --wait-ready             READY=1 when the app sends 'ready' (a non-Node app: READY=1 itself)
  --listen ADDR            an address of the socket unit, in order: the Nth is fd 3+N-1
  --sticky                 each TCP address has a socket per instance (sticky = true): serve
                           this instance's, steer each client address to one instance
  --share-ports            cluster mode: bind a TCP port the app listens on that no socket
                           unit holds (SO_REUSEPORT), shared by every worker's helper
  --serve                  PROGRAM is Node and its argument `serve` nodeunits' static file
                           server (PM2's `script: \"serve\"`): the helper puts its path there
  --kill-timeout MS        how long the drain may take [default: {}]
  --listen-timeout MS      how long a successor (replace) has to be ready [default: {}]
  --min-uptime MS          how long a successor (replace) must be up before the next worker's
                           turn; one that ends sooner fails the reload [default: {}]
  --max-memory BYTES       restart gracefully when the tree's resident memory exceeds it
  --unresponsive-timeout MS
                           Node: kill the app (exit status 76) when its event loop has not
                           turned for MS, as the preload's beats tell
  --no-runtime-metrics     Node: no heap, event-loop and HTTP figures in the runtime
                           directory (pmx = false)
  --shutdown-with-message  send the IPC message 'shutdown' instead of SIGINT
  --increment-var NAME     set NAME to its value in the environment plus the instance
  --credential NAME        set NAME to the systemd credential NAME ($CREDENTIALS_DIRECTORY)
  --exp-backoff MS         back off quick restarts exponentially from MS
  -h, --help               print this help
  -V, --version            print the version
",
        defaults::KILL_TIMEOUT.as_millis(),
        defaults::LISTEN_TIMEOUT.as_millis(),
        defaults::MIN_UPTIME.as_millis()
    )
}

impl HelperOptions {
    /// The options of a worker that runs `command`, every other option unset
    /// or at its default.
    pub fn new(app: String, instance: Instance, command: Vec<OsString>) -> HelperOptions {
        HelperOptions {
            app,
            instance,
            runtime: Runtime::Other,
            wait_ready: false,
            listen: Vec::new(),
            sticky: false,
            share_ports: false,
            serve: false,
            kill_timeout: defaults::KILL_TIMEOUT,
            listen_timeout: defaults::LISTEN_TIMEOUT,
            min_uptime: defaults::MIN_UPTIME,
            max_memory: None,
            unresponsive_timeout: None,
            runtime_metrics: true,
            shutdown_with_message: false,
            increment_var: None,
            credentials: Vec::new(),
            exp_backoff: None,
            command,
        }
    }

    /// The words of the command line, unescaped, in the order `parse` reads
    /// and the golden units show.
    pub fn words(&self) -> Vec<String> {
        self.escaped_words(str::to_owned)
    }

    /// The words with each value passed through `escape`. Option names and
    /// numbers need no escaping, and the instance must not have any: `%i` is
    /// a specifier for systemd to expand, not a value.
    pub fn escaped_words(&self, escape: impl Fn(&str) -> String) -> Vec<String> {
        let mut words = vec![
            "--app".to_owned(),
            escape(&self.app),
            "--instance".to_owned(),
            self.instance.to_string(),
        ];
        let mut option = |name: &str, value: Option<String>| {
            words.push(name.to_owned());
            words.extend(value);
        };
        let millis = |duration: Duration| Some(duration.as_millis().to_string());
        match self.runtime {
            Runtime::Node => option("--node", None),
            Runtime::Launcher => option("--launcher", None),
            Runtime::Other => {}
        }
        if self.wait_ready {
            option("--wait-ready", None);
        }
        for address in &self.listen {
            option("--listen", Some(escape(address)));
        }
        if self.sticky {
            option("--sticky", None);
        }
        if self.share_ports {
            option("--share-ports", None);
        }
        if self.serve {
            option("--serve", None);
        }
        option("--kill-timeout", millis(self.kill_timeout));
        if self.listen_timeout != defaults::LISTEN_TIMEOUT {
            option("--listen-timeout", millis(self.listen_timeout));
        }
        if self.min_uptime != defaults::MIN_UPTIME {
            option("--min-uptime", millis(self.min_uptime));
        }
        if let Some(bytes) = self.max_memory {
            option("--max-memory", Some(bytes.to_string()));
        }
        if let Some(timeout) = self.unresponsive_timeout {
            option("--unresponsive-timeout", millis(timeout));
        }
        if !self.runtime_metrics {
            option("--no-runtime-metrics", None);
        }
        if self.shutdown_with_message {
            option("--shutdown-with-message", None);
        }
        if let Some(name) = &self.increment_var {
            option("--increment-var", Some(escape(name)));
        }
        for name in &self.credentials {
            option("--credential", Some(escape(name)));
        }
        if let Some(initial) = self.exp_backoff {
            option("--exp-backoff", millis(initial));
        }
        option("--", None);
        // The compiler's programs are UTF-8, so nothing is lost where it matters.
        words.extend(
            self.command
                .iter()
                .map(|word| escape(&word.to_string_lossy())),
        );
        words
    }
}

/// Reads the helper's command line, without the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Request, ArgsError> {
    use lexopt::prelude::*;
    let mut args = args.into_iter().peekable();
    if args.next_if(|first| first == "probe").is_some() {
        return probe_options::parse(args);
    }
    if args.next_if(|first| first == "replace").is_some() {
        return replace_options::parse(args);
    }
    if args.next_if(|first| first == "write-logs").is_some() {
        return super::log_writer::parse(args);
    }
    if args.next_if(|first| first == "watch").is_some() {
        return super::watcher::parse(args);
    }
    let mut parser = lexopt::Parser::from_args(args);
    let mut options = HelperOptions::new(String::new(), Instance::Number(0), Vec::new());
    let (mut app, mut instance) = (None, None);
    let millis = |parser: &mut lexopt::Parser, option| {
        number(parser, option, "milliseconds").map(Duration::from_millis)
    };
    while let Some(arg) = parser.next()? {
        match arg {
            Long("app") => app = Some(text(&mut parser, "--app")?),
            Long("instance") => instance = Some(self::instance(&mut parser)?),
            Long("node") => runtime(&mut options, Runtime::Node)?,
            Long("launcher") => runtime(&mut options, Runtime::Launcher)?,
            Long("wait-ready") => options.wait_ready = true,
            Long("listen") => options.listen.push(text(&mut parser, "--listen")?),
            Long("sticky") => options.sticky = true,
            Long("share-ports") => options.share_ports = true,
            Long("serve") => options.serve = true,
            Long("kill-timeout") => options.kill_timeout = millis(&mut parser, "--kill-timeout")?,
            Long("listen-timeout") => {
                options.listen_timeout = millis(&mut parser, "--listen-timeout")?
            }
            Long("min-uptime") => options.min_uptime = millis(&mut parser, "--min-uptime")?,
            Long("unresponsive-timeout") => {
                options.unresponsive_timeout = Some(millis(&mut parser, "--unresponsive-timeout")?)
            }
            Long("max-memory") => {
                options.max_memory = Some(number(&mut parser, "--max-memory", "bytes")?)
            }
            Long("no-runtime-metrics") => options.runtime_metrics = false,
            Long("shutdown-with-message") => options.shutdown_with_message = true,
            Long("increment-var") => {
                options.increment_var = Some(text(&mut parser, "--increment-var")?)
            }
            Long("credential") => options.credentials.push(text(&mut parser, "--credential")?),
            Long("exp-backoff") => {
                options.exp_backoff = Some(millis(&mut parser, "--exp-backoff")?)
            }
            Short('h') | Long("help") => return Ok(Request::Help),
            Short('V') | Long("version") => return Ok(Request::Version),
            Value(program) => {
                options.command.push(program);
                options.command.extend(parser.raw_args()?);
            }
            other => return Err(ArgsError::Unexpected(other.unexpected().to_string())),
        }
    }
    options.app = app.ok_or(ArgsError::Missing("--app NAME"))?;
    options.instance = instance.ok_or(ArgsError::Missing("--instance N"))?;
    if options.command.is_empty() {
        return Err(ArgsError::NoProgram);
    }
    Ok(Request::Run(options))
}

/// What a subcommand (`probe`, `replace`) was given: `--app NAME` and
/// `--instance N`, each if present.
pub(super) type AppAndInstance = (Option<String>, Option<Instance>);

/// `--app NAME` and `--instance N` after a subcommand's word; `None` for
/// `--help`.
pub(super) fn app_and_instance(
    args: impl IntoIterator<Item = OsString>,
    subcommand: &'static str,
) -> Result<Option<AppAndInstance>, ArgsError> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let (mut app, mut instance) = (None, None);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("app") => app = Some(text(&mut parser, "--app")?),
            Long("instance") => instance = Some(self::instance(&mut parser)?),
            Short('h') | Long("help") => return Ok(None),
            other => {
                return Err(ArgsError::UnexpectedAfter {
                    subcommand,
                    unexpected: other.unexpected().to_string(),
                })
            }
        }
    }
    Ok(Some((app, instance)))
}

/// The value of `--instance`: a number, or `%i` as a unit file writes it
/// before systemd fills it in.
pub(super) fn instance(parser: &mut lexopt::Parser) -> Result<Instance, ArgsError> {
    Ok(match text(parser, "--instance")?.as_str() {
        "%i" => Instance::Specifier,
        number => Instance::Number(number.parse().map_err(|_| not_an_instance_number(number))?),
    })
}

/// `--instance` given something else than a number.
pub(super) fn not_an_instance_number(value: &str) -> ArgsError {
    ArgsError::NotANumber {
        option: "--instance",
        value: value.to_owned(),
        what: "an instance number such as 0",
    }
}

fn runtime(options: &mut HelperOptions, runtime: Runtime) -> Result<(), ArgsError> {
    if options.runtime.runs_node() && options.runtime != runtime {
        return Err(ArgsError::RuntimesExclusive);
    }
    options.runtime = runtime;
    Ok(())
}

pub(super) fn text(parser: &mut lexopt::Parser, option: &'static str) -> Result<String, ArgsError> {
    let value = parser.value()?;
    value
        .into_string()
        .map_err(|value| ArgsError::NotUtf8 { option, value })
}

pub(super) fn number<T: std::str::FromStr>(
    parser: &mut lexopt::Parser,
    option: &'static str,
    what: &'static str,
) -> Result<T, ArgsError> {
    let value = text(parser, option)?;
    value.parse().map_err(|_| ArgsError::NotANumber {
        option,
        value,
        what,
    })
}

#[cfg(test)]
pub(super) mod tests;
