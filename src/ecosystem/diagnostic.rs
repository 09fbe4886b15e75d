//! Errors and warnings about an ecosystem file, shown as the file's line
//! with a caret under the offending value, then what is allowed.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, located by a byte range of the file when it has a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub span: Option<Range<usize>>,
    /// What is wrong, one sentence.
    pub message: String,
    /// What is allowed, or what happens instead.
    pub help: Option<String>,
}

/// The findings of one compilation, in the order they were made.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn error(
        &mut self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(Severity::Error, span, message.into(), help.into());
    }

    pub fn warning(
        &mut self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(Severity::Warning, span, message.into(), help.into());
    }

    fn push(
        &mut self,
        severity: Severity,
        span: Option<Range<usize>>,
        message: String,
        help: String,
    ) {
        let help = (!help.is_empty()).then_some(help);
        self.items.push(Diagnostic {
            severity,
            span,
            message,
            help,
        });
    }

    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == severity).count()
    }

    /// All findings of `severity`, each rendered with its place in `source`.
    /// In the order of the file; findings about the whole file last.
    pub fn render(&self, severity: Severity, path: &Path, source: &str) -> Vec<String> {
        let mut items: Vec<&Diagnostic> = self
            .items
            .iter()
            .filter(|d| d.severity == severity)
            .collect();
        items.sort_by_key(|d| d.span.as_ref().map_or(usize::MAX, |s| s.start));
        items.into_iter().map(|d| render(d, path, source)).collect()
    }
}

/// ```text
/// error: `instances` must be a number of workers
///   --> ecosystem.toml:4:13
///    |
///  4 | instances = "lots"
///    |             ^^^^^^
///    = help: a whole number, "max", ...
/// ```
pub fn render(diagnostic: &Diagnostic, path: &Path, source: &str) -> String {
    let label = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut out = format!("{label}: {}\n", diagnostic.message);
    match &diagnostic.span {
        Some(span) => {
            let start = char_boundary(source, span.start);
            let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = source[start..]
                .find('\n')
                .map_or(source.len(), |i| start + i);
            let line = source[line_start..line_end].trim_end_matches('\r');
            // A span from inside the `\r\n` that ends the line is shown at its end.
            let start = start.min(line_start + line.len());
            let line_no = source[..line_start].matches('\n').count() + 1;
            let column = source[line_start..start].chars().count() + 1;
            let end = char_boundary(source, span.end).clamp(start, line_start + line.len());
            let width = source[start..end].chars().count().max(1);
            let gutter = " ".repeat(line_no.to_string().len());
            let pad: String = source[line_start..start]
                .chars()
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{gutter}--> {}:{line_no}:{column}", path.display());
            let _ = writeln!(out, "{gutter} |");
            let _ = writeln!(out, "{line_no} | {line}");
            let _ = writeln!(out, "{gutter} | {pad}{}", "^".repeat(width));
            if let Some(help) = &diagnostic.help {
                let _ = writeln!(out, "{gutter} = {help}");
            }
        }
        None => {
            let _ = writeln!(out, "  --> {}", path.display());
            if let Some(help) = &diagnostic.help {
                let _ = writeln!(out, "  = {help}");
            }
        }
    }
    out
}

/// `offset` within `source`, moved back to the start of the character it
/// falls in: a span may end past the text or inside a character.
fn char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_under_the_value() {
        let source = "[[apps]]\nname = \"api\"\ninstances = \"lots\"\n";
        let start = source.find("\"lots\"").unwrap();
        let diagnostic = Diagnostic {
            severity: Severity::Error,
            span: Some(start..start + 6),
            message: "bad".into(),
            help: Some("allowed: numbers".into()),
        };
        assert_eq!(
            render(&diagnostic, Path::new("eco.toml"), source),
            "error: bad\n --> eco.toml:3:13\n  |\n3 | instances = \"lots\"\n  |             ^^^^^^\n  = allowed: numbers\n"
        );
    }

    fn place(source: &str, span: Range<usize>) -> String {
        let diagnostic = Diagnostic {
            severity: Severity::Error,
            span: Some(span),
            message: "bad".into(),
            help: None,
        };
        let shown = render(&diagnostic, Path::new("eco.toml"), source);
        shown.lines().skip(1).collect::<Vec<_>>().join("\n")
    }

    /// The TOML parser's errors for an unterminated string on a CRLF line:
    /// one at the `\r`, one at the `\n`.
    #[test]
    fn a_span_in_a_crlf_line_end_is_shown_at_the_end_of_the_line() {
        let source = "[[apps]]\nname = \"api\r\nscript = \"a.js\"\r\n";
        let end_of_line = " --> eco.toml:2:12\n  |\n2 | name = \"api\n  |            ^";
        let cr = source.find('\r').unwrap();
        for span in [cr..cr + 1, cr + 1..cr + 2, cr + 1..cr + 1, cr + 1..cr] {
            assert_eq!(place(source, span), end_of_line);
        }
    }

    #[test]
    #[allow(clippy::reversed_empty_ranges)] // A span that ends before it starts.
    fn spans_inside_a_character_or_past_the_text_are_shown_on_its_line() {
        let source = "\u{feff}name = \"é\"\0";
        assert_eq!(
            place(source, 1..13),
            " --> eco.toml:1:1\n  |\n1 | \u{feff}name = \"é\"\0\n  | ^^^^^^^^^^"
        );
        assert_eq!(
            place(source, 12..12),
            " --> eco.toml:1:10\n  |\n1 | \u{feff}name = \"é\"\0\n  |          ^"
        );
        assert_eq!(
            place(source, 99..100),
            " --> eco.toml:1:13\n  |\n1 | \u{feff}name = \"é\"\0\n  |             ^"
        );
        assert_eq!(place("", 3..1), " --> eco.toml:1:1\n  |\n1 | \n  | ^");
    }
}
