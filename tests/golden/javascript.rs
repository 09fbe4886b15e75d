//! Ecosystem files in JavaScript, evaluated by the real node through the
//! real binary: what they may export, and how a file that fails is
//! reported. The stand-in `node` of `tests/golden/bin` hands them to the
//! real one, `$GOLDEN_NODE`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::golden_dir;

/// The real node, found in `PATH`.
fn real_node() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("node"))
        .find(|node| node.is_file())
}

/// `environment`, with what the stand-in `node` needs to evaluate
/// JavaScript.
pub fn with_real_node(mut environment: BTreeMap<String, String>) -> BTreeMap<String, String> {
    if let Some(node) = real_node() {
        environment.insert("GOLDEN_NODE".into(), node.to_string_lossy().into_owned());
    }
    environment
}

/// Runs the real binary from `dir` with the stand-ins of `tests/golden/bin`
/// in PATH (their `node` hands JavaScript to the real one) and `HOME` there.
fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nodeunits"))
        .args(args)
        .current_dir(dir)
        .env("PATH", golden_dir().join("bin"))
        .env("HOME", dir.join("home"))
        .env_remove("XDG_CONFIG_HOME")
        .envs(with_real_node(BTreeMap::new()))
        .output()
        .expect("run nodeunits")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a directory");
    dir
}

/// A JavaScript file that throws, never ends or does not parse: `apply`
/// exits 1 saying why, within the time limit, and installs nothing.
#[test]
fn a_javascript_file_that_fails_installs_nothing() {
    let dir = temp_dir("js-fails");
    let cases = [
        (
            "throws.config.js",
            "throw new Error('no DATABASE_URL');\n",
            "Error: no DATABASE_URL\n        at Object.<anonymous> (throws.config.js:1:7)",
        ),
        (
            "loops.config.js",
            "console.log('evaluating');\nfor (;;) {}\n",
            "error: node did not finish evaluating loops.config.js within 10 s, and was killed",
        ),
        (
            "syntax.config.mjs",
            "export default { apps: [\n",
            "SyntaxError: Unexpected end of input",
        ),
    ];
    let runs: Vec<_> = cases
        .iter()
        .map(|&(file, text, _)| {
            std::fs::write(dir.join(file), text).expect("write the file");
            let dir = dir.clone();
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                (run_in(&dir, &["apply", "--user", file]), started.elapsed())
            })
        })
        .collect();
    for ((file, _, says), run) in cases.iter().zip(runs) {
        let (output, took) = run.join().expect("the run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{file}: {stderr}");
        assert!(output.stdout.is_empty(), "{file}");
        assert!(stderr.contains(says), "{file}: {stderr}");
        assert!(
            stderr.ends_with(&format!("1 error in {file}; no units were generated\n")),
            "{file}: {stderr}"
        );
        assert!(
            took < std::time::Duration::from_secs(15),
            "{file}: {took:?}"
        );
    }
    assert!(!dir.join("home/.config").exists(), "a unit was written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without node in PATH, a JavaScript file is an error that says so.
#[test]
fn javascript_without_node_says_so() {
    let dir = temp_dir("js-no-node");
    std::fs::write(dir.join("ecosystem.config.js"), "module.exports = [];\n").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_nodeunits"))
        .args(["check", "ecosystem.config.js"])
        .current_dir(&dir)
        .env("PATH", &dir)
        .output()
        .expect("run nodeunits");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: ecosystem.config.js is JavaScript, and there is no `node` in PATH to evaluate it\n  --> ecosystem.config.js\n  = install Node, or add its directory to PATH: the node that runs the apps evaluates the file\n1 error in ecosystem.config.js; no units were generated\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a JavaScript file may export, as PM2 reads it: `{ apps }`, `{ pm2 }`,
/// an array of apps, one app; an ES module's default export or its `apps`.
#[test]
fn javascript_exports_in_every_shape() {
    let dir = temp_dir("js-shapes");
    let files = [
        (
            "apps.config.js",
            "module.exports = { apps: [{ name: 'a1', script: 'a.js' }] };",
        ),
        (
            "pm2.config.cjs",
            "module.exports = { pm2: [{ name: 'a2', script: 'a.js' }] };",
        ),
        (
            "array.config.js",
            "module.exports = [{ name: 'a3', script: 'a.js' }];",
        ),
        (
            "one.config.js",
            "module.exports = { name: 'a4', script: 'a.js' };",
        ),
        (
            "default.config.mjs",
            "export default { apps: { name: 'a5', script: 'a.js' } };",
        ),
        (
            "named.config.mjs",
            "export const apps = [{ name: 'a6', script: 'a.js' }];",
        ),
    ];
    for (index, (file, text)) in files.iter().enumerate() {
        std::fs::write(dir.join(file), text).expect("write");
        super::unprivileged(&dir);
        let output = run_in(&dir, &["render", "--system", file]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let app = format!("a{}", index + 1);
        assert!(
            stdout.contains(&format!("# --- {app}@.service ---\n")),
            "{file}: {stdout}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
