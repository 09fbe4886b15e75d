//! The golden cases through the real binary: error reports, and the two
//! ways `render` hands out units.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::{case_dirs, case_name, check_expected, golden_dir, normalize};

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
        let input = case.join("input");
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

fn run_render(args: &[&str]) -> std::process::Output {
    let bin = golden_dir().join("bin");
    Command::new(env!("CARGO_BIN_EXE_nodeunits"))
        .arg("render")
        .args(args)
        .arg("--bin-dir")
        .arg(&bin)
        .arg("--system")
        .env("PATH", &bin)
        .current_dir(golden_dir().join("port-only/input"))
        .output()
        .expect("run nodeunits render")
}

#[test]
fn render_prints_each_unit_under_its_name() {
    let output = run_render(&["ecosystem.toml"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = normalize(&String::from_utf8_lossy(&output.stdout));
    let golden = golden_dir().join("port-only/expected");
    let mut expected = String::new();
    for name in ["site.socket", "site@.service", "site.service"] {
        let separator = if expected.is_empty() { "" } else { "\n" };
        let contents = std::fs::read_to_string(golden.join(name)).expect("golden");
        expected.push_str(&format!("{separator}# --- {name} ---\n{contents}"));
    }
    assert_eq!(stdout, expected);
}

#[test]
fn render_out_writes_the_unit_files() {
    let out =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("render-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = run_render(&["ecosystem.toml", "--out", out.to_str().expect("utf-8")]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty());
    let golden = golden_dir().join("port-only/expected");
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .expect("out dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["site.service", "site.socket", "site@.service"]);
    for name in &written {
        let contents = std::fs::read_to_string(out.join(name)).expect("written");
        assert_eq!(
            normalize(&contents),
            std::fs::read_to_string(golden.join(name)).expect("golden"),
            "{name}"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}
