//! The results: every sample of every measure, their medians and the ratios
//! nodeunits/PM2 and nodeunits/Oxmgr, written as Markdown and JSON.

use std::fmt::Write as _;

use serde::Serialize;

/// Who a sample was measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Pm2,
    Nodeunits,
    Oxmgr,
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
    pub oxmgr: Vec<f64>,
    pub pm2_median: Option<f64>,
    pub nodeunits_median: Option<f64>,
    pub bare_node_median: Option<f64>,
    pub oxmgr_median: Option<f64>,
    /// nodeunits/PM2, from the medians of this run.
    pub ratio: Option<f64>,
    /// nodeunits/Oxmgr, from the medians of this run.
    pub ratio_oxmgr: Option<f64>,
    /// A variant PM2 has no counterpart of (an option of nodeunits' own):
    /// the ratios are to PM2's and Oxmgr's medians in this other row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_to_pm2_of: Option<String>,
}

/// What the run was on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub node: String,
    pub pm2: String,
    /// Oxmgr's version and commit, when it was measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oxmgr: Option<String>,
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
                    oxmgr: Vec::new(),
                    pm2_median: None,
                    nodeunits_median: None,
                    bare_node_median: None,
                    oxmgr_median: None,
                    ratio: None,
                    ratio_oxmgr: None,
                    ratio_to_pm2_of: None,
                });
                self.rows.len() - 1
            }
        };
        let row = &mut self.rows[index];
        match who {
            Who::Pm2 => row.pm2.push(value),
            Who::Nodeunits => row.nodeunits.push(value),
            Who::Oxmgr => row.oxmgr.push(value),
            Who::Bare => row.bare_node.push(value),
        }
    }

    /// A note under the table, once however often it is added (a measure
    /// that skips a supervisor says why in every run).
    pub fn note(&mut self, note: &str) {
        if !self.notes.iter().any(|known| known == note) {
            self.notes.push(note.to_owned());
        }
    }

    /// The measure's ratios are to PM2's and Oxmgr's medians of the
    /// `reference` measure.
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
            row.oxmgr_median = median(&row.oxmgr);
        }
        let references: Vec<(Option<f64>, Option<f64>)> = self
            .rows
            .iter()
            .map(|row| {
                let of = row.ratio_to_pm2_of.as_deref().unwrap_or(&row.measure);
                self.row(of).map_or((None, None), |reference| {
                    (reference.pm2_median, reference.oxmgr_median)
                })
            })
            .collect();
        for (row, (pm2_median, oxmgr_median)) in self.rows.iter_mut().zip(references) {
            row.ratio = ratio(row.nodeunits_median, pm2_median);
            row.ratio_oxmgr = ratio(row.nodeunits_median, oxmgr_median);
        }
    }

    pub fn row(&self, measure: &str) -> Option<&Row> {
        self.rows.iter().find(|row| row.measure == measure)
    }

    /// The table; Oxmgr's columns only when it was measured.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let with_oxmgr = self.rows.iter().any(|row| !row.oxmgr.is_empty());
        if with_oxmgr {
            let _ = writeln!(
                out,
                "| measure | unit | PM2 | Oxmgr | nodeunits | nodeunits/PM2 | nodeunits/Oxmgr | bare node |"
            );
            let _ = writeln!(
                out,
                "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
            );
        } else {
            let _ = writeln!(
                out,
                "| measure | unit | PM2 | nodeunits | nodeunits/PM2 | bare node |"
            );
            let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: | ---: |");
        }
        for row in &self.rows {
            let better = match row.better {
                Better::Lower => "lower is better",
                Better::Higher => "higher is better",
                Better::Neither => "for context",
            };
            let ratio_cell = |ratio: Option<f64>| {
                ratio.map_or("–".to_owned(), |r| format!("{:.2}", r.max(0.0)))
            };
            let mut cells = vec![
                row.measure.clone(),
                format!("{} ({better})", row.unit),
                cell(&row.pm2),
            ];
            if with_oxmgr {
                cells.push(cell(&row.oxmgr));
            }
            cells.extend([cell(&row.nodeunits), ratio_cell(row.ratio)]);
            if with_oxmgr {
                cells.push(ratio_cell(row.ratio_oxmgr));
            }
            cells.push(cell(&row.bare_node));
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        if let Some(machine) = &self.machine {
            let oxmgr = machine
                .oxmgr
                .as_ref()
                .map_or(String::new(), |oxmgr| format!(", Oxmgr {oxmgr}"));
            let _ = writeln!(
                out,
                "\n{} run, medians of {} runs. {} cores; node {}, PM2 {}{oxmgr}, systemd {}, nodeunits {}, {}. nodeunits driven by: {}.",
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

/// nodeunits' median over another's, unless that is 0 or missing.
fn ratio(nodeunits: Option<f64>, other: Option<f64>) -> Option<f64> {
    match (nodeunits, other) {
        (Some(n), Some(o)) if o != 0.0 => Some(n / o),
        _ => None,
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

/// The `p`th percentile (0 to 100) by nearest rank: the smallest sample
/// with at least `p` % of the samples at or below it.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
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
    fn percentile_by_nearest_rank() {
        let hundred: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(percentile(&hundred, 99.0), Some(99.0));
        assert_eq!(percentile(&hundred, 50.0), Some(50.0));
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 99.0), Some(3.0));
        assert_eq!(percentile(&[7.0], 0.0), Some(7.0));
        assert_eq!(percentile(&[], 99.0), None);
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
    fn oxmgr_gets_a_column_and_a_ratio_of_its_own_when_measured() {
        let mut results = Results::new("test", 1);
        results.add("throughput", "req/s", Better::Higher, Who::Pm2, 10.0);
        results.add("throughput", "req/s", Better::Higher, Who::Oxmgr, 8.0);
        results.add("throughput", "req/s", Better::Higher, Who::Nodeunits, 20.0);
        results.add("variant", "req/s", Better::Higher, Who::Nodeunits, 4.0);
        results.compare_with_pm2_of("variant", "throughput");
        results.summarize();
        let row = results.row("throughput").unwrap();
        assert_eq!(row.oxmgr_median, Some(8.0));
        assert_eq!(row.ratio, Some(2.0));
        assert_eq!(row.ratio_oxmgr, Some(2.5));
        assert_eq!(results.row("variant").unwrap().ratio_oxmgr, Some(0.5));
        let markdown = results.markdown();
        assert!(markdown
            .contains("| PM2 | Oxmgr | nodeunits | nodeunits/PM2 | nodeunits/Oxmgr | bare node |"));
        assert!(markdown
            .contains("| throughput | req/s (higher is better) | 10 | 8 | 20 | 2.00 | 2.50 | – |"));
    }

    #[test]
    fn a_note_is_added_once() {
        let mut results = Results::new("test", 3);
        results.note("Oxmgr skips this.");
        results.note("Oxmgr skips this.");
        assert_eq!(results.notes, vec!["Oxmgr skips this.".to_owned()]);
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
