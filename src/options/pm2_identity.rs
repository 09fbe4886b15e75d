use super::describe::yes_no;
use super::directive::Directive;
use super::instead::{AGENT, NOT_READ, NO_AGENT};
use super::{Doc, Row};
use crate::ecosystem::keys::Pm2Default;
use crate::ecosystem::places::account;
use crate::ecosystem::typed;

/// PM2's options, third part: each worker's variables and port, who runs
/// the workers, and what PM2 keeps for its agent.
pub(super) fn rows() -> Vec<Row> {
    [identity(), accounts()].into_iter().flatten().collect()
}

/// The variables of each worker, and its port.
fn identity() -> Vec<Row> {
    vec![
        Row::read(
            "increment_var",
            &[],
            Doc {
                default: "none",
                becomes: "the helper's `--increment-var`",
            },
        )
        .validate(|f, _, app| app.increment_var = typed::variable(f, "increment_var"))
        .unless_empty()
        .describe(|units| units.worker.options.increment_var.clone())
        .unmapped(|units, _| {
            let name = units.worker.options.increment_var.as_ref()?;
            Some(format!(
                "increment_var: {name} keeps its value in every pod; pods have addresses of their own"
            ))
        }),
        Row::read(
            "instance_var",
            &[],
            Doc {
                default: "`NODE_APP_INSTANCE`",
                becomes: "`Environment=<var>=%i`",
            },
        )
        .validate(|f, _, app| {
            if let Some(name) = typed::variable(f, "instance_var") {
                app.instance_var = name;
            }
        })
        .unless_empty()
        .describe(|units| Some(units.worker.instance_var.clone())),
        Row::read(
            "pmx",
            &[],
            Doc {
                default: "`true`",
                becomes: "for Node apps, runtime metrics from inside each process instead of PM2's `@pm2/io` agent: the preload publishes heap, event-loop delay, active handles and HTTP requests with their latency to the runtime directory for `metrics`, `describe` and `monit` (`nodeunits metrics`, \"Runtime metrics\"); `false`: the helper's `--no-runtime-metrics`",
            },
        )
        .validate(|f, _, app| app.pmx = f.bool("pmx").unwrap_or(true))
        .describe(|units| Some(yes_no(units.worker.options.runtime_metrics)))
        .pm2_default(Pm2Default::Bool(true)),
        Row::ignored("automation", &[], AGENT)
        .pm2_default(Pm2Default::Bool(true)),
        Row::ignored("treekill", &[], "systemd always stops the whole process tree (KillMode=mixed)")
        .pm2_default(Pm2Default::Bool(true)),
        Row::read(
            "port",
            &[],
            Doc {
                default: "none",
                becomes: "`PORT=…` in `APP.env`; without `listen`, `ListenStream=<port>` (all addresses)",
            },
        )
        .validate(|f, _, app| app.port = typed::port(f))
        .unless_empty(),
        Row::ignored("username", &[], "PM2 overwrites it with its own user; `uid` chooses the user the app runs as"),
    ]
}

/// Who runs the workers, and what PM2 keeps for its agent.
fn accounts() -> Vec<Row> {
    vec![
        Row::read(
            "uid",
            &["user"],
            Doc {
                default:
                    "the owner of the ecosystem file (system manager; see \"Who runs the app\")",
                becomes:
                    "`User=` (system manager only); `\"root\"` runs the app as root on purpose",
            },
        )
        .validate(|f, _, app| app.user = account(f, "uid"))
        .directives(vec![Directive::name(
            "User",
            |w| w.user.as_ref(),
            |w, user| w.user = Some(user),
        )])
        .describe(|units| units.worker.user.clone()),
        Row::read(
            "gid",
            &["group"],
            Doc {
                default: "the manager's",
                becomes: "`Group=` (system manager only)",
            },
        )
        .validate(|f, _, app| app.group = account(f, "gid"))
        .directives(vec![Directive::name(
            "Group",
            |w| w.group.as_ref(),
            |w, group| w.group = Some(group),
        )])
        .describe(|units| units.worker.group.clone()),
        Row::ignored("windowsHide", &[], "it applies to Windows only")
            .pm2_default(Pm2Default::Bool(true)),
        Row::ignored(
            "kill_retry_time",
            &[],
            "systemd sends SIGKILL once TimeoutStopSec= (kill_timeout) has passed",
        )
        .pm2_default(Pm2Default::Number(100)),
        Row::ignored("write", &[], NOT_READ),
        Row::ignored("io", &[], NO_AGENT),
    ]
}
