//! `describe`'s text: the app, its instances, its options, and commands
//! that show more.

use std::fmt::Write;

use super::instance::ago;
use super::Description;
use crate::cli::status::{memory, uptime};
use crate::systemd::runtime_stats::{RuntimeStats, PUBLISH_EVERY};

/// The app's name, then a section each: the app, its instances, its
/// options, commands that show more.
pub(super) fn text(d: &Description) -> String {
    let title = match &d.pm2_name {
        Some(pm2_name) => format!("{pm2_name} (its units: {})", d.app),
        None => d.app.to_string(),
    };
    let mut out = format!("{title}\n{}", summary(d));
    out += "\ninstances\n";
    instances(d, &mut out);
    out += "\noptions (from the installed units)\n";
    options(d, &mut out);
    out += "\nmore\n";
    for command in &d.commands {
        let _ = writeln!(out, "  {command}");
    }
    out
}

/// The app: its file, units, socket, logs and last reload, a labelled line each.
fn summary(d: &Description) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| {
        let _ = writeln!(out, "  {label:<20} {value}");
    };
    line("ecosystem file", &d.source.display().to_string());
    line(
        "profile",
        d.profile
            .as_deref()
            .map_or("none (applied without --env)", |p| p),
    );
    line("manager", d.scope.flag());
    for (i, unit) in d.units.iter().enumerate() {
        let state = format!(
            "{:<24} {} ({}), {}",
            unit.unit, unit.state, unit.sub_state, unit.file_state
        );
        line(if i == 0 { "units" } else { "" }, &state);
    }
    line("worker template", &d.app.units().template());
    match &d.socket {
        Some(socket) => {
            let refused = socket
                .refused
                .map_or(String::new(), |n| format!(", {n} refused"));
            line(
                "listen",
                &format!(
                    "{} ({} accepted by systemd, {} open{refused})",
                    socket.listen.join(" "),
                    socket.accepted,
                    socket.connections
                ),
            );
        }
        None => line("listen", "no socket unit: the app binds its ports itself"),
    }
    line("stdout", &d.logs.stdout);
    line("stderr", &d.logs.stderr);
    if let Some(reload) = &d.last_reload {
        let outcome = if reload.succeeded {
            "every instance came back"
        } else {
            "stopped at an instance that did not come back"
        };
        let at = ago((reload.started_at * 1e6) as u64);
        line(
            "last reload",
            &format!(
                "{at}, {} instances in {:.1}s, {outcome}",
                reload.instances, reload.duration_seconds
            ),
        );
    }
    out
}

/// Each instance: its status, its last restart, and how its last run ended
/// when it failed.
fn instances(d: &Description, out: &mut String) {
    for instance in &d.instances {
        let s = &instance.status;
        let pid = if s.pid == 0 {
            "-".to_owned()
        } else {
            s.pid.to_string()
        };
        let _ = writeln!(
            out,
            "  {}  {} ({})  pid {pid}  up {}  restarts {}  cpu {}  memory {}",
            s.unit,
            s.state,
            s.sub_state,
            s.uptime_secs.map_or("-".into(), uptime),
            s.restarts,
            s.cpu_nsec
                .map_or("-".into(), |ns| format!("{:.1}s", ns as f64 / 1e9)),
            s.memory_bytes.map_or("-".into(), memory),
        );
        let last = match &instance.last_restart {
            Some(last) => format!("{}, {}", last.summary, ago(last.at_usec)),
            None => "none this boot".to_owned(),
        };
        let _ = writeln!(out, "    last restart: {last}");
        if let Some(runtime) = &s.runtime {
            let _ = writeln!(out, "    inside: {}", inside(runtime));
        }
        if instance.status.result != "success" {
            let how = instance.exec_main_code.unwrap_or("ended");
            let _ = writeln!(
                out,
                "    last run: Result={}, {how} with status {}",
                instance.status.result, instance.exec_main_status
            );
        }
    }
    if let Some(note) = &d.journal_note {
        let _ = writeln!(out, "  (restart reasons unknown: {note})");
    }
}

/// What the worker's Node process last published about itself.
pub(crate) fn inside(r: &RuntimeStats) -> String {
    let mut words = format!(
        "heap {} used of {}",
        memory(r.heap.used),
        memory(r.heap.total)
    );
    if let Some(delay) = r.loop_delay {
        let _ = write!(
            words,
            ", event loop delay p50 {:.1} ms p99 {:.1} ms",
            delay.p50, delay.p99
        );
    }
    if let Some(handles) = r.handles {
        let _ = write!(words, ", {handles} handles");
    }
    let http = &r.http;
    let _ = write!(words, ", {} HTTP requests", http.total());
    if http.total() > 0 {
        let _ = write!(words, " ({:.1}/s", r.requests_per_second());
        if let Some(p95) = http.window.p95 {
            let _ = write!(words, ", p95 {p95:.1} ms");
        }
        words.push(')');
    }
    let age = r.age_seconds();
    if age > 3.0 * PUBLISH_EVERY.as_secs_f64() {
        let _ = write!(
            words,
            "; last published {age:.0}s ago: its event loop may be stuck"
        );
    }
    words
}

/// The effective options, then the environment, masked without `--show-env`.
fn options(d: &Description, out: &mut String) {
    for effective in &d.options {
        let _ = writeln!(out, "  {:<26} {}", effective.option, effective.value);
    }
    let env: Vec<String> = d
        .environment
        .iter()
        .map(|(name, value)| format!("{name}={}", value.as_deref().unwrap_or("****")))
        .collect();
    let masked = d.environment.values().any(Option::is_none);
    let _ = writeln!(
        out,
        "  {:<26} {}{}",
        "env",
        if env.is_empty() {
            "none".to_owned()
        } else {
            env.join(" ")
        },
        match (masked, d.show_env) {
            (false, _) => "",
            (true, false) => "  (values masked: --show-env shows them)",
            (true, true) => "  (values unknown: only root and the app's user may read them)",
        }
    );
}
