//! The command line of `nodeunits-helper write-logs`, the `ExecStart=` of
//! `APP-logs.service`: it follows the journal of the app's workers and
//! writes their lines into PM2's log files, with PM2's timestamps or JSON
//! lines, rotated as pm2-logrotate rotates them (docs/ecosystem.md, "Log
//! files").

use std::ffi::OsString;
use std::path::PathBuf;

use super::helper_options::{number, text, ArgsError, Request};

/// The timestamps of `time = true`, as PM2 writes them.
pub const TIME_FORMAT: &str = "YYYY-MM-DDTHH:mm:ss";
/// pm2-logrotate's defaults.
pub const ROTATE_MAX_SIZE: u64 = 10 * 1024 * 1024;
pub const ROTATE_RETAIN: u32 = 30;
pub const ROTATE_INTERVAL: &str = "0 0 * * *";
pub const ROTATE_DATE_FORMAT: &str = "YYYY-MM-DD_HH-mm-ss";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogWriter {
    pub app: String,
    /// The user's journal (`--user`), not the system's.
    pub user: bool,
    /// Where stdout lines go; a path ending in `-%i.log` is per worker.
    pub out: Option<PathBuf>,
    /// Where stderr lines go.
    pub err: Option<PathBuf>,
    /// `log_date_format`: each line starts with its time so formatted.
    pub date_format: Option<String>,
    /// `log_type = "json"`: PM2's JSON lines.
    pub json: bool,
    pub rotate: Option<Rotate>,
}

/// `log_rotate`, pm2-logrotate's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotate {
    /// Rotate a file before it grows past this many bytes.
    pub max_size: u64,
    /// Rotated files kept per file; the oldest beyond are deleted.
    pub retain: u32,
    /// gzip each rotated file.
    pub compress: bool,
    /// Also rotate on this cron schedule (local time).
    pub interval: Option<String>,
    /// The time in a rotated file's name, `out__2026-12-04_00-00-00.log`.
    pub date_format: String,
}

/// `interval`, pm2-logrotate's `rotateInterval`: node-schedule's cron, 5
/// fields or 6 with the seconds first. What the compiler checks and the
/// writer follows.
pub fn schedule(cron: &str) -> Result<croner::Cron, croner::errors::CronError> {
    use croner::parser::{CronParser, Seconds};
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(cron)
}

/// The text of `write-logs --help`.
pub const USAGE: &str = "\
Follows the journal of the app's workers (APP@*.service) and appends their
lines to the app's log files, as PM2 writes them; the unit APP-logs.service.

Usage: nodeunits-helper write-logs --app NAME [OPTIONS]

Options:
  --app NAME               the app's name
  --user                   the user's journal, not the system's
  --out FILE               stdout lines; a FILE ending in -%i.log is per worker
  --err FILE               stderr lines
  --date-format FORMAT     prefix each line with its time (dayjs tokens)
  --json                   PM2's JSON lines
  --max-size BYTES         rotate a file before it passes BYTES
  --retain N               rotated files kept per file
  --compress               gzip rotated files
  --interval CRON          also rotate on this schedule
  --rotated-format FORMAT  the time in rotated files' names
  -h, --help               print this help
";

impl LogWriter {
    /// The directories of its files, each once, in order: what it writes.
    pub fn dirs(&self) -> Vec<&std::path::Path> {
        let files = [&self.out, &self.err].into_iter().flatten();
        let mut dirs: Vec<&std::path::Path> = files.filter_map(|f| f.parent()).collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// The words after `write-logs`, each value through `escape`, in the
    /// order `parse` reads.
    pub fn escaped_words(&self, escape: impl Fn(&str) -> String) -> Vec<String> {
        let mut words = vec![
            "write-logs".to_owned(),
            "--app".to_owned(),
            escape(&self.app),
        ];
        let mut option = |name: &str, value: Option<String>| {
            words.push(name.to_owned());
            words.extend(value);
        };
        if self.user {
            option("--user", None);
        }
        if let Some(out) = &self.out {
            option("--out", Some(escape(&out.to_string_lossy())));
        }
        if let Some(err) = &self.err {
            option("--err", Some(escape(&err.to_string_lossy())));
        }
        if let Some(format) = &self.date_format {
            option("--date-format", Some(escape(format)));
        }
        if self.json {
            option("--json", None);
        }
        if let Some(rotate) = &self.rotate {
            option("--max-size", Some(rotate.max_size.to_string()));
            option("--retain", Some(rotate.retain.to_string()));
            if rotate.compress {
                option("--compress", None);
            }
            if let Some(interval) = &rotate.interval {
                option("--interval", Some(escape(interval)));
            }
            option("--rotated-format", Some(escape(&rotate.date_format)));
        }
        words
    }
}

/// Reads the command line after the word `write-logs`.
pub(super) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Request, ArgsError> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut writer = LogWriter {
        app: String::new(),
        user: false,
        out: None,
        err: None,
        date_format: None,
        json: false,
        rotate: None,
    };
    let mut app = None;
    let (mut max_size, mut retain, mut compress) = (None, ROTATE_RETAIN, false);
    let (mut interval, mut rotated) = (None, ROTATE_DATE_FORMAT.to_owned());
    while let Some(arg) = parser.next()? {
        match arg {
            Long("app") => app = Some(text(&mut parser, "--app")?),
            Long("user") => writer.user = true,
            Long("out") => writer.out = Some(text(&mut parser, "--out")?.into()),
            Long("err") => writer.err = Some(text(&mut parser, "--err")?.into()),
            Long("date-format") => writer.date_format = Some(text(&mut parser, "--date-format")?),
            Long("json") => writer.json = true,
            Long("max-size") => max_size = Some(number(&mut parser, "--max-size", "bytes")?),
            Long("retain") => retain = number(&mut parser, "--retain", "a count of files")?,
            Long("compress") => compress = true,
            Long("interval") => interval = Some(text(&mut parser, "--interval")?),
            Long("rotated-format") => rotated = text(&mut parser, "--rotated-format")?,
            Short('h') | Long("help") => return Ok(Request::WriteLogsHelp),
            other => {
                return Err(ArgsError::UnexpectedAfter {
                    subcommand: "write-logs",
                    unexpected: other.unexpected().to_string(),
                })
            }
        }
    }
    writer.app = app.ok_or(ArgsError::Missing("write-logs: --app NAME"))?;
    writer.rotate = max_size.map(|max_size| Rotate {
        max_size,
        retain,
        compress,
        interval,
        date_format: rotated,
    });
    Ok(Request::WriteLogs(writer))
}

#[cfg(test)]
mod tests {
    use super::super::helper_options::parse as parse_helper;
    use super::*;

    #[test]
    fn what_is_written_parses_back_the_same() {
        let writer = LogWriter {
            app: "api".into(),
            user: true,
            out: Some("/var/log/api/out-%i.log".into()),
            err: Some("/var/log/api/err.log".into()),
            date_format: Some("YYYY-MM-DD HH:mm:ss Z".into()),
            json: true,
            rotate: Some(Rotate {
                max_size: 2_097_152,
                retain: 10,
                compress: true,
                interval: Some("0 0 * * *".into()),
                date_format: ROTATE_DATE_FORMAT.into(),
            }),
        };
        let words = writer.escaped_words(str::to_owned);
        let parsed = parse_helper(words.into_iter().map(OsString::from)).unwrap();
        assert_eq!(parsed, Request::WriteLogs(writer.clone()));
        let plain = LogWriter {
            rotate: None,
            json: false,
            date_format: None,
            ..writer
        };
        let words = plain.escaped_words(str::to_owned);
        let parsed = parse_helper(words.into_iter().map(OsString::from)).unwrap();
        assert_eq!(parsed, Request::WriteLogs(plain));
    }
}
