//! The helper's command line, as emitted by the compiler (docs/contract.md).
//! Parsed with lexopt rather than clap: the helper runs once per worker and
//! its resident memory is mostly its own code.

use std::ffi::OsString;

/// The helper's options; see `USAGE`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub app: String,
    pub instance: u32,
    pub node: bool,
    pub wait_ready: bool,
    pub listen: Vec<String>,
    pub kill_timeout: u64,
    pub max_memory: Option<u64>,
    pub shutdown_with_message: bool,
    pub increment_var: Option<String>,
    pub exp_backoff: Option<u64>,
    /// The program and its arguments, after `--`.
    pub command: Vec<OsString>,
}

pub const USAGE: &str = "\
Runs one worker of a nodeunits app under systemd.

Usage: nodeunits-helper --app NAME --instance N [OPTIONS] -- PROGRAM [ARGS...]

Options:
  --app NAME               the app's name: log identity and lock directory
  --instance N             the instance number (%i)
  --node                   PROGRAM is Node: inject the preload, give it an IPC channel
  --wait-ready             READY=1 when the app sends 'ready' (a non-Node app: READY=1 itself)
  --listen ADDR            an address of the socket unit, in order: the Nth is fd 3+N-1
  --kill-timeout MS        how long the drain may take [default: 1600]
  --max-memory BYTES       restart gracefully when the tree's resident memory exceeds it
  --shutdown-with-message  send the IPC message 'shutdown' instead of SIGINT
  --increment-var NAME     set NAME to its value in the environment plus the instance
  --exp-backoff MS         delay restarts exponentially from MS (systemd < 254)
  -h, --help               print this help
  -V, --version            print the version
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    Run(Options),
    Help,
    Version,
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Request, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut options = Options {
        kill_timeout: 1600,
        ..Options::default()
    };
    let (mut app, mut instance) = (None, None);
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("app") => app = Some(text(&mut parser, "--app")?),
            Long("instance") => {
                instance = Some(number(
                    &mut parser,
                    "--instance",
                    "an instance number such as 0",
                )?)
            }
            Long("node") => options.node = true,
            Long("wait-ready") => options.wait_ready = true,
            Long("listen") => options.listen.push(text(&mut parser, "--listen")?),
            Long("kill-timeout") => {
                options.kill_timeout = number(&mut parser, "--kill-timeout", "milliseconds")?
            }
            Long("max-memory") => {
                options.max_memory = Some(number(&mut parser, "--max-memory", "bytes")?)
            }
            Long("shutdown-with-message") => options.shutdown_with_message = true,
            Long("increment-var") => {
                options.increment_var = Some(text(&mut parser, "--increment-var")?)
            }
            Long("exp-backoff") => {
                options.exp_backoff = Some(number(&mut parser, "--exp-backoff", "milliseconds")?)
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

fn text(parser: &mut lexopt::Parser, option: &str) -> Result<String, String> {
    let value = parser.value().map_err(|e| e.to_string())?;
    value
        .into_string()
        .map_err(|value| format!("{option}: {value:?} is not valid UTF-8"))
}

fn number<T: std::str::FromStr>(
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

    #[test]
    fn the_contracts_command_line_is_read() {
        let request = parse_words(
            "--app api --instance 2 --node --wait-ready --listen 127.0.0.1:3000 --listen /run/api.sock \
             --kill-timeout 5000 --max-memory 104857600 --shutdown-with-message --increment-var PORT \
             --exp-backoff 100 -- /usr/bin/node --inspect app.js --app x",
        );
        let expected = Options {
            app: "api".into(),
            instance: 2,
            node: true,
            wait_ready: true,
            listen: vec!["127.0.0.1:3000".into(), "/run/api.sock".into()],
            kill_timeout: 5000,
            max_memory: Some(104_857_600),
            shutdown_with_message: true,
            increment_var: Some("PORT".into()),
            exp_backoff: Some(100),
            command: ["/usr/bin/node", "--inspect", "app.js", "--app", "x"]
                .map(OsString::from)
                .to_vec(),
        };
        assert_eq!(request, Ok(Request::Run(expected)));
    }

    #[test]
    fn defaults_and_equals_signs() {
        let Ok(Request::Run(options)) = parse_words("--app=web --instance=0 -- ./server") else {
            panic!()
        };
        assert_eq!(
            (options.app.as_str(), options.instance, options.kill_timeout),
            ("web", 0, 1600)
        );
        assert!(!options.node && options.listen.is_empty() && options.max_memory.is_none());
    }

    #[test]
    fn mistakes_are_explained() {
        let error = |line| parse_words(line).unwrap_err();
        assert_eq!(error("--instance 0 -- node"), "--app NAME is required");
        assert_eq!(
            error("--app a --instance 0"),
            "no program to run: give it after `--`, as in `-- /usr/bin/node app.js`"
        );
        assert_eq!(
            error("--app a --instance one -- x"),
            "--instance: \"one\" is not a whole number; it takes an instance number such as 0"
        );
        assert!(error("--app a --instance 0 --max-memory 1G -- x").contains("it takes bytes"));
        assert!(error("--app a --instance 0 --bogus -- x").contains("--bogus"));
        assert_eq!(parse_words("--help"), Ok(Request::Help));
    }

    /// The contract, checked on the compiler's golden units: every worker's
    /// helper options parse, and its `--listen` are the socket's
    /// `ListenStream=` values, in order.
    #[test]
    fn the_compilers_units_are_understood() {
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let mut workers = 0;
        for case in std::fs::read_dir(&golden).unwrap().flatten() {
            let expected = case.path().join("expected");
            if !expected.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&expected).unwrap().flatten() {
                let name = file.file_name().into_string().unwrap();
                let Some(app) = name.strip_suffix("@.service") else {
                    continue;
                };
                let unit = std::fs::read_to_string(file.path()).unwrap();
                let exec = unit
                    .lines()
                    .find_map(|l| l.strip_prefix("ExecStart="))
                    .unwrap();
                let (helper, _) = exec.split_once(" -- ").unwrap();
                let words = helper
                    .split_whitespace()
                    .skip(1)
                    .map(|w| w.replace("%i", "0"));
                let args = words
                    .chain(["--".into(), "program".into()])
                    .map(OsString::from);
                let Ok(Request::Run(options)) = parse(args) else {
                    panic!("{}: {exec}", file.path().display())
                };
                let socket = std::fs::read_to_string(expected.join(format!("{app}.socket")));
                let streams: Vec<String> = socket
                    .unwrap_or_default()
                    .lines()
                    .filter_map(|l| {
                        Some(
                            l.strip_prefix("ListenStream=")?
                                .split_whitespace()
                                .next()?
                                .to_owned(),
                        )
                    })
                    .collect();
                assert_eq!(options.listen, streams, "{}", file.path().display());
                workers += 1;
            }
        }
        assert!(
            workers >= 10,
            "only {workers} golden workers found in {}",
            golden.display()
        );
    }
}
