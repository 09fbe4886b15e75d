//! Each format an ecosystem file may be written in, read into a
//! [`Node`] tree whose spans point into the file.

use super::diagnostic::Diagnostics;
use super::document::{self, Node};

/// Reads TOML; its syntax errors are recorded with their places.
pub fn toml(source: &str, diagnostics: &mut Diagnostics) -> Option<Node> {
    let (table, syntax_errors) = toml::de::DeTable::parse_recoverable(source);
    for error in &syntax_errors {
        diagnostics.error(
            error.span(),
            format!("this is not valid TOML: {}", error.message().trim_end()),
            "see https://toml.io for the syntax",
        );
    }
    if !syntax_errors.is_empty() {
        return None;
    }
    Some(document::from_toml(table.get_ref(), 0..source.len()))
}
