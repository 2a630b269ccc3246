//! Each framework's own summary in the PDF: levels per repository, the attestation package by section, indicator
//! validations with their cadence, and releases. It opens a report limited to chosen frameworks, and otherwise
//! follows the requirement tables.

use super::font::Weight;
use super::layout::{Cell, Column, Layout, INK, MUTED};
use super::pages::status_cell;
use crate::report::model::{FrameworkSection, ReportModel};

/// Every framework summary the model has (frameworks summarised plainly have none).
pub fn framework_summaries(layout: &mut Layout<'_>, model: &ReportModel) {
    for framework in &model.frameworks {
        let has_summary = framework.levels.is_some()
            || !framework.sections.is_empty()
            || !framework.indicators.is_empty()
            || framework.releases.is_some();
        if !has_summary {
            continue;
        }
        layout.heading(&format!("{}: summary", framework.name), 1);
        layout.paragraph(
            &format!(
                "{}% of its {} requirements decided, {}% of those met; {} failing, {} undecided, {} needing manual \
                 evidence ({} attested).",
                framework.coverage_percent,
                framework.requirements_total,
                framework.compliance_percent,
                framework.counts.fail,
                framework.counts.unknown,
                framework.manual,
                framework.attested
            ),
            Weight::Regular,
            9.5,
            INK,
        );
        levels(layout, framework);
        sections(layout, framework);
        indicators(layout, framework);
        releases(layout, framework);
    }
}

fn levels(layout: &mut Layout<'_>, framework: &FrameworkSection) {
    let Some(levels) = &framework.levels else { return };
    layout.heading("Levels met per repository", 2);
    let distribution: Vec<String> =
        levels.distribution.iter().map(|d| format!("{}: {}", d.level, d.repositories)).collect();
    layout.paragraph(&distribution.join("   "), Weight::Bold, 9.5, INK);
    let rows: Vec<Vec<Cell>> = levels
        .repositories
        .iter()
        .map(|r| {
            let blockers: Vec<String> =
                r.blockers.iter().map(|b| format!("{} {} ({})", b.requirement, b.status, b.controls)).collect();
            vec![
                Cell::plain(&r.repository),
                Cell::bold(&r.level_name),
                Cell::plain(r.next_level.clone().unwrap_or_else(|| "-".into())),
                Cell::plain(if blockers.is_empty() { "-".into() } else { blockers.join("; ") }),
                Cell::plain(r.manual_blockers.to_string()),
            ]
        })
        .collect();
    layout.table(
        &[
            Column { title: "Repository", share: 0.22 },
            Column { title: "Level met", share: 0.13 },
            Column { title: "Next", share: 0.13 },
            Column { title: "What stands in the way", share: 0.42 },
            Column { title: "To attest", share: 0.10 },
        ],
        &rows,
        8.0,
    );
    for manual in levels.manual.iter().filter(|m| !m.requirements.is_empty()) {
        layout.paragraph(
            &format!("{} adds, judged by a person: {}", manual.level, manual.requirements.join(", ")),
            Weight::Regular,
            8.0,
            MUTED,
        );
    }
}

fn sections(layout: &mut Layout<'_>, framework: &FrameworkSection) {
    if framework.sections.is_empty() {
        return;
    }
    layout.paragraph(
        "What a signing official needs, section by section. pipeproof prepares this package and never signs the form.",
        Weight::Regular,
        9.0,
        MUTED,
    );
    for section in &framework.sections {
        layout.heading(&format!("{}: {}", section.section, section.state_label), 2);
        let rows: Vec<Vec<Cell>> = section
            .items
            .iter()
            .map(|item| {
                let mut controls = item.controls.join(", ");
                if !item.supported_by.is_empty() {
                    controls = format!("{controls} (supported by {})", item.supported_by.join(", "));
                }
                vec![
                    Cell::bold(&item.requirement),
                    Cell::plain(&item.label),
                    status_cell(&item.status, &item.status_label),
                    Cell::plain(controls.trim_start_matches(' ')),
                    Cell::plain(item.evidence_items.to_string()),
                    Cell::plain(&item.to_do),
                ]
            })
            .collect();
        layout.table(
            &[
                Column { title: "Item", share: 0.1 },
                Column { title: "Practice", share: 0.22 },
                Column { title: "Verdict", share: 0.1 },
                Column { title: "Controls", share: 0.18 },
                Column { title: "Evidence", share: 0.1 },
                Column { title: "For the signer", share: 0.30 },
            ],
            &rows,
            7.5,
        );
    }
}

fn indicators(layout: &mut Layout<'_>, framework: &FrameworkSection) {
    if framework.indicators.is_empty() {
        return;
    }
    layout.heading("Indicator validations", 2);
    layout.paragraph(
        "Machine-based validation is due at least every 3 days at Moderate (7 at Low), non-machine validation every \
         3 months. Each result is machine-readable in report.json (frameworks[].indicators).",
        Weight::Regular,
        8.5,
        MUTED,
    );
    let rows: Vec<Vec<Cell>> = framework
        .indicators
        .iter()
        .map(|i| {
            let criteria: Vec<String> =
                i.criteria.iter().map(|c| format!("{} {} ({}/{})", c.control, c.status, c.passed, c.failed)).collect();
            let cadence = match (i.cadence_met, i.longest_gap_days) {
                (Some(true), Some(gap)) => format!("met (longest gap {gap} d, {} runs)", i.validations_in_period),
                (Some(false), Some(gap)) => format!("not met (longest gap {gap} d)"),
                _ if i.required_every_days.is_some() => "not proven by the store".into(),
                _ => "-".into(),
            };
            vec![
                Cell::bold(&i.indicator),
                status_cell(&i.status, &i.status),
                Cell::plain(&i.method),
                Cell::plain(if criteria.is_empty() { "-".into() } else { criteria.join("; ") }),
                Cell::plain(cadence),
            ]
        })
        .collect();
    layout.table(
        &[
            Column { title: "Indicator", share: 0.16 },
            Column { title: "Result", share: 0.11 },
            Column { title: "Method", share: 0.11 },
            Column { title: "Criteria (pass/fail)", share: 0.36 },
            Column { title: "Cadence", share: 0.26 },
        ],
        &rows,
        7.5,
    );
}

fn releases(layout: &mut Layout<'_>, framework: &FrameworkSection) {
    let Some(releases) = &framework.releases else { return };
    layout.heading("Releases published in the period", 2);
    if releases.releases.is_empty() {
        layout.paragraph("No release was published in the period.", Weight::Regular, 9.0, INK);
        return;
    }
    let share = 0.6 / releases.columns.len().max(1) as f32;
    let mut columns = vec![Column { title: "Release", share: 0.25 }, Column { title: "Published", share: 0.15 }];
    columns.extend(releases.columns.iter().map(|c| Column { title: &c.requirement, share }));
    let rows: Vec<Vec<Cell>> = releases
        .releases
        .iter()
        .map(|r| {
            let mut row = vec![Cell::plain(&r.release), Cell::plain(&r.published)];
            row.extend(r.cells.iter().map(|c| status_cell(&c.status, &c.status_label)));
            row
        })
        .collect();
    layout.table(&columns, &rows, 7.5);
    for column in &releases.columns {
        layout.paragraph(
            &format!("{}: {} ({})", column.requirement, column.label, column.controls.join(", ")),
            Weight::Regular,
            8.0,
            MUTED,
        );
    }
}
