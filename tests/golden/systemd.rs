//! The golden units as systemd reads them: `systemd-analyze verify` takes
//! every unit, and `systemd-analyze security` rates every sandboxed worker
//! 2.0 or better.

use std::path::{Path, PathBuf};
use std::process::Command;

use nodeunits::model::name::ENVIRONMENT_FILE_SUFFIX;
use nodeunits::model::Scope;
use nodeunits::units::{installed_systemd_version, Rendered};

use super::compiled_cases;

/// The exposure `systemd-analyze security` may rate a sandboxed worker at most.
const MOST_EXPOSED: f64 = 2.0;

/// Writes the units of a case into a directory of their own.
fn unit_dir(what: &str, case: &str, rendered: &Rendered) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("golden-{what}-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    for file in rendered.apps.iter().flat_map(|app| &app.files) {
        std::fs::write(dir.join(&file.name), &file.contents).expect("write unit");
    }
    dir
}

/// `systemd-analyze` reading units from `dir`, for the manager of `mode`.
fn analyze(dir: &Path, mode: Scope) -> Command {
    let mut command = Command::new("systemd-analyze");
    if mode == Scope::User {
        // The user manager wants its runtime directory.
        command.arg("--user").env("XDG_RUNTIME_DIR", dir);
    }
    command
        .current_dir(dir)
        .env("SYSTEMD_UNIT_PATH", format!("{}:", dir.display()));
    command
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
    for (name, options, rendered) in compiled_cases() {
        let dir = unit_dir("verify", &name, &rendered);
        let units: Vec<String> = rendered
            .apps
            .iter()
            .flat_map(|app| &app.files)
            .filter(|file| !file.name.ends_with(ENVIRONMENT_FILE_SUFFIX))
            .map(|file| file.name.replace("@.", "@0."))
            .collect();
        let output = analyze(&dir, options.mode)
            .args(["verify", "--man=no"])
            .args(&units)
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

#[test]
fn every_sandboxed_golden_worker_rates_at_most_2() {
    let mut rated = Vec::new();
    let mut failures = Vec::new();
    for (name, options, rendered) in compiled_cases() {
        let dir = unit_dir("security", &name, &rendered);
        for app in rendered
            .apps
            .iter()
            .filter(|app| app.units.worker.sandbox.is_some())
        {
            let worker = app.units.name.units().template();
            let output = analyze(&dir, options.mode)
                .args(["security", "--offline=yes", "--no-pager"])
                .arg(&worker)
                .output()
                .expect("systemd-analyze must be installed to rate the golden units");
            let stdout = String::from_utf8_lossy(&output.stdout);
            let score = stdout
                .lines()
                .find_map(|line| {
                    line.split_once("Overall exposure level for ")?
                        .1
                        .split_once(": ")
                })
                .and_then(|(_, rating)| rating.split_whitespace().next()?.parse::<f64>().ok());
            match score {
                Some(score) if score <= MOST_EXPOSED => {
                    rated.push(format!("{name}/{worker}: {score}"))
                }
                _ => failures.push(format!(
                    "case {name}: {worker} rated {score:?}, more than {MOST_EXPOSED}:\n{stdout}{}",
                    String::from_utf8_lossy(&output.stderr)
                )),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        rated.len() >= 20,
        "only {} sandboxed workers rated",
        rated.len()
    );
    println!("{}", rated.join("\n"));
}
