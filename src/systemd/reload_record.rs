//! The last rolling reload of each app, kept beside its lock
//! (`/run/nodeunits/APP.reload.json`, or under `$XDG_RUNTIME_DIR`): when it
//! began, how long it took, whether every instance came back. Written by
//! `nodeunits reload` (also run by `systemctl reload` and cron restarts),
//! read by `describe` and `metrics`. It lives under /run, so a reboot
//! forgets it, as it forgets the processes it describes.

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::durable;
use crate::model::AppName;

/// One rolling reload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReloadRecord {
    /// When it began, in seconds since the epoch.
    pub started_at: f64,
    pub duration_seconds: f64,
    pub instances: u32,
    /// Every instance restarted and was ready again.
    pub succeeded: bool,
}

impl ReloadRecord {
    /// A reload that began at `started` and ends now.
    pub fn ended(started: SystemTime, instances: u32, succeeded: bool) -> ReloadRecord {
        let since_epoch = |time: SystemTime| {
            time.duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_secs_f64()
        };
        let elapsed = started.elapsed().unwrap_or(Duration::ZERO);
        ReloadRecord {
            started_at: since_epoch(started),
            duration_seconds: elapsed.as_secs_f64(),
            instances,
            succeeded,
        }
    }

    /// Whether `at` (seconds since the epoch) fell during this reload.
    pub fn covers(&self, at: f64) -> bool {
        // The journal's times and ours come from the same clock; a little
        // slack for the stop that ends just after the last restart returned.
        self.started_at - 0.5 <= at && at <= self.started_at + self.duration_seconds + 0.5
    }

    /// Writes the record of `app` into `dir` (the lock directory), readable
    /// by all: the metrics endpoint runs as a user of its own.
    pub fn save(&self, dir: &Path, app: &AppName) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        let json = serde_json::to_vec(self).map_err(io::Error::other)?;
        durable::write(&dir.join(app.units().reload_record_file()), &json)
    }

    /// The last record of `app`; `None` when it never reloaded since boot,
    /// or the file cannot be read.
    pub fn load(dir: &Path, app: &AppName) -> Option<ReloadRecord> {
        let text = fs::read(dir.join(app.units().reload_record_file())).ok()?;
        serde_json::from_slice(&text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_and_loaded_and_covering_its_span() {
        let dir =
            std::env::temp_dir().join(format!("nodeunits-reload-record-{}", std::process::id()));
        let api = AppName::new("api").unwrap();
        assert_eq!(ReloadRecord::load(&dir, &api), None);
        let record = ReloadRecord {
            started_at: 1000.0,
            duration_seconds: 2.5,
            instances: 2,
            succeeded: true,
        };
        record.save(&dir, &api).unwrap();
        assert_eq!(ReloadRecord::load(&dir, &api), Some(record.clone()));
        assert!(record.covers(1001.0) && record.covers(1002.9));
        assert!(!record.covers(998.0) && !record.covers(1004.0));
        let ended = ReloadRecord::ended(SystemTime::now() - Duration::from_secs(3), 1, false);
        assert!((ended.duration_seconds - 3.0).abs() < 1.0, "{ended:?}");
        fs::remove_dir_all(dir).unwrap();
    }
}
