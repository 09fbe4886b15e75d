use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ecosystem::settings::{defaults, App, LogFile};
use crate::ecosystem::{Diagnostic, Diagnostics, Severity};

/// The one app of `options` (name and script added), and the diagnostics.
pub(super) fn app(options: &str) -> (Option<App>, Vec<Diagnostic>) {
    let source = format!("[[apps]]\nname = \"api\"\nscript = \"server.js\"\n{options}\n");
    with_diagnostics(&source)
}

pub(super) fn with_diagnostics(source: &str) -> (Option<App>, Vec<Diagnostic>) {
    let mut diagnostics = Diagnostics::default();
    let ecosystem =
        crate::ecosystem::parse(Path::new("/srv/ecosystem.toml"), source, &mut diagnostics);
    let app = ecosystem.and_then(|e| e.apps.into_iter().next());
    (app, diagnostics.items)
}

pub(super) fn valid(options: &str) -> App {
    let (app, diagnostics) = app(options);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    app.expect("a valid app")
}

/// The app, and the messages of its warnings in the file's order; it must
/// have no error.
pub(super) fn warned(options: &str) -> (App, Vec<String>) {
    let (app, mut diagnostics) = app(options);
    diagnostics.sort_by_key(|d| d.span.as_ref().map(|s| s.start));
    assert!(
        diagnostics.iter().all(|d| d.severity == Severity::Warning),
        "{diagnostics:#?}"
    );
    let messages = diagnostics.into_iter().map(|d| d.message).collect();
    (app.expect("a valid app"), messages)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn numbers_written_as_strings_are_numbers_as_in_pm2() {
    let app = valid(
        r#"port = "3000"
instances = "4"
max_restarts = "10"
restart_delay = "1000"
kill_timeout = "5000"
min_uptime = "10s"
listen_timeout = "8000"
max_memory_restart = "512M"
stop_exit_codes = ["0", 2.0]"#,
    );
    assert_eq!(app.port.map(|p| p.into_inner()), Some(3000));
    assert_eq!(
        app.instances,
        crate::ecosystem::values::Instances::Count(4.try_into().unwrap())
    );
    assert_eq!(app.max_restarts.get(), 10);
    assert_eq!(app.restart_delay, Some(ms(1000)));
    assert_eq!(app.kill_timeout, ms(5000));
    assert_eq!(app.min_uptime, ms(10_000));
    assert_eq!(app.listen_timeout, ms(8000));
    assert_eq!(app.max_memory_restart.map(|b| b.0), Some(512 << 20));
    assert_eq!(app.stop_exit_codes, [0, 2]);
}

#[test]
fn arguments_in_one_string_split_as_in_pm2() {
    let app = valid(
        r#"args = "--title 'Shop front' -v"
node_args = "--max-old-space-size=400  --no-warnings""#,
    );
    assert_eq!(app.args, ["--title", "Shop front", "-v"]);
    assert_eq!(
        app.interpreter_args,
        ["--max-old-space-size=400", "--no-warnings"]
    );
}

#[test]
fn environment_values_that_are_objects_become_json_as_in_pm2() {
    let app = valid(
        r#"[apps.env]
LIST = [1, "two", true]
CONFIG = { db = { host = "localhost", port = 5432 }, tags = [] }"#,
    );
    assert_eq!(app.env["LIST"], r#"[1,"two",true]"#);
    assert_eq!(
        app.env["CONFIG"],
        r#"{"db":{"host":"localhost","port":5432},"tags":[]}"#
    );
}

#[test]
fn pm2s_ways_of_saying_none() {
    let app = valid("out_file = \"NULL\"\ncron_restart = \"0\"");
    assert_eq!(app.out_file, Some(LogFile::Null));
    assert_eq!(app.cron_restart, None);
}

#[test]
fn log_paths_resolve_from_cwd_and_home_as_in_pm2() {
    // PM2 resolves them from `cwd` (`path.resolve(cwd, out_file)`), not
    // from the ecosystem file's directory, and `~` is the home directory.
    let app = valid(
        "cwd = \"app\"\nout_file = \"logs/out.log\"\nerror_file = \"~/logs/err.log\"\n\
         log_file = \"../all.log\"",
    );
    assert_eq!(
        app.out_file,
        Some(LogFile::Path("/srv/app/logs/out.log".into()))
    );
    assert_eq!(app.error_file, Some(LogFile::Home("logs/err.log".into())));
    let combined = app.log_file.map(|f| f.into_inner());
    assert_eq!(combined, Some(LogFile::Path("/srv/all.log".into())));
    // PM2's own combined file is the journal here; "NULL" is none.
    let (app, warnings) = warned("log_file = true");
    assert_eq!(app.log_file, None);
    assert!(
        warnings[0].contains("PM2's own combined log"),
        "{warnings:?}"
    );
    assert_eq!(valid("log = \"NULL\"").log_file, None);
    let (app, warnings) = warned("log_file = \"\"");
    assert_eq!(app.log_file, None);
    assert_eq!(
        warnings,
        ["`log_file` is empty, which PM2 takes as not set"]
    );
    // disable_logs silences the combined file too, as in PM2.
    assert_eq!(
        valid("log_file = \"a.log\"\ndisable_logs = true").log_file,
        None
    );
}

#[test]
fn zero_where_pm2_drops_it_is_the_default_with_a_warning() {
    let (app, warnings) = warned(
        "kill_timeout = 0\nlisten_timeout = 0\nmax_restarts = 0\nmin_uptime = 0\n\
         exp_backoff_restart_delay = 0\nport = 0\nout_file = \"\"\nexec_mode = \"\"",
    );
    assert_eq!(app.kill_timeout, defaults::KILL_TIMEOUT);
    assert_eq!(app.listen_timeout, defaults::LISTEN_TIMEOUT);
    assert_eq!(app.max_restarts.get(), defaults::MAX_RESTARTS);
    assert_eq!(app.min_uptime, defaults::MIN_UPTIME);
    assert_eq!(
        (app.exp_backoff_restart_delay, app.port, app.out_file),
        (None, None, None)
    );
    assert_eq!(warnings.len(), 8, "{warnings:#?}");
    assert_eq!(
        warnings[0],
        "`kill_timeout` is 0, which PM2 takes as not set"
    );
    assert_eq!(
        warnings[6],
        "`out_file` is empty, which PM2 takes as not set"
    );
    // 0 is a value of these: no delay, and the exit status 0.
    let app = valid("restart_delay = 0\nstop_exit_codes = 0");
    assert_eq!(
        (app.restart_delay, app.stop_exit_codes),
        (Some(Duration::ZERO), vec![0])
    );
}

#[test]
fn the_exponential_backoff_wins_over_the_fixed_delay_as_in_pm2() {
    let (app, warnings) = warned("restartDelay = 1000\nexp_backoff_restart_delay = 100");
    assert_eq!(app.restart_delay, None);
    assert_eq!(app.exp_backoff_restart_delay, Some(ms(100)));
    assert_eq!(
        warnings,
        ["`restartDelay` is ignored: `exp_backoff_restart_delay` is set"]
    );
}

#[test]
fn of_two_spellings_pm2s_first_wins_with_a_warning() {
    let out = |app: App| match app.out_file {
        Some(LogFile::Path(path)) => path,
        other => panic!("{other:?}"),
    };
    // After the name, PM2 tries out_log, output, out and outFile in turn.
    let (app, warnings) = warned("out = \"x\"\noutput = \"y\"\nout_log = \"z\"");
    assert_eq!(out(app), PathBuf::from("/srv/z"));
    assert_eq!(
        warnings,
        [
            "`out` is ignored: `out_log` is set too, and both are names of `out_file`",
            "`output` is ignored: `out_log` is set too, and both are names of `out_file`",
        ]
    );
    // A name set to "" does not count, as in PM2.
    let (app, warnings) = warned("out_file = \"\"\noutFile = \"w\"");
    assert_eq!(out(app), PathBuf::from("/srv/w"));
    assert_eq!(warnings.len(), 1);
    let (app, warnings) = warned("interpreter_args = \"--a\"\nnode_args = \"--b\"");
    assert_eq!(app.interpreter_args, ["--b"]);
    assert_eq!(
        warnings,
        ["`interpreter_args` is ignored: it is another name for `node_args`, which is set too"]
    );
}

#[test]
fn script_aliases_and_a_name_taken_from_the_script_as_in_pm2() {
    let (app, diagnostics) = with_diagnostics("[[apps]]\ncmd = \"dist/server.js\"\n");
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let app = app.expect("a valid app");
    assert_eq!(app.name.get_ref().as_str(), "server");
    assert_eq!(app.script.get_ref(), "dist/server.js");
    let (app, _) = with_diagnostics("[[apps]]\nexec = \"ecosystem.worker.cjs\"\n");
    assert_eq!(
        app.expect("valid").name.get_ref().as_str(),
        "ecosystem.worker"
    );
    let (app, diagnostics) = with_diagnostics("[[apps]]\nscript = \"npm start\"\n");
    assert_eq!(app.expect("valid").name.get_ref().as_str(), "npm-start");
    assert_eq!(
        diagnostics[0].message,
        "the app `npm start` (PM2's name from `script`) gets units named `npm-start`"
    );
    let (app, diagnostics) = with_diagnostics("[[apps]]\nscript = \"/\"\n");
    assert!(app.is_none());
    assert_eq!(
        diagnostics[0].message,
        "this app has no `name`, and ``, which PM2 would take from `script`, cannot name units"
    );
}

#[test]
fn the_sandbox_is_on_unless_hardening_is_off() {
    assert!(valid("").hardening);
    assert!(valid("hardening = \"on\"").hardening);
    assert!(!valid("hardening = \"off\"").hardening);
    for wrong in ["hardening = false", "hardening = \"no\""] {
        let (_, diagnostics) = app(wrong);
        assert_eq!(diagnostics.len(), 1, "{wrong}: {diagnostics:#?}");
        assert_eq!(diagnostics[0].message, "invalid value for `hardening`");
    }
}

#[test]
fn read_write_paths_are_absolute() {
    let paths = valid("read_write_paths = [\"/var/lib/api\", \"uploads\", \"../shared/\"]");
    assert_eq!(
        paths.read_write_paths,
        [
            PathBuf::from("/var/lib/api"),
            PathBuf::from("/srv/uploads"),
            PathBuf::from("/shared")
        ]
    );
    assert_eq!(
        valid("read_write_paths = \"/var/lib/api\"").read_write_paths,
        [PathBuf::from("/var/lib/api")]
    );
    for wrong in ["[\"\"]", "[3]", "[\"a\\nb\"]", "{ a = 1 }"] {
        let (_, diagnostics) = app(&format!("read_write_paths = {wrong}"));
        assert_eq!(diagnostics.len(), 1, "{wrong}: {diagnostics:#?}");
        assert_eq!(
            diagnostics[0].message,
            "invalid value for `read_write_paths`"
        );
    }
    let (off, warnings) = warned("hardening = \"off\"\nread_write_paths = [\"/x\"]");
    assert!(!off.hardening);
    assert_eq!(
        warnings,
        ["`read_write_paths` has no effect: `hardening = \"off\"` lets the app write anywhere its user may"]
    );
}
