//! The value types of the ecosystem file: durations, memory sizes and
//! instance counts, with PM2's conventions (bare integers are milliseconds
//! and bytes), and PM2's ways of turning values into words and text. How
//! systemd writes them is the compiler's business (`units::format`).

use std::num::NonZeroU32;
use std::time::Duration;

use super::document::{Node, Value as V};
use crate::model::Bytes;

/// Parses a duration: a bare number is milliseconds (PM2); a string takes
/// units, several may add up: `"8s"`, `"500ms"`, `"2min"`, `"1min 30s"`.
pub fn parse_pm2_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<u64>() {
        return Some(Duration::from_millis(ms));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = rest[digits..].trim_start();
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = rest[unit_len..].trim_start();
        let millis_per_unit: u64 = match unit {
            "ms" | "msec" => 1,
            "s" | "sec" | "second" | "seconds" => 1_000,
            "m" | "min" | "minute" | "minutes" => 60_000,
            "h" | "hr" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            _ => return None,
        };
        total = total.checked_add(Duration::from_millis(number.checked_mul(millis_per_unit)?))?;
        any = true;
    }
    any.then_some(total)
}

/// Parses a memory size: a bare number is bytes; `K`, `M`, `G`, `T` are
/// powers of 1024 as in PM2 (`"512M"`, `"1G"`, `"200K"`, also `"512MB"`).
pub fn parse_bytes(text: &str) -> Option<Bytes> {
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let number: u64 = text[..digits].parse().ok()?;
    let shift = match text[digits..].trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return None,
    };
    number.checked_mul(1 << shift).map(Bytes)
}

/// Splits `args` or `node_args` written as one string, as PM2 does
/// (`Config._valid`, whose pattern is, in order of preference:
/// `name="a b"`, `name='a b'`, `"a b"`, `'a b'`, a run of non-blanks): a
/// quoted part stays whole and loses its quotes when it is the whole word,
/// and empty words are dropped.
pub fn split_args(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = text.trim_start();
    while let Some(first) = rest.chars().next() {
        let len = quoted_assignment(rest)
            .or_else(|| quoted(rest))
            .unwrap_or_else(|| rest.find(char::is_whitespace).unwrap_or(rest.len()));
        let word = &rest[..len];
        let unquoted = if matches!(first, '"' | '\'') && word.ends_with(first) {
            word.get(1..word.len() - 1).unwrap_or_default()
        } else {
            word
        };
        if !unquoted.trim().is_empty() {
            words.push(unquoted.to_owned());
        }
        rest = rest[len..].trim_start();
    }
    words
}

/// The length of `name="..."` or `name='...'` at the start of `text`.
fn quoted_assignment(text: &str) -> Option<usize> {
    let name = text
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '='))
        .unwrap_or(text.len());
    if name == 0 || !text[name..].starts_with('=') {
        return None;
    }
    quoted(&text[name + 1..]).map(|len| name + 1 + len)
}

/// The length of `"..."` or `'...'` at the start of `text`.
fn quoted(text: &str) -> Option<usize> {
    let quote = text.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    text[1..].find(quote).map(|end| end + 2)
}

/// A value as `JSON.stringify` writes it (keys in the file's order): what
/// PM2 makes of an environment variable set to an array or an object.
pub fn json(node: &Node) -> String {
    let quoted = |s: &str| serde_json::Value::from(s).to_string();
    match node.get_ref() {
        V::String(s) | V::Datetime(s) => quoted(s),
        V::Integer(n) => n.to_string(),
        V::Float(f) => f.clone(),
        V::Boolean(b) => b.to_string(),
        V::Null => "null".to_owned(),
        V::Array(items) => {
            let items: Vec<String> = items.iter().map(json).collect();
            format!("[{}]", items.join(","))
        }
        V::Table(table) => {
            let entries: Vec<String> = table
                .iter()
                .map(|(key, value)| format!("{}:{}", quoted(key.get_ref()), json(value)))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
    }
}

/// `instances` as written: a count, or relative to the CPUs of the machine
/// the units are rendered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instances {
    Count(NonZeroU32),
    /// `"max"` or `0`: one per CPU.
    Max,
    /// `-n`: the CPU count minus n, at least 1.
    AllBut(u32),
}

impl Instances {
    /// Parses PM2's forms: `4`, `"4"`, `"max"`, `0` (= max), `-1`.
    pub fn parse(value: i64) -> Option<Instances> {
        match value {
            0 => Some(Instances::Max),
            n if n < 0 => u32::try_from(n.unsigned_abs()).ok().map(Instances::AllBut),
            n => u32::try_from(n)
                .ok()
                .and_then(NonZeroU32::new)
                .map(Instances::Count),
        }
    }

    /// The number of workers on a machine with `cpus` CPUs.
    pub fn resolve(self, cpus: NonZeroU32) -> NonZeroU32 {
        match self {
            Instances::Count(n) => n,
            Instances::Max => cpus,
            Instances::AllBut(n) => {
                NonZeroU32::new(cpus.get().saturating_sub(n)).unwrap_or(NonZeroU32::MIN)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Option<Duration> {
        Some(Duration::from_millis(n))
    }

    #[test]
    fn durations() {
        assert_eq!(parse_pm2_duration("5000"), ms(5000));
        assert_eq!(parse_pm2_duration("8s"), ms(8000));
        assert_eq!(parse_pm2_duration("500ms"), ms(500));
        assert_eq!(parse_pm2_duration("2min"), ms(120_000));
        assert_eq!(parse_pm2_duration("1min 30s"), ms(90_000));
        assert_eq!(parse_pm2_duration("1h"), ms(3_600_000));
        for bad in ["", "s", "8 parsecs", "-1s", "1.5s", "99999999999999999999s"] {
            assert_eq!(parse_pm2_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_bytes("512M"), Some(Bytes(512 << 20)));
        assert_eq!(parse_bytes("1G"), Some(Bytes(1 << 30)));
        assert_eq!(parse_bytes("200K"), Some(Bytes(200 << 10)));
        assert_eq!(parse_bytes("200k"), Some(Bytes(200 << 10)));
        assert_eq!(parse_bytes("512MB"), Some(Bytes(512 << 20)));
        assert_eq!(parse_bytes("1000"), Some(Bytes(1000)));
        for bad in ["", "M", "1.5G", "12 apples", "-1M", "99999999999T"] {
            assert_eq!(parse_bytes(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn arguments_split_as_pm2_splits_them() {
        let split = |s: &str| split_args(s);
        assert_eq!(split("--port 3000  -v"), ["--port", "3000", "-v"]);
        assert_eq!(split("--title 'Shop front'"), ["--title", "Shop front"]);
        assert_eq!(split("\"a b\" 'c d'"), ["a b", "c d"]);
        // Quotes stay when they are not the whole word, as in PM2.
        assert_eq!(split("--name=\"a b\" x"), ["--name=\"a b\"", "x"]);
        assert_eq!(split("--name='a b'"), ["--name='a b'"]);
        assert_eq!(split("\"a b\"c"), ["a b", "c"]);
        assert_eq!(split("it's"), ["it's"]);
        assert_eq!(split("\"open"), ["\"open"]);
        assert_eq!(split("a \" b"), ["a", "b"]);
        assert_eq!(split("\"\" '' \" \" x"), ["x"]);
        assert_eq!(split("  "), Vec::<String>::new());
        assert_eq!(
            split("--max-old-space-size=400 --no-warnings"),
            ["--max-old-space-size=400", "--no-warnings"]
        );
    }

    #[test]
    fn instances() {
        let cpus = NonZeroU32::new(4).unwrap();
        let resolve = |n| Instances::parse(n).unwrap().resolve(cpus).get();
        assert_eq!(resolve(3), 3);
        assert_eq!(resolve(0), 4);
        assert_eq!(resolve(-1), 3);
        assert_eq!(resolve(-4), 1);
        assert_eq!(resolve(-10), 1);
        assert_eq!(Instances::Max.resolve(cpus).get(), 4);
        assert_eq!(Instances::parse(1 << 40), None);
    }
}
