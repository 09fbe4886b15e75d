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
pub use super::runtime::Runtime;

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
    /// Written and read in whole milliseconds.
    pub kill_timeout: Duration,
    /// Bytes.
    pub max_memory: Option<u64>,
    pub shutdown_with_message: bool,
    pub increment_var: Option<String>,
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
}

/// The text of `--help`.
pub fn usage() -> String {
    format!(
        "\
Runs one worker of a nodeunits app under systemd, or as a container's entrypoint.

Usage: nodeunits-helper --app NAME --instance N [OPTIONS] -- PROGRAM [ARGS...]
       nodeunits-helper probe --app NAME [--instance N]

Options:
  --app NAME               the app's name: log identity and lock directory
  --instance N             the instance number (%i)
  --node                   PROGRAM is Node: inject the preload, give it an IPC channel
  --launcher               PROGRAM starts Node (npm, npx, yarn...): the same for the Node
                           process that serves, through NODE_OPTIONS
  --wait-ready             READY=1 when the app sends 'ready' (a non-Node app: READY=1 itself)
  --listen ADDR            an address of the socket unit, in order: the Nth is fd 3+N-1
  --kill-timeout MS        how long the drain may take [default: {}]
  --max-memory BYTES       restart gracefully when the tree's resident memory exceeds it
  --shutdown-with-message  send the IPC message 'shutdown' instead of SIGINT
  --increment-var NAME     set NAME to its value in the environment plus the instance
  --exp-backoff MS         back off quick restarts exponentially from MS
  -h, --help               print this help
  -V, --version            print the version
",
        defaults::KILL_TIMEOUT.as_millis()
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
            kill_timeout: defaults::KILL_TIMEOUT,
            max_memory: None,
            shutdown_with_message: false,
            increment_var: None,
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
        option("--kill-timeout", millis(self.kill_timeout));
        if let Some(bytes) = self.max_memory {
            option("--max-memory", Some(bytes.to_string()));
        }
        if self.shutdown_with_message {
            option("--shutdown-with-message", None);
        }
        if let Some(name) = &self.increment_var {
            option("--increment-var", Some(escape(name)));
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
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Request, String> {
    use lexopt::prelude::*;
    let mut args = args.into_iter().peekable();
    if args.next_if(|first| first == "probe").is_some() {
        return probe_options::parse(args);
    }
    let mut parser = lexopt::Parser::from_args(args);
    let mut options = HelperOptions::new(String::new(), Instance::Number(0), Vec::new());
    let (mut app, mut instance) = (None, None);
    let millis = |parser: &mut lexopt::Parser, option| {
        number(parser, option, "milliseconds").map(Duration::from_millis)
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("app") => app = Some(text(&mut parser, "--app")?),
            Long("instance") => {
                instance = Some(match text(&mut parser, "--instance")?.as_str() {
                    // As a unit file writes it, before systemd fills it in.
                    "%i" => Instance::Specifier,
                    number => Instance::Number(number.parse().map_err(|_| {
                        format!("--instance: {number:?} is not a whole number; it takes an instance number such as 0")
                    })?),
                })
            }
            Long("node") => runtime(&mut options, Runtime::Node)?,
            Long("launcher") => runtime(&mut options, Runtime::Launcher)?,
            Long("wait-ready") => options.wait_ready = true,
            Long("listen") => options.listen.push(text(&mut parser, "--listen")?),
            Long("kill-timeout") => options.kill_timeout = millis(&mut parser, "--kill-timeout")?,
            Long("max-memory") => {
                options.max_memory = Some(number(&mut parser, "--max-memory", "bytes")?)
            }
            Long("shutdown-with-message") => options.shutdown_with_message = true,
            Long("increment-var") => {
                options.increment_var = Some(text(&mut parser, "--increment-var")?)
            }
            Long("exp-backoff") => {
                options.exp_backoff = Some(millis(&mut parser, "--exp-backoff")?)
            }
            Short('h') | Long("help") => return Ok(Request::Help),
            Short('V') | Long("version") => return Ok(Request::Version),
            Value(program) => {
                options.command.push(program);
                options
                    .command
                    .extend(parser.raw_args().map_err(|e| e.to_string())?);
            }
            other => {
                return Err(format!(
                    "{}; see --help for the options",
                    other.unexpected()
                ))
            }
        }
    }
    options.app = app.ok_or("--app NAME is required")?;
    options.instance = instance.ok_or("--instance N is required")?;
    if options.command.is_empty() {
        return Err(
            "no program to run: give it after `--`, as in `-- /usr/bin/node app.js`".into(),
        );
    }
    Ok(Request::Run(options))
}

fn runtime(options: &mut HelperOptions, runtime: Runtime) -> Result<(), String> {
    if options.runtime.runs_node() && options.runtime != runtime {
        return Err(
            "--node and --launcher exclude each other: --node when PROGRAM is node, \
             --launcher when it is a program that starts Node (npm, npx, yarn...)"
                .into(),
        );
    }
    options.runtime = runtime;
    Ok(())
}

pub(super) fn text(parser: &mut lexopt::Parser, option: &str) -> Result<String, String> {
    let value = parser.value().map_err(|e| e.to_string())?;
    value
        .into_string()
        .map_err(|value| format!("{option}: {value:?} is not valid UTF-8"))
}

pub(super) fn number<T: std::str::FromStr>(
    parser: &mut lexopt::Parser,
    option: &str,
    what: &str,
) -> Result<T, String> {
    let value = text(parser, option)?;
    value
        .parse()
        .map_err(|_| format!("{option}: {value:?} is not a whole number; it takes {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(line: &str) -> Result<Request, String> {
        parse(line.split_whitespace().map(OsString::from))
    }

    fn argv<const N: usize>(words: [&str; N]) -> Vec<OsString> {
        words.map(OsString::from).to_vec()
    }

    /// Every field differs from [`none_set`]: a field added to the struct
    /// must be set here, and then fails the round trip unless it is both
    /// rendered and parsed.
    fn every_option() -> HelperOptions {
        HelperOptions {
            app: "api".into(),
            instance: Instance::Number(2),
            runtime: Runtime::Node,
            wait_ready: true,
            listen: vec!["127.0.0.1:3000".into(), "/run/api.sock".into()],
            kill_timeout: Duration::from_millis(5000),
            max_memory: Some(104_857_600),
            shutdown_with_message: true,
            increment_var: Some("PORT".into()),
            exp_backoff: Some(Duration::from_millis(100)),
            command: argv(["/usr/bin/node", "--inspect", "app.js", "--app", "x"]),
        }
    }

    fn none_set() -> HelperOptions {
        HelperOptions::new("web".into(), Instance::Number(0), argv(["./server"]))
    }

    fn round_trip(options: &HelperOptions) -> Result<Request, String> {
        parse(options.words().into_iter().map(OsString::from))
    }

    /// docs/contract.md's command line, in the order the golden units show.
    const CONTRACT: &str = "--app api --instance 2 --node --wait-ready \
        --listen 127.0.0.1:3000 --listen /run/api.sock --kill-timeout 5000 \
        --max-memory 104857600 --shutdown-with-message --increment-var PORT \
        --exp-backoff 100 -- /usr/bin/node --inspect app.js --app x";

    #[test]
    fn the_contracts_command_line_is_read_and_written() {
        assert_eq!(parse_words(CONTRACT), Ok(Request::Run(every_option())));
        assert_eq!(every_option().words().join(" "), CONTRACT);
    }

    #[test]
    fn defaults_and_equals_signs() {
        let request = parse_words("--app=web --instance=0 -- ./server");
        assert_eq!(request, Ok(Request::Run(none_set())));
        assert_eq!(none_set().kill_timeout, defaults::KILL_TIMEOUT);
        assert_eq!(
            none_set().words().join(" "),
            "--app web --instance 0 --kill-timeout 1600 -- ./server"
        );
    }

    #[test]
    fn mistakes_are_explained() {
        let error = |line| parse_words(line).unwrap_err();
        assert_eq!(error("--instance 0 -- node"), "--app NAME is required");
        assert_eq!(error("--app a -- node"), "--instance N is required");
        assert_eq!(
            error("--app a --instance 0"),
            "no program to run: give it after `--`, as in `-- /usr/bin/node app.js`"
        );
        assert_eq!(
            error("--app a --instance one -- x"),
            "--instance: \"one\" is not a whole number; it takes an instance number such as 0"
        );
        assert!(error("--app a --instance 0 --max-memory 1G -- x").contains("it takes bytes"));
        assert!(error("--app a --instance 0 --kill-timeout 2s -- x").contains("milliseconds"));
        assert!(error("--app a --instance 0 --bogus -- x").contains("--bogus"));
        assert!(error("--app a --instance 0 --node --launcher -- x").contains("exclude each other"));
        assert_eq!(parse_words("--help"), Ok(Request::Help));
        assert_eq!(parse_words("-V"), Ok(Request::Version));
    }

    #[test]
    fn what_is_rendered_parses_back_the_same() {
        for options in [every_option(), none_set()] {
            assert_eq!(round_trip(&options), Ok(Request::Run(options)));
        }
    }

    #[test]
    fn each_option_alone_parses_back_the_same() {
        let all = every_option();
        let alone: [&dyn Fn(&mut HelperOptions); 11] = [
            &|o| o.app = all.app.clone(),
            &|o| o.instance = all.instance,
            &|o| o.runtime = all.runtime,
            &|o| o.wait_ready = all.wait_ready,
            &|o| o.listen = all.listen.clone(),
            &|o| o.kill_timeout = all.kill_timeout,
            &|o| o.max_memory = all.max_memory,
            &|o| o.shutdown_with_message = all.shutdown_with_message,
            &|o| o.increment_var = all.increment_var.clone(),
            &|o| o.exp_backoff = all.exp_backoff,
            &|o| o.command = all.command.clone(),
        ];
        for set in alone {
            let mut options = none_set();
            set(&mut options);
            assert_ne!(options, none_set());
            assert_eq!(round_trip(&options), Ok(Request::Run(options)));
        }
    }

    #[test]
    fn a_launcher_is_read_and_written() {
        let mut options = none_set();
        options.runtime = Runtime::Launcher;
        assert_eq!(
            options.words().join(" "),
            "--app web --instance 0 --launcher --kill-timeout 1600 -- ./server"
        );
        assert_eq!(round_trip(&options), Ok(Request::Run(options)));
    }

    /// In a unit the instance is `%i`, left to systemd: what the helper
    /// reads once systemd has expanded it is the instance's number.
    #[test]
    fn the_specifier_is_left_for_systemd() {
        let mut options = every_option();
        options.instance = Instance::Specifier;
        let escaped = options.escaped_words(|value| format!("<{value}>"));
        assert_eq!(&escaped[..4], ["--app", "<api>", "--instance", "%i"]);
        let expanded = options
            .words()
            .into_iter()
            .map(|word| OsString::from(word.replace("%i", "2")));
        assert_eq!(parse(expanded), Ok(Request::Run(every_option())));
    }

    #[test]
    fn the_usage_lists_every_option_and_the_default() {
        let usage = usage();
        let words = every_option().words();
        for option in words.iter().take_while(|word| *word != "--") {
            if option.starts_with("--") {
                assert!(usage.contains(&format!("  {option} ")), "{option}");
            }
        }
        assert!(usage.contains("[default: 1600]"));
    }
}
