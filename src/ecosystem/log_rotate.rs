//! `log_rotate`: pm2-logrotate's settings for an app's log files, as a
//! table (`{ max_size = "10M", retain = 7, compress = true, interval =
//! "0 0 * * *", date_format = "YYYY-MM-DD_HH-mm-ss" }`) or `true` for its
//! defaults; pm2-logrotate's own names (`rotateInterval`, `dateFormat`,
//! `rotateCompression`...) are read too.

use super::document::{Node, Value as V};
use super::fields::{integer, Fields};
use super::findings::Allowed;
use super::values::parse_bytes;
use crate::model::log_writer::{
    schedule, Rotate, ROTATE_DATE_FORMAT, ROTATE_INTERVAL, ROTATE_MAX_SIZE, ROTATE_RETAIN,
};

/// The key of the table each name of a setting sets.
fn setting(name: &str) -> Option<&'static str> {
    Some(match name {
        "max_size" | "rotateMaxSize" | "maxSize" => "max_size",
        "retain" => "retain",
        "compress" | "rotateCompression" => "compress",
        "interval" | "rotateInterval" => "interval",
        "date_format" | "dateFormat" => "date_format",
        "rotateModule" | "workerInterval" | "TZ" => "ignored",
        _ => return None,
    })
}

pub(crate) fn log_rotate(f: &mut Fields) -> Option<Rotate> {
    let value = f.get("log_rotate")?;
    let table = match value.get_ref() {
        V::Boolean(false) => return None,
        V::Boolean(true) => return Some(defaults()),
        V::Table(table) => table,
        _ => {
            f.wrong("log_rotate", value, Allowed::LogRotate);
            return None;
        }
    };
    let mut rotate = defaults();
    let mut valid = true;
    for (name, item) in table.iter() {
        let read = match setting(name.get_ref()) {
            Some("max_size") => read_size(item).map(|n| rotate.max_size = n),
            Some("retain") => integer(item)
                .and_then(|n| u32::try_from(n).ok())
                .map(|n| rotate.retain = n),
            Some("compress") => read_bool(item).map(|b| rotate.compress = b),
            Some("interval") => read_interval(item).map(|cron| rotate.interval = cron),
            Some("date_format") => read_format(item).map(|f| rotate.date_format = f),
            Some(_) => Some(()),
            None => None,
        };
        if read.is_none() {
            f.wrong("log_rotate", item, Allowed::LogRotate);
            valid = false;
        }
    }
    valid.then_some(rotate)
}

fn read_size(item: &Node) -> Option<u64> {
    let bytes = match item.get_ref() {
        V::String(text) => parse_bytes(text).map(|b| b.0),
        _ => integer(item).and_then(|n| u64::try_from(n).ok()),
    };
    bytes.filter(|&n| n > 0)
}

fn read_bool(item: &Node) -> Option<bool> {
    match item.get_ref() {
        V::Boolean(b) => Some(*b),
        _ => None,
    }
}

/// A schedule, or `""` and `"0"` for none (as `cron_restart` takes them).
fn read_interval(item: &Node) -> Option<Option<String>> {
    match item.get_ref() {
        V::String(cron) if cron.is_empty() || cron == "0" => Some(None),
        V::String(cron) if schedule(cron).is_ok() => Some(Some(cron.to_string())),
        _ => None,
    }
}

/// dayjs tokens for a file name: no `/`.
fn read_format(item: &Node) -> Option<String> {
    match item.get_ref() {
        V::String(format) if !format.is_empty() && !format.contains('/') => {
            Some(format.to_string())
        }
        _ => None,
    }
}

fn defaults() -> Rotate {
    Rotate {
        max_size: ROTATE_MAX_SIZE,
        retain: ROTATE_RETAIN,
        compress: false,
        interval: Some(ROTATE_INTERVAL.to_owned()),
        date_format: ROTATE_DATE_FORMAT.to_owned(),
    }
}
