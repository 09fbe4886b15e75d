//! Each format an ecosystem file may be written in, chosen by the file's
//! name as PM2 chooses it, read into a [`Node`] tree whose spans point into
//! the text the diagnostics are shown against.

/// What reading a file finds, each kind worded once.
pub mod findings;
/// JavaScript, evaluated by Node.
mod javascript;
/// JSON and JSON5, read as leniently as PM2's evaluation reads them.
mod json;
/// TOML.
mod toml;
/// YAML 1.2.
mod yaml;

use std::path::Path;

use javascript::Code;
pub use javascript::Evaluator;

use super::diagnostic::{Diagnostics, Source};
use super::document::{self, Node};
use findings::ReadFinding;

/// The formats of an ecosystem file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
    /// JSON, and JSON5 (`.json5`).
    Json,
    /// A CommonJS or ES module evaluated by Node: `ecosystem.config.js`,
    /// `.cjs`, `.mjs`.
    JavaScript,
}

/// The names a file may have, for messages.
pub const FILE_NAMES: &str =
    "*.toml, *.yaml or *.yml, *.json or *.json5, or JavaScript: *.js, *.cjs or *.mjs (evaluated by node)";

impl Format {
    /// The format of the file at `path`, by its extension.
    pub fn of(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            "json" | "json5" => Some(Format::Json),
            "js" | "cjs" | "mjs" => Some(Format::JavaScript),
            _ => None,
        }
    }

    /// How this format writes a file's apps, for messages.
    pub fn apps_example(self) -> &'static str {
        match self {
            Format::Toml => "an `[[apps]]` table per app",
            Format::Yaml => "a list of apps under `apps:`",
            Format::Json => "an array of apps under `\"apps\"`",
            Format::JavaScript => "`module.exports = { apps: [...] }`, an object per app",
        }
    }
}

/// Reads the ecosystem file `path` (as the user named it; `absolute` is the
/// same file) in the format its name says; a JavaScript file is evaluated by
/// `evaluator`. Returns the source the diagnostics are shown against, and
/// the document when there is one to validate; every problem is recorded.
pub fn load(
    path: &Path,
    absolute: &Path,
    evaluator: &Evaluator,
    diagnostics: &mut Diagnostics,
) -> (Source, Option<Node>) {
    let Some(format) = Format::of(path) else {
        let unknown = ReadFinding::UnknownFormat {
            path: path.to_owned(),
        };
        diagnostics.report(None, unknown);
        return (Source::new(path, Format::Toml, String::new()), None);
    };
    let failed = |diagnostics: &mut Diagnostics, finding: ReadFinding| {
        diagnostics.report(None, finding);
        (Source::new(path, format, String::new()), None)
    };
    let text = match std::fs::read_to_string(absolute) {
        Ok(text) => text,
        Err(err) => {
            let (path, why) = (path.to_owned(), err.to_string());
            return failed(diagnostics, ReadFinding::Unreadable { path, why });
        }
    };
    let text = match format {
        Format::Json => return json_or_expression(path, absolute, text, evaluator, diagnostics),
        Format::JavaScript => match javascript::evaluate(path, absolute, evaluator, Code::Module) {
            Ok(json) => json,
            Err(failure) => {
                let (message, help) = (failure.message, failure.help);
                return failed(diagnostics, ReadFinding::NotEvaluated { message, help });
            }
        },
        _ => text,
    };
    let mut source = Source::new(path, format, text);
    let document = read(format, &source.text, diagnostics);
    if let (Format::JavaScript, Some(document)) = (format, &document) {
        source.set_key_paths(document::key_paths(document));
    }
    (source, document)
}

/// A `.json` file: JSON, read as leniently as PM2 reads it; else one
/// JavaScript expression evaluated by Node, as PM2 evaluates every `.json`
/// file (`Common.parseConfig`), with a warning. When it is neither, both
/// errors are reported: the JSON's in place, then Node's.
fn json_or_expression(
    path: &Path,
    absolute: &Path,
    text: String,
    evaluator: &Evaluator,
    diagnostics: &mut Diagnostics,
) -> (Source, Option<Node>) {
    let Some((span, why)) = json::syntax_error(&text) else {
        let source = Source::new(path, Format::Json, text);
        let document = json::read(&source.text, diagnostics);
        return (source, document);
    };
    match javascript::evaluate(path, absolute, evaluator, Code::Expression) {
        Ok(json) => {
            let (line, column) = line_and_column(&text, span.start);
            let finding = ReadFinding::EvaluatedAsJavaScript { why, line, column };
            diagnostics.report(None, finding);
            let mut source = Source::new(path, Format::Json, json);
            let document = json::read(&source.text, diagnostics);
            if let Some(document) = &document {
                source.set_key_paths(document::key_paths(document));
            }
            (source, document)
        }
        Err(failure) => {
            diagnostics.report(Some(span), ReadFinding::JsonInvalid { why });
            let (message, help) = (failure.message, failure.help);
            diagnostics.report(None, ReadFinding::NotAnExpression { message, help });
            (Source::new(path, Format::Json, text), None)
        }
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// Reads `text` in `format`; for JavaScript, the JSON of what it evaluated to.
pub fn read(format: Format, text: &str, diagnostics: &mut Diagnostics) -> Option<Node> {
    match format {
        Format::Toml => toml::read(text, diagnostics),
        Format::Yaml => yaml::read(text, diagnostics),
        Format::Json | Format::JavaScript => json::read(text, diagnostics),
    }
}

/// A number as JavaScript has it: PM2 reads YAML and JSON into JavaScript
/// values, so `2.0` is the integer 2 and `1.10` is 1.1.
pub(super) fn number(n: f64) -> document::Value {
    // Beyond 2^53 a JavaScript number is no longer a whole number one can count on.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() <= EXACT {
        document::Value::Integer(n as i64)
    } else if n.is_nan() {
        document::Value::Float("NaN".into())
    } else if n.is_infinite() {
        document::Value::Float(if n > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        document::Value::Float(n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ecosystem::Severity;

    /// Loads `text` as a `.json` file with no node to evaluate JavaScript.
    fn load_json_without_node(text: &str) -> (Option<Node>, Vec<(Severity, String)>) {
        let dir = std::env::temp_dir().join(format!("nodeunits-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{:x}.json", text.len()));
        std::fs::write(&file, text).unwrap();
        let environment = BTreeMap::new();
        let evaluator = Evaluator {
            node: None,
            environment: &environment,
        };
        let mut diagnostics = Diagnostics::default();
        let (_, document) = load(&file, &file, &evaluator, &mut diagnostics);
        let _ = std::fs::remove_file(&file);
        let found = diagnostics.items.into_iter();
        (document, found.map(|d| (d.severity, d.message)).collect())
    }

    #[test]
    fn json_is_read_without_node() {
        let (document, found) = load_json_without_node("{ apps: [{ name: 'a', script: 'a.js' }] }");
        assert!(document.is_some());
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn what_is_not_json_is_evaluated_as_pm2_does_and_without_node_both_are_said() {
        let (document, found) = load_json_without_node("{ apps: [{ name: 'a' + 'b' }] }");
        assert!(document.is_none());
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, Severity::Error);
        assert!(
            found[0].1.starts_with("this is not valid JSON: "),
            "{found:?}"
        );
        assert_eq!(found[1].0, Severity::Error);
        assert!(
            found[1].1.starts_with("nor is it a JavaScript expression, as which PM2 would evaluate it: ")
                && found[1].1.ends_with("is to be evaluated as JavaScript, and there is no `node` in PATH to evaluate it"),
            "{found:?}"
        );
    }

    #[test]
    fn lines_and_columns_count_characters() {
        assert_eq!(line_and_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_and_column("x", 0), (1, 1));
    }
}
