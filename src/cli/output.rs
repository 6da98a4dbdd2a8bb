//! How object commands print: `--output table` (the default, for people)
//! or `--output json` (the API's own representation, for scripts and
//! `jq`). Tables size their columns to what they hold.

use clap::{Args, ValueEnum};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, Args)]
pub struct OutputArgs {
    /// `table` for people, `json` (the API's objects) for scripts.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// A table: a header row and rows of the same width.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Table {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    /// A row of cells; what came from the broker is made [`visible`].
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len());
        self.rows
            .push(cells.iter().map(|c| visible(c).into_owned()).collect());
    }

    /// Columns padded to their widest cell (the last one not padded).
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .chain([self.header[c].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>| {
            let mut out = String::new();
            for (c, cell) in cells.iter().enumerate() {
                if c + 1 == cells.len() {
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    out.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
                }
            }
            out.trim_end().to_string()
        };
        let mut out = line(self.header.clone());
        for row in &self.rows {
            out.push('\n');
            out.push_str(&line(row.iter().map(String::as_str).collect()));
        }
        out
    }
}

/// Prints a list: as JSON, or as the table `table` builds.
pub fn list<T: Serialize>(
    format: Format,
    items: &[T],
    table: impl FnOnce(&[T]) -> Table,
) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(items)?),
        Format::Table => println!("{}", table(items).render()),
    }
    Ok(())
}

/// Prints one object: as JSON, or as `FIELD  value` lines.
pub fn one<T: Serialize>(
    format: Format,
    item: &T,
    fields: impl FnOnce(&T) -> Vec<(&'static str, String)>,
) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(item)?),
        Format::Table => {
            let mut table = Table::new(&["FIELD", "VALUE"]);
            for (name, value) in fields(item) {
                table.row(vec![name.to_string(), value]);
            }
            // The header is noise for a single object.
            let rendered = table.render();
            println!("{}", rendered.split_once('\n').map_or("", |(_, rest)| rest));
        }
    }
    Ok(())
}

/// Prints one object with the objects a table shows beside it: as JSON,
/// the object with `key` added, holding `related` (so both formats hold
/// the same data); as a table, the lines `fields` gives.
pub fn one_with<T: Serialize, R: Serialize>(
    format: Format,
    item: &T,
    key: &str,
    related: &R,
    fields: impl FnOnce(&T) -> Vec<(&'static str, String)>,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let mut value = serde_json::to_value(item)?;
            match &mut value {
                serde_json::Value::Object(map) => {
                    map.insert(key.to_string(), serde_json::to_value(related)?);
                }
                _ => anyhow::bail!("cannot add {key} to a JSON value that is not an object"),
            }
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(())
        }
        Format::Table => one(format, item, fields),
    }
}

/// `s` with every control character (C0, DEL, C1) written as an escape
/// (`\u{1b}`), so text that came from the broker, and perhaps from an
/// outsider before that, cannot move the cursor, rewrite earlier lines or
/// set the terminal's title when printed. JSON output needs none of this:
/// serde escapes control characters itself.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// `key=value,...` for labels; `-` when empty.
pub fn labels(labels: &std::collections::BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "-".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `KEY=VALUE` flags as a map.
pub fn parse_label(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE, e.g. env=prod"))
}

/// A value or `-`.
pub fn or_dash(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("-").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_widest_cell() {
        let mut t = Table::new(&["ID", "NAME"]);
        t.row(vec!["a-long-id".into(), "x".into()]);
        t.row(vec!["b".into(), "Network".into()]);
        assert_eq!(
            t.render(),
            "ID         NAME\na-long-id  x\nb          Network"
        );
    }

    #[test]
    fn terminal_escapes_print_as_text() {
        // CSI (clear screen), OSC (window title), a bare C1 CSI, a newline
        // that would fake a row, DEL.
        let hostile = "key\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\nfake row\u{7f}";
        let shown = visible(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert_eq!(
            shown,
            "key\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{9b}31m\\u{a}fake row\\u{7f}"
        );
        assert!(matches!(visible("plain"), std::borrow::Cow::Borrowed(_)));
        let mut t = Table::new(&["ID"]);
        t.row(vec![hostile.into()]);
        assert_eq!(t.render().lines().count(), 2, "one header, one row");
    }
}
