//! wrk's report, read: what the load tests and the benchmark count as served
//! and as failed. Run wrk inside a box with `TestHost::spawn`, against the
//! box's own 127.0.0.1.

use anyhow::{bail, Context, Result};

/// What wrk reported at the end of one load.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub requests: u64,
    pub requests_per_second: f64,
    /// All socket errors: the sum of the four kinds below.
    pub socket_errors: u64,
    pub connect_errors: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    pub timeouts: u64,
    pub non_2xx_3xx: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Report {
    /// Requests a client saw fail: socket errors of any kind plus bad statuses.
    pub fn failed(&self) -> u64 {
        self.socket_errors + self.non_2xx_3xx
    }
}

/// Parses the text wrk prints (with `--latency`).
pub fn parse(output: &str) -> Result<Report> {
    let mut report = Report::default();
    let mut seen_total = false;
    let mut seen_rate = false;
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [count, "requests", "in", ..] => {
                report.requests = count.parse().context("wrk's request count")?;
                seen_total = true;
            }
            ["Requests/sec:", rate] => {
                report.requests_per_second = rate.parse().context("wrk's Requests/sec")?;
                seen_rate = true;
            }
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                report.non_2xx_3xx = count.parse().context("wrk's Non-2xx count")?;
            }
            ["50%", value] => report.p50_ms = duration_ms(value)?,
            ["99%", value] => report.p99_ms = duration_ms(value)?,
            ["Socket", "errors:", ..] => {
                let [connect, read, write, timeout] = socket_errors(line)?;
                report.connect_errors = connect;
                report.read_errors = read;
                report.write_errors = write;
                report.timeouts = timeout;
                report.socket_errors = connect + read + write + timeout;
            }
            _ => {}
        }
    }
    if !seen_total || !seen_rate {
        bail!("wrk printed no report (no request total or Requests/sec line):\n{output}");
    }
    Ok(report)
}

/// `Socket errors: connect 0, read 12, write 0, timeout 3` → [0, 12, 0, 3].
fn socket_errors(line: &str) -> Result<[u64; 4]> {
    let mut counts = [0; 4];
    let parts: Vec<&str> = line
        .trim_start_matches("Socket errors:")
        .split(',')
        .collect();
    for (index, kind) in ["connect", "read", "write", "timeout"].iter().enumerate() {
        counts[index] = match parts
            .get(index)
            .map(|part| part.split_whitespace().collect::<Vec<_>>())
        {
            Some(words) if words.len() == 2 && words[0] == *kind => words[1].parse().ok(),
            _ => None,
        }
        .with_context(|| {
            format!(
                "wrk's socket error line {line:?}: expected {kind} N in place {}",
                index + 1
            )
        })?;
    }
    Ok(counts)
}

/// wrk's durations: `812.00us`, `1.23ms`, `2.00s`, `1.50m`.
fn duration_ms(value: &str) -> Result<f64> {
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .with_context(|| format!("wrk duration {value:?} has no unit"))?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number
        .parse()
        .with_context(|| format!("wrk duration {value:?}"))?;
    let scale = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => bail!("wrk duration {value:?}: unit {unit:?} is not one of us, ms, s, m, h"),
    };
    Ok(number * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WITH_ERRORS: &str = "\
Running 10s test @ http://127.0.0.1:3000/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms    8.02ms 208.31ms   98.40%
    Req/Sec     7.34k   812.00     8.71k    71.00%
  Latency Distribution
     50%  812.00us
     75%    1.97ms
     90%    4.10ms
     99%    1.20s
  146123 requests in 10.01s, 17.02MB read
  Socket errors: connect 0, read 41, write 2, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  14597.70
Transfer/sec:      1.70MB
";

    const CLEAN: &str = "\
Running 5s test @ http://127.0.0.1:3000/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.00ms  100.00us   2.00ms   90.00%
  Latency Distribution
     50%    1.00ms
     75%    1.10ms
     90%    1.20ms
     99%    1.50ms
  5000 requests in 5.00s, 500.00KB read
Requests/sec:   1000.00
Transfer/sec:    100.00KB
";

    #[test]
    fn counts_socket_errors_and_bad_statuses_as_failed() {
        let report = parse(WITH_ERRORS).unwrap();
        assert_eq!(report.socket_errors, 46);
        assert_eq!(
            [
                report.connect_errors,
                report.read_errors,
                report.write_errors,
                report.timeouts
            ],
            [0, 41, 2, 3]
        );
        assert_eq!(report.non_2xx_3xx, 7);
        assert_eq!(report.failed(), 53);
        assert_eq!(report.requests, 146_123);
        assert_eq!(report.requests_per_second, 14_597.70);
    }

    #[test]
    fn converts_latency_units_to_milliseconds() {
        let report = parse(WITH_ERRORS).unwrap();
        assert!((report.p50_ms - 0.812).abs() < 1e-9);
        assert_eq!(report.p99_ms, 1200.0);
    }

    #[test]
    fn a_clean_run_has_no_failures() {
        let report = parse(CLEAN).unwrap();
        assert_eq!(report.failed(), 0);
        assert_eq!(report.p50_ms, 1.0);
        assert_eq!(report.p99_ms, 1.5);
    }

    #[test]
    fn refuses_output_without_a_report() {
        let error = parse("unable to connect to 127.0.0.1:3000 Connection refused\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("no report"), "{error}");
    }

    #[test]
    fn refuses_an_unknown_duration_unit() {
        assert!(duration_ms("3.00d").is_err());
        assert_eq!(duration_ms("1.50m").unwrap(), 90_000.0);
    }
}
