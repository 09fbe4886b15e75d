//! Why instances restarted, from the journal of the current boot: systemd's
//! structured messages about each unit (its main process exited, a restart
//! was scheduled, it was stopped, it started) and the helper's
//! memory-restart line. systemd's properties say only how often
//! (`NRestarts`) and how the run that is over ended (`Result`,
//! `ExecMainCode`, `ExecMainStatus`); once the unit runs again they are
//! reset, so the journal is the one place that keeps the reason.

use std::collections::BTreeMap;
use std::process::Command;

use serde::Serialize;

use super::Scope;
use crate::model::defaults::{memory_restart_figures, EXIT_MEMORY_RESTART, EXIT_UNRESPONSIVE};

/// systemd's MESSAGE_IDs (sd-messages.h).
const STARTED: &str = "39f53479d3a045ac8e11786248231fbf";
const STOPPING: &str = "de5b426a63be47a7b6ac3eaac82e2f6f";
const PROCESS_EXIT: &str = "98e322203f7a4ed290d09fe03c09fe15";
const RESTART_SCHEDULED: &str = "5eb03494b6584870a536b337290809b3";
/// The helper logs at `warn` (syslog priority 4).
const HELPER_WARNING: &str = "PRIORITY=4";

/// How a main process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exit {
    /// `exited`, `killed` or `dumped`, as systemd says it.
    pub code: String,
    /// The exit status; for `killed` and `dumped`, the signal's number.
    pub status: i32,
    /// Microseconds since the epoch.
    pub at_usec: u64,
}

impl Exit {
    /// "exit status 1", "signal SIGSEGV (core dumped)".
    pub fn describe(&self) -> String {
        match self.code.as_str() {
            "exited" => format!("exit status {}", self.status),
            code => {
                let name = nix::sys::signal::Signal::try_from(self.status)
                    .map_or_else(|_| format!("signal {}", self.status), |s| s.to_string());
                let dumped = if code == "dumped" {
                    " (core dumped)"
                } else {
                    ""
                };
                format!("signal {name}{dumped}")
            }
        }
    }
}

/// Why an instance's last run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum LastEnd {
    /// The helper restarted it for memory (exit status 75), with its figures.
    Memory { figures: Option<String>, exit: Exit },
    /// The helper killed the app, whose event loop did not turn for
    /// `unresponsive_timeout` (exit status 76).
    Unresponsive { exit: Exit },
    /// It died, and systemd restarted it (`Restart=`).
    Crash { exit: Exit },
    /// It died and was not restarted (yet, or at all).
    Exited { exit: Exit },
    /// Stopped on request: a stop, restart or rolling reload.
    Requested { at_usec: u64 },
}

/// Why the journal could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("could not run journalctl: {0}")]
    NotRun(std::io::Error),
    /// journalctl's complaint.
    #[error("journalctl failed: {0}")]
    Failed(String),
}

/// The journal entries of the instances of interest, in order, by unit.
#[derive(Debug, Default)]
pub struct History {
    events: BTreeMap<String, Vec<Event>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Started,
    Stopping { at_usec: u64 },
    Exit(Exit),
    RestartScheduled,
    MemoryLine(String),
}

/// The fields naming the unit: those of the manager's messages about it and
/// those of the unit's own processes.
fn fields(scope: Scope) -> (&'static str, &'static str) {
    match scope {
        Scope::System => ("UNIT", "_SYSTEMD_UNIT"),
        Scope::User => ("USER_UNIT", "_SYSTEMD_USER_UNIT"),
    }
}

impl History {
    /// The current boot's journal of `units` (instances), read once.
    pub fn read(scope: Scope, units: &[String]) -> Result<History, HistoryError> {
        if units.is_empty() {
            return Ok(History::default());
        }
        let (about, own) = fields(scope);
        let mut args: Vec<String> = ["-b", "-q", "--no-pager", "-o", "json"]
            .map(String::from)
            .to_vec();
        args.extend(units.iter().map(|u| format!("{about}={u}")));
        args.push("+".into());
        args.extend(units.iter().map(|u| format!("{own}={u}")));
        args.push(HELPER_WARNING.into());
        let output = Command::new("journalctl")
            .args(&args)
            .output()
            .map_err(HistoryError::NotRun)?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(HistoryError::Failed(stderr.trim().to_owned()));
        }
        Ok(History::parse(
            scope,
            &String::from_utf8_lossy(&output.stdout),
        ))
    }

    /// `journalctl -o json` lines, oldest first.
    fn parse(scope: Scope, json_lines: &str) -> History {
        let (about, own) = fields(scope);
        let mut events: BTreeMap<String, Vec<Event>> = BTreeMap::new();
        for line in json_lines.lines() {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let text = |key: &str| entry.get(key).and_then(serde_json::Value::as_str);
            let at_usec = text("__REALTIME_TIMESTAMP")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let event = match (text("MESSAGE_ID"), text(about)) {
                (Some(STARTED), Some(_)) => Event::Started,
                (Some(STOPPING), Some(_)) => Event::Stopping { at_usec },
                (Some(RESTART_SCHEDULED), Some(_)) => Event::RestartScheduled,
                (Some(PROCESS_EXIT), Some(_)) if text("COMMAND") != Some("ExecStop") => {
                    let (Some(code), Some(status)) = (
                        text("EXIT_CODE"),
                        text("EXIT_STATUS").and_then(|s| s.parse().ok()),
                    ) else {
                        continue;
                    };
                    Event::Exit(Exit {
                        code: code.to_owned(),
                        status,
                        at_usec,
                    })
                }
                (_, None) => match text("MESSAGE").and_then(memory_restart_figures) {
                    Some(figures) => Event::MemoryLine(figures.to_owned()),
                    None => continue,
                },
                _ => continue,
            };
            let unit = text(about).or_else(|| text(own));
            if let Some(unit) = unit {
                events.entry(unit.to_owned()).or_default().push(event);
            }
        }
        History { events }
    }

    /// How the last run of `unit` this boot ended; `None` when it has run
    /// once and runs still, or the journal does not say.
    pub fn last_end(&self, unit: &str) -> Option<LastEnd> {
        let mut last = None;
        let mut figures = None;
        let mut stopping = false;
        for event in self.events.get(unit)? {
            match event {
                Event::Started => stopping = false,
                Event::MemoryLine(line) => figures = Some(line.clone()),
                // A stop's own end is part of the stop.
                Event::Exit(_) if stopping => {}
                Event::Exit(exit) => {
                    let status = (exit.code == "exited").then_some(exit.status);
                    last = Some(match status {
                        Some(s) if s == i32::from(EXIT_MEMORY_RESTART) => LastEnd::Memory {
                            figures: figures.take(),
                            exit: exit.clone(),
                        },
                        Some(s) if s == i32::from(EXIT_UNRESPONSIVE) => {
                            LastEnd::Unresponsive { exit: exit.clone() }
                        }
                        _ => LastEnd::Exited { exit: exit.clone() },
                    })
                }
                Event::RestartScheduled => {
                    last = match last.take() {
                        Some(LastEnd::Exited { exit }) => Some(LastEnd::Crash { exit }),
                        other => other,
                    }
                }
                Event::Stopping { at_usec } => {
                    stopping = true;
                    last = Some(LastEnd::Requested { at_usec: *at_usec });
                }
            }
        }
        last
    }

    /// How many times `unit` restarted for memory this boot.
    pub fn memory_restarts(&self, unit: &str) -> u64 {
        self.exits_with(unit, EXIT_MEMORY_RESTART)
    }

    /// How many times the helper of `unit` killed its stuck app this boot.
    pub fn unresponsive_restarts(&self, unit: &str) -> u64 {
        self.exits_with(unit, EXIT_UNRESPONSIVE)
    }

    fn exits_with(&self, unit: &str, status: u8) -> u64 {
        let with = |event: &&Event| {
            matches!(event, Event::Exit(exit)
                if exit.code == "exited" && exit.status == i32::from(status))
        };
        self.events
            .get(unit)
            .map_or(0, |events| events.iter().filter(with).count() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(fields: &[(&str, &str)]) -> String {
        let map: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    fn about(unit: &str, id: &str, at: &str) -> String {
        entry(&[
            ("UNIT", unit),
            ("MESSAGE_ID", id),
            ("__REALTIME_TIMESTAMP", at),
        ])
    }

    fn exit(unit: &str, code: &str, status: &str, at: &str) -> String {
        entry(&[
            ("UNIT", unit),
            ("MESSAGE_ID", PROCESS_EXIT),
            ("EXIT_CODE", code),
            ("EXIT_STATUS", status),
            ("COMMAND", "ExecStart"),
            ("__REALTIME_TIMESTAMP", at),
        ])
    }

    const FIGURES: &str =
        "90.1 MB (94476288 bytes), over max_memory_restart 80.0 MB (83886080 bytes)";

    fn memory_line(unit: &str) -> String {
        let message = crate::model::defaults::memory_restart_line(FIGURES);
        entry(&[("_SYSTEMD_UNIT", unit), ("MESSAGE", &message)])
    }

    fn history(lines: &[String]) -> History {
        History::parse(Scope::System, &(lines.join("\n") + "\n"))
    }

    #[test]
    fn a_memory_restart_keeps_its_figures() {
        let h = history(&[
            about("api@0.service", STARTED, "1"),
            memory_line("api@0.service"),
            exit("api@0.service", "exited", "75", "2"),
            about("api@0.service", RESTART_SCHEDULED, "3"),
            about("api@0.service", STARTED, "4"),
            about("api@1.service", STARTED, "4"),
        ]);
        let end = h.last_end("api@0.service").unwrap();
        assert_eq!(
            end,
            LastEnd::Memory {
                figures: Some(FIGURES.into()),
                exit: Exit {
                    code: "exited".into(),
                    status: 75,
                    at_usec: 2
                }
            }
        );
        assert_eq!(h.memory_restarts("api@0.service"), 1);
        assert_eq!(h.last_end("api@1.service"), None);
        assert_eq!(h.memory_restarts("api@1.service"), 0);
    }

    #[test]
    fn a_watchdog_kill_is_unresponsive_not_a_crash() {
        let h = history(&[
            about("api@0.service", STARTED, "1"),
            exit("api@0.service", "exited", "76", "2"),
            about("api@0.service", RESTART_SCHEDULED, "3"),
            about("api@0.service", STARTED, "4"),
        ]);
        assert_eq!(
            h.last_end("api@0.service"),
            Some(LastEnd::Unresponsive {
                exit: Exit {
                    code: "exited".into(),
                    status: 76,
                    at_usec: 2
                }
            })
        );
        assert_eq!(h.memory_restarts("api@0.service"), 0);
        assert_eq!(h.unresponsive_restarts("api@0.service"), 1);
    }

    #[test]
    fn crashes_exits_and_requested_stops() {
        let h = history(&[
            about("api@0.service", STARTED, "1"),
            exit("api@0.service", "dumped", "11", "2"),
            about("api@0.service", RESTART_SCHEDULED, "3"),
            about("api@1.service", STARTED, "1"),
            about("api@1.service", STOPPING, "5"),
            exit("api@1.service", "killed", "9", "6"),
            about("api@1.service", STARTED, "7"),
            exit("api@2.service", "exited", "1", "8"),
        ]);
        let LastEnd::Crash { exit } = h.last_end("api@0.service").unwrap() else {
            panic!()
        };
        assert_eq!(exit.describe(), "signal SIGSEGV (core dumped)");
        assert_eq!(
            h.last_end("api@1.service"),
            Some(LastEnd::Requested { at_usec: 5 })
        );
        let LastEnd::Exited { exit } = h.last_end("api@2.service").unwrap() else {
            panic!()
        };
        assert_eq!(exit.describe(), "exit status 1");
    }
}
