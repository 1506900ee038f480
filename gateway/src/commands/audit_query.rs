//! `skybridge audit query`: searches audit trails written as OTLP-JSON lines (the OpenTelemetry
//! Collector's file exporter output, or Skybridge's own file sink) and prints the matching
//! records as a table or as JSON lines, as they are found.
//!
//! The reading and filtering live in `skybridge_shared::audit_query` (streaming, bounded
//! memory); this file owns the command line and the output formats.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use skybridge_shared::audit::{Decision, attr};
use skybridge_shared::audit_query::{Filter, TrailRecord, format_rfc3339, parse_rfc3339, scan};

/// Arguments of `skybridge audit query`.
#[derive(Debug, Clone, Args)]
pub struct AuditQueryArgs {
    /// OTLP-JSON lines files to search, in order; `-` reads stdin.
    #[arg(long = "file", value_name = "PATH", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Only records of this trace (32 hex digits).
    #[arg(long)]
    pub trace_id: Option<String>,
    /// Only the record of this `x-request-id`.
    #[arg(long)]
    pub request_id: Option<String>,
    /// Only records of this token subject (`sub`).
    #[arg(long)]
    pub subject: Option<String>,
    /// Only records of this route (its name).
    #[arg(long)]
    pub route: Option<String>,
    /// Only allowed or only denied requests.
    #[arg(long, value_enum)]
    pub decision: Option<DecisionArg>,
    /// Only records at or after this RFC 3339 time, e.g. 2024-05-01T12:00:00Z.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Only records at or before this RFC 3339 time.
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Output: an aligned table, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `--decision` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecisionArg {
    /// Forwarded upstream.
    Allow,
    /// Refused by Skybridge.
    Deny,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns, one record per row.
    Table,
    /// One JSON object per record and line.
    Json,
}

/// Table columns: header, attribute (or a record field), width.
const COLUMNS: [(&str, &str, usize); 10] = [
    ("TIME", "", 24),
    ("TRACE_ID", "", 32),
    ("REQUEST_ID", attr::REQUEST_ID, 36),
    ("ROUTE", attr::ROUTE, 14),
    ("METHOD", attr::METHOD, 7),
    ("STATUS", attr::STATUS, 6),
    ("DECISION", attr::DECISION, 8),
    ("REASON", attr::REASON, 22),
    ("SUBJECT", attr::SUBJECT, 24),
    ("PATH", attr::PATH, 0),
];

/// Runs the search, printing matches to stdout and a summary of skipped lines to stderr.
pub fn run(args: &AuditQueryArgs) -> anyhow::Result<()> {
    let filter = filter(args)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.format == Format::Table {
        write_row(&mut out, COLUMNS.map(|(h, _, _)| h.to_owned()))?;
    }
    let mut matched = 0;
    for path in &args.files {
        let reader: Box<dyn io::BufRead> = if path.as_os_str() == "-" {
            Box::new(BufReader::new(io::stdin().lock()))
        } else {
            let file = File::open(path)
                .with_context(|| format!("cannot open audit trail {}", path.display()))?;
            Box::new(BufReader::with_capacity(1 << 16, file))
        };
        let summary = scan(reader, &filter, |record| print(&mut out, args.format, &record))
            .with_context(|| format!("cannot search audit trail {}", path.display()))?;
        matched += summary.matched;
        if let Some(line) = summary.first_skipped_line {
            eprintln!(
                "warning: {}: skipped {} line(s) that are not OTLP-JSON, the first at line {line}",
                path.display(),
                summary.skipped_lines
            );
        }
    }
    out.flush()?;
    if args.format == Format::Table {
        eprintln!("{matched} record(s) matched.");
    }
    Ok(())
}

fn filter(args: &AuditQueryArgs) -> anyhow::Result<Filter> {
    let time = |value: &Option<String>, flag: &str| {
        value.as_deref().map(parse_rfc3339).transpose().with_context(|| format!("bad {flag}"))
    };
    Ok(Filter {
        trace_id: args.trace_id.as_deref().map(Filter::parse_trace_id).transpose()?,
        request_id: args.request_id.clone(),
        subject: args.subject.clone(),
        route: args.route.clone(),
        decision: args.decision.map(|d| match d {
            DecisionArg::Allow => Decision::Allow,
            DecisionArg::Deny => Decision::Deny,
        }),
        since: time(&args.since, "--since")?,
        until: time(&args.until, "--until")?,
    })
}

fn print(out: &mut impl Write, format: Format, record: &TrailRecord) -> io::Result<()> {
    match format {
        Format::Json => writeln!(out, "{}", record.to_json()),
        Format::Table => write_row(
            out,
            COLUMNS.map(|(header, key, _)| match header {
                "TIME" => format_rfc3339(record.time_unix_nano),
                "TRACE_ID" => record.trace_id.clone(),
                _ => cell(record, key),
            }),
        ),
    }
}

fn cell(record: &TrailRecord, key: &str) -> String {
    match record.attributes.get(key) {
        None | Some(serde_json::Value::Null) => "-".to_owned(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn write_row(out: &mut impl Write, cells: [String; COLUMNS.len()]) -> io::Result<()> {
    let mut line = String::new();
    for ((_, _, width), cell) in COLUMNS.iter().zip(cells) {
        // Control characters would let a crafted value forge rows; show them escaped.
        let cell: String = cell.chars().flat_map(char::escape_default).collect();
        line.push_str(&format!("{cell:<width$} "));
    }
    writeln!(out, "{}", line.trim_end())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> AuditQueryArgs {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: AuditQueryArgs,
        }
        let argv = ["audit-query", "--file", "a.jsonl", "b.jsonl"].iter().chain(extra);
        <Cli as clap::Parser>::try_parse_from(argv).map(|c| c.args).unwrap()
    }

    #[test]
    fn flags_build_one_combined_filter() {
        let a =
            args(&["--decision", "deny", "--since", "2024-05-01T12:00:00+02:00", "--route", "r"]);
        assert_eq!(a.files.len(), 2);
        let f = filter(&a).unwrap();
        assert_eq!(f.decision, Some(Decision::Deny));
        assert_eq!(f.since, Some(1_714_557_600_000_000_000));
        assert_eq!(f.route.as_deref(), Some("r"));
        let bad = filter(&args(&["--until", "yesterday"])).unwrap_err();
        assert!(format!("{bad:#}").contains("--until"), "{bad:#}");
        assert!(filter(&args(&["--trace-id", "123"])).is_err());
    }

    #[test]
    fn table_cells_cannot_forge_rows() {
        let mut out = Vec::new();
        let mut cells = COLUMNS.map(|_| "x".to_owned());
        cells[9] = "/a\n2024 forged".to_owned();
        write_row(&mut out, cells).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}
