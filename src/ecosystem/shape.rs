//! Where the apps of a file are, in the shapes PM2 accepts: under `apps`
//! (an array of apps, or one app), under `pm2` (its name for them in a
//! `package.json`), or the whole file: an array of apps, or one app.

use std::borrow::Cow;

use super::diagnostic::Diagnostics;
use super::document::{Key, Node, Table, Value};
use super::fields::Fields;
use super::formats::findings::ReadFinding;
use super::formats::Format;
use super::keys::{self, Handling};

/// The apps of a file, and what stands beside them.
#[derive(Debug)]
pub struct Shape<'d> {
    /// Each app's table: the file's own, then those of `static` (made
    /// here, [`super::statics`]).
    pub apps: Vec<Cow<'d, Node>>,
    /// The top-level entries other than the apps (`deploy`, `static`, …),
    /// already reported on.
    pub top_level: Vec<(&'d Key, &'d Node)>,
}

/// Finds the apps of `document`; `None`, with the error recorded, when it
/// has none.
pub fn shape<'d>(
    document: &'d Node,
    format: Format,
    diagnostics: &mut Diagnostics,
) -> Option<Shape<'d>> {
    let top = match &document.value {
        Value::Array(items) => {
            return Some(Shape {
                apps: borrowed(apps_of(items, format, diagnostics)?),
                top_level: Vec::new(),
            })
        }
        Value::Table(top) => top,
        _ => {
            diagnostics.report(Some(document.span()), ReadFinding::SingleValue { format });
            return None;
        }
    };
    // `apps`, or its other name `pm2`; both set is a warning, as for options.
    let apps_key = {
        let mut fields = Fields::new(top, keys::TOP_LEVEL, diagnostics);
        let apps_key = fields.entry("apps").map(|(span, _)| span);
        if apps_key.is_some() {
            keys::unknown_top_level_keys(&mut fields);
        }
        apps_key
    };
    let Some((key, apps_value)) = top
        .iter()
        .find(|(key, _)| Some(&key.span) == apps_key.as_ref())
    else {
        return one_app(document, top, format, diagnostics);
    };
    let mut apps = match &apps_value.value {
        Value::Table(_) => vec![Cow::Borrowed(apps_value)],
        Value::Array(items) => borrowed(apps_of(items, format, diagnostics)?),
        _ => {
            let key = key.name.clone();
            let invalid = ReadFinding::AppsInvalid { key, format };
            diagnostics.report(Some(apps_value.span()), invalid);
            return None;
        }
    };
    apps.extend(super::statics::apps(top).into_iter().map(Cow::Owned));
    let top_level = top
        .iter()
        .filter(|(other, _)| other.span != key.span)
        .collect();
    Some(Shape { apps, top_level })
}

fn borrowed(apps: Vec<&Node>) -> Vec<Cow<'_, Node>> {
    apps.into_iter().map(Cow::Borrowed).collect()
}

/// A file without `apps` is one app, if it looks like one; its top-level
/// sections (`deploy`) are reported as such, not as options of the app.
fn one_app<'d>(
    document: &'d Node,
    top: &'d Table,
    format: Format,
    diagnostics: &mut Diagnostics,
) -> Option<Shape<'d>> {
    let handling = |key: &Key| keys::find(keys::TOP_LEVEL, &key.name).map(|k| k.handling);
    if top.get("script").is_none() && top.get("name").is_none() {
        let mut fields = Fields::new(top, keys::TOP_LEVEL, diagnostics);
        // `apps` set to null: no apps, rather than an unknown key.
        for (key, _) in top
            .iter()
            .filter(|(key, _)| handling(key) == Some(Handling::Read))
        {
            fields.mark_read(&key.name);
        }
        keys::unknown_top_level_keys(&mut fields);
        // A file of `static` entries only: their apps.
        let statics = super::statics::apps(top);
        if statics.is_empty() {
            return no_apps(format, diagnostics);
        }
        return Some(Shape {
            apps: statics.into_iter().map(Cow::Owned).collect(),
            top_level: top.iter().collect(),
        });
    }
    let top_level: Vec<(&Key, &Node)> = top
        .iter()
        // Sections of the file beside the app: `deploy`, and PM2's others.
        .filter(|(key, _)| {
            key.name == "deploy" || matches!(handling(key), Some(Handling::Ignored(_)))
        })
        .collect();
    let sections = Table {
        entries: top_level
            .iter()
            .map(|(key, value)| ((*key).clone(), (*value).clone()))
            .collect(),
    };
    keys::unknown_top_level_keys(&mut Fields::new(&sections, keys::TOP_LEVEL, diagnostics));
    Some(Shape {
        apps: vec![Cow::Borrowed(document)],
        top_level,
    })
}

/// The apps of an array: each must be a table; the others are reported,
/// and the tables still validated.
fn apps_of<'d>(
    items: &'d [Node],
    format: Format,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<&'d Node>> {
    if items.is_empty() {
        return no_apps(format, diagnostics);
    }
    let mut apps = Vec::new();
    for item in items {
        if item.value.is_table() {
            apps.push(item);
        } else {
            diagnostics.report(Some(item.span()), ReadFinding::AppNotTable { format });
        }
    }
    Some(apps)
}

fn no_apps<T>(format: Format, diagnostics: &mut Diagnostics) -> Option<T> {
    diagnostics.report(None, ReadFinding::NoApps { format });
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of the apps found in a JSON text, or the errors.
    fn apps(json: &str) -> Result<Vec<String>, Vec<String>> {
        let mut diagnostics = Diagnostics::default();
        let document =
            super::super::formats::read(Format::Json, json, &mut diagnostics).expect("valid JSON");
        let shape = shape(&document, Format::Json, &mut diagnostics);
        let errors: Vec<String> = diagnostics
            .items
            .iter()
            .filter(|d| d.severity == super::super::Severity::Error)
            .map(|d| d.message.clone())
            .collect();
        match shape {
            Some(shape) if errors.is_empty() => Ok(shape
                .apps
                .iter()
                .map(|app| {
                    let name = app.value.as_table().unwrap().get("name").unwrap();
                    name.value.as_str().unwrap().to_owned()
                })
                .collect()),
            _ => Err(errors),
        }
    }

    #[test]
    fn every_shape_pm2_accepts() {
        let one = r#"{ "name": "a", "script": "a.js" }"#;
        for json in [
            format!(r#"{{ "apps": [{one}] }}"#),
            format!(r#"{{ "apps": {one} }}"#),
            format!(r#"{{ "pm2": [{one}] }}"#),
            format!(r#"{{ "apps": [{one}], "deploy": {{}} }}"#),
            format!("[{one}]"),
            one.to_owned(),
        ] {
            assert_eq!(apps(&json), Ok(vec!["a".to_owned()]), "{json}");
        }
    }

    #[test]
    fn shapes_that_hold_no_apps() {
        let no_apps = Err(vec!["this file defines no apps".to_owned()]);
        assert_eq!(apps("[]"), no_apps);
        assert_eq!(apps(r#"{ "apps": [] }"#), no_apps);
        assert_eq!(
            apps(r#"{ "title": "x" }"#),
            Err(vec![
                "unknown top-level key `title`".to_owned(),
                "this file defines no apps".to_owned()
            ])
        );
        assert_eq!(
            apps(
                r#"{ "pm2": [{ "name": "b", "script": "b.js" }], "apps": {"name": "a", "script": "a.js" } }"#
            ),
            Ok(vec!["a".to_owned()]),
            "`apps` wins over `pm2`, with a warning"
        );
        assert_eq!(
            apps(r#"{ "apps": 3 }"#),
            Err(vec!["invalid value for `apps`".to_owned()])
        );
        assert_eq!(
            apps("3"),
            Err(vec![
                "an ecosystem file holds apps, and this file holds a single value".to_owned()
            ])
        );
    }

    #[test]
    fn a_file_that_is_one_app_keeps_its_sections_apart() {
        let mut diagnostics = Diagnostics::default();
        let json = r#"{ "name": "a", "script": "a.js", "deploy": { "production": {} } }"#;
        let document = super::super::formats::read(Format::Json, json, &mut diagnostics).unwrap();
        let shape = shape(&document, Format::Json, &mut diagnostics).unwrap();
        assert_eq!(shape.top_level.len(), 1);
        assert_eq!(shape.top_level[0].0.name, "deploy");
        // Read by `nodeunits deploy`: no warning.
        assert_eq!(diagnostics.items.len(), 0);
    }
}
