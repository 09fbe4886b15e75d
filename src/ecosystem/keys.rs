//! Every key an ecosystem file may hold, in one table: PM2's options (the 64
//! keys of its `lib/API/schema.json` besides `env_<profile>`, with their
//! aliases), nodeunits' own, and how each is handled. The validator reads
//! options through it, and the report on keys nobody read consults it, so a
//! key is known in exactly one place.
//!
//! As in PM2 (`lib/tools/Config.js`), every option also answers to its
//! camelCase spelling (`kill_timeout` → `killTimeout`), and when several
//! spellings of one option are set, the first in the table's order wins.

use std::borrow::Cow;

use super::fields::{Fields, Unread};

/// What nodeunits does with an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// The validator reads it.
    Read,
    /// The validator reads it, and takes `0` and `""` as not set, with a
    /// warning: PM2 drops such a value (its aliasing treats a falsy value as
    /// missing; `port` is applied only when truthy) and uses its default.
    ReadUnlessEmpty,
    /// It loads with a warning; the text says what happens instead.
    Ignored(&'static str),
}

/// One option.
#[derive(Debug)]
pub struct Known {
    /// The canonical name: PM2's, or nodeunits' for its own options.
    pub name: &'static str,
    /// Other names, in the order PM2 prefers them after `name` when several
    /// are set; the camelCase spelling comes last and is not listed.
    pub aliases: &'static [&'static str],
    pub handling: Handling,
}

impl Known {
    /// Every spelling, in order of precedence: the name, the aliases, the
    /// camelCase spelling.
    pub fn spellings(&self) -> Vec<Cow<'static, str>> {
        let mut all: Vec<Cow<'static, str>> = std::iter::once(self.name)
            .chain(self.aliases.iter().copied())
            .map(Cow::Borrowed)
            .collect();
        let camel = camel_case(self.name);
        if !all.iter().any(|s| *s == camel) {
            all.push(Cow::Owned(camel));
        }
        all
    }

    /// The spellings a user finds documented: the name and its aliases.
    pub fn documented(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

const fn read(name: &'static str, aliases: &'static [&'static str]) -> Known {
    Known {
        name,
        aliases,
        handling: Handling::Read,
    }
}

const fn read_unless_empty(name: &'static str, aliases: &'static [&'static str]) -> Known {
    Known {
        name,
        aliases,
        handling: Handling::ReadUnlessEmpty,
    }
}

const fn ignored(
    name: &'static str,
    aliases: &'static [&'static str],
    instead: &'static str,
) -> Known {
    Known {
        name,
        aliases,
        handling: Handling::Ignored(instead),
    }
}

const WATCHING: &str = "nothing watches files: run `nodeunits reload APP` after a deploy";
const AGENT: &str = "there is no PM2 monitoring agent; systemd accounts memory and CPU per worker";
const NO_AGENT: &str = "there is no PM2 monitoring agent";
const TIMESTAMPS: &str = "the journal timestamps every line: `journalctl -u APP@0 -o short-iso`";
const MERGED: &str =
    "all workers log to the journal under the app's name; `nodeunits logs APP` merges them";
const NOT_READ: &str = "PM2 does not read it either";

/// The options of an app, in the order of PM2's schema, then nodeunits' own,
/// then keys of older PM2 versions. `env_<profile>` is not listed: the
/// validator reads every key that starts with `env_` and is not an option.
pub const APP_OPTIONS: &[Known] = &[
    read("script", &["cmd", "command", "exec"]),
    read("name", &[]),
    ignored(
        "name_prefix",
        &[],
        "PM2 itself applies only the `--name-prefix` of its command line; the units are named after `name`",
    ),
    ignored(
        "filter_env",
        &[],
        "units never inherit the shell's environment; list variables in `inherit_env`",
    ),
    read("namespace", &[]),
    ignored(
        "install_url",
        &[],
        "nodeunits installs no PM2 module; install the app before applying",
    ),
    read("cwd", &[]),
    read("args", &[]),
    read_unless_empty("exec_interpreter", &["interpreter"]),
    read_unless_empty("node_args", &["interpreter_args", "interpreterArgs"]),
    read_unless_empty("out_file", &["out_log", "output", "out"]),
    read_unless_empty("error_file", &["err_log", "err_file", "err", "error"]),
    ignored(
        "log_file",
        &["log"],
        "the journal holds both streams; set `out_file` and `error_file` to write files",
    ),
    read("disable_logs", &[]),
    ignored(
        "log_type",
        &[],
        "the journal stores structured fields: `journalctl -o json`",
    ),
    ignored("log_date_format", &[], TIMESTAMPS),
    ignored("time", &[], TIMESTAMPS),
    read("env", &[]),
    read_unless_empty("max_memory_restart", &[]),
    ignored(
        "pid_file",
        &["pid"],
        "systemd tracks the main PID: `systemctl show -p MainPID APP@0`",
    ),
    read("restart_delay", &[]),
    read_unless_empty("exp_backoff_restart_delay", &[]),
    read("source_map_support", &[]),
    ignored(
        "disable_source_map_support",
        &[],
        "source maps are off unless `source_map_support = true`",
    ),
    read("wait_ready", &[]),
    read("instances", &[]),
    read_unless_empty("kill_timeout", &[]),
    read("shutdown_with_message", &[]),
    read_unless_empty("listen_timeout", &[]),
    read_unless_empty("cron_restart", &["cron"]),
    ignored("merge_logs", &["combine_logs"], MERGED),
    ignored("vizion", &[], "no version metadata is collected"),
    read("autostart", &[]),
    read("autorestart", &[]),
    read("stop_exit_codes", &[]),
    ignored("watch_delay", &[], WATCHING),
    ignored("watch", &[], WATCHING),
    ignored("ignore_watch", &[], WATCHING),
    ignored("watch_options", &[], WATCHING),
    read_unless_empty("min_uptime", &[]),
    read_unless_empty("max_restarts", &[]),
    ignored(
        "execute_command",
        &[],
        "it only forces PM2's fork mode, and workers run the same in either mode",
    ),
    read_unless_empty("exec_mode", &[]),
    ignored("force", &[], "an app is a set of units; apply replaces them"),
    ignored(
        "append_env_to_name",
        &[],
        "unit names are the app's name; select the profile with --env",
    ),
    ignored("post_update", &[], "deployment is not part of nodeunits"),
    ignored("trace", &[], NO_AGENT),
    ignored("disable_trace", &[], NO_AGENT),
    ignored("v8", &[], NOT_READ),
    ignored("event_loop_inspector", &[], NOT_READ),
    ignored("deep_monitoring", &[], NO_AGENT),
    read_unless_empty("increment_var", &[]),
    read_unless_empty("instance_var", &[]),
    ignored("pmx", &[], AGENT),
    ignored("automation", &[], AGENT),
    ignored(
        "treekill",
        &[],
        "systemd always stops the whole process tree (KillMode=mixed)",
    ),
    read_unless_empty("port", &[]),
    ignored(
        "username",
        &[],
        "PM2 overwrites it with its own user; `uid` chooses the user the app runs as",
    ),
    read("uid", &["user"]),
    read("gid", &["group"]),
    ignored("windowsHide", &[], "it applies to Windows only"),
    ignored(
        "kill_retry_time",
        &[],
        "systemd sends SIGKILL once TimeoutStopSec= (kill_timeout) has passed",
    ),
    ignored("write", &[], NOT_READ),
    ignored("io", &[], NO_AGENT),
    // nodeunits' own.
    read("listen", &[]),
    read("sticky", &[]),
    read("env_file", &[]),
    read("inherit_env", &[]),
    read("hardening", &[]),
    read("read_write_paths", &[]),
    // Keys of older PM2 versions.
    ignored(
        "autodump",
        &[],
        "units are enabled and come back after a reboot without a dump",
    ),
    ignored(
        "instance_id_env",
        &[],
        "set instance_var for the variable holding the instance number",
    ),
];

/// The keys at the top of the file. `pm2` is PM2's other name for `apps`,
/// for a `package.json`.
pub const TOP_LEVEL: &[Known] = &[
    read("apps", &["pm2"]),
    ignored(
        "deploy",
        &[],
        "deployment is not part of nodeunits; the section is ignored",
    ),
    ignored(
        "static",
        &[],
        "`pm2 serve` is not part of nodeunits: serve static files from an app or a web server; the section is ignored",
    ),
];

/// Every documented spelling of an app's options, read or ignored: what
/// `man 5 ecosystem.toml` documents.
pub fn every_option() -> Vec<&'static str> {
    APP_OPTIONS.iter().flat_map(Known::documented).collect()
}

/// The option `key` is a spelling of.
pub fn find(table: &'static [Known], key: &str) -> Option<&'static Known> {
    table
        .iter()
        .find(|known| known.spellings().iter().any(|s| s == key))
}

/// PM2's camelCase spelling of an option: split at `_`, and every later part
/// longer than one character begins with a capital (`lib/tools/Config.js`).
pub fn camel_case(name: &str) -> String {
    name.split('_')
        .enumerate()
        .map(|(i, part)| match part.chars().next() {
            Some(first) if i > 0 && part.len() > 1 => {
                first.to_ascii_uppercase().to_string() + &part[first.len_utf8()..]
            }
            _ => part.to_owned(),
        })
        .collect()
}

/// Reports the keys of an app that no option read: a warning for an option
/// nodeunits ignores, else an error with the option probably meant.
pub(super) fn unknown_keys(fields: &mut Fields) {
    fields.report_unread(|key| match find(APP_OPTIONS, key).map(|known| known.handling) {
        Some(Handling::Ignored(instead)) => Unread::Warning(
            format!("`{key}` has no meaning under systemd and is ignored"),
            format!("instead: {instead}"),
        ),
        _ => {
            let help = match closest(key, APP_OPTIONS) {
                Some(known) => format!("did you mean `{known}`? See \"The ecosystem file\" in the README for every option"),
                None => "see \"The ecosystem file\" in the README for every option".to_owned(),
            };
            Unread::Error(format!("unknown option `{key}`"), help)
        }
    });
}

/// Reports the top-level keys other than `apps`.
pub(super) fn unknown_top_level_keys(fields: &mut Fields) {
    fields.report_unread(
        |key| match find(TOP_LEVEL, key).map(|known| known.handling) {
            Some(Handling::Ignored(why)) => Unread::Warning(
                format!("`{key}` has no meaning under systemd"),
                why.to_owned(),
            ),
            _ => Unread::Error(
                format!("unknown top-level key `{key}`"),
                match closest(key, TOP_LEVEL) {
                    Some(known) => format!("did you mean `{known}`?"),
                    None => {
                        "an ecosystem file holds its apps under `apps`; put app options inside an app"
                            .to_owned()
                    }
                },
            ),
        },
    );
}

/// The documented spelling closest to a typo, to suggest it. The camelCase
/// spellings are candidates only for a key written in camelCase: `kill_timout`
/// means `kill_timeout`, never `killTimeout`.
pub fn closest(key: &str, table: &'static [Known]) -> Option<String> {
    let camel = key.bytes().any(|b| b.is_ascii_uppercase());
    table
        .iter()
        .flat_map(|known| {
            let mut candidates: Vec<Cow<'static, str>> =
                known.documented().map(Cow::Borrowed).collect();
            if camel {
                candidates.push(Cow::Owned(camel_case(known.name)));
            }
            candidates
        })
        .map(|candidate| (edit_distance(key, &candidate), candidate))
        // A short name is one slip away from many words: only one edit there.
        .filter(|(d, candidate)| {
            *d <= if candidate.len() <= 4 {
                1
            } else {
                2.max(candidate.len() / 4)
            }
        })
        .min()
        .map(|(_, candidate)| candidate.into_owned())
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
mod tests;
