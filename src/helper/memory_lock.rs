//! At most one instance of an app restarts for memory at a time: a lock file
//! in the runtime directory the instances share. The instance that restarts
//! takes it; its replacement releases it once ready, so the next instance
//! drains only when this one serves again.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug)]
pub struct MemoryLock {
    path: PathBuf,
    instance: u32,
    /// A lock older than this belongs to an instance that never came back
    /// (stopped, or failed to start): it is taken over.
    stale_after: Duration,
}

impl MemoryLock {
    pub fn new(runtime_dir: &Path, instance: u32, stale_after: Duration) -> MemoryLock {
        MemoryLock {
            path: runtime_dir.join("memory-restart.lock"),
            instance,
            stale_after,
        }
    }

    /// Takes the lock; false while another instance holds it.
    pub fn try_take(&self) -> bool {
        for _ in 0..2 {
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&self.path)
            {
                Ok(mut file) => {
                    let _ = writeln!(file, "{}", self.instance);
                    return true;
                }
                Err(error) if error.kind() == ErrorKind::AlreadyExists => {
                    if self.holder() == Some(self.instance) {
                        return true;
                    }
                    if !self.is_stale() {
                        return false;
                    }
                    tracing::warn!(
                        "taking over the memory-restart lock of an instance that did not come back"
                    );
                    let _ = fs::remove_file(&self.path);
                }
                Err(error) => {
                    tracing::warn!(
                        "cannot take the memory-restart lock {}: {error}; restarting anyway",
                        self.path.display()
                    );
                    return true;
                }
            }
        }
        false
    }

    /// Releases the lock if this instance holds it.
    pub fn release(&self) {
        if self.holder() == Some(self.instance) {
            let _ = fs::remove_file(&self.path);
        }
    }

    pub fn holder(&self) -> Option<u32> {
        fs::read_to_string(&self.path).ok()?.trim().parse().ok()
    }

    fn is_stale(&self) -> bool {
        let age = fs::metadata(&self.path)
            .and_then(|meta| meta.modified())
            .ok()
            .and_then(|at| at.elapsed().ok());
        age.is_some_and(|age| age > self.stale_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instance_at_a_time() {
        let dir = std::env::temp_dir().join(format!("nodeunits-lock-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let minute = Duration::from_secs(60);
        let (zero, one) = (
            MemoryLock::new(&dir, 0, minute),
            MemoryLock::new(&dir, 1, minute),
        );
        assert!(zero.try_take());
        assert!(zero.try_take(), "the holder keeps it");
        assert!(!one.try_take());
        one.release();
        assert_eq!(one.holder(), Some(0), "only the holder releases");
        zero.release();
        assert!(one.try_take());
        let impatient = MemoryLock::new(&dir, 0, Duration::ZERO);
        std::thread::sleep(Duration::from_millis(20));
        assert!(impatient.try_take(), "a stale lock is taken over");
        assert_eq!(one.holder(), Some(0));
        fs::remove_dir_all(&dir).unwrap();
    }
}
