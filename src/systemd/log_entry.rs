//! One journal entry as `journalctl --output=json` prints it, named after the
//! instance it came from (`api@1`), as `nodeunits logs` and `monit` show it.

use std::io::BufRead;

use serde::Serialize;
use serde_json::{Map, Value};

use super::Scope;
use crate::model::AppName;

/// An entry of an app's journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// Microseconds since the epoch (`__REALTIME_TIMESTAMP`).
    pub timestamp_usec: u64,
    pub app: Option<String>,
    /// The worker's number; `None` for the app unit and its socket.
    pub instance: Option<u32>,
    pub unit: String,
    /// The syslog priority: 6 (info) for the app's stdout, 3 (err) for its
    /// stderr.
    pub priority: Option<u8>,
    /// `stdout` for what the app printed, `journal` for the helper's own
    /// lines, `driver` or `syslog` for systemd's.
    pub transport: String,
    pub message: String,
}

/// journalctl prints a field as a string, as an array of bytes when it is not
/// printable text (colours), or as an array of values when it occurs twice.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) if items.iter().all(Value::is_u64) => {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Value::Array(items) => items.first().and_then(text),
        _ => None,
    }
}

fn field(entry: &Map<String, Value>, name: &str) -> Option<String> {
    entry.get(name).and_then(text)
}

impl LogEntry {
    /// Reads one line of `journalctl --output=json`; `None` if it is not an
    /// entry (journalctl's own notes).
    pub fn parse(line: &str, scope: Scope, apps: &[AppName]) -> Option<LogEntry> {
        let Ok(Value::Object(entry)) = serde_json::from_str::<Value>(line) else {
            return None;
        };
        // systemd's messages about a unit name it in UNIT (USER_UNIT); the
        // unit's own processes are placed by their cgroup.
        let [about, own] = match scope {
            Scope::System => ["UNIT", "_SYSTEMD_UNIT"],
            Scope::User => ["USER_UNIT", "_SYSTEMD_USER_UNIT"],
        };
        let unit = field(&entry, about)
            .or_else(|| field(&entry, own))
            .unwrap_or_default();
        let owner = apps.iter().find(|app| {
            app.units().kind(&unit).is_some() || app.units().instance_number(&unit).is_some()
        });
        Some(LogEntry {
            timestamp_usec: field(&entry, "__REALTIME_TIMESTAMP")?.parse().ok()?,
            app: owner.map(|app| app.to_string()),
            instance: owner.and_then(|app| app.units().instance_number(&unit)),
            priority: field(&entry, "PRIORITY").and_then(|p| p.parse().ok()),
            transport: field(&entry, "_TRANSPORT").unwrap_or_default(),
            message: field(&entry, "MESSAGE").unwrap_or_default(),
            unit,
        })
    }

    /// Who said it: `api@1` for a worker, else the unit's name.
    pub fn source(&self) -> String {
        match (&self.app, self.instance) {
            (Some(app), Some(instance)) => format!("{app}@{instance}"),
            _ if self.unit.is_empty() => "-".into(),
            _ => self.unit.clone(),
        }
    }

    /// `api@1 | message`, further lines of the message indented under it.
    pub fn line(&self) -> String {
        let source = self.source();
        let indent = format!("\n{:width$} | ", "", width = source.chars().count());
        format!(
            "{source} | {}",
            self.message.trim_end().replace('\n', &indent)
        )
    }
}

/// The entries of journalctl's JSON output, as they come.
pub fn entries<'a>(
    output: impl BufRead + 'a,
    scope: Scope,
    apps: &'a [AppName],
) -> impl Iterator<Item = LogEntry> + 'a {
    output
        .lines()
        .map_while(Result::ok)
        .filter_map(move |line| LogEntry::parse(&line, scope, apps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apps() -> Vec<AppName> {
        vec![AppName::new("api").unwrap(), AppName::new("web").unwrap()]
    }

    #[test]
    fn a_worker_line_names_its_instance() {
        let line = r#"{"__REALTIME_TIMESTAMP":"1700000000000001","_SYSTEMD_UNIT":"api@1.service","PRIORITY":"3","_TRANSPORT":"stdout","MESSAGE":"boom"}"#;
        let entry = LogEntry::parse(line, Scope::System, &apps()).unwrap();
        assert_eq!(entry.app.as_deref(), Some("api"));
        assert_eq!(entry.instance, Some(1));
        assert_eq!(entry.priority, Some(3));
        assert_eq!(entry.line(), "api@1 | boom");
    }

    #[test]
    fn systemd_messages_are_placed_by_the_unit_they_are_about() {
        let line = r#"{"__REALTIME_TIMESTAMP":"5","_SYSTEMD_UNIT":"init.scope","USER_UNIT":"web.socket","MESSAGE":["Listening", "twice"],"_TRANSPORT":"journal"}"#;
        let entry = LogEntry::parse(line, Scope::User, &apps()).unwrap();
        assert_eq!((entry.app.as_deref(), entry.instance), (Some("web"), None));
        assert_eq!(entry.line(), "web.socket | Listening");
    }

    #[test]
    fn bytes_are_read_as_text_and_further_lines_are_indented() {
        let line = r#"{"__REALTIME_TIMESTAMP":"5","_SYSTEMD_UNIT":"api@12.service","MESSAGE":[27,91,51,49,109,114,101,100,10,110,101,120,116]}"#;
        let entry = LogEntry::parse(line, Scope::System, &apps()).unwrap();
        assert_eq!(entry.line(), "api@12 | \u{1b}[31mred\n       | next");
    }

    #[test]
    fn what_is_not_an_entry_is_skipped() {
        let output = "-- No entries --\n{\"__REALTIME_TIMESTAMP\":\"7\",\"MESSAGE\":\"x\"}\n";
        let read: Vec<LogEntry> = entries(output.as_bytes(), Scope::System, &[]).collect();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].line(), "- | x");
    }
}
