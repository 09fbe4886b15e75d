//! The ecosystem file: PM2's, in TOML, YAML, JSON or JavaScript. In stages:
//! the file read in its format into a [`document`], a tree with the span of
//! every key and value; the apps found in it in any of PM2's [`shape`]s;
//! then validated, typed [`settings`]. Every mistake is recorded as a
//! [`Diagnostic`] with its place, so a file's errors are all reported at once.

/// `cron_restart` → `OnCalendar=`.
pub mod cron;
/// The top-level `deploy` section, pm2-deploy's.
pub mod deploy;
/// Errors and warnings with their place in the file.
pub mod diagnostic;
/// An ecosystem file as a tree of values with their places, whatever its format.
pub mod document;
/// Typed access to the keys of one table.
pub(crate) mod fields;
/// What validating the apps finds, one kind each.
pub mod findings;
/// Each format read into a document.
mod formats;
/// Any ecosystem file → an equivalent, commented `ecosystem.toml`.
pub mod import;
/// Every key a file may hold, in one table; what is said of the others.
pub mod keys;
/// `log_rotate`, pm2-logrotate's settings.
pub(crate) mod log_rotate;
/// Options whose values are places: sockets, paths, accounts.
pub(crate) mod places;
/// The validated, typed form of the file.
pub mod settings;
/// Where the apps of a file are: the shapes PM2 accepts.
mod shape;
/// PM2's top-level `static`: apps of its static file server.
mod statics;
/// Options whose values take more than one check.
pub(crate) mod typed;
/// One `[[apps]]` table → a validated app.
mod validate;
/// Durations, sizes, instance counts, arguments with PM2's conventions.
pub mod values;

use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics, Severity, Source};
use fields::Fields;
use findings::OptionFinding;
pub use formats::{Evaluator, Format};
pub use settings::{App, Ecosystem};
pub use validate::name_from;

/// Reads the ecosystem file `path` (as the user named it) in its format,
/// and validates it. Relative paths in it resolve against its directory.
/// Apps with errors are left out, and the errors recorded in `diagnostics`,
/// beside the source they are shown against; `None` when the file has no
/// apps to go on with.
pub fn read(
    path: &Path,
    evaluator: &Evaluator,
    diagnostics: &mut Diagnostics,
) -> (Source, Option<document::Node>, Option<Ecosystem>) {
    let absolute = absolute(path);
    let (source, document) = formats::load(path, &absolute, evaluator, diagnostics);
    let ecosystem = document
        .as_ref()
        .and_then(|document| validate_document(&absolute, document, source.format, diagnostics));
    (source, document, ecosystem)
}

/// Reads the ecosystem file `path` in its format, without validating it:
/// what `nodeunits deploy` needs of a file is its `deploy` section.
pub fn load(
    path: &Path,
    evaluator: &Evaluator,
    diagnostics: &mut Diagnostics,
) -> (Source, Option<document::Node>) {
    formats::load(path, &absolute(path), evaluator, diagnostics)
}

/// Parses and validates `source`, the text of a TOML ecosystem file at
/// `path` (absolute), as [`read`] does a file of any format.
pub fn parse(path: &Path, source: &str, diagnostics: &mut Diagnostics) -> Option<Ecosystem> {
    let document = formats::read(Format::Toml, source, diagnostics)?;
    validate_document(path, &document, Format::Toml, diagnostics)
}

/// Validates a document read from the ecosystem file at `path`, whatever
/// its format; `format` words the messages.
pub fn validate_document(
    path: &Path,
    document: &document::Node,
    format: Format,
    diagnostics: &mut Diagnostics,
) -> Option<Ecosystem> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let shape = shape::shape(document, format, diagnostics)?;
    // `log_rotate` at the top: every app's that sets none of its own.
    let one_app = shape.apps.iter().any(|app| std::ptr::eq(&**app, document));
    let log_rotate = match document.get_ref().as_table() {
        Some(top) if !one_app => {
            log_rotate::log_rotate(&mut Fields::new(top, keys::TOP_LEVEL, diagnostics))
        }
        _ => None,
    };
    let mut apps = Vec::new();
    let mut names = Vec::new();
    for table in &shape.apps {
        let table: &document::Node = table;
        let Some(entries) = table.get_ref().as_table() else {
            continue;
        };
        let mut fields = Fields::new(entries, keys::app_options(), diagnostics);
        if std::ptr::eq(table, document) {
            // A file that is one app: its top-level sections are not options.
            for (key, _) in &shape.top_level {
                fields.mark_read(&key.name);
            }
        }
        let (name, mut app) = validate::app(&mut fields, table.span(), dir);
        if let Some(app) = app.as_mut().filter(|_| fields.get("log_rotate").is_none()) {
            app.log_rotate = log_rotate.clone();
        }
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
/// two PM2 names that map to one unit name, or `api-cron` beside the cron
/// units of `api`.
fn check_collisions(names: &[(String, std::ops::Range<usize>)], diagnostics: &mut Diagnostics) {
    let mut owners: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for (name, span) in names {
        let Ok(app) = crate::model::AppName::from_pm2(name) else {
            continue;
        };
        for unit in app.units().all() {
            if let Some(owner) = owners.insert(unit.clone(), name) {
                let finding = if owner == name {
                    OptionFinding::DefinedTwice { name: name.clone() }
                } else if crate::model::AppName::from_pm2(owner).ok().as_ref() == Some(&app) {
                    OptionFinding::SameUnitName {
                        name: name.escape_debug().to_string(),
                        other: owner.escape_debug().to_string(),
                        units: app.to_string(),
                    }
                } else {
                    OptionFinding::UnitOfTwoApps {
                        unit: unit.clone(),
                        name: name.clone(),
                        owner: owner.to_owned(),
                    }
                };
                diagnostics.report(Some(span.clone()), finding);
                break;
            }
        }
    }
}

/// `path` made absolute against the current directory, without `.` and `..`.
pub fn absolute(path: &Path) -> std::path::PathBuf {
    let joined = working_dir().join(path);
    places::normalize(&joined)
}

/// The current directory as the shell names it: `$PWD` when it is that
/// directory, so that a file in `/srv/api/current` (a symlink to a
/// release) keeps that path in the units, as a deploy needs; else the
/// directory's own path.
fn working_dir() -> std::path::PathBuf {
    let real = std::env::current_dir().unwrap_or_default();
    let logical = std::env::var_os("PWD").map(std::path::PathBuf::from);
    match logical {
        Some(pwd) if pwd.is_absolute() && pwd.canonicalize().ok() == real.canonicalize().ok() => {
            pwd
        }
        _ => real,
    }
}
