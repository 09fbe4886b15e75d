//! TOML, through the `toml` crate's spanned tables.

use super::findings::ReadFinding;
use crate::ecosystem::diagnostic::Diagnostics;
use crate::ecosystem::document::{self, Node};

/// Reads TOML; its syntax errors are recorded with their places.
pub fn read(source: &str, diagnostics: &mut Diagnostics) -> Option<Node> {
    let (table, syntax_errors) = toml::de::DeTable::parse_recoverable(source);
    for error in &syntax_errors {
        let why = error.message().trim_end().to_owned();
        diagnostics.report(error.span(), ReadFinding::TomlInvalid { why });
    }
    if !syntax_errors.is_empty() {
        return None;
    }
    Some(document::from_toml(table.get_ref(), 0..source.len()))
}
