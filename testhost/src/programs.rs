//! nodeunits' programs inside a box, at a system path of their own
//! ([`crate::BIN_DIR`]) as a package would install them, not at the
//! checkout's: every user of the box reaches them wherever the checkout
//! lies (a home directory of mode 0700, `/tmp`, which a worker's private
//! `/tmp` hides).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The programs put in [`crate::BIN_DIR`], when built.
const PROGRAMS: &[&str] = &["nodeunits", "nodeunits-helper"];

/// One program for the box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Program {
    /// Where cargo built it, on the machine.
    pub source: PathBuf,
    /// Its path inside the box.
    pub inside: PathBuf,
    /// Bound read-only when every user may read and run it; copied with
    /// mode 0755 when not (built under umask 077).
    pub bind: bool,
}

/// The programs built beside the running executable: cargo's profile
/// directory (`target/debug`), where a test runs from `deps/`.
pub(crate) fn built() -> Vec<Program> {
    let exe = std::env::current_exe().unwrap_or_default();
    match exe.parent() {
        Some(dir) if dir.ends_with("deps") => in_dir(dir.parent().unwrap_or(dir)),
        Some(dir) => in_dir(dir),
        None => Vec::new(),
    }
}

/// The [`PROGRAMS`] found in `dir`.
pub(crate) fn in_dir(dir: &Path) -> Vec<Program> {
    PROGRAMS
        .iter()
        .filter_map(|name| {
            let source = dir.join(name);
            let mode = source.metadata().ok().filter(|m| m.is_file())?.mode();
            Some(Program {
                inside: Path::new(crate::BIN_DIR).join(name),
                bind: mode & 0o005 == 0o005,
                source,
            })
        })
        .collect()
}

/// The boot script's lines: `bind|copy INSIDE SOURCE` (the source last: a
/// checkout's path may hold spaces).
pub(crate) fn lines(programs: &[Program]) -> String {
    programs
        .iter()
        .map(|p| {
            let how = if p.bind { "bind" } else { "copy" };
            format!("{how} {} {}\n", p.inside.display(), p.source.display())
        })
        .collect()
}

/// On the machine's own systemd (`NODEUNITS_TEST_HOST=local`): copies the
/// programs to [`crate::BIN_DIR`] on the machine.
pub(crate) fn install_locally(programs: &[Program]) {
    for program in programs {
        let fail = |e: std::io::Error| -> ! {
            panic!(
                "testhost: cannot install {} as {}: {e}",
                program.source.display(),
                program.inside.display()
            )
        };
        if let Some(dir) = program.inside.parent() {
            fs::create_dir_all(dir).unwrap_or_else(|e| fail(e));
            fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap_or_else(|e| fail(e));
        }
        // A new file, not one overwritten in place, which a running
        // program of the last test may still execute.
        let new = program.inside.with_extension("new");
        fs::copy(&program.source, &new).unwrap_or_else(|e| fail(e));
        fs::set_permissions(&new, fs::Permissions::from_mode(0o755)).unwrap_or_else(|e| fail(e));
        fs::rename(&new, &program.inside).unwrap_or_else(|e| fail(e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_every_user_may_run_are_bound_others_copied() {
        let dir = std::env::temp_dir().join(format!("testhost-programs-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("nodeunits"), "").unwrap();
        fs::set_permissions(dir.join("nodeunits"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(dir.join("nodeunits-helper"), "").unwrap();
        fs::set_permissions(
            dir.join("nodeunits-helper"),
            fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        let programs = in_dir(&dir);
        let inside = Path::new(crate::BIN_DIR);
        assert_eq!(
            programs,
            [
                Program {
                    source: dir.join("nodeunits"),
                    inside: inside.join("nodeunits"),
                    bind: true
                },
                Program {
                    source: dir.join("nodeunits-helper"),
                    inside: inside.join("nodeunits-helper"),
                    bind: false
                },
            ]
        );
        assert_eq!(
            lines(&programs[..1]),
            format!(
                "bind {}/nodeunits {}\n",
                crate::BIN_DIR,
                dir.join("nodeunits").display()
            )
        );
        fs::remove_dir_all(&dir).unwrap();
        assert!(in_dir(&dir).is_empty(), "nothing built, nothing installed");
    }
}
