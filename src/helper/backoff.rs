//! Restarts that back off: `exp_backoff_restart_delay` for systemd < 254,
//! which lacks RestartSteps=, and every app's quick failures otherwise. The
//! restart count of an instance is kept in the app's runtime directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// PM2 forgets past restarts once the app has run this long.
pub const HEALTHY_AFTER: Duration = Duration::from_secs(30);

pub use crate::model::defaults::backoff_delay as delay;

/// The restart count of one instance, in a file of the runtime directory.
#[derive(Debug)]
pub struct RestartCount {
    path: PathBuf,
}

impl RestartCount {
    pub fn new(runtime_dir: &Path, instance: u32) -> RestartCount {
        RestartCount {
            path: runtime_dir.join(format!("restarts.{instance}")),
        }
    }

    pub fn read(&self) -> u32 {
        self.fields()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// How long ago the app last ended, when the count says (a count
    /// records when the app ended, on the monotonic clock: /run does not
    /// outlive a boot).
    pub fn since_last_end(&self) -> Option<Duration> {
        let ended = Duration::from_millis(self.fields().nth(1)?.parse().ok()?);
        now().checked_sub(ended)
    }

    fn fields(&self) -> std::vec::IntoIter<String> {
        let text = fs::read_to_string(&self.path).unwrap_or_default();
        let fields: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        fields.into_iter()
    }

    pub fn write(&self, count: u32) {
        let result = if count == 0 {
            fs::remove_file(&self.path).or_else(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            })
        } else {
            fs::write(&self.path, format!("{count} {}\n", now().as_millis()))
        };
        if let Err(error) = result {
            tracing::warn!(
                "cannot record the restart count in {}: {error}",
                self.path.display()
            );
        }
    }
}

/// The monotonic clock.
fn now() -> Duration {
    use nix::time::{clock_gettime, ClockId};
    clock_gettime(ClockId::CLOCK_MONOTONIC).map_or(Duration::ZERO, Duration::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_survives_in_the_runtime_directory() {
        let dir = std::env::temp_dir().join(format!("nodeunits-backoff-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let count = RestartCount::new(&dir, 2);
        assert_eq!(count.read(), 0);
        assert_eq!(count.since_last_end(), None);
        count.write(3);
        let text = fs::read_to_string(dir.join("restarts.2")).unwrap();
        assert!(text.starts_with("3 ") && text.ends_with('\n'), "{text}");
        assert_eq!(RestartCount::new(&dir, 2).read(), 3);
        assert!(count.since_last_end().unwrap() < Duration::from_secs(5));
        count.write(0);
        assert_eq!(count.read(), 0);
        count.write(0);
        fs::remove_dir_all(&dir).unwrap();
    }
}
