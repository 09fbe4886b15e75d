//! The probe (bench/apps/probe.js) inside a box: beside the load, a request
//! on a new connection every 5 ms, each noted with when it was sent, how
//! long its answer took and which worker gave it. Started and stopped as
//! wrk is, in `load.slice`.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

use crate::apps::bench_dir;
use crate::host::Host;
use crate::load::{self, Running};

/// One request of the probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// When it was sent, by the wall clock ([`now_ms`]).
    pub sent_ms: f64,
    pub latency_ms: f64,
    /// The PID of the worker that answered, or why the request failed.
    pub worker: Result<u32, String>,
}

/// The wall clock in ms since the epoch, the probe's clock: the box's
/// namespaces share the machine's.
pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64() * 1000.0)
}

/// A probe running in the background.
pub struct Probe(Running);

/// Starts the probe on `port` for at most `seconds`, its files in `dir`.
pub fn start(host: &dyn Host, port: u16, seconds: u32, dir: &Path) -> Result<Probe> {
    let script = bench_dir().join("apps/probe.js");
    let command = format!("node {} {port} {seconds}", script.display());
    Ok(Probe(load::start_client(host, "probe", &command, dir)?))
}

impl Probe {
    /// Stops the probe (SIGINT: it waits for the requests in flight, then
    /// prints) and returns every request it made.
    pub fn stop(self, host: &dyn Host) -> Result<Vec<Answer>> {
        parse(&self.0.stop_text(host)?)
    }
}

/// The probe's lines: `SENT_MS LATENCY_MS PID` or `SENT_MS LATENCY_MS
/// error:WHY`.
pub fn parse(text: &str) -> Result<Vec<Answer>> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [sent, latency, answer] = fields[..] else {
                bail!("the probe printed {line:?}, not `SENT_MS LATENCY_MS ANSWER`");
            };
            let number = |field: &str| {
                field
                    .parse::<f64>()
                    .with_context(|| format!("the probe printed {line:?}"))
            };
            let worker = match answer.strip_prefix("error:") {
                Some(why) => Err(why.to_owned()),
                None => Ok(answer
                    .parse()
                    .with_context(|| format!("the probe printed {line:?}"))?),
            };
            Ok(Answer {
                sent_ms: number(sent)?,
                latency_ms: number(latency)?,
                worker,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_answers_and_failures() {
        let answers = parse("1000 2.500 41\n1005 0.812 error:ECONNREFUSED\n\n").unwrap();
        assert_eq!(
            answers,
            vec![
                Answer {
                    sent_ms: 1000.0,
                    latency_ms: 2.5,
                    worker: Ok(41)
                },
                Answer {
                    sent_ms: 1005.0,
                    latency_ms: 0.812,
                    worker: Err("ECONNREFUSED".to_owned())
                },
            ]
        );
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        assert!(parse("node: warning\n").is_err());
        assert!(parse("1000 2.5 cooperative\n").is_err());
    }
}
