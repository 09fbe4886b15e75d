//! `exp_backoff_restart_delay` for systemd < 254, which lacks RestartSteps=:
//! the restart count of an instance is kept in the app's runtime directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::defaults::MAX_BACKOFF;

/// PM2 forgets past restarts once the app has run this long.
pub const HEALTHY_AFTER: Duration = Duration::from_secs(30);

/// The delay before the start that follows `restarts` quick restarts:
/// none for the first start, then `base`, then ×1.5 each time up to
/// `MAX_BACKOFF`, as PM2 does.
pub fn delay(base: Duration, restarts: u32) -> Duration {
    // In whole milliseconds: PM2 floors at each step.
    let (base_ms, max_ms) = (base.as_millis() as u64, MAX_BACKOFF.as_millis() as u64);
    let mut delay_ms = 0u64;
    for restart in 0..restarts {
        delay_ms = if restart == 0 {
            base_ms
        } else {
            delay_ms.saturating_mul(3) / 2
        };
        if delay_ms >= max_ms {
            delay_ms = max_ms;
            break;
        }
    }
    Duration::from_millis(delay_ms.min(max_ms))
}

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
        fs::read_to_string(&self.path)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
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
            fs::write(&self.path, format!("{count}\n"))
        };
        if let Err(error) = result {
            tracing::warn!(
                "cannot record the restart count in {}: {error}",
                self.path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_grows_by_half_and_stops_at_fifteen_seconds() {
        let ms = |restarts| delay(Duration::from_millis(100), restarts).as_millis();
        assert_eq!([ms(0), ms(1), ms(2), ms(3), ms(4)], [0, 100, 150, 225, 337]);
        assert_eq!(ms(12), 8_614, "floored at each step, as PM2 does");
        assert_eq!(ms(14), 15_000);
        assert_eq!(ms(1000), 15_000);
        assert_eq!(delay(Duration::from_secs(60), 1), MAX_BACKOFF);
    }

    #[test]
    fn the_count_survives_in_the_runtime_directory() {
        let dir = std::env::temp_dir().join(format!("nodeunits-backoff-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let count = RestartCount::new(&dir, 2);
        assert_eq!(count.read(), 0);
        count.write(3);
        assert_eq!(fs::read_to_string(dir.join("restarts.2")).unwrap(), "3\n");
        assert_eq!(RestartCount::new(&dir, 2).read(), 3);
        count.write(0);
        assert_eq!(count.read(), 0);
        count.write(0);
        fs::remove_dir_all(&dir).unwrap();
    }
}
