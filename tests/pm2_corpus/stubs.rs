//! What a checkout of a corpus file's repository would hold beside it, as
//! stubs: the directories and scripts its apps name. The rule, read from the
//! TOML `nodeunits import` prints (what a JavaScript file evaluated to):
//!
//! - a relative `cwd` is created as a directory (relative to the file's
//!   directory); an absolute one is left as it is (missing, unless the
//!   machine has it);
//! - a `script` (or `cmd`, `command`, `exec`) that is a relative path, a
//!   single word holding a `/` or a `.` (`app.js`, `./ls`, `bin/www`), is
//!   created as an empty file (a directory when it ends in `/`), relative to
//!   the app's `cwd` as PM2 resolves it, not executable, as a checkout of a
//!   file without its execute bit;
//! - a bare word (`npm`, `serve`), a command line (`node server.js`), an
//!   absolute path and every `interpreter` are left as they are: they are
//!   looked up in the test's `PATH` (see `run.rs`) or on the machine.
//!
//! Nothing is created outside the copy's directory.

use std::path::{Component, Path, PathBuf};

/// The aliases of `script`, as nodeunits and PM2 read them.
const SCRIPT_KEYS: &[&str] = &["script", "cmd", "command", "exec"];

/// Creates the stubs the apps of `imported` (a TOML file as `import`
/// prints it) name, the ecosystem file being in `dir` and the copy in `root`.
pub fn create(imported: &str, dir: &Path, root: &Path) {
    let Ok(table) = imported.parse::<toml::Table>() else {
        return;
    };
    let Some(apps) = table.get("apps").and_then(toml::Value::as_array) else {
        return;
    };
    for app in apps.iter().filter_map(toml::Value::as_table) {
        let base = match app.get("cwd").and_then(toml::Value::as_str) {
            Some(cwd) if Path::new(cwd).is_absolute() => continue,
            Some(cwd) => {
                let Some(base) = inside(root, &dir.join(cwd)) else {
                    continue;
                };
                std::fs::create_dir_all(&base).expect("create a cwd");
                base
            }
            None => dir.to_path_buf(),
        };
        let script = SCRIPT_KEYS
            .iter()
            .find_map(|key| app.get(*key).and_then(toml::Value::as_str));
        if let Some(script) = script.filter(|s| is_relative_path(s)) {
            if let Some(path) = inside(root, &base.join(script)) {
                stub(&path, script.ends_with('/'));
            }
        }
    }
}

/// A single word naming a file relative to `cwd`: not a command line, not a
/// command found in `PATH`, not an absolute path.
pub fn is_relative_path(script: &str) -> bool {
    !script.is_empty()
        && !script.contains(char::is_whitespace)
        && !script.starts_with(['/', '-', '~'])
        && script.contains(['/', '.'])
}

/// `path` made lexically absolute, when it stays under `root`.
fn inside(root: &Path, path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.starts_with(root).then_some(out)
}

fn stub(path: &Path, directory: bool) {
    if directory {
        std::fs::create_dir_all(path).expect("create a script directory");
        return;
    }
    if path.exists() {
        return;
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create a script's directory");
    }
    std::fs::write(path, "").expect("create a script");
}

#[test]
fn scripts_that_are_paths_get_stubs() {
    for path in ["app.js", "./ls", "bin/www", "./service-worker/", "../x.js"] {
        assert!(is_relative_path(path), "{path}");
    }
    for word in [
        "npm",
        "serve",
        "node server.js",
        "/usr/bin/ls",
        "",
        "~/a.js",
    ] {
        assert!(!is_relative_path(word), "{word}");
    }
    let root = Path::new("/c");
    assert_eq!(
        inside(root, Path::new("/c/a/../b/./x.js")),
        Some("/c/b/x.js".into())
    );
    assert_eq!(inside(root, Path::new("/c/../x.js")), None);
}
