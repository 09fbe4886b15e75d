use std::num::NonZeroU32;

use toml::Spanned;

use super::directive::Directive;
use super::instead::{NOT_READ, NO_AGENT};
use super::{describe::*, Doc, Row};
use crate::ecosystem::keys::Pm2Default;
use crate::ecosystem::settings::defaults;
use crate::ecosystem::typed;
use crate::ecosystem::values::Instances;
use crate::model::LogTarget;
use crate::units::format::duration;

/// PM2's options, second part: how many workers, how they start and stop,
/// and when they restart.
pub(super) fn rows() -> Vec<Row> {
    [readiness(), stopping(), starting(), exits(), restarts()]
        .into_iter()
        .flatten()
        .collect()
}

/// How many workers, when each is ready, how long it may drain.
fn readiness() -> Vec<Row> {
    vec![
        Row::read(
            "wait_ready",
            &[],
            Doc {
                default: "`false`",
                becomes: "the helper's `--wait-ready`: ready on `process.send('ready')`",
            },
        )
        .validate(|f, _, app| app.wait_ready = f.bool("wait_ready").unwrap_or(false))
        .describe(|units| Some(yes_no(units.worker.options.wait_ready))),
        Row::read(
            "instances",
            &[],
            Doc {
                default: "`1`",
                becomes: "how many `app@N` workers: a number up to 1024, `\"max\"` or `0` (one per CPU), `-n` (CPUs − n, at least 1); evaluated when rendering",
            },
        )
        .validate(|f, _, app| {
            app.instances = typed::instances(f).unwrap_or(Instances::Count(NonZeroU32::MIN));
        })
        .describe(|units| {
            Some(if units.scaled {
                format!("{} (set by `nodeunits scale`)", units.instances)
            } else {
                units.instances.to_string()
            })
        }),
        Row::read(
            "kill_timeout",
            &[],
            Doc {
                default: "`1600`",
                becomes: "`TimeoutStopSec=` and the helper's `--kill-timeout`",
            },
        )
        .validate(|f, _, app| {
            app.kill_timeout = typed::positive(f, "kill_timeout").unwrap_or(defaults::KILL_TIMEOUT);
        })
        .unless_empty()
        .directives(vec![Directive::duration(
            "Service",
            "TimeoutStopSec",
            |w| w.stop_timeout,
            |w, timeout| w.stop_timeout = timeout,
        )])
        .describe(|units| Some(duration(units.worker.stop_timeout))),
    ]
}

/// How workers stop, and their cron restart.
fn stopping() -> Vec<Row> {
    vec![
        Row::read(
            "shutdown_with_message",
            &[],
            Doc {
                default: "`false`",
                becomes: "the helper's `--shutdown-with-message`",
            },
        )
        .validate(|f, _, app| {
            app.shutdown_with_message = f.bool("shutdown_with_message").unwrap_or(false);
        })
        .describe(|units| Some(yes_no(units.worker.options.shutdown_with_message))),
        Row::read(
            "listen_timeout",
            &[],
            Doc {
                default: "`30s` (PM2's 3 s carries on as if ready; systemd fails the start)",
                becomes: "`TimeoutStartSec=`",
            },
        )
        .validate(|f, _, app| {
            app.listen_timeout =
                typed::positive(f, "listen_timeout").unwrap_or(defaults::LISTEN_TIMEOUT);
        })
        .unless_empty()
        .directives(vec![Directive::duration(
            "Service",
            "TimeoutStartSec",
            |w| w.start_timeout,
            |w, timeout| w.start_timeout = timeout,
        )])
        .describe(|units| Some(duration(units.worker.start_timeout))),
        Row::read(
            "cron_restart",
            &["cron"],
            Doc {
                default: "none",
                becomes: "`app-cron.timer` `OnCalendar=`: 5 or 6 fields (seconds first), ranges, lists, steps, names, `@daily` …; a rolling reload, not a hard restart; `\"0\"` means none, as in PM2",
            },
        )
        .validate(|f, _, app| app.cron_restart = typed::cron_restart(f))
        .unless_empty()
        .describe(|units| {
            let cron = units.cron.as_ref()?;
            Some(format!("OnCalendar={}", cron.on_calendar))
        }),
        Row::read(
            "merge_logs",
            &["combine_logs"],
            Doc {
                default: "`true` for the one process of a fork-mode app, else `false` (PM2's)",
                becomes: "`false`: each worker appends to a file of its own, as PM2 names them: `out.log` (or `out-3.log`) becomes `out-%i.log`, `out-0.log`, `out-1.log`… (`StandardOutput=append:…-%i.log`), for `out_file`, `error_file` and `log_file`; a name not ending in `.log` stays shared, as in PM2; `true`: one file for every worker; the journal is one stream per worker either way",
            },
        )
        .validate(|f, _, app| app.merge_logs = f.bool("merge_logs"))
        .describe(|units| {
            let worker = &units.worker;
            let split = [&worker.standard_output, &worker.standard_error]
                .iter()
                .any(|target| matches!(target, Some(LogTarget::PerWorker(_))));
            split.then(|| "false: one file per worker".to_owned())
        }),
        Row::ignored("vizion", &[], "no version metadata is collected")
        .pm2_default(Pm2Default::Bool(true)),
    ]
}

/// Whether the app starts, and its workers restart.
fn starting() -> Vec<Row> {
    vec![
        Row::read(
            "autostart",
            &[],
            Doc {
                default: "`true`",
                becomes: "`false`: apply installs the units but neither enables nor starts them (`X-Nodeunits-Autostart=no` in the app unit), as PM2 installs such an app without starting it; `nodeunits start APP` starts it; it never starts at boot",
            },
        )
        .validate(|f, _, app| app.autostart = f.bool("autostart").unwrap_or(true))
        .directives(vec![Directive::app_flag(
            "X-Nodeunits-Autostart",
            |app| app.autostart,
            |app, autostart| app.autostart = autostart,
        )])
        .describe(|units| Some(yes_no(units.autostart)))
        .unmapped(|units, _| {
            (!units.autostart).then(|| {
                "autostart = false: the pods start once applied; apply them when the app should run".to_owned()
            })
        }),
        Row::read(
            "autorestart",
            &[],
            Doc {
                default: "`true`",
                becomes: "`Restart=always` / `Restart=no`",
            },
        )
        .validate(|f, _, app| app.autorestart = f.bool("autorestart").unwrap_or(true))
        .directives(vec![Directive::custom(
            "Service",
            "Restart",
            |w| Some(if w.restart { "always" } else { "no" }.to_owned()),
            |w, value| {
                w.restart = match value {
                    "always" => true,
                    "no" => false,
                    _ => return None,
                };
                Some(())
            },
        )
        .required()])
        .describe(|units| Some(yes_no(units.worker.restart)))
        .unmapped(|units, _| {
            (!units.worker.restart)
                .then(|| "autorestart = false: Kubernetes restarts every pod that exits".to_owned())
        }),
    ]
}

/// The exit statuses that stop restarts; nothing watches files.
fn exits() -> Vec<Row> {
    vec![Row::read(
        "stop_exit_codes",
        &[],
        Doc {
            default: "none",
            becomes: "`RestartPreventExitStatus=`",
        },
    )
    .validate(|f, _, app| app.stop_exit_codes = typed::stop_exit_codes(f))
    .directives(vec![Directive::custom(
        "Service",
        "RestartPreventExitStatus",
        |w| (!w.stop_exit_codes.is_empty()).then(|| exit_codes(&w.stop_exit_codes)),
        |w, value| {
            let codes = value.split_whitespace().map(|c| c.parse().ok());
            w.stop_exit_codes = codes.collect::<Option<_>>()?;
            Some(())
        },
    )])
    .describe(|units| {
        let codes = &units.worker.stop_exit_codes;
        (!codes.is_empty()).then(|| exit_codes(codes))
    })
    .unmapped(|units, _| {
        (!units.worker.stop_exit_codes.is_empty()).then(|| {
            "stop_exit_codes: Kubernetes restarts a pod whatever its exit status".to_owned()
        })
    })]
    .into_iter()
    .chain(super::pm2_watch::rows())
    .collect()
}

/// How often workers may restart, and the mode they run in.
fn restarts() -> Vec<Row> {
    vec![
        Row::read(
            "min_uptime",
            &[],
            Doc {
                default: "`1000`",
                becomes: "with `max_restarts`: `StartLimitIntervalSec=` = the sum, over max_restarts restarts, of min_uptime + the delay before each (see \"Crash loops\"); a reload moves on to the next worker once its successor has been up min_uptime (at most listen_timeout), and stops at a successor that ends sooner (the helper's `--min-uptime`)",
            },
        )
        .validate(|f, _, app| {
            let uptime = f.duration("min_uptime");
            app.min_uptime = uptime.map_or(defaults::MIN_UPTIME, Spanned::into_inner);
        })
        .unless_empty()
        .directives(vec![Directive::duration(
            "Unit",
            "StartLimitIntervalSec",
            |w| w.start_limit_interval,
            |w, interval| w.start_limit_interval = interval,
        )]),
        Row::read(
            "max_restarts",
            &[],
            Doc {
                default: "`16`",
                becomes: "`StartLimitBurst=`",
            },
        )
        .validate(|f, _, app| {
            let restarts = f.integer("max_restarts", 1, i64::from(u32::MAX));
            if let Some(restarts) = restarts.and_then(|n| NonZeroU32::new(n as u32)) {
                app.max_restarts = restarts;
            }
        })
        .unless_empty()
        .directives(vec![Directive::number(
            "Unit",
            "StartLimitBurst",
            |w| Some(w.start_limit_burst),
            |w, burst| w.start_limit_burst = burst,
        )
        .required()])
        .describe(|units| {
            let worker = &units.worker;
            Some(format!(
                "{} within {}",
                worker.start_limit_burst,
                duration(worker.start_limit_interval)
            ))
        }),
        Row::ignored("execute_command", &[], "it only forces PM2's fork mode, and workers run the same in either mode"),
        Row::read(
            "exec_mode",
            &[],
            Doc {
                default: "`\"cluster\"` for a Node app with `instances`, else `\"fork\"` (as PM2)",
                becomes: "`fork` or `cluster` (or `fork_mode`, `cluster_mode`); both run `instances` workers; in cluster mode a Node app's `PORT` becomes the shared socket, and every port its code listens on is shared by the workers (see \"Ports\")",
            },
        )
        .validate(|f, _, app| app.exec_mode = typed::exec_mode(f))
        .unless_empty(),
        Row::ignored("force", &[], "an app is a set of units; apply replaces them")
        .pm2_default(Pm2Default::Bool(false)),
        Row::ignored("append_env_to_name", &[], "unit names are the app's name; select the profile with --env")
        .pm2_default(Pm2Default::Bool(false)),
        Row::ignored("post_update", &[], "deployment is not part of nodeunits"),
        Row::ignored("trace", &[], NO_AGENT)
        .pm2_default(Pm2Default::Bool(false)),
        Row::ignored("disable_trace", &[], NO_AGENT)
        .pm2_default(Pm2Default::Bool(true)),
        Row::ignored("v8", &[], NOT_READ),
        Row::ignored("event_loop_inspector", &[], NOT_READ),
        Row::ignored("deep_monitoring", &[], NO_AGENT),
    ]
}
