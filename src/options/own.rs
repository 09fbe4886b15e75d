use super::directive::Directive;
use super::{Doc, Row};
use crate::ecosystem::places::{hardening, listen, normalize, read_write_paths_of};
use crate::ecosystem::typed;
use crate::units::format::duration;

/// nodeunits' own options, then keys of older PM2 versions.
pub(super) fn rows() -> Vec<Row> {
    [
        sockets_and_environment(),
        journal(),
        sandbox(),
        vec![watchdog()],
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The event-loop watchdog.
fn watchdog() -> Row {
    Row::read(
        "unresponsive_timeout",
        &[],
        Doc {
            default: "none: off, as in PM2 (a worker busy with a long synchronous task is not killed)",
            becomes: "nodeunits' own, for Node apps: the preload beats from the event loop, and a worker whose loop has not turned for this long (`\"30s\"`) is killed (a stuck loop cannot drain: its open connections close) and restarted, the socket's other workers serving meanwhile; the helper's `--unresponsive-timeout`, exit status 76, and a journal line saying why (see \"The watchdog\")",
        },
    )
    .validate(|f, _, app| app.unresponsive_timeout = f.duration("unresponsive_timeout"))
    .unless_empty()
    .describe(|units| {
        let timeout = units.worker.options.unresponsive_timeout?;
        Some(format!("{} ms", timeout.as_millis()))
    })
}

/// The sockets, and the environment from elsewhere.
fn sockets_and_environment() -> Vec<Row> {
    vec![
        Row::read(
            "listen",
            &[],
            Doc {
                default: "none",
                becomes: "nodeunits' own: `ListenStream=` each: `\"127.0.0.1:3000\"`, `\"[::1]:3000\"`, `\"[::]:3000\"`, `3000`, or a unix socket path; adds `app.socket`; one TCP port sets `PORT` (see \"Ports\")",
            },
        )
        .validate(|f, dir, app| app.listen = listen(f, dir))
        .describe(|units| (!units.listen.is_empty()).then(|| units.listen.join(" "))),
        Row::read(
            "env_file",
            &[],
            Doc {
                default: "none",
                becomes: "nodeunits' own: `EnvironmentFile=`, after `APP.env`: its variables win",
            },
        )
        .validate(|f, dir, app| {
            let file = f.string("env_file");
            app.env_file = file.map(|file| normalize(&dir.join(file.get_ref())));
        })
        .directives(vec![Directive::path(
            "EnvironmentFile",
            |w| w.environment_file.as_deref(),
            |w, path| w.environment_file = Some(path),
        )])
        .describe(|units| Some(units.worker.environment_file.as_ref()?.display().to_string())),
        Row::read(
            "inherit_env",
            &[],
            Doc {
                default: "none",
                becomes: "nodeunits' own: the named variables, copied from the environment of `nodeunits` when rendering into `APP.env`",
            },
        )
        .validate(|f, _, app| app.inherit_env = typed::inherit_env(f)),
        credentials(),
        Row::read(
            "credentials_env",
            &[],
            Doc {
                default: "`true`",
                becomes: "nodeunits' own: `false` leaves each credential a file only, `$CREDENTIALS_DIRECTORY/NAME`, which the app reads itself; `true` also sets the variable NAME to its contents (the helper's `--credential NAME`)",
            },
        )
        .validate(|f, _, app| app.credentials_env = f.bool("credentials_env").unwrap_or(true))
        .describe(|units| {
            let files_only = !units.worker.credentials.is_empty()
                && units.worker.options.credentials.is_empty();
            files_only.then(|| "false: the app reads $CREDENTIALS_DIRECTORY".to_owned())
        }),
    ]
}

/// journald's rate limit of each worker's output, per interval: the default
/// keeps a burst of 60,000 lines (an error loop, a verbose deploy) where
/// journald's own (10,000 per 30 s) drops most of it.
pub const LOG_RATE_LIMIT_INTERVAL: &str = "30s";
pub const LOG_RATE_LIMIT_BURST: u32 = 100_000;

/// journald's rate limit of the app's output: plain directives, with
/// nodeunits' defaults.
fn journal() -> Vec<Row> {
    vec![
        Row::plain(
            "log_rate_limit_interval",
            Doc {
                default: "`\"30s\"`",
                becomes: "nodeunits' own: `LogRateLimitIntervalSec=` (systemd 240 and later): journald keeps at most `log_rate_limit_burst` lines of each worker's output per interval and says how many it dropped; `0` turns the limit off (see \"Logs\")",
            },
            "LogRateLimitIntervalSec",
            |f, key| {
                let given = f.duration(key).map(|d| duration(d.into_inner()));
                Some(given.unwrap_or_else(|| LOG_RATE_LIMIT_INTERVAL.to_owned()))
            },
        ),
        Row::plain(
            "log_rate_limit_burst",
            Doc {
                default: "`100000`",
                becomes: "nodeunits' own: `LogRateLimitBurst=` (systemd 240 and later): the lines per `log_rate_limit_interval` (ten times journald's 10000, which journald scales up with free disk space); `0` turns the limit off",
            },
            "LogRateLimitBurst",
            |f, key| {
                let given = f.integer(key, 0, i64::from(u32::MAX));
                Some(given.map_or(LOG_RATE_LIMIT_BURST.to_string(), |n| n.to_string()))
            },
        ),
    ]
}

/// systemd credentials, each the app's environment variable of its name.
fn credentials() -> Row {
    Row::read(
        "credentials",
        &[],
        Doc {
            default: "none",
            becomes: "nodeunits' own: `{ NAME = \"file\" }`: `LoadCredentialEncrypted=NAME:file` for a file ending in `.cred` (encrypted by `nodeunits secret set`; systemd 250 or newer), else `LoadCredential=NAME:file` (247 or newer); the app gets each as the variable NAME, over `env` (see \"Secrets\")",
        },
    )
    .validate(|f, dir, app| {
        let files = f.credentials("credentials");
        app.credentials = files
            .into_iter()
            .map(|(name, file)| (name, normalize(&dir.join(file))))
            .collect();
    })
    .describe(|units| {
        let credentials = &units.worker.credentials;
        let each = credentials
            .iter()
            .map(|(name, file)| format!("{name} from {}", file.display()));
        (!credentials.is_empty()).then(|| each.collect::<Vec<_>>().join(", "))
    })
}

/// The sandbox and sticky sessions; keys of older PM2 versions.
fn sandbox() -> Vec<Row> {
    vec![
        Row::read(
            "hardening",
            &[],
            Doc {
                default: "`\"on\"`",
                becomes: "nodeunits' own: `\"off\"` leaves out every directive of the sandbox (see \"The sandbox\")",
            },
        )
        .validate(|f, _, app| app.hardening = hardening(f))
        .unmapped(|units, _| {
            Some(match &units.worker.sandbox {
                Some(sandbox) => {
                    let paths: Vec<String> = sandbox
                        .read_write_paths
                        .iter()
                        .map(|path| path.display().to_string())
                        .collect();
                    format!(
                        "the root filesystem is read-only and /tmp an emptyDir, as the sandbox has it: mount a volume where the app writes ({})",
                        paths.join(", ")
                    )
                }
                None => "hardening = \"off\": the root filesystem stays writable".to_owned(),
            })
        }),
        Row::read(
            "sticky",
            &[],
            Doc {
                default: "`false`",
                becomes: "nodeunits' own: `true` keeps each client address on one worker (Socket.IO long-polling): one socket per instance per TCP address (`ListenStream=` repeated, `ReusePort=yes`) and the helpers steer by source address; a Node app with a TCP address only; the count changes only with `apply`, which restarts the app (see docs/contract.md, \"The socket layer\")",
            },
        )
        .validate(|f, _, app| app.sticky = f.bool("sticky").unwrap_or(false)),
        Row::read(
            "read_write_paths",
            &[],
            Doc {
                default: "none",
                becomes: "nodeunits' own: paths the app may write besides its directory and its log files' directories: `ReadWritePaths=` (see \"The sandbox\")",
            },
        )
        .validate(|f, dir, app| {
            app.read_write_paths = read_write_paths_of(f, dir, app.hardening);
        }),
        Row::ignored("autodump", &[], "units are enabled and come back after a reboot without a dump"),
        Row::ignored("instance_id_env", &[], "set instance_var for the variable holding the instance number"),
    ]
}
