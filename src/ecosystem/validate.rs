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
    let app = options(fields, dir, name, script);
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

/// The name as written, or as PM2 makes it when there is none: the file name
/// of `script` without its extension; and the name, valid.
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
    let name = text
        .as_ref()
        .and_then(|name| match AppName::new(name.get_ref()) {
            Ok(valid) => Some(Spanned::new(name.span(), valid)),
            Err(why) => {
                let (shown, why) = (name.get_ref().escape_debug().to_string(), why.to_string());
                let finding = if written {
                    OptionFinding::CannotNameUnits { shown, why }
                } else {
                    OptionFinding::NameFromScript { shown, why }
                };
                fields.diagnostics.report(Some(name.span()), finding);
                None
            }
        });
    (text, name)
}

/// PM2's name for an app without one (`Common.renderApplicationName`).
fn name_from(script: &str) -> String {
    let file = script.rsplit('/').next().unwrap_or(script);
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
    name: Option<Spanned<AppName>>,
    script: Option<Spanned<String>>,
) -> Option<App> {
    let complete = name.is_some() && script.is_some();
    let name =
        name.unwrap_or_else(|| Spanned::new(0..0, AppName::new("app").expect("a valid name")));
    let script = script.unwrap_or_else(|| Spanned::new(0..0, String::new()));
    let mut app = App::new(name, script, dir);
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
