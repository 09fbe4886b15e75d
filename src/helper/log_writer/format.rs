//! A line as PM2 writes it into a log file: as it is, after a timestamp in
//! `log_date_format` (dayjs's tokens, as PM2 formats it), or as PM2's JSON
//! line; and the time in a rotated file's name (pm2-logrotate's format).

use chrono::{DateTime, Datelike, Local, SecondsFormat, Timelike, Utc};

/// One line of the app's output, from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub message: Vec<u8>,
    /// Written to stderr (priority err), not stdout.
    pub err: bool,
    pub instance: u32,
    pub time: DateTime<Local>,
}

/// How the lines are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    pub app: String,
    pub date_format: Option<String>,
    pub json: bool,
}

/// The bytes appended for `entry`, its newline included.
pub fn line(entry: &Entry, style: &Style) -> Vec<u8> {
    let message = String::from_utf8_lossy(&entry.message);
    if style.json {
        // PM2's: the message with its newline, the time (ISO in UTC unless
        // log_date_format), the stream, the process and the app.
        let timestamp = match &style.date_format {
            Some(format) => dayjs(&entry.time, format),
            None => entry
                .time
                .with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Millis, true),
        };
        let json = serde_json::json!({
            "message": format!("{message}\n"),
            "timestamp": timestamp,
            "type": if entry.err { "err" } else { "out" },
            "process_id": entry.instance,
            "app_name": style.app,
        });
        return format!("{json}\n").into_bytes();
    }
    let mut bytes = match &style.date_format {
        Some(format) => format!("{}: ", dayjs(&entry.time, format)).into_bytes(),
        None => Vec::new(),
    };
    bytes.extend_from_slice(&entry.message);
    bytes.push(b'\n');
    bytes
}

/// `time` formatted with dayjs's tokens (YYYY, MM, DD, HH, mm, ss, SSS, Z,
/// ...); text in `[brackets]` is kept as it is, as is any other character.
pub fn dayjs(time: &DateTime<Local>, format: &str) -> String {
    const TOKENS: [&str; 26] = [
        "YYYY", "YY", "MMMM", "MMM", "MM", "M", "DD", "D", "dddd", "ddd", "dd", "d", "HH", "H",
        "hh", "h", "mm", "m", "ss", "s", "SSS", "ZZ", "Z", "A", "a", "X",
    ];
    let mut out = String::new();
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            if let Some(end) = rest.find(']') {
                out.push_str(&rest[1..end]);
                rest = &rest[end + 1..];
                continue;
            }
        }
        match TOKENS.iter().find(|token| rest.starts_with(*token)) {
            Some(token) => {
                out.push_str(&token_value(time, token));
                rest = &rest[token.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

fn token_value(time: &DateTime<Local>, token: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    let hour12 = match time.hour() % 12 {
        0 => 12,
        h => h,
    };
    let weekday = time.weekday().num_days_from_sunday() as usize;
    let offset = time.offset().to_string();
    match token {
        "YYYY" => format!("{:04}", time.year()),
        "YY" => format!("{:02}", time.year() % 100),
        "MMMM" => MONTHS[time.month0() as usize].to_owned(),
        "MMM" => MONTHS[time.month0() as usize][..3].to_owned(),
        "MM" => format!("{:02}", time.month()),
        "M" => time.month().to_string(),
        "DD" => format!("{:02}", time.day()),
        "D" => time.day().to_string(),
        "dddd" => DAYS[weekday].to_owned(),
        "ddd" => DAYS[weekday][..3].to_owned(),
        "dd" => DAYS[weekday][..2].to_owned(),
        "d" => weekday.to_string(),
        "HH" => format!("{:02}", time.hour()),
        "H" => time.hour().to_string(),
        "hh" => format!("{hour12:02}"),
        "h" => hour12.to_string(),
        "mm" => format!("{:02}", time.minute()),
        "m" => time.minute().to_string(),
        "ss" => format!("{:02}", time.second()),
        "s" => time.second().to_string(),
        "SSS" => format!("{:03}", time.timestamp_subsec_millis()),
        "ZZ" => offset.replace(':', ""),
        "Z" => offset,
        "A" => if time.hour() < 12 { "AM" } else { "PM" }.to_owned(),
        "a" => if time.hour() < 12 { "am" } else { "pm" }.to_owned(),
        "X" => time.timestamp().to_string(),
        _ => token.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn time() -> DateTime<Local> {
        let utc = Utc.with_ymd_and_hms(2026, 12, 4, 21, 5, 9).unwrap();
        utc.with_timezone(&Local) + chrono::Duration::milliseconds(42)
    }

    #[test]
    fn dayjs_tokens_format_as_pm2_shows_them() {
        let time = time();
        let local = time.naive_local();
        let expected = format!(
            "{} at {:02}:05:09.042 [x]",
            local.format("%Y-%m-%d"),
            local.hour()
        );
        assert_eq!(dayjs(&time, "YYYY-MM-DD [at] HH:mm:ss.SSS [[x]]"), expected);
        assert_eq!(
            dayjs(&time, "YYYY-MM-DD_HH-mm-ss"),
            local.format("%Y-%m-%d_%H-%M-%S").to_string()
        );
        let zone = dayjs(&time, "Z");
        assert!(zone.starts_with('+') || zone.starts_with('-'), "{zone}");
        assert_eq!(zone.len(), 6, "{zone}");
    }

    #[test]
    fn lines_are_plain_prefixed_or_pm2_json() {
        let entry = Entry {
            message: b"hello".to_vec(),
            err: true,
            instance: 1,
            time: time(),
        };
        let mut style = Style {
            app: "api".into(),
            date_format: None,
            json: false,
        };
        assert_eq!(line(&entry, &style), b"hello\n");
        style.date_format = Some("YYYY".into());
        assert_eq!(line(&entry, &style), b"2026: hello\n");
        style.json = true;
        style.date_format = None;
        let json: serde_json::Value = serde_json::from_slice(&line(&entry, &style)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "message": "hello\n",
                "timestamp": "2026-12-04T21:05:09.042Z",
                "type": "err",
                "process_id": 1,
                "app_name": "api",
            })
        );
    }
}
