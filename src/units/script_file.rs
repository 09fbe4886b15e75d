//! What a script's file says of how it runs, read as PM2 reads it: its
//! first bytes (a binary runs directly, text with an interpreter) and its
//! `#!` line.

use std::path::Path;

/// What the first bytes of a file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    /// An executable or other binary file: PM2 runs it directly.
    Binary,
    /// Text whose `#!` line names node (directly or through `env`).
    NodeShebang,
    /// Text whose `#!` line names another program.
    OtherShebang,
    /// Text without a `#!` line: PM2 runs it with node.
    Text,
}

/// The contents of `file`, `None` when it cannot be read.
pub fn contents(file: &Path) -> Option<Contents> {
    let mut head = [0u8; 512];
    let mut opened = std::fs::File::open(file).ok()?;
    let read = std::io::Read::read(&mut opened, &mut head).ok()?;
    Some(classify(&head[..read]))
}

/// As PM2's `isbinaryfile` decides (a NUL byte, or mostly bytes that are
/// not text), then the `#!` line.
pub fn classify(head: &[u8]) -> Contents {
    if head.starts_with(b"#!") {
        return if shebang_names_node(head) {
            Contents::NodeShebang
        } else {
            Contents::OtherShebang
        };
    }
    // Control characters other than whitespace, and bytes of no UTF-8
    // character (a character cut at the end of `head` is not counted).
    let text = String::from_utf8_lossy(head);
    let suspicious = text
        .chars()
        .filter(|&c| c == char::REPLACEMENT_CHARACTER || c < '\x07' || ('\x0f'..' ').contains(&c))
        .count();
    if head.contains(&0) || !head.is_empty() && suspicious * 100 / head.len() > 10 {
        Contents::Binary
    } else {
        Contents::Text
    }
}

/// Whether a program run directly is a Node script: its first line is a
/// `#!` naming node, directly or through `env`, as npm, npx, yarn, pnpm,
/// tsx, ts-node and next are (`/usr/bin/npm` is a link to `npm-cli.js`).
/// Such a program starts the Node process that serves, or is it.
pub fn runs_in_node(program: &Path) -> bool {
    contents(program) == Some(Contents::NodeShebang)
}

fn shebang_names_node(head: &[u8]) -> bool {
    let Some(line) = head.strip_prefix(b"#!") else {
        return false;
    };
    let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let Some(first) = words.next() else {
        return false;
    };
    let interpreter = if Path::new(first).file_name().is_some_and(|n| n == "env") {
        // `env -S node --flags`, `env node`: the first word not an option of env's.
        words.find(|word| !word.starts_with('-'))
    } else {
        Some(first)
    };
    interpreter.is_some_and(|name| is_node_binary(Path::new(name)))
}

/// Whether `path` names Node itself: `node`, `nodejs`, `node20`.
pub fn is_node_binary(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        n == "node"
            || n == "nodejs"
            || n.starts_with("node") && n[4..].bytes().all(|b| b.is_ascii_digit() || b == b'.')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_scripts_are_recognised_by_their_first_line() {
        for head in [
            "#!/usr/bin/env node\nrequire('../lib/cli.js')",
            "#!/usr/bin/env -S node --no-warnings\n",
            "#! /usr/local/bin/node\n",
            "#!/usr/bin/nodejs",
        ] {
            assert_eq!(classify(head.as_bytes()), Contents::NodeShebang, "{head}");
        }
        for head in [
            "#!/bin/sh\nexec node server.js\n",
            "#!/usr/bin/env python3\n",
            "#!/usr/bin/env\n",
        ] {
            assert_eq!(classify(head.as_bytes()), Contents::OtherShebang, "{head}");
        }
    }

    #[test]
    fn binaries_and_text_are_told_apart_as_pm2_does() {
        // An ELF header holds NUL bytes: PM2 runs such a file directly.
        assert_eq!(classify(b"\x7fELF\x02\x01\x01\0\0\0"), Contents::Binary);
        // Text without `#!` (a Node script without `.js`): PM2 runs it with node.
        assert_eq!(classify(b"var app = require('../app');\n"), Contents::Text);
        assert_eq!(classify("// é, ü\n".as_bytes()), Contents::Text);
        assert_eq!(classify(b""), Contents::Text);
    }

    #[test]
    fn recognises_node() {
        assert!(is_node_binary(Path::new("/usr/bin/node")));
        assert!(is_node_binary(Path::new("/usr/bin/nodejs")));
        assert!(is_node_binary(Path::new("/opt/node20")));
        assert!(!is_node_binary(Path::new("/usr/bin/nodemon")));
        assert!(!is_node_binary(Path::new("/usr/bin/python3")));
    }
}
