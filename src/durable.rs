//! Files replaced whole: whoever reads one sees the old file or the new,
//! never a part, also after a crash. Every file nodeunits writes for
//! another process goes through here: unit files, the apply journal, the
//! reload records, and the helper's state, replacement outcomes and
//! preload scripts; the environment files and the apply journal only
//! their owner reads.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Writes `contents` into a temporary file beside `path`, syncs it, renames
/// it over `path` and syncs the directory (rename(2) is atomic; the syncs
/// make it last through a crash). The temporary file is hidden (a leading
/// dot) and named after this process, so two writers of one file do not
/// share it; it is removed when the write fails.
pub fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_mode(path, contents, 0o666)
}

/// [`write`], for a file only its owner may read (mode 0600): the
/// temporary file is created with that mode, so the contents are never
/// readable by anyone else, not even for a moment.
pub fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_mode(path, contents, 0o600)
}

/// [`write`] with the temporary file created anew with `mode` (less the
/// umask); one that a crash left behind is removed first, as it may have
/// another mode.
fn write_mode(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    let tmp = directory(path).join(format!(
        ".{}.{}.nodeunits-tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    match fs::remove_file(&tmp) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_directory(path)
}

/// Removes `path`, if it exists, and syncs its directory.
pub fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
        Ok(()) => sync_directory(path),
    }
}

/// The directory `path` is in: its parent, or `.` for a bare name.
fn directory(path: &Path) -> &Path {
    path.parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn sync_directory(path: &Path) -> io::Result<()> {
    File::open(directory(path))?.sync_all()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn scratch(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("nodeunits-durable-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_then_replaces_whole_leaving_no_temporary_file() {
        let dir = scratch("replace");
        let path = dir.join("api.service");
        write(&path, b"first\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"first\n");
        write(&path, b"second\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second\n");
        assert_eq!(names(&dir), ["api.service"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_one() {
        let dir = scratch("failed");
        let path = dir.join("state.0");
        write(&path, b"ready 1\n").unwrap();
        // A directory where the file should be: the rename fails.
        let blocked = dir.join("blocked");
        fs::create_dir_all(blocked.join("inside")).unwrap();
        assert!(write(&blocked, b"x").is_err());
        assert!(write(&dir.join("missing/state.0"), b"x").is_err());
        assert_eq!(names(&dir), ["blocked", "state.0"]);
        assert_eq!(fs::read(&path).unwrap(), b"ready 1\n");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_private_file_is_never_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("private");
        let path = dir.join("api.env");
        // A temporary file a crash left behind, readable by all.
        let stale = dir.join(format!(".api.env.{}.nodeunits-tmp", std::process::id()));
        fs::write(&stale, b"old").unwrap();
        fs::set_permissions(&stale, fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"A='secret'\n").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(names(&dir), ["api.env"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn removes_a_file_and_a_missing_one_is_no_error() {
        let dir = scratch("remove");
        let path = dir.join("api.journal");
        write(&path, b"entry").unwrap();
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert_eq!(names(&dir), Vec::<String>::new());
        assert!(write(Path::new("/"), b"x").is_err(), "no file name");
        fs::remove_dir_all(dir).unwrap();
    }
}
