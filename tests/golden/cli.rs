//! The golden cases through the real binary: error reports, and the two
//! ways `render` hands out units.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use nodeunits::model::Scope;
use nodeunits::units::{compile, env_file, CompileOptions, Facts};

use super::import::copy_dir;
use super::{case_dirs, case_name, check_expected, golden_dir, unprivileged};

/// A copy of the input directory `input` to run the binary on, given to an
/// unprivileged user: the checkout may belong to anyone.
fn unprivileged_copy(input: &Path, what: &str) -> PathBuf {
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{what}-{}", std::process::id()))
        .join("input");
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(input, &copy);
    unprivileged(&copy);
    copy
}

/// Error goldens: each `tests/errors/<case>/` holds `input/<case>.<format>`
/// (`.toml`, `.yaml`, `.json`, `.config.js`, ...), run through the real
/// binary from `input/` (`nodeunits check <case>.toml`, or the command of a
/// first line `# run: COMMAND ARGS`, `// run: ...` in JSON and JavaScript),
/// which must exit 1, print nothing on stdout, and on stderr exactly
/// `expected/stderr`, the only file of `expected/`.
#[test]
fn error_cases_report_exactly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    for case in case_dirs(&dir) {
        let name = case_name(&case);
        let input = unprivileged_copy(&case.join("input"), &format!("errors-{name}"));
        let file = input_file(&input, &name);
        let source = std::fs::read_to_string(input.join(&file))
            .unwrap_or_else(|e| panic!("case {name}: input/{file}: {e}"));
        let command = source
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# run: ").or(l.strip_prefix("// run: ")))
            .unwrap_or("check");
        let output = Command::new(env!("CARGO_BIN_EXE_nodeunits"))
            .args(command.split_whitespace())
            .arg(&file)
            .current_dir(&input)
            // The same commands on every machine: node, systemctl, ... stand-ins.
            .env("PATH", golden_dir().join("bin"))
            .envs(super::javascript::with_real_node(BTreeMap::new()))
            .output()
            .expect("run nodeunits");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let actual = BTreeMap::from([("stderr".to_owned(), stderr)]);
        let compared = check_expected(&case, &actual, bless);
        if output.status.code() != Some(1) || !output.stdout.is_empty() || compared.is_err() {
            failures.push(format!(
                "case {name}: exit {:?}, stdout {:?}\n{}",
                output.status.code(),
                String::from_utf8_lossy(&output.stdout),
                compared.err().unwrap_or_default()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The file of an error case: `<case>.` and an extension.
fn input_file(input: &Path, case: &str) -> String {
    let prefix = format!("{case}.");
    let mut names: Vec<String> = std::fs::read_dir(input)
        .unwrap_or_else(|e| panic!("{}: {e}", input.display()))
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with(&prefix))
        .collect();
    assert_eq!(names.len(), 1, "{}: one file {prefix}*", input.display());
    names.pop().expect("one file")
}

/// `nodeunits render ecosystem.toml ARGS` on a copy of the case port-only;
/// returns its output and the units the library compiles from the same
/// file with the same options, by name.
fn run_render(args: &[&str]) -> (std::process::Output, Vec<(String, String)>) {
    let bin = golden_dir().join("bin");
    let input = unprivileged_copy(&golden_dir().join("port-only/input"), "render");
    let output = Command::new(env!("CARGO_BIN_EXE_nodeunits"))
        .args(["render", "ecosystem.toml"])
        .args(args)
        .arg("--bin-dir")
        .arg(&bin)
        .args(["--system", "--target-systemd", "252"])
        .env("PATH", &bin)
        .current_dir(&input)
        .output()
        .expect("run nodeunits render");
    let options = CompileOptions {
        profile: None,
        bin_dir: bin.clone(),
        systemd_version: 252,
        mode: Scope::System,
        for_pods: false,
        facts: Facts {
            path: vec![bin],
            environment: BTreeMap::new(),
            ..Facts::of_this_process()
        },
    };
    let rendered = compile(&input.join("ecosystem.toml"), &options).expect("port-only compiles");
    let units = rendered.apps[0]
        .files
        .iter()
        .map(|file| (file.name.clone(), file.contents.clone()))
        .collect();
    (output, units)
}

#[test]
fn render_prints_each_unit_under_its_name() {
    let (output, units) = run_render(&[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let names: Vec<&str> = units.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["site.socket", "site@.service", "site.env", "site.service"]
    );
    let listing = |show_env: bool| {
        let mut expected = String::new();
        for (name, contents) in &units {
            let separator = if expected.is_empty() { "" } else { "\n" };
            let contents = match name.ends_with(".env") && !show_env {
                true => env_file::masked(contents, None),
                false => contents.clone(),
            };
            expected.push_str(&format!("{separator}# --- {name} ---\n{contents}"));
        }
        expected
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout, listing(false));
    assert!(stdout.contains("\nPORT=********\n"), "{stdout}");
    let (output, _) = run_render(&["--show-env"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout, listing(true));
    assert!(stdout.contains("\nPORT='3000'\n"), "{stdout}");
}

#[test]
fn render_out_writes_the_unit_files() {
    let out =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("render-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let (output, units) = run_render(&["--out", out.to_str().expect("utf-8")]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty());
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .expect("out dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        ["site.env", "site.service", "site.socket", "site@.service"]
    );
    for (name, expected) in &units {
        let contents = std::fs::read_to_string(out.join(name)).expect("written");
        assert_eq!(&contents, expected, "{name}");
    }
    let env = std::fs::metadata(out.join("site.env")).expect("written");
    let mode = std::os::unix::fs::PermissionsExt::mode(&env.permissions());
    assert_eq!(
        mode & 0o777,
        0o600,
        "only its owner reads the environment file"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// `export kubernetes` of a file of root's: the rule that refuses to run
/// its apps as root by accident is systemd's; a pod runs as its image's
/// user, and the export says so.
#[test]
fn export_kubernetes_takes_a_file_of_roots_and_says_what_max_is() {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("export-root-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("server.js"), "").unwrap();
    std::fs::write(
        dir.join("ecosystem.toml"),
        "[[apps]]\nname = \"api\"\nscript = \"server.js\"\nport = 3000\ninstances = \"max\"\n",
    )
    .unwrap();
    std::os::unix::fs::chown(&dir, Some(0), Some(0)).expect("the tests run as root");
    std::os::unix::fs::chown(dir.join("ecosystem.toml"), Some(0), Some(0)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_nodeunits"))
        .args([
            "export",
            "kubernetes",
            "ecosystem.toml",
            "--image",
            "registry.example/api:1",
        ])
        .current_dir(&dir)
        .output()
        .expect("run nodeunits export kubernetes");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stderr.contains("would run as root"), "{stderr}");
    // "max" is this machine's CPUs, which the export says.
    let cpus = std::thread::available_parallelism().unwrap().get();
    let kind = if cpus > 1 {
        "StatefulSet"
    } else {
        "Deployment"
    };
    assert!(stdout.contains(&format!("kind: \"{kind}\"")), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "`instances` counts the CPUs of this machine: the export has {cpus} replicas"
        )),
        "{stderr}"
    );
    assert!(stdout.contains(&format!("replicas: {cpus}")), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
