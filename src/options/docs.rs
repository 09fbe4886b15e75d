//! The option tables of the documentation, generated from the table: the
//! Markdown tables of docs/ecosystem.md and the OPTIONS and IGNORED PM2
//! OPTIONS sections of `man 5 ecosystem.toml`. Each stands in its file
//! between two marker lines; `tests/man_pages.rs` fails when a committed
//! copy differs from what is generated here, and `make man` writes it.

use super::{table, Row};
use crate::ecosystem::keys::{Handling, Known, TOP_LEVEL};

/// One generated part of a file: its name in the marker lines, and its text.
pub struct Generated {
    pub name: &'static str,
    pub text: String,
}

/// The marker lines around a generated part, in Markdown or in roff.
pub fn markers(name: &str, roff: bool) -> (String, String) {
    if roff {
        (
            format!(".\\\" BEGIN generated: {name}"),
            format!(".\\\" END generated: {name}"),
        )
    } else {
        (
            format!("<!-- BEGIN generated: {name} -->"),
            format!("<!-- END generated: {name} -->"),
        )
    }
}

/// Replaces the part between the markers of `part` in `text`; `None` when
/// the text has no such markers.
pub fn replace(text: &str, part: &Generated, roff: bool) -> Option<String> {
    let (begin, end) = markers(part.name, roff);
    let start = text.find(&format!("{begin}\n"))? + begin.len() + 1;
    let stop = start + text[start..].find(&format!("{end}\n"))?;
    Some(format!("{}{}{}", &text[..start], part.text, &text[stop..]))
}

fn read_rows() -> impl Iterator<Item = &'static Row> {
    table().iter().filter(|row| row.doc.is_some())
}

/// The ignored options, each with what happens instead, and that PM2's
/// default loads without a warning.
fn ignored() -> impl Iterator<Item = (&'static Known, &'static str, String)> {
    let options = table().iter().map(|row| (&row.key, ""));
    let top_level = TOP_LEVEL.iter().map(|known| (known, " (top level)"));
    options
        .chain(top_level)
        .filter_map(|(known, place)| match known.handling {
            Handling::Ignored(instead) => {
                let text = match known.pm2_default {
                    Some(default) => {
                        format!("{instead}; set to `{default}`, PM2's default, it loads without a warning")
                    }
                    None => instead.to_owned(),
                };
                Some((known, place, text))
            }
            _ => None,
        })
}

fn markdown_name(known: &Known) -> String {
    let mut name = format!("`{}`", known.name);
    if !known.aliases.is_empty() {
        let aliases: Vec<String> = known.aliases.iter().map(|a| format!("`{a}`")).collect();
        name.push_str(&format!(" ({})", aliases.join(", ")));
    }
    name
}

/// The Markdown tables: the options read, and the ones ignored.
pub fn markdown() -> Vec<Generated> {
    let mut options = "| option | default | becomes |\n| --- | --- | --- |\n".to_owned();
    for row in read_rows() {
        let doc = row.doc.as_ref().expect("read rows have docs");
        let name = markdown_name(&row.key);
        options.push_str(&format!("| {name} | {} | {} |\n", doc.default, doc.becomes));
    }
    let mut instead = "| option | what happens instead |\n| --- | --- |\n".to_owned();
    for (known, place, text) in ignored() {
        instead.push_str(&format!("| {}{place} | {text} |\n", markdown_name(known)));
    }
    parts(options, instead)
}

/// The two parts: the options read, and the ones ignored.
fn parts(options: String, ignored: String) -> Vec<Generated> {
    let part = |name, text| Generated { name, text };
    vec![part("options", options), part("ignored options", ignored)]
}

/// Markdown's `code` spans as bold roff, every other character escaped.
fn roff(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        let escaped = part.replace('\\', "\\e").replace('-', "\\-");
        if i % 2 == 1 {
            out.push_str(&format!("\\fB{escaped}\\fR"));
        } else {
            out.push_str(&escaped);
        }
    }
    out
}

fn roff_name(known: &Known, place: &str) -> String {
    let mut words = vec![roff(known.name)];
    for (i, alias) in known.aliases.iter().enumerate() {
        words.push(if i == 0 { "\" (\"" } else { "\", \"" }.to_owned());
        words.push(roff(alias));
    }
    if !known.aliases.is_empty() {
        words.push(")".to_owned());
    }
    if !place.is_empty() {
        words.push(format!("\"{place}\""));
    }
    let macro_name = if words.len() == 1 { ".B" } else { ".BR" };
    format!("{macro_name} {}", words.join(" "))
}

fn sentence(text: &str) -> String {
    let mut text = roff(text);
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// The man page's sections: the options read, and the ones ignored.
pub fn man() -> Vec<Generated> {
    let mut options = String::new();
    for row in read_rows() {
        let doc = row.doc.as_ref().expect("read rows have docs");
        options.push_str(&format!(".TP\n{}\n", roff_name(&row.key, "")));
        options.push_str(&format!("{}\n", sentence(doc.becomes)));
        match doc.default {
            "required" => options.push_str("Required.\n"),
            default => options.push_str(&format!("Default: {}\n", sentence(default))),
        }
    }
    let mut instead = String::new();
    for (known, place, text) in ignored() {
        instead.push_str(&format!(
            ".TP\n{}\n{}\n",
            roff_name(known, place),
            sentence(&text)
        ));
    }
    parts(options, instead)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_become_bold_and_dashes_are_escaped() {
        assert_eq!(
            roff("`--kill-timeout` and `TimeoutStopSec=`"),
            "\\fB\\-\\-kill\\-timeout\\fR and \\fBTimeoutStopSec=\\fR"
        );
        assert_eq!(sentence("the journal"), "the journal.");
    }

    #[test]
    fn a_part_is_replaced_between_its_markers_only() {
        let part = Generated {
            name: "options",
            text: "new\n".to_owned(),
        };
        let text =
            "a\n<!-- BEGIN generated: options -->\nold\n<!-- END generated: options -->\nb\n";
        assert_eq!(
            replace(text, &part, false).as_deref(),
            Some("a\n<!-- BEGIN generated: options -->\nnew\n<!-- END generated: options -->\nb\n")
        );
        assert_eq!(replace("no markers\n", &part, false), None);
    }
}
