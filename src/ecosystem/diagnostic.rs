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
            let start = span.start.min(source.len());
            let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = source[start..]
                .find('\n')
                .map_or(source.len(), |i| start + i);
            let line = source[line_start..line_end].trim_end_matches('\r');
            let line_no = source[..line_start].matches('\n').count() + 1;
            let column = source[line_start..start].chars().count() + 1;
            let end = span.end.clamp(start, line_start + line.len());
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
}
