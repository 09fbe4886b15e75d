//! The selected app's last log lines, from a `journalctl --follow` that a
//! thread reads while the view draws.

use std::collections::VecDeque;
use std::io::BufReader;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::model::{AppName, Scope};
use crate::systemd::journalctl::{logs_args, LogsRequest};
use crate::systemd::log_entry::entries;

/// More than a terminal shows.
const KEPT: usize = 500;

/// The followed app's lines, newest last.
pub struct Tail {
    pub app: AppName,
    lines: Arc<Mutex<VecDeque<String>>>,
    journalctl: Option<Child>,
    pub error: Option<String>,
}

impl Tail {
    pub fn follow(scope: Scope, app: AppName) -> Tail {
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        let request = LogsRequest {
            follow: true,
            lines: Some(KEPT as u32),
            ..LogsRequest::default()
        };
        let spawned = Command::new("journalctl")
            .args(logs_args(scope, std::slice::from_ref(&app), &request))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let (journalctl, error) = match spawned {
            Ok(mut child) => {
                let output = BufReader::new(child.stdout.take().expect("piped"));
                let sink = Arc::clone(&lines);
                let apps = vec![app.clone()];
                std::thread::spawn(move || {
                    for entry in entries(output, scope, &apps) {
                        let mut lines = sink.lock().unwrap_or_else(|e| e.into_inner());
                        if lines.len() == KEPT {
                            lines.pop_front();
                        }
                        lines.push_back(printable(&entry.line()));
                    }
                });
                (Some(child), None)
            }
            Err(err) => (None, Some(format!("cannot run journalctl: {err}"))),
        };
        Tail {
            app,
            lines,
            journalctl,
            error,
        }
    }

    /// The last `count` lines, oldest first.
    pub fn last(&self, count: usize) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines
            .iter()
            .skip(lines.len().saturating_sub(count))
            .cloned()
            .collect()
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        if let Some(child) = &mut self.journalctl {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The text of a line without terminal escapes (an app's colours) or other
/// control characters, which would move the view's cursor.
pub fn printable(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next_if_eq(&'[').is_some() {
                // A CSI sequence ends with a byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else if c == '\t' {
            out.push_str("    ");
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn colours_and_control_characters_are_dropped() {
        assert_eq!(
            printable("api@0 | \u{1b}[31mred\u{1b}[0m\tdone\r\u{7}"),
            "api@0 | red    done"
        );
    }
}
