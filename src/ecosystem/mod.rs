//! `ecosystem.toml`: PM2's ecosystem file in TOML. In stages: the raw TOML
//! tables with the span of every key and value, then validated, typed
//! [`settings`]. Every mistake is recorded as a [`Diagnostic`] with its place,
//! so a file's errors are all reported at once.

/// `cron_restart` → `OnCalendar=`.
pub mod cron;
/// Errors and warnings with their place in the file.
pub mod diagnostic;
/// An ecosystem file as a tree of values with their places, whatever its format.
pub mod document;
/// Typed access to the keys of one table.
mod fields;
/// Each format read into a document.
mod formats;
/// Every key a file may hold, in one table; what is said of the others.
pub mod keys;
/// Options whose values are places: sockets, paths, accounts.
mod places;
/// The validated, typed form of the file.
pub mod settings;
/// Options whose values take more than one check.
mod typed;
/// One `[[apps]]` table → a validated app.
mod validate;
/// Durations, sizes, instance counts, arguments with PM2's conventions.
pub mod values;

use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
use fields::Fields;
pub use settings::{App, Ecosystem};

/// Parses and validates `source`, the text of the ecosystem file at `path`
/// (absolute). Relative paths in it resolve against its directory.
/// Apps with errors are left out, and the errors recorded in `diagnostics`;
/// `None` when the file has no apps to go on with.
pub fn parse(path: &Path, source: &str, diagnostics: &mut Diagnostics) -> Option<Ecosystem> {
    let document = formats::toml(source, diagnostics)?;
    validate_document(path, &document, diagnostics)
}

/// Validates a document read from the ecosystem file at `path`, whatever
/// its format.
pub fn validate_document(
    path: &Path,
    document: &document::Node,
    diagnostics: &mut Diagnostics,
) -> Option<Ecosystem> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let Some(top_table) = document.get_ref().as_table() else {
        diagnostics.error(
            Some(document.span()),
            "an ecosystem file holds a table with `apps`",
            "add an `[[apps]]` table with at least `name` and `script`",
        );
        return None;
    };
    let apps_value = top_table.get("apps");
    let mut top = Fields::new(top_table, keys::TOP_LEVEL, diagnostics);
    top.mark_read("apps");
    keys::unknown_top_level_keys(&mut top);
    let tables: Vec<&fields::Value> = match apps_value.map(|v| (v, v.get_ref())) {
        Some((_, document::Value::Array(items)))
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
                None,
                "this file defines no apps",
                "add an `[[apps]]` table with at least `name` and `script`",
            );
            return None;
        }
    };
    let mut apps = Vec::new();
    let mut names = Vec::new();
    for table in tables {
        let Some(entries) = table.get_ref().as_table() else {
            continue;
        };
        let mut fields = Fields::new(entries, keys::APP_OPTIONS, diagnostics);
        let (name, app) = validate::app(&mut fields, table.span(), dir);
        names.extend(name.map(|name| (name.get_ref().clone(), name.span())));
        keys::unknown_keys(&mut fields);
        apps.extend(app);
    }
    check_collisions(&names, diagnostics);
    Some(Ecosystem {
        path: path.to_path_buf(),
        apps,
    })
}

/// Two apps must not generate a unit of the same name: the same name twice,
/// or `api-cron` beside the cron units of `api`.
fn check_collisions(names: &[(String, std::ops::Range<usize>)], diagnostics: &mut Diagnostics) {
    let mut owners: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for (name, span) in names {
        let Ok(app) = crate::model::AppName::new(name) else {
            continue;
        };
        for unit in app.units().all() {
            if let Some(owner) = owners.insert(unit.clone(), name) {
                let message = if owner == name {
                    format!("the app `{name}` is defined twice")
                } else {
                    format!(
                        "the unit `{unit}` of the app `{name}` is also a unit of the app `{owner}`"
                    )
                };
                diagnostics.error(
                    Some(span.clone()),
                    message,
                    "give each app a name of its own; an app `X` owns X.service, X@.service, X.socket, X-cron.timer and X-cron.service",
                );
                break;
            }
        }
    }
}

/// `path` made absolute against the current directory, without `.` and `..`.
pub fn absolute(path: &Path) -> std::path::PathBuf {
    let joined = std::env::current_dir().unwrap_or_default().join(path);
    places::normalize(&joined)
}
