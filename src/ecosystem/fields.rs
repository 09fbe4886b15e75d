//! Typed access to the keys of one table, with every mistake recorded at the
//! place it was made. An option is read under whichever of its spellings is
//! set (the table of `keys`); keys never read are reported at the end.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::document::{Key, Node, Table, Value as V};

use super::diagnostic::Diagnostics;
use super::findings::{Allowed, OptionFinding};
use super::keys::{self, Handling, Known};
use super::values::{json, parse_bytes, parse_pm2_duration, split_args};
use crate::model::Bytes;

pub type Value = Node;

/// The longest duration an option takes: the units multiply durations (by
/// the instances, by the restarts) into systemd's, which must stay numbers
/// systemd and `units::read` read.
const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);
/// The most bytes a size takes: a memory limit is raised by half for
/// `MemoryMax=`, which must stay a number.
const MAX_BYTES: Bytes = Bytes(1 << 50);

type Entry<'t> = (&'t Key, &'t Value);

pub struct Fields<'t> {
    table: &'t Table,
    /// The keys the table may hold.
    known: &'static [Known],
    read: Vec<&'t str>,
    /// Each option looked up so far, and the entry that sets it.
    resolved: Vec<(String, Option<Entry<'t>>)>,
    pub diagnostics: &'t mut Diagnostics,
}

impl<'t> Fields<'t> {
    pub fn new(
        table: &'t Table,
        known: &'static [Known],
        diagnostics: &'t mut Diagnostics,
    ) -> Self {
        Fields {
            table,
            known,
            read: Vec::new(),
            resolved: Vec::new(),
            diagnostics,
        }
    }

    /// The key and the value of `option` (its canonical name, or an
    /// `env_<profile>` key), marked as read with every other spelling of it.
    pub fn entry(&mut self, option: &str) -> Option<(Range<usize>, &'t Value)> {
        if let Some((_, entry)) = self.resolved.iter().find(|(o, _)| o == option) {
            return entry.map(|(k, v)| (k.span(), v));
        }
        let entry = self.resolve(option);
        self.resolved.push((option.to_owned(), entry));
        entry.map(|(k, v)| (k.span(), v))
    }

    /// The spelling of `option` that is set. When several are, the first in
    /// PM2's order that is not false, 0 or empty wins, as in PM2, and each
    /// other one is a warning. `null` is not set.
    fn resolve(&mut self, option: &str) -> Option<Entry<'t>> {
        let Some(known) = keys::find(self.known, option) else {
            debug_assert!(option.starts_with("env_"), "`{option}` is not in the table");
            let (key, value) = self.table.get_key_value(option)?;
            self.read.push(key.get_ref());
            return Some((key, value));
        };
        debug_assert_eq!(known.name, option, "an option is read by its name");
        let set: Vec<Entry<'t>> = known
            .spellings()
            .iter()
            .filter_map(|spelling| self.table.get_key_value(spelling))
            .collect();
        self.read.extend(set.iter().map(|(key, _)| key.get_ref()));
        let set: Vec<Entry<'t>> = set
            .into_iter()
            .filter(|(_, value)| *value.get_ref() != V::Null)
            .collect();
        let (key, value) = set
            .iter()
            .find(|(_, value)| !falsy(value))
            .or(set.first())
            .copied()?;
        for (other, _) in set.iter().filter(|(other, _)| other.span != key.span) {
            self.spelling_ignored(known, other, key);
        }
        let empty =
            matches!(value.get_ref(), V::Integer(0)) || value.get_ref().as_str() == Some("");
        if known.handling == Handling::ReadUnlessEmpty && empty {
            let what = if value.get_ref().as_str().is_some() {
                "empty"
            } else {
                "0"
            };
            let key = key.get_ref().to_string();
            let finding = OptionFinding::EmptyAsUnset { key, what };
            self.diagnostics.report(Some(value.span()), finding);
            return None;
        }
        Some((key, value))
    }

    fn spelling_ignored(&mut self, known: &Known, ignored: &Key, winner: &Key) {
        let span = ignored.span();
        let (ignored, winner, name) = (ignored.get_ref(), winner.get_ref(), known.name);
        let (ignored, winner) = (ignored.to_string(), winner.to_string());
        let finding = if winner == name {
            OptionFinding::SpellingIgnored { ignored, winner }
        } else {
            let order: Vec<String> = known.spellings().iter().map(|s| format!("`{s}`")).collect();
            let order = order.join(", ");
            OptionFinding::AliasIgnored {
                ignored,
                winner,
                name,
                order,
            }
        };
        self.diagnostics.report(Some(span), finding);
    }

    pub fn get(&mut self, option: &str) -> Option<&'t Value> {
        self.entry(option).map(|(_, v)| v)
    }

    /// The values of an option that takes one value or an array of them;
    /// none when it is not set.
    pub fn one_or_many(&mut self, option: &str) -> Vec<&'t Value> {
        match self.get(option) {
            None => Vec::new(),
            Some(value) => match value.get_ref() {
                V::Array(items) => items.iter().collect(),
                _ => vec![value],
            },
        }
    }

    /// How the file spells `option`: the key that set it.
    pub fn spelling<'a>(&self, option: &'a str) -> &'a str
    where
        't: 'a,
    {
        self.resolved
            .iter()
            .find(|(o, _)| o == option)
            .and_then(|(_, entry)| *entry)
            .map_or(option, |(key, _)| key.get_ref())
    }

    /// The keys not read yet, with their spans.
    pub fn unread(&self) -> impl Iterator<Item = (&'t str, Range<usize>, &'t Value)> + '_ {
        self.table
            .iter()
            .filter(|(k, _)| !self.read.contains(&k.get_ref()))
            .map(|(k, v)| (k.get_ref(), k.span(), v))
    }

    /// Whether `key` is a spelling of an option of this table.
    pub fn is_option(&self, key: &str) -> bool {
        keys::find(self.known, key).is_some()
    }

    /// Says what `judge` makes of each key not read yet, at the key.
    /// `None`: nothing to say.
    pub fn report_unread(&mut self, judge: impl Fn(&str, &Value) -> Option<OptionFinding>) {
        let unread: Vec<(&'t str, Range<usize>, &'t Value)> = self.unread().collect();
        for (key, span, value) in unread {
            if let Some(finding) = judge(key, value) {
                self.diagnostics.report(Some(span), finding);
            }
        }
    }

    pub fn mark_read(&mut self, key: &'t str) {
        self.read.push(key);
    }

    pub fn wrong(&mut self, option: &str, value: &Value, allowed: Allowed) {
        let key = self.spelling(option).to_owned();
        let finding = OptionFinding::InvalidValue { key, allowed };
        self.diagnostics.report(Some(value.span()), finding);
    }

    pub fn string(&mut self, key: &str) -> Option<Spanned<String>> {
        let value = self.get(key)?;
        match value.get_ref() {
            V::String(s) => Some(Spanned::new(value.span(), s.to_string())),
            _ => {
                self.wrong(key, value, Allowed::String);
                None
            }
        }
    }

    /// `credentials`: a table of variable names, each a non-empty path.
    pub fn credentials(&mut self, key: &str) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        let Some(value) = self.get(key) else {
            return files;
        };
        let Some(table) = value.get_ref().as_table() else {
            self.wrong(key, value, Allowed::Credentials);
            return files;
        };
        for (name, file) in table.iter() {
            if !is_variable_name(name.get_ref()) {
                let finding = OptionFinding::NotAVariableName {
                    name: name.get_ref().to_string(),
                };
                self.diagnostics.report(Some(name.span()), finding);
                continue;
            }
            match file.get_ref() {
                V::String(path) if !path.is_empty() && !path.contains('\0') => {
                    files.insert(name.get_ref().to_string(), path.to_string());
                }
                _ => self.wrong(key, file, Allowed::Credentials),
            }
        }
        files
    }

    pub fn bool(&mut self, key: &str) -> Option<bool> {
        let value = self.get(key)?;
        match value.get_ref() {
            V::Boolean(b) => Some(*b),
            _ => {
                self.wrong(key, value, Allowed::Bool);
                None
            }
        }
    }

    pub fn integer(&mut self, key: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.get(key)?;
        match integer(value).filter(|n| (min..=max).contains(n)) {
            Some(n) => Some(n),
            None => {
                self.wrong(key, value, Allowed::WholeNumber { min, max });
                None
            }
        }
    }

    /// Milliseconds as a number, or a string with units.
    pub fn duration(&mut self, key: &str) -> Option<Spanned<Duration>> {
        let value = self.get(key)?;
        let parsed = match value.get_ref() {
            V::String(s) => parse_pm2_duration(s),
            _ => integer(value)
                .and_then(|n| u64::try_from(n).ok())
                .map(Duration::from_millis),
        };
        if parsed.is_none() {
            self.wrong(key, value, Allowed::Duration);
        }
        if parsed.is_some_and(|d| d > MAX_DURATION) {
            self.wrong(key, value, Allowed::AtMostAYear);
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
                self.wrong(key, value, Allowed::AtMostBytes);
                None
            }
            Some(b) => Some(b),
            None => {
                self.wrong(key, value, Allowed::Bytes);
                None
            }
        }
    }

    /// A list of strings; a single string is split as PM2 splits it.
    pub fn words(&mut self, key: &str) -> Option<Vec<String>> {
        let value = self.get(key)?;
        match value.get_ref() {
            V::String(s) => Some(split_args(s)),
            V::Array(items) => {
                let words: Option<Vec<String>> = items
                    .iter()
                    .map(|item| item.get_ref().as_str().map(str::to_owned))
                    .collect();
                if words.is_none() {
                    self.wrong(key, value, Allowed::Words);
                }
                words
            }
            _ => {
                self.wrong(key, value, Allowed::Arguments);
                None
            }
        }
    }

    /// A table of environment variables: values are strings, numbers or
    /// booleans; an array or a table becomes its JSON text, as in PM2.
    pub fn environment(&mut self, key: &str) -> Option<BTreeMap<String, String>> {
        let value = self.get(key)?;
        let Some(table) = value.get_ref().as_table() else {
            self.wrong(key, value, Allowed::EnvironmentTable);
            return None;
        };
        let mut env = BTreeMap::new();
        for (name, value) in table.iter() {
            if !is_variable_name(name.get_ref()) {
                let finding = OptionFinding::NotAVariableName {
                    name: name.get_ref().to_string(),
                };
                self.diagnostics.report(Some(name.span()), finding);
                continue;
            }
            let text = match value.get_ref() {
                V::String(s) => s.to_string(),
                V::Integer(n) => n.to_string(),
                V::Float(f) => f.clone(),
                V::Boolean(b) => b.to_string(),
                V::Datetime(d) => d.clone(),
                V::Array(_) | V::Table(_) | V::Null => json(value),
            };
            if text.contains('\0') {
                self.diagnostics
                    .report(Some(value.span()), OptionFinding::NulInVariable);
                continue;
            }
            env.insert(name.get_ref().to_string(), text);
        }
        Some(env)
    }
}

/// The value as a whole number. PM2, whose numbers are JavaScript's, also
/// takes `5000.0` and a string holding a number.
pub fn integer(value: &Value) -> Option<i64> {
    let whole = |f: f64| (f.fract() == 0.0 && f.abs() < 2f64.powi(53)).then_some(f as i64);
    match value.get_ref() {
        V::Integer(n) => Some(*n),
        V::Float(f) => f.parse().ok().and_then(whole),
        V::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// False, 0 and `""`, which PM2 takes for a missing value.
fn falsy(value: &Value) -> bool {
    matches!(value.get_ref(), V::Boolean(false) | V::Integer(0))
        || value.get_ref().as_str() == Some("")
}

pub fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
