//! What the PDF shows, section by section, laid out from the report model.
//!
//! Why this file is long (about 730 lines): one function per section, in the order the PDF prints them, so the
//! document reads top to bottom here; the drawing primitives are in the other files of `pdf/`.

use super::font::Weight;
use super::layout::{Cell, Column, Layout, Rgb3, INK, MUTED};
use crate::report::model::{FindingRow, ReportModel};

const PASS: (Rgb3, Rgb3) = (Rgb3(0.12, 0.48, 0.2), Rgb3(0.89, 0.96, 0.9));
const FAIL: (Rgb3, Rgb3) = (Rgb3(0.7, 0.15, 0.12), Rgb3(0.98, 0.89, 0.89));
const UNKNOWN: (Rgb3, Rgb3) = (Rgb3(0.54, 0.35, 0.0), Rgb3(0.99, 0.94, 0.84));
const NOT_APPLICABLE: (Rgb3, Rgb3) = (Rgb3(0.33, 0.37, 0.43), Rgb3(0.93, 0.93, 0.95));
const MANUAL: (Rgb3, Rgb3) = (Rgb3(0.24, 0.31, 0.54), Rgb3(0.9, 0.92, 0.97));
const WAIVED: (Rgb3, Rgb3) = (Rgb3(0.36, 0.24, 0.57), Rgb3(0.94, 0.91, 0.98));
const ATTESTED: (Rgb3, Rgb3) = (Rgb3(0.04, 0.42, 0.42), Rgb3(0.87, 0.95, 0.95));

/// A verdict as a coloured badge.
pub(super) fn status_cell(status: &str, label: &str) -> Cell {
    let (color, fill) = match status {
        "pass" => PASS,
        "fail" => FAIL,
        "unknown" => UNKNOWN,
        "manual" => MANUAL,
        "waived" | "active" => WAIVED,
        "expired" | "malformed" | "invalid" => FAIL,
        "attested" | "valid" => ATTESTED,
        _ => NOT_APPLICABLE,
    };
    Cell::badge(label, color, fill)
}

fn severity_cell(severity: &str) -> Cell {
    let color = match severity {
        "critical" | "high" => FAIL.0,
        "medium" => UNKNOWN.0,
        _ => MUTED,
    };
    Cell { color, ..Cell::bold(severity.to_uppercase()) }
}

/// Lays out the whole report; `contents` lists the sections with their pages (from an earlier pass).
pub fn compose(layout: &mut Layout<'_>, model: &ReportModel, contents: &[(String, usize)]) {
    cover(layout, model);
    layout.new_page();
    table_of_contents(layout, contents);
    layout.new_page();
    if !model.chosen_frameworks.is_empty() {
        super::summaries::framework_summaries(layout, model);
    }
    summary(layout, model);
    trend(layout, model);
    gaps(layout, model);
    drift(layout, model);
    findings(layout, model);
    controls(layout, model);
    frameworks(layout, model);
    if model.chosen_frameworks.is_empty() {
        super::summaries::framework_summaries(layout, model);
    }
    waivers(layout, model);
    attestations(layout, model);
    unobserved(layout, model);
    retention(layout, model);
    populations(layout, model);
    evidence(layout, model);
}

fn table_of_contents(layout: &mut Layout<'_>, contents: &[(String, usize)]) {
    layout.heading("Contents", 1);
    for (title, page) in contents.iter().filter(|(title, _)| title != "Contents") {
        layout.contents_line(title, *page, 10.5);
    }
}

fn cover(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.space(40.0);
    layout.paragraph("PIPEPROOF ASSESSMENT REPORT", Weight::Bold, 9.0, MUTED);
    layout.paragraph(&model.title, Weight::Bold, 22.0, INK);
    layout.space(6.0);
    let frameworks: Vec<String> = model.frameworks.iter().map(|f| format!("{} ({})", f.name, f.version)).collect();
    let mut rows = vec![vec![Cell::bold("Organisation"), Cell::plain(&model.organisation)]];
    if let Some(period) = &model.period {
        rows.push(vec![Cell::bold("Period"), Cell::plain(period)]);
    }
    rows.extend([
        vec![Cell::bold("Evidence as of"), Cell::plain(&model.as_of)],
        vec![Cell::bold("Evaluation"), Cell::plain(format!("#{}", model.evaluation_id))],
        vec![Cell::bold("Frameworks"), Cell::plain(frameworks.join("; "))],
        vec![Cell::bold("Tool"), Cell::plain(format!("pipeproof {}", model.tool_version))],
        vec![Cell::bold("Catalogue digest"), Cell::plain(format!("sha256 {}", model.catalogue_sha256))],
        vec![Cell::bold("Evidence digest"), Cell::plain(format!("sha256 {}", model.evidence_digest))],
    ]);
    layout.table(&[Column { title: "Item", share: 0.22 }, Column { title: "Value", share: 0.78 }], &rows, 9.5);
    layout.paragraph(
        "This report was generated from the evidence store by pipeproof. Every finding names the evidence item that proves it; \
         the evidence appendix lists each item with the sha256 of its raw bytes.",
        Weight::Regular,
        9.0,
        MUTED,
    );
}

/// The fill of a chart segment for a status (the same hues as the HTML report).
fn chart_colour(status: &str) -> Rgb3 {
    match status {
        "pass" => PASS.0,
        "fail" => FAIL.0,
        "unknown" => Rgb3(0.85, 0.6, 0.12),
        "waived" => Rgb3(0.61, 0.5, 0.82),
        "attested" => Rgb3(0.16, 0.64, 0.64),
        "not_applicable" => Rgb3(0.67, 0.69, 0.75),
        _ => Rgb3(0.76, 0.8, 0.9),
    }
}

fn summary(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("Executive summary", 1);
    let total = model.summary.controls_total.max(1) as f32;
    let donut: Vec<(f32, Rgb3, String)> = model
        .summary
        .controls_chart
        .iter()
        .map(|s| (s.count as f32 / total, chart_colour(&s.status), format!("{} {} ({}%)", s.count, s.label, s.percent)))
        .collect();
    layout.donut(&donut, 84.0, &model.summary.controls_total.to_string());
    let counts = &model.summary.controls;
    layout.paragraph(
        &format!(
            "{} controls were evaluated over {} resources: {} pass, {} fail, {} unknown, {} waived, {} not applicable.",
            model.summary.controls_total,
            model.summary.resources,
            counts.pass,
            counts.fail,
            counts.unknown,
            counts.waived,
            counts.not_applicable
        ),
        Weight::Regular,
        10.0,
        INK,
    );
    for waiver in &model.wildcard_waivers {
        let ticket = if waiver.ticket.is_empty() { String::new() } else { format!(" ({})", waiver.ticket) };
        layout.paragraph(
            &format!(
                "Wildcard waiver {}: {} on every resource matching \"{}\" ({} finding(s) waived), approved by {}{ticket}, \
                 until {}. An auditor should confirm it was meant to be that wide.",
                waiver.entry, waiver.control, waiver.pattern, waiver.waived, waiver.approver, waiver.expires
            ),
            Weight::Bold,
            10.0,
            INK,
        );
    }
    layout.paragraph(
        "A control fails if it fails on any resource, and is unknown when the evidence could not decide. Coverage is the share of a \
         framework's requirements that automated controls could decide (pass or fail) or a valid manual attestation covers; \
         compliance is the share of covered requirements that pass or are attested. Requirements that no control covers need \
         manual evidence.",
        Weight::Regular,
        9.0,
        MUTED,
    );
    let rows: Vec<Vec<Cell>> = model
        .frameworks
        .iter()
        .map(|f| {
            vec![
                Cell::bold(&f.name),
                Cell::plain(f.requirements_total.to_string()),
                Cell::plain(format!("{}%", f.coverage_percent)),
                Cell::plain(format!("{}%", f.compliance_percent)),
                Cell::plain(format!(
                    "{} pass, {} fail, {} unknown, {} waived, {} attested, {} without automated control",
                    f.counts.pass, f.counts.fail, f.counts.unknown, f.counts.waived, f.attested, f.manual
                )),
            ]
        })
        .collect();
    layout.table(
        &[
            Column { title: "Framework", share: 0.28 },
            Column { title: "Requirements", share: 0.17 },
            Column { title: "Coverage", share: 0.13 },
            Column { title: "Compliance", share: 0.14 },
            Column { title: "Requirements by status", share: 0.28 },
        ],
        &rows,
        8.5,
    );
    layout.heading("By pipeline domain", 2);
    let rows: Vec<Vec<Cell>> = model
        .domains
        .iter()
        .map(|d| {
            vec![
                Cell::bold(&d.domain),
                Cell::plain(d.controls.to_string()),
                Cell::plain(format!("{}%", d.coverage_percent)),
                Cell::plain(format!("{}%", d.compliance_percent)),
                Cell::plain(format!(
                    "{} pass, {} fail, {} unknown, {} waived, {} not applicable",
                    d.counts.pass, d.counts.fail, d.counts.unknown, d.counts.waived, d.counts.not_applicable
                )),
            ]
        })
        .collect();
    layout.table(
        &[
            Column { title: "Domain", share: 0.22 },
            Column { title: "Controls", share: 0.12 },
            Column { title: "Coverage", share: 0.13 },
            Column { title: "Compliance", share: 0.14 },
            Column { title: "Controls by status", share: 0.39 },
        ],
        &rows,
        8.5,
    );
    layout.heading("Requirements by framework", 2);
    for framework in &model.frameworks {
        layout.paragraph(&framework.name, Weight::Bold, 9.0, INK);
        let total = framework.requirements_total.max(1) as f32;
        let segments: Vec<(f32, Rgb3)> =
            framework.bar.iter().map(|segment| (segment.count as f32 / total, chart_colour(&segment.status))).collect();
        layout.stacked_bar(&segments, 10.0);
        let legend: Vec<String> = framework.bar.iter().map(|s| format!("{}: {}", s.label, s.count)).collect();
        layout.paragraph(&legend.join("   "), Weight::Regular, 8.0, MUTED);
    }
}

fn gaps(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("Gap analysis", 1);
    if model.gaps.is_empty() {
        layout.paragraph("No gaps: every automated control that could decide passes.", Weight::Regular, 10.0, INK);
        return;
    }
    layout.paragraph(
        "Per framework, the requirements whose automated controls fail or cannot decide, worst first: failures before unknowns, \
         then by severity, then by the number of resources affected. The Controls section says how to fix each control.",
        Weight::Regular,
        9.0,
        MUTED,
    );
    for framework in &model.gaps {
        let rows: Vec<Vec<Cell>> = framework
            .gaps
            .iter()
            .map(|gap| {
                let controls: Vec<&str> = gap.actions.iter().map(|a| a.control.as_str()).collect();
                vec![
                    Cell::plain(format!("{} {}", gap.requirement, gap.label)),
                    status_cell(&gap.status, &gap.status_label),
                    severity_cell(&gap.severity),
                    Cell::plain(gap.resources.to_string()),
                    Cell::plain(controls.join(", ")),
                ]
            })
            .collect();
        layout.heading(&framework.framework, 2);
        layout.table(
            &[
                Column { title: "Requirement", share: 0.4 },
                Column { title: "Status", share: 0.12 },
                Column { title: "Severity", share: 0.12 },
                Column { title: "Resources", share: 0.12 },
                Column { title: "Controls", share: 0.24 },
            ],
            &rows,
            8.5,
        );
    }
}

fn finding_row(finding: &FindingRow) -> Vec<Cell> {
    let status = match &finding.underlying_status {
        Some(underlying) => format!("{} (was {underlying})", finding.status_label),
        None => finding.status_label.clone(),
    };
    let mut reason = match &finding.waiver {
        Some(waiver) => format!("{} Waiver {waiver}", finding.reason),
        None => finding.reason.clone(),
    };
    if let Some(throughout) = &finding.throughout {
        reason.push_str(&format!(" Period: {throughout}."));
    }
    if finding.incomplete_evidence {
        reason.push_str(" Rests on incomplete or partial evidence.");
    }
    vec![
        Cell::bold(&finding.control),
        Cell::plain(&finding.resource),
        status_cell(&finding.status, &status),
        Cell::plain(reason),
        Cell::plain(finding.evidence_id.map(|id| format!("E{id}")).unwrap_or_else(|| "none".into())),
    ]
}

fn findings(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("Findings", 1);
    layout.paragraph(
        "Every control's verdict on every resource, with the reason and the evidence item behind it.",
        Weight::Regular,
        9.0,
        MUTED,
    );
    let rows: Vec<Vec<Cell>> = model.controls.iter().flat_map(|c| c.findings.iter().map(finding_row)).collect();
    layout.table(
        &[
            Column { title: "Control", share: 0.1 },
            Column { title: "Resource", share: 0.24 },
            Column { title: "Status", share: 0.13 },
            Column { title: "Reason", share: 0.42 },
            Column { title: "Evidence", share: 0.11 },
        ],
        &rows,
        8.5,
    );
    let omitted: usize = model.controls.iter().map(|c| c.findings_omitted).sum();
    if omitted > 0 {
        layout.paragraph(
            &format!(
                "{omitted} more findings are not shown: each control shows at most {} here, failing and undecided \
                 ones first. findings.csv and report.json hold every one, and an evidence bundle's \
                 populations/<CONTROL>.csv lists them with their evidence.",
                crate::report::SHOWN_PER_CONTROL
            ),
            Weight::Regular,
            9.0,
            MUTED,
        );
    }
}

fn controls(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("Controls", 1);
    for control in &model.controls {
        layout.heading(&format!("{} {} ({})", control.id, control.title, control.status_label), 2);
        layout.paragraph(
            &format!(
                "Severity {} · {} · {} control · {} pass, {} fail, {} unknown, {} not applicable",
                control.severity,
                control.domain,
                control.kind,
                control.counts.pass,
                control.counts.fail,
                control.counts.unknown,
                control.counts.not_applicable
            ),
            Weight::Regular,
            8.5,
            MUTED,
        );
        layout.paragraph(&format!("Statement: {}", control.statement), Weight::Regular, 9.0, INK);
        layout.paragraph(&format!("Remediation: {}", control.remediation), Weight::Regular, 9.0, INK);
        if let Some(error) = &control.error {
            layout.paragraph(&format!("Could not be evaluated: {error}"), Weight::Bold, 9.0, UNKNOWN.0);
        }
        if control.incomplete_evidence > 0 {
            layout.paragraph(
                &format!(
                    "{} verdict(s) rest on incomplete or partial evidence (a scan that did not complete or covered only \
                     part of its subject, or an API listing cut short).",
                    control.incomplete_evidence
                ),
                Weight::Bold,
                9.0,
                UNKNOWN.0,
            );
        }
        if !control.params.is_empty() {
            let params: Vec<String> =
                control.params.iter().map(|p| format!("{} = {} ({})", p.name, p.value, p.origin)).collect();
            layout.paragraph(&format!("Parameters used: {}", params.join("; ")), Weight::Regular, 9.0, INK);
        }
        let mappings: Vec<String> =
            control.mappings.iter().map(|m| format!("{}: {}", m.framework, m.requirements)).collect();
        layout.paragraph(&format!("Maps to: {}", mappings.join("; ")), Weight::Regular, 9.0, INK);
    }
}

fn frameworks(layout: &mut Layout<'_>, model: &ReportModel) {
    for framework in &model.frameworks {
        layout.heading(&format!("{} requirements", framework.name), 1);
        layout.paragraph(&framework.source, Weight::Regular, 8.5, MUTED);
        let rows: Vec<Vec<Cell>> = framework
            .requirements
            .iter()
            .map(|r| {
                vec![
                    Cell::bold(&r.id),
                    Cell::plain({
                        let mut text = match &r.attestation {
                            Some(attestation) => format!("{} ({attestation})", r.label),
                            None => r.label.clone(),
                        };
                        for limit in &r.limits {
                            text += &format!(" Unknown for this framework: {limit}.");
                        }
                        text
                    }),
                    Cell::plain(&r.cicd),
                    status_cell(&r.status, &r.status_label),
                    Cell::plain(r.controls.join(", ")),
                ]
            })
            .collect();
        layout.table(
            &[
                Column { title: "Id", share: 0.09 },
                Column { title: "Requirement", share: 0.42 },
                Column { title: "CI/CD", share: 0.08 },
                Column { title: "Status", share: 0.2 },
                Column { title: "Controls", share: 0.21 },
            ],
            &rows,
            8.5,
        );
    }
}

fn waivers(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("Waivers", 1);
    if model.waivers.is_empty() {
        layout.paragraph("No waivers: every verdict stands as the evidence gave it.", Weight::Regular, 10.0, INK);
        return;
    }
    layout.paragraph(
        "Accepted risks from the waivers file, judged at the evaluation's moment. Only waivers in force change a verdict, and a \
         waived finding keeps its underlying verdict beside it. Expired and malformed entries are never applied.",
        Weight::Regular,
        9.0,
        MUTED,
    );
    let rows: Vec<Vec<Cell>> = model
        .waivers
        .iter()
        .map(|w| {
            vec![
                Cell::plain(w.entry.to_string()),
                Cell::bold(&w.control),
                Cell::plain(&w.resource),
                status_cell(&w.state, &w.state.replace('_', " ")),
                Cell::plain(format!("{}; approved by {} {}", w.note, w.approver, w.ticket)),
                Cell::plain(&w.justification),
            ]
        })
        .collect();
    layout.table(
        &[
            Column { title: "#", share: 0.05 },
            Column { title: "Control", share: 0.1 },
            Column { title: "Resources", share: 0.17 },
            Column { title: "State", share: 0.13 },
            Column { title: "Validity and approval", share: 0.28 },
            Column { title: "Justification", share: 0.27 },
        ],
        &rows,
        8.5,
    );
}

fn attestations(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("Manual attestations", 1);
    if model.attestations.is_empty() {
        layout.paragraph("No manual attestations were provided.", Weight::Regular, 10.0, INK);
        return;
    }
    layout.paragraph(
        "Signed-off evidence for requirements no automated control reaches, and for controls a sign-off decides (such \
         as access reviews), judged at the evaluation's moment. Only valid attestations count; a document that no longer matches its sha256 invalidates its attestation.",
        Weight::Regular,
        9.0,
        MUTED,
    );
    let rows: Vec<Vec<Cell>> = model
        .attestations
        .iter()
        .map(|a| {
            vec![
                Cell::plain(a.entry.to_string()),
                Cell::bold(&a.covers),
                Cell::plain(format!("{} Attested by {}.", a.statement, a.attested)),
                status_cell(&a.state, &a.state.replace('_', " ")),
                Cell::plain(format!("{}; {}", a.note, a.document)),
            ]
        })
        .collect();
    layout.table(
        &[
            Column { title: "#", share: 0.05 },
            Column { title: "Covers", share: 0.16 },
            Column { title: "Statement", share: 0.33 },
            Column { title: "State", share: 0.12 },
            Column { title: "Validity and document", share: 0.34 },
        ],
        &rows,
        8.5,
    );
}

fn trend(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("Trend over the period", 1);
    if model.trend.is_empty() {
        layout.paragraph(
            "No earlier evaluation falls in this window, so there is no trend yet.",
            Weight::Regular,
            10.0,
            INK,
        );
        return;
    }
    layout.paragraph(
        "Compliance per framework at the evaluations in the period (the 90 days up to this evaluation when there is no \
         period): first, last, and the range in between.",
        Weight::Regular,
        9.0,
        MUTED,
    );
    let point = |p: Option<&crate::report::trend::TrendPoint>| {
        p.map(|p| format!("{}% ({})", p.compliance_percent, p.as_of)).unwrap_or_default()
    };
    let rows: Vec<Vec<Cell>> = model
        .trend
        .iter()
        .map(|s| {
            vec![
                Cell::bold(&s.framework),
                Cell::plain(s.points.len().to_string()),
                Cell::plain(point(s.points.first())),
                Cell::plain(point(s.points.last())),
                Cell::plain(format!("{}-{}%", s.min_compliance, s.max_compliance)),
            ]
        })
        .collect();
    layout.table(
        &[
            Column { title: "Framework", share: 0.3 },
            Column { title: "Evaluations", share: 0.12 },
            Column { title: "First", share: 0.22 },
            Column { title: "Last", share: 0.22 },
            Column { title: "Range", share: 0.14 },
        ],
        &rows,
        8.5,
    );
}

fn drift(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("Changes since the previous evaluation", 1);
    let Some(drift) = &model.drift else {
        layout.paragraph(
            "This is the first evaluation in the store: there is nothing earlier to compare with.",
            Weight::Regular,
            10.0,
            INK,
        );
        return;
    };
    layout.paragraph(
        &format!("Compared with evaluation #{} (evidence as of {}).", drift.from.0, drift.from.1),
        Weight::Regular,
        9.0,
        MUTED,
    );
    if drift.changes.is_empty() {
        layout.paragraph("No finding changed.", Weight::Regular, 10.0, INK);
    } else {
        let dash = |status: &Option<String>| status.clone().unwrap_or_else(|| "-".into());
        let rows: Vec<Vec<Cell>> = drift
            .changes
            .iter()
            .map(|c| {
                vec![
                    Cell::bold(&c.label),
                    Cell::bold(&c.control),
                    Cell::plain(&c.resource),
                    Cell::plain(format!("{} -> {}", dash(&c.from), dash(&c.to))),
                    Cell::plain(&c.reason),
                ]
            })
            .collect();
        layout.table(
            &[
                Column { title: "Change", share: 0.15 },
                Column { title: "Control", share: 0.1 },
                Column { title: "Resource", share: 0.22 },
                Column { title: "Before -> now", share: 0.16 },
                Column { title: "Reason", share: 0.37 },
            ],
            &rows,
            8.5,
        );
    }
    if !drift.requirements.is_empty() {
        layout.heading("Requirements whose status changed", 2);
        let rows: Vec<Vec<Cell>> = drift
            .requirements
            .iter()
            .map(|r| {
                vec![
                    Cell::plain(&r.framework),
                    Cell::bold(&r.requirement),
                    Cell::plain(format!("{} -> {}", r.from, r.to)),
                ]
            })
            .collect();
        layout.table(
            &[
                Column { title: "Framework", share: 0.45 },
                Column { title: "Requirement", share: 0.25 },
                Column { title: "Before -> now", share: 0.3 },
            ],
            &rows,
            8.5,
        );
    }
}

fn unobserved(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("What could not be observed", 1);
    if model.unobserved.is_empty() {
        layout.paragraph("Everything the controls asked about was visible.", Weight::Regular, 10.0, INK);
        return;
    }
    let rows: Vec<Vec<Cell>> = model
        .unobserved
        .iter()
        .map(|u| vec![Cell::bold(&u.control), Cell::plain(&u.resource), Cell::plain(&u.reason)])
        .collect();
    layout.table(
        &[
            Column { title: "Control", share: 0.12 },
            Column { title: "Resource", share: 0.25 },
            Column { title: "Why", share: 0.63 },
        ],
        &rows,
        8.5,
    );
    if model.unobserved_omitted > 0 {
        layout.paragraph(
            &format!(
                "{} more are not shown; findings.csv lists every undecided finding with its reason.",
                model.unobserved_omitted
            ),
            Weight::Regular,
            9.0,
            MUTED,
        );
    }
}

fn retention(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("Evidence its source will delete", 1);
    layout.paragraph(
        "What this period depends on that its source deletes before the period can be archived (its end plus the \
         configured delay), with what to archive and by when. pipeproof keeps what it collected; these are the records \
         it points to but does not hold, or has not read yet.",
        Weight::Regular,
        9.0,
        MUTED,
    );
    if model.retention.is_empty() {
        layout.paragraph(
            "Nothing this period depends on is deleted at its source before the archive date.",
            Weight::Regular,
            10.0,
            INK,
        );
        return;
    }
    let rows: Vec<Vec<Cell>> = model
        .retention
        .iter()
        .map(|r| {
            vec![
                Cell::bold(format!("{}: {}", r.source, r.subject)),
                Cell::plain(format!("{} ({})", r.what, r.retention)),
                Cell::bold(&r.deleted_from),
                Cell::plain(&r.archive_by),
                Cell::plain(&r.action),
            ]
        })
        .collect();
    layout.table(
        &[
            Column { title: "Source", share: 0.16 },
            Column { title: "At risk", share: 0.27 },
            Column { title: "Deleted from", share: 0.125 },
            Column { title: "Archive by", share: 0.125 },
            Column { title: "What to do", share: 0.32 },
        ],
        &rows,
        8.5,
    );
}

fn populations(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("Populations for sampling", 1);
    layout.paragraph(
        "Everything each control judged: resources as they stood at the end of the period for state controls, events \
         inside the period for operation controls. An evidence bundle lists every item with its evidence in the file named \
         here; findings.csv holds them all.",
        Weight::Regular,
        9.0,
        MUTED,
    );
    let rows: Vec<Vec<Cell>> = model
        .populations
        .iter()
        .map(|p| {
            vec![
                Cell::bold(format!("{} {}", p.control, p.title)),
                Cell::plain(&p.kind),
                Cell::plain(p.items.to_string()),
                Cell::plain(format!(
                    "{} pass, {} fail, {} unknown, {} waived",
                    p.counts.pass, p.counts.fail, p.counts.unknown, p.counts.waived
                )),
                Cell::plain(&p.file),
            ]
        })
        .collect();
    layout.table(
        &[
            Column { title: "Control", share: 0.34 },
            Column { title: "Kind", share: 0.1 },
            Column { title: "Items", share: 0.08 },
            Column { title: "By verdict", share: 0.24 },
            Column { title: "File", share: 0.24 },
        ],
        &rows,
        8.5,
    );
}

fn evidence(layout: &mut Layout<'_>, model: &ReportModel) {
    layout.heading("Evidence appendix", 1);
    layout.paragraph(
        "Every evidence item cited above, with the sha256 of its raw bytes as stored.",
        Weight::Regular,
        9.0,
        MUTED,
    );
    let rows: Vec<Vec<Cell>> = model
        .evidence
        .iter()
        .map(|e| {
            vec![
                Cell::bold(format!("E{}", e.id)),
                Cell::plain(&e.kind),
                Cell::plain(&e.subject),
                Cell::plain(&e.collected_at),
                Cell::plain(&e.sha256),
            ]
        })
        .collect();
    layout.table(
        &[
            Column { title: "Id", share: 0.07 },
            Column { title: "Kind", share: 0.18 },
            Column { title: "Subject", share: 0.22 },
            Column { title: "Collected", share: 0.15 },
            Column { title: "sha256", share: 0.38 },
        ],
        &rows,
        8.0,
    );
}
