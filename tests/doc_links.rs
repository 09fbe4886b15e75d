//! The README and the pages of `docs/`: every relative link names a file
//! that exists, and every `#anchor` a heading of the page it points into
//! (as GitHub names headings: lowercase, punctuation dropped, `-` for spaces).

use std::fs;
use std::path::{Path, PathBuf};

/// The lines of a Markdown page outside fenced code blocks.
fn prose(page: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in page.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && !line.starts_with("    ") {
            lines.push(line);
        }
    }
    lines
}

/// The anchors of a page's headings.
fn anchors(page: &str) -> Vec<String> {
    let (mut seen, mut anchors): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for line in prose(page).into_iter().filter(|l| l.starts_with('#')) {
        let title = line.trim_start_matches('#').trim().to_lowercase();
        let slug: String = title
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = seen.iter().filter(|s| s.as_str() == slug).count();
        seen.push(slug.clone());
        anchors.push(if n == 0 { slug } else { format!("{slug}-{n}") });
    }
    anchors
}

/// The targets of a page's `[text](target)` links, code spans left out.
fn links(page: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose(page) {
        let text: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for (at, _) in text.match_indices("](") {
            let rest = &text[at + 2..];
            targets.push(rest[..rest.find(')').unwrap_or(rest.len())].to_owned());
        }
    }
    targets
}

#[test]
fn relative_links_and_anchors_of_the_readme_and_docs_resolve() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    for entry in fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let mut broken = Vec::new();
    for page in &pages {
        let text = fs::read_to_string(page).unwrap();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let linked = match file {
                "" => page.clone(),
                file => page.parent().unwrap_or(Path::new(".")).join(file),
            };
            let ok = match fs::read_to_string(&linked) {
                _ if anchor.is_empty() => linked.exists(),
                Ok(linked) => anchors(&linked).iter().any(|a| a == anchor),
                Err(_) => false,
            };
            if !ok {
                broken.push(format!(
                    "{}: {target}",
                    page.strip_prefix(&root).unwrap().display()
                ));
            }
        }
    }
    assert!(pages.len() > 2, "no pages in docs/: {pages:?}");
    assert!(
        broken.is_empty(),
        "links that lead nowhere:\n{}",
        broken.join("\n")
    );
}
