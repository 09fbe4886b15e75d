//! The option table: one row per option of an app, as Quadlet keeps its
//! keys. A row ties together what one option means everywhere:
//!
//! - its spellings (PM2's name, aliases, camelCase) and how the validator
//!   takes it, or what happens instead when nodeunits ignores it
//!   ([`Known`], which `ecosystem::keys` reads);
//! - its validation: how its value is read into the typed app, with its
//!   errors and warnings ([`Validate`], which `ecosystem::validate` runs);
//! - the worker directives it becomes, written into `APP@.service` and read
//!   back from it ([`Directive`]; `units::render` and `units::read` fill and
//!   read them through [`worker_directives`]);
//! - how `describe` names its installed value;
//! - what `export kubernetes` says of it when a pod cannot do what the units
//!   do;
//! - its documentation: the option tables of docs/ecosystem.md and
//!   `man 5 ecosystem.toml` are generated from it ([`docs`]).
//!
//! Adding an option that is one directive of the worker and nothing else
//! is one row here ([`Row::plain`]) and a golden case. Any other option is
//! one row, the fields it fills in the typed app (`ecosystem::settings`) and
//! the model (`model::AppUnits`, filled by `units::app_units`), its place in
//! a template, and a golden case.

/// The words `describe` and the export use for installed values.
pub mod describe;
/// The directives of a row: how a value is written and read back.
mod directive;
/// The option tables of the documentation, generated.
pub mod docs;
/// What happens instead of ignored options, where several share the words.
mod instead;
/// The rows of nodeunits' own options and of older PM2 versions' keys.
mod own;
/// The rows of PM2's options: each worker's variables, port and user.
mod pm2_identity;
/// The rows of PM2's options of the logs, and of the log writer's.
mod pm2_logs;
/// The rows of PM2's options: the program, its environment, logs and restarts.
mod pm2_program;
/// The rows of PM2's `watch` and its settings.
mod pm2_watch;
/// The rows of PM2's options: the workers, their start, stop and restarts.
mod pm2_workers;

use std::path::Path;
use std::sync::LazyLock;

pub use directive::{path, Directive, DirectiveValues};

use crate::ecosystem::fields::Fields;
use crate::ecosystem::keys::{Handling, Known, Pm2Default};
use crate::ecosystem::App;
use crate::kubernetes::ExportOptions;
use crate::model::name::UnitKind;
use crate::model::AppUnits;

/// How the validator reads an option into the app: from the app's keys, with
/// the ecosystem file's directory for relative paths; a mistake is recorded
/// in the fields' diagnostics, and the option keeps its default.
pub type Validate = Box<dyn Fn(&mut Fields, &Path, &mut App) + Send + Sync>;

/// How `describe` shows an installed option; `None`: not shown for this app.
pub type Describe = Box<dyn Fn(&AppUnits) -> Option<String> + Send + Sync>;

/// What a pod cannot do of an option, for `export kubernetes`; `None`: the
/// Deployment does what the units do.
pub type Unmapped = Box<dyn Fn(&AppUnits, &ExportOptions) -> Option<String> + Send + Sync>;

/// The documentation of an option nodeunits reads: its default and what it
/// becomes (Markdown: `code` spans only).
pub struct Doc {
    pub default: &'static str,
    pub becomes: &'static str,
}

/// One option.
pub struct Row {
    pub key: Known,
    /// `None` for an ignored option: its [`Handling::Ignored`] text is its
    /// documentation.
    pub doc: Option<Doc>,
    /// `None` for an option read with another (`exp_backoff_restart_delay`
    /// with `restart_delay`), for `script` and `name`, which the validator
    /// reads first, and for ignored options.
    pub validate: Option<Validate>,
    pub directives: Vec<Directive>,
    pub describe: Option<Describe>,
    pub unmapped: Option<Unmapped>,
}

impl Row {
    /// An option the validator reads.
    fn read(name: &'static str, aliases: &'static [&'static str], doc: Doc) -> Row {
        Row::new(name, aliases, Handling::Read, Some(doc))
    }

    /// An option nodeunits ignores, with what happens instead.
    fn ignored(name: &'static str, aliases: &'static [&'static str], instead: &'static str) -> Row {
        Row::new(name, aliases, Handling::Ignored(instead), None)
    }

    fn new(
        name: &'static str,
        aliases: &'static [&'static str],
        handling: Handling,
        doc: Option<Doc>,
    ) -> Row {
        Row {
            key: Known {
                name,
                aliases,
                handling,
                pm2_default: None,
            },
            doc,
            validate: None,
            directives: Vec::new(),
            describe: None,
            unmapped: None,
        }
    }

    /// An ignored option set to `default`, PM2's, loads without a warning.
    fn pm2_default(mut self, default: Pm2Default) -> Row {
        self.key.pm2_default = Some(default);
        self
    }

    /// An option that is one directive of the worker's `[Service]` and
    /// nothing else: `parse` checks the value (recording its mistakes) and
    /// gives the directive's value, which the unit holds, `render` and
    /// `describe` show and reading the unit gives back as it is. Adding such
    /// an option is this row and a golden case: the value needs no field of
    /// its own (`plain` of the typed app and of the worker), and the
    /// template writes every plain directive (`worker.plain`).
    fn plain(
        name: &'static str,
        doc: Doc,
        key: &'static str,
        parse: fn(&mut Fields, &'static str) -> Option<String>,
    ) -> Row {
        Row::read(name, &[], doc)
            .validate(move |f, _, app| {
                if let Some(value) = parse(f, name) {
                    app.plain.insert(key, value);
                }
            })
            .directives(vec![Directive::plain(key)])
            .describe(move |units| units.worker.plain.get(key).cloned())
    }

    /// `0` and `""` are not set (see [`Handling::ReadUnlessEmpty`]).
    fn unless_empty(mut self) -> Row {
        self.key.handling = Handling::ReadUnlessEmpty;
        self
    }

    fn validate(
        mut self,
        validate: impl Fn(&mut Fields, &Path, &mut App) + Send + Sync + 'static,
    ) -> Row {
        self.validate = Some(Box::new(validate));
        self
    }

    fn directives(mut self, directives: Vec<Directive>) -> Row {
        self.directives = directives;
        self
    }

    fn describe(
        mut self,
        describe: impl Fn(&AppUnits) -> Option<String> + Send + Sync + 'static,
    ) -> Row {
        self.describe = Some(Box::new(describe));
        self
    }

    fn unmapped(
        mut self,
        unmapped: impl Fn(&AppUnits, &ExportOptions) -> Option<String> + Send + Sync + 'static,
    ) -> Row {
        self.unmapped = Some(Box::new(unmapped));
        self
    }
}

/// The documented entry of the table that is no key: `env_<profile>`.
pub const PROFILE_ROW: &str = "env_<profile>";

/// Every option of an app: the ones nodeunits reads and the ones it
/// ignores, in the order of PM2's schema, then nodeunits' own, then keys of
/// older PM2 versions. This order is that of the documentation, of
/// `describe` and of the export's warnings.
pub fn table() -> &'static [Row] {
    static TABLE: LazyLock<Vec<Row>> = LazyLock::new(|| {
        let mut rows = pm2_program::rows();
        rows.extend(pm2_workers::rows());
        rows.extend(pm2_identity::rows());
        rows.extend(own::rows());
        rows
    });
    &TABLE
}

/// The options' spellings, for the validator: every row but
/// [`PROFILE_ROW`], which stands for the keys `env_*`.
pub fn app_options() -> &'static [Known] {
    static KNOWN: LazyLock<Vec<Known>> = LazyLock::new(|| {
        let keys = table().iter().filter(|row| row.key.name != PROFILE_ROW);
        keys.map(|row| row.key.clone()).collect()
    });
    &KNOWN
}

/// The directives options set in the units of `kind` (the worker template
/// or the app unit), in table order.
pub fn directives(kind: UnitKind) -> impl Iterator<Item = &'static Directive> {
    let all = table().iter().flat_map(|row| &row.directives);
    all.filter(move |directive| directive.unit == kind)
}

/// One option and its value, in words, as `describe` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Effective {
    pub option: &'static str,
    pub value: String,
}

/// The options an installed app runs with, named as in the ecosystem file.
pub fn effective(units: &AppUnits) -> Vec<Effective> {
    table()
        .iter()
        .filter_map(|row| {
            let value = row.describe.as_ref()?(units)?;
            Some(Effective {
                option: row.key.name,
                value,
            })
        })
        .collect()
}

/// What the pods of `units` cannot do that the units do, option by option.
pub fn unmapped(units: &AppUnits, options: &ExportOptions) -> Vec<String> {
    table()
        .iter()
        .filter_map(|row| row.unmapped.as_ref()?(units, options))
        .collect()
}

#[cfg(test)]
mod tests;
