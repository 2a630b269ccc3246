//! The trend per framework over a period: compliance and coverage at each evaluation, read from the per-framework
//! results `evaluate` keeps (`evaluation_frameworks`), so no earlier evaluation is rebuilt.

use schemars::JsonSchema;
use serde::Serialize;

/// One framework's results over the evaluations in the period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrendSeries {
    /// Framework id.
    pub framework_id: String,
    /// Framework name.
    pub framework: String,
    /// The evaluations, oldest first.
    pub points: Vec<TrendPoint>,
    /// The compliance line for a 100 × 30 SVG viewBox (`x,y` pairs).
    pub polyline: String,
    /// Lowest compliance in the period, in percent.
    pub min_compliance: u32,
    /// Highest compliance in the period, in percent.
    pub max_compliance: u32,
}

/// One framework's result at one evaluation.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrendPoint {
    /// The evaluation.
    pub evaluation_id: i64,
    /// Its as-of moment, for display.
    pub as_of: String,
    /// Compliance, in percent.
    pub compliance_percent: u32,
    /// Coverage, in percent.
    pub coverage_percent: u32,
}

/// The trend per framework from the stored per-framework results of the evaluations in a window (sorted by
/// framework, then moment, as `stored::framework_results` gives them).
pub fn series(points: Vec<crate::evaluate::stored::FrameworkPoint>) -> Vec<TrendSeries> {
    let mut series: Vec<TrendSeries> = Vec::new();
    for stored in points {
        let point = TrendPoint {
            evaluation_id: stored.evaluation_id,
            as_of: crate::time::display_utc(&stored.as_of),
            compliance_percent: stored.compliance_percent,
            coverage_percent: stored.coverage_percent,
        };
        match series.last_mut().filter(|s| s.framework_id == stored.framework_id) {
            Some(current) => current.points.push(point),
            None => series.push(TrendSeries {
                framework_id: stored.framework_id,
                framework: stored.framework,
                points: vec![point],
                polyline: String::new(),
                min_compliance: 0,
                max_compliance: 0,
            }),
        }
    }
    for s in &mut series {
        let last = (s.points.len().max(2) - 1) as f64;
        s.polyline = s
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", i as f64 * 100.0 / last, 30.0 - f64::from(p.compliance_percent) * 0.3))
            .collect::<Vec<_>>()
            .join(" ");
        s.min_compliance = s.points.iter().map(|p| p.compliance_percent).min().unwrap_or(0);
        s.max_compliance = s.points.iter().map(|p| p.compliance_percent).max().unwrap_or(0);
    }
    // One evaluation is a point, not a trend.
    if series.iter().all(|s| s.points.len() < 2) {
        series.clear();
    }
    series
}
