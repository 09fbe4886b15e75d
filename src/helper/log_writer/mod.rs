//! `nodeunits-helper write-logs`: the process of `APP-logs.service`. It
//! follows the journal of the app's workers with `journalctl --follow`
//! and appends each line of their output to the app's log file for its
//! stream (and worker), formatted as PM2 writes it, rotating the files as
//! pm2-logrotate does. No line is lost: the journal holds every line
//! (`LogRateLimitBurst=`), the writer is the only process writing the files
//! (a rotation is a rename by that process, not a copy behind its back),
//! and it records the journal cursor of what it wrote (after syncing it, at
//! most once a second), so that a writer killed at any point starts again
//! after the last line recorded (a line may then be written twice, never
//! missed).

mod files;
mod format;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Local, TimeZone};
use sd_notify::NotifyState;

use crate::model::app::PER_WORKER;
use crate::model::log_writer::{schedule, LogWriter};
use files::Files;
use format::{line, Entry, Style};

/// The lines taken from journalctl at a time, at most.
const BATCH: usize = 5000;
/// How often the writer records its cursor, at most: a writer killed
/// writes again what it wrote since, never less.
const RECORD_EVERY: Duration = Duration::from_secs(1);
/// How often the writer looks at the schedule and for a stop signal.
const TICK: Duration = Duration::from_millis(500);

pub fn command(writer: &LogWriter) -> ExitCode {
    super::service_exit("write-logs", run(writer))
}

fn run(writer: &LogWriter) -> Result<(), String> {
    let state = std::env::var_os("STATE_DIRECTORY")
        .map(|dirs| PathBuf::from(dirs.to_string_lossy().split(':').next().unwrap_or_default()))
        .ok_or("$STATE_DIRECTORY is not set: the unit has no StateDirectory=")?;
    let cursor_file = state.join("cursor");
    let cursor = std::fs::read_to_string(&cursor_file).ok();
    let stop = super::stop_flag()?;
    match &cursor {
        Some(cursor) => eprintln!("following the journal after {}", cursor.trim()),
        None => eprintln!(
            "following the journal from now: no cursor in {}",
            cursor_file.display()
        ),
    }
    let mut writing = Writing::new(writer, cursor_file)?;
    let mut journal = Command::new("journalctl")
        .args(journal_args(writer, cursor.as_deref()))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|err| format!("running journalctl: {err}"))?;
    let received = lines_of(journal.stdout.take().expect("piped"));
    let _ = sd_notify::notify(&[NotifyState::Ready]);
    let result = follow(&received, &stop, &mut writing);
    let _ = journal.kill();
    let _ = journal.wait();
    result.and_then(|()| writing.record(true))
}

/// The lines journalctl prints, read by a thread of their own.
fn lines_of(stdout: std::process::ChildStdout) -> Receiver<Vec<u8>> {
    let (lines, received) = mpsc::sync_channel::<Vec<u8>>(BATCH);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    received
}

/// Writes what journalctl prints, a batch at a time, until a stop signal.
fn follow(
    received: &Receiver<Vec<u8>>,
    stop: &AtomicBool,
    writing: &mut Writing,
) -> Result<(), String> {
    while !stop.load(Ordering::Relaxed) {
        let mut batch = match received.recv_timeout(TICK) {
            Ok(line) => vec![line],
            Err(RecvTimeoutError::Timeout) => Vec::new(),
            Err(RecvTimeoutError::Disconnected) if stop.load(Ordering::Relaxed) => break,
            Err(RecvTimeoutError::Disconnected) => {
                return Err("journalctl stopped following the journal".to_owned())
            }
        };
        while batch.len() < BATCH {
            match received.try_recv() {
                Ok(line) => batch.push(line),
                Err(_) => break,
            }
        }
        writing.batch(&batch)?;
        writing.record(false)?;
    }
    Ok(())
}

/// The writer at work: its files, and the cursor of the last line written.
struct Writing<'w> {
    writer: &'w LogWriter,
    style: Style,
    files: Files,
    schedule: Option<croner::Cron>,
    next_rotation: Option<DateTime<Local>>,
    cursor_file: PathBuf,
    /// The cursor of the last line written, until it is recorded.
    unrecorded: Option<String>,
    recorded_at: Instant,
}

impl<'w> Writing<'w> {
    /// Opens the files shared by every worker, so that they exist from the
    /// start (a per-worker one comes with its worker's first line).
    fn new(writer: &'w LogWriter, cursor_file: PathBuf) -> Result<Writing<'w>, String> {
        let schedule = match writer.rotate.as_ref().and_then(|r| r.interval.as_deref()) {
            Some(cron) => {
                Some(schedule(cron).map_err(|err| format!("--interval {cron:?}: {err}"))?)
            }
            None => None,
        };
        let mut files = Files::new(writer.rotate.clone());
        let shared = [&writer.out, &writer.err].into_iter().flatten();
        for file in shared.filter(|f| !f.to_string_lossy().ends_with(PER_WORKER)) {
            files
                .open(file)
                .map_err(|e| format!("opening {}: {e}", file.display()))?;
        }
        Ok(Writing {
            writer,
            style: Style {
                app: writer.app.clone(),
                date_format: writer.date_format.clone(),
                json: writer.json,
            },
            files,
            next_rotation: schedule.as_ref().and_then(next),
            schedule,
            cursor_file,
            unrecorded: None,
            recorded_at: Instant::now(),
        })
    }

    /// Rotates on the schedule, then appends each line to its file.
    fn batch(&mut self, batch: &[Vec<u8>]) -> Result<(), String> {
        let now = Local::now();
        if self.next_rotation.is_some_and(|at| now >= at) {
            self.files
                .rotate_all(&now)
                .map_err(|e| format!("rotating: {e}"))?;
            self.next_rotation = self.schedule.as_ref().and_then(next);
        }
        for raw in batch {
            let Some((entry, cursor)) = entry(raw, self.writer) else {
                continue;
            };
            let path = entry
                .as_ref()
                .and_then(|entry| Some((entry, target(self.writer, entry)?)));
            if let Some((entry, path)) = path {
                self.files
                    .append(&path, &line(entry, &self.style), &now)
                    .map_err(|e| format!("writing {}: {e}", path.display()))?;
            }
            self.unrecorded = Some(cursor);
        }
        Ok(())
    }

    /// Syncs the files, then records the cursor of the last line written:
    /// at most once per [`RECORD_EVERY`] (a steady trickle of lines would
    /// otherwise sync the disk for each), or now when `now`.
    fn record(&mut self, now: bool) -> Result<(), String> {
        if self.unrecorded.is_none() || (!now && self.recorded_at.elapsed() < RECORD_EVERY) {
            return Ok(());
        }
        self.files
            .sync()
            .map_err(|e| format!("syncing the log files: {e}"))?;
        let cursor = self.unrecorded.take().expect("checked above");
        crate::durable::write(&self.cursor_file, cursor.as_bytes()).map_err(|e| {
            format!(
                "recording the cursor in {}: {e}",
                self.cursor_file.display()
            )
        })?;
        self.recorded_at = Instant::now();
        Ok(())
    }
}

/// journalctl following the app's workers' output (not the helper's own
/// lines), from after `cursor`, or from now on a first start. By the
/// workers' identifier, not `--unit=APP@*.service`: journalctl matches a
/// glob against the units already in the journal when it starts, so a
/// worker that had not logged yet would never be followed. [`entry`] keeps
/// the lines of the app's workers only.
fn journal_args(writer: &LogWriter, cursor: Option<&str>) -> Vec<String> {
    let mut args = vec![
        format!("SYSLOG_IDENTIFIER={}", writer.app),
        "_TRANSPORT=stdout".to_owned(),
        "--follow".to_owned(),
        "--output=json".to_owned(),
        // The fields `entry` reads (journalctl adds the cursor and the
        // time): the whole entry, 30 fields, costs the writer and
        // journalctl three times the CPU under a steady load.
        "--output-fields=MESSAGE,PRIORITY,_SYSTEMD_UNIT,_SYSTEMD_USER_UNIT".to_owned(),
        "--all".to_owned(),
        "--no-pager".to_owned(),
    ];
    if writer.user {
        args.push("--user".to_owned());
    }
    match cursor {
        Some(cursor) => args.push(format!("--after-cursor={}", cursor.trim())),
        None => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            args.push(format!("--since=@{}", now.as_secs()));
        }
    }
    args
}

/// One journal entry of the app's output and its cursor; `None` for an
/// entry that is not a worker's (its entry then goes unwritten, with the
/// cursor where it was: `Some` with no target for the caller).
fn entry(raw: &[u8], writer: &LogWriter) -> Option<(Option<Entry>, String)> {
    let json: serde_json::Value = serde_json::from_slice(raw).ok()?;
    let cursor = json["__CURSOR"].as_str()?.to_owned();
    Some((worker_entry(&json, writer), cursor))
}

/// The entry, when a worker of the app wrote it.
fn worker_entry(json: &serde_json::Value, writer: &LogWriter) -> Option<Entry> {
    let message = match &json["MESSAGE"] {
        serde_json::Value::String(text) => text.as_bytes().to_vec(),
        // journalctl writes a message that is not UTF-8 as its bytes.
        serde_json::Value::Array(bytes) => bytes
            .iter()
            .filter_map(|b| b.as_u64().map(|b| b as u8))
            .collect(),
        _ => Vec::new(),
    };
    let unit_field = if writer.user {
        "_SYSTEMD_USER_UNIT"
    } else {
        "_SYSTEMD_UNIT"
    };
    let instance = json[unit_field]
        .as_str()?
        .strip_prefix(&format!("{}@", writer.app))?
        .strip_suffix(".service")?
        .parse()
        .ok()?;
    let micros: i64 = json["__REALTIME_TIMESTAMP"].as_str()?.parse().ok()?;
    let time: DateTime<Local> = Local.timestamp_micros(micros).single()?;
    // The helper writes the app's stderr at priority err (3) and below.
    let err = json["PRIORITY"]
        .as_str()
        .and_then(|p| p.parse::<u8>().ok())
        .is_some_and(|p| p <= 3);
    Some(Entry {
        message,
        err,
        instance,
        time,
    })
}

/// The file of the entry's stream, with its worker's number when per worker.
fn target(writer: &LogWriter, entry: &Entry) -> Option<PathBuf> {
    let file = if entry.err { &writer.err } else { &writer.out };
    let file = file.as_deref()?;
    Some(per_worker(file, entry.instance))
}

fn per_worker(file: &Path, instance: u32) -> PathBuf {
    let text = file.to_string_lossy();
    match text.strip_suffix(PER_WORKER) {
        Some(stem) => PathBuf::from(format!("{stem}-{instance}.log")),
        None => file.to_owned(),
    }
}

fn next(schedule: &croner::Cron) -> Option<DateTime<Local>> {
    schedule.find_next_occurrence(&Local::now(), false).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_entry_is_read_with_its_stream_worker_and_time() {
        let writer = crate::model::log_writer::LogWriter {
            app: "api".into(),
            user: false,
            out: Some("/var/log/api/out-%i.log".into()),
            err: None,
            date_format: None,
            json: false,
            rotate: None,
        };
        let raw = br#"{"__CURSOR":"s=1","MESSAGE":"hello","PRIORITY":"6","_SYSTEMD_UNIT":"api@3.service","__REALTIME_TIMESTAMP":"1796425509000000"}"#;
        let (out, cursor) = entry(raw, &writer).unwrap();
        let out = out.unwrap();
        assert_eq!(cursor, "s=1");
        assert_eq!(
            (out.message.as_slice(), out.err, out.instance),
            (&b"hello"[..], false, 3)
        );
        assert_eq!(target(&writer, &out), Some("/var/log/api/out-3.log".into()));
        let err = br#"{"__CURSOR":"s=2","MESSAGE":[104,105],"PRIORITY":"3","_SYSTEMD_UNIT":"api@0.service","__REALTIME_TIMESTAMP":"1"}"#;
        let line = entry(err, &writer).unwrap().0.unwrap();
        assert_eq!((line.message.as_slice(), line.err), (&b"hi"[..], true));
        assert_eq!(
            target(&writer, &line),
            None,
            "no error file: the journal only"
        );
        let other = br#"{"__CURSOR":"s=3","MESSAGE":"x","PRIORITY":"6","_SYSTEMD_UNIT":"cron.service","__REALTIME_TIMESTAMP":"1"}"#;
        assert_eq!(entry(other, &writer), Some((None, "s=3".to_owned())));
        assert!(schedule("0 0 * * *").is_ok());
        assert!(schedule("every day").is_err());
    }
}
