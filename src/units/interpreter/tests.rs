//! What a worker runs, against PM2's rules (`Common.verifyConfs`,
//! `Common.prepareAppConf`, `Common.sink.resolveInterpreter`,
//! `lib/API/interpreter.json`), on files made for each test.

use std::collections::BTreeMap;
use std::fs;
use std::num::NonZeroU32;
use std::os::unix::fs::PermissionsExt;

use toml::Spanned;

use super::*;
use crate::ecosystem::settings::{App, Interpreter};
use crate::model::helper_options::Runtime;
use crate::model::{AppName, Scope};
use crate::units::facts::Facts;
use crate::units::program::{program, Program};

/// A directory with `bin/` (the `PATH`) and `app/` (the `cwd`), removed at the end.
struct Place(PathBuf);

impl Place {
    fn new(name: &str) -> Place {
        let root =
            std::env::temp_dir().join(format!("nodeunits-program-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("bin")).unwrap();
        fs::create_dir_all(root.join("app")).unwrap();
        Place(root)
    }

    fn file(&self, path: &str, contents: &[u8], mode: u32) -> PathBuf {
        let file = self.0.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, contents).unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(mode)).unwrap();
        file
    }

    /// A program in `bin/`.
    fn command(&self, name: &str) -> PathBuf {
        self.file(&format!("bin/{name}"), b"\x7fELF\x02\x01\x01\0\0\0", 0o755)
    }

    fn options(&self, environment: &[(&str, &str)]) -> CompileOptions {
        CompileOptions {
            profile: None,
            bin_dir: self.0.join("bin"),
            systemd_version: 252,
            mode: Scope::System,
            for_pods: false,
            facts: Facts {
                cpus: NonZeroU32::MIN,
                path: vec![self.0.join("bin")],
                environment: environment
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                owner: None,
                homes: vec![self.0.join("home"), self.0.join("root")],
                temporary: Vec::new(),
                user_homes: Some(BTreeMap::new()),
            },
        }
    }

    fn app(&self, script: &str, interpreter: Interpreter) -> App {
        let name = Spanned::new(0..0, AppName::new("app").unwrap());
        let mut app = App::new(
            name,
            Spanned::new(0..0, script.to_owned()),
            &self.0.join("app"),
        );
        app.interpreter = interpreter;
        app
    }

    fn path(&self, path: &str) -> String {
        self.0.join(path).to_string_lossy().into_owned()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn deploy(home: Option<PathBuf>) -> Runner {
    Runner {
        user: Some("deploy".into()),
        home,
    }
}

/// The program, and the messages of what it reported.
fn run(app: &App, options: &CompileOptions, runner: &Runner) -> (Option<Program>, Vec<String>) {
    let mut diagnostics = Diagnostics::default();
    let program = program(app, options, runner, &mut diagnostics);
    let messages = diagnostics.items.into_iter().map(|d| d.message).collect();
    (program, messages)
}

fn written(name: &str) -> Interpreter {
    Interpreter::Program(Spanned::new(0..0, name.to_owned()))
}

#[test]
fn a_command_line_runs_its_program_whatever_the_interpreter() {
    let place = Place::new("line");
    let node = place.command("node");
    let options = place.options(&[]);
    // PM2 runs `bash -c "node server.js"`, with interpreter "none" or none.
    for interpreter in [Interpreter::None, Interpreter::ByExtension] {
        let app = place.app("node server.js", interpreter);
        let (program, messages) = run(&app, &options, &deploy(None));
        let program = program.expect("runs");
        assert_eq!(program.argv, [node.to_string_lossy().as_ref(), "server.js"]);
        assert_eq!(program.runtime, Runtime::Node);
        assert!(messages.is_empty(), "{messages:?}");
    }
    // With an interpreter PM2 would run it on bash itself: refused.
    let app = place.app("node server.js", written("node"));
    let (program, messages) = run(&app, &options, &deploy(None));
    assert!(program.is_none());
    assert!(
        messages[0].contains("it would run node on bash"),
        "{messages:?}"
    );
    // A program found nowhere is named.
    let app = place.app("nodemon server.js", Interpreter::ByExtension);
    let (_, messages) = run(&app, &options, &deploy(None));
    assert_eq!(
        messages,
        ["`nodemon server.js` names no file, so it is a command line, as PM2 reads it; but `nodemon` is no command in PATH"]
    );
    // A file whose name has a space stays a file.
    place.file("app/my server.js", b"", 0o644);
    let app = place.app("my server.js", Interpreter::ByExtension);
    let program = run(&app, &options, &deploy(None)).0.expect("runs");
    assert_eq!(program.argv[1], place.path("app/my server.js"));
}

#[test]
fn a_command_is_found_in_path_for_an_interpreter_too() {
    let place = Place::new("yarn");
    let bash = place.command("bash");
    let yarn = place.file("bin/yarn", b"#!/usr/bin/env node\n", 0o755);
    let app = place.app("yarn", written(bash.to_str().unwrap()));
    let program = run(&app, &place.options(&[]), &deploy(None))
        .0
        .expect("runs");
    // PM2: `pm_exec_path` is `which(script)` when no file of cwd has its name.
    assert_eq!(
        program.argv,
        [bash.to_str().unwrap(), yarn.to_str().unwrap()]
    );
}

#[test]
fn the_interpreter_is_picked_by_extension_as_pm2_picks_it() {
    let place = Place::new("extension");
    let options = place.options(&[]);
    let python3 = place.command("python3");
    let bash = place.command("bash");
    let ruby = place.command("ruby");
    let bun = place.command("bun");
    for (script, interpreter) in [
        ("tasks.py", &python3),
        ("start.sh", &bash),
        ("worker.rb", &ruby),
        ("server.ts", &bun),
    ] {
        let app = place.app(script, Interpreter::ByExtension);
        let program = run(&app, &options, &deploy(None)).0.expect(script);
        assert_eq!(program.argv[0], interpreter.to_string_lossy(), "{script}");
        assert_eq!(program.argv[1], place.path(&format!("app/{script}")));
        assert_eq!(program.runtime, Runtime::Other);
    }
    // `python`, else `python3`, and PYTHONUNBUFFERED as PM2 sets it.
    let program = run(
        &place.app("tasks.py", Interpreter::ByExtension),
        &options,
        &deploy(None),
    );
    assert_eq!(program.0.unwrap().environment, [("PYTHONUNBUFFERED", "1")]);
    // TypeScript without bun: ts-node, PM2's choice before 5.3.1, the
    // app's own too; a Node program, so a launcher.
    fs::remove_file(&bun).unwrap();
    let ts_node = place.file(
        "app/node_modules/.bin/ts-node",
        b"#!/usr/bin/env node\n",
        0o755,
    );
    let program = run(
        &place.app("server.ts", Interpreter::ByExtension),
        &options,
        &deploy(None),
    );
    let program = program.0.expect("ts-node");
    assert_eq!(program.argv[0], ts_node.to_string_lossy());
    assert_eq!(program.runtime, Runtime::Launcher);
    // Not installed: an error naming the interpreter and the script.
    let app = place.app("index.php", Interpreter::ByExtension);
    let (program, messages) = run(&app, &options, &deploy(None));
    assert!(program.is_none());
    assert_eq!(
        messages,
        ["`index.php` runs with php, as PM2 picks it for this script, and php is not an executable in PATH"]
    );
}

#[test]
fn a_file_without_extension_runs_as_its_contents_say() {
    let place = Place::new("contents");
    let options = place.options(&[]);
    let node = place.command("node");
    // express's bin/www: text, `#!/usr/bin/env node`, no execute bit.
    place.file(
        "app/bin/www",
        b"#!/usr/bin/env node\nvar app = require('../app');\n",
        0o644,
    );
    place.file(
        "app/server",
        b"require('http').createServer().listen(3000)\n",
        0o644,
    );
    for script in ["bin/www", "server"] {
        let program = run(
            &place.app(script, Interpreter::ByExtension),
            &options,
            &deploy(None),
        );
        let program = program.0.expect(script);
        assert_eq!(
            program.argv,
            [
                node.to_string_lossy().into_owned(),
                place.path(&format!("app/{script}"))
            ]
        );
        assert_eq!(program.runtime, Runtime::Node);
    }
    // A directory (`pm2 init`'s './service-worker/'): node loads its index.js.
    fs::create_dir_all(place.0.join("app/service-worker")).unwrap();
    let program = run(
        &place.app("./service-worker/", Interpreter::ByExtension),
        &options,
        &deploy(None),
    );
    assert_eq!(
        program.0.unwrap().argv,
        [
            node.to_string_lossy().into_owned(),
            place.path("app/service-worker")
        ]
    );
    // A binary, and a script of another `#!`, run directly.
    let proxy = place.file("app/proxy", b"\x7fELF\x02\x01\x01\0\0", 0o755);
    let start = place.file("app/start", b"#!/bin/sh\nexec sleep 1\n", 0o755);
    for file in [proxy, start] {
        let script = file.file_name().unwrap().to_str().unwrap();
        let program = run(
            &place.app(script, Interpreter::ByExtension),
            &options,
            &deploy(None),
        );
        assert_eq!(program.0.expect(script).argv, [file.to_string_lossy()]);
    }
    // One whose `#!` names node and that may run itself (a command of
    // PATH, a package's bin) runs directly, as a launcher.
    let npm = place.file("bin/npm", b"#!/usr/bin/env node\n", 0o755);
    let launch = place.file("app/launch", b"#!/usr/bin/env node\n", 0o755);
    for (script, file) in [("npm", npm), ("launch", launch)] {
        let program = run(
            &place.app(script, Interpreter::ByExtension),
            &options,
            &deploy(None),
        );
        let program = program.0.unwrap();
        assert_eq!(
            (program.argv, program.runtime),
            (vec![file.to_string_lossy().into_owned()], Runtime::Launcher)
        );
    }
}

#[test]
fn node_at_a_version_is_nvms_or_the_default_node_with_a_warning() {
    let place = Place::new("nvm");
    let node = place.command("node");
    let home = place.0.join("home/deploy");
    let nvm_node = place.file(
        "home/deploy/.nvm/versions/node/v20.11.0/bin/node",
        b"\x7f",
        0o755,
    );
    let options = place.options(&[]);
    let app = place.app("server.js", written("node@20.11.0"));
    let (program, messages) = run(&app, &options, &deploy(Some(home.clone())));
    assert_eq!(program.unwrap().argv[0], nvm_node.to_string_lossy());
    assert!(messages.is_empty(), "{messages:?}");
    // `$NVM_DIR` first, as PM2 reads it.
    let nvm_dir = place.0.join("nvm");
    let pinned = place.file("nvm/versions/node/v18.0.0/bin/node", b"\x7f", 0o755);
    let options = place.options(&[("NVM_DIR", nvm_dir.to_str().unwrap())]);
    let app = place.app("server.js", written("node@18.0.0"));
    assert_eq!(
        run(&app, &options, &deploy(Some(home.clone())))
            .0
            .unwrap()
            .argv[0],
        pinned.to_string_lossy()
    );
    // Not there: the node of PATH, and a warning naming both.
    let app = place.app("server.js", written("node@4.6.0"));
    let (program, messages) = run(&app, &place.options(&[]), &deploy(Some(home.clone())));
    assert_eq!(program.unwrap().argv[0], node.to_string_lossy());
    assert_eq!(
        messages,
        [format!(
            "Node 4.6.0 is not installed by nvm ({}/.nvm/versions/node/v4.6.0/bin/node does not exist): the app runs with {}",
            home.display(),
            node.display()
        )]
    );
}

#[test]
fn an_interpreter_in_another_accounts_home_is_a_warning() {
    let place = Place::new("home");
    let shim = place.file("root/.pyenv/shims/python", b"#!/bin/sh\n", 0o755);
    let options = CompileOptions {
        facts: Facts {
            path: vec![place.0.join("root/.pyenv/shims")],
            ..place.options(&[]).facts
        },
        ..place.options(&[])
    };
    let app = place.app("tasks.py", Interpreter::ByExtension);
    let (program, messages) = run(&app, &options, &deploy(Some(place.0.join("home/deploy"))));
    assert_eq!(program.unwrap().argv[0], shim.to_string_lossy());
    assert_eq!(
        messages,
        [format!(
            "the interpreter {} lies in the home of another account than `deploy`, who runs this app",
            shim.display()
        )]
    );
    // Their own, or root's app: nothing to say.
    let (_, messages) = run(&app, &options, &deploy(Some(place.0.join("root"))));
    assert!(messages.is_empty(), "{messages:?}");
    let root = Runner {
        user: Some("root".into()),
        home: None,
    };
    assert!(run(&app, &options, &root).1.is_empty());
}

#[test]
fn node_only_options_on_another_program_are_warnings() {
    let place = Place::new("node-only");
    place.command("python3");
    let mut app = place.app("tasks.py", Interpreter::ByExtension);
    app.source_map_support = Some(Spanned::new(0..0, true));
    let (program, messages) = run(&app, &place.options(&[]), &deploy(None));
    assert!(!program
        .unwrap()
        .argv
        .contains(&"--enable-source-maps".to_owned()));
    assert_eq!(
        messages,
        ["`source_map_support` is ignored: this app's program is not Node"]
    );
    // node_args without an interpreter: PM2 passes them to none.
    let proxy = place.file("app/proxy", b"\x7fELF\0", 0o755);
    let mut app = place.app("./proxy", Interpreter::None);
    app.interpreter_args = vec!["--max-old-space-size=100".into()];
    let (program, messages) = run(&app, &place.options(&[]), &deploy(None));
    assert_eq!(program.unwrap().argv, [proxy.to_string_lossy()]);
    assert_eq!(
        messages,
        ["`node_args` is ignored: this script runs without an interpreter"]
    );
}

#[test]
fn the_version_manager_directories_are_recognised() {
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
