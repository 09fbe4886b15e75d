//! One `[[apps]]` table → a validated [`App`].

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::diagnostic::Severity;
use super::fields::Fields;
use super::findings::OptionFinding;
use super::settings::App;
use crate::model::AppName;
use crate::options;

/// Validates one app: its name, written or taken from `script` as PM2 does
/// (for the check that no two apps share one), and the app, `None` when it
/// has errors (they are recorded).
pub fn app(
    fields: &mut Fields,
    table_span: Range<usize>,
    dir: &Path,
) -> (Option<Spanned<String>>, Option<App>) {
    let errors_before = fields.diagnostics.count(Severity::Error);
    let script = script(fields, table_span.clone());
    let (name_text, name) = name(fields, table_span, script.as_ref());
    let pm2_name = name_text.as_ref().map(|text| text.get_ref().clone());
    let app = options(fields, dir, (name, pm2_name), script);
    let errors_after = fields.diagnostics.count(Severity::Error);
    (name_text, app.filter(|_| errors_after == errors_before))
}

/// `script` (or `cmd`, `command`, `exec`), required.
fn script(fields: &mut Fields, table_span: Range<usize>) -> Option<Spanned<String>> {
    let script = fields.string("script").filter(|s| {
        let valid = !s.get_ref().is_empty() && !s.get_ref().chars().any(char::is_control);
        if !valid {
            let key = fields.spelling("script").to_owned();
            fields
                .diagnostics
                .report(Some(s.span()), OptionFinding::InvalidScript { key });
        }
        valid
    });
    if script.is_none() && fields.get("script").is_none() {
        fields
            .diagnostics
            .report(Some(table_span), OptionFinding::NoScript);
    }
    script
}

/// The name as written, or as PM2 makes it when there is none (or it is
/// empty): the file name of `script` without its extension; and the name of
/// the app's units, PM2's mapped by [`AppName::from_pm2`] when it cannot
/// name units itself, with a warning.
fn name(
    fields: &mut Fields,
    table_span: Range<usize>,
    script: Option<&Spanned<String>>,
) -> (Option<Spanned<String>>, Option<Spanned<AppName>>) {
    let written = fields.get("name").is_some();
    let text = match script {
        _ if written => fields.string("name"),
        Some(script) => Some(Spanned::new(script.span(), name_from(script.get_ref()))),
        None => {
            fields
                .diagnostics
                .report(Some(table_span), OptionFinding::NoName);
            None
        }
    };
    let name = text.as_ref().and_then(|name| {
        let shown = name.get_ref().escape_debug().to_string();
        match AppName::from_pm2(name.get_ref()) {
            Ok(valid) => {
                if valid.as_str() != name.get_ref() {
                    let units = valid.to_string();
                    let finding = OptionFinding::NameMapped {
                        shown,
                        units,
                        derived: !written,
                    };
                    fields.diagnostics.report(Some(name.span()), finding);
                }
                Some(Spanned::new(name.span(), valid))
            }
            Err(why) => {
                let why = why.to_string();
                let finding = if written {
                    OptionFinding::CannotNameUnits { shown, why }
                } else {
                    OptionFinding::NameFromScript { shown, why }
                };
                fields.diagnostics.report(Some(name.span()), finding);
                None
            }
        }
    });
    (text, name)
}

/// PM2's name for an app without one (`Common.renderApplicationName`): the
/// last part of `script`'s path, as Node's `path.basename` finds it (a
/// trailing `/` ignored), without what follows its last `.` unless that `.`
/// starts it.
pub fn name_from(script: &str) -> String {
    let trimmed = script.trim_end_matches('/');
    let file = trimmed.rsplit('/').next().unwrap_or(trimmed);
    match file.rfind('.') {
        Some(dot) if dot > 0 => file[..dot].to_owned(),
        _ => file.to_owned(),
    }
}

/// Every other option, each read by its row of the option table, at its
/// default when not set. `None` without a name or a script (the options are
/// still checked, so that every error of the app is reported).
fn options(
    fields: &mut Fields,
    dir: &Path,
    (name, pm2_name): (Option<Spanned<AppName>>, Option<String>),
    script: Option<Spanned<String>>,
) -> Option<App> {
    let complete = name.is_some() && script.is_some();
    let name =
        name.unwrap_or_else(|| Spanned::new(0..0, AppName::new("app").expect("a valid name")));
    let script = script.unwrap_or_else(|| Spanned::new(0..0, String::new()));
    let mut app = App::new(name, script, dir);
    app.pm2_name = pm2_name.filter(|pm2| pm2 != app.name.get_ref().as_str());
    for validate in options::table()
        .iter()
        .filter_map(|row| row.validate.as_ref())
    {
        validate(fields, dir, &mut app);
    }
    complete.then_some(app)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pm2;
