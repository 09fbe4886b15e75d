//! Errors and warnings about an ecosystem file, shown as the file's line
//! with a caret under the offending value, then what is allowed. A file
//! evaluated by Node has no text of its own to show: its findings are placed
//! by the path of the key instead (`apps[0].instances`).

use std::fmt::{self, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::formats::Format;

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

/// A kind of finding, worded once: its sentence is its `Display`, beside
/// its severity and what is allowed (as just's `CompileErrorKind`).
pub trait Kind: fmt::Display {
    fn severity(&self) -> Severity;
    /// What is allowed, or what happens instead; empty for nothing to add.
    fn help(&self) -> String;
}

impl Diagnostics {
    /// Records a finding of `kind` at `span` (a byte range of the file).
    pub fn report(&mut self, span: Option<Range<usize>>, kind: impl Kind) {
        let (message, help) = (kind.to_string(), kind.help());
        self.push(kind.severity(), span, message, help);
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
    pub fn render(&self, severity: Severity, source: &Source) -> Vec<String> {
        let mut items: Vec<&Diagnostic> = self
            .items
            .iter()
            .filter(|d| d.severity == severity)
            .collect();
        items.sort_by_key(|d| d.span.as_ref().map_or(usize::MAX, |s| s.start));
        items.into_iter().map(|d| render(d, source)).collect()
    }
}

/// What the spans of the diagnostics point into.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file, as the user named it.
    pub path: PathBuf,
    pub format: Format,
    /// The file's text; for JavaScript (and a `.json` file evaluated as
    /// JavaScript), the JSON of what it evaluated to.
    pub text: String,
    /// For JavaScript: the path of the key or value starting at each offset
    /// of `text`, shown instead of a line of text the file does not have.
    key_paths: Vec<(usize, String)>,
    /// `text` is what the file evaluated to, not the file.
    evaluated: bool,
}

impl Source {
    pub fn new(path: &Path, format: Format, text: String) -> Source {
        Source {
            path: path.to_path_buf(),
            format,
            text,
            key_paths: Vec::new(),
            evaluated: format == Format::JavaScript,
        }
    }

    /// `text` is the JSON the file evaluated to; `key_paths` place its findings.
    pub fn set_key_paths(&mut self, key_paths: Vec<(usize, String)>) {
        self.key_paths = key_paths;
        self.evaluated = true;
    }

    /// Whether `text` is what the file evaluated to, whose findings are
    /// placed by key paths.
    pub fn evaluated(&self) -> bool {
        self.evaluated
    }

    /// The path of what starts at `offset`, or of what holds it.
    fn key_path(&self, offset: usize) -> Option<&str> {
        let index = self
            .key_paths
            .partition_point(|(start, _)| *start <= offset);
        let (_, path) = self.key_paths.get(index.checked_sub(1)?)?;
        (!path.is_empty()).then_some(path.as_str())
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
pub fn render(diagnostic: &Diagnostic, source: &Source) -> String {
    let label = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut out = format!("{label}: {}\n", diagnostic.message);
    let gutter = match &diagnostic.span {
        Some(span) if !source.evaluated() => show_line(&mut out, span, source),
        span => {
            let key = span.as_ref().and_then(|span| source.key_path(span.start));
            let place = key.map(|key| format!(": {key}")).unwrap_or_default();
            let _ = writeln!(out, "  --> {}{place}", source.path.display());
            " ".to_owned()
        }
    };
    if let Some(help) = &diagnostic.help {
        let _ = writeln!(out, "{gutter} = {}", indent_lines(help));
    }
    out
}

/// `file:line:column`, the line and a caret under the span; returns the
/// gutter the lines were written with.
fn show_line(out: &mut String, span: &Range<usize>, source: &Source) -> String {
    let path = source.path.display();
    let source = source.text.as_str();
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
    let _ = writeln!(out, "{gutter}--> {path}:{line_no}:{column}");
    let _ = writeln!(out, "{gutter} |");
    let _ = writeln!(out, "{line_no} | {line}");
    let _ = writeln!(out, "{gutter} | {pad}{}", "^".repeat(width));
    gutter
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

/// A help of several lines (Node's message) goes on indented under its `=`.
fn indent_lines(help: &str) -> String {
    help.lines()
        .enumerate()
        .map(|(i, line)| match (i, line.is_empty()) {
            (0, _) | (_, true) => line.to_owned(),
            _ => format!("    {line}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
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
        let source = Source::new(Path::new("eco.toml"), Format::Toml, source.to_owned());
        assert_eq!(
            render(&diagnostic, &source),
            "error: bad\n --> eco.toml:3:13\n  |\n3 | instances = \"lots\"\n  |             ^^^^^^\n  = allowed: numbers\n"
        );
    }

    #[test]
    fn javascript_is_placed_by_key_path() {
        let text = "{\n  \"apps\": [\n    {\n      \"instances\": \"lots\"\n    }\n  ]\n}\n";
        let mut diagnostics = Diagnostics::default();
        let document =
            super::super::formats::read(Format::JavaScript, text, &mut diagnostics).expect("JSON");
        let mut source = Source::new(
            Path::new("ecosystem.config.js"),
            Format::JavaScript,
            text.to_owned(),
        );
        source.set_key_paths(super::super::document::key_paths(&document));
        let start = text.find("\"lots\"").unwrap();
        let diagnostic = Diagnostic {
            severity: Severity::Error,
            span: Some(start..start + 6),
            message: "bad".into(),
            help: Some("node says:\nline one\n\nline two".into()),
        };
        assert_eq!(
            render(&diagnostic, &source),
            "error: bad\n  --> ecosystem.config.js: apps[0].instances\n  = node says:\n    line one\n\n    line two\n"
        );
    }

    fn place(source: &str, span: Range<usize>) -> String {
        let diagnostic = Diagnostic {
            severity: Severity::Error,
            span: Some(span),
            message: "bad".into(),
            help: None,
        };
        let source = Source::new(Path::new("eco.toml"), Format::Toml, source.to_owned());
        let shown = render(&diagnostic, &source);
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
