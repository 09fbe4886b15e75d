//! The results: every sample of every measure, their medians and the ratio
//! nodeunits/PM2, written as Markdown and JSON.

use std::fmt::Write as _;

use serde::Serialize;

/// Who a sample was measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Pm2,
    Nodeunits,
    /// Bare node, no supervisor: the ceiling or the baseline.
    Bare,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Lower,
    Higher,
    /// A count that explains another row.
    Neither,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub measure: String,
    pub unit: &'static str,
    pub better: Better,
    pub pm2: Vec<f64>,
    pub nodeunits: Vec<f64>,
    pub bare_node: Vec<f64>,
    pub pm2_median: Option<f64>,
    pub nodeunits_median: Option<f64>,
    pub bare_node_median: Option<f64>,
    /// nodeunits/PM2, from the medians of this run.
    pub ratio: Option<f64>,
    /// A variant PM2 has no counterpart of (an option of nodeunits' own):
    /// the ratio is to PM2's median in this other row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_to_pm2_of: Option<String>,
}

/// What the run was on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub node: String,
    pub pm2: String,
    pub systemd: String,
    pub nodeunits: String,
    pub wrk: String,
    /// How the nodeunits side was driven.
    pub nodeunits_driver: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub mode: &'static str,
    pub runs: u32,
    pub machine: Option<Machine>,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Results {
    pub fn new(mode: &'static str, runs: u32) -> Results {
        Results {
            mode,
            runs,
            machine: None,
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn add(&mut self, measure: &str, unit: &'static str, better: Better, who: Who, value: f64) {
        let index = match self.rows.iter().position(|row| row.measure == measure) {
            Some(index) => index,
            None => {
                self.rows.push(Row {
                    measure: measure.to_owned(),
                    unit,
                    better,
                    pm2: Vec::new(),
                    nodeunits: Vec::new(),
                    bare_node: Vec::new(),
                    pm2_median: None,
                    nodeunits_median: None,
                    bare_node_median: None,
                    ratio: None,
                    ratio_to_pm2_of: None,
                });
                self.rows.len() - 1
            }
        };
        let row = &mut self.rows[index];
        match who {
            Who::Pm2 => row.pm2.push(value),
            Who::Nodeunits => row.nodeunits.push(value),
            Who::Bare => row.bare_node.push(value),
        }
    }

    /// The measure's ratio is to PM2's median of the `reference` measure.
    pub fn compare_with_pm2_of(&mut self, measure: &str, reference: &str) {
        if let Some(row) = self.rows.iter_mut().find(|row| row.measure == measure) {
            row.ratio_to_pm2_of = Some(reference.to_owned());
        }
    }

    /// Fills in medians and ratios from the samples, and puts the rows in
    /// the order of the issue: failures, throughput, share of requests,
    /// memory, time, latency.
    pub fn summarize(&mut self) {
        self.rows.sort_by_key(|row| {
            let order = [
                "Failed",
                "Memory-limit",
                "Throughput",
                "Busiest",
                "Memory,",
                "Memory that",
                "Time",
                "Reload",
                "p50",
                "p99",
            ];
            order
                .iter()
                .position(|prefix| row.measure.starts_with(prefix))
                .unwrap_or(usize::MAX)
        });
        for row in &mut self.rows {
            row.pm2_median = median(&row.pm2);
            row.nodeunits_median = median(&row.nodeunits);
            row.bare_node_median = median(&row.bare_node);
        }
        let pm2_medians: Vec<Option<f64>> = self
            .rows
            .iter()
            .map(|row| {
                let pm2_of = row.ratio_to_pm2_of.as_deref().unwrap_or(&row.measure);
                self.row(pm2_of).and_then(|reference| reference.pm2_median)
            })
            .collect();
        for (row, pm2_median) in self.rows.iter_mut().zip(pm2_medians) {
            row.ratio = match (row.nodeunits_median, pm2_median) {
                (Some(n), Some(p)) if p != 0.0 => Some(n / p),
                _ => None,
            };
        }
    }

    pub fn row(&self, measure: &str) -> Option<&Row> {
        self.rows.iter().find(|row| row.measure == measure)
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| measure | unit | PM2 | nodeunits | nodeunits/PM2 | bare node |"
        );
        let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: | ---: |");
        for row in &self.rows {
            let better = match row.better {
                Better::Lower => "lower is better",
                Better::Higher => "higher is better",
                Better::Neither => "for context",
            };
            let _ = writeln!(
                out,
                "| {} | {} ({better}) | {} | {} | {} | {} |",
                row.measure,
                row.unit,
                cell(&row.pm2),
                cell(&row.nodeunits),
                row.ratio
                    .map_or("–".to_owned(), |r| format!("{:.2}", r.max(0.0))),
                cell(&row.bare_node),
            );
        }
        if let Some(machine) = &self.machine {
            let _ = writeln!(
                out,
                "\n{} run, medians of {} runs. {} cores; node {}, PM2 {}, systemd {}, nodeunits {}, {}. nodeunits driven by: {}.",
                self.mode,
                self.runs,
                machine.cores,
                machine.node,
                machine.pm2,
                machine.systemd,
                machine.nodeunits,
                machine.wrk,
                machine.nodeunits_driver
            );
        }
        for note in &self.notes {
            let _ = writeln!(out, "\n{note}");
        }
        out
    }
}

/// The median, and the range when there are several samples.
fn cell(samples: &[f64]) -> String {
    let Some(middle) = median(samples) else {
        return "–".to_owned();
    };
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if samples.len() == 1 || min == max {
        number(middle)
    } else {
        format!("{} ({}–{})", number(middle), number(min), number(max))
    }
}

fn number(value: f64) -> String {
    if value.abs() >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn ratio_is_nodeunits_over_pm2_of_the_medians() {
        let mut results = Results::new("test", 2);
        for (who, value) in [(Who::Pm2, 10.0), (Who::Pm2, 30.0), (Who::Nodeunits, 40.0)] {
            results.add("throughput", "req/s", Better::Higher, who, value);
        }
        results.summarize();
        let row = results.row("throughput").unwrap();
        assert_eq!(row.pm2_median, Some(20.0));
        assert_eq!(row.ratio, Some(2.0));
        assert!(results
            .markdown()
            .contains("| throughput | req/s (higher is better) | 20 (10–30) | 40 | 2.00 | – |"));
    }

    #[test]
    fn a_variant_of_nodeunits_is_compared_with_pm2_s_row() {
        let mut results = Results::new("test", 1);
        results.add("share", "%", Better::Lower, Who::Pm2, 50.0);
        results.add("share", "%", Better::Lower, Who::Nodeunits, 90.0);
        results.add("share, variant", "%", Better::Lower, Who::Nodeunits, 60.0);
        results.compare_with_pm2_of("share, variant", "share");
        results.summarize();
        assert_eq!(results.row("share").unwrap().ratio, Some(1.8));
        assert_eq!(results.row("share, variant").unwrap().ratio, Some(1.2));
        assert!(results
            .markdown()
            .contains("| share, variant | % (lower is better) | – | 60 | 1.20 | – |"));
    }

    #[test]
    fn no_ratio_against_zero() {
        let mut results = Results::new("test", 1);
        results.add("failed", "requests", Better::Lower, Who::Pm2, 0.0);
        results.add("failed", "requests", Better::Lower, Who::Nodeunits, 0.0);
        results.summarize();
        assert_eq!(results.row("failed").unwrap().ratio, None);
    }
}
