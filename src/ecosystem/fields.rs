//! Typed access to the keys of one TOML table, with every mistake recorded
//! at the place it was made. Keys never read are reported at the end: as a
//! warning for PM2 options that mean nothing under systemd, else as an error.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::document::{Node, Table, Value as V};

use super::diagnostic::Diagnostics;
use super::values::{parse_bytes, parse_duration};
use crate::model::Bytes;

pub type Value = Node;

/// The longest duration an option takes: the units multiply durations (by
/// the instances, by the restarts) into systemd's, which must stay numbers
/// systemd and `units::read` read.
const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);
/// The most bytes a size takes: a memory limit is raised by half for
/// `MemoryMax=`, which must stay a number.
const MAX_BYTES: Bytes = Bytes(1 << 50);

/// What is said of a key nobody read: a message and what to do instead.
pub enum Unread {
    Warning(String, String),
    Error(String, String),
}

pub struct Fields<'t> {
    table: &'t Table,
    read: Vec<&'t str>,
    pub diagnostics: &'t mut Diagnostics,
}

impl<'t> Fields<'t> {
    pub fn new(table: &'t Table, diagnostics: &'t mut Diagnostics) -> Self {
        Fields {
            table,
            read: Vec::new(),
            diagnostics,
        }
    }

    /// The key and its value, marked as read.
    pub fn entry(&mut self, key: &str) -> Option<(Range<usize>, &'t Value)> {
        let (k, v) = self.table.get_key_value(key)?;
        self.read.push(k.get_ref());
        Some((k.span(), v))
    }

    pub fn get(&mut self, key: &str) -> Option<&'t Value> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The keys not read yet, with their spans.
    pub fn unread(&self) -> impl Iterator<Item = (&'t str, Range<usize>, &'t Value)> + '_ {
        self.table
            .iter()
            .filter(|(k, _)| !self.read.contains(&k.get_ref()))
            .map(|(k, v)| (k.get_ref(), k.span(), v))
    }

    /// Says what `judge` makes of each key not read yet, at the key.
    pub fn report_unread(&mut self, judge: impl Fn(&str) -> Unread) {
        let unread: Vec<(String, Range<usize>)> = self
            .unread()
            .map(|(key, span, _)| (key.to_owned(), span))
            .collect();
        for (key, span) in unread {
            match judge(&key) {
                Unread::Warning(message, help) => {
                    self.diagnostics.warning(Some(span), message, help)
                }
                Unread::Error(message, help) => self.diagnostics.error(Some(span), message, help),
            }
        }
    }

    pub fn mark_read(&mut self, key: &'t str) {
        self.read.push(key);
    }

    pub fn wrong(&mut self, key: &str, value: &Value, allowed: &str) {
        self.diagnostics.error(
            Some(value.span()),
            format!("invalid value for `{key}`"),
            format!("allowed: {allowed}"),
        );
    }

    pub fn string(&mut self, key: &str) -> Option<Spanned<String>> {
        let value = self.get(key)?;
        match value.get_ref() {
            V::String(s) => Some(Spanned::new(value.span(), s.to_string())),
            _ => {
                self.wrong(key, value, "a string");
                None
            }
        }
    }

    pub fn bool(&mut self, key: &str) -> Option<bool> {
        let value = self.get(key)?;
        match value.get_ref() {
            V::Boolean(b) => Some(*b),
            _ => {
                self.wrong(key, value, "true or false");
                None
            }
        }
    }

    pub fn integer(&mut self, key: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.get(key)?;
        match integer(value).filter(|n| (min..=max).contains(n)) {
            Some(n) => Some(n),
            None => {
                self.wrong(key, value, &format!("a whole number from {min} to {max}"));
                None
            }
        }
    }

    /// Milliseconds as a number, or a string with units.
    pub fn duration(&mut self, key: &str) -> Option<Spanned<Duration>> {
        let value = self.get(key)?;
        let parsed = match value.get_ref() {
            V::String(s) => parse_duration(s),
            _ => integer(value)
                .and_then(|n| u64::try_from(n).ok())
                .map(Duration::from_millis),
        };
        if parsed.is_none() {
            self.wrong(
                key,
                value,
                "milliseconds as a number (5000), or a string with units: \"8s\", \"500ms\", \"2min\", \"1h\"",
            );
        }
        if parsed.is_some_and(|d| d > MAX_DURATION) {
            self.wrong(key, value, "at most a year, \"365d\"");
            return None;
        }
        parsed.map(|d| Spanned::new(value.span(), d))
    }

    /// Bytes as a number, or a string with a K, M, G or T suffix.
    pub fn bytes(&mut self, key: &str) -> Option<Bytes> {
        let value = self.get(key)?;
        let parsed = match value.get_ref() {
            V::String(s) => parse_bytes(s),
            _ => integer(value)
                .and_then(|n| u64::try_from(n).ok())
                .map(Bytes),
        };
        match parsed.filter(|b| b.0 > 0) {
            Some(b) if b > MAX_BYTES => {
                self.wrong(key, value, "at most 1024T");
                None
            }
            Some(b) => Some(b),
            None => {
                self.wrong(
                    key,
                    value,
                    "bytes as a number, or a string with a K, M, G or T suffix (powers of 1024): \"512M\", \"1G\"",
                );
                None
            }
        }
    }

    /// A list of strings; a single string is split at whitespace, as PM2 does.
    pub fn words(&mut self, key: &str) -> Option<Vec<String>> {
        let value = self.get(key)?;
        match value.get_ref() {
            V::String(s) => Some(s.split_whitespace().map(str::to_owned).collect()),
            V::Array(items) => {
                let words: Option<Vec<String>> = items
                    .iter()
                    .map(|item| item.get_ref().as_str().map(str::to_owned))
                    .collect();
                if words.is_none() {
                    self.wrong(key, value, "a string, or an array of strings");
                }
                words
            }
            _ => {
                self.wrong(
                    key,
                    value,
                    "a string, or an array of strings (one per argument)",
                );
                None
            }
        }
    }

    /// A table of environment variables: values are strings, numbers or booleans.
    pub fn environment(&mut self, key: &str) -> Option<BTreeMap<String, String>> {
        let value = self.get(key)?;
        let Some(table) = value.get_ref().as_table() else {
            self.wrong(key, value, "a table of variables, such as `[apps.env]` or `env = { NODE_ENV = \"production\" }`");
            return None;
        };
        let mut env = BTreeMap::new();
        for (name, value) in table.iter() {
            if !is_variable_name(name.get_ref()) {
                self.diagnostics.error(
                    Some(name.span()),
                    format!(
                        "`{}` cannot be the name of an environment variable",
                        name.get_ref()
                    ),
                    "allowed: letters, digits and `_`, not starting with a digit",
                );
                continue;
            }
            let text = match value.get_ref() {
                V::String(s) => s.to_string(),
                V::Integer(n) => n.to_string(),
                V::Float(f) => f.clone(),
                V::Boolean(b) => b.to_string(),
                _ => {
                    self.diagnostics.error(
                        Some(value.span()),
                        format!(
                            "invalid value for the environment variable `{}`",
                            name.get_ref()
                        ),
                        "allowed: a string, a number or a boolean",
                    );
                    continue;
                }
            };
            if text.contains('\0') {
                self.diagnostics.error(
                    Some(value.span()),
                    "an environment variable cannot contain a NUL character",
                    "",
                );
                continue;
            }
            env.insert(name.get_ref().to_string(), text);
        }
        Some(env)
    }
}

/// The value as a whole number.
pub fn integer(value: &Value) -> Option<i64> {
    match value.get_ref() {
        V::Integer(n) => Some(*n),
        _ => None,
    }
}

pub fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
