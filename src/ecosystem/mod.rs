//! `ecosystem.toml`: PM2's ecosystem file in TOML. In stages: the raw TOML
//! tables with the span of every key and value, then validated, typed
//! [`settings`]. Every mistake is recorded as a [`Diagnostic`] with its place,
//! so a file's errors are all reported at once.

pub mod cron;
pub mod diagnostic;
mod fields;
mod pm2;
pub mod settings;
mod validate;
pub mod values;

use std::path::Path;

use toml::de::{DeTable, DeValue};

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
use fields::Fields;
pub use settings::{App, Ecosystem};

/// Parses and validates `source`, the text of the ecosystem file at `path`
/// (absolute). Relative paths in it resolve against its directory.
/// `None` when the file has errors; they are in `diagnostics`.
pub fn parse(path: &Path, source: &str, diagnostics: &mut Diagnostics) -> Option<Ecosystem> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let (document, syntax_errors) = DeTable::parse_recoverable(source);
    for error in &syntax_errors {
        diagnostics.error(
            error.span(),
            format!("this is not valid TOML: {}", error.message().trim_end()),
            "see https://toml.io for the syntax",
        );
    }
    if !syntax_errors.is_empty() {
        return None;
    }
    let apps_value = document.get_ref().get("apps");
    let mut top = Fields::new(document.get_ref(), diagnostics);
    top.mark_read("apps");
    let unread: Vec<(String, std::ops::Range<usize>)> = top
        .unread()
        .map(|(k, span, _)| (k.to_owned(), span))
        .collect();
    for (key, span) in unread {
        match pm2::ignored(pm2::IGNORED_TOP_LEVEL, &key) {
            Some(why) => top.diagnostics.warning(
                Some(span),
                format!("`{key}` has no meaning under systemd"),
                why,
            ),
            None => top.diagnostics.error(
                Some(span),
                format!("unknown top-level key `{key}`"),
                "an ecosystem file holds `[[apps]]` tables; put app options inside one",
            ),
        }
    }
    let tables: Vec<&fields::Value> = match apps_value.map(|v| (v, v.get_ref())) {
        Some((_, DeValue::Array(items)))
            if items.iter().all(|i| i.get_ref().is_table()) && !items.is_empty() =>
        {
            items.iter().collect()
        }
        Some((value, _)) => {
            top.wrong("apps", value, "one `[[apps]]` table per app");
            drop(top);
            return None;
        }
        None => {
            diagnostics.error(
                Some(0..0),
                "this file defines no apps",
                "add an `[[apps]]` table with at least `name` and `script`",
            );
            return None;
        }
    };
    let mut apps = Vec::new();
    for table in tables {
        let DeValue::Table(entries) = table.get_ref() else {
            continue;
        };
        let mut fields = Fields::new(entries, diagnostics);
        let app = validate::app(&mut fields, table.span(), dir);
        validate::unknown_keys(&mut fields);
        apps.extend(app);
    }
    (!diagnostics.has_errors()).then(|| Ecosystem {
        path: path.to_path_buf(),
        apps,
    })
}

/// `path` made absolute against the current directory, without `.` and `..`.
pub fn absolute(path: &Path) -> std::path::PathBuf {
    let joined = std::env::current_dir().unwrap_or_default().join(path);
    validate::normalize(&joined)
}
