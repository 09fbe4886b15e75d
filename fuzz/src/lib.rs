//! What each fuzz target does with its input, as plain functions: the
//! targets in `fuzz_targets/` call them under libFuzzer, and
//! `tests/fuzz_corpus.rs` (which includes this file) replays every saved
//! input of `corpus/<target>/` through them on a plain `cargo test`.
//!
//! Every function takes any bytes. An error for bad input is fine; a panic
//! is the bug, and so is a broken promise: the units compiled read back as
//! the model they were rendered from, the helper's options written as words
//! parse back the same, IPC lines cut anywhere are joined again.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::num::NonZeroU32;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nodeunits::ecosystem::{import, Format, Severity};
use nodeunits::helper::ipc::{LineBuffer, Message};
use nodeunits::model::helper_options::{self, Request};
use nodeunits::model::{AppName, Scope};
use nodeunits::units::read::{file_owner, read_app};
use nodeunits::units::{compile_file, Account, CompileOptions, Facts, RenderedApp};

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// Each target by name, as in `Cargo.toml` and `corpus/<name>/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("compile", compile),
    ("helper_args", helper_args),
    ("helper_ipc", helper_ipc),
    ("read_units", read_units),
];

/// `tests/golden` of this repository, for its stand-in executables.
fn golden_dir() -> PathBuf {
    // The fuzz crate (in `fuzz/`) and the replay test (at the root) both
    // compile this file.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = if manifest.join("fuzz_targets").is_dir() {
        manifest.parent().expect("fuzz/ is in the repository")
    } else {
        manifest
    };
    root.join("tests/golden")
}

/// The directory of this process's files, in `$TMPDIR`.
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("nodeunits-fuzz-{}", std::process::id()))
}

/// Where this process writes the ecosystem file: `case/input/` of its
/// scratch directory, beside `bin`, the stand-ins of `tests/golden/bin`, so
/// that `../../bin/node` resolves as in a golden case.
fn input_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch_dir();
        let input = dir.join("case/input");
        std::fs::create_dir_all(&input).expect("a temporary directory");
        let _ = std::os::unix::fs::symlink(golden_dir().join("bin"), dir.join("bin"));
        input
    })
}

/// The owner of the file, as in the golden cases: `deploy`, or `root`.
fn account(name: &str) -> Account {
    let uid = if name == "root" { 0 } else { 1000 };
    Account {
        uid,
        name: Some(name.to_owned()),
    }
}

/// The options of a golden case without `options.toml`, and the
/// directories the sandbox treats apart as on this machine.
fn base_options() -> &'static CompileOptions {
    static OPTIONS: OnceLock<CompileOptions> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let bin = golden_dir().join("bin");
        let mut facts = Facts::of_this_process();
        facts.cpus = NonZeroU32::new(4).expect("4 > 0");
        facts.path = vec![bin.clone()];
        facts.environment = BTreeMap::from([
            ("LANG".to_owned(), "C.UTF-8".to_owned()),
            ("TZ".to_owned(), "Europe/Paris".to_owned()),
        ]);
        facts.owner = Some(account("deploy"));
        CompileOptions {
            profile: None,
            bin_dir: bin,
            systemd_version: 252,
            mode: Scope::System,
            for_pods: false,
            facts,
        }
    })
}

/// An ecosystem file, compiled end to end as `render` and `import` do. The
/// input's first line is the file's name, which chooses its format, and
/// `render`'s options, with facts of the machine too (`--cpus`, `--owner`
/// of the file); the rest is the file:
///
/// ```text
/// ecosystem.yaml --env production --user --target-systemd 254 --cpus 6 --owner root
/// apps:
///   ...
/// ```
///
/// JavaScript is left out: Node evaluates it, a process per file, and the
/// JSON it gives back is read as a `.json` file is. A `.json` file that is
/// not JSON is handed, as PM2 evaluates it, to the stand-in `node` of
/// `tests/golden/bin`, which without `$GOLDEN_NODE` fails at once: both
/// errors are reported, as for a file that is neither.
pub fn compile(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // Files are read with read_to_string: not UTF-8 is its error.
    };
    let (first_line, source) = text.split_once('\n').unwrap_or((text, ""));
    let mut words = first_line.split_whitespace();
    let name = words.next().map(Path::new).and_then(Path::file_name);
    let name = name.unwrap_or("ecosystem.toml".as_ref());
    if matches!(Format::of(Path::new(name)), Some(Format::JavaScript)) {
        return;
    }
    let mut options = base_options().clone();
    while let Some(word) = words.next() {
        match (word, words.clone().next()) {
            ("--user", _) => options.mode = Scope::User,
            ("--owner", Some(name)) => options.facts.owner = Some(account(name)),
            ("--env", Some(profile)) => options.profile = Some(profile.to_owned()),
            ("--target-systemd", Some(version)) => {
                options.systemd_version = version.parse().unwrap_or(252);
            }
            ("--cpus", Some(cpus)) => {
                // As many as machines have.
                let cpus = cpus.parse().map_or(4, |n: u32| n.clamp(1, 512));
                options.facts.cpus = NonZeroU32::new(cpus).expect("clamped");
            }
            _ => {}
        }
    }
    let file = input_dir().join(name);
    if std::fs::write(&file, source).is_err() {
        return; // A name the file system does not take.
    }
    let compiled = compile_file(&file, &options);
    let _ = std::fs::remove_file(&file);
    for severity in [Severity::Warning, Severity::Error] {
        let _ = compiled.diagnostics.render(severity, &compiled.source);
    }
    if let Some(document) = &compiled.document {
        let _ = import::to_toml(&compiled.source, document, &compiled.diagnostics);
    }
    for app in compiled.apps.iter().flatten() {
        let files = app
            .files
            .iter()
            .map(|file| (file.name.clone(), file.contents.clone()))
            .collect();
        assert_eq!(
            read_app(&app.units.name, &files).as_ref(),
            Ok(&app.units),
            "the units rendered read back as another model"
        );
    }
}

/// The helper's command line: the arguments are the input's NUL-separated
/// words, as `/proc/PID/cmdline` shows them; any bytes, as Linux allows.
pub fn helper_args(data: &[u8]) {
    let args = data
        .split(|&b| b == 0)
        .map(|word| OsString::from_vec(word.to_vec()));
    let Ok(Request::Run(options)) = helper_options::parse(args) else {
        return;
    };
    // What the compiler would write for these options, read again.
    if options.command.iter().all(|word| word.to_str().is_some()) {
        let words = options.words().into_iter().map(OsString::from);
        assert_eq!(
            helper_options::parse(words),
            Ok(Request::Run(options)),
            "the words of the options parse as other options"
        );
    }
}

/// The helper's IPC channel: the input is what the app writes on it, read
/// whole and cut in two where its first byte says.
pub fn helper_ipc(data: &[u8]) {
    let whole = LineBuffer::default().push(data);
    for line in data.split(|&b| b == b'\n') {
        let _ = Message::parse(line);
    }
    let cut = data
        .first()
        .map_or(0, |&b| usize::from(b) % (data.len() + 1));
    let mut buffer = LineBuffer::default();
    let mut in_two = buffer.push(&data[..cut]);
    in_two.extend(buffer.push(&data[cut..]));
    // A longer line is dropped by length, so where it is cut matters.
    if data.len() <= 64 * 1024 {
        assert_eq!(whole, in_two, "a line cut in two reads differently");
    }
}

/// Installed unit files read back, and whose each is. The input's first
/// line is the app's name; each line `--- NAME` starts the file NAME:
///
/// ```text
/// api
/// --- api.service
/// [Unit]
/// ...
/// --- api@.service
/// ...
/// ```
pub fn read_units(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // Unit files are read with read_to_string.
    };
    let (name, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(name) = AppName::new(name) else {
        return;
    };
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in rest.split_inclusive('\n') {
        if let Some(file) = line.strip_prefix("--- ") {
            let file = file.trim_end_matches('\n').to_owned();
            files.entry(file.clone()).or_default();
            current = Some(file);
        } else if let Some(contents) = current.as_ref().and_then(|file| files.get_mut(file)) {
            contents.push_str(line);
        }
    }
    for text in files.values() {
        let _ = file_owner(text);
    }
    // What `scale` does with installed units: read, render, and the next
    // `apply` reads again. An edited file may read as values the compiler
    // never writes, so only the absence of a panic is asked of the way
    // back; `compile` checks it on everything the compiler writes.
    let Ok(units) = read_app(&name, &files) else {
        return;
    };
    let Ok(rendered) = RenderedApp::new(units) else {
        return;
    };
    let files = rendered
        .files
        .into_iter()
        .map(|file| (file.name, file.contents))
        .collect();
    let _ = read_app(&name, &files);
}
