//! Figures as the command prints them: one JSON line each
//! (`{"figure":…,"value":…,"unit":…}`), and the table built from those lines.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    pub figure: String,
    /// `None` when the thing measured reported nothing (printed as `null`).
    pub value: Option<f64>,
    pub unit: String,
}

/// Prints one figure as a JSON line on standard output.
pub fn emit(figure: impl Into<String>, value: impl Into<Option<f64>>, unit: &str) -> Figure {
    let figure = Figure { figure: figure.into(), value: value.into(), unit: unit.to_owned() };
    println!("{}", serde_json::to_string(&figure).expect("figures serialise"));
    figure
}

/// Reads every figure line of a command's output, skipping anything else.
pub fn parse_lines(text: &str) -> Vec<Figure> {
    text.lines().filter(|l| l.starts_with("{\"figure\"")).filter_map(|l| serde_json::from_str(l).ok()).collect()
}

pub fn format_value(value: Option<f64>) -> String {
    match value {
        None => "not reported".to_owned(),
        Some(v) if v == v.trunc() && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) if v.abs() >= 100.0 => format!("{v:.1}"),
        Some(v) if v.abs() >= 1.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// A plain-text table: figure, value, unit, grouped by the figure's first part.
pub fn table(figures: &[Figure]) -> String {
    let width = figures.iter().map(|f| f.figure.len()).max().unwrap_or(6).max(6);
    let mut out = format!("{:<width$}  {:>14}  unit\n", "figure", "value");
    let mut section = "";
    for f in figures {
        let this = f.figure.split('.').next().unwrap_or("");
        if this != section {
            section = this;
            out.push_str(&format!("{:-<width$}  {:->14}  ----\n", "", ""));
        }
        out.push_str(&format!("{:<width$}  {:>14}  {}\n", f.figure, format_value(f.value), f.unit));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_lines_round_trip_and_other_lines_are_skipped() {
        let text = "warming up\n{\"figure\":\"a.b\",\"value\":1.5,\"unit\":\"ms\"}\n{\"figure\":\"c\",\"value\":null,\"unit\":\"x\"}\n";
        let figures = parse_lines(text);
        assert_eq!(figures.len(), 2);
        assert_eq!((figures[0].figure.as_str(), figures[0].value), ("a.b", Some(1.5)));
        assert_eq!(figures[1].value, None);
    }

    #[test]
    fn the_table_starts_a_section_per_first_name_part() {
        let figures = parse_lines(
            "{\"figure\":\"a.x\",\"value\":1,\"unit\":\"ms\"}\n{\"figure\":\"a.y\",\"value\":2,\"unit\":\"ms\"}\n{\"figure\":\"b.z\",\"value\":0.25,\"unit\":\"MB\"}",
        );
        let table = table(&figures);
        assert_eq!(table.lines().filter(|l| l.starts_with("---")).count(), 2, "{table}");
        assert!(table.contains("0.2500  MB"), "{table}");
    }
}
