//! Golden tests: each `tests/golden/<case>/` holds an `ecosystem.toml`, an
//! optional `options.toml` (the render options and machine facts), the unit
//! files it must compile into, and `warnings.txt` when it warns. Outputs are
//! compared exactly, after the absolute path of `tests/golden` is replaced
//! by `/golden`, and each is checked with `systemd-analyze verify`.
//!
//! Re-bless after an intended change: `BLESS=1 cargo test --test golden`,
//! then review the diff.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "golden/cli.rs"]
mod cli;

use nodeunits::units::{compile, installed_systemd_version, CompileOptions, Facts, Mode, Rendered};

const UNIT_SUFFIXES: &[&str] = &[".service", ".socket", ".timer"];
const PLACEHOLDER: &str = "/golden";

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseOptions {
    env: Option<String>,
    cpus: Option<u32>,
    systemd: Option<u32>,
    #[serde(default)]
    user: bool,
    #[serde(default)]
    environment: BTreeMap<String, String>,
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.join("ecosystem.toml").is_file())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no golden cases found");
    cases
}

fn options(case: &Path) -> CompileOptions {
    let file = case.join("options.toml");
    let case_options: CaseOptions = match std::fs::read_to_string(&file) {
        Ok(text) => toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
        Err(_) => CaseOptions::default(),
    };
    let bin = golden_dir().join("bin");
    CompileOptions {
        profile: case_options.env,
        bin_dir: bin.clone(),
        systemd_version: case_options.systemd.unwrap_or(252),
        mode: if case_options.user {
            Mode::User
        } else {
            Mode::System
        },
        facts: Facts {
            cpus: NonZeroU32::new(case_options.cpus.unwrap_or(4)).expect("cpus > 0"),
            path: vec![bin],
            environment: case_options.environment,
        },
    }
}

fn normalize(text: &str) -> String {
    text.replace(&golden_dir().to_string_lossy().into_owned(), PLACEHOLDER)
}

/// The expected files of a case: its unit files, and `warnings.txt`.
fn expected_files(case: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(case)
        .expect("case dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name == "warnings.txt" || UNIT_SUFFIXES.iter().any(|s| name.ends_with(s)))
        .map(|name| {
            let text = std::fs::read_to_string(case.join(&name)).expect("read expected");
            (name, text)
        })
        .collect()
}

fn actual_files(rendered: &Rendered) -> BTreeMap<String, String> {
    let mut files: BTreeMap<String, String> = rendered
        .apps
        .iter()
        .flat_map(|app| &app.files)
        .map(|file| (file.name.clone(), normalize(&file.contents)))
        .collect();
    if !rendered.warnings.is_empty() {
        files.insert(
            "warnings.txt".into(),
            normalize(&rendered.warnings.concat()),
        );
    }
    files
}

#[test]
fn golden_cases_render_exactly() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let rendered = compile(&case.join("ecosystem.toml"), &options(&case))
            .unwrap_or_else(|err| panic!("case {name} does not compile:\n{err}"));
        let actual = actual_files(&rendered);
        let expected = expected_files(&case);
        if bless {
            for stale in expected.keys().filter(|k| !actual.contains_key(*k)) {
                std::fs::remove_file(case.join(stale)).expect("remove stale");
            }
            for (file, text) in &actual {
                std::fs::write(case.join(file), text).expect("bless");
            }
        } else if actual != expected {
            failures.push(describe_difference(&name, &expected, &actual));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(re-bless with BLESS=1 cargo test --test golden if the change is intended)",
        failures.join("\n")
    );
}

fn describe_difference(
    case: &str,
    expected: &BTreeMap<String, String>,
    actual: &BTreeMap<String, String>,
) -> String {
    let mut out = format!("case {case}:\n");
    for name in expected
        .keys()
        .chain(actual.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (e, a) = (expected.get(name), actual.get(name));
        if e == a {
            continue;
        }
        let diff = similar::TextDiff::from_lines(
            e.map_or("", String::as_str),
            a.map_or("", String::as_str),
        );
        out.push_str(&format!(
            "--- expected {name}\n+++ actual {name}\n{}",
            diff.unified_diff().context_radius(2)
        ));
    }
    out
}

/// What systemd 252 prints for a setting it does not take; it still exits 0.
const VERIFY_COMPLAINTS: &[&str] = &[
    "Unknown key",
    "Failed to parse",
    "Invalid",
    "ignoring",
    "Unknown section",
    "bad unit file",
    "Refusing",
];

/// Directives rendered only for a newer systemd than this machine may have:
/// its `systemd-analyze` does not know them, and says so.
const NEWER_DIRECTIVES: &[&str] = &["RestartSteps", "RestartMaxDelaySec"];

#[test]
fn golden_cases_pass_systemd_analyze_verify() {
    let mut failures = Vec::new();
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let options = options(&case);
        let rendered = compile(&case.join("ecosystem.toml"), &options)
            .unwrap_or_else(|err| panic!("{name}:\n{err}"));
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("golden-verify-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let mut units = Vec::new();
        for app in &rendered.apps {
            for file in &app.files {
                std::fs::write(dir.join(&file.name), &file.contents).expect("write unit");
                units.push(file.name.replace("@.", "@0."));
            }
        }
        let mut verify = Command::new("systemd-analyze");
        if options.mode == Mode::User {
            // The user manager wants its runtime directory.
            verify.arg("--user").env("XDG_RUNTIME_DIR", &dir);
        }
        let output = verify
            .args(["verify", "--man=no"])
            .args(&units)
            .current_dir(&dir)
            .env("SYSTEMD_UNIT_PATH", format!("{}:", dir.display()))
            .output()
            .expect("systemd-analyze must be installed to check the golden units");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let newer_than_installed = options.systemd_version > installed_systemd_version();
        let complaints: Vec<&str> = stderr
            .lines()
            .filter(|l| VERIFY_COMPLAINTS.iter().any(|c| l.contains(c)))
            .filter(|l| {
                !(newer_than_installed
                    && NEWER_DIRECTIVES
                        .iter()
                        .any(|d| l.contains(&format!("'{d}'"))))
            })
            .collect();
        if !output.status.success() || !complaints.is_empty() {
            failures.push(format!(
                "case {name}: systemd-analyze verify ({}):\n{stderr}",
                output.status
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The hostile case again, read the way systemd reads it: every line is a
/// comment, a section or a directive the templates write, and each value
/// stays on its line.
#[test]
fn hostile_values_add_no_directive() {
    const DIRECTIVES: &[&str] = &[
        "Description",
        "SourcePath",
        "X-Nodeunits-App",
        "PartOf",
        "After",
        "StartLimitIntervalSec",
        "StartLimitBurst",
        "Type",
        "NotifyAccess",
        "ExecStart",
        "WorkingDirectory",
        "Environment",
        "EnvironmentFile",
        "KillMode",
        "KillSignal",
        "TimeoutStopSec",
        "TimeoutStartSec",
        "Restart",
        "RestartSec",
        "MemoryAccounting",
        "CPUAccounting",
        "SyslogIdentifier",
        "RuntimeDirectory",
        "RuntimeDirectoryPreserve",
        "StandardOutput",
        "Wants",
        "RemainAfterExit",
        "ExecReload",
        "WantedBy",
    ];
    let case = golden_dir().join("hostile");
    let rendered = compile(&case.join("ecosystem.toml"), &options(&case)).expect("compiles");
    for file in rendered.apps.iter().flat_map(|a| &a.files) {
        for line in file.contents.lines() {
            let known = line.is_empty()
                || line.starts_with('#')
                || matches!(line, "[Unit]" | "[Service]" | "[Install]")
                || line
                    .split_once('=')
                    .is_some_and(|(key, _)| DIRECTIVES.contains(&key));
            assert!(known, "{}: unexpected line {line:?}", file.name);
        }
    }
    let worker = &rendered.apps[0]
        .files
        .iter()
        .find(|f| f.name.ends_with("@.service"))
        .unwrap()
        .contents;
    // NODE_APP_INSTANCE and the seven variables of the file.
    assert_eq!(
        worker
            .lines()
            .filter(|l| l.starts_with("Environment="))
            .count(),
        8
    );
    assert_eq!(
        worker
            .lines()
            .filter(|l| l.starts_with("ExecStart="))
            .count(),
        1
    );
}
