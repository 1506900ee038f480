//! The latency-percentile plot: latency against percentile on a "nines" axis (50 %, 90 %,
//! 99 %, 99.9 % … equally spaced), where tail behaviour is visible. SVG, drawn by plotters'
//! SVG backend, which writes text as SVG text and so needs no fonts installed.

use std::path::Path;

use plotters::prelude::*;

use super::Report;

/// Draws `report`'s percentile curve into `path`.
pub(super) fn draw(report: &Report, path: &Path) -> Result<(), String> {
    // x = 1 / (1 − q): 2 at the median, 10 at p90, 1000 at p99.9.
    let points: Vec<(f64, f64)> = report
        .percentiles
        .iter()
        .filter(|p| p.percentile < 100.0)
        .map(|p| (1.0 / (1.0 - p.percentile / 100.0), p.latency_us as f64 / 1000.0))
        .collect();
    let x_max = points.iter().map(|p| p.0).fold(10.0_f64, f64::max) * 1.5;
    let y_max = points.iter().map(|p| p.1).fold(0.001_f64, f64::max) * 1.1;
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|err| err.to_string())?;
    let caption =
        format!("{}: latency by percentile ({} responses)", report.suite, report.latency_us.count);
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d((1.0..x_max).log_scale(), 0.0..y_max)
        .map_err(|err| err.to_string())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms)")
        .x_label_formatter(&|x| percentile_label(*x))
        .draw()
        .map_err(|err| err.to_string())?;
    chart
        .draw_series(LineSeries::new(points, BLUE.stroke_width(2)))
        .map_err(|err| err.to_string())?;
    root.present().map_err(|err| err.to_string())
}

/// The percentile an x position stands for, e.g. `99.9%`.
fn percentile_label(x: f64) -> String {
    let percentile = (1.0 - 1.0 / x) * 100.0;
    let text = format!("{percentile:.4}");
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::percentile_label;

    #[test]
    fn labels_read_as_percentiles() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(1000.0), "99.9%");
    }
}
