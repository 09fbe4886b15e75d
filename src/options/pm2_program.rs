use std::time::Duration;

use super::directive::Directive;
use super::{describe::*, Doc, Row, PROFILE_ROW};
use crate::ecosystem::keys::Pm2Default;
use crate::ecosystem::places::normalize;
use crate::ecosystem::typed;
use crate::model::RestartSteps;
use crate::units::format::{duration, parse_duration};

/// PM2's options (the keys of its `lib/API/schema.json`, in its order, with
/// their aliases), first part: what runs, where, with which environment and
/// logs, and how it restarts.
pub(super) fn rows() -> Vec<Row> {
    [
        program(),
        command(),
        super::pm2_logs::rows(),
        environment(),
        delays(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The program: its script, name and namespace.
fn program() -> Vec<Row> {
    vec![
        Row::read(
            "script",
            &["cmd", "command", "exec"],
            Doc {
                default: "required",
                becomes: "the program: a path relative to `cwd`, or else a command found in `PATH`, for an `interpreter` too; as in PM2, a script with spaces that names no file is a command line whatever the interpreter: `\"node server.js\"` is node with `server.js`, run directly (then `args`), and shell syntax runs with `bash -c` (with a warning); with an `interpreter` other than `\"none\"`, which PM2 would run on bash, an error. A Node script run directly (its first line `#!` names `node`: `npm`, `npx`, `yarn`, `pnpm`, `tsx`, `next`…), as in `script = \"npm\"`, `args = \"start\"`, is a launcher: the helper's `--launcher` (see \"The helper\")",
            },
        )
        .describe(|units| {
            let command = &units.worker.options.command;
            let words: Vec<String> = command.iter().map(|w| w.to_string_lossy().into_owned()).collect();
            Some(words.join(" "))
        })
        .unmapped(|units, _| {
            let worker = &units.worker;
            let program = worker.options.command.first();
            Some(format!(
                "the pods run {} in {}, the paths of this machine: the image must have them",
                program.map_or("the program".into(), |p| p.to_string_lossy().into_owned()),
                worker.working_directory.display()
            ))
        }),
        Row::read(
            "name",
            &[],
            Doc {
                default: "the file name of `script` without its extension, as in PM2 (`./service-worker/` → `service-worker`, `bin/www` → `www`, `app.min.js` → `app.min`)",
                becomes: "the units' names. Any text, as in PM2: a name with characters other than ASCII letters, digits, `_`, `.` and `-` names its units after those, each run of other characters becoming `-` (`CodeChat Api` → `CodeChat-Api.service`), with a warning; PM2's name is kept as `X-Nodeunits-Name=` in the app unit, shown by `status` and `describe`, and every command takes either name",
            },
        )
        .unless_empty()
        .directives(vec![Directive::app_text(
            "X-Nodeunits-Name",
            |app| app.pm2_name.as_ref(),
            |app, name| app.pm2_name = Some(name),
        )])
        .describe(|units| units.pm2_name.clone()),
        Row::ignored("name_prefix", &[], "PM2 itself applies only the `--name-prefix` of its command line; the units are named after `name`"),
        Row::ignored("filter_env", &[], "units never inherit the shell's environment; list variables in `inherit_env`")
        .pm2_default(Pm2Default::Bool(false)),
        Row::read(
            "namespace",
            &[],
            Doc {
                default: "none",
                becomes: "`X-Nodeunits-Namespace=` in every unit",
            },
        )
        .validate(|f, _, app| app.namespace = typed::namespace(f))
        .describe(|units| units.namespace.clone())
        .unmapped(|units, options| {
            let namespace = units.namespace.as_ref()?;
            let target = match &options.namespace {
                Some(ns) => format!("namespace `{ns}` (--namespace)"),
                None => "kubectl's current namespace (or --namespace)".to_owned(),
            };
            Some(format!(
                "namespace `{namespace}` groups apps for nodeunits only; the manifests go to {target}"
            ))
        }),
        Row::ignored("install_url", &[], "nodeunits installs no PM2 module; install the app before applying"),
    ]
}

/// Its command line: directory, interpreter, arguments.
fn command() -> Vec<Row> {
    vec![
        Row::read(
            "cwd",
            &[],
            Doc {
                default: "the ecosystem file's directory",
                becomes: "`WorkingDirectory=`",
            },
        )
        .validate(|f, dir, app| {
            if let Some(cwd) = f.string("cwd") {
                app.cwd = normalize(&dir.join(cwd.get_ref()));
            }
        })
        .directives(vec![Directive::path(
            "WorkingDirectory",
            |w| Some(&w.working_directory),
            |w, path| w.working_directory = path,
        )
        .required()])
        .describe(|units| Some(units.worker.working_directory.display().to_string())),
        Row::read(
            "args",
            &[],
            Doc {
                default: "none",
                becomes: "arguments after the script: an array, or a string split as PM2 splits it",
            },
        )
        .validate(|f, _, app| app.args = f.words("args").unwrap_or_default()),
        Row::read(
            "exec_interpreter",
            &["interpreter"],
            Doc {
                default: "PM2's by the script's extension: `node` (`.js`, `.mjs`, `.cjs`), `bash` (`.sh`), `python` or else `python3` (`.py`), `ruby` (`.rb`), `php`, `perl` (`.pl`), `coffee`, `lsc` (`.ls`), `bun` or else `ts-node` (`.ts`, `.tsx`); without one, `node` for text, none for a binary (see \"What runs\")",
                becomes: "found in `PATH` when rendering (`coffee`, `lsc` and `ts-node` also in the app's `node_modules/.bin`); one not found is an error naming it and the script; `\"node@VERSION\"` is nvm's node of that version (`$NVM_DIR`, else `~/.nvm` of the app's user), else the node of `PATH` with a warning; a warning if it lies under `~/.nvm`, `~/.volta`, `~/.fnm`, `~/.asdf`, `~/.nodenv` or `n`, or in the home of another account than the app's user; `\"none\"` runs the script directly. A Python gets `PYTHONUNBUFFERED=1`, as in PM2; Node the helper's `--node`",
            },
        )
        .validate(|f, dir, app| app.interpreter = typed::interpreter(f, dir))
        .unless_empty(),
        Row::read(
            "node_args",
            &["interpreter_args", "interpreterArgs"],
            Doc {
                default: "none",
                becomes: "arguments between the interpreter and the script; for a program run without interpreter, ignored with a warning, as in PM2",
            },
        )
        .validate(|f, _, app| app.interpreter_args = f.words("node_args").unwrap_or_default())
        .unless_empty(),
    ]
}

/// Its environment and memory.
fn environment() -> Vec<Row> {
    vec![
        Row::read(
            "env",
            &[],
            Doc {
                default: "none",
                becomes: "a line of `APP.env`, the environment file only root reads (`EnvironmentFile=`; see \"Secrets\"), one per variable, sorted; an array or table value becomes its JSON, as in PM2; nothing else is inherited from the shell",
            },
        )
        .validate(|f, _, app| app.env = f.environment("env").unwrap_or_default()),
        Row::read(
            PROFILE_ROW,
            &[],
            Doc {
                default: "none",
                becomes: "with `--env <profile>`, over `env`; a profile no app defines is an error",
            },
        )
        .validate(|f, _, app| app.profiles = typed::profiles(f)),
        Row::read(
            "max_memory_restart",
            &[],
            Doc {
                default: "none",
                becomes: "the helper's `--max-memory` (graceful restart), `MemoryMax=` 1.5 × as a backstop, `RestartForceExitStatus=75`",
            },
        )
        .validate(|f, _, app| app.max_memory_restart = f.bytes("max_memory_restart"))
        .unless_empty()
        .directives(vec![
            Directive::number(
                "Service",
                "RestartForceExitStatus",
                |w| w.force_restart_status,
                |w, status| w.force_restart_status = Some(status),
            ),
            Directive::size("MemoryMax", |w| w.memory_max, |w, max| w.memory_max = Some(max)),
        ])
        .describe(|units| {
            let worker = &units.worker;
            let limit = worker.options.max_memory?;
            let backstop = worker.memory_max.map_or(String::new(), |max| {
                format!("; MemoryMax={} as a backstop", megabytes(max.0))
            });
            Some(format!("{}{backstop}", megabytes(limit)))
        }),
        Row::ignored("pid_file", &["pid"], "systemd tracks the main PID: `systemctl show -p MainPID APP@0`"),
    ]
}

/// Restart delays, and source maps.
fn delays() -> Vec<Row> {
    vec![
        Row::read(
            "restart_delay",
            &[],
            Doc {
                default: "`100ms` (systemd's; PM2's 0 spins)",
                becomes: "`RestartSec=`, and the first delay of quick restarts, which back off (the helper's `--exp-backoff`; see \"Crash loops\"); with `exp_backoff_restart_delay` set too, ignored with a warning, as PM2 ignores it",
            },
        )
        .validate(|f, _, app| {
            // With exp_backoff_restart_delay, which it yields to.
            (app.restart_delay, app.exp_backoff_restart_delay) = typed::restart_delays(f);
        })
        .directives(vec![Directive::duration(
            "Service",
            "RestartSec",
            |w| w.restart_delay,
            |w, delay| w.restart_delay = delay,
        )])
        .describe(|units| Some(duration(units.worker.restart_delay)))
        .unmapped(|units, _| {
            let worker = &units.worker;
            (worker.restart_delay > Duration::ZERO || worker.restart_steps.is_some()).then(|| {
                "restart_delay, max_restarts, min_uptime: the kubelet spaces restarts itself (10s, doubling up to 5 minutes)".to_owned()
            })
        }),
        Row::read(
            "exp_backoff_restart_delay",
            &[],
            Doc {
                default: "none",
                becomes: "systemd ≥ 254: `RestartSec=`, `RestartSteps=`, `RestartMaxDelaySec=15s`; older: the helper's `--exp-backoff`",
            },
        )
        .unless_empty()
        .directives(vec![
            Directive::number(
                "Service",
                "RestartSteps",
                |w| w.restart_steps.map(|s| s.steps),
                |w, steps| {
                    let max_delay = w.restart_steps.map_or(Duration::ZERO, |s| s.max_delay);
                    w.restart_steps = Some(RestartSteps { steps, max_delay });
                },
            ),
            Directive::text(
                "Service",
                "RestartMaxDelaySec",
                |w| w.restart_steps.map(|s| s.max_delay),
                |w, max_delay| {
                    if let Some(steps) = &mut w.restart_steps {
                        steps.max_delay = max_delay;
                    }
                },
                |d| Ok(duration(d)),
                parse_duration,
            ),
        ])
        .describe(|units| match (units.worker.restart_steps, units.worker.options.exp_backoff) {
            (Some(steps), _) => Some(format!(
                "{} steps up to {} (systemd's RestartSteps=)",
                steps.steps,
                duration(steps.max_delay)
            )),
            (None, Some(first)) => Some(format!("from {} (emulated by the helper)", duration(first))),
            (None, None) => None,
        }),
        Row::read(
            "source_map_support",
            &[],
            Doc {
                default: "`false`",
                becomes: "`--enable-source-maps` for Node; for another program, ignored with a warning, as in PM2",
            },
        )
        .validate(|f, _, app| app.source_map_support = typed::source_map_support(f)),
        Row::ignored("disable_source_map_support", &[], "source maps are off unless `source_map_support = true`")
        .pm2_default(Pm2Default::Bool(false)),
    ]
}
