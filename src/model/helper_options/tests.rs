//! The helper's command line: parsing, rendering, and the round trip of every option.

use super::*;

/// A command line written as one string, the words split at spaces.
pub(in crate::model) fn parse_words(line: &str) -> Result<Request, ArgsError> {
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
        sticky: true,
        share_ports: true,
        serve: true,
        kill_timeout: Duration::from_millis(5000),
        listen_timeout: Duration::from_millis(8000),
        min_uptime: Duration::from_millis(2000),
        max_memory: Some(104_857_600),
        unresponsive_timeout: Some(Duration::from_millis(30000)),
        runtime_metrics: false,
        shutdown_with_message: true,
        increment_var: Some("PORT".into()),
        credentials: vec!["DB_PASSWORD".into(), "API_KEY".into()],
        exp_backoff: Some(Duration::from_millis(100)),
        command: argv(["/usr/bin/node", "--inspect", "app.js", "--app", "x"]),
    }
}

fn none_set() -> HelperOptions {
    HelperOptions::new("web".into(), Instance::Number(0), argv(["./server"]))
}

fn round_trip(options: &HelperOptions) -> Result<Request, ArgsError> {
    parse(options.words().into_iter().map(OsString::from))
}

/// docs/contract.md's command line, in the order the golden units show.
const CONTRACT: &str = "--app api --instance 2 --node --wait-ready \
    --listen 127.0.0.1:3000 --listen /run/api.sock --sticky --share-ports --serve --kill-timeout 5000 \
    --listen-timeout 8000 --min-uptime 2000 --max-memory 104857600 --unresponsive-timeout 30000 --no-runtime-metrics --shutdown-with-message --increment-var PORT \
    --credential DB_PASSWORD --credential API_KEY --exp-backoff 100 -- /usr/bin/node --inspect app.js --app x";

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
    let error = |line| parse_words(line).unwrap_err().to_string();
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
    let alone: [&dyn Fn(&mut HelperOptions); 13] = [
        &|o| o.app = all.app.clone(),
        &|o| o.instance = all.instance,
        &|o| o.runtime = all.runtime,
        &|o| o.wait_ready = all.wait_ready,
        &|o| o.listen = all.listen.clone(),
        &|o| o.share_ports = all.share_ports,
        &|o| o.kill_timeout = all.kill_timeout,
        &|o| o.max_memory = all.max_memory,
        &|o| o.shutdown_with_message = all.shutdown_with_message,
        &|o| o.increment_var = all.increment_var.clone(),
        &|o| o.credentials = all.credentials.clone(),
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
