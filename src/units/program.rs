//! What a worker runs: the interpreter, resolved to an absolute path when
//! the units are rendered, its arguments, the script and its arguments.

use std::path::PathBuf;

use super::facts::CompileOptions;
use super::findings::Finding;
use super::interpreter::{self, Runner};
use super::script_file::{is_node_binary, runs_in_node};
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
    /// Variables PM2 sets for this interpreter, unless the app sets them.
    pub environment: Vec<(&'static str, &'static str)>,
    /// `script = "serve"`: nodeunits' static file server (the helper's
    /// `--serve`).
    pub serve: bool,
}

/// PM2's word for its static file server (`pm2 serve`), as a `script`.
pub const SERVE: &str = "serve";

/// A `script` with spaces that names no file is a command line, which PM2
/// runs with `bash -c` whatever the interpreter (`Common.verifyConfs`):
/// plain words are the program and its first arguments, run as bash would
/// run them; a line with shell syntax runs with `bash -c`.
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
    if !script.contains(char::is_whitespace) || app.cwd.join(script).exists() {
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
    runner: &Runner,
    diagnostics: &mut Diagnostics,
) -> Option<Program> {
    let kind = script_kind(app);
    if let (Interpreter::Program(written), Script::Words(..) | Script::Shell) =
        (&app.interpreter, &kind)
    {
        // PM2 would run the interpreter on bash itself.
        let interpreter = written.get_ref().clone();
        Finding::CommandLineWithInterpreter { interpreter }
            .report(diagnostics, Some(written.span()));
        return None;
    }
    if app.script.get_ref() == SERVE {
        return serve(app, options, runner, diagnostics);
    }
    let (script, first_args) = match kind {
        Script::Plain => (app.script.get_ref().clone(), Vec::new()),
        Script::Words(program, words) => {
            return command_line(app, &program, words, options, diagnostics)
        }
        Script::Shell => return shell(app, options, diagnostics),
    };
    let Some(located) = interpreter::locate(app, &script, options) else {
        not_found(app, &script, diagnostics);
        return None;
    };
    let interpreter = interpreter::choose(app, &located, options, runner, diagnostics)?;
    let Some(interpreter) = interpreter else {
        return direct(app, located.path, first_args, diagnostics);
    };
    let is_node = is_node_binary(&interpreter);
    let mut argv = vec![interpreter.to_string_lossy().into_owned()];
    if source_maps(app, is_node, diagnostics) {
        argv.push("--enable-source-maps".into());
    }
    argv.extend(app.interpreter_args.iter().cloned());
    argv.push(located.path.to_string_lossy().into_owned());
    argv.extend(app.args.iter().cloned());
    let runtime = if is_node {
        Runtime::Node
    } else if runs_in_node(&interpreter) {
        // coffee, lsc, ts-node: Node programs that run the script in Node.
        Runtime::Launcher
    } else {
        Runtime::Other
    };
    let python = interpreter
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("python"));
    // As PM2 does: a Python app's output reaches its log at once.
    let environment = if python {
        vec![("PYTHONUNBUFFERED", "1")]
    } else {
        Vec::new()
    };
    Some(Program {
        argv,
        runtime,
        environment,
        serve: false,
    })
}

/// `script = "serve"`, which PM2 replaces with its own static file server
/// (lib/API/Serve.js) whatever `cwd` or `PATH` hold: nodeunits' server,
/// which the helper writes beside its preload and runs with node, or the
/// app's `interpreter`.
fn serve(
    app: &App,
    options: &CompileOptions,
    runner: &Runner,
    diagnostics: &mut Diagnostics,
) -> Option<Program> {
    // The server is a `.js` file: node, or the app's `interpreter`.
    let located = interpreter::Located {
        path: app.cwd.join("serve.js"),
    };
    let node = match interpreter::choose(app, &located, options, runner, diagnostics)? {
        Some(interpreter) => interpreter,
        // `interpreter = "none"`: PM2 runs its server with node all the same.
        None => options
            .facts
            .which("node")
            .unwrap_or_else(|| PathBuf::from("/usr/bin/node")),
    };
    let mut argv = vec![node.to_string_lossy().into_owned()];
    argv.extend(app.interpreter_args.iter().cloned());
    argv.push(SERVE.to_owned());
    argv.extend(app.args.iter().cloned());
    Some(Program {
        argv,
        runtime: Runtime::Node,
        environment: Vec::new(),
        serve: true,
    })
}

/// The words of a command line: its program run directly, found in `cwd`
/// or `PATH` as bash would find it, then its arguments and `args`.
fn command_line(
    app: &App,
    program: &str,
    words: Vec<String>,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Program> {
    let in_cwd = crate::ecosystem::absolute(&app.cwd.join(program));
    let found = if program.contains('/') {
        Some(in_cwd)
    } else {
        options.facts.which(program)
    };
    let Some(path) = found else {
        Finding::CommandNotFound {
            line: app.script.get_ref().clone(),
            program: program.to_owned(),
        }
        .report(diagnostics, Some(app.script.span()));
        return None;
    };
    direct(app, path, words, diagnostics)
}

/// A program run as it is: Node itself, a launcher of Node (its `#!`
/// names node), or anything else.
fn direct(
    app: &App,
    path: PathBuf,
    first_args: Vec<String>,
    diagnostics: &mut Diagnostics,
) -> Option<Program> {
    let is_node = is_node_binary(&path);
    let runtime = if is_node {
        Runtime::Node
    } else if runs_in_node(&path) {
        Runtime::Launcher
    } else {
        Runtime::Other
    };
    if !app.interpreter_args.is_empty() {
        // PM2 passes them only to an interpreter.
        Finding::InterpreterArgsIgnored.report(diagnostics, Some(app.script.span()));
    }
    let mut argv = vec![path.to_string_lossy().into_owned()];
    if source_maps(app, is_node, diagnostics) {
        argv.push("--enable-source-maps".into());
    }
    argv.extend(first_args);
    argv.extend(app.args.iter().cloned());
    Some(Program {
        argv,
        runtime,
        environment: Vec::new(),
        serve: false,
    })
}

/// Whether Node gets `--enable-source-maps`: with `source_map_support` on
/// a Node app; on another a warning, as PM2 ignores it there.
fn source_maps(app: &App, is_node: bool, diagnostics: &mut Diagnostics) -> bool {
    let Some(flag) = app.source_map_support.as_ref().filter(|f| *f.get_ref()) else {
        return false;
    };
    if !is_node {
        Finding::SourceMapIgnored.report(diagnostics, Some(flag.span()));
    }
    is_node
}

fn not_found(app: &App, script: &str, diagnostics: &mut Diagnostics) {
    Finding::ScriptNotFound {
        script: script.to_owned(),
        cwd: app.cwd.clone(),
    }
    .report(diagnostics, Some(app.script.span()));
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
        environment: Vec::new(),
        serve: false,
    })
}
