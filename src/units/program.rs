//! What a worker runs: the interpreter, resolved to an absolute path when
//! the units are rendered, its arguments, the script and its arguments.

use std::path::{Component, Path, PathBuf};

use super::facts::{is_executable, CompileOptions};
use super::findings::Finding;
use crate::ecosystem::settings::{App, Interpreter};
use crate::ecosystem::Diagnostics;
use crate::model::helper_options::Runtime;

#[derive(Debug)]
pub struct Program {
    /// The command line, unescaped.
    pub argv: Vec<String>,
    /// Node, a launcher of Node, or another program: how the helper's
    /// preload reaches the app.
    pub runtime: Runtime,
}

const NODE_EXTENSIONS: &[&str] = &["js", "mjs", "cjs"];

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

/// A `script` with spaces that names no file is a command line, as PM2 runs
/// it (`pm2 start "npm start"`): plain words are the program and its first
/// arguments; a line with shell syntax runs with `bash -c`.
enum Script {
    /// The script as written.
    Plain,
    /// Its words: the program, then arguments before `args`.
    Words(String, Vec<String>),
    /// Shell syntax: `bash -c LINE`.
    Shell,
}

/// Characters that make a command line the shell's to read.
const SHELL_SYNTAX: &[char] = &[
    '|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '"', '\'', '*', '?', '[', ']', '{', '}',
    '~', '#', '=', '!',
];

fn script_kind(app: &App) -> Script {
    let script = app.script.get_ref();
    let explicit = matches!(app.interpreter, Interpreter::Program(_) | Interpreter::None);
    // A Node script's path keeps its spaces, present or not (yet).
    let node_script = has_node_extension(script);
    if explicit
        || node_script
        || !script.contains(char::is_whitespace)
        || app.cwd.join(script).exists()
    {
        return Script::Plain;
    }
    if script.contains(SHELL_SYNTAX) {
        return Script::Shell;
    }
    let mut words = script.split_whitespace().map(str::to_owned);
    let program = words.next().unwrap_or_default();
    Script::Words(program, words.collect())
}

pub fn program(
    app: &App,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Program> {
    let (script, first_args) = match script_kind(app) {
        Script::Plain => (app.script.get_ref().clone(), Vec::new()),
        Script::Words(program, words) => (program, words),
        Script::Shell => return shell(app, options, diagnostics),
    };
    let script = &script;
    let interpreter = interpreter(app, script, options, diagnostics)?;
    let is_node = interpreter.as_deref().is_some_and(is_node_binary);
    if let Some(flag) = &app.source_map_support {
        if *flag.get_ref() && !is_node {
            Finding::SourceMapNeedsNode.report(diagnostics, Some(flag.span()));
            return None;
        }
    }
    let mut argv = Vec::new();
    let script_path = match &interpreter {
        Some(path) => {
            argv.push(path.to_string_lossy().into_owned());
            if app
                .source_map_support
                .as_ref()
                .is_some_and(|f| *f.get_ref())
            {
                argv.push("--enable-source-maps".into());
            }
            argv.extend(app.interpreter_args.iter().cloned());
            crate::ecosystem::absolute(&app.cwd.join(script))
        }
        None => match executable(app, script, options) {
            Some(path) => path,
            None => {
                Finding::ScriptNotFound {
                    script: script.to_owned(),
                    cwd: app.cwd.clone(),
                }
                .report(diagnostics, Some(app.script.span()));
                return None;
            }
        },
    };
    let runtime = if is_node || interpreter.is_none() && is_node_binary(&script_path) {
        Runtime::Node
    } else if interpreter.is_none() && runs_in_node(&script_path) {
        Runtime::Launcher
    } else {
        Runtime::Other
    };
    argv.push(script_path.to_string_lossy().into_owned());
    argv.extend(first_args);
    argv.extend(app.args.iter().cloned());
    Some(Program { argv, runtime })
}

/// The interpreter the script runs with, found in PATH: `Some(None)` for
/// none; `None` when it cannot be found (recorded).
fn interpreter(
    app: &App,
    script: &str,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Option<PathBuf>> {
    let is_node_script = has_node_extension(script);
    let (name, span) = match &app.interpreter {
        Interpreter::None => (None, None),
        Interpreter::ByExtension if is_node_script => (Some("node"), Some(app.script.span())),
        Interpreter::ByExtension => (None, None),
        Interpreter::Program(program) => (Some(program.get_ref().as_str()), Some(program.span())),
    };
    let Some(name) = name else {
        return Some(None);
    };
    let resolved = if name.starts_with('/') {
        Some(PathBuf::from(name)).filter(|p| is_executable(p))
    } else if name.contains('/') {
        None
    } else {
        options.facts.which(name)
    };
    let Some(path) = resolved else {
        let name = name.to_owned();
        Finding::InterpreterNotFound { name }.report(diagnostics, span);
        return None;
    };
    let target = path.canonicalize().unwrap_or_else(|_| path.clone());
    if under_version_manager(&path) || under_version_manager(&target) {
        let path = path.clone();
        Finding::InterpreterInVersionManager { path }.report(diagnostics, span);
    }
    Some(Some(path))
}

/// `bash -c LINE`, as PM2 runs a command line with shell syntax; `sh` where
/// there is no bash. The shell is not Node: the preload does not reach a
/// server it starts, which then binds its port itself.
fn shell(app: &App, options: &CompileOptions, diagnostics: &mut Diagnostics) -> Option<Program> {
    let Some(shell) = options
        .facts
        .which("bash")
        .or_else(|| options.facts.which("sh"))
    else {
        Finding::NoShell.report(diagnostics, Some(app.script.span()));
        return None;
    };
    Finding::ShellCommandLine.report(diagnostics, Some(app.script.span()));
    let mut argv = vec![
        shell.to_string_lossy().into_owned(),
        "-c".to_owned(),
        app.script.get_ref().clone(),
    ];
    if !app.args.is_empty() {
        // `bash -c LINE NAME ARGS...`: $0, then the arguments.
        argv.push(app.name.get_ref().to_string());
        argv.extend(app.args.iter().cloned());
    }
    Some(Program {
        argv,
        runtime: Runtime::Other,
    })
}

fn has_node_extension(script: &str) -> bool {
    Path::new(script)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| NODE_EXTENSIONS.contains(&e))
}

/// Whether a program run directly is a Node script: its first line is a
/// `#!` naming node, directly or through `env`, as npm, npx, yarn, pnpm,
/// tsx, ts-node and next are (`/usr/bin/npm` is a link to `npm-cli.js`).
/// Such a program starts the Node process that serves, or is it.
fn runs_in_node(program: &Path) -> bool {
    let mut head = [0u8; 256];
    let read = std::fs::File::open(program)
        .and_then(|mut file| std::io::Read::read(&mut file, &mut head))
        .unwrap_or(0);
    shebang_names_node(&head[..read])
}

fn shebang_names_node(head: &[u8]) -> bool {
    let Some(line) = head.strip_prefix(b"#!") else {
        return false;
    };
    let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let Some(first) = words.next() else {
        return false;
    };
    let interpreter = if Path::new(first).file_name().is_some_and(|n| n == "env") {
        // `env -S node --flags`, `env node`: the first word not an option of env's.
        words.find(|word| !word.starts_with('-'))
    } else {
        Some(first)
    };
    interpreter.is_some_and(|name| is_node_binary(Path::new(name)))
}

/// A script run without interpreter: a path relative to `cwd`, or a bare
/// command found there or in `PATH`, as PM2 does.
fn executable(app: &App, script: &str, options: &CompileOptions) -> Option<PathBuf> {
    let in_cwd = crate::ecosystem::absolute(&app.cwd.join(script));
    if script.contains('/') || in_cwd.exists() {
        return Some(in_cwd);
    }
    options.facts.which(script)
}

fn is_node_binary(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        n == "node"
            || n == "nodejs"
            || n.starts_with("node") && n[4..].bytes().all(|b| b.is_ascii_digit() || b == b'.')
    })
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
mod tests {
    use super::*;

    #[test]
    fn recognises_version_manager_paths() {
        for path in [
            "/home/u/.nvm/versions/node/v20.1.0/bin/node",
            "/home/u/.volta/bin/node",
            "/home/u/.local/share/fnm/node-versions/v20/installation/bin/node",
            "/home/u/.asdf/shims/node",
            "/usr/local/n/versions/node/20.1.0/bin/node",
        ] {
            assert!(under_version_manager(Path::new(path)), "{path}");
        }
        assert!(!under_version_manager(Path::new("/usr/bin/node")));
        assert!(!under_version_manager(Path::new("/usr/local/bin/node")));
    }

    #[test]
    fn node_scripts_are_recognised_by_their_first_line() {
        for head in [
            "#!/usr/bin/env node\nrequire('../lib/cli.js')",
            "#!/usr/bin/env -S node --no-warnings\n",
            "#! /usr/local/bin/node\n",
            "#!/usr/bin/nodejs",
        ] {
            assert!(shebang_names_node(head.as_bytes()), "{head}");
        }
        for head in [
            "#!/bin/sh\nexec node server.js\n",
            "#!/usr/bin/env python3\n",
            "#!/usr/bin/env\n",
            "\x7fELF\x02\x01",
            "node server.js",
            "",
        ] {
            assert!(!shebang_names_node(head.as_bytes()), "{head}");
        }
    }

    #[test]
    fn recognises_node() {
        assert!(is_node_binary(Path::new("/usr/bin/node")));
        assert!(is_node_binary(Path::new("/usr/bin/nodejs")));
        assert!(is_node_binary(Path::new("/opt/node20")));
        assert!(!is_node_binary(Path::new("/usr/bin/nodemon")));
        assert!(!is_node_binary(Path::new("/usr/bin/python3")));
    }
}
