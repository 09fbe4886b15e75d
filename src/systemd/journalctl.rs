//! The journal, read through `journalctl` with the matches of an app's units.

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::Scope;
use crate::model::AppName;

/// What `nodeunits logs` and `monit` read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsRequest {
    pub follow: bool,
    pub lines: Option<u32>,
    /// One instance; `None`: the app unit, its socket and every instance.
    pub instance: Option<u32>,
    /// Only what the apps wrote to stderr (see [`STDERR_PRIORITIES`]).
    pub stderr_only: bool,
}

/// The priorities of the apps' stderr lines: the helper connects an app's
/// stderr to the journal as a stream of its own at priority 3 (err), while
/// stdout keeps systemd's stream at 6 (info). Both have `_TRANSPORT=stdout`;
/// the helper's own lines have `_TRANSPORT=journal`.
pub const STDERR_PRIORITIES: &str = "0..3";

fn unit_flag(scope: Scope) -> &'static str {
    match scope {
        Scope::System => "--unit",
        Scope::User => "--user-unit",
    }
}

/// The `journalctl` arguments reading the journal of `apps`, merged in time
/// order, one JSON object per entry.
pub fn logs_args(scope: Scope, apps: &[AppName], request: &LogsRequest) -> Vec<String> {
    let flag = unit_flag(scope);
    let mut units = Vec::new();
    for app in apps {
        let names = app.units();
        match request.instance {
            Some(instance) => units.push(names.instance(instance)),
            // A glob: journalctl matches every instance ever logged, running or not.
            None if request.stderr_only => units.push(names.instance_glob()),
            None => units.extend([names.instance_glob(), names.app(), names.socket()]),
        }
    }
    let mut args: Vec<String> = units.into_iter().map(|u| format!("{flag}={u}")).collect();
    args.extend(["--no-pager", "--output=json", "--all"].map(String::from));
    if let Some(lines) = request.lines {
        args.push(format!("--lines={lines}"));
    }
    if request.follow {
        args.push("--follow".into());
    }
    if request.stderr_only {
        args.push(format!("--priority={STDERR_PRIORITIES}"));
        args.push("_TRANSPORT=stdout".into());
    }
    args
}

/// How long journald is given to take in what a failed app wrote last: at
/// least, between two reads, and at most in all. A journald starved of CPU
/// (a loaded machine of 2 cores) was seen to take a stream's last line more
/// than a second after the process that wrote it had ended.
const STREAM_SETTLE_AT_LEAST: Duration = Duration::from_secs(2);
const STREAM_SETTLE: Duration = Duration::from_millis(250);
const STREAM_SETTLE_AT_MOST: Duration = Duration::from_secs(5);

/// The unit's last `lines` journal lines logged since `since` (so older runs
/// do not bury what just happened), or a note saying why there are none.
pub fn tail(scope: Scope, unit: &str, lines: u32, since: SystemTime) -> String {
    // A second early: journalctl's --since has a resolution of seconds.
    let since = since
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs().saturating_sub(1));
    // journald answers --sync once it has handled what was already sent to
    // it, such as the last words of a process that just failed. Only root
    // may ask; for others the lines may lag a moment.
    let _ = Command::new("journalctl")
        .arg("--sync")
        .stderr(std::process::Stdio::null())
        .status();
    // The app's own stream (its stderr: the last words of a start that
    // failed) is read by journald in its own time: before systemd 255
    // --sync does not wait for it, and a busy journald takes longer. So the
    // tail is read for two seconds at least, until it stops changing. This runs
    // only to explain a failure.
    let started = Instant::now();
    let mut last = None;
    loop {
        std::thread::sleep(STREAM_SETTLE);
        let now = with_own_words(
            read_tail(scope, unit, lines, since, &[]),
            &read_tail(scope, unit, OWN_WORDS, since, &["_TRANSPORT=stdout"]),
        );
        let settled = last.as_ref() == Some(&now) && started.elapsed() >= STREAM_SETTLE_AT_LEAST;
        if settled || started.elapsed() >= STREAM_SETTLE_AT_MOST {
            return now;
        }
        last = Some(now);
    }
}

/// How many of the app's own last lines are always shown.
const OWN_WORDS: u32 = 5;

/// The unit's tail, and under it the app's own last lines where the tail
/// lost them: a unit that restarts in a loop fills its tail with systemd's
/// and the helper's lines about each restart, burying why the app failed.
fn with_own_words(tail: String, own: &str) -> String {
    if own.lines().all(|line| tail.lines().any(|t| t == line)) {
        return tail;
    }
    format!("{tail}what the app wrote last:\n{own}")
}

fn read_tail(scope: Scope, unit: &str, lines: u32, since: u64, matches: &[&str]) -> String {
    // With --since, journalctl (before 256) shows the first lines after it,
    // not the last: read backwards from the end, then put them in order.
    let output = Command::new("journalctl")
        .arg(format!("{}={unit}", unit_flag(scope)))
        .args(["--no-pager", "--quiet", "--output=short-iso", "--reverse"])
        .arg(format!("--lines={lines}"))
        .arg(format!("--since=@{since}"))
        .args(matches)
        .output();
    match output {
        Ok(output) if output.status.success() => in_order(&String::from_utf8_lossy(&output.stdout)),
        Ok(output) => format!(
            "(journalctl failed: {})",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(err) => format!("(could not run journalctl: {err})"),
    }
}

/// Entries listed newest first, oldest first; an entry's further lines
/// (indented by journalctl) stay under it.
fn in_order(newest_first: &str) -> String {
    let mut entries: Vec<String> = Vec::new();
    for line in newest_first.lines() {
        match entries.last_mut() {
            Some(entry) if line.starts_with(char::is_whitespace) => {
                entry.push_str(line);
                entry.push('\n');
            }
            _ => entries.push(format!("{line}\n")),
        }
    }
    entries.reverse();
    entries.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_instances_of_two_system_apps() {
        let apps = [AppName::new("api").unwrap(), AppName::new("web").unwrap()];
        let request = LogsRequest {
            follow: true,
            lines: Some(20),
            ..LogsRequest::default()
        };
        assert_eq!(
            logs_args(Scope::System, &apps, &request),
            [
                "--unit=api@*.service",
                "--unit=api.service",
                "--unit=api.socket",
                "--unit=web@*.service",
                "--unit=web.service",
                "--unit=web.socket",
                "--no-pager",
                "--output=json",
                "--all",
                "--lines=20",
                "--follow"
            ]
        );
    }

    #[test]
    fn the_tail_reads_oldest_first() {
        let newest_first = "t3 api: failed\nt2 api: two\n    lines\nt1 api: started\n";
        assert_eq!(
            in_order(newest_first),
            "t1 api: started\nt2 api: two\n    lines\nt3 api: failed\n"
        );
        assert_eq!(in_order(""), "");
    }

    #[test]
    fn the_apps_own_words_are_kept_under_a_tail_that_lost_them() {
        let own = "t1 api[9]: version 2 cannot start\n";
        let tail = "t1 api[9]: version 2 cannot start\nt2 systemd[1]: Failed\n";
        assert_eq!(with_own_words(tail.into(), own), tail);
        let noisy = "t3 systemd[1]: Starting\n";
        assert_eq!(
            with_own_words(noisy.into(), own),
            format!("{noisy}what the app wrote last:\n{own}")
        );
        assert_eq!(with_own_words(noisy.into(), ""), noisy);
    }

    #[test]
    fn the_stderr_of_one_instance_of_a_user_app() {
        let request = LogsRequest {
            instance: Some(2),
            stderr_only: true,
            ..LogsRequest::default()
        };
        assert_eq!(
            logs_args(Scope::User, &[AppName::new("api").unwrap()], &request),
            [
                "--user-unit=api@2.service",
                "--no-pager",
                "--output=json",
                "--all",
                "--priority=0..3",
                "_TRANSPORT=stdout"
            ]
        );
    }
}
