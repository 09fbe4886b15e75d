//! What reading an ecosystem file finds before its apps' values are looked
//! at: a file that cannot be read, syntax errors in each format, YAML's
//! constructs that have no JavaScript value, a shape that holds no apps
//! (`shape`). One kind each, worded once.

use std::fmt;
use std::path::PathBuf;

use super::{Format, FILE_NAMES};
use crate::ecosystem::diagnostic::Kind;
use crate::ecosystem::Severity;

/// A finding of reading the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadFinding {
    UnknownFormat {
        path: PathBuf,
    },
    /// `why`: the system's words.
    Unreadable {
        path: PathBuf,
        why: String,
    },
    /// A JavaScript file Node could not evaluate, in the words of
    /// `javascript::evaluate`.
    NotEvaluated {
        message: String,
        help: String,
    },
    JsonEmpty,
    /// `why`: the parser's words.
    JsonInvalid {
        why: String,
    },
    /// A `.json` file that is not JSON, evaluated as JavaScript as PM2
    /// evaluates it; `why`, `line`, `column`: the JSON parser's words and
    /// place.
    EvaluatedAsJavaScript {
        why: String,
        line: usize,
        column: usize,
    },
    /// A `.json` file Node could not evaluate either, in the words of
    /// `javascript::evaluate`.
    NotAnExpression {
        message: String,
        help: String,
    },
    /// A key of an object set twice: the earlier one.
    KeyRepeated {
        name: String,
    },
    TomlInvalid {
        why: String,
    },
    YamlInvalid {
        why: String,
    },
    YamlDocuments,
    YamlTag {
        tag: String,
    },
    YamlUnreadable,
    /// A key that is a mapping or a list.
    YamlKeyNotText,
    /// A key that is a scalar of another kind.
    YamlKeyNotPlain,
    YamlMergeNotMapping,
    /// The whole file is a string, a number…
    SingleValue {
        format: Format,
    },
    /// `key`: as the file spells it, `apps` or `pm2`.
    AppsInvalid {
        key: String,
        format: Format,
    },
    AppNotTable {
        format: Format,
    },
    NoApps {
        format: Format,
    },
}

impl Kind for ReadFinding {
    fn severity(&self) -> Severity {
        match self {
            ReadFinding::KeyRepeated { .. } | ReadFinding::EvaluatedAsJavaScript { .. } => {
                Severity::Warning
            }
            _ => Severity::Error,
        }
    }

    fn help(&self) -> String {
        match self {
            ReadFinding::UnknownFormat { .. } => format!("name an ecosystem file {FILE_NAMES}"),
            ReadFinding::Unreadable { .. } | ReadFinding::YamlKeyNotPlain => String::new(),
            ReadFinding::NotEvaluated { help, .. } => help.clone(),
            ReadFinding::EvaluatedAsJavaScript { .. } => "PM2 evaluates a .json file as one JavaScript expression, and so did nodeunits, with Node; to silence this, write it as JSON, or name it *.config.js (`module.exports = ...`), or convert it with `nodeunits import`".to_owned(),
            ReadFinding::NotAnExpression { help, .. } => help.clone(),
            ReadFinding::JsonEmpty => format!(
                "an ecosystem file holds its apps: {}",
                Format::Json.apps_example()
            ),
            ReadFinding::JsonInvalid { .. } => "PM2 reads a .json file as a JavaScript value: comments, trailing commas, single quotes and unquoted keys are allowed; for values computed by code, name the file *.config.js".to_owned(),
            ReadFinding::KeyRepeated { .. } => {
                "the last value is used, as PM2 does; remove this one".to_owned()
            }
            ReadFinding::TomlInvalid { .. } => "see https://toml.io for the syntax".to_owned(),
            ReadFinding::YamlInvalid { .. } => "see https://yaml.org for the syntax".to_owned(),
            ReadFinding::YamlDocuments => {
                "an ecosystem file is one document: remove the `---` that starts another"
                    .to_owned()
            }
            ReadFinding::YamlTag { .. } => {
                "remove the tag: values are strings, numbers, booleans, lists and mappings"
                    .to_owned()
            }
            ReadFinding::YamlUnreadable => "check its tag, or the anchor it refers to".to_owned(),
            ReadFinding::YamlKeyNotText => "write the key as text, such as `name:`".to_owned(),
            ReadFinding::YamlMergeNotMapping => {
                "refer to an anchored mapping, such as `<<: *defaults`".to_owned()
            }
            ReadFinding::SingleValue { format } => format!(
                "allowed: {}; or an array of apps; or one app",
                format.apps_example()
            ),
            ReadFinding::AppsInvalid { format, .. } => {
                format!("allowed: {}", format.apps_example())
            }
            ReadFinding::AppNotTable { format } => format!(
                "each app is a table with at least `name` and `script`: {}",
                format.apps_example()
            ),
            ReadFinding::NoApps { format } => format!(
                "add {} with at least `name` and `script`",
                format.apps_example()
            ),
        }
    }
}

impl fmt::Display for ReadFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadFinding::UnknownFormat { path } => write!(
                f,
                "cannot tell the format of {} from its name",
                path.display()
            ),
            ReadFinding::Unreadable { path, why } => {
                write!(f, "cannot read {}: {why}", path.display())
            }
            ReadFinding::NotEvaluated { message, .. } => f.write_str(message),
            ReadFinding::JsonEmpty => f.write_str("this JSON file holds no value"),
            ReadFinding::JsonInvalid { why } => write!(f, "this is not valid JSON: {why}"),
            ReadFinding::EvaluatedAsJavaScript { why, line, column } => write!(f, "this file is not JSON ({why} at line {line}, column {column}): it was evaluated as a JavaScript expression, as PM2 evaluates it"),
            ReadFinding::NotAnExpression { message, .. } => write!(f, "nor is it a JavaScript expression, as which PM2 would evaluate it: {message}"),
            ReadFinding::KeyRepeated { name } => write!(f, "`{name}` is set again further on"),
            ReadFinding::TomlInvalid { why } => write!(f, "this is not valid TOML: {why}"),
            ReadFinding::YamlInvalid { why } => write!(f, "this is not valid YAML: {why}"),
            ReadFinding::YamlDocuments => {
                f.write_str("this file holds more than one YAML document")
            }
            ReadFinding::YamlTag { tag } => write!(f, "the YAML tag `{tag}` is not supported"),
            ReadFinding::YamlUnreadable => f.write_str("this YAML value cannot be read"),
            ReadFinding::YamlKeyNotText | ReadFinding::YamlKeyNotPlain => {
                f.write_str("a key must be a plain value")
            }
            ReadFinding::YamlMergeNotMapping => {
                f.write_str("`<<` merges a mapping, or a list of mappings")
            }
            ReadFinding::SingleValue { .. } => {
                f.write_str("an ecosystem file holds apps, and this file holds a single value")
            }
            ReadFinding::AppsInvalid { key, .. } => write!(f, "invalid value for `{key}`"),
            ReadFinding::AppNotTable { .. } => f.write_str("this app is not a table of options"),
            ReadFinding::NoApps { .. } => f.write_str("this file defines no apps"),
        }
    }
}
