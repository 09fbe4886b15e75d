//! The golden cases through the real binary: error reports, and the two
//! ways `render` hands out units.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{golden_dir, normalize};

/// Error goldens: each `tests/errors/<case>.toml` is run through the real
/// binary (`nodeunits check FILE`, or the command of a first line
/// `# run: COMMAND ARGS`), which must exit 1 with exactly `<case>.stderr`.
#[test]
fn error_cases_report_exactly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    let bless = std::env::var_os("BLESS").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/errors")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no error cases found");
    let mut failures = Vec::new();
    for case in cases {
        let file = case.file_name().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&case).expect("read case");
        let command = source
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# run: "))
            .unwrap_or("check");
        let output = Command::new(env!("CARGO_BIN_EXE_nodeunits"))
            .args(command.split_whitespace())
            .arg(&file)
            .current_dir(&dir)
            // The same commands on every machine: node, systemctl, ... stand-ins.
            .env("PATH", golden_dir().join("bin"))
            .output()
            .expect("run nodeunits");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let expected_path = case.with_extension("stderr");
        if bless {
            std::fs::write(&expected_path, &stderr).expect("bless");
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if output.status.code() != Some(1) || stderr != expected || !output.stdout.is_empty() {
            let diff = similar::TextDiff::from_lines(&expected, &stderr);
            failures.push(format!(
                "case {file}: exit {:?}, stdout {:?}\n{}",
                output.status.code(),
                String::from_utf8_lossy(&output.stdout),
                diff.unified_diff().context_radius(2)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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
        .current_dir(golden_dir().join("port-only"))
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
    let case = golden_dir().join("port-only");
    let mut expected = String::new();
    for name in ["site.socket", "site@.service", "site.service"] {
        let separator = if expected.is_empty() { "" } else { "\n" };
        let contents = std::fs::read_to_string(case.join(name)).expect("golden");
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
    let case = golden_dir().join("port-only");
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
            std::fs::read_to_string(case.join(name)).expect("golden"),
            "{name}"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}
