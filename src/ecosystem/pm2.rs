//! PM2 options that mean nothing when systemd supervises: a converted PM2
//! file still loads, and the user learns what happens instead.

/// The option, and what happens instead of it.
pub const IGNORED_APP_OPTIONS: &[(&str, &str)] = &[
    (
        "watch",
        "nothing watches files: run `nodeunits reload APP` after a deploy",
    ),
    (
        "ignore_watch",
        "nothing watches files: run `nodeunits reload APP` after a deploy",
    ),
    (
        "watch_delay",
        "nothing watches files: run `nodeunits reload APP` after a deploy",
    ),
    (
        "watch_options",
        "nothing watches files: run `nodeunits reload APP` after a deploy",
    ),
    ("vizion", "no version metadata is collected"),
    (
        "pmx",
        "there is no PM2 monitoring agent; systemd accounts memory and CPU per worker",
    ),
    (
        "automation",
        "there is no PM2 monitoring agent; systemd accounts memory and CPU per worker",
    ),
    ("trace", "there is no PM2 monitoring agent"),
    ("disable_trace", "there is no PM2 monitoring agent"),
    ("deep_monitoring", "there is no PM2 monitoring agent"),
    ("io", "there is no PM2 monitoring agent"),
    (
        "log_date_format",
        "the journal timestamps every line: `journalctl -u APP@0 -o short-iso`",
    ),
    (
        "time",
        "the journal timestamps every line: `journalctl -u APP@0 -o short-iso`",
    ),
    (
        "merge_logs",
        "all workers log to the journal under the app's name; `nodeunits logs APP` merges them",
    ),
    (
        "combine_logs",
        "all workers log to the journal under the app's name; `nodeunits logs APP` merges them",
    ),
    (
        "log_type",
        "the journal stores structured fields: `journalctl -o json`",
    ),
    (
        "log_file",
        "the journal holds both streams; set out_file and error_file to write files",
    ),
    (
        "log",
        "the journal holds both streams; set out_file and error_file to write files",
    ),
    (
        "pid_file",
        "systemd tracks the main PID: `systemctl show -p MainPID APP@0`",
    ),
    (
        "pid",
        "systemd tracks the main PID: `systemctl show -p MainPID APP@0`",
    ),
    (
        "treekill",
        "systemd always stops the whole process tree (KillMode=mixed)",
    ),
    (
        "kill_retry_time",
        "systemd sends SIGKILL once TimeoutStopSec= (kill_timeout) has passed",
    ),
    ("force", "an app is a set of units; apply replaces them"),
    (
        "append_env_to_name",
        "unit names are the app's name; select the profile with --env",
    ),
    ("post_update", "deployment is not part of nodeunits"),
    (
        "filter_env",
        "units never inherit the shell's environment; list variables in inherit_env",
    ),
    (
        "autodump",
        "units are enabled and come back after a reboot without a dump",
    ),
    (
        "disable_source_map_support",
        "source maps are off unless source_map_support = true",
    ),
    (
        "instance_id_env",
        "set instance_var for the variable holding the instance number",
    ),
];

/// Top-level keys of a PM2 ecosystem file other than `apps`.
pub const IGNORED_TOP_LEVEL: &[(&str, &str)] = &[
    (
        "deploy",
        "deployment is not part of nodeunits; the section is ignored",
    ),
    (
        "static",
        "`pm2 serve` is not part of nodeunits: serve static files from an app or a web server; the section is ignored",
    ),
];

pub fn ignored(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, why)| *why)
}

/// The known option closest to a typo, to suggest it.
pub fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_option_meant() {
        let known = ["instances", "interpreter", "kill_timeout"];
        assert_eq!(closest("instance", &known), Some("instances"));
        assert_eq!(closest("kill_timout", &known), Some("kill_timeout"));
        assert_eq!(closest("banana", &known), None);
    }
}
