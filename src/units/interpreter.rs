//! The interpreter a script runs with, chosen as PM2 chooses it
//! (`Common.sink.resolveInterpreter`, `lib/API/interpreter.json`) and found
//! when the units are rendered: by the script's extension, by what its file
//! holds, `node@VERSION` in nvm's directory, or as written.

use std::path::{Component, Path, PathBuf};

use super::facts::{is_executable, CompileOptions};
use super::findings::Finding;
use super::script_file::{self, Contents};
use crate::ecosystem::settings::{App, Interpreter};
use crate::ecosystem::Diagnostics;

/// The account the app runs as, and its home: where `node@VERSION` is
/// looked for, and whose home an interpreter should not lie outside of.
pub struct Runner {
    /// `None` in a user's service manager, which runs the app as its user.
    pub user: Option<String>,
    pub home: Option<PathBuf>,
}

/// PM2's interpreters by extension (`lib/API/interpreter.json`), with
/// `.mjs` and `.cjs`, which PM2 runs with node as text without extension.
const BY_EXTENSION: &[(&str, &str)] = &[
    ("js", "node"),
    ("mjs", "node"),
    ("cjs", "node"),
    ("sh", "bash"),
    ("py", "python"),
    ("rb", "ruby"),
    ("php", "php"),
    ("pl", "perl"),
    ("coffee", "coffee"),
    ("ls", "lsc"),
    ("ts", "bun"),
    ("tsx", "bun"),
];

/// Directories of version managers: a unit pointing into one breaks when the
/// version manager switches or removes that version.
const VERSION_MANAGER_DIRS: &[&str] = &[
    ".nvm",
    ".volta",
    ".fnm",
    "fnm",
    "fnm_multishells",
    ".asdf",
    ".nodenv",
    ".n",
];

/// The script, found as PM2 finds it: relative to `cwd`, else a command in
/// `PATH`.
pub struct Located {
    pub path: PathBuf,
}

pub fn locate(app: &App, script: &str, options: &CompileOptions) -> Option<Located> {
    let in_cwd = crate::ecosystem::absolute(&app.cwd.join(script));
    if in_cwd.exists() {
        return Some(Located { path: in_cwd });
    }
    if !script.contains('/') {
        if let Some(path) = options.facts.which(script) {
            return Some(Located { path });
        }
    }
    // Not there (yet: a build may write it): a path with an extension or a
    // directory, or nothing at all.
    (script.contains('/') || Path::new(script).extension().is_some())
        .then_some(Located { path: in_cwd })
}

/// The interpreter of the script at `located`, found; `Some(None)` to run
/// it directly; `None` on an error (recorded).
pub fn choose(
    app: &App,
    located: &Located,
    options: &CompileOptions,
    runner: &Runner,
    diagnostics: &mut Diagnostics,
) -> Option<Option<PathBuf>> {
    let span = match &app.interpreter {
        Interpreter::Program(name) => Some(name.span()),
        _ => Some(app.script.span()),
    };
    let resolved = match &app.interpreter {
        Interpreter::None => return Some(None),
        Interpreter::Program(name) => {
            let span = span.clone();
            let written = name.get_ref();
            match written.split_once("node@") {
                Some((_, version)) => nvm_node(version, options, runner, span, diagnostics)?,
                None => match find(written, options) {
                    Some(path) => path,
                    None => {
                        let name = written.clone();
                        Finding::InterpreterNotFound { name }.report(diagnostics, span);
                        return None;
                    }
                },
            }
        }
        Interpreter::ByExtension => {
            let Some(name) = by_contents(located) else {
                return Some(None);
            };
            match by_extension(name, app, options) {
                Some(path) => path,
                None => {
                    let finding = Finding::ExtensionInterpreterNotFound {
                        name: name.to_owned(),
                        script: app.script.get_ref().clone(),
                    };
                    finding.report(diagnostics, span.clone());
                    return None;
                }
            }
        }
    };
    warn_where(
        &resolved,
        &app.interpreter,
        options,
        runner,
        diagnostics,
        span,
    );
    Some(Some(resolved))
}

/// Which interpreter PM2 gives the script when none is written: by its
/// extension, else node for text and none for a binary. A file with a `#!`
/// line of another program runs as that line says (PM2 would run it with
/// node, and fail). One whose `#!` names node runs with node when it
/// cannot run itself (express's `bin/www` without its execute bit), else
/// directly, as a launcher: the same program as `node FILE`, with the
/// preload reaching the Node processes it may start too.
fn by_contents(located: &Located) -> Option<&'static str> {
    let extension = located.path.extension().and_then(|e| e.to_str());
    if let Some((_, name)) = BY_EXTENSION.iter().find(|(ext, _)| Some(*ext) == extension) {
        return Some(name);
    }
    if located.path.is_dir() {
        // `pm2 init`'s `script: './service-worker/'`: node loads the
        // directory's `main` or index.js.
        return Some("node");
    }
    match script_file::contents(&located.path)? {
        Contents::Text => Some("node"),
        Contents::NodeShebang if !is_executable(&located.path) => Some("node"),
        Contents::NodeShebang | Contents::OtherShebang | Contents::Binary => None,
    }
}

/// An interpreter PM2 picks by name: in `PATH`; `python` may be `python3`
/// (as PM2 falls back); `coffee` and `lsc`, which PM2 brings itself, may be
/// the app's own (`node_modules/.bin`); `bun` for TypeScript (PM2 5.3.1 and
/// later) may be `ts-node`, PM2's choice before, the app's own too.
fn by_extension(name: &str, app: &App, options: &CompileOptions) -> Option<PathBuf> {
    let local = |name: &str| {
        let local = app.cwd.join("node_modules/.bin").join(name);
        is_executable(&local).then_some(local)
    };
    let found = options.facts.which(name);
    match name {
        "python" => found.or_else(|| options.facts.which("python3")),
        "coffee" | "lsc" => found.or_else(|| local(name)),
        "bun" => found
            .or_else(|| options.facts.which("ts-node"))
            .or_else(|| local("ts-node")),
        _ => found,
    }
}

/// An interpreter as written: an absolute path, or a command in `PATH`.
fn find(name: &str, options: &CompileOptions) -> Option<PathBuf> {
    if name.starts_with('/') {
        Some(PathBuf::from(name)).filter(|p| is_executable(p))
    } else if name.contains('/') {
        None
    } else {
        options.facts.which(name)
    }
}

/// `node@VERSION`, as PM2 resolves it: `$NVM_DIR/versions/node/vVERSION/bin/node`,
/// `$NVM_DIR` from nodeunits' environment as PM2 reads its own, else
/// `~/.nvm` of the account the app runs as. Missing, the node of `PATH`,
/// with a warning (PM2 would install it with nvm).
fn nvm_node(
    version: &str,
    options: &CompileOptions,
    runner: &Runner,
    span: Option<std::ops::Range<usize>>,
    diagnostics: &mut Diagnostics,
) -> Option<PathBuf> {
    let version = version.trim_start_matches('v');
    let nvm_dir = match options.facts.environment.get("NVM_DIR") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => runner.home.as_ref().map(|home| home.join(".nvm")),
    };
    let wanted = nvm_dir.map(|dir| dir.join(format!("versions/node/v{version}/bin/node")));
    if let Some(path) = wanted.as_ref().filter(|path| is_executable(path)) {
        return Some(path.clone());
    }
    let Some(used) = options.facts.which("node") else {
        let name = format!("node@{version}");
        Finding::InterpreterNotFound { name }.report(diagnostics, span);
        return None;
    };
    Finding::NodeVersionFallback {
        version: version.to_owned(),
        looked: wanted,
        used: used.clone(),
    }
    .report(diagnostics, span);
    Some(used)
}

/// Warnings on where the interpreter lies: inside a version manager's
/// directory (not for `node@VERSION`, which asks for that very version), or
/// in the home of another account than the app's.
fn warn_where(
    path: &Path,
    written: &Interpreter,
    options: &CompileOptions,
    runner: &Runner,
    diagnostics: &mut Diagnostics,
    span: Option<std::ops::Range<usize>>,
) {
    let pinned = matches!(written, Interpreter::Program(name) if name.get_ref().contains("node@"));
    let target = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if !pinned && (under_version_manager(path) || under_version_manager(&target)) {
        let path = path.to_path_buf();
        Finding::InterpreterInVersionManager { path }.report(diagnostics, span.clone());
    }
    let Some(user) = runner.user.as_deref().filter(|user| *user != "root") else {
        return;
    };
    let own = |p: &Path| runner.home.as_ref().is_some_and(|home| p.starts_with(home));
    let in_a_home = |p: &Path| options.facts.homes.iter().any(|dir| p.starts_with(dir));
    if (in_a_home(path) && !own(path)) || (in_a_home(&target) && !own(&target)) {
        Finding::InterpreterOfAnotherAccount {
            path: path.to_path_buf(),
            user: user.to_owned(),
        }
        .report(diagnostics, span);
    }
}

fn under_version_manager(path: &Path) -> bool {
    let components: Vec<&str> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    components.iter().any(|c| VERSION_MANAGER_DIRS.contains(c))
        || components.windows(2).any(|w| w == ["n", "versions"])
}

#[cfg(test)]
mod tests;
