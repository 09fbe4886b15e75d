//! The log files the writer appends to, each rotated as pm2-logrotate
//! rotates it, but by the one process that writes it, so no line is lost:
//! past `max_size`, or on the schedule, the file is renamed
//! `out__2026-12-04_00-00-00.log`, gzipped if asked (`.log.gz`), a new one
//! is opened, and the oldest rotated files beyond `retain` are deleted.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Local};

use super::format::dayjs;
use crate::model::Rotate;

/// The files open for appending, with their sizes.
pub struct Files {
    open: BTreeMap<PathBuf, (File, u64)>,
    rotate: Option<Rotate>,
}

impl Files {
    pub fn new(rotate: Option<Rotate>) -> Files {
        Files {
            open: BTreeMap::new(),
            rotate,
        }
    }

    /// Opens `path` for appending, creating it, if it is not open yet: a
    /// file exists from the start, as systemd's `append:` has it.
    pub fn open(&mut self, path: &Path) -> io::Result<()> {
        if !self.open.contains_key(path) {
            let file = open(path)?;
            let size = file.metadata()?.len();
            self.open.insert(path.to_owned(), (file, size));
            self.finish_compressing(path)?;
        }
        Ok(())
    }

    /// Appends `bytes` to `path`, rotating it first when they would take it
    /// past `max_size`.
    pub fn append(&mut self, path: &Path, bytes: &[u8], now: &DateTime<Local>) -> io::Result<()> {
        self.open(path)?;
        let size = self.open[path].1;
        let full = self
            .rotate
            .as_ref()
            .is_some_and(|r| size > 0 && size + bytes.len() as u64 > r.max_size);
        if full {
            self.rotate_one(path, now)?;
        }
        let (file, size) = self.open.get_mut(path).expect("opened above");
        file.write_all(bytes)?;
        *size += bytes.len() as u64;
        Ok(())
    }

    /// Rotates every file that holds something (the schedule's rotation).
    pub fn rotate_all(&mut self, now: &DateTime<Local>) -> io::Result<()> {
        let paths: Vec<PathBuf> = self
            .open
            .iter()
            .filter(|(_, (_, size))| *size > 0)
            .map(|(path, _)| path.clone())
            .collect();
        for path in paths {
            self.rotate_one(&path, now)?;
        }
        Ok(())
    }

    /// Everything written so far on disk.
    pub fn sync(&mut self) -> io::Result<()> {
        for (file, _) in self.open.values_mut() {
            file.sync_data()?;
        }
        Ok(())
    }

    fn rotate_one(&mut self, path: &Path, now: &DateTime<Local>) -> io::Result<()> {
        let Some(rotate) = self.rotate.clone() else {
            return Ok(());
        };
        if let Some((file, _)) = self.open.remove(path) {
            file.sync_data()?;
        }
        let rotated = rotated_name(path, &dayjs(now, &rotate.date_format));
        fs::rename(path, &rotated)?;
        self.open.insert(path.to_owned(), (open(path)?, 0));
        self.finish_compressing(path)?;
        prune(path, rotate.retain)
    }

    /// Compresses the rotated files of `path` not compressed yet: the one
    /// just rotated, or what a writer killed while compressing left.
    fn finish_compressing(&self, path: &Path) -> io::Result<()> {
        if !self.rotate.as_ref().is_some_and(|r| r.compress) {
            return Ok(());
        }
        // The partial ones first: gzip() writes its own.
        let (partial, whole): (Vec<PathBuf>, Vec<PathBuf>) = rotated_files(path)?
            .into_iter()
            .partition(|file| file.to_string_lossy().ends_with(PARTIAL));
        for file in partial {
            fs::remove_file(&file)?;
        }
        for file in whole {
            if !file.to_string_lossy().ends_with(".gz") {
                gzip(&file)?;
            }
        }
        Ok(())
    }
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(path)
}

/// `out.log` → `out__DATE.log` (`out__DATE~1.log` if that exists, ...); a
/// name not ending in `.log` gets `__DATE` at its end.
pub fn rotated_name(path: &Path, date: &str) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let (stem, extension) = match name.strip_suffix(".log") {
        Some(stem) => (stem.to_owned(), ".log"),
        None => (name.into_owned(), ""),
    };
    let taken = |candidate: &PathBuf| {
        candidate.exists() || Path::new(&format!("{}.gz", candidate.display())).exists()
    };
    let mut candidate = path.with_file_name(format!("{stem}__{date}{extension}"));
    let mut n = 1;
    while taken(&candidate) {
        candidate = path.with_file_name(format!("{stem}__{date}~{n}{extension}"));
        n += 1;
    }
    candidate
}

/// The end of a compressed file's name until it is whole.
const PARTIAL: &str = ".gz.partial";

/// `file` gzipped into `file.gz`: written under another name, synced and
/// renamed, then `file` removed; killed at any point, `file` or `file.gz`
/// is whole.
fn gzip(file: &Path) -> io::Result<()> {
    let partial = PathBuf::from(format!("{}{PARTIAL}", file.display()));
    let target = PathBuf::from(format!("{}.gz", file.display()));
    let _ = fs::remove_file(&partial);
    let mut input = File::open(file)?;
    let output = open_new(&partial)?;
    let mut encoder = flate2::write::GzEncoder::new(output, flate2::Compression::default());
    io::copy(&mut input, &mut encoder)?;
    encoder.finish()?.sync_all()?;
    fs::rename(&partial, &target)?;
    fs::remove_file(file)
}

/// The rotated files of `path` (`out__…`), whatever their state.
fn rotated_files(path: &Path) -> io::Result<Vec<PathBuf>> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!("{}__", name.strip_suffix(".log").unwrap_or(&name));
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

fn open_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)
}

/// Deletes the oldest rotated files of `path` beyond `retain`: by their
/// last write, then (written within the same tick) by the number `~N` a
/// name taken in the same second gets.
fn prune(path: &Path, retain: u32) -> io::Result<()> {
    let mut rotated: Vec<(std::time::SystemTime, u32, PathBuf)> = Vec::new();
    for file in rotated_files(path)? {
        let name = file.to_string_lossy().into_owned();
        if name.ends_with(PARTIAL) {
            continue;
        }
        let rest = name.trim_end_matches(".gz").trim_end_matches(".log");
        let taken = rest.rsplit_once('~').and_then(|(_, n)| n.parse().ok());
        let modified = fs::metadata(&file)?.modified()?;
        rotated.push((modified, taken.unwrap_or(0), file));
    }
    rotated.sort();
    let excess = rotated.len().saturating_sub(retain as usize);
    for (_, _, old) in rotated.into_iter().take(excess) {
        fs::remove_file(old)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_rotate_past_their_size_keeping_every_line_and_retain_files() {
        let dir = std::env::temp_dir().join(format!("nodeunits-rotate-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out.log");
        let rotate = Rotate {
            max_size: 100,
            retain: 3,
            compress: false,
            interval: None,
            date_format: "YYYY".into(),
        };
        let mut files = Files::new(Some(rotate));
        let now = Local::now();
        for i in 0..50 {
            files
                .append(&out, format!("line {i:02}\n").as_bytes(), &now)
                .unwrap();
        }
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let year = now.format("%Y").to_string();
        // 400 bytes, 12 lines (96 bytes) a file: 4 rotated, the oldest gone.
        assert_eq!(
            names,
            [
                "out.log".to_owned(),
                format!("out__{year}~1.log"),
                format!("out__{year}~2.log"),
                format!("out__{year}~3.log"),
            ]
        );
        let kept = fs::read_to_string(&out).unwrap();
        assert_eq!(kept, "line 48\nline 49\n");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_rotated_name_is_pm2_logrotates() {
        let path = Path::new("/nonexistent/logs/out-0.log");
        assert_eq!(
            rotated_name(path, "2026-12-04_00-00-00"),
            Path::new("/nonexistent/logs/out-0__2026-12-04_00-00-00.log")
        );
        assert_eq!(
            rotated_name(Path::new("/nonexistent/app.out"), "D"),
            Path::new("/nonexistent/app.out__D")
        );
    }
}
