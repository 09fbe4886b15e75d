//! One rollout per app at a time: `apply`, `reload` (also run by
//! `systemctl reload` and cron restarts) and `scale` hold the app's lock, so
//! two of them never restart instances of the same app at once.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};

use super::interrupt::{Interrupt, Interrupted};
use super::Scope;
use crate::model::AppName;

/// Held until dropped.
pub struct AppLock {
    _lock: Flock<File>,
}

/// `/run`, or `$XDG_RUNTIME_DIR` for the user manager: where systemd puts
/// a unit's `RuntimeDirectory=`.
pub fn runtime_base(scope: Scope) -> PathBuf {
    let runtime = match scope {
        Scope::System => None,
        Scope::User => std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()),
    };
    runtime.map_or_else(|| PathBuf::from("/run"), PathBuf::from)
}

/// `/run/nodeunits`, or `$XDG_RUNTIME_DIR/nodeunits` for the user manager.
pub fn lock_dir(scope: Scope) -> PathBuf {
    runtime_base(scope).join("nodeunits")
}

/// Why a lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0} while waiting for another rollout to finish; nothing was changed")]
    Interrupted(#[from] Interrupted),
}

/// How often a waiting rollout looks again for the lock and for a signal.
const POLL: Duration = Duration::from_millis(50);

impl AppLock {
    /// Waits for the lock of `app` in `dir`; `waiting` hears once if another
    /// rollout holds it. A signal noted by `interrupt` ends the wait.
    pub fn acquire(
        dir: &Path,
        app: &AppName,
        waiting: impl FnOnce(),
        interrupt: &Interrupt,
    ) -> Result<AppLock, LockError> {
        fs::create_dir_all(dir)?;
        let mut file = File::create(dir.join(app.units().lock_file()))?;
        let mut waiting = Some(waiting);
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => return Ok(AppLock { _lock: lock }),
                Err((again, nix::errno::Errno::EWOULDBLOCK)) => file = again,
                Err((_, errno)) => return Err(io::Error::from(errno).into()),
            }
            if let Some(waiting) = waiting.take() {
                waiting();
            }
            interrupt.check()?;
            std::thread::sleep(POLL);
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
        let interrupt = Interrupt::default();
        let first = AppLock::acquire(&dir, &api, || panic!("nobody holds it"), &interrupt).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let dir = dir.clone();
            let interrupt = interrupt.clone();
            std::thread::spawn(move || {
                let _second =
                    AppLock::acquire(&dir, &api, || tx.send(()).unwrap(), &interrupt).unwrap();
            })
        };
        rx.recv().unwrap();
        drop(first);
        waiter.join().unwrap();
        let free = || panic!("another app's lock is free");
        let web_lock = AppLock::acquire(&dir, &web, free, &interrupt).unwrap();
        let stopped = Interrupt::default();
        stopped.note(nix::sys::signal::Signal::SIGINT);
        let err = AppLock::acquire(&dir, &web, || {}, &stopped).err().unwrap();
        assert_eq!(
            err.to_string(),
            "interrupted by SIGINT while waiting for another rollout to finish; nothing was changed"
        );
        drop(web_lock);
        fs::remove_dir_all(dir).unwrap();
    }
}
