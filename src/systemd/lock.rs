//! One rollout per app at a time: `apply`, `reload` (also run by
//! `systemctl reload` and cron restarts) and `scale` hold the app's lock, so
//! two of them never restart instances of the same app at once.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use super::Scope;
use crate::model::AppName;

/// Held until dropped.
pub struct AppLock {
    _lock: Flock<File>,
}

/// `/run/nodeunits`, or `$XDG_RUNTIME_DIR/nodeunits` for the user manager.
pub fn lock_dir(scope: Scope) -> PathBuf {
    let runtime = match scope {
        Scope::System => None,
        Scope::User => std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()),
    };
    runtime
        .map_or_else(|| PathBuf::from("/run"), PathBuf::from)
        .join("nodeunits")
}

impl AppLock {
    /// Waits for the lock of `app` in `dir`; `waiting` hears once if another
    /// rollout holds it.
    pub fn acquire(dir: &Path, app: &AppName, waiting: impl FnOnce()) -> io::Result<AppLock> {
        fs::create_dir_all(dir)?;
        let file = File::create(dir.join(app.units().lock_file()))?;
        let file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Ok(AppLock { _lock: lock }),
            Err((file, nix::errno::Errno::EWOULDBLOCK)) => file,
            Err((_, errno)) => return Err(errno.into()),
        };
        waiting();
        match Flock::lock(file, FlockArg::LockExclusive) {
            Ok(lock) => Ok(AppLock { _lock: lock }),
            Err((_, errno)) => Err(errno.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_for_the_first() {
        let dir =
            std::env::temp_dir().join(format!("nodeunits-systemd-app-lock-{}", std::process::id()));
        let (api, web) = (AppName::new("api").unwrap(), AppName::new("web").unwrap());
        let first = AppLock::acquire(&dir, &api, || panic!("nobody holds it")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let _second = AppLock::acquire(&dir, &api, || tx.send(()).unwrap()).unwrap();
            })
        };
        rx.recv().unwrap();
        drop(first);
        waiter.join().unwrap();
        AppLock::acquire(&dir, &web, || panic!("another app's lock is free")).unwrap();
        fs::remove_dir_all(dir).unwrap();
    }
}
