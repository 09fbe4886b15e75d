//! Golden tests: each `tests/golden/<case>/` is a directory with an `input/`
//! and an `expected/`, as in `tests/golden/README.md`. `input/` holds the
//! `ecosystem.toml` and an optional `options.toml` (the render options and
//! machine facts); `expected/` holds every file the case must produce: its
//! unit files, and `warnings.txt` when it warns. The set of files produced
//! must be the set in `expected/`, each the same byte for byte after the
//! absolute path of `tests/golden` is replaced by `/golden`; each unit is
//! also checked with `systemd-analyze verify`.
//!
//! Re-bless after an intended change: `BLESS=1 cargo test --test golden`
//! rewrites every `expected/` whole; then review the diff.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "golden/cli.rs"]
mod cli;
#[path = "golden/import.rs"]
mod import;
#[path = "golden/javascript.rs"]
mod javascript;
#[path = "golden/kubernetes.rs"]
mod kubernetes;
#[path = "golden/systemd.rs"]
mod systemd;

use nodeunits::model::name::ENVIRONMENT_FILE_SUFFIX;
use nodeunits::model::Scope;
use nodeunits::units::read::read_app;
use nodeunits::units::{
    compile, env_file, Account, CompileOptions, Facts, Rendered, RenderedApp, UnitFile,
};

const PLACEHOLDER: &str = "/golden";

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseOptions {
    env: Option<String>,
    cpus: Option<u32>,
    systemd: Option<u32>,
    #[serde(default)]
    user: bool,
    /// The environment files' values shown, for a case about them (as
    /// `render --show-env` prints them); masked by default, as `render` does.
    #[serde(default)]
    show_env: bool,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    /// Who owns the ecosystem file: `root` (uid 0), or another name (uid
    /// 1000); `deploy` when not set.
    owner: Option<String>,
    /// The directories `ProtectHome=` hides and those `PrivateTmp=`
    /// replaces; none when not set, so that the checkout's own place never
    /// counts as one.
    #[serde(default)]
    homes: Vec<PathBuf>,
    #[serde(default)]
    temporary: Vec<PathBuf>,
    /// The home directories of accounts (`[user_homes]`, by name); none
    /// when not set.
    #[serde(default)]
    user_homes: BTreeMap<String, PathBuf>,
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The case directories under `dir`: those with an `input/` (not, say,
/// `tests/golden/bin`, the stand-in executables), sorted.
fn case_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.join("input").is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases found in {}", dir.display());
    cases
}

fn cases() -> Vec<PathBuf> {
    case_dirs(&golden_dir())
}

fn case_name(case: &Path) -> String {
    case.file_name()
        .expect("case name")
        .to_string_lossy()
        .into_owned()
}

/// The ecosystem file of a golden case: the one file of `input/` whose
/// name starts with `ecosystem`, in any format.
fn ecosystem(case: &Path) -> PathBuf {
    let input = case.join("input");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&input)
        .unwrap_or_else(|e| panic!("{}: {e}", input.display()))
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ecosystem")
        })
        .collect();
    assert_eq!(files.len(), 1, "{}: one ecosystem.* file", input.display());
    files.pop().expect("one file")
}

fn case_options(case: &Path) -> CaseOptions {
    let file = case.join("input/options.toml");
    match std::fs::read_to_string(&file) {
        Ok(text) => toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
        Err(_) => CaseOptions::default(),
    }
}

fn options(case: &Path) -> CompileOptions {
    let case_options = case_options(case);
    let bin = golden_dir().join("bin");
    CompileOptions {
        profile: case_options.env,
        bin_dir: bin.clone(),
        systemd_version: case_options.systemd.unwrap_or(252),
        mode: if case_options.user {
            Scope::User
        } else {
            Scope::System
        },
        for_pods: false,
        facts: Facts {
            cpus: NonZeroU32::new(case_options.cpus.unwrap_or(4)).expect("cpus > 0"),
            path: vec![bin],
            environment: javascript::with_real_node(case_options.environment),
            owner: Some(match case_options.owner.as_deref().unwrap_or("deploy") {
                "root" => Account {
                    uid: 0,
                    name: Some("root".into()),
                },
                name => Account {
                    uid: 1000,
                    name: Some(name.into()),
                },
            }),
            homes: case_options.homes,
            temporary: case_options.temporary,
            // Relative to tests/golden, as `bin` (the stand-ins' nvm).
            user_homes: Some(
                case_options
                    .user_homes
                    .into_iter()
                    .map(|(user, home)| (user, golden_dir().join(home)))
                    .collect(),
            ),
        },
    }
}

/// Gives `dir` and what it holds to an unprivileged user (`nobody`) when
/// the tests run as root, as a deploy user's checkout would be: in system
/// mode an app without `user` runs as the owner of its file, and one in a
/// file of root's is refused.
fn unprivileged(dir: &Path) {
    if nix::unistd::geteuid().is_root() {
        let status = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(dir)
            .status()
            .expect("run chown");
        assert!(status.success(), "chown {}", dir.display());
    }
}

/// Whether a case compiles: one whose `expected/` holds `errors.txt` must not.
fn compiles(case: &Path) -> bool {
    !case.join("expected/errors.txt").exists()
}

/// The cases that compile, each with its name, options and units.
fn compiled_cases() -> Vec<(String, CompileOptions, Rendered)> {
    cases()
        .into_iter()
        .filter(|case| compiles(case))
        .map(|case| {
            let name = case_name(&case);
            let options = options(&case);
            let rendered = compile(&ecosystem(&case), &options)
                .unwrap_or_else(|err| panic!("case {name} does not compile:\n{err}"));
            (name, options, rendered)
        })
        .collect()
}

fn normalize(text: &str) -> String {
    text.replace(&golden_dir().to_string_lossy().into_owned(), PLACEHOLDER)
}

/// Every file of `dir` by name, or none when it does not exist.
fn read_files(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|entry| {
            let path = entry.expect("entry").path();
            assert!(path.is_file(), "{}: not a file", path.display());
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, text)
        })
        .collect()
}

/// Compares what a case produced with its `expected/` directory, file set
/// and contents, and says how they differ; with `bless`, rewrites
/// `expected/` whole to what was produced instead.
fn check_expected(
    case: &Path,
    actual: &BTreeMap<String, String>,
    bless: bool,
) -> Result<(), String> {
    let dir = case.join("expected");
    let expected = read_files(&dir);
    if bless {
        // File by file, so that a test reading `expected/` meanwhile never
        // misses a file that stays.
        std::fs::create_dir_all(&dir).expect("create expected/");
        for stale in expected.keys().filter(|name| !actual.contains_key(*name)) {
            std::fs::remove_file(dir.join(stale)).expect("remove a stale file");
        }
        for (name, text) in actual {
            if expected.get(name) != Some(text) {
                std::fs::write(dir.join(name), text).expect("bless");
            }
        }
        return Ok(());
    }
    if &expected == actual {
        Ok(())
    } else {
        Err(describe_difference(&expected, actual))
    }
}

/// A file as the goldens show it: an environment file with its values
/// masked, as `render` prints it (they are checked by reading the files
/// back, and on systemd by the hostile case).
fn shown(file: &UnitFile, show_env: bool) -> String {
    match !show_env && file.name.ends_with(ENVIRONMENT_FILE_SUFFIX) {
        true => env_file::masked(&file.contents, None),
        false => file.contents.clone(),
    }
}

fn actual_files(rendered: &Rendered, show_env: bool) -> BTreeMap<String, String> {
    let mut files: BTreeMap<String, String> = rendered
        .apps
        .iter()
        .flat_map(|app| &app.files)
        .map(|file| (file.name.clone(), normalize(&shown(file, show_env))))
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
        let files = match compile(&ecosystem(&case), &options(&case)) {
            Ok(rendered) => actual_files(&rendered, case_options(&case).show_env),
            Err(report) => BTreeMap::from([("errors.txt".into(), normalize(&report.to_string()))]),
        };
        if let Err(difference) = check_expected(&case, &files, bless) {
            failures.push(format!("case {}:\n{difference}", case_name(&case)));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(re-bless with BLESS=1 cargo test --test golden if the change is intended)",
        failures.join("\n")
    );
}

fn describe_difference(
    expected: &BTreeMap<String, String>,
    actual: &BTreeMap<String, String>,
) -> String {
    let mut out = String::new();
    for name in expected
        .keys()
        .chain(actual.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (e, a) = (expected.get(name), actual.get(name));
        if e == a {
            continue;
        }
        let status = match (e, a) {
            (None, _) => " (produced, but not in expected/)",
            (_, None) => " (in expected/, but not produced)",
            _ => "",
        };
        let diff = similar::TextDiff::from_lines(
            e.map_or("", String::as_str),
            a.map_or("", String::as_str),
        );
        out.push_str(&format!(
            "{name}{status}\n--- expected/{name}\n+++ actual {name}\n{}",
            diff.unified_diff().context_radius(2)
        ));
    }
    out
}

/// The installed units read back: for every golden case, reading the
/// rendered files gives back the model they were rendered from, and
/// rendering that model again gives back the same files, also once scaled.
#[test]
fn rendered_units_read_back_into_the_same_model() {
    let mut apps = 0;
    for (name, _, rendered) in compiled_cases() {
        for app in &rendered.apps {
            let files: BTreeMap<String, String> = app
                .files
                .iter()
                .map(|file| (file.name.clone(), file.contents.clone()))
                .collect();
            let read = read_app(&app.units.name, &files)
                .unwrap_or_else(|err| panic!("case {name}: {err}"));
            assert_eq!(read, app.units, "case {name}: app {}", app.units.name);
            let again = RenderedApp::new(read.clone()).expect("renders");
            assert_eq!(
                again.files, app.files,
                "case {name}: app {}",
                app.units.name
            );

            let mut scaled = read;
            scaled.instances += 3;
            scaled.scaled = true;
            let files: BTreeMap<String, String> = RenderedApp::new(scaled.clone())
                .expect("renders")
                .files
                .into_iter()
                .map(|file| (file.name, file.contents))
                .collect();
            assert_eq!(
                read_app(&scaled.name, &files).as_ref(),
                Ok(&scaled),
                "case {name}: app {} scaled",
                scaled.name
            );
            apps += 1;
        }
    }
    assert!(apps >= 20, "only {apps} apps in the golden cases");
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
        "X-Nodeunits-Environment",
        "KillMode",
        "KillSignal",
        "TimeoutStopSec",
        "TimeoutStartSec",
        "Restart",
        "RestartSec",
        "LogRateLimitIntervalSec",
        "LogRateLimitBurst",
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
        "User",
        "ProtectSystem",
        "ReadWritePaths",
        "ProtectHome",
        "PrivateTmp",
    ];
    let sandbox: Vec<&str> = nodeunits::units::sandbox::FIXED
        .iter()
        .filter_map(|(directive, _)| Some(directive.split_once('=')?.0))
        .collect();
    let case = golden_dir().join("hostile");
    let rendered = compile(&ecosystem(&case), &options(&case)).expect("compiles");
    let files = rendered.apps.iter().flat_map(|a| &a.files);
    for file in files.filter(|f| !f.name.ends_with(ENVIRONMENT_FILE_SUFFIX)) {
        for line in file.contents.lines() {
            let known = line.is_empty()
                || line.starts_with('#')
                || matches!(line, "[Unit]" | "[Service]" | "[Install]")
                || line
                    .split_once('=')
                    .is_some_and(|(key, _)| DIRECTIVES.contains(&key) || sandbox.contains(&key));
            assert!(known, "{}: unexpected line {line:?}", file.name);
        }
    }
    let worker = &rendered.apps[0]
        .files
        .iter()
        .find(|f| f.name.ends_with("@.service"))
        .unwrap()
        .contents;
    // NODE_APP_INSTANCE only: the seven variables of the file are in the
    // environment file, each on its line (or its lines, within quotes).
    assert_eq!(
        worker
            .lines()
            .filter(|l| l.starts_with("Environment="))
            .count(),
        1
    );
    let env = &rendered.apps[0]
        .files
        .iter()
        .find(|f| f.name.ends_with(".env"));
    let variables = env_file::parse(&env.expect("an environment file").contents);
    assert_eq!(variables.map(|v| v.len()), Some(7));
    for directive in ["ExecStart=", "ReadWritePaths="] {
        assert_eq!(
            worker.lines().filter(|l| l.starts_with(directive)).count(),
            1,
            "{directive}"
        );
    }
}
