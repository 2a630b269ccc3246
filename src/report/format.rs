//! What a report is rendered as: its formats, and the paper a PDF is laid out on.

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// A self-contained HTML page.
    Html,
    /// A PDF document.
    Pdf,
    /// The report model as JSON.
    Json,
    /// findings.csv and requirements.csv.
    Csv,
    /// OSCAL 1.0.6 assessment results (assessment-results.json).
    Oscal,
    /// OSCAL 1.0.6 plan of action and milestones: one item per open finding (poam.json).
    Poam,
    /// SARIF 2.1.0 of the failing findings, for code-scanning UIs (report.sarif).
    Sarif,
}

/// PDF paper sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Paper {
    /// ISO A4 (210 × 297 mm).
    #[default]
    A4,
    /// US Letter (8.5 × 11 in).
    Letter,
}
