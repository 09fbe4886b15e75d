//! One escaping function per context a value can land in inside a unit file.
//! Each returns text that stays on its own line and is read back by systemd as
//! exactly the input: no value can add a directive, a line or a specifier.
//! See systemd.unit(5) "Specifiers" and systemd.service(5) "Command lines".

/// Why a value cannot be put into a unit at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrepresentable(pub &'static str);

/// Checks that `name` can prefix every unit name generated for an app
/// (`name.service`, `name@.service`, `name-cron.timer`): systemd allows
/// ASCII letters, digits and `:-_.\`; `@` is the instance separator, and `:`
/// and `\` would read as escapes, so only `[A-Za-z0-9_.-]` are accepted.
pub fn unit_name_prefix(name: &str) -> Result<&str, Unrepresentable> {
    const MAX: usize = 200; // leaves room for "@.service" and "-cron.service" under 255
    if name.is_empty() {
        return Err(Unrepresentable("an app name cannot be empty"));
    }
    if name.len() > MAX {
        return Err(Unrepresentable("an app name has at most 200 characters"));
    }
    if name.starts_with(['.', '-']) {
        return Err(Unrepresentable(
            "an app name starts with a letter, a digit or `_`",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(Unrepresentable(
            "an app name is made of ASCII letters, digits, `_`, `.` and `-`, as unit names are",
        ));
    }
    Ok(name)
}

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
    fn unit_name_prefix_accepts_pm2_style_names() {
        for name in ["api", "my-app", "api_v2", "web.1", "A9"] {
            assert_eq!(unit_name_prefix(name), Ok(name));
        }
    }

    #[test]
    fn unit_name_prefix_rejects_what_systemd_would_misread() {
        for name in [
            "", "my app", "a@b", "a/b", "a\nb", "-a", ".a", "a%i", "a\\x2d", "é",
        ] {
            assert!(unit_name_prefix(name).is_err(), "{name:?}");
        }
        assert!(unit_name_prefix(&"a".repeat(201)).is_err());
    }

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
