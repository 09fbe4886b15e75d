//! The directories of an app's `out_file` and `error_file`. systemd opens
//! those files when a worker starts and fails it when their directory is
//! missing; PM2 creates the directory at start, so apply creates it before
//! starting: mode 0755, owned by the app's `user` and `group` when set. A
//! directory created by an apply that fails stays: it holds nothing yet.

use std::fs::{self, DirBuilder, Permissions};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::unistd::{chown, Gid, Group, Uid, User};

use crate::model::AppUnits;

/// A log directory that could not be created.
#[derive(Debug, thiserror::Error)]
#[error("creating {}, the directory of its log files: {why}", .path.display())]
pub struct LogDirError {
    pub path: PathBuf,
    pub why: String,
}

/// Creates the missing directories of the app's log files, parents first;
/// returns a line for the user per directory created.
pub fn create(app: &AppUnits) -> Result<Vec<String>, LogDirError> {
    let worker = &app.worker;
    let mut dirs: Vec<&Path> = [&worker.standard_output, &worker.standard_error]
        .into_iter()
        .filter_map(|target| target.as_ref()?.file()?.parent())
        .collect();
    // The files the log writer writes for the workers.
    dirs.extend(app.logs.iter().flat_map(|writer| writer.dirs()));
    dirs.dedup();
    let mut created = Vec::new();
    for dir in dirs {
        let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
        if missing.is_empty() {
            continue;
        }
        let fail = |path: &Path, why: String| LogDirError {
            path: path.to_owned(),
            why,
        };
        let (uid, gid) =
            owner(worker.user.as_deref(), worker.group.as_deref()).map_err(|why| fail(dir, why))?;
        for path in missing.into_iter().rev() {
            DirBuilder::new()
                .mode(0o755)
                .create(path)
                .map_err(|err| fail(path, err.to_string()))?;
            // The mode, whatever the umask.
            fs::set_permissions(path, Permissions::from_mode(0o755))
                .and_then(|()| chown(path, uid, gid).map_err(std::io::Error::from))
                .map_err(|err| fail(path, err.to_string()))?;
            let owned = match (&worker.user, &worker.group) {
                (None, None) => String::new(),
                (user, group) => format!(
                    ", owner {}{}",
                    user.as_deref().unwrap_or(""),
                    group.as_deref().map_or(String::new(), |g| format!(":{g}"))
                ),
            };
            created.push(format!(
                "{}: created {} for its log files (mode 0755{owned})",
                app.name,
                path.display()
            ));
        }
    }
    Ok(created)
}

/// The ids the worker runs as: `User=`, `Group=` (by name or number), the
/// user's primary group when only the user is set, as systemd does.
fn owner(user: Option<&str>, group: Option<&str>) -> Result<(Option<Uid>, Option<Gid>), String> {
    let user = match user {
        None => None,
        Some(name) => Some(match name.parse::<u32>() {
            Ok(uid) => (
                Uid::from_raw(uid),
                User::from_uid(Uid::from_raw(uid))
                    .ok()
                    .flatten()
                    .map(|u| u.gid),
            ),
            Err(_) => match User::from_name(name) {
                Ok(Some(found)) => (found.uid, Some(found.gid)),
                Ok(None) => return Err(format!("the app's user `{name}` does not exist")),
                Err(err) => return Err(format!("looking up the user `{name}`: {err}")),
            },
        }),
    };
    let gid = match group {
        None => user.and_then(|(_, primary)| primary),
        Some(name) => Some(match name.parse::<u32>() {
            Ok(gid) => Gid::from_raw(gid),
            Err(_) => match Group::from_name(name) {
                Ok(Some(found)) => found.gid,
                Ok(None) => return Err(format!("the app's group `{name}` does not exist")),
                Err(err) => return Err(format!("looking up the group `{name}`: {err}")),
            },
        }),
    };
    Ok((user.map(|(uid, _)| uid), gid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LogTarget;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn missing_directories_are_created_with_their_parents() {
        let root = std::env::temp_dir().join(format!("nodeunits-log-dirs.{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir(&root).unwrap();
        let mut app = super::super::test_support::model("/srv/e.toml", "api", 1, &[], "v1");
        let out = root.join("pm2/api/out.log");
        app.worker.standard_output = Some(LogTarget::Append(out));
        app.worker.standard_error = Some(LogTarget::Append(root.join("pm2/api/err.log")));
        app.worker.group = Some(nix::unistd::getgid().to_string());
        let lines = create(&app).unwrap();
        let dir = root.join("pm2/api");
        assert_eq!(
            lines,
            [root.join("pm2"), dir.clone()].map(|path| format!(
                "api: created {} for its log files (mode 0755, owner :{})",
                path.display(),
                nix::unistd::getgid()
            ))
        );
        let meta = fs::metadata(&dir).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o755);
        assert_eq!(meta.gid(), nix::unistd::getgid().as_raw());
        assert!(create(&app).unwrap().is_empty(), "nothing left to create");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_unknown_account_is_named() {
        assert_eq!(
            owner(Some("no-such-user-here"), None),
            Err("the app's user `no-such-user-here` does not exist".to_owned())
        );
        assert_eq!(owner(None, Some("0")), Ok((None, Some(Gid::from_raw(0)))));
    }
}
