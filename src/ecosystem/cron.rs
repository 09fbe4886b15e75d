//! `cron_restart`: 5-field (`min hour dom month dow`) and 6-field (seconds
//! first) cron expressions, converted to a systemd calendar event
//! (systemd.time(5), "Calendar Events").

use std::collections::BTreeSet;

/// A cron expression a timer cannot express, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("`@{0}` has no timer equivalent; allowed: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly")]
    Nickname(String),
    #[error("a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), this one has {0}")]
    FieldCount(usize),
    /// `part` of a field (`what`: "minute", "day of the week"…), and what
    /// the field allows.
    #[error("`{part}` is not a valid {what}: {allowed}")]
    Invalid {
        part: String,
        what: &'static str,
        allowed: String,
    },
    #[error("cron runs when the day of the month OR the day of the week matches, and a timer cannot express that: restrict only one of the two")]
    DayOfMonthOrWeek,
}

/// A diagnostic's help says why, in these words.
impl From<CronError> for String {
    fn from(err: CronError) -> String {
        err.to_string()
    }
}

/// A cron expression converted to `OnCalendar=` syntax.
pub fn to_on_calendar(expression: &str) -> Result<String, CronError> {
    let expression = expression.trim();
    if let Some(nickname) = expression.strip_prefix('@') {
        return match nickname {
            "yearly" | "annually" => Ok("*-01-01 00:00:00".into()),
            "monthly" => Ok("*-*-01 00:00:00".into()),
            "weekly" => Ok("Sun *-*-* 00:00:00".into()),
            "daily" | "midnight" => Ok("*-*-* 00:00:00".into()),
            "hourly" => Ok("*-*-* *:00:00".into()),
            _ => Err(CronError::Nickname(nickname.to_owned())),
        };
    }
    let fields: Vec<&str> = expression.split_whitespace().collect();
    let (second, rest) = match fields.len() {
        5 => ("0", &fields[..]),
        6 => (fields[0], &fields[1..]),
        n => return Err(CronError::FieldCount(n)),
    };
    let [minute, hour, dom, month, dow] = rest else {
        unreachable!()
    };
    let second = Field::SECOND.parse(second)?;
    let minute = Field::MINUTE.parse(minute)?;
    let hour = Field::HOUR.parse(hour)?;
    let dom = Field::DAY_OF_MONTH.parse(dom)?;
    let month = Field::MONTH.parse(month)?;
    let dow = Field::DAY_OF_WEEK.parse(dow)?;
    let dow: BTreeSet<u32> = dow
        .into_iter()
        .map(|d| if d == 7 { 0 } else { d })
        .collect();
    if dom.len() < 31 && dow.len() < 7 {
        return Err(CronError::DayOfMonthOrWeek);
    }
    let weekdays = if dow.len() == 7 {
        String::new()
    } else {
        format!("{} ", weekday_list(&dow))
    };
    Ok(format!(
        "{weekdays}*-{}-{} {}:{}:{}",
        Field::MONTH.calendar(&month),
        Field::DAY_OF_MONTH.calendar(&dom),
        Field::HOUR.calendar(&hour),
        Field::MINUTE.calendar(&minute),
        Field::SECOND.calendar(&second),
    ))
}

struct Field {
    what: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl Field {
    const SECOND: Field = Field::numeric("second", 0, 59);
    const MINUTE: Field = Field::numeric("minute", 0, 59);
    const HOUR: Field = Field::numeric("hour", 0, 23);
    const DAY_OF_MONTH: Field = Field::numeric("day of the month", 1, 31);
    const MONTH: Field = Field {
        what: "month",
        min: 1,
        max: 12,
        names: MONTHS,
    };
    const DAY_OF_WEEK: Field = Field {
        what: "day of the week",
        min: 0,
        max: 7,
        names: DAYS,
    };

    const fn numeric(what: &'static str, min: u32, max: u32) -> Field {
        Field {
            what,
            min,
            max,
            names: &[],
        }
    }

    fn parse(&self, text: &str) -> Result<BTreeSet<u32>, CronError> {
        let mut values = BTreeSet::new();
        for part in text.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((range, step)) => {
                    let step: u32 = step
                        .parse()
                        .ok()
                        .filter(|&s| s > 0)
                        .ok_or_else(|| self.invalid(part, "a step is a positive number"))?;
                    (range, step)
                }
                None => (part, 1),
            };
            let (first, last) = match range {
                "*" | "?" if range == "*" || self.what.starts_with("day") => (self.min, self.max),
                _ => match range.split_once('-') {
                    Some((a, b)) => (self.value(a, part)?, self.value(b, part)?),
                    None if step > 1 => (self.value(range, part)?, self.max),
                    None => {
                        let v = self.value(range, part)?;
                        (v, v)
                    }
                },
            };
            if first > last {
                return Err(self.invalid(part, "a range goes from low to high"));
            }
            values.extend((first..=last).step_by(step as usize));
        }
        Ok(values)
    }

    fn value(&self, text: &str, part: &str) -> Result<u32, CronError> {
        let lower = text.to_ascii_lowercase();
        let value = match self.names.iter().position(|n| *n == lower) {
            Some(index) => index as u32 + u32::from(self.what == "month"),
            None => text.parse().map_err(|_| {
                let names = if self.names.is_empty() {
                    ""
                } else {
                    " or a name"
                };
                self.invalid(
                    part,
                    &format!("each value is a number{names}; L, W and # have no timer equivalent"),
                )
            })?,
        };
        if !(self.min..=self.max).contains(&value) {
            return Err(self.invalid(
                part,
                &format!("values go from {} to {}", self.min, self.max),
            ));
        }
        Ok(value)
    }

    fn invalid(&self, part: &str, allowed: &str) -> CronError {
        CronError::Invalid {
            part: part.to_owned(),
            what: self.what,
            allowed: allowed.to_owned(),
        }
    }

    /// The set in calendar syntax: `*`, `a/step`, `a..b`, lists of those.
    fn calendar(&self, values: &BTreeSet<u32>) -> String {
        let all = (self.max - self.min + 1) as usize;
        let v: Vec<u32> = values.iter().copied().collect();
        if v.len() == all {
            return "*".into();
        }
        if v.len() >= 3 {
            let step = v[1] - v[0];
            let progression = v.windows(2).all(|w| w[1] - w[0] == step);
            if progression && step > 1 && v[v.len() - 1] + step > self.max {
                return format!("{:02}/{step}", v[0]);
            }
        }
        runs(&v)
            .into_iter()
            .map(|(a, b)| match b - a {
                0 => format!("{a:02}"),
                1 => format!("{a:02},{b:02}"),
                _ => format!("{a:02}..{b:02}"),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Consecutive runs of a sorted list, as (first, last).
fn runs(values: &[u32]) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &v in values {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == v => *last = v,
            _ => runs.push((v, v)),
        }
    }
    runs
}

/// Days of the week (0 = Sunday) as systemd names, Monday first.
fn weekday_list(days: &BTreeSet<u32>) -> String {
    const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let monday_first: Vec<u32> = days
        .iter()
        .map(|d| (d + 6) % 7)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    runs(&monday_first)
        .into_iter()
        .map(|(a, b)| match b - a {
            0 => NAMES[a as usize].to_owned(),
            1 => format!("{},{}", NAMES[a as usize], NAMES[b as usize]),
            _ => format!("{}..{}", NAMES[a as usize], NAMES[b as usize]),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::to_on_calendar;

    fn ok(cron: &str) -> String {
        to_on_calendar(cron).unwrap_or_else(|e| panic!("{cron}: {e}"))
    }

    #[test]
    fn five_fields() {
        assert_eq!(ok("0 3 * * *"), "*-*-* 03:00:00");
        assert_eq!(ok("*/15 * * * *"), "*-*-* *:00/15:00");
        assert_eq!(ok("30 4 1 * *"), "*-*-01 04:30:00");
        assert_eq!(ok("0 0 * * 0"), "Sun *-*-* 00:00:00");
        assert_eq!(ok("0 0 * * 7"), "Sun *-*-* 00:00:00");
    }

    #[test]
    fn six_fields_have_seconds_first() {
        assert_eq!(ok("*/10 * * * * *"), "*-*-* *:*:00/10");
        assert_eq!(ok("5 0 12 * * *"), "*-*-* 12:00:05");
    }

    #[test]
    fn ranges_lists_steps() {
        assert_eq!(ok("0 9-17 * * *"), "*-*-* 09..17:00:00");
        assert_eq!(ok("0,30 * * * *"), "*-*-* *:00,30:00");
        assert_eq!(ok("0 8-18/2 * * *"), "*-*-* 08,10,12,14,16,18:00:00");
        assert_eq!(ok("0 1,2,3,7 * * *"), "*-*-* 01..03,07:00:00");
        assert_eq!(ok("5/20 * * * *"), "*-*-* *:05/20:00");
    }

    #[test]
    fn names_of_days_and_months() {
        assert_eq!(ok("0 6 * * mon-fri"), "Mon..Fri *-*-* 06:00:00");
        assert_eq!(ok("0 6 * * SAT,SUN"), "Sat,Sun *-*-* 06:00:00");
        assert_eq!(ok("0 6 * * 1,3,5"), "Mon,Wed,Fri *-*-* 06:00:00");
        assert_eq!(ok("0 0 1 jan,jul *"), "*-01,07-01 00:00:00");
        assert_eq!(ok("0 0 1 Mar-May *"), "*-03..05-01 00:00:00");
    }

    #[test]
    fn nicknames() {
        assert_eq!(ok("@daily"), "*-*-* 00:00:00");
        assert_eq!(ok("@hourly"), "*-*-* *:00:00");
        assert!(to_on_calendar("@reboot").is_err());
    }

    #[test]
    fn rejects_what_a_timer_cannot_express() {
        for bad in [
            "0 0 1 * 1",   // day of month OR day of week
            "0 0 L * *",   // last day of month
            "0 0 * * 1#2", // second Monday
            "0 0 15W * *",
            "60 * * * *",
            "* * * *",
            "0 0 * 13 *",
            "0 5-1 * * *",
            "*/0 * * * *",
            "0 0 * * fun",
        ] {
            assert!(to_on_calendar(bad).is_err(), "{bad}");
        }
    }
}
