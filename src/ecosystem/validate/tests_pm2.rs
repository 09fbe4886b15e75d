//! The validator against PM2's own rules: names (`Common.renderApplicationName`,
//! any name mapped to units), PM2's defaults of ignored options
//! (`lib/API/schema.json`), and keys PM2 does not know (`Config.validateJSON`).

use super::tests::{app, valid, warned, with_diagnostics};
use crate::ecosystem::Severity;

/// PM2's `renderApplicationName`: `path.basename(script)`, then what
/// precedes the last `.` unless it is the first character.
#[test]
fn default_names_as_pm2_derives_them() {
    for (script, name) in [
        ("./service-worker/", "service-worker"),
        ("service-worker//", "service-worker"),
        ("bin/www", "www"),
        ("npm", "npm"),
        ("dist/app.min.js", "app.min"),
        ("ecosystem.worker.cjs", "ecosystem.worker"),
        ("/srv/.hidden", ".hidden"),
        ("./.env.js", ".env"),
        ("app.", "app"),
        ("node server.js", "node server"),
        ("python3 -m http.server", "python3 -m http"),
        ("node dist/main.js", "main"),
        ("/", ""),
    ] {
        assert_eq!(super::name_from(script), name, "{script:?}");
    }
}

/// An empty name is no name to PM2 (`!conf.name`): it takes the script's.
#[test]
fn an_empty_name_is_taken_from_the_script() {
    let (app, diagnostics) =
        with_diagnostics("[[apps]]\nname = \"\"\nscript = \"./service-worker/\"\n");
    assert_eq!(
        app.expect("valid").name.get_ref().as_str(),
        "service-worker"
    );
    let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["`name` is empty, which PM2 takes as not set"]);
}

/// Any name PM2 accepts: the units are named after it, PM2's kept.
#[test]
fn any_pm2_name_names_units_and_is_kept() {
    let (app, diagnostics) =
        with_diagnostics("[[apps]]\nname = \"CodeChat Api\"\nscript = \"server.js\"\n");
    let app = app.expect("valid");
    assert_eq!(app.name.get_ref().as_str(), "CodeChat-Api");
    assert_eq!(app.pm2_name.as_deref(), Some("CodeChat Api"));
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].severity, Severity::Warning);
    assert_eq!(
        diagnostics[0].message,
        "the app `CodeChat Api` gets units named `CodeChat-Api`"
    );
    assert!(diagnostics[0]
        .help
        .as_ref()
        .is_some_and(|help| help.contains("CodeChat-Api.service and CodeChat-Api@.service")));
    assert!(valid("").pm2_name.is_none());
    let (app, diagnostics) =
        with_diagnostics("[[apps]]\nname = \"日本\"\nscript = \"server.js\"\n");
    assert!(app.is_none());
    assert_eq!(diagnostics[0].message, "`日本` cannot name units");
    assert!(diagnostics[0]
        .help
        .as_ref()
        .is_some_and(|help| help.contains("at least one ASCII letter or digit")));
}

#[test]
fn two_pm2_names_of_one_unit_name_are_an_error_naming_both() {
    let (_, diagnostics) = with_diagnostics(
        "[[apps]]\nname = \"a b\"\nscript = \"a.js\"\n\n[[apps]]\nname = \"a/b\"\nscript = \"b.js\"\n",
    );
    let errors: Vec<&str> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        errors,
        ["the apps `a b` and `a/b` would both get units named `a-b`"]
    );
    let (_, diagnostics) = with_diagnostics(
        "[[apps]]\nname = \"a-b\"\nscript = \"a.js\"\n\n[[apps]]\nname = \"a b\"\nscript = \"b.js\"\n",
    );
    assert!(diagnostics
        .iter()
        .any(|d| d.message == "the apps `a-b` and `a b` would both get units named `a-b`"));
}

#[test]
fn two_apps_taking_one_name_from_their_scripts_collide() {
    let (_, diagnostics) = with_diagnostics(
        "[[apps]]\nscript = \"a/server.js\"\n\n[[apps]]\nscript = \"b/server.js\"\n",
    );
    let errors: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(errors, ["the app `server` is defined twice"]);
}

/// An ignored option set to PM2's default (`lib/API/schema.json`'s
/// `default` or `docDefault`) changes nothing under PM2: no warning.
#[test]
fn an_ignored_option_at_pm2s_default_loads_without_a_warning() {
    let defaults = [
        "watch = false",
        "vizion = true",
        "pmx = true",
        "automation = true",
        "treekill = true",
        "windowsHide = true",
        "kill_retry_time = 100",
        "killRetryTime = 100",
        "filter_env = false",
        "disable_source_map_support = false",
        "force = false",
        "append_env_to_name = false",
        "trace = false",
        "disable_trace = true",
    ];
    for default in defaults {
        let (_, warnings) = warned(default);
        assert!(warnings.is_empty(), "{default}: {warnings:?}");
    }
    for other in [
        "watch_options = { usePolling = true }",
        "kill_retry_time = 200",
    ] {
        let (_, warnings) = warned(other);
        assert_eq!(warnings.len(), 1, "{other}: {warnings:?}");
        assert!(warnings[0].ends_with("has no meaning under systemd and is ignored"));
    }
}

/// PM2 drops a key it does not know (`Config.validateJSON` keeps the
/// schema's keys only): nodeunits refuses it, unless it starts with `_`.
#[test]
fn an_unknown_key_is_an_error_unless_it_starts_with_an_underscore() {
    let (_, diagnostics) = app("colour = \"blue\"");
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].severity, Severity::Error);
    assert_eq!(diagnostics[0].message, "unknown option `colour`");
    let help = diagnostics[0].help.clone().unwrap_or_default();
    assert!(
        help.starts_with("PM2 ignores keys it does not know"),
        "{help}"
    );
    assert!(
        help.contains("a key of your own starts with `_` (`_colour`)"),
        "{help}"
    );
    let (_, diagnostics) = app("kill_timout = 3000");
    let help = diagnostics[0].help.clone().unwrap_or_default();
    assert!(
        help.starts_with("did you mean `kill_timeout`? PM2 ignores"),
        "{help}"
    );
    valid("_colour = \"blue\"\n_notes = { owner = \"team\" }\n_ = 1");
    let (app, diagnostics) = with_diagnostics(
        "_comment = \"x\"\n[[apps]]\nname = \"api\"\nscript = \"a.js\"\n_x = true\n",
    );
    assert!(app.is_some());
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}
