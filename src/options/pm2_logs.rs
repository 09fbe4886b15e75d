//! The rows of PM2's options of the logs: where each stream goes
//! (`out_file`, `error_file`, `log_file`, `disable_logs`), and what the log
//! writer does with the files (`log_rotate`, `log_type`, `log_date_format`,
//! `time`).

use super::directive::Directive;
use super::{describe::*, Doc, Row};
use crate::ecosystem::document::Value as V;
use crate::ecosystem::fields::Fields;
use crate::ecosystem::findings::{Allowed, OptionFinding};
use crate::ecosystem::log_rotate::log_rotate;
use crate::ecosystem::places::{combined_log, log_target};
use crate::ecosystem::settings::LogFile;
use crate::model::log_writer::TIME_FORMAT;
use crate::model::{Bytes, Rotate};

/// Where its output goes, and how the files are written.
pub(super) fn rows() -> Vec<Row> {
    [streams(), writer()].into_iter().flatten().collect()
}

/// Where each stream goes: a file, discarded, or the journal.
fn streams() -> Vec<Row> {
    vec![
        Row::read(
            "out_file",
            &["out_log", "output", "out"],
            Doc {
                default: "the journal",
                becomes: "`StandardOutput=append:`, relative to `cwd` and `~` the home of the app's user, as in PM2; `\"/dev/null\"` or `\"NULL\"` discards (but for `log_file`); a missing directory is created by apply",
            },
        )
        .validate(|f, _, app| app.out_file = log_target(f, "out_file", &app.cwd))
        .unless_empty()
        .directives(vec![Directive::log(
            "StandardOutput",
            |w| w.standard_output.as_ref(),
            |w, target| w.standard_output = Some(target),
        )])
        .describe(|units| {
            let writer = units.logs.as_ref().and_then(|w| w.out.as_deref());
            Some(written_to(writer, units.worker.standard_output.as_ref()))
        })
        .unmapped(|units, _| log_unmapped("out_file", units.log_file(false))),
        Row::read(
            "error_file",
            &["err_log", "err_file", "err", "error"],
            Doc {
                default: "the journal",
                becomes: "`StandardError=append:`, relative to `cwd` and `~` the home of the app's user, as in PM2; `\"/dev/null\"` or `\"NULL\"` discards (but for `log_file`); a missing directory is created by apply",
            },
        )
        .validate(|f, _, app| app.error_file = log_target(f, "error_file", &app.cwd))
        .unless_empty()
        .directives(vec![Directive::log(
            "StandardError",
            |w| w.standard_error.as_ref(),
            |w, target| w.standard_error = Some(target),
        )])
        .describe(|units| {
            let writer = units.logs.as_ref().and_then(|w| w.err.as_deref());
            Some(written_to(writer, units.worker.standard_error.as_ref()))
        })
        .unmapped(|units, _| log_unmapped("error_file", units.log_file(true))),
        Row::read(
            "log_file",
            &["log"],
            Doc {
                default: "none",
                becomes: "PM2's combined log: each stream without a file of its own (`out_file`, `error_file` not set or `\"NULL\"`) appends to it (`StandardOutput=append:`, `StandardError=append:`), a path as for `out_file`; a stream with its own file goes there only, with a warning (systemd writes a stream to one file); `true` (PM2's own file) keeps the journal, with a warning",
            },
        )
        .validate(|f, _, app| app.log_file = combined_log(f, &app.cwd))
        .unless_empty(),
        Row::read(
            "disable_logs",
            &[],
            Doc {
                default: "`false`",
                becomes: "`StandardOutput=null`, `StandardError=null`",
            },
        )
        .validate(|f, _, app| {
            if f.bool("disable_logs") == Some(true) {
                // PM2 writes no log at all, the combined one included.
                app.out_file = Some(LogFile::Null);
                app.error_file = Some(LogFile::Null);
                app.log_file = None;
            }
        }),
    ]
}

/// What the log writer does with the files (see "Log files").
fn writer() -> Vec<Row> {
    vec![
        Row::read(
            "log_rotate",
            &[],
            Doc {
                default: "none: the files grow, as PM2's do without pm2-logrotate",
                becomes: "nodeunits' own, pm2-logrotate's settings: `true`, or `{ max_size = \"10M\", retain = 30, compress = false, interval = \"0 0 * * *\", date_format = \"YYYY-MM-DD_HH-mm-ss\" }` (those are the defaults; pm2-logrotate's names too); the log files are written by `APP-logs.service`, which rotates them with no line lost: `out__2026-12-04_00-00-00.log`, `.gz` when compressed (see \"Log files\")",
            },
        )
        .validate(|f, _, app| app.log_rotate = log_rotate(f))
        .describe(|units| {
            let rotate = units.logs.as_ref()?.rotate.as_ref()?;
            Some(rotation(rotate))
        })
        .unmapped(|units, _| {
            units.logs.as_ref()?.rotate.as_ref()?;
            Some("log_rotate: the container runtime rotates a container's log".to_owned())
        }),
        Row::read(
            "log_type",
            &[],
            Doc {
                default: "lines as the app writes them",
                becomes: "`\"json\"`: PM2's JSON lines in the log files (`message`, `timestamp`, `type`, `process_id` (the worker), `app_name`), written by `APP-logs.service`; the journal stores its own fields (`journalctl -o json`)",
            },
        )
        .validate(|f, _, app| app.log_json = log_type(f))
        .describe(|units| units.logs.as_ref()?.json.then(|| "json".to_owned())),
        Row::read(
            "log_date_format",
            &[],
            Doc {
                default: "none",
                becomes: "each line of the log files starts with its time in this format and `: `, as PM2 writes it (dayjs's tokens: `\"YYYY-MM-DD HH:mm:ss Z\"`), written by `APP-logs.service`; the journal timestamps every line anyway (`journalctl -o short-iso`)",
            },
        )
        .validate(|f, _, app| app.log_date_format = date_format(f))
        .describe(|units| units.logs.as_ref()?.date_format.clone()),
        Row::read(
            "time",
            &[],
            Doc {
                default: "`false`",
                becomes: "`true`: `log_date_format = \"YYYY-MM-DDTHH:mm:ss\"`, as PM2 sets it, over any other",
            },
        )
        .validate(|f, _, app| {
            if f.bool("time") == Some(true) {
                app.log_date_format = Some(TIME_FORMAT.to_owned());
            }
        }),
    ]
}

/// `log_date_format`: a format; `false` and `""` are none, as PM2 tests
/// it for truth.
fn date_format(f: &mut Fields) -> Option<String> {
    let value = f.get("log_date_format")?;
    match value.get_ref() {
        V::Boolean(false) => None,
        V::String(format) if format.is_empty() => None,
        V::String(format) => Some(format.to_string()),
        _ => {
            f.wrong("log_date_format", value, Allowed::String);
            None
        }
    }
}

/// `log_type`: `"json"`, or `"raw"` (PM2's other word) for lines as written.
fn log_type(f: &mut Fields) -> bool {
    let Some(text) = f.string("log_type") else {
        return false;
    };
    match text.get_ref().as_str() {
        "json" => true,
        "raw" | "" => false,
        _ => {
            let finding = OptionFinding::InvalidValue {
                key: "log_type".into(),
                allowed: Allowed::LogType,
            };
            f.diagnostics.report(Some(text.span()), finding);
            false
        }
    }
}

/// Where a stream goes: the file the log writer writes, else the unit's.
fn written_to(
    writer: Option<&std::path::Path>,
    target: Option<&crate::model::LogTarget>,
) -> String {
    match writer {
        Some(file) => format!("written to {} by the log writer", file.display()),
        None => log_destination(target),
    }
}

/// pm2-logrotate's settings, as `describe` says them.
fn rotation(rotate: &Rotate) -> String {
    let mut said = format!(
        "over {}, keeping {}{}",
        crate::units::format::size(Bytes(rotate.max_size)),
        rotate.retain,
        if rotate.compress { " gzipped" } else { "" }
    );
    if let Some(cron) = &rotate.interval {
        said.push_str(&format!(", and on \"{cron}\""));
    }
    said
}
