//! JSON and JSON5. PM2 evaluates a `.json` file as a JavaScript value, so
//! what JavaScript allows there is read too: comments, trailing commas,
//! single quotes, unquoted keys, hexadecimal numbers; a key given twice
//! keeps its last value, with a warning.

use jsonc_parser::ast::{self, ObjectPropName};
use jsonc_parser::{CollectOptions, ParseOptions};

use super::findings::ReadFinding;
use super::number;
use crate::ecosystem::diagnostic::Diagnostics;
use crate::ecosystem::document::{Key, Node, Table, Value};

fn options() -> ParseOptions {
    ParseOptions {
        // JavaScript wants its commas.
        allow_missing_commas: false,
        ..ParseOptions::default()
    }
}

/// Where `source` is not JSON (as leniently read as [`read`] reads it), and
/// why; `None` when it is.
pub fn syntax_error(source: &str) -> Option<(std::ops::Range<usize>, String)> {
    let error = jsonc_parser::parse_to_ast(source, &CollectOptions::default(), &options()).err()?;
    let range = error.range();
    Some((
        range.start..range.end.max(range.start + 1),
        error.kind().to_string(),
    ))
}

/// Reads JSON; a syntax error is recorded with its place.
pub fn read(source: &str, diagnostics: &mut Diagnostics) -> Option<Node> {
    match jsonc_parser::parse_to_ast(source, &CollectOptions::default(), &options()) {
        Ok(parsed) => match parsed.value {
            Some(value) => Some(node(&value, diagnostics)),
            None => {
                diagnostics.report(Some(0..source.len()), ReadFinding::JsonEmpty);
                None
            }
        },
        Err(error) => {
            let range = error.range();
            let why = error.kind().to_string();
            let span = range.start..range.end.max(range.start + 1);
            diagnostics.report(Some(span), ReadFinding::JsonInvalid { why });
            None
        }
    }
}

fn node(value: &ast::Value, diagnostics: &mut Diagnostics) -> Node {
    let span = |range: jsonc_parser::common::Range| range.start..range.end;
    match value {
        ast::Value::StringLit(s) => Node::new(span(s.range), Value::String(s.value.to_string())),
        ast::Value::NumberLit(n) => Node::new(span(n.range), parse_number(n.value)),
        ast::Value::BooleanLit(b) => Node::new(span(b.range), Value::Boolean(b.value)),
        ast::Value::NullKeyword(n) => Node::new(span(n.range), Value::Null),
        ast::Value::Array(array) => Node::new(
            span(array.range),
            Value::Array(
                array
                    .elements
                    .iter()
                    .map(|e| node(e, diagnostics))
                    .collect(),
            ),
        ),
        ast::Value::Object(object) => {
            let mut table = Table::default();
            for property in &object.properties {
                let (name, range) = match &property.name {
                    ObjectPropName::String(s) => (s.value.to_string(), s.range),
                    ObjectPropName::Word(w) => (w.value.to_owned(), w.range),
                };
                let key = Key {
                    name,
                    span: span(range),
                };
                if let Some(index) = table.entries.iter().position(|(k, _)| k.name == key.name) {
                    let (earlier, _) = table.entries.remove(index);
                    let name = earlier.name;
                    diagnostics.report(Some(earlier.span), ReadFinding::KeyRepeated { name });
                }
                let value = node(&property.value, diagnostics);
                table.entries.push((key, value));
            }
            Node::new(span(object.range), Value::Table(table))
        }
    }
}

/// A number literal, as JavaScript reads it.
fn parse_number(raw: &str) -> Value {
    let (negative, digits) = match raw.as_bytes().first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    let magnitude = match digits.get(..2) {
        Some("0x" | "0X") => u64::from_str_radix(&digits[2..], 16).ok().map(|n| n as f64),
        _ => digits.parse::<f64>().ok(),
    };
    match magnitude {
        Some(n) => number(if negative { -n } else { n }),
        // The parser accepts only numbers; kept as written all the same.
        None => Value::Float(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_javascript_reads_them() {
        assert_eq!(parse_number("3000"), Value::Integer(3000));
        assert_eq!(parse_number("-1"), Value::Integer(-1));
        assert_eq!(parse_number("2.0"), Value::Integer(2));
        assert_eq!(parse_number("1e3"), Value::Integer(1000));
        assert_eq!(parse_number("0x1F"), Value::Integer(31));
        assert_eq!(parse_number("+5"), Value::Integer(5));
        assert_eq!(parse_number("1.10"), Value::Float("1.1".into()));
        assert_eq!(parse_number(".5"), Value::Float("0.5".into()));
        assert_eq!(parse_number("Infinity"), Value::Float("Infinity".into()));
    }

    #[test]
    fn lenient_as_pm2_and_last_key_wins() {
        let text = "// apps\n{ apps: [{ name: 'api', script: \"a.js\", name: 'web', }], }";
        let mut diagnostics = Diagnostics::default();
        let document = read(text, &mut diagnostics).expect("reads");
        let apps = document.value.as_table().unwrap().get("apps").unwrap();
        let app = apps.value.as_array().unwrap()[0].value.as_table().unwrap();
        let keys: Vec<&str> = app.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(keys, ["script", "name"]);
        assert_eq!(app.get("name").unwrap().value.as_str(), Some("web"));
        assert_eq!(&text[app.get("name").unwrap().span()], "'web'");
        assert_eq!(diagnostics.items.len(), 1);
        assert!(!diagnostics.has_errors());
    }

    #[test]
    fn a_syntax_error_at_its_place() {
        let text = "{\n  \"apps\": [\n    { \"name\": \"api\" \"script\": \"a.js\" }\n  ]\n}\n";
        let mut diagnostics = Diagnostics::default();
        assert!(read(text, &mut diagnostics).is_none());
        // Where the comma is missing.
        let span = diagnostics.items[0].span.clone().unwrap();
        assert_eq!(span.start, text.find("\"api\"").unwrap() + 5);
        assert_eq!(
            diagnostics.items[0].message,
            "this is not valid JSON: Expected comma"
        );
    }
}
