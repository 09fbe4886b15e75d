//! One escaping function per context a value can land in inside a unit file.
//! Each returns text that stays on its own line and is read back by systemd as
//! exactly the input: no value can add a directive, a line or a specifier.
//! See systemd.unit(5) "Specifiers" and systemd.service(5) "Command lines".

/// Why a value cannot be put into a unit at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrepresentable(pub &'static str);

/// Text that systemd reads with specifier expansion (`%i`, `%h`, ...):
/// every `%` doubled. Rejects control characters, which would end the line.
pub fn specifiers(value: &str) -> Result<String, Unrepresentable> {
    if value.chars().any(char::is_control) {
        return Err(Unrepresentable("a control character (such as a newline)"));
    }
    Ok(value.replace('%', "%%"))
}

/// A path directive's value (`WorkingDirectory=`, `EnvironmentFile=`, ...):
/// absolute, and with specifiers escaped.
pub fn path(value: &std::path::Path) -> Result<String, Unrepresentable> {
    let text = value
        .to_str()
        .ok_or(Unrepresentable("a path that is not valid UTF-8"))?;
    if !text.starts_with('/') {
        return Err(Unrepresentable("a relative path"));
    }
    specifiers(text)
}

/// One path of a list (`ReadWritePaths=`): a plain path stays bare, any
/// other is double-quoted with C escapes, which systemd undoes; `%` doubled.
pub fn path_word(value: &std::path::Path) -> Result<String, Unrepresentable> {
    let text = path(value)?;
    if text
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"\"'\\".contains(&b))
    {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    push_c_escaped(&mut out, &text);
    out.push('"');
    Ok(out)
}

/// One `Environment=` assignment, quoted: `"NAME=value"`. Inside the quotes
/// systemd undoes C escapes, so `\`, `"` and control characters are escaped,
/// and `%` is doubled. `$` needs nothing: `Environment=` does not expand variables.
pub fn environment(name: &str, value: &str) -> String {
    let mut out = String::with_capacity(name.len() + value.len() + 3);
    out.push('"');
    out.push_str(name);
    out.push('=');
    push_c_escaped(&mut out, value);
    out.push('"');
    out.replace('%', "%%")
}

/// One word of an `ExecStart=` command line. Plain words stay bare; anything
/// else is double-quoted with C escapes. `%` and `$` are doubled in both cases:
/// systemd expands specifiers and `$VAR` in command lines.
pub fn exec_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=,+@%$[]".contains(&b));
    let mut out = String::with_capacity(word.len() + 2);
    if plain && word != ";" {
        out.push_str(word);
    } else {
        out.push('"');
        push_c_escaped(&mut out, word);
        out.push('"');
    }
    out.replace('%', "%%").replace('$', "$$")
}

/// The inverse of [`specifiers`]: `%%` read as `%`.
pub fn unescape_specifiers(text: &str) -> String {
    text.replace("%%", "%")
}

/// The inverse of [`environment`]: the name and value of one quoted
/// assignment; `None` when it is not one.
pub fn unescape_environment(text: &str) -> Option<(String, String)> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let assignment = c_unescape(&unescape_specifiers(inner))?;
    let (name, value) = assignment.split_once('=')?;
    Some((name.to_owned(), value.to_owned()))
}

/// The inverse of [`exec_word`] over a whole command line: its words, each
/// unquoted and unescaped. `None` when the line is not one `exec_word` writes.
pub fn unescape_exec_words(line: &str) -> Option<Vec<String>> {
    split_words(&unescape_specifiers(line).replace("$$", "$"))
}

/// The inverse of [`path_word`] over a list of paths.
pub fn unescape_path_words(line: &str) -> Option<Vec<String>> {
    split_words(&unescape_specifiers(line))
}

/// Words separated by spaces, each bare or double-quoted with C escapes.
fn split_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let (word, after) = match rest.strip_prefix('"') {
            Some(quoted) => {
                let end = closing_quote(quoted)?;
                (c_unescape(&quoted[..end])?, &quoted[end + 1..])
            }
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (rest[..end].to_owned(), &rest[end..])
            }
        };
        words.push(word);
        if !after.is_empty() && !after.starts_with(char::is_whitespace) {
            return None;
        }
        rest = after.trim_start();
    }
    Some(words)
}

/// Where the quoted text starting after a `"` ends.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// The inverse of [`push_c_escaped`].
fn c_unescape(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buffer = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            continue;
        }
        match chars.next()? {
            '\\' => bytes.push(b'\\'),
            '"' => bytes.push(b'"'),
            '\'' => bytes.push(b'\''),
            'n' => bytes.push(b'\n'),
            't' => bytes.push(b'\t'),
            'r' => bytes.push(b'\r'),
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                bytes.push(u8::from_str_radix(&hex, 16).ok()?);
            }
            _ => return None,
        }
    }
    String::from_utf8(bytes).ok()
}

fn push_c_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                for byte in c.to_string().bytes() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers_doubles_percent_and_rejects_newlines() {
        assert_eq!(specifiers("50%i").unwrap(), "50%%i");
        assert!(specifiers("a\nExecStart=/bin/sh").is_err());
        assert!(specifiers("a\rb").is_err());
    }

    #[test]
    fn path_must_be_absolute() {
        assert_eq!(path("/srv/a%b".as_ref()).unwrap(), "/srv/a%%b");
        assert!(path("srv".as_ref()).is_err());
    }

    #[test]
    fn environment_quotes_and_escapes() {
        assert_eq!(environment("A", "b"), r#""A=b""#);
        assert_eq!(environment("A", "x y"), r#""A=x y""#);
        assert_eq!(
            environment("A", "q\"b\\s$HOME%i\n[Service]"),
            r#""A=q\"b\\s$HOME%%i\n[Service]""#
        );
        assert_eq!(environment("A", "\u{1b}"), r#""A=\x1b""#);
    }

    #[test]
    fn environment_value_never_breaks_the_line() {
        let hostile = "\"\nExecStartPre=/bin/rm -rf /\n\\";
        let line = environment("X", hostile);
        assert_eq!(line, r#""X=\"\nExecStartPre=/bin/rm -rf /\n\\""#);
    }

    #[test]
    fn exec_word_keeps_plain_words_bare() {
        assert_eq!(exec_word("/usr/bin/node"), "/usr/bin/node");
        assert_eq!(
            exec_word("--max-old-space-size=512"),
            "--max-old-space-size=512"
        );
    }

    #[test]
    fn every_escape_is_undone() {
        let values = [
            "plain",
            "a b",
            "",
            ";",
            "$HOME 100%i",
            "it's \"x\"\n\t\r\\",
            "\u{1b}[31mé\u{7f}",
        ];
        for value in values {
            if let Ok(escaped) = specifiers(value) {
                assert_eq!(unescape_specifiers(&escaped), value);
            }
            assert_eq!(
                unescape_environment(&environment("X", value)),
                Some(("X".to_owned(), value.to_owned())),
                "{value:?}"
            );
        }
        let paths = [
            "/srv/a b",
            "/srv/it's \"x\"\\",
            "/srv/50%",
            "/plain/path",
            "/é",
        ];
        let line: Vec<String> = paths
            .iter()
            .map(|p| path_word(p.as_ref()).unwrap())
            .collect();
        assert_eq!(
            unescape_path_words(&line.join(" ")),
            Some(paths.map(str::to_owned).to_vec())
        );
        let line: Vec<String> = values.iter().map(|v| exec_word(v)).collect();
        assert_eq!(
            unescape_exec_words(&line.join(" ")),
            Some(values.map(str::to_owned).to_vec())
        );
        assert_eq!(unescape_exec_words("a \"b"), None);
        assert_eq!(unescape_exec_words("\"a\"b"), None);
    }

    #[test]
    fn exec_word_quotes_and_doubles_expansions() {
        assert_eq!(exec_word("a b"), r#""a b""#);
        assert_eq!(exec_word(""), r#""""#);
        assert_eq!(exec_word(";"), r#"";""#);
        assert_eq!(exec_word("$HOME"), "$$HOME");
        assert_eq!(exec_word("100%"), "100%%");
        assert_eq!(exec_word("it's \"x\"\n"), r#""it\'s \"x\"\n""#);
        assert_eq!(exec_word("a\\"), r#""a\\""#);
    }
}
