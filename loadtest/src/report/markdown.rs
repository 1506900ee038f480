//! The Markdown form of a report: what ran, the headline figures, statuses and checks.

use std::fmt::Write as _;

use super::Report;
use crate::engine::Model;
use crate::schedule::Schedule;

/// Renders `report` as a short Markdown document.
pub(super) fn render(report: &Report) -> String {
    let mut out = String::new();
    let verdict = if report.passed { "passed" } else { "FAILED" };
    let _ = writeln!(out, "# skybridge-loadtest: {}{}\n", report.suite, short(report));
    let _ = writeln!(
        out,
        "Target `{}` ({}), {}, {} connections, {:.1} s. Outcome: **{verdict}**.\n",
        report.target,
        report.transport,
        pace(&report.model),
        report.connections,
        report.elapsed_ms / 1000.0,
    );
    let l = &report.latency_us;
    let r = &report.requests;
    out.push_str(
        "| planned | completed | failed | unsent | req/s | p50 | p90 | p99 | p99.9 | max |\n",
    );
    out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {}{} | {} | {} | {} | {:.1} | {} | {} | {} | {} | {} |\n",
        if matches!(report.model, Model::Closed { .. }) { "≤ " } else { "" },
        report.planned,
        r.completed,
        r.failed,
        r.unsent,
        report.throughput_rps,
        ms(l.p50),
        ms(l.p90),
        ms(l.p99),
        ms(l.p99_9),
        ms(l.max),
    );
    out.push_str("| status | count |\n|---:|---:|\n");
    for (status, count) in &r.statuses {
        let _ = writeln!(out, "| {status} | {count} |");
    }
    for (kind, count) in &r.failures {
        let _ = writeln!(out, "| {kind} (failed) | {count} |");
    }
    out.push_str("\n| check | result | detail |\n|---|---|---|\n");
    for check in &report.checks {
        let result = if check.passed { "pass" } else { "FAIL" };
        let _ =
            writeln!(out, "| {} | {result} | {} |", check.name, check.detail.replace('|', "\\|"));
    }
    let lag = &report.generator_lag_us;
    let _ = writeln!(out, "\nGenerator timer lag: p99 {}, max {}.", ms(lag.p99), ms(lag.max));
    out
}

fn short(report: &Report) -> &'static str {
    if report.short { " (short)" } else { "" }
}

fn pace(model: &Model) -> String {
    match model {
        Model::Open { schedule: Schedule::Constant { rate }, count } => {
            format!("open model, {rate} req/s, {count} requests")
        }
        Model::Open { schedule: Schedule::Ramp { from, to, .. }, count } => {
            format!("open model, {from} → {to} req/s, {count} requests")
        }
        Model::Closed { count, .. } => format!("closed model, at most {count} requests"),
    }
}

/// Microseconds as milliseconds with three decimals.
fn ms(micros: u64) -> String {
    format!("{:.3} ms", micros as f64 / 1000.0)
}
