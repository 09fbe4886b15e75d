//! Runs the binary on each file of the corpus, in a copy of its own.
//!
//! The machine stays out of it as far as it can: the binary runs with only
//! `PATH` and `HOME` set, `PATH` being one directory of stand-ins (the real
//! `node`, to evaluate JavaScript, and empty programs for [`COMMANDS`]),
//! with `--bin-dir /usr/bin --target-systemd 252`. Absolute paths a file
//! names (an `interpreter` of `/usr/bin/python3`, a `cwd` of `/var/www/app`)
//! are the machine's.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::record::{Outcome, Record};
use super::{cluster, corpus_dir, stubs, workers};

/// The commands a PM2 user's machine has besides `node`: found in `PATH`,
/// as empty programs.
const COMMANDS: &[&str] = &[
    "npm", "npx", "yarn", "pnpm", "bash", "sh", "python", "python3", "ruby", "php", "perl",
];

/// The options that make `check` and `render` the same on every machine.
const FIXED: &[&str] = &["--bin-dir", "/usr/bin", "--target-systemd", "252"];

/// The name `import`'s TOML is saved under, beside the file.
const IMPORTED: &str = "imported-by-nodeunits.toml";

/// The test's directory: the stand-ins and a copy per file.
pub struct Workspace {
    root: PathBuf,
    root_user: bool,
}

impl Workspace {
    pub fn new() -> Workspace {
        let root = std::env::temp_dir().join(format!("nodeunits-corpus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).expect("create the stand-ins' directory");
        std::fs::create_dir_all(root.join("home")).expect("create HOME");
        std::os::unix::fs::symlink(real_node(), bin.join("node")).expect("link node");
        for command in COMMANDS {
            let path = bin.join(command);
            std::fs::write(&path, "#!/bin/sh\nexit 0\n").expect("write a stand-in");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .expect("make a stand-in executable");
        }
        let root_user = nix::unistd::geteuid().is_root();
        // Every user must reach the copies, as they would reach a checkout.
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))
            .expect("open the workspace");
        Workspace { root, root_user }
    }

    /// `text` with the test's paths replaced: `<dir>` for the file's
    /// directory, `<copy>` for its copy, `<tmp>` for the workspace.
    fn normalize(&self, text: &str, dir: &Path, copy: &Path) -> String {
        let path = |p: &Path| p.to_string_lossy().into_owned();
        text.replace(&path(dir), "<dir>")
            .replace(&path(copy), "<copy>")
            .replace(&path(&self.root), "<tmp>")
    }

    /// Runs `nodeunits ARGS FILE` in `dir`; its stderr normalized.
    fn run(
        &self,
        args: &[&str],
        file: &str,
        dir: &Path,
        copy: &Path,
    ) -> (Option<i32>, String, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_nodeunits"))
            .args(args)
            .arg(file)
            .current_dir(dir)
            .env_clear()
            .env("PATH", self.root.join("bin"))
            .env("HOME", self.root.join("home"))
            .output()
            .expect("run nodeunits");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = self.normalize(&String::from_utf8_lossy(&output.stderr), dir, copy);
        (output.status.code(), stdout, stderr)
    }

    /// Gives `dir` and all it holds to `nobody` when the test runs as root:
    /// a checkout belongs to a deploy user, and an app of a file of root's is
    /// refused.
    fn give_away(&self, dir: &Path) {
        if !self.root_user {
            return;
        }
        let status = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(dir)
            .status()
            .expect("run chown");
        assert!(status.success(), "chown {}", dir.display());
    }

    /// What nodeunits makes of the corpus file `entry`, copied as the
    /// `index`th.
    fn record(&self, index: usize, entry: &str) -> Record {
        let copy = self.root.join(index.to_string());
        let source = corpus_dir().join(entry);
        let target = copy.join(entry);
        let dir = target.parent().expect("a directory").to_path_buf();
        std::fs::create_dir_all(&dir).expect("create the copy");
        std::fs::copy(&source, &target).expect("copy the file");
        let package = source.with_file_name("package.json");
        if package.is_file() {
            std::fs::copy(&package, dir.join("package.json")).expect("copy package.json");
        }
        let file = target.file_name().unwrap().to_string_lossy().into_owned();
        self.give_away(&copy);

        let (_, first_import, _) = self.run(&["import"], &file, &dir, &copy);
        stubs::create(&first_import, &dir, &copy);
        self.give_away(&copy);

        let (status, toml, stderr) = self.run(&["import"], &file, &dir, &copy);
        let import = Outcome::read(status, &stderr, &file);
        let imported = (status == Some(0)).then(|| {
            std::fs::write(dir.join(IMPORTED), &toml).expect("save the import");
            self.give_away(&copy);
            let (status, _, stderr) = self.run(&["check"], IMPORTED, &dir, &copy);
            Outcome::read(status, &stderr, IMPORTED)
        });

        let check_args: Vec<&str> = ["check"].iter().chain(FIXED).copied().collect();
        let (status, _, stderr) = self.run(&check_args, &file, &dir, &copy);
        let check = Outcome::read(status, &stderr, &file);

        let mode = if self.root_user { "--system" } else { "--user" };
        let render_args: Vec<&str> = ["render", mode].iter().chain(FIXED).copied().collect();
        let (status, stdout, stderr) = self.run(&render_args, &file, &dir, &copy);
        let render = Outcome::read(status, &stderr, &file);
        let units = stdout
            .lines()
            .filter_map(|line| line.strip_prefix("# --- ")?.strip_suffix(" ---"))
            .map(str::to_owned)
            .collect();
        let rendered = self.normalize(&stdout, &dir, &copy);
        let cluster = render
            .accepted()
            .then(|| cluster::cluster_apps(&toml, &rendered));
        let workers = workers::describe(&rendered);

        Record {
            entry: entry.to_owned(),
            check,
            render,
            units,
            workers,
            cluster,
            import,
            imported,
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The real node, found in the test's `PATH`: ecosystem files in
/// JavaScript are evaluated by it.
fn real_node() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("node"))
        .find(|node| node.is_file())
        .expect("the corpus test needs `node` in PATH, to evaluate the JavaScript files")
}

/// Every entry's record, in the order of `entries`, on two threads.
pub fn run_all(workspace: &Workspace, entries: &[String]) -> Vec<Record> {
    let next = AtomicUsize::new(0);
    let records: Mutex<Vec<Option<Record>>> = Mutex::new(entries.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(entry) = entries.get(index) else {
                    break;
                };
                let record = workspace.record(index, entry);
                records.lock().expect("records")[index] = Some(record);
            });
        }
    });
    records
        .into_inner()
        .expect("records")
        .into_iter()
        .map(|record| record.expect("every entry recorded"))
        .collect()
}
