//! What a benchmark section reports: a table, a few sentences on how it was
//! measured, and the targets it is held to. Rendered as Markdown, which
//! reads well both in a terminal and in `docs/benchmarks.md`.

use std::fmt::Write;

pub struct Section {
    pub title: &'static str,
    /// How the figures were taken, in a sentence or two.
    pub method: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub targets: Vec<Target>,
    /// Anything a reader should know that the table cannot say.
    pub notes: Vec<String>,
}

/// One target from issue #6, with the figure measured against it.
pub struct Target {
    pub what: String,
    pub limit: String,
    pub measured: String,
    pub met: bool,
}

impl Target {
    /// A target of the form "at most `limit`×" on a ratio.
    pub fn ratio_at_most(what: impl Into<String>, ratio: f64, limit: f64) -> Target {
        Target {
            what: what.into(),
            limit: format!("≤ {limit}×"),
            measured: format!("{ratio:.2}×"),
            met: ratio <= limit,
        }
    }
}

impl Section {
    pub fn new(title: &'static str, method: String, columns: Vec<&'static str>) -> Section {
        Section {
            title,
            method,
            columns,
            rows: Vec::new(),
            targets: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("## {}\n\n{}\n\n", self.title, self.method);
        table(&mut out, &self.columns, &self.rows);
        for note in &self.notes {
            let _ = writeln!(out, "\n{note}");
        }
        if !self.targets.is_empty() {
            out.push('\n');
            let rows: Vec<Vec<String>> = self.targets.iter().map(Target::cells).collect();
            table(&mut out, &["target", "limit", "measured", "met"], &rows);
        }
        out
    }
}

impl Target {
    fn cells(&self) -> Vec<String> {
        vec![
            self.what.clone(),
            self.limit.clone(),
            self.measured.clone(),
            if self.met { "yes" } else { "**no**" }.into(),
        ]
    }
}

/// All targets of a run, in one table, for the top of the report.
pub fn summary(sections: &[Section]) -> String {
    let rows: Vec<Vec<String>> = sections
        .iter()
        .flat_map(|s| s.targets.iter().map(Target::cells))
        .collect();
    let mut out = String::new();
    table(&mut out, &["target", "limit", "measured", "met"], &rows);
    out
}

fn table(out: &mut String, columns: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", columns.join(" | "));
    let rule: Vec<&str> = columns
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 0 { "---" } else { "---:" })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
}

/// Milliseconds with two decimals.
pub fn ms(d: std::time::Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// The element at percentile `p` (0–1) of sorted samples.
pub fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
