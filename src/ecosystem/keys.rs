//! The spellings of the keys an ecosystem file may hold, and how each is
//! handled. An app's options are rows of the option table
//! ([`crate::options`]); the top-level keys are here. The validator reads
//! options through them, and the report on keys nobody read consults them,
//! so a key is known in exactly one place.
//!
//! As in PM2 (`lib/tools/Config.js`), every option also answers to its
//! camelCase spelling (`kill_timeout` → `killTimeout`), and when several
//! spellings of one option are set, the first in the table's order wins.

use std::borrow::Cow;

use super::document::Value as V;
use super::fields::{Fields, Value};
use super::findings::OptionFinding;
pub use crate::options::app_options;

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
#[derive(Debug, Clone)]
pub struct Known {
    /// The canonical name: PM2's, or nodeunits' for its own options.
    pub name: &'static str,
    /// Other names, in the order PM2 prefers them after `name` when several
    /// are set; the camelCase spelling comes last and is not listed.
    pub aliases: &'static [&'static str],
    pub handling: Handling,
    /// For an ignored option: PM2's default (`lib/API/schema.json`), a
    /// value that changes nothing, so it is ignored without a warning.
    pub pm2_default: Option<Pm2Default>,
}

/// A value of PM2's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pm2Default {
    Bool(bool),
    Number(i64),
}

impl Pm2Default {
    /// Whether `value` is this default, as PM2 reads it.
    pub fn is(self, value: &Value) -> bool {
        match (self, value.get_ref()) {
            (Pm2Default::Bool(default), V::Boolean(b)) => default == *b,
            (Pm2Default::Number(default), V::Integer(n)) => default == *n,
            _ => false,
        }
    }
}

impl std::fmt::Display for Pm2Default {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pm2Default::Bool(b) => write!(f, "{b}"),
            Pm2Default::Number(n) => write!(f, "{n}"),
        }
    }
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

/// The keys at the top of the file. `pm2` is PM2's other name for `apps`,
/// for a `package.json`.
pub const TOP_LEVEL: &[Known] = &[
    Known {
        name: "apps",
        aliases: &["pm2"],
        handling: Handling::Read,
        pm2_default: None,
    },
    Known {
        name: "log_rotate",
        aliases: &[],
        handling: Handling::Read,
        pm2_default: None,
    },
    Known {
        name: "deploy",
        aliases: &[],
        // Read by `nodeunits deploy` only: `apply` does not need it.
        handling: Handling::Read,
        pm2_default: None,
    },
    Known {
        name: "static",
        aliases: &[],
        handling: Handling::Read,
        pm2_default: None,
    },
];

/// Every documented spelling of an app's options, read or ignored: what
/// `man 5 ecosystem.toml` documents.
pub fn every_option() -> Vec<&'static str> {
    app_options().iter().flat_map(Known::documented).collect()
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

/// The prefix of keys nodeunits ignores, as PM2 ignores every key it does
/// not know: a way to keep notes or other tools' keys in an app.
pub const COMMENT_PREFIX: char = '_';

/// Reports the keys of an app that no option read: a warning for an option
/// nodeunits ignores (none when it is set to PM2's default, which changes
/// nothing), nothing for a key starting with [`COMMENT_PREFIX`], else an
/// error with the option probably meant.
pub(super) fn unknown_keys(fields: &mut Fields) {
    fields.report_unread(|key, value| {
        if key.starts_with(COMMENT_PREFIX) {
            return None;
        }
        let key_owned = key.to_owned();
        let known = find(app_options(), key);
        match known.map(|known| (known.handling, known.pm2_default)) {
            Some((Handling::Ignored(_), Some(default))) if default.is(value) => None,
            Some((Handling::Ignored(instead), _)) => Some(OptionFinding::IgnoredOption {
                key: key_owned,
                instead,
            }),
            _ => Some(OptionFinding::UnknownOption {
                key: key_owned,
                suggestion: closest(key, app_options()),
            }),
        }
    });
}

/// Reports the top-level keys other than those read (`apps`, read by the
/// shape; `log_rotate`, by the validation of the apps).
pub(super) fn unknown_top_level_keys(fields: &mut Fields) {
    fields.report_unread(|key, _| {
        if key.starts_with(COMMENT_PREFIX) {
            return None;
        }
        let key_owned = key.to_owned();
        Some(match find(TOP_LEVEL, key).map(|known| known.handling) {
            Some(Handling::Read) => return None,
            Some(Handling::Ignored(why)) => OptionFinding::IgnoredTopLevel {
                key: key_owned,
                why,
            },
            _ => OptionFinding::UnknownTopLevel {
                key: key_owned,
                suggestion: closest(key, TOP_LEVEL),
            },
        })
    });
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
