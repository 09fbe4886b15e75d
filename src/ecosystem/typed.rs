//! The options whose values take more than one check: instance counts,
//! profiles, variable names, exit statuses, timeouts, restart delays, the
//! interpreter, the mode, the port, the cron schedule.

use std::time::Duration;

use toml::Spanned;

use std::path::Path;

use super::cron;
use super::document::Value as V;
use super::fields::{integer, is_variable_name, Fields};
use super::findings::{Allowed, OptionFinding};
use super::places::normalize;
use super::settings::{ExecMode, Interpreter};
use super::values::Instances;
use crate::model::defaults::MAX_INSTANCES;

/// A namespace is written as is into `X-Nodeunits-Namespace=`, which
/// systemd does not unescape: it takes the characters of an app name.
pub(crate) fn namespace(fields: &mut Fields) -> Option<String> {
    let namespace = fields.string("namespace")?;
    match crate::model::name::check(namespace.get_ref()) {
        Ok(()) => Some(namespace.into_inner()),
        Err(why) => {
            let allowed = Allowed::Name(why.said_of("a namespace"));
            let key = "namespace".to_owned();
            let finding = OptionFinding::InvalidValue { key, allowed };
            fields.diagnostics.report(Some(namespace.span()), finding);
            None
        }
    }
}

pub(crate) fn instances(fields: &mut Fields) -> Option<Instances> {
    let value = fields.get("instances")?;
    let number = match value.get_ref() {
        V::String(s) if s == "max" => return Some(Instances::Max),
        V::String(s) => s.trim().parse().ok(),
        _ => integer(value),
    };
    let parsed = number.and_then(Instances::parse);
    if parsed.is_none() {
        fields.wrong("instances", value, Allowed::Instances);
    }
    if matches!(parsed, Some(Instances::Count(n)) if n.get() > MAX_INSTANCES) {
        fields.wrong("instances", value, Allowed::AtMostInstances);
        return None;
    }
    parsed
}

pub(crate) fn profiles(
    fields: &mut Fields,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    let keys: Vec<(&str, std::ops::Range<usize>, bool)> = fields
        .unread()
        .filter(|(k, _, _)| k.starts_with("env_") && !fields.is_option(k))
        .map(|(k, span, value)| (k, span, value.get_ref().is_table()))
        .collect();
    let mut profiles = std::collections::BTreeMap::new();
    for (key, span, table) in keys {
        if !table {
            fields.mark_read(key);
            let finding = OptionFinding::ProfileNotATable {
                key: key.to_owned(),
            };
            fields.diagnostics.report(Some(span), finding);
            continue;
        }
        let profile = &key["env_".len()..];
        if profile.is_empty()
            || !profile
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            fields.mark_read(key);
            let finding = OptionFinding::NotAProfile {
                key: key.to_owned(),
            };
            fields.diagnostics.report(Some(span), finding);
            continue;
        }
        if let Some(env) = fields.environment(key) {
            profiles.insert(profile.to_owned(), env);
        }
    }
    profiles
}

pub(crate) fn inherit_env(fields: &mut Fields) -> Vec<Spanned<String>> {
    let Some(value) = fields.get("inherit_env") else {
        return Vec::new();
    };
    let Some(items) = value.get_ref().as_array() else {
        fields.wrong("inherit_env", value, Allowed::VariableNameArray);
        return Vec::new();
    };
    let mut names = Vec::new();
    for item in items {
        match item.get_ref().as_str() {
            Some(name) if is_variable_name(name) => {
                names.push(Spanned::new(item.span(), name.to_owned()))
            }
            _ => fields.wrong("inherit_env", item, Allowed::VariableNames),
        }
    }
    names
}

pub(crate) fn stop_exit_codes(fields: &mut Fields) -> Vec<u8> {
    let mut codes = Vec::new();
    for item in fields.one_or_many("stop_exit_codes") {
        match integer(item).and_then(|n| u8::try_from(n).ok()) {
            Some(code) => codes.push(code),
            None => fields.wrong("stop_exit_codes", item, Allowed::ExitStatuses),
        }
    }
    codes.sort_unstable();
    codes.dedup();
    codes
}

pub(crate) fn positive(fields: &mut Fields, key: &str) -> Option<Duration> {
    let duration = fields.duration(key)?;
    if duration.get_ref().is_zero() {
        let key = fields.spelling(key).to_owned();
        fields
            .diagnostics
            .report(Some(duration.span()), OptionFinding::ZeroTimeout { key });
        return None;
    }
    Some(duration.into_inner())
}

pub(crate) fn variable(fields: &mut Fields, key: &str) -> Option<String> {
    let name = fields.string(key)?;
    if !is_variable_name(name.get_ref()) {
        let finding = OptionFinding::NotAVariableName {
            name: name.get_ref().clone(),
        };
        fields.diagnostics.report(Some(name.span()), finding);
        return None;
    }
    Some(name.into_inner())
}

/// `restart_delay` and `exp_backoff_restart_delay`. With both, the backoff
/// wins, as in PM2, whose `God.handleExit` overwrites the fixed delay.
pub(crate) fn restart_delays(fields: &mut Fields) -> (Option<Duration>, Option<Duration>) {
    let fixed = fields.duration("restart_delay");
    let backoff = fields.duration("exp_backoff_restart_delay");
    if let (Some(fixed), Some(backoff)) = (&fixed, &backoff) {
        let (fixed_key, backoff_key) = (
            fields.spelling("restart_delay").to_owned(),
            fields.spelling("exp_backoff_restart_delay").to_owned(),
        );
        let finding = OptionFinding::FixedDelayIgnored {
            fixed: fixed_key,
            backoff: backoff_key,
            first_ms: backoff.get_ref().as_millis(),
        };
        fields.diagnostics.report(Some(fixed.span()), finding);
    }
    let backoff = backoff.map(Spanned::into_inner);
    (
        fixed.map(Spanned::into_inner).filter(|_| backoff.is_none()),
        backoff,
    )
}

/// `exec_interpreter`: `"none"`, a path (relative to `dir`), or a command.
pub(crate) fn interpreter(fields: &mut Fields, dir: &Path) -> Interpreter {
    match fields.string("exec_interpreter") {
        Some(s) if s.get_ref() == "none" => Interpreter::None,
        Some(s) if s.get_ref().contains('/') => {
            let path = normalize(&dir.join(s.get_ref()));
            Interpreter::Program(Spanned::new(s.span(), path.to_string_lossy().into_owned()))
        }
        Some(s) => Interpreter::Program(s),
        None => Interpreter::ByExtension,
    }
}

/// `source_map_support`, with its place for the warnings about it.
pub(crate) fn source_map_support(fields: &mut Fields) -> Option<Spanned<bool>> {
    let span = fields.get("source_map_support").map(|v| v.span());
    let value = fields.bool("source_map_support");
    value.zip(span).map(|(b, span)| Spanned::new(span, b))
}

/// `exec_mode`, or PM2's choice when only `instances` is written.
pub(crate) fn exec_mode(fields: &mut Fields) -> ExecMode {
    match fields.get("exec_mode") {
        Some(mode) => match mode.get_ref().as_str() {
            Some("cluster" | "cluster_mode") => ExecMode::Cluster,
            Some("fork" | "fork_mode") => ExecMode::Fork,
            _ => {
                fields.wrong("exec_mode", mode, Allowed::ExecMode);
                ExecMode::Fork
            }
        },
        None if fields.get("instances").is_some() => ExecMode::ClusterIfNode,
        None => ExecMode::Fork,
    }
}

pub(crate) fn port(fields: &mut Fields) -> Option<Spanned<u16>> {
    let value = fields.get("port")?;
    let port = integer(value)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|&p| p > 0);
    if port.is_none() {
        fields.wrong("port", value, Allowed::Port);
    }
    port.map(|p| Spanned::new(value.span(), p))
}

/// `cron_restart` in `OnCalendar=` syntax; `"0"` is PM2's "none".
pub(crate) fn cron_restart(fields: &mut Fields) -> Option<String> {
    let expr = fields.string("cron_restart")?;
    if expr.get_ref() == "0" {
        return None;
    }
    cron::to_on_calendar(expr.get_ref())
        .map_err(|why| {
            let key = fields.spelling("cron_restart").to_owned();
            let why = why.to_string();
            let finding = OptionFinding::NoTimer { key, why };
            fields.diagnostics.report(Some(expr.span()), finding)
        })
        .ok()
}
