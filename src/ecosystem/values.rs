//! The value types of the ecosystem file: durations, memory sizes and
//! instance counts, with PM2's conventions (bare integers are milliseconds
//! and bytes). How systemd writes them is the compiler's business
//! (`units::format`).

use std::num::NonZeroU32;
use std::time::Duration;

use crate::model::Bytes;

/// Parses a duration: a bare number is milliseconds (PM2); a string takes
/// units, several may add up: `"8s"`, `"500ms"`, `"2min"`, `"1min 30s"`.
pub fn parse_duration(text: &str) -> Option<Duration> {
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
        assert_eq!(parse_duration("5000"), ms(5000));
        assert_eq!(parse_duration("8s"), ms(8000));
        assert_eq!(parse_duration("500ms"), ms(500));
        assert_eq!(parse_duration("2min"), ms(120_000));
        assert_eq!(parse_duration("1min 30s"), ms(90_000));
        assert_eq!(parse_duration("1h"), ms(3_600_000));
        for bad in ["", "s", "8 parsecs", "-1s", "1.5s", "99999999999999999999s"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
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
