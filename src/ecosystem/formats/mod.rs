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
        Format::JavaScript => match javascript::evaluate(path, absolute, evaluator) {
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
