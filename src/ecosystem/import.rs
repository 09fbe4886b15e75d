//! `nodeunits import`: an ecosystem file in any format written out as an
//! equivalent `ecosystem.toml`. Every key is kept, in the file's order (the
//! tables of an app after its other keys, as TOML wants), and every finding
//! of the compiler is written as a comment after the key it is about: what a
//! PM2 option that means nothing under systemd becomes, what is wrong.

use std::collections::BTreeSet;
use std::ops::Range;

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table};

use super::diagnostic::{Diagnostic, Diagnostics, Severity, Source};
use super::document::{Key, Node, Value};
use super::shape;

/// The TOML text of `document`, read from `source`, with the compiler's
/// `findings` about it as comments.
pub fn to_toml(source: &Source, document: &Node, findings: &Diagnostics) -> String {
    let mut notes = Notes {
        findings: findings.items.iter().collect(),
        used: BTreeSet::new(),
    };
    let mut toml = DocumentMut::new();
    let shape = shape::shape(document, source.format, &mut Diagnostics::default());
    let (apps, top_level) = match &shape {
        Some(shape) => (shape.apps.clone(), shape.top_level.clone()),
        None => (Vec::new(), Vec::new()),
    };
    let mut tables = ArrayOfTables::new();
    // The file's own apps: those of `static` stay in its `static`.
    for app in apps.iter().filter_map(|app| match app {
        std::borrow::Cow::Borrowed(app) => Some(*app),
        std::borrow::Cow::Owned(_) => None,
    }) {
        let Value::Table(entries) = &app.value else {
            continue;
        };
        // A file that is one app: its top-level sections are not options.
        let section = |name: &str| {
            std::ptr::eq(app, document) && top_level.iter().any(|(key, _)| key.name == name)
        };
        let mut table = Table::new();
        write_entries(
            &mut table,
            entries.iter().filter(|(key, _)| !section(&key.name)),
            &mut notes,
        );
        set_comment(table.decor_mut(), notes.at(&[starts(app)]));
        tables.push(table);
    }
    if !tables.is_empty() {
        toml.insert("apps", Item::ArrayOfTables(tables));
    }
    write_entries(toml.as_table_mut(), top_level.iter().copied(), &mut notes);
    let mut header = header(source);
    for finding in notes.unused() {
        header.push_str(&format!("# {}\n", note(finding)));
    }
    format!("{header}\n{toml}")
}

fn header(source: &Source) -> String {
    let file_name = source.path.file_name().map_or_else(
        || source.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut header = format!(
        "# Converted by `nodeunits import` from {}.\n\
         # Its keys in its order, each app's tables after its other keys; a comment\n\
         # after a key says what nodeunits makes of it where that differs from PM2.\n\
         # Relative paths are relative to this file: keep it beside {file_name}.\n",
        source.path.display()
    );
    if source.evaluated() {
        header.push_str("# The values are those the file evaluated to, here and now.\n");
    }
    header
}

/// The findings, each written once at least.
struct Notes<'d> {
    findings: Vec<&'d Diagnostic>,
    used: BTreeSet<usize>,
}

impl<'d> Notes<'d> {
    /// The notes about what starts within any of `ranges`.
    fn at(&mut self, ranges: &[Range<usize>]) -> Vec<String> {
        let mut notes = Vec::new();
        for (index, finding) in self.findings.iter().enumerate() {
            let start = finding.span.as_ref().map(|span| span.start);
            if start.is_some_and(|start| ranges.iter().any(|r| r.contains(&start))) {
                self.used.insert(index);
                notes.push(note(finding));
            }
        }
        notes
    }

    fn unused(&self) -> impl Iterator<Item = &&'d Diagnostic> {
        self.findings
            .iter()
            .enumerate()
            .filter(|(index, _)| !self.used.contains(index))
            .map(|(_, finding)| finding)
    }
}

fn note(finding: &Diagnostic) -> String {
    let label = match finding.severity {
        Severity::Error => "error: ",
        Severity::Warning => "",
    };
    let text = match &finding.help {
        Some(help) => format!("{label}{}; {help}", finding.message),
        None => format!("{label}{}", finding.message),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What starts where `node` starts, and not within it.
fn starts(node: &Node) -> Range<usize> {
    node.span.start..node.span.start + 1
}

/// What starts within `node`, which may be empty (YAML's empty value).
fn within(node: &Node) -> Range<usize> {
    node.span.start..node.span.end.max(node.span.start + 1)
}

fn set_comment(decor: &mut toml_edit::Decor, notes: Vec<String>) {
    if !notes.is_empty() {
        decor.set_suffix(format!("  # {}", notes.join("  # ")));
    }
}

/// Writes `entries` into `table`: tables as tables of their own, everything
/// else as values. TOML has no null: a key set to null is left out, with a
/// comment.
fn write_entries<'d>(
    table: &mut Table,
    entries: impl Iterator<Item = (&'d Key, &'d Node)>,
    notes: &mut Notes,
) {
    let mut left_out = String::new();
    for (key, value) in entries {
        let at_key = key.span.start..key.span.start + 1;
        match &value.value {
            Value::Null => {
                left_out.push_str(&format!(
                    "# {} = null: left out, as TOML has no null\n",
                    toml_edit::Key::new(key.name.as_str())
                ));
                for text in notes.at(&[at_key, within(value)]) {
                    left_out.push_str(&format!("#   and in the original: {text}\n"));
                }
            }
            Value::Table(entries) => {
                let mut child = Table::new();
                write_entries(&mut child, entries.iter(), notes);
                set_comment(child.decor_mut(), notes.at(&[at_key, starts(value)]));
                table.insert(&key.name, Item::Table(child));
            }
            _ => {
                let mut converted = toml_value(value);
                set_comment(converted.decor_mut(), notes.at(&[at_key, within(value)]));
                table.insert(&key.name, Item::Value(converted));
            }
        }
        if !left_out.is_empty() && !matches!(value.value, Value::Null) {
            let mut key = table.key_mut(&key.name).expect("just inserted");
            key.leaf_decor_mut()
                .set_prefix(std::mem::take(&mut left_out));
        }
    }
    if !left_out.is_empty() {
        let suffix = table
            .decor()
            .suffix()
            .and_then(|s| s.as_str())
            .unwrap_or("");
        let suffix = format!("{suffix}\n{}", left_out.trim_end());
        table.decor_mut().set_suffix(suffix);
    }
}

/// A value as TOML writes it; a table inside an array becomes an inline table.
fn toml_value(node: &Node) -> toml_edit::Value {
    match &node.value {
        Value::String(s) => s.as_str().into(),
        Value::Integer(n) => (*n).into(),
        // Kept as the same text: a float is only ever the value of a variable.
        Value::Float(text) => match text.parse::<f64>() {
            Ok(f) if f.to_string() == *text => f.into(),
            _ => text.as_str().into(),
        },
        Value::Boolean(b) => (*b).into(),
        Value::Datetime(text) => match text.parse::<toml_edit::Datetime>() {
            Ok(datetime) => datetime.into(),
            Err(_) => text.as_str().into(),
        },
        Value::Array(items) => {
            let array: Array = items
                .iter()
                .filter(|item| !matches!(item.value, Value::Null))
                .map(toml_value)
                .collect();
            toml_edit::Value::Array(array)
        }
        Value::Table(table) => {
            let mut inline = InlineTable::new();
            for (key, value) in table.iter() {
                if !matches!(value.value, Value::Null) {
                    inline.insert(&key.name, toml_value(value));
                }
            }
            toml_edit::Value::InlineTable(inline)
        }
        Value::Null => "".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::ecosystem::formats::{self, Format};

    #[test]
    fn keys_in_order_values_escaped_findings_as_comments() {
        let json = r#"{ "apps": [{ "name": "a\"b", "watch": true, "env": { "X": "1\n2" }, "cwd": null, "script": "a.js" }] }"#;
        let mut diagnostics = Diagnostics::default();
        let document = formats::read(Format::Json, json, &mut diagnostics).unwrap();
        let at = json.find("\"watch\"").unwrap();
        let finding = crate::ecosystem::findings::OptionFinding::IgnoredOption {
            key: "watch".to_owned(),
            instead: "reload",
        };
        diagnostics.report(Some(at..at + 7), finding);
        let source = Source::new(Path::new("eco.json"), Format::Json, json.to_owned());
        let toml = to_toml(&source, &document, &diagnostics);
        let body = toml.split_once("\n\n").unwrap().1;
        assert_eq!(
            body,
            "[[apps]]\nname = 'a\"b'\nwatch = true  # `watch` has no meaning under systemd and is ignored; instead: reload\n# cwd = null: left out, as TOML has no null\nscript = \"a.js\"\n\n[apps.env]\nX = \"\"\"\n1\n2\"\"\"\n"
        );
        let parsed: toml::Table = toml::from_str(&toml).expect("valid TOML");
        assert_eq!(parsed["apps"][0]["env"]["X"].as_str(), Some("1\n2"));
    }
}
