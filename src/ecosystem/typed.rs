//! The options whose values take more than one check: instance counts,
//! profiles, variable names, exit statuses, timeouts, restart delays.

use std::time::Duration;

use toml::Spanned;

use super::document::Value as V;
use super::fields::{integer, is_variable_name, Fields};
use super::settings::defaults;
use super::values::Instances;

/// A namespace is written as is into `X-Nodeunits-Namespace=`, which
/// systemd does not unescape: it takes the characters of an app name.
pub(super) fn namespace(fields: &mut Fields) -> Option<String> {
    let namespace = fields.string("namespace")?;
    match crate::model::name::check(namespace.get_ref()) {
        Ok(()) => Some(namespace.into_inner()),
        Err(why) => {
            let allowed = format!("allowed: {}", why.said_of("a namespace"));
            fields.diagnostics.error(
                Some(namespace.span()),
                "invalid value for `namespace`",
                allowed,
            );
            None
        }
    }
}

pub(super) fn instances(fields: &mut Fields) -> Option<Instances> {
    let value = fields.get("instances")?;
    let number = match value.get_ref() {
        V::String(s) if s == "max" => return Some(Instances::Max),
        V::String(s) => s.trim().parse().ok(),
        _ => integer(value),
    };
    let parsed = number.and_then(Instances::parse);
    if parsed.is_none() {
        fields.wrong("instances", value, "a number of workers (4), \"max\" or 0 for one per CPU, or a negative number for the CPU count minus that many (at least 1)");
    }
    parsed
}

pub(super) fn profiles(
    fields: &mut Fields,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    let keys: Vec<(&str, std::ops::Range<usize>)> = fields
        .unread()
        .filter(|(k, _, _)| k.starts_with("env_") && !fields.is_option(k))
        .map(|(k, span, _)| (k, span))
        .collect();
    let mut profiles = std::collections::BTreeMap::new();
    for (key, span) in keys {
        let profile = &key["env_".len()..];
        if profile.is_empty()
            || !profile
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            fields.mark_read(key);
            fields.diagnostics.error(
                Some(span),
                format!("`{key}` is not a valid profile"),
                "allowed: `env_` followed by letters, digits, `_` or `-`, such as `env_production`",
            );
            continue;
        }
        if let Some(env) = fields.environment(key) {
            profiles.insert(profile.to_owned(), env);
        }
    }
    profiles
}

pub(super) fn inherit_env(fields: &mut Fields) -> Vec<Spanned<String>> {
    let Some(value) = fields.get("inherit_env") else {
        return Vec::new();
    };
    let Some(items) = value.get_ref().as_array() else {
        fields.wrong(
            "inherit_env",
            value,
            "an array of variable names, such as [\"PATH\", \"HOME\"]",
        );
        return Vec::new();
    };
    let mut names = Vec::new();
    for item in items {
        match item.get_ref().as_str() {
            Some(name) if is_variable_name(name) => {
                names.push(Spanned::new(item.span(), name.to_owned()))
            }
            _ => fields.wrong(
                "inherit_env",
                item,
                "names of environment variables: letters, digits and `_`",
            ),
        }
    }
    names
}

pub(super) fn stop_exit_codes(fields: &mut Fields) -> Vec<u8> {
    let mut codes = Vec::new();
    for item in fields.one_or_many("stop_exit_codes") {
        match integer(item).and_then(|n| u8::try_from(n).ok()) {
            Some(code) => codes.push(code),
            None => fields.wrong(
                "stop_exit_codes",
                item,
                "exit statuses from 0 to 255, one or an array",
            ),
        }
    }
    codes.sort_unstable();
    codes.dedup();
    codes
}

pub(super) fn positive(fields: &mut Fields, key: &str) -> Option<Duration> {
    let duration = fields.duration(key)?;
    if duration.get_ref().is_zero() {
        let key = fields.spelling(key).to_owned();
        fields.diagnostics.error(
            Some(duration.span()),
            format!("`{key}` cannot be 0"),
            "systemd reads 0 as \"no timeout\"; give a duration such as \"5s\"",
        );
        return None;
    }
    Some(duration.into_inner())
}

pub(super) fn variable(fields: &mut Fields, key: &str) -> Option<String> {
    let name = fields.string(key)?;
    if !is_variable_name(name.get_ref()) {
        fields.diagnostics.error(
            Some(name.span()),
            format!(
                "`{}` cannot be the name of an environment variable",
                name.get_ref()
            ),
            "allowed: letters, digits and `_`, not starting with a digit",
        );
        return None;
    }
    Some(name.into_inner())
}

/// `restart_delay` and `exp_backoff_restart_delay`. With both, the backoff
/// wins, as in PM2, whose `God.handleExit` overwrites the fixed delay.
pub(super) fn restart_delays(fields: &mut Fields) -> (Option<Duration>, Option<Duration>) {
    let fixed = fields.duration("restart_delay");
    let backoff = fields.duration("exp_backoff_restart_delay");
    if let (Some(fixed), Some(backoff)) = (&fixed, &backoff) {
        let (fixed_key, backoff_key) = (
            fields.spelling("restart_delay").to_owned(),
            fields.spelling("exp_backoff_restart_delay").to_owned(),
        );
        fields.diagnostics.warning(
            Some(fixed.span()),
            format!("`{fixed_key}` is ignored: `{backoff_key}` is set"),
            format!(
                "PM2 ignores the fixed delay when both are set, and so does nodeunits: a restart waits {} ms, then 1.5 times longer each time, up to {} s",
                backoff.get_ref().as_millis(),
                defaults::MAX_BACKOFF.as_secs()
            ),
        );
    }
    let backoff = backoff.map(Spanned::into_inner);
    (
        fixed.map(Spanned::into_inner).filter(|_| backoff.is_none()),
        backoff,
    )
}
