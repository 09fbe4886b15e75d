//! Durations and memory sizes as systemd writes and reads them
//! (systemd.time(7), systemd.resource-control(5)), both ways: rendering a
//! unit writes them, reading an installed unit back parses them.

use std::time::Duration;

use crate::model::Bytes;

/// A duration in the largest unit that is exact: `1600ms`, `8s`, `2min`, `2h`.
pub fn duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    match ms {
        0 => "0".to_owned(),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}min", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{}s", ms / 1_000),
        ms => format!("{ms}ms"),
    }
}

/// Reads what [`duration`] writes (a bare number is seconds, as systemd reads it).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let number: u64 = text[..digits].parse().ok()?;
    let millis_per_unit: u64 = match &text[digits..] {
        "ms" => 1,
        "" | "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    number
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
}

const SUFFIXES: [(u32, char); 4] = [(40, 'T'), (30, 'G'), (20, 'M'), (10, 'K')];

/// A size in the largest unit of 1024 that is exact: `768M`, `2G`, `1000`.
pub fn size(Bytes(bytes): Bytes) -> String {
    for (shift, suffix) in SUFFIXES {
        if bytes != 0 && bytes % (1 << shift) == 0 {
            return format!("{}{suffix}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// Reads what [`size`] writes.
pub fn parse_size(text: &str) -> Option<Bytes> {
    let (number, shift) = match SUFFIXES.iter().find(|(_, s)| text.ends_with(*s)) {
        Some((shift, _)) => (&text[..text.len() - 1], *shift),
        None => (text, 0),
    };
    let number: u64 = number.parse().ok()?;
    number.checked_mul(1 << shift).map(Bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_both_ways() {
        for (ms, text) in [
            (0, "0"),
            (1600, "1600ms"),
            (8000, "8s"),
            (90_000, "90s"),
            (120_000, "2min"),
            (7_200_000, "2h"),
        ] {
            let d = Duration::from_millis(ms);
            assert_eq!(duration(d), text);
            assert_eq!(parse_duration(text), Some(d), "{text}");
        }
        for bad in ["", "s", "1.5s", "8 s", "2d"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sizes_both_ways() {
        for (bytes, text) in [
            (768 << 20, "768M"),
            (3 << 29, "1536M"),
            (2 << 30, "2G"),
            (1000, "1000"),
            (1 << 40, "1T"),
        ] {
            assert_eq!(size(Bytes(bytes)), text);
            assert_eq!(parse_size(text), Some(Bytes(bytes)), "{text}");
        }
        assert_eq!(parse_size("M"), None);
        assert_eq!(parse_size("1.5G"), None);
    }
}
